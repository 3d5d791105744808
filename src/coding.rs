//! The user's coding choices before training ([`ValueFormat`], [`IndexFormat`]),
//! and how they resolve into the container's own codings
//! ([`ValueCoding`], [`IndexCoding`]) on the training latents.
//!
//! These two enums are requests ("quantise with a step of 5% of the RMS",
//! "fit a per-unit table"); what a trained codec stores and what its
//! containers carry are the container types they resolve to. There is no
//! third vocabulary: the command line parses these enums directly.

use std::fmt;
use std::str::FromStr;

use sae_container::{IndexCoding, SparseLatent, ValueCoding, ValueModel};
use sae_model::SparseCode;

use crate::error::{CodecError, Result};

/// Symbols of a fitted value table: zigzag-mapped quantised values below
/// `ALPHABET - 1`, the last symbol escaping to a raw integer. Latents are ReLU
/// outputs, so only even zigzag codes occur; 1 024 symbols reach ±511 steps.
const ALPHABET: u32 = 1024;
/// Fixed-point precision of the fitted value table's frequencies.
const VALUE_PRECISION: u32 = 16;
/// Fixed-point precision of the fitted gap table's frequencies.
const GAP_PRECISION: u32 = 16;

/// How nonzero latent values are stored: the choice made before training.
///
/// Parsed from and written as `f32`, `f16`, `bf16`, `quantized` (the default
/// step) or `quantized:STEP`.
///
/// ```
/// use sae_codec::ValueFormat;
///
/// assert_eq!("quantized:0.1".parse::<ValueFormat>()?, ValueFormat::Quantized { relative_step: 0.1 });
/// assert_eq!("f16".parse::<ValueFormat>()?.to_string(), "f16");
/// # Ok::<(), String>(())
/// ```
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

impl ValueFormat {
    /// The relative step `quantized` means without a number.
    pub const DEFAULT_RELATIVE_STEP: f32 = 0.05;

    /// This format with its relative quantisation step set to `step`, when
    /// one is given; a step for a format that does not quantise is refused.
    ///
    /// ```
    /// use sae_codec::ValueFormat;
    ///
    /// let q = ValueFormat::Quantized { relative_step: 0.05 };
    /// assert_eq!(q.with_step(Some(0.1))?, ValueFormat::Quantized { relative_step: 0.1 });
    /// assert_eq!(ValueFormat::F16.with_step(None)?, ValueFormat::F16);
    /// assert!(ValueFormat::F16.with_step(Some(0.1)).is_err());
    /// # Ok::<(), sae_codec::CodecError>(())
    /// ```
    pub fn with_step(self, step: Option<f32>) -> Result<Self> {
        match (self, step) {
            (format, None) => Ok(format),
            (Self::Quantized { .. }, Some(relative_step)) => Ok(Self::Quantized { relative_step }),
            (other, Some(_)) => Err(CodecError::InvalidSetting {
                name: "quantisation step",
                reason: format!("a step applies to quantized values, not {other}"),
            }),
        }
    }

    /// Resolves the format against the training latents' nonzero `values`.
    pub(crate) fn resolve(self, values: &[f32]) -> Result<ValueCoding> {
        Ok(match self {
            Self::F32 => ValueCoding::F32,
            Self::F16 => ValueCoding::F16,
            Self::Bf16 => ValueCoding::Bf16,
            Self::Quantized { relative_step } => {
                if !(relative_step.is_finite() && relative_step > 0.0) {
                    return Err(CodecError::InvalidSetting {
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
                ValueCoding::Quantized {
                    step,
                    model: ValueModel::fitted(values, step, ALPHABET, VALUE_PRECISION)?,
                }
            }
        })
    }
}

impl fmt::Display for ValueFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::F32 => f.write_str("f32"),
            Self::F16 => f.write_str("f16"),
            Self::Bf16 => f.write_str("bf16"),
            Self::Quantized { relative_step } => write!(f, "quantized:{relative_step}"),
        }
    }
}

impl FromStr for ValueFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a value format: f32, f16, bf16, quantized or quantized:STEP");
        Ok(match s {
            "f32" => Self::F32,
            "f16" => Self::F16,
            "bf16" => Self::Bf16,
            // `quantised` is how `sae inspect` prints the coding: both spellings read.
            "quantized" | "quantised" => Self::Quantized {
                relative_step: Self::DEFAULT_RELATIVE_STEP,
            },
            other => {
                let step = other
                    .strip_prefix("quantized:")
                    .or_else(|| other.strip_prefix("quantised:"))
                    .ok_or_else(bad)?;
                let relative_step: f32 = step.parse().map_err(|_| bad())?;
                if !(relative_step.is_finite() && relative_step > 0.0) {
                    return Err(format!("quantisation step {step} is not positive and finite"));
                }
                Self::Quantized { relative_step }
            }
        })
    }
}

/// How the positions of the nonzero latent entries are coded: the choice
/// made before training. Parsed from and written as `per-unit`, `gaps` or `reference`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexFormat {
    /// Gaps under the paper's discretised Gaussian (σ² = 1000, c₀ = 1e-3).
    ReferenceGaps,
    /// Gaps under a table fitted on the training latents.
    FittedGaps,
    /// One decision per latent unit under its firing rate on the training
    /// latents: a trained network uses few of its units, some far more often
    /// than others. On the public SAS images with the `cli-20k` network this
    /// took the indices from 141 to 50 bytes per image (`docs/results.md` §1.4).
    PerUnit,
}

impl IndexFormat {
    /// Resolves the format on training latents of length `latent_len`.
    pub(crate) fn resolve(self, latents: &[SparseLatent], latent_len: u32) -> Result<IndexCoding> {
        Ok(match self {
            Self::ReferenceGaps => IndexCoding::reference(),
            Self::FittedGaps => IndexCoding::fitted(latents, latent_len, GAP_PRECISION)?,
            Self::PerUnit => IndexCoding::fitted_per_unit(latents, latent_len)?,
        })
    }

    /// The format a stored coding was fitted as (`None` for codings no format yields).
    pub fn of(coding: &IndexCoding) -> Option<Self> {
        match coding {
            IndexCoding::PerUnit { .. } => Some(Self::PerUnit),
            IndexCoding::Table { .. } => Some(Self::FittedGaps),
            c if *c == IndexCoding::reference() => Some(Self::ReferenceGaps),
            _ => None,
        }
    }
}

impl fmt::Display for IndexFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PerUnit => "per-unit",
            Self::FittedGaps => "gaps",
            Self::ReferenceGaps => "reference",
        })
    }
}

impl FromStr for IndexFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "per-unit" => Self::PerUnit,
            "gaps" => Self::FittedGaps,
            "reference" => Self::ReferenceGaps,
            other => {
                return Err(format!(
                    "`{other}` is not an index format: per-unit, gaps or reference"
                ));
            }
        })
    }
}

/// The quantisation step of a value coding, if it quantises.
pub(crate) fn step(coding: &ValueCoding) -> Option<f32> {
    match coding {
        ValueCoding::Quantized { step, .. } => Some(*step),
        _ => None,
    }
}

/// Drops the entries a quantiser would store as zero: they cost an index
/// and a symbol and contribute nothing to the reconstruction.
pub(crate) fn prune(coding: &ValueCoding, code: &mut SparseCode) {
    if let Some(step) = step(coding) {
        // round(v / step) == 0 exactly when |v| < step / 2 (ties round away).
        code.retain_where(|v| v.abs() >= step / 2.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantized_step_scales_with_training_rms() {
        let values = [3.0f32, 4.0, 0.0, 0.0]; // RMS 2.5
        let ValueCoding::Quantized {
            step,
            model: ValueModel::Table { frequencies },
        } = ValueFormat::Quantized { relative_step: 0.1 }
            .resolve(&values)
            .unwrap()
        else {
            panic!("not a quantised table")
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
        for bad in ["quantized:0", "quantized:-1", "quantised:nan", "quantize", "f8"] {
            assert!(bad.parse::<ValueFormat>().is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_round_trip_through_text() {
        for v in [
            ValueFormat::F32,
            ValueFormat::F16,
            ValueFormat::Bf16,
            ValueFormat::Quantized { relative_step: 0.2 },
        ] {
            assert_eq!(v.to_string().parse::<ValueFormat>().unwrap(), v);
        }
        for i in [
            IndexFormat::PerUnit,
            IndexFormat::FittedGaps,
            IndexFormat::ReferenceGaps,
        ] {
            assert_eq!(i.to_string().parse::<IndexFormat>().unwrap(), i);
        }
        // The spelling `sae inspect` prints reads too.
        assert_eq!(
            "quantised:0.2".parse::<ValueFormat>().unwrap(),
            ValueFormat::Quantized { relative_step: 0.2 }
        );
        assert_eq!(
            "quantised".parse::<ValueFormat>().unwrap(),
            "quantized".parse::<ValueFormat>().unwrap()
        );
    }

    #[test]
    fn pruning_drops_exactly_the_values_that_round_to_zero() {
        let coding = ValueCoding::Quantized {
            step: 1.0,
            model: ValueModel::Table {
                frequencies: vec![1; 4],
            },
        };
        let mut code = SparseCode {
            indices: vec![1, 5, 9, 12],
            values: vec![0.49, 0.5, 2.0, 0.1],
        };
        prune(&coding, &mut code);
        assert_eq!(code.indices, [5, 9]);
        assert_eq!(code.values, [0.5, 2.0]);
        // Float formats keep everything.
        let mut code = SparseCode {
            indices: vec![1, 2],
            values: vec![0.01, 0.02],
        };
        prune(&ValueCoding::F16, &mut code);
        assert_eq!(code.nnz(), 2);
    }
}
