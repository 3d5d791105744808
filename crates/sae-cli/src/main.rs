//! `sae`: compress scientific images with sparse overcomplete autoencoders.
//!
//! Every failure is one line on stderr and a non-zero exit code.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use sae_codec::sae_container::{
    ContainerReader, IndexCoding, IndexStatus, Transform, ValueCoding, ValueModel,
};
use sae_codec::sae_model::{LambdaControl, LrSchedule, Refinement, TrainConfig};
use sae_codec::sae_sas::loaders::{Array, read_npy, read_raw_f32, write_npy};
use sae_codec::sae_sas::{DatasetConfig, Detector, ImageParams, Sidecar};
use sae_codec::{Codec, CodecConfig, ComputeDevice, IndexFormat, Metrics, Selector, ValueFormat};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "sae",
    version,
    about = "Compress scientific images with sparse overcomplete autoencoders"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How a model stores latents: options shared by `train` and `recode`.
#[derive(clap::Args)]
struct CodingArgs {
    /// How nonzero latent values are stored.
    #[arg(long, value_enum, default_value_t = ValuesArg::Quantized)]
    values: ValuesArg,
    /// Quantisation step for `--values quantized`, as a fraction of the
    /// RMS nonzero training latent.
    #[arg(long, default_value_t = 0.05)]
    step: f32,
    /// How nonzero positions are coded.
    #[arg(long, value_enum, default_value_t = IndicesArg::PerUnit)]
    indices: IndicesArg,
}

impl CodingArgs {
    fn values(&self) -> ValueFormat {
        match self.values {
            ValuesArg::F32 => ValueFormat::F32,
            ValuesArg::F16 => ValueFormat::F16,
            ValuesArg::Bf16 => ValueFormat::Bf16,
            ValuesArg::Quantized => ValueFormat::Quantized {
                relative_step: self.step,
            },
        }
    }

    fn indices(&self) -> IndexFormat {
        match self.indices {
            IndicesArg::PerUnit => IndexFormat::PerUnit,
            IndicesArg::Gaps => IndexFormat::FittedGaps,
            IndicesArg::Reference => IndexFormat::ReferenceGaps,
        }
    }
}

/// Input array options shared by the subcommands that read images.
#[derive(clap::Args)]
struct Input {
    /// Input images: `.npy` (f32 or f64, shape (N, …)) or raw little-endian f32 with --shape.
    #[arg(short, long)]
    input: PathBuf,
    /// Shape of a raw f32 input, e.g. `1000,64,64`.
    #[arg(long, value_delimiter = ',')]
    shape: Option<Vec<usize>>,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate SAS images: exactly those of a parameter sidecar, or a random seeded set.
    Simulate {
        /// Parameter sidecar (JSON) listing the images to compute, in order.
        #[arg(long, conflicts_with_all = ["count", "seed"])]
        params: Option<PathBuf>,
        /// Number of random images (writes their sidecar beside the output).
        #[arg(long)]
        count: Option<usize>,
        /// Seed of the random images.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Detector pixels per side (random images).
        #[arg(long, default_value_t = 64)]
        npix: usize,
        /// Sub-samples per pixel side (random images).
        #[arg(long, default_value_t = 3)]
        oversample: usize,
        /// Output `.npy`.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Train a codec on images and save it (safetensors with its settings).
    Train {
        #[command(flatten)]
        input: Input,
        /// Output model file.
        #[arg(short, long)]
        output: PathBuf,
        /// Network ratios `m/n,l/n`.
        #[arg(long, value_delimiter = ',', default_values_t = [0.25, 1.0])]
        arch: Vec<f64>,
        /// Sparse-structure selector: `z` or `grad` (∇z).
        #[arg(long, value_enum, default_value_t = SelectorArg::Z)]
        selector: SelectorArg,
        /// Fixed penalty weight λ.
        #[arg(long, default_value_t = 3e-3, conflicts_with = "target_error")]
        lambda: f64,
        /// Steer λ to reach this mean relative L2 error instead.
        #[arg(long)]
        target_error: Option<f64>,
        /// Passes over the data.
        #[arg(long, default_value_t = 30)]
        epochs: usize,
        /// Samples per step.
        #[arg(long, default_value_t = 128)]
        batch: usize,
        /// Learning rate.
        #[arg(long, default_value_t = 1e-3)]
        lr: f64,
        /// Seed of the initialisation and the shuffling.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Data transform before the model.
        #[arg(long, value_enum, default_value_t = TransformArg::L2)]
        transform: TransformArg,
        #[command(flatten)]
        coding: CodingArgs,
        /// Where to train: cpu, cuda, cuda:N or auto (cuda needs a build with `--features cuda`).
        #[arg(long, default_value = "cpu")]
        device: ComputeDevice,
    },
    /// Compress images into a container file.
    Compress {
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
        /// (0: the encoder's latents as they are). Slower, lower error; the
        /// container decodes the same way.
        #[arg(long, default_value_t = 0)]
        refine: usize,
        /// Penalty λ on ‖z‖₁ while refining: larger drops more latents.
        #[arg(long, default_value_t = 0.0)]
        refine_lambda: f64,
        /// Let refinement switch on latents the encoder left at zero.
        #[arg(long)]
        refine_grow: bool,
    },
    /// Decompress a container into images (`.npy`).
    Decompress {
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
    },
    /// Refit a model's coding tables for another value or index coding, without retraining.
    ///
    /// The weights (and so the fingerprint) stay the same: containers made
    /// before and after decode with either file.
    Recode {
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
    },
    /// Show a container's header, record count and where its bytes go.
    Inspect {
        /// The container.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compare a reconstruction with its reference: errors, ratios.
    Eval {
        /// Original images: `.npy`, or raw little-endian f32 with --shape.
        #[arg(long)]
        reference: PathBuf,
        /// Shape of a raw f32 reference, e.g. `1000,64,64`.
        #[arg(long, value_delimiter = ',')]
        shape: Option<Vec<usize>>,
        /// Reconstructed images (`.npy`).
        #[arg(long)]
        reconstruction: PathBuf,
        /// The container, for the byte ratio and nonzeros per image.
        #[arg(long)]
        container: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum SelectorArg {
    /// f(z) = z.
    Z,
    /// f(z) = forward differences of z.
    Grad,
}

#[derive(Clone, Copy, ValueEnum)]
enum ValuesArg {
    /// 32-bit floats.
    F32,
    /// Half precision (the paper's choice).
    F16,
    /// bfloat16.
    Bf16,
    /// Uniform quantisation (`--step`), entropy coded with a fitted table.
    Quantized,
}

#[derive(Clone, Copy, ValueEnum)]
enum IndicesArg {
    /// One decision per latent unit under its training firing rate.
    PerUnit,
    /// Gaps under a table fitted on the training latents.
    Gaps,
    /// Gaps under the paper's discretised Gaussian.
    Reference,
}

#[derive(Clone, Copy, ValueEnum)]
enum TransformArg {
    /// None.
    None,
    /// Per-image L2 normalisation (scale stored per record).
    L2,
    /// log10(max(x, 1e-6)), then per-image L2 normalisation.
    Log10,
}

fn read_images(input: &Input) -> Result<Array> {
    let array = match &input.shape {
        Some(shape) => read_raw_f32(&input.input, shape),
        None => read_npy(&input.input),
    }
    .with_context(|| format!("reading {}", input.input.display()))?;
    if array.shape.len() < 2 {
        bail!(
            "{} has shape {:?}; expected (N, …) images",
            input.input.display(),
            array.shape
        );
    }
    Ok(array)
}

/// Refuses images whose shape is not the model's record shape.
fn check_fits(images: &Array, codec: &Codec) -> Result<()> {
    if images.shape[1..] != codec.record_shape()[..] {
        bail!(
            "images of shape {:?} do not fit the model's records of shape {:?}",
            &images.shape[1..],
            codec.record_shape()
        );
    }
    Ok(())
}

fn load_codec(path: &Path, device: ComputeDevice) -> Result<Codec> {
    Codec::load_on(path, device).with_context(|| format!("loading model {}", path.display()))
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Simulate {
            params,
            count,
            seed,
            npix,
            oversample,
            output,
        } => simulate(params, count, seed, npix, oversample, &output),
        Command::Train {
            input,
            output,
            arch,
            selector,
            lambda,
            target_error,
            epochs,
            batch,
            lr,
            seed,
            transform,
            coding,
            device,
        } => {
            let images = read_images(&input)?;
            let [hidden, latent] = arch[..] else {
                bail!("--arch takes two ratios, m/n,l/n");
            };
            let config = CodecConfig {
                hidden_ratio: hidden,
                latent_ratio: latent,
                selector: match selector {
                    SelectorArg::Z => Selector::Identity,
                    SelectorArg::Grad => Selector::ForwardDifference,
                },
                transforms: match transform {
                    TransformArg::None => vec![],
                    TransformArg::L2 => vec![Transform::PerRecordScale],
                    TransformArg::Log10 => vec![Transform::Log10 { floor: 1e-6 }, Transform::PerRecordScale],
                },
                train: TrainConfig {
                    learning_rate: lr,
                    schedule: LrSchedule::Cosine { min_factor: 0.1 },
                    batch_size: batch,
                    epochs,
                    seed,
                    validation_fraction: 0.05,
                    lambda: match target_error {
                        Some(e) => LambdaControl::adaptive(e, lambda),
                        None => LambdaControl::Fixed(lambda),
                    },
                    ..TrainConfig::default()
                },
                values: coding.values(),
                indices: coding.indices(),
                seed,
                device,
                ..CodecConfig::default()
            };
            let bar = ProgressBar::new(epochs as u64);
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
            codec
                .save(&output)
                .with_context(|| format!("writing {}", output.display()))?;
            if let Some(v) = report.history.last() {
                eprintln!(
                    "trained {} epochs in {:.0} s: validation relative L2 {:.3e}, {:.1} nonzeros per image",
                    report.epochs_run, report.seconds, v.rel_error, v.nnz
                );
            }
            Ok(())
        }
        Command::Compress {
            model,
            input,
            output,
            device,
            refine,
            refine_lambda,
            refine_grow,
        } => {
            let refinement = (refine > 0).then_some(Refinement {
                iterations: refine,
                lambda: refine_lambda,
                grow_support: refine_grow,
                // The codec fills in its quantisation step.
                lattice: None,
            });
            let codec = load_codec(&model, device)?.with_refinement(refinement);
            let images = read_images(&input)?;
            check_fits(&images, &codec)?;
            let bytes = codec.compress(&images.data).context("compressing")?;
            std::fs::write(&output, &bytes).with_context(|| format!("writing {}", output.display()))?;
            eprintln!(
                "{} images, {} bytes ({:.1}x)",
                images.records(),
                bytes.len(),
                (images.data.len() * 4) as f64 / bytes.len() as f64
            );
            Ok(())
        }
        Command::Decompress {
            model,
            input,
            output,
            device,
        } => {
            let codec = load_codec(&model, device)?;
            let bytes = std::fs::read(&input).with_context(|| format!("reading {}", input.display()))?;
            let data = codec
                .decompress(&bytes)
                .with_context(|| format!("decompressing {}", input.display()))?;
            let mut shape = vec![data.len() / codec.record_shape().iter().product::<usize>()];
            shape.extend(codec.record_shape());
            write_npy(&output, &Array::new(shape, data)?)
                .with_context(|| format!("writing {}", output.display()))?;
            Ok(())
        }
        Command::Recode {
            model,
            input,
            output,
            coding,
        } => {
            let codec = load_codec(&model, ComputeDevice::Cpu)?;
            let images = read_images(&input)?;
            check_fits(&images, &codec)?;
            let recoded = codec
                .with_coding(coding.values(), coding.indices(), &images.data)
                .context("fitting the coding tables")?;
            recoded
                .save(&output)
                .with_context(|| format!("writing {}", output.display()))?;
            eprintln!(
                "wrote {} (tables fitted on {} images)",
                output.display(),
                images.records()
            );
            Ok(())
        }
        Command::Inspect { file, json } => inspect(&file, json),
        Command::Eval {
            reference,
            shape,
            reconstruction,
            container,
            json,
        } => eval(
            &Input {
                input: reference,
                shape,
            },
            &reconstruction,
            container.as_deref(),
            json,
        ),
    }
}

fn simulate(
    params: Option<PathBuf>,
    count: Option<usize>,
    seed: u64,
    npix: usize,
    oversample: usize,
    output: &Path,
) -> Result<()> {
    let (data, detector, count) = match (params, count) {
        (Some(path), _) => {
            let sidecar = Sidecar::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let detector = sidecar.detector()?;
            let scatterers = sidecar
                .images
                .iter()
                .map(ImageParams::to_scatterer)
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("parameters in {}", path.display()))?;
            (detector.images(&scatterers)?, detector, scatterers.len())
        }
        (None, Some(count)) => {
            let detector = Detector {
                npix,
                oversample,
                ..Detector::default()
            };
            let (data, sidecar) = DatasetConfig::default().generate(count, seed, &detector)?;
            let json = output.with_extension("json");
            sidecar.write(&json)?;
            (data, detector, count)
        }
        (None, None) => bail!("give --params FILE or --count N"),
    };
    let array = Array::new(vec![count, detector.npix, detector.npix], data)?;
    write_npy(output, &array).with_context(|| format!("writing {}", output.display()))?;
    Ok(())
}

fn inspect(path: &Path, json: bool) -> Result<()> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader =
        ContainerReader::open(BufReader::new(file)).with_context(|| format!("reading {}", path.display()))?;
    let report = reader
        .size_report()
        .with_context(|| format!("reading {}", path.display()))?;
    let h = reader.header().clone();
    let finished = matches!(reader.status(), IndexStatus::Indexed);
    if json {
        let value = serde_json::json!({
            "records": reader.len(),
            "finished": finished,
            "record_shape": h.record_shape,
            "latent_len": h.latent_len,
            "index_coding": describe_indices(&h.index_coding),
            "value_coding": describe_values(&h.value_coding),
            "transforms": format!("{:?}", h.transforms),
            "model_name": h.model_name,
            "fingerprint": h.fingerprint.map(|f| sae_codec::sae_model::hex(&f.digest)),
            "bytes": {"total": report.total(), "header": report.header, "footer": report.footer,
                      "indices": report.record_totals.indices, "values": report.record_totals.values,
                      "framing": report.record_totals.framing, "extras": report.record_totals.extras,
                      "trailing": report.trailing},
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!(
            "records        {}{}",
            reader.len(),
            if finished {
                ""
            } else {
                " (unfinished file, recovered)"
            }
        );
        println!(
            "record shape   {:?}, latent length {}",
            h.record_shape, h.latent_len
        );
        println!("indices        {}", describe_indices(&h.index_coding));
        println!("values         {}", describe_values(&h.value_coding));
        println!("transforms     {:?}", h.transforms);
        if let Some(name) = &h.model_name {
            println!("model          {name}");
        }
        println!(
            "bytes          {} total: header {}, indices {}, values {}, framing {}, extras {}, footer {}",
            report.total(),
            report.header,
            report.record_totals.indices,
            report.record_totals.values,
            report.record_totals.framing,
            report.record_totals.extras,
            report.footer
        );
    }
    Ok(())
}

fn eval(reference: &Input, reconstruction: &Path, container: Option<&Path>, json: bool) -> Result<()> {
    let a = read_images(reference)?;
    let b = read_npy(reconstruction).with_context(|| format!("reading {}", reconstruction.display()))?;
    if a.shape != b.shape {
        bail!(
            "reference has shape {:?} but reconstruction {:?}",
            a.shape,
            b.shape
        );
    }
    let (nnz, bytes) = match container {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let mut reader = ContainerReader::open(std::io::Cursor::new(&bytes))?;
            let nnz = (0..reader.len())
                .map(|i| reader.get(i).map(|r| r.latent.nnz()))
                .collect::<Result<Vec<_>, _>>()?;
            (Some(nnz), Some(bytes.len() as u64))
        }
        None => (None, None),
    };
    let record_len: usize = a.shape[1..].iter().product();
    let m = Metrics::compute(&a.data, &b.data, record_len, nnz.as_deref(), bytes)?;
    if json {
        let value = serde_json::json!({
            "records": m.records,
            "rel_l2": {"mean": m.rel_l2.mean, "min": m.rel_l2.min, "p50": m.rel_l2.p50, "p90": m.rel_l2.p90, "p99": m.rel_l2.p99, "max": m.rel_l2.max},
            "psnr_db": m.psnr_db,
            "max_abs_error": m.max_abs_error,
            "values_per_nonzero": m.values_per_nonzero.map(|s| serde_json::json!({"mean": s.mean, "min": s.min, "max": s.max})),
            "byte_ratio": m.byte_ratio,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("records                 {}", m.records);
        println!(
            "relative L2 error       mean {:.3e}  min {:.3e}  median {:.3e}  p90 {:.3e}  max {:.3e}",
            m.rel_l2.mean, m.rel_l2.min, m.rel_l2.p50, m.rel_l2.p90, m.rel_l2.max
        );
        println!("PSNR                    {:.1} dB", m.psnr_db);
        println!("max abs error           {:.3e}", m.max_abs_error);
        if let Some(v) = m.values_per_nonzero {
            println!(
                "values per nonzero      mean {:.1}  min {:.1}  max {:.1}",
                v.mean, v.min, v.max
            );
        }
        if let Some(r) = m.byte_ratio {
            println!("byte ratio              {r:.1}x");
        }
    }
    Ok(())
}

/// One line about the index model (a fitted table has thousands of entries: summarise it).
fn describe_indices(coding: &IndexCoding) -> String {
    match coding {
        IndexCoding::Gaussian {
            sigma2,
            floor,
            precision,
        } => format!("Gaussian gaps, σ² = {sigma2}, floor {floor}, {precision}-bit"),
        IndexCoding::Table { frequencies } => format!("fitted gap table of {} symbols", frequencies.len()),
        IndexCoding::Adaptive { increment } => format!("adaptive gaps, increment {increment}"),
        IndexCoding::Uniform => "uniform gaps".into(),
        IndexCoding::PerUnit { frequencies } => {
            let mean = frequencies.iter().map(|&f| f64::from(f)).sum::<f64>()
                / (frequencies.len().max(1) as f64 * f64::from(1u32 << IndexCoding::PER_UNIT_PRECISION));
            format!(
                "per-unit activity table of {} units (mean probability {mean:.4})",
                frequencies.len()
            )
        }
        other => format!("{other:?}"),
    }
}

/// One line about the value coding.
fn describe_values(coding: &ValueCoding) -> String {
    match coding {
        ValueCoding::Quantized { step, model } => match model {
            ValueModel::Table { frequencies } => {
                format!(
                    "quantised, step {step:e}, fitted table of {} symbols",
                    frequencies.len()
                )
            }
            ValueModel::Adaptive { alphabet } => {
                format!("quantised, step {step:e}, adaptive over {alphabet} symbols")
            }
            other => format!("quantised, step {step:e}, {other:?}"),
        },
        other => format!("{other:?}"),
    }
}
