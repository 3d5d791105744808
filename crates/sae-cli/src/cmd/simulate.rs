//! `sae simulate`: SAS images as sasmodels computes them.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use sae_codec::io::{Array, write_npy};
use sae_codec::sae_sas::{DatasetConfig, Detector, ImageParams, Sidecar};

#[derive(clap::Args)]
pub struct Args {
    /// Parameter sidecar (JSON) listing the images to compute, in order.
    #[arg(long, conflicts_with_all = ["count", "seed"])]
    params: Option<PathBuf>,
    /// Number of random images (writes their sidecar beside the output).
    #[arg(long)]
    count: Option<usize>,
    /// Seed of the random images.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Detector pixels per side (random images).
    #[arg(long, default_value_t = 64)]
    npix: usize,
    /// Sub-samples per pixel side (random images).
    #[arg(long, default_value_t = 3)]
    oversample: usize,
    /// Output `.npy`.
    #[arg(short, long)]
    output: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let (data, detector, count) = match (&args.params, args.count) {
        (Some(path), _) => {
            let sidecar = Sidecar::read(path).with_context(|| format!("reading {}", path.display()))?;
            let detector = sidecar.detector()?;
            let scatterers = sidecar
                .images
                .iter()
                .map(ImageParams::to_scatterer)
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("parameters in {}", path.display()))?;
            (detector.images(&scatterers)?, detector, scatterers.len())
        }
        (None, Some(count)) => {
            let detector = Detector {
                npix: args.npix,
                oversample: args.oversample,
                ..Detector::default()
            };
            let (data, sidecar) = DatasetConfig::default().generate(count, args.seed, &detector)?;
            sidecar.write(args.output.with_extension("json"))?;
            (data, detector, count)
        }
        (None, None) => bail!("give --params FILE or --count N"),
    };
    let array = Array::new(vec![count, detector.npix, detector.npix], data)?;
    write_npy(&args.output, &array).with_context(|| format!("writing {}", args.output.display()))
}
