//! Arbitrary latents written under each value coding read back with exact
//! indices and values within the coding's error.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use sae_container::{
    ContainerReader, ContainerWriter, ElementType, Header, IndexCoding, SparseLatent, ValueCoding, ValueModel,
};

fuzz_target!(|input: (u16, u8, Vec<(u16, f32)>)| {
    let (len, kind, entries) = input;
    let len = u32::from(len.max(1));
    let mut dense = vec![0.0f32; len as usize];
    for (i, v) in entries {
        if v.is_finite() && v.abs() < 1e4 {
            dense[usize::from(i) % len as usize] = v;
        }
    }
    let latent = SparseLatent::from_dense(&dense);
    let mut header = Header::new(vec![u64::from(len)], ElementType::F32, len);
    header.index_coding = match kind % 5 {
        0 => IndexCoding::reference(),
        1 => IndexCoding::Adaptive { increment: 32 },
        2 => IndexCoding::Uniform,
        3 => IndexCoding::fitted_per_unit([&latent], len).expect("fits"),
        _ => IndexCoding::fitted([&latent], len, 16).expect("fits"),
    };
    let (value_coding, tolerance): (ValueCoding, fn(f32) -> f32) = match (kind / 5) % 3 {
        0 => (ValueCoding::F32, |_| 0.0),
        1 => (ValueCoding::F16, |v| v.abs() * 2f32.powi(-11) + 2f32.powi(-24)),
        _ => (
            ValueCoding::Quantized {
                step: 0.5,
                model: ValueModel::Adaptive { alphabet: 64 },
            },
            |v| 0.25 + v.abs() * 1e-6,
        ),
    };
    header.value_coding = value_coding;
    let mut writer = ContainerWriter::new(Vec::new(), header).expect("valid header");
    writer.append(&latent).expect("codable");
    let bytes = writer.finish().expect("in memory");
    let mut reader = ContainerReader::open(Cursor::new(bytes)).expect("valid file");
    let back = reader.get(0).expect("valid record").latent;
    assert_eq!(back.indices(), latent.indices());
    for (a, b) in latent.values().iter().zip(back.values()) {
        assert!((a - b).abs() <= tolerance(*a), "{a} -> {b}");
    }
});
