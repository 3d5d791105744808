//! The payload of one record: gap-coded indices, coded values, extras.

use half::{bf16, f16};
use sae_arith::{
    Adaptive, AdaptiveModel, Binary, Categorical, ProbabilityModel, QuantizedGaussian, RangeDecoder,
    RangeEncoder, Uniform,
};

use crate::error::{ContainerError, Result, Section};
use crate::header::{Header, IndexCoding, ValueCoding, ValueModel, dequantize, quantize};
use crate::latent::SparseLatent;
use crate::wire::{ByteReader, PutBytes, varint_len};

/// An optional, tagged section of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extra {
    /// What the bytes mean; see the associated constants.
    pub tag: u16,
    /// The bytes.
    pub data: Vec<u8>,
}

impl Extra {
    /// Per-record scale `s` (f64, little-endian), used by [`Transform::PerRecordScale`](crate::Transform::PerRecordScale).
    pub const SCALE: u16 = 1;
    /// The guaranteed mode's correction (since 1.2): a `sae-bounded` record of
    /// the original over the model's reconstruction of this record's latent.
    pub const RESIDUAL: u16 = 2;
    /// The guaranteed mode's direct coding (since 1.2): the whole record as a
    /// `sae-bounded` record with no base; the latent is then empty.
    pub const BOUNDED: u16 = 4;
    /// Per-record scale `s` as an f32 (little-endian), for scales it holds exactly (since 1.1).
    pub const SCALE_F32: u16 = 3;

    /// A per-record scale extra (f64).
    pub fn scale(s: f64) -> Self {
        Self {
            tag: Self::SCALE,
            data: s.to_le_bytes().to_vec(),
        }
    }

    /// A per-record scale extra in 4 bytes when `s` is exactly an f32, else in 8.
    ///
    /// ```
    /// use sae_container::Extra;
    ///
    /// assert_eq!(Extra::compact_scale(0.75).data.len(), 4);
    /// assert_eq!(Extra::compact_scale(0.1).data.len(), 8); // 0.1 is not an f32
    /// assert_eq!(Extra::compact_scale(0.1).as_scale(), Some(0.1));
    /// ```
    pub fn compact_scale(s: f64) -> Self {
        let narrow = s as f32;
        if f64::from(narrow) == s {
            Self {
                tag: Self::SCALE_F32,
                data: narrow.to_le_bytes().to_vec(),
            }
        } else {
            Self::scale(s)
        }
    }

    /// The scale, if this is a well-formed scale extra of either width.
    pub fn as_scale(&self) -> Option<f64> {
        match self.tag {
            Self::SCALE => Some(f64::from_le_bytes(self.data.as_slice().try_into().ok()?)),
            Self::SCALE_F32 => Some(f64::from(f32::from_le_bytes(
                self.data.as_slice().try_into().ok()?,
            ))),
            _ => None,
        }
    }
}

/// One decoded record: the latent and its extras.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The sparse latent.
    pub latent: SparseLatent,
    /// Optional per-record sections, in file order.
    pub extras: Vec<Extra>,
}

impl Record {
    /// The per-record scale, if the record carries one.
    pub fn scale(&self) -> Option<f64> {
        self.extras.iter().find_map(Extra::as_scale)
    }

    /// How the guaranteed mode coded this record: which of the three choices,
    /// with the bounded coder's bytes where it was used.
    pub fn choice(&self) -> Choice<'_> {
        for extra in &self.extras {
            match extra.tag {
                Extra::RESIDUAL => return Choice::Residual(&extra.data),
                Extra::BOUNDED => return Choice::Bounded(&extra.data),
                _ => {}
            }
        }
        Choice::Latent
    }
}

/// The guaranteed mode's choice for one record ([`Record::choice`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice<'a> {
    /// The latent alone: the model's reconstruction meets the bound.
    Latent,
    /// The latent and a bounded correction over its reconstruction.
    Residual(&'a [u8]),
    /// The record coded directly, without the model.
    Bounded(&'a [u8]),
}

impl Choice<'_> {
    /// The choice's name, as reports print it: `latent`, `residual` or `direct`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Latent => "latent",
            Self::Residual(_) => "residual",
            Self::Bounded(_) => "direct",
        }
    }
}

/// A record carries at most one bounded-coder extra (tag 2 or 4), only in a
/// file with an error bound; with tag 4 its latent is empty.
fn check_choice(extras: &[Extra], bounded_file: bool, nnz: usize) -> Result<(), &'static str> {
    let mut tags = extras
        .iter()
        .map(|e| e.tag)
        .filter(|&t| t == Extra::RESIDUAL || t == Extra::BOUNDED);
    match (tags.next(), tags.next()) {
        (None, _) => Ok(()),
        (Some(_), Some(_)) => Err("a record carries at most one bounded-coder extra"),
        (Some(_), None) if !bounded_file => Err("a bounded-coder extra in a file without an error bound"),
        (Some(Extra::BOUNDED), None) if nnz > 0 => Err("a directly coded record must have an empty latent"),
        (Some(_), None) => Ok(()),
    }
}

/// Bytes one record spends on each part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RecordSizes {
    /// Length prefix, checksum and section lengths.
    pub framing: u64,
    /// Arithmetic-coded gaps and terminator.
    pub indices: u64,
    /// Coded nonzero values.
    pub values: u64,
    /// Extras, including their tags and lengths.
    pub extras: u64,
}

impl RecordSizes {
    /// All bytes of the record.
    pub fn total(&self) -> u64 {
        self.framing + self.indices + self.values + self.extras
    }

    pub(crate) fn add(&mut self, other: &Self) {
        self.framing += other.framing;
        self.indices += other.indices;
        self.values += other.values;
        self.extras += other.extras;
    }
}

/// How a record's indices are coded, built once per file.
#[derive(Debug, Clone)]
enum IndexModel {
    /// Gaps and a terminator under one model.
    Gaps(EntropyModel),
    /// One decision per unit under its own probability.
    PerUnit(Vec<Binary>),
}

impl IndexModel {
    /// The index model a header names, for latents of length `l`: gaps
    /// (`0..l`) and the terminator (`l`) under one model, or one decision per unit.
    fn new(coding: &IndexCoding, l: u32) -> Result<Self> {
        let alphabet = l as usize + 1;
        let gaps = match coding {
            IndexCoding::PerUnit { frequencies } => {
                if frequencies.len() != l as usize {
                    return Err(ContainerError::TableLength {
                        what: "per-unit table",
                        expected: u64::from(l),
                        found: frequencies.len() as u64,
                    });
                }
                let units = frequencies
                    .iter()
                    .map(|&f| Binary::new(f, IndexCoding::PER_UNIT_PRECISION))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| header_error(format!("per-unit table: {e}")))?;
                return Ok(Self::PerUnit(units));
            }
            IndexCoding::Gaussian {
                sigma2,
                floor,
                precision,
            } => EntropyModel::Static(
                QuantizedGaussian::new(*sigma2, *floor, l as usize - 1, u32::from(*precision))?
                    .as_categorical()
                    .clone(),
            ),
            IndexCoding::Table { frequencies } => {
                if frequencies.len() != alphabet {
                    return Err(ContainerError::TableLength {
                        what: "gap table",
                        expected: alphabet as u64,
                        found: frequencies.len() as u64,
                    });
                }
                EntropyModel::Static(Categorical::from_frequencies(frequencies)?)
            }
            IndexCoding::Adaptive { increment } => {
                if !(1..=MAX_ADAPTIVE_INCREMENT).contains(increment) {
                    return Err(header_error(format!(
                        "adaptive increment {increment} outside 1..=65536"
                    )));
                }
                EntropyModel::Adaptive(adaptive(alphabet, *increment)?)
            }
            IndexCoding::Uniform => EntropyModel::Uniform(Uniform::new(alphabet)?),
        };
        Ok(Self::Gaps(gaps))
    }
}

/// A model a header describes, built once per file.
#[derive(Debug, Clone)]
enum EntropyModel {
    Static(Categorical),
    Uniform(Uniform),
    /// The initial state; each record starts from a fresh copy.
    Adaptive(Adaptive),
}

impl EntropyModel {
    /// The coding state for one record.
    fn start(&self) -> ModelState<'_> {
        match self {
            Self::Static(m) => ModelState::Shared(m),
            Self::Uniform(m) => ModelState::Shared(m),
            Self::Adaptive(m) => ModelState::Own(m.clone()),
        }
    }

    fn alphabet_size(&self) -> usize {
        match self {
            Self::Static(m) => m.alphabet_size(),
            Self::Uniform(m) => m.alphabet_size(),
            Self::Adaptive(m) => m.current().alphabet_size(),
        }
    }
}

/// A model while one record is coded: static models are shared, adaptive ones owned.
enum ModelState<'a> {
    Shared(&'a dyn ProbabilityModel),
    Own(Adaptive),
}

impl ModelState<'_> {
    fn encode(&mut self, encoder: &mut RangeEncoder, symbol: usize) -> Result<(), sae_arith::EncodeError> {
        match self {
            Self::Shared(m) => encoder.encode(symbol, *m),
            Self::Own(m) => encoder.encode_adaptive(symbol, m),
        }
    }

    fn decode(&mut self, decoder: &mut RangeDecoder<'_>) -> Result<usize, sae_arith::DecodeError> {
        match self {
            Self::Shared(m) => decoder.decode(*m),
            Self::Own(m) => decoder.decode_adaptive(m),
        }
    }
}

/// Count added per coded symbol by the adaptive models.
const ADAPTIVE_VALUE_INCREMENT: u32 = 24;
/// Largest increment an adaptive gap model may use.
const MAX_ADAPTIVE_INCREMENT: u32 = 1 << 16;
/// Escaped values are coded as two 16-bit halves.
const HALF_WORD: usize = 1 << 16;

fn adaptive(alphabet: usize, increment: u32) -> Result<Adaptive> {
    let max_total = ((alphabet as u64 + u64::from(increment)) * 8)
        .next_power_of_two()
        .clamp(1 << 16, u64::from(sae_arith::MAX_TOTAL)) as u32;
    Ok(Adaptive::with_params(alphabet, increment, max_total)?)
}

/// Codes record payloads as a header prescribes; built once per file.
#[derive(Debug, Clone)]
pub(crate) struct RecordCodec {
    latent_len: u32,
    /// Whether the file has an error bound (bounded-coder extras allowed).
    bounded: bool,
    indices: IndexModel,
    value_coding: ValueCoding,
    /// The model of quantised values, when values are quantised.
    values: Option<EntropyModel>,
    half_word: Uniform,
}

impl RecordCodec {
    /// Every check of [`new`](Self::new), without building a Gaussian gap
    /// table (its parameters are checked; its `l + 1` entries are built
    /// when a record is decoded), so that it costs the header's bytes.
    pub(crate) fn check(header: &Header) -> Result<()> {
        match header.index_coding {
            IndexCoding::Gaussian {
                sigma2,
                floor,
                precision,
            } => {
                QuantizedGaussian::check(
                    sigma2,
                    floor,
                    (header.latent_len as usize).saturating_sub(1),
                    u32::from(precision),
                )?;
                let mut without = header.clone();
                without.index_coding = IndexCoding::Uniform;
                Self::new(&without).map(drop)
            }
            _ => Self::new(header).map(drop),
        }
    }

    pub(crate) fn new(header: &Header) -> Result<Self> {
        let l = header.latent_len;
        let indices = IndexModel::new(&header.index_coding, l)?;
        let values = match &header.value_coding {
            ValueCoding::Quantized { model, .. } => Some(match model {
                ValueModel::Adaptive { alphabet } => {
                    if !(2..=HALF_WORD as u32).contains(alphabet) {
                        return Err(header_error(format!(
                            "value alphabet {alphabet} outside 2..=65536"
                        )));
                    }
                    EntropyModel::Adaptive(adaptive(*alphabet as usize, ADAPTIVE_VALUE_INCREMENT)?)
                }
                ValueModel::Table { frequencies } => {
                    if frequencies.len() < 2 || frequencies.last() == Some(&0) {
                        return Err(header_error(
                            "value table needs at least two symbols and a codable escape".into(),
                        ));
                    }
                    EntropyModel::Static(Categorical::from_frequencies(frequencies)?)
                }
            }),
            _ => None,
        };
        Ok(Self {
            latent_len: l,
            bounded: header.bound.is_some(),
            indices,
            value_coding: header.value_coding.clone(),
            values,
            half_word: Uniform::new(HALF_WORD)?,
        })
    }

    /// Encodes a record payload and reports its sizes (framing excludes the outer length and checksum).
    pub(crate) fn encode(&self, latent: &SparseLatent, extras: &[Extra]) -> Result<(Vec<u8>, RecordSizes)> {
        if latent.len() != self.latent_len {
            return Err(ContainerError::InvalidInput {
                what: "sparse latent",
                reason: format!(
                    "length {} differs from the container's latent length {}",
                    latent.len(),
                    self.latent_len
                ),
            });
        }
        check_scales(extras)
            .and_then(|()| check_choice(extras, self.bounded, latent.nnz()))
            .map_err(|reason| ContainerError::InvalidInput {
                what: "record extras",
                reason: reason.into(),
            })?;
        // A direct record's (empty) latent takes no bytes at all (§4.1).
        let direct = extras.iter().any(|e| e.tag == Extra::BOUNDED);
        let (indices, values) = if direct {
            (Vec::new(), Vec::new())
        } else {
            (self.encode_indices(latent)?, self.encode_values(latent)?)
        };
        let mut out = Vec::with_capacity(indices.len() + values.len() + 16);
        out.put_blob(&indices);
        out.put_blob(&values);
        out.put_varint(extras.len() as u64);
        let mut extras_bytes = varint_len(extras.len() as u64) as u64;
        for extra in extras {
            out.put_u16(extra.tag);
            out.put_blob(&extra.data);
            extras_bytes += 2 + varint_len(extra.data.len() as u64) as u64 + extra.data.len() as u64;
        }
        let sizes = RecordSizes {
            framing: (varint_len(indices.len() as u64) + varint_len(values.len() as u64)) as u64,
            indices: indices.len() as u64,
            values: values.len() as u64,
            extras: extras_bytes,
        };
        Ok((out, sizes))
    }

    fn encode_indices(&self, latent: &SparseLatent) -> Result<Vec<u8>> {
        let mut encoder = RangeEncoder::new();
        match &self.indices {
            IndexModel::Gaps(gaps) => {
                let mut model = gaps.start();
                let mut next = 0u32;
                for &index in latent.indices() {
                    model.encode(&mut encoder, (index - next) as usize)?;
                    next = index + 1;
                }
                model.encode(&mut encoder, self.latent_len as usize)?;
            }
            IndexModel::PerUnit(units) => {
                let mut active = latent.indices().iter().peekable();
                for (unit, model) in units.iter().enumerate() {
                    let is_active = active.next_if(|&&i| i as usize == unit).is_some();
                    encoder.encode(usize::from(is_active), model)?;
                }
            }
        }
        Ok(encoder.finish())
    }

    fn encode_values(&self, latent: &SparseLatent) -> Result<Vec<u8>> {
        let values = latent.values();
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(values.len() * 4);
        let unstorable = |v: f32, format: &str| ContainerError::InvalidInput {
            what: "latent value",
            reason: if v.is_finite() {
                format!(
                    "{v} is beyond the range of {format} values: store values as f32 (or bf16, to about \
                     3.4e38), or normalise the records (the per-record scale transform)"
                )
            } else {
                format!("{v} is not finite")
            },
        };
        match &self.value_coding {
            ValueCoding::F32 => {
                for &v in values {
                    if !v.is_finite() {
                        return Err(unstorable(v, "f32"));
                    }
                    out.put_f32(v);
                }
            }
            ValueCoding::F16 => {
                for &v in values {
                    let h = f16::from_f32(v);
                    if !h.is_finite() {
                        return Err(unstorable(v, "f16 (largest 65504)"));
                    }
                    out.put_u16(h.to_bits());
                }
            }
            ValueCoding::Bf16 => {
                for &v in values {
                    let h = bf16::from_f32(v);
                    if !h.is_finite() {
                        return Err(unstorable(v, "bf16"));
                    }
                    out.put_u16(h.to_bits());
                }
            }
            ValueCoding::Quantized { step, .. } => {
                let mut encoder = RangeEncoder::with_buffer(out);
                let value_model = self.values.as_ref().expect("quantised coding has a value model");
                let escape = value_model.alphabet_size() - 1;
                let mut model = value_model.start();
                for &v in values {
                    let z = quantize(v, *step)
                        .filter(|&z| dequantize(z, *step).is_finite())
                        .ok_or_else(|| ContainerError::InvalidInput {
                            what: "latent value",
                            reason: format!("{v} cannot be quantised with step {step}"),
                        })?;
                    let symbol = (z as usize).min(escape);
                    model.encode(&mut encoder, symbol)?;
                    if symbol == escape {
                        encoder.encode((z >> 16) as usize, &self.half_word)?;
                        encoder.encode((z & 0xffff) as usize, &self.half_word)?;
                    }
                }
                out = encoder.finish();
            }
        }
        Ok(out)
    }

    /// Decodes a record payload; `offset` and `index` locate it for errors.
    pub(crate) fn decode(&self, payload: &[u8], offset: u64, index: u64) -> Result<(Record, RecordSizes)> {
        let section = Section::Record { index };
        let parsed = parse(payload, offset, index)?;
        let direct = self.bounded && parsed.extras.iter().any(|e| e.tag == Extra::BOUNDED);
        let (indices, values) = if direct {
            // A direct record's latent is empty and takes no bytes (§4.1).
            if !parsed.index_bytes.is_empty() || !parsed.value_bytes.is_empty() {
                return Err(ContainerError::Malformed {
                    section,
                    offset,
                    reason: "a directly coded record must have empty index and value streams".into(),
                });
            }
            (Vec::new(), Vec::new())
        } else {
            let indices = self.decode_indices(parsed.index_bytes, parsed.index_offset, section)?;
            let values =
                self.decode_values(parsed.value_bytes, indices.len(), parsed.value_offset, section)?;
            (indices, values)
        };
        if let Some(position) = values.iter().position(|v| !v.is_finite()) {
            return Err(ContainerError::NonFiniteValue {
                section,
                offset: parsed.value_offset,
                position: position as u64,
            });
        }
        let latent =
            SparseLatent::new(self.latent_len, indices, values).map_err(|e| ContainerError::Malformed {
                section,
                offset,
                reason: e.to_string(),
            })?;
        check_choice(&parsed.extras, self.bounded, latent.nnz()).map_err(|reason| {
            ContainerError::Malformed {
                section,
                offset,
                reason: reason.into(),
            }
        })?;
        Ok((
            Record {
                latent,
                extras: parsed.extras,
            },
            parsed.sizes,
        ))
    }

    fn decode_indices(&self, bytes: &[u8], offset: u64, section: Section) -> Result<Vec<u32>> {
        let bad = |reason: String| ContainerError::Malformed {
            section,
            offset,
            reason,
        };
        let coder = |e: sae_arith::DecodeError| bad(format!("index stream: {e}"));
        let mut decoder = RangeDecoder::new(bytes).map_err(coder)?;
        let mut indices = Vec::new();
        match &self.indices {
            IndexModel::Gaps(gaps) => {
                let mut model = gaps.start();
                let terminator = self.latent_len as usize;
                let mut next = 0u64;
                loop {
                    let gap = model.decode(&mut decoder).map_err(coder)?;
                    if gap == terminator {
                        break;
                    }
                    let index = next + gap as u64;
                    if index >= u64::from(self.latent_len) {
                        return Err(bad(format!(
                            "index {index} beyond the latent length {}",
                            self.latent_len
                        )));
                    }
                    indices.push(index as u32);
                    next = index + 1;
                }
            }
            IndexModel::PerUnit(units) => {
                for (unit, model) in units.iter().enumerate() {
                    if decoder.decode(model).map_err(coder)? == 1 {
                        indices.push(unit as u32);
                    }
                }
            }
        }
        let end = decoder.finish().map_err(coder)?;
        if end != bytes.len() {
            return Err(bad(format!(
                "index stream ends after {end} of its {} bytes",
                bytes.len()
            )));
        }
        Ok(indices)
    }

    fn decode_values(&self, bytes: &[u8], nnz: usize, offset: u64, section: Section) -> Result<Vec<f32>> {
        let bad = |reason: String| ContainerError::Malformed {
            section,
            offset,
            reason,
        };
        if nnz == 0 {
            if !bytes.is_empty() {
                return Err(bad(format!("{} value bytes for an empty latent", bytes.len())));
            }
            return Ok(Vec::new());
        }
        let fixed = |width: usize| {
            if bytes.len() != nnz * width {
                return Err(bad(format!(
                    "{} value bytes for {nnz} values of {width} bytes",
                    bytes.len()
                )));
            }
            Ok(bytes.chunks_exact(width))
        };
        let halves = |c: &[u8]| u16::from_le_bytes([c[0], c[1]]);
        Ok(match &self.value_coding {
            ValueCoding::F32 => fixed(4)?
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            ValueCoding::F16 => fixed(2)?.map(|c| f16::from_bits(halves(c)).to_f32()).collect(),
            ValueCoding::Bf16 => fixed(2)?.map(|c| bf16::from_bits(halves(c)).to_f32()).collect(),
            ValueCoding::Quantized { step, .. } => {
                let coder = |e: sae_arith::DecodeError| bad(format!("value stream: {e}"));
                let mut decoder = RangeDecoder::new(bytes).map_err(coder)?;
                let value_model = self.values.as_ref().expect("quantised coding has a value model");
                let escape = value_model.alphabet_size() - 1;
                let mut model = value_model.start();
                let mut values = Vec::with_capacity(nnz);
                for _ in 0..nnz {
                    let symbol = model.decode(&mut decoder).map_err(coder)?;
                    let z = if symbol == escape {
                        let high = decoder.decode(&self.half_word).map_err(coder)? as u32;
                        let low = decoder.decode(&self.half_word).map_err(coder)? as u32;
                        (high << 16) | low
                    } else {
                        symbol as u32
                    };
                    values.push(dequantize(z, *step));
                }
                let end = decoder.finish().map_err(coder)?;
                if end != bytes.len() {
                    return Err(bad(format!(
                        "value stream ends after {end} of its {} bytes",
                        bytes.len()
                    )));
                }
                values
            }
        })
    }
}

/// A record carries at most one scale extra (tag 1 or 3), of its exact
/// width, holding a finite, positive number.
fn check_scales(extras: &[Extra]) -> Result<(), &'static str> {
    let mut scales = 0;
    for extra in extras {
        let width = match extra.tag {
            Extra::SCALE => 8,
            Extra::SCALE_F32 => 4,
            _ => continue,
        };
        if extra.data.len() != width {
            return Err("a scale extra must hold exactly 8 (tag 1) or 4 (tag 3) bytes");
        }
        match extra.as_scale() {
            Some(s) if s.is_finite() && s > 0.0 => {}
            _ => return Err("a per-record scale must be finite and positive"),
        }
        scales += 1;
    }
    if scales > 1 {
        return Err("a record carries at most one scale extra");
    }
    Ok(())
}

fn header_error(reason: String) -> ContainerError {
    ContainerError::Malformed {
        section: Section::Header,
        offset: 0,
        reason,
    }
}

/// A record payload split into its sections, the entropy-coded streams not
/// yet decoded.
pub(crate) struct Parsed<'a> {
    pub(crate) index_bytes: &'a [u8],
    pub(crate) index_offset: u64,
    pub(crate) value_bytes: &'a [u8],
    pub(crate) value_offset: u64,
    pub(crate) extras: Vec<Extra>,
    pub(crate) sizes: RecordSizes,
}

/// Splits a record payload into its sections and checks its structure and
/// extras (§4), without decoding the index and value streams: its cost is
/// the payload's length.
pub(crate) fn parse(payload: &[u8], offset: u64, index: u64) -> Result<Parsed<'_>> {
    let section = Section::Record { index };
    let mut r = ByteReader::new(payload, offset, section);
    let index_bytes = r.blob()?;
    let index_offset = r.offset() - index_bytes.len() as u64;
    let value_bytes = r.blob()?;
    let value_offset = r.offset() - value_bytes.len() as u64;
    let n_extras = r.count(3)?;
    let mut extras = Vec::with_capacity(n_extras);
    let extras_start = r.remaining();
    let extras_count_len = varint_len(n_extras as u64) as u64;
    for _ in 0..n_extras {
        let tag = r.u16()?;
        let data = r.blob()?.to_vec();
        extras.push(Extra { tag, data });
    }
    if !r.is_empty() {
        return Err(ContainerError::TrailingBytes {
            section,
            offset: r.offset(),
            what: "extras",
            count: r.remaining() as u64,
        });
    }
    check_scales(&extras).map_err(|reason| ContainerError::BadScale {
        section,
        offset,
        reason,
    })?;
    let sizes = RecordSizes {
        framing: (varint_len(index_bytes.len() as u64) + varint_len(value_bytes.len() as u64)) as u64,
        indices: index_bytes.len() as u64,
        values: value_bytes.len() as u64,
        extras: extras_count_len + extras_start as u64,
    };
    Ok(Parsed {
        index_bytes,
        index_offset,
        value_bytes,
        value_offset,
        extras,
        sizes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_carries_at_most_one_scale_of_its_exact_width() {
        let header = Header::new(vec![4], crate::ElementType::F32, 8);
        let codec = RecordCodec::new(&header).unwrap();
        let latent = SparseLatent::new(8, vec![2], vec![1.0]).unwrap();
        // The writer refuses two scales.
        let two = [Extra::scale(2.0), Extra::compact_scale(0.5)];
        assert!(matches!(
            codec.encode(&latent, &two),
            Err(ContainerError::InvalidInput { .. })
        ));
        // A forged payload with two scales, or a scale of the wrong width, is refused on reading.
        let other = Extra {
            tag: 0x7777,
            data: 0.5f32.to_le_bytes().to_vec(),
        };
        let (mut payload, _) = codec.encode(&latent, &[Extra::scale(2.0), other]).unwrap();
        let at = payload.windows(2).rposition(|w| w == [0x77, 0x77]).unwrap();
        payload[at..at + 2].copy_from_slice(&Extra::SCALE_F32.to_le_bytes());
        assert!(matches!(
            codec.decode(&payload, 0, 0),
            Err(ContainerError::BadScale { .. })
        ));
        payload[at..at + 2].copy_from_slice(&Extra::SCALE.to_le_bytes());
        assert!(matches!(
            codec.decode(&payload, 0, 0),
            Err(ContainerError::BadScale { .. })
        ));
    }

    #[test]
    fn scale_extra() {
        assert_eq!(Extra::scale(2.5).as_scale(), Some(2.5));
        assert_eq!(Extra::compact_scale(2.5).tag, Extra::SCALE_F32);
        assert_eq!(Extra::compact_scale(2.5).as_scale(), Some(2.5));
        assert_eq!(Extra::compact_scale(1e300).tag, Extra::SCALE);
        assert_eq!(
            Extra {
                tag: Extra::SCALE_F32,
                data: vec![0; 8]
            }
            .as_scale(),
            None
        );
        assert_eq!(
            Extra {
                tag: Extra::SCALE,
                data: vec![1]
            }
            .as_scale(),
            None
        );
    }
}
