//! An adaptive yes/no decision: the probability follows the bits it codes.

use super::{AdaptiveModel, Binary};

/// One binary decision whose probability learns from the bits coded under it.
///
/// The probability of a one is kept in 16 bits and moves a share of the way
/// towards each coded bit: half the way after the first, then a quarter, an
/// eighth …, down to `1/2^MAX_SHIFT` (about the running mean over the first
/// bits, then an exponential average over the last ~`2^MAX_SHIFT`), so a
/// context learns in a few dozen decisions and then tracks drift. Integer
/// updates only: encoder and decoder agree bit for bit everywhere. Both bits
/// always keep a probability of at least `MIN_ONES / 2^16`.
///
/// Many of them, indexed by a context, make a context-modelling coder in
/// the manner of CABAC or LZMA: each costs four bytes.
///
/// ```
/// use sae_arith::{AdaptiveBit, RangeDecoder, RangeEncoder};
///
/// let bits = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
/// let mut model = AdaptiveBit::new();
/// let mut encoder = RangeEncoder::new();
/// for &bit in &bits {
///     encoder.encode_adaptive(bit, &mut model)?;
/// }
/// let bytes = encoder.finish();
///
/// let mut model = AdaptiveBit::new();
/// let mut decoder = RangeDecoder::new(&bytes)?;
/// for &bit in &bits {
///     assert_eq!(decoder.decode_adaptive(&mut model)?, bit);
/// }
/// assert!(model.probability_of_one() < 0.2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AdaptiveBit {
    /// Frequency of a one out of `2^PRECISION`.
    ones: u16,
    /// Bits coded so far, saturating at `MAX_SHIFT`.
    seen: u8,
}

impl Default for AdaptiveBit {
    fn default() -> Self {
        Self::new()
    }
}

impl AdaptiveBit {
    /// Precision of the probability: totals of `2^16`.
    pub const PRECISION: u32 = 16;
    /// The slowest rate: after enough bits each moves the probability by `1/2^MAX_SHIFT`.
    pub const MAX_SHIFT: u8 = 5;
    /// Smallest frequency either bit keeps, out of `2^16`.
    pub const MIN_ONES: u16 = 24;

    /// Even odds, nothing learnt yet.
    pub const fn new() -> Self {
        Self {
            ones: 1 << (Self::PRECISION - 1),
            seen: 0,
        }
    }

    /// The frequency of a one, out of `2^PRECISION`.
    pub fn ones(&self) -> u16 {
        self.ones
    }

    /// The current probability of a one.
    pub fn probability_of_one(&self) -> f64 {
        f64::from(self.ones) / f64::from(1u32 << Self::PRECISION)
    }
}

impl AdaptiveModel for AdaptiveBit {
    #[inline]
    fn current(&self) -> impl super::ProbabilityModel + '_ {
        Binary::from_parts(u32::from(self.ones), 1 << Self::PRECISION)
    }

    #[inline]
    fn update(&mut self, symbol: usize) {
        let shift = (self.seen + 1).min(Self::MAX_SHIFT);
        self.seen = self.seen.saturating_add(1).min(Self::MAX_SHIFT);
        let ones = i32::from(self.ones);
        let target = match symbol {
            0 => 0,
            1 => 1 << Self::PRECISION,
            _ => return,
        };
        let moved = ones + ((target - ones) >> shift);
        let (lo, hi) = (
            i32::from(Self::MIN_ONES),
            (1 << Self::PRECISION) - i32::from(Self::MIN_ONES),
        );
        self.ones = moved.clamp(lo, hi) as u16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ProbabilityModel, RangeDecoder, RangeEncoder};
    use proptest::prelude::*;

    #[test]
    fn it_learns_and_keeps_both_bits_codable() {
        let mut m = AdaptiveBit::new();
        for _ in 0..1000 {
            m.update(1);
        }
        let p = m.probability_of_one();
        assert!(p > 0.99 && p < 1.0, "{p}");
        assert!(m.current().probability(0) > 0.0);
        for _ in 0..1000 {
            m.update(0);
        }
        assert!(m.probability_of_one() < 0.01);
        assert!(m.current().probability(1) > 0.0);
        // The first bit moves it half way.
        let mut m = AdaptiveBit::new();
        m.update(1);
        assert_eq!(m.probability_of_one(), 0.75);
        // Symbols outside the alphabet change nothing.
        let before = m;
        m.update(2);
        assert_eq!(m.ones, before.ones);
    }

    #[test]
    fn the_bit_paths_write_and_read_what_the_generic_ones_do() {
        let bits: Vec<bool> = (0..5000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) % 9 == 0 || i % 97 < 3)
            .collect();
        let (mut generic, mut fast) = (RangeEncoder::new(), RangeEncoder::new());
        let (mut a, mut b) = ([AdaptiveBit::new(); 3], [AdaptiveBit::new(); 3]);
        for (i, &bit) in bits.iter().enumerate() {
            generic.encode_adaptive(usize::from(bit), &mut a[i % 3]).unwrap();
            fast.encode_bit(bit, &mut b[i % 3]);
        }
        let bytes = generic.finish();
        assert_eq!(fast.finish(), bytes);
        let (mut generic, mut fast) = (
            RangeDecoder::new(&bytes).unwrap(),
            RangeDecoder::new(&bytes).unwrap(),
        );
        let (mut a, mut b) = ([AdaptiveBit::new(); 3], [AdaptiveBit::new(); 3]);
        for (i, &bit) in bits.iter().enumerate() {
            assert_eq!(generic.decode_adaptive(&mut a[i % 3]).unwrap(), usize::from(bit));
            assert_eq!(fast.decode_bit(&mut b[i % 3]).unwrap(), bit);
        }
        assert_eq!(fast.finish().unwrap(), bytes.len());
        // On bytes no encoder wrote, both fail or both agree.
        let junk = [0xffu8; 16];
        let (mut generic, mut fast) = (
            RangeDecoder::new(&junk).unwrap(),
            RangeDecoder::new(&junk).unwrap(),
        );
        let (mut a, mut b) = (AdaptiveBit::new(), AdaptiveBit::new());
        for _ in 0..64 {
            match (generic.decode_adaptive(&mut a), fast.decode_bit(&mut b)) {
                (Ok(x), Ok(y)) => assert_eq!(x, usize::from(y)),
                (Err(_), Err(_)) => break,
                other => panic!("the paths disagree: {other:?}"),
            }
        }
    }

    proptest! {
        #![proptest_config(proptest::test_runner::Config { rng_seed: proptest::test_runner::RngSeed::Fixed(0x5ae_0007), ..Default::default() })]

        #[test]
        fn bits_in_contexts_round_trip(bits in proptest::collection::vec((0usize..2, 0usize..4), 0..600)) {
            let mut models = [AdaptiveBit::new(); 4];
            let mut encoder = RangeEncoder::new();
            for &(bit, ctx) in &bits {
                encoder.encode_adaptive(bit, &mut models[ctx]).unwrap();
            }
            let bytes = encoder.finish();
            let mut models = [AdaptiveBit::new(); 4];
            let mut decoder = RangeDecoder::new(&bytes).unwrap();
            for &(bit, ctx) in &bits {
                prop_assert_eq!(decoder.decode_adaptive(&mut models[ctx]).unwrap(), bit);
            }
            prop_assert_eq!(decoder.finish().unwrap(), bytes.len());
        }
    }
}
