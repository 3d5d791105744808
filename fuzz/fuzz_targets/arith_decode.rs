//! Decoding arbitrary bytes under several models must never panic, never read
//! outside the input and always stop: it yields symbols or a typed error.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sae_arith::{Adaptive, Categorical, ProbabilityModel, QuantizedGaussian, RangeDecoder, Uniform};

// Built once: rebuilding large tables per input would dominate the fuzzer's time.
static GAUSSIAN: LazyLock<QuantizedGaussian> =
    LazyLock::new(|| QuantizedGaussian::reference(8192).expect("valid"));
static ZIPF: LazyLock<Categorical> = LazyLock::new(|| {
    let weights: Vec<f64> = (0..70_000).map(|i| 1.0 / (1.0 + f64::from(i))).collect();
    Categorical::from_weights(&weights, 24).expect("valid")
});
static ADAPTIVE: LazyLock<Adaptive> = LazyLock::new(|| Adaptive::new(300).expect("valid"));

/// Decodes up to `limit` symbols, checking that each is a codable symbol.
fn drain<M: ProbabilityModel>(data: &[u8], model: &mut M, adaptive: bool, limit: usize) {
    let Ok(mut decoder) = RangeDecoder::new(data) else {
        return;
    };
    for _ in 0..limit {
        let decoded = if adaptive {
            decoder.decode_adaptive(model)
        } else {
            decoder.decode(&*model)
        };
        match decoded {
            Ok(symbol) => assert!(model.probability(symbol) > 0.0),
            Err(_) => return,
        }
    }
    if let Ok(end) = decoder.finish() {
        assert!(end <= data.len());
    }
}

/// A static model borrowed from a shared table (updates are never called).
struct Shared<'a, M>(&'a M);

impl<M: ProbabilityModel> ProbabilityModel for Shared<'_, M> {
    fn alphabet_size(&self) -> usize {
        self.0.alphabet_size()
    }
    fn total(&self) -> u32 {
        self.0.total()
    }
    fn interval(&self, symbol: usize) -> Option<sae_arith::Interval> {
        self.0.interval(symbol)
    }
    fn symbol_at(&self, target: u32) -> (usize, sae_arith::Interval) {
        self.0.symbol_at(target)
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&selector, data)) = input.split_first() else {
        return;
    };
    let limit = 4 * data.len() + 64;
    match selector % 5 {
        0 => {
            drain(data, &mut Shared(&*GAUSSIAN), false, limit);
        }
        1 => {
            let mut model = Categorical::from_frequencies(&[7, 0, 1, 1 << 20, 0, 3]).expect("valid");
            drain(data, &mut model, false, limit);
        }
        2 => {
            drain(data, &mut ADAPTIVE.clone(), true, limit);
        }
        3 => {
            let mut model = Uniform::new(1 + usize::from(selector)).expect("valid");
            drain(data, &mut model, false, limit);
        }
        _ => {
            drain(data, &mut Shared(&*ZIPF), false, limit);
        }
    }
});
