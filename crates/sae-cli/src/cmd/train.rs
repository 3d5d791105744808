//! `sae train`: a codec from images, starting from a preset's recipe.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sae_codec::{Codec, ComputeDevice, LambdaControl, Preset, Selector, Transforms};

use super::{CodingArgs, Input, check_output, write_atomically};

/// Every option left unset takes the preset's value.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Output model file.
    #[arg(short, long)]
    output: PathBuf,
    /// The recipe the other options start from.
    #[arg(long, default_value_t = Preset::Sas)]
    preset: Preset,
    /// Network ratios `m/n,l/n` (sas: 0.25,1).
    #[arg(long, value_delimiter = ',')]
    arch: Option<Vec<f64>>,
    /// Sparse-structure selector: `z` or `grad` (∇z) (sas: z).
    #[arg(long)]
    selector: Option<Selector>,
    /// Fixed penalty weight λ (sas: 3e-3); with --target-error, its start.
    #[arg(long)]
    lambda: Option<f64>,
    /// Steer λ to reach this mean relative L2 error instead.
    #[arg(long)]
    target_error: Option<f64>,
    /// Passes over the data (sas: 30).
    #[arg(long)]
    epochs: Option<usize>,
    /// Samples per step (sas: 128).
    #[arg(long)]
    batch: Option<usize>,
    /// Learning rate (sas: 1e-3).
    #[arg(long)]
    lr: Option<f64>,
    /// Seed of the initialisation and the shuffling (sas: 0).
    #[arg(long)]
    seed: Option<u64>,
    /// Data transforms before the model: none, l2, log10, or a list like `log10(1e-6),scale` (sas: l2).
    #[arg(long)]
    transform: Option<Transforms>,
    #[command(flatten)]
    coding: CodingArgs,
    /// Where to train: cpu, cuda, cuda:N or auto (cuda needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu")]
    device: ComputeDevice,
}

pub fn run(args: Args) -> Result<()> {
    check_output(&args.output, &[&args.input.input])?;
    let images = args.input.read()?;
    let mut config = args.preset.config();
    if let Some(arch) = &args.arch {
        let [hidden, latent] = arch[..] else {
            bail!("--arch takes two ratios, m/n,l/n");
        };
        (config.hidden_ratio, config.latent_ratio) = (hidden, latent);
    }
    if let Some(selector) = args.selector {
        config.selector = selector;
    }
    let start = match (args.lambda, config.train.lambda) {
        (Some(lambda), _) => lambda,
        (None, LambdaControl::Fixed(lambda)) => lambda,
        (None, _) => 0.0,
    };
    config.train.lambda = match args.target_error {
        Some(e) => LambdaControl::adaptive(e, start),
        None => LambdaControl::Fixed(start),
    };
    if let Some(epochs) = args.epochs {
        config.train.epochs = epochs;
    }
    if let Some(batch) = args.batch {
        config.train.batch_size = batch;
    }
    if let Some(lr) = args.lr {
        config.train.learning_rate = lr;
    }
    if let Some(seed) = args.seed {
        (config.seed, config.train.seed) = (seed, seed);
    }
    if let Some(transforms) = args.transform {
        config.transforms = transforms.0;
    }
    (config.values, config.indices) = args.coding.over(config.values, config.indices)?;
    config.device = args.device;

    let bar = ProgressBar::new(config.train.epochs as u64);
    bar.set_style(ProgressStyle::with_template(
        "training {bar:30} epoch {pos}/{len} {msg} [{elapsed}<{eta}]",
    )?);
    let (codec, report) = Codec::train(&images.data, &images.shape[1..], &config, |p| {
        if let Some(v) = p.validation {
            bar.set_position(p.epoch as u64 + 1);
            bar.set_message(format!("val rel L2 {:.3e}, {:.1} nonzeros", v.rel_error, v.nnz));
        }
    })
    .context("training")?;
    bar.finish_and_clear();
    write_atomically(&args.output, |path| Ok(codec.save(path)?))?;
    if let Some(v) = report.history.last() {
        eprintln!(
            "trained {} epochs in {:.0} s: validation relative L2 {:.3e}, {:.1} nonzeros per image",
            report.epochs_run, report.seconds, v.rel_error, v.nnz
        );
    }
    Ok(())
}
