//! `sae train`: a codec from images, starting from a preset's recipe.

use std::path::PathBuf;

use std::io::IsTerminal;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sae_codec::io::Array;
use sae_codec::memory::check_simulation;
use sae_codec::sae_model::{ForwardDifference, Identity};
use sae_codec::sae_sas::{DatasetConfig, Detector};
use sae_codec::{
    Codec, ComputeDevice, InputView, LambdaControl, Overrides, Preset, Recipe, Selector, SimulatedImages,
    Transforms,
};

use super::{CodingArgs, check_output, read_images, sas, write_output};

/// Every option left unset takes the preset's value.
#[derive(clap::Args)]
pub struct Args {
    /// Training images: `.npy` (f32 or f64, shape (N, …)) or raw little-endian f32 with --shape.
    #[arg(
        short,
        long,
        required_unless_present = "simulate",
        conflicts_with = "simulate"
    )]
    input: Option<PathBuf>,
    /// Shape of a raw f32 input, e.g. `1000,64,64`.
    #[arg(long, value_delimiter = ',', requires = "input")]
    shape: Option<Vec<usize>>,
    #[arg(long, value_name = "N", num_args = 0..=1, help = {
        let s = sas().simulation.expect("the sas recipe simulates");
        format!(
            "Train on simulated SAS images instead (the parameter ranges of `sae simulate`): a pool of N \
             images (sas: {}) renewed from a simulating thread while training, for the preset's time \
             (sas: {} minutes) unless --minutes or --epochs say otherwise.",
            s.pool,
            s.seconds / 60.0
        )
    })]
    simulate: Option<Option<usize>>,
    /// Detector pixels per side of simulated images.
    #[arg(long, default_value_t = 64, requires = "simulate")]
    npix: usize,
    /// Seed of the simulated images.
    #[arg(long, default_value_t = 0, requires = "simulate")]
    simulate_seed: u64,
    #[arg(long, value_name = "BOOL", requires = "simulate", help = format!(
        "Whether each oriented simulation enters the pool as its four views under the detector's \
         symmetries (turned, mirrored: about four fresh images per simulation) or once (sas: {}).",
        sas().simulation.expect("the sas recipe simulates").views
    ))]
    views: Option<bool>,
    /// Output model file.
    #[arg(short, long)]
    output: PathBuf,
    /// The recipe the other options start from.
    #[arg(long, default_value_t = Preset::Sas)]
    preset: Preset,
    #[arg(long, value_delimiter = ',', help = format!(
        "Network ratios `m/n,l/n` (sas: {},{}).", sas().config.hidden_ratio, sas().config.latent_ratio
    ))]
    arch: Option<Vec<f64>>,
    #[arg(long, help = format!(
        "Sparse-structure selector: `{}` or `{}` (∇z) (sas: {}).",
        Identity::NAME, ForwardDifference::ALIAS, sas().config.selector
    ))]
    selector: Option<Selector>,
    #[arg(long, help = match sas().config.train.lambda {
        LambdaControl::Fixed(lambda) => format!("Fixed penalty weight λ (sas: {lambda:e}); with --target-error, its start."),
        _ => "Fixed penalty weight λ; with --target-error, its start.".to_string(),
    })]
    lambda: Option<f64>,
    /// Steer λ to reach this mean relative L2 error instead.
    #[arg(long)]
    target_error: Option<f64>,
    #[arg(long, help = format!("Passes over the data (sas: {}); with --minutes, the most.", sas().config.train.epochs))]
    epochs: Option<usize>,
    /// Train for this many minutes (the learning rate decays over them),
    /// ending at the first epoch end past them.
    #[arg(long)]
    minutes: Option<f64>,
    #[arg(long, help = format!(
        "What the encoder sees: linear, sqrt, log or log:FLOOR (sas: {}).", sas().config.encoder_view
    ))]
    encoder_view: Option<InputView>,
    /// Keep an exponential moving average of the weights with this decay
    /// (e.g. 0.999) and save it.
    #[arg(long)]
    weight_average: Option<f64>,
    #[arg(long, help = format!("Steps of linear learning-rate warm-up (sas: {}).", sas().config.train.lr_warmup_steps))]
    warmup: Option<u64>,
    #[arg(long, help = format!(
        "Rounds of decoder fine-tuning on refined latents after training, as `sae tune` does, on the \
         first {} training images (sas: {}).",
        sas().tuning.and_then(|t| t.max_records).unwrap_or(Recipe::TUNING_RECORDS),
        sas().tuning.map_or("0, none".to_string(), |t| t.rounds.to_string())
    ))]
    tune_rounds: Option<usize>,
    /// Write the validation curve (one JSON object per epoch: seconds, error, nonzeros) here.
    #[arg(long)]
    curve: Option<PathBuf>,
    #[arg(long, help = format!("Samples per step (sas: {}).", sas().config.train.batch_size))]
    batch: Option<usize>,
    #[arg(long, help = format!("Learning rate (sas: {:e}).", sas().config.train.learning_rate))]
    lr: Option<f64>,
    #[arg(long, help = format!("Seed of the initialisation and the shuffling (sas: {}).", sas().config.seed))]
    seed: Option<u64>,
    #[arg(long, help = format!(
        "Data transforms before the model: {}, or a list like `log10(1e-6),scale` (sas: {}).",
        Transforms::PRESETS.join(", "),
        Transforms(sas().config.transforms.clone())
    ))]
    transform: Option<Transforms>,
    #[command(flatten)]
    coding: CodingArgs,
    /// Where to train: cpu, cuda, cuda:N or auto (cuda needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu")]
    device: ComputeDevice,
}

/// Seconds between plain progress lines when stderr is not a terminal.
const PLAIN_PROGRESS_SECONDS: f64 = 60.0;

pub fn run(args: Args) -> Result<()> {
    let inputs: Vec<&std::path::Path> = args.input.iter().map(|p| p.as_path()).collect();
    check_output(&args.output, &inputs)?;
    if let Some(curve) = &args.curve {
        let mut taken = inputs.clone();
        taken.push(&args.output);
        check_output(curve, &taken)?;
    }
    let detector = Detector {
        npix: args.npix,
        ..Detector::default()
    };
    let recipe = args.preset.recipe().apply(&overrides(&args)?)?;
    let config = &recipe.config;
    let pool = recipe
        .simulation
        .filter(|_| args.simulate.is_some())
        .map(|s| s.pool);
    let images = match (&args.input, pool) {
        (Some(path), _) => read_images(path, args.shape.as_deref())?,
        (None, Some(count)) => {
            check_simulation(count, &detector)?;
            eprintln!("simulating {count} images to start from");
            let (data, _) = DatasetConfig::default().generate(count, args.simulate_seed, &detector)?;
            Array::new(vec![count, detector.npix, detector.npix], data)?
        }
        (None, None) => bail!("give --input FILE or --simulate"),
    };
    let bar = match config.train.time_budget {
        Some(seconds) => {
            let bar = ProgressBar::new(seconds as u64);
            bar.set_style(ProgressStyle::with_template(
                "training {bar:30} {pos}/{len} s {msg} [{elapsed}<{eta}]",
            )?);
            bar
        }
        None => {
            let bar = ProgressBar::new(config.train.epochs as u64);
            bar.set_style(ProgressStyle::with_template(
                "training {bar:30} epoch {pos}/{len} {msg} [{elapsed}<{eta}]",
            )?);
            bar
        }
    };
    let timed = config.train.time_budget.is_some();
    // Without a terminal (a batch job, `2> train.log`) the bar draws
    // nothing: a plain line after the first epoch, then at most one a minute.
    let plain = !std::io::stderr().is_terminal();
    let mut last_line: Option<f64> = None;
    let show = |p: &sae_codec::Progress| {
        if let Some(v) = p.validation {
            if plain && last_line.is_none_or(|t| v.seconds - t >= PLAIN_PROGRESS_SECONDS) {
                last_line = Some(v.seconds);
                eprintln!(
                    "epoch {}: {:.1} min, validation rel L2 {:.3e}, {:.1} nonzeros, {} fresh images",
                    p.epoch + 1,
                    v.seconds / 60.0,
                    v.rel_error,
                    v.nnz,
                    p.fresh_samples
                );
            }
            bar.set_position(if timed {
                v.seconds as u64
            } else {
                p.epoch as u64 + 1
            });
            bar.set_message(format!(
                "epoch {} val rel L2 {:.3e}, {:.1} nonzeros",
                p.epoch + 1,
                v.rel_error,
                v.nnz
            ));
        }
    };
    let shape = images.shape[1..].to_vec();
    let (codec, report) = match args.simulate {
        Some(_) => {
            let views = recipe.simulation.is_some_and(|s| s.views);
            let mut source = match views {
                true => SimulatedImages::spawn_views(DatasetConfig::default(), detector, args.simulate_seed),
                false => SimulatedImages::spawn(DatasetConfig::default(), detector, args.simulate_seed),
            };
            Codec::train_streaming(&images.data, &shape, config, &mut source, show)
        }
        None => Codec::train(&images.data, &shape, config, show),
    }
    .context("training")?;
    bar.finish_and_clear();
    let codec = match &recipe.tuning {
        None => codec,
        Some(tuning) => {
            let (tuned, report) = codec
                .tune_decoder(&images.data, tuning, |r| {
                    eprintln!(
                        "tuning round {}: held-out refined error {:.3e} ({:.0} s)",
                        r.round, r.validation_rel_error, r.seconds
                    );
                })
                .context("tuning the decoder")?;
            eprintln!(
                "decoder tuned: held-out refined error {:.3e} before, round {} kept",
                report.initial_validation, report.kept_round
            );
            tuned
        }
    };
    if let Some(path) = &args.curve {
        let mut text = String::new();
        for (epoch, v) in report.history.iter().enumerate() {
            text += &serde_json::json!({
                "epoch": epoch + 1, "seconds": v.seconds, "rel_error": v.rel_error,
                "nnz": v.nnz, "recon_loss": v.recon_loss,
            })
            .to_string();
            text.push('\n');
        }
        write_output(path, |tmp| {
            std::fs::write(tmp, &text).with_context(|| format!("writing {}", path.display()))
        })?;
    }
    if report.fresh_samples > 0 {
        eprintln!(
            "{} freshly simulated images went into training",
            report.fresh_samples
        );
    }
    write_output(&args.output, |path| Ok(codec.save(path)?))?;
    if let Some(v) = report.history.last() {
        eprintln!(
            "trained {} epochs in {:.0} s: validation relative L2 {:.3e}, {:.1} nonzeros per image",
            report.epochs_run, report.seconds, v.rel_error, v.nnz
        );
    }
    Ok(())
}

/// The options given, as the library's overrides of the preset's recipe.
fn overrides(args: &Args) -> Result<Overrides> {
    let arch = match args.arch.as_deref() {
        None => None,
        Some(&[hidden, latent]) => Some((hidden, latent)),
        Some(_) => bail!("--arch takes two ratios, m/n,l/n"),
    };
    Ok(Overrides {
        arch,
        selector: args.selector,
        lambda: args.lambda,
        target_error: args.target_error,
        epochs: args.epochs,
        minutes: args.minutes,
        encoder_view: args.encoder_view,
        weight_average: args.weight_average,
        warmup: args.warmup,
        batch: args.batch,
        learning_rate: args.lr,
        seed: args.seed,
        transforms: args.transform.clone(),
        device: Some(args.device),
        simulate: args.simulate.is_some(),
        pool: args.simulate.flatten(),
        views: args.views,
        tune_rounds: args.tune_rounds,
        ..args.coding.overrides()
    })
}
