//! Reading a container: random access through the footer index, or a stream.

use std::io::{Read, Seek, SeekFrom};

use crate::error::{ContainerError, Result, Section};
use crate::framing::{
    Frame, RECORD_FRAMING, TRAILER_LEN, footer_len, parse_trailer, read_bounded, read_footer_body,
    read_frame, read_header_block, read_up_to,
};
use crate::header::Header;
use crate::record::{Record, RecordCodec, RecordSizes};

/// How a reader found the records.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexStatus {
    /// The file was finished: the footer index was read and verified.
    Indexed,
    /// The file has no valid trailer (its writer did not finish): records were
    /// found by scanning, up to the last whole, checksum-valid one.
    Recovered {
        /// Bytes after the last whole record that were ignored.
        trailing_bytes: u64,
    },
}

/// Bytes spent on each part of a container.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SizeReport {
    /// Header block (magic, version, fields, checksum).
    pub header: u64,
    /// Footer index and trailer (0 for a recovered file).
    pub footer: u64,
    /// Unreadable bytes after the last record of a recovered file.
    pub trailing: u64,
    /// Each record's breakdown, in order.
    pub records: Vec<RecordSizes>,
    /// All records summed.
    pub record_totals: RecordSizes,
}

impl SizeReport {
    /// The whole file.
    pub fn total(&self) -> u64 {
        self.header + self.footer + self.trailing + self.record_totals.total()
    }
}

/// Random access to the records of a container in any `Read + Seek`.
///
/// ```
/// use std::io::Cursor;
/// use sae_container::{ContainerReader, ContainerWriter, ElementType, Header, IndexStatus, SparseLatent};
///
/// let header = Header::new(vec![16], ElementType::F32, 32);
/// let mut writer = ContainerWriter::new(Vec::new(), header)?;
/// for i in 0..5 {
///     writer.append(&SparseLatent::new(32, vec![i, 20 + i], vec![1.0, 2.0])?)?;
/// }
/// let bytes = writer.finish()?;
///
/// let mut reader = ContainerReader::open(Cursor::new(&bytes))?;
/// assert_eq!(reader.status(), &IndexStatus::Indexed);
/// assert_eq!(reader.get(3)?.latent.indices(), [3, 23]);
///
/// // A writer that died mid-way: the whole records before the cut survive.
/// let mut reader = ContainerReader::open(Cursor::new(&bytes[..bytes.len() - 80]))?;
/// assert!(matches!(reader.status(), IndexStatus::Recovered { .. }));
/// assert_eq!(reader.len(), 4);
/// # Ok::<(), sae_container::ContainerError>(())
/// ```
#[derive(Debug)]
pub struct ContainerReader<R> {
    source: R,
    header: Header,
    /// The header's coding models, built when the first record is decoded:
    /// opening a file and reporting its sizes never build a table the size
    /// of the latent.
    codec: Option<RecordCodec>,
    header_len: u64,
    /// Offset of each record's frame.
    offsets: Vec<u64>,
    /// Offset just past the last record's frame.
    records_end: u64,
    file_len: u64,
    status: IndexStatus,
}

impl<R: Read + Seek> ContainerReader<R> {
    /// Opens a container: reads the header and the footer index, or scans
    /// for records when the file was not finished.
    ///
    /// A present but inconsistent index is an error, not a reason to scan:
    /// it means the file was damaged after it was written.
    pub fn open(mut source: R) -> Result<Self> {
        let file_len = source.seek(SeekFrom::End(0))?;
        source.seek(SeekFrom::Start(0))?;
        let (header, header_len) = read_header_block(&mut source)?;
        RecordCodec::check(&header)?;
        let codec = None;

        let mut trailer = [0u8; TRAILER_LEN as usize];
        let footer_offset = if file_len >= header_len + footer_len(0) {
            source.seek(SeekFrom::Start(file_len - TRAILER_LEN))?;
            read_up_to(&mut source, &mut trailer)?;
            parse_trailer(&trailer)
        } else {
            None
        };
        let mut reader = Self {
            source,
            header,
            codec,
            header_len,
            offsets: Vec::new(),
            records_end: header_len,
            file_len,
            status: IndexStatus::Indexed,
        };
        match footer_offset {
            Some(footer_offset) => reader.read_index(footer_offset)?,
            None => reader.scan()?,
        }
        Ok(reader)
    }

    fn read_index(&mut self, footer_offset: u64) -> Result<()> {
        let bad = |offset: u64, reason: String| ContainerError::Malformed {
            section: Section::Footer,
            offset,
            reason,
        };
        let space = self
            .file_len
            .checked_sub(footer_offset)
            .filter(|_| footer_offset >= self.header_len)
            .ok_or_else(|| {
                bad(
                    self.file_len - TRAILER_LEN,
                    format!("footer offset {footer_offset} is outside the records"),
                )
            })?;
        let fixed = footer_len(0);
        if space < fixed || !(space - fixed).is_multiple_of(8) {
            return Err(bad(footer_offset, format!("{space} bytes cannot hold a footer")));
        }
        let count = (space - fixed) / 8;
        self.source.seek(SeekFrom::Start(footer_offset))?;
        let marker = read_bounded(&mut self.source, 4, Section::Footer, footer_offset)?;
        if marker != crate::framing::END_OF_RECORDS.to_le_bytes() {
            return Err(bad(
                footer_offset,
                "footer does not start with the end-of-records marker".into(),
            ));
        }
        let offsets = read_footer_body(&mut self.source, footer_offset, count)?;
        if offsets.len() as u64 != count {
            return Err(bad(
                footer_offset,
                format!("footer lists {} records but has room for {count}", offsets.len()),
            ));
        }
        // Frames are contiguous: the first starts after the header, each one
        // at least a frame's length after the previous, the last before the footer.
        let mut expected_min = self.header_len;
        for (i, &o) in offsets.iter().enumerate() {
            let first_ok = i > 0 || o == self.header_len;
            let fits = o
                .checked_add(RECORD_FRAMING)
                .is_some_and(|end| end <= footer_offset);
            if !first_ok || o < expected_min || !fits {
                return Err(bad(
                    footer_offset,
                    format!("record offset {o} (record {i}) is out of order or range"),
                ));
            }
            expected_min = o + RECORD_FRAMING;
        }
        if offsets.is_empty() && footer_offset != self.header_len {
            return Err(bad(
                footer_offset,
                "records present but the footer lists none".into(),
            ));
        }
        self.offsets = offsets;
        self.records_end = footer_offset;
        self.status = IndexStatus::Indexed;
        Ok(())
    }

    /// Finds records by walking their frames from the header on.
    fn scan(&mut self) -> Result<()> {
        self.source.seek(SeekFrom::Start(self.header_len))?;
        let mut position = self.header_len;
        loop {
            let index = self.offsets.len() as u64;
            match read_frame(&mut self.source, position, index, self.file_len - position) {
                Ok(Frame::Record(payload)) => {
                    self.offsets.push(position);
                    position += payload.len() as u64 + RECORD_FRAMING;
                }
                // An end marker or the end of input, or a damaged/partial
                // record: everything before it is whole and verified.
                Ok(Frame::EndOfRecords | Frame::EndOfInput) | Err(_) => break,
            }
        }
        self.records_end = position;
        self.status = IndexStatus::Recovered {
            trailing_bytes: self.file_len - position,
        };
        Ok(())
    }

    /// The file header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// How the records were found.
    pub fn status(&self) -> &IndexStatus {
        &self.status
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Whether the container holds no record.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Total length of the file in bytes.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The source back, at an unspecified position: to read it again in
    /// order (a [`StreamReader`] from its start) once this reader has told
    /// how many records are whole.
    pub fn into_inner(self) -> R {
        self.source
    }

    /// Reads and decodes record `index`.
    pub fn get(&mut self, index: usize) -> Result<Record> {
        self.get_with_sizes(index).map(|(record, _)| record)
    }

    /// Reads record `index` with its size breakdown.
    pub fn get_with_sizes(&mut self, index: usize) -> Result<(Record, RecordSizes)> {
        let (payload, offset) = self.payload(index)?;
        let codec = match &mut self.codec {
            Some(codec) => codec,
            empty => empty.insert(RecordCodec::new(&self.header)?),
        };
        let (record, mut sizes) = codec.decode(&payload, offset + 4, index as u64)?;
        sizes.framing += RECORD_FRAMING;
        Ok((record, sizes))
    }

    /// Where the bytes of record `index` go, from its frame alone: the
    /// checksum and the structure are checked, the index and value streams
    /// are not decoded, so the cost is the record's bytes whatever its
    /// coding (a per-unit coding decodes `l` decisions per record).
    pub fn record_sizes(&mut self, index: usize) -> Result<RecordSizes> {
        let (payload, offset) = self.payload(index)?;
        let mut sizes = crate::record::parse(&payload, offset + 4, index as u64)?.sizes;
        sizes.framing += RECORD_FRAMING;
        Ok(sizes)
    }

    /// The checked payload of record `index` and its frame's offset.
    fn payload(&mut self, index: usize) -> Result<(Vec<u8>, u64)> {
        let Some(&offset) = self.offsets.get(index) else {
            return Err(ContainerError::RecordOutOfRange {
                index: index as u64,
                count: self.offsets.len() as u64,
            });
        };
        let end = self.offsets.get(index + 1).copied().unwrap_or(self.records_end);
        self.source.seek(SeekFrom::Start(offset))?;
        let payload = match read_frame(&mut self.source, offset, index as u64, end - offset)? {
            Frame::Record(payload) if payload.len() as u64 + RECORD_FRAMING == end - offset => payload,
            _ => {
                return Err(ContainerError::Malformed {
                    section: Section::Record { index: index as u64 },
                    offset,
                    reason: "record frame does not fill the space the index gives it".into(),
                });
            }
        };
        Ok((payload, offset))
    }

    /// The number of nonzero latent entries of each record, in order.
    ///
    /// ```
    /// use std::io::Cursor;
    /// use sae_container::{ContainerReader, ContainerWriter, ElementType, Header, SparseLatent};
    ///
    /// let mut writer = ContainerWriter::new(Vec::new(), Header::new(vec![4], ElementType::F32, 8))?;
    /// writer.append(&SparseLatent::new(8, vec![1, 5], vec![0.5, 1.5])?)?;
    /// writer.append(&SparseLatent::new(8, vec![], vec![])?)?;
    /// let bytes = writer.finish()?;
    /// assert_eq!(ContainerReader::open(Cursor::new(&bytes))?.nonzeros()?, [2, 0]);
    /// # Ok::<(), sae_container::ContainerError>(())
    /// ```
    pub fn nonzeros(&mut self) -> Result<Vec<usize>> {
        (0..self.len())
            .map(|i| self.get(i).map(|r| r.latent.nnz()))
            .collect()
    }

    /// Iterates over all records in order.
    pub fn iter(&mut self) -> impl Iterator<Item = Result<Record>> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Reads every record's frame and reports where the bytes go, at the
    /// cost of reading the file: frames and checksums are checked, the
    /// entropy-coded streams are not decoded ([`record_sizes`](Self::record_sizes)).
    pub fn size_report(&mut self) -> Result<SizeReport> {
        let mut report = SizeReport {
            header: self.header_len,
            footer: match self.status {
                IndexStatus::Indexed => self.file_len - self.records_end,
                IndexStatus::Recovered { .. } => 0,
            },
            trailing: match self.status {
                IndexStatus::Indexed => 0,
                IndexStatus::Recovered { trailing_bytes } => trailing_bytes,
            },
            ..SizeReport::default()
        };
        for i in 0..self.len() {
            let sizes = self.record_sizes(i)?;
            report.record_totals.add(&sizes);
            report.records.push(sizes);
        }
        Ok(report)
    }
}

/// Reads records in order from any [`Read`], such as a pipe, without seeking.
///
/// Iteration ends after the footer of a finished file (which is verified
/// against the records seen), or at a clean end of input for an unfinished
/// one; [`finished`](Self::finished) tells which.
#[derive(Debug)]
pub struct StreamReader<R> {
    source: R,
    header: Header,
    codec: RecordCodec,
    position: u64,
    offsets: Vec<u64>,
    state: StreamState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StreamState {
    Records,
    Finished,
    Unfinished,
    Failed,
}

impl<R: Read> StreamReader<R> {
    /// Reads the header.
    pub fn new(mut source: R) -> Result<Self> {
        let (header, header_len) = read_header_block(&mut source)?;
        let codec = RecordCodec::new(&header)?;
        Ok(Self {
            source,
            header,
            codec,
            position: header_len,
            offsets: Vec::new(),
            state: StreamState::Records,
        })
    }

    /// The file header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// `Some(true)` once a verified footer was read, `Some(false)` if the
    /// input ended without one, `None` while records remain (or after an error).
    pub fn finished(&self) -> Option<bool> {
        match self.state {
            StreamState::Finished => Some(true),
            StreamState::Unfinished => Some(false),
            StreamState::Records | StreamState::Failed => None,
        }
    }

    /// The next record, or `None` at the end.
    pub fn next_record(&mut self) -> Result<Option<Record>> {
        if self.state != StreamState::Records {
            return Ok(None);
        }
        let result = self.read_next();
        if result.is_err() {
            self.state = StreamState::Failed;
        }
        result
    }

    fn read_next(&mut self) -> Result<Option<Record>> {
        let index = self.offsets.len() as u64;
        match read_frame(&mut self.source, self.position, index, u64::MAX)? {
            Frame::Record(payload) => {
                let (record, _) = self.codec.decode(&payload, self.position + 4, index)?;
                self.offsets.push(self.position);
                self.position += payload.len() as u64 + RECORD_FRAMING;
                Ok(Some(record))
            }
            Frame::EndOfInput => {
                self.state = StreamState::Unfinished;
                Ok(None)
            }
            Frame::EndOfRecords => {
                self.verify_footer()?;
                self.state = StreamState::Finished;
                Ok(None)
            }
        }
    }

    fn verify_footer(&mut self) -> Result<()> {
        let footer_offset = self.position;
        let bad = |reason: String| ContainerError::Malformed {
            section: Section::Footer,
            offset: footer_offset,
            reason,
        };
        let offsets = read_footer_body(&mut self.source, footer_offset, self.offsets.len() as u64)?;
        if offsets != self.offsets {
            return Err(bad("footer index does not match the records read".into()));
        }
        let trailer = read_bounded(
            &mut self.source,
            TRAILER_LEN,
            Section::Trailer,
            footer_offset + footer_len(0) - TRAILER_LEN,
        )?;
        let trailer: [u8; 16] = trailer.as_slice().try_into().expect("16 bytes");
        if parse_trailer(&trailer) != Some(footer_offset) {
            return Err(bad("trailer does not point at the footer".into()));
        }
        let mut extra = [0u8; 1];
        if read_up_to(&mut self.source, &mut extra)? != 0 {
            return Err(bad("data after the trailer".into()));
        }
        Ok(())
    }
}

impl<R: Read> Iterator for StreamReader<R> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}
