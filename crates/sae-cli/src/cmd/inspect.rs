//! `sae inspect`: a container's header and where its bytes go.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use anyhow::{Context, Result};
use sae_codec::sae_container::ContainerReader;
use sae_codec::sae_model::hex;
use sae_codec::{IndexStatus, Transforms};

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
    let mut reader =
        ContainerReader::open(BufReader::new(file)).with_context(|| format!("reading {}", path.display()))?;
    let report = reader
        .size_report()
        .with_context(|| format!("reading {}", path.display()))?;
    let h = reader.header().clone();
    let finished = matches!(reader.status(), IndexStatus::Indexed);
    let transforms = Transforms(h.transforms.clone()).to_string();
    if args.json {
        let mut bytes = serde_json::to_value(&report)?;
        if let Some(map) = bytes.as_object_mut() {
            map.remove("records");
            map.insert("total".into(), report.total().into());
        }
        let value = serde_json::json!({
            "records": reader.len(),
            "finished": finished,
            "record_shape": h.record_shape,
            "latent_len": h.latent_len,
            "index_coding": h.index_coding.to_string(),
            "value_coding": h.value_coding.to_string(),
            "transforms": transforms,
            "max_error": h.bound.map(|b| b.to_string()),
            "model_name": h.model_name,
            "fingerprint": h.fingerprint.map(|f| hex(&f.digest)),
            "bytes": bytes,
        });
        return print(&(serde_json::to_string_pretty(&value)? + "\n"));
    }
    use std::fmt::Write;
    let mut text = String::new();
    let recovered = match reader.status() {
        IndexStatus::Recovered { trailing_bytes } => format!(
            " (unfinished or cut file: the whole records recovered, {trailing_bytes} bytes after them unreadable)"
        ),
        _ => String::new(),
    };
    writeln!(text, "records        {}{recovered}", reader.len())?;
    writeln!(
        text,
        "record shape   {:?}, latent length {}",
        h.record_shape, h.latent_len
    )?;
    writeln!(text, "indices        {}", h.index_coding)?;
    writeln!(text, "values         {}", h.value_coding)?;
    writeln!(text, "transforms     {transforms}")?;
    if let Some(bound) = &h.bound {
        writeln!(
            text,
            "max error      {bound} on every record (the guaranteed mode)"
        )?;
    }
    if let Some(name) = &h.model_name {
        writeln!(text, "model          {name}")?;
    }
    let t = &report.record_totals;
    writeln!(
        text,
        "bytes          {} total: header {}, indices {}, values {}, framing {}, extras {}, footer {}",
        report.total(),
        report.header,
        t.indices,
        t.values,
        t.framing,
        t.extras,
        report.footer
    )?;
    print(&text)
}
