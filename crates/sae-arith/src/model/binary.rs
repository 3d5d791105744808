//! A two-symbol model: one yes/no decision with a fixed probability.

use super::{Interval, MAX_PRECISION, ProbabilityModel};
use crate::ModelError;

/// Symbols `0` and `1`, symbol `1` with probability `ones / 2^precision`.
///
/// Cheap to build, so a coder can use a different one per decision: a
/// sparse vector, say, as one bit per position under that position's own
/// probability of being set. Both symbols always keep a nonzero width.
///
/// ```
/// use sae_arith::{Binary, ProbabilityModel, RangeDecoder, RangeEncoder};
///
/// let rare = Binary::new(1 << 12, 16)?; // P(1) = 1/16
/// assert_eq!(rare.probability(1), 0.0625);
/// let mut encoder = RangeEncoder::new();
/// encoder.encode_all([0, 0, 1, 0], &rare)?;
/// let bytes = encoder.finish();
/// let mut decoder = RangeDecoder::new(&bytes)?;
/// assert_eq!(decoder.decode_many(4, &rare)?, [0, 0, 1, 0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binary {
    /// Width of symbol 1; symbol 0 has `total - ones`.
    ones: u32,
    total: u32,
}

impl Binary {
    /// `P(1) = ones / 2^precision`, with `precision` in `1..=MAX_PRECISION` and
    /// `ones` in `1..2^precision` (both symbols must stay codable).
    pub fn new(ones: u32, precision: u32) -> Result<Self, ModelError> {
        if !(1..=MAX_PRECISION).contains(&precision) {
            return Err(ModelError::PrecisionOutOfRange {
                precision,
                min: 1,
                max: MAX_PRECISION,
            });
        }
        let total = 1u32 << precision;
        if !(1..total).contains(&ones) {
            return Err(ModelError::InvalidParameter {
                name: "ones",
                value: f64::from(ones),
                expected: "a frequency in 1..2^precision",
            });
        }
        Ok(Self { ones, total })
    }

    /// Without the checks, for models in this crate that keep `0 < ones < total ≤ MAX_TOTAL`.
    #[inline]
    pub(crate) const fn from_parts(ones: u32, total: u32) -> Self {
        Self { ones, total }
    }

    /// The frequency of symbol `1`, as given to [`new`](Self::new).
    pub fn ones(&self) -> u32 {
        self.ones
    }
}

impl ProbabilityModel for Binary {
    #[inline]
    fn alphabet_size(&self) -> usize {
        2
    }

    #[inline]
    fn total(&self) -> u32 {
        self.total
    }

    #[inline]
    fn interval(&self, symbol: usize) -> Option<Interval> {
        let zeros = self.total - self.ones;
        match symbol {
            0 => Some(Interval {
                start: 0,
                width: zeros,
            }),
            1 => Some(Interval {
                start: zeros,
                width: self.ones,
            }),
            _ => None,
        }
    }

    #[inline]
    fn symbol_at(&self, target: u32) -> (usize, Interval) {
        let symbol = usize::from(target >= self.total - self.ones);
        let interval = self.interval(symbol).unwrap_or(Interval { start: 0, width: 0 });
        (symbol, interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RangeDecoder, RangeEncoder};
    use proptest::prelude::*;

    #[test]
    fn degenerate_probabilities_are_refused() {
        assert!(Binary::new(0, 16).is_err());
        assert!(Binary::new(1 << 16, 16).is_err());
        assert!(Binary::new(1, 0).is_err());
        assert!(Binary::new(1, MAX_PRECISION + 1).is_err());
        assert!(Binary::new((1 << 16) - 1, 16).is_ok());
    }

    #[test]
    fn intervals_tile_the_total() {
        let m = Binary::new(3, 3).unwrap();
        assert_eq!(m.interval(0), Some(Interval { start: 0, width: 5 }));
        assert_eq!(m.interval(1), Some(Interval { start: 5, width: 3 }));
        assert_eq!(m.interval(2), None);
        for t in 0..8 {
            assert_eq!(m.symbol_at(t).0, usize::from(t >= 5));
        }
    }

    proptest! {
        #![proptest_config(proptest::test_runner::Config { rng_seed: proptest::test_runner::RngSeed::Fixed(0x5ae_0004), ..Default::default() })]

        #[test]
        fn bits_under_their_own_models_round_trip(bits in proptest::collection::vec((any::<bool>(), 1u32..65_536), 0..300)) {
            let mut encoder = RangeEncoder::new();
            for &(bit, ones) in &bits {
                encoder.encode(usize::from(bit), &Binary::new(ones, 16).unwrap()).unwrap();
            }
            let bytes = encoder.finish();
            let mut decoder = RangeDecoder::new(&bytes).unwrap();
            for &(bit, ones) in &bits {
                prop_assert_eq!(decoder.decode(&Binary::new(ones, 16).unwrap()).unwrap(), usize::from(bit));
            }
            prop_assert_eq!(decoder.finish().unwrap(), bytes.len());
        }
    }
}
