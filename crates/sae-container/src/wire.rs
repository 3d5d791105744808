//! Checked little-endian reading and writing of primitive fields.
//!
//! Every read from untrusted bytes goes through [`ByteReader`], which never
//! panics and never allocates more than the bytes it actually holds.

use crate::error::{ContainerError, Result, Section};

/// Appends primitive values to a byte vector.
pub(crate) trait PutBytes {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u32(&mut self, v: u32);
    fn put_u64(&mut self, v: u64);
    fn put_f32(&mut self, v: f32);
    fn put_f64(&mut self, v: f64);
    /// Unsigned LEB128.
    fn put_varint(&mut self, v: u64);
    /// A varint length followed by the bytes.
    fn put_blob(&mut self, bytes: &[u8]);
}

impl PutBytes for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_f32(&mut self, v: f32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_f64(&mut self, v: f64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn put_varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.push(v as u8);
    }
    fn put_blob(&mut self, bytes: &[u8]) {
        self.put_varint(bytes.len() as u64);
        self.extend_from_slice(bytes);
    }
}

/// Number of bytes [`PutBytes::put_varint`] writes for `v`.
pub(crate) fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// A cursor over untrusted bytes; every read is bounds-checked.
#[derive(Debug, Clone)]
pub(crate) struct ByteReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// File offset of `data[0]`, for error messages.
    base: u64,
    section: Section,
}

impl<'a> ByteReader<'a> {
    pub(crate) fn new(data: &'a [u8], base: u64, section: Section) -> Self {
        Self {
            data,
            pos: 0,
            base,
            section,
        }
    }

    /// File offset of the next byte.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn malformed(&self, reason: impl Into<String>) -> ContainerError {
        ContainerError::Malformed {
            section: self.section,
            offset: self.offset(),
            reason: reason.into(),
        }
    }

    /// The error for an unknown kind code, the byte just read.
    pub(crate) fn unknown_kind(&self, what: &'static str, kind: u8) -> ContainerError {
        ContainerError::UnknownKind {
            section: self.section,
            offset: self.offset() - 1,
            what,
            kind,
        }
    }

    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        if len > self.remaining() {
            return Err(ContainerError::Truncated {
                section: self.section,
                offset: self.offset(),
                needed: (len - self.remaining()) as u64,
            });
        }
        let bytes = &self.data[self.pos..self.pos + len];
        self.pos += len;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }
    pub(crate) fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    pub(crate) fn f32(&mut self) -> Result<f32> {
        Ok(f32::from_le_bytes(self.array()?))
    }
    pub(crate) fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// Unsigned LEB128; overlong or overflowing encodings are errors.
    pub(crate) fn varint(&mut self) -> Result<u64> {
        let start = self.offset();
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(self.malformed(format!("varint at byte {start} overflows 64 bits")));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                if byte == 0 && shift > 0 {
                    return Err(self.malformed(format!("overlong varint at byte {start}")));
                }
                return Ok(value);
            }
        }
        Err(self.malformed(format!("varint at byte {start} is longer than 10 bytes")))
    }

    /// A varint as a length or count that must fit what remains (at
    /// `min_item_size` bytes per item), so that forged counts cannot trigger
    /// huge allocations.
    pub(crate) fn count(&mut self, min_item_size: usize) -> Result<usize> {
        let n = self.varint()?;
        let max = (self.remaining() / min_item_size.max(1)) as u64;
        if n > max {
            return Err(self.malformed(format!(
                "count {n} exceeds the {max} items the remaining bytes can hold"
            )));
        }
        Ok(n as usize)
    }

    /// A varint-length-prefixed byte string.
    pub(crate) fn blob(&mut self) -> Result<&'a [u8]> {
        let len = self.count(1)?;
        self.take(len)
    }

    /// A varint-length-prefixed UTF-8 string.
    pub(crate) fn string(&mut self) -> Result<String> {
        let bytes = self.blob()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.malformed("string is not valid UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_bad_encodings() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut buf = Vec::new();
            buf.put_varint(v);
            assert_eq!(buf.len(), varint_len(v));
            let mut r = ByteReader::new(&buf, 0, Section::Header);
            assert_eq!(r.varint().unwrap(), v);
            assert!(r.is_empty());
        }
        let overlong = [0x80, 0x00];
        assert!(ByteReader::new(&overlong, 0, Section::Header).varint().is_err());
        let overflow = [0xff; 10];
        assert!(ByteReader::new(&overflow, 0, Section::Header).varint().is_err());
        let truncated = [0x80];
        assert!(matches!(
            ByteReader::new(&truncated, 0, Section::Header).varint(),
            Err(ContainerError::Truncated { .. })
        ));
    }

    #[test]
    fn forged_counts_are_refused() {
        let mut buf = Vec::new();
        buf.put_varint(1 << 40);
        buf.extend_from_slice(&[0; 16]);
        let mut r = ByteReader::new(&buf, 0, Section::Header);
        assert!(matches!(r.count(4), Err(ContainerError::Malformed { .. })));
    }
}
