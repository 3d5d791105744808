//! The subcommands, and the arguments and helpers several of them share.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sae_codec::io::{Array, read_npy, read_raw_f32};
use sae_codec::{Codec, ComputeDevice, IndexFormat, ValueFormat};

pub mod compress;
pub mod decompress;
pub mod eval;
pub mod inspect;
pub mod recode;
pub mod simulate;
pub mod train;

/// Input images: shared by the subcommands that read them.
#[derive(clap::Args)]
pub struct Input {
    /// Input images: `.npy` (f32 or f64, shape (N, …)) or raw little-endian f32 with --shape.
    #[arg(short, long)]
    pub input: PathBuf,
    /// Shape of a raw f32 input, e.g. `1000,64,64`.
    #[arg(long, value_delimiter = ',')]
    pub shape: Option<Vec<usize>>,
}

impl Input {
    /// Reads the images; at least two dimensions, the first counting images.
    pub fn read(&self) -> Result<Array> {
        read_images(&self.input, self.shape.as_deref())
    }
}

/// Reads `.npy`, or raw f32 when `shape` is given.
pub fn read_images(path: &Path, shape: Option<&[usize]>) -> Result<Array> {
    let array = match shape {
        Some(shape) => read_raw_f32(path, shape),
        None => read_npy(path),
    }
    .with_context(|| format!("reading {}", path.display()))?;
    if array.shape.len() < 2 {
        bail!(
            "{} has shape {:?}; expected (N, …) images",
            path.display(),
            array.shape
        );
    }
    Ok(array)
}

/// How a model stores latents: shared by `train` and `recode`. Unset
/// options take the preset's choice (`sas`: quantized:0.05, per-unit).
#[derive(clap::Args)]
pub struct CodingArgs {
    /// How nonzero latent values are stored: f32, f16, bf16, quantized or quantized:STEP.
    #[arg(long)]
    pub values: Option<ValueFormat>,
    /// Quantisation step of quantized values, as a fraction of the RMS nonzero training latent.
    #[arg(long)]
    pub step: Option<f32>,
    /// How nonzero positions are coded: per-unit, gaps or reference.
    #[arg(long)]
    pub indices: Option<IndexFormat>,
}

impl CodingArgs {
    /// The choices given, over `values` and `indices` where none was.
    pub fn over(&self, values: ValueFormat, indices: IndexFormat) -> Result<(ValueFormat, IndexFormat)> {
        let mut values = self.values.unwrap_or(values);
        if let Some(relative_step) = self.step {
            match values {
                ValueFormat::Quantized { .. } => values = ValueFormat::Quantized { relative_step },
                other => bail!("--step applies to quantized values, not {other}"),
            }
        }
        Ok((values, self.indices.unwrap_or(indices)))
    }
}

/// Refuses images whose shape is not the model's record shape.
pub fn check_fits(images: &Array, codec: &Codec) -> Result<()> {
    if images.shape[1..] != codec.record_shape()[..] {
        bail!(
            "images of shape {:?} do not fit the model's records of shape {:?}",
            &images.shape[1..],
            codec.record_shape()
        );
    }
    Ok(())
}

/// Loads a model file onto `device`.
pub fn load_codec(path: &Path, device: ComputeDevice) -> Result<Codec> {
    Codec::load_on(path, device).with_context(|| format!("loading model {}", path.display()))
}
