//! `sae classify`: k-NN labels for the records of a container, voted by the
//! labelled records of an index, from latents alone; with the queries' own
//! labels, the accuracy and the confusion between labels.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use sae_codec::search::{Confusion, read_labels, read_latents};
use serde_json::json;

use super::search::{IndexArgs, open, report};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    index: IndexArgs,
    /// Labels of the indexed records, one file per --index file in the same
    /// order: a JSON array of strings, or a parameter sidecar as `sae
    /// simulate` writes it (each image's model family: `model`, or
    /// `model@structure_factor` when it has one).
    #[arg(long, num_args = 1.., required = true)]
    labels: Vec<PathBuf>,
    /// The container whose records are classified (made with the model).
    #[arg(long)]
    query: PathBuf,
    /// The queries' true labels (same formats as --labels): report accuracy and confusion.
    #[arg(long)]
    query_labels: Option<PathBuf>,
}

fn labels(path: &PathBuf) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    read_labels(&text).with_context(|| format!("labels in {}", path.display()))
}

pub fn run(args: Args) -> Result<()> {
    if args.labels.len() != args.index.index.len() {
        bail!(
            "{} --labels files for {} --index files: give one per index file, in the same order",
            args.labels.len(),
            args.index.index.len()
        );
    }
    let train: Vec<Vec<String>> = args.labels.iter().map(labels).collect::<Result<_>>()?;
    let codec = args.index.codec()?;
    let index = args.index.build(&codec)?;
    let (queries, file) = read_latents(
        &codec,
        args.query.display().to_string(),
        open(&args.query)?,
        args.index.allow_partial,
    )
    .with_context(|| format!("reading {}", args.query.display()))?;
    report(&file);
    let predicted = index.classify(&queries, args.index.k, &train)?;
    let truth = match &args.query_labels {
        Some(path) => {
            let truth = labels(path)?;
            if (truth.len() as u64) < file.records
                || (file.lost_bytes.is_none() && truth.len() as u64 != file.records)
            {
                bail!(
                    "{} labels in {} for the {} records of {}",
                    truth.len(),
                    path.display(),
                    file.records,
                    file.name
                );
            }
            Some(truth[..predicted.len()].to_vec())
        }
        None => None,
    };
    let confusion = truth
        .as_ref()
        .map(|t| Confusion::new(t, &predicted))
        .transpose()?;
    if args.index.json {
        let out = json!({
            "k": args.index.k,
            "index": {"files": index.files(), "records": index.len()},
            "query": file,
            "predicted": predicted,
            "accuracy": confusion.as_ref().map(Confusion::accuracy),
            "confusion": confusion,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    match &confusion {
        None => {
            println!("record\tlabel");
            for (i, p) in predicted.iter().enumerate() {
                println!("{i}\t{}", p.as_deref().unwrap_or("-"));
            }
        }
        Some(c) => {
            println!(
                "{}-NN accuracy {:.4} ({} of {} records)",
                args.index.k,
                c.accuracy(),
                (0..c.labels.len()).map(|i| c.counts[i][i]).sum::<u64>(),
                c.total()
            );
            println!("true \\ predicted\t{}\tnone", c.labels.join("\t"));
            for (i, row) in c.counts.iter().enumerate() {
                let cells: Vec<String> = row.iter().map(u64::to_string).collect();
                println!("{}\t{}\t{}", c.labels[i], cells.join("\t"), c.unclassified[i]);
            }
        }
    }
    Ok(())
}
