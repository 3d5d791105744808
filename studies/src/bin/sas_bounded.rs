//! The guaranteed mode on the 1 000 public sasmodels images: every image
//! held to its own bound (`sae compress --max-error`), at six levels of each
//! bound type, with a trained model and without one (the bounded coder alone).
//!
//! Run: `cargo run --release -p sae-studies --bin sas_bounded -- MODEL [OUT.json]`
//! (`… -- chart` only redraws the charts from the JSON files).
//!
//! MODEL is a codec file (`sae train …`); OUT defaults to
//! `docs/results/sas_bounded.json`. The charts
//! `docs/results/sas_bounded_{l2,abs,rel}.png` put each bound type's curve
//! beside the classical peers' of `docs/results/sas_peers_bounded.json`
//! (written by `peers/`, `bounded`). Environment: `SAE_PUBLIC` (the public
//! images, raw f32, default `../shared/data/sas_sasmodels_public.f32`),
//! `SAE_LEVELS` (comma-separated tolerances, default 1e-1 … 1e-4),
//! `SAE_KINDS` (default `l2,abs,rel`).

#[path = "../../../examples/common/mod.rs"]
mod common;

use std::error::Error;
use std::path::Path;
use std::time::Instant;

use common::figures;

use sae_codec::io::read_raw_f32;
use sae_codec::{Codec, ErrorBound};
use serde_json::json;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIDE: usize = 64;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let model = args
        .next()
        .ok_or("usage: sas_bounded MODEL [OUT.json] | chart [OUT.json]")?;
    let output = args
        .next()
        .unwrap_or_else(|| "docs/results/sas_bounded.json".into());
    if model == "chart" {
        return charts(Path::new(&output));
    }
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
    charts(Path::new(&output))
}

/// One chart per bound type: bytes per image against the bound, ours and the peers'.
fn charts(ours: &Path) -> Result<(), Box<dyn Error>> {
    let dir = ours.parent().unwrap_or(Path::new("."));
    let read = |p: &Path| -> Result<serde_json::Value, Box<dyn Error>> {
        Ok(serde_json::from_str(&std::fs::read_to_string(p)?)?)
    };
    let ours = read(ours)?;
    let peers = read(&dir.join("sas_peers_bounded.json")).ok();
    let bound_of = |r: &serde_json::Value| -> Option<(String, f64)> {
        let (kind, e) = r["bound"].as_str()?.split_once(':')?;
        Some((kind.to_string(), e.parse().ok()?))
    };
    for kind in ["l2", "abs", "rel"] {
        let points = |rows: &serde_json::Value,
                      pick: &dyn Fn(&serde_json::Value) -> bool,
                      field: &str|
         -> Vec<(f64, f64)> {
            rows.as_array()
                .into_iter()
                .flatten()
                .filter(|r| pick(r))
                .filter_map(|r| {
                    let (k, e) = bound_of(r)?;
                    (k == kind).then_some((e, 16384.0 / r[field].as_f64()?))
                })
                .collect()
        };
        let all = |_: &serde_json::Value| true;
        let codec = points(&ours["rows"], &all, "bytes_per_image");
        if codec.is_empty() {
            continue;
        }
        let alone = points(&ours["rows"], &all, "bounded_alone_bytes_per_image");
        let peer = |name: &'static str| {
            peers.as_ref().map_or_else(Vec::new, |p| {
                points(
                    &p["rows"],
                    &move |r: &serde_json::Value| r["compressor"] == name,
                    "bytes_per_image",
                )
            })
        };
        let (zfp, sz3_abs, sz3_l2) = (peer("zfp"), peer("sz3_abs"), peer("sz3_l2"));
        let mut curves = vec![
            figures::Curve {
                name: "sae-codec --max-error (model + choice per image)",
                colour: plotters::style::RGBColor(200, 30, 30),
                points: &codec,
            },
            figures::Curve {
                name: "sae-bounded alone (no model, no container)",
                colour: plotters::style::RGBColor(240, 140, 60),
                points: &alone,
            },
        ];
        for (name, pts, colour) in [
            (
                "ZFP fixed accuracy, tolerance bisected per image",
                &zfp,
                plotters::style::RGBColor(30, 80, 200),
            ),
            (
                "SZ3 ABS mode, bound bisected per image",
                &sz3_abs,
                plotters::style::RGBColor(30, 160, 60),
            ),
            (
                "SZ3 L2-norm mode, bound bisected per image",
                &sz3_l2,
                plotters::style::RGBColor(0, 150, 150),
            ),
        ] {
            if !pts.is_empty() {
                curves.push(figures::Curve {
                    name,
                    colour,
                    points: pts,
                });
            }
        }
        let path = dir.join(format!("sas_bounded_{kind}.png"));
        figures::rate_distortion_chart(
            &path,
            &curves,
            &format!("Every public SAS image within {kind}:E"),
            &format!("per-image bound E ({kind})"),
            "true byte ratio (f32 bytes / compressed bytes)",
        )?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
