//! Replays inputs kept from fuzzing (`fuzz/fuzz_targets/arith_decode.rs`):
//! each must decode to codable symbols or a typed error, never a panic.
//!
//! Add a file under `tests/fuzz-regressions/arith_decode/` for every crash the
//! fuzzer finds; the first byte selects the model exactly as the target does.

use std::path::Path;

use sae_arith::{Adaptive, Categorical, ProbabilityModel, QuantizedGaussian, RangeDecoder, Uniform};

fn drain(data: &[u8], model: &mut dyn ProbabilityModel, adaptive: bool) -> usize {
    let Ok(mut decoder) = RangeDecoder::new(data) else {
        return 0;
    };
    let mut decoded = 0;
    for _ in 0..4 * data.len() + 64 {
        let result = if adaptive {
            decoder.decode_adaptive(model)
        } else {
            decoder.decode(&*model)
        };
        match result {
            Ok(symbol) => assert!(model.probability(symbol) > 0.0),
            Err(_) => return decoded,
        }
        decoded += 1;
    }
    if let Ok(end) = decoder.finish() {
        assert!(end <= data.len());
    }
    decoded
}

fn replay(input: &[u8]) {
    let Some((&selector, data)) = input.split_first() else {
        return;
    };
    match selector % 5 {
        0 => drain(data, &mut QuantizedGaussian::reference(8192).unwrap(), false),
        1 => drain(
            data,
            &mut Categorical::from_frequencies(&[7, 0, 1, 1 << 20, 0, 3]).unwrap(),
            false,
        ),
        2 => drain(data, &mut Adaptive::new(300).unwrap(), true),
        3 => drain(data, &mut Uniform::new(1 + usize::from(selector)).unwrap(), false),
        _ => {
            let weights: Vec<f64> = (0..70_000).map(|i| 1.0 / (1.0 + f64::from(i))).collect();
            drain(data, &mut Categorical::from_weights(&weights, 24).unwrap(), false)
        }
    };
}

#[test]
fn kept_fuzz_inputs_decode_or_fail_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions/arith_decode");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("regression folder exists") {
        let path = entry.expect("readable entry").path();
        let input = std::fs::read(&path).expect("readable file");
        replay(&input);
        count += 1;
    }
    assert!(count > 0, "no inputs found in {}", dir.display());
}
