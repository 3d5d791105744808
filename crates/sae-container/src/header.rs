//! The self-describing file header: what the records hold and how they are coded.

use crate::error::{ContainerError, Result, Section};
use crate::latent::SparseLatent;
use crate::wire::{ByteReader, PutBytes};

/// Largest latent length a container accepts (the gap alphabet must fit the coder).
pub const MAX_LATENT_LEN: u32 = (1 << 22) - 1;

/// Element type of the original data (before any transform).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ElementType {
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
    /// Unsigned 16-bit integer (e.g. detector counts).
    U16,
    /// Unsigned 32-bit integer.
    U32,
    /// Signed 32-bit integer.
    I32,
    /// Unsigned byte (e.g. MNIST pixels).
    U8,
}

impl ElementType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::U16 => 2,
            Self::F32 | Self::U32 | Self::I32 => 4,
            Self::F64 => 8,
        }
    }

    fn code(self) -> u8 {
        match self {
            Self::F32 => 1,
            Self::F64 => 2,
            Self::U16 => 3,
            Self::U32 => 4,
            Self::I32 => 5,
            Self::U8 => 6,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => Self::F32,
            2 => Self::F64,
            3 => Self::U16,
            4 => Self::U32,
            5 => Self::I32,
            6 => Self::U8,
            _ => return None,
        })
    }
}

/// How the gaps between nonzero indices are entropy coded.
///
/// Gaps are `i₀` for the first index and `iₖ - iₖ₋₁ - 1` after it, so they lie
/// in `0..l`; the symbol `l` terminates a latent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum IndexCoding {
    /// The reference discretised Gaussian with a floor (see `sae_arith::QuantizedGaussian`).
    Gaussian {
        /// Variance σ².
        sigma2: f64,
        /// Probability floor c₀.
        floor: f64,
        /// Quantisation precision in bits (1..=24).
        precision: u8,
    },
    /// A frequency table over the `l + 1` symbols, e.g. fitted on training latents.
    Table {
        /// One frequency per gap `0..l` and the terminator; zero means impossible.
        frequencies: Vec<u32>,
    },
    /// Counts learned within each record, starting uniform.
    Adaptive {
        /// Count added per coded symbol.
        increment: u32,
    },
    /// Every gap equally likely.
    Uniform,
    /// No gaps: one yes/no decision per latent unit, unit `i` active with
    /// probability `frequencies[i] / 2^16`, e.g. its firing rate on training
    /// latents. Trained sparse autoencoders use few of their units and some
    /// far more often than others, which a gap model cannot see.
    PerUnit {
        /// One frequency per unit, each in `1..65536`.
        frequencies: Vec<u32>,
    },
}

impl IndexCoding {
    /// The reference model: σ² = 1000, c₀ = 1e-3, 24-bit precision.
    pub fn reference() -> Self {
        Self::Gaussian {
            sigma2: 1000.0,
            floor: 1e-3,
            precision: 24,
        }
    }

    /// A gap table fitted on training latents of length `latent_len`, quantised
    /// to `2^precision`; every gap keeps a nonzero frequency, so latents unlike
    /// the training ones stay codable.
    ///
    /// ```
    /// use sae_container::{IndexCoding, SparseLatent};
    ///
    /// let training = [SparseLatent::new(16, vec![0, 1, 2, 9], vec![1.0; 4])?];
    /// let coding = IndexCoding::fitted(training.iter(), 16, 12)?;
    /// let IndexCoding::Table { frequencies } = coding else { unreachable!() };
    /// assert_eq!(frequencies.len(), 17); // 16 gaps and the terminator
    /// assert!(frequencies[0] > frequencies[5]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fitted<'a>(
        latents: impl IntoIterator<Item = &'a SparseLatent>,
        latent_len: u32,
        precision: u32,
    ) -> Result<Self> {
        let mut gaps = Vec::new();
        for latent in latents {
            check_training_len(latent, latent_len)?;
            let mut next = 0;
            for &i in latent.indices() {
                gaps.push((i - next) as usize);
                next = i + 1;
            }
            gaps.push(latent_len as usize);
        }
        let table = sae_arith::Categorical::from_samples(gaps, latent_len as usize + 1, precision)?;
        Ok(Self::Table {
            frequencies: table.frequencies().collect(),
        })
    }

    /// Fixed-point precision of [`PerUnit`](Self::PerUnit) frequencies.
    pub const PER_UNIT_PRECISION: u32 = 16;

    /// A [`PerUnit`](Self::PerUnit) model fitted on training latents of length
    /// `latent_len`: each unit's firing rate, smoothed by half a count so that
    /// units never seen active stay codable.
    ///
    /// ```
    /// use sae_container::{IndexCoding, SparseLatent};
    ///
    /// let training = [
    ///     SparseLatent::new(4, vec![0, 2], vec![1.0; 2])?,
    ///     SparseLatent::new(4, vec![2], vec![1.0])?,
    /// ];
    /// let IndexCoding::PerUnit { frequencies } = IndexCoding::fitted_per_unit(training.iter(), 4)? else {
    ///     unreachable!()
    /// };
    /// // (count + 1/2) / (latents + 1) of 2^16: unit 2 fired twice, unit 1 never.
    /// assert_eq!(frequencies, [32768, 10923, 54613, 10923]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fitted_per_unit<'a>(
        latents: impl IntoIterator<Item = &'a SparseLatent>,
        latent_len: u32,
    ) -> Result<Self> {
        let mut counts = vec![0u64; latent_len as usize];
        let mut seen = 0u64;
        for latent in latents {
            check_training_len(latent, latent_len)?;
            for &i in latent.indices() {
                counts[i as usize] += 1;
            }
            seen += 1;
        }
        let total = f64::from(1u32 << Self::PER_UNIT_PRECISION);
        let frequencies = counts
            .iter()
            .map(|&c| {
                let p = (c as f64 + 0.5) / (seen as f64 + 1.0);
                ((p * total).round() as u32).clamp(1, (1 << Self::PER_UNIT_PRECISION) - 1)
            })
            .collect();
        Ok(Self::PerUnit { frequencies })
    }
}

/// Refuses a training latent of another length than the model's.
fn check_training_len(latent: &SparseLatent, latent_len: u32) -> Result<()> {
    if latent.len() != latent_len {
        return Err(ContainerError::InvalidInput {
            what: "training latent",
            reason: format!("length {} differs from {latent_len}", latent.len()),
        });
    }
    Ok(())
}

/// How the nonzero values are stored.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ValueCoding {
    /// Exact 32-bit floats.
    F32,
    /// IEEE half precision (relative error ≤ 2⁻¹¹ in the normal range).
    F16,
    /// bfloat16 (relative error ≤ 2⁻⁸).
    Bf16,
    /// `q = round(v / step)`, entropy coded; reconstruction `q · step`, error ≤ `step / 2`.
    Quantized {
        /// Quantisation step (finite, positive).
        step: f32,
        /// Model of the zigzag-mapped integers `0..alphabet-1`; the symbol
        /// `alphabet - 1` escapes to a raw 32-bit value.
        model: ValueModel,
    },
}

impl ValueModel {
    /// A table fitted on training `values` quantised with `step`, over
    /// `alphabet` symbols (the last one escapes), quantised to `2^precision`.
    pub fn fitted<'a>(
        values: impl IntoIterator<Item = &'a f32>,
        step: f32,
        alphabet: u32,
        precision: u32,
    ) -> Result<Self> {
        if alphabet < 2 {
            return Err(ContainerError::InvalidInput {
                what: "value model",
                reason: format!("alphabet of {alphabet} symbols leaves no room for the escape"),
            });
        }
        let escape = alphabet as usize - 1;
        let symbols = values.into_iter().map(|&v| {
            let q = (v / step).round();
            if q.is_finite() && q.abs() < (escape as f32) {
                (crate::record::zigzag(q as i32) as usize).min(escape)
            } else {
                escape
            }
        });
        let table = sae_arith::Categorical::from_samples(symbols, alphabet as usize, precision)?;
        Ok(Self::Table {
            frequencies: table.frequencies().collect(),
        })
    }
}

/// Entropy model for quantised values.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ValueModel {
    /// Counts learned within each record over `alphabet` symbols (the last one escapes).
    Adaptive {
        /// Number of symbols including the escape (2..=65 536).
        alphabet: u32,
    },
    /// A fixed frequency table; its last symbol escapes.
    Table {
        /// One frequency per symbol.
        frequencies: Vec<u32>,
    },
}

/// A transform applied to the data before the model saw it; decoders invert them in reverse order.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Transform {
    /// `y = ln(max(x, floor))`.
    Log {
        /// Values below are clamped to it (positive).
        floor: f64,
    },
    /// `y = log10(max(x, floor))`.
    Log10 {
        /// Values below are clamped to it (positive).
        floor: f64,
    },
    /// `y = x · scale + offset`.
    Affine {
        /// Multiplier (nonzero).
        scale: f64,
        /// Added after scaling.
        offset: f64,
    },
    /// `y = x / s` with a per-record `s` stored in the record's [`Extra::SCALE`](crate::Extra::SCALE).
    PerRecordScale,
}

/// Hash function of a model [`Fingerprint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
}

/// A cryptographic hash of the model weights that produced a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// The hash function.
    pub algorithm: HashAlgorithm,
    /// The digest.
    pub digest: [u8; 32],
}

/// Everything a reader needs to interpret the records, plus provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Shape of one original record (e.g. `[64, 64]`).
    pub record_shape: Vec<u64>,
    /// Element type of the original data.
    pub element_type: ElementType,
    /// Latent length `l`.
    pub latent_len: u32,
    /// How gaps between nonzero indices are coded.
    pub index_coding: IndexCoding,
    /// How nonzero values are stored.
    pub value_coding: ValueCoding,
    /// Transforms applied before the model, in order.
    pub transforms: Vec<Transform>,
    /// Hash of the model weights, if known.
    pub fingerprint: Option<Fingerprint>,
    /// Free-form model name.
    pub model_name: Option<String>,
    /// Free-form key/value metadata, in order.
    pub metadata: Vec<(String, String)>,
}

impl Header {
    /// A header with the reference codings (Gaussian gaps, f16 values) and no provenance.
    pub fn new(record_shape: Vec<u64>, element_type: ElementType, latent_len: u32) -> Self {
        Self {
            record_shape,
            element_type,
            latent_len,
            index_coding: IndexCoding::reference(),
            value_coding: ValueCoding::F16,
            transforms: Vec::new(),
            fingerprint: None,
            model_name: None,
            metadata: Vec::new(),
        }
    }

    /// Number of elements in one original record.
    pub fn record_elements(&self) -> u64 {
        self.record_shape.iter().product()
    }
}

/// Field tags. Bit 15 marks a *critical* field: a reader that does not know
/// it must refuse the file, because records cannot be interpreted without it.
pub(crate) mod tag {
    pub const CRITICAL: u16 = 0x8000;
    pub const RECORD_SHAPE: u16 = CRITICAL | 1;
    pub const LATENT_LEN: u16 = CRITICAL | 2;
    pub const INDEX_CODING: u16 = CRITICAL | 3;
    pub const VALUE_CODING: u16 = CRITICAL | 4;
    pub const TRANSFORMS: u16 = CRITICAL | 5;
    pub const FINGERPRINT: u16 = 6;
    pub const MODEL_NAME: u16 = 7;
    pub const METADATA: u16 = 8;
}

fn put_field(out: &mut Vec<u8>, tag: u16, payload: &[u8]) {
    out.put_u16(tag);
    out.put_u32(payload.len() as u32);
    out.extend_from_slice(payload);
}

fn put_frequencies(out: &mut Vec<u8>, frequencies: &[u32]) {
    out.put_varint(frequencies.len() as u64);
    for &f in frequencies {
        out.put_varint(u64::from(f));
    }
}

fn read_frequencies(r: &mut ByteReader<'_>) -> Result<Vec<u32>> {
    let n = r.count(1)?;
    (0..n)
        .map(|_| {
            let f = r.varint()?;
            u32::try_from(f).map_err(|_| r.malformed(format!("frequency {f} exceeds 32 bits")))
        })
        .collect()
}

impl Header {
    /// Checks the values a writer must not put in a file.
    pub(crate) fn validate(&self) -> Result<()> {
        let invalid = |reason: String| ContainerError::InvalidInput {
            what: "header",
            reason,
        };
        if self.latent_len == 0 || self.latent_len > MAX_LATENT_LEN {
            return Err(invalid(format!(
                "latent length {} outside 1..={MAX_LATENT_LEN}",
                self.latent_len
            )));
        }
        if self.record_shape.len() > 255 {
            return Err(invalid("record shape has more than 255 dimensions".into()));
        }
        if let ValueCoding::Quantized { step, .. } = self.value_coding
            && !(step.is_finite() && step > 0.0)
        {
            return Err(invalid(format!(
                "quantisation step {step} is not finite and positive"
            )));
        }
        for t in &self.transforms {
            let ok = match *t {
                Transform::Log { floor } | Transform::Log10 { floor } => floor.is_finite() && floor > 0.0,
                Transform::Affine { scale, offset } => {
                    scale.is_finite() && scale != 0.0 && offset.is_finite()
                }
                Transform::PerRecordScale => true,
            };
            if !ok {
                return Err(invalid(format!("transform {t:?} has invalid parameters")));
            }
        }
        Ok(())
    }

    /// Serialises the header fields (without magic, version, length or checksum).
    pub(crate) fn encode_fields(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut p = Vec::new();

        p.put_u8(self.element_type.code());
        p.put_u8(self.record_shape.len() as u8);
        for &d in &self.record_shape {
            p.put_u64(d);
        }
        put_field(&mut out, tag::RECORD_SHAPE, &p);

        p.clear();
        p.put_u32(self.latent_len);
        put_field(&mut out, tag::LATENT_LEN, &p);

        p.clear();
        match &self.index_coding {
            IndexCoding::Gaussian {
                sigma2,
                floor,
                precision,
            } => {
                p.put_u8(1);
                p.put_f64(*sigma2);
                p.put_f64(*floor);
                p.put_u8(*precision);
            }
            IndexCoding::Table { frequencies } => {
                p.put_u8(2);
                put_frequencies(&mut p, frequencies);
            }
            IndexCoding::Adaptive { increment } => {
                p.put_u8(3);
                p.put_u32(*increment);
            }
            IndexCoding::Uniform => p.put_u8(4),
            IndexCoding::PerUnit { frequencies } => {
                p.put_u8(5);
                put_frequencies(&mut p, frequencies);
            }
        }
        put_field(&mut out, tag::INDEX_CODING, &p);

        p.clear();
        match &self.value_coding {
            ValueCoding::F32 => p.put_u8(1),
            ValueCoding::F16 => p.put_u8(2),
            ValueCoding::Bf16 => p.put_u8(3),
            ValueCoding::Quantized { step, model } => {
                p.put_u8(4);
                p.put_f32(*step);
                match model {
                    ValueModel::Adaptive { alphabet } => {
                        p.put_u8(1);
                        p.put_u32(*alphabet);
                    }
                    ValueModel::Table { frequencies } => {
                        p.put_u8(2);
                        put_frequencies(&mut p, frequencies);
                    }
                }
            }
        }
        put_field(&mut out, tag::VALUE_CODING, &p);

        p.clear();
        p.put_varint(self.transforms.len() as u64);
        for t in &self.transforms {
            match *t {
                Transform::Log { floor } => {
                    p.put_u8(1);
                    p.put_f64(floor);
                }
                Transform::Log10 { floor } => {
                    p.put_u8(2);
                    p.put_f64(floor);
                }
                Transform::Affine { scale, offset } => {
                    p.put_u8(3);
                    p.put_f64(scale);
                    p.put_f64(offset);
                }
                Transform::PerRecordScale => p.put_u8(4),
            }
        }
        put_field(&mut out, tag::TRANSFORMS, &p);

        if let Some(fp) = &self.fingerprint {
            p.clear();
            p.put_u8(match fp.algorithm {
                HashAlgorithm::Sha256 => 1,
            });
            p.extend_from_slice(&fp.digest);
            put_field(&mut out, tag::FINGERPRINT, &p);
        }
        if let Some(name) = &self.model_name {
            put_field(&mut out, tag::MODEL_NAME, name.as_bytes());
        }
        if !self.metadata.is_empty() {
            p.clear();
            p.put_varint(self.metadata.len() as u64);
            for (k, v) in &self.metadata {
                p.put_blob(k.as_bytes());
                p.put_blob(v.as_bytes());
            }
            put_field(&mut out, tag::METADATA, &p);
        }
        out
    }

    /// Parses header fields; unknown non-critical fields are skipped.
    pub(crate) fn decode_fields(bytes: &[u8], base: u64) -> Result<Self> {
        let mut r = ByteReader::new(bytes, base, Section::Header);
        let mut shape = None;
        let mut latent_len = None;
        let mut index_coding = None;
        let mut value_coding = None;
        let mut transforms = None;
        let mut fingerprint = None;
        let mut model_name = None;
        let mut metadata = Vec::new();
        let mut seen = Vec::new();

        while !r.is_empty() {
            let field_tag = r.u16()?;
            let len = r.u32()? as usize;
            let payload_offset = r.offset();
            let payload = r.take(len)?;
            if seen.contains(&field_tag) {
                return Err(r.malformed(format!("header field {field_tag:#06x} appears twice")));
            }
            seen.push(field_tag);
            let mut f = ByteReader::new(payload, payload_offset, Section::Header);
            match field_tag {
                tag::RECORD_SHAPE => {
                    let code = f.u8()?;
                    let et = ElementType::from_code(code)
                        .ok_or_else(|| f.malformed(format!("unknown element type {code}")))?;
                    let ndims = f.u8()?;
                    let dims = (0..ndims).map(|_| f.u64()).collect::<Result<Vec<_>>>()?;
                    shape = Some((dims, et));
                }
                tag::LATENT_LEN => latent_len = Some(f.u32()?),
                tag::INDEX_CODING => {
                    index_coding = Some(match f.u8()? {
                        1 => IndexCoding::Gaussian {
                            sigma2: f.f64()?,
                            floor: f.f64()?,
                            precision: f.u8()?,
                        },
                        2 => IndexCoding::Table {
                            frequencies: read_frequencies(&mut f)?,
                        },
                        3 => IndexCoding::Adaptive { increment: f.u32()? },
                        4 => IndexCoding::Uniform,
                        5 => IndexCoding::PerUnit {
                            frequencies: read_frequencies(&mut f)?,
                        },
                        k => return Err(f.malformed(format!("unknown index coding {k}"))),
                    })
                }
                tag::VALUE_CODING => {
                    value_coding = Some(match f.u8()? {
                        1 => ValueCoding::F32,
                        2 => ValueCoding::F16,
                        3 => ValueCoding::Bf16,
                        4 => {
                            let step = f.f32()?;
                            let model = match f.u8()? {
                                1 => ValueModel::Adaptive { alphabet: f.u32()? },
                                2 => ValueModel::Table {
                                    frequencies: read_frequencies(&mut f)?,
                                },
                                k => return Err(f.malformed(format!("unknown value model {k}"))),
                            };
                            ValueCoding::Quantized { step, model }
                        }
                        k => return Err(f.malformed(format!("unknown value coding {k}"))),
                    })
                }
                tag::TRANSFORMS => {
                    let n = f.count(1)?;
                    let mut list = Vec::with_capacity(n);
                    for _ in 0..n {
                        list.push(match f.u8()? {
                            1 => Transform::Log { floor: f.f64()? },
                            2 => Transform::Log10 { floor: f.f64()? },
                            3 => Transform::Affine {
                                scale: f.f64()?,
                                offset: f.f64()?,
                            },
                            4 => Transform::PerRecordScale,
                            k => return Err(f.malformed(format!("unknown transform {k}"))),
                        });
                    }
                    transforms = Some(list);
                }
                tag::FINGERPRINT => {
                    let algorithm = match f.u8()? {
                        1 => HashAlgorithm::Sha256,
                        k => return Err(f.malformed(format!("unknown hash algorithm {k}"))),
                    };
                    let mut digest = [0u8; 32];
                    digest.copy_from_slice(f.take(32)?);
                    fingerprint = Some(Fingerprint { algorithm, digest });
                }
                tag::MODEL_NAME => {
                    model_name = Some(
                        String::from_utf8(payload.to_vec())
                            .map_err(|_| f.malformed("model name is not valid UTF-8"))?,
                    );
                    continue;
                }
                tag::METADATA => {
                    let n = f.count(2)?;
                    for _ in 0..n {
                        metadata.push((f.string()?, f.string()?));
                    }
                }
                unknown if unknown & tag::CRITICAL != 0 => {
                    return Err(ContainerError::UnknownCriticalField { tag: unknown });
                }
                // A future optional field: skip it.
                _ => continue,
            }
            if !f.is_empty() {
                return Err(f.malformed(format!(
                    "{} unexpected bytes at the end of header field {field_tag:#06x}",
                    f.remaining()
                )));
            }
        }

        let (record_shape, element_type) =
            shape.ok_or(ContainerError::MissingField { name: "record_shape" })?;
        let header = Self {
            record_shape,
            element_type,
            latent_len: latent_len.ok_or(ContainerError::MissingField { name: "latent_len" })?,
            index_coding: index_coding.ok_or(ContainerError::MissingField { name: "index_coding" })?,
            value_coding: value_coding.ok_or(ContainerError::MissingField { name: "value_coding" })?,
            transforms: transforms.unwrap_or_default(),
            fingerprint,
            model_name,
            metadata,
        };
        header.validate().map_err(|e| ContainerError::Malformed {
            section: Section::Header,
            offset: base,
            reason: e.to_string(),
        })?;
        Ok(header)
    }
}
