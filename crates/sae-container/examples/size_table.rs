//! Where the bits go: bits per nonzero spent on indices and values, for each
//! gap model and value codec, on synthetic latents shaped like those of a
//! sparse autoencoder (l = 8192, 20–200 nonzeros, clustered so gaps skew small).
//!
//! Run: `cargo run --release -p sae-container --example size_table`
//! (the table in `docs/format.md` is this program's output).

use std::io::Cursor;

use sae_container::{
    ContainerReader, ContainerWriter, ElementType, Header, IndexCoding, SparseLatent, ValueCoding, ValueModel,
};

const LATENT_LEN: u32 = 8192;
const TRAIN: usize = 2000;
const TEST: usize = 500;

/// Seeded xorshift64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// `nnz` active units in clusters of about five (geometric gaps of mean 2
/// inside a cluster), cluster starts uniform; log-normal values around 1.
fn latent(rng: &mut Rng, nnz: usize) -> SparseLatent {
    let mut dense = vec![0.0f32; LATENT_LEN as usize];
    let mut placed = 0;
    while placed < nnz {
        let mut i = (rng.next() % u64::from(LATENT_LEN)) as usize;
        for _ in 0..5 {
            if i >= dense.len() || placed == nnz {
                break;
            }
            if dense[i] == 0.0 {
                dense[i] = (0.8 * rng.normal()).exp() as f32;
                placed += 1;
            }
            i += 1 + (-2.0 * (1.0 - rng.uniform()).ln()) as usize;
        }
    }
    SparseLatent::from_dense(&dense)
}

fn dataset(seed: u64, count: usize) -> Vec<SparseLatent> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|i| latent(&mut rng, [20, 50, 100, 200][i % 4]))
        .collect()
}

struct Measured {
    header_bytes: u64,
    index_bits: f64,
    value_bits: f64,
    framing_bits: f64,
    max_abs_err: f32,
}

fn measure(index_coding: IndexCoding, value_coding: ValueCoding, test: &[SparseLatent]) -> Measured {
    let mut header = Header::new(vec![64, 64], ElementType::F32, LATENT_LEN);
    header.index_coding = index_coding;
    header.value_coding = value_coding;
    let mut writer = ContainerWriter::new(Vec::new(), header).expect("valid header");
    for l in test {
        writer.append(l).expect("codable");
    }
    let bytes = writer.finish().expect("in memory");
    let mut reader = ContainerReader::open(Cursor::new(bytes)).expect("valid file");
    let report = reader.size_report().expect("valid file");
    let mut max_abs_err = 0.0f32;
    for (i, l) in test.iter().enumerate() {
        let back = reader.get(i).expect("valid record").latent;
        for (a, b) in l.values().iter().zip(back.values()) {
            max_abs_err = max_abs_err.max((a - b).abs());
        }
    }
    let nnz: usize = test.iter().map(SparseLatent::nnz).sum();
    let per_nnz = |bytes: u64| 8.0 * bytes as f64 / nnz as f64;
    Measured {
        header_bytes: report.header,
        index_bits: per_nnz(report.record_totals.indices),
        value_bits: per_nnz(report.record_totals.values),
        framing_bits: per_nnz(report.record_totals.framing + report.record_totals.extras),
        max_abs_err,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let train = dataset(1, TRAIN);
    let test = dataset(2, TEST);
    let nnz: usize = test.iter().map(SparseLatent::nnz).sum();
    println!(
        "{TEST} test latents of length {LATENT_LEN}, {:.1} nonzeros on average; tables fitted on {TRAIN} others.\n",
        nnz as f64 / TEST as f64
    );
    let raw_index_bits = 16.0; // a u16 index per nonzero, the naive alternative

    println!("| gap model | header bytes | index bits / nonzero | vs 16-bit indices |");
    println!("| --- | ---: | ---: | ---: |");
    let gap_models = [
        ("Gaussian σ²=1000, c₀=1e-3 (reference)", IndexCoding::reference()),
        (
            "Gaussian σ²=100, c₀=1e-4",
            IndexCoding::Gaussian {
                sigma2: 100.0,
                floor: 1e-4,
                precision: 24,
            },
        ),
        (
            "table fitted on training latents (16-bit)",
            IndexCoding::fitted(&train, LATENT_LEN, 16)?,
        ),
        ("adaptive (per record)", IndexCoding::Adaptive { increment: 24 }),
        ("uniform", IndexCoding::Uniform),
    ];
    for (name, coding) in gap_models {
        let m = measure(coding, ValueCoding::F16, &test);
        println!(
            "| {name} | {} | {:.2} | {:.0}% |",
            m.header_bytes,
            m.index_bits,
            100.0 * m.index_bits / raw_index_bits
        );
    }

    let step = 1.0 / 64.0;
    let train_values: Vec<f32> = train.iter().flat_map(|l| l.values().to_vec()).collect();
    println!("\n| value codec | value bits / nonzero | max abs error | framing bits / nonzero |");
    println!("| --- | ---: | ---: | ---: |");
    let value_codecs = [
        ("f32", ValueCoding::F32),
        ("f16 (reference)", ValueCoding::F16),
        ("bf16", ValueCoding::Bf16),
        (
            "quantised step 1/64, adaptive",
            ValueCoding::Quantized {
                step,
                model: ValueModel::Adaptive { alphabet: 1024 },
            },
        ),
        (
            "quantised step 1/64, fitted table",
            ValueCoding::Quantized {
                step,
                model: ValueModel::fitted(&train_values, step, 1024, 16)?,
            },
        ),
    ];
    for (name, coding) in value_codecs {
        let m = measure(IndexCoding::reference(), coding, &test);
        println!(
            "| {name} | {:.2} | {:.2e} | {:.2} |",
            m.value_bits, m.max_abs_err, m.framing_bits
        );
    }
    Ok(())
}
