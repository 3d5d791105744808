//! How the nonzero latent values are stored: a float format, or uniform
//! quantisation with an entropy-coded table fitted on the training latents.

use sae_container::{ValueCoding, ValueModel};
use serde::{Deserialize, Serialize};

use crate::error::{CodecError, Result};

/// Symbols of a fitted value table: zigzag-mapped quantised values below
/// `ALPHABET - 1`, the last symbol escaping to a raw f32. Latents are ReLU
/// outputs, so only even zigzag codes occur; 1 024 symbols reach ±511 steps.
const ALPHABET: u32 = 1024;
/// Fixed-point precision of the fitted table's frequencies.
const PRECISION: u32 = 16;

/// The user's choice of value storage, given before training.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ValueFormat {
    /// Exact 32-bit floats.
    F32,
    /// IEEE half precision (the paper's choice): 16 bits per nonzero.
    F16,
    /// bfloat16: 16 bits, 8 significant bits.
    Bf16,
    /// Uniform quantisation with step `relative_step × RMS` of the nonzero
    /// training latents, entropy coded with a table fitted on them. Values that
    /// quantise to zero are dropped with their index, which saves both.
    Quantized {
        /// Step as a fraction of the RMS nonzero training latent (positive, finite).
        relative_step: f32,
    },
}

/// The resolved value coding a trained codec stores in its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum ValueSpec {
    F32,
    F16,
    Bf16,
    Quantized { step: f32, frequencies: Vec<u32> },
}

impl ValueFormat {
    /// Resolves the format against the training latents' nonzero `values`.
    pub(crate) fn resolve(self, values: &[f32]) -> Result<ValueSpec> {
        Ok(match self {
            Self::F32 => ValueSpec::F32,
            Self::F16 => ValueSpec::F16,
            Self::Bf16 => ValueSpec::Bf16,
            Self::Quantized { relative_step } => {
                if !(relative_step.is_finite() && relative_step > 0.0) {
                    return Err(CodecError::InvalidConfig {
                        name: "relative quantisation step",
                        reason: format!("{relative_step} is not positive and finite"),
                    });
                }
                let sum_sq: f64 = values.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
                let rms = (sum_sq / values.len().max(1) as f64).sqrt() as f32;
                // A model that never fires leaves no scale to refer to; any
                // positive step then codes the (absent) values correctly.
                let step = if rms > 0.0 {
                    relative_step * rms
                } else {
                    relative_step
                };
                match ValueModel::fitted(values, step, ALPHABET, PRECISION)? {
                    ValueModel::Table { frequencies } => ValueSpec::Quantized { step, frequencies },
                    other => {
                        return Err(CodecError::InvalidConfig {
                            name: "value model",
                            reason: format!("fitting returned {other:?}"),
                        });
                    }
                }
            }
        })
    }
}

impl ValueSpec {
    /// The container's value coding.
    pub(crate) fn coding(&self) -> ValueCoding {
        match self {
            Self::F32 => ValueCoding::F32,
            Self::F16 => ValueCoding::F16,
            Self::Bf16 => ValueCoding::Bf16,
            Self::Quantized { step, frequencies } => ValueCoding::Quantized {
                step: *step,
                model: ValueModel::Table {
                    frequencies: frequencies.clone(),
                },
            },
        }
    }

    /// Drops the entries a quantiser would store as zero: they cost an index
    /// and a symbol and contribute nothing to the reconstruction.
    /// The quantisation step, for quantised values.
    pub(crate) fn step(&self) -> Option<f32> {
        match self {
            Self::Quantized { step, .. } => Some(*step),
            _ => None,
        }
    }

    pub(crate) fn prune(&self, indices: &mut Vec<u32>, values: &mut Vec<f32>) {
        if let Self::Quantized { step, .. } = self {
            let half = step / 2.0;
            let mut kept = 0;
            for i in 0..values.len() {
                // round(v / step) == 0 exactly when |v| < step / 2 (ties round away).
                if values[i].abs() >= half {
                    indices[kept] = indices[i];
                    values[kept] = values[i];
                    kept += 1;
                }
            }
            indices.truncate(kept);
            values.truncate(kept);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantized_step_scales_with_training_rms() {
        let values = [3.0f32, 4.0, 0.0, 0.0]; // RMS 2.5
        let ValueSpec::Quantized { step, frequencies } = ValueFormat::Quantized { relative_step: 0.1 }
            .resolve(&values)
            .unwrap()
        else {
            panic!("not quantised")
        };
        assert!((step - 0.25).abs() < 1e-6);
        assert_eq!(frequencies.len(), ALPHABET as usize);
    }

    #[test]
    fn bad_steps_are_refused() {
        for bad in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert!(
                ValueFormat::Quantized { relative_step: bad }
                    .resolve(&[1.0])
                    .is_err()
            );
        }
    }

    #[test]
    fn pruning_drops_exactly_the_values_that_round_to_zero() {
        let spec = ValueSpec::Quantized {
            step: 1.0,
            frequencies: vec![1; 4],
        };
        let mut indices = vec![1, 5, 9, 12];
        let mut values = vec![0.49, 0.5, 2.0, 0.1];
        spec.prune(&mut indices, &mut values);
        assert_eq!(indices, [5, 9]);
        assert_eq!(values, [0.5, 2.0]);
        // Float formats keep everything.
        let (mut i, mut v) = (vec![1, 2], vec![0.01, 0.02]);
        ValueSpec::F16.prune(&mut i, &mut v);
        assert_eq!(i.len(), 2);
    }
}
