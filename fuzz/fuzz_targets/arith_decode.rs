//! Decoding arbitrary bytes under several models must never panic, never read
//! outside the input and always stop: it yields symbols or a typed error.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sae_arith::{
    Adaptive, AdaptiveModel, Categorical, ProbabilityModel, QuantizedGaussian, RangeDecoder, Uniform,
};

// Built once: rebuilding large tables per input would dominate the fuzzer's time.
static GAUSSIAN: LazyLock<QuantizedGaussian> =
    LazyLock::new(|| QuantizedGaussian::reference(8192).expect("valid"));
static ZIPF: LazyLock<Categorical> = LazyLock::new(|| {
    let weights: Vec<f64> = (0..70_000).map(|i| 1.0 / (1.0 + f64::from(i))).collect();
    Categorical::from_weights(&weights, 24).expect("valid")
});
static ADAPTIVE: LazyLock<Adaptive> = LazyLock::new(|| Adaptive::new(300).expect("valid"));

/// Decodes up to `limit` symbols under a static model, checking that each is codable.
fn drain<M: ProbabilityModel + ?Sized>(data: &[u8], model: &M, limit: usize) {
    let Ok(mut decoder) = RangeDecoder::new(data) else {
        return;
    };
    for _ in 0..limit {
        match decoder.decode(model) {
            Ok(symbol) => assert!(model.probability(symbol) > 0.0),
            Err(_) => return,
        }
    }
    if let Ok(end) = decoder.finish() {
        assert!(end <= data.len());
    }
}

/// The same under an adaptive model, updated after each symbol.
fn drain_adaptive<M: AdaptiveModel>(data: &[u8], model: &mut M, limit: usize) {
    let Ok(mut decoder) = RangeDecoder::new(data) else {
        return;
    };
    for _ in 0..limit {
        match decoder.decode_adaptive(model) {
            Ok(symbol) => assert!(model.current().probability(symbol) > 0.0),
            Err(_) => return,
        }
    }
    if let Ok(end) = decoder.finish() {
        assert!(end <= data.len());
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&selector, data)) = input.split_first() else {
        return;
    };
    let limit = 4 * data.len() + 64;
    match selector % 5 {
        0 => {
            drain(data, &*GAUSSIAN, limit);
        }
        1 => {
            let model = Categorical::from_frequencies(&[7, 0, 1, 1 << 20, 0, 3]).expect("valid");
            drain(data, &model, limit);
        }
        2 => {
            drain_adaptive(data, &mut ADAPTIVE.clone(), limit);
        }
        3 => {
            let model = Uniform::new(1 + usize::from(selector)).expect("valid");
            drain(data, &model, limit);
        }
        _ => {
            drain(data, &*ZIPF, limit);
        }
    }
});
