//! The model crate's typed errors.

use thiserror::Error;

/// Everything that can go wrong when building, training, running or storing a model.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A tensor operation failed in candle.
    #[error("tensor operation failed: {0}")]
    Candle(candle_core::Error),
    /// Reading or writing a file failed.
    #[error("I/O error: {0}")]
    Io(std::io::Error),
    /// A safetensors file could not be parsed or written.
    #[error("safetensors: {0}")]
    Safetensors(safetensors::SafeTensorError),
    /// A configuration value is out of its domain.
    #[error("invalid {name}: {reason}")]
    InvalidConfig {
        /// Which setting.
        name: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// Input data does not match the network.
    #[error("data shape mismatch: {reason}")]
    Shape {
        /// What does not match.
        reason: String,
    },
    /// Input data is not a whole number of records of the network's input
    /// length (the caller's data: a wrong shape, or a source's partial record).
    #[error("{values} values are not a whole number of records of {record_len}")]
    NotWholeRecords {
        /// Values given.
        values: usize,
        /// Values per record.
        record_len: usize,
    },
    /// No record was given where at least one is needed.
    #[error("no records given")]
    NoRecords,
    /// Input data contains NaN or infinite values.
    #[error("input holds a non-finite value at position {position}")]
    NonFinite {
        /// Flat index of the first offending value.
        position: usize,
    },
    /// A weights file lacks a tensor or metadata entry, or has a wrong one.
    #[error("weights file: {reason}")]
    BadWeights {
        /// What is wrong.
        reason: String,
    },
    /// A [`SampleSource`](crate::SampleSource) could not deliver samples.
    #[error("sample source: {reason}")]
    Source {
        /// What went wrong there.
        reason: String,
    },
    /// Training diverged (the loss became NaN or infinite).
    #[error("training diverged at step {step}: loss {loss}")]
    Diverged {
        /// Optimiser step at which it happened.
        step: u64,
        /// The loss value.
        loss: f64,
    },
}

/// The one check of row-major input: `samples` must be a whole number of
/// records of `record_len` values, every one finite. Returns how many records.
///
/// ```
/// use sae_model::{ModelError, whole_records};
///
/// assert_eq!(whole_records(&[1.0; 8], 4)?, 2);
/// assert!(matches!(whole_records(&[1.0; 7], 4), Err(ModelError::NotWholeRecords { values: 7, record_len: 4 })));
/// assert!(matches!(whole_records(&[1.0, f32::NAN], 2), Err(ModelError::NonFinite { position: 1 })));
/// # Ok::<(), ModelError>(())
/// ```
pub fn whole_records(samples: &[f32], record_len: usize) -> Result<usize> {
    if record_len == 0 || !samples.len().is_multiple_of(record_len) {
        return Err(ModelError::NotWholeRecords {
            values: samples.len(),
            record_len,
        });
    }
    if let Some(position) = samples.iter().position(|v| !v.is_finite()) {
        return Err(ModelError::NonFinite { position });
    }
    Ok(samples.len() / record_len)
}

/// Shorthand for results of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

// By hand rather than `#[from]`: the message already shows the cause, so it is
// not also exposed as a source (an error chain would print it twice).
impl From<candle_core::Error> for ModelError {
    fn from(e: candle_core::Error) -> Self {
        Self::Candle(e)
    }
}

impl From<std::io::Error> for ModelError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<safetensors::SafeTensorError> for ModelError {
    fn from(e: safetensors::SafeTensorError) -> Self {
        Self::Safetensors(e)
    }
}
