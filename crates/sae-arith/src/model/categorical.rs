//! A static model over an explicit frequency table, with a fast symbol lookup.

use super::quantize::{Support, ceil_log2, quantize_weights};
use super::{Interval, MAX_PRECISION, MAX_TOTAL, ProbabilityModel};
use crate::ModelError;

/// Bits of the bucket table that accelerates [`ProbabilityModel::symbol_at`].
const MAX_LOOKUP_BITS: u32 = 16;

/// A static categorical distribution given by integer frequencies.
///
/// Build it from exact frequencies, from real weights (quantised to a
/// power-of-two total), or from observed samples (every symbol of the alphabet
/// keeps a nonzero probability, so unseen symbols remain codable).
///
/// Decoding looks a symbol up through a table of up to `2^16` buckets over
/// the cumulative frequencies, followed by a short binary search inside the
/// bucket; with typical tables that is one or two comparisons.
///
/// ```
/// use sae_arith::{Categorical, ProbabilityModel};
///
/// let model = Categorical::from_weights(&[0.5, 0.25, 0.25], 12)?;
/// assert_eq!(model.total(), 4096);
/// assert_eq!(model.probability(0), 0.5);
/// let counts = Categorical::from_samples([0, 0, 1, 0], 4, 16)?;
/// assert!(counts.probability(3) > 0.0); // unseen, still codable
/// # Ok::<(), sae_arith::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Categorical {
    /// `cdf[s]` is the start of symbol `s`; `cdf[n]` is the total.
    cdf: Vec<u32>,
    /// `buckets[b]` is the symbol containing target `b << bucket_shift`;
    /// one extra entry holds the last symbol.
    buckets: Vec<u32>,
    bucket_shift: u32,
}

impl Categorical {
    /// A model with exactly these frequencies (their sum must be in `1..=MAX_TOTAL`).
    ///
    /// Symbols of frequency zero cannot be encoded.
    pub fn from_frequencies(frequencies: &[u32]) -> Result<Self, ModelError> {
        if frequencies.is_empty() {
            return Err(ModelError::EmptyAlphabet);
        }
        if frequencies.len() > MAX_TOTAL as usize {
            return Err(ModelError::AlphabetTooLarge {
                size: frequencies.len(),
                max: MAX_TOTAL as usize,
            });
        }
        let total: u64 = frequencies.iter().map(|&f| u64::from(f)).sum();
        if total == 0 {
            return Err(ModelError::ZeroTotal);
        }
        if total > u64::from(MAX_TOTAL) {
            return Err(ModelError::TotalTooLarge {
                total,
                max: MAX_TOTAL,
            });
        }
        let mut cdf = Vec::with_capacity(frequencies.len() + 1);
        let mut acc = 0u32;
        cdf.push(0);
        for &f in frequencies {
            acc += f;
            cdf.push(acc);
        }
        Ok(Self::from_cdf(cdf))
    }

    /// Quantises real, non-negative `weights` to frequencies summing to `2^precision`.
    ///
    /// Every symbol of positive weight keeps a frequency of at least one;
    /// symbols of weight zero get frequency zero. The quantisation is
    /// deterministic across platforms.
    pub fn from_weights(weights: &[f64], precision: u32) -> Result<Self, ModelError> {
        Self::quantized(weights, precision, Support::PositiveWeights)
    }

    /// Like [`from_weights`](Self::from_weights), but every symbol, even one
    /// of weight zero, keeps a nonzero frequency.
    pub fn from_weights_full_support(weights: &[f64], precision: u32) -> Result<Self, ModelError> {
        Self::quantized(weights, precision, Support::All)
    }

    /// Fits the model to observed `samples` over `0..alphabet_size`.
    ///
    /// Frequencies follow the counts; every symbol keeps a nonzero frequency.
    pub fn from_samples(
        samples: impl IntoIterator<Item = usize>,
        alphabet_size: usize,
        precision: u32,
    ) -> Result<Self, ModelError> {
        if alphabet_size == 0 {
            return Err(ModelError::EmptyAlphabet);
        }
        if alphabet_size > MAX_TOTAL as usize {
            return Err(ModelError::AlphabetTooLarge {
                size: alphabet_size,
                max: MAX_TOTAL as usize,
            });
        }
        let mut counts = vec![0f64; alphabet_size];
        for sample in samples {
            match counts.get_mut(sample) {
                Some(c) => *c += 1.0,
                None => {
                    return Err(ModelError::SampleOutOfRange {
                        sample,
                        alphabet_size,
                    });
                }
            }
        }
        Self::quantized(&counts, precision, Support::All)
    }

    fn quantized(weights: &[f64], precision: u32, support: Support) -> Result<Self, ModelError> {
        if !(1..=MAX_PRECISION).contains(&precision) {
            return Err(ModelError::PrecisionOutOfRange {
                precision,
                min: 1,
                max: MAX_PRECISION,
            });
        }
        let freqs = quantize_weights(weights, 1 << precision, support)?;
        Self::from_frequencies(&freqs)
    }

    /// Builds the lookup table for a validated cumulative table.
    fn from_cdf(cdf: Vec<u32>) -> Self {
        let n = cdf.len() - 1;
        let total = cdf[n];
        // About four buckets per symbol, but never more buckets than targets.
        let lookup_bits = (ceil_log2(n as u64) + 2).min(MAX_LOOKUP_BITS);
        let bucket_shift = ceil_log2(u64::from(total)).saturating_sub(lookup_bits);
        let n_buckets = ((total - 1) >> bucket_shift) as usize + 1;
        let mut buckets = Vec::with_capacity(n_buckets + 1);
        let mut symbol = 0usize;
        for b in 0..n_buckets {
            let target = (b as u32) << bucket_shift;
            // Largest symbol whose start is <= target: skips zero-width symbols.
            while symbol + 1 < n && cdf[symbol + 1] <= target {
                symbol += 1;
            }
            buckets.push(symbol as u32);
        }
        buckets.push((n - 1) as u32);
        Self {
            cdf,
            buckets,
            bucket_shift,
        }
    }

    /// The frequency of every symbol, in symbol order.
    pub fn frequencies(&self) -> impl ExactSizeIterator<Item = u32> + '_ {
        self.cdf.windows(2).map(|w| w[1] - w[0])
    }
}

impl ProbabilityModel for Categorical {
    #[inline]
    fn alphabet_size(&self) -> usize {
        self.cdf.len() - 1
    }

    #[inline]
    fn total(&self) -> u32 {
        self.cdf[self.cdf.len() - 1]
    }

    #[inline]
    fn interval(&self, symbol: usize) -> Option<Interval> {
        let start = *self.cdf.get(symbol)?;
        let end = *self.cdf.get(symbol + 1)?;
        Some(Interval {
            start,
            width: end - start,
        })
    }

    #[inline]
    fn symbol_at(&self, target: u32) -> (usize, Interval) {
        // Clamped so that an out-of-contract target cannot index past the table.
        let bucket = ((target >> self.bucket_shift) as usize).min(self.buckets.len() - 2);
        let mut lo = self.buckets[bucket] as usize;
        let mut hi = self.buckets[bucket + 1] as usize;
        // Largest symbol in [lo, hi] whose start is <= target.
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if self.cdf[mid] <= target {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let start = self.cdf[lo];
        (
            lo,
            Interval {
                start,
                width: self.cdf[lo + 1] - start,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_symbol_at(model: &Categorical, target: u32) -> usize {
        (0..model.alphabet_size())
            .find(|&s| {
                let iv = model.interval(s).unwrap();
                iv.start <= target && target < iv.start + iv.width
            })
            .unwrap()
    }

    #[test]
    fn lookup_matches_brute_force_with_zero_widths() {
        let model = Categorical::from_frequencies(&[0, 3, 0, 0, 1, 7, 0, 2, 0]).unwrap();
        for t in 0..model.total() {
            let (s, iv) = model.symbol_at(t);
            assert_eq!(s, brute_symbol_at(&model, t), "target {t}");
            assert!(iv.start <= t && t < iv.start + iv.width);
        }
    }

    #[test]
    fn lookup_on_a_large_skewed_table() {
        let weights: Vec<f64> = (0..5000).map(|i| (-(i as f64) / 50.0).exp()).collect();
        let model = Categorical::from_weights_full_support(&weights, 20).unwrap();
        for t in (0..model.total()).step_by(97) {
            assert_eq!(model.symbol_at(t).0, brute_symbol_at(&model, t));
        }
    }

    #[test]
    fn constructor_errors() {
        assert_eq!(Categorical::from_frequencies(&[]), Err(ModelError::EmptyAlphabet));
        assert_eq!(Categorical::from_frequencies(&[0, 0]), Err(ModelError::ZeroTotal));
        assert!(matches!(
            Categorical::from_frequencies(&[MAX_TOTAL, 1]),
            Err(ModelError::TotalTooLarge { .. })
        ));
        assert!(matches!(
            Categorical::from_weights(&[1.0], 25),
            Err(ModelError::PrecisionOutOfRange { precision: 25, .. })
        ));
        assert!(matches!(
            Categorical::from_samples([0, 5], 3, 12),
            Err(ModelError::SampleOutOfRange {
                sample: 5,
                alphabet_size: 3
            })
        ));
    }

    #[test]
    fn samples_keep_full_support() {
        let model = Categorical::from_samples([1, 1, 1, 2], 4, 10).unwrap();
        assert!(model.frequencies().all(|f| f > 0));
        assert_eq!(model.frequencies().sum::<u32>(), 1024);
        let f: Vec<u32> = model.frequencies().collect();
        assert!(f[1] > f[2] && f[2] > f[0]);
    }
}
