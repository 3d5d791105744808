//! The autoencoder: parameters, forward and backward passes, encode and decode.

use candle_core::{DType, Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::arch::Architecture;
use crate::error::{ModelError, Result};
use crate::kernels::relu_backward;
use crate::selector::SparseSelector;

/// The nonzero entries of one latent: sorted indices and their values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SparseCode {
    /// Positions of the active units, strictly increasing.
    pub indices: Vec<u32>,
    /// Their activations.
    pub values: Vec<f32>,
}

impl SparseCode {
    /// Number of active units.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }
}

/// A fully connected autoencoder `n -> m -> l -> m -> n` with ReLU between layers.
///
/// The latent `z = e(x)` is the ReLU output of the `l` layer, so it is
/// non-negative and exactly zero where a unit is inactive. The output layer is
/// linear. Weights are held as `(fan_in, fan_out)` matrices so that a batch of
/// row vectors multiplies from the left; files store them in PyTorch's
/// `(out, in)` layout (see [`save`](Self::save)).
///
/// ```
/// use candle_core::Device;
/// use sae_model::{Architecture, Autoencoder};
///
/// let arch = Architecture::new(16, 16, 32)?;
/// let model = Autoencoder::new(arch, &Device::Cpu, 7)?;
/// let x = vec![0.5f32; 2 * 16]; // two samples
/// let codes = model.encode_sparse(&x, 0.0)?;
/// let back = model.decode_sparse(&codes)?;
/// let dense = model.reconstruct(&x)?;
/// for (a, b) in back.iter().zip(&dense) {
///     assert!((a - b).abs() < 1e-5);
/// }
/// # Ok::<(), sae_model::ModelError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Autoencoder {
    arch: Architecture,
    device: Device,
    /// `weights[k]` has shape `(fan_in, fan_out)` of layer `k`.
    pub(crate) weights: [Tensor; 4],
    /// `biases[k]` has shape `(fan_out,)`.
    pub(crate) biases: [Tensor; 4],
    /// Rows per matrix product in the slice-based inference methods.
    block_rows: usize,
}

/// Default rows per block of the slice-based inference methods.
pub const DEFAULT_BLOCK_ROWS: usize = 64;

/// Activations of one forward pass, kept for the backward pass.
pub(crate) struct Activations {
    pub h0: Tensor,
    pub z: Tensor,
    pub h2: Tensor,
    pub y: Tensor,
}

/// Gradients of the four weights and biases.
pub(crate) struct Gradients {
    pub weights: [Tensor; 4],
    pub biases: [Tensor; 4],
}

impl Autoencoder {
    /// A network with seeded random weights, initialised like PyTorch's
    /// `nn.Linear`: every weight and bias uniform in `±1/√fan_in`.
    ///
    /// candle's own random generator cannot be seeded on the CPU, so the
    /// values come from a ChaCha8 stream seeded with `seed`.
    pub fn new(arch: Architecture, device: &Device, seed: u64) -> Result<Self> {
        Self::new_with_dtype(arch, device, seed, DType::F32)
    }

    /// Like [`new`](Self::new), computing in `dtype` (f32, or f64 for gradient checks).
    pub fn new_with_dtype(arch: Architecture, device: &Device, seed: u64, dtype: DType) -> Result<Self> {
        if !crate::selector::is_float(dtype) {
            return Err(ModelError::InvalidConfig {
                name: "dtype",
                reason: format!("{dtype:?} is not f32 or f64"),
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut uniform = |count: usize, bound: f64| -> Vec<f64> {
            (0..count).map(|_| rng.random_range(-bound..bound)).collect()
        };
        let mut weights = Vec::with_capacity(4);
        let mut biases = Vec::with_capacity(4);
        for (fan_in, fan_out) in arch.layers() {
            let bound = 1.0 / (fan_in as f64).sqrt();
            let w = Tensor::from_vec(uniform(fan_in * fan_out, bound), (fan_in, fan_out), device)?;
            let b = Tensor::from_vec(uniform(fan_out, bound), fan_out, device)?;
            weights.push(w.to_dtype(dtype)?);
            biases.push(b.to_dtype(dtype)?);
        }
        Ok(Self {
            arch,
            device: device.clone(),
            weights: weights.try_into().expect("four layers"),
            biases: biases.try_into().expect("four layers"),
            block_rows: DEFAULT_BLOCK_ROWS,
        })
    }

    /// Builds a network from explicit `(fan_in, fan_out)` weights and biases.
    pub(crate) fn from_parts(arch: Architecture, weights: [Tensor; 4], biases: [Tensor; 4]) -> Result<Self> {
        for (k, (fan_in, fan_out)) in arch.layers().into_iter().enumerate() {
            if weights[k].dims() != [fan_in, fan_out] || biases[k].dims() != [fan_out] {
                return Err(ModelError::BadWeights {
                    reason: format!(
                        "layer {k} has weight {:?} and bias {:?}, expected ({fan_in}, {fan_out}) and ({fan_out})",
                        weights[k].dims(),
                        biases[k].dims()
                    ),
                });
            }
        }
        let device = weights[0].device().clone();
        Ok(Self {
            arch,
            device,
            weights,
            biases,
            block_rows: DEFAULT_BLOCK_ROWS,
        })
    }

    /// The sizes.
    pub fn architecture(&self) -> Architecture {
        self.arch
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The dtype the network computes in.
    pub fn dtype(&self) -> DType {
        self.weights[0].dtype()
    }

    /// A deep copy (tensors are shared by `clone`, and training updates them in place).
    pub fn deep_copy(&self) -> Result<Self> {
        let copy = |ts: &[Tensor; 4]| -> Result<[Tensor; 4]> {
            let v = ts
                .iter()
                .map(|t| t.copy())
                .collect::<candle_core::Result<Vec<_>>>()?;
            Ok(v.try_into().expect("four layers"))
        };
        Ok(Self {
            arch: self.arch,
            device: self.device.clone(),
            weights: copy(&self.weights)?,
            biases: copy(&self.biases)?,
            block_rows: self.block_rows,
        })
    }

    /// Rows per matrix product in [`encode_sparse`](Self::encode_sparse),
    /// [`decode_sparse`](Self::decode_sparse) and [`reconstruct`](Self::reconstruct).
    pub fn block_rows(&self) -> usize {
        self.block_rows
    }

    /// Sets the rows per block (at least 1).
    ///
    /// Matrix-product kernels sum in an order that depends on the number of
    /// rows (one row takes a matrix–vector path), so the slice-based methods
    /// always multiply blocks of exactly this many rows, padding the last one
    /// with zeros. A sample's result is then bit-identical whatever else is in
    /// the batch and wherever it sits. Encoder and decoder must use the same
    /// value; larger blocks raise throughput, smaller ones cut the latency of
    /// small batches.
    pub fn set_block_rows(&mut self, rows: usize) {
        self.block_rows = rows.max(1);
    }

    fn layer(&self, k: usize, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(&self.weights[k])?.broadcast_add(&self.biases[k])
    }

    /// A batch tensor from row-major samples of length `n`, checked.
    pub fn batch_tensor(&self, samples: &[f32]) -> Result<Tensor> {
        let n = self.arch.input;
        if samples.len() % n != 0 {
            return Err(ModelError::Shape {
                reason: format!(
                    "{} values are not a whole number of samples of {n}",
                    samples.len()
                ),
            });
        }
        if let Some(position) = samples.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite { position });
        }
        Ok(Tensor::from_slice(samples, (samples.len() / n, n), &self.device)?.to_dtype(self.dtype())?)
    }

    /// The dense latents `z = e(x)` of a batch `x` of shape `(batch, n)`.
    ///
    /// One matrix product per layer over the whole batch: fastest, but the
    /// last bits may depend on the batch size; the slice-based methods do not.
    pub fn encode(&self, x: &Tensor) -> Result<Tensor> {
        let h0 = self.layer(0, x)?.relu()?;
        Ok(self.layer(1, &h0)?.relu()?)
    }

    /// The reconstructions `d(z)` of a batch of dense latents `(batch, l)`.
    pub fn decode(&self, z: &Tensor) -> Result<Tensor> {
        let h2 = self.layer(2, z)?.relu()?;
        Ok(self.layer(3, &h2)?)
    }

    /// Encodes row-major samples and keeps the entries above `threshold`.
    ///
    /// Each sample's code is bit-identical however the samples are batched
    /// (see [`set_block_rows`](Self::set_block_rows)).
    pub fn encode_sparse(&self, samples: &[f32], threshold: f32) -> Result<Vec<SparseCode>> {
        let n = self.arch.input;
        self.batch_tensor(samples)?; // validates shape and values
        let mut codes = Vec::with_capacity(samples.len() / n);
        for block in samples.chunks(self.block_rows * n) {
            let x = self.padded_block(block)?;
            let z = self.encode(&x)?.to_dtype(DType::F32)?.to_vec2::<f32>()?;
            codes.extend(z.into_iter().take(block.len() / n).map(|row| {
                let mut code = SparseCode::default();
                for (i, v) in row.into_iter().enumerate() {
                    if v > threshold {
                        code.indices.push(i as u32);
                        code.values.push(v);
                    }
                }
                code
            }));
        }
        Ok(codes)
    }

    /// A `(block_rows, n)` tensor holding `block` and zero rows after it.
    fn padded_block(&self, block: &[f32]) -> Result<Tensor> {
        let n = self.arch.input;
        let mut padded = Vec::with_capacity(self.block_rows * n);
        padded.extend_from_slice(block);
        padded.resize(self.block_rows * n, 0.0);
        Ok(Tensor::from_vec(padded, (self.block_rows, n), &self.device)?.to_dtype(self.dtype())?)
    }

    /// Decodes sparse latents into row-major samples.
    ///
    /// Only the rows of the first decoder layer that belong to active units
    /// are read: `O(nnz·m + m·n)` per sample instead of `O(l·m + m·n)`.
    /// Results are bit-identical however the codes are batched.
    pub fn decode_sparse(&self, codes: &[SparseCode]) -> Result<Vec<f32>> {
        let l = self.arch.latent;
        for (b, code) in codes.iter().enumerate() {
            if code.indices.len() != code.values.len() {
                return Err(ModelError::Shape {
                    reason: format!(
                        "code {b} has {} indices but {} values",
                        code.indices.len(),
                        code.values.len()
                    ),
                });
            }
            if let Some(&i) = code.indices.iter().find(|&&i| i as usize >= l) {
                return Err(ModelError::Shape {
                    reason: format!("code {b} has index {i} beyond the latent size {l}"),
                });
            }
        }
        let mut out = Vec::with_capacity(codes.len() * self.arch.input);
        for block in codes.chunks(self.block_rows) {
            let y = self.decode_sparse_block(block)?;
            let y = y.narrow(0, 0, block.len())?.to_dtype(DType::F32)?.flatten_all()?;
            out.extend(y.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    /// Decodes up to `block_rows` codes into a `(block_rows, n)` tensor.
    fn decode_sparse_block(&self, codes: &[SparseCode]) -> Result<Tensor> {
        let m = self.arch.hidden;
        let mut rows = Vec::new();
        let mut owners = Vec::new();
        let mut values = Vec::new();
        for (b, code) in codes.iter().enumerate() {
            rows.extend_from_slice(&code.indices);
            owners.extend(std::iter::repeat_n(b as u32, code.nnz()));
            values.extend_from_slice(&code.values);
        }
        let dtype = self.dtype();
        let zeros = Tensor::zeros((self.block_rows, m), dtype, &self.device)?;
        let pre = if rows.is_empty() {
            zeros
        } else {
            let nnz = rows.len();
            let rows = Tensor::from_vec(rows, nnz, &self.device)?;
            let owners = Tensor::from_vec(owners, nnz, &self.device)?;
            let values = Tensor::from_vec(values, (nnz, 1), &self.device)?.to_dtype(dtype)?;
            // Each sample's sum runs over its own entries in order, so it does
            // not depend on the other samples of the block.
            let picked = self.weights[2].index_select(&rows, 0)?.broadcast_mul(&values)?;
            zeros.index_add(&owners, &picked, 0)?
        };
        let h2 = pre.broadcast_add(&self.biases[2])?.relu()?;
        Ok(self.layer(3, &h2)?)
    }

    /// `d(e(x))` for row-major samples, bit-identical however they are batched.
    pub fn reconstruct(&self, samples: &[f32]) -> Result<Vec<f32>> {
        let n = self.arch.input;
        self.batch_tensor(samples)?;
        let mut out = Vec::with_capacity(samples.len());
        for block in samples.chunks(self.block_rows * n) {
            let x = self.padded_block(block)?;
            let y = self.decode(&self.encode(&x)?)?;
            let y = y
                .narrow(0, 0, block.len() / n)?
                .to_dtype(DType::F32)?
                .flatten_all()?;
            out.extend(y.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    /// Forward pass keeping what the backward pass needs.
    pub(crate) fn forward(&self, x: &Tensor) -> candle_core::Result<Activations> {
        let h0 = self.layer(0, x)?.relu()?;
        let z = self.layer(1, &h0)?.relu()?;
        let h2 = self.layer(2, &z)?.relu()?;
        let y = self.layer(3, &h2)?;
        Ok(Activations { h0, z, h2, y })
    }

    /// Gradients of `mean_b ‖y_b − x_b‖² + λ · mean_b ‖f(z_b)‖₁`.
    ///
    /// Written out by hand rather than through autograd: it saves the graph
    /// bookkeeping, lets the ReLU masks run in place, and pins the subgradient
    /// conventions to PyTorch's (ReLU′(0) = 0, sign(0) = 0).
    pub(crate) fn backward(
        &self,
        x: &Tensor,
        act: &Activations,
        lambda: f64,
        selector: &dyn SparseSelector,
    ) -> candle_core::Result<Gradients> {
        let batch = x.dim(0)? as f64;
        let dy = ((&act.y - x)? * (2.0 / batch))?;
        let gw3 = act.h2.t()?.matmul(&dy)?;
        let gb3 = dy.sum(0)?;
        let da2 = relu_backward(dy.matmul(&self.weights[3].t()?)?, &act.h2)?;
        let gw2 = act.z.t()?.matmul(&da2)?;
        let gb2 = da2.sum(0)?;
        let mut dz = da2.matmul(&self.weights[2].t()?)?;
        if lambda != 0.0 {
            dz = (dz + (selector.l1_subgradient(&act.z)? * (lambda / batch))?)?;
        }
        let da1 = relu_backward(dz, &act.z)?;
        let gw1 = act.h0.t()?.matmul(&da1)?;
        let gb1 = da1.sum(0)?;
        let da0 = relu_backward(da1.matmul(&self.weights[1].t()?)?, &act.h0)?;
        let gw0 = x.t()?.matmul(&da0)?;
        let gb0 = da0.sum(0)?;
        Ok(Gradients {
            weights: [gw0, gw1, gw2, gw3],
            biases: [gb0, gb1, gb2, gb3],
        })
    }

    /// The training objective's two terms for a batch: `(mean ‖y−x‖², mean ‖f(z)‖₁)`.
    pub fn loss_terms(&self, x: &Tensor, selector: &dyn SparseSelector) -> Result<(f64, f64)> {
        let act = self.forward(x)?;
        Ok(loss_terms(x, &act, selector)?)
    }
}

/// `(mean_b ‖y_b − x_b‖², mean_b ‖f(z_b)‖₁)` from a forward pass.
pub(crate) fn loss_terms(
    x: &Tensor,
    act: &Activations,
    selector: &dyn SparseSelector,
) -> candle_core::Result<(f64, f64)> {
    let batch = x.dim(0)? as f64;
    let recon = (&act.y - x)?
        .sqr()?
        .sum_all()?
        .to_dtype(DType::F64)?
        .to_scalar::<f64>()?
        / batch;
    let penalty = selector
        .l1_norm(&act.z)?
        .to_dtype(DType::F64)?
        .to_scalar::<f64>()?
        / batch;
    Ok((recon, penalty))
}
