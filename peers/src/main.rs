//! ZFP, SZ3 and zstd on the 1 000 public sasmodels images, per image, with
//! the error bound scaled by each image's L2 norm, tuned (by bisection on the
//! scale factor) to each target mean relative L2 error. Writes
//! `docs/results/sas_peers.json`, which `examples/sas_results.rs` plots beside
//! the learned codec.
//!
//! Run from the repository root:
//! `cargo run --release --manifest-path peers/Cargo.toml -- [public.f32] [out.json]`
//!
//! `… -- bounded [public.f32] [out.json]` instead holds *every* image to its
//! own bound (`l2`, `abs`, `rel`, as `sae compress --max-error` does), each
//! compressor's parameter bisected per image, and writes
//! `docs/results/sas_peers_bounded.json`.

use std::error::Error;
use std::time::Instant;

use serde_json::json;

const SIDE: usize = 64;
const PIXELS: usize = SIDE * SIDE;
const TARGETS: [f64; 5] = [1e-1, 3e-2, 1e-2, 3e-3, 1e-3];

/// One image through a lossy compressor: (compressed bytes, reconstruction).
type Roundtrip = fn(&[f32], f64) -> Result<(Vec<u8>, Vec<f32>), Box<dyn Error>>;

fn norm(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt()
}

fn rel_l2(x: &[f32], y: &[f32]) -> f64 {
    let e: f64 = x.iter().zip(y).map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2)).sum();
    e.sqrt() / norm(x)
}

/// ZFP fixed-accuracy mode: absolute tolerance `tolerance` on every value.
fn zfp(image: &[f32], tolerance: f64) -> Result<(Vec<u8>, Vec<f32>), Box<dyn Error>> {
    use zfp_sys::*;
    // SAFETY: the field points at `image` / `out`, which outlive every call;
    // the buffer is sized by zfp_stream_maximum_size; every object is closed.
    unsafe {
        let mut input = image.to_vec();
        let field = zfp_field_2d(
            input.as_mut_ptr().cast(),
            zfp_type_zfp_type_float,
            SIDE as _,
            SIDE as _,
        );
        let stream = zfp_stream_open(std::ptr::null_mut());
        zfp_stream_set_accuracy(stream, tolerance);
        let capacity = zfp_stream_maximum_size(stream, field);
        let mut buffer = vec![0u8; capacity];
        let bits = stream_open(buffer.as_mut_ptr().cast(), capacity);
        zfp_stream_set_bit_stream(stream, bits);
        zfp_stream_rewind(stream);
        let size = zfp_compress(stream, field);
        zfp_field_free(field);
        zfp_stream_close(stream);
        stream_close(bits);
        if size == 0 {
            return Err("zfp_compress failed".into());
        }
        buffer.truncate(size);

        let mut out = vec![0f32; PIXELS];
        let field = zfp_field_2d(out.as_mut_ptr().cast(), zfp_type_zfp_type_float, SIDE as _, SIDE as _);
        let stream = zfp_stream_open(std::ptr::null_mut());
        zfp_stream_set_accuracy(stream, tolerance);
        let bits = stream_open(buffer.as_mut_ptr().cast(), buffer.len());
        zfp_stream_set_bit_stream(stream, bits);
        zfp_stream_rewind(stream);
        let ok = zfp_decompress(stream, field);
        zfp_field_free(field);
        zfp_stream_close(stream);
        stream_close(bits);
        if ok == 0 {
            return Err("zfp_decompress failed".into());
        }
        Ok((buffer, out))
    }
}

/// SZ3 with an L2-norm error bound and the given predictor.
fn sz3_with(
    image: &[f32],
    bound: f64,
    algorithm: sz3::CompressionAlgorithm,
) -> Result<(Vec<u8>, Vec<f32>), Box<dyn Error>> {
    let data = sz3::DimensionedData::build(&image).dim(SIDE)?.dim(SIDE)?.finish()?;
    let config = sz3::Config::new(sz3::ErrorBound::L2Norm(bound)).compression_algorithm(algorithm);
    let bytes = sz3::compress_with_config(&data, &config)?;
    let (_, back) = sz3::decompress::<f32, _>(&*bytes)?;
    Ok((bytes, back.into_data()))
}

/// SZ3's default predictor (interpolation + Lorenzo).
fn sz3(image: &[f32], bound: f64) -> Result<(Vec<u8>, Vec<f32>), Box<dyn Error>> {
    sz3_with(image, bound, sz3::CompressionAlgorithm::interpolation_lorenzo())
}

/// SZ3 with interpolation only.
fn sz3_interpolation(image: &[f32], bound: f64) -> Result<(Vec<u8>, Vec<f32>), Box<dyn Error>> {
    sz3_with(image, bound, sz3::CompressionAlgorithm::interpolation())
}

/// Compresses every image with bound `c · ‖x‖`; returns (mean rel L2, total bytes, seconds).
fn run(images: &[f32], codec: Roundtrip, c: f64) -> Result<(f64, usize, f64), Box<dyn Error>> {
    let started = Instant::now();
    let (mut error, mut bytes) = (0.0, 0);
    for x in images.chunks(PIXELS) {
        let (compressed, y) = codec(x, c * norm(x))?;
        bytes += compressed.len();
        error += rel_l2(x, &y);
    }
    Ok((error / (images.len() / PIXELS) as f64, bytes, started.elapsed().as_secs_f64()))
}

/// Finds the scale `c` whose mean relative error is within 2% of `target`
/// (bisection in log c; error grows monotonically with c up to quantisation steps).
fn tune(images: &[f32], codec: Roundtrip, target: f64) -> Result<serde_json::Value, Box<dyn Error>> {
    let (mut lo, mut hi) = (target * 1e-3, target * 1e2);
    let mut best: Option<(f64, f64, f64, usize, f64)> = None;
    for _ in 0..40 {
        let c = (lo * hi).sqrt();
        let (error, bytes, seconds) = run(images, codec, c)?;
        let distance = (error / target).ln().abs();
        if best.as_ref().is_none_or(|(d, ..)| distance < *d) {
            best = Some((distance, c, error, bytes, seconds));
        }
        if distance < 0.02 {
            break;
        }
        if error > target { hi = c } else { lo = c }
    }
    let (_, c, error, bytes, seconds) = best.ok_or("no run")?;
    let raw = (images.len() * 4) as f64;
    // Timing of the round trip (compress + decompress) of the chosen setting.
    let (_, _, seconds_again) = run(images, codec, c)?;
    Ok(json!({
        "target": target,
        "scale": c,
        "rel_l2_mean": error,
        "bytes_per_image": bytes as f64 / (images.len() / PIXELS) as f64,
        "byte_ratio": raw / bytes as f64,
        "roundtrip_mb_s": raw / 1e6 / seconds.min(seconds_again),
    }))
}

/// SZ3 with an absolute error bound.
fn sz3_abs(image: &[f32], bound: f64) -> Result<(Vec<u8>, Vec<f32>), Box<dyn Error>> {
    let data = sz3::DimensionedData::build(&image).dim(SIDE)?.dim(SIDE)?.finish()?;
    let config = sz3::Config::new(sz3::ErrorBound::Absolute(bound))
        .compression_algorithm(sz3::CompressionAlgorithm::interpolation_lorenzo());
    let bytes = sz3::compress_with_config(&data, &config)?;
    let (_, back) = sz3::decompress::<f32, _>(&*bytes)?;
    Ok((bytes, back.into_data()))
}

/// A per-record bound: kind (`l2`, `abs`, `rel`) and tolerance.
#[derive(Clone, Copy)]
struct Bound(&'static str, f64);

impl Bound {
    /// The record's error in the bound's terms (as `sae_codec::ErrorBound::measure`).
    fn error(&self, x: &[f32], y: &[f32]) -> f64 {
        if y.len() != x.len() || y.iter().any(|v| !v.is_finite()) {
            return f64::INFINITY;
        }
        let pairs = x.iter().zip(y).map(|(&a, &b)| (f64::from(a), f64::from(b)));
        match self.0 {
            "l2" => {
                let (mut d, mut n) = (0.0, 0.0);
                for (a, b) in pairs {
                    d += (b - a) * (b - a);
                    n += a * a;
                }
                match (d, n) {
                    (0.0, _) => 0.0,
                    (_, 0.0) => f64::INFINITY,
                    _ => (d / n).sqrt(),
                }
            }
            "abs" => pairs.map(|(a, b)| (b - a).abs()).fold(0.0, f64::max),
            _ => pairs
                .map(|(a, b)| match (b - a).abs() {
                    0.0 => 0.0,
                    _ if a == 0.0 => f64::INFINITY,
                    d => d / a.abs(),
                })
                .fold(0.0, f64::max),
        }
    }
}

/// The fewest bytes at which `codec` holds `x` to `bound`: its parameter
/// (an absolute tolerance, or for SZ3's L2 mode a norm) bisected in log
/// space over 30 steps from a start that meets it. `None` if none does.
fn cheapest(x: &[f32], codec: Roundtrip, bound: Bound, start: f64) -> Option<usize> {
    let meets = |t: f64| {
        codec(x, t)
            .ok()
            .filter(|(_, y)| bound.error(x, y) <= bound.1)
            .map(|(b, _)| b.len())
    };
    // Down from the start until the bound holds (at most 2^-40 of it).
    let mut good = start;
    let mut best = None;
    for _ in 0..40 {
        if let Some(bytes) = meets(good) {
            best = Some(bytes);
            break;
        }
        good /= 2.0;
    }
    best?;
    // Up: the largest parameter that still holds, within 30 halvings of the bracket.
    let mut bad = good * 1024.0;
    for _ in 0..30 {
        let mid = (good * bad).sqrt();
        match meets(mid) {
            Some(bytes) => {
                good = mid;
                best = best.map(|b: usize| b.min(bytes));
            }
            None => bad = mid,
        }
    }
    best
}

fn bounded(images: &[f32], input: &str, output: &str) -> Result<(), Box<dyn Error>> {
    let bounds: Vec<Bound> = ["l2", "abs", "rel"]
        .iter()
        .flat_map(|&k| [1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 1e-4].map(|e| Bound(k, e)))
        .collect();
    let count = images.len() / PIXELS;
    let mut rows = Vec::new();
    for (name, codec) in [("zfp", zfp as Roundtrip), ("sz3_abs", sz3_abs as Roundtrip), ("sz3_l2", sz3 as Roundtrip)] {
        for bound in &bounds {
            if name == "sz3_l2" && bound.0 != "l2" {
                continue;
            }
            let started = Instant::now();
            let (mut total, mut failed) = (0usize, 0usize);
            for x in images.chunks_exact(PIXELS) {
                let scale = match bound.0 {
                    "l2" => bound.1 * norm(x),
                    "abs" => bound.1,
                    _ => bound.1 * x.iter().map(|v| f64::from(v.abs())).fold(f64::INFINITY, f64::min).max(1e-30),
                };
                match cheapest(x, codec, *bound, scale.max(1e-30) * 4.0) {
                    Some(b) => total += b,
                    None => failed += 1,
                }
            }
            let ok = count - failed;
            let per_image = total as f64 / ok.max(1) as f64;
            println!(
                "{name:>8} {}:{:e}  {per_image:>7.1} B/image  {:>6.1}x  ({failed} images unreachable, {:.0} s)",
                bound.0,
                bound.1,
                (PIXELS * 4) as f64 / per_image,
                started.elapsed().as_secs_f64()
            );
            rows.push(json!({
                "compressor": name,
                "bound": format!("{}:{:e}", bound.0, bound.1),
                "bytes_per_image": per_image,
                "byte_ratio": (PIXELS * 4) as f64 / per_image,
                "unreachable": failed,
            }));
        }
    }
    let report = json!({
        "images": count,
        "source": input,
        "method": "every image held to its own bound; each compressor's parameter bisected per image (30 steps in log space) for the fewest bytes that meet it",
        "rows": rows,
    });
    std::fs::write(output, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("wrote {output}");
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1).peekable();
    let per_record = args.peek().is_some_and(|a| a == "bounded");
    if per_record {
        args.next();
    }
    let input = args.next().unwrap_or_else(|| "../shared/data/sas_sasmodels_public.f32".into());
    let default_output = if per_record { "docs/results/sas_peers_bounded.json" } else { "docs/results/sas_peers.json" };
    let output = args.next().unwrap_or_else(|| default_output.into());
    let bytes = std::fs::read(&input).map_err(|e| format!("{input}: {e}"))?;
    if bytes.len() % (PIXELS * 4) != 0 {
        return Err(format!("{input}: {} bytes are not whole 64×64 f32 images", bytes.len()).into());
    }
    let images: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if per_record {
        return bounded(&images, &input, &output);
    }

    let mut compressors = serde_json::Map::new();
    for (name, codec) in [
        ("zfp", zfp as Roundtrip),
        ("sz3", sz3 as Roundtrip),
        ("sz3_interpolation", sz3_interpolation as Roundtrip),
        // (SZ3 3.3.2's Lorenzo + regression predictor aborts on these 64×64
        // images inside its decoder — an assertion in MemoryUtil.hpp — so it is left out.)
    ] {
        let mut points = Vec::new();
        for target in TARGETS {
            let p = tune(&images, codec, target)?;
            println!(
                "{name:>4}  target {target:.0e}: mean rel L2 {:.3e}  {:>6.1}×  {:>6.1} B/image  {:.0} MB/s round trip",
                p["rel_l2_mean"].as_f64().unwrap_or(f64::NAN),
                p["byte_ratio"].as_f64().unwrap_or(f64::NAN),
                p["bytes_per_image"].as_f64().unwrap_or(f64::NAN),
                p["roundtrip_mb_s"].as_f64().unwrap_or(f64::NAN),
            );
            points.push(p);
        }
        compressors.insert(name.into(), points.into());
    }

    // zstd -19, lossless, per image and on the whole file.
    let started = Instant::now();
    let per_image: usize = images
        .chunks(PIXELS)
        .map(|x| {
            let raw: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
            zstd::bulk::compress(&raw, 19).map(|c| c.len())
        })
        .sum::<Result<usize, _>>()?;
    let seconds = started.elapsed().as_secs_f64();
    let whole = zstd::bulk::compress(&bytes, 19)?.len();
    let raw = bytes.len() as f64;
    println!(
        "zstd -19 lossless: {:.2}× per image, {:.2}× whole file, {:.1} MB/s",
        raw / per_image as f64,
        raw / whole as f64,
        raw / 1e6 / seconds
    );
    let report = json!({
        "images": images.len() / PIXELS,
        "source": input,
        "method": "per image; error bound = scale × the image's L2 norm; scale bisected to each target mean relative L2 error (within 2%)",
        "compressors": compressors,
        "zstd19_lossless": {
            "byte_ratio_per_image": raw / per_image as f64,
            "byte_ratio_whole_file": raw / whole as f64,
            "compress_mb_s": raw / 1e6 / seconds,
        },
    });
    if let Some(dir) = std::path::Path::new(&output).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&output, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("wrote {output}");
    Ok(())
}
