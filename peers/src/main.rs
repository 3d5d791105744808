//! ZFP, SZ3 and zstd on the 1 000 public sasmodels images, per image, with
//! the error bound scaled by each image's L2 norm, tuned (by bisection on the
//! scale factor) to each target mean relative L2 error. Writes
//! `docs/results/sas_peers.json`, which `examples/sas_results.rs` plots beside
//! the learned codec.
//!
//! Run from the repository root:
//! `cargo run --release --manifest-path peers/Cargo.toml -- [public.f32] [out.json]`

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

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let input = args.next().unwrap_or_else(|| "../shared/data/sas_sasmodels_public.f32".into());
    let output = args.next().unwrap_or_else(|| "docs/results/sas_peers.json".into());
    let bytes = std::fs::read(&input).map_err(|e| format!("{input}: {e}"))?;
    if bytes.len() % (PIXELS * 4) != 0 {
        return Err(format!("{input}: {} bytes are not whole 64×64 f32 images", bytes.len()).into());
    }
    let images: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();

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
