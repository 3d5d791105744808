//! The sae-codec container: sparse latents on disk and on the wire.
//!
//! A container holds a self-describing header (record shape, latent length,
//! how indices and values are coded, transforms, the model fingerprint and
//! user metadata), then one checksummed record per compressed item, then a
//! footer index for random access. The byte layout is specified in
//! `docs/format.md`, written so that a decoder can be implemented from it alone.
//!
//! * [`ContainerWriter`] writes into any [`std::io::Write`].
//! * [`ContainerReader`] gives random access (`Read + Seek`), and recovers
//!   files whose writer died before [`finish`](ContainerWriter::finish).
//! * [`StreamReader`] reads in order from a pipe.
//! * Everything read from untrusted bytes is checked: errors are typed
//!   ([`ContainerError`]), never panics, no allocation beyond the input's size.
//!
//! This crate depends on `sae-arith` for entropy coding and knows nothing of
//! neural networks.
//!
//! # Example
//!
//! ```
//! use std::io::Cursor;
//! use sae_container::{
//!     ContainerReader, ContainerWriter, ElementType, Header, SparseLatent, StreamReader, ValueCoding,
//! };
//!
//! let mut header = Header::new(vec![64, 64], ElementType::F32, 8192);
//! header.value_coding = ValueCoding::F32;
//! header.model_name = Some("sas-demo".into());
//!
//! let mut dense = vec![0.0f32; 8192];
//! dense[5] = 0.75;
//! dense[300] = 2.5;
//! let latent = SparseLatent::from_dense(&dense);
//!
//! let mut writer = ContainerWriter::new(Vec::new(), header)?;
//! writer.append(&latent)?;
//! let bytes = writer.finish()?;
//!
//! let mut reader = ContainerReader::open(Cursor::new(&bytes))?;
//! assert_eq!(reader.get(0)?.latent.to_dense(), dense);
//! assert_eq!(reader.header().model_name.as_deref(), Some("sas-demo"));
//!
//! let streamed: Vec<_> = StreamReader::new(&bytes[..])?.collect::<Result<_, _>>()?;
//! assert_eq!(streamed[0].latent, latent);
//! # Ok::<(), sae_container::ContainerError>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod framing;
mod header;
mod latent;
mod reader;
mod record;
mod wire;
mod writer;

pub use error::{ContainerError, Result, Section};
pub use framing::{END_MAGIC, MAGIC, MAX_RECORD_LEN, VERSION_MAJOR, VERSION_MINOR};
pub use header::{
    ElementType, Fingerprint, HashAlgorithm, Header, IndexCoding, MAX_LATENT_LEN, Transform, ValueCoding,
    ValueModel,
};
pub use latent::SparseLatent;
pub use reader::{ContainerReader, IndexStatus, SizeReport, StreamReader};
pub use record::{Choice, Extra, Record, RecordSizes};
pub use writer::ContainerWriter;

/// The README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
