//! The facade's typed errors.

use thiserror::Error;

/// Everything that can go wrong when training, compressing or decompressing.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The autoencoder failed.
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
    /// Input data does not fit the codec.
    #[error("data shape mismatch: {reason}")]
    Shape {
        /// What does not fit.
        reason: String,
    },
    /// Input data holds NaN or infinite values.
    #[error("input holds a non-finite value at position {position}")]
    NonFinite {
        /// Flat index of the first offending value.
        position: usize,
    },
    /// A setting is out of its domain, or a stored codec is malformed.
    #[error("invalid {name}: {reason}")]
    InvalidConfig {
        /// Which setting.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Shorthand for results of this crate.
pub type Result<T, E = CodecError> = std::result::Result<T, E>;
