//! Pictures for the examples: image grids on a log colour scale (drawn with
//! the `image` crate) and charts with labelled axes (drawn with `plotters`,
//! text in the bundled DejaVu Sans Mono so no system font is needed).

#![allow(dead_code)] // each example uses the part it needs

use std::error::Error;
use std::path::Path;
use std::sync::Once;

use image::{Rgb, RgbImage};
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Font family name the charts ask for.
const FONT: &str = "sans-serif";

/// Registers the bundled font once per process (plotters' `ab_glyph` backend
/// only draws text in fonts registered by name).
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");
        if plotters::style::register_font(FONT, FontStyle::Normal, bytes).is_err() {
            eprintln!("warning: the bundled font could not be loaded; charts will have no text");
        }
    });
}

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

/// Height of the strip above a grid that holds the column titles.
const TITLE_STRIP: u32 = 22;

/// Rows of panels (each `side × side` values, log10 scale between `lo` and `hi`),
/// upscaled by `zoom`, separated by white lines, under one title per column.
pub fn grid(path: &Path, titles: &[&str], rows: &[Vec<Panel<'_>>], zoom: u32) -> Result<(), Box<dyn Error>> {
    register_font();
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0) as u32;
    let side = rows.iter().flatten().map(|p| p.1).max().unwrap_or(1) as u32;
    let cell = side * zoom + 4;
    let (width, height) = (cols * cell, TITLE_STRIP + rows.len() as u32 * cell);
    let mut img = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    for (r, row) in rows.iter().enumerate() {
        for (c, &(values, row_width, lo, hi)) in row.iter().enumerate() {
            for (k, &v) in values.iter().enumerate() {
                let (y, x) = ((k / row_width) as u32, (k % row_width) as u32);
                let t = if v > 0.0 {
                    (f64::from(v).log10() - lo) / (hi - lo)
                } else {
                    0.0
                };
                for dy in 0..zoom {
                    for dx in 0..zoom {
                        img.put_pixel(
                            c as u32 * cell + x * zoom + dx,
                            TITLE_STRIP + r as u32 * cell + y * zoom + dy,
                            colour(t),
                        );
                    }
                }
            }
        }
    }
    {
        let root = BitMapBackend::with_buffer(img.as_mut(), (width, height)).into_drawing_area();
        for (c, title) in titles.iter().enumerate() {
            root.draw(&Text::new(
                title.to_string(),
                (c as i32 * cell as i32 + 4, 3),
                (FONT, 15).into_font().color(&BLACK),
            ))?;
        }
        root.present()?;
    }
    img.save(path)?;
    Ok(())
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

/// A histogram chart: `counts` over equal bins from `lo` to `hi` (powers of
/// ten of them on a log axis if `log`), with a title and axis labels.
pub fn histogram_chart(
    path: &Path,
    counts: &[usize],
    (lo, hi): (f64, f64),
    log: bool,
    title: &str,
    x_label: &str,
) -> Result<(), Box<dyn Error>> {
    register_font();
    let root = BitMapBackend::new(path, (640, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.08;
    let edge = |b: usize| {
        let x = lo + (hi - lo) * b as f64 / counts.len() as f64;
        if log { 10f64.powf(x) } else { x }
    };
    let bars = counts
        .iter()
        .enumerate()
        .map(|(b, &c)| Rectangle::new([(edge(b), 0.0), (edge(b + 1), c as f64)], BLUE.mix(0.6).filled()));
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(title, (FONT, 20))
        .margin(12)
        .margin_right(24)
        .x_label_area_size(42)
        .y_label_area_size(56);
    if log {
        let mut chart = builder.build_cartesian_2d(log_axis(edge(0), edge(counts.len()), &[]), 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc("images")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .x_label_formatter(&|x| log_tick_label(*x, &[], false))
            .label_style((FONT, 14))
            .draw()?;
        chart.draw_series(bars)?;
    } else {
        let mut chart = builder.build_cartesian_2d(edge(0)..edge(counts.len()), 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc("images")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style((FONT, 14))
            .draw()?;
        chart.draw_series(bars)?;
    }
    root.present()?;
    Ok(())
}

/// One curve of a rate–distortion chart: name, colour and (error, ratio) points.
pub struct Curve<'a> {
    /// Legend text.
    pub name: &'a str,
    /// Line and marker colour.
    pub colour: RGBColor,
    /// Points as (mean relative L2 error, compression ratio).
    pub points: &'a [(f64, f64)],
}

/// Rate–distortion chart on log–log axes: error on x, ratio on y.
pub fn rate_distortion_chart(
    path: &Path,
    curves: &[Curve<'_>],
    title: &str,
    x_label: &str,
    y_label: &str,
) -> Result<(), Box<dyn Error>> {
    register_font();
    let all = curves.iter().flat_map(|c| c.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, 0f64, f64::INFINITY, 0f64);
    for &(x, y) in all {
        if x > 0.0 && y > 0.0 {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
    }
    if x1 == 0.0 {
        (x0, x1, y0, y1) = (1e-3, 1.0, 1.0, 1e3);
    }
    let root = BitMapBackend::new(path, (800, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 20))
        .margin(14)
        .x_label_area_size(46)
        .y_label_area_size(60)
        .build_cartesian_2d((x0 / 1.5..x1 * 1.5).log_scale(), (y0 / 1.3..y1 * 1.3).log_scale())?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&|x| format!("{x:.0e}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FONT, 14))
        .draw()?;
    for curve in curves {
        let colour = curve.colour;
        chart
            .draw_series(LineSeries::new(
                curve.points.iter().copied(),
                colour.stroke_width(2),
            ))?
            .label(curve.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
        chart.draw_series(curve.points.iter().map(|&p| Circle::new(p, 4, colour.filled())))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 15))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}

/// One panel of [`profile_chart`]: a title and the original and
/// reconstructed azimuthal averages, as (q, I(q)) points.
pub struct Profiles<'a> {
    /// Panel title.
    pub title: String,
    /// The original's I(q).
    pub original: &'a [(f64, f64)],
    /// The reconstruction's I(q).
    pub reconstruction: &'a [(f64, f64)],
}

/// Scattering curves I(q), original against reconstruction, on log–log axes,
/// one panel per image side by side (non-positive values are left out).
/// The label of a tick on a log axis: decades, and the mantissas in `keep`
/// between them (2 and 5, say), get one; every other tick none, so that the
/// minor ticks of a short range do not print on top of one another.
/// `decimal` writes `0.02` rather than `2e-2`.
fn log_tick_label(x: f64, keep: &[u32], decimal: bool) -> String {
    if !(x.is_finite() && x > 0.0) {
        return String::new();
    }
    // Rounded first, so that 0.09999… counts as the decade 0.1.
    let exponent = (x.log10() + 1e-9).floor() as i32;
    let mantissa = x / 10f64.powi(exponent);
    let Some(&m) = [1]
        .iter()
        .chain(keep)
        .find(|&&m| (mantissa - f64::from(m)).abs() < 1e-6 * f64::from(m))
    else {
        return String::new();
    };
    if decimal && (-4..=4).contains(&exponent) {
        format!(
            "{:.*}",
            (-exponent).max(0) as usize,
            f64::from(m) * 10f64.powi(exponent)
        )
    } else if m == 1 {
        format!("1e{exponent}")
    } else {
        format!("{m}e{exponent}")
    }
}

/// The values `m · 10^k` in `lo..=hi` for the mantissas `1` and `keep`.
fn log_ticks(lo: f64, hi: f64, keep: &[u32]) -> Vec<f64> {
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    (first..=last)
        .flat_map(|k| [1].iter().chain(keep).map(move |&m| f64::from(m) * 10f64.powi(k)))
        .filter(|v| (lo..=hi).contains(v))
        .collect()
}

/// A log axis over `lo..hi` whose bold mesh lines (and labels) are the
/// decades and the mantissas in `keep`, and whose light lines are the other
/// whole mantissas: plotters' own key points crowd a short range.
fn log_axis(
    lo: f64,
    hi: f64,
    keep: &[u32],
) -> impl Ranged<ValueType = f64, FormatOption = plotters::coord::ranged1d::DefaultFormatting> {
    (lo..hi)
        .log_scale()
        .with_key_points(log_ticks(lo, hi, keep))
        .with_light_points(log_ticks(lo, hi, &[2, 3, 4, 5, 6, 7, 8, 9]))
}

pub fn profile_chart(path: &Path, panels: &[Profiles<'_>], x_label: &str) -> Result<(), Box<dyn Error>> {
    register_font();
    let root = BitMapBackend::new(path, (380 * panels.len().max(1) as u32, 380)).into_drawing_area();
    root.fill(&WHITE)?;
    let areas = root.split_evenly((1, panels.len().max(1)));
    for (area, panel) in areas.iter().zip(panels) {
        let positive = |p: &&(f64, f64)| p.0 > 0.0 && p.1 > 0.0;
        let all: Vec<(f64, f64)> = panel
            .original
            .iter()
            .chain(panel.reconstruction)
            .filter(positive)
            .copied()
            .collect();
        let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, 0f64, f64::INFINITY, 0f64);
        for &(x, y) in &all {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
        if all.is_empty() {
            (x0, x1, y0, y1) = (1e-3, 1.0, 1e-3, 1.0);
        }
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, (FONT, 15))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(
                log_axis(x0 / 1.2, x1 * 1.2, &[2, 5]),
                log_axis(y0 / 2.0, y1 * 2.0, &[]),
            )?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc("I(q)")
            .x_label_formatter(&|x| log_tick_label(*x, &[2, 5], true))
            .y_label_formatter(&|y| log_tick_label(*y, &[], false))
            .label_style((FONT, 12))
            .draw()?;
        for (name, points, colour) in [
            ("original", panel.original, BLACK),
            ("reconstruction", panel.reconstruction, RGBColor(214, 39, 40)),
        ] {
            chart
                .draw_series(LineSeries::new(
                    points.iter().filter(positive).copied(),
                    colour.stroke_width(2),
                ))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FONT, 12))
            .position(SeriesLabelPosition::LowerLeft)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
