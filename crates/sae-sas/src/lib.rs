//! Small-angle scattering (SAS) detector images computed as sasmodels (the
//! modelling library of SasView) computes them, and loaders for real data.
//!
//! # Example
//!
//! ```
//! use sae_sas::{Detector, Scatterer, Shape};
//!
//! let sphere = Shape::Sphere { sld: 4.0, sld_solvent: 1.0, radius: 50.0 };
//! let image = Detector { oversample: 1, ..Detector::default() }.image(&Scatterer::new(sphere))?;
//! assert_eq!(image.len(), 64 * 64);
//! assert!(image.iter().all(|&v| v >= 0.001)); // background 0.001 1/cm
//! # Ok::<(), sae_sas::SasError>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod dataset;
mod detector;
mod dispersion;
mod error;
pub mod loaders;
mod scatterer;
mod shape;
mod sidecar;
pub mod special;
mod structure;

pub use dataset::{DatasetConfig, ModelRanges, Range};
pub use detector::{Detector, poisson_noise};
pub use dispersion::{Distribution, Polydispersity};
pub use error::{Result, SasError};
pub use scatterer::{DEFAULT_PD_CUTOFF, HardSphere, Prepared, Scatterer};
pub use shape::Shape;
pub use sidecar::{ImageParams, QGrid, Sidecar};
pub use structure::hard_sphere;

/// The README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
