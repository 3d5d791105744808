//! Compression-time refinement: a better latent for each record under the fixed decoder.
//!
//! The encoder is amortised: one pass of a network trained to do well on
//! average. At compression time we also know the record itself, so we can
//! search for the latent that the decoder turns into something closer to it,
//! while keeping the latent sparse. The decoder is untouched, so refined
//! latents decode with any reader of the model: this is purely a choice of
//! the compressor, like a slower, stronger preset of a classical codec.

use candle_core::{DType, Tensor};

use crate::error::{ModelError, Result};
use crate::network::{Autoencoder, SparseCode};

/// Settings of [`Autoencoder::refine`].
///
/// Each record's latent `z ≥ 0` is moved to lower
/// `‖d(z) − x‖² + λ‖z‖₁` by projected proximal-gradient steps, each record
/// with its own step size (grown after an accepted step, halved after a
/// rejected one). A step is taken only if it lowers that record's objective,
/// so with `lambda = 0` no record's reconstruction error ever grows; with a
/// [`lattice`](Self::lattice), none ends worse than the encoder's latent
/// rounded to it.
///
/// The penalty is on `z` itself whatever the training selector was, because
/// `z`'s nonzeros are what a container stores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Refinement {
    /// Proximal-gradient iterations (0 returns the codes unchanged).
    pub iterations: usize,
    /// Weight λ of the per-record penalty `λ‖z‖₁` (non-negative, finite).
    /// Larger values drop more units; the training λ is a natural start.
    pub lambda: f64,
    /// Whether units the encoder left at zero may switch on. Off, each
    /// record keeps (a subset of) its encoded support and only values move.
    pub grow_support: bool,
    /// The step of the quantiser the values will be stored with, if any.
    /// The continuous search is then followed by `iterations / 2` steps
    /// that stay on the multiples of `lattice`, so that the result is
    /// stored exactly and the search, not rounding, has the last word.
    pub lattice: Option<f32>,
}

impl Default for Refinement {
    /// 50 iterations, λ = 0, support fixed, no lattice: values only, never a larger latent.
    fn default() -> Self {
        Self {
            iterations: 50,
            lambda: 0.0,
            grow_support: false,
            lattice: None,
        }
    }
}

impl Refinement {
    /// Checks every field's domain (refining checks it too), so that a
    /// caller can refuse a bad setting before loading or reading anything.
    pub fn validate(&self) -> Result<()> {
        if !(self.lambda.is_finite() && self.lambda >= 0.0) {
            return Err(ModelError::InvalidConfig {
                name: "refinement lambda",
                reason: format!("{} is not finite and non-negative", self.lambda),
            });
        }
        if let Some(step) = self.lattice
            && !(step.is_finite() && step > 0.0)
        {
            return Err(ModelError::InvalidConfig {
                name: "refinement lattice",
                reason: format!("step {step} is not finite and positive"),
            });
        }
        Ok(())
    }
}

/// Growth of a record's step size after an accepted step.
const STEP_GROWTH: f64 = 1.5;
/// Shrinkage after a rejected step.
const STEP_BACKOFF: f64 = 0.5;
/// Power iterations for the spectral norms behind the first step size.
const POWER_ITERATIONS: usize = 20;

/// One block's state: the latents, the decoder's hidden activations and the
/// residuals at them, and each row's objective.
struct State {
    z: Tensor,
    h2: Tensor,
    residual: Tensor,
    objective: Vec<f64>,
}

impl Autoencoder {
    /// Refines sparse `codes` (one per row-major record of `samples`, as
    /// [`encode_sparse`](Self::encode_sparse) made them) against the records.
    ///
    /// `samples` must be in the model's domain (after any transform the
    /// codes were computed on). The result holds each record's positive
    /// entries. The same records in the same order give the same codes; a
    /// record's last bits may depend on the block of records it is refined
    /// with, since the transposed products do not promise one summation order.
    ///
    /// ```
    /// use candle_core::Device;
    /// use sae_model::{Architecture, Autoencoder, Refinement};
    ///
    /// let model = Autoencoder::new(Architecture::new(16, 16, 32)?, &Device::Cpu, 3)?;
    /// let x: Vec<f32> = (0..2 * 16).map(|i| (i as f32 / 5.0).cos()).collect();
    /// let codes = model.encode_sparse(&x, 0.0)?;
    /// let refined = model.refine(&x, &codes, &Refinement::default())?;
    /// let error = |y: &[f32]| y.iter().zip(&x).map(|(a, b)| (a - b) * (a - b)).sum::<f32>();
    /// assert!(error(&model.decode_sparse(&refined)?) <= error(&model.decode_sparse(&codes)?));
    /// # Ok::<(), sae_model::ModelError>(())
    /// ```
    pub fn refine(
        &self,
        samples: &[f32],
        codes: &[SparseCode],
        refinement: &Refinement,
    ) -> Result<Vec<SparseCode>> {
        refinement.validate()?;
        let n = self.architecture().input;
        self.batch_tensor(samples)?; // validates shape and values
        if samples.len() / n != codes.len() {
            return Err(ModelError::CodeCount {
                records: samples.len() / n,
                codes: codes.len(),
            });
        }
        self.check_codes(codes)?;
        if refinement.iterations == 0 {
            return Ok(codes.to_vec());
        }
        let first_step = 1.0 / self.decoder_lipschitz_bound()?;
        let mut out = Vec::with_capacity(codes.len());
        for (block, block_codes) in samples
            .chunks(self.block_rows() * n)
            .zip(codes.chunks(self.block_rows()))
        {
            out.extend(self.refine_block(block, block_codes, refinement, first_step)?);
        }
        Ok(out)
    }

    /// Refines one block of at most `block_rows` records.
    fn refine_block(
        &self,
        block: &[f32],
        codes: &[SparseCode],
        refinement: &Refinement,
        first_step: f64,
    ) -> Result<Vec<SparseCode>> {
        let x = self.padded_block(block)?;
        let rows = x.dim(0)?;
        let z = self.dense_latents(codes, rows)?;
        let support = if refinement.grow_support {
            None
        } else {
            Some(z.gt(&z.zeros_like()?)?.to_dtype(self.dtype())?)
        };
        let lambda = refinement.lambda;
        let encoded = z.clone();
        let mut state = self.state_at(z, &x, lambda)?;
        let mut steps = vec![first_step; rows];
        let keep = |z: Tensor| match &support {
            Some(support) => z * support,
            None => Ok(z),
        };
        for _ in 0..refinement.iterations {
            state = self.descend(state, &x, lambda, &mut steps, |z| keep(z.relu()?))?;
        }
        if let Some(step) = refinement.lattice {
            let step = f64::from(step);
            let snap = |z: Tensor| keep(((z.relu()? / step)?.round()? * step)?);
            // Start each row from the better of its rounded refined latent and
            // its rounded encoded one, so that no row ends worse than plain
            // rounding of the encoder's output would have left it.
            let refined = self.state_at(snap(state.z)?, &x, lambda)?;
            let rounded = self.state_at(snap(encoded)?, &x, lambda)?;
            let better: Vec<u8> = (0..rows)
                .map(|r| u8::from(refined.objective[r] <= rounded.objective[r]))
                .collect();
            state = pick_rows(&better, refined, rounded)?;
            for _ in 0..refinement.iterations / 2 {
                state = self.descend(state, &x, lambda, &mut steps, snap)?;
            }
        }
        let z = state
            .z
            .narrow(0, 0, codes.len())?
            .to_dtype(DType::F32)?
            .to_vec2::<f32>()?;
        Ok(z.iter().map(|row| SparseCode::from_dense(row, 0.0)).collect())
    }

    /// One projected-gradient step per row, kept only where it lowers that
    /// row's objective. A row whose projected step does not move (on a
    /// lattice, a step too short to reach the next point) grows its step.
    fn descend(
        &self,
        state: State,
        x: &Tensor,
        lambda: f64,
        steps: &mut [f64],
        project: impl Fn(Tensor) -> candle_core::Result<Tensor>,
    ) -> Result<State> {
        let rows = steps.len();
        // ∇ of ‖d(z) − x‖² through the output layer and the hidden ReLU, plus λ.
        let dh2 = (&state.residual * 2.0)?.matmul(&self.layers.decoder_output.weight.t()?)?;
        let da2 = (dh2 * state.h2.gt(&state.h2.zeros_like()?)?.to_dtype(self.dtype())?)?;
        let gradient = (da2.matmul(&self.layers.decoder_hidden.weight.t()?)? + lambda)?;
        let step = Tensor::from_vec(steps.to_vec(), (rows, 1), self.device())?.to_dtype(self.dtype())?;
        let candidate = project((&state.z - gradient.broadcast_mul(&step)?)?)?;
        let moved = (&candidate - &state.z)?
            .abs()?
            .sum(1)?
            .to_dtype(DType::F64)?
            .to_vec1::<f64>()?;
        let trial = self.state_at(candidate, x, lambda)?;
        let mut accepted = vec![0u8; rows];
        for r in 0..rows {
            if moved[r] == 0.0 {
                steps[r] *= STEP_GROWTH;
            } else if trial.objective[r] < state.objective[r] {
                accepted[r] = 1;
                steps[r] *= STEP_GROWTH;
            } else {
                steps[r] *= STEP_BACKOFF;
            }
        }
        pick_rows(&accepted, trial, state)
    }

    /// The decoder's activations, residuals and per-row objectives at latents `z`.
    fn state_at(&self, z: Tensor, x: &Tensor, lambda: f64) -> Result<State> {
        let (h2, _) = self.layers.decoder_hidden.forward(&z, true)?;
        let (y, _) = self.layers.decoder_output.forward(&h2, false)?;
        let residual = (y - x)?;
        let squared = residual.sqr()?.sum(1)?.to_dtype(DType::F64)?.to_vec1::<f64>()?;
        let l1 = z.sum(1)?.to_dtype(DType::F64)?.to_vec1::<f64>()?;
        let objective = squared.iter().zip(&l1).map(|(s, a)| s + lambda * a).collect();
        Ok(State {
            z,
            h2,
            residual,
            objective,
        })
    }

    /// Dense `(rows, l)` latents holding `codes`, zero rows after them
    /// (`rows` is the padded block's, at least `MIN_BLOCK_ROWS`).
    pub(crate) fn dense_latents<'a>(
        &self,
        codes: impl IntoIterator<Item = &'a SparseCode>,
        rows: usize,
    ) -> Result<Tensor> {
        let l = self.architecture().latent;
        let mut dense = vec![0f32; rows * l];
        for (row, code) in dense.chunks_mut(l).zip(codes) {
            for (&i, &v) in code.indices.iter().zip(&code.values) {
                // Negative values cannot come from the encoder; the projection
                // onto z ≥ 0 would clip them at the first step anyway.
                row[i as usize] = v.max(0.0);
            }
        }
        Ok(Tensor::from_vec(dense, (rows, l), self.device())?.to_dtype(self.dtype())?)
    }

    /// An upper bound on the Lipschitz constant of `z ↦ ∇‖d(z) − x‖²`:
    /// `2‖W₂‖²‖W₃‖²` (ReLU gates can only shrink it), spectral norms by power iteration.
    fn decoder_lipschitz_bound(&self) -> Result<f64> {
        let norm2 = spectral_norm(&self.layers.decoder_hidden.weight)?;
        let norm3 = spectral_norm(&self.layers.decoder_output.weight)?;
        Ok((2.0 * norm2 * norm2 * norm3 * norm3).max(f64::MIN_POSITIVE))
    }
}

/// Row `r` of `first` where `choose[r]` is 1, else of `second`.
fn pick_rows(choose: &[u8], first: State, second: State) -> Result<State> {
    if choose.iter().all(|&c| c == 1) {
        return Ok(first);
    }
    if choose.iter().all(|&c| c == 0) {
        return Ok(second);
    }
    let objective = choose
        .iter()
        .zip(first.objective.iter().zip(&second.objective))
        .map(|(&c, (&a, &b))| if c == 1 { a } else { b })
        .collect();
    let mask = Tensor::from_vec(choose.to_vec(), (choose.len(), 1), first.z.device())?;
    let pick = |a: &Tensor, b: &Tensor| mask.broadcast_as(a.shape())?.where_cond(a, b);
    Ok(State {
        z: pick(&first.z, &second.z)?,
        h2: pick(&first.h2, &second.h2)?,
        residual: pick(&first.residual, &second.residual)?,
        objective,
    })
}

/// Largest singular value of `w`, by power iteration on `wᵀw` from a fixed start.
fn spectral_norm(w: &Tensor) -> Result<f64> {
    let cols = w.dim(1)?;
    let mut v = (Tensor::ones((cols, 1), w.dtype(), w.device())? / (cols as f64).sqrt())?;
    let mut sigma = 0.0;
    for _ in 0..POWER_ITERATIONS {
        let next = w.t()?.matmul(&w.matmul(&v)?)?;
        // With ‖v‖ = 1, ‖wᵀw v‖ approaches σ² from below.
        let norm = next
            .sqr()?
            .sum_all()?
            .to_dtype(DType::F64)?
            .to_scalar::<f64>()?
            .sqrt();
        if norm == 0.0 {
            return Ok(0.0);
        }
        sigma = norm.sqrt();
        v = (next / norm)?;
    }
    Ok(sigma)
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;
    use crate::Architecture;

    fn model() -> Autoencoder {
        Autoencoder::new(Architecture::new(24, 16, 48).unwrap(), &Device::Cpu, 5).unwrap()
    }

    fn samples(count: usize) -> Vec<f32> {
        (0..count * 24)
            .map(|i| {
                ((i % 24) as f32 * (1.0 + (i / 24) as f32 / 7.0) / 4.0)
                    .sin()
                    .abs()
            })
            .collect()
    }

    fn squared_errors(model: &Autoencoder, x: &[f32], codes: &[SparseCode]) -> Vec<f32> {
        let y = model.decode_sparse(codes).unwrap();
        x.chunks(24)
            .zip(y.chunks(24))
            .map(|(a, b)| a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum())
            .collect()
    }

    #[test]
    fn no_record_gets_worse_and_the_support_only_shrinks() {
        let (model, x) = (model(), samples(20));
        let codes = model.encode_sparse(&x, 0.0).unwrap();
        let refined = model.refine(&x, &codes, &Refinement::default()).unwrap();
        let (before, after) = (
            squared_errors(&model, &x, &codes),
            squared_errors(&model, &x, &refined),
        );
        for (r, (b, a)) in before.iter().zip(&after).enumerate() {
            assert!(*a <= b * (1.0 + 1e-5) + 1e-7, "record {r}: {b} -> {a}");
            assert!(refined[r].indices.iter().all(|i| codes[r].indices.contains(i)));
        }
        assert!(after.iter().sum::<f32>() < 0.9 * before.iter().sum::<f32>());
    }

    #[test]
    fn a_lattice_search_ends_on_the_lattice_and_beats_rounding() {
        let (model, x) = (model(), samples(20));
        let codes = model.encode_sparse(&x, 0.0).unwrap();
        let step = 0.05f32;
        let rounded: Vec<SparseCode> = codes
            .iter()
            .map(|c| {
                let (indices, values) = c
                    .indices
                    .iter()
                    .zip(&c.values)
                    .map(|(&i, &v)| (i, (v / step).round() * step))
                    .filter(|&(_, v)| v != 0.0)
                    .unzip();
                SparseCode { indices, values }
            })
            .collect();
        let refinement = Refinement {
            lattice: Some(step),
            ..Refinement::default()
        };
        let refined = model.refine(&x, &codes, &refinement).unwrap();
        for code in &refined {
            for v in &code.values {
                let q = v / step;
                assert!((q - q.round()).abs() < 1e-3, "{v} is not on the lattice");
            }
        }
        let (plain, searched) = (
            squared_errors(&model, &x, &rounded),
            squared_errors(&model, &x, &refined),
        );
        for (r, (p, s)) in plain.iter().zip(&searched).enumerate() {
            assert!(*s <= p * (1.0 + 1e-5) + 1e-7, "record {r}: {p} -> {s}");
        }
    }

    #[test]
    fn a_penalty_drops_units_and_growth_may_add_them() {
        let (model, x) = (model(), samples(20));
        let codes = model.encode_sparse(&x, 0.0).unwrap();
        let nnz = |c: &[SparseCode]| c.iter().map(SparseCode::nnz).sum::<usize>();
        let pruned = Refinement {
            lambda: 0.5,
            ..Refinement::default()
        };
        assert!(nnz(&model.refine(&x, &codes, &pruned).unwrap()) < nnz(&codes));
        let grown = Refinement {
            grow_support: true,
            ..Refinement::default()
        };
        assert!(nnz(&model.refine(&x, &codes, &grown).unwrap()) > nnz(&codes));
    }

    #[test]
    fn results_are_deterministic_and_nearly_independent_of_batching() {
        let (mut model, x) = (model(), samples(21));
        let codes = model.encode_sparse(&x, 0.0).unwrap();
        let refinement = Refinement {
            lattice: Some(0.01),
            ..Refinement::default()
        };
        let whole = model.refine(&x, &codes, &refinement).unwrap();
        assert_eq!(model.refine(&x, &codes, &refinement).unwrap(), whole);
        model.set_block_rows(8);
        let blocked = model.refine(&x, &codes, &refinement).unwrap();
        let (a, b) = (
            squared_errors(&model, &x, &whole),
            squared_errors(&model, &x, &blocked),
        );
        for (r, (a, b)) in a.iter().zip(&b).enumerate() {
            assert!((a - b).abs() <= 1e-3 * a.max(*b) + 1e-6, "record {r}: {a} vs {b}");
        }
    }

    #[test]
    fn bad_settings_and_mismatched_codes_are_typed_errors() {
        let (model, x) = (model(), samples(3));
        let codes = model.encode_sparse(&x, 0.0).unwrap();
        for bad in [
            Refinement {
                lambda: -1.0,
                ..Refinement::default()
            },
            Refinement {
                lambda: f64::NAN,
                ..Refinement::default()
            },
            Refinement {
                lattice: Some(0.0),
                ..Refinement::default()
            },
        ] {
            assert!(matches!(
                model.refine(&x, &codes, &bad),
                Err(ModelError::InvalidConfig { .. })
            ));
        }
        assert!(matches!(
            model.refine(&x, &codes[..2], &Refinement::default()),
            Err(ModelError::CodeCount { codes: 2, .. })
        ));
        let beyond = vec![SparseCode {
            indices: vec![48],
            values: vec![1.0],
        }];
        assert!(matches!(
            model.refine(&x[..24], &beyond, &Refinement::default()),
            Err(ModelError::IndexBeyondLatent { index: 48, .. })
        ));
        let none = Refinement {
            iterations: 0,
            ..Refinement::default()
        };
        assert_eq!(model.refine(&x, &codes, &none).unwrap(), codes);
    }
}
