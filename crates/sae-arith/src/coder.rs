//! Arithmetic shared by the encoder and the decoder.
//!
//! The coder state is a 64-bit interval `[low, low + range)` with
//! `range >= 2^32` after every step; it is renormalised by whole 32-bit words.
//! A symbol with frequency interval `[start, start + width)` out of `total`
//! narrows the range to `r * width` with `r = range / total` (a shift when
//! `total` is a power of two).

/// Renormalisation threshold: the range is kept at or above `2^32`.
pub(crate) const RANGE_MIN: u64 = 1 << 32;

/// `range / total`, as a shift when `total` is a power of two (the common,
/// static-model case) because a 64-bit division costs ten times more.
#[inline(always)]
pub(crate) fn scale(range: u64, total: u32) -> u64 {
    if total.is_power_of_two() {
        range >> total.trailing_zeros()
    } else {
        range / u64::from(total)
    }
}

/// Number of bytes the encoder writes when it finishes in a state of this
/// `range`, given that the decoder may read anything after them.
///
/// With `b = floor(log2(range)) - 1`, the interval `[low, low + range)` holds a
/// whole aligned block of `2^b` values, so the top `64 - b` bits of its start
/// identify the message whatever bits follow.
#[inline]
pub(crate) fn tail_bytes(range: u64) -> usize {
    (64 - tail_block_bits(range) as usize).div_ceil(8)
}

/// `b` such that an aligned block of `2^b` values fits the final interval.
#[inline]
pub(crate) fn tail_block_bits(range: u64) -> u32 {
    63 - range.leading_zeros() - 1
}
