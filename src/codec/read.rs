//! Containers back into records: whole, in part, from a stream, or by position.

use std::io::{Cursor, Read, Seek};
use std::ops::Range;

use sae_container::{ContainerReader, Header, IndexStatus, Record, SparseLatent, StreamReader, Transform};
use sae_model::{SparseCode, hex};

use super::{BATCH, Codec};
use crate::ErrorBound;
use crate::error::{CodecError, RecordDefect, Result};
use crate::transform;

impl Codec {
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
                    defect: RecordDefect::MissingScale,
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

    /// The source back, at an unspecified position.
    pub fn into_inner(self) -> R {
        self.reader.into_inner()
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
