//! Data transforms between the user's domain and the model's.
//!
//! Transforms are the container's [`Transform`] steps, applied in order
//! before encoding and inverted in reverse order after decoding, so that
//! every file says how to get back to the original units.

use sae_container::Transform;

use crate::error::{CodecError, Result};

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
                return Err(CodecError::InvalidConfig {
                    name: "transform",
                    reason: format!("{step:?} is not supported by this version"),
                });
            }
        }
    }
    Ok(scale)
}

/// Inverts `steps` on one record in place, in reverse order.
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
                let s = scale.ok_or_else(|| CodecError::InvalidConfig {
                    name: "record",
                    reason: "the transform needs a per-record scale the record does not carry".into(),
                })?;
                record.iter_mut().for_each(|v| *v = (f64::from(*v) * s) as f32);
            }
            _ => {
                return Err(CodecError::InvalidConfig {
                    name: "transform",
                    reason: format!("{step:?} is not supported by this version"),
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
