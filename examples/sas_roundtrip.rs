//! The main job: simulate small-angle scattering images, train a sparse
//! autoencoder on them, compress a held-out set into a container file, read it
//! back, decompress, verify, and report ratios, errors and speeds.
//!
//! Run: `cargo run --release --example sas_roundtrip`
//!
//! The settings are the library's `Preset::Sas`; environment variables change
//! them (measured figures in README.md):
//! `SAE_TRAIN` (6000 training images), `SAE_TEST` (500 test images),
//! `SAE_EPOCHS` (30), `SAE_HIDDEN` / `SAE_LATENT` (ratios m/n = 0.25, l/n = 1),
//! `SAE_LAMBDA` (3e-3), `SAE_LR` (learning rate, 3e-3, after 200 warm-up steps), `SAE_BATCH` (128), `SAE_SEED` (1), `SAE_OUT` (target/sas_roundtrip),
//! `SAE_VALUES` (a value format: `quantized:STEP` with the step a fraction of
//! the RMS latent, the preset's `quantized:0.05`; or `f16`, …), `SAE_DEVICE` (`cpu`; `cuda` in a `--features cuda` build),
//! `SAE_REFINE` (compression-time refinement iterations, the preset's 100; 0: off; see `Codec::with_refinement`),
//! `SAE_MAX_ERROR` (the bound of the guaranteed-mode run, `l2:1e-2`; `none` skips it).
//! The paper's configuration on a GPU:
//! `SAE_TRAIN=50000 SAE_HIDDEN=1 SAE_LATENT=2 SAE_DEVICE=cuda cargo run --release --features cuda --example sas_roundtrip`.

use std::io::Cursor;
use std::path::PathBuf;
use std::time::Instant;

mod common;

use common::{env, env_opt};
use sae_codec::sae_container::ContainerReader;
use sae_codec::sae_sas::{DatasetConfig, Detector};
use sae_codec::{Codec, LambdaControl, Metrics, Overrides, Preset, radial_profile};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The library's recipe for these images; the environment overrides parts of
    // it, as one value the library applies and checks.
    let n_train: usize = env("SAE_TRAIN", 6000);
    let n_test: usize = env("SAE_TEST", 500);
    let overrides = Overrides {
        epochs: env_opt("SAE_EPOCHS"),
        arch: match (env_opt("SAE_HIDDEN"), env_opt("SAE_LATENT")) {
            (None, None) => None,
            (hidden, latent) => {
                let preset = Preset::Sas.config();
                Some((
                    hidden.unwrap_or(preset.hidden_ratio),
                    latent.unwrap_or(preset.latent_ratio),
                ))
            }
        },
        lambda: env_opt("SAE_LAMBDA"),
        learning_rate: env_opt("SAE_LR"),
        batch: env_opt("SAE_BATCH"),
        seed: Some(env("SAE_SEED", 1)),
        device: std::env::var("SAE_DEVICE").ok().map(|t| t.parse()).transpose()?,
        values: std::env::var("SAE_VALUES").ok().map(|t| t.parse()).transpose()?,
        refine: env_opt("SAE_REFINE"),
        ..Overrides::default()
    };
    let recipe = Preset::Sas.recipe().apply(&overrides)?;
    let config = &recipe.config;
    let seed = config.seed;
    let (hidden, latent, device, values) = (
        config.hidden_ratio,
        config.latent_ratio,
        config.device,
        config.values,
    );
    let LambdaControl::Fixed(lambda) = config.train.lambda else {
        return Err("the sas recipe fixes λ".into());
    };
    let out = PathBuf::from(env("SAE_OUT", "target/sas_roundtrip".to_string()));
    std::fs::create_dir_all(&out)?;

    let detector = Detector::default();
    let pixels = detector.npix * detector.npix;
    let started = Instant::now();
    let dataset = DatasetConfig::default();
    let (train, _) = dataset.generate(n_train, seed, &detector)?;
    let (test, sidecar) = dataset.generate(n_test, seed + 1_000_000, &detector)?;
    sidecar.write(out.join("test.json"))?;
    println!(
        "simulated {} + {} images of {}×{} in {:.1} s",
        n_train,
        n_test,
        detector.npix,
        detector.npix,
        started.elapsed().as_secs_f64()
    );

    let (bar, progress) = common::training_bar(config.train.epochs);
    let started = Instant::now();
    let (codec, report) = Codec::train(&train, &[detector.npix, detector.npix], config, progress)?;
    bar.finish();
    let train_seconds = started.elapsed().as_secs_f64();
    codec.save(out.join("model.safetensors"))?;
    let codec = codec.with_refinement(recipe.refinement);

    let started = Instant::now();
    let bytes = codec.compress(&test)?;
    let compress_seconds = started.elapsed().as_secs_f64();
    let path = out.join("test.sae");
    std::fs::write(&path, &bytes)?;
    let bytes = std::fs::read(&path)?;
    let started = Instant::now();
    let back = codec.decompress(&bytes)?;
    let decompress_seconds = started.elapsed().as_secs_f64();

    let mut reader = ContainerReader::open(Cursor::new(&bytes))?;
    let nnz: Vec<usize> = (0..reader.len())
        .map(|i| reader.get(i).map(|r| r.latent.nnz()))
        .collect::<Result<_, _>>()?;
    let sizes = reader.size_report()?;
    let shape = [detector.npix, detector.npix];
    let m = Metrics::compute(&test, &back, pixels, Some(&nnz), Some(bytes.len() as u64))?
        .with_radial(&test, &back, &shape)?;
    let ratio = m.values_per_nonzero.expect("nonzeros given");

    println!("\n| quantity | value |");
    println!("| --- | ---: |");
    println!(
        "| network | ({hidden}, {latent}), λ = {lambda}, {} epochs on {device} |",
        report.epochs_run
    );
    println!("| values | {values} |");
    println!("| training time | {train_seconds:.0} s |");
    println!("| test images | {} |", m.records);
    println!(
        "| relative L2 error: mean / median / max | {:.3e} / {:.3e} / {:.3e} |",
        m.rel_l2.mean, m.rel_l2.p50, m.rel_l2.max
    );
    if let Some(l) = m.log10_rms {
        println!(
            "| log10-domain error, RMS decades: mean / median / max | {:.3} / {:.3} / {:.3} |",
            l.mean, l.p50, l.max
        );
    }
    if let Some(r) = m.radial_max_rel {
        println!(
            "| I(q) curve: max relative deviation per image: mean / median / max | {:.3e} / {:.3e} / {:.3e} |",
            r.mean, r.p50, r.max
        );
    }
    println!("| PSNR | {:.1} dB |", m.psnr_db);
    println!(
        "| nonzero latents per image: mean | {:.1} |",
        nnz.iter().sum::<usize>() as f64 / nnz.len() as f64
    );
    println!(
        "| pixels per nonzero (paper's ratio): mean / min / max | {:.0} / {:.0} / {:.0} |",
        ratio.mean, ratio.min, ratio.max
    );
    println!(
        "| true byte ratio (f32 bytes / file bytes) | {:.1}× |",
        m.byte_ratio.unwrap_or(f64::NAN)
    );
    println!(
        "| file: header / indices / values / framing+footer | {} / {} / {} / {} bytes |",
        sizes.header,
        sizes.record_totals.indices,
        sizes.record_totals.values,
        sizes.record_totals.framing + sizes.record_totals.extras + sizes.footer
    );
    println!(
        "| compress | {:.0} images/s |",
        m.records as f64 / compress_seconds
    );
    println!(
        "| decompress | {:.0} images/s |",
        m.records as f64 / decompress_seconds
    );

    // The guaranteed mode: the same images, every one within a bound.
    let max_error: String = env("SAE_MAX_ERROR", "l2:1e-2".to_string());
    if max_error != "none" {
        let bound: sae_codec::ErrorBound = max_error.parse()?;
        let started = Instant::now();
        let (bounded, choices) = codec.compress_bounded_to(&test, bound, Vec::new())?;
        let seconds = started.elapsed().as_secs_f64();
        std::fs::write(out.join("test-bounded.sae"), &bounded)?;
        let report = bound.check(&test, &codec.decompress(&bounded)?, pixels)?;
        if !report.violations.is_empty() {
            return Err(format!("{} images exceed {bound}", report.violations.len()).into());
        }
        println!(
            "| guaranteed {bound} (`sae compress --max-error`): true byte ratio, worst error | {:.1}×, {:.3e} |",
            (test.len() * 4) as f64 / bounded.len() as f64,
            report.achieved
        );
        println!(
            "| guaranteed: images by the latent alone / with a correction / coded directly; compress | {} / {} / {}; {:.0} images/s |",
            choices.latent,
            choices.residual,
            choices.direct,
            m.records as f64 / seconds
        );
    }

    // Pictures: four test images (original | reconstruction | latent), log colour scale.
    let latents: Vec<Vec<f32>> = (0..4.min(m.records))
        .map(|i| reader.get(i).map(|r| r.latent.to_dense()))
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for (i, latent) in latents.iter().enumerate() {
        let original = &test[i * pixels..(i + 1) * pixels];
        let (lo, hi) = original
            .iter()
            .filter(|&&v| v > 0.0)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(f64::from(v).log10()), b.max(f64::from(v).log10()))
            });
        let side = (latent.len() as f64).sqrt().ceil() as usize;
        let top = latent.iter().fold(0f32, |a, &v| a.max(v)).max(1e-30);
        rows.push(vec![
            (original, detector.npix, lo, hi),
            (&back[i * pixels..(i + 1) * pixels], detector.npix, lo, hi),
            (
                latent.as_slice(),
                side,
                f64::from(top).log10() - 3.0,
                f64::from(top).log10(),
            ),
        ]);
    }
    common::figures::grid(
        &out.join("examples.png"),
        &["original", "reconstructed", "latent"],
        &rows,
        3,
    )?;

    // Scattering curves: the azimuthal average I(q) of four test images and of their reconstructions.
    let q_of = |k: usize| (k as f64 + 0.5) * 2.0 * detector.qmax / detector.npix as f64;
    type Curve = Vec<(f64, f64)>;
    let curves: Vec<(Curve, Curve)> = (0..4.min(m.records))
        .map(|i| {
            let at = |data: &[f32]| {
                radial_profile(&data[i * pixels..(i + 1) * pixels], detector.npix, detector.npix)
                    .into_iter()
                    .enumerate()
                    .map(|(k, v)| (q_of(k), v))
                    .collect::<Vec<_>>()
            };
            (at(&test), at(&back))
        })
        .collect();
    let panels: Vec<common::figures::Profiles<'_>> = curves
        .iter()
        .enumerate()
        .map(|(i, (original, reconstruction))| common::figures::Profiles {
            title: format!("test image {i}: {}", sidecar.images[i].model),
            original,
            reconstruction,
        })
        .collect();
    common::figures::profile_chart(&out.join("iq.png"), &panels, "q (1/Å)")?;

    // Histograms of the relative error (log10 bins from 1e-3 to 1) and of the ratio.
    let errors: Vec<f64> = test
        .chunks(pixels)
        .zip(back.chunks(pixels))
        .map(|(x, y)| {
            let e: f64 = x
                .iter()
                .zip(y)
                .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
                .sum();
            let n: f64 = x.iter().map(|a| f64::from(*a).powi(2)).sum();
            (e / n).sqrt()
        })
        .collect();
    let ratios: Vec<f64> = nnz.iter().map(|&k| pixels as f64 / k.max(1) as f64).collect();
    let error_counts = common::figures::histogram(&errors, -3.0, 0.0, 12, true);
    let ratio_counts = common::figures::histogram(&ratios, 0.0, 600.0, 12, false);
    common::figures::histogram_chart(
        &out.join("error_histogram.png"),
        &error_counts,
        (-3.0, 0.0),
        true,
        &format!("relative L2 error of {} test images", m.records),
        "relative L2 error (raw intensity)",
    )?;
    common::figures::histogram_chart(
        &out.join("ratio_histogram.png"),
        &ratio_counts,
        (0.0, 600.0),
        false,
        &format!("pixels per nonzero latent, {} test images", m.records),
        "pixels per nonzero latent",
    )?;
    println!("\nrelative L2 error per image (log10 bins of 0.25 from 1e-3):");
    for (b, c) in error_counts.iter().enumerate() {
        let lo = -3.0 + 0.25 * b as f64;
        println!(
            "  {:>9.2e} .. {:>9.2e}  {:>4}  {}",
            10f64.powf(lo),
            10f64.powf(lo + 0.25),
            c,
            "#".repeat(*c * 60 / m.records.max(1))
        );
    }
    println!("pixels per nonzero latent per image (bins of 50):");
    for (b, c) in ratio_counts.iter().enumerate() {
        println!(
            "  {:>4} .. {:>4}  {:>4}  {}",
            50 * b,
            50 * (b + 1),
            c,
            "#".repeat(*c * 60 / m.records.max(1))
        );
    }
    println!(
        "\nwrote {} (container), model.safetensors, test.json, examples.png (original | reconstruction | latent, \
         log colour), iq.png (azimuthal averages I(q), original and reconstructed), \
         error_histogram.png and ratio_histogram.png (the bins above) in {}",
        path.display(),
        out.display()
    );
    Ok(())
}
