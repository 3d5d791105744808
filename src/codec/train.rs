//! Training a codec, tuning its decoder, refitting its coding tables.

use sae_container::{ElementType, Header, SparseLatent, Transform};
use sae_model::{
    Architecture, Autoencoder, DecoderTuning, Progress, SampleSource, TrainReport, Trainer, TuneReport,
    TuneRound,
};

use super::{Codec, CodecConfig, check_data, forward_all, record_len};
use crate::coding::{self, IndexFormat, ValueFormat};
use crate::error::{CodecError, Result};

impl Codec {
    /// Trains a codec on `data`, records of shape `record_shape`, row-major.
    pub fn train(
        data: &[f32],
        record_shape: &[usize],
        config: &CodecConfig,
        progress: impl FnMut(&Progress),
    ) -> Result<(Self, TrainReport)> {
        Self::train_inner(data, record_shape, config, None, progress)
    }

    /// Trains a codec on `data` and on the fresh records `source` delivers
    /// while it trains (raw records of `record_shape`, transformed here as
    /// `data` is): between epochs they replace the oldest training records
    /// ([`Trainer::train_streaming`]). The validation records and the coding
    /// tables come from `data`. With the `sas` feature,
    /// [`SimulatedImages`](crate::SimulatedImages) is such a source.
    pub fn train_streaming(
        data: &[f32],
        record_shape: &[usize],
        config: &CodecConfig,
        source: &mut dyn SampleSource,
        progress: impl FnMut(&Progress),
    ) -> Result<(Self, TrainReport)> {
        Self::train_inner(data, record_shape, config, Some(source), progress)
    }

    fn train_inner(
        data: &[f32],
        record_shape: &[usize],
        config: &CodecConfig,
        source: Option<&mut dyn SampleSource>,
        progress: impl FnMut(&Progress),
    ) -> Result<(Self, TrainReport)> {
        let n = record_len(record_shape)?;
        check_data(data, n)?;
        let transformed = forward_all(&config.transforms, data, n)?;
        let arch = Architecture::from_ratios(n, config.hidden_ratio, config.latent_ratio)?;
        crate::memory::check_fits(
            training_bytes(arch, config.train.batch_size, data.len()),
            "training",
        )?;
        let mut model = Autoencoder::new(arch, &config.device.open()?, config.seed)?;
        model.set_input_view(config.encoder_view)?;
        let trainer = Trainer::new(config.train.clone(), config.selector.boxed());
        let report = match source {
            None => trainer.train(&mut model, &transformed, progress)?,
            Some(inner) => {
                let mut source = Transformed {
                    inner,
                    transforms: &config.transforms,
                    n,
                };
                trainer.train_streaming(&mut model, &transformed, &mut source, progress)?
            }
        };
        let mut header = Header::new(
            record_shape.iter().map(|&d| d as u64).collect(),
            ElementType::F32,
            arch.latent as u32,
        );
        header.transforms = config.transforms.clone();
        fit_tables(&model, &transformed, config, &mut header)?;
        let codec = Self::assemble(
            model,
            report.final_lambda,
            header,
            config.selector,
            config.threshold,
        )?;
        Ok((codec, report))
    }

    /// The same codec with its decoder fine-tuned on refined latents of
    /// `data` (the training records): [`Autoencoder::tune_decoder`], the
    /// records transformed as the codec's transforms say. The encoder, and so
    /// every coding table fitted on its latents, is unchanged; the weights
    /// change, so the fingerprint does: containers made before do not decode
    /// with the tuned codec. It pays off where compression refines
    /// ([`with_refinement`](Self::with_refinement)), the case it trains for.
    pub fn tune_decoder(
        &self,
        data: &[f32],
        tuning: &DecoderTuning,
        progress: impl FnMut(&TuneRound),
    ) -> Result<(Self, TuneReport)> {
        let n = self.model.architecture().input;
        check_data(data, n)?;
        let transformed = forward_all(&self.header.transforms, data, n)?;
        let mut model = self.model.deep_copy()?;
        let report = model.tune_decoder(&transformed, tuning, progress)?;
        let mut tuned = Self::assemble(
            model,
            self.lambda,
            self.header.clone(),
            self.selector,
            self.threshold,
        )?;
        tuned.refinement = self.refinement;
        Ok((tuned, report))
    }

    /// The same network with another value coding, its tables refitted on
    /// `data` (the training records, or any representative sample).
    ///
    /// The weights and so the fingerprint are unchanged: containers made by
    /// either codec decode with both, each header saying how its values are stored.
    pub fn with_values(&self, values: ValueFormat, data: &[f32]) -> Result<Self> {
        let indices = IndexFormat::of(&self.header.index_coding).ok_or_else(|| CodecError::Unsupported {
            what: format!("refitting the index coding {}", self.header.index_coding),
        })?;
        self.with_coding(values, indices, data)
    }

    /// The same network with another value and index coding, its tables
    /// refitted on `data`; see [`with_values`](Self::with_values).
    pub fn with_coding(&self, values: ValueFormat, indices: IndexFormat, data: &[f32]) -> Result<Self> {
        let n = self.model.architecture().input;
        check_data(data, n)?;
        let transformed = forward_all(&self.header.transforms, data, n)?;
        let config = CodecConfig {
            values,
            indices,
            threshold: self.threshold,
            ..CodecConfig::default()
        };
        let mut codec = self.clone();
        fit_tables(&self.model, &transformed, &config, &mut codec.header)?;
        Ok(codec)
    }
}

/// Bytes training holds at once, roughly: weights, gradients, both Adam
/// moments and the best weights (5 copies of the parameters), a batch's
/// activations and their gradients, and the transformed data (already made).
fn training_bytes(arch: Architecture, batch: usize, values: usize) -> Option<u64> {
    let parameters = (arch.parameter_count() as u64).checked_mul(5 * 4)?;
    let width = (arch.input as u64)
        .checked_mul(2)?
        .checked_add((arch.hidden as u64).checked_mul(2)?)?
        .checked_add(arch.latent as u64)?;
    let activations = (batch as u64).checked_mul(width)?.checked_mul(2 * 4)?;
    parameters
        .checked_add(activations)?
        .checked_add((values as u64).checked_mul(4)?)
}

/// A source of raw records seen through the codec's transforms.
struct Transformed<'a> {
    inner: &'a mut dyn SampleSource,
    transforms: &'a [Transform],
    n: usize,
}

impl SampleSource for Transformed<'_> {
    fn take_ready(&mut self) -> sae_model::Result<Vec<f32>> {
        let raw = self.inner.take_ready()?;
        self.transform(raw)
    }

    fn take_next(&mut self) -> sae_model::Result<Vec<f32>> {
        let raw = self.inner.take_next()?;
        self.transform(raw)
    }
}

impl Transformed<'_> {
    fn transform(&self, raw: Vec<f32>) -> sae_model::Result<Vec<f32>> {
        sae_model::whole_records(&raw, self.n)?;
        forward_all(self.transforms, &raw, self.n).map_err(|e| sae_model::ModelError::Source {
            reason: format!("a fresh record cannot be transformed: {e}"),
        })
    }
}

/// Fits the coding tables of `config` on the training latents as the
/// compressor will store them, into `header`: values first, since
/// quantisation prunes entries.
fn fit_tables(
    model: &Autoencoder,
    transformed: &[f32],
    config: &CodecConfig,
    header: &mut Header,
) -> Result<()> {
    let latent_len = model.architecture().latent as u32;
    let mut codes = model.encode_sparse(transformed, config.threshold)?;
    let all_values: Vec<f32> = codes.iter().flat_map(|c| c.values.iter().copied()).collect();
    header.value_coding = config.values.resolve(&all_values)?;
    drop(all_values);
    for code in &mut codes {
        coding::prune(&header.value_coding, code);
    }
    let latents = codes
        .into_iter()
        .map(|c| SparseLatent::new(latent_len, c.indices, c.values))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    header.index_coding = config.indices.resolve(&latents, latent_len)?;
    Ok(())
}
