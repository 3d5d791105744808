//! The SAS rate–distortion study behind `docs/results.md`: train codecs on
//! images from our simulator, test them on the 1 000 public sasmodels images
//! that no model saw, and compare with the classical compressors.
//!
//! Run: `cargo run --release -p sae-studies --bin sas_results -- [CONFIG ...]`
//!
//! With no argument every configuration below runs (about an hour on 2 cores);
//! `summary` only rebuilds the chart and table from the JSON files.
//! Trained models are kept in `$SAE_OUT/models` and reused by later runs, so a
//! study can be resumed or extended one configuration at a time. Each
//! configuration writes `docs/results/sas/<name>.json`; the chart
//! `docs/results/sas_rate_distortion.png` and table `docs/results/sas_table.md`
//! are rebuilt from all JSON files present, including the classical peers'
//! `docs/results/sas_peers.json` (written by the opt-in `peers/` crate).
//!
//! Environment: `SAE_PUBLIC` (the public images, raw f32, default
//! `../shared/data/sas_sasmodels_public.f32`), `SAE_TRAIN` (6000 simulated
//! training images), `SAE_SEED` (1), `SAE_OUT` (target/sas_results),
//! `SAE_RESULTS` (docs/results), `SAE_DEVICE` (cpu).

#[path = "../../../examples/common/mod.rs"]
mod common;

use common::{env, figures};
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sae_codec::io::read_raw_f32;
use sae_codec::sae_container::{ContainerReader, Transform};
use sae_codec::sae_model::{LambdaControl, Refinement, TrainConfig};
use sae_codec::sae_sas::{DatasetConfig, Detector};
use sae_codec::{Codec, CodecConfig, ComputeDevice, IndexFormat, Metrics, Preset, Selector, ValueFormat};
use serde_json::{Value, json};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One trained network of the study.
struct Study {
    name: &'static str,
    /// What the table calls it.
    label: &'static str,
    hidden: f64,
    latent: f64,
    selector: Selector,
    lambda: f64,
    epochs: usize,
    batch: usize,
    log10: bool,
    /// For a model trained outside this program: the command that trained it,
    /// and on how many images. Its file must be in `$SAE_OUT/models`.
    trained_by: Option<(&'static str, usize)>,
}

const fn sweep(name: &'static str, lambda: f64) -> Study {
    Study {
        name,
        label: "(1/4, 1, λ, z)",
        hidden: 0.25,
        latent: 1.0,
        selector: Selector::Identity,
        lambda,
        epochs: 30,
        batch: 128,
        log10: false,
        trained_by: None,
    }
}

/// The study: a λ sweep of the recommended CPU network, the paper's two
/// networks at full 64×64 scale, a log-domain variant and the hourglass baseline.
const STUDIES: &[Study] = &[
    sweep("quarter-l1e-2", 1e-2),
    sweep("quarter-l3e-3", 3e-3),
    sweep("quarter-l1e-3", 1e-3),
    sweep("quarter-l3e-4", 3e-4),
    sweep("quarter-l1e-4", 1e-4),
    Study {
        name: "paper-z",
        label: "(1, 2, λ, z)",
        hidden: 1.0,
        latent: 2.0,
        selector: Selector::Identity,
        lambda: 1e-3,
        epochs: 15,
        batch: 128,
        log10: false,
        trained_by: None,
    },
    Study {
        name: "paper-grad",
        label: "(1, 2, λ, ∇z)",
        hidden: 1.0,
        latent: 2.0,
        selector: Selector::ForwardDifference,
        lambda: 1e-3,
        epochs: 15,
        batch: 128,
        log10: false,
        trained_by: None,
    },
    Study {
        name: "quarter-log10",
        label: "(1/4, 1, λ, z) on log10",
        hidden: 0.25,
        latent: 1.0,
        selector: Selector::Identity,
        lambda: 1e-3,
        epochs: 30,
        batch: 128,
        log10: true,
        trained_by: None,
    },
    // The classical autoencoder: 512 latent units (n/8), no sparsity penalty,
    // hidden width chosen for the parameter count of (1, 2): 2(nm + mk) = 6n².
    Study {
        name: "hourglass",
        label: "hourglass (8/3, 1/8, 0)",
        hidden: 8.0 / 3.0,
        latent: 0.125,
        selector: Selector::Identity,
        lambda: 0.0,
        epochs: 15,
        batch: 128,
        log10: false,
        trained_by: None,
    },
    // The `sae` command line's defaults with `--target-error 3e-2` on 20 000
    // images (docs/results.md §2); copy its model to `models/cli-20k.safetensors`.
    Study {
        name: "cli-20k",
        label: "(1/4, 1, adaptive λ → 3e-2, z), 20 000 images",
        hidden: 0.25,
        latent: 1.0,
        selector: Selector::Identity,
        lambda: f64::NAN,
        epochs: 30,
        batch: 128,
        log10: false,
        trained_by: Some((
            "sae simulate --count 20000 --seed 7 -o train.npy && sae train -i train.npy -o model.safetensors --target-error 3e-2",
            20_000,
        )),
    },
];

/// How one evaluation stores a network's latents.
struct Coding {
    name: &'static str,
    values: ValueFormat,
    indices: IndexFormat,
    /// Compression-time refinement iterations (0: the encoder's latents).
    refine: usize,
}

/// Codings every trained network is evaluated with: the paper's (f16), the
/// earlier default (quantised values, fitted gap table), and the per-unit
/// index model with and without compression-time refinement.
const CODINGS: &[Coding] = &[
    Coding {
        name: "f16",
        values: ValueFormat::F16,
        indices: IndexFormat::FittedGaps,
        refine: 0,
    },
    Coding {
        name: "q0.05",
        values: ValueFormat::Quantized { relative_step: 0.05 },
        indices: IndexFormat::FittedGaps,
        refine: 0,
    },
    Coding {
        name: "q0.1 unit",
        values: ValueFormat::Quantized { relative_step: 0.1 },
        indices: IndexFormat::PerUnit,
        refine: 0,
    },
    Coding {
        name: "q0.1 unit r100",
        values: ValueFormat::Quantized { relative_step: 0.1 },
        indices: IndexFormat::PerUnit,
        refine: 100,
    },
    Coding {
        name: "q0.2 unit r100",
        values: ValueFormat::Quantized { relative_step: 0.2 },
        indices: IndexFormat::PerUnit,
        refine: 100,
    },
];

fn config(study: &Study, seed: u64, device: ComputeDevice) -> CodecConfig {
    // The library's recipe, with the study's network, λ, batch and epochs.
    let recipe = Preset::Sas.config();
    CodecConfig {
        hidden_ratio: study.hidden,
        latent_ratio: study.latent,
        selector: study.selector,
        transforms: if study.log10 {
            // The public images have a background of 1e-3 1/cm: nothing lies below the floor.
            vec![Transform::Log10 { floor: 1e-4 }, Transform::PerRecordScale]
        } else {
            recipe.transforms.clone()
        },
        train: TrainConfig {
            batch_size: study.batch,
            epochs: study.epochs,
            seed,
            lambda: LambdaControl::Fixed(study.lambda),
            ..recipe.train.clone()
        },
        seed,
        device,
        ..recipe
    }
}

/// Per image: RMS difference of log10 intensities (decades), the
/// reconstruction clamped below at the image's smallest original value.
fn log10_rms(original: &[f32], reconstruction: &[f32], pixels: usize) -> Vec<f64> {
    original
        .chunks(pixels)
        .zip(reconstruction.chunks(pixels))
        .map(|(x, y)| {
            let floor = x
                .iter()
                .fold(f32::INFINITY, |a, &v| if v > 0.0 { a.min(v) } else { a });
            let floor = f64::from(floor.max(1e-30));
            let sum: f64 = x
                .iter()
                .zip(y)
                .map(|(&a, &b)| (f64::from(a).max(floor).log10() - f64::from(b).max(floor).log10()).powi(2))
                .sum();
            (sum / pixels as f64).sqrt()
        })
        .collect()
}

fn summary_json(s: &sae_codec::Summary) -> Value {
    json!({"mean": s.mean, "min": s.min, "p50": s.p50, "p90": s.p90, "max": s.max})
}

/// Compresses the public set with `codec` and measures everything the table shows.
fn evaluate(codec: &Codec, public: &[f32], pixels: usize) -> Result<Value, Box<dyn Error>> {
    let started = Instant::now();
    let bytes = codec.compress(public)?;
    let compress_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let back = codec.decompress(&bytes)?;
    let decompress_s = started.elapsed().as_secs_f64();
    let mut reader = ContainerReader::open(std::io::Cursor::new(&bytes))?;
    let nnz: Vec<usize> = (0..reader.len())
        .map(|i| reader.get(i).map(|r| r.latent.nnz()))
        .collect::<Result<_, _>>()?;
    let sizes = reader.size_report()?;
    let m = Metrics::compute(public, &back, pixels, Some(&nnz), Some(bytes.len() as u64))?;
    let logs = sae_codec::Summary::of(&log10_rms(public, &back, pixels));
    let records = m.records as f64;
    let mb = (public.len() * 4) as f64 / 1e6;
    Ok(json!({
        "rel_l2": summary_json(&m.rel_l2),
        "log10_rms_decades": summary_json(&logs),
        "psnr_db": m.psnr_db,
        "pixels_per_nonzero": m.values_per_nonzero.as_ref().map(summary_json),
        "nonzeros_per_image": nnz.iter().sum::<usize>() as f64 / records,
        "byte_ratio": m.byte_ratio,
        "bytes_per_image": bytes.len() as f64 / records,
        "bytes": {
            "total": bytes.len(),
            "header": sizes.header,
            "indices": sizes.record_totals.indices,
            "values": sizes.record_totals.values,
            "framing": sizes.record_totals.framing + sizes.record_totals.extras + sizes.footer,
        },
        "compress_mb_s": mb / compress_s,
        "decompress_mb_s": mb / decompress_s,
    }))
}

/// What every study shares: data, places and settings.
struct Setup {
    /// Simulated training images.
    train: Vec<f32>,
    /// The public test images.
    public: Vec<f32>,
    /// Image side (64).
    side: usize,
    /// Where models are kept.
    out: PathBuf,
    /// Where JSON, the table and the chart go.
    results: PathBuf,
    seed: u64,
    device: ComputeDevice,
}

fn run_study(study: &Study, setup: &Setup) -> Result<(), Box<dyn Error>> {
    let Setup {
        train,
        public,
        side,
        out,
        results,
        seed,
        device,
    } = setup;
    let (side, seed, device) = (*side, *seed, *device);
    let pixels = side * side;
    let model_path = out.join("models").join(format!("{}.safetensors", study.name));
    let json_path = results.join("sas").join(format!("{}.json", study.name));
    let (codec, train_seconds, epochs) = if model_path.exists() {
        // Reuse a model trained by an earlier run; its training time is in the earlier JSON.
        let old: Value = std::fs::read(&json_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        (
            Codec::load_on(&model_path, device)?,
            old["train_seconds"].as_f64().unwrap_or(f64::NAN),
            old["epochs"].as_u64().unwrap_or(study.epochs as u64) as usize,
        )
    } else if let Some((command, _)) = study.trained_by {
        return Err(format!(
            "{} is trained outside this program: run `{command}` and copy the model to {}",
            study.name,
            model_path.display()
        )
        .into());
    } else {
        println!("training {} {} λ = {} ...", study.name, study.label, study.lambda);
        let started = Instant::now();
        let (codec, report) = Codec::train(train, &[side, side], &config(study, seed, device), |p| {
            if let Some(v) = p.validation {
                eprintln!(
                    "  epoch {:>3}: val rel L2 {:.3e}, {:.1} nonzeros",
                    p.epoch + 1,
                    v.rel_error,
                    v.nnz
                );
            }
        })?;
        codec.save(&model_path)?;
        (codec, started.elapsed().as_secs_f64(), report.epochs_run)
    };
    let mut evaluations = serde_json::Map::new();
    for coding in CODINGS {
        let name = coding.name;
        let refinement = (coding.refine > 0).then_some(Refinement {
            iterations: coding.refine,
            ..Refinement::default()
        });
        let recoded = codec
            .with_coding(coding.values, coding.indices, train)?
            .with_refinement(refinement);
        let e = evaluate(&recoded, public, pixels)?;
        println!(
            "  {:<14} {:<6} rel L2 {:.3e}  log10 {:.3}  {:>6.1} nonzeros  {:>6.1}×",
            study.name,
            name,
            e["rel_l2"]["mean"].as_f64().unwrap_or(f64::NAN),
            e["log10_rms_decades"]["mean"].as_f64().unwrap_or(f64::NAN),
            e["nonzeros_per_image"].as_f64().unwrap_or(f64::NAN),
            e["byte_ratio"].as_f64().unwrap_or(f64::NAN),
        );
        evaluations.insert(name.into(), e);
    }
    let record = json!({
        "name": study.name,
        "label": study.label,
        "hidden_ratio": study.hidden,
        "latent_ratio": study.latent,
        "selector": format!("{:?}", study.selector),
        "lambda": study.lambda,
        "transform": if study.log10 { "log10 + per-image L2" } else { "per-image L2" },
        "epochs": epochs,
        "batch": study.batch,
        "train_images": study.trained_by.map_or(train.len() / pixels, |(_, n)| n),
        "trained_by": study.trained_by.map(|(command, _)| command),
        "seed": seed,
        "train_seconds": train_seconds,
        "device": device.to_string(),
        "test_images": public.len() / pixels,
        "values": evaluations,
    });
    std::fs::write(&json_path, serde_json::to_string_pretty(&record)? + "\n")?;
    Ok(())
}

/// MB/s with two significant digits below 10 (refined compression is slow).
fn speed(mb_s: f64) -> String {
    if mb_s < 10.0 {
        format!("{mb_s:.1}")
    } else {
        format!("{mb_s:.0}")
    }
}

/// The coding whose points the chart shows for every network.
const BEST: &str = "q0.1 unit r100";

/// Reads every `sas/*.json` and the peers' file; writes the chart and the table.
fn summarise(results: &Path) -> Result<(), Box<dyn Error>> {
    let mut studies: Vec<Value> = Vec::new();
    for entry in std::fs::read_dir(results.join("sas"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            studies.push(serde_json::from_slice(&std::fs::read(&path)?)?);
        }
    }
    studies.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let mut table = String::from(
        "| network | λ | coding | rel L2 mean / min / max | log10 RMS (decades) mean / max | \
         pixels per nonzero mean / min / max | true byte ratio | bytes/image: indices + values + framing | \
         indices vs 16-bit; latent vs 16-bit + f16 | compress / decompress MB/s | training |\n\
         | --- | ---: | --- | --- | --- | --- | ---: | --- | --- | --- | ---: |\n",
    );
    let mut sweep: Vec<(f64, f64)> = Vec::new();
    let mut sweep_best: Vec<(f64, f64)> = Vec::new();
    let mut sweep_f16: Vec<(f64, f64)> = Vec::new();
    let mut others: Vec<(String, (f64, f64))> = Vec::new();
    for s in &studies {
        let images = s["test_images"].as_f64().unwrap_or(1.0);
        for (format, e) in s["values"].as_object().into_iter().flatten() {
            let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
            let ppn = &e["pixels_per_nonzero"];
            table.push_str(&format!(
                "| {} `{}` | {} | {} | {:.2e} / {:.2e} / {:.2e} | {:.3} / {:.3} | {:.0} / {:.0} / {:.0} | {:.1}× | \
                 {:.0} + {:.0} + {:.0} | {:.0}%; {:.0}% | {} / {} | {:.0} s, {} epochs |\n",
                s["label"].as_str().unwrap_or("?"),
                s["name"].as_str().unwrap_or("?"),
                // An adaptive λ is recorded as NaN (JSON null).
                s["lambda"].as_f64().map_or("adaptive".to_string(), |l| l.to_string()),
                format,
                f(&e["rel_l2"]["mean"]),
                f(&e["rel_l2"]["min"]),
                f(&e["rel_l2"]["max"]),
                f(&e["log10_rms_decades"]["mean"]),
                f(&e["log10_rms_decades"]["max"]),
                f(&ppn["mean"]),
                f(&ppn["min"]),
                f(&ppn["max"]),
                f(&e["byte_ratio"]),
                f(&e["bytes"]["indices"]) / images,
                f(&e["bytes"]["values"]) / images,
                (f(&e["bytes"]["framing"]) + f(&e["bytes"]["header"])) / images,
                100.0 * f(&e["bytes"]["indices"]) / (2.0 * f(&e["nonzeros_per_image"]) * images),
                100.0 * (f(&e["bytes"]["indices"]) + f(&e["bytes"]["values"]))
                    / (4.0 * f(&e["nonzeros_per_image"]) * images),
                speed(f(&e["compress_mb_s"])),
                speed(f(&e["decompress_mb_s"])),
                f(&s["train_seconds"]),
                s["epochs"],
            ));
            let point = (f(&e["rel_l2"]["mean"]), f(&e["byte_ratio"]));
            let name = s["name"].as_str().unwrap_or("");
            let in_sweep = name.starts_with("quarter-l") && !name.contains("log");
            match (in_sweep, format.as_str()) {
                (true, "q0.05") => sweep.push(point),
                (true, BEST) => sweep_best.push(point),
                (true, "f16") => sweep_f16.push(point),
                // The log-domain model is judged on the log scale (table), not on this chart.
                (false, BEST) if !name.contains("log") => {
                    others.push((s["label"].as_str().unwrap_or("?").to_string(), point))
                }
                _ => {}
            }
        }
    }
    std::fs::write(results.join("sas_table.md"), &table)?;
    println!("\n{table}");

    sweep.sort_by(|a, b| a.0.total_cmp(&b.0));
    sweep_best.sort_by(|a, b| a.0.total_cmp(&b.0));
    sweep_f16.sort_by(|a, b| a.0.total_cmp(&b.0));
    let peers: Value = std::fs::read(results.join("sas_peers.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let peer_curve = |name: &str| -> Vec<(f64, f64)> {
        peers["compressors"][name]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p["rel_l2_mean"].as_f64()?, p["byte_ratio"].as_f64()?)))
            .collect()
    };
    let (zfp, sz3) = (peer_curve("zfp"), peer_curve("sz3"));
    let mut curves = vec![
        figures::Curve {
            name: "SAE (1/4,1,λ,z), q0.1, per-unit indices, refined",
            colour: plotters::style::RGBColor(200, 30, 30),
            points: &sweep_best,
        },
        figures::Curve {
            name: "SAE (1/4,1,λ,z), q0.05, gap table",
            colour: plotters::style::RGBColor(230, 110, 150),
            points: &sweep,
        },
        figures::Curve {
            name: "SAE (1/4,1,λ,z), f16 values",
            colour: plotters::style::RGBColor(240, 140, 60),
            points: &sweep_f16,
        },
    ];
    if !zfp.is_empty() {
        curves.push(figures::Curve {
            name: "ZFP fixed accuracy",
            colour: plotters::style::RGBColor(30, 80, 200),
            points: &zfp,
        });
    }
    if !sz3.is_empty() {
        curves.push(figures::Curve {
            name: "SZ3 L2-norm mode",
            colour: plotters::style::RGBColor(30, 160, 60),
            points: &sz3,
        });
    }
    let single: Vec<(String, Vec<(f64, f64)>)> = others.into_iter().map(|(n, p)| (n, vec![p])).collect();
    let palette = [(120, 60, 160), (90, 90, 90), (0, 150, 150), (160, 120, 0)];
    for (i, (name, points)) in single.iter().enumerate() {
        let (r, g, b) = palette[i % palette.len()];
        curves.push(figures::Curve {
            name,
            colour: plotters::style::RGBColor(r, g, b),
            points,
        });
    }
    figures::rate_distortion_chart(
        &results.join("sas_rate_distortion.png"),
        &curves,
        "1 000 public sasmodels images, 64×64",
        "mean relative L2 error (raw intensity)",
        "true byte ratio (f32 bytes / file bytes)",
    )?;
    let points = json!({
        "sae_quarter_q01_unit_refined": sweep_best,
        "sae_quarter_quantised": sweep,
        "sae_quarter_f16": sweep_f16,
        "others": single.iter().map(|(n, p)| json!({"name": n, "points": p})).collect::<Vec<_>>(),
        "zfp": zfp,
        "sz3": sz3,
        "axes": ["mean relative L2 error", "true byte ratio"],
    });
    std::fs::write(
        results.join("sas_rate_distortion.json"),
        serde_json::to_string_pretty(&points)? + "\n",
    )?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let public_path = PathBuf::from(env(
        "SAE_PUBLIC",
        "../shared/data/sas_sasmodels_public.f32".to_string(),
    ));
    let n_train: usize = env("SAE_TRAIN", 6000);
    let seed: u64 = env("SAE_SEED", 1);
    let out = PathBuf::from(env("SAE_OUT", "target/sas_results".to_string()));
    let results = PathBuf::from(env("SAE_RESULTS", "docs/results".to_string()));
    let device: ComputeDevice = std::env::var("SAE_DEVICE")
        .unwrap_or_else(|_| "cpu".into())
        .parse()?;
    std::fs::create_dir_all(out.join("models"))?;
    std::fs::create_dir_all(results.join("sas"))?;

    let names: Vec<String> = std::env::args().skip(1).collect();
    let chosen: Vec<&Study> = if names.is_empty() {
        // Models trained outside this program are included once they are in place.
        STUDIES
            .iter()
            .filter(|s| {
                let present = out
                    .join("models")
                    .join(format!("{}.safetensors", s.name))
                    .exists();
                if s.trained_by.is_some() && !present {
                    println!(
                        "skipping {}: its model comes from the command line (docs/results.md §2)",
                        s.name
                    );
                }
                s.trained_by.is_none() || present
            })
            .collect()
    } else if names == ["summary"] {
        Vec::new()
    } else {
        names
            .iter()
            .map(|n| {
                STUDIES.iter().find(|s| s.name == n).ok_or_else(|| {
                    let known: Vec<&str> = STUDIES.iter().map(|s| s.name).collect();
                    format!("unknown configuration {n}; known: {}", known.join(", "))
                })
            })
            .collect::<Result<_, _>>()?
    };

    if !chosen.is_empty() {
        let detector = Detector::default();
        let side = detector.npix;
        let public = read_raw_f32(&public_path, &[1000, side, side])
            .map_err(|e| format!("reading the public images {}: {e}", public_path.display()))?
            .data;
        let started = Instant::now();
        let (train, _) = DatasetConfig::default().generate(n_train, seed, &detector)?;
        println!(
            "simulated {n_train} training images in {:.1} s (seed {seed}); testing on {} public images",
            started.elapsed().as_secs_f64(),
            public.len() / (side * side)
        );
        let setup = Setup {
            train,
            public,
            side,
            out,
            results: results.clone(),
            seed,
            device,
        };
        for study in chosen {
            run_study(study, &setup)?;
        }
    }
    summarise(&results)
}
