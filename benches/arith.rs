//! Throughput of the `sae-arith` range coder beside constriction's range coder.
//!
//! Both code the same 10^6 symbols under the same quantised probabilities
//! (constriction is handed our exact 24-bit frequency table), so their
//! throughputs and compressed sizes compare like for like.
//!
//! Run: `cargo bench --bench arith`. Figures are recorded in `docs/benchmarks.md`.

use std::hint::black_box;

use constriction::stream::model::DefaultContiguousCategoricalEntropyModel;
use constriction::stream::queue::{DefaultRangeDecoder, DefaultRangeEncoder};
use constriction::stream::{Decode, Encode};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sae_codec::sae_arith::{Categorical, ProbabilityModel, QuantizedGaussian, RangeDecoder, RangeEncoder};

const SYMBOLS: usize = 1_000_000;

/// Seeded xorshift64: the benchmark data must not change between runs.
fn draw(model: &Categorical, count: usize, mut state: u64) -> Vec<usize> {
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            model.symbol_at((state % u64::from(model.total())) as u32).0
        })
        .collect()
}

struct Case {
    name: &'static str,
    ours: Categorical,
    theirs: DefaultContiguousCategoricalEntropyModel,
    symbols: Vec<usize>,
}

fn cases() -> Vec<Case> {
    let gaussian = QuantizedGaussian::reference(4095).expect("valid parameters");
    let gaussian = gaussian.as_categorical().clone();
    let geometric_weights: Vec<f64> = (0..256).map(|i| 0.97f64.powi(i)).collect();
    let geometric = Categorical::from_weights(&geometric_weights, 24).expect("valid weights");
    [
        ("gaussian_gaps_4097", gaussian, 1),
        ("geometric_256", geometric, 2),
    ]
    .into_iter()
    .map(|(name, ours, seed)| {
        assert_eq!(ours.total(), 1 << 24, "constriction needs 24-bit tables");
        let freqs: Vec<u32> = ours.frequencies().collect();
        let theirs =
            DefaultContiguousCategoricalEntropyModel::from_nonzero_fixed_point_probabilities(&freqs, false)
                .expect("same table");
        let symbols = draw(&ours, SYMBOLS, seed);
        Case {
            name,
            ours,
            theirs,
            symbols,
        }
    })
    .collect()
}

fn encode_ours(case: &Case) -> Vec<u8> {
    let mut encoder = RangeEncoder::with_buffer(Vec::with_capacity(4 * SYMBOLS));
    encoder
        .encode_all(case.symbols.iter().copied(), &case.ours)
        .expect("codable");
    encoder.finish()
}

fn encode_theirs(case: &Case) -> Vec<u32> {
    let mut encoder = DefaultRangeEncoder::new();
    encoder
        .encode_iid_symbols(case.symbols.iter().copied(), &case.theirs)
        .expect("codable");
    encoder.into_compressed().expect("in memory")
}

fn bench(c: &mut Criterion) {
    for case in cases() {
        let ours = encode_ours(&case);
        let theirs = encode_theirs(&case);
        let ideal = sae_codec::sae_arith::ideal_code_length(&case.ours, case.symbols.iter().copied()) / 8.0;
        eprintln!(
            "{}: ideal {:.0} B, sae-arith {} B (+{:.4}%), constriction {} B (+{:.4}%)",
            case.name,
            ideal,
            ours.len(),
            100.0 * (ours.len() as f64 / ideal - 1.0),
            4 * theirs.len(),
            100.0 * (4.0 * theirs.len() as f64 / ideal - 1.0),
        );

        let mut group = c.benchmark_group(format!("encode/{}", case.name));
        group.throughput(Throughput::Elements(SYMBOLS as u64));
        group.sample_size(20);
        group.bench_function(BenchmarkId::from_parameter("sae-arith"), |b| {
            b.iter(|| black_box(encode_ours(&case)))
        });
        group.bench_function(BenchmarkId::from_parameter("constriction"), |b| {
            b.iter(|| black_box(encode_theirs(&case)))
        });
        group.finish();

        let mut group = c.benchmark_group(format!("decode/{}", case.name));
        group.throughput(Throughput::Elements(SYMBOLS as u64));
        group.sample_size(20);
        group.bench_function(BenchmarkId::from_parameter("sae-arith"), |b| {
            b.iter(|| {
                let mut decoder = RangeDecoder::new(&ours).expect("valid");
                let mut checksum = 0usize;
                for _ in 0..SYMBOLS {
                    checksum = checksum.wrapping_add(decoder.decode(&case.ours).expect("valid"));
                }
                black_box(checksum)
            })
        });
        group.bench_function(BenchmarkId::from_parameter("constriction"), |b| {
            b.iter(|| {
                let mut decoder = DefaultRangeDecoder::from_compressed(theirs.clone()).expect("valid");
                let mut checksum = 0usize;
                for symbol in decoder.decode_iid_symbols(SYMBOLS, &case.theirs) {
                    checksum = checksum.wrapping_add(symbol.expect("valid"));
                }
                black_box(checksum)
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
