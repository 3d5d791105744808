//! Reading arbitrary bytes as a container, by random access and as a stream,
//! never panics, never loops forever and never allocates beyond the input.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use sae_container::{ContainerReader, StreamReader};

fuzz_target!(|data: &[u8]| {
    if let Ok(mut reader) = ContainerReader::open(Cursor::new(data)) {
        for i in 0..reader.len() {
            if let Ok(record) = reader.get(i) {
                assert!(record.latent.len() == reader.header().latent_len);
            }
        }
        let _ = reader.size_report();
    }
    if let Ok(stream) = StreamReader::new(data) {
        for record in stream {
            if record.is_err() {
                break;
            }
        }
    }
});
