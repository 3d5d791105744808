//! `sae-codec`: compression of scientific data with sparse overcomplete autoencoders.
//!
//! This is the facade crate: one dependency that brings the whole codec.
//! Today it re-exports the entropy coder, the container format and the
//! autoencoder; the SAS data sources and the end-to-end `Codec` join as they land.
//!
//! * [`sae_arith`]: the standalone arithmetic (range) coder and its probability models.
//! * [`sae_container`]: the versioned, checksummed file format for sparse latents.
//! * [`sae_model`]: the sparse overcomplete autoencoder in candle, its training and inference.
//!
//! ```
//! use sae_codec::sae_arith::{QuantizedGaussian, RangeDecoder, RangeEncoder};
//!
//! let model = QuantizedGaussian::reference(8192)?;
//! let mut encoder = RangeEncoder::new();
//! encoder.encode_all([4, 0, 31], &model)?;
//! let bytes = encoder.finish();
//! let mut decoder = RangeDecoder::new(&bytes)?;
//! assert_eq!(decoder.decode_many(3, &model)?, [4, 0, 31]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub use sae_arith;
pub use sae_container;
pub use sae_model;

/// The README's examples, compiled and run as doctests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
