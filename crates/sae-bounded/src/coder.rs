//! The context models and the binarisation of integers.
//!
//! An integer is coded as a zero flag, a sign, the bit length of its
//! magnitude in unary, the bit below the leading one, and the remaining bits
//! raw; every decision but the raw bits has its own [`AdaptiveBit`], chosen by
//! a context made from the already coded neighbours.

use sae_arith::{AdaptiveBit, RangeDecoder, RangeEncoder, Uniform};

use crate::{DecodeError, EncodeError};

/// Neighbourhood classes: 0 is a quiet neighbourhood (every neighbour's
/// quantised value zero), `1 + bit length` of the weighted neighbour
/// magnitudes `2|W| + 2|N| + |NW| + |NE|` above it, capped.
pub(crate) const CONTEXTS: usize = 14;
/// Unary positions and lengths with their own model; longer share the last.
const CLASSES: usize = 24;
/// The longest magnitude, in bits, a coder writes or reads.
pub(crate) const MAX_BITS: u32 = 48;
/// Raw bits go to the coder in chunks of at most this many.
const RAW_CHUNK: u32 = 16;

/// The context of one value, from its neighbours' magnitudes.
#[inline]
pub(crate) fn context(quiet: bool, w: u64, n: u64, nw: u64, ne: u64) -> usize {
    if quiet {
        return 0;
    }
    let weighted = w
        .saturating_mul(2)
        .saturating_add(n.saturating_mul(2))
        .saturating_add(nw)
        .saturating_add(ne);
    1 + ((u64::BITS - weighted.leading_zeros()) as usize).min(CONTEXTS - 2)
}

/// Models for one magnitude coder: unary length and the bit below the top.
#[derive(Debug, Clone)]
struct Magnitude {
    length: [AdaptiveBit; CLASSES],
    top: [AdaptiveBit; CLASSES],
}

impl Magnitude {
    const fn new() -> Self {
        Self {
            length: [AdaptiveBit::new(); CLASSES],
            top: [AdaptiveBit::new(); CLASSES],
        }
    }

    /// Codes `a ≥ 1` (at most [`MAX_BITS`] bits).
    fn put(&mut self, enc: &mut RangeEncoder, a: u64) -> Result<(), EncodeError> {
        debug_assert!(a >= 1);
        let bits = u64::BITS - a.leading_zeros();
        debug_assert!(bits <= MAX_BITS);
        for i in 0..bits - 1 {
            enc.encode_bit(true, &mut self.length[(i as usize).min(CLASSES - 1)]);
        }
        if bits < MAX_BITS {
            enc.encode_bit(false, &mut self.length[(bits as usize - 1).min(CLASSES - 1)]);
        }
        if bits >= 2 {
            let below = (a >> (bits - 2)) & 1;
            enc.encode_bit(below == 1, &mut self.top[(bits as usize).min(CLASSES - 1)]);
            put_raw(enc, a, bits - 2)?;
        }
        Ok(())
    }

    fn get(&mut self, dec: &mut RangeDecoder<'_>) -> Result<u64, DecodeError> {
        let mut bits = 1;
        while bits < MAX_BITS && dec.decode_bit(&mut self.length[(bits as usize - 1).min(CLASSES - 1)])? {
            bits += 1;
        }
        let mut a = 1u64;
        if bits >= 2 {
            let below = u64::from(dec.decode_bit(&mut self.top[(bits as usize).min(CLASSES - 1)])?);
            a = (a << 1) | below;
            a = (a << (bits - 2)) | get_raw(dec, bits - 2)?;
        }
        Ok(a)
    }
}

/// The low `count` bits of `value`, most significant chunk first, uniform.
fn put_raw(enc: &mut RangeEncoder, value: u64, count: u32) -> Result<(), EncodeError> {
    let mut left = count;
    while left > 0 {
        let take = left.min(RAW_CHUNK);
        left -= take;
        let chunk = (value >> left) & ((1u64 << take) - 1);
        let model = Uniform::new(1 << take).expect("a chunk of at most 16 bits");
        enc.encode(chunk as usize, &model)?;
    }
    Ok(())
}

fn get_raw(dec: &mut RangeDecoder<'_>, count: u32) -> Result<u64, DecodeError> {
    let mut value = 0u64;
    let mut left = count;
    while left > 0 {
        let take = left.min(RAW_CHUNK);
        left -= take;
        let model = Uniform::new(1 << take).expect("a chunk of at most 16 bits");
        value = (value << take) | dec.decode(&model)? as u64;
    }
    Ok(value)
}

/// Every model of one record's coder, fresh at the start of each record.
#[derive(Debug, Clone)]
pub(crate) struct Models {
    zero: [AdaptiveBit; CONTEXTS],
    /// By context and the sign of the west neighbour's residual.
    sign: [[AdaptiveBit; 3]; CONTEXTS],
    magnitude: [Magnitude; CONTEXTS],
    /// Counts and gaps of the exact values.
    meta: Magnitude,
}

impl Models {
    pub(crate) fn new() -> Self {
        Self {
            zero: [AdaptiveBit::new(); CONTEXTS],
            sign: [[AdaptiveBit::new(); 3]; CONTEXTS],
            magnitude: std::array::from_fn(|_| Magnitude::new()),
            meta: Magnitude::new(),
        }
    }

    /// Codes the residual `d` in context `ctx`, with `west` the west neighbour's residual.
    #[inline]
    pub(crate) fn put(
        &mut self,
        enc: &mut RangeEncoder,
        ctx: usize,
        west: i64,
        d: i64,
    ) -> Result<(), EncodeError> {
        enc.encode_bit(d != 0, &mut self.zero[ctx]);
        if d != 0 {
            let sign_ctx = (west.signum() + 1) as usize;
            enc.encode_bit(d < 0, &mut self.sign[ctx][sign_ctx]);
            self.magnitude[ctx].put(enc, d.unsigned_abs())?;
        }
        Ok(())
    }

    /// Decodes a residual coded by [`put`](Self::put).
    #[inline]
    pub(crate) fn get(
        &mut self,
        dec: &mut RangeDecoder<'_>,
        ctx: usize,
        west: i64,
    ) -> Result<i64, DecodeError> {
        if !dec.decode_bit(&mut self.zero[ctx])? {
            return Ok(0);
        }
        let sign_ctx = (west.signum() + 1) as usize;
        let negative = dec.decode_bit(&mut self.sign[ctx][sign_ctx])?;
        let a = self.magnitude[ctx].get(dec)?;
        // At most MAX_BITS < 63 bits: fits an i64 either way.
        let a = a as i64;
        Ok(if negative { -a } else { a })
    }

    /// Codes a count or gap `v ≥ 0` (below `2^MAX_BITS - 1`).
    pub(crate) fn put_count(&mut self, enc: &mut RangeEncoder, v: u64) -> Result<(), EncodeError> {
        self.meta.put(enc, v + 1)
    }

    /// Decodes a count or gap coded by [`put_count`](Self::put_count).
    pub(crate) fn get_count(&mut self, dec: &mut RangeDecoder<'_>) -> Result<u64, DecodeError> {
        Ok(self.meta.get(dec)? - 1)
    }

    /// Codes 32 raw bits.
    pub(crate) fn put_word(&mut self, enc: &mut RangeEncoder, w: u32) -> Result<(), EncodeError> {
        put_raw(enc, u64::from(w), 32)
    }

    /// Decodes 32 raw bits.
    pub(crate) fn get_word(&mut self, dec: &mut RangeDecoder<'_>) -> Result<u32, DecodeError> {
        Ok(get_raw(dec, 32)? as u32)
    }
}
