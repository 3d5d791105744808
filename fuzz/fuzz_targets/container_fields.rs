//! Hostile content behind valid checksums: the fuzzer chooses the header
//! fields and the record payloads, this target frames them as `docs/format.md`
//! prescribes (with correct CRC-32C, footer and trailer), and the readers must
//! cope. Random bytes alone rarely pass the checksums, so this reaches the
//! field parsers, model construction and the record decoders.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use sae_container::{ContainerReader, MAGIC, StreamReader};

fn frame(fields: &[u8], payloads: &[Vec<u8>]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(fields.len() as u32).to_le_bytes());
    out.extend_from_slice(fields);
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    let mut offsets = Vec::new();
    for payload in payloads {
        offsets.push(out.len() as u64);
        let mut record = (payload.len() as u32).to_le_bytes().to_vec();
        record.extend_from_slice(payload);
        let crc = crc32c::crc32c(&record);
        record.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&record);
    }
    let footer_offset = out.len() as u64;
    let mut footer = u32::MAX.to_le_bytes().to_vec();
    footer.extend_from_slice(&(offsets.len() as u64).to_le_bytes());
    for o in offsets {
        footer.extend_from_slice(&o.to_le_bytes());
    }
    let crc = crc32c::crc32c(&footer);
    footer.extend_from_slice(&crc.to_le_bytes());
    footer.extend_from_slice(&footer_offset.to_le_bytes());
    footer.extend_from_slice(b"SAEINDEX");
    out.extend_from_slice(&footer);
    out
}

fuzz_target!(|input: (Vec<u8>, Vec<Vec<u8>>)| {
    let (fields, payloads) = input;
    let bytes = frame(&fields, &payloads);
    if let Ok(mut reader) = ContainerReader::open(Cursor::new(&bytes)) {
        assert_eq!(reader.len(), payloads.len());
        for i in 0..reader.len() {
            let _ = reader.get(i);
        }
    }
    if let Ok(stream) = StreamReader::new(&bytes[..]) {
        for record in stream {
            if record.is_err() {
                break;
            }
        }
    }
});
