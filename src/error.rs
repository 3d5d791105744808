//! The facade's typed errors, one variant per cause, so that a caller can
//! tell whose fault a failure is: their settings or data, the machine, a
//! file, or this library.

use thiserror::Error;

/// Everything that can go wrong when training, compressing or decompressing.
///
/// Data that does not fit (a wrong length, a NaN) is reported by the model
/// layer, the one place that defines those errors:
/// `CodecError::Model(ModelError::NotWholeRecords { .. })`, `NoRecords`, `Shape` and
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
    #[error("model file: {0}")]
    ModelFile(#[from] ModelFileError),
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
    #[error("record {record} cannot be compressed: {cause}")]
    Overflow {
        /// The record's position in the input.
        record: u64,
        /// What overflows.
        cause: Overflow,
    },
    /// A container record cannot be turned back into data (the container's fault).
    #[error("record {index}: {defect}")]
    CorruptRecord {
        /// The record's position in the container.
        index: u64,
        /// What is wrong with it.
        defect: RecordDefect,
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

/// What overflows in a record that cannot be compressed
/// ([`CodecError::Overflow`]).
#[derive(Debug, Clone, Copy, PartialEq, Error)]
#[non_exhaustive]
pub enum Overflow {
    /// A value is not finite after the codec's transforms.
    #[error("its value {position} is not finite after the transforms")]
    Transformed {
        /// The value's position in the record.
        position: usize,
    },
    /// The record's L2 norm, its per-record scale, is not finite.
    #[error("its L2 norm {norm:e} is not finite")]
    Norm {
        /// The norm.
        norm: f64,
    },
    /// Its reconstruction under the model is not finite, so the file could
    /// not be read back.
    #[error(
        "its reconstruction under this model is not finite, so the file could not be read back \
         (are the model's weights sound?)"
    )]
    Reconstruction,
}

/// What is wrong with a container record ([`CodecError::CorruptRecord`]).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RecordDefect {
    /// The transforms need a per-record scale the record does not carry.
    #[error("the transforms need a per-record scale the record does not carry")]
    MissingScale,
    /// Its direct (guaranteed-mode) coding does not decode.
    #[error("its direct coding: {0}")]
    Direct(sae_bounded::DecodeError),
    /// Its guaranteed-mode correction does not decode.
    #[error("its correction: {0}")]
    Correction(sae_bounded::DecodeError),
}

/// Why a model file is not a codec this version can load
/// ([`CodecError::ModelFile`]; `docs/model-file.md`).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ModelFileError {
    /// A metadata entry the settings need is absent.
    #[error("metadata lacks `{key}`")]
    MissingKey {
        /// The key ([`keys`](crate::keys)).
        key: &'static str,
    },
    /// An entry that holds bytes is not lowercase hex.
    #[error("`{key}` is not hex")]
    NotHex {
        /// The key.
        key: &'static str,
    },
    /// An entry that holds a number does not parse as one.
    #[error("`{key}` is not a number")]
    NotANumber {
        /// The key.
        key: &'static str,
    },
    /// The header template does not parse as a container header block.
    #[error("`{key}` is not a valid header block: {0}", key = crate::keys::HEADER)]
    Header(sae_container::ContainerError),
    /// The header template parses but cannot code records.
    #[error("`{key}` cannot code records: {0}", key = crate::keys::HEADER)]
    Unwritable(sae_container::ContainerError),
    /// The settings are of a version newer than this release's.
    #[error("settings version {found} is newer than this release's ({supported})")]
    NewerVersion {
        /// The file's version.
        found: u32,
        /// The version this release writes.
        supported: u32,
    },
    /// The settings claim a version no release wrote.
    #[error(
        "settings version {found} was never written (this release reads version {supported}, \
         and release 1.0's files, which have no version)"
    )]
    UnknownVersion {
        /// The file's version.
        found: u32,
        /// The version this release writes.
        supported: u32,
    },
    /// The settings version is not a version number.
    #[error("settings version `{text}` is not a version number")]
    NotAVersion {
        /// What the file says.
        text: String,
    },
    /// The metadata holds no codec settings at all.
    #[error("no codec settings in its metadata (not saved by Codec::save)")]
    NoSettings,
    /// Release 1.0's JSON settings do not parse.
    #[error("settings (version 1): {message}")]
    LegacySettings {
        /// The JSON parser's message.
        message: String,
    },
    /// The selector's name is not one this release knows.
    #[error("{message}")]
    Selector {
        /// What the selector parser says (it lists the known names).
        message: String,
    },
    /// The record shape does not match the network's input length.
    #[error("record shape {shape:?} does not match the network's input of {input}")]
    RecordShape {
        /// The settings' record shape.
        shape: Vec<u64>,
        /// The network's input length.
        input: usize,
    },
    /// The latent length does not match the network's.
    #[error("latent length {found} does not match the network's {network}")]
    LatentLength {
        /// The settings' latent length.
        found: u32,
        /// The network's.
        network: usize,
    },
    /// The threshold is negative or not finite.
    #[error("threshold {threshold} is not finite and non-negative")]
    Threshold {
        /// The settings' threshold.
        threshold: f32,
    },
    /// The weights are not the ones the settings' fingerprint names.
    #[error("the weights do not match the fingerprint in the settings")]
    Fingerprint,
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
