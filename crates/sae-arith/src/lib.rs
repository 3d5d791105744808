//! A fast, checked arithmetic (range) coder with pluggable probability models.
//!
//! `sae-arith` turns a sequence of symbols into close to `Σ -log2 p(s)` bits
//! under a [`ProbabilityModel`] of your choice, and back. It has no dependency
//! beyond `thiserror` and knows nothing of the autoencoders it serves in
//! `sae-codec`: use it wherever you need entropy coding.
//!
//! * [`RangeEncoder`] / [`StreamEncoder`] write bytes into a `Vec<u8>` or any
//!   [`std::io::Write`]; [`RangeDecoder`] reads from a `&[u8]`.
//! * Models: [`Categorical`] (static table, from frequencies, weights or
//!   samples), [`QuantizedGaussian`] (the reference gap model, σ² = 1000,
//!   c₀ = 1e-3, with a terminator), [`Adaptive`] (counts learned while coding)
//!   [`AdaptiveBit`] (one yes/no decision that learns, with the fast
//!   [`RangeEncoder::encode_bit`] / [`RangeDecoder::decode_bit`]) and [`Uniform`]. Implement [`ProbabilityModel`] for your own.
//! * Integer arithmetic throughout: encoder and decoder agree bit for bit on
//!   every platform, and models rebuilt from parameters are bit-identical.
//! * Messages are self-delimiting: they can be stored back to back, and each
//!   decoder reports where its message ended. The end check is exact: the
//!   bytes that end a message must be the tail the encoder writes for the
//!   symbols decoded, so a message cut short is refused unless what is left
//!   is itself the whole encoding of as many other symbols — which no end
//!   check can tell; frame messages with a length or checksum (as
//!   `sae-container` does) to catch every truncation
//!   ([`RangeDecoder::finish`]).
//! * Decoding untrusted bytes never panics and never reads past the slice:
//!   it returns symbols or a typed [`DecodeError`].
//!
//! # Example
//!
//! Code the gaps between the nonzero entries of a sparse vector, closed by a
//! terminator, under the reference Gaussian gap model:
//!
//! ```
//! use sae_arith::{QuantizedGaussian, RangeDecoder, RangeEncoder};
//!
//! let model = QuantizedGaussian::reference(8192)?;
//! let gaps = [3, 0, 17, 120, 5];
//!
//! let mut encoder = RangeEncoder::new();
//! encoder.encode_all(gaps, &model)?;
//! encoder.encode(model.terminator(), &model)?;
//! let bytes = encoder.finish();
//! assert_eq!(bytes, [0x02, 0x19, 0x88, 0x9a, 0xa7, 0x56, 0x4d, 0xd4]);
//!
//! let mut decoder = RangeDecoder::new(&bytes)?;
//! let mut decoded = Vec::new();
//! loop {
//!     let symbol = decoder.decode(&model)?;
//!     if symbol == model.terminator() {
//!         break;
//!     }
//!     decoded.push(symbol);
//! }
//! assert_eq!(decoded, gaps);
//! assert_eq!(decoder.finish()?, bytes.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Format
//!
//! A message is a sequence of big-endian 32-bit words followed by a tail of
//! 1 to 8 bytes; see [`RangeEncoder`] for the carry handling and
//! [`RangeDecoder::finish`] for how the end of a message is found.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod coder;
mod decoder;
mod encoder;
mod error;
pub mod model;

pub use decoder::RangeDecoder;
pub use encoder::{RangeEncoder, StreamEncoder};
pub use error::{DecodeError, EncodeError, ModelError};
pub use model::{
    Adaptive, AdaptiveBit, AdaptiveModel, Binary, Categorical, Current, Interval, MAX_PRECISION, MAX_TOTAL,
    ProbabilityModel, QuantizedGaussian, Uniform, ideal_code_length,
};

/// The README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
