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
    #[error("weights file: {problem}")]
    BadWeights {
        /// What is wrong.
        problem: WeightsProblem,
    },
    /// A sparse code has not as many values as indices.
    #[error("code {code} has {indices} indices but {values} values")]
    CodeLengths {
        /// The code's position in the batch.
        code: usize,
        /// Its indices.
        indices: usize,
        /// Its values.
        values: usize,
    },
    /// A sparse code names a latent unit past the latent's length.
    #[error("code {code} has index {index} beyond the latent size {latent}")]
    IndexBeyondLatent {
        /// The code's position in the batch.
        code: usize,
        /// The index.
        index: u32,
        /// The latent length.
        latent: usize,
    },
    /// Records and their codes are not as many.
    #[error("{records} records but {codes} codes")]
    CodeCount {
        /// Records given.
        records: usize,
        /// Codes given.
        codes: usize,
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

/// What is wrong with a weights file ([`ModelError::BadWeights`]).
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum WeightsProblem {
    /// A metadata entry is absent.
    #[error("metadata lacks `{key}`")]
    MissingKey {
        /// The key.
        key: String,
    },
    /// The format tag is not this crate's.
    #[error("format `{found}` is not `{expected}`")]
    Format {
        /// The file's tag.
        found: String,
        /// [`FORMAT_TAG`](crate::FORMAT_TAG).
        expected: &'static str,
    },
    /// The architecture entry is not `n,m,l`.
    #[error("architecture `{text}` is not `n,m,l`")]
    Architecture {
        /// What the file says.
        text: String,
    },
    /// The λ entry is not a number.
    #[error("lambda `{text}` is not a number")]
    Lambda {
        /// What the file says.
        text: String,
    },
    /// A tensor the network needs is absent.
    #[error("tensor `{name}` is missing")]
    MissingTensor {
        /// Its name ([`TENSOR_NAMES`](crate::TENSOR_NAMES)).
        name: String,
    },
    /// A tensor has another shape than the architecture's.
    #[error("tensor `{name}` has shape {found:?}, expected {expected:?}")]
    TensorShape {
        /// Its name.
        name: String,
        /// The file's shape.
        found: Vec<usize>,
        /// The architecture's.
        expected: Vec<usize>,
    },
    /// A tensor is neither f32 nor f64.
    #[error("tensor `{name}` has dtype {dtype}, expected F32 or F64")]
    TensorType {
        /// Its name.
        name: String,
        /// Its dtype, as safetensors names it.
        dtype: String,
    },
    /// A tensor holds a NaN or an infinity.
    #[error("tensor `{name}` holds a NaN or an infinity")]
    NonFiniteTensor {
        /// Its name.
        name: String,
    },
    /// The tensors are not all of one precision.
    #[error("tensors mix f32 and f64")]
    MixedPrecision,
    /// A layer's weight or bias does not match the architecture.
    #[error(
        "layer {layer} has weight {weight:?} and bias {bias:?}, expected ({fan_in}, {fan_out}) and ({fan_out})"
    )]
    LayerShape {
        /// The layer, from the input.
        layer: usize,
        /// Its weight's dimensions.
        weight: Vec<usize>,
        /// Its bias's dimensions.
        bias: Vec<usize>,
        /// The architecture's fan-in.
        fan_in: usize,
        /// The architecture's fan-out.
        fan_out: usize,
    },
    /// The encoder-view entry does not parse.
    #[error("{key}: {message}", key = crate::ENCODER_VIEW_KEY)]
    EncoderView {
        /// What the parser says.
        message: String,
    },
    /// The weights are not the ones the stored fingerprint names.
    #[error("weights do not match the fingerprint stored with them")]
    Fingerprint,
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
