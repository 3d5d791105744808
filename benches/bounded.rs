//! Throughput of the guaranteed mode's pieces: the bounded coder alone
//! (encode and decode of a 64×64 SAS-like image, per bound type) and the
//! exact decoder beside the matrix-kernel decoder.
//!
//! Run: `cargo bench --bench bounded`. Figures are recorded in `docs/benchmarks.md`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sae_codec::ErrorBound;
use sae_codec::sae_bounded::{decode, encode};
use sae_codec::sae_model::candle_core::Device;
use sae_codec::sae_model::{Architecture, Autoencoder, ExactDecoder, SparseCode};

const SIDE: usize = 64;

/// A smooth image over four decades with a ring, like a SAS pattern.
fn image() -> Vec<f32> {
    (0..SIDE * SIDE)
        .map(|i| {
            let (r, c) = ((i / SIDE) as f32 - 31.5, (i % SIDE) as f32 - 31.5);
            let q = (r * r + c * c).sqrt() / 6.0;
            let ring = (q * 3.0).sin().powi(2);
            1e3 / (1.0 + q.powi(4)) * (0.2 + ring) + 1e-3
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let x = image();
    let mut group = c.benchmark_group("bounded");
    group.throughput(Throughput::Bytes((x.len() * 4) as u64));
    for spec in ["l2:1e-2", "l2:1e-3", "abs:1e-2", "rel:1e-2"] {
        let bound: ErrorBound = spec.parse().unwrap();
        let bytes = encode(&x, SIDE, None, bound).unwrap();
        group.bench_function(format!("encode {spec}"), |b| {
            b.iter(|| encode(black_box(&x), SIDE, None, bound).unwrap())
        });
        let mut out = vec![0.0f32; x.len()];
        group.bench_function(format!("decode {spec}"), |b| {
            b.iter(|| decode(black_box(&bytes), SIDE, None, &mut out).unwrap())
        });
    }
    group.finish();

    // The decoder of a (1/4, 1) network at 64×64, 21 nonzeros per code, 256 codes.
    let model = Autoencoder::new(Architecture::new(4096, 1024, 4096).unwrap(), &Device::Cpu, 1).unwrap();
    let exact = ExactDecoder::new(&model).unwrap();
    let codes: Vec<SparseCode> = (0..256u32)
        .map(|b| {
            let indices: Vec<u32> = (0..21)
                .map(|k| (b * 97 + k * 191) % 4096)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let values = indices.iter().map(|&i| 0.5 + (i % 7) as f32 * 0.1).collect();
            SparseCode { indices, values }
        })
        .collect();
    let mut group = c.benchmark_group("decoder");
    group.throughput(Throughput::Bytes((codes.len() * 4096 * 4) as u64));
    group.sample_size(10);
    group.bench_function("exact", |b| b.iter(|| exact.decode(black_box(&codes)).unwrap()));
    group.bench_function("kernel", |b| {
        b.iter(|| model.decode_sparse(black_box(&codes)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
