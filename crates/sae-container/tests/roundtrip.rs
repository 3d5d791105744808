//! Property tests: random latents through every gap model and value codec.

use std::io::Cursor;

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use sae_container::{
    ContainerReader, ContainerWriter, ElementType, Extra, Fingerprint, HashAlgorithm, Header, IndexCoding,
    IndexStatus, SparseLatent, StreamReader, Transform, ValueCoding, ValueModel,
};

/// Seeded xorshift64 for bulk data inside a proptest case.
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
}

/// A latent of length `len` with about `nnz` entries, gaps skewed small,
/// values spanning magnitudes `1e-3 .. 1e3` with either sign.
fn random_latent(len: u32, nnz: usize, seed: u64) -> SparseLatent {
    let mut rng = Rng(seed | 1);
    let mut dense = vec![0.0f32; len as usize];
    if nnz >= len as usize {
        dense.iter_mut().for_each(|v| *v = 1.0 + rng.uniform() as f32);
    } else {
        let mean_gap = len as f64 / (nnz as f64 + 1.0);
        let mut position = 0.0;
        for _ in 0..nnz {
            position += -mean_gap * (1.0 - rng.uniform()).ln();
            let i = position as usize;
            if i >= len as usize {
                break;
            }
            let magnitude = 10f64.powf(rng.uniform() * 6.0 - 3.0) as f32;
            dense[i] = if rng.next().is_multiple_of(4) {
                -magnitude
            } else {
                magnitude
            };
        }
    }
    SparseLatent::from_dense(&dense)
}

fn index_coding(kind: u8, len: u32, seed: u64) -> IndexCoding {
    match kind {
        0 => IndexCoding::reference(),
        1 => {
            let mut rng = Rng(seed | 1);
            IndexCoding::Table {
                frequencies: (0..=len)
                    .map(|g| 1 + (rng.next() % 1000) as u32 / (1 + g / 8))
                    .collect(),
            }
        }
        2 => IndexCoding::Adaptive { increment: 24 },
        3 => IndexCoding::Uniform,
        5 => {
            let mut rng = Rng(seed | 1);
            IndexCoding::PerUnit {
                frequencies: (0..len).map(|_| 1 + (rng.next() % 65_535) as u32).collect(),
            }
        }
        _ => IndexCoding::Gaussian {
            sigma2: 50.0,
            floor: 0.0,
            precision: 20,
        },
    }
}

fn value_coding(kind: u8) -> ValueCoding {
    match kind {
        0 => ValueCoding::F32,
        1 => ValueCoding::F16,
        2 => ValueCoding::Bf16,
        3 => ValueCoding::Quantized {
            step: 0.01,
            model: ValueModel::Adaptive { alphabet: 512 },
        },
        _ => ValueCoding::Quantized {
            step: 0.25,
            model: ValueModel::Table {
                frequencies: (0..64).map(|i| 64 - i).collect(),
            },
        },
    }
}

/// Whether `decoded` is within the codec's stated error of `original`.
fn within_error(coding: &ValueCoding, original: f32, decoded: f32) -> bool {
    let err = (original - decoded).abs();
    match coding {
        ValueCoding::F32 => original.to_bits() == decoded.to_bits(),
        ValueCoding::F16 => err <= original.abs() * 2f32.powi(-11) + 2f32.powi(-25),
        ValueCoding::Bf16 => err <= original.abs() * 2f32.powi(-8),
        ValueCoding::Quantized { step, .. } => err <= step / 2.0 * 1.0001 + original.abs() * 1e-6,
        _ => false,
    }
}

fn header(len: u32, gaps: IndexCoding, values: ValueCoding) -> Header {
    let mut h = Header::new(vec![u64::from(len)], ElementType::F32, len);
    h.index_coding = gaps;
    h.value_coding = values;
    h
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, rng_seed: RngSeed::Fixed(0x5ae_0003), ..ProptestConfig::default() })]

    #[test]
    fn latents_round_trip(
        log_len in 0u32..=18,
        len_jitter in 0u32..1000,
        density in prop::sample::select(vec![0.0, 0.001, 0.01, 0.1, 1.0]),
        gap_kind in 0u8..6,
        value_kind in 0u8..5,
        seed in any::<u64>(),
        records in 1usize..4,
    ) {
        let len = ((1u32 << log_len) + len_jitter % (1 << log_len)).clamp(1, 1 << 18);
        let nnz = ((f64::from(len) * density) as usize).min(3000);
        let nnz = if density == 1.0 && len <= 3000 { len as usize } else { nnz };
        let latents: Vec<SparseLatent> =
            (0..records).map(|r| random_latent(len, nnz, seed.wrapping_add(r as u64))).collect();
        let coding = value_coding(value_kind);
        let h = header(len, index_coding(gap_kind, len, seed), coding.clone());

        let mut writer = ContainerWriter::new(Vec::new(), h.clone()).unwrap();
        for latent in &latents {
            writer.append(latent).unwrap();
        }
        let bytes = writer.finish().unwrap();

        let mut reader = ContainerReader::open(Cursor::new(&bytes)).unwrap();
        prop_assert_eq!(reader.header(), &h);
        prop_assert_eq!(reader.status(), &IndexStatus::Indexed);
        prop_assert_eq!(reader.len(), records);
        let streamed: Vec<_> = StreamReader::new(&bytes[..]).unwrap().collect::<Result<_, _>>().unwrap();
        for (i, latent) in latents.iter().enumerate() {
            let record = reader.get(i).unwrap();
            prop_assert_eq!(record.latent.indices(), latent.indices());
            for (&a, &b) in latent.values().iter().zip(record.latent.values()) {
                prop_assert!(within_error(&coding, a, b), "{a} decoded as {b} under {coding:?}");
            }
            prop_assert_eq!(&streamed[i], &record);
        }
        let report = reader.size_report().unwrap();
        prop_assert_eq!(report.total(), bytes.len() as u64);
    }
}

#[test]
fn header_provenance_and_extras_round_trip() {
    let mut h = Header::new(vec![64, 64], ElementType::F32, 8192);
    h.transforms = vec![
        Transform::PerRecordScale,
        Transform::Log10 { floor: 1e-6 },
        Transform::Affine {
            scale: 0.5,
            offset: 3.0,
        },
    ];
    h.fingerprint = Some(Fingerprint {
        algorithm: HashAlgorithm::Sha256,
        digest: [7; 32],
    });
    h.model_name = Some("sas (1, 2, λ, ∇z)".into());
    h.metadata = vec![("facility".into(), "SNS".into()), ("run".into(), "4711".into())];
    let latent = random_latent(8192, 40, 3);
    let mut writer = ContainerWriter::new(Vec::new(), h.clone()).unwrap();
    writer
        .append_with_extras(
            &latent,
            &[
                Extra::scale(123.5),
                Extra {
                    tag: 900,
                    data: vec![1, 2, 3],
                },
            ],
        )
        .unwrap();
    let bytes = writer.finish().unwrap();
    let mut reader = ContainerReader::open(Cursor::new(&bytes)).unwrap();
    assert_eq!(reader.header(), &h);
    let record = reader.get(0).unwrap();
    assert_eq!(record.scale(), Some(123.5));
    assert_eq!(record.extras[1].data, [1, 2, 3]);
    assert!(matches!(
        reader.get(1),
        Err(sae_container::ContainerError::RecordOutOfRange { index: 1, count: 1 })
    ));
}

#[test]
fn empty_container_and_empty_latents() {
    let h = header(10, IndexCoding::reference(), ValueCoding::F16);
    let bytes = ContainerWriter::new(Vec::new(), h.clone())
        .unwrap()
        .finish()
        .unwrap();
    let reader = ContainerReader::open(Cursor::new(&bytes)).unwrap();
    assert!(reader.is_empty());
    assert_eq!(reader.status(), &IndexStatus::Indexed);

    let mut writer = ContainerWriter::new(Vec::new(), h).unwrap();
    writer
        .append(&SparseLatent::new(10, vec![], vec![]).unwrap())
        .unwrap();
    let bytes = writer.finish().unwrap();
    let mut reader = ContainerReader::open(Cursor::new(&bytes)).unwrap();
    assert_eq!(reader.get(0).unwrap().latent.nnz(), 0);
}

#[test]
fn writer_rejects_invalid_input() {
    let h = header(10, IndexCoding::reference(), ValueCoding::F16);
    let mut writer = ContainerWriter::new(Vec::new(), h).unwrap();
    let wrong_len = SparseLatent::new(11, vec![1], vec![1.0]).unwrap();
    assert!(writer.append(&wrong_len).is_err());
    let q = header(
        10,
        IndexCoding::reference(),
        ValueCoding::Quantized {
            step: 1e-3,
            model: ValueModel::Adaptive { alphabet: 16 },
        },
    );
    let mut writer = ContainerWriter::new(Vec::new(), q).unwrap();
    let huge = SparseLatent::new(10, vec![1], vec![1e30]).unwrap();
    assert!(writer.append(&huge).is_err());
    // The writer stays usable after a rejected record.
    writer
        .append(&SparseLatent::new(10, vec![2], vec![0.5]).unwrap())
        .unwrap();
    let mut bad = header(0, IndexCoding::reference(), ValueCoding::F16);
    assert!(ContainerWriter::new(Vec::new(), bad.clone()).is_err());
    bad.latent_len = 10;
    bad.index_coding = IndexCoding::Table {
        frequencies: vec![1; 5],
    };
    assert!(ContainerWriter::new(Vec::new(), bad).is_err());
}

#[test]
fn unfinished_file_streams_and_recovers() {
    let h = header(100, IndexCoding::reference(), ValueCoding::F32);
    let latents: Vec<_> = (0..6).map(|i| random_latent(100, 5, i)).collect();
    let mut writer = ContainerWriter::new(Vec::new(), h).unwrap();
    let mut ends = Vec::new();
    for l in &latents {
        writer.append(l).unwrap();
        ends.push(writer.bytes_written() as usize);
    }
    let finished = writer.finish().unwrap();
    // Cut exactly after record 3: a writer that died between records.
    let cut = &finished[..ends[3]];
    let mut reader = ContainerReader::open(Cursor::new(cut)).unwrap();
    assert_eq!(reader.status(), &IndexStatus::Recovered { trailing_bytes: 0 });
    assert_eq!(reader.len(), 4);
    assert_eq!(reader.get(3).unwrap().latent, latents[3]);
    let mut stream = StreamReader::new(cut).unwrap();
    let got: Vec<_> = stream.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(got.len(), 4);
    assert_eq!(stream.finished(), Some(false));
    let mut stream = StreamReader::new(&finished[..]).unwrap();
    assert_eq!(stream.by_ref().count(), 6);
    assert_eq!(stream.finished(), Some(true));
}

/// A value its coding cannot hold is refused with the codings that can.
#[test]
fn values_beyond_a_coding_name_the_ones_that_hold_them() {
    let mut writer =
        ContainerWriter::new(Vec::new(), header(4, IndexCoding::Uniform, ValueCoding::F16)).unwrap();
    let too_large = SparseLatent::new(4, vec![1], vec![1e6]).unwrap();
    let error = writer.append(&too_large).unwrap_err().to_string();
    assert!(
        error.contains("beyond the range of f16") && error.contains("f32"),
        "{error}"
    );
    let mut writer =
        ContainerWriter::new(Vec::new(), header(4, IndexCoding::Uniform, ValueCoding::F32)).unwrap();
    let nan = SparseLatent::new(4, vec![1], vec![f32::NAN]).unwrap();
    let error = writer.append(&nan).unwrap_err().to_string();
    assert!(error.contains("NaN is not finite"), "{error}");
}
