//! The model file's settings (`docs/model-file.md`): a file whose settings
//! are missing, unreadable, from a newer release, or do not fit its network
//! is refused as `CodecError::ModelFile`, never loaded as something else.
//! Streams that end before their footer are refused too.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sae_codec::{Codec, CodecError, ElementType, Header, keys};
use safetensors::SafeTensors;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/v1.0-release")
        .join(name)
}

/// A copy of `source` with its metadata passed through `edit`.
fn rewrite(source: &Path, target: &Path, edit: impl FnOnce(&mut HashMap<String, String>)) {
    let bytes = std::fs::read(source).unwrap();
    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    let mut metadata = meta.metadata().clone().unwrap();
    edit(&mut metadata);
    let tensors = SafeTensors::deserialize(&bytes).unwrap();
    let views: Vec<_> = tensors.tensors();
    std::fs::write(target, safetensors::serialize(views, Some(metadata)).unwrap()).unwrap();
}

#[test]
fn bad_settings_are_model_file_errors() {
    let dir = std::env::temp_dir().join(format!("sae-model-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.safetensors");
    let codec = Codec::load(fixture("per-unit.safetensors")).unwrap();
    codec.save(&good).unwrap();
    let bad = dir.join("bad.safetensors");
    let refused = |edit: &dyn Fn(&mut HashMap<String, String>), needle: &str| {
        rewrite(&good, &bad, edit);
        match Codec::load(&bad) {
            Err(CodecError::ModelFile(problem)) => {
                let text = problem.to_string();
                assert!(text.contains(needle), "{text}")
            }
            other => panic!("{needle}: {other:?}"),
        }
    };
    refused(&|m| drop(m.remove(keys::HEADER)), keys::HEADER);
    refused(&|m| drop(m.insert(keys::HEADER.into(), "zz".into())), "not hex");
    refused(
        &|m| {
            let h = m.get_mut(keys::HEADER).unwrap();
            let last = h.pop().unwrap();
            h.push(if last == '0' { '1' } else { '0' }); // the header's checksum
        },
        "not a valid header block",
    );
    refused(&|m| drop(m.insert(keys::VERSION.into(), "3".into())), "newer");
    // Versions no release wrote are not "newer".
    refused(
        &|m| drop(m.insert(keys::VERSION.into(), "1".into())),
        "never written",
    );
    for text in ["x", "", "02"] {
        let needle = if text == "02" {
            "never written"
        } else {
            "not a version number"
        };
        refused(
            &move |m| drop(m.insert(keys::VERSION.into(), text.into())),
            needle,
        );
    }
    // Hex is exactly lower-case digits: `u8::from_str_radix` would take `+d` for `0d`.
    refused(
        &|m| {
            let h = m.get_mut(keys::HEADER).unwrap();
            let at = h.find("0d").expect("a 0d byte in the header");
            h.replace_range(at..at + 2, "+d");
        },
        "not hex",
    );
    refused(
        &|m| {
            let h = m.get_mut(keys::HEADER).unwrap();
            *h = h.to_uppercase();
        },
        "not hex",
    );
    // Templates that cannot code a record are refused at load, so that
    // neither compression nor decompression runs with them.
    let template = |edit: &dyn Fn(&mut Header)| {
        let mut h = codec.header().clone();
        edit(&mut h);
        sae_codec::sae_model::hex(&h.to_bytes().unwrap())
    };
    for (hex, what) in [
        (
            template(&|h| {
                let sae_codec::IndexCoding::PerUnit { frequencies } = &mut h.index_coding else {
                    panic!("a per-unit fixture")
                };
                frequencies.pop();
            }),
            "per-unit table",
        ),
        (
            template(&|h| {
                h.index_coding = sae_codec::IndexCoding::PerUnit {
                    frequencies: vec![0; h.latent_len as usize],
                }
            }),
            "per-unit table",
        ),
        (
            template(&|h| {
                h.value_coding = sae_codec::ValueCoding::Quantized {
                    step: 0.1,
                    model: sae_codec::sae_container::ValueModel::Table { frequencies: vec![] },
                }
            }),
            "value table",
        ),
    ] {
        refused(&move |m| drop(m.insert(keys::HEADER.into(), hex.clone())), what);
    }
    refused(
        &|m| drop(m.insert(keys::THRESHOLD.into(), "-1".into())),
        "threshold",
    );
    refused(
        &|m| drop(m.insert("selector".into(), "w".into())),
        "unknown selector",
    );
    // A header template for another network: the latent length differs.
    let mut other = codec.header().clone();
    other.latent_len += 1;
    other.index_coding = sae_codec::IndexCoding::reference();
    let hex: String = other
        .to_bytes()
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    refused(
        &move |m| drop(m.insert(keys::HEADER.into(), hex.clone())),
        "latent length",
    );
    // A template whose fingerprint names other weights.
    let mut foreign = codec.header().clone();
    foreign.fingerprint.as_mut().unwrap().digest[0] ^= 1;
    let hex: String = foreign
        .to_bytes()
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    refused(
        &move |m| drop(m.insert(keys::HEADER.into(), hex.clone())),
        "fingerprint",
    );
    // Neither version's settings.
    refused(
        &|m| drop(m.remove(keys::VERSION).and(m.remove(keys::HEADER))),
        "no codec settings",
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_header_block_with_bytes_after_it_is_refused() {
    let header = Header::new(vec![8, 8], ElementType::F32, 64);
    let mut bytes = header.to_bytes().unwrap();
    assert_eq!(Header::from_bytes(&bytes).unwrap(), header);
    bytes.push(0);
    assert!(matches!(
        Header::from_bytes(&bytes),
        Err(sae_codec::ContainerError::TrailingBytes { count: 1, .. })
    ));
}

#[test]
fn a_stream_cut_before_its_footer_is_refused_not_shortened() {
    let codec = Codec::load(fixture("gaps.safetensors")).unwrap();
    let container = std::fs::read(fixture("gaps.sae")).unwrap();
    // Keep the header and whole records, drop the footer: what a writer that died leaves.
    let whole = codec.decompress_from(&container[..]).unwrap();
    assert_eq!(whole.len(), 12 * 64);
    let footer = 4 + 8 + 8 * 12 + 4 + 16;
    match codec.decompress_from(&container[..container.len() - footer]) {
        Err(CodecError::Unfinished { records: 12, .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn altered_model_files_load_or_fail_cleanly() {
    // What the fuzz target `model_file` does, on a fixed sweep: one byte of
    // the file overwritten at a time, across the header, the settings and
    // the weights. Never a panic; a codec that loads decodes to finite values.
    let model = std::fs::read(fixture("per-unit.safetensors")).unwrap();
    let container = std::fs::read(fixture("per-unit.sae")).unwrap();
    let header_len = 8 + u64::from_le_bytes(model[..8].try_into().unwrap()) as usize;
    let positions = (0..header_len)
        .step_by(7)
        .chain((header_len..model.len()).step_by(997));
    let (mut loaded, mut refused) = (0, 0);
    for at in positions {
        for value in [0u8, b'9', 0xff] {
            let mut bytes = model.clone();
            bytes[at] = value;
            match Codec::from_safetensors(&bytes, sae_codec::ComputeDevice::Cpu) {
                Ok(codec) => {
                    loaded += 1;
                    if let Ok(images) = codec.decompress(&container) {
                        assert!(images.iter().all(|v| v.is_finite()), "byte {at} = {value}");
                    }
                }
                Err(_) => refused += 1,
            }
        }
    }
    assert!(loaded > 0 && refused > 0, "{loaded} loaded, {refused} refused");
}

/// The causes are typed: a caller can tell which entry is wrong without
/// reading the message.
#[test]
fn model_file_errors_name_the_entry_and_the_version() {
    use sae_codec::ModelFileError;

    let dir = std::env::temp_dir().join(format!("sae-model-file-typed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.safetensors");
    Codec::load(fixture("per-unit.safetensors"))
        .unwrap()
        .save(&good)
        .unwrap();
    let bad = dir.join("bad.safetensors");
    let problem = |edit: &dyn Fn(&mut HashMap<String, String>)| {
        rewrite(&good, &bad, edit);
        match Codec::load(&bad) {
            Err(CodecError::ModelFile(problem)) => problem,
            other => panic!("{other:?}"),
        }
    };
    assert!(matches!(
        problem(&|m| drop(m.remove(keys::THRESHOLD))),
        ModelFileError::MissingKey { key } if key == keys::THRESHOLD
    ));
    assert!(matches!(
        problem(&|m| drop(m.insert(keys::VERSION.into(), "3".into()))),
        ModelFileError::NewerVersion {
            found: 3,
            supported: 2
        }
    ));
    assert!(matches!(
        problem(&|m| drop(m.insert(keys::VERSION.into(), "1".into()))),
        ModelFileError::UnknownVersion {
            found: 1,
            supported: 2
        }
    ));
    assert!(matches!(
        problem(&|m| drop(m.insert(keys::THRESHOLD.into(), "-1".into()))),
        ModelFileError::Threshold { threshold } if threshold == -1.0
    ));
    assert!(matches!(
        problem(&|m| drop(m.insert(keys::THRESHOLD.into(), "x".into()))),
        ModelFileError::NotANumber { key } if key == keys::THRESHOLD
    ));
    std::fs::remove_dir_all(&dir).ok();
}
