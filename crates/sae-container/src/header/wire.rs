//! The header's bytes (`docs/format.md` §3): field tags, kind codes, and one
//! write/read pair per field, side by side, so that each code is named once
//! and both directions can be checked against each other at a glance.

use super::{
    ElementType, Fingerprint, HashAlgorithm, Header, IndexCoding, Transform, ValueCoding, ValueModel,
};
use sae_bounded::ErrorBound;

use crate::error::{ContainerError, Result, Section};
use crate::wire::{ByteReader, PutBytes};

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
    pub const BOUND: u16 = CRITICAL | 9;
}

/// Element type codes (§3).
mod element {
    pub const F32: u8 = 1;
    pub const F64: u8 = 2;
    pub const U16: u8 = 3;
    pub const U32: u8 = 4;
    pub const I32: u8 = 5;
    pub const U8: u8 = 6;
}

fn write_element_type(p: &mut Vec<u8>, t: ElementType) {
    p.put_u8(match t {
        ElementType::F32 => element::F32,
        ElementType::F64 => element::F64,
        ElementType::U16 => element::U16,
        ElementType::U32 => element::U32,
        ElementType::I32 => element::I32,
        ElementType::U8 => element::U8,
    });
}

fn read_element_type(f: &mut ByteReader<'_>) -> Result<ElementType> {
    Ok(match f.u8()? {
        element::F32 => ElementType::F32,
        element::F64 => ElementType::F64,
        element::U16 => ElementType::U16,
        element::U32 => ElementType::U32,
        element::I32 => ElementType::I32,
        element::U8 => ElementType::U8,
        k => return Err(f.unknown_kind("element type", k)),
    })
}

/// Index coding kinds (§3.1).
mod index {
    pub const GAUSSIAN: u8 = 1;
    pub const TABLE: u8 = 2;
    pub const ADAPTIVE: u8 = 3;
    pub const UNIFORM: u8 = 4;
    pub const PER_UNIT: u8 = 5;
}

fn write_index_coding(p: &mut Vec<u8>, coding: &IndexCoding) {
    match coding {
        IndexCoding::Gaussian {
            sigma2,
            floor,
            precision,
        } => {
            p.put_u8(index::GAUSSIAN);
            p.put_f64(*sigma2);
            p.put_f64(*floor);
            p.put_u8(*precision);
        }
        IndexCoding::Table { frequencies } => {
            p.put_u8(index::TABLE);
            write_frequencies(p, frequencies);
        }
        IndexCoding::Adaptive { increment } => {
            p.put_u8(index::ADAPTIVE);
            p.put_u32(*increment);
        }
        IndexCoding::Uniform => p.put_u8(index::UNIFORM),
        IndexCoding::PerUnit { frequencies } => {
            p.put_u8(index::PER_UNIT);
            write_frequencies(p, frequencies);
        }
    }
}

fn read_index_coding(f: &mut ByteReader<'_>) -> Result<IndexCoding> {
    Ok(match f.u8()? {
        index::GAUSSIAN => IndexCoding::Gaussian {
            sigma2: f.f64()?,
            floor: f.f64()?,
            precision: f.u8()?,
        },
        index::TABLE => IndexCoding::Table {
            frequencies: read_frequencies(f)?,
        },
        index::ADAPTIVE => IndexCoding::Adaptive { increment: f.u32()? },
        index::UNIFORM => IndexCoding::Uniform,
        index::PER_UNIT => IndexCoding::PerUnit {
            frequencies: read_frequencies(f)?,
        },
        k => return Err(f.unknown_kind("index coding", k)),
    })
}

/// Value coding kinds and value model kinds (§3.2).
mod value {
    pub const F32: u8 = 1;
    pub const F16: u8 = 2;
    pub const BF16: u8 = 3;
    pub const QUANTIZED: u8 = 4;
    pub const MODEL_ADAPTIVE: u8 = 1;
    pub const MODEL_TABLE: u8 = 2;
}

fn write_value_coding(p: &mut Vec<u8>, coding: &ValueCoding) {
    match coding {
        ValueCoding::F32 => p.put_u8(value::F32),
        ValueCoding::F16 => p.put_u8(value::F16),
        ValueCoding::Bf16 => p.put_u8(value::BF16),
        ValueCoding::Quantized { step, model } => {
            p.put_u8(value::QUANTIZED);
            p.put_f32(*step);
            match model {
                ValueModel::Adaptive { alphabet } => {
                    p.put_u8(value::MODEL_ADAPTIVE);
                    p.put_u32(*alphabet);
                }
                ValueModel::Table { frequencies } => {
                    p.put_u8(value::MODEL_TABLE);
                    write_frequencies(p, frequencies);
                }
            }
        }
    }
}

fn read_value_coding(f: &mut ByteReader<'_>) -> Result<ValueCoding> {
    Ok(match f.u8()? {
        value::F32 => ValueCoding::F32,
        value::F16 => ValueCoding::F16,
        value::BF16 => ValueCoding::Bf16,
        value::QUANTIZED => {
            let step = f.f32()?;
            let model = match f.u8()? {
                value::MODEL_ADAPTIVE => ValueModel::Adaptive { alphabet: f.u32()? },
                value::MODEL_TABLE => ValueModel::Table {
                    frequencies: read_frequencies(f)?,
                },
                k => return Err(f.unknown_kind("value model", k)),
            };
            ValueCoding::Quantized { step, model }
        }
        k => return Err(f.unknown_kind("value coding", k)),
    })
}

/// Transform kinds (§3.3).
mod transform {
    pub const LOG: u8 = 1;
    pub const LOG10: u8 = 2;
    pub const AFFINE: u8 = 3;
    pub const PER_RECORD_SCALE: u8 = 4;
}

fn write_transform(p: &mut Vec<u8>, t: &Transform) {
    match *t {
        Transform::Log { floor } => {
            p.put_u8(transform::LOG);
            p.put_f64(floor);
        }
        Transform::Log10 { floor } => {
            p.put_u8(transform::LOG10);
            p.put_f64(floor);
        }
        Transform::Affine { scale, offset } => {
            p.put_u8(transform::AFFINE);
            p.put_f64(scale);
            p.put_f64(offset);
        }
        Transform::PerRecordScale => p.put_u8(transform::PER_RECORD_SCALE),
    }
}

fn read_transform(f: &mut ByteReader<'_>) -> Result<Transform> {
    Ok(match f.u8()? {
        transform::LOG => Transform::Log { floor: f.f64()? },
        transform::LOG10 => Transform::Log10 { floor: f.f64()? },
        transform::AFFINE => Transform::Affine {
            scale: f.f64()?,
            offset: f.f64()?,
        },
        transform::PER_RECORD_SCALE => Transform::PerRecordScale,
        k => return Err(f.unknown_kind("transform", k)),
    })
}

/// Hash algorithm codes of the fingerprint field.
mod hash {
    pub const SHA256: u8 = 1;
}

fn write_fingerprint(p: &mut Vec<u8>, fp: &Fingerprint) {
    p.put_u8(match fp.algorithm {
        HashAlgorithm::Sha256 => hash::SHA256,
    });
    p.extend_from_slice(&fp.digest);
}

/// The fingerprint, or `None` for a hash algorithm this reader does not know:
/// the field is not critical, so such a file reads as one without a fingerprint.
fn read_fingerprint(f: &mut ByteReader<'_>) -> Result<Option<Fingerprint>> {
    let algorithm = match f.u8()? {
        hash::SHA256 => HashAlgorithm::Sha256,
        _ => {
            f.take(f.remaining())?;
            return Ok(None);
        }
    };
    let mut digest = [0u8; 32];
    digest.copy_from_slice(f.take(32)?);
    Ok(Some(Fingerprint { algorithm, digest }))
}

/// Bound kinds of the error-bound field (§3.5).
mod bound_kind {
    pub const L2: u8 = 1;
    pub const ABS: u8 = 2;
    pub const REL: u8 = 3;
}

fn write_bound(p: &mut Vec<u8>, bound: &ErrorBound) {
    let (kind, e) = match *bound {
        ErrorBound::L2(e) => (bound_kind::L2, e),
        ErrorBound::Abs(e) => (bound_kind::ABS, e),
        ErrorBound::Rel(e) => (bound_kind::REL, e),
    };
    p.push(kind);
    p.extend_from_slice(&e.to_le_bytes());
}

fn read_bound(f: &mut ByteReader<'_>) -> Result<ErrorBound> {
    let kind = f.u8()?;
    let e = f.f64()?;
    if !(e.is_finite() && e > 0.0) {
        return Err(f.malformed(format!("error bound {e} is not finite and positive")));
    }
    match kind {
        bound_kind::L2 => Ok(ErrorBound::L2(e)),
        bound_kind::ABS => Ok(ErrorBound::Abs(e)),
        bound_kind::REL => Ok(ErrorBound::Rel(e)),
        k => Err(f.unknown_kind("error bound", k)),
    }
}

fn write_frequencies(p: &mut Vec<u8>, frequencies: &[u32]) {
    p.put_varint(frequencies.len() as u64);
    for &f in frequencies {
        p.put_varint(u64::from(f));
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

fn put_field(out: &mut Vec<u8>, tag: u16, payload: &[u8]) {
    out.put_u16(tag);
    out.put_u32(payload.len() as u32);
    out.extend_from_slice(payload);
}

impl Header {
    /// Serialises the header fields (without magic, version, length or checksum).
    pub(crate) fn encode_fields(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut p = Vec::new();

        write_element_type(&mut p, self.element_type);
        p.put_u8(self.record_shape.len() as u8);
        for &d in &self.record_shape {
            p.put_u64(d);
        }
        put_field(&mut out, tag::RECORD_SHAPE, &p);

        p.clear();
        p.put_u32(self.latent_len);
        put_field(&mut out, tag::LATENT_LEN, &p);

        p.clear();
        write_index_coding(&mut p, &self.index_coding);
        put_field(&mut out, tag::INDEX_CODING, &p);

        p.clear();
        write_value_coding(&mut p, &self.value_coding);
        put_field(&mut out, tag::VALUE_CODING, &p);

        p.clear();
        p.put_varint(self.transforms.len() as u64);
        for t in &self.transforms {
            write_transform(&mut p, t);
        }
        put_field(&mut out, tag::TRANSFORMS, &p);

        if let Some(fp) = &self.fingerprint {
            p.clear();
            write_fingerprint(&mut p, fp);
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
        if let Some(bound) = &self.bound {
            p.clear();
            write_bound(&mut p, bound);
            put_field(&mut out, tag::BOUND, &p);
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
        let mut bound = None;
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
                    let et = read_element_type(&mut f)?;
                    let ndims = f.u8()?;
                    let dims = (0..ndims).map(|_| f.u64()).collect::<Result<Vec<_>>>()?;
                    shape = Some((dims, et));
                }
                tag::LATENT_LEN => latent_len = Some(f.u32()?),
                tag::INDEX_CODING => index_coding = Some(read_index_coding(&mut f)?),
                tag::VALUE_CODING => value_coding = Some(read_value_coding(&mut f)?),
                tag::TRANSFORMS => {
                    let n = f.count(1)?;
                    let mut list = Vec::with_capacity(n);
                    for _ in 0..n {
                        list.push(read_transform(&mut f)?);
                    }
                    transforms = Some(list);
                }
                tag::FINGERPRINT => fingerprint = read_fingerprint(&mut f)?,
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
                tag::BOUND => bound = Some(read_bound(&mut f)?),
                unknown if unknown & tag::CRITICAL != 0 => {
                    return Err(ContainerError::UnknownCriticalField { tag: unknown });
                }
                // A future optional field: skip it.
                _ => continue,
            }
            if !f.is_empty() {
                return Err(ContainerError::TrailingBytes {
                    section: Section::Header,
                    offset: f.offset(),
                    what: "header field",
                    count: f.remaining() as u64,
                });
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
            bound,
        };
        header.validate().map_err(|e| ContainerError::Malformed {
            section: Section::Header,
            offset: base,
            reason: e.to_string(),
        })?;
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind written reads back as itself.
    #[test]
    fn each_kind_round_trips() {
        let codings = [
            IndexCoding::reference(),
            IndexCoding::Table {
                frequencies: vec![1, 2, 3],
            },
            IndexCoding::Adaptive { increment: 24 },
            IndexCoding::Uniform,
            IndexCoding::PerUnit {
                frequencies: vec![7, 9],
            },
        ];
        for c in &codings {
            let mut p = Vec::new();
            write_index_coding(&mut p, c);
            let mut f = ByteReader::new(&p, 0, Section::Header);
            assert_eq!(&read_index_coding(&mut f).unwrap(), c);
            assert!(f.is_empty());
        }
        let values = [
            ValueCoding::F32,
            ValueCoding::F16,
            ValueCoding::Bf16,
            ValueCoding::Quantized {
                step: 0.5,
                model: ValueModel::Adaptive { alphabet: 64 },
            },
            ValueCoding::Quantized {
                step: 0.25,
                model: ValueModel::Table {
                    frequencies: vec![3, 1],
                },
            },
        ];
        for c in &values {
            let mut p = Vec::new();
            write_value_coding(&mut p, c);
            let mut f = ByteReader::new(&p, 0, Section::Header);
            assert_eq!(&read_value_coding(&mut f).unwrap(), c);
        }
        for t in [
            Transform::Log { floor: 1e-3 },
            Transform::Log10 { floor: 1e-6 },
            Transform::Affine {
                scale: 2.0,
                offset: -1.0,
            },
            Transform::PerRecordScale,
        ] {
            let mut p = Vec::new();
            write_transform(&mut p, &t);
            let mut f = ByteReader::new(&p, 0, Section::Header);
            assert_eq!(read_transform(&mut f).unwrap(), t);
        }
        for t in [
            ElementType::F32,
            ElementType::F64,
            ElementType::U16,
            ElementType::U32,
            ElementType::I32,
            ElementType::U8,
        ] {
            let mut p = Vec::new();
            write_element_type(&mut p, t);
            let mut f = ByteReader::new(&p, 0, Section::Header);
            assert_eq!(read_element_type(&mut f).unwrap(), t);
        }
    }

    #[test]
    fn unknown_kinds_are_typed_errors() {
        let mut f = ByteReader::new(&[9], 100, Section::Header);
        match read_index_coding(&mut f) {
            Err(ContainerError::UnknownKind {
                what: "index coding",
                kind: 9,
                offset: 100,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unknown_hash_algorithm_reads_as_no_fingerprint() {
        let mut p = vec![7u8];
        p.extend([0xab; 40]);
        let mut f = ByteReader::new(&p, 0, Section::Header);
        assert_eq!(read_fingerprint(&mut f).unwrap(), None);
        assert!(f.is_empty());
    }
}
