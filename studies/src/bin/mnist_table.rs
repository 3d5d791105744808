//! The paper's Table 1 on MNIST: sparse autoencoders of growing width trained
//! on 20% of the 70 000 images and tested on the other 80%, with k-NN
//! (cosine) classification in latent space against k-NN on pixels.
//!
//! Run: `cargo run --release -p sae-studies --bin mnist_table -- [NETWORK ...]`
//!
//! k-NN on latents runs on the compressed representation itself: the test
//! container is entropy-decoded into sparse latents (no decoder network) and
//! compared with the training latents through an inverted index.
//!
//! Environment: `SAE_MNIST` (directory of the IDX files, default
//! `../shared/data/mnist`), `SAE_SEEDS` (number of seeds, 3), `SAE_EPOCHS`
//! (20), `SAE_RESULTS` (docs/results). Writes `docs/results/mnist.json` and
//! prints the table. Pixels are scaled to [0, 1] before the network (an affine
//! transform stored in every container); see `NETWORKS` for the units of λ.

#[path = "../../../examples/common/mod.rs"]
mod common;

use common::env;
use std::collections::BTreeMap;
use std::error::Error;
use std::io::Cursor;
use std::path::PathBuf;
use std::time::Instant;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use sae_codec::io::read_idx;
use sae_codec::sae_container::{ContainerReader, Transform};
use sae_codec::sae_model::candle_core::{D, Device, Tensor};
use sae_codec::sae_model::{LambdaControl, LrSchedule, TrainConfig};
use sae_codec::{Codec, CodecConfig, Metrics, Summary};
use serde_json::{Value, json};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PIXELS: usize = 784;
/// Neighbours that vote (the nearest breaks ties).
const K: usize = 5;

/// `(name, m/n, l/n, λ)`, λ for our loss: per-image sums `‖y − x‖² + λ‖z‖₁`
/// (batch means), pixels in [0, 1]. The paper's λ are in other units (its
/// `(4, 8, 3200, z)` taken literally, λ = 3200 / 255, leaves no unit active),
/// so ours were chosen for a similar range of sparsity.
const NETWORKS: &[(&str, f64, f64, f64)] = &[
    ("half-quarter", 0.5, 0.25, 0.0),
    ("one-two", 1.0, 2.0, 0.02),
    ("two-four", 2.0, 4.0, 0.05),
    ("four-eight", 4.0, 8.0, 0.1),
];

/// Majority label of the `K` most similar references (ties go to the nearest),
/// and the label of the single most similar one.
fn vote(scored: &mut [(f32, u32)], labels: &[u8]) -> (u8, u8) {
    let k = K.min(scored.len());
    if k == 0 {
        return (u8::MAX, u8::MAX);
    }
    scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
    let top = &mut scored[..k];
    top.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut counts = [0usize; 256];
    for &(_, i) in top.iter() {
        counts[labels[i as usize] as usize] += 1;
    }
    let best = top
        .iter()
        .map(|&(_, i)| labels[i as usize])
        .max_by_key(|&l| counts[l as usize])
        .unwrap_or(u8::MAX);
    // max_by_key returns the last maximum; prefer the nearest among ties.
    let best = top
        .iter()
        .map(|&(_, i)| labels[i as usize])
        .find(|&l| counts[l as usize] == counts[best as usize])
        .unwrap_or(best);
    (best, labels[top[0].1 as usize])
}

/// k-NN accuracy (k = K and k = 1) on pixels: cosine similarity by matrix products.
fn knn_pixels(
    train: &[f32],
    train_labels: &[u8],
    test: &[f32],
    test_labels: &[u8],
) -> Result<(f64, f64), Box<dyn Error>> {
    let normalised = |x: &[f32]| -> Result<Tensor, Box<dyn Error>> {
        let t = Tensor::from_slice(x, (x.len() / PIXELS, PIXELS), &Device::Cpu)?;
        let norms = t.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        Ok(t.broadcast_div(&norms)?)
    };
    let reference = normalised(train)?.t()?.contiguous()?;
    let (mut hits_k, mut hits_1) = (0usize, 0usize);
    for (block, labels) in test.chunks(2048 * PIXELS).zip(test_labels.chunks(2048)) {
        let similarity = normalised(block)?.matmul(&reference)?.to_vec2::<f32>()?;
        for (row, &label) in similarity.into_iter().zip(labels) {
            let mut scored: Vec<(f32, u32)> = row.into_iter().zip(0u32..).collect();
            let (k, one) = vote(&mut scored, train_labels);
            hits_k += usize::from(k == label);
            hits_1 += usize::from(one == label);
        }
    }
    let n = test_labels.len() as f64;
    Ok((hits_k as f64 / n, hits_1 as f64 / n))
}

/// One sparse latent: active indices and their values.
type Sparse = (Vec<u32>, Vec<f32>);

/// Sparse latents of every record of a container, entropy-decoded only.
fn sparse_latents(container: &[u8]) -> Result<Vec<Sparse>, Box<dyn Error>> {
    let mut reader = ContainerReader::open(Cursor::new(container))?;
    (0..reader.len())
        .map(|i| {
            let (_, indices, values) = reader.get(i)?.latent.into_parts();
            Ok((indices, values))
        })
        .collect()
}

/// k-NN accuracy (k = K and k = 1) with cosine similarity between sparse latents,
/// through an inverted index of the training latents.
fn knn_sparse(
    train: &[Sparse],
    train_labels: &[u8],
    test: &[Sparse],
    test_labels: &[u8],
    latent_len: usize,
) -> (f64, f64) {
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-30);
    let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); latent_len];
    for (id, (indices, values)) in train.iter().enumerate() {
        let inverse = 1.0 / norm(values);
        for (&j, &v) in indices.iter().zip(values) {
            postings[j as usize].push((id as u32, v * inverse));
        }
    }
    let mut scores = vec![0f32; train.len()];
    let mut touched: Vec<u32> = Vec::new();
    let (mut hits_k, mut hits_1) = (0usize, 0usize);
    for ((indices, values), &label) in test.iter().zip(test_labels) {
        let inverse = 1.0 / norm(values);
        for (&j, &v) in indices.iter().zip(values) {
            for &(id, w) in &postings[j as usize] {
                if scores[id as usize] == 0.0 {
                    touched.push(id);
                }
                scores[id as usize] += v * inverse * w;
            }
        }
        let mut scored: Vec<(f32, u32)> = touched.iter().map(|&id| (scores[id as usize], id)).collect();
        let (k, one) = vote(&mut scored, train_labels);
        hits_k += usize::from(k == label);
        hits_1 += usize::from(one == label);
        for &id in &touched {
            scores[id as usize] = 0.0;
        }
        touched.clear();
    }
    let n = test_labels.len() as f64;
    (hits_k as f64 / n, hits_1 as f64 / n)
}

fn mean_spread(values: &[f64]) -> Value {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = if values.len() > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    json!({"mean": mean, "sd": sd, "runs": values})
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = PathBuf::from(env("SAE_MNIST", "../shared/data/mnist".to_string()));
    let seeds: u64 = env("SAE_SEEDS", 3);
    let epochs: usize = env("SAE_EPOCHS", 20);
    let results = PathBuf::from(env("SAE_RESULTS", "docs/results".to_string()));
    let names: Vec<String> = std::env::args().skip(1).collect();

    // All 70 000 images, shuffled once (seed 0) and split 20% / 80%.
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for (x, y) in [
        ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
        ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    ] {
        let x = read_idx(dir.join(x))?;
        let y = read_idx(dir.join(y))?;
        images.extend(x.data.iter().map(|&p| f32::from(p)));
        labels.extend(y.data);
    }
    let count = labels.len();
    if images.len() != count * PIXELS {
        return Err("MNIST images and labels disagree in count".into());
    }
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    let n_train = count / 5;
    let gather = |ids: &[usize]| -> (Vec<f32>, Vec<u8>) {
        let mut x = Vec::with_capacity(ids.len() * PIXELS);
        let mut y = Vec::with_capacity(ids.len());
        for &i in ids {
            x.extend_from_slice(&images[i * PIXELS..(i + 1) * PIXELS]);
            y.push(labels[i]);
        }
        (x, y)
    };
    let (train, train_labels) = gather(&order[..n_train]);
    let (test, test_labels) = gather(&order[n_train..]);
    println!(
        "MNIST: {} training and {} test images",
        train_labels.len(),
        test_labels.len()
    );

    let started = Instant::now();
    let (pixel_k, pixel_1) = knn_pixels(&train, &train_labels, &test, &test_labels)?;
    println!(
        "k-NN on pixels (cosine): {K}-NN {pixel_k:.4}, 1-NN {pixel_1:.4} ({:.0} s)",
        started.elapsed().as_secs_f64()
    );

    let json_path = results.join("mnist.json");
    let mut report: BTreeMap<String, Value> = std::fs::read(&json_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    report.insert(
        "pixels".into(),
        json!({"knn_k": K, "accuracy_k": pixel_k, "accuracy_1": pixel_1}),
    );
    report.insert(
        "split".into(),
        json!({"train": train_labels.len(), "test": test_labels.len(), "shuffle_seed": 0}),
    );
    for &(name, hidden, latent, lambda) in NETWORKS {
        if !names.is_empty() && !names.iter().any(|n| n == name) {
            continue;
        }
        let mut runs: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for seed in 0..seeds {
            let config = CodecConfig {
                hidden_ratio: hidden,
                latent_ratio: latent,
                transforms: vec![Transform::Affine {
                    scale: 1.0 / 255.0,
                    offset: 0.0,
                }],
                train: TrainConfig {
                    learning_rate: 1e-3,
                    schedule: LrSchedule::Cosine { min_factor: 0.1 },
                    batch_size: 128,
                    epochs,
                    seed,
                    validation_fraction: 0.05,
                    lambda: LambdaControl::Fixed(lambda),
                    ..TrainConfig::default()
                },
                seed,
                ..CodecConfig::default()
            };
            let started = Instant::now();
            let (codec, _) = Codec::train(&train, &[28, 28], &config, |_| {})?;
            let train_seconds = started.elapsed().as_secs_f64();
            let test_bytes = codec.compress(&test)?;
            let back = codec.decompress(&test_bytes)?;
            let test_latents = sparse_latents(&test_bytes)?;
            let train_latents = sparse_latents(&codec.compress(&train)?)?;
            let nnz: Vec<usize> = test_latents.iter().map(|l| l.0.len()).collect();
            let m = Metrics::compute(&test, &back, PIXELS, Some(&nnz), Some(test_bytes.len() as u64))?;
            let mse = test
                .iter()
                .zip(&back)
                .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                .sum::<f64>()
                / test.len() as f64;
            let l1 = Summary::of(
                &test_latents
                    .iter()
                    .map(|(_, v)| v.iter().map(|x| f64::from(x.abs())).sum())
                    .collect::<Vec<f64>>(),
            )
            .mean;
            let (acc_k, acc_1) = knn_sparse(
                &train_latents,
                &train_labels,
                &test_latents,
                &test_labels,
                codec.model().architecture().latent,
            );
            let l0 = nnz.iter().sum::<usize>() as f64 / nnz.len() as f64;
            println!(
                "{name} seed {seed}: MSE {mse:.1}  rel L2 {:.3e}  ‖z‖₁ {l1:.1}  ‖z‖₀ {l0:.1}  {:.0} px/nonzero  \
                 {:.1}× vs u8  {K}-NN {acc_k:.4}  1-NN {acc_1:.4}  ({train_seconds:.0} s)",
                m.rel_l2.mean,
                PIXELS as f64 / l0,
                (test.len()) as f64 / test_bytes.len() as f64,
            );
            for (key, value) in [
                ("mse_per_pixel", mse),
                ("rel_l2_mean", m.rel_l2.mean),
                ("l1_latent", l1),
                ("l0_latent", l0),
                ("pixels_per_nonzero", PIXELS as f64 / l0),
                ("byte_ratio_vs_u8", test.len() as f64 / test_bytes.len() as f64),
                ("accuracy_k", acc_k),
                ("accuracy_1", acc_1),
                ("train_seconds", train_seconds),
            ] {
                runs.entry(key).or_default().push(value);
            }
        }
        let mut entry = serde_json::Map::new();
        entry.insert(
            "network".into(),
            json!({"hidden_ratio": hidden, "latent_ratio": latent, "lambda": lambda, "selector": "z", "epochs": epochs, "seeds": seeds}),
        );
        for (key, values) in runs {
            entry.insert(key.into(), mean_spread(&values));
        }
        report.insert(name.into(), Value::Object(entry));
        // Written after every network, so an interrupted run keeps what it finished.
        std::fs::create_dir_all(&results)?;
        std::fs::write(&json_path, serde_json::to_string_pretty(&report)? + "\n")?;
        println!("wrote {}", json_path.display());
    }
    Ok(())
}
