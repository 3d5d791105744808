//! Typed errors for encoding, decoding and model construction.
//!
//! Every error carries the values that explain it, so that a caller can report
//! *what* went wrong and *where* without guessing.

use thiserror::Error;

/// Why a symbol could not be encoded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The symbol is not in the model's alphabet.
    #[error("symbol {symbol} is outside the model's alphabet of {alphabet_size} symbols")]
    SymbolOutOfRange {
        /// The offending symbol.
        symbol: usize,
        /// Number of symbols the model knows.
        alphabet_size: usize,
    },
    /// The symbol is in the alphabet but the model gives it probability zero.
    #[error("symbol {symbol} has zero probability under the model")]
    ZeroProbability {
        /// The offending symbol.
        symbol: usize,
    },
    /// The model's total frequency is zero or exceeds [`MAX_TOTAL`](crate::MAX_TOTAL).
    #[error("model total frequency {total} is outside 1..={max}", max = crate::MAX_TOTAL)]
    InvalidTotal {
        /// The total the model reported.
        total: u32,
    },
    /// The model returned an interval that does not fit inside its total.
    #[error("model interval [{start}, {start}+{width}) for symbol {symbol} exceeds its total {total}")]
    InvalidInterval {
        /// The symbol being encoded.
        symbol: usize,
        /// Start of the reported interval.
        start: u32,
        /// Width of the reported interval.
        width: u32,
        /// The model's total frequency.
        total: u32,
    },
    /// Writing to the underlying sink failed.
    #[error("writing the compressed stream failed: {0}")]
    Io(std::io::Error),
}

/// Why a compressed stream could not be decoded.
///
/// Decoding arbitrary bytes either yields symbols or one of these errors; it
/// never panics and never reads outside the input slice.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The stream ended before the message did.
    #[error("compressed stream ends early: the message needs byte {needed} but only {available} bytes exist")]
    UnexpectedEnd {
        /// Length the stream would have to have (at least).
        needed: usize,
        /// Length of the input.
        available: usize,
    },
    /// The bytes do not form a valid stream under this model (corrupt data or wrong model).
    #[error(
        "invalid compressed data near byte {position}: the code value lies outside every symbol's interval"
    )]
    InvalidCode {
        /// Byte offset of the coder's read position when the inconsistency was found.
        position: usize,
    },
    /// The model's total frequency is zero or exceeds [`MAX_TOTAL`](crate::MAX_TOTAL).
    #[error("model total frequency {total} is outside 1..={max}", max = crate::MAX_TOTAL)]
    InvalidTotal {
        /// The total the model reported.
        total: u32,
    },
    /// The bytes that end the message are not the tail the encoder writes
    /// for the symbols decoded: the message was cut short or altered (see
    /// [`RangeDecoder::finish`](crate::RangeDecoder::finish)).
    #[error(
        "the compressed message ending at byte {end} does not end as the encoder ends one: truncated or corrupt"
    )]
    NonCanonicalEnd {
        /// Offset just past the message's last byte.
        end: usize,
    },
    /// The model's `symbol_at` returned an interval that does not contain the target.
    #[error(
        "model returned symbol {symbol} with interval [{start}, {start}+{width}) that does not contain target {target}"
    )]
    InconsistentModel {
        /// Target cumulative frequency asked for.
        target: u32,
        /// Symbol the model answered.
        symbol: usize,
        /// Start of its interval.
        start: u32,
        /// Width of its interval.
        width: u32,
    },
}

/// Why a probability model could not be built.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ModelError {
    /// A model needs at least one symbol.
    #[error("the alphabet is empty")]
    EmptyAlphabet,
    /// The alphabet is larger than the model's precision can represent.
    #[error("alphabet of {size} symbols exceeds the maximum of {max} for this model")]
    AlphabetTooLarge {
        /// Requested alphabet size.
        size: usize,
        /// Largest alphabet allowed here.
        max: usize,
    },
    /// A weight or probability is negative, NaN or infinite.
    #[error("weight {value} of symbol {index} is not a finite non-negative number")]
    InvalidWeight {
        /// Index of the offending weight.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// All weights or frequencies are zero.
    #[error("all weights are zero")]
    ZeroTotal,
    /// Integer frequencies sum to more than the coder supports.
    #[error("frequencies sum to {total}, more than the maximum {max}")]
    TotalTooLarge {
        /// Their sum.
        total: u64,
        /// [`MAX_TOTAL`](crate::MAX_TOTAL).
        max: u32,
    },
    /// The requested precision is outside the supported range.
    #[error("precision of {precision} bits is outside {min}..={max}")]
    PrecisionOutOfRange {
        /// Requested precision in bits.
        precision: u32,
        /// Smallest supported precision.
        min: u32,
        /// Largest supported precision.
        max: u32,
    },
    /// A model parameter is out of its domain.
    #[error("parameter `{name}` = {value} is invalid: expected {expected}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Its value.
        value: f64,
        /// What was expected.
        expected: &'static str,
    },
    /// A training sample is not a symbol of the alphabet.
    #[error("sample {sample} is outside the alphabet of {alphabet_size} symbols")]
    SampleOutOfRange {
        /// The offending sample.
        sample: usize,
        /// Alphabet size.
        alphabet_size: usize,
    },
}

// By hand rather than `#[from]`: the message already shows the cause.
impl From<std::io::Error> for EncodeError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}
