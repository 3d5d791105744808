//! Training throughput at the recipe's shape on a fixed pool, the step on the
//! batch's active units (`StepPath::Auto`, the default) beside the dense step
//! (`StepPath::Dense`, the old path), in one run on the same data and seed.
//!
//! The main job's setting: 6 000 simulated 64×64 images (seed 1), the `sas`
//! preset (`(n, m, l) = (4096, 1024, 4096)`, batch 128), `SAE_BENCH_EPOCHS`
//! epochs (default 10) per path. Prints, per path, samples per second over
//! the whole run, the batch's active units per epoch (the width the latent's
//! products ran on) and the final validation error; then the ratio.
//!
//! Run: `cargo bench --bench train_throughput`. Figures: `docs/benchmarks.md`.

use std::time::Instant;

use sae_codec::sae_sas::{DatasetConfig, Detector};
use sae_codec::{Codec, Preset, StepPath};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Run {
    samples_per_second: f64,
    units_per_epoch: Vec<f64>,
    seconds_per_epoch: Vec<f64>,
    validation: f64,
}

fn run(images: &[f32], epochs: usize, path: StepPath) -> Run {
    let mut config = Preset::Sas.recipe().config;
    config.train.epochs = epochs;
    config.train.step_path = path;
    let mut units = vec![(0usize, 0usize); epochs];
    let mut ends = Vec::new();
    let started = Instant::now();
    let (_, report) = Codec::train(images, &[64, 64], &config, |p| {
        units[p.epoch].0 += p.batch_units;
        units[p.epoch].1 += 1;
        if p.validation.is_some() {
            ends.push(started.elapsed().as_secs_f64());
        }
    })
    .expect("training");
    let seconds = started.elapsed().as_secs_f64();
    // The trainer holds out round(5%) of the samples for validation.
    let samples = images.len() / 4096;
    let trained = (samples - (samples as f64 * config.train.validation_fraction).round() as usize) as f64;
    let mut seconds_per_epoch = Vec::new();
    let mut last = 0.0;
    for end in ends {
        seconds_per_epoch.push(end - last);
        last = end;
    }
    Run {
        samples_per_second: trained * epochs as f64 / seconds,
        units_per_epoch: units
            .iter()
            .map(|&(sum, steps)| sum as f64 / steps.max(1) as f64)
            .collect(),
        seconds_per_epoch,
        validation: report.history.last().map_or(f64::NAN, |v| v.rel_error),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and test harness probes
    }
    let epochs: usize = std::env::var("SAE_BENCH_EPOCHS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let (images, _) = DatasetConfig::default()
        .generate(6000, 1, &Detector::default())
        .expect("simulation");
    let latent = 4096;
    println!(
        "recipe shape (4096, 1024, 4096), batch 128, 6000 images (5% held out), {epochs} epochs per path"
    );
    let mut rates = Vec::new();
    for (name, path) in [
        ("active units (Auto)", StepPath::Auto),
        ("dense (old path)", StepPath::Dense),
    ] {
        let r = run(&images, epochs, path);
        println!(
            "\n{name}: {:.0} samples/s, final validation rel L2 {:.4e}",
            r.samples_per_second, r.validation
        );
        println!("  epoch  active units (of {latent})  seconds");
        for (e, (u, s)) in r.units_per_epoch.iter().zip(&r.seconds_per_epoch).enumerate() {
            println!(
                "  {:>5}  {:>10.0} ({:>4.1}%)  {:>7.1}",
                e + 1,
                u,
                100.0 * u / latent as f64,
                s
            );
        }
        rates.push(r.samples_per_second);
    }
    println!(
        "\nspeed-up of the step on active units: {:.2}x",
        rates[0] / rates[1]
    );
}
