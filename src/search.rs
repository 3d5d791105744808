//! Analysis in the compressed domain: the stored records most like a query,
//! and k-NN classification by their labels, from the containers' sparse
//! latents alone.
//!
//! A [`LatentIndex`] is built from containers of one model. Each record's
//! latent is entropy decoded (no decoder network runs, no record becomes
//! pixels) and its active units enter an inverted index: for each latent
//! unit, the records where it fires and their value over the latent's L2
//! norm. A query latent, from an image ([`Codec::latents`], encoded and
//! refined as compression does) or from a stored record, is scored against
//! every record it shares a unit with: the score is the cosine similarity
//! of the two latents, and the top `k` are exact (the same as comparing the
//! query with every stored latent). Records that share no unit with the
//! query (similarity 0) or score below zero are never returned.
//!
//! Memory is 8 bytes per stored nonzero (a few dozen per record) and a few
//! bytes per file, whatever the records' size in pixels; reading a container
//! into the index is one pass over its bytes.
//!
//! ```
//! # use sae_codec::{Codec, CodecConfig};
//! # use sae_codec::sae_model::{LambdaControl, TrainConfig};
//! use sae_codec::search::LatentIndex;
//! # let data: Vec<f32> = (0..64 * 16).map(|i| ((i % 16) as f32 / 3.0).sin().abs() * (1 + i / 16 % 4) as f32).collect();
//! # let config = CodecConfig {
//! #     train: TrainConfig { epochs: 3, batch_size: 16, lambda: LambdaControl::Fixed(1e-3), ..TrainConfig::default() },
//! #     ..CodecConfig::default()
//! # };
//! let (codec, _) = Codec::train(&data, &[16], &config, |_| {})?;
//! let bytes = codec.compress(&data)?;
//! let mut index = LatentIndex::new(&codec);
//! index.add_container(&codec, "archive.sae", std::io::Cursor::new(&bytes), false)?;
//! // Record 5 as a query: it is its own nearest neighbour.
//! let query = codec.reader(std::io::Cursor::new(&bytes))?.latent(5)?;
//! let hits = index.search(&query, 3)?;
//! assert!((hits[0].similarity - 1.0).abs() < 1e-5);
//! # Ok::<(), sae_codec::CodecError>(())
//! ```

use std::collections::BTreeMap;
use std::io::{BufReader, Read, Seek, SeekFrom};

use rayon::prelude::*;
use sae_container::{IndexStatus, SparseLatent, StreamReader};
use sae_model::hex;
use serde::Serialize;

use crate::Codec;
use crate::error::{CodecError, Result};

/// One stored nonzero: the record it belongs to and its value over the
/// record latent's L2 norm.
#[derive(Debug, Clone, Copy)]
struct Posting {
    id: u32,
    weight: f32,
}

/// A container read into an index (or as queries), and what it held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexedFile {
    /// The name it was added under (the CLI: its path).
    pub name: String,
    /// Records read: every record, or the whole ones of a damaged file.
    pub records: u64,
    /// Records with no active latent unit (in a guaranteed-mode file, those
    /// coded directly): they are stored but never similar to anything.
    pub without_latent: u64,
    /// For a damaged or unfinished file read with `allow_partial`: the bytes
    /// after its last whole record, which were skipped.
    pub lost_bytes: Option<u64>,
}

/// One search result: which record, and its cosine similarity to the query.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hit {
    /// The file, by its position in the order the index added them.
    pub file: usize,
    /// The record's position in its file.
    pub record: u64,
    /// Cosine similarity of the two latents, in (0, 1].
    pub similarity: f32,
}

/// An inverted index over the sparse latents of containers of one model:
/// exact top-k cosine search without decoding any record to pixels.
#[derive(Debug, Clone)]
pub struct LatentIndex {
    fingerprint: [u8; 32],
    latent_len: u32,
    files: Vec<IndexedFile>,
    /// The first record id of each file: ids count records in the order added.
    starts: Vec<u32>,
    /// For each latent unit, the records where it fires, in id order.
    postings: Vec<Vec<Posting>>,
    records: u32,
}

/// A query scans every record's score instead of tracking the records it
/// meets when its postings number at least the records over this (chosen,
/// not tuned: a scan of a score costs far less than a tracked visit).
const DENSE_SCAN_VISITS_PER_RECORD: usize = 8;

/// A query's scores, reused from one query to the next.
struct Scratch {
    scores: Vec<f32>,
    seen: Vec<bool>,
    touched: Vec<u32>,
}

impl LatentIndex {
    /// An empty index for containers of `codec`'s model.
    pub fn new(codec: &Codec) -> Self {
        let latent_len = codec.header().latent_len;
        Self {
            fingerprint: codec.fingerprint(),
            latent_len,
            files: Vec::new(),
            starts: Vec::new(),
            postings: vec![Vec::new(); latent_len as usize],
            records: 0,
        }
    }

    /// Adds every record of a container made by `codec` (the index's model),
    /// reading it once, in order.
    ///
    /// A container of another model is refused ([`CodecError::ModelMismatch`]);
    /// so is a damaged or unfinished one ([`CodecError::Unfinished`]) unless
    /// `allow_partial`, which adds its whole records and reports the bytes
    /// it skipped in [`IndexedFile::lost_bytes`]. On an error nothing of the
    /// file stays in the index.
    pub fn add_container<R: Read + Seek>(
        &mut self,
        codec: &Codec,
        name: impl Into<String>,
        source: R,
        allow_partial: bool,
    ) -> Result<&IndexedFile> {
        self.check_codec(codec)?;
        let first = self.records;
        let mut next = first;
        let read = for_each_latent(codec, name.into(), source, allow_partial, |latent| {
            let id = next;
            next = next.checked_add(1).ok_or_else(|| CodecError::InvalidSetting {
                name: "index",
                reason: format!("more than {} records", u32::MAX),
            })?;
            let norm = l2(latent.values());
            if norm > 0.0 {
                for (unit, value) in latent.iter() {
                    self.postings[unit as usize].push(Posting {
                        id,
                        weight: (f64::from(value) / norm) as f32,
                    });
                }
            }
            Ok(())
        });
        match read {
            Ok(file) => {
                self.postings.iter_mut().for_each(Vec::shrink_to_fit);
                self.starts.push(first);
                self.records = next;
                self.files.push(file);
                Ok(self.files.last().expect("just pushed"))
            }
            Err(e) => {
                for list in &mut self.postings {
                    let keep = list.partition_point(|p| p.id < first);
                    list.truncate(keep);
                }
                Err(e)
            }
        }
    }

    /// The files added, in order ([`Hit::file`] is a position in this list).
    pub fn files(&self) -> &[IndexedFile] {
        &self.files
    }

    /// Records in the index.
    pub fn len(&self) -> usize {
        self.records as usize
    }

    /// Whether the index holds no record.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Stored nonzeros: the index's size.
    pub fn nonzeros(&self) -> usize {
        self.postings.iter().map(Vec::len).sum()
    }

    /// Bytes the index holds in memory (postings, their lists, the file table).
    pub fn memory_bytes(&self) -> usize {
        let lists: usize = self
            .postings
            .iter()
            .map(|p| p.capacity() * size_of::<Posting>())
            .sum();
        let files: usize = self
            .files
            .iter()
            .map(|f| size_of::<IndexedFile>() + f.name.len())
            .sum();
        lists + self.postings.len() * size_of::<Vec<Posting>>() + files + self.starts.len() * 4
    }

    /// The `k` stored records most similar to `query` (a latent of the
    /// index's model), most similar first; ties go to the record added first.
    pub fn search(&self, query: &SparseLatent, k: usize) -> Result<Vec<Hit>> {
        self.check_query(query, k)?;
        Ok(self.score(query, k, &mut self.scratch()))
    }

    /// [`search`](Self::search) for many queries, on all cores.
    pub fn search_many(&self, queries: &[SparseLatent], k: usize) -> Result<Vec<Vec<Hit>>> {
        for query in queries {
            self.check_query(query, k)?;
        }
        let chunk = queries.len().div_ceil(rayon::current_num_threads().max(1)).max(1);
        Ok(queries
            .par_chunks(chunk)
            .flat_map_iter(|part| {
                let mut scratch = self.scratch();
                part.iter()
                    .map(|q| self.score(q, k, &mut scratch))
                    .collect::<Vec<_>>()
            })
            .collect())
    }

    /// k-NN classification: for each query, the label the majority of its
    /// `k` nearest records carry (`labels[f][r]`: record `r` of file `f`);
    /// a tie goes to the label with the larger summed similarity. `None`
    /// for a query that shares no unit with any labelled record.
    ///
    /// Each file needs a label for each record it held; a partially read
    /// file may have more (those of the records it lost).
    pub fn classify(
        &self,
        queries: &[SparseLatent],
        k: usize,
        labels: &[Vec<String>],
    ) -> Result<Vec<Option<String>>> {
        let bad = |reason: String| CodecError::InvalidSetting {
            name: "labels",
            reason,
        };
        if labels.len() != self.files.len() {
            return Err(bad(format!(
                "{} label lists for {} indexed files",
                labels.len(),
                self.files.len()
            )));
        }
        for (file, list) in self.files.iter().zip(labels) {
            let n = list.len() as u64;
            if n < file.records || (file.lost_bytes.is_none() && n != file.records) {
                return Err(bad(format!(
                    "{} labels for the {} records of {}",
                    n, file.records, file.name
                )));
            }
        }
        let hits = self.search_many(queries, k)?;
        Ok(hits
            .iter()
            .map(|hits| vote(hits, |h| Some(labels[h.file][h.record as usize].as_str())).map(str::to_owned))
            .collect())
    }

    /// Every record's score accumulated in place, then one scan for the top `k`.
    fn score_dense(
        &self,
        query: &SparseLatent,
        norm: f64,
        k: usize,
        scratch: &mut Scratch,
    ) -> Vec<(f32, u32)> {
        let scores = &mut scratch.scores;
        for (unit, value) in query.iter() {
            let w = (f64::from(value) / norm) as f32;
            for p in &self.postings[unit as usize] {
                scores[p.id as usize] += w * p.weight;
            }
        }
        // Ids ascend, so a later record that ties the k-th loses the tie.
        let mut best: Vec<(f32, u32)> = Vec::with_capacity(k + 1);
        for (id, &s) in (0u32..).zip(scores.iter()) {
            if s > 0.0 && (best.len() < k || s > best[best.len() - 1].0) {
                let at = best.partition_point(|b| b.0 >= s);
                best.insert(at, (s, id));
                best.truncate(k);
            }
        }
        scores.fill(0.0);
        best
    }

    /// Only the records met are tracked, then the top `k` of them.
    fn score_sparse(
        &self,
        query: &SparseLatent,
        norm: f64,
        k: usize,
        scratch: &mut Scratch,
    ) -> Vec<(f32, u32)> {
        let Scratch {
            scores,
            seen,
            touched,
        } = scratch;
        for (unit, value) in query.iter() {
            let w = (f64::from(value) / norm) as f32;
            for p in &self.postings[unit as usize] {
                let i = p.id as usize;
                if !seen[i] {
                    seen[i] = true;
                    touched.push(p.id);
                }
                scores[i] += w * p.weight;
            }
        }
        let mut best: Vec<(f32, u32)> = touched
            .iter()
            .map(|&id| (scores[id as usize], id))
            .filter(|&(s, _)| s > 0.0)
            .collect();
        for &id in touched.iter() {
            scores[id as usize] = 0.0;
            seen[id as usize] = false;
        }
        touched.clear();
        let order = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if best.len() > k {
            best.select_nth_unstable_by(k - 1, order);
            best.truncate(k);
        }
        best.sort_unstable_by(order);
        best
    }

    fn scratch(&self) -> Scratch {
        Scratch {
            scores: vec![0.0; self.records as usize],
            seen: vec![false; self.records as usize],
            touched: Vec::new(),
        }
    }

    fn check_codec(&self, codec: &Codec) -> Result<()> {
        if codec.fingerprint() != self.fingerprint {
            return Err(CodecError::ModelMismatch {
                expected: hex(&self.fingerprint),
                found: hex(&codec.fingerprint()),
            });
        }
        Ok(())
    }

    fn check_query(&self, query: &SparseLatent, k: usize) -> Result<()> {
        if k == 0 {
            return Err(CodecError::InvalidSetting {
                name: "k",
                reason: "the number of neighbours must be at least 1".into(),
            });
        }
        if query.len() != self.latent_len {
            return Err(CodecError::InvalidSetting {
                name: "query",
                reason: format!(
                    "a latent of length {} for an index of latents of length {}",
                    query.len(),
                    self.latent_len
                ),
            });
        }
        Ok(())
    }

    /// Scores `query` against the records it shares a unit with; the top `k`.
    ///
    /// Two ways to the same scores (the same sums in the same order): when
    /// the query's postings are many against the records, every record's
    /// score is accumulated without a branch and all are scanned once;
    /// otherwise only the records met are tracked. The top `k` are the same.
    fn score(&self, query: &SparseLatent, k: usize, scratch: &mut Scratch) -> Vec<Hit> {
        let norm = l2(query.values());
        if norm == 0.0 {
            return Vec::new();
        }
        let visits: usize = query
            .indices()
            .iter()
            .map(|&u| self.postings[u as usize].len())
            .sum();
        let best = if visits.saturating_mul(DENSE_SCAN_VISITS_PER_RECORD) >= self.records as usize {
            self.score_dense(query, norm, k, scratch)
        } else {
            self.score_sparse(query, norm, k, scratch)
        };
        best.into_iter()
            .map(|(similarity, id)| {
                let file = self.starts.partition_point(|&s| s <= id) - 1;
                Hit {
                    file,
                    record: u64::from(id - self.starts[file]),
                    similarity,
                }
            })
            .collect()
    }
}

/// Reads every latent of a container made by `codec`, in order, without
/// decoding any record to data: the index's reading, and a classifier's
/// query file's. A damaged or unfinished container is refused unless
/// `allow_partial` (then its whole records are read).
pub fn read_latents<R: Read + Seek>(
    codec: &Codec,
    name: impl Into<String>,
    source: R,
    allow_partial: bool,
) -> Result<(Vec<SparseLatent>, IndexedFile)> {
    let mut latents = Vec::new();
    let file = for_each_latent(codec, name.into(), source, allow_partial, |latent| {
        latents.push(latent);
        Ok(())
    })?;
    Ok((latents, file))
}

/// Hands each whole record's latent of a container to `sink`, in order.
fn for_each_latent<R: Read + Seek>(
    codec: &Codec,
    name: String,
    source: R,
    allow_partial: bool,
    mut sink: impl FnMut(SparseLatent) -> Result<()>,
) -> Result<IndexedFile> {
    // The random-access reader checks the model, the footer (or finds the
    // whole records of an unfinished file); the records are then read in
    // order, through a buffer, by a stream reader.
    let reader = codec.reader(source)?;
    let whole = reader.len() as u64;
    let lost_bytes = match *reader.status() {
        IndexStatus::Recovered { trailing_bytes } if !allow_partial => {
            return Err(CodecError::Unfinished {
                records: whole,
                lost_bytes: trailing_bytes,
            });
        }
        IndexStatus::Recovered { trailing_bytes } => Some(trailing_bytes),
        _ => None,
    };
    let mut source = reader.into_inner();
    source.seek(SeekFrom::Start(0)).map_err(CodecError::Io)?;
    let mut stream = StreamReader::new(BufReader::with_capacity(1 << 16, source))?;
    let mut without_latent = 0;
    for index in 0..whole {
        let Some(record) = stream.next_record()? else {
            return Err(CodecError::Unfinished {
                records: index,
                lost_bytes: 0,
            });
        };
        without_latent += u64::from(record.latent.nnz() == 0);
        sink(record.latent)?;
    }
    Ok(IndexedFile {
        name,
        records: whole,
        without_latent,
        lost_bytes,
    })
}

/// The L2 norm of a latent's values, in f64.
fn l2(values: &[f32]) -> f64 {
    values
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt()
}

/// The majority label among `hits` (`label` names each hit's, `None` for an
/// unlabelled one); a tie goes to the larger summed similarity, then to the
/// label first in order. `None` when no hit has a label.
pub fn vote<'a>(hits: &[Hit], label: impl Fn(&Hit) -> Option<&'a str>) -> Option<&'a str> {
    let mut tally: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
    for hit in hits {
        if let Some(name) = label(hit) {
            let entry = tally.entry(name).or_default();
            entry.0 += 1;
            entry.1 += f64::from(hit.similarity);
        }
    }
    let mut best: Option<(&str, (usize, f64))> = None;
    for (name, score) in tally {
        if best.is_none_or(|(_, b)| score.0 > b.0 || (score.0 == b.0 && score.1 > b.1)) {
            best = Some((name, score));
        }
    }
    best.map(|(name, _)| name)
}

/// Labels, one per record, from a JSON text: an array of strings, or a
/// parameter sidecar (an object whose `images` each name their `model` and
/// optional `structure_factor`, as `sae simulate` writes and the public SAS
/// set ships). A sidecar's label is the model family in sasmodels' notation:
/// the model, with `@` and the structure factor when there is one
/// (`sphere@hardsphere`), so the simulator's six models give nine families.
pub fn read_labels(text: &str) -> Result<Vec<String>> {
    let bad = |reason: String| CodecError::InvalidSetting {
        name: "labels",
        reason,
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let (items, field) = match &value {
        serde_json::Value::Array(items) => (items, None),
        serde_json::Value::Object(map) => match map.get("images") {
            Some(serde_json::Value::Array(images)) => (images, Some("model")),
            _ => return Err(bad("an object without an `images` array".into())),
        },
        _ => return Err(bad("neither an array of labels nor a parameter sidecar".into())),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let label = match field {
                Some(field) => item.get(field),
                None => Some(item),
            };
            let structure = match field.and_then(|_| item.get("structure_factor")) {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) => Some(s),
                Some(_) => return Err(bad(format!("entry {i}'s `structure_factor` is not a string"))),
            };
            match label {
                Some(serde_json::Value::String(s)) => Ok(match structure {
                    Some(sf) => format!("{s}@{sf}"),
                    None => s.clone(),
                }),
                _ => Err(bad(format!(
                    "entry {i} has no {}",
                    field.map_or("string label".to_string(), |f| format!("string `{f}`"))
                ))),
            }
        })
        .collect()
}

/// Counts of true against predicted labels, and the accuracy they give.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Confusion {
    /// Every label seen, true or predicted, in order.
    pub labels: Vec<String>,
    /// `counts[t][p]`: queries of true label `labels[t]` predicted `labels[p]`.
    pub counts: Vec<Vec<u64>>,
    /// Queries of each true label that got no prediction (no neighbour).
    pub unclassified: Vec<u64>,
}

impl Confusion {
    /// The confusion of `predicted` against `truth` (the same length).
    pub fn new(truth: &[String], predicted: &[Option<String>]) -> Result<Self> {
        if truth.len() != predicted.len() {
            return Err(CodecError::InvalidSetting {
                name: "labels",
                reason: format!("{} true labels for {} queries", truth.len(), predicted.len()),
            });
        }
        let mut names: Vec<String> = truth.iter().chain(predicted.iter().flatten()).cloned().collect();
        names.sort();
        names.dedup();
        let at = |name: &str| names.binary_search_by(|n| n.as_str().cmp(name)).expect("listed");
        let mut counts = vec![vec![0; names.len()]; names.len()];
        let mut unclassified = vec![0; names.len()];
        for (t, p) in truth.iter().zip(predicted) {
            match p {
                Some(p) => counts[at(t)][at(p)] += 1,
                None => unclassified[at(t)] += 1,
            }
        }
        Ok(Self {
            labels: names,
            counts,
            unclassified,
        })
    }

    /// Queries counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum::<u64>() + self.unclassified.iter().sum::<u64>()
    }

    /// The fraction predicted right (0 for no query).
    pub fn accuracy(&self) -> f64 {
        let right: u64 = (0..self.labels.len()).map(|i| self.counts[i][i]).sum();
        match self.total() {
            0 => 0.0,
            n => right as f64 / n as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(file: usize, record: u64, similarity: f32) -> Hit {
        Hit {
            file,
            record,
            similarity,
        }
    }

    /// Deterministic sparse latents of length 64 (a small LCG), every third
    /// one repeated so that ties occur.
    fn latents(count: usize, seed: u64) -> Vec<SparseLatent> {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let mut out: Vec<SparseLatent> = Vec::new();
        while out.len() < count {
            if out.len() % 3 == 2 {
                out.push(out[out.len() - 1].clone());
                continue;
            }
            let mut dense = vec![0.0f32; 64];
            for _ in 0..1 + next() % 6 {
                // Popular units (the first eight) and rare ones.
                let unit = if next() % 2 == 0 { next() % 8 } else { next() % 64 };
                dense[unit as usize] = 1.0 + (next() % 100) as f32 / 10.0;
            }
            out.push(SparseLatent::from_dense(&dense));
        }
        out
    }

    #[test]
    fn the_dense_scan_and_the_tracked_records_give_the_same_top_k() {
        let mut index = LatentIndex {
            fingerprint: [0; 32],
            latent_len: 64,
            files: Vec::new(),
            starts: vec![0],
            postings: vec![Vec::new(); 64],
            records: 0,
        };
        for latent in latents(500, 1) {
            let norm = l2(latent.values());
            for (unit, value) in latent.iter() {
                index.postings[unit as usize].push(Posting {
                    id: index.records,
                    weight: (f64::from(value) / norm) as f32,
                });
            }
            index.records += 1;
        }
        let mut scratch = index.scratch();
        let mut dense_used = 0;
        for query in latents(60, 2) {
            let norm = l2(query.values());
            for k in [1, 5, 40, 600] {
                let dense = index.score_dense(&query, norm, k, &mut scratch);
                let sparse = index.score_sparse(&query, norm, k, &mut scratch);
                assert_eq!(dense, sparse, "k = {k}");
                assert!(dense.len() <= k);
                assert!(
                    dense
                        .windows(2)
                        .all(|w| w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1))
                );
            }
            // The scratch is left clean by both.
            assert!(scratch.scores.iter().all(|&s| s == 0.0) && !scratch.seen.contains(&true));
            let visits: usize = query
                .indices()
                .iter()
                .map(|&u| index.postings[u as usize].len())
                .sum();
            dense_used += usize::from(visits * DENSE_SCAN_VISITS_PER_RECORD >= 500);
        }
        // Both paths are taken by `score` over these queries.
        assert!(dense_used > 0 && dense_used < 60, "{dense_used} of 60 dense");
    }

    #[test]
    fn vote_takes_the_majority_then_the_closer() {
        let names = ["a", "b", "b", "a", "c"];
        let hits: Vec<Hit> = (0..5).map(|i| hit(0, i, 1.0 - i as f32 * 0.1)).collect();
        // a: 2 (1.0 + 0.7), b: 2 (0.9 + 0.8): a tie on counts, a has more similarity.
        assert_eq!(vote(&hits, |h| Some(names[h.record as usize])), Some("a"));
        assert_eq!(vote(&hits[1..3], |h| Some(names[h.record as usize])), Some("b"));
        assert_eq!(vote(&hits, |_| None), None);
    }

    #[test]
    fn labels_from_an_array_or_a_sidecar() {
        assert_eq!(read_labels(r#"["x", "y"]"#).unwrap(), ["x", "y"]);
        let sidecar = r#"{"q_grid": {}, "images": [{"model": "sphere", "params": {}}, {"model": "cylinder"},
                {"model": "sphere", "structure_factor": "hardsphere"}, {"model": "ellipsoid", "structure_factor": null}]}"#;
        assert_eq!(
            read_labels(sidecar).unwrap(),
            ["sphere", "cylinder", "sphere@hardsphere", "ellipsoid"]
        );
        for bad in [
            r#"[1]"#,
            r#"{"images": [{"model": "sphere", "structure_factor": 1}]}"#,
            r#"{"images": [{}]}"#,
            r#"{"x": 1}"#,
            "3",
            "not json",
        ] {
            assert!(
                matches!(
                    read_labels(bad),
                    Err(CodecError::InvalidSetting { name: "labels", .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn confusion_counts_and_accuracy() {
        let truth: Vec<String> = ["a", "a", "b", "b"].map(String::from).to_vec();
        let predicted = vec![
            Some("a".to_string()),
            Some("b".to_string()),
            Some("b".to_string()),
            None,
        ];
        let c = Confusion::new(&truth, &predicted).unwrap();
        assert_eq!(c.labels, ["a", "b"]);
        assert_eq!(c.counts, [[1, 1], [0, 1]]);
        assert_eq!(c.unclassified, [0, 1]);
        assert_eq!(c.total(), 4);
        assert!((c.accuracy() - 0.5).abs() < 1e-12);
        assert!(Confusion::new(&truth, &predicted[..3]).is_err());
    }
}
