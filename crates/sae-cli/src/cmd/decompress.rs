//! `sae decompress`: a container back into images.

use std::path::PathBuf;

use anyhow::{Context, Result};
use sae_codec::ComputeDevice;
use sae_codec::io::{Array, write_npy};

use super::{check_output, load_codec, write_atomically};

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
    /// Decompress what an unfinished or cut container holds (the whole records
    /// before the damage) instead of refusing it; says what was lost.
    #[arg(long)]
    allow_partial: bool,
}

pub fn run(args: Args) -> Result<()> {
    check_output(&args.output, &[&args.model, &args.input])?;
    let codec = load_codec(&args.model, args.device)?;
    let bytes = std::fs::read(&args.input).with_context(|| format!("reading {}", args.input.display()))?;
    let context = || format!("decompressing {}", args.input.display());
    let data = if args.allow_partial {
        let partial = codec.decompress_partial(&bytes).with_context(context)?;
        if let Some(lost) = partial.lost_bytes {
            eprintln!(
                "warning: {} is unfinished or cut: recovered {} whole records; {lost} bytes after them were lost",
                args.input.display(),
                partial.records
            );
        }
        partial.data
    } else {
        codec.decompress(&bytes).with_context(context)?
    };
    let mut shape = vec![data.len() / codec.record_shape().iter().product::<usize>()];
    shape.extend(codec.record_shape());
    let array = Array::new(shape, data)?;
    write_atomically(&args.output, |path| Ok(write_npy(path, &array)?))
}
