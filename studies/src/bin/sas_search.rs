//! Analysis in the compressed domain on SAS images: k-NN classification of
//! the scattering-model family from the containers' latents (the
//! [`LatentIndex`]) against k-NN on pixels, the index's recall against
//! brute-force cosine on the same latents, and its speed and memory against
//! the obvious alternative (decompress the archive, then a brute-force cosine
//! scan of the pixels by matrix products).
//!
//! Run: `cargo run --release -p sae-studies --bin sas_search -- MODEL [OUT.json]`
//!
//! The archive: `SAE_ARCHIVE` (default 100 000) images simulated by
//! `sae-sas` on the public set's grid, in files of 10 000 (seeds 1000, 1001,
//! …), each compressed by MODEL without refinement into a container under
//! `SAE_WORK` (default `target/search`), with its labels (the model family,
//! `model@structure_factor`, from the simulator's sidecar). The queries: the
//! 1 000 public sasmodels images (`SAE_PUBLIC`, default
//! `../shared/data/sas_sasmodels_public.f32`, labels from the `.json` beside
//! it), encoded as the archive was. Every classifier votes with the same `K`
//! neighbours by the same rule ([`vote`]). OUT defaults to
//! `docs/results/sas_search.json`.

use std::error::Error;
use std::fs::File;
use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;
use sae_codec::io::read_raw_f32;
use sae_codec::sae_container::SparseLatent;
use sae_codec::sae_model::candle_core::{D, Device, Tensor};
use sae_codec::sae_sas::{DatasetConfig, Detector};
use sae_codec::search::{Confusion, Hit, LatentIndex, read_labels, read_latents, vote};
use sae_codec::{Codec, Summary};
use serde_json::{Value, json};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Neighbours that vote.
const K: usize = 5;
/// Images per archive file.
const PER_FILE: usize = 10_000;
/// Query rows per block of a pixel scan.
const QUERY_BLOCK: usize = 1_000;
/// Two similarities this close are a tie (f32 scores of the same cosine).
const TIE: f64 = 1e-5;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The `k` best `(similarity, record)` of each query, best first.
type TopK = Vec<Vec<(f32, u32)>>;

/// One archive file: its container's path and its records' labels.
struct ArchiveFile {
    path: PathBuf,
    labels: Vec<String>,
}

/// Simulates and compresses the archive, returning the files and the original pixels.
fn build_archive(
    codec: &Codec,
    count: usize,
    work: &std::path::Path,
) -> Result<(Vec<ArchiveFile>, Vec<f32>, Value)> {
    std::fs::create_dir_all(work)?;
    let detector = Detector::default();
    let dataset = DatasetConfig::default();
    let (mut files, mut pixels) = (Vec::new(), Vec::new());
    let (mut simulate_s, mut compress_s, mut bytes) = (0.0, 0.0, 0u64);
    for (f, start) in (0..count).step_by(PER_FILE).enumerate() {
        let n = PER_FILE.min(count - start);
        let started = Instant::now();
        let (images, sidecar) = dataset.generate(n, 1000 + f as u64, &detector)?;
        simulate_s += started.elapsed().as_secs_f64();
        let started = Instant::now();
        let container = codec.compress(&images)?;
        compress_s += started.elapsed().as_secs_f64();
        bytes += container.len() as u64;
        let path = work.join(format!("archive-{f:02}.sae"));
        std::fs::write(&path, &container)?;
        files.push(ArchiveFile {
            path,
            labels: read_labels(&sidecar.to_json())?,
        });
        pixels.extend_from_slice(&images);
        eprintln!("archive file {f}: {n} images, {} bytes", container.len());
    }
    let info = json!({"records": count, "files": files.len(), "container_bytes": bytes,
                      "simulate_seconds": simulate_s, "compress_seconds": compress_s});
    Ok((files, pixels, info))
}

/// Rows of `x` (records of `n` values) scaled to unit L2 norm, as a tensor.
fn normalised(x: &[f32], n: usize) -> Result<Tensor> {
    let t = Tensor::from_slice(x, (x.len() / n, n), &Device::Cpu)?;
    let norms = t.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?.clamp(1e-30, f64::MAX)?;
    Ok(t.broadcast_div(&norms)?)
}

/// Keeps the `k` best `(similarity, id)` of `row` merged into `top` (best first).
fn keep_top(top: &mut Vec<(f32, u32)>, row: impl Iterator<Item = (f32, u32)>, k: usize) {
    for (s, id) in row {
        if top.len() < k || s > top[top.len() - 1].0 {
            let at = top.partition_point(|t| t.0 >= s);
            top.insert(at, (s, id));
            top.truncate(k);
        }
    }
}

/// Brute-force cosine top-k of every query over `archive` pixels (records of
/// `n` values), by matrix products over blocks of `PER_FILE` stored records.
fn pixel_top_k(queries: &[f32], archive: &[f32], n: usize, k: usize) -> Result<TopK> {
    let count = queries.len() / n;
    let mut top = vec![Vec::with_capacity(k + 1); count];
    for (b, block) in archive.chunks(PER_FILE * n).enumerate() {
        let reference = normalised(block, n)?.t()?.contiguous()?;
        for (q, rows) in queries.chunks(QUERY_BLOCK * n).enumerate() {
            let similarity = normalised(rows, n)?.matmul(&reference)?.to_vec2::<f32>()?;
            for (i, row) in similarity.into_iter().enumerate() {
                let base = (b * PER_FILE) as u32;
                keep_top(&mut top[q * QUERY_BLOCK + i], row.into_iter().zip(base..), k);
            }
        }
    }
    Ok(top)
}

/// Votes of `top` lists (global record ids) with the archive's labels.
fn classify(top: &[Vec<(f32, u32)>], labels: &[&str]) -> Vec<Option<String>> {
    top.iter()
        .map(|t| {
            let hits: Vec<Hit> = t
                .iter()
                .map(|&(similarity, id)| Hit {
                    file: 0,
                    record: u64::from(id),
                    similarity,
                })
                .collect();
            vote(&hits, |h| Some(labels[h.record as usize])).map(str::to_string)
        })
        .collect()
}

/// Cosine of two sparse latents (sorted indices), by a merge, in f64.
fn sparse_cosine(a: &SparseLatent, b: &SparseLatent, norm_a: f64, norm_b: f64) -> f64 {
    let (ia, va, ib, vb) = (a.indices(), a.values(), b.indices(), b.values());
    let (mut i, mut j, mut dot) = (0, 0, 0.0f64);
    while i < ia.len() && j < ib.len() {
        match ia[i].cmp(&ib[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += f64::from(va[i]) * f64::from(vb[j]);
                i += 1;
                j += 1;
            }
        }
    }
    dot / (norm_a * norm_b)
}

fn norm(l: &SparseLatent) -> f64 {
    l.values()
        .iter()
        .map(|v| f64::from(*v).powi(2))
        .sum::<f64>()
        .sqrt()
}

fn accuracy_row(name: &str, truth: &[String], predicted: &[Option<String>], seconds: f64) -> Result<Value> {
    let confusion = Confusion::new(truth, predicted)?;
    println!(
        "{name:<34} {K}-NN accuracy {:.4}  ({seconds:.2} s)",
        confusion.accuracy()
    );
    Ok(json!({"name": name, "accuracy": confusion.accuracy(), "seconds": seconds, "confusion": confusion}))
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let model = args.next().ok_or("usage: sas_search MODEL [OUT.json]")?;
    let output = args
        .next()
        .unwrap_or_else(|| "docs/results/sas_search.json".into());
    let count: usize = std::env::var("SAE_ARCHIVE").map_or(Ok(100_000), |s| s.parse())?;
    let work = PathBuf::from(std::env::var("SAE_WORK").unwrap_or_else(|_| "target/search".into()));
    let public = PathBuf::from(
        std::env::var("SAE_PUBLIC").unwrap_or_else(|_| "../shared/data/sas_sasmodels_public.f32".into()),
    );
    // The archive is stored without refinement, so the queries are encoded without it.
    let codec = Codec::load(&model)?.with_refinement(None);
    let shape = codec.record_shape().to_vec();
    let n: usize = shape.iter().product();
    let threads = rayon::current_num_threads();

    let (archive, pixels, archive_info) = build_archive(&codec, count, &work)?;
    let labels: Vec<&str> = archive
        .iter()
        .flat_map(|f| f.labels.iter().map(String::as_str))
        .collect();
    let queries_count = std::fs::metadata(&public)?.len() as usize / (n * 4);
    let mut query_shape = vec![queries_count];
    query_shape.extend_from_slice(&shape);
    let query_pixels = read_raw_f32(&public, &query_shape)?.data;
    let truth = read_labels(&std::fs::read_to_string(public.with_extension("json"))?)?;
    let families = {
        let mut f: Vec<&String> = truth.iter().collect();
        f.sort();
        f.dedup();
        f.len()
    };

    // Reading the files alone (from the page cache, as the index reads them).
    let started = Instant::now();
    let file_bytes: u64 = archive
        .iter()
        .map(|f| std::fs::read(&f.path).map(|b| b.len() as u64))
        .sum::<std::io::Result<_>>()?;
    let read_s = started.elapsed().as_secs_f64();

    // Decoding the latents alone (what the index adds to reading the files).
    let started = Instant::now();
    let mut stored = Vec::with_capacity(count);
    for f in &archive {
        stored.extend(read_latents(&codec, "", File::open(&f.path)?, false)?.0);
    }
    let decode_latents_s = started.elapsed().as_secs_f64();

    // The index: built from the files, then the whole query batch.
    let started = Instant::now();
    let mut index = LatentIndex::new(&codec);
    for f in &archive {
        index.add_container(&codec, f.path.display().to_string(), File::open(&f.path)?, false)?;
    }
    let build_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let queries = codec.latents(&query_pixels)?;
    let encode_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let found = index.search_many(&queries, K)?;
    let search_s = started.elapsed().as_secs_f64();
    let per_file: Vec<Vec<String>> = archive.iter().map(|f| f.labels.clone()).collect();
    let started = Instant::now();
    let latent_predicted = index.classify(&queries, K, &per_file)?;
    let classify_s = started.elapsed().as_secs_f64();
    println!(
        "index: {} records, {} nonzeros ({:.1} per record), {:.1} MiB; built in {build_s:.2} s \
         (reading the files alone {read_s:.2} s); {} queries encoded in {encode_s:.2} s, searched in {search_s:.3} s",
        index.len(),
        index.nonzeros(),
        index.nonzeros() as f64 / index.len() as f64,
        index.memory_bytes() as f64 / (1 << 20) as f64,
        queries.len()
    );

    // Postings the queries visit: the records that fire each of their units.
    let mut firing = vec![0u64; codec.header().latent_len as usize];
    for l in &stored {
        for &u in l.indices() {
            firing[u as usize] += 1;
        }
    }
    let visits: u64 = queries
        .iter()
        .flat_map(|q| q.indices().iter().map(|&u| firing[u as usize]))
        .sum();
    let visits_per_query = visits as f64 / queries.len() as f64;
    println!(
        "decoding the latents alone {decode_latents_s:.2} s; {visits_per_query:.0} postings visited per query ({:.1} per record)",
        visits_per_query / count as f64
    );

    // Recall: brute-force cosine over every stored latent, by merges in f64.
    let norms: Vec<f64> = stored.iter().map(norm).collect();
    let starts: Vec<u64> = (0..archive.len()).map(|f| (f * PER_FILE) as u64).collect();
    let started = Instant::now();
    let brute: Vec<Vec<(f64, u32)>> = queries
        .par_iter()
        .map(|q| {
            let nq = norm(q);
            let mut all: Vec<(f64, u32)> = stored
                .iter()
                .zip(&norms)
                .zip(0u32..)
                .filter(|((s, _), _)| s.nnz() > 0 && nq > 0.0)
                .map(|((s, ns), id)| (sparse_cosine(q, s, nq, *ns), id))
                .filter(|(c, _)| *c > 0.0)
                .collect();
            let k = K.min(all.len());
            if k > 0 {
                all.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
                all.truncate(k);
                all.sort_by(|a, b| b.0.total_cmp(&a.0));
            }
            all
        })
        .collect();
    let brute_s = started.elapsed().as_secs_f64();
    // A hit is right when its exact cosine ties or beats the brute force's
    // k-th; the lists must also be as long, and scores agree.
    let (mut right, mut wanted, mut worst_score) = (0usize, 0usize, 0.0f64);
    for ((q, hits), exact) in queries.iter().zip(&found).zip(&brute) {
        wanted += exact.len();
        let kth = exact.last().map_or(f64::INFINITY, |e| e.0);
        let nq = norm(q);
        for (hit, e) in hits.iter().zip(exact) {
            let id = (starts[hit.file] + hit.record) as usize;
            let c = sparse_cosine(q, &stored[id], nq, norms[id]);
            right += usize::from(c >= kth - TIE);
            worst_score = worst_score
                .max((f64::from(hit.similarity) - c).abs())
                .max((c - e.0).abs());
        }
        if hits.len() != exact.len() {
            return Err(format!("{} hits where brute force has {}", hits.len(), exact.len()).into());
        }
    }
    let recall = right as f64 / wanted as f64;
    println!(
        "recall against brute force on the latents: {recall} ({right} of {wanted}); worst score gap {worst_score:.2e}; brute force {brute_s:.1} s"
    );

    // The alternative: decompress every file, then scan the pixels.
    let started = Instant::now();
    let mut decompressed = Vec::with_capacity(count * n);
    for f in &archive {
        decompressed.extend(codec.decompress(&std::fs::read(&f.path)?)?);
    }
    let decompress_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let top_decompressed = pixel_top_k(&query_pixels, &decompressed, n, K)?;
    let scan_s = started.elapsed().as_secs_f64();
    let decompressed_predicted = classify(&top_decompressed, &labels);
    drop(decompressed);
    // Pixels as simulated (no compression), raw and in log10.
    let started = Instant::now();
    let top_pixels = pixel_top_k(&query_pixels, &pixels, n, K)?;
    let pixel_s = started.elapsed().as_secs_f64();
    let pixel_predicted = classify(&top_pixels, &labels);
    let log = |x: &[f32]| x.iter().map(|v| v.max(1e-6).log10()).collect::<Vec<f32>>();
    let (log_queries, log_pixels) = (log(&query_pixels), log(&pixels));
    drop(pixels);
    let started = Instant::now();
    let top_log = pixel_top_k(&log_queries, &log_pixels, n, K)?;
    let log_s = started.elapsed().as_secs_f64();
    let log_predicted = classify(&top_log, &labels);
    drop(log_pixels);

    let accuracy = vec![
        accuracy_row("latents (inverted index)", &truth, &latent_predicted, classify_s)?,
        accuracy_row("pixels as simulated", &truth, &pixel_predicted, pixel_s)?,
        accuracy_row("pixels as simulated, log10", &truth, &log_predicted, log_s)?,
        accuracy_row(
            "decompressed pixels",
            &truth,
            &decompressed_predicted,
            decompress_s + scan_s,
        )?,
    ];
    let alternative_s = decompress_s + scan_s;
    println!(
        "per batch of {} queries: index {:.3} s (+ {encode_s:.2} s encoding the images), \
         decompress then scan {alternative_s:.1} s ({decompress_s:.1} + {scan_s:.1}): {:.0}x; \
         with the index built for the batch {:.1}x",
        queries.len(),
        search_s,
        alternative_s / search_s,
        alternative_s / (build_s + search_s)
    );
    let sims: Vec<f64> = found
        .iter()
        .filter_map(|h| h.first())
        .map(|h| f64::from(h.similarity))
        .collect();
    let out = json!({
        "model": model,
        "k": K,
        "threads": threads,
        "families": families,
        "queries": queries.len(),
        "archive": archive_info,
        "index": {
            "records": index.len(), "nonzeros": index.nonzeros(), "memory_bytes": index.memory_bytes(),
            "build_seconds": build_s, "read_files_seconds": read_s, "file_bytes": file_bytes,
            "decode_latents_seconds": decode_latents_s,
            "pixel_bytes": (count * n * 4) as u64,
        },
        "search": {
            "encode_seconds": encode_s, "search_seconds": search_s, "classify_seconds": classify_s,
            "queries_per_second": queries.len() as f64 / search_s,
            "postings_visited_per_query": visits_per_query,
            "top_similarity": Summary::of(&sims),
        },
        "recall": {"recall": recall, "right": right, "wanted": wanted, "worst_score_gap": worst_score,
                   "brute_force_seconds": brute_s},
        "alternative": {"decompress_seconds": decompress_s, "scan_seconds": scan_s,
                        "speedup_per_batch": alternative_s / search_s,
                        "speedup_with_build": alternative_s / (build_s + search_s)},
        "accuracy": accuracy,
    });
    std::fs::write(&output, serde_json::to_string_pretty(&out)? + "\n")?;
    println!("wrote {output}");
    Ok(())
}
