//! `sae tune`: fine-tune a model's decoder on refined latents of its training images.

use std::path::PathBuf;

use anyhow::{Context, Result};
use sae_codec::{ComputeDevice, DecoderTuning};

use super::{Input, check_fits, check_output, load_codec, write_output};

#[derive(clap::Args)]
pub struct Args {
    /// Model file.
    #[arg(short, long)]
    model: PathBuf,
    /// The training images (the decoder learns to reconstruct them from their refined latents).
    #[command(flatten)]
    input: Input,
    /// Output model file (a new fingerprint: containers of the input model need the input model).
    #[arg(short, long)]
    output: PathBuf,
    /// Refine-then-train rounds.
    #[arg(long, default_value_t = DecoderTuning::default().rounds)]
    rounds: usize,
    /// Passes of decoder training per round.
    #[arg(long, default_value_t = DecoderTuning::default().epochs)]
    epochs: usize,
    /// Refinement iterations per round.
    #[arg(long, default_value_t = DecoderTuning::default().refinement.iterations)]
    iterations: usize,
    /// Learning rate of the decoder.
    #[arg(long, default_value_t = DecoderTuning::default().learning_rate)]
    lr: f64,
    /// Images per decoder step.
    #[arg(long, default_value_t = DecoderTuning::default().batch_size)]
    batch: usize,
}

pub fn run(args: Args) -> Result<()> {
    check_output(&args.output, &[&args.model, &args.input.input])?;
    let codec = load_codec(&args.model, ComputeDevice::Cpu)?;
    let images = args.input.read()?;
    check_fits(&images, &codec)?;
    let defaults = DecoderTuning::default();
    let tuning = DecoderTuning {
        rounds: args.rounds,
        epochs: args.epochs,
        refinement: sae_codec::Refinement {
            iterations: args.iterations,
            ..defaults.refinement
        },
        learning_rate: args.lr,
        batch_size: args.batch,
        ..defaults
    };
    let (tuned, report) = codec
        .tune_decoder(&images.data, &tuning, |r| {
            eprintln!(
                "round {}: refined training error {:.3e}, held-out {:.3e} ({:.0} s)",
                r.round, r.train_rel_error, r.validation_rel_error, r.seconds
            );
        })
        .context("tuning the decoder")?;
    write_output(&args.output, |path| Ok(tuned.save(path)?))?;
    eprintln!(
        "wrote {}: held-out refined error {:.3e} -> {:.3e} (round {} kept)",
        args.output.display(),
        report.initial_validation,
        report
            .rounds
            .iter()
            .map(|r| r.validation_rel_error)
            .fold(report.initial_validation, f64::min),
        report.kept_round
    );
    Ok(())
}
