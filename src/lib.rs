//! `sae-codec`: compression of scientific data with sparse overcomplete autoencoders.
//!
//! This is the facade crate: one dependency that brings the whole codec.
//! [`Codec`] trains a sparse autoencoder on your data and compresses
//! records into the container format; [`Metrics`] reports ratios and errors
//! in the original units. The member crates are re-exported:
//!
//! * [`sae_arith`]: the standalone arithmetic (range) coder and its probability models.
//! * [`sae_container`]: the versioned, checksummed file format for sparse latents.
//! * [`sae_model`]: the sparse overcomplete autoencoder in candle, its training and inference.
//! * [`sae_io`] (also as [`io`]): `.npy`, raw f32 and IDX arrays in and out.
//! * [`sae_sas`] (feature `sas`, on by default): small-angle scattering images as sasmodels computes them.
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

mod codec;
mod coding;
mod device;
mod error;
pub mod guaranteed;
pub mod memory;
mod metrics;
mod preset;
mod recipe;
pub mod search;
#[cfg(feature = "sas")]
mod stream;
mod summary;
pub mod transform;

pub use codec::{Codec, CodecConfig, CodecReader, Partial, keys};
pub use coding::{IndexFormat, ValueFormat};
pub use device::{ComputeDevice, set_tf32, tf32};
pub use error::{CodecError, ModelFileError, Overflow, RecordDefect, Result};
pub use guaranteed::Choices;
pub use metrics::{Metrics, Summary, radial_profile};
pub use preset::Preset;
pub use recipe::{Overrides, Recipe, SimulationRecipe};
pub use sae_bounded::{BoundReport, ErrorBound, Violation};
#[cfg(feature = "sas")]
pub use stream::SimulatedImages;
pub use summary::{ByteSummary, ContainerSummary};
pub use transform::Transforms;

// What a user needs to configure, train and inspect, in one namespace.
pub use sae_container::{
    ContainerError, ElementType, Header, IndexCoding, IndexStatus, SizeReport, SparseLatent, Transform,
    ValueCoding,
};
pub use sae_model::{
    DecoderTuning, InputView, LambdaControl, LrSchedule, ModelError, Progress, Refinement, SampleSource,
    Selector, StepPath, TrainConfig, TrainReport, TuneReport, TuneRound,
};

pub use sae_arith;
pub use sae_bounded;
pub use sae_container;
pub use sae_io;
pub use sae_model;
#[cfg(feature = "sas")]
pub use sae_sas;

/// Arrays in and out: `.npy`, raw f32, MNIST IDX (the `sae-io` crate).
pub mod io {
    pub use sae_io::{
        Array, Idx, IoError, NpyWriter, parse_idx, read_idx, read_npy, read_raw_f32, write_npy, write_raw_f32,
    };
}

/// The README's examples, compiled and run as doctests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
