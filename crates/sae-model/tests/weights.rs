//! Safetensors round trip, metadata, fingerprints and bad files.

use candle_core::{DType, Device};
use sae_model::{Architecture, Autoencoder, ModelError, ModelInfo, TENSOR_NAMES};

fn model(seed: u64) -> Autoencoder {
    Autoencoder::new(Architecture::new(6, 5, 12).unwrap(), &Device::Cpu, seed).unwrap()
}

#[test]
fn save_load_is_bit_exact_with_metadata() {
    let m = model(1);
    let mut info = ModelInfo::new("grad_z", 2.5e-3);
    info.extra
        .insert("transform".into(), "log10(max(x, 1e-6))".into());
    let bytes = m.to_safetensors(&info).unwrap();
    let (back, back_info) = Autoencoder::from_safetensors(&bytes, &Device::Cpu).unwrap();
    assert_eq!(back_info, info);
    assert_eq!(back.architecture(), m.architecture());
    assert_eq!(back.fingerprint().unwrap(), m.fingerprint().unwrap());
    // Every weight bit survives (the metadata's order in the file may vary: it is a JSON map).
    let resaved = back.to_safetensors(&info).unwrap();
    let (a, b) = (
        safetensors::SafeTensors::deserialize(&bytes).unwrap(),
        safetensors::SafeTensors::deserialize(&resaved).unwrap(),
    );
    for (w, bias) in TENSOR_NAMES {
        for name in [w, bias] {
            assert!(
                a.tensor(name).unwrap().data() == b.tensor(name).unwrap().data(),
                "{name} changed"
            );
        }
    }
    let x: Vec<f32> = (0..18).map(|i| i as f32 / 7.0).collect();
    assert_eq!(back.reconstruct(&x).unwrap(), m.reconstruct(&x).unwrap());

    let dir = std::env::temp_dir().join(format!("sae-model-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w.safetensors");
    m.save(&path, &info).unwrap();
    let (loaded, _) = Autoencoder::load(&path, &Device::Cpu).unwrap();
    assert_eq!(loaded.fingerprint().unwrap(), m.fingerprint().unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn file_layout_matches_pytorch_linear() {
    let m = model(2);
    let bytes = m.to_safetensors(&ModelInfo::new("z", 0.0)).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let shapes: Vec<Vec<usize>> = TENSOR_NAMES
        .iter()
        .flat_map(|(w, b)| {
            [
                st.tensor(w).unwrap().shape().to_vec(),
                st.tensor(b).unwrap().shape().to_vec(),
            ]
        })
        .collect();
    // (out, in) weights like torch.nn.Linear: 6 -> 5 -> 12 -> 5 -> 6.
    assert_eq!(
        shapes,
        [
            vec![5, 6],
            vec![5],
            vec![12, 5],
            vec![12],
            vec![5, 12],
            vec![5],
            vec![6, 5],
            vec![6]
        ]
    );
}

#[test]
fn fingerprints_tell_models_apart() {
    assert_eq!(model(3).fingerprint().unwrap(), model(3).fingerprint().unwrap());
    assert_ne!(model(3).fingerprint().unwrap(), model(4).fingerprint().unwrap());
    let f64_model =
        Autoencoder::new_with_dtype(Architecture::new(6, 5, 12).unwrap(), &Device::Cpu, 3, DType::F64)
            .unwrap();
    assert_ne!(f64_model.fingerprint().unwrap(), model(3).fingerprint().unwrap());
}

#[test]
fn damaged_files_are_refused() {
    let m = model(5);
    let info = ModelInfo::new("z", 1.0);
    let bytes = m.to_safetensors(&info).unwrap();
    // Flip one bit of the last weight value: the stored fingerprint no longer matches.
    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    assert!(matches!(
        Autoencoder::from_safetensors(&flipped, &Device::Cpu),
        Err(ModelError::BadWeights {
            problem: sae_model::WeightsProblem::Fingerprint
        })
    ));
    assert!(Autoencoder::from_safetensors(&bytes[..bytes.len() / 2], &Device::Cpu).is_err());
    assert!(Autoencoder::from_safetensors(b"not a safetensors file", &Device::Cpu).is_err());
    // A plain safetensors file without our metadata.
    let plain =
        safetensors::serialize(Vec::<(&str, safetensors::tensor::TensorView<'_>)>::new(), None).unwrap();
    assert!(matches!(
        Autoencoder::from_safetensors(&plain, &Device::Cpu),
        Err(ModelError::BadWeights {
            problem: sae_model::WeightsProblem::MissingKey { key }
        }) if key == "format"
    ));
}
