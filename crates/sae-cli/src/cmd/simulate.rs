//! `sae simulate`: SAS images as sasmodels computes them.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::{check_output, same_file, write_output};
use sae_codec::io::{Array, write_npy};
use sae_codec::memory::check_simulation;
use sae_codec::sae_sas::{DatasetConfig, Detector, ImageParams, Sidecar};

#[derive(clap::Args)]
pub struct Args {
    /// Parameter sidecar (JSON) listing the images to compute, in order.
    #[arg(long, conflicts_with_all = ["count", "seed"])]
    params: Option<PathBuf>,
    /// Number of random images (writes their parameter sidecar too, see --sidecar).
    #[arg(long)]
    count: Option<usize>,
    /// Where the random images' parameter sidecar goes (default: the output
    /// with the extension `.json`).
    #[arg(long, conflicts_with = "params")]
    sidecar: Option<PathBuf>,
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
    let inputs: Vec<&std::path::Path> = args.params.iter().map(|p| p.as_path()).collect();
    check_output(&args.output, &inputs)?;
    let sidecar_path = args
        .sidecar
        .clone()
        .unwrap_or_else(|| args.output.with_extension("json"));
    if args.count.is_some() && same_file(&sidecar_path, &args.output) {
        bail!(
            "the parameter sidecar {} would overwrite the output: give --sidecar another path",
            sidecar_path.display()
        );
    }
    let (data, detector, count) = match (&args.params, args.count) {
        (Some(path), _) => {
            let sidecar = Sidecar::read(path).with_context(|| format!("reading {}", path.display()))?;
            let detector = sidecar.detector()?;
            check_simulation(sidecar.images.len(), &detector)?;
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
            check_simulation(count, &detector)?;
            let (data, sidecar) = DatasetConfig::default().generate(count, args.seed, &detector)?;
            write_output(&sidecar_path, |path| Ok(sidecar.write(path)?))?;
            (data, detector, count)
        }
        (None, None) => bail!("give --params FILE or --count N"),
    };
    let array = Array::new(vec![count, detector.npix, detector.npix], data)?;
    write_output(&args.output, |path| Ok(write_npy(path, &array)?))
}
