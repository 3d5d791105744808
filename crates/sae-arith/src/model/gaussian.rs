//! The reference gap model: a discretised half-Gaussian with a probability floor.

use super::categorical::Categorical;
use super::{Interval, MAX_PRECISION, MAX_TOTAL, ProbabilityModel};
use crate::ModelError;

/// The reference model for gaps between nonzero latent indices.
///
/// Over the gaps `δ ∈ 0..=max_gap` the weight is
/// `max(g(δ), c₀)` with `g(δ) = exp(-δ²/2σ²) / Σ_δ' exp(-δ'²/2σ²)`, the
/// Gaussian normalised over the alphabet, and `c₀` the probability floor that
/// keeps long gaps codable. One extra symbol, [`terminator`](Self::terminator)
/// `= max_gap + 1`, ends a latent; its weight is `c₀` too (or the smallest
/// positive unit when `c₀ = 0`). The weights are renormalised and quantised to
/// `2^precision`; every symbol keeps a nonzero frequency.
///
/// The model is rebuilt from its parameters when a file is decoded, so it is
/// computed with a platform-independent `exp` (basic IEEE-754 operations
/// only): the same parameters give the same table on every machine.
///
/// ```
/// use sae_arith::{ProbabilityModel, QuantizedGaussian};
///
/// let model = QuantizedGaussian::reference(4096)?; // σ² = 1000, c₀ = 1e-3
/// assert_eq!(model.alphabet_size(), 4098);
/// assert_eq!(model.terminator(), 4097);
/// assert!(model.probability(0) > model.probability(100));
/// # Ok::<(), sae_arith::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedGaussian {
    sigma2: f64,
    floor: f64,
    max_gap: usize,
    precision: u32,
    table: Categorical,
}

impl QuantizedGaussian {
    /// The reference variance `σ² = 1000`.
    pub const DEFAULT_SIGMA2: f64 = 1000.0;
    /// The reference probability floor `c₀ = 1e-3`.
    pub const DEFAULT_FLOOR: f64 = 1e-3;
    /// Default quantisation precision in bits.
    pub const DEFAULT_PRECISION: u32 = MAX_PRECISION;

    /// The reference model (σ² = 1000, c₀ = 1e-3, 24-bit precision) over gaps `0..=max_gap`.
    pub fn reference(max_gap: usize) -> Result<Self, ModelError> {
        Self::new(
            Self::DEFAULT_SIGMA2,
            Self::DEFAULT_FLOOR,
            max_gap,
            Self::DEFAULT_PRECISION,
        )
    }

    /// A model with variance `sigma2 > 0`, floor `floor ∈ [0, 1)`, gaps `0..=max_gap`
    /// and `precision` bits (in `1..=24`, at least enough for one unit per symbol).
    pub fn new(sigma2: f64, floor: f64, max_gap: usize, precision: u32) -> Result<Self, ModelError> {
        Self::check(sigma2, floor, max_gap, precision)?;
        let gaussian: Vec<f64> = (0..=max_gap)
            .map(|d| {
                let d = d as f64;
                deterministic_exp(-(d * d) / (2.0 * sigma2))
            })
            .collect();
        let norm: f64 = gaussian.iter().sum();
        let mut weights: Vec<f64> = gaussian.iter().map(|g| (g / norm).max(floor)).collect();
        weights.push(floor);
        let table = Categorical::from_weights_full_support(&weights, precision)?;
        Ok(Self {
            sigma2,
            floor,
            max_gap,
            precision,
            table,
        })
    }

    /// Whether [`new`](Self::new) accepts these parameters, without building
    /// the table (`max_gap + 2` entries): what a reader checks before it knows
    /// that it will decode anything.
    ///
    /// ```
    /// use sae_arith::QuantizedGaussian;
    ///
    /// assert!(QuantizedGaussian::check(1000.0, 1e-3, 4_000_000, 24).is_ok());
    /// assert!(QuantizedGaussian::check(1000.0, 1e-3, 4_000_000, 16).is_err()); // 2^16 < 4 M symbols
    /// ```
    pub fn check(sigma2: f64, floor: f64, max_gap: usize, precision: u32) -> Result<(), ModelError> {
        if !(sigma2.is_finite() && sigma2 > 0.0) {
            return Err(ModelError::InvalidParameter {
                name: "sigma2",
                value: sigma2,
                expected: "a finite positive variance",
            });
        }
        if !(floor.is_finite() && (0.0..1.0).contains(&floor)) {
            return Err(ModelError::InvalidParameter {
                name: "floor",
                value: floor,
                expected: "a probability floor in [0, 1)",
            });
        }
        if max_gap >= MAX_TOTAL as usize - 1 {
            return Err(ModelError::AlphabetTooLarge {
                size: max_gap.saturating_add(2),
                max: MAX_TOTAL as usize,
            });
        }
        if !(1..=MAX_PRECISION).contains(&precision) {
            return Err(ModelError::PrecisionOutOfRange {
                precision,
                min: 1,
                max: MAX_PRECISION,
            });
        }
        // Every symbol keeps one unit of the `2^precision` total.
        if max_gap + 2 > 1usize << precision {
            return Err(ModelError::AlphabetTooLarge {
                size: max_gap + 2,
                max: 1 << precision,
            });
        }
        Ok(())
    }

    /// The symbol that ends a latent: `max_gap + 1`.
    pub fn terminator(&self) -> usize {
        self.max_gap + 1
    }

    /// Largest codable gap.
    pub fn max_gap(&self) -> usize {
        self.max_gap
    }

    /// The variance σ².
    pub fn sigma2(&self) -> f64 {
        self.sigma2
    }

    /// The probability floor c₀.
    pub fn floor(&self) -> f64 {
        self.floor
    }

    /// Quantisation precision in bits.
    pub fn precision(&self) -> u32 {
        self.precision
    }

    /// The quantised table this model codes with.
    pub fn as_categorical(&self) -> &Categorical {
        &self.table
    }
}

impl ProbabilityModel for QuantizedGaussian {
    #[inline]
    fn alphabet_size(&self) -> usize {
        self.table.alphabet_size()
    }
    #[inline]
    fn total(&self) -> u32 {
        self.table.total()
    }
    #[inline]
    fn interval(&self, symbol: usize) -> Option<Interval> {
        self.table.interval(symbol)
    }
    #[inline]
    fn symbol_at(&self, target: u32) -> (usize, Interval) {
        self.table.symbol_at(target)
    }
}

/// `exp(x)` for `x <= 0` from basic IEEE-754 operations only.
///
/// `f64::exp` calls the platform's libm, whose last bit differs between
/// systems; a model table rebuilt from parameters must not. Accuracy is a few
/// ulp, far below the 2^-24 quantisation of the table.
pub(crate) fn deterministic_exp(x: f64) -> f64 {
    debug_assert!(x <= 0.0);
    if x < -700.0 || x.is_nan() {
        return 0.0;
    }
    // ln 2 split as in fdlibm: the high part has trailing zero bits, so `k * LN2_HI` is exact.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    // x = k ln2 + r with |r| <= ln2 / 2 (Cody–Waite reduction).
    let k = (x * std::f64::consts::LOG2_E).round();
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // Taylor series of exp(r) to degree 14: truncation error < 1e-19 for |r| <= 0.35.
    let mut sum = 1.0;
    let mut term = 1.0;
    for i in 1..=14 {
        term = term * r / f64::from(i);
        sum += term;
    }
    // 2^k for k >= -1010 is a normal number built from its exponent bits.
    let scale = f64::from_bits(((1023 + k as i64) as u64) << 52);
    sum * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate() {
        for i in 0..1990 {
            let x = -(i as f64) * 0.3517;
            let (ours, libm) = (deterministic_exp(x), x.exp());
            assert!(
                (ours - libm).abs() <= 4.0 * f64::EPSILON * libm,
                "x = {x}: {ours} vs {libm}"
            );
        }
        assert_eq!(deterministic_exp(0.0), 1.0);
        assert_eq!(deterministic_exp(-800.0), 0.0);
    }

    #[test]
    fn reference_model_shape() {
        let m = QuantizedGaussian::reference(8192).unwrap();
        assert_eq!(m.alphabet_size(), 8194);
        assert_eq!(m.total(), 1 << 24);
        // Monotone non-increasing over the gaps, floor in the tail.
        let p: Vec<f64> = (0..=8192).map(|d| m.probability(d)).collect();
        assert!(p.windows(2).all(|w| w[0] >= w[1] - 1e-7));
        let floor_mass: f64 = p[200..].iter().sum();
        // With 8 193 gaps the floor holds most of the mass (the brief's ~89%).
        assert!(floor_mass > 0.85 && floor_mass < 0.92, "{floor_mass}");
        assert!(m.probability(m.terminator()) > 0.0);
    }

    #[test]
    fn parameter_errors() {
        assert!(matches!(
            QuantizedGaussian::new(0.0, 1e-3, 10, 24),
            Err(ModelError::InvalidParameter { name: "sigma2", .. })
        ));
        assert!(matches!(
            QuantizedGaussian::new(1.0, f64::NAN, 10, 24),
            Err(ModelError::InvalidParameter { name: "floor", .. })
        ));
        assert!(QuantizedGaussian::new(1.0, 0.0, 10, 24).is_ok());
        assert!(matches!(
            QuantizedGaussian::new(1.0, 0.0, 100, 4),
            Err(ModelError::AlphabetTooLarge { .. })
        ));
    }
}
