//! The coder's output stays within 0.1% (+ a few bytes) of the ideal code length.

use sae_arith::{
    Adaptive, AdaptiveModel, Categorical, ProbabilityModel, QuantizedGaussian, RangeDecoder, RangeEncoder,
    ideal_code_length,
};

/// A small, seeded xorshift generator: the test must not depend on `rand`'s stream.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Draws `count` symbols from `model`'s own quantised distribution.
fn sample(model: &dyn ProbabilityModel, count: usize, seed: u64) -> Vec<usize> {
    let mut rng = XorShift(seed);
    (0..count)
        .map(|_| model.symbol_at((rng.next() % u64::from(model.total())) as u32).0)
        .collect()
}

fn check_efficiency(model: &dyn ProbabilityModel, symbols: &[usize]) {
    let mut encoder = RangeEncoder::new();
    encoder.encode_all(symbols.iter().copied(), model).unwrap();
    let bytes = encoder.finish();
    let ideal_bits = ideal_code_length(model, symbols.iter().copied());
    let actual_bits = 8.0 * bytes.len() as f64;
    let overhead = actual_bits / ideal_bits - 1.0;
    assert!(
        actual_bits <= ideal_bits * 1.001 + 64.0,
        "{} bytes for {ideal_bits:.0} ideal bits: {:.4}% over",
        bytes.len(),
        100.0 * overhead
    );
    let mut decoder = RangeDecoder::new(&bytes).unwrap();
    assert_eq!(decoder.decode_many(symbols.len(), model).unwrap(), symbols);
}

const MILLION: usize = 1_000_000;

#[test]
fn gaussian_gap_model_within_a_tenth_of_a_percent() {
    let model = QuantizedGaussian::reference(4096).unwrap();
    check_efficiency(&model, &sample(&model, MILLION, 1));
}

#[test]
fn geometric_model_within_a_tenth_of_a_percent() {
    let weights: Vec<f64> = (0..256).map(|i| 0.9f64.powi(i)).collect();
    let model = Categorical::from_weights(&weights, 24).unwrap();
    check_efficiency(&model, &sample(&model, MILLION, 2));
}

#[test]
fn nearly_deterministic_model_within_a_tenth_of_a_percent() {
    // Tiny information per symbol: overhead from rounding would show most here.
    let model = Categorical::from_frequencies(&[(1 << 24) - 3, 1, 1, 1]).unwrap();
    check_efficiency(&model, &sample(&model, MILLION, 3));
}

#[test]
fn non_power_of_two_total_within_a_tenth_of_a_percent() {
    let model = Categorical::from_frequencies(&[1000, 3, 77, 12_345, 5, 600_001]).unwrap();
    check_efficiency(&model, &sample(&model, MILLION, 4));
}

#[test]
fn adaptive_model_within_a_tenth_of_a_percent() {
    // Ideal length of an adaptive model: each symbol under the state it was coded in.
    let mut rng = XorShift(5);
    let symbols: Vec<usize> = (0..MILLION)
        .map(|_| (rng.next() % 1000).trailing_zeros().min(9) as usize)
        .collect();
    let mut model = Adaptive::new(10).unwrap();
    let mut encoder = RangeEncoder::new();
    let mut ideal_bits = 0.0;
    for &s in &symbols {
        ideal_bits += model.current().code_length_bits(s);
        encoder.encode_adaptive(s, &mut model).unwrap();
    }
    let bytes = encoder.finish();
    assert!(8.0 * bytes.len() as f64 <= ideal_bits * 1.001 + 64.0);
    let mut model = Adaptive::new(10).unwrap();
    let mut decoder = RangeDecoder::new(&bytes).unwrap();
    for &s in &symbols {
        assert_eq!(decoder.decode_adaptive(&mut model).unwrap(), s);
    }
}
