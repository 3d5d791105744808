//! `sae eval`: errors and ratios of a reconstruction.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use sae_codec::Metrics;
use sae_codec::io::read_npy;
use sae_codec::sae_container::ContainerReader;

use super::read_images;

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
}

pub fn run(args: Args) -> Result<()> {
    let a = read_images(&args.reference, args.shape.as_deref())?;
    let b = read_npy(&args.reconstruction)
        .with_context(|| format!("reading {}", args.reconstruction.display()))?;
    if a.shape != b.shape {
        bail!(
            "reference has shape {:?} but reconstruction {:?}",
            a.shape,
            b.shape
        );
    }
    let (nnz, bytes) = match &args.container {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let nnz = ContainerReader::open(std::io::Cursor::new(&bytes))
                .and_then(|mut r| r.nonzeros())
                .with_context(|| format!("reading {}", path.display()))?;
            (Some(nnz), Some(bytes.len() as u64))
        }
        None => (None, None),
    };
    let record_len: usize = a.shape[1..].iter().product();
    let m = Metrics::compute(&a.data, &b.data, record_len, nnz.as_deref(), bytes)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&m)?);
        return Ok(());
    }
    println!("records                 {}", m.records);
    let e = &m.rel_l2;
    println!(
        "relative L2 error       mean {:.3e}  min {:.3e}  median {:.3e}  p90 {:.3e}  max {:.3e}",
        e.mean, e.min, e.p50, e.p90, e.max
    );
    println!("PSNR                    {:.1} dB", m.psnr_db);
    println!("max abs error           {:.3e}", m.max_abs_error);
    if let Some(v) = m.values_per_nonzero {
        println!(
            "values per nonzero      mean {:.1}  min {:.1}  max {:.1}",
            v.mean, v.min, v.max
        );
    }
    if let Some(r) = m.byte_ratio {
        println!("byte ratio              {r:.1}x");
    }
    Ok(())
}
