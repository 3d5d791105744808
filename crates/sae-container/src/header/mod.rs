//! The self-describing file header: what the records hold and how they are coded.
//!
//! This module holds the types and their invariants; `fit` builds coding
//! tables from training latents, `wire` reads and writes the bytes of
//! `docs/format.md` §3, and `describe` gives each coding a text form.

use crate::error::{ContainerError, Result};

mod describe;
mod fit;
mod wire;

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
    /// The reference model: `sae-arith`'s reference Gaussian
    /// ([`QuantizedGaussian::reference`](sae_arith::QuantizedGaussian::reference):
    /// σ² = 1000, c₀ = 1e-3, 24-bit precision).
    pub fn reference() -> Self {
        use sae_arith::QuantizedGaussian as G;
        Self::Gaussian {
            sigma2: G::DEFAULT_SIGMA2,
            floor: G::DEFAULT_FLOOR,
            precision: G::DEFAULT_PRECISION as u8,
        }
    }

    /// Fixed-point precision of [`PerUnit`](Self::PerUnit) frequencies.
    pub const PER_UNIT_PRECISION: u32 = 16;
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

impl ValueCoding {
    /// The value a reader gets back for `v` under this coding (rounded to
    /// f16 or bf16, or to the quantiser's grid), or `None` where the coding
    /// cannot store it (a writer refuses such a record).
    ///
    /// ```
    /// use sae_container::ValueCoding;
    ///
    /// assert_eq!(ValueCoding::F32.stored(0.1), Some(0.1));
    /// assert_eq!(ValueCoding::F16.stored(1e6), None);
    /// let q = ValueCoding::Quantized { step: 0.5, model: sae_container::ValueModel::Adaptive { alphabet: 256 } };
    /// assert_eq!(q.stored(1.2), Some(1.0));
    /// ```
    pub fn stored(&self, v: f32) -> Option<f32> {
        let stored = match self {
            Self::F32 => v,
            Self::F16 => half::f16::from_f32(v).to_f32(),
            Self::Bf16 => half::bf16::from_f32(v).to_f32(),
            Self::Quantized { step, .. } => dequantize(quantize(v, *step)?, *step),
        };
        stored.is_finite().then_some(stored)
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

impl Transform {
    /// Whether the parameters are in their domain: floors finite and
    /// positive, affine scale finite and nonzero, offset finite.
    pub fn is_valid(&self) -> bool {
        match *self {
            Self::Log { floor } | Self::Log10 { floor } => floor.is_finite() && floor > 0.0,
            Self::Affine { scale, offset } => scale.is_finite() && scale != 0.0 && offset.is_finite(),
            Self::PerRecordScale => true,
        }
    }
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
    /// The error bound every record meets (the guaranteed mode, since 1.2):
    /// records may then carry bounded-coder extras
    /// ([`Extra::RESIDUAL`](crate::Extra::RESIDUAL), [`Extra::BOUNDED`](crate::Extra::BOUNDED)).
    pub bound: Option<sae_bounded::ErrorBound>,
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
            bound: None,
        }
    }

    /// The lowest minor version that holds this header: 2 with an error
    /// bound (`docs/format.md` §10), else 1.
    pub fn minor_version(&self) -> u16 {
        if self.bound.is_some() { 2 } else { 1 }
    }

    /// Number of elements in one original record (saturating; a header read
    /// from a file or written to one has a product that fits).
    pub fn record_elements(&self) -> u64 {
        self.record_shape
            .iter()
            .try_fold(1u64, |count, &d| count.checked_mul(d))
            .unwrap_or(u64::MAX)
    }

    /// The complete header block as a container starts with it (magic,
    /// version, fields, checksum; `docs/format.md` §3). Model files store
    /// their coding settings in this form (`docs/model-file.md`).
    ///
    /// ```
    /// use sae_container::{ElementType, Header};
    ///
    /// let header = Header::new(vec![64, 64], ElementType::F32, 8192);
    /// let bytes = header.to_bytes()?;
    /// assert_eq!(Header::from_bytes(&bytes)?, header);
    /// # Ok::<(), sae_container::ContainerError>(())
    /// ```
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.validate()?;
        Ok(crate::framing::encode_header_block(self))
    }

    /// Parses a header block written by [`to_bytes`](Self::to_bytes) (or the
    /// first bytes of a container, if they are exactly its header block),
    /// with every check a container reader makes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut source = bytes;
        let (header, len) = crate::framing::read_header_block(&mut source)?;
        if len != bytes.len() as u64 {
            return Err(ContainerError::TrailingBytes {
                section: crate::error::Section::Header,
                offset: len,
                what: "header block",
                count: bytes.len() as u64 - len,
            });
        }
        Ok(header)
    }
}

impl Header {
    /// Checks that records can be written under this header: its values
    /// are valid and its coding tables build (a per-unit table of the
    /// latent's length with no zero, a value table with a codable escape,
    /// …). [`ContainerWriter::new`](crate::ContainerWriter::new) makes the
    /// same check; call this to refuse a template before any record exists.
    ///
    /// ```
    /// use sae_container::{ElementType, Header, IndexCoding};
    ///
    /// let mut h = Header::new(vec![4], ElementType::F32, 3);
    /// assert!(h.check_writable().is_ok());
    /// h.index_coding = IndexCoding::PerUnit { frequencies: vec![10, 20] }; // 2 units, not 3
    /// assert!(h.check_writable().is_err());
    /// ```
    pub fn check_writable(&self) -> Result<()> {
        self.validate()?;
        crate::record::RecordCodec::new(self).map(drop)
    }

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
        if self
            .record_shape
            .iter()
            .try_fold(1u64, |count, &d| count.checked_mul(d))
            .and_then(|count| count.checked_mul(self.element_type.size() as u64))
            .is_none()
        {
            return Err(invalid(format!(
                "record shape {:?} holds more bytes than 2^64",
                self.record_shape
            )));
        }
        if let ValueCoding::Quantized { step, .. } = self.value_coding
            && !(step.is_finite() && step > 0.0)
        {
            return Err(invalid(format!(
                "quantisation step {step} is not finite and positive"
            )));
        }
        for t in &self.transforms {
            if !t.is_valid() {
                return Err(invalid(format!("transform {t:?} has invalid parameters")));
            }
        }
        Ok(())
    }
}

/// The quantised integer of `v` under `step`, zigzag-mapped (0, −1, 1, −2, … ↦
/// 0, 1, 2, 3, …): `round(v / step)` in binary32, half away from zero. `None`
/// when it is not finite or its magnitude exceeds `2^30` (`i32::MAX / 2`).
///
/// The one definition both the table fitting and the value coder use.
pub(crate) fn quantize(v: f32, step: f32) -> Option<u32> {
    let q = (v / step).round();
    (q.is_finite() && q.abs() <= i32::MAX as f32 / 2.0).then(|| zigzag(q as i32))
}

/// The value a quantised, zigzag-mapped integer `z` stands for: `unzigzag(z) · step`.
pub(crate) fn dequantize(z: u32, step: f32) -> f32 {
    unzigzag(z) as f32 * step
}

/// Maps signed to unsigned so that small magnitudes get small codes: 0, -1, 1, -2, … → 0, 1, 2, 3, …
pub(crate) fn zigzag(q: i32) -> u32 {
    ((q << 1) ^ (q >> 31)) as u32
}

fn unzigzag(z: u32) -> i32 {
    ((z >> 1) as i32) ^ -((z & 1) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_round_trips() {
        for q in [0, 1, -1, 2, -2, 1000, -1000, i32::MAX / 2, i32::MIN / 2] {
            assert_eq!(unzigzag(zigzag(q)), q);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }

    #[test]
    fn quantize_rounds_half_away_and_refuses_what_it_cannot_hold() {
        assert_eq!(quantize(0.5, 1.0), Some(zigzag(1)));
        assert_eq!(quantize(-0.5, 1.0), Some(zigzag(-1)));
        assert_eq!(quantize(0.49, 1.0), Some(0));
        assert_eq!(quantize(f32::NAN, 1.0), None);
        assert_eq!(quantize(1e30, 1.0), None);
        assert_eq!(dequantize(zigzag(-3), 0.25), -0.75);
    }
}
