//! Weights in safetensors, readable from Python, and the weight fingerprint.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use safetensors::SafeTensors;
use safetensors::tensor::{Dtype, TensorView};
use sha2::{Digest, Sha256};

use crate::arch::Architecture;
use crate::error::{ModelError, Result, WeightsProblem};
use crate::network::{Autoencoder, Dense, Layers};
use crate::view::InputView;

/// Tensor names in files, in layer order, as a PyTorch
/// `encoder = nn.Sequential(Linear(n, m), ReLU(), Linear(m, l), ReLU())` and
/// `decoder = nn.Sequential(Linear(l, m), ReLU(), Linear(m, n))` name them.
pub const TENSOR_NAMES: [(&str, &str); 4] = [
    ("encoder.0.weight", "encoder.0.bias"),
    ("encoder.2.weight", "encoder.2.bias"),
    ("decoder.0.weight", "decoder.0.bias"),
    ("decoder.2.weight", "decoder.2.bias"),
];

/// Value of the `format` metadata entry that marks our files.
pub const FORMAT_TAG: &str = "sae-codec/autoencoder-v1";

/// Metadata entry naming the encoder's [`InputView`]; absent for the linear view
/// (so files of networks without a view are as release 1.0 wrote them).
pub const ENCODER_VIEW_KEY: &str = "encoder_view";

/// What a weights file says about the model besides its tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// Name of the sparse-structure selector it was trained with (`"z"`, `"grad_z"`, …).
    pub selector: String,
    /// The penalty weight λ at the end of training.
    pub lambda: f64,
    /// Other entries, e.g. the data transform that the facade records.
    pub extra: BTreeMap<String, String>,
}

impl ModelInfo {
    /// Info for a model trained with `selector` and `lambda`, no extra entries.
    pub fn new(selector: impl Into<String>, lambda: f64) -> Self {
        Self {
            selector: selector.into(),
            lambda,
            extra: BTreeMap::new(),
        }
    }
}

/// The bytes of each tensor in file layout: weights as `(out, in)`, row-major, little-endian.
/// A tensor as stored: name, shape, little-endian bytes.
type FileTensor = (&'static str, Vec<usize>, Vec<u8>);

fn file_tensors(model: &Autoencoder) -> Result<Vec<FileTensor>> {
    let mut out = Vec::with_capacity(8);
    for ((w_name, b_name), layer) in TENSOR_NAMES.iter().zip(model.layers.as_array()) {
        let w = layer.weight.t()?.contiguous()?;
        out.push((*w_name, w.dims().to_vec(), tensor_bytes(&w)?));
        let b = &layer.bias;
        out.push((*b_name, b.dims().to_vec(), tensor_bytes(b)?));
    }
    Ok(out)
}

fn tensor_bytes(t: &Tensor) -> Result<Vec<u8>> {
    let flat = t.flatten_all()?;
    Ok(match t.dtype() {
        DType::F64 => flat
            .to_vec1::<f64>()?
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        _ => flat
            .to_dtype(DType::F32)?
            .to_vec1::<f32>()?
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
    })
}

fn st_dtype(dtype: DType) -> Dtype {
    if dtype == DType::F64 {
        Dtype::F64
    } else {
        Dtype::F32
    }
}

impl Autoencoder {
    /// SHA-256 of the weights: for each tensor in [`TENSOR_NAMES`] order, its
    /// name, a zero byte, its shape as little-endian `u64`s and its data bytes
    /// in file layout. Containers record it to refuse decoding with another model.
    pub fn fingerprint(&self) -> Result<[u8; 32]> {
        let mut hasher = Sha256::new();
        for (name, shape, bytes) in file_tensors(self)? {
            hasher.update(name.as_bytes());
            hasher.update([0u8]);
            for d in shape {
                hasher.update((d as u64).to_le_bytes());
            }
            hasher.update(&bytes);
        }
        Ok(hasher.finalize().into())
    }

    /// Serialises the weights and `info` as safetensors bytes.
    ///
    /// Metadata entries: `format`, `crate_version`, `architecture` (`"n,m,l"`),
    /// `selector`, `lambda`, `fingerprint` (hex), plus `info.extra`. Weights are
    /// stored `(out, in)` like `torch.nn.Linear`, so
    /// `safetensors.torch.load_file` feeds a matching PyTorch module directly.
    pub fn to_safetensors(&self, info: &ModelInfo) -> Result<Vec<u8>> {
        let tensors = file_tensors(self)?;
        let dtype = st_dtype(self.dtype());
        let views = tensors
            .iter()
            .map(|(name, shape, bytes)| Ok((*name, TensorView::new(dtype, shape.clone(), bytes)?)))
            .collect::<Result<Vec<_>>>()?;
        let mut metadata: HashMap<String, String> = info.extra.clone().into_iter().collect();
        let arch = self.architecture();
        metadata.insert("format".into(), FORMAT_TAG.into());
        metadata.insert("crate_version".into(), env!("CARGO_PKG_VERSION").into());
        metadata.insert(
            "architecture".into(),
            format!("{},{},{}", arch.input, arch.hidden, arch.latent),
        );
        metadata.insert("selector".into(), info.selector.clone());
        metadata.insert("lambda".into(), format!("{:?}", info.lambda));
        metadata.insert("fingerprint".into(), hex(&self.fingerprint()?));
        if self.input_view() != InputView::Linear {
            metadata.insert(ENCODER_VIEW_KEY.into(), self.input_view().to_string());
        }
        Ok(safetensors::serialize(views, Some(metadata))?)
    }

    /// Writes [`to_safetensors`](Self::to_safetensors) to `path`.
    pub fn save(&self, path: impl AsRef<Path>, info: &ModelInfo) -> Result<()> {
        std::fs::write(path, self.to_safetensors(info)?)?;
        Ok(())
    }

    /// Reads a model from safetensors bytes onto `device`.
    pub fn from_safetensors(bytes: &[u8], device: &Device) -> Result<(Self, ModelInfo)> {
        let bad = |problem| ModelError::BadWeights { problem };
        let (_, file_meta) = SafeTensors::read_metadata(bytes)?;
        let meta: BTreeMap<String, String> = file_meta
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let get = |key: &str| {
            meta.get(key)
                .ok_or_else(|| bad(WeightsProblem::MissingKey { key: key.into() }))
        };
        if get("format")? != FORMAT_TAG {
            return Err(bad(WeightsProblem::Format {
                found: get("format")?.clone(),
                expected: FORMAT_TAG,
            }));
        }
        let text = get("architecture")?;
        let not_nml = || bad(WeightsProblem::Architecture { text: text.clone() });
        let sizes: Vec<usize> = text
            .split(',')
            .map(|s| s.trim().parse::<usize>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| not_nml())?;
        let [n, m, l] = sizes[..] else {
            return Err(not_nml());
        };
        let arch = Architecture::new(n, m, l)?;
        let text = get("lambda")?;
        let lambda = text
            .parse::<f64>()
            .map_err(|_| bad(WeightsProblem::Lambda { text: text.clone() }))?;
        let selector = get("selector")?.clone();

        let st = SafeTensors::deserialize(bytes)?;
        let load = |name: &str, expected: &[usize]| -> Result<Tensor> {
            let view = st
                .tensor(name)
                .map_err(|_| bad(WeightsProblem::MissingTensor { name: name.into() }))?;
            if view.shape() != expected {
                return Err(bad(WeightsProblem::TensorShape {
                    name: name.into(),
                    found: view.shape().to_vec(),
                    expected: expected.to_vec(),
                }));
            }
            let data = view.data();
            let non_finite = || bad(WeightsProblem::NonFiniteTensor { name: name.into() });
            let t = match view.dtype() {
                Dtype::F32 => {
                    let values: Vec<f32> = data
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect();
                    if !values.iter().all(|v| v.is_finite()) {
                        return Err(non_finite());
                    }
                    Tensor::from_vec(values, expected, device)?
                }
                Dtype::F64 => {
                    let values: Vec<f64> = data
                        .chunks_exact(8)
                        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                        .collect();
                    if !values.iter().all(|v| v.is_finite()) {
                        return Err(non_finite());
                    }
                    Tensor::from_vec(values, expected, device)?
                }
                other => {
                    return Err(bad(WeightsProblem::TensorType {
                        name: name.into(),
                        dtype: format!("{other:?}"),
                    }));
                }
            };
            Ok(t)
        };
        let mut layers = Vec::with_capacity(4);
        for ((fan_in, fan_out), (w_name, b_name)) in arch.layers().into_iter().zip(TENSOR_NAMES) {
            layers.push(Dense {
                weight: load(w_name, &[fan_out, fan_in])?.t()?.contiguous()?,
                bias: load(b_name, &[fan_out])?,
            });
        }
        let dtype = layers[0].weight.dtype();
        if layers
            .iter()
            .any(|l| l.weight.dtype() != dtype || l.bias.dtype() != dtype)
        {
            return Err(bad(WeightsProblem::MixedPrecision));
        }
        let mut model = Self::from_parts(arch, Layers::new(layers.try_into().expect("four layers")))?;
        if let Some(view) = meta.get(ENCODER_VIEW_KEY) {
            model.view = view
                .parse()
                .map_err(|message| bad(WeightsProblem::EncoderView { message }))?;
        }
        if let Some(stored) = meta.get("fingerprint")
            && *stored != hex(&model.fingerprint()?)
        {
            return Err(bad(WeightsProblem::Fingerprint));
        }
        let reserved = [
            "format",
            "crate_version",
            "architecture",
            "selector",
            "lambda",
            "fingerprint",
            ENCODER_VIEW_KEY,
        ];
        let extra = meta
            .into_iter()
            .filter(|(k, _)| !reserved.contains(&k.as_str()))
            .collect();
        Ok((
            model,
            ModelInfo {
                selector,
                lambda,
                extra,
            },
        ))
    }

    /// Reads a model saved with [`save`](Self::save).
    pub fn load(path: impl AsRef<Path>, device: &Device) -> Result<(Self, ModelInfo)> {
        Self::from_safetensors(&std::fs::read(path)?, device)
    }
}

/// Lower-case hexadecimal, two digits a byte; [`unhex`] reads it back.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of [`hex`]'s text: exactly two lower-case hexadecimal digits
/// (`0-9`, `a-f`) a byte, nothing else (no sign, no upper case, no space);
/// `None` for any other text.
///
/// ```
/// use sae_model::{hex, unhex};
///
/// assert_eq!(unhex(&hex(&[0, 13, 255])), Some(vec![0, 13, 255]));
/// assert_eq!(unhex("0d"), Some(vec![13]));
/// for bad in ["+d", "0D", " d", "0", "0g"] {
///     assert_eq!(unhex(bad), None, "{bad}");
/// }
/// ```
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}
