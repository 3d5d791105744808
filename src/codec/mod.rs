//! The codec: a trained model, its data transforms and its coding choices.
//!
//! What a codec stores beside its weights is the container's own header
//! template (record shape, latent length, codings, transforms, fingerprint)
//! plus what only the model needs (selector, threshold): one definition of
//! every coding choice, from the model file to the container.

//!
//! By job: [`train`] (training, tuning, refitting the tables),
//! [`compress`] (records into containers), [`read`] (containers back into
//! records, [`CodecReader`]), [`model_file`] (saving and loading, with the
//! release-1.0 reader in `legacy` beside it).

mod compress;
mod legacy;
mod model_file;
mod read;
mod train;

use std::sync::OnceLock;

use sae_container::{Fingerprint, HashAlgorithm, Header, Transform};
use sae_model::{Autoencoder, ExactDecoder, InputView, Refinement, Selector, TrainConfig};

use crate::coding::{IndexFormat, ValueFormat};
use crate::device::ComputeDevice;
use crate::error::{CodecError, Result};
use crate::preset::Preset;
use crate::transform;
pub use model_file::keys;
pub use read::{CodecReader, Partial};

/// How to build and train a codec.
///
/// The default is the recipe of [`Preset::Sas`] (64×64 SAS images); start
/// from another [`Preset`] with [`Preset::config`], or set the fields.
#[derive(Debug, Clone, PartialEq)]
pub struct CodecConfig {
    /// `m/n`.
    pub hidden_ratio: f64,
    /// `l/n`.
    pub latent_ratio: f64,
    /// The penalty's selector.
    pub selector: Selector,
    /// Training settings (λ control, epochs, batch, seed, …).
    pub train: TrainConfig,
    /// Transforms applied before the model, in order.
    pub transforms: Vec<Transform>,
    /// How nonzero values are stored.
    pub values: ValueFormat,
    /// How nonzero positions are coded.
    pub indices: IndexFormat,
    /// Latent entries at or below this are dropped when compressing.
    pub threshold: f32,
    /// Seed of the weight initialisation.
    pub seed: u64,
    /// Where the network trains and runs.
    pub device: ComputeDevice,
    /// What the encoder sees of a (transformed) record; the decoder and the
    /// loss stay on the record itself. Saved with the model.
    pub encoder_view: InputView,
}

impl Default for CodecConfig {
    /// [`Preset::Sas`]: `(1/4, 1, 3e-3, z)`, per-record L2 normalisation,
    /// values quantised with a step of 5% of their RMS, per-unit indices, on the CPU.
    fn default() -> Self {
        Preset::Sas.config()
    }
}

/// Records per batch when encoding and decoding.
pub(crate) const BATCH: usize = 512;

/// A trained sparse autoencoder with its transforms and coding choices.
///
/// ```
/// use sae_codec::{Codec, CodecConfig};
/// use sae_codec::sae_model::{LambdaControl, TrainConfig};
///
/// // 64 records of 16 values: scaled copies of two patterns.
/// let data: Vec<f32> = (0..64 * 16)
///     .map(|i| { let (r, j) = (i / 16, i % 16); (1 + r % 5) as f32 * if (j < 8) == (r % 2 == 0) { 1.0 } else { 0.1 } })
///     .collect();
/// let config = CodecConfig {
///     train: TrainConfig { epochs: 20, batch_size: 16, learning_rate: 1e-2, lambda: LambdaControl::Fixed(1e-3), ..TrainConfig::default() },
///     ..CodecConfig::default()
/// };
/// let (codec, _report) = Codec::train(&data, &[16], &config, |_| {})?;
/// let bytes = codec.compress(&data)?;
/// let back = codec.decompress(&bytes)?;
/// assert_eq!(back.len(), data.len());
/// # Ok::<(), sae_codec::CodecError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Codec {
    pub(crate) model: Autoencoder,
    lambda: f64,
    /// The header every container of this codec starts with.
    pub(crate) header: Header,
    selector: Selector,
    threshold: f32,
    /// A compressor's choice, not part of the model: not saved with it.
    refinement: Option<Refinement>,
    /// The decoder with a fixed order of operations, for the guaranteed
    /// mode; built from `model` on first use (the model never changes after).
    pub(crate) exact: OnceLock<ExactDecoder>,
}

impl Codec {
    /// Completes the header template with the model's provenance.
    fn assemble(
        model: Autoencoder,
        lambda: f64,
        mut header: Header,
        selector: Selector,
        threshold: f32,
    ) -> Result<Self> {
        header.fingerprint = Some(Fingerprint {
            algorithm: HashAlgorithm::Sha256,
            digest: model.fingerprint()?,
        });
        header.model_name = Some(format!("sae {} {}", model.architecture(), selector.title()));
        Ok(Self {
            model,
            lambda,
            header,
            selector,
            threshold,
            refinement: None,
            exact: OnceLock::new(),
        })
    }

    /// The same codec, compressing with `refinement` (`None`: the encoder's latents as they are).
    ///
    /// Refinement searches each record's latent for a better one under the
    /// fixed decoder ([`Autoencoder::refine`]): slower compression, lower
    /// error, containers that decode with any copy of the model. It is a
    /// choice of the compressor and is not saved with the codec.
    ///
    /// ```
    /// # use sae_codec::{Codec, CodecConfig};
    /// # use sae_codec::sae_model::{LambdaControl, TrainConfig};
    /// use sae_codec::sae_model::Refinement;
    /// # let data: Vec<f32> = (0..64 * 16).map(|i| ((i % 16) as f32 / 3.0).sin().abs() * (1 + i / 16 % 4) as f32).collect();
    /// # let config = CodecConfig {
    /// #     train: TrainConfig { epochs: 5, batch_size: 16, lambda: LambdaControl::Fixed(1e-3), ..TrainConfig::default() },
    /// #     ..CodecConfig::default()
    /// # };
    /// let (codec, _) = Codec::train(&data, &[16], &config, |_| {})?;
    /// let refined = codec.clone().with_refinement(Some(Refinement::default()));
    /// let error = |bytes: &[u8]| -> Result<f32, sae_codec::CodecError> {
    ///     let back = codec.decompress(bytes)?;
    ///     Ok(back.iter().zip(&data).map(|(a, b)| (a - b) * (a - b)).sum())
    /// };
    /// assert!(error(&refined.compress(&data)?)? <= error(&codec.compress(&data)?)? * 1.01);
    /// # Ok::<(), sae_codec::CodecError>(())
    /// ```
    pub fn with_refinement(mut self, refinement: Option<Refinement>) -> Self {
        self.refinement = refinement;
        self
    }

    /// How [`compress`](Self::compress) refines latents, if it does.
    pub fn refinement(&self) -> Option<&Refinement> {
        self.refinement.as_ref()
    }

    /// The autoencoder.
    pub fn model(&self) -> &Autoencoder {
        &self.model
    }

    /// The selector the network was trained with.
    pub fn selector(&self) -> Selector {
        self.selector
    }

    /// Latent entries at or below this are dropped when compressing.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// The header every container this codec writes starts with: record
    /// shape, latent length, codings, transforms and fingerprint.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Shape of one record.
    pub fn record_shape(&self) -> Vec<usize> {
        self.header.record_shape.iter().map(|&d| d as usize).collect()
    }

    /// SHA-256 of the weights, as containers record it.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.header
            .fingerprint
            .map(|f| f.digest)
            .expect("a codec's header always carries its fingerprint")
    }
}

/// Applies `transforms` to every record of `data`.
fn forward_all(transforms: &[Transform], data: &[f32], n: usize) -> Result<Vec<f32>> {
    let mut transformed = data.to_vec();
    for record in transformed.chunks_mut(n) {
        transform::forward(transforms, record)?;
    }
    Ok(transformed)
}

fn record_len(shape: &[usize]) -> Result<usize> {
    let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    match n {
        Some(n) if n > 0 => Ok(n),
        _ => Err(CodecError::shape(format!(
            "record shape {shape:?} is empty or overflows"
        ))),
    }
}

/// The one check of the facade's input: a whole, nonzero number of finite
/// records of `n` values ([`sae_model::whole_records`]).
pub(crate) fn check_data(data: &[f32], n: usize) -> Result<()> {
    match sae_model::whole_records(data, n)? {
        0 => Err(sae_model::ModelError::NoRecords.into()),
        _ => Ok(()),
    }
}
