//! What the encoder sees: an elementwise view of the record taken before the
//! first layer, while the decoder still reconstructs (and the loss still
//! measures) the record itself.
//!
//! A small-angle scattering pattern keeps its shape information (fringe
//! positions, the Porod tail) at intensities decades below its bright centre;
//! on a linear scale the encoder barely sees them. A compressive view lets it,
//! and costs nothing at decompression: only the encoder reads it.

use std::fmt;
use std::str::FromStr;

use candle_core::Tensor;

/// The elementwise map applied to a record before the encoder.
///
/// [`Sqrt`](Self::Sqrt) and [`Log`](Self::Log) clamp negative inputs to 0,
/// map each value ([`apply_scalar`](Self::apply_scalar)), then scale each
/// record to unit L2 norm (a record of zeros stays zero), so that the first
/// layer sees inputs of the size it was initialised for whatever the view.
/// That scaling drops the record's own size, so these views suit records
/// normalised per record (the facade's `Transform::PerRecordScale`, as in the
/// SAS preset), whose size carries no information.
///
/// ```
/// use sae_model::InputView;
///
/// let view: InputView = "log:1e-6".parse()?;
/// assert_eq!(view, InputView::Log { floor: 1e-6 });
/// assert_eq!(view.to_string(), "log:1e-6");
/// assert_eq!(view.apply_scalar(0.0), 0.0);
/// assert!((view.apply_scalar(1.0) - 1.0).abs() < 1e-6);
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum InputView {
    /// The record as it is (the paper's network).
    #[default]
    Linear,
    /// `√max(x, 0)`.
    Sqrt,
    /// `ln(1 + max(x, 0)/floor) / ln(1 + 1/floor)`: logarithmic above `floor`,
    /// linear below it, 0 at 0 and 1 at 1.
    Log {
        /// Where the view turns from linear to logarithmic (positive, finite).
        floor: f32,
    },
}

impl InputView {
    /// The view of one value, as [`apply`](Self::apply) computes it in f32
    /// before scaling the record to unit norm.
    pub fn apply_scalar(self, x: f32) -> f32 {
        match self {
            Self::Linear => x,
            Self::Sqrt => x.max(0.0).sqrt(),
            Self::Log { floor } => (x.max(0.0) / floor).ln_1p() / (1.0 / floor).ln_1p(),
        }
    }

    /// The view of a batch of records (rows); `Linear` returns the same tensor.
    pub fn apply(self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mapped = match self {
            Self::Linear => return Ok(x.clone()),
            Self::Sqrt => x.relu()?.sqrt()?,
            Self::Log { floor } => {
                let floor = f64::from(floor);
                let scale = 1.0 / (1.0 / floor).ln_1p();
                // ln(1 + x/floor): exactly 0 at 0.
                x.relu()?.affine(1.0 / floor, 1.0)?.log()?.affine(scale, 0.0)?
            }
        };
        // Unit norm per row; the tiny floor keeps rows of zeros at zero.
        let norm = mapped.sqr()?.sum_keepdim(1)?.sqrt()?.affine(1.0, 1e-30)?;
        mapped.broadcast_div(&norm)
    }

    /// Checks the parameters.
    pub fn validate(self) -> Result<(), String> {
        match self {
            Self::Log { floor } if !(floor.is_finite() && floor > 0.0) => Err(format!(
                "the log view's floor must be positive and finite, not {floor}"
            )),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for InputView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Linear => f.write_str("linear"),
            Self::Sqrt => f.write_str("sqrt"),
            Self::Log { floor } => write!(f, "log:{floor:e}"),
        }
    }
}

impl FromStr for InputView {
    type Err = String;

    /// `linear`, `sqrt`, `log` (floor 1e-6) or `log:FLOOR`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let view = match s.trim() {
            "linear" => Self::Linear,
            "sqrt" => Self::Sqrt,
            "log" => Self::Log { floor: 1e-6 },
            other => match other.strip_prefix("log:") {
                Some(floor) => Self::Log {
                    floor: floor
                        .parse()
                        .map_err(|e| format!("log view floor `{floor}`: {e}"))?,
                },
                None => {
                    return Err(format!(
                        "unknown encoder view `{s}` (linear, sqrt, log, log:FLOOR)"
                    ));
                }
            },
        };
        view.validate()?;
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn tensor_and_scalar_views_agree() -> candle_core::Result<()> {
        let values = [0.0f32, 1e-9, 1e-6, 3e-4, 0.02, 0.5, 1.0, -0.25];
        let rows = Tensor::new(&[values, [0.0; 8]], &Device::Cpu)?;
        for view in [InputView::Linear, InputView::Sqrt, InputView::Log { floor: 1e-6 }] {
            let got = view.apply(&rows)?.to_vec2::<f32>()?;
            let mapped: Vec<f32> = values.iter().map(|&v| view.apply_scalar(v)).collect();
            let norm = match view {
                InputView::Linear => 1.0,
                _ => mapped.iter().map(|v| v * v).sum::<f32>().sqrt(),
            };
            for ((&v, g), m) in values.iter().zip(&got[0]).zip(&mapped) {
                let want = m / norm;
                assert!(
                    (g - want).abs() <= 1e-5 * want.abs().max(1.0),
                    "{view} of {v}: {g} vs {want}"
                );
            }
            assert_eq!(got[1], [0.0; 8], "{view}: a record of zeros stays zero");
        }
        Ok(())
    }

    #[test]
    fn text_round_trip_and_refusals() {
        for view in [
            InputView::Linear,
            InputView::Sqrt,
            InputView::Log { floor: 2.5e-7 },
        ] {
            assert_eq!(view.to_string().parse::<InputView>(), Ok(view));
        }
        assert_eq!("log".parse::<InputView>(), Ok(InputView::Log { floor: 1e-6 }));
        for bad in ["log:0", "log:-1", "log:inf", "log:NaN", "cube", "log:x"] {
            assert!(bad.parse::<InputView>().is_err(), "{bad}");
        }
    }

    #[test]
    fn log_view_is_monotone_and_spreads_low_intensities() {
        let view = InputView::Log { floor: 1e-6 };
        let mut last = -1.0;
        for k in 0..60 {
            let x = 10f32.powf(-9.0 + k as f32 * 0.15);
            let v = view.apply_scalar(x);
            assert!(v > last);
            last = v;
        }
        // Five decades below the peak still reach a third of the range.
        assert!(view.apply_scalar(1e-5) > 0.15);
    }
}
