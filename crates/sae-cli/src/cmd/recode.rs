//! `sae recode`: refit a model's coding tables without retraining.

use std::path::PathBuf;

use anyhow::{Context, Result};
use sae_codec::{ComputeDevice, Preset};

use super::{CodingArgs, Input, check_fits, check_output, load_codec, write_output};

#[derive(clap::Args)]
pub struct Args {
    /// Model file.
    #[arg(short, long)]
    model: PathBuf,
    /// Representative images (the training set) to fit the tables on.
    #[command(flatten)]
    input: Input,
    /// Output model file.
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    coding: CodingArgs,
}

pub fn run(args: Args) -> Result<()> {
    check_output(&args.output, &[&args.model, &args.input.input])?;
    let codec = load_codec(&args.model, ComputeDevice::Cpu)?;
    let images = args.input.read()?;
    check_fits(&images, &codec)?;
    let recipe = Preset::Sas.recipe().apply(&args.coding.overrides())?;
    let recoded = codec
        .with_coding(recipe.config.values, recipe.config.indices, &images.data)
        .context("fitting the coding tables")?;
    write_output(&args.output, |path| Ok(recoded.save(path)?))?;
    eprintln!(
        "wrote {} (tables fitted on {} images)",
        args.output.display(),
        images.records()
    );
    Ok(())
}
