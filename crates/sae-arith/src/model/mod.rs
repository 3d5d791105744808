//! Probability models: the [`ProbabilityModel`] trait and the models shipped with the crate.
//!
//! A model maps each symbol of a finite alphabet `0..alphabet_size()` to a
//! half-open interval `[start, start + width)` of integer frequencies inside
//! `0..total()`. The coder never sees floating-point probabilities, so encoder
//! and decoder agree bit for bit on every platform.

mod adaptive;
mod binary;
mod bit;
mod categorical;
mod gaussian;
mod quantize;
mod uniform;

pub use adaptive::{Adaptive, Current};
pub use binary::Binary;
pub use bit::AdaptiveBit;
pub use categorical::Categorical;
pub use gaussian::QuantizedGaussian;
pub use uniform::Uniform;

/// Largest total frequency a model may have: `2^24`.
///
/// The coder keeps a 64-bit range of at least `2^32`, so every symbol keeps at
/// least `2^8` distinct code values and rounding costs well under 0.1% of the
/// ideal code length.
pub const MAX_TOTAL: u32 = 1 << MAX_PRECISION;

/// Largest precision (log2 of the total frequency) of the quantised models.
pub const MAX_PRECISION: u32 = 24;

/// The integer frequency interval `[start, start + width)` of one symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interval {
    /// Cumulative frequency of all symbols before this one.
    pub start: u32,
    /// Frequency of this symbol; zero means it cannot be coded.
    pub width: u32,
}

/// An entropy model over the alphabet `0..alphabet_size()`.
///
/// Implement it to code symbols under your own distribution. The contract:
/// * `total()` is in `1..=MAX_TOTAL` and equals the sum of all widths;
/// * the intervals of the symbols are disjoint and, in symbol order, tile `0..total()`;
/// * `symbol_at(t)` returns the symbol whose interval contains `t` (for `t < total()`),
///   which therefore has a nonzero width.
///
/// The coder checks what it cheaply can (an inconsistent model yields an error,
/// never a panic or undefined behaviour), but a model that breaks the contract
/// can still make a stream that decodes to other symbols.
///
/// A model whose frequencies change as it codes is an [`AdaptiveModel`]
/// instead: a separate trait, so that it cannot be passed where a static
/// model is expected.
///
/// ```
/// use sae_arith::{Interval, ProbabilityModel};
///
/// /// Symbol 0 has probability 3/4, symbol 1 has 1/4.
/// struct Skewed;
///
/// impl ProbabilityModel for Skewed {
///     fn alphabet_size(&self) -> usize { 2 }
///     fn total(&self) -> u32 { 4 }
///     fn interval(&self, symbol: usize) -> Option<Interval> {
///         match symbol {
///             0 => Some(Interval { start: 0, width: 3 }),
///             1 => Some(Interval { start: 3, width: 1 }),
///             _ => None,
///         }
///     }
///     fn symbol_at(&self, target: u32) -> (usize, Interval) {
///         let symbol = usize::from(target >= 3);
///         (symbol, self.interval(symbol).unwrap())
///     }
/// }
///
/// assert_eq!(Skewed.probability(0), 0.75);
/// assert_eq!(Skewed.code_length_bits(1), 2.0);
/// ```
pub trait ProbabilityModel {
    /// Number of symbols; the alphabet is `0..alphabet_size()`.
    fn alphabet_size(&self) -> usize;

    /// Sum of all frequencies, in `1..=MAX_TOTAL`.
    fn total(&self) -> u32;

    /// The interval of `symbol`, or `None` when it is outside the alphabet.
    fn interval(&self, symbol: usize) -> Option<Interval>;

    /// The symbol whose interval contains `target`, with that interval.
    ///
    /// Only called with `target < total()`.
    fn symbol_at(&self, target: u32) -> (usize, Interval);

    /// The quantised probability of `symbol` (0 outside the alphabet).
    fn probability(&self, symbol: usize) -> f64 {
        self.interval(symbol)
            .map_or(0.0, |iv| f64::from(iv.width) / f64::from(self.total()))
    }

    /// Ideal code length of `symbol` in bits, `-log2 p(symbol)` (infinite if impossible).
    fn code_length_bits(&self, symbol: usize) -> f64 {
        -self.probability(symbol).log2()
    }
}

/// A model that adapts to the symbols it codes: encoder and decoder code each
/// symbol under [`current`](Self::current), then call [`update`](Self::update)
/// with it (`encode_adaptive` / `decode_adaptive` do both).
pub trait AdaptiveModel {
    /// The distribution as it stands, to code the next symbol under.
    fn current(&self) -> impl ProbabilityModel + '_;

    /// Adapts the model after `symbol` was coded (symbols outside the alphabet are ignored).
    fn update(&mut self, symbol: usize);
}

/// Ideal code length in bits of `symbols` under a static `model`, `Σ -log2 p(s)`.
///
/// Compare it with the length of an encoded message to see the coder's overhead.
pub fn ideal_code_length<M: ProbabilityModel + ?Sized>(
    model: &M,
    symbols: impl IntoIterator<Item = usize>,
) -> f64 {
    symbols.into_iter().map(|s| model.code_length_bits(s)).sum()
}
