//! The bounded coder: arbitrary bytes decode or fail with a typed error, and
//! arbitrary finite records meet an arbitrary bound after a round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sae_bounded::{ErrorBound, decode, encode};

fuzz_target!(|input: (Vec<u8>, Vec<f32>, u8, u8, f64)| {
    let (bytes, values, cols, kind, tolerance) = input;
    let cols = usize::from(cols % 16) + 1;
    let mut out = vec![0.0f32; (bytes.len() / 2) / cols * cols];
    let _ = decode(&bytes, cols, None, &mut out);

    let values: Vec<f32> = values.into_iter().filter(|v| v.is_finite()).collect();
    let len = values.len() / cols * cols;
    let e = tolerance.abs();
    if len == 0 || !(e.is_finite() && e > 0.0) {
        return;
    }
    let bound = [ErrorBound::L2(e), ErrorBound::Abs(e), ErrorBound::Rel(e)][usize::from(kind % 3)];
    let record = &values[..len];
    let coded = encode(record, cols, None, bound).expect("finite records always code");
    let mut back = vec![0.0f32; len];
    decode(&coded, cols, None, &mut back).expect("what was coded decodes");
    assert!(bound.holds(record, &back), "{bound}");
});
