//! `sae eval`: errors and ratios of a reconstruction.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use sae_codec::sae_container::ContainerReader;
use sae_codec::{BoundReport, ErrorBound, Metrics};

use sae_codec::IndexStatus;

use super::{print, read_images};

#[derive(clap::Args)]
pub struct Args {
    /// Original images: `.npy`, or raw little-endian f32 with --shape.
    #[arg(long)]
    reference: PathBuf,
    /// Shape of a raw f32 reference, e.g. `1000,64,64`.
    #[arg(long, value_delimiter = ',')]
    shape: Option<Vec<usize>>,
    /// Reconstructed images (`.npy`).
    #[arg(long)]
    reconstruction: PathBuf,
    /// The container, for the byte ratio and nonzeros per image.
    #[arg(long)]
    container: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Check every record against a bound: l2:E (relative L2), abs:E
    /// (pointwise absolute) or rel:E (pointwise relative; zeros stay zero).
    /// Lists each record over it, and fails if there is one.
    #[arg(long, value_name = "SPEC")]
    max_error: Option<ErrorBound>,
    /// Accept an unfinished or cut --container (its whole records are counted)
    /// and a reconstruction of fewer images than the reference (its first ones).
    #[arg(long)]
    allow_partial: bool,
}

pub fn run(args: Args) -> Result<()> {
    let a = read_images(&args.reference, args.shape.as_deref())?;
    // Images too: at least two dimensions, the first counting them.
    let b = read_images(&args.reconstruction, None)?;
    let mut a = a;
    if args.allow_partial && a.shape[1..] == b.shape[1..] && b.records() < a.records() {
        // A reconstruction of a cut container: the first records of the reference.
        eprintln!(
            "warning: evaluating the first {} of the {} reference images (a partial reconstruction)",
            b.records(),
            a.records()
        );
        a.data.truncate(b.data.len());
        a.shape[0] = b.records();
    }
    if a.shape != b.shape {
        let hint = if a.shape[1..] == b.shape[1..] && b.records() < a.records() {
            " (give --allow-partial to score a partial reconstruction against the first images)"
        } else {
            ""
        };
        bail!(
            "reference has shape {:?} but reconstruction {:?}{hint}",
            a.shape,
            b.shape
        );
    }
    let (nnz, bytes) = match &args.container {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let mut reader = ContainerReader::open(std::io::Cursor::new(&bytes))
                .with_context(|| format!("reading {}", path.display()))?;
            if let IndexStatus::Recovered { trailing_bytes } = *reader.status() {
                if !args.allow_partial {
                    bail!(
                        "{} is unfinished or cut ({} whole records, then {trailing_bytes} unreadable bytes): \
                         give --allow-partial to evaluate it anyway",
                        path.display(),
                        reader.len()
                    );
                }
                eprintln!(
                    "warning: {} is unfinished or cut: {} whole records; {trailing_bytes} bytes after them were lost",
                    path.display(),
                    reader.len()
                );
            }
            let nnz = reader
                .nonzeros()
                .with_context(|| format!("reading {}", path.display()))?;
            (Some(nnz), Some(bytes.len() as u64))
        }
        None => (None, None),
    };
    let record_len: usize = a.shape[1..].iter().product();
    let m = Metrics::compute(&a.data, &b.data, record_len, nnz.as_deref(), bytes)?.with_radial(
        &a.data,
        &b.data,
        &a.shape[1..],
    )?;
    let bound = match args.max_error {
        Some(bound) => Some(bound.check(&a.data, &b.data, record_len)?),
        None => None,
    };
    if args.json {
        let mut value = serde_json::to_value(&m)?;
        if let (Some(map), Some(report)) = (value.as_object_mut(), &bound) {
            map.insert("max_error".into(), serde_json::to_value(report)?);
        }
        print(&(serde_json::to_string_pretty(&value)? + "\n"))?;
        return check_bound(bound.as_ref());
    }
    use std::fmt::Write;
    let mut text = String::new();
    writeln!(text, "records                 {}", m.records)?;
    let e = &m.rel_l2;
    writeln!(
        text,
        "relative L2 error       mean {:.3e}  min {:.3e}  median {:.3e}  p90 {:.3e}  max {:.3e}",
        e.mean, e.min, e.p50, e.p90, e.max
    )?;
    if let Some(l) = m.log10_rms {
        writeln!(
            text,
            "log10 RMS (decades)     mean {:.3}  median {:.3}  p90 {:.3}  max {:.3}",
            l.mean, l.p50, l.p90, l.max
        )?;
    }
    if let Some(r) = m.radial_max_rel {
        writeln!(
            text,
            "I(q) max rel deviation  mean {:.3e}  median {:.3e}  p90 {:.3e}  max {:.3e}",
            r.mean, r.p50, r.p90, r.max
        )?;
    }
    writeln!(text, "PSNR                    {:.1} dB", m.psnr_db)?;
    writeln!(text, "max abs error           {:.3e}", m.max_abs_error)?;
    if let Some(v) = m.values_per_nonzero {
        writeln!(
            text,
            "values per nonzero      mean {:.1}  min {:.1}  max {:.1}",
            v.mean, v.min, v.max
        )?;
    }
    if let Some(r) = m.byte_ratio {
        writeln!(text, "byte ratio              {r:.1}x")?;
    }
    if let Some(report) = &bound {
        writeln!(
            text,
            "bound {:<17} largest error {:.3e}, {} of {} records over it",
            report.bound,
            report.achieved,
            report.violations.len(),
            report.records
        )?;
        for v in &report.violations {
            writeln!(text, "  record {}: {:.3e}", v.record, v.error)?;
        }
    }
    print(&text)?;
    check_bound(bound.as_ref())
}

/// Fails when a record exceeds the bound (after the report is printed).
fn check_bound(report: Option<&BoundReport>) -> Result<()> {
    let Some(report) = report else {
        return Ok(());
    };
    if let Some(worst) = report
        .violations
        .iter()
        .max_by(|a, b| a.error.total_cmp(&b.error))
    {
        bail!(
            "{} of {} records exceed the bound {} (worst: record {}, {:.3e})",
            report.violations.len(),
            report.records,
            report.bound,
            worst.record,
            worst.error
        );
    }
    Ok(())
}
