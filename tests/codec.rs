//! The codec end to end on small simulated SAS images: train, compress,
//! decompress, measure; save and load; refuse foreign or damaged containers.

use sae_codec::sae_container::Transform;
use sae_codec::sae_model::{DecoderTuning, LambdaControl, Refinement, TrainConfig};
use sae_codec::sae_sas::{DatasetConfig, Detector};
use sae_codec::{
    Codec, CodecConfig, CodecError, ComputeDevice, IndexFormat, Metrics, ModelError, ValueFormat,
};

fn images(count: usize, seed: u64) -> Vec<f32> {
    let detector = Detector {
        npix: 16,
        oversample: 1,
        ..Detector::default()
    };
    DatasetConfig::default()
        .generate(count, seed, &detector)
        .unwrap()
        .0
}

fn config(seed: u64) -> CodecConfig {
    CodecConfig {
        hidden_ratio: 1.0,
        latent_ratio: 2.0,
        transforms: vec![Transform::PerRecordScale],
        train: TrainConfig {
            epochs: 15,
            batch_size: 32,
            learning_rate: 3e-3,
            lambda: LambdaControl::Fixed(1e-4),
            seed,
            ..TrainConfig::default()
        },
        seed,
        ..CodecConfig::default()
    }
}

#[test]
fn train_compress_decompress_measure() {
    let train = images(300, 1);
    let test = images(40, 2);
    let (codec, report) = Codec::train(&train, &[16, 16], &config(3), |_| {}).unwrap();
    assert_eq!(report.epochs_run, 15);
    let bytes = codec.compress(&test).unwrap();
    let back = codec.decompress(&bytes).unwrap();
    assert_eq!(back.len(), test.len());
    let m = Metrics::compute(&test, &back, 256, None, Some(bytes.len() as u64)).unwrap();
    // 300 tiny images, 15 epochs: a coarse but real fit (measured: mean 0.22, median 0.08).
    assert!(m.rel_l2.mean < 0.5, "mean relative L2 {}", m.rel_l2.mean);
    assert!(m.byte_ratio.unwrap() > 1.0);
    // Compressing the same records again gives the same bytes (deterministic encoder).
    assert_eq!(codec.compress(&test).unwrap(), bytes);
}

#[test]
fn save_load_and_refuse_foreign_or_damaged_containers() {
    let train = images(120, 4);
    let (codec, _) = Codec::train(&train, &[16, 16], &config(5), |_| {}).unwrap();
    let dir = std::env::temp_dir().join(format!("sae-codec-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("codec.safetensors");
    codec.save(&path).unwrap();
    let loaded = Codec::load(&path).unwrap();
    assert_eq!(loaded.fingerprint(), codec.fingerprint());
    // Enough records that half the file lies past the header and its coding tables.
    let bytes = codec.compress(&train).unwrap();
    assert_eq!(
        loaded.decompress(&bytes).unwrap(),
        codec.decompress(&bytes).unwrap()
    );

    let (other, _) = Codec::train(&train, &[16, 16], &config(6), |_| {}).unwrap();
    assert!(matches!(
        other.decompress(&bytes),
        Err(CodecError::ModelMismatch { .. })
    ));
    // A container cut in half is refused, not shortened; asked for, the
    // whole records before the cut are recovered, decoded exactly as in the
    // full file, and the loss is reported.
    let full = codec.decompress(&bytes).unwrap();
    let half = &bytes[..bytes.len() / 2];
    assert!(matches!(
        codec.decompress(half),
        Err(CodecError::Unfinished { records, .. }) if records > 0
    ));
    let partial = codec.decompress_partial(half).unwrap();
    let prefix = partial.data;
    assert!(
        !prefix.is_empty() && prefix.len() < full.len(),
        "{} of {}",
        prefix.len(),
        full.len()
    );
    assert_eq!(prefix, full[..prefix.len()]);
    assert_eq!(partial.records * 256, prefix.len());
    assert!(partial.lost_bytes.unwrap() > 0);
    assert_eq!(codec.decompress_partial(&bytes).unwrap().lost_bytes, None);
    // Cut inside the header: an error.
    assert!(matches!(
        codec.decompress(&bytes[..20]),
        Err(CodecError::Container(_))
    ));
    let mut nan = train[..256].to_vec();
    nan[7] = f32::NAN;
    assert!(matches!(
        codec.compress(&nan),
        Err(CodecError::Model(ModelError::NonFinite { position: 7 }))
    ));
    assert!(matches!(
        codec.compress(&train[..100]),
        Err(CodecError::Model(ModelError::NotWholeRecords { values: 100, .. }))
    ));
    assert!(matches!(
        codec.compress(&[]),
        Err(CodecError::Model(ModelError::NoRecords))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn quantised_values_are_smaller_than_f16_within_the_step_and_survive_save_load() {
    let train = images(300, 6);
    let test = images(40, 7);
    let f16 = CodecConfig {
        values: ValueFormat::F16,
        ..config(8)
    };
    let quantised = CodecConfig {
        values: ValueFormat::Quantized { relative_step: 0.05 },
        ..config(8)
    };
    let (codec16, _) = Codec::train(&train, &[16, 16], &f16, |_| {}).unwrap();
    let (codecq, _) = Codec::train(&train, &[16, 16], &quantised, |_| {}).unwrap();
    // Same seed, same training: the same network, only the value coding differs.
    assert_eq!(codec16.fingerprint(), codecq.fingerprint());
    let bytes16 = codec16.compress(&test).unwrap();
    let bytesq = codecq.compress(&test).unwrap();
    assert!(
        bytesq.len() < bytes16.len(),
        "{} vs {}",
        bytesq.len(),
        bytes16.len()
    );
    let e16 = Metrics::compute(&test, &codec16.decompress(&bytes16).unwrap(), 256, None, None).unwrap();
    let eq = Metrics::compute(&test, &codecq.decompress(&bytesq).unwrap(), 256, None, None).unwrap();
    // A step of 5% of the RMS latent moves the error by little (measured: +0.002%).
    assert!(
        eq.rel_l2.mean < e16.rel_l2.mean * 1.1,
        "{} vs {}",
        eq.rel_l2.mean,
        e16.rel_l2.mean
    );
    // Recoding the f16 codec's values gives the quantised codec, and either
    // decodes the other's containers (same weights; each header says its coding).
    let recoded = codec16
        .with_values(ValueFormat::Quantized { relative_step: 0.05 }, &train)
        .unwrap();
    assert_eq!(recoded.compress(&test).unwrap(), bytesq);
    assert_eq!(
        codec16.decompress(&bytesq).unwrap(),
        codecq.decompress(&bytesq).unwrap()
    );
    let path = std::env::temp_dir().join(format!("sae-codec-q-{}.safetensors", std::process::id()));
    codecq.save(&path).unwrap();
    let loaded = Codec::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded.compress(&test).unwrap(), bytesq);
}

/// Relative L2 error of each record.
fn record_errors(original: &[f32], back: &[f32]) -> Vec<f64> {
    original
        .chunks(256)
        .zip(back.chunks(256))
        .map(|(x, y)| {
            let d: f64 = x.iter().zip(y).map(|(a, b)| f64::from(a - b).powi(2)).sum();
            let n: f64 = x.iter().map(|a| f64::from(*a).powi(2)).sum();
            (d / n).sqrt()
        })
        .collect()
}

#[test]
fn per_unit_indices_are_lossless_and_smaller_than_gap_tables() {
    let train = images(300, 9);
    let test = images(200, 10);
    let (codec, _) = Codec::train(&train, &[16, 16], &config(11), |_| {}).unwrap();
    let values = ValueFormat::Quantized { relative_step: 0.05 };
    let gaps = codec
        .with_coding(values, IndexFormat::FittedGaps, &train)
        .unwrap();
    let units = codec.with_coding(values, IndexFormat::PerUnit, &train).unwrap();
    let (by_gaps, by_units) = (gaps.compress(&test).unwrap(), units.compress(&test).unwrap());
    // Index coding is lossless: the same latents, the same images.
    assert_eq!(
        codec.decompress(&by_gaps).unwrap(),
        codec.decompress(&by_units).unwrap()
    );
    let index_bytes = |bytes: &[u8]| {
        let mut reader =
            sae_codec::sae_container::ContainerReader::open(std::io::Cursor::new(bytes)).unwrap();
        reader.size_report().unwrap().record_totals.indices
    };
    assert!(
        index_bytes(&by_units) < index_bytes(&by_gaps),
        "{} vs {}",
        index_bytes(&by_units),
        index_bytes(&by_gaps)
    );
    // The choice survives save and load.
    let path = std::env::temp_dir().join(format!("sae-codec-units-{}.safetensors", std::process::id()));
    units.save(&path).unwrap();
    let loaded = Codec::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded.compress(&test).unwrap(), by_units);
}

#[test]
fn refinement_never_worsens_a_record_and_decodes_with_any_copy_of_the_model() {
    let train = images(300, 12);
    let test = images(40, 13);
    let (codec, _) = Codec::train(&train, &[16, 16], &config(14), |_| {}).unwrap();
    let plain = codec.compress(&test).unwrap();
    let refined_codec = codec.clone().with_refinement(Some(Refinement {
        iterations: 40,
        ..Refinement::default()
    }));
    let refined = refined_codec.compress(&test).unwrap();
    // The decoder is the same: the plain codec reads refined containers.
    let (before, after) = (
        record_errors(&test, &codec.decompress(&plain).unwrap()),
        record_errors(&test, &codec.decompress(&refined).unwrap()),
    );
    for (r, (b, a)) in before.iter().zip(&after).enumerate() {
        assert!(*a <= b * (1.0 + 1e-4) + 1e-6, "record {r}: {b} -> {a}");
    }
    let mean = |e: &[f64]| e.iter().sum::<f64>() / e.len() as f64;
    assert!(
        mean(&after) < mean(&before),
        "{} vs {}",
        mean(&after),
        mean(&before)
    );
    assert!(codec.refinement().is_none());
    assert_eq!(refined_codec.refinement().map(|r| r.iterations), Some(40));
}

#[test]
fn a_tuned_decoder_keeps_the_encoder_and_its_tables_and_changes_the_fingerprint() {
    let train = images(300, 15);
    let (codec, _) = Codec::train(&train, &[16, 16], &config(16), |_| {}).unwrap();
    let refine = Some(Refinement {
        iterations: 30,
        ..Refinement::default()
    });
    let codec = codec.with_refinement(refine);
    let tuning = DecoderTuning {
        rounds: 2,
        epochs: 2,
        batch_size: 32,
        learning_rate: 1e-3,
        validation_fraction: 0.2,
        ..DecoderTuning::default()
    };
    let mut seen = 0;
    let (tuned, report) = codec.tune_decoder(&train, &tuning, |_| seen += 1).unwrap();
    assert_eq!((seen, report.rounds.len()), (2, 2));
    // Same encoder and coding tables, another decoder: a new fingerprint.
    assert_eq!(tuned.header().value_coding, codec.header().value_coding);
    assert_eq!(tuned.header().index_coding, codec.header().index_coding);
    assert_eq!(tuned.refinement(), codec.refinement());
    if report.kept_round > 0 {
        assert_ne!(tuned.header().fingerprint, codec.header().fingerprint);
        // Containers of one decoder are refused by the other.
        let bytes = codec.compress(&train[..256 * 4]).unwrap();
        assert!(tuned.decompress(&bytes).is_err());
    } else {
        assert_eq!(tuned.header().fingerprint, codec.header().fingerprint);
    }
    // Tuning on data of the wrong length is refused.
    assert!(codec.tune_decoder(&train[..100], &tuning, |_| {}).is_err());
}

#[test]
fn a_gpu_request_without_cuda_support_is_a_typed_error() {
    if cfg!(feature = "cuda") {
        return;
    }
    let config = CodecConfig {
        device: ComputeDevice::Cuda(0),
        ..config(1)
    };
    let err = Codec::train(&images(20, 1), &[16, 16], &config, |_| {}).unwrap_err();
    assert!(matches!(err, CodecError::Device { .. }), "{err}");
}
