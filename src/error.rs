//! The facade's typed errors, one variant per cause, so that a caller can
//! tell whose fault a failure is: their settings or data, the machine, a
//! file, or this library.

use thiserror::Error;

/// Everything that can go wrong when training, compressing or decompressing.
///
/// Data that does not fit (a wrong length, a NaN) is reported by the model
/// layer, the one place that defines those errors:
/// `CodecError::Model(ModelError::Shape { .. })` and
/// `CodecError::Model(ModelError::NonFinite { .. })`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The autoencoder failed, or the data does not fit it.
    #[error(transparent)]
    Model(#[from] sae_model::ModelError),
    /// The container could not be written or read.
    #[error(transparent)]
    Container(#[from] sae_container::ContainerError),
    /// A container was made with another model than this codec's.
    #[error("the container was made with model {found}, this codec's model is {expected}")]
    ModelMismatch {
        /// Fingerprint (hex) of this codec's weights.
        expected: String,
        /// Fingerprint (hex) recorded in the container, or "none".
        found: String,
    },
    /// The caller's setting is out of its domain (the caller's fault).
    #[error("invalid {name}: {reason}")]
    InvalidSetting {
        /// Which setting.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// The compute device asked for cannot be opened (the machine or the build).
    #[error("device {device}: {reason}")]
    Device {
        /// The device, as written (`cuda:0`).
        device: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A model file is not a codec this version can load (the file's fault).
    #[error("model file: {reason}")]
    ModelFile {
        /// What is wrong with it.
        reason: String,
    },
    /// A container made with this codec's model disagrees with it on how
    /// records are shaped or transformed (the container's fault: it was altered).
    #[error("the container's {field} is {file}, this codec's is {model}")]
    HeaderMismatch {
        /// Which header field.
        field: &'static str,
        /// What the container says.
        file: String,
        /// What the codec says.
        model: String,
    },
    /// A record decodes to NaN or an infinity: the weights or the file are
    /// unusable, and no such output is ever returned.
    #[error("record {record} decodes to a non-finite value")]
    NonFiniteOutput {
        /// The record's position in the container.
        record: u64,
    },
    /// A record cannot be compressed so that it decodes to finite values in
    /// f32 (the input's fault: its values are too large).
    #[error("record {record} cannot be compressed: {reason}")]
    Overflow {
        /// The record's position in the input.
        record: u64,
        /// What overflows.
        reason: String,
    },
    /// A container record cannot be turned back into data (the container's fault).
    #[error("record {index}: {reason}")]
    CorruptRecord {
        /// The record's position in the container.
        index: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A container ends before its footer: its writer did not finish, or the
    /// file was cut (the file's fault). [`Codec::decompress_partial`](crate::Codec::decompress_partial)
    /// recovers the whole records.
    #[error(
        "the container is damaged or unfinished: it ends without its footer after {records} whole records{}",
        if *lost_bytes > 0 { format!(" and {lost_bytes} bytes that are not a whole record") } else { String::new() }
    )]
    Unfinished {
        /// Whole records before the end.
        records: u64,
        /// Bytes after the last whole record (0 when unknown, as for a stream).
        lost_bytes: u64,
    },
    /// The file asks for something this version does not implement.
    #[error("{what} is not supported by this version")]
    Unsupported {
        /// What was asked for.
        what: String,
    },
    /// A record cannot be coded to its error bound (the record's fault for
    /// non-finite values; anything else is this library's).
    #[error("record {record} cannot be coded to its bound: {source}")]
    Bounded {
        /// The record's position.
        record: u64,
        /// Why.
        source: sae_bounded::EncodeError,
    },
    /// Reading or writing a file failed.
    #[error("I/O error: {0}")]
    Io(std::io::Error),
}

impl CodecError {
    /// `ModelError::Shape` with `reason`: data that does not fit.
    pub(crate) fn shape(reason: String) -> Self {
        Self::Model(sae_model::ModelError::Shape { reason })
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = CodecError> = std::result::Result<T, E>;

// By hand rather than `#[from]`: the message already shows the cause.
impl From<std::io::Error> for CodecError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}
