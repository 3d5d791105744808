//! Replays inputs kept from fuzzing (`fuzz/fuzz_targets/arith_decode.rs`):
//! each must decode to codable symbols or a typed error, never a panic.
//!
//! Add a file under `tests/fuzz-regressions/arith_decode/` for every crash the
//! fuzzer finds; the first byte selects the model exactly as the target does.

use std::path::Path;

use sae_arith::{
    Adaptive, AdaptiveModel, Categorical, ProbabilityModel, QuantizedGaussian, RangeDecoder, Uniform,
};

/// A static model, or an adaptive one driven through its own calls.
enum Model<'a> {
    Static(&'a dyn ProbabilityModel),
    Adaptive(&'a mut Adaptive),
}

fn drain(data: &[u8], mut model: Model<'_>) -> usize {
    let Ok(mut decoder) = RangeDecoder::new(data) else {
        return 0;
    };
    let mut decoded = 0;
    for _ in 0..4 * data.len() + 64 {
        let result = match &mut model {
            Model::Static(m) => decoder.decode(*m).map(|s| (s, m.probability(s))),
            Model::Adaptive(m) => decoder
                .decode_adaptive(*m)
                .map(|s| (s, m.current().probability(s))),
        };
        match result {
            Ok((_, probability)) => assert!(probability > 0.0),
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
        0 => drain(data, Model::Static(&QuantizedGaussian::reference(8192).unwrap())),
        1 => drain(
            data,
            Model::Static(&Categorical::from_frequencies(&[7, 0, 1, 1 << 20, 0, 3]).unwrap()),
        ),
        2 => drain(data, Model::Adaptive(&mut Adaptive::new(300).unwrap())),
        3 => drain(
            data,
            Model::Static(&Uniform::new(1 + usize::from(selector)).unwrap()),
        ),
        _ => {
            let weights: Vec<f64> = (0..70_000).map(|i| 1.0 / (1.0 + f64::from(i))).collect();
            drain(
                data,
                Model::Static(&Categorical::from_weights(&weights, 24).unwrap()),
            )
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
