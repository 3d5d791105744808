//! The bounded coder: every bound holds after decoding, on hard records too;
//! bad input and hostile bytes give typed errors.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use sae_bounded::{DecodeError, EncodeError, ErrorBound, Grid, decode, describe, encode};

const BOUNDS: [&str; 9] = [
    "l2:1e-1",
    "l2:1e-3",
    "l2:1e-7",
    "abs:1e-1",
    "abs:1e-4",
    "abs:1e-30",
    "rel:1e-1",
    "rel:1e-3",
    "rel:1e-9",
];

/// A smooth SAS-like image: a bright centre decaying over decades.
fn image(rows: usize, cols: usize, seed: u32) -> Vec<f32> {
    let s = seed as f32 * 0.37 + 1.0;
    (0..rows * cols)
        .map(|i| {
            let (r, c) = (
                (i / cols) as f32 - rows as f32 / 2.0,
                (i % cols) as f32 - cols as f32 / 2.0,
            );
            let q2 = (r * r + c * c) / s;
            1e3 / (1.0 + q2 * q2) + 1e-3 * ((r * 1.7 + c).sin() + 1.0)
        })
        .collect()
}

fn round_trip(record: &[f32], cols: usize, base: Option<&[f32]>, bound: ErrorBound) -> (Vec<u8>, Vec<f32>) {
    let bytes = encode(record, cols, base, bound).unwrap_or_else(|e| panic!("{bound}: {e}"));
    let mut back = vec![f32::NAN; record.len()];
    decode(&bytes, cols, base, &mut back).unwrap_or_else(|e| panic!("{bound}: {e}"));
    assert!(
        bound.holds(record, &back),
        "{bound}: error {:e}",
        bound.measure(record, &back)
    );
    (bytes, back)
}

#[test]
fn every_bound_holds_on_smooth_images() {
    for seed in 0..4 {
        let x = image(32, 24, seed);
        for b in BOUNDS {
            let bound: ErrorBound = b.parse().unwrap();
            let (bytes, _) = round_trip(&x, 24, None, bound);
            // Loose bounds compress: well under the raw 4 bytes per value.
            if bound.tolerance() >= 1e-3 {
                assert!(bytes.len() < x.len() * 2, "{b}: {} bytes", bytes.len());
            }
        }
    }
}

#[test]
fn a_looser_bound_never_costs_more_here() {
    let x = image(32, 32, 1);
    let mut last = usize::MAX;
    for e in [1e-5, 1e-4, 1e-3, 1e-2, 1e-1] {
        let (bytes, _) = round_trip(&x, 32, None, ErrorBound::L2(e));
        assert!(bytes.len() <= last, "l2:{e}: {} > {last}", bytes.len());
        last = bytes.len();
    }
}

#[test]
fn zeros_stay_zero_under_rel_and_signs_survive() {
    let mut x = image(16, 16, 2);
    for (i, v) in x.iter_mut().enumerate() {
        match i % 5 {
            0 => *v = 0.0,
            1 => *v = -*v,
            2 => *v = -0.0,
            _ => {}
        }
    }
    let (_, back) = round_trip(&x, 16, None, ErrorBound::Rel(1e-2));
    for (a, b) in x.iter().zip(&back) {
        if *a == 0.0 {
            assert_eq!(*b, 0.0);
        } else {
            assert_eq!(a.is_sign_negative(), b.is_sign_negative());
        }
    }
}

#[test]
fn hard_records_meet_every_bound() {
    let tiny: Vec<f32> = (0..64).map(|i| f32::from_bits(1 + i * 7919)).collect(); // subnormals
    let huge: Vec<f32> = (0..64).map(|i| f32::MAX / (1.0 + i as f32)).collect();
    let mixed: Vec<f32> = (0..64)
        .map(|i| match i % 4 {
            0 => f32::MAX,
            1 => -f32::MAX,
            2 => f32::MIN_POSITIVE,
            _ => 1e-42,
        })
        .collect();
    let constant = vec![3.25f32; 64];
    let zeros = vec![0.0f32; 64];
    let one_spike: Vec<f32> = (0..64).map(|i| if i == 17 { 1e30 } else { 0.0 }).collect();
    // Values one ulp either side of a grid point's rounding edge.
    let edges: Vec<f32> = (0..64)
        .map(|i| {
            let v = 0.02f32 * (i / 2) as f32 + 0.01;
            if i % 2 == 0 {
                f32::from_bits(v.to_bits() + 1)
            } else {
                f32::from_bits(v.to_bits() - 1)
            }
        })
        .collect();
    for record in [&tiny, &huge, &mixed, &constant, &zeros, &one_spike, &edges] {
        for b in BOUNDS.iter().chain(&[
            "abs:1e-2", "abs:1e38", "rel:0.5", "rel:1", "rel:3", "l2:1", "l2:5",
        ]) {
            let bound: ErrorBound = b.parse().unwrap();
            for cols in [1, 8, 64] {
                round_trip(record, cols, None, bound);
            }
        }
    }
}

#[test]
fn a_base_the_decoder_shares_is_used_and_needed() {
    let x = image(32, 32, 3);
    let base: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, v)| v * (1.0 + 1e-3 * ((i % 7) as f32 - 3.0)))
        .collect();
    for b in ["l2:1e-3", "abs:1e-2", "rel:1e-3"] {
        let bound: ErrorBound = b.parse().unwrap();
        let (with, _) = round_trip(&x, 32, Some(&base), bound);
        let (without, _) = round_trip(&x, 32, None, bound);
        assert!(
            with.len() < without.len(),
            "{b}: {} vs {}",
            with.len(),
            without.len()
        );
        // Decoded over another base, the same bytes give other values.
        let mut back = vec![0.0; x.len()];
        decode(&with, 32, None, &mut back).unwrap();
        assert!(!bound.holds(&x, &back), "{b}");
    }
    // A base that already meets the bound costs next to nothing.
    let (bytes, _) = round_trip(&x, 32, Some(&base), ErrorBound::L2(1e-2));
    assert!(bytes.len() < 16, "{} bytes", bytes.len());
}

#[test]
fn bad_input_is_refused_by_name() {
    let x = image(4, 4, 0);
    let b = ErrorBound::L2(1e-2);
    let mut nan = x.clone();
    nan[5] = f32::NAN;
    assert!(matches!(
        encode(&nan, 4, None, b),
        Err(EncodeError::NonFinite { index: 5, .. })
    ));
    let mut inf = x.clone();
    inf[2] = f32::NEG_INFINITY;
    assert!(matches!(
        encode(&x, 4, Some(&inf), b),
        Err(EncodeError::BaseNonFinite { index: 2, .. })
    ));
    assert!(matches!(
        encode(&x, 5, None, b),
        Err(EncodeError::Shape { len: 16, cols: 5 })
    ));
    assert!(matches!(encode(&x, 0, None, b), Err(EncodeError::Shape { .. })));
    assert!(matches!(
        encode(&x, 4, Some(&x[..8]), b),
        Err(EncodeError::BaseLength { .. })
    ));
    let bytes = encode(&x, 4, None, b).unwrap();
    let mut out = vec![0.0; 16];
    assert!(matches!(
        decode(&bytes, 4, None, &mut out[..15]),
        Err(DecodeError::Shape { .. })
    ));
    assert!(matches!(
        decode(&bytes, 4, Some(&x[..4]), &mut out),
        Err(DecodeError::BaseLength { .. })
    ));
    for bad in ["l2:0", "abs:-1", "rel:nan", "l2:inf"] {
        assert!(bad.parse::<ErrorBound>().is_err(), "{bad}");
    }
}

#[test]
fn damaged_heads_are_named() {
    let x = image(8, 8, 0);
    let bytes = encode(&x, 8, None, ErrorBound::L2(1e-2)).unwrap();
    let mut out = vec![0.0; 64];
    assert!(matches!(
        decode(&bytes[..3], 8, None, &mut out),
        Err(DecodeError::Truncated { needed: 5, found: 3 })
    ));
    let mut kind = bytes.clone();
    kind[0] |= 0x80;
    assert!(matches!(
        decode(&kind, 8, None, &mut out),
        Err(DecodeError::Kind { kind: _ })
    ));
    let mut step = bytes.clone();
    step[0] &= !sae_bounded::KIND_PATTERNS;
    step[1..5].copy_from_slice(&(-1.0f32).to_bits().to_le_bytes());
    assert!(matches!(
        decode(&step, 8, None, &mut out),
        Err(DecodeError::Step { .. })
    ));
    let mut half = bytes.clone();
    half[0] |= sae_bounded::KIND_PATTERNS;
    half[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        decode(&half, 8, None, &mut out),
        Err(DecodeError::HalfWidth { .. })
    ));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(decode(&longer, 8, None, &mut out).is_err());
    for cut in 0..bytes.len() {
        assert!(decode(&bytes[..cut], 8, None, &mut out).is_err(), "cut at {cut}");
    }
}

/// The bytes of one small record, fixed: a change to the decoding is a format
/// change; a writer may choose other bytes (another step, another prediction),
/// and what earlier writers wrote must still decode within the bound.
#[test]
fn golden_bytes() {
    let x: Vec<f32> = (0..16).map(|i| 1.0 + (i * i) as f32 * 0.25).collect();
    let unhex = |h: &str| {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect::<Vec<u8>>()
    };
    // l2:1e-2 as the first writer (before the interpolated step search) wrote it.
    let earlier = unhex("0291148f3f8997f83ee8df3da060");
    let mut back = vec![0.0f32; 16];
    decode(&earlier, 4, None, &mut back).unwrap();
    assert!(ErrorBound::L2(1e-2).holds(&x, &back));
    written_bytes(&x);
}

/// What this writer writes for the record.
fn written_bytes(x: &[f32]) {
    let l2 = encode(x, 4, None, ErrorBound::L2(1e-2)).unwrap();
    let rel = encode(x, 4, None, ErrorBound::Rel(1e-3)).unwrap();
    let abs = encode(x, 4, None, ErrorBound::Abs(0.5)).unwrap();
    assert_eq!(describe(&abs).unwrap().grid, Grid::Values { step: 0.999_999_05 });
    assert_eq!(describe(&rel).unwrap().grid, Grid::Patterns { half: 8388 });
    let hex = |b: &[u8]| b.iter().map(|v| format!("{v:02x}")).collect::<String>();
    assert_eq!(
        [hex(&l2), hex(&rel), hex(&abs)],
        [
            "02630d863f8998320fba34191c20",
            "03c4200000bfffbc06dfb4cfb378fe6abe3151a2bb8e4f4068615b36d610906a9ddfd148a0",
            "02f0ff7f3f8998320fbb234c6a60",
        ],
    );
}

proptest! {
    #![proptest_config(Config { rng_seed: RngSeed::Fixed(0x5ae_b0d1), cases: 200, ..Config::default() })]

    #[test]
    fn random_records_meet_random_bounds(
        values in proptest::collection::vec(prop_oneof![
            Just(0.0f32),
            -1e3f32..1e3,
            any::<f32>().prop_filter("finite", |v| v.is_finite()),
        ], 1..96),
        cols in 1usize..12,
        kind in 0usize..3,
        exponent in -9.0f64..0.5,
    ) {
        let len = values.len() / cols * cols;
        prop_assume!(len > 0);
        let x = &values[..len];
        let e = 10f64.powf(exponent);
        let bound = [ErrorBound::L2(e), ErrorBound::Abs(e), ErrorBound::Rel(e)][kind];
        let bytes = encode(x, cols, None, bound).unwrap();
        let mut back = vec![0.0; len];
        decode(&bytes, cols, None, &mut back).unwrap();
        prop_assert!(bound.holds(x, &back), "{bound}: {:e}", bound.measure(x, &back));
    }

    #[test]
    fn any_bytes_decode_or_fail_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), cols in 1usize..9, rows in 0usize..9) {
        let mut out = vec![0.0; rows * cols];
        let _ = decode(&bytes, cols, None, &mut out);
    }

    #[test]
    fn flipped_bits_never_panic(seed in 0u32..50, flip in 0usize..4000) {
        let x = image(8, 8, seed);
        let mut bytes = encode(&x, 8, None, ErrorBound::L2(1e-3)).unwrap();
        let bit = flip % (bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        let mut out = vec![0.0; 64];
        let _ = decode(&bytes, 8, None, &mut out);
    }
}
