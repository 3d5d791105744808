//! Writing a container: header once, records one by one, index at the end.

use std::io::Write;

use crate::error::{ContainerError, Result};
use crate::framing::{
    MAX_RECORD_LEN, RECORD_FRAMING, encode_footer, encode_header_block, encode_record_frame,
};
use crate::header::Header;
use crate::latent::SparseLatent;
use crate::record::{Extra, RecordCodec, RecordSizes};

/// Writes a container into any [`Write`].
///
/// Each record is written as soon as it is appended, so a writer that dies
/// leaves a file readable up to its last whole record (see
/// [`ContainerReader::open`](crate::ContainerReader::open)).
///
/// ```
/// use sae_container::{ContainerReader, ContainerWriter, ElementType, Header, SparseLatent};
///
/// let header = Header::new(vec![8, 8], ElementType::F32, 128);
/// let mut writer = ContainerWriter::new(Vec::new(), header)?;
/// let latent = SparseLatent::new(128, vec![3, 40, 41], vec![0.5, 1.25, 2.0])?;
/// writer.append(&latent)?;
/// let bytes = writer.finish()?;
///
/// let mut reader = ContainerReader::open(std::io::Cursor::new(bytes))?;
/// assert_eq!(reader.len(), 1);
/// assert_eq!(reader.get(0)?.latent, latent); // f16 values: these are exact
/// # Ok::<(), sae_container::ContainerError>(())
/// ```
#[derive(Debug)]
pub struct ContainerWriter<W: Write> {
    sink: W,
    codec: RecordCodec,
    header: Header,
    offsets: Vec<u64>,
    position: u64,
    totals: RecordSizes,
}

impl<W: Write> ContainerWriter<W> {
    /// Validates `header` and writes it.
    pub fn new(mut sink: W, header: Header) -> Result<Self> {
        header.validate()?;
        let codec = RecordCodec::new(&header)?;
        let block = encode_header_block(&header);
        sink.write_all(&block)?;
        Ok(Self {
            sink,
            codec,
            header,
            offsets: Vec::new(),
            position: block.len() as u64,
            totals: RecordSizes::default(),
        })
    }

    /// The header being written.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Appends one record and returns the bytes it took.
    pub fn append(&mut self, latent: &SparseLatent) -> Result<RecordSizes> {
        self.append_with_extras(latent, &[])
    }

    /// Appends one record with extra sections (e.g. [`Extra::scale`]).
    pub fn append_with_extras(&mut self, latent: &SparseLatent, extras: &[Extra]) -> Result<RecordSizes> {
        let (payload, mut sizes) = self.codec.encode(latent, extras)?;
        if payload.len() > MAX_RECORD_LEN as usize {
            return Err(ContainerError::InvalidInput {
                what: "record",
                reason: format!(
                    "{} bytes exceed the {MAX_RECORD_LEN}-byte record limit",
                    payload.len()
                ),
            });
        }
        let frame = encode_record_frame(&payload);
        self.sink.write_all(&frame)?;
        self.offsets.push(self.position);
        self.position += frame.len() as u64;
        sizes.framing += RECORD_FRAMING;
        self.totals.add(&sizes);
        Ok(sizes)
    }

    /// The bytes a record would take, without writing it: to choose between
    /// codings of one record by their real cost.
    pub fn measure(&self, latent: &SparseLatent, extras: &[Extra]) -> Result<RecordSizes> {
        let (_, mut sizes) = self.codec.encode(latent, extras)?;
        sizes.framing += RECORD_FRAMING;
        Ok(sizes)
    }

    /// Number of records appended so far.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Whether no record has been appended.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.position
    }

    /// Sizes of all records appended so far, summed.
    pub fn record_totals(&self) -> RecordSizes {
        self.totals
    }

    /// Writes the footer index and trailer, flushes and returns the sink.
    pub fn finish(mut self) -> Result<W> {
        let footer = encode_footer(&self.offsets, self.position);
        self.sink.write_all(&footer)?;
        self.sink.flush()?;
        Ok(self.sink)
    }
}
