//! Per-record error bounds: what a guarantee promises for every record, and
//! the exact check of a reconstruction against it.
//!
//! A bound is named `l2:E`, `abs:E` or `rel:E`; [`ErrorBound::measure`]
//! gives the error of one record in the bound's own terms, and
//! [`ErrorBound::check`] every record that exceeds it. The coder
//! ([`encode`](crate::encode)) meets a bound by this same measure, and
//! `sae eval --max-error` reports it for reconstructions made by any codec.

use std::fmt;
use std::str::FromStr;

use crate::EncodeError;

/// A bound that every record of a reconstruction must meet.
///
/// Errors are computed in f64 from the f32 values: the difference of two
/// f32 values is exact in f64 unless their exponents are more than 29 apart,
/// and a relative L2 error is then within about `1e-15` of its exact value.
///
/// ```
/// use sae_bounded::ErrorBound;
///
/// let bound: ErrorBound = "rel:1e-2".parse()?;
/// assert_eq!(bound, ErrorBound::Rel(1e-2));
/// assert_eq!(bound.to_string(), "rel:1e-2");
/// // Pointwise relative: 1% of each pixel; a zero pixel must stay zero.
/// assert!(bound.measure(&[100.0, 0.0], &[100.5, 0.0]) <= 1e-2);
/// assert_eq!(bound.measure(&[100.0, 0.0], &[100.0, 1e-30]), f64::INFINITY);
/// assert!("l2:0".parse::<ErrorBound>().is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ErrorBound {
    /// `‖x̂ − x‖₂ ≤ E·‖x‖₂` for each record (a zero record must come back zero).
    L2(f64),
    /// `|x̂ᵢ − xᵢ| ≤ E` for each value.
    Abs(f64),
    /// `|x̂ᵢ − xᵢ| ≤ E·|xᵢ|` for each value: zero values stay exactly zero.
    Rel(f64),
}

/// A record that exceeds its bound.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Violation {
    /// The record's position.
    pub record: u64,
    /// Its error in the bound's terms ([`ErrorBound::measure`]).
    pub error: f64,
}

/// How a reconstruction meets a bound ([`ErrorBound::check`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BoundReport {
    /// The bound, as text (`l2:1e-2`).
    pub bound: String,
    /// Records checked.
    pub records: u64,
    /// The largest error of any record, in the bound's terms.
    pub achieved: f64,
    /// Every record over the bound, in order.
    pub violations: Vec<Violation>,
}

impl ErrorBound {
    /// The bound's tolerance `E`.
    pub fn tolerance(&self) -> f64 {
        match *self {
            Self::L2(e) | Self::Abs(e) | Self::Rel(e) => e,
        }
    }

    /// The error of one record in this bound's terms, to compare with
    /// [`tolerance`](Self::tolerance): the relative L2 error, the largest
    /// absolute error, or the largest error relative to its value (infinite
    /// where a zero record or value does not come back zero, or a value is
    /// not finite).
    pub fn measure(&self, original: &[f32], reconstructed: &[f32]) -> f64 {
        let pairs = original
            .iter()
            .zip(reconstructed)
            .map(|(&x, &y)| (f64::from(x), f64::from(y)));
        let finite = original.iter().chain(reconstructed).all(|v| v.is_finite());
        if !finite || original.len() != reconstructed.len() {
            return f64::INFINITY;
        }
        match self {
            Self::L2(_) => {
                let (mut diff, mut norm) = (0.0f64, 0.0f64);
                for (x, y) in pairs {
                    diff += (y - x) * (y - x);
                    norm += x * x;
                }
                match (diff, norm) {
                    (0.0, _) => 0.0,
                    (_, 0.0) => f64::INFINITY,
                    _ => (diff / norm).sqrt(),
                }
            }
            Self::Abs(_) => pairs.map(|(x, y)| (y - x).abs()).fold(0.0, f64::max),
            Self::Rel(_) => pairs
                .map(|(x, y)| match (y - x).abs() {
                    0.0 => 0.0,
                    _ if x == 0.0 => f64::INFINITY,
                    d => d / x.abs(),
                })
                .fold(0.0, f64::max),
        }
    }

    /// Whether one value `y` meets a pointwise bound for `x` (`abs`, `rel`),
    /// by exactly the arithmetic of [`measure`](Self::measure); for `l2`, whether
    /// it is finite (the record's sum decides the rest).
    pub(crate) fn point_within(&self, x: f32, y: f32) -> bool {
        if !y.is_finite() {
            return false;
        }
        let d = (f64::from(y) - f64::from(x)).abs();
        match *self {
            Self::L2(_) => true,
            Self::Abs(e) => d <= e,
            Self::Rel(e) => match d {
                0.0 => true,
                _ if x == 0.0 => false,
                d => d / f64::from(x).abs() <= e,
            },
        }
    }

    /// Whether a whole record meets the bound (by [`measure`](Self::measure)).
    pub fn holds(&self, original: &[f32], reconstructed: &[f32]) -> bool {
        self.measure(original, reconstructed) <= self.tolerance()
    }

    /// Checks every record (`record_len` values each) of `reconstructed`
    /// against `original`: the achieved maximum and every record over the bound.
    pub fn check(
        &self,
        original: &[f32],
        reconstructed: &[f32],
        record_len: usize,
    ) -> Result<BoundReport, EncodeError> {
        if record_len == 0
            || original.len() != reconstructed.len()
            || !original.len().is_multiple_of(record_len)
        {
            return Err(EncodeError::Records {
                original: original.len(),
                reconstructed: reconstructed.len(),
                record_len,
            });
        }
        let mut report = BoundReport {
            bound: self.to_string(),
            records: (original.len() / record_len) as u64,
            achieved: 0.0,
            violations: Vec::new(),
        };
        for (i, (x, y)) in original
            .chunks_exact(record_len)
            .zip(reconstructed.chunks_exact(record_len))
            .enumerate()
        {
            let error = self.measure(x, y);
            report.achieved = report.achieved.max(error);
            if error.is_nan() || error > self.tolerance() {
                report.violations.push(Violation {
                    record: i as u64,
                    error,
                });
            }
        }
        Ok(report)
    }
}

/// The lines `sae eval --max-error` prints: the bound, the largest error,
/// and every record over it.
impl fmt::Display for BoundReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "bound {:<17} largest error {:.3e}, {} of {} records over it",
            self.bound,
            self.achieved,
            self.violations.len(),
            self.records
        )?;
        for v in &self.violations {
            writeln!(f, "  record {}: {:.3e}", v.record, v.error)?;
        }
        Ok(())
    }
}

impl fmt::Display for ErrorBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, e) = match *self {
            Self::L2(e) => ("l2", e),
            Self::Abs(e) => ("abs", e),
            Self::Rel(e) => ("rel", e),
        };
        write!(f, "{name}:{e:e}")
    }
}

impl FromStr for ErrorBound {
    type Err = String;

    /// `l2:E`, `abs:E` or `rel:E` with `E` a finite positive number.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not an error bound: l2:E, abs:E or rel:E with E > 0");
        let (name, value) = s.trim().split_once(':').ok_or_else(bad)?;
        let e: f64 = value.trim().parse().map_err(|_| bad())?;
        if !(e.is_finite() && e > 0.0) {
            return Err(format!("the bound of `{s}` must be a finite positive number"));
        }
        match name.trim() {
            "l2" => Ok(Self::L2(e)),
            "abs" => Ok(Self::Abs(e)),
            "rel" => Ok(Self::Rel(e)),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_round_trip_and_bad_ones_are_refused() {
        for b in [ErrorBound::L2(3e-2), ErrorBound::Abs(0.5), ErrorBound::Rel(1e-4)] {
            assert_eq!(b.to_string().parse::<ErrorBound>().unwrap(), b);
        }
        for bad in [
            "l2", "l2:", "l2:-1", "l2:0", "abs:nan", "rel:inf", "linf:1", ":1", "l2:1e-2x",
        ] {
            assert!(bad.parse::<ErrorBound>().is_err(), "{bad}");
        }
    }

    #[test]
    fn measures_are_the_bound_terms() {
        let x = [3.0f32, 4.0, 0.0];
        let y = [3.0f32, 4.5, 0.0];
        assert!((ErrorBound::L2(1.0).measure(&x, &y) - 0.1).abs() < 1e-15);
        assert_eq!(ErrorBound::Abs(1.0).measure(&x, &y), 0.5);
        assert_eq!(ErrorBound::Rel(1.0).measure(&x, &y), 0.125);
        // A zero value, or a zero record, must come back exactly.
        let z = [3.0f32, 4.0, f32::MIN_POSITIVE];
        assert_eq!(ErrorBound::Rel(1.0).measure(&x, &z), f64::INFINITY);
        assert!(ErrorBound::Abs(1.0).measure(&x, &z) > 0.0);
        assert_eq!(ErrorBound::L2(1.0).measure(&[0.0; 3], &[0.0; 3]), 0.0);
        assert_eq!(
            ErrorBound::L2(1.0).measure(&[0.0; 3], &[0.0, 1e-30, 0.0]),
            f64::INFINITY
        );
        // Non-finite values never meet a bound.
        assert_eq!(
            ErrorBound::Abs(1.0).measure(&x, &[3.0, f32::NAN, 0.0]),
            f64::INFINITY
        );
        // Extreme magnitudes: f64 keeps them exact.
        let big = [f32::MAX, -f32::MAX];
        assert_eq!(ErrorBound::L2(1.0).measure(&big, &big), 0.0);
        assert!(
            ErrorBound::L2(1.0)
                .measure(&big, &[f32::MAX, f32::MAX])
                .is_finite()
        );
    }

    #[test]
    fn a_check_names_every_record_over_the_bound() {
        let x = [1.0f32, 1.0, 1.0, 1.0, 2.0, 2.0];
        let y = [1.0f32, 1.0, 1.0, 1.5, 2.0, 2.0];
        let report = ErrorBound::Abs(0.25).check(&x, &y, 2).unwrap();
        assert_eq!(report.records, 3);
        assert_eq!(report.achieved, 0.5);
        assert_eq!(
            report.violations,
            [Violation {
                record: 1,
                error: 0.5
            }]
        );
        // At the bound exactly is within it.
        assert!(
            ErrorBound::Abs(0.5)
                .check(&x, &y, 2)
                .unwrap()
                .violations
                .is_empty()
        );
        assert!(ErrorBound::Abs(0.5).check(&x, &y[..4], 2).is_err());
        assert!(ErrorBound::Abs(0.5).check(&x, &y, 4).is_err());
    }
}
