//! Typed errors: what the caller gave ([`EncodeError`]) and what the bytes hold ([`DecodeError`]).

use thiserror::Error;

/// Why a record could not be coded: the caller's data, with one exception
/// ([`Unmet`](Self::Unmet), this library's fault).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The record is not a whole number of rows of `cols` values (or `cols` is 0).
    #[error("a record of {len} values is not a whole number of rows of {cols}")]
    Shape {
        /// Values in the record.
        len: usize,
        /// Values per row.
        cols: usize,
    },
    /// The base (prediction) does not have one value per value of the record.
    #[error("the base has {found} values, the record {expected}")]
    BaseLength {
        /// Values in the record.
        expected: usize,
        /// Values in the base.
        found: usize,
    },
    /// A value of the record is NaN or infinite: no bound can be promised for it.
    #[error("value {index} of the record is {value}, not a finite number")]
    NonFinite {
        /// Its position.
        index: usize,
        /// The value.
        value: f32,
    },
    /// A value of the base is NaN or infinite.
    #[error("value {index} of the base is {value}, not a finite number")]
    BaseNonFinite {
        /// Its position.
        index: usize,
        /// The value.
        value: f32,
    },
    /// Originals and reconstructions given to [`ErrorBound::check`](crate::ErrorBound::check)
    /// are not the same whole number of records.
    #[error("{original} and {reconstructed} values are not the same whole number of records of {record_len}")]
    Records {
        /// Values in the originals.
        original: usize,
        /// Values in the reconstructions.
        reconstructed: usize,
        /// Values per record.
        record_len: usize,
    },
    /// The range coder refused a symbol (this library's fault).
    #[error("range coder: {0}")]
    Arith(#[from] sae_arith::EncodeError),
    /// Even the lossless coding did not decode to the record (this library's fault: please report it).
    #[error("the coded record does not meet {bound} after decoding (error {achieved:e})")]
    Unmet {
        /// The bound, as text.
        bound: String,
        /// The error of the decoded record.
        achieved: f64,
    },
}

/// Why bytes do not decode to a record: they are damaged, or not a bounded record.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The caller's record shape is not a whole number of rows of `cols` (or `cols` is 0).
    #[error("a record of {len} values is not a whole number of rows of {cols}")]
    Shape {
        /// Values asked for.
        len: usize,
        /// Values per row.
        cols: usize,
    },
    /// The caller's base does not have one value per value of the record.
    #[error("the base has {found} values, the record {expected}")]
    BaseLength {
        /// Values in the record.
        expected: usize,
        /// Values in the base.
        found: usize,
    },
    /// Fewer bytes than the record's fixed head.
    #[error("a bounded record needs at least {needed} bytes, found {found}")]
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes found.
        found: usize,
    },
    /// The kind byte names no coding this version knows.
    #[error("unknown bounded-record kind {kind:#04x}")]
    Kind {
        /// The byte.
        kind: u8,
    },
    /// The linear step is not a finite positive normal f32.
    #[error("the step {step:e} is not a finite positive number")]
    Step {
        /// The step as read.
        step: f32,
    },
    /// The half-width of the bit-pattern quantiser is larger than any encoder writes.
    #[error("the half-width {half} is above the largest, {max}")]
    HalfWidth {
        /// As read.
        half: u32,
        /// The largest allowed.
        max: u32,
    },
    /// The range-coded part is damaged.
    #[error("range decoder: {0}")]
    Arith(#[from] sae_arith::DecodeError),
    /// A quantised value left the range an encoder can produce.
    #[error("the quantised value at {index} is out of range")]
    Overflow {
        /// Its position.
        index: usize,
    },
    /// More exact values than the record has values, or one past its end.
    #[error("exact value at position {position} of a record of {len}")]
    Exact {
        /// The position read (or the count, when there are too many).
        position: u64,
        /// Values in the record.
        len: usize,
    },
    /// A decoded value is not finite: no encoder writes one.
    #[error("decoded value {index} is not finite")]
    NonFinite {
        /// Its position.
        index: usize,
    },
    /// Bytes follow the end of the range-coded message.
    #[error("the message ends after {message} of {payload} bytes")]
    Trailing {
        /// Bytes the message used.
        message: usize,
        /// Bytes given.
        payload: usize,
    },
}
