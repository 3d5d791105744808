//! Training-step, encode and decode throughput of the autoencoder on the CPU,
//! at `(n, m, l) = (1024, 1024, 2048)` and `(4096, 4096, 8192)`, batch 512.
//!
//! `matmuls` times the step's eleven matrix products alone (same shapes, same
//! transposes), so the step's overhead beyond them is visible.
//!
//! Run: `cargo bench --bench model`. Figures are recorded in `docs/benchmarks.md`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sae_codec::sae_model::candle_core::{DType, Device, Tensor};
use sae_codec::sae_model::{Adam, AdamConfig, Architecture, Autoencoder, Identity, SparseCode};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 512;
/// Active units per sample in the sparse codes that the decoders get.
const NNZ: usize = 30;

fn pseudo_random(count: usize, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..count)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect()
}

fn codes(arch: Architecture) -> Vec<SparseCode> {
    let r = pseudo_random(BATCH * NNZ, 7);
    (0..BATCH)
        .map(|b| {
            let mut indices: Vec<u32> = (0..NNZ)
                .map(|k| (r[b * NNZ + k] * arch.latent as f32) as u32 % arch.latent as u32)
                .collect();
            indices.sort_unstable();
            indices.dedup();
            let values = indices.iter().map(|&i| 0.1 + (i % 13) as f32 / 13.0).collect();
            SparseCode { indices, values }
        })
        .collect()
}

fn dense(arch: Architecture, codes: &[SparseCode]) -> Tensor {
    let mut z = vec![0f32; codes.len() * arch.latent];
    for (b, c) in codes.iter().enumerate() {
        for (&i, &v) in c.indices.iter().zip(&c.values) {
            z[b * arch.latent + i as usize] = v;
        }
    }
    Tensor::from_vec(z, (codes.len(), arch.latent), &Device::Cpu).expect("shape")
}

/// The eleven products of one training step, with the step's shapes and transposes.
fn matmuls(x: &Tensor, w: &[Tensor; 4], acts: &[Tensor; 3]) -> Tensor {
    let [h0, z, h2] = acts;
    let mm = |a: &Tensor, b: &Tensor| a.matmul(b).expect("shapes");
    let t = |a: &Tensor| a.t().expect("matrix");
    // Forward.
    let _ = mm(x, &w[0]);
    let _ = mm(h0, &w[1]);
    let _ = mm(z, &w[2]);
    let y = mm(h2, &w[3]);
    // Backward: weight gradients and the gradients passed down.
    let _ = mm(&t(h2), &y);
    let da2 = mm(&y, &t(&w[3]));
    let _ = mm(&t(z), &da2);
    let dz = mm(&da2, &t(&w[2]));
    let _ = mm(&t(h0), &dz);
    let da0 = mm(&dz, &t(&w[1]));
    mm(&t(x), &da0)
}

fn bench(c: &mut Criterion) {
    for (name, n) in [("1024-1024-2048", 1024), ("4096-4096-8192", 4096)] {
        let arch = Architecture::new(n, n, 2 * n).expect("sizes");
        let mut model = Autoencoder::new(arch, &Device::Cpu, 1).expect("model");
        let data = pseudo_random(BATCH * n, 3);
        let x = Tensor::from_slice(&data, (BATCH, n), &Device::Cpu).expect("shape");
        let mut optimizer = Adam::new(&model, AdamConfig::default()).expect("optimizer");
        let samples = if n > 2048 { 10 } else { 20 };

        let mut group = c.benchmark_group(format!("train_step/{name}"));
        group.throughput(Throughput::Elements(BATCH as u64));
        group.sample_size(samples);
        group.bench_function(BenchmarkId::from_parameter("step"), |b| {
            b.iter(|| {
                black_box(
                    model
                        .train_step(&x, 1e-3, &Identity, &mut optimizer, 1e-4)
                        .expect("finite"),
                )
            })
        });
        let w = [
            Tensor::zeros((n, n), DType::F32, &Device::Cpu).expect("alloc"),
            Tensor::zeros((n, 2 * n), DType::F32, &Device::Cpu).expect("alloc"),
            Tensor::zeros((2 * n, n), DType::F32, &Device::Cpu).expect("alloc"),
            Tensor::zeros((n, n), DType::F32, &Device::Cpu).expect("alloc"),
        ];
        let acts = [
            Tensor::ones((BATCH, n), DType::F32, &Device::Cpu).expect("alloc"),
            Tensor::ones((BATCH, 2 * n), DType::F32, &Device::Cpu).expect("alloc"),
            Tensor::ones((BATCH, n), DType::F32, &Device::Cpu).expect("alloc"),
        ];
        group.bench_function(BenchmarkId::from_parameter("matmuls_only"), |b| {
            b.iter(|| black_box(matmuls(&x, &w, &acts)))
        });
        group.finish();

        let codes = codes(arch);
        let z = dense(arch, &codes);
        let mut group = c.benchmark_group(format!("inference/{name}"));
        group.throughput(Throughput::Elements(BATCH as u64));
        group.sample_size(samples);
        group.bench_function(BenchmarkId::from_parameter("encode_sparse"), |b| {
            b.iter(|| black_box(model.encode_sparse(&data, 0.0).expect("encode")))
        });
        group.bench_function(BenchmarkId::from_parameter("decode_sparse"), |b| {
            b.iter(|| black_box(model.decode_sparse(&codes).expect("decode")))
        });
        group.bench_function(BenchmarkId::from_parameter("decode_dense"), |b| {
            b.iter(|| black_box(model.decode(&z).expect("decode")))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
