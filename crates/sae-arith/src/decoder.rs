//! The range decoder.

use crate::coder::{RANGE_MIN, scale, tail_block_bits, tail_bytes};
use crate::{AdaptiveModel, DecodeError, MAX_TOTAL, ProbabilityModel};

/// Most bytes a valid message lets the decoder read past the input's end.
///
/// The decoder's window is 8 bytes and the encoder's tail at least 1 byte,
/// so a whole message never needs more than 7 bytes of padding.
const MAX_PADDING: usize = 7;

/// Decodes symbols from a byte slice produced by a [`RangeEncoder`](crate::RangeEncoder).
///
/// The decoder keeps `code = value - low` in a 64-bit window and reads one
/// big-endian 32-bit word whenever the range drops below `2^32`, exactly when
/// the encoder wrote one. Past the end of the slice it reads zeros, but only
/// as far as a valid message can need; beyond that it reports
/// [`DecodeError::UnexpectedEnd`]. It never panics and never reads outside the slice.
#[derive(Debug, Clone)]
pub struct RangeDecoder<'a> {
    data: &'a [u8],
    /// Bytes taken into the window so far (may exceed `data.len()` by padding).
    pos: usize,
    code: u64,
    range: u64,
}

impl<'a> RangeDecoder<'a> {
    /// A decoder over `data`, which holds a message (and possibly more after it).
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        let mut decoder = Self {
            data,
            pos: 0,
            code: 0,
            range: u64::MAX,
        };
        let high = decoder.read_word()?;
        let low = decoder.read_word()?;
        decoder.code = (u64::from(high) << 32) | u64::from(low);
        Ok(decoder)
    }

    #[inline]
    fn read_word(&mut self) -> Result<u32, DecodeError> {
        let pos = self.pos;
        self.pos += 4;
        if let Some(bytes) = self.data.get(pos..pos + 4) {
            // The slice has exactly four bytes here.
            let mut word = [0u8; 4];
            word.copy_from_slice(bytes);
            return Ok(u32::from_be_bytes(word));
        }
        self.read_padded_word(pos)
    }

    #[cold]
    fn read_padded_word(&mut self, pos: usize) -> Result<u32, DecodeError> {
        if pos + 4 > self.data.len() + MAX_PADDING {
            return Err(DecodeError::UnexpectedEnd {
                needed: pos + 4 - MAX_PADDING,
                available: self.data.len(),
            });
        }
        let mut word = [0u8; 4];
        let have = self.data.get(pos..).unwrap_or_default();
        word[..have.len()].copy_from_slice(have);
        Ok(u32::from_be_bytes(word))
    }

    /// Decodes one symbol under a static `model`.
    #[inline]
    pub fn decode<M: ProbabilityModel + ?Sized>(&mut self, model: &M) -> Result<usize, DecodeError> {
        let total = model.total();
        if total == 0 || total > MAX_TOTAL {
            return Err(DecodeError::InvalidTotal { total });
        }
        let r = scale(self.range, total);
        let target = self.code / r;
        if target >= u64::from(total) {
            // Only reachable with bytes no encoder produced under this model.
            return Err(DecodeError::InvalidCode { position: self.pos });
        }
        let target = target as u32;
        let (symbol, iv) = model.symbol_at(target);
        if target < iv.start || target - iv.start >= iv.width {
            return Err(DecodeError::InconsistentModel {
                target,
                symbol,
                start: iv.start,
                width: iv.width,
            });
        }
        self.code -= r * u64::from(iv.start);
        self.range = r * u64::from(iv.width);
        if self.range < RANGE_MIN {
            // `code < range < 2^32`, so the shift loses nothing.
            self.code = (self.code << 32) | u64::from(self.read_word()?);
            self.range <<= 32;
        }
        Ok(symbol)
    }

    /// Decodes one symbol under an adaptive `model`, then updates the model.
    #[inline]
    pub fn decode_adaptive<M: AdaptiveModel>(&mut self, model: &mut M) -> Result<usize, DecodeError> {
        let symbol = self.decode(&model.current())?;
        model.update(symbol);
        Ok(symbol)
    }

    /// Decodes one bit coded by [`RangeEncoder::encode_bit`](crate::RangeEncoder::encode_bit)
    /// (or `encode_adaptive` under an [`AdaptiveBit`](crate::AdaptiveBit)), then
    /// updates the model: the same result as [`decode_adaptive`](Self::decode_adaptive),
    /// with a comparison where that divides.
    #[inline]
    pub fn decode_bit(&mut self, model: &mut crate::AdaptiveBit) -> Result<bool, DecodeError> {
        let r = self.range >> crate::AdaptiveBit::PRECISION;
        let ones = u64::from(model.ones());
        let zeros = (1u64 << crate::AdaptiveBit::PRECISION) - ones;
        // `floor(code / r) ≥ k` exactly when `code ≥ r·k`.
        if self.code >= r << crate::AdaptiveBit::PRECISION {
            return Err(DecodeError::InvalidCode { position: self.pos });
        }
        let split = r * zeros;
        let bit = self.code >= split;
        if bit {
            self.code -= split;
            self.range = r * ones;
        } else {
            self.range = split;
        }
        if self.range < RANGE_MIN {
            self.code = (self.code << 32) | u64::from(self.read_word()?);
            self.range <<= 32;
        }
        crate::AdaptiveModel::update(model, usize::from(bit));
        Ok(bit)
    }

    /// Decodes `count` symbols under a static `model` into a vector.
    pub fn decode_many<M: ProbabilityModel + ?Sized>(
        &mut self,
        count: usize,
        model: &M,
    ) -> Result<Vec<usize>, DecodeError> {
        // `count` may come from untrusted input: grow as symbols arrive.
        let mut symbols = Vec::with_capacity(count.min(1 << 16));
        for _ in 0..count {
            symbols.push(self.decode(model)?);
        }
        Ok(symbols)
    }

    /// Offset in the input just past this message, where a following one starts.
    ///
    /// Call it after the last symbol. It fails with
    /// [`DecodeError::UnexpectedEnd`] when the input is shorter than the
    /// message, and with [`DecodeError::NonCanonicalEnd`] when the bytes
    /// that end the message are not the tail the encoder writes for the
    /// symbols decoded.
    ///
    /// # What the end check promises
    ///
    /// The encoder ends a message with the shortest tail that identifies it
    /// (see [`RangeEncoder::finish`](crate::RangeEncoder::finish)), and the
    /// decoder checks that exact tail: for the symbols it decoded, the bytes it
    /// took must be those the encoder writes, byte for byte. So a message cut
    /// short is refused unless what is left of it is, by itself, the complete
    /// encoding of another sequence of as many symbols. That can happen (a
    /// range coder wastes almost no bits, so most short byte strings encode
    /// *something*), and no end check can tell it from a real message: a
    /// caller that must detect every truncation stores the message's length
    /// or a checksum beside it, as the `sae-container` framing does (record
    /// lengths and CRC-32C).
    pub fn finish(&self) -> Result<usize, DecodeError> {
        let tail = tail_bytes(self.range);
        let end = self.pos - 8 + tail;
        if end > self.data.len() {
            return Err(DecodeError::UnexpectedEnd {
                needed: end,
                available: self.data.len(),
            });
        }
        // `code = value - low` modulo 2^64 over the last eight bytes taken,
        // so the encoder's final `low` (the part of it in this window) is
        // known, and with it the tail the encoder wrote: `low` rounded up to
        // the block of `tail_block_bits` bits, its top `tail` bytes.
        let window = self.window();
        let low = window.wrapping_sub(self.code);
        let block = 1u64 << tail_block_bits(self.range);
        let written = low.wrapping_add(block - 1) & !(block - 1);
        let ignored = 64 - 8 * tail as u32;
        if window >> ignored != written >> ignored {
            return Err(DecodeError::NonCanonicalEnd { end });
        }
        Ok(end)
    }

    /// The last eight bytes taken into the window, zeros past the input's end.
    fn window(&self) -> u64 {
        let start = self.pos - 8;
        let mut bytes = [0u8; 8];
        let have = self.data.get(start..).unwrap_or_default();
        let n = have.len().min(8);
        bytes[..n].copy_from_slice(&have[..n]);
        u64::from_be_bytes(bytes)
    }

    /// The input after this message (see [`finish`](Self::finish)).
    pub fn remaining(&self) -> Result<&'a [u8], DecodeError> {
        let end = self.finish()?;
        Ok(&self.data[end..])
    }
}
