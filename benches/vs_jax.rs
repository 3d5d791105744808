//! Our side of `benches/vs_jax.sh`: times our training step and encoding at
//! two operating points and writes each point's weights and batch as `.npy`
//! files, so that `benches/vs_jax.py` times JAX/XLA on the identical MLP,
//! weights, batch and optimiser.
//!
//! * `recipe`: `(n, m, l) = (4096, 1024, 4096)`, batch 128, the weights after
//!   2 epochs of the `sas` preset on 6 000 simulated images (the latent is
//!   sparse there, as in training), the batch from the same images.
//! * `large`: `(4096, 4096, 8192)`, batch 512, freshly initialised weights
//!   and pseudo-random data (a dense latent: the dense step).
//!
//! Usage: `vs_jax OUT_DIR` (what `benches/vs_jax.sh` runs). Prints one JSON
//! line per point: median seconds per step (active units and dense) and per
//! encode of 512 records.

use std::path::Path;
use std::time::Instant;

use sae_codec::io::{Array, write_npy};
use sae_codec::sae_model::candle_core::{Device, Tensor};
use sae_codec::sae_model::{Adam, AdamConfig, Architecture, Autoencoder, Identity};
use sae_codec::sae_sas::{DatasetConfig, Detector};
use sae_codec::{Codec, Preset, StepPath};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const REPEATS: usize = 15;
const LAMBDA: f64 = 3e-3;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn write(dir: &Path, name: &str, t: &Tensor) {
    let shape = t.dims().to_vec();
    let data = t
        .flatten_all()
        .and_then(|t| t.to_vec1::<f32>())
        .expect("f32 tensor");
    write_npy(
        dir.join(format!("{name}.npy")),
        &Array::new(shape, data).expect("shape"),
    )
    .expect("write");
}

fn point(dir: &Path, name: &str, model: &Autoencoder, records: &[f32], batch: usize) {
    let n = model.architecture().input;
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).expect("out dir");
    for (i, layer) in model.layers().as_array().into_iter().enumerate() {
        write(&dir, &format!("w{i}"), layer.weight());
        write(&dir, &format!("b{i}"), layer.bias());
    }
    let x = Tensor::from_slice(&records[..batch * n], (batch, n), &Device::Cpu).expect("batch");
    write(&dir, "x", &x);
    let encode_rows = &records[..512 * n];
    write(
        &dir,
        "encode",
        &Tensor::from_slice(encode_rows, (512, n), &Device::Cpu).expect("rows"),
    );
    let step = |path| {
        let mut m = model.deep_copy().expect("copy");
        let mut adam = Adam::new(&m, AdamConfig::default()).expect("adam");
        let mut times = Vec::new();
        for _ in 0..REPEATS + 2 {
            let t = Instant::now();
            m.train_step_on(&x, LAMBDA, &Identity, &mut adam, 1e-9, path)
                .expect("step");
            times.push(t.elapsed().as_secs_f64());
        }
        median(times[2..].to_vec())
    };
    let (active, dense) = (step(StepPath::Auto), step(StepPath::Dense));
    let units = model
        .encode(&x)
        .and_then(|z| {
            Ok(z.gt(0.0)?
                .max(0)?
                .to_dtype(sae_codec::sae_model::candle_core::DType::F32)?
                .sum_all()?
                .to_scalar::<f32>()?)
        })
        .expect("support");
    let mut times = Vec::new();
    for _ in 0..REPEATS + 2 {
        let t = Instant::now();
        std::hint::black_box(model.encode_sparse(encode_rows, 0.0).expect("encode"));
        times.push(t.elapsed().as_secs_f64());
    }
    let encode = median(times[2..].to_vec());
    let arch = model.architecture();
    println!(
        "{}",
        serde_json::json!({
            "point": name, "n": arch.input, "m": arch.hidden, "l": arch.latent, "batch": batch,
            "batch_active_units": units, "step_active_s": active, "step_dense_s": dense, "encode_512_s": encode,
        })
    );
}

fn main() {
    let Some(out) = std::env::args()
        .nth(1)
        .filter(|a| a != "--bench" && a != "--list")
    else {
        eprintln!("usage: vs_jax OUT_DIR (run by benches/vs_jax.sh)");
        return;
    };
    let out = Path::new(&out);
    let (images, _) = DatasetConfig::default()
        .generate(6000, 1, &Detector::default())
        .expect("simulation");
    let mut config = Preset::Sas.recipe().config;
    config.train.epochs = 2;
    let (codec, _) = Codec::train(&images, &[64, 64], &config, |_| {}).expect("training");
    let mut records = images[..1024 * 4096].to_vec();
    for r in records.chunks_mut(4096) {
        sae_codec::transform::forward(&config.transforms, r).expect("transform");
    }
    point(out, "recipe", codec.model(), &records, 128);

    let arch = Architecture::new(4096, 4096, 8192).expect("sizes");
    let model = Autoencoder::new(arch, &Device::Cpu, 1).expect("model");
    let data: Vec<f32> = (0..512 * 4096u64)
        .map(|i| ((i.wrapping_mul(2654435761) % 1000) as f32) / 1000.0)
        .collect();
    point(out, "large", &model, &data, 512);
}
