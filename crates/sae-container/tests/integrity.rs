//! Damage every bit and every length of a small container: each case must
//! give an error or intact records (a prefix, for truncation), never a panic
//! and never a silently different record.

use std::io::Cursor;

use sae_container::{
    ContainerReader, ContainerWriter, ElementType, Header, IndexCoding, Record, SparseLatent, StreamReader,
    ValueCoding, ValueModel,
};

fn small_container(index_coding: IndexCoding, value_coding: ValueCoding) -> (Vec<u8>, Vec<Record>) {
    let mut header = Header::new(vec![4, 8], ElementType::F32, 64);
    header.index_coding = index_coding;
    header.value_coding = value_coding;
    header.model_name = Some("integrity".into());
    header.metadata = vec![("k".into(), "v".into())];
    let latents = [
        SparseLatent::new(64, vec![0, 5, 6, 63], vec![1.0, 0.5, 2.25, 3.0]).unwrap(),
        SparseLatent::new(64, vec![], vec![]).unwrap(),
        SparseLatent::new(64, vec![10, 40], vec![0.125, 7.5]).unwrap(),
    ];
    let mut writer = ContainerWriter::new(Vec::new(), header).unwrap();
    for l in &latents {
        writer.append(l).unwrap();
    }
    let bytes = writer.finish().unwrap();
    let mut reader = ContainerReader::open(Cursor::new(&bytes)).unwrap();
    let records = reader.iter().collect::<Result<Vec<_>, _>>().unwrap();
    (bytes, records)
}

/// Checks that whatever `bytes` yields is an error or matches `expected`.
/// Returns how many records were read intact by random access.
fn check_damaged(bytes: &[u8], expected: &[Record], context: &str) -> usize {
    let mut intact = 0;
    if let Ok(mut reader) = ContainerReader::open(Cursor::new(bytes)) {
        assert!(
            reader.len() <= expected.len(),
            "{context}: more records than written"
        );
        for (i, want) in expected.iter().enumerate().take(reader.len()) {
            if let Ok(record) = reader.get(i) {
                assert_eq!(&record, want, "{context}: record {i} silently changed");
                intact += 1;
            }
        }
    }
    if let Ok(stream) = StreamReader::new(bytes) {
        for (i, result) in stream.enumerate() {
            match result {
                Ok(record) => assert_eq!(
                    Some(&record),
                    expected.get(i),
                    "{context}: streamed record {i} changed"
                ),
                Err(_) => break,
            }
        }
    }
    intact
}

fn codings() -> Vec<(IndexCoding, ValueCoding)> {
    vec![
        (IndexCoding::reference(), ValueCoding::F16),
        (IndexCoding::Adaptive { increment: 16 }, ValueCoding::F32),
        (
            IndexCoding::PerUnit {
                frequencies: (0..64u32).map(|i| 1 + (i * 7919) % 30_000).collect(),
            },
            ValueCoding::F16,
        ),
        (
            IndexCoding::Uniform,
            ValueCoding::Quantized {
                step: 0.125,
                model: ValueModel::Adaptive { alphabet: 128 },
            },
        ),
    ]
}

#[test]
fn every_single_bit_flip_is_caught_or_harmless() {
    for (gaps, values) in codings() {
        let (bytes, records) = small_container(gaps, values);
        for bit in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            check_damaged(&damaged, &records, &format!("bit {bit} of {}", bytes.len()));
        }
    }
}

#[test]
fn every_truncation_keeps_an_intact_prefix() {
    for (gaps, values) in codings() {
        let (bytes, records) = small_container(gaps, values);
        let mut last = 0;
        for len in 0..bytes.len() {
            let intact = check_damaged(&bytes[..len], &records, &format!("cut at {len}"));
            // Longer prefixes never recover fewer records.
            assert!(intact >= last, "cut at {len}: {intact} records after {last}");
            last = intact;
        }
        assert_eq!(check_damaged(&bytes, &records, "whole"), records.len());
    }
}
