//! Arbitrary symbol sequences under arbitrary frequency tables round-trip
//! exactly, and the decoder finds the message's end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sae_arith::{Categorical, ProbabilityModel, RangeDecoder, RangeEncoder};

fuzz_target!(|input: (Vec<u16>, Vec<u16>)| {
    let (frequencies, raw) = input;
    let frequencies: Vec<u32> = frequencies.into_iter().map(u32::from).collect();
    let Ok(model) = Categorical::from_frequencies(&frequencies) else {
        return;
    };
    // Map raw values onto codable symbols.
    let symbols: Vec<usize> = raw
        .iter()
        .map(|&r| model.symbol_at(u32::from(r) % model.total()).0)
        .collect();
    let mut encoder = RangeEncoder::new();
    encoder.encode_all(symbols.iter().copied(), &model).expect("codable");
    let mut bytes = encoder.finish();
    let len = bytes.len();
    // Whatever follows the message must not change it.
    bytes.extend_from_slice(&[0xa5; 9]);
    let mut decoder = RangeDecoder::new(&bytes).expect("valid");
    let decoded = decoder.decode_many(symbols.len(), &model).expect("valid");
    assert_eq!(decoded, symbols);
    assert_eq!(decoder.finish().expect("whole"), len);
});
