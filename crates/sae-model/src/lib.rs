//! Sparse overcomplete autoencoders in candle.
//!
//! The network `n -> m -> l -> m -> n` (ReLU between layers, latent `l`
//! larger than the input) is trained to minimise
//! `mean ‖d(e(x)) − x‖² + λ · mean ‖f(e(x))‖₁`, where `f` is a
//! [`SparseSelector`]: [`Identity`] makes few units active, [`ForwardDifference`]
//! makes the latent piecewise constant. The latents are then stored sparsely
//! by `sae-container`; this crate knows nothing about files or entropy coding.
//!
//! * [`Autoencoder`]: seeded initialisation, encode to [`SparseCode`]s,
//!   sparse decode that reads only the active units' weights, safetensors
//!   save/load with metadata that PyTorch users can read, a SHA-256 fingerprint.
//! * [`Trainer`]: Adam with fused in-place updates (weight decay 0 unless
//!   asked), learning-rate warm-up and cosine schedule, fixed, warm-up or
//!   adaptive λ ([`LambdaControl`]), validation split, early stopping,
//!   checkpoints, a progress callback, a time budget, an exponential moving
//!   average of the weights, and fresh samples from a [`SampleSource`]
//!   between epochs ([`Trainer::train_streaming`]).
//! * [`InputView`]: what the encoder sees (linear, square-root or log
//!   intensities); the decoder and the loss stay on the data as given.
//! * [`Autoencoder::refine`] refines latents against their records under the
//!   fixed decoder (compression time); [`Autoencoder::tune_decoder`] trains the
//!   decoder on such refined latents ([`DecoderTuning`]).
//! * Gradients are computed by a hand-written backward pass with PyTorch's
//!   subgradient conventions (ReLU′(0) = 0, sign(0) = 0), checked against
//!   finite differences in f64 by the test suite.
//! * CPU by default; the `cuda` feature forwards to candle's CUDA backend.
//!
//! # Example
//!
//! ```
//! use candle_core::Device;
//! use sae_model::{Architecture, Autoencoder, ForwardDifference, LambdaControl, TrainConfig, Trainer};
//!
//! let arch = Architecture::from_ratios(16, 1.0, 2.0)?; // (1, 2): 16 -> 16 -> 32 -> 16 -> 16
//! let mut model = Autoencoder::new(arch, &Device::Cpu, 42)?;
//! let data: Vec<f32> = (0..32 * 16).map(|i| ((i % 16) as f32 / 4.0).sin().abs()).collect();
//! let config = TrainConfig { epochs: 5, batch_size: 8, lambda: LambdaControl::Fixed(1e-3), ..Default::default() };
//! let report = Trainer::new(config, Box::new(ForwardDifference)).train(&mut model, &data, |_| {})?;
//! assert_eq!(report.epochs_run, 5);
//!
//! let codes = model.encode_sparse(&data[..16], 0.0)?;
//! let reconstruction = model.decode_sparse(&codes)?;
//! assert_eq!(reconstruction.len(), 16);
//! # Ok::<(), sae_model::ModelError>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod arch;
mod error;
mod exact;
mod fused;
mod io;
mod network;
mod optim;
mod refine;
mod selector;
mod train;
pub mod tune;
mod view;

#[cfg(test)]
mod gradcheck;

pub use arch::Architecture;
pub use error::{ModelError, Result, WeightsProblem, whole_records};
pub use exact::ExactDecoder;
pub use io::{ENCODER_VIEW_KEY, FORMAT_TAG, ModelInfo, TENSOR_NAMES, hex, unhex};
pub use network::{
    Autoencoder, DEFAULT_BLOCK_ROWS, Dense, Layers, MIN_BLOCK_ROWS, SPARSE_STEP_FRACTION, SparseCode,
    StepPath, StepStats,
};
pub use optim::{Adam, AdamConfig};
pub use refine::Refinement;
pub use selector::{ForwardDifference, Identity, Selector, SparseSelector, selector_from_name};
pub use train::{
    LambdaControl, LrSchedule, Progress, SampleSource, TrainConfig, TrainReport, Trainer, Validation,
};
pub use tune::{DecoderTuning, TuneReport, TuneRound};
pub use view::InputView;

/// Re-exported so users name devices and tensors without a separate dependency.
pub use candle_core;
