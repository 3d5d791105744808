//! An adaptive categorical model that learns symbol frequencies as it codes.

use std::collections::HashMap;

use super::{AdaptiveModel, Interval, MAX_TOTAL, ProbabilityModel};
use crate::ModelError;

/// Frequencies that follow the data: each coded symbol gains `increment`.
///
/// Counts live in a Fenwick tree, so interval queries, symbol lookup and
/// updates cost `O(log n)`. When the total would exceed `max_total`, all
/// counts are halved (each staying at least one), which bounds the total and
/// lets the model track drifting statistics.
///
/// Only the symbols coded so far take memory or time: a fresh model over a
/// million symbols costs nothing to build or clone, so a decoder's work is
/// bounded by the symbols it reads, not by the alphabet a header declares.
///
/// Encoder and decoder must start from identically configured models and see
/// the same symbols; drive them with `encode_adaptive` / `decode_adaptive`.
///
/// It is an [`AdaptiveModel`], not a [`ProbabilityModel`]: coding under it
/// with the static `encode`/`decode` (which would skip the update and
/// desynchronise the decoder) does not compile.
///
/// ```
/// use sae_arith::{Adaptive, AdaptiveModel, ProbabilityModel};
///
/// let mut model = Adaptive::new(4)?;
/// let before = model.current().probability(2);
/// model.update(2);
/// assert!(model.current().probability(2) > before);
/// # Ok::<(), sae_arith::ModelError>(())
/// ```
///
/// ```compile_fail
/// use sae_arith::{Adaptive, RangeEncoder};
///
/// let model = Adaptive::new(4).unwrap();
/// RangeEncoder::new().encode(2, &model).unwrap(); // an adaptive model is not static
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adaptive {
    /// Alphabet size `n`; every count is 1 plus its entry in `extra`.
    n: usize,
    /// Counts above 1, for the symbols coded since the start (sparse).
    extra: HashMap<usize, u32>,
    /// 1-based Fenwick tree over `extra` (sparse: absent nodes hold 0).
    tree: HashMap<usize, u32>,
    total: u32,
    increment: u32,
    max_total: u32,
}

impl Adaptive {
    /// Default count added per coded symbol.
    pub const DEFAULT_INCREMENT: u32 = 32;
    /// Default bound on the total before counts are halved.
    pub const DEFAULT_MAX_TOTAL: u32 = 1 << 16;

    /// A model over `0..alphabet_size`, all symbols equally likely at first.
    ///
    /// Uses [`DEFAULT_INCREMENT`](Self::DEFAULT_INCREMENT) and a bound of
    /// [`DEFAULT_MAX_TOTAL`](Self::DEFAULT_MAX_TOTAL), raised for large
    /// alphabets to leave room for adaptation.
    pub fn new(alphabet_size: usize) -> Result<Self, ModelError> {
        let room = (alphabet_size as u64 * 8).next_power_of_two();
        let max_total = room.clamp(u64::from(Self::DEFAULT_MAX_TOTAL), u64::from(MAX_TOTAL)) as u32;
        Self::with_params(alphabet_size, Self::DEFAULT_INCREMENT, max_total)
    }

    /// A model with an explicit `increment >= 1` and `max_total`, where
    /// `2 * (alphabet_size + increment) <= max_total <= MAX_TOTAL`.
    pub fn with_params(alphabet_size: usize, increment: u32, max_total: u32) -> Result<Self, ModelError> {
        if alphabet_size == 0 {
            return Err(ModelError::EmptyAlphabet);
        }
        if max_total > MAX_TOTAL {
            return Err(ModelError::InvalidParameter {
                name: "max_total",
                value: f64::from(max_total),
                expected: "at most 2^24",
            });
        }
        if increment == 0 {
            return Err(ModelError::InvalidParameter {
                name: "increment",
                value: 0.0,
                expected: "at least 1",
            });
        }
        // Halving leaves a total of up to (max_total + n) / 2; it must still have
        // room for one increment, or the model would rescale on every symbol.
        let needed = 2 * (alphabet_size as u64 + u64::from(increment));
        if needed > u64::from(max_total) {
            return Err(ModelError::AlphabetTooLarge {
                size: alphabet_size,
                max: (u64::from(max_total) / 2).saturating_sub(u64::from(increment)) as usize,
            });
        }
        Ok(Self {
            n: alphabet_size,
            extra: HashMap::new(),
            tree: HashMap::new(),
            total: alphabet_size as u32,
            increment,
            max_total,
        })
    }

    /// Adds `amount` to the extra count of `symbol` and its tree nodes.
    fn add(&mut self, symbol: usize, amount: u32) {
        *self.extra.entry(symbol).or_insert(0) += amount;
        let mut i = symbol + 1;
        while i <= self.n {
            *self.tree.entry(i).or_insert(0) += amount;
            i += i & i.wrapping_neg();
        }
    }

    /// Tree node `i` (1-based): the sum of the counts of symbols
    /// `i − lowbit(i) .. i`, each 1 plus its extra.
    fn node(&self, i: usize) -> u32 {
        (i & i.wrapping_neg()) as u32 + self.tree.get(&i).copied().unwrap_or(0)
    }

    /// Sum of the counts of symbols `0..symbol`.
    fn prefix_sum(&self, symbol: usize) -> u32 {
        let mut i = symbol;
        let mut sum = 0;
        while i > 0 {
            sum += self.node(i);
            i &= i - 1;
        }
        sum
    }

    fn count_of(&self, symbol: usize) -> u32 {
        1 + self.extra.get(&symbol).copied().unwrap_or(0)
    }

    /// Every count becomes `ceil(count / 2)`: an extra `e` becomes `floor(e / 2)`,
    /// so untouched symbols (count 1) stay as they are and cost nothing.
    fn rescale(&mut self) {
        let halved: Vec<(usize, u32)> = self
            .extra
            .iter()
            .map(|(&s, &e)| (s, e / 2))
            .filter(|&(_, e)| e > 0)
            .collect();
        self.extra.clear();
        self.tree.clear();
        self.total = self.n as u32;
        for (symbol, e) in halved {
            self.add(symbol, e);
            self.total += e;
        }
    }

    /// The current count of `symbol` (`None` outside the alphabet).
    pub fn count(&self, symbol: usize) -> Option<u32> {
        (symbol < self.n).then(|| self.count_of(symbol))
    }
}

/// An [`Adaptive`] model's distribution as it stands, to code one symbol under.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a>(&'a Adaptive);

impl ProbabilityModel for Current<'_> {
    fn alphabet_size(&self) -> usize {
        self.0.n
    }

    fn total(&self) -> u32 {
        self.0.total
    }

    fn interval(&self, symbol: usize) -> Option<Interval> {
        let width = self.0.count(symbol)?;
        Some(Interval {
            start: self.0.prefix_sum(symbol),
            width,
        })
    }

    fn symbol_at(&self, target: u32) -> (usize, Interval) {
        let m = self.0;
        let n = m.n;
        let mut pos = 0;
        let mut rest = target;
        let mut step = 1 << (usize::BITS - 1 - n.leading_zeros());
        while step > 0 {
            let next = pos + step;
            if next <= n {
                let node = m.node(next);
                if node <= rest {
                    pos = next;
                    rest -= node;
                }
            }
            step >>= 1;
        }
        // `pos` symbols lie entirely below the target; clamp for out-of-contract targets.
        let symbol = pos.min(n - 1);
        let start = if symbol == pos {
            target - rest
        } else {
            m.prefix_sum(symbol)
        };
        (
            symbol,
            Interval {
                start,
                width: m.count_of(symbol),
            },
        )
    }
}

impl AdaptiveModel for Adaptive {
    fn current(&self) -> impl ProbabilityModel + '_ {
        Current(self)
    }

    fn update(&mut self, symbol: usize) {
        if symbol >= self.n {
            return;
        }
        self.add(symbol, self.increment);
        self.total += self.increment;
        if self.total > self.max_total - self.increment {
            self.rescale();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_tile_the_total_after_updates() {
        let mut m = Adaptive::with_params(7, 5, 64).unwrap();
        for s in [3, 3, 3, 0, 6, 3, 3, 1, 3, 3, 3, 3, 3, 3] {
            m.update(s);
            let mut next = 0;
            for sym in 0..7 {
                let iv = m.current().interval(sym).unwrap();
                assert_eq!(iv.start, next);
                assert!(iv.width >= 1);
                next += iv.width;
                for t in iv.start..iv.start + iv.width {
                    assert_eq!(m.current().symbol_at(t), (sym, iv));
                }
            }
            assert_eq!(next, m.current().total());
            assert!(m.current().total() <= 64);
        }
    }

    /// The sparse model against a dense reference of the rule in `docs/format.md` §6.2.
    #[test]
    fn matches_dense_counts_through_rescales() {
        let mut m = Adaptive::with_params(37, 9, 256).unwrap();
        let mut dense = [1u32; 37];
        for k in 0..2000usize {
            let s = (k * k + 3 * k) % 37 % (1 + k % 37);
            m.update(s);
            dense[s] += 9;
            if dense.iter().sum::<u32>() > 256 - 9 {
                dense.iter_mut().for_each(|c| *c = c.div_ceil(2));
            }
            let mut start = 0;
            for (sym, &c) in dense.iter().enumerate() {
                assert_eq!(
                    m.current().interval(sym),
                    Some(Interval { start, width: c }),
                    "step {k}"
                );
                start += c;
            }
            assert_eq!(m.current().total(), start);
        }
    }

    #[test]
    fn a_huge_alphabet_costs_nothing_until_used() {
        let m = Adaptive::new(4_000_000).unwrap();
        let copies: Vec<Adaptive> = (0..10_000).map(|_| m.clone()).collect();
        assert_eq!(copies.len(), 10_000);
        assert_eq!(m.current().symbol_at(3_999_999).0, 3_999_999);
    }

    #[test]
    fn parameter_errors() {
        assert_eq!(Adaptive::new(0), Err(ModelError::EmptyAlphabet));
        assert!(matches!(
            Adaptive::with_params(10, 0, 1000),
            Err(ModelError::InvalidParameter {
                name: "increment",
                ..
            })
        ));
        assert!(matches!(
            Adaptive::with_params(100, 32, 200),
            Err(ModelError::AlphabetTooLarge { .. })
        ));
        assert!(Adaptive::new(70_000).is_ok());
    }
}
