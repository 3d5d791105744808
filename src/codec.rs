//! The codec: a trained model, its data transforms and its coding choices.
//!
//! What a codec stores beside its weights is the container's own header
//! template (record shape, latent length, codings, transforms, fingerprint)
//! plus what only the model needs (selector, threshold): one definition of
//! every coding choice, from the model file to the container.

use std::io::{Cursor, Read, Seek, Write};
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use sae_container::{
    ContainerReader, ContainerWriter, ElementType, Extra, Fingerprint, HashAlgorithm, Header, IndexStatus,
    Record, SparseLatent, StreamReader, Transform,
};
use sae_model::{
    Architecture, Autoencoder, DecoderTuning, ExactDecoder, InputView, ModelInfo, Progress, Refinement,
    SampleSource, Selector, SparseCode, TrainConfig, TrainReport, Trainer, TuneReport, TuneRound, hex, unhex,
};

use crate::ErrorBound;
use crate::coding::{self, IndexFormat, ValueFormat};
use crate::device::ComputeDevice;
use crate::error::{CodecError, Result};
use crate::preset::Preset;
use crate::transform;

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
        header.model_name = Some(format!("sae {} {:?}", model.architecture(), selector));
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

    /// Compresses records (row-major, the codec's record shape) into container bytes.
    pub fn compress(&self, records: &[f32]) -> Result<Vec<u8>> {
        self.compress_to(records, Vec::new())
    }

    /// Compresses records into a container written to `sink` as each batch
    /// is encoded; returns the sink once the container is finished.
    pub fn compress_to<W: Write>(&self, records: &[f32], sink: W) -> Result<W> {
        let n = self.model.architecture().input;
        check_data(records, n)?;
        let mut writer = ContainerWriter::new(sink, self.header.clone())?;
        for (b, batch) in records.chunks(BATCH * n).enumerate() {
            let (codes, scales) = self.encode_batch((b * BATCH) as u64, batch)?;
            self.check_readable((b * BATCH) as u64, &codes, &scales)?;
            for (code, scale) in codes.into_iter().zip(scales) {
                let latent = SparseLatent::new(self.header.latent_len, code.indices, code.values)?;
                let extras: Vec<Extra> = scale.map(Extra::compact_scale).into_iter().collect();
                writer.append_with_extras(&latent, &extras)?;
            }
        }
        Ok(writer.finish()?)
    }

    /// The latents of a batch of records (numbered from `first`), as the
    /// container will store them but for its rounding, and their scales.
    pub(crate) fn encode_batch(
        &self,
        first: u64,
        batch: &[f32],
    ) -> Result<(Vec<SparseCode>, Vec<Option<f64>>)> {
        let n = self.model.architecture().input;
        let mut transformed = batch.to_vec();
        let mut scales = Vec::with_capacity(batch.len() / n);
        for (i, record) in transformed.chunks_mut(n).enumerate() {
            let index = first + i as u64;
            let scale = transform::forward(&self.header.transforms, record)?;
            check_encodable(index, record, scale)?;
            scales.push(scale);
        }
        {
            let mut codes = self.model.encode_sparse(&transformed, self.threshold)?;
            if let Some(refinement) = &self.refinement {
                // End the search on the quantiser's grid: rounding after it
                // would undo part of what it found.
                let refinement = Refinement {
                    lattice: refinement.lattice.or(coding::step(&self.header.value_coding)),
                    ..*refinement
                };
                codes = self.model.refine(&transformed, &codes, &refinement)?;
                // Refinement keeps every positive entry; the threshold still applies.
                if self.threshold > 0.0 {
                    codes
                        .iter_mut()
                        .for_each(|code| code.retain_above(self.threshold));
                }
            }
            for code in &mut codes {
                coding::prune(&self.header.value_coding, code);
            }
            Ok((codes, scales))
        }
    }

    /// Refuses a batch whose records, as stored, this codec could not read
    /// back: it decodes them exactly as decompression will (stored values,
    /// then the inverse transforms) and checks that every output is finite,
    /// so compression never writes a file that decompression refuses.
    fn check_readable(&self, first: u64, codes: &[SparseCode], scales: &[Option<f64>]) -> Result<()> {
        let stored = self.stored(codes);
        let mut decoded = self.model.decode_sparse(&stored)?;
        let n = self.model.architecture().input;
        for (i, (record, scale)) in decoded.chunks_mut(n).zip(scales).enumerate() {
            let index = first + i as u64;
            let finite = transform::inverse(&self.header.transforms, record, *scale).is_ok()
                && record.iter().all(|v| v.is_finite());
            if !finite {
                return Err(CodecError::Overflow {
                    record: index,
                    reason: "its reconstruction under this model is not finite, so the file could not be \
                             read back (are the model's weights sound?)"
                        .into(),
                });
            }
        }
        Ok(())
    }

    /// The codes with their values as the container stores them.
    pub(crate) fn stored(&self, codes: &[SparseCode]) -> Vec<SparseCode> {
        let coding = &self.header.value_coding;
        codes
            .iter()
            .map(|code| SparseCode {
                indices: code.indices.clone(),
                // An unstorable value is the writer's error to report.
                values: code
                    .values
                    .iter()
                    .map(|&v| coding.stored(v).unwrap_or(0.0))
                    .collect(),
            })
            .collect()
    }

    /// Decompresses container bytes made by this codec into records.
    ///
    /// A container made with another model is refused
    /// ([`CodecError::ModelMismatch`]): its latents mean nothing to this one.
    /// So is a damaged or unfinished one ([`CodecError::Unfinished`]); use
    /// [`decompress_partial`](Self::decompress_partial) to recover what it holds.
    pub fn decompress(&self, bytes: &[u8]) -> Result<Vec<f32>> {
        let mut reader = self.reader(Cursor::new(bytes))?;
        if let IndexStatus::Recovered { trailing_bytes } = *reader.status() {
            return Err(CodecError::Unfinished {
                records: reader.len() as u64,
                lost_bytes: trailing_bytes,
            });
        }
        reader.records(0..reader.len())
    }

    /// Decompresses what a container holds, finished or not: every whole,
    /// checksum-valid record of an unfinished or cut file, and what was lost.
    pub fn decompress_partial(&self, bytes: &[u8]) -> Result<Partial> {
        let mut reader = self.reader(Cursor::new(bytes))?;
        let lost_bytes = match *reader.status() {
            IndexStatus::Recovered { trailing_bytes } => Some(trailing_bytes),
            _ => None,
        };
        Ok(Partial {
            records: reader.len(),
            data: reader.records(0..reader.len())?,
            lost_bytes,
        })
    }

    /// Decompresses a container read in order from `source` (a pipe, a
    /// socket), batch by batch, without seeking.
    ///
    /// A stream that ends before the container's footer is an error
    /// ([`CodecError::Unfinished`]), not a shorter result.
    pub fn decompress_from<R: Read>(&self, source: R) -> Result<Vec<f32>> {
        let mut stream = StreamReader::new(source)?;
        self.check_header(stream.header())?;
        let bound = stream.header().bound;
        let mut out = Vec::new();
        let mut batch = Vec::with_capacity(BATCH);
        let mut index = 0u64;
        while let Some(record) = stream.next_record()? {
            batch.push(record);
            if batch.len() == BATCH {
                out.extend(self.decode_records(index, std::mem::take(&mut batch), bound)?);
                index += BATCH as u64;
            }
        }
        let count = index + batch.len() as u64;
        out.extend(self.decode_records(index, batch, bound)?);
        if stream.finished() != Some(true) {
            return Err(CodecError::Unfinished {
                records: count,
                lost_bytes: 0,
            });
        }
        Ok(out)
    }

    /// Random access to a container made by this codec: each record's
    /// sparse latent or its reconstruction, without reading the others.
    ///
    /// ```
    /// # use sae_codec::{Codec, CodecConfig};
    /// # use sae_codec::sae_model::{LambdaControl, TrainConfig};
    /// # let data: Vec<f32> = (0..64 * 16).map(|i| ((i % 16) as f32 / 3.0).sin().abs() * (1 + i / 16 % 4) as f32).collect();
    /// # let config = CodecConfig {
    /// #     train: TrainConfig { epochs: 3, batch_size: 16, lambda: LambdaControl::Fixed(1e-3), ..TrainConfig::default() },
    /// #     ..CodecConfig::default()
    /// # };
    /// let (codec, _) = Codec::train(&data, &[16], &config, |_| {})?;
    /// let bytes = codec.compress(&data)?;
    /// let mut reader = codec.reader(std::io::Cursor::new(&bytes))?;
    /// assert_eq!(reader.len(), 64);
    /// let latent = reader.latent(3)?;
    /// assert_eq!(reader.record(3)?.len(), 16);
    /// assert_eq!(reader.nonzeros()?[3], latent.nnz());
    /// # Ok::<(), sae_codec::CodecError>(())
    /// ```
    pub fn reader<R: Read + Seek>(&self, source: R) -> Result<CodecReader<'_, R>> {
        let reader = ContainerReader::open(source)?;
        self.check_header(reader.header())?;
        Ok(CodecReader { codec: self, reader })
    }

    /// Refuses a container this codec cannot decode correctly: another
    /// model's, or one whose record shape, latent length or transforms differ
    /// from the codec's (its codings may differ: a recode changes them).
    fn check_header(&self, header: &Header) -> Result<()> {
        let found = header.fingerprint.map(|f| f.digest);
        if found != Some(self.fingerprint()) {
            return Err(CodecError::ModelMismatch {
                expected: hex(&self.fingerprint()),
                found: found.map_or_else(|| "none".into(), |d| hex(&d)),
            });
        }
        let ours = &self.header;
        let mismatch = |field, file: String, model: String| CodecError::HeaderMismatch { field, file, model };
        if header.latent_len != ours.latent_len {
            return Err(mismatch(
                "latent length",
                header.latent_len.to_string(),
                ours.latent_len.to_string(),
            ));
        }
        if header.record_shape != ours.record_shape || header.element_type != ours.element_type {
            return Err(mismatch(
                "record shape",
                format!("{:?} {}", header.record_shape, header.element_type),
                format!("{:?} {}", ours.record_shape, ours.element_type),
            ));
        }
        if header.transforms != ours.transforms {
            let text = |t: &[Transform]| crate::Transforms(t.to_vec()).to_string();
            return Err(mismatch(
                "transforms",
                text(&header.transforms),
                text(&ours.transforms),
            ));
        }
        Ok(())
    }

    /// Decodes records `first..` into data, with the file's transforms; a
    /// file with an error `bound` by the guaranteed mode's exact path.
    fn decode_records(
        &self,
        first: u64,
        records: Vec<Record>,
        bound: Option<ErrorBound>,
    ) -> Result<Vec<f32>> {
        if bound.is_some() {
            return self.decode_bounded(first, records);
        }
        let needs_scale = self.header.transforms.contains(&Transform::PerRecordScale);
        let mut codes = Vec::with_capacity(records.len());
        let mut scales = Vec::with_capacity(records.len());
        for (i, record) in records.into_iter().enumerate() {
            let scale = record.scale();
            if needs_scale && scale.is_none() {
                return Err(CodecError::CorruptRecord {
                    index: first + i as u64,
                    reason: "the transforms need a per-record scale the record does not carry".into(),
                });
            }
            scales.push(scale);
            let (_, indices, values) = record.latent.into_parts();
            codes.push(SparseCode { indices, values });
        }
        let mut decoded = self.model.decode_sparse(&codes)?;
        let n = self.model.architecture().input;
        for (i, (record, scale)) in decoded.chunks_mut(n).zip(scales).enumerate() {
            transform::inverse(&self.header.transforms, record, scale)?;
            if !record.iter().all(|v| v.is_finite()) {
                return Err(CodecError::NonFiniteOutput {
                    record: first + i as u64,
                });
            }
        }
        Ok(decoded)
    }

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
        let bad = |reason: String| CodecError::ModelFile { reason };
        let selector: Selector = info.selector.parse().map_err(bad)?;
        let latent_len = model.architecture().latent as u32;
        let (header, threshold) = match info.extra.get(keys::VERSION).map(String::as_str) {
            Some(text) if text == SETTINGS_VERSION.to_string() => {
                let get = |key: &str| {
                    info.extra
                        .get(key)
                        .ok_or_else(|| bad(format!("metadata lacks `{key}`")))
                };
                let bytes =
                    unhex(get(keys::HEADER)?).ok_or_else(|| bad(format!("`{}` is not hex", keys::HEADER)))?;
                let header = Header::from_bytes(&bytes)
                    .map_err(|e| bad(format!("`{}` is not a valid header block: {e}", keys::HEADER)))?;
                let threshold: f32 = get(keys::THRESHOLD)?
                    .parse()
                    .map_err(|_| bad(format!("`{}` is not a number", keys::THRESHOLD)))?;
                (header, threshold)
            }
            Some(other) => {
                return Err(bad(match other.parse::<u32>() {
                    Ok(v) if v > SETTINGS_VERSION => {
                        format!("settings version {v} is newer than this release's ({SETTINGS_VERSION})")
                    }
                    Ok(v) => format!(
                        "settings version {v} was never written (this release reads version {SETTINGS_VERSION}, \
                         and release 1.0's files, which have no version)"
                    ),
                    Err(_) => format!("settings version `{other}` is not a version number"),
                }));
            }
            None => {
                let json = info.extra.get(keys::V1).ok_or_else(|| {
                    bad("no codec settings in its metadata (not saved by Codec::save)".into())
                })?;
                crate::legacy::read_v1(json, latent_len)?
            }
        };
        check_loaded(&model, &header, threshold)?;
        let codec = Self::assemble(model, info.lambda, header.clone(), selector, threshold)?;
        if header.fingerprint.is_some() && header.fingerprint != codec.header.fingerprint {
            return Err(bad(
                "the weights do not match the fingerprint in the settings".into()
            ));
        }
        Ok(codec)
    }
}

/// A container opened by [`Codec::reader`]: records by position.
#[derive(Debug)]
pub struct CodecReader<'c, R> {
    codec: &'c Codec,
    reader: ContainerReader<R>,
}

impl<R: Read + Seek> CodecReader<'_, R> {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.reader.len()
    }

    /// Whether the container holds no record.
    pub fn is_empty(&self) -> bool {
        self.reader.is_empty()
    }

    /// The container's header.
    pub fn header(&self) -> &Header {
        self.reader.header()
    }

    /// Whether the file was finished or recovered.
    pub fn status(&self) -> &IndexStatus {
        self.reader.status()
    }

    /// The sparse latent of record `index`, as stored.
    pub fn latent(&mut self, index: usize) -> Result<SparseLatent> {
        Ok(self.reader.get(index)?.latent)
    }

    /// The number of nonzero latent entries of every record, in order.
    pub fn nonzeros(&mut self) -> Result<Vec<usize>> {
        Ok(self.reader.nonzeros()?)
    }

    /// Record `index`, decompressed.
    pub fn record(&mut self, index: usize) -> Result<Vec<f32>> {
        self.records(index..index + 1)
    }

    /// Decompresses every record in order, a batch at a time, handing each
    /// batch (whole records, concatenated) to `sink`: memory is bounded by
    /// one batch, whatever the file's size. Stops at the first error, the
    /// reader's or the sink's.
    ///
    /// ```
    /// # use sae_codec::{Codec, CodecConfig};
    /// # use sae_codec::sae_model::{LambdaControl, TrainConfig};
    /// # let data: Vec<f32> = (0..64 * 16).map(|i| ((i % 16) as f32 / 3.0).sin().abs() * (1 + i / 16 % 4) as f32).collect();
    /// # let config = CodecConfig {
    /// #     train: TrainConfig { epochs: 3, batch_size: 16, lambda: LambdaControl::Fixed(1e-3), ..TrainConfig::default() },
    /// #     ..CodecConfig::default()
    /// # };
    /// # let (codec, _) = Codec::train(&data, &[16], &config, |_| {})?;
    /// let bytes = codec.compress(&data)?;
    /// let mut reader = codec.reader(std::io::Cursor::new(&bytes))?;
    /// let mut values = 0;
    /// reader.for_each_batch(|batch| {
    ///     values += batch.len();
    ///     Ok::<(), sae_codec::CodecError>(())
    /// })?;
    /// assert_eq!(values, data.len());
    /// # Ok::<(), sae_codec::CodecError>(())
    /// ```
    pub fn for_each_batch<E: From<CodecError>>(
        &mut self,
        mut sink: impl FnMut(&[f32]) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut start = 0;
        while start < self.len() {
            let end = (start + BATCH).min(self.len());
            sink(&self.records(start..end)?)?;
            start = end;
        }
        Ok(())
    }

    /// Records `range`, decompressed in batches, concatenated.
    pub fn records(&mut self, range: Range<usize>) -> Result<Vec<f32>> {
        let n = self.codec.model.architecture().input;
        let mut out = Vec::with_capacity(range.len().min(BATCH) * n);
        let mut start = range.start;
        while start < range.end {
            let end = (start + BATCH).min(range.end);
            let batch = (start..end)
                .map(|i| self.reader.get(i))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            out.extend(
                self.codec
                    .decode_records(start as u64, batch, self.reader.header().bound)?,
            );
            start = end;
        }
        Ok(out)
    }
}

/// What [`Codec::decompress_partial`] recovered.
#[derive(Debug, Clone, PartialEq)]
pub struct Partial {
    /// The whole records, decompressed, concatenated.
    pub data: Vec<f32>,
    /// How many records that is.
    pub records: usize,
    /// `None` for a finished container (nothing lost); for an unfinished or
    /// cut one, the bytes after the last whole record, which were lost.
    pub lost_bytes: Option<u64>,
}

/// Refuses a record whose transformed values, or the per-record scale that
/// brings them back, are not finite. A scale past the largest f32 is fine
/// (the container stores it as an f64): whether the record comes back
/// finite is checked on its reconstruction (`Codec::check_readable`).
fn check_encodable(index: u64, transformed: &[f32], scale: Option<f64>) -> Result<()> {
    let overflow = |reason: String| CodecError::Overflow {
        record: index,
        reason,
    };
    if let Some(position) = transformed.iter().position(|v| !v.is_finite()) {
        return Err(overflow(format!(
            "its value {position} is not finite after the transforms"
        )));
    }
    if let Some(s) = scale
        && !s.is_finite()
    {
        return Err(overflow(format!("its L2 norm {s:e} is not finite")));
    }
    Ok(())
}

/// Checks that loaded settings fit the loaded network.
fn check_loaded(model: &Autoencoder, header: &Header, threshold: f32) -> Result<()> {
    let arch = model.architecture();
    let bad = |reason: String| CodecError::ModelFile { reason };
    let shape: Vec<usize> = header.record_shape.iter().map(|&d| d as usize).collect();
    if record_len(&shape).ok() != Some(arch.input) {
        return Err(bad(format!(
            "record shape {shape:?} does not match the network's input of {}",
            arch.input
        )));
    }
    if header.latent_len as usize != arch.latent {
        return Err(bad(format!(
            "latent length {} does not match the network's {}",
            header.latent_len, arch.latent
        )));
    }
    if !(threshold.is_finite() && threshold >= 0.0) {
        return Err(bad(format!(
            "threshold {threshold} is not finite and non-negative"
        )));
    }
    // The template is what compression writes: a model whose template
    // cannot code a record is refused here, for both directions.
    header
        .check_writable()
        .map_err(|e| bad(format!("`{}` cannot code records: {e}", keys::HEADER)))
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
        if !raw.len().is_multiple_of(self.n) {
            return Err(sae_model::ModelError::Shape {
                reason: format!(
                    "a source gave {} values, not a whole number of records of {}",
                    raw.len(),
                    self.n
                ),
            });
        }
        forward_all(self.transforms, &raw, self.n).map_err(|e| sae_model::ModelError::Source {
            reason: format!("a fresh record cannot be transformed: {e}"),
        })
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

fn record_len(shape: &[usize]) -> Result<usize> {
    let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    match n {
        Some(n) if n > 0 => Ok(n),
        _ => Err(CodecError::shape(format!(
            "record shape {shape:?} is empty or overflows"
        ))),
    }
}

pub(crate) fn check_data(data: &[f32], n: usize) -> Result<()> {
    if data.is_empty() || !data.len().is_multiple_of(n) {
        return Err(CodecError::shape(format!(
            "{} values are not a whole, nonzero number of records of {n}",
            data.len()
        )));
    }
    if let Some(position) = data.iter().position(|v| !v.is_finite()) {
        return Err(sae_model::ModelError::NonFinite { position }.into());
    }
    Ok(())
}
