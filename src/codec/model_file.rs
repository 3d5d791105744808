//! The model file: weights in safetensors, the codec's settings in its
//! metadata (`docs/model-file.md`); release 1.0's settings are read by `legacy`.

use std::path::Path;

use sae_container::Header;
use sae_model::{Autoencoder, ModelInfo, Selector, hex, unhex};

use super::{Codec, record_len};
use crate::device::ComputeDevice;
use crate::error::{ModelFileError, Result};

/// Metadata keys of a model file (`docs/model-file.md`).
pub mod keys {
    /// The settings' version: `"2"`. Absent in files of settings version 1.
    pub const VERSION: &str = "codec.version";
    /// The container header template, as lowercase hex of its header block.
    pub const HEADER: &str = "codec.header";
    /// The latent threshold, a decimal f32.
    pub const THRESHOLD: &str = "codec.threshold";
    /// Settings version 1 (release 1.0): JSON. Read, never written.
    pub const V1: &str = "codec";
}

/// The settings version this release writes.
const SETTINGS_VERSION: u32 = 2;

impl Codec {
    /// Saves the codec: weights in safetensors, settings in its metadata
    /// (`docs/model-file.md`).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut info = ModelInfo::new(self.selector.to_string(), self.lambda);
        info.extra
            .insert(keys::VERSION.into(), SETTINGS_VERSION.to_string());
        info.extra
            .insert(keys::HEADER.into(), hex(&self.header.to_bytes()?));
        info.extra
            .insert(keys::THRESHOLD.into(), self.threshold.to_string());
        Ok(self.model.save(path, &info)?)
    }

    /// Loads a codec saved with [`save`](Self::save), to run on the CPU.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_on(path, ComputeDevice::Cpu)
    }

    /// Loads a codec saved with [`save`](Self::save) by this release or
    /// release 1.0, to run on `device`.
    pub fn load_on(path: impl AsRef<Path>, device: ComputeDevice) -> Result<Self> {
        Self::from_safetensors(&std::fs::read(path)?, device)
    }

    /// A codec from the bytes of a model file (`docs/model-file.md`), to run
    /// on `device`; every check of [`load_on`](Self::load_on).
    pub fn from_safetensors(bytes: &[u8], device: ComputeDevice) -> Result<Self> {
        let (model, info) = Autoencoder::from_safetensors(bytes, &device.open()?)?;
        let selector: Selector = info
            .selector
            .parse()
            .map_err(|message| ModelFileError::Selector { message })?;
        let latent_len = model.architecture().latent as u32;
        let (header, threshold) = match info.extra.get(keys::VERSION).map(String::as_str) {
            Some(text) if text == SETTINGS_VERSION.to_string() => {
                let get = |key: &'static str| info.extra.get(key).ok_or(ModelFileError::MissingKey { key });
                let bytes = unhex(get(keys::HEADER)?).ok_or(ModelFileError::NotHex { key: keys::HEADER })?;
                let header = Header::from_bytes(&bytes).map_err(ModelFileError::Header)?;
                let threshold: f32 = get(keys::THRESHOLD)?
                    .parse()
                    .map_err(|_| ModelFileError::NotANumber { key: keys::THRESHOLD })?;
                (header, threshold)
            }
            Some(text) => {
                let supported = SETTINGS_VERSION;
                return Err(match text.parse::<u32>() {
                    Ok(found) if found > supported => ModelFileError::NewerVersion { found, supported },
                    Ok(found) => ModelFileError::UnknownVersion { found, supported },
                    Err(_) => ModelFileError::NotAVersion { text: text.into() },
                }
                .into());
            }
            None => {
                let json = info.extra.get(keys::V1).ok_or(ModelFileError::NoSettings)?;
                super::legacy::read_v1(json, latent_len)?
            }
        };
        check_loaded(&model, &header, threshold)?;
        let codec = Self::assemble(model, info.lambda, header.clone(), selector, threshold)?;
        if header.fingerprint.is_some() && header.fingerprint != codec.header.fingerprint {
            return Err(ModelFileError::Fingerprint.into());
        }
        Ok(codec)
    }
}

/// Checks that loaded settings fit the loaded network.
fn check_loaded(model: &Autoencoder, header: &Header, threshold: f32) -> Result<()> {
    let arch = model.architecture();
    if record_len(
        &header
            .record_shape
            .iter()
            .map(|&d| d as usize)
            .collect::<Vec<_>>(),
    )
    .ok()
        != Some(arch.input)
    {
        return Err(ModelFileError::RecordShape {
            shape: header.record_shape.clone(),
            input: arch.input,
        }
        .into());
    }
    if header.latent_len as usize != arch.latent {
        return Err(ModelFileError::LatentLength {
            found: header.latent_len,
            network: arch.latent,
        }
        .into());
    }
    if !(threshold.is_finite() && threshold >= 0.0) {
        return Err(ModelFileError::Threshold { threshold }.into());
    }
    // The template is what compression writes: a model whose template
    // cannot code a record is refused here, for both directions.
    Ok(header.check_writable().map_err(ModelFileError::Unwritable)?)
}
