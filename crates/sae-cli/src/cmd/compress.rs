//! `sae compress`: images into a container.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use sae_codec::{ComputeDevice, Preset, Refinement};

use super::{Input, check_fits, check_output, load_codec, write_output};

#[derive(clap::Args)]
pub struct Args {
    /// Model file.
    #[arg(short, long)]
    model: PathBuf,
    #[command(flatten)]
    input: Input,
    /// Output container.
    #[arg(short, long)]
    output: PathBuf,
    /// Where to run the encoder: cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    device: ComputeDevice,
    /// Refine each latent against its image for this many iterations
    /// (sas preset: 100; 0: the encoder's latents as they are). Slower,
    /// lower error; the container decodes the same way.
    #[arg(long, conflicts_with = "no_refine")]
    refine: Option<usize>,
    /// Store the encoder's latents as they are (fast; same as --refine 0).
    #[arg(long, conflicts_with_all = ["refine_lambda", "refine_grow"])]
    no_refine: bool,
    /// Penalty λ on ‖z‖₁ while refining: larger drops more latents (default 0).
    #[arg(long)]
    refine_lambda: Option<f64>,
    /// Let refinement switch on latents the encoder left at zero.
    #[arg(long)]
    refine_grow: bool,
}

pub fn run(args: Args) -> Result<()> {
    let recommended = Preset::default().refinement().unwrap_or_default();
    let iterations = match (args.no_refine, args.refine) {
        (true, _) => 0,
        (false, Some(n)) => n,
        (false, None) => recommended.iterations,
    };
    if iterations == 0 && (args.refine_lambda.is_some() || args.refine_grow) {
        bail!("--refine-lambda and --refine-grow shape refinement, which --refine 0 turns off");
    }
    let refinement = (iterations > 0).then_some(Refinement {
        iterations,
        lambda: args.refine_lambda.unwrap_or(0.0),
        grow_support: args.refine_grow,
        // The codec fills in its quantisation step.
        lattice: None,
    });
    check_output(&args.output, &[&args.model, &args.input.input])?;
    let codec = load_codec(&args.model, args.device)?.with_refinement(refinement);
    let images = args.input.read()?;
    check_fits(&images, &codec)?;
    let bytes = codec.compress(&images.data).context("compressing")?;
    write_output(&args.output, |path| Ok(std::fs::write(path, &bytes)?))?;
    eprintln!(
        "{} images, {} bytes ({:.1}x)",
        images.records(),
        bytes.len(),
        (images.data.len() * 4) as f64 / bytes.len() as f64
    );
    Ok(())
}
