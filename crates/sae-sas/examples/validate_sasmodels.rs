//! Compares the simulator with the images sasmodels computed for the public
//! reference set: per image relative L2 error and worst per-pixel relative error.
//!
//! Run: `cargo run --release -p sae-sas --example validate_sasmodels [-- DATA_DIR]`
//! (default `../shared/data` beside the workspace).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;
use sae_sas::Sidecar;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let sidecar = Sidecar::read(dir.join("sas_sasmodels_public.json"))?;
    let raw = std::fs::read(dir.join("sas_sasmodels_public.f32"))?;
    let reference: Vec<f32> = raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let detector = sidecar.detector()?;
    let pixels = detector.npix * detector.npix;
    let started = Instant::now();
    let results: Vec<(String, f64, f64, usize)> = sidecar
        .images
        .par_iter()
        .enumerate()
        .map(|(i, params)| {
            let scatterer = params.to_scatterer().expect("supported parameters");
            let ours = detector.image(&scatterer).expect("valid detector");
            let theirs = &reference[i * pixels..(i + 1) * pixels];
            let (mut num, mut den, mut worst) = (0.0f64, 0.0f64, 0.0f64);
            for (&a, &b) in ours.iter().zip(theirs) {
                let (a, b) = (f64::from(a), f64::from(b));
                num += (a - b) * (a - b);
                den += b * b;
                worst = worst.max((a - b).abs() / b.abs());
            }
            let label = format!(
                "{}{}",
                params.model,
                params
                    .structure_factor
                    .as_deref()
                    .map(|s| format!("@{s}"))
                    .unwrap_or_default()
            );
            (label, (num / den).sqrt(), worst, i)
        })
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    let mut by_model: BTreeMap<String, (usize, f64, f64, usize)> = BTreeMap::new();
    for (label, rel, worst, index) in &results {
        let e = by_model.entry(label.clone()).or_insert((0, 0.0, 0.0, 0));
        e.0 += 1;
        if *rel > e.1 {
            e.1 = *rel;
            e.3 = *index;
        }
        e.2 = e.2.max(*worst);
    }
    println!("| model | images | worst relative L2 (image) | worst per-pixel relative |");
    println!("| --- | ---: | ---: | ---: |");
    for (label, (count, rel, worst, index)) in &by_model {
        println!("| {label} | {count} | {rel:.2e} (#{index}) | {worst:.2e} |");
    }
    let worst = results.iter().map(|r| r.1).fold(0.0, f64::max);
    println!(
        "\n{} images in {seconds:.1} s ({:.0} images/s); worst relative L2 {worst:.2e}",
        results.len(),
        results.len() as f64 / seconds
    );
    Ok(())
}
