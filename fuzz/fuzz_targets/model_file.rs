//! Model files, altered: a valid model file with fuzzer-chosen bytes
//! overwritten (header JSON, metadata, settings, tensor data). Loading must
//! end in a codec or a typed error, never a panic; a codec that loads must
//! decode its own container to finite values or a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sae_codec::{Codec, ComputeDevice};

const MODEL: &[u8] = include_bytes!("../../tests/data/v1.0-release/per-unit.safetensors");
const CONTAINER: &[u8] = include_bytes!("../../tests/data/v1.0-release/per-unit.sae");

fuzz_target!(|edits: &[u8]| {
    let mut model = MODEL.to_vec();
    // Each edit: a 3-byte position (wrapping) and a byte to write.
    for edit in edits.chunks_exact(4) {
        let at = (usize::from(edit[0]) | usize::from(edit[1]) << 8 | usize::from(edit[2]) << 16) % model.len();
        model[at] = edit[3];
    }
    if let Ok(codec) = Codec::from_safetensors(&model, ComputeDevice::Cpu)
        && let Ok(images) = codec.decompress(CONTAINER)
    {
        assert!(images.iter().all(|v| v.is_finite()));
    }
});
