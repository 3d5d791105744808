//! `sae inspect`: a container's header and where its bytes go.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use anyhow::{Context, Result};
use sae_codec::ContainerSummary;

use super::print;

#[derive(clap::Args)]
pub struct Args {
    /// The container.
    file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let path = &args.file;
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let summary = ContainerSummary::read(BufReader::new(file))
        .with_context(|| format!("reading {}", path.display()))?;
    if args.json {
        // Through a JSON value: its keys print sorted, as they always have.
        let value = serde_json::to_value(&summary)?;
        return print(&(serde_json::to_string_pretty(&value)? + "\n"));
    }
    print(&summary.to_string())
}
