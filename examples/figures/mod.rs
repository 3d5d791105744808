//! Pictures for the `sas_roundtrip` example: image grids on a log colour
//! scale and bar histograms, written as PNG with the `image` crate.

use std::path::Path;

use image::{Rgb, RgbImage};

/// A perceptually ordered dark-blue → green → yellow colour map (viridis-like).
fn colour(t: f64) -> Rgb<u8> {
    let t = t.clamp(0.0, 1.0);
    let stops = [
        (0.267, 0.005, 0.329),
        (0.231, 0.322, 0.545),
        (0.129, 0.569, 0.549),
        (0.369, 0.788, 0.384),
        (0.993, 0.906, 0.144),
    ];
    let x = t * (stops.len() - 1) as f64;
    let i = (x as usize).min(stops.len() - 2);
    let f = x - i as f64;
    let (a, b) = (stops[i], stops[i + 1]);
    let mix = |u: f64, v: f64| ((u + (v - u) * f) * 255.0).round() as u8;
    Rgb([mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2)])
}

/// One panel: row-major values, their row width, and the log10 range shown.
pub type Panel<'a> = (&'a [f32], usize, f64, f64);

/// Rows of panels (each `side × side` values, log10 scale between `lo` and `hi`),
/// upscaled by `zoom`, separated by white lines.
pub fn grid(path: &Path, rows: &[Vec<Panel<'_>>], zoom: u32) -> image::ImageResult<()> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0) as u32;
    let side = rows.iter().flatten().map(|p| p.1).max().unwrap_or(1) as u32;
    let cell = side * zoom + 4;
    let mut img = RgbImage::from_pixel(cols * cell, rows.len() as u32 * cell, Rgb([255, 255, 255]));
    for (r, row) in rows.iter().enumerate() {
        for (c, &(values, width, lo, hi)) in row.iter().enumerate() {
            for (k, &v) in values.iter().enumerate() {
                let (y, x) = ((k / width) as u32, (k % width) as u32);
                let t = if v > 0.0 {
                    (f64::from(v).log10() - lo) / (hi - lo)
                } else {
                    0.0
                };
                for dy in 0..zoom {
                    for dx in 0..zoom {
                        img.put_pixel(
                            c as u32 * cell + x * zoom + dx,
                            r as u32 * cell + y * zoom + dy,
                            colour(t),
                        );
                    }
                }
            }
        }
    }
    img.save(path)
}

/// Counts of `values` in `bins` equal bins between `lo` and `hi` (log10 of the values if `log`).
pub fn histogram(values: &[f64], lo: f64, hi: f64, bins: usize, log: bool) -> Vec<usize> {
    let mut counts = vec![0; bins];
    for &v in values {
        let x = if log { v.max(1e-300).log10() } else { v };
        let b = (((x - lo) / (hi - lo)) * bins as f64)
            .floor()
            .clamp(0.0, (bins - 1) as f64) as usize;
        counts[b] += 1;
    }
    counts
}

/// Bars of a histogram as a PNG (`width` pixels per bar, 200 pixels tall).
pub fn bars(path: &Path, counts: &[usize], width: u32) -> image::ImageResult<()> {
    let height = 200u32;
    let max = counts.iter().copied().max().unwrap_or(1).max(1);
    let mut img = RgbImage::from_pixel(counts.len() as u32 * width, height, Rgb([255, 255, 255]));
    for (i, &c) in counts.iter().enumerate() {
        let h = (c as f64 / max as f64 * (height - 1) as f64).round() as u32;
        for x in i as u32 * width + 1..(i as u32 + 1) * width - 1 {
            for y in height - h..height {
                img.put_pixel(x, y, colour(0.35));
            }
        }
    }
    img.save(path)
}
