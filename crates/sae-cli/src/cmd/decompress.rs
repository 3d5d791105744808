//! `sae decompress`: a container back into images.

use std::path::PathBuf;

use std::fs::File;
use std::io::BufReader;

use anyhow::{Context, Result};
use sae_codec::io::NpyWriter;
use sae_codec::{CodecError, ComputeDevice, IndexStatus};

use super::{check_output, load_codec, write_output};

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
    let context = || format!("decompressing {}", args.input.display());
    let file = File::open(&args.input).with_context(|| format!("reading {}", args.input.display()))?;
    let mut reader = codec.reader(BufReader::new(file)).with_context(context)?;
    if let IndexStatus::Recovered { trailing_bytes } = *reader.status() {
        if !args.allow_partial {
            return Err(CodecError::Unfinished {
                records: reader.len() as u64,
                lost_bytes: trailing_bytes,
            })
            .with_context(context);
        }
        eprintln!(
            "warning: {} is unfinished or cut: recovered {} whole records; {trailing_bytes} bytes after them were lost",
            args.input.display(),
            reader.len()
        );
    }
    // Records stream from the container to the file a batch at a time, so
    // memory is bounded by a batch whatever the container holds.
    let mut shape = vec![reader.len()];
    shape.extend(codec.record_shape());
    write_output(&args.output, |path| {
        let mut npy = NpyWriter::create(path, &shape)?;
        reader
            .for_each_batch(|batch| -> Result<()> { Ok(npy.push(batch)?) })
            .with_context(context)?;
        Ok(npy.finish()?)
    })
}
