//! Property tests: every message decodes to what was encoded, under random
//! models, alphabets and sequences, alone or back to back.

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use sae_arith::{
    Adaptive, Categorical, ProbabilityModel, QuantizedGaussian, RangeDecoder, RangeEncoder, StreamEncoder,
    Uniform,
};

/// A static model of one of the shipped kinds over `alphabet` symbols.
#[derive(Debug, Clone)]
enum ModelSpec {
    Weights { weights: Vec<f64>, precision: u32 },
    Frequencies(Vec<u32>),
    Uniform(usize),
    Gaussian { sigma2: f64, floor: f64, max_gap: usize },
}

impl ModelSpec {
    fn build(&self) -> Box<dyn ProbabilityModel> {
        match self {
            Self::Weights { weights, precision } => {
                Box::new(Categorical::from_weights_full_support(weights, *precision).unwrap())
            }
            Self::Frequencies(f) => Box::new(Categorical::from_frequencies(f).unwrap()),
            Self::Uniform(n) => Box::new(Uniform::new(*n).unwrap()),
            Self::Gaussian {
                sigma2,
                floor,
                max_gap,
            } => Box::new(QuantizedGaussian::new(*sigma2, *floor, *max_gap, 24).unwrap()),
        }
    }
}

fn model_spec() -> impl Strategy<Value = ModelSpec> {
    prop_oneof![
        // Skewed weights over 2 .. 70 000 symbols: a power law with random exponent.
        (2usize..70_000, 0.0f64..3.0, 17u32..=24).prop_map(|(n, alpha, precision)| {
            let weights = (0..n).map(|i| 1.0 / (1.0 + i as f64).powf(alpha)).collect();
            ModelSpec::Weights { weights, precision }
        }),
        // Small alphabets with arbitrary frequencies, some zero.
        prop::collection::vec(0u32..1000, 2..40)
            .prop_filter("needs a nonzero frequency", |f| f.iter().any(|&x| x > 0))
            .prop_map(ModelSpec::Frequencies),
        (2usize..70_000).prop_map(ModelSpec::Uniform),
        (1.0f64..5000.0, 0.0f64..0.01, 1usize..10_000).prop_map(|(sigma2, floor, max_gap)| {
            ModelSpec::Gaussian {
                sigma2,
                floor,
                max_gap,
            }
        }),
    ]
}

/// Symbols the model can code, drawn from raw random numbers.
fn codable(model: &dyn ProbabilityModel, raw: &[u32]) -> Vec<usize> {
    let total = model.total();
    raw.iter().map(|&r| model.symbol_at(r % total).0).collect()
}

fn encode(model: &dyn ProbabilityModel, symbols: &[usize]) -> Vec<u8> {
    let mut encoder = RangeEncoder::new();
    encoder.encode_all(symbols.iter().copied(), model).unwrap();
    encoder.finish()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, rng_seed: RngSeed::Fixed(0x5ae_0001), ..ProptestConfig::default() })]

    #[test]
    fn static_models_round_trip(spec in model_spec(), raw in prop::collection::vec(any::<u32>(), 0..3000)) {
        let model = spec.build();
        let symbols = codable(&*model, &raw);
        let mut encoder = RangeEncoder::new();
        encoder.encode_all(symbols.iter().copied(), &*model).unwrap();
        let predicted = encoder.len_if_finished();
        let bytes = encoder.finish();
        prop_assert_eq!(bytes.len(), predicted);

        let mut decoder = RangeDecoder::new(&bytes).unwrap();
        let decoded = decoder.decode_many(symbols.len(), &*model).unwrap();
        prop_assert_eq!(&decoded, &symbols);
        prop_assert_eq!(decoder.finish().unwrap(), bytes.len());
    }

    #[test]
    fn skewed_symbols_round_trip(n in 2usize..5000, raw in prop::collection::vec(0u32..4, 0..5000)) {
        // Runs of highly probable symbols stress the carry logic (long all-ones runs).
        let mut weights = vec![1e-6; n];
        weights[0] = 1.0;
        let model = Categorical::from_weights_full_support(&weights, 24).unwrap();
        let symbols: Vec<usize> = raw.iter().map(|&r| if r == 0 { (r as usize * 7919) % n } else { 0 }).collect();
        let bytes = encode(&model, &symbols);
        let mut decoder = RangeDecoder::new(&bytes).unwrap();
        prop_assert_eq!(decoder.decode_many(symbols.len(), &model).unwrap(), symbols);
        prop_assert_eq!(decoder.finish().unwrap(), bytes.len());
    }

    #[test]
    fn adaptive_models_round_trip(
        n in 2usize..70_000,
        increment in 1u32..64,
        raw in prop::collection::vec(any::<u32>(), 0..3000),
    ) {
        let symbols: Vec<usize> = raw.iter().map(|&r| (r as usize % n).min(r as usize % 17)).collect();
        let fresh = || {
            let max_total = (2 * (n as u32 + increment)).next_power_of_two().max(1 << 16);
            Adaptive::with_params(n, increment, max_total).unwrap()
        };
        let mut model = fresh();
        let mut encoder = RangeEncoder::new();
        for &s in &symbols {
            encoder.encode_adaptive(s, &mut model).unwrap();
        }
        let bytes = encoder.finish();

        let mut model = fresh();
        let mut decoder = RangeDecoder::new(&bytes).unwrap();
        for &s in &symbols {
            prop_assert_eq!(decoder.decode_adaptive(&mut model).unwrap(), s);
        }
        prop_assert_eq!(decoder.finish().unwrap(), bytes.len());
    }

    #[test]
    fn concatenated_messages_round_trip(
        specs in prop::collection::vec(model_spec(), 1..4),
        raws in prop::collection::vec(prop::collection::vec(any::<u32>(), 0..300), 4),
    ) {
        // Messages coded back to back into one buffer; each decoder finds its own end.
        let models: Vec<_> = specs.iter().map(ModelSpec::build).collect();
        let messages: Vec<Vec<usize>> =
            models.iter().zip(&raws).map(|(m, raw)| codable(&**m, raw)).collect();
        let mut buffer = Vec::new();
        for (model, symbols) in models.iter().zip(&messages) {
            let mut encoder = RangeEncoder::with_buffer(buffer);
            encoder.encode_all(symbols.iter().copied(), &**model).unwrap();
            buffer = encoder.finish();
        }
        let mut rest: &[u8] = &buffer;
        for (model, symbols) in models.iter().zip(&messages) {
            let mut decoder = RangeDecoder::new(rest).unwrap();
            prop_assert_eq!(&decoder.decode_many(symbols.len(), &**model).unwrap(), symbols);
            rest = decoder.remaining().unwrap();
        }
        prop_assert!(rest.is_empty());
    }

    #[test]
    fn stream_encoder_matches_vec_encoder(spec in model_spec(), raw in prop::collection::vec(any::<u32>(), 0..20_000)) {
        let model = spec.build();
        let symbols = codable(&*model, &raw);
        let mut stream = StreamEncoder::new(Vec::new());
        for &s in &symbols {
            stream.encode(s, &*model).unwrap();
        }
        let (sink, written) = stream.finish().unwrap();
        prop_assert_eq!(written, sink.len());
        prop_assert_eq!(sink, encode(&*model, &symbols));
    }

    #[test]
    fn truncation_is_detected(spec in model_spec(), raw in prop::collection::vec(any::<u32>(), 1..500), cut in any::<prop::sample::Index>()) {
        let model = spec.build();
        let symbols = codable(&*model, &raw);
        let bytes = encode(&*model, &symbols);
        let cut = cut.index(bytes.len());
        let truncated = &bytes[..cut];
        // The promise of `RangeDecoder::finish`: a cut message is refused,
        // unless what is left is itself the whole encoding of as many
        // other symbols, which no end check can tell from a real message.
        let outcome = RangeDecoder::new(truncated).and_then(|mut d| {
            let decoded = d.decode_many(symbols.len(), &*model)?;
            Ok((decoded, d.finish()?))
        });
        if let Ok((decoded, end)) = outcome {
            prop_assert_ne!(&decoded, &symbols, "truncated to {} of {} bytes, decoded as the whole", cut, bytes.len());
            prop_assert_eq!(encode(&*model, &decoded), &truncated[..end], "truncated to {} of {} bytes yet accepted", cut, bytes.len());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(spec in model_spec(), bytes in prop::collection::vec(any::<u8>(), 0..64), count in 0usize..200) {
        let model = spec.build();
        if let Ok(mut decoder) = RangeDecoder::new(&bytes) {
            for _ in 0..count {
                if let Ok(s) = decoder.decode(&*model) {
                    prop_assert!(s < model.alphabet_size());
                    prop_assert!(model.probability(s) > 0.0);
                } else {
                    break;
                }
            }
            let _ = decoder.finish();
        }
    }
}

#[test]
fn encode_errors_are_typed() {
    let model = Categorical::from_frequencies(&[5, 0, 3]).unwrap();
    let mut encoder = RangeEncoder::new();
    assert!(matches!(
        encoder.encode(3, &model),
        Err(sae_arith::EncodeError::SymbolOutOfRange {
            symbol: 3,
            alphabet_size: 3
        })
    ));
    assert!(matches!(
        encoder.encode(1, &model),
        Err(sae_arith::EncodeError::ZeroProbability { symbol: 1 })
    ));
    // The encoder is still usable after a rejected symbol.
    encoder.encode(2, &model).unwrap();
    let bytes = encoder.finish();
    let mut decoder = RangeDecoder::new(&bytes).unwrap();
    assert_eq!(decoder.decode(&model).unwrap(), 2);
}

#[test]
fn empty_input_is_an_error() {
    assert!(matches!(
        RangeDecoder::new(&[]),
        Err(sae_arith::DecodeError::UnexpectedEnd { .. })
    ));
    // The empty message is one byte long.
    let bytes = RangeEncoder::new().finish();
    assert_eq!(bytes.len(), 1);
    assert_eq!(RangeDecoder::new(&bytes).unwrap().finish().unwrap(), 1);
}

#[test]
fn garbage_cannot_decode_forever() {
    // An all-0xff input under a model that never emits the terminator the
    // caller waits for: the decoder must run out of input and say so.
    let model = Uniform::new(3).unwrap();
    let bytes = [0xffu8; 16];
    let mut decoder = RangeDecoder::new(&bytes).unwrap();
    let mut steps = 0;
    let error = loop {
        match decoder.decode(&model) {
            Ok(_) => steps += 1,
            Err(e) => break e,
        }
        assert!(steps < 1000, "decoder never ran out of input");
    };
    assert!(matches!(
        error,
        sae_arith::DecodeError::UnexpectedEnd { .. } | sae_arith::DecodeError::InvalidCode { .. }
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, rng_seed: RngSeed::Fixed(0x5ae_0002), ..ProptestConfig::default() })]

    /// Streams crafted around word boundaries: decoding bytes that contain long
    /// runs of 0x00 or 0xff yields symbols whose encoding must pass through
    /// pending all-ones words and carries that ripple through them.
    #[test]
    fn carries_through_all_ones_words(
        prefix in prop::collection::vec(any::<u8>(), 0..12),
        run_byte in prop::sample::select(vec![0x00u8, 0xff]),
        run_len in 4usize..24,
        suffix in prop::collection::vec(any::<u8>(), 8..16),
        alphabet in 2usize..7,
    ) {
        let model = Uniform::new(alphabet).unwrap();
        let mut source = prefix.clone();
        source.extend(std::iter::repeat_n(run_byte, run_len));
        source.extend(&suffix);
        // About as many symbols as the source holds, stopping early where the
        // bytes are not a valid stream (a code value past the last symbol).
        let count = ((source.len() - 8) as f64 * 8.0 / (alphabet as f64).log2()) as usize;
        let mut decoder = RangeDecoder::new(&source).unwrap();
        let mut symbols = Vec::new();
        let mut failed = false;
        while symbols.len() < count && !failed {
            match decoder.decode(&model) {
                Ok(s) => symbols.push(s),
                Err(_) => failed = true,
            }
        }
        let count = symbols.len();

        let bytes = encode(&model, &symbols);
        let mut decoder = RangeDecoder::new(&bytes).unwrap();
        prop_assert_eq!(decoder.decode_many(count, &model).unwrap(), symbols);
        prop_assert_eq!(decoder.finish().unwrap(), bytes.len());
    }
}

/// Cut messages that the end check once took for whole ones, decoding other
/// symbols without an error (found by `truncation_is_detected`, and by a
/// search over small models): the bytes left end where a message of those
/// symbols would, but not as the encoder ends it.
#[test]
fn cut_messages_that_once_decoded_as_others_are_refused() {
    let cases: [(&[u32], &[usize]); 3] = [
        (&[47, 33, 31, 3], &[0, 0, 3]),
        (&[2, 48, 5], &[0, 1, 2, 0, 1, 1, 2, 2, 1, 2]),
        (&[11, 22, 44, 33], &[3, 3, 0, 3, 1, 3, 0]),
    ];
    for (frequencies, symbols) in cases {
        let model = Categorical::from_frequencies(frequencies).unwrap();
        let bytes = encode(&model, symbols);
        let cut = &bytes[..bytes.len() - 1];
        let mut decoder = RangeDecoder::new(cut).unwrap();
        let decoded = decoder.decode_many(symbols.len(), &model).unwrap();
        assert_ne!(decoded, symbols);
        assert!(
            matches!(
                decoder.finish(),
                Err(sae_arith::DecodeError::NonCanonicalEnd { .. })
            ),
            "{frequencies:?} {symbols:?}: {:?}",
            decoder.finish()
        );
        // The whole message still ends exactly.
        let mut decoder = RangeDecoder::new(&bytes).unwrap();
        assert_eq!(decoder.decode_many(symbols.len(), &model).unwrap(), symbols);
        assert_eq!(decoder.finish().unwrap(), bytes.len());
    }
}
