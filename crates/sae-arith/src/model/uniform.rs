//! The uniform distribution over a range of symbols.

use super::{Interval, MAX_TOTAL, ProbabilityModel};
use crate::ModelError;

/// Every symbol of `0..size` equally likely: `log2(size)` bits each.
///
/// ```
/// use sae_arith::{ProbabilityModel, Uniform};
///
/// let model = Uniform::new(10)?;
/// assert_eq!(model.probability(7), 0.1);
/// # Ok::<(), sae_arith::ModelError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uniform {
    size: u32,
}

impl Uniform {
    /// A uniform model over `0..size`, with `size` in `1..=MAX_TOTAL`.
    pub fn new(size: usize) -> Result<Self, ModelError> {
        match u32::try_from(size) {
            Ok(0) => Err(ModelError::EmptyAlphabet),
            Ok(s) if s <= MAX_TOTAL => Ok(Self { size: s }),
            _ => Err(ModelError::AlphabetTooLarge {
                size,
                max: MAX_TOTAL as usize,
            }),
        }
    }
}

impl ProbabilityModel for Uniform {
    #[inline]
    fn alphabet_size(&self) -> usize {
        self.size as usize
    }

    #[inline]
    fn total(&self) -> u32 {
        self.size
    }

    #[inline]
    fn interval(&self, symbol: usize) -> Option<Interval> {
        (symbol < self.size as usize).then_some(Interval {
            start: symbol as u32,
            width: 1,
        })
    }

    #[inline]
    fn symbol_at(&self, target: u32) -> (usize, Interval) {
        let symbol = target.min(self.size - 1);
        (
            symbol as usize,
            Interval {
                start: symbol,
                width: 1,
            },
        )
    }
}
