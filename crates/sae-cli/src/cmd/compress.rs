//! `sae compress`: images into a container.

use std::path::PathBuf;

use anyhow::{Context, Result};
use sae_codec::{ComputeDevice, ErrorBound, Overrides};

use super::{Input, RefineArgs, check_fits, check_output, load_codec, write_output};

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
    #[command(flatten)]
    refine: RefineArgs,
    /// Guarantee this error on every image: `l2:E` (relative L2 per image),
    /// `abs:E` or `rel:E` (per pixel). Each image takes the cheapest of the
    /// latent alone, the latent with a correction, or a direct coding.
    #[arg(long, value_name = "SPEC")]
    max_error: Option<ErrorBound>,
}

pub fn run(args: Args) -> Result<()> {
    let recipe = args.refine.recipe(Overrides {
        max_error: args.max_error,
        ..Overrides::default()
    })?;
    check_output(&args.output, &[&args.model, &args.input.input])?;
    let codec = load_codec(&args.model, args.device)?.with_refinement(recipe.refinement);
    let images = args.input.read()?;
    check_fits(&images, &codec)?;
    let (bytes, choices) = match recipe.bound {
        None => (codec.compress(&images.data).context("compressing")?, None),
        Some(bound) => {
            let (bytes, choices) = codec
                .compress_bounded_to(&images.data, bound, Vec::new())
                .with_context(|| format!("compressing to {bound}"))?;
            (bytes, Some((bound, choices)))
        }
    };
    write_output(&args.output, |path| Ok(std::fs::write(path, &bytes)?))?;
    eprintln!(
        "{} images, {} bytes ({:.1}x)",
        images.records(),
        bytes.len(),
        (images.data.len() * 4) as f64 / bytes.len() as f64
    );
    if let Some((bound, c)) = choices {
        eprintln!(
            "every image within {bound}: {} by the latent alone, {} with a correction, {} coded directly",
            c.latent, c.residual, c.direct
        );
    }
    Ok(())
}
