//! Files written by release 1.0 keep working: its model files load, its
//! containers decode to exactly the images it decoded, and compressing the
//! same images again writes the same bytes (`tests/data/v1.0-release/README.md`).
//! A model saved again in today's format is the same codec.

use std::path::PathBuf;

use sae_codec::io::read_npy;
use sae_codec::{Codec, IndexCoding, ValueCoding, keys};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/v1.0-release")
        .join(name)
}

const CASES: [&str; 3] = ["per-unit", "gaps", "reference"];

#[test]
fn release_1_0_models_and_containers_decode_bit_identically() {
    let images = read_npy(data("images.npy")).unwrap();
    for name in CASES {
        let codec = Codec::load(data(&format!("{name}.safetensors"))).unwrap();
        let container = std::fs::read(data(&format!("{name}.sae"))).unwrap();
        let expected = read_npy(data(&format!("{name}.decoded.npy"))).unwrap();
        let decoded = codec.decompress(&container).unwrap();
        assert_eq!(decoded.len(), expected.data.len(), "{name}");
        for (a, b) in decoded.iter().zip(&expected.data) {
            assert_eq!(a.to_bits(), b.to_bits(), "{name}: decoded values differ");
        }
        assert_eq!(
            codec.compress(&images.data).unwrap(),
            container,
            "{name}: compressing again gives other bytes"
        );
        // The streaming and random-access paths agree with the whole-file one.
        assert_eq!(codec.decompress_from(&container[..]).unwrap(), decoded, "{name}");
        let mut reader = codec.reader(std::io::Cursor::new(&container)).unwrap();
        assert_eq!(reader.record(5).unwrap(), decoded[5 * 64..6 * 64], "{name}");
    }
    // Each legacy coding came back as the container type it was written as.
    let kind = |name: &str| {
        let h = Codec::load(data(&format!("{name}.safetensors")))
            .unwrap()
            .header()
            .clone();
        (h.index_coding, h.value_coding, h.transforms.len())
    };
    assert!(matches!(
        kind("per-unit"),
        (IndexCoding::PerUnit { .. }, ValueCoding::Quantized { .. }, 1)
    ));
    assert!(matches!(
        kind("gaps"),
        (IndexCoding::Table { .. }, ValueCoding::F16, 2)
    ));
    assert!(matches!(
        kind("reference"),
        (IndexCoding::Gaussian { .. }, ValueCoding::F32, 0)
    ));
}

#[test]
fn a_release_1_0_model_saved_again_is_the_same_codec_in_settings_version_2() {
    let images = read_npy(data("images.npy")).unwrap();
    let dir = std::env::temp_dir().join(format!("sae-compat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in CASES {
        let old = Codec::load(data(&format!("{name}.safetensors"))).unwrap();
        let path = dir.join(format!("{name}.safetensors"));
        old.save(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let meta = meta.metadata().clone().unwrap();
        assert_eq!(meta.get(keys::VERSION).map(String::as_str), Some("2"));
        assert!(
            !meta.contains_key(keys::V1),
            "{name}: the old settings are not written"
        );
        let new = Codec::load(&path).unwrap();
        assert_eq!(new.header(), old.header(), "{name}");
        assert_eq!(new.selector(), old.selector(), "{name}");
        assert_eq!(
            new.compress(&images.data).unwrap(),
            old.compress(&images.data).unwrap()
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
