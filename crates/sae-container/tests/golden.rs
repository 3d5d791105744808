//! The byte layout is pinned by a committed file: any change to it shows up
//! here, and must come with a format version bump (`VERSION_MAJOR`/`VERSION_MINOR`)
//! and a note in `docs/format.md`.
//!
//! After an intended change, regenerate with
//! `SAE_BLESS_GOLDEN=1 cargo test -p sae-container --test golden`.

use std::io::Cursor;
use std::path::PathBuf;

use sae_container::{
    Choice, ContainerReader, ContainerWriter, ElementType, Extra, Fingerprint, HashAlgorithm, Header,
    IndexCoding, IndexStatus, SparseLatent, StreamReader, Transform, VERSION_MAJOR, VERSION_MINOR,
    ValueCoding, ValueModel,
};

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Three records exercising gaps at both ends, an empty latent and extras.
fn latents() -> Vec<(SparseLatent, Vec<Extra>)> {
    vec![
        (
            SparseLatent::new(256, vec![0, 1, 2, 100, 255], vec![0.5, 1.0, 1.5, 2.0, 1024.0]).unwrap(),
            vec![Extra::scale(3.5)],
        ),
        (SparseLatent::new(256, vec![], vec![]).unwrap(), vec![]),
        (
            SparseLatent::new(256, vec![17, 18, 200], vec![0.25, 0.75, 8.0]).unwrap(),
            vec![Extra {
                tag: 77,
                data: b"note".to_vec(),
            }],
        ),
    ]
}

fn header(value_coding: ValueCoding, index_coding: IndexCoding) -> Header {
    let mut h = Header::new(vec![16, 16], ElementType::F32, 256);
    h.index_coding = index_coding;
    h.value_coding = value_coding;
    h.transforms = vec![Transform::PerRecordScale, Transform::Log { floor: 1e-3 }];
    h.fingerprint = Some(Fingerprint {
        algorithm: HashAlgorithm::Sha256,
        digest: *b"0123456789abcdef0123456789abcdef",
    });
    h.model_name = Some("golden".into());
    h.metadata = vec![("source".into(), "sae-container golden test".into())];
    h
}

fn check_golden(name: &str, h: Header) {
    assert_eq!(
        (VERSION_MAJOR, VERSION_MINOR, h.minor_version()),
        (1, 2, 1),
        "bump the golden files with the version"
    );
    let mut writer = ContainerWriter::new(Vec::new(), h.clone()).unwrap();
    for (latent, extras) in latents() {
        writer.append_with_extras(&latent, &extras).unwrap();
    }
    let bytes = writer.finish().unwrap();
    let path = golden_path(name);
    if std::env::var_os("SAE_BLESS_GOLDEN").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    let golden = std::fs::read(&path).expect("golden file exists (bless it once)");
    assert_eq!(bytes, golden, "the writer's bytes differ from {}", path.display());
    check_decodes(&golden, &h);
}

/// The file decodes to the expected content (all values here are exact in f16).
fn check_decodes(file: &[u8], h: &Header) {
    let mut reader = ContainerReader::open(Cursor::new(file)).unwrap();
    assert_eq!(reader.status(), &IndexStatus::Indexed);
    assert_eq!(reader.header(), h);
    for (i, (latent, extras)) in latents().into_iter().enumerate() {
        let record = reader.get(i).unwrap();
        assert_eq!(record.latent, latent);
        assert_eq!(record.extras, extras);
    }
    assert_eq!(StreamReader::new(file).unwrap().count(), 3);
}

fn table_header() -> Header {
    let table: Vec<u32> = (0..=256).map(|g| 1 + 300 / (1 + g)).collect();
    header(
        ValueCoding::Quantized {
            step: 0.25,
            model: ValueModel::Table {
                frequencies: (1..=40).rev().collect(),
            },
        },
        IndexCoding::Table { frequencies: table },
    )
}

#[test]
fn golden_reference_coding() {
    check_golden(
        "golden-v1.1-gaussian-f16.sae",
        header(ValueCoding::F16, IndexCoding::reference()),
    );
}

#[test]
fn golden_quantized_table_coding() {
    check_golden("golden-v1.1-table-quantized.sae", table_header());
}

#[test]
fn golden_per_unit_coding() {
    let frequencies = (0..256u32)
        .map(|u| 1 + u.wrapping_mul(2_654_435_761) % 65_000)
        .collect();
    check_golden(
        "golden-v1.1-per-unit-f16.sae",
        header(ValueCoding::F16, IndexCoding::PerUnit { frequencies }),
    );
}

/// The guaranteed mode's file (1.2): an error-bound field, and records of
/// each choice: the latent alone, a residual extra, a direct record.
#[test]
fn golden_bounded_records() {
    let bound = sae_bounded::ErrorBound::L2(1e-2);
    let mut h = header(ValueCoding::F16, IndexCoding::reference());
    h.bound = Some(bound);
    let image: Vec<f32> = (0..256)
        .map(|i| 1.0 + ((i % 16) * (i / 16)) as f32 * 0.125)
        .collect();
    let base: Vec<f32> = image.iter().map(|v| v * 1.01).collect();
    let residual = sae_bounded::encode(&image, 16, Some(&base), bound).unwrap();
    let direct = sae_bounded::encode(&image, 16, None, bound).unwrap();
    let records = vec![
        (
            SparseLatent::new(256, vec![3, 9], vec![0.5, 1.0]).unwrap(),
            vec![Extra::compact_scale(2.0)],
        ),
        (
            SparseLatent::new(256, vec![4], vec![2.0]).unwrap(),
            vec![
                Extra::compact_scale(2.0),
                Extra {
                    tag: Extra::RESIDUAL,
                    data: residual.clone(),
                },
            ],
        ),
        (
            SparseLatent::new(256, vec![], vec![]).unwrap(),
            vec![
                Extra::compact_scale(2.0),
                Extra {
                    tag: Extra::BOUNDED,
                    data: direct.clone(),
                },
            ],
        ),
    ];
    let mut writer = ContainerWriter::new(Vec::new(), h.clone()).unwrap();
    for (latent, extras) in &records {
        writer.append_with_extras(latent, extras).unwrap();
    }
    let bytes = writer.finish().unwrap();
    let path = golden_path("golden-v1.2-bounded.sae");
    if std::env::var_os("SAE_BLESS_GOLDEN").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    let golden = std::fs::read(&path).expect("golden file exists (bless it once)");
    assert_eq!(bytes, golden, "the writer's bytes differ from {}", path.display());
    assert_eq!(&golden[8..12], &[1, 0, 2, 0], "a file with a bound is a 1.2 file");
    let mut reader = ContainerReader::open(Cursor::new(&golden[..])).unwrap();
    assert_eq!(reader.header(), &h);
    let names: Vec<&str> = (0..3)
        .map(|i| reader.get(i).unwrap())
        .collect::<Vec<_>>()
        .iter()
        .map(|r| r.choice().name())
        .collect();
    assert_eq!(names, ["latent", "residual", "direct"]);
    assert_eq!(reader.get(1).unwrap().choice(), Choice::Residual(&residual));
    assert_eq!(reader.get(2).unwrap().choice(), Choice::Bounded(&direct));
}

/// Bounded-coder extras are refused where they cannot belong, by writers and readers.
#[test]
fn bounded_extras_only_where_they_belong() {
    let residual = Extra {
        tag: Extra::RESIDUAL,
        data: vec![0; 8],
    };
    let direct = Extra {
        tag: Extra::BOUNDED,
        data: vec![0; 8],
    };
    let one = SparseLatent::new(256, vec![1], vec![1.0]).unwrap();
    let empty = SparseLatent::new(256, vec![], vec![]).unwrap();
    // No bound in the header: neither extra.
    let plain = header(ValueCoding::F16, IndexCoding::reference());
    let mut writer = ContainerWriter::new(Vec::new(), plain.clone()).unwrap();
    assert!(
        writer
            .append_with_extras(&one, &[Extra::scale(1.0), residual.clone()])
            .is_err()
    );
    let mut bounded = plain;
    bounded.bound = Some(sae_bounded::ErrorBound::Abs(0.5));
    let mut writer = ContainerWriter::new(Vec::new(), bounded).unwrap();
    // A direct record has no latent; one record, one choice.
    assert!(
        writer
            .append_with_extras(&one, &[Extra::scale(1.0), direct.clone()])
            .is_err()
    );
    assert!(
        writer
            .append_with_extras(&empty, &[Extra::scale(1.0), direct.clone(), residual.clone()])
            .is_err()
    );
    assert!(
        writer
            .append_with_extras(&empty, &[Extra::scale(1.0), direct])
            .is_ok()
    );
    assert!(
        writer
            .append_with_extras(&one, &[Extra::scale(1.0), residual])
            .is_ok()
    );
}

/// Files written as 1.0 (before the per-unit coding) still read, unchanged.
#[test]
fn version_1_0_files_still_decode() {
    for (name, h) in [
        (
            "golden-v1-gaussian-f16.sae",
            header(ValueCoding::F16, IndexCoding::reference()),
        ),
        ("golden-v1-table-quantized.sae", table_header()),
    ] {
        let file = std::fs::read(golden_path(name)).unwrap();
        assert_eq!(&file[8..12], &[1, 0, 0, 0], "{name} is a 1.0 file");
        check_decodes(&file, &h);
    }
}
