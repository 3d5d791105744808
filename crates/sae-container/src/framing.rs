//! Byte layout of the file: magic, header block, record frames, footer, trailer.
//!
//! The normative description is `docs/format.md`; this module implements it.

use std::io::{ErrorKind, Read};

use crate::error::{ContainerError, Result, Section};
use crate::header::Header;
use crate::wire::PutBytes;

/// First bytes of every container (a PNG-style signature that detects text-mode mangling).
pub const MAGIC: [u8; 8] = [0x89, b'S', b'A', b'E', b'\r', b'\n', 0x1a, b'\n'];
/// Last bytes of a finished container.
pub const END_MAGIC: [u8; 8] = *b"SAEINDEX";
/// Major format version: readers refuse files of a newer major version.
pub const VERSION_MAJOR: u16 = 1;
/// Minor format version: additions that older readers can skip. The newest
/// this crate reads and writes; a file is written with the lowest minor
/// version that holds it ([`Header::minor_version`]), so that a file without
/// an error bound stays a 1.1 file, byte for byte.
pub const VERSION_MINOR: u16 = 2;

/// Length field value that ends the records and starts the footer.
pub(crate) const END_OF_RECORDS: u32 = u32::MAX;
/// Largest record payload accepted (1 GiB).
pub const MAX_RECORD_LEN: u32 = 1 << 30;
/// Largest header field block accepted (64 MiB).
pub(crate) const MAX_HEADER_LEN: u32 = 1 << 26;
/// Magic, version and field-block length.
pub(crate) const HEADER_PREFIX_LEN: usize = 8 + 2 + 2 + 4;
/// Footer offset and end magic.
pub(crate) const TRAILER_LEN: u64 = 16;
/// Record length prefix and checksum.
pub(crate) const RECORD_FRAMING: u64 = 8;

/// The complete header block for `header`.
pub(crate) fn encode_header_block(header: &Header) -> Vec<u8> {
    let fields = header.encode_fields();
    let mut out = Vec::with_capacity(HEADER_PREFIX_LEN + fields.len() + 4);
    out.extend_from_slice(&MAGIC);
    out.put_u16(VERSION_MAJOR);
    out.put_u16(header.minor_version());
    out.put_u32(fields.len() as u32);
    out.extend_from_slice(&fields);
    let crc = crc32c::crc32c(&out);
    out.put_u32(crc);
    out
}

/// Reads and checks the header block; returns the header and the block's length.
pub(crate) fn read_header_block<R: Read>(source: &mut R) -> Result<(Header, u64)> {
    let mut prefix = [0u8; HEADER_PREFIX_LEN];
    let got = read_up_to(source, &mut prefix)?;
    if got < MAGIC.len() || prefix[..8] != MAGIC {
        return Err(ContainerError::BadMagic {
            found: prefix[..got.min(8)].to_vec(),
        });
    }
    if got < HEADER_PREFIX_LEN {
        return Err(truncated(
            Section::Header,
            got as u64,
            (HEADER_PREFIX_LEN - got) as u64,
        ));
    }
    let major = u16::from_le_bytes([prefix[8], prefix[9]]);
    let minor = u16::from_le_bytes([prefix[10], prefix[11]]);
    if major != VERSION_MAJOR {
        return Err(ContainerError::UnsupportedVersion {
            major,
            minor,
            supported: VERSION_MAJOR,
        });
    }
    let fields_len = u32::from_le_bytes([prefix[12], prefix[13], prefix[14], prefix[15]]);
    if fields_len > MAX_HEADER_LEN {
        return Err(ContainerError::Malformed {
            section: Section::Header,
            offset: 12,
            reason: format!("header of {fields_len} bytes exceeds the {MAX_HEADER_LEN}-byte limit"),
        });
    }
    let rest = read_bounded(
        source,
        u64::from(fields_len) + 4,
        Section::Header,
        HEADER_PREFIX_LEN as u64,
    )?;
    let (fields, crc_bytes) = rest.split_at(fields_len as usize);
    let stored = u32::from_le_bytes([crc_bytes[0], crc_bytes[1], crc_bytes[2], crc_bytes[3]]);
    let computed = crc32c::crc32c_append(crc32c::crc32c(&prefix), fields);
    if stored != computed {
        return Err(ContainerError::ChecksumMismatch {
            section: Section::Header,
            offset: 0,
            stored,
            computed,
        });
    }
    let header = Header::decode_fields(fields, HEADER_PREFIX_LEN as u64)?;
    Ok((header, (HEADER_PREFIX_LEN + rest.len()) as u64))
}

/// One record frame: length, payload, checksum over both.
pub(crate) fn encode_record_frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.put_u32(payload.len() as u32);
    out.extend_from_slice(payload);
    let crc = crc32c::crc32c(&out);
    out.put_u32(crc);
    out
}

/// What follows the records' length field.
pub(crate) enum Frame {
    /// A record payload (checksum verified).
    Record(Vec<u8>),
    /// The end-of-records marker: the footer follows.
    EndOfRecords,
    /// The input ended cleanly before a length field.
    EndOfInput,
}

/// Reads one frame at file offset `offset`; `max_len` bounds the payload length.
pub(crate) fn read_frame<R: Read>(source: &mut R, offset: u64, index: u64, max_len: u64) -> Result<Frame> {
    let section = Section::Record { index };
    let mut len_bytes = [0u8; 4];
    match read_up_to(source, &mut len_bytes)? {
        0 => return Ok(Frame::EndOfInput),
        4 => {}
        got => return Err(truncated(section, offset + got as u64, 4 - got as u64)),
    }
    let len = u32::from_le_bytes(len_bytes);
    if len == END_OF_RECORDS {
        return Ok(Frame::EndOfRecords);
    }
    if len > MAX_RECORD_LEN || u64::from(len) + 4 > max_len.saturating_sub(4) {
        return Err(ContainerError::Malformed {
            section,
            offset,
            reason: format!("record length {len} exceeds the space available ({max_len} bytes)"),
        });
    }
    let body = read_bounded(source, u64::from(len) + 4, section, offset + 4)?;
    let (payload, crc_bytes) = body.split_at(len as usize);
    let stored = u32::from_le_bytes([crc_bytes[0], crc_bytes[1], crc_bytes[2], crc_bytes[3]]);
    let computed = crc32c::crc32c_append(crc32c::crc32c(&len_bytes), payload);
    if stored != computed {
        return Err(ContainerError::ChecksumMismatch {
            section,
            offset,
            stored,
            computed,
        });
    }
    let mut body = body;
    body.truncate(len as usize);
    Ok(Frame::Record(body))
}

/// The footer (after the end-of-records marker) and the trailer.
pub(crate) fn encode_footer(offsets: &[u64], footer_offset: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 8 + 8 * offsets.len() + 4 + TRAILER_LEN as usize);
    out.put_u32(END_OF_RECORDS);
    out.put_u64(offsets.len() as u64);
    for &o in offsets {
        out.put_u64(o);
    }
    let crc = crc32c::crc32c(&out);
    out.put_u32(crc);
    out.put_u64(footer_offset);
    out.extend_from_slice(&END_MAGIC);
    out
}

/// Bytes of a footer and trailer holding `count` offsets.
pub(crate) fn footer_len(count: u64) -> u64 {
    4 + 8 + 8 * count + 4 + TRAILER_LEN
}

/// Reads the footer body after its marker: the count, `count` offsets and the checksum.
///
/// `max_count` bounds the count before anything is allocated.
pub(crate) fn read_footer_body<R: Read>(
    source: &mut R,
    footer_offset: u64,
    max_count: u64,
) -> Result<Vec<u64>> {
    let count_bytes = read_bounded(source, 8, Section::Footer, footer_offset + 4)?;
    let count = u64::from_le_bytes(count_bytes.as_slice().try_into().expect("8 bytes"));
    if count > max_count {
        return Err(ContainerError::Malformed {
            section: Section::Footer,
            offset: footer_offset + 4,
            reason: format!("footer lists {count} records where at most {max_count} fit"),
        });
    }
    let body = read_bounded(source, 8 * count + 4, Section::Footer, footer_offset + 12)?;
    let (offset_bytes, crc_bytes) = body.split_at(8 * count as usize);
    let stored = u32::from_le_bytes([crc_bytes[0], crc_bytes[1], crc_bytes[2], crc_bytes[3]]);
    let mut crc = crc32c::crc32c(&END_OF_RECORDS.to_le_bytes());
    crc = crc32c::crc32c_append(crc, &count_bytes);
    crc = crc32c::crc32c_append(crc, offset_bytes);
    if stored != crc {
        return Err(ContainerError::ChecksumMismatch {
            section: Section::Footer,
            offset: footer_offset,
            stored,
            computed: crc,
        });
    }
    Ok(offset_bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect())
}

/// Reads the 16-byte trailer; `None` when its magic is absent.
pub(crate) fn parse_trailer(bytes: &[u8; 16]) -> Option<u64> {
    (bytes[8..] == END_MAGIC).then(|| u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")))
}

/// Reads as many bytes as available into `buf`, up to its length.
pub(crate) fn read_up_to<R: Read>(source: &mut R, buf: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(filled)
}

/// Reads exactly `len` bytes; memory grows with the bytes that actually
/// arrive, so a forged length cannot reserve more than the input holds.
pub(crate) fn read_bounded<R: Read>(
    source: &mut R,
    len: u64,
    section: Section,
    offset: u64,
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(len.min(1 << 16) as usize);
    let got = source.take(len).read_to_end(&mut out)? as u64;
    if got < len {
        return Err(truncated(section, offset + got, len - got));
    }
    Ok(out)
}

pub(crate) fn truncated(section: Section, offset: u64, needed: u64) -> ContainerError {
    ContainerError::Truncated {
        section,
        offset,
        needed,
    }
}
