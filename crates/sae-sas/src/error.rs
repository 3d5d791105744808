//! The crate's typed errors.

use thiserror::Error;

/// Everything that can go wrong when simulating or loading data.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SasError {
    /// A parameter is missing, unknown or out of its domain.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// Parameter name (sasmodels spelling).
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A model or structure factor this crate does not implement.
    #[error("unsupported {what} `{name}`")]
    Unsupported {
        /// "model", "structure factor", "dispersion", …
        what: &'static str,
        /// The name found.
        name: String,
    },
    /// A file could not be read or written.
    #[error("I/O error on {path}: {cause}")]
    Io {
        /// The file.
        path: String,
        /// What the system said (shown in the message, not chained as a source).
        cause: std::io::Error,
    },
    /// A file's content is not what its format requires.
    #[error("malformed {format} data: {reason}")]
    Malformed {
        /// "npy", "IDX", "sidecar JSON", "raw f32", …
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = SasError> = std::result::Result<T, E>;

pub(crate) fn invalid(name: &str, reason: impl Into<String>) -> SasError {
    SasError::InvalidParameter {
        name: name.to_string(),
        reason: reason.into(),
    }
}
