//! `sae search`: the stored records most like a query, from the containers'
//! latents alone (no record is decompressed).

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sae_codec::search::{Hit, IndexedFile, LatentIndex};
use sae_codec::{Codec, ComputeDevice, Overrides, SparseLatent};
use serde_json::json;

use super::{RefineArgs, check_fits, load_codec, read_images};

/// The containers an index is built from: shared by `search` and `classify`.
#[derive(clap::Args)]
pub struct IndexArgs {
    /// Model file: the model every container was made with.
    #[arg(short, long)]
    pub model: PathBuf,
    /// Containers to search (made with the model).
    #[arg(long, num_args = 1.., required = true)]
    pub index: Vec<PathBuf>,
    /// Read damaged or unfinished containers up to their last whole record
    /// (and say how much was skipped) instead of refusing them.
    #[arg(long)]
    pub allow_partial: bool,
    /// Neighbours per query.
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    /// Where to run the encoder for image queries: cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    pub device: ComputeDevice,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl IndexArgs {
    /// The model, after checking the settings that need no file.
    pub fn codec(&self) -> Result<Codec> {
        if self.k == 0 {
            bail!("-k must be at least 1");
        }
        load_codec(&self.model, self.device)
    }

    /// Every container read into one index; a line on stderr per file.
    pub fn build(&self, codec: &Codec) -> Result<LatentIndex> {
        let mut index = LatentIndex::new(codec);
        for path in &self.index {
            let file = open(path)?;
            let added = index
                .add_container(codec, path.display().to_string(), file, self.allow_partial)
                .with_context(|| format!("indexing {}", path.display()))?;
            report(added);
        }
        eprintln!(
            "index: {} records, {} nonzeros, {:.1} MiB",
            index.len(),
            index.nonzeros(),
            index.memory_bytes() as f64 / (1 << 20) as f64
        );
        Ok(index)
    }
}

/// Opens a container for reading.
pub fn open(path: &Path) -> Result<File> {
    File::open(path).with_context(|| format!("opening {}", path.display()))
}

/// Says on stderr what a container held, and what a partial read skipped.
pub fn report(file: &IndexedFile) {
    let mut line = format!("{}: {} records", file.name, file.records);
    if file.without_latent > 0 {
        line += &format!(" ({} without latent units, never found)", file.without_latent);
    }
    if let Some(lost) = file.lost_bytes {
        line += &format!("; damaged or unfinished: {lost} bytes after the last whole record skipped");
    }
    eprintln!("{line}");
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    index: IndexArgs,
    /// Query images (`.npy`, the model's record shape), encoded as compression
    /// encodes: give the refinement flags the archive was compressed with
    /// (`--no-refine` for an unrefined archive).
    #[arg(long, conflicts_with = "record", required_unless_present = "record")]
    query: Option<PathBuf>,
    /// A stored record as the query: `FILE:N` (record N of container FILE, made with the model).
    #[arg(long, value_name = "FILE:N")]
    record: Option<String>,
    #[command(flatten)]
    refine: RefineArgs,
}

pub fn run(args: Args) -> Result<()> {
    let recipe = args.refine.recipe(Overrides::default())?;
    // The queries first: a bad one is refused before the index is read.
    let codec = args.index.codec()?;
    let queries = match (&args.query, &args.record) {
        (Some(path), _) => {
            let images = read_images(path, None)?;
            check_fits(&images, &codec).with_context(|| format!("query {}", path.display()))?;
            codec
                .clone()
                .with_refinement(recipe.refinement)
                .latents(&images.data)
                .context("encoding the queries")?
        }
        (None, Some(spec)) => vec![stored_record(&codec, spec)?],
        (None, None) => bail!("give --query IMAGES.npy or --record FILE:N"),
    };
    let index = args.index.build(&codec)?;
    let found = index.search_many(&queries, args.index.k)?;
    let name = |hit: &Hit| index.files()[hit.file].name.as_str();
    if args.index.json {
        let queries: Vec<_> = found
            .iter()
            .enumerate()
            .map(|(q, hits)| {
                let hits: Vec<_> = hits
                    .iter()
                    .map(|h| json!({"file": name(h), "record": h.record, "similarity": h.similarity}))
                    .collect();
                json!({"query": q, "hits": hits})
            })
            .collect();
        let out = json!({
            "k": args.index.k,
            "index": {"files": index.files(), "records": index.len(), "nonzeros": index.nonzeros(),
                      "memory_bytes": index.memory_bytes()},
            "queries": queries,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("query\trank\tfile\trecord\tsimilarity");
        for (q, hits) in found.iter().enumerate() {
            for (rank, h) in hits.iter().enumerate() {
                println!(
                    "{q}\t{}\t{}\t{}\t{:.6}",
                    rank + 1,
                    name(h),
                    h.record,
                    h.similarity
                );
            }
        }
    }
    Ok(())
}

/// The latent of record `N` of container `FILE`, from `FILE:N`.
fn stored_record(codec: &Codec, spec: &str) -> Result<SparseLatent> {
    let Some((path, n)) = spec.rsplit_once(':') else {
        bail!("--record {spec}: expected FILE:N");
    };
    let n: usize = n
        .parse()
        .with_context(|| format!("--record {spec}: {n} is not a record number"))?;
    let path = Path::new(path);
    let mut reader = codec
        .reader(open(path)?)
        .with_context(|| format!("reading {}", path.display()))?;
    if n >= reader.len() {
        bail!(
            "--record {spec}: {} holds {} records",
            path.display(),
            reader.len()
        );
    }
    reader
        .latent(n)
        .with_context(|| format!("record {n} of {}", path.display()))
}
