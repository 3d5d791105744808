#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod dataset;
mod detector;
mod dispersion;
mod error;
mod scatterer;
mod shape;
mod sidecar;
pub mod special;
mod structure;

pub use dataset::{DatasetConfig, ModelRanges, Range};
pub use detector::{Detector, View, poisson_noise};
pub use dispersion::{Distribution, Polydispersity};
pub use error::{Result, SasError};
pub use scatterer::{DEFAULT_PD_CUTOFF, HardSphere, Prepared, Scatterer};
pub use shape::Shape;
pub use sidecar::{ImageParams, QGrid, Sidecar};
pub use structure::hard_sphere;
