//! `sae decompress`: a container back into images.

use std::path::PathBuf;

use anyhow::{Context, Result};
use sae_codec::ComputeDevice;
use sae_codec::io::{Array, write_npy};

use super::load_codec;

#[derive(clap::Args)]
pub struct Args {
    /// Model file the container was made with.
    #[arg(short, long)]
    model: PathBuf,
    /// Input container.
    #[arg(short, long)]
    input: PathBuf,
    /// Output `.npy`.
    #[arg(short, long)]
    output: PathBuf,
    /// Where to run the decoder: cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    device: ComputeDevice,
}

pub fn run(args: Args) -> Result<()> {
    let codec = load_codec(&args.model, args.device)?;
    let bytes = std::fs::read(&args.input).with_context(|| format!("reading {}", args.input.display()))?;
    let data = codec
        .decompress(&bytes)
        .with_context(|| format!("decompressing {}", args.input.display()))?;
    let mut shape = vec![data.len() / codec.record_shape().iter().product::<usize>()];
    shape.extend(codec.record_shape());
    write_npy(&args.output, &Array::new(shape, data)?)
        .with_context(|| format!("writing {}", args.output.display()))
}
