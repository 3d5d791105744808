//! The guaranteed mode on the 1 000 public sasmodels images: every image
//! held to its own bound (`sae compress --max-error`), at six levels of each
//! bound type, with a trained model and without one (the bounded coder alone).
//!
//! Run: `cargo run --release -p sae-studies --bin sas_bounded -- MODEL [OUT.json]`
//!
//! MODEL is a codec file (`sae train …`); OUT defaults to
//! `docs/results/sas_bounded.json`. Environment: `SAE_PUBLIC` (the public
//! images, raw f32, default `../shared/data/sas_sasmodels_public.f32`),
//! `SAE_LEVELS` (comma-separated tolerances, default 1e-1 … 1e-4),
//! `SAE_KINDS` (default `l2,abs,rel`).

use std::error::Error;
use std::time::Instant;

use sae_codec::io::read_raw_f32;
use sae_codec::{Codec, ErrorBound};
use serde_json::json;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIDE: usize = 64;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let model = args.next().ok_or("usage: sas_bounded MODEL [OUT.json]")?;
    let output = args
        .next()
        .unwrap_or_else(|| "docs/results/sas_bounded.json".into());
    let public =
        std::env::var("SAE_PUBLIC").unwrap_or_else(|_| "../shared/data/sas_sasmodels_public.f32".into());
    let levels: Vec<f64> = std::env::var("SAE_LEVELS")
        .unwrap_or_else(|_| "1e-1,3e-2,1e-2,3e-3,1e-3,1e-4".into())
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    let kinds = std::env::var("SAE_KINDS").unwrap_or_else(|_| "l2,abs,rel".into());
    let codec = Codec::load(&model)?;
    let n = SIDE * SIDE;
    let count = std::fs::metadata(&public)?.len() as usize / (n * 4);
    let images = read_raw_f32(&public, &[count, SIDE, SIDE])?.data;
    let raw_mb = (images.len() * 4) as f64 / 1e6;
    let mut rows = Vec::new();
    println!(
        "bound        B/image  ratio  latent residual direct  alone B/image  comp MB/s  dec MB/s  worst"
    );
    for kind in kinds.split(',') {
        for &e in &levels {
            let bound: ErrorBound = format!("{kind}:{e:e}").parse()?;
            let started = Instant::now();
            let (bytes, choices) = codec.compress_bounded_to(&images, bound, Vec::new())?;
            let compress_s = started.elapsed().as_secs_f64();
            let started = Instant::now();
            let back = codec.decompress(&bytes)?;
            let decompress_s = started.elapsed().as_secs_f64();
            let report = bound.check(&images, &back, n)?;
            if !report.violations.is_empty() {
                return Err(format!("{bound}: {} records over the bound", report.violations.len()).into());
            }
            // The bounded coder alone, per image, no container.
            let alone: usize = images
                .chunks_exact(n)
                .map(|x| sae_codec::sae_bounded::encode(x, SIDE, None, bound).map(|b| b.len()))
                .sum::<Result<usize, _>>()?;
            let per_image = bytes.len() as f64 / count as f64;
            let alone_per_image = alone as f64 / count as f64;
            println!(
                "{:<12} {per_image:>7.1} {:>6.1} {:>7} {:>8} {:>6} {alone_per_image:>14.1} {:>10.1} {:>9.1}  {:.3e}",
                bound.to_string(),
                (n * 4) as f64 / per_image,
                choices.latent,
                choices.residual,
                choices.direct,
                raw_mb / compress_s,
                raw_mb / decompress_s,
                report.achieved
            );
            rows.push(json!({
                "bound": bound.to_string(),
                "bytes_per_image": per_image,
                "byte_ratio": (n * 4) as f64 / per_image,
                "choices": choices,
                "bounded_alone_bytes_per_image": alone_per_image,
                "compress_mb_s": raw_mb / compress_s,
                "decompress_mb_s": raw_mb / decompress_s,
                "achieved": report.achieved,
                "violations": report.violations.len(),
            }));
        }
    }
    let report = json!({
        "images": count,
        "source": public,
        "model": model,
        "method": "Codec::compress_bounded_to on all images (file bytes, header included, per image), then decompress and check every record; the bounded coder alone is sae_bounded::encode per image without the container",
        "rows": rows,
    });
    std::fs::write(&output, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("wrote {output}");
    Ok(())
}
