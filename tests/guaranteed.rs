//! The guaranteed mode end to end: every record within its bound after
//! decompression by every path, each of the three codings used, and what
//! cannot be promised refused.

use std::io::Cursor;

use sae_codec::sae_container::{Choice, ContainerReader, Transform};
use sae_codec::sae_model::{LambdaControl, TrainConfig};
use sae_codec::sae_sas::{DatasetConfig, Detector};
use sae_codec::{Codec, CodecConfig, CodecError, ErrorBound};

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

fn trained(transforms: Vec<Transform>) -> Codec {
    let config = CodecConfig {
        hidden_ratio: 1.0,
        latent_ratio: 2.0,
        transforms,
        train: TrainConfig {
            epochs: 10,
            batch_size: 32,
            learning_rate: 3e-3,
            lambda: LambdaControl::Fixed(1e-4),
            seed: 4,
            ..TrainConfig::default()
        },
        seed: 4,
        ..CodecConfig::default()
    };
    Codec::train(&images(200, 1), &[16, 16], &config, |_| {})
        .unwrap()
        .0
}

fn choices_in(bytes: &[u8]) -> [u64; 3] {
    let mut reader = ContainerReader::open(Cursor::new(bytes)).unwrap();
    let mut counts = [0; 3];
    for i in 0..reader.len() {
        match reader.get(i).unwrap().choice() {
            Choice::Latent => counts[0] += 1,
            Choice::Residual(_) => counts[1] += 1,
            Choice::Bounded(_) => counts[2] += 1,
        }
    }
    counts
}

#[test]
fn every_record_meets_its_bound_by_every_decoding_path() {
    let codec = trained(vec![Transform::PerRecordScale]);
    let test = images(40, 2);
    // The model's own mean error on these, for the loosest bound below to sit above.
    let plain = codec.decompress(&codec.compress(&test).unwrap()).unwrap();
    let worst = ErrorBound::L2(1.0).check(&test, &plain, 256).unwrap().achieved;
    for bound in [
        ErrorBound::L2(worst * 1.01),
        ErrorBound::L2(worst * 0.5),
        ErrorBound::L2(worst * 0.2),
        ErrorBound::L2(3e-2),
        ErrorBound::L2(1e-3),
        ErrorBound::Abs(1e-3),
        ErrorBound::Rel(1e-2),
    ] {
        let (bytes, choices) = codec.compress_bounded_to(&test, bound, Vec::new()).unwrap();
        assert_eq!(choices.total(), 40);
        let counts = choices_in(&bytes);
        assert_eq!(
            counts,
            [choices.latent, choices.residual, choices.direct],
            "{bound}"
        );
        let paths = [
            codec.decompress(&bytes).unwrap(),
            codec.decompress_from(&bytes[..]).unwrap(),
            codec.reader(Cursor::new(&bytes)).unwrap().records(0..40).unwrap(),
        ];
        for back in paths {
            let report = bound.check(&test, &back, 256).unwrap();
            assert!(report.violations.is_empty(), "{bound}: {:?}", report.violations);
            assert!(report.achieved <= bound.tolerance());
        }
        // One record by random access is the same as in the whole file.
        let seventh = codec.reader(Cursor::new(&bytes)).unwrap().record(7).unwrap();
        assert_eq!(seventh, codec.decompress(&bytes).unwrap()[7 * 256..8 * 256]);
    }
}

/// Records of every choice, made by hand over the exact decoder, decode
/// within the bound: the latent alone, a correction over it, a direct record.
#[test]
fn each_choice_decodes_by_the_exact_path() {
    use sae_codec::sae_container::{ContainerWriter, Extra, SparseLatent};
    use sae_codec::sae_model::{ExactDecoder, SparseCode};

    let codec = trained(vec![Transform::PerRecordScale]);
    let test = images(12, 6);
    let plain = codec.compress(&test).unwrap();
    let mut reader = ContainerReader::open(Cursor::new(&plain)).unwrap();
    let exact = ExactDecoder::new(codec.model()).unwrap();
    let mut header = reader.header().clone();
    // A bound every base meets, for the latent-alone records.
    let loose = ErrorBound::L2(10.0);
    let tight = ErrorBound::L2(1e-3);
    for (bound, choices) in [
        (loose, ["latent", "direct", "latent"]),
        (tight, ["residual", "direct", "residual"]),
    ] {
        header.bound = Some(bound);
        let mut writer = ContainerWriter::new(Vec::new(), header.clone()).unwrap();
        for i in 0..12 {
            let record = reader.get(i).unwrap();
            let x = &test[i * 256..(i + 1) * 256];
            let code = SparseCode {
                indices: record.latent.indices().to_vec(),
                values: record.latent.values().to_vec(),
            };
            let mut base = exact.decode(&[code]).unwrap();
            sae_codec::transform::inverse(&header.transforms, &mut base, record.scale()).unwrap();
            match choices[i % 3] {
                "latent" => writer.append_with_extras(&record.latent, &record.extras).unwrap(),
                "residual" => {
                    let data = sae_codec::sae_bounded::encode(x, 16, Some(&base), bound).unwrap();
                    let mut extras = record.extras.clone();
                    extras.push(Extra {
                        tag: Extra::RESIDUAL,
                        data,
                    });
                    writer.append_with_extras(&record.latent, &extras).unwrap()
                }
                _ => {
                    let data = sae_codec::sae_bounded::encode(x, 16, None, bound).unwrap();
                    let empty = SparseLatent::new(record.latent.len(), vec![], vec![]).unwrap();
                    writer
                        .append_with_extras(
                            &empty,
                            &[Extra {
                                tag: Extra::BOUNDED,
                                data,
                            }],
                        )
                        .unwrap()
                }
            };
        }
        let bytes = writer.finish().unwrap();
        let back = codec.decompress(&bytes).unwrap();
        let report = bound.check(&test, &back, 256).unwrap();
        assert!(report.violations.is_empty(), "{bound}: {:?}", report.violations);
        // The latent-alone records are the exact decoder's output, to the bit.
        if bound == loose {
            let first = &back[..256];
            let code = reader.get(0).unwrap();
            let mut base = exact
                .decode(&[SparseCode {
                    indices: code.latent.indices().to_vec(),
                    values: code.latent.values().to_vec(),
                }])
                .unwrap();
            sae_codec::transform::inverse(&header.transforms, &mut base, code.scale()).unwrap();
            assert_eq!(first, &base[..]);
        }
    }
}

#[test]
fn what_cannot_be_promised_is_refused() {
    let codec = trained(vec![Transform::PerRecordScale]);
    let mut test = images(4, 3);
    test[300] = f32::NAN;
    match codec.compress_bounded(&test, ErrorBound::L2(1e-2)) {
        Err(CodecError::Model(_)) | Err(CodecError::Bounded { .. }) => {}
        other => panic!("a NaN must be refused, got {other:?}"),
    }
    let log = trained(vec![Transform::Log10 { floor: 1e-6 }, Transform::PerRecordScale]);
    let test = images(4, 3);
    assert!(matches!(
        log.compress_bounded(&test, ErrorBound::L2(1e-2)),
        Err(CodecError::Unsupported { .. })
    ));
}

#[test]
fn a_bounded_file_is_a_1_2_file_with_the_bound_in_its_header() {
    let codec = trained(vec![Transform::PerRecordScale]);
    let test = images(8, 5);
    let bound = ErrorBound::Rel(1e-3);
    let bytes = codec.compress_bounded(&test, bound).unwrap();
    assert_eq!(&bytes[8..12], &[1, 0, 2, 0]);
    let reader = ContainerReader::open(Cursor::new(&bytes)).unwrap();
    assert_eq!(reader.header().bound, Some(bound));
    // A plain file has none.
    let plain = codec.compress(&test).unwrap();
    assert_eq!(
        ContainerReader::open(Cursor::new(&plain)).unwrap().header().bound,
        None
    );
    // Damage anywhere gives an error, never a panic or a silently wrong record.
    for at in (0..bytes.len()).step_by(7) {
        let mut bad = bytes.clone();
        bad[at] ^= 0x10;
        if let Ok(back) = codec.decompress(&bad) {
            assert!(
                bound.check(&test, &back, 256).unwrap().violations.is_empty(),
                "flip at {at}"
            );
        }
    }
}
