//! The autoencoder: parameters, forward and backward passes, encode and decode.

use candle_core::{DType, Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::arch::Architecture;
use crate::error::{ModelError, Result, WeightsProblem, whole_records};
use crate::fused::relu_backward;
use crate::fused::{
    SparseLayer, add_scaled, bias_activation, column_sums, gather_columns_transposed, residual, scatter,
    sparse_layer_fusable, times_transposed,
};
use crate::selector::SparseSelector;
use crate::view::InputView;

/// The nonzero entries of one latent: sorted indices and their values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SparseCode {
    /// Positions of the active units, strictly increasing.
    pub indices: Vec<u32>,
    /// Their activations.
    pub values: Vec<f32>,
}

impl SparseCode {
    /// The entries of a dense latent above `threshold`.
    pub fn from_dense(dense: &[f32], threshold: f32) -> Self {
        let mut code = Self::default();
        for (i, &v) in dense.iter().enumerate() {
            if v > threshold {
                code.indices.push(i as u32);
                code.values.push(v);
            }
        }
        code
    }

    /// Drops the entries at or below `threshold`.
    pub fn retain_above(&mut self, threshold: f32) {
        self.retain_where(|v| v > threshold);
    }

    /// Keeps the entries whose value passes `keep`, in order.
    pub fn retain_where(&mut self, keep: impl Fn(f32) -> bool) {
        let mut kept = 0;
        for i in 0..self.values.len() {
            if keep(self.values[i]) {
                self.indices[kept] = self.indices[i];
                self.values[kept] = self.values[i];
                kept += 1;
            }
        }
        self.indices.truncate(kept);
        self.values.truncate(kept);
    }

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
    /// The four layers, by name.
    pub(crate) layers: Layers<Dense>,
    /// Rows per matrix product in the slice-based inference methods.
    block_rows: usize,
    /// What the encoder sees of a record.
    pub(crate) view: InputView,
}

/// Default largest number of rows per matrix product in the slice-based inference methods.
pub const DEFAULT_BLOCK_ROWS: usize = 512;

/// Fewest rows per matrix product: smaller batches are padded with zero rows.
///
/// A one-row product takes the kernels' matrix–vector path, which sums in
/// another order than the matrix–matrix path; with two rows or more, each
/// output's sum runs over the inner dimension in the same order whatever the
/// number of rows (measured for `gemm` 0.19 and pinned by the tests).
pub const MIN_BLOCK_ROWS: usize = 8;

/// Activations of one forward pass, kept for the backward pass.
pub(crate) struct Activations {
    /// The encoder's view of the input.
    pub input: Tensor,
    pub h0: Tensor,
    pub z: Tensor,
    pub h2: Tensor,
    pub y: Tensor,
    /// Positive entries of `z` over the batch.
    pub active: u64,
    /// Latent units positive for at least one sample of the batch.
    pub units: usize,
    /// The batch's active latent units, when the step runs on them alone.
    pub support: Option<Support>,
}

/// The largest share of the latent's units a batch may use for the step to
/// run on its active units alone. A chosen value, not a measured crossover:
/// at 45% active (a first epoch) the step on the active units was still
/// faster than the dense one (`docs/benchmarks.md`, "Training on the active
/// units"); denser batches were not measured.
pub const SPARSE_STEP_FRACTION: f64 = 0.75;

/// How a training step runs its products over the latent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StepPath {
    /// On the batch's active units alone when they are at most
    /// [`SPARSE_STEP_FRACTION`] of the latent, else on all of them: the same
    /// gradients up to float rounding, fewer products.
    #[default]
    Auto,
    /// On every unit, always (the reference the sparse path is tested
    /// against, and the old path for side-by-side measurements).
    Dense,
}

/// The latent units a batch uses: those positive for at least one sample.
pub(crate) struct Support {
    /// Their indices, ascending.
    pub list: Vec<u32>,
    /// The same indices as a tensor (`u32`).
    pub units: Tensor,
    /// `z` on those columns only, `(batch, units)`.
    pub z: Tensor,
    /// The decoder's first weight matrix on those rows only, `(units, m)`.
    pub decoder_rows: Tensor,
}

impl Support {
    /// How many units of `z` (shape `(batch, l)`) fire for some sample, and
    /// their support, or `None` when on `path` the step runs densely: more
    /// than [`SPARSE_STEP_FRACTION`] of the units (or none) fire, or the
    /// path is [`StepPath::Dense`].
    fn of(z: &Tensor, decoder: &Tensor, path: StepPath) -> candle_core::Result<(usize, Option<Self>)> {
        let l = decoder.dim(0)?;
        let fired = z.gt(0.0)?.max(0)?.to_vec1::<u8>()?;
        let units: Vec<u32> = (0..l as u32).filter(|&j| fired[j as usize] != 0).collect();
        let count = units.len();
        if path == StepPath::Dense || count == 0 || count as f64 > SPARSE_STEP_FRACTION * l as f64 {
            return Ok((count, None));
        }
        let list = units;
        let units = Tensor::from_slice(&list, count, z.device())?;
        Ok((
            count,
            Some(Self {
                z: z.index_select(&units, 1)?,
                decoder_rows: decoder.index_select(&units, 0)?,
                list,
                units,
            }),
        ))
    }
}

/// Batch means of the training objective's terms and of the metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// `mean_b ‖y_b − x_b‖²`.
    pub recon: f64,
    /// `mean_b ‖f(z_b)‖₁`.
    pub penalty: f64,
    /// `mean_b ‖y_b − x_b‖ / ‖x_b‖`.
    pub rel_error: f64,
    /// Mean active latent units per sample.
    pub nnz: f64,
    /// Latent units active for at least one sample of the batch: the width
    /// the step's latent products ran on, unless it ran densely
    /// (more than [`SPARSE_STEP_FRACTION`] of the latent).
    pub units: usize,
}

/// One fully connected layer, `x·W + b` for a batch of row vectors `x`.
///
/// `W` is held as `(fan_in, fan_out)`, so that a batch multiplies from the
/// left; files store it as PyTorch's `(out, in)`.
#[derive(Debug, Clone)]
pub struct Dense {
    pub(crate) weight: Tensor,
    pub(crate) bias: Tensor,
}

impl Dense {
    /// The weight matrix, `(fan_in, fan_out)`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias, `(fan_out,)`.
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// `activation(x·W + b)` and its count of positive outputs, bias and ReLU fused on the CPU.
    pub(crate) fn forward(&self, x: &Tensor, relu: bool) -> candle_core::Result<(Tensor, u64)> {
        bias_activation(x.matmul(&self.weight)?, &self.bias, relu)
    }

    fn deep_copy(&self) -> candle_core::Result<Self> {
        Ok(Self {
            weight: self.weight.copy()?,
            bias: self.bias.copy()?,
        })
    }
}

/// The network's four layers by name: `n -> m -> l -> m -> n`.
///
/// The same shape holds the gradients of a training step.
#[derive(Debug, Clone)]
pub struct Layers<T> {
    /// `n -> m`, then ReLU.
    pub encoder_hidden: T,
    /// `m -> l`, then ReLU: its output is the latent.
    pub encoder_latent: T,
    /// `l -> m`, then ReLU.
    pub decoder_hidden: T,
    /// `m -> n`, linear: the reconstruction.
    pub decoder_output: T,
}

impl<T> Layers<T> {
    /// The layers from an array in network order.
    pub fn new([encoder_hidden, encoder_latent, decoder_hidden, decoder_output]: [T; 4]) -> Self {
        Self {
            encoder_hidden,
            encoder_latent,
            decoder_hidden,
            decoder_output,
        }
    }

    /// The layers in network order.
    pub fn as_array(&self) -> [&T; 4] {
        [
            &self.encoder_hidden,
            &self.encoder_latent,
            &self.decoder_hidden,
            &self.decoder_output,
        ]
    }

    /// The layers in network order, mutably.
    pub fn as_array_mut(&mut self) -> [&mut T; 4] {
        [
            &mut self.encoder_hidden,
            &mut self.encoder_latent,
            &mut self.decoder_hidden,
            &mut self.decoder_output,
        ]
    }

    /// Each layer through `f`, in network order.
    pub fn try_map<U, E>(&self, mut f: impl FnMut(&T) -> Result<U, E>) -> Result<Layers<U>, E> {
        Ok(Layers {
            encoder_hidden: f(&self.encoder_hidden)?,
            encoder_latent: f(&self.encoder_latent)?,
            decoder_hidden: f(&self.decoder_hidden)?,
            decoder_output: f(&self.decoder_output)?,
        })
    }
}

/// Gradients of the four layers' weights and biases.
pub(crate) type Gradients = Layers<Dense>;

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
        let mut layers = Vec::with_capacity(4);
        for (fan_in, fan_out) in arch.layers() {
            let bound = 1.0 / (fan_in as f64).sqrt();
            let w = Tensor::from_vec(uniform(fan_in * fan_out, bound), (fan_in, fan_out), device)?;
            let b = Tensor::from_vec(uniform(fan_out, bound), fan_out, device)?;
            layers.push(Dense {
                weight: w.to_dtype(dtype)?,
                bias: b.to_dtype(dtype)?,
            });
        }
        Ok(Self {
            arch,
            device: device.clone(),
            layers: Layers::new(layers.try_into().expect("four layers")),
            block_rows: DEFAULT_BLOCK_ROWS,
            view: InputView::Linear,
        })
    }

    /// Builds a network from explicit `(fan_in, fan_out)` weights and biases.
    pub(crate) fn from_parts(arch: Architecture, layers: Layers<Dense>) -> Result<Self> {
        for (k, ((fan_in, fan_out), layer)) in arch.layers().into_iter().zip(layers.as_array()).enumerate() {
            if layer.weight.dims() != [fan_in, fan_out] || layer.bias.dims() != [fan_out] {
                return Err(ModelError::BadWeights {
                    problem: WeightsProblem::LayerShape {
                        layer: k,
                        weight: layer.weight.dims().to_vec(),
                        bias: layer.bias.dims().to_vec(),
                        fan_in,
                        fan_out,
                    },
                });
            }
        }
        let device = layers.encoder_hidden.weight.device().clone();
        Ok(Self {
            arch,
            device,
            layers,
            block_rows: DEFAULT_BLOCK_ROWS,
            view: InputView::Linear,
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
        self.layers.encoder_hidden.weight.dtype()
    }

    /// A deep copy (tensors are shared by `clone`, and training updates them in place).
    pub fn deep_copy(&self) -> Result<Self> {
        Ok(Self {
            arch: self.arch,
            device: self.device.clone(),
            layers: self.layers.try_map(Dense::deep_copy)?,
            block_rows: self.block_rows,
            view: self.view,
        })
    }

    /// `self ← decay·self + (1 − decay)·other`, weight by weight (an
    /// exponential moving average of `other`'s weights during training).
    pub(crate) fn blend_from(&mut self, other: &Self, decay: f64) -> Result<()> {
        for (mine, theirs) in self
            .layers
            .as_array_mut()
            .into_iter()
            .zip(other.layers.as_array())
        {
            crate::fused::blend(&mut mine.weight, &theirs.weight, decay)?;
            crate::fused::blend(&mut mine.bias, &theirs.bias, decay)?;
        }
        Ok(())
    }

    /// What the encoder sees of a record ([`InputView::Linear`] unless set).
    pub fn input_view(&self) -> InputView {
        self.view
    }

    /// Sets what the encoder sees of a record. The decoder and the loss are
    /// unchanged: they work on the record itself.
    pub fn set_input_view(&mut self, view: InputView) -> Result<()> {
        view.validate().map_err(|reason| ModelError::InvalidConfig {
            name: "encoder view",
            reason,
        })?;
        self.view = view;
        Ok(())
    }

    /// Largest number of rows per matrix product in [`encode_sparse`](Self::encode_sparse),
    /// [`decode_sparse`](Self::decode_sparse) and [`reconstruct`](Self::reconstruct).
    pub fn block_rows(&self) -> usize {
        self.block_rows
    }

    /// Sets the largest number of rows per product (at least [`MIN_BLOCK_ROWS`]);
    /// it bounds the memory of large batches.
    ///
    /// The slice-based methods give each sample a bit-identical result
    /// whatever else is in the batch: batches are cut into blocks of at most
    /// this many rows, and blocks of fewer than [`MIN_BLOCK_ROWS`] rows are
    /// padded with zeros, because only a one-row product sums in another order.
    pub fn set_block_rows(&mut self, rows: usize) {
        self.block_rows = rows.max(MIN_BLOCK_ROWS);
    }

    /// The four layers, by name.
    pub fn layers(&self) -> &Layers<Dense> {
        &self.layers
    }

    /// A batch tensor from row-major samples of length `n`, checked.
    pub fn batch_tensor(&self, samples: &[f32]) -> Result<Tensor> {
        let n = self.arch.input;
        let rows = whole_records(samples, n)?;
        Ok(Tensor::from_slice(samples, (rows, n), &self.device)?.to_dtype(self.dtype())?)
    }

    /// The dense latents `z = e(x)` of a batch `x` of shape `(batch, n)`.
    ///
    /// One matrix product per layer over the whole batch: fastest, but the
    /// last bits may depend on the batch size; the slice-based methods do not.
    pub fn encode(&self, x: &Tensor) -> Result<Tensor> {
        let (h0, _) = self.layers.encoder_hidden.forward(&self.view.apply(x)?, true)?;
        Ok(self.layers.encoder_latent.forward(&h0, true)?.0)
    }

    /// The reconstructions `d(z)` of a batch of dense latents `(batch, l)`.
    pub fn decode(&self, z: &Tensor) -> Result<Tensor> {
        let (h2, _) = self.layers.decoder_hidden.forward(z, true)?;
        Ok(self.layers.decoder_output.forward(&h2, false)?.0)
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
            codes.extend(
                z.iter()
                    .take(block.len() / n)
                    .map(|row| SparseCode::from_dense(row, threshold)),
            );
        }
        Ok(codes)
    }

    /// A tensor holding `block` and, below [`MIN_BLOCK_ROWS`] rows, zero rows after it.
    pub(crate) fn padded_block(&self, block: &[f32]) -> Result<Tensor> {
        let n = self.arch.input;
        let rows = (block.len() / n).max(MIN_BLOCK_ROWS);
        let mut padded = Vec::with_capacity(rows * n);
        padded.extend_from_slice(block);
        padded.resize(rows * n, 0.0);
        Ok(Tensor::from_vec(padded, (rows, n), &self.device)?.to_dtype(self.dtype())?)
    }

    /// Decodes sparse latents into row-major samples.
    ///
    /// Only the rows of the first decoder layer that belong to active units
    /// are read: `O(nnz·m + m·n)` per sample instead of `O(l·m + m·n)`.
    /// Results are bit-identical however the codes are batched.
    pub fn decode_sparse(&self, codes: &[SparseCode]) -> Result<Vec<f32>> {
        self.check_codes(codes)?;
        let mut out = Vec::with_capacity(codes.len() * self.arch.input);
        for block in codes.chunks(self.block_rows) {
            let y = self.decode_sparse_block(block)?;
            let y = y.narrow(0, 0, block.len())?.to_dtype(DType::F32)?.flatten_all()?;
            out.extend(y.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    /// Checks that every code has as many values as indices, all within the latent.
    pub(crate) fn check_codes(&self, codes: &[SparseCode]) -> Result<()> {
        check_codes(codes, self.arch.latent)
    }

    /// Decodes up to `block_rows` codes into a tensor of at least [`MIN_BLOCK_ROWS`] rows.
    fn decode_sparse_block(&self, codes: &[SparseCode]) -> Result<Tensor> {
        let rows = codes.len().max(MIN_BLOCK_ROWS);
        let (w, bias) = (
            &self.layers.decoder_hidden.weight,
            &self.layers.decoder_hidden.bias,
        );
        let h2 = if sparse_layer_fusable(w, bias) {
            let parts: Vec<(&[u32], &[f32])> = codes
                .iter()
                .map(|c| (c.indices.as_slice(), c.values.as_slice()))
                .collect();
            w.apply_op2_no_bwd(bias, &SparseLayer { codes: &parts, rows })?
        } else {
            self.sparse_layer_by_gather(codes, rows)?
        };
        Ok(self.layers.decoder_output.forward(&h2, false)?.0)
    }

    /// The sparse first decoder layer from tensor operations (non-CPU devices).
    fn sparse_layer_by_gather(&self, codes: &[SparseCode], rows: usize) -> Result<Tensor> {
        let m = self.arch.hidden;
        let mut picked_rows = Vec::new();
        let mut owners = Vec::new();
        let mut values = Vec::new();
        for (b, code) in codes.iter().enumerate() {
            picked_rows.extend_from_slice(&code.indices);
            owners.extend(std::iter::repeat_n(b as u32, code.nnz()));
            values.extend_from_slice(&code.values);
        }
        let dtype = self.dtype();
        let zeros = Tensor::zeros((rows, m), dtype, &self.device)?;
        let pre = if picked_rows.is_empty() {
            zeros
        } else {
            let nnz = picked_rows.len();
            let picked_rows = Tensor::from_vec(picked_rows, nnz, &self.device)?;
            let owners = Tensor::from_vec(owners, nnz, &self.device)?;
            let values = Tensor::from_vec(values, (nnz, 1), &self.device)?.to_dtype(dtype)?;
            let picked = self
                .layers
                .decoder_hidden
                .weight
                .index_select(&picked_rows, 0)?
                .broadcast_mul(&values)?;
            zeros.index_add(&owners, &picked, 0)?
        };
        Ok(bias_activation(pre, &self.layers.decoder_hidden.bias, true)?.0)
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

    /// Forward pass keeping what the backward pass needs. After the ReLU
    /// only a few latent units fire per sample; when the batch's active units
    /// are at most [`SPARSE_STEP_FRACTION`] of the latent, the decoder's first
    /// product runs on those units alone ([`Support`]), and so does every
    /// product of the backward pass that touches the latent.
    pub(crate) fn forward(&self, x: &Tensor, path: StepPath) -> candle_core::Result<Activations> {
        let input = self.view.apply(x)?;
        let (h0, _) = self.layers.encoder_hidden.forward(&input, true)?;
        let (z, active) = self.layers.encoder_latent.forward(&h0, true)?;
        let (units, support) = Support::of(&z, &self.layers.decoder_hidden.weight, path)?;
        let h2 = match &support {
            None => self.layers.decoder_hidden.forward(&z, true)?.0,
            Some(s) => {
                bias_activation(
                    s.z.matmul(&s.decoder_rows)?,
                    &self.layers.decoder_hidden.bias,
                    true,
                )?
                .0
            }
        };
        let (y, _) = self.layers.decoder_output.forward(&h2, false)?;
        Ok(Activations {
            input,
            h0,
            z,
            h2,
            y,
            active,
            units,
            support,
        })
    }

    /// The objective's terms and metrics for a batch, and (when `with_gradients`)
    /// the gradients of `mean_b ‖y_b − x_b‖² + λ · mean_b ‖f(z_b)‖₁`.
    ///
    /// The backward pass is written out by hand rather than through autograd:
    /// it saves the graph bookkeeping, lets the elementwise steps run fused and
    /// in place, and pins the subgradient conventions to PyTorch's
    /// (ReLU′(0) = 0, sign(0) = 0).
    pub(crate) fn step(
        &self,
        x: &Tensor,
        lambda: f64,
        selector: &dyn SparseSelector,
        with_gradients: bool,
    ) -> candle_core::Result<(StepStats, Option<Gradients>)> {
        self.step_on(x, lambda, selector, with_gradients, StepPath::Auto)
    }

    /// [`step`](Self::step) with the latent's products on `path`.
    pub(crate) fn step_on(
        &self,
        x: &Tensor,
        lambda: f64,
        selector: &dyn SparseSelector,
        with_gradients: bool,
        path: StepPath,
    ) -> candle_core::Result<(StepStats, Option<Gradients>)> {
        let batch = x.dim(0)?;
        let b = batch as f64;
        let act = self.forward(x, path)?;
        let (dy, sums) = residual(act.y, x, 2.0 / b)?;
        let (penalty_sum, subgradient) = selector.penalty_and_subgradient(&act.z)?;
        let stats = StepStats {
            recon: sums.squared_error / b,
            penalty: penalty_sum / b,
            rel_error: sums.relative_error / b,
            nnz: act.active as f64 / b,
            units: act.units,
        };
        if !with_gradients {
            return Ok((stats, None));
        }
        let gw3 = act.h2.t()?.matmul(&dy)?;
        let gb3 = column_sums(&dy)?;
        let da2 = relu_backward(
            times_transposed(&dy, &self.layers.decoder_output.weight)?,
            &act.h2,
        )?;
        // On the active units alone (`act.support`), the gradient is zero
        // wherever a unit is off for the whole batch (ReLU′ = 0 there,
        // whatever the selector's subgradient): the latent's products run on
        // the active columns and their results are scattered into zeros.
        // Densely, the same products run on every unit.
        let l = self.arch.latent;
        let (w2, w1) = (
            &self.layers.decoder_hidden.weight,
            &self.layers.encoder_latent.weight,
        );
        let (z, w2_rows, w1_t) = match &act.support {
            None => (&act.z, w2.clone(), None),
            Some(s) => (
                &s.z,
                s.decoder_rows.clone(),
                Some(gather_columns_transposed(w1, &s.list, &s.units)?),
            ),
        };
        let widen = |g: Tensor, axis: usize| match &act.support {
            None => Ok(g),
            Some(s) => scatter(&g, &s.list, &s.units, axis, l),
        };
        let gw2 = widen(z.t()?.matmul(&da2)?, 0)?;
        let gb2 = column_sums(&da2)?;
        let mut dz = times_transposed(&da2, &w2_rows)?;
        if lambda != 0.0 {
            let subgradient = match &act.support {
                None => subgradient,
                Some(s) => subgradient.index_select(&s.units, 1)?,
            };
            dz = add_scaled(dz, &subgradient, lambda / b)?;
        }
        let da1 = relu_backward(dz, z)?;
        let gw1 = widen(act.h0.t()?.matmul(&da1)?, 1)?;
        let gb1 = widen(column_sums(&da1)?.unsqueeze(0)?, 1)?.squeeze(0)?;
        let dh0 = match &w1_t {
            None => times_transposed(&da1, w1)?,
            Some(w1_t) => da1.matmul(w1_t)?,
        };
        let da0 = relu_backward(dh0, &act.h0)?;
        let gw0 = act.input.t()?.matmul(&da0)?;
        let gb0 = column_sums(&da0)?;
        let dense = |weight, bias| Dense { weight, bias };
        let grads = Gradients::new([dense(gw0, gb0), dense(gw1, gb1), dense(gw2, gb2), dense(gw3, gb3)]);
        Ok((stats, Some(grads)))
    }

    /// One optimiser step on the batch `x` (shape `(batch, n)`), for custom
    /// training loops; [`Trainer`](crate::Trainer) drives the same step.
    /// Returns the batch's statistics before the update.
    pub fn train_step(
        &mut self,
        x: &Tensor,
        lambda: f64,
        selector: &dyn SparseSelector,
        optimizer: &mut crate::optim::Adam,
        learning_rate: f64,
    ) -> Result<StepStats> {
        self.train_step_on(x, lambda, selector, optimizer, learning_rate, StepPath::Auto)
    }

    /// [`train_step`](Self::train_step) with the latent's products on `path`.
    pub fn train_step_on(
        &mut self,
        x: &Tensor,
        lambda: f64,
        selector: &dyn SparseSelector,
        optimizer: &mut crate::optim::Adam,
        learning_rate: f64,
        path: StepPath,
    ) -> Result<StepStats> {
        let (stats, grads) = self.step_on(x, lambda, selector, true, path)?;
        let loss = stats.recon + lambda * stats.penalty;
        if !loss.is_finite() {
            return Err(ModelError::Diverged {
                step: optimizer.steps() + 1,
                loss,
            });
        }
        optimizer.apply(self, &grads.expect("gradients were asked for"), learning_rate)?;
        Ok(stats)
    }

    /// The training objective's two terms for a batch: `(mean ‖y−x‖², mean ‖f(z)‖₁)`.
    pub fn loss_terms(&self, x: &Tensor, selector: &dyn SparseSelector) -> Result<(f64, f64)> {
        let (stats, _) = self.step(x, 0.0, selector, false)?;
        Ok((stats.recon, stats.penalty))
    }
}

/// Checks that every code has as many values as indices, all below `l`.
pub(crate) fn check_codes(codes: &[SparseCode], l: usize) -> Result<()> {
    for (b, code) in codes.iter().enumerate() {
        if code.indices.len() != code.values.len() {
            return Err(ModelError::CodeLengths {
                code: b,
                indices: code.indices.len(),
                values: code.values.len(),
            });
        }
        if let Some(&i) = code.indices.iter().find(|&&i| i as usize >= l) {
            return Err(ModelError::IndexBeyondLatent {
                code: b,
                index: i,
                latent: l,
            });
        }
    }
    Ok(())
}
