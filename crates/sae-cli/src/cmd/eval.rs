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
    let mut text = m.to_string();
    if let Some(report) = &bound {
        text += &report.to_string();
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
