//! The codec: a trained model, its data transforms and its coding choices.

use std::io::Cursor;
use std::path::Path;

use sae_container::{
    ContainerReader, ContainerWriter, ElementType, Extra, Fingerprint, HashAlgorithm, Header, IndexCoding,
    SparseLatent, Transform,
};
use sae_model::{
    Architecture, Autoencoder, ForwardDifference, Identity, ModelInfo, Progress, Refinement, SparseCode,
    SparseSelector, TrainConfig, TrainReport, Trainer, hex,
};
use serde::{Deserialize, Serialize};

use crate::device::ComputeDevice;
use crate::error::{CodecError, Result};
use crate::transform;
use crate::values::{ValueFormat, ValueSpec};

/// Which sparse-structure selector `f` the penalty `λ‖f(z)‖₁` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Selector {
    /// `f(z) = z`.
    Identity,
    /// `(f z)ᵢ = zᵢ₊₁ − zᵢ`.
    ForwardDifference,
}

impl Selector {
    fn boxed(self) -> Box<dyn SparseSelector> {
        match self {
            Self::Identity => Box::new(Identity),
            Self::ForwardDifference => Box::new(ForwardDifference),
        }
    }
}

/// How the positions of the nonzero latent entries are coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum IndexFormat {
    /// Gaps under the paper's discretised Gaussian (σ² = 1000, c₀ = 1e-3).
    ReferenceGaps,
    /// Gaps under a table fitted on the training latents.
    FittedGaps,
    /// One decision per latent unit under its firing rate on the training
    /// latents: a trained network uses few of its units, some far more often
    /// than others. On the public SAS images with the `cli-20k` network this
    /// took the indices from 141 to 50 bytes per image (`docs/results.md` §1.4).
    PerUnit,
}

/// How to build and train a codec.
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
}

impl Default for CodecConfig {
    /// `(1, 2)` with the `z` selector, per-record L2 normalisation, values
    /// quantised with a step of 5% of their RMS (measured on the public SAS
    /// images with `(1/4, 1, 3e-3, z)`: 180× instead of 116× with f16 values,
    /// for a mean error 0.7% higher; `docs/results.md`), a fitted gap table, on the CPU.
    fn default() -> Self {
        Self {
            hidden_ratio: 1.0,
            latent_ratio: 2.0,
            selector: Selector::Identity,
            train: TrainConfig::default(),
            transforms: vec![Transform::PerRecordScale],
            values: ValueFormat::Quantized { relative_step: 0.05 },
            indices: IndexFormat::PerUnit,
            threshold: 0.0,
            seed: 0,
            device: ComputeDevice::Cpu,
        }
    }
}

/// What a codec stores beside its weights (JSON in the weights' metadata).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Settings {
    record_shape: Vec<u64>,
    selector: Selector,
    transforms: Vec<TransformSpec>,
    value_coding: ValueSpec,
    gap_table: Option<Vec<u32>>,
    /// Per-unit activity frequencies; when present they replace `gap_table`.
    #[serde(default)]
    unit_table: Option<Vec<u32>>,
    threshold: f32,
}

impl Settings {
    fn index_format(&self) -> IndexFormat {
        match (&self.unit_table, &self.gap_table) {
            (Some(_), _) => IndexFormat::PerUnit,
            (None, Some(_)) => IndexFormat::FittedGaps,
            (None, None) => IndexFormat::ReferenceGaps,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum TransformSpec {
    Log { floor: f64 },
    Log10 { floor: f64 },
    Affine { scale: f64, offset: f64 },
    PerRecordScale,
}

fn transform_spec(t: &Transform) -> Result<TransformSpec> {
    Ok(match *t {
        Transform::Log { floor } => TransformSpec::Log { floor },
        Transform::Log10 { floor } => TransformSpec::Log10 { floor },
        Transform::Affine { scale, offset } => TransformSpec::Affine { scale, offset },
        Transform::PerRecordScale => TransformSpec::PerRecordScale,
        _ => return Err(unsupported("transform", t)),
    })
}

fn transform_of(t: TransformSpec) -> Transform {
    match t {
        TransformSpec::Log { floor } => Transform::Log { floor },
        TransformSpec::Log10 { floor } => Transform::Log10 { floor },
        TransformSpec::Affine { scale, offset } => Transform::Affine { scale, offset },
        TransformSpec::PerRecordScale => Transform::PerRecordScale,
    }
}

fn unsupported(name: &'static str, what: &dyn std::fmt::Debug) -> CodecError {
    CodecError::InvalidConfig {
        name,
        reason: format!("{what:?} is not supported by the codec yet"),
    }
}

/// Records per batch when encoding and decoding.
const BATCH: usize = 512;

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
    model: Autoencoder,
    lambda: f64,
    settings: Settings,
    fingerprint: [u8; 32],
    /// A compressor's choice, not part of the model: not saved with it.
    refinement: Option<Refinement>,
}

impl Codec {
    /// Trains a codec on `data`, records of shape `record_shape`, row-major.
    pub fn train(
        data: &[f32],
        record_shape: &[usize],
        config: &CodecConfig,
        progress: impl FnMut(&Progress),
    ) -> Result<(Self, TrainReport)> {
        let n = record_len(record_shape)?;
        check_data(data, n)?;
        let transforms = config
            .transforms
            .iter()
            .map(transform_spec)
            .collect::<Result<Vec<_>>>()?;
        let mut transformed = data.to_vec();
        for record in transformed.chunks_mut(n) {
            transform::forward(&config.transforms, record)?;
        }
        let arch = Architecture::from_ratios(n, config.hidden_ratio, config.latent_ratio)?;
        let mut model = Autoencoder::new(arch, &config.device.open()?, config.seed)?;
        let trainer = Trainer::new(config.train.clone(), config.selector.boxed());
        let report = trainer.train(&mut model, &transformed, progress)?;
        let tables = fit_tables(
            &model,
            &transformed,
            config.values,
            config.indices,
            config.threshold,
        )?;
        let settings = Settings {
            record_shape: record_shape.iter().map(|&d| d as u64).collect(),
            selector: config.selector,
            transforms,
            value_coding: tables.values,
            gap_table: tables.gaps,
            unit_table: tables.units,
            threshold: config.threshold,
        };
        let fingerprint = model.fingerprint()?;
        Ok((
            Self {
                model,
                lambda: report.final_lambda,
                settings,
                fingerprint,
                refinement: None,
            },
            report,
        ))
    }

    /// The same network with another value coding, its tables refitted on
    /// `data` (the training records, or any representative sample).
    ///
    /// The weights and so the fingerprint are unchanged: containers made by
    /// either codec decode with both, each header saying how its values are stored.
    pub fn with_values(&self, values: ValueFormat, data: &[f32]) -> Result<Self> {
        self.with_coding(values, self.settings.index_format(), data)
    }

    /// The same network with another value and index coding, its tables
    /// refitted on `data`; see [`with_values`](Self::with_values).
    pub fn with_coding(&self, values: ValueFormat, indices: IndexFormat, data: &[f32]) -> Result<Self> {
        let n = self.model.architecture().input;
        check_data(data, n)?;
        let transforms = self.transforms();
        let mut transformed = data.to_vec();
        for record in transformed.chunks_mut(n) {
            transform::forward(&transforms, record)?;
        }
        let tables = fit_tables(
            &self.model,
            &transformed,
            values,
            indices,
            self.settings.threshold,
        )?;
        let mut codec = self.clone();
        codec.settings.value_coding = tables.values;
        codec.settings.gap_table = tables.gaps;
        codec.settings.unit_table = tables.units;
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

    /// Shape of one record.
    pub fn record_shape(&self) -> Vec<usize> {
        self.settings.record_shape.iter().map(|&d| d as usize).collect()
    }

    /// SHA-256 of the weights, as containers record it.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    fn transforms(&self) -> Vec<Transform> {
        self.settings
            .transforms
            .iter()
            .copied()
            .map(transform_of)
            .collect()
    }

    fn header(&self) -> Header {
        let latent = self.model.architecture().latent as u32;
        let mut header = Header::new(self.settings.record_shape.clone(), ElementType::F32, latent);
        header.index_coding = match (&self.settings.unit_table, &self.settings.gap_table) {
            (Some(frequencies), _) => IndexCoding::PerUnit {
                frequencies: frequencies.clone(),
            },
            (None, Some(frequencies)) => IndexCoding::Table {
                frequencies: frequencies.clone(),
            },
            (None, None) => IndexCoding::reference(),
        };
        header.value_coding = self.settings.value_coding.coding();
        header.transforms = self.transforms();
        header.fingerprint = Some(Fingerprint {
            algorithm: HashAlgorithm::Sha256,
            digest: self.fingerprint,
        });
        header.model_name = Some(format!(
            "sae {} {:?}",
            self.model.architecture(),
            self.settings.selector
        ));
        header
    }

    /// Compresses records (row-major, the codec's record shape) into container bytes.
    pub fn compress(&self, records: &[f32]) -> Result<Vec<u8>> {
        let n = self.model.architecture().input;
        check_data(records, n)?;
        let transforms = self.transforms();
        let mut writer = ContainerWriter::new(Vec::new(), self.header())?;
        for batch in records.chunks(BATCH * n) {
            let mut transformed = batch.to_vec();
            let mut scales = Vec::with_capacity(batch.len() / n);
            for record in transformed.chunks_mut(n) {
                scales.push(transform::forward(&transforms, record)?);
            }
            let mut codes = self.model.encode_sparse(&transformed, self.settings.threshold)?;
            if let Some(refinement) = &self.refinement {
                // End the search on the quantiser's grid: rounding after it
                // would undo part of what it found.
                let refinement = Refinement {
                    lattice: refinement.lattice.or(self.settings.value_coding.step()),
                    ..*refinement
                };
                codes = self.model.refine(&transformed, &codes, &refinement)?;
                // Refinement keeps every positive entry; the threshold still applies.
                if self.settings.threshold > 0.0 {
                    codes
                        .iter_mut()
                        .for_each(|code| code.retain_above(self.settings.threshold));
                }
            }
            for (mut code, scale) in codes.into_iter().zip(scales) {
                self.settings
                    .value_coding
                    .prune(&mut code.indices, &mut code.values);
                let latent =
                    SparseLatent::new(self.model.architecture().latent as u32, code.indices, code.values)?;
                let extras: Vec<Extra> = scale.map(Extra::compact_scale).into_iter().collect();
                writer.append_with_extras(&latent, &extras)?;
            }
        }
        Ok(writer.finish()?)
    }

    /// Decompresses container bytes made by this codec into records.
    ///
    /// A container made with another model is refused
    /// ([`CodecError::ModelMismatch`]): its latents mean nothing to this one.
    pub fn decompress(&self, bytes: &[u8]) -> Result<Vec<f32>> {
        let mut reader = ContainerReader::open(Cursor::new(bytes))?;
        let found = reader.header().fingerprint.map(|f| f.digest);
        if found != Some(self.fingerprint) {
            return Err(CodecError::ModelMismatch {
                expected: hex(&self.fingerprint),
                found: found.map_or_else(|| "none".into(), |d| hex(&d)),
            });
        }
        let transforms = reader.header().transforms.clone();
        let n = self.model.architecture().input;
        let mut out = Vec::with_capacity(reader.len() * n);
        let count = reader.len();
        let mut start = 0;
        while start < count {
            let end = (start + BATCH).min(count);
            let mut codes = Vec::with_capacity(end - start);
            let mut scales = Vec::with_capacity(end - start);
            for i in start..end {
                let record = reader.get(i)?;
                scales.push(record.scale());
                let (_, indices, values) = record.latent.into_parts();
                codes.push(SparseCode { indices, values });
            }
            let mut decoded = self.model.decode_sparse(&codes)?;
            for (record, scale) in decoded.chunks_mut(n).zip(scales) {
                transform::inverse(&transforms, record, scale)?;
            }
            out.extend(decoded);
            start = end;
        }
        Ok(out)
    }

    /// Saves the codec: weights in safetensors, settings in its metadata.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut info = ModelInfo::new(self.model_selector_name(), self.lambda);
        let settings = serde_json::to_string(&self.settings).map_err(|e| CodecError::InvalidConfig {
            name: "settings",
            reason: e.to_string(),
        })?;
        info.extra.insert("codec".into(), settings);
        Ok(self.model.save(path, &info)?)
    }

    fn model_selector_name(&self) -> String {
        self.settings.selector.boxed().name()
    }

    /// Loads a codec saved with [`save`](Self::save), to run on the CPU.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_on(path, ComputeDevice::Cpu)
    }

    /// Loads a codec saved with [`save`](Self::save), to run on `device`.
    pub fn load_on(path: impl AsRef<Path>, device: ComputeDevice) -> Result<Self> {
        let (model, info) = Autoencoder::load(path, &device.open()?)?;
        let text = info.extra.get("codec").ok_or_else(|| CodecError::InvalidConfig {
            name: "weights file",
            reason: "no `codec` settings in its metadata (not saved by Codec::save)".into(),
        })?;
        let settings: Settings = serde_json::from_str(text).map_err(|e| CodecError::InvalidConfig {
            name: "codec settings",
            reason: e.to_string(),
        })?;
        if record_len(
            &settings
                .record_shape
                .iter()
                .map(|&d| d as usize)
                .collect::<Vec<_>>(),
        )? != model.architecture().input
        {
            return Err(CodecError::InvalidConfig {
                name: "codec settings",
                reason: "record shape does not match the network's input".into(),
            });
        }
        let fingerprint = model.fingerprint()?;
        Ok(Self {
            model,
            lambda: info.lambda,
            settings,
            fingerprint,
            refinement: None,
        })
    }
}

/// The coding tables fitted on training latents.
struct Tables {
    values: ValueSpec,
    gaps: Option<Vec<u32>>,
    units: Option<Vec<u32>>,
}

/// Fits the coding tables on the training latents as the compressor will
/// store them: values first, since quantisation prunes entries.
fn fit_tables(
    model: &Autoencoder,
    transformed: &[f32],
    values: ValueFormat,
    indices: IndexFormat,
    threshold: f32,
) -> Result<Tables> {
    let latent_len = model.architecture().latent as u32;
    let mut codes = model.encode_sparse(transformed, threshold)?;
    let all_values: Vec<f32> = codes.iter().flat_map(|c| c.values.iter().copied()).collect();
    let value_coding = values.resolve(&all_values)?;
    drop(all_values);
    for code in &mut codes {
        value_coding.prune(&mut code.indices, &mut code.values);
    }
    // Built only for the fitted codings; the codes are not needed after it.
    let latents = || {
        codes
            .into_iter()
            .map(|c| SparseLatent::new(latent_len, c.indices, c.values))
            .collect::<std::result::Result<Vec<_>, _>>()
    };
    let coding = match indices {
        IndexFormat::ReferenceGaps => IndexCoding::reference(),
        IndexFormat::FittedGaps => IndexCoding::fitted(&latents()?, latent_len, 16)?,
        IndexFormat::PerUnit => IndexCoding::fitted_per_unit(&latents()?, latent_len)?,
    };
    let (gaps, units) = match coding {
        IndexCoding::Table { frequencies } => (Some(frequencies), None),
        IndexCoding::PerUnit { frequencies } => (None, Some(frequencies)),
        // The reference Gaussian: no table to store.
        _ => (None, None),
    };
    Ok(Tables {
        values: value_coding,
        gaps,
        units,
    })
}

fn record_len(shape: &[usize]) -> Result<usize> {
    let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    match n {
        Some(n) if n > 0 => Ok(n),
        _ => Err(CodecError::Shape {
            reason: format!("record shape {shape:?} is empty or overflows"),
        }),
    }
}

fn check_data(data: &[f32], n: usize) -> Result<()> {
    if data.is_empty() || !data.len().is_multiple_of(n) {
        return Err(CodecError::Shape {
            reason: format!(
                "{} values are not a whole, nonzero number of records of {n}",
                data.len()
            ),
        });
    }
    if let Some(position) = data.iter().position(|v| !v.is_finite()) {
        return Err(CodecError::NonFinite { position });
    }
    Ok(())
}
