//! Data transforms between the user's domain and the model's.
//!
//! Transforms are the container's [`Transform`] steps, applied in order
//! before encoding and inverted in reverse order after decoding, so that
//! every file says how to get back to the original units.

use std::fmt;
use std::str::FromStr;

use sae_container::Transform;

use crate::error::{CodecError, Result};

/// A chain of transforms as the command line and presets name it.
///
/// Parsed from `none`, the presets `l2` (per-record L2 normalisation) and
/// `log10` (`log10(max(x, 1e-6))`, then L2), or a comma-separated list of
/// steps in [`Transform`]'s text form (`log10(1e-6),scale`). Written back as
/// the preset name where there is one.
///
/// ```
/// use sae_codec::Transforms;
/// use sae_codec::sae_container::Transform;
///
/// let t: Transforms = "log10".parse()?;
/// assert_eq!(t.0, [Transform::Log10 { floor: 1e-6 }, Transform::PerRecordScale]);
/// assert_eq!(t.to_string(), "log10");
/// assert_eq!("affine(2,1),scale".parse::<Transforms>()?.0.len(), 2);
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Transforms(pub Vec<Transform>);

impl Transforms {
    /// The named chains: `none`, `l2`, `log10`.
    pub const PRESETS: [&'static str; 3] = ["none", "l2", "log10"];

    /// The steps of a preset chain known to exist (a name from [`PRESETS`](Self::PRESETS)).
    pub(crate) fn named(name: &str) -> Vec<Transform> {
        Self::preset(name).expect("a chain of Transforms::PRESETS").0
    }

    /// The chain a preset name stands for.
    pub fn preset(name: &str) -> Option<Self> {
        Some(Self(match name {
            "none" => vec![],
            "l2" => vec![Transform::PerRecordScale],
            "log10" => vec![Transform::Log10 { floor: 1e-6 }, Transform::PerRecordScale],
            _ => return None,
        }))
    }
}

impl fmt::Display for Transforms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = Self::PRESETS
            .iter()
            .find(|name| Self::preset(name).as_ref() == Some(self))
        {
            return f.write_str(name);
        }
        let steps: Vec<String> = self.0.iter().map(Transform::to_string).collect();
        f.write_str(&steps.join(","))
    }
}

impl FromStr for Transforms {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(chain) = Self::preset(s.trim()) {
            return Ok(chain);
        }
        let mut steps = Vec::new();
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in s.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    steps.push(s[start..i].parse::<Transform>()?);
                    start = i + 1;
                }
                _ => {}
            }
        }
        steps.push(
            s[start..]
                .parse::<Transform>()
                .map_err(|e| format!("{e}; or one of the presets {}", Self::PRESETS.join(", ")))?,
        );
        Ok(Self(steps))
    }
}

/// Applies `steps` to one record in place; returns its per-record scale if a
/// [`Transform::PerRecordScale`] step is present.
///
/// The per-record scale is the record's L2 norm at that step, rounded to an
/// f32 when it is representable (1 for a zero record).
pub fn forward(steps: &[Transform], record: &mut [f32]) -> Result<Option<f64>> {
    let mut scale = None;
    for step in steps {
        match *step {
            Transform::Log { floor } => record
                .iter_mut()
                .for_each(|v| *v = f64::from(*v).max(floor).ln() as f32),
            Transform::Log10 { floor } => record
                .iter_mut()
                .for_each(|v| *v = f64::from(*v).max(floor).log10() as f32),
            Transform::Affine { scale: a, offset } => record
                .iter_mut()
                .for_each(|v| *v = (f64::from(*v) * a + offset) as f32),
            Transform::PerRecordScale => {
                let norm = record
                    .iter()
                    .map(|&v| f64::from(v) * f64::from(v))
                    .sum::<f64>()
                    .sqrt();
                // Rounded to an f32 where that stays positive and finite, so
                // the container stores it in 4 bytes, exactly as used here.
                let narrow = f64::from(norm as f32);
                let s = if narrow > 0.0 && narrow.is_finite() {
                    narrow
                } else if norm > 0.0 {
                    norm
                } else {
                    1.0
                };
                record.iter_mut().for_each(|v| *v = (f64::from(*v) / s) as f32);
                scale = Some(s);
            }
            _ => {
                return Err(CodecError::Unsupported {
                    what: format!("transform {step}"),
                });
            }
        }
    }
    Ok(scale)
}

/// Inverts `steps` on one record in place, in reverse order.
///
/// `scale` must be given when `steps` hold a [`Transform::PerRecordScale`]
/// (the codec checks each record for it and reports a record without one as
/// [`CodecError::CorruptRecord`]).
pub fn inverse(steps: &[Transform], record: &mut [f32], scale: Option<f64>) -> Result<()> {
    for step in steps.iter().rev() {
        match *step {
            Transform::Log { .. } => record.iter_mut().for_each(|v| *v = f64::from(*v).exp() as f32),
            Transform::Log10 { .. } => record
                .iter_mut()
                .for_each(|v| *v = 10f64.powf(f64::from(*v)) as f32),
            Transform::Affine { scale: a, offset } => record
                .iter_mut()
                .for_each(|v| *v = ((f64::from(*v) - offset) / a) as f32),
            Transform::PerRecordScale => {
                let s = scale.ok_or_else(|| CodecError::InvalidSetting {
                    name: "scale",
                    reason: "the transforms need a per-record scale and none was given".into(),
                })?;
                record.iter_mut().for_each(|v| *v = (f64::from(*v) * s) as f32);
            }
            _ => {
                return Err(CodecError::Unsupported {
                    what: format!("transform {step}"),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_then_inverse_is_the_identity() {
        let steps = [
            Transform::Log10 { floor: 1e-6 },
            Transform::Affine {
                scale: 0.5,
                offset: 3.0,
            },
            Transform::PerRecordScale,
        ];
        let original = [1e-3f32, 0.5, 2.0, 1e4];
        let mut x = original;
        let s = forward(&steps, &mut x).unwrap();
        assert!(s.is_some());
        let norm: f32 = x.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-6);
        inverse(&steps, &mut x, s).unwrap();
        for (a, b) in original.iter().zip(&x) {
            assert!((a / b - 1.0).abs() < 1e-5, "{a} vs {b}");
        }
        assert!(inverse(&steps, &mut x, None).is_err());
    }
}
