//! Error-bounded coding of float records, for the values a learned model
//! cannot be trusted with.
//!
//! [`encode`] codes one record (a 2-D array of `f32`, row by row) so that the
//! values [`decode`] returns meet an [`ErrorBound`] — `l2:E` (relative L2 of
//! the record), `abs:E` or `rel:E` (pointwise) — and checks that by decoding
//! what it wrote. An optional *base* of the same shape is a prediction the
//! decoder also has (an autoencoder's reconstruction, say): the record is then
//! coded as its difference from the base.
//!
//! How: every value becomes an integer on a grid fine enough for the bound —
//! a step of the values themselves (`abs`, `l2`; the `l2` step is searched per
//! record) or of their order-preserving bit patterns (`rel`, where a step of
//! `Δ` patterns is a relative error below `Δ·2⁻²³`, and zero stays zero). The
//! integers are predicted from their decoded neighbours (the 2-D Lorenzo
//! predictor `W + N − NW`, or no prediction — whichever codes shorter) and
//! the residuals are range coded by `sae-arith` under adaptive binary models
//! chosen by the neighbours' residuals. Values the grid cannot bring within
//! the bound (float rounding at the edge, subnormals) are stored exactly.
//! Integer arithmetic and single correctly rounded `f64` operations only, so
//! every machine decodes the same bits.
//!
//! ```
//! use sae_bounded::{decode, encode, ErrorBound};
//!
//! // A smooth 16×16 image.
//! let image: Vec<f32> = (0..256)
//!     .map(|i| {
//!         let (r, c) = ((i / 16) as f32, (i % 16) as f32);
//!         100.0 / (1.0 + 0.1 * (r - 8.0).powi(2) + 0.1 * (c - 8.0).powi(2))
//!     })
//!     .collect();
//! for bound in ["l2:1e-3", "abs:0.01", "rel:1e-4"] {
//!     let bound: ErrorBound = bound.parse()?;
//!     let bytes = encode(&image, 16, None, bound)?;
//!     let mut back = vec![0.0f32; 256];
//!     decode(&bytes, 16, None, &mut back)?;
//!     assert!(bound.holds(&image, &back));
//!     assert!(bytes.len() < 256 * 4 / 2, "{bound}: {} bytes", bytes.len());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Format
//!
//! A record is a kind byte, a 4-byte little-endian parameter and one
//! `sae-arith` message that ends exactly at the end of the record's bytes;
//! `docs/format.md` (§ bounded records) specifies it.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod bound;
mod coder;
mod error;

pub use bound::{BoundReport, ErrorBound, Violation};
pub use error::{DecodeError, EncodeError};

use coder::Models;
use sae_arith::{RangeDecoder, RangeEncoder};

/// Bytes before the range-coded message: the kind and the parameter.
pub const HEAD_LEN: usize = 5;
/// Kind bit 0: the grid is of bit patterns (set) or of values (clear).
pub const KIND_PATTERNS: u8 = 0x01;
/// Kind bit 1: the integers are predicted by 2-D Lorenzo (set) or not at all (clear).
pub const KIND_LORENZO: u8 = 0x02;
/// The kind bits this version defines; any other set bit is refused.
pub const KIND_KNOWN: u8 = KIND_PATTERNS | KIND_LORENZO;
/// Largest half-width of a bit-pattern grid (`Δ ≤ 2²³` keeps `rel` errors below `Δ·2⁻²³`).
pub const MAX_HALF_WIDTH: u32 = 1 << 23;
/// Quantised values are kept within `±2^40`; a value further out is stored exactly.
const MAX_LEVEL: i64 = 1 << 40;
/// The order-preserving pattern of `f32::MAX`, the largest finite value.
const MAX_PATTERN: i64 = 0x7f7f_ffff;

/// The grid of one record: what an integer means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Grid {
    /// Value `base + k·step`, computed in `f64` and rounded to `f32`.
    Values {
        /// The step, a finite positive normal `f32`.
        step: f32,
    },
    /// The value whose order-preserving bit pattern is `pattern(base) + k·(2·half + 1)`.
    Patterns {
        /// The half-width `Δ ≤ MAX_HALF_WIDTH`; 0 is lossless.
        half: u32,
    },
}

/// How one record was coded, as [`describe`] reads it from the bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coding {
    /// The grid.
    pub grid: Grid,
    /// Whether the Lorenzo predictor was used.
    pub lorenzo: bool,
}

/// The order-preserving integer of an `f32`'s bits (`-0.0` and `0.0` both 0).
#[inline]
fn pattern(v: f32) -> i64 {
    let bits = v.to_bits();
    let magnitude = i64::from(bits & 0x7fff_ffff);
    if bits >> 31 == 1 { -magnitude } else { magnitude }
}

/// The `f32` of an order-preserving integer, clamped to the finite values.
#[inline]
fn from_pattern(p: i64) -> f32 {
    let p = p.clamp(-MAX_PATTERN, MAX_PATTERN);
    if p < 0 {
        f32::from_bits(((-p) as u32) | 0x8000_0000)
    } else {
        f32::from_bits(p as u32)
    }
}

impl Grid {
    /// The value integer `k` stands for over `base`: the one definition both
    /// sides use.
    #[inline]
    fn value(self, base: f32, k: i64) -> f32 {
        match self {
            Self::Values { step } => (f64::from(base) + k as f64 * f64::from(step)) as f32,
            Self::Patterns { half } => {
                let q = 2 * i64::from(half) + 1;
                from_pattern(pattern(base).saturating_add(k.saturating_mul(q)))
            }
        }
    }

    /// The integer nearest `x` over `base`.
    #[inline]
    fn level(self, base: f32, x: f32) -> i64 {
        match self {
            Self::Values { step } => {
                // Nearest, ties to even, by the 2^52 + 2^51 trick: exact within
                // ±2^51, where the clamp keeps it (an overflow to ±∞ included).
                const MAGIC: f64 = 6_755_399_441_055_744.0;
                let k = ((f64::from(x) - f64::from(base)) / f64::from(step))
                    .clamp(-(MAX_LEVEL as f64), MAX_LEVEL as f64);
                ((k + MAGIC) - MAGIC) as i64
            }
            Self::Patterns { half } => {
                let q = 2 * i64::from(half) + 1;
                (pattern(x) - pattern(base) + i64::from(half)).div_euclid(q)
            }
        }
    }

    fn kind_and_parameter(self) -> (u8, u32) {
        match self {
            Self::Values { step } => (0, step.to_bits()),
            Self::Patterns { half } => (KIND_PATTERNS, half),
        }
    }
}

/// A record quantised on a grid: the integers, and the values stored exactly.
struct Quantised {
    levels: Vec<i64>,
    values: Vec<f32>,
    exact: Vec<u32>,
}

fn quantise(record: &[f32], base: Option<&[f32]>, grid: Grid, bound: ErrorBound) -> Quantised {
    let mut levels = Vec::with_capacity(record.len());
    let mut values = Vec::with_capacity(record.len());
    let mut exact = Vec::new();
    for (i, &x) in record.iter().enumerate() {
        let b = base.map_or(0.0, |b| b[i]);
        let k = grid.level(b, x);
        let mut v = grid.value(b, k);
        if !bound.point_within(x, v) {
            v = x;
            exact.push(i as u32);
        }
        levels.push(k);
        values.push(v);
    }
    Quantised {
        levels,
        values,
        exact,
    }
}

/// Checks shapes and finiteness before coding.
fn check_input(record: &[f32], cols: usize, base: Option<&[f32]>) -> Result<(), EncodeError> {
    if cols == 0 || !record.len().is_multiple_of(cols) || u32::try_from(record.len()).is_err() {
        return Err(EncodeError::Shape {
            len: record.len(),
            cols,
        });
    }
    if let Some(base) = base {
        if base.len() != record.len() {
            return Err(EncodeError::BaseLength {
                expected: record.len(),
                found: base.len(),
            });
        }
        if let Some((index, &value)) = base.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(EncodeError::BaseNonFinite { index, value });
        }
    }
    if let Some((index, &value)) = record.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(EncodeError::NonFinite { index, value });
    }
    Ok(())
}

/// The lossless grid: every bit pattern its own level.
const LOSSLESS: Grid = Grid::Patterns { half: 0 };

/// The coarsest grid the bound allows (for `l2`, searched on the record).
fn choose_grid(record: &[f32], base: Option<&[f32]>, bound: ErrorBound) -> Grid {
    match bound {
        ErrorBound::Abs(e) => {
            // Half a step within the bound, less a margin for the rounding to f32.
            let step = (2.0 * e * (1.0 - 1.0 / f64::from(1u32 << 20))) as f32;
            match step {
                s if s.is_normal() => Grid::Values { step: s },
                s if s == f32::INFINITY => Grid::Values { step: f32::MAX },
                _ => LOSSLESS,
            }
        }
        ErrorBound::Rel(e) => {
            let half = (e.min(1.0) * f64::from(MAX_HALF_WIDTH)).floor() as u32;
            Grid::Patterns { half }
        }
        ErrorBound::L2(_) => l2_grid(record, base, bound),
    }
}

/// The largest step whose quantised record meets an `l2` bound.
fn l2_grid(record: &[f32], base: Option<&[f32]>, bound: ErrorBound) -> Grid {
    // The record's error on a grid, as `ErrorBound::measure` sums it, without
    // building the quantised record (values the grid misses are stored exactly).
    let norm2: f64 = record.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    let error = |step: f32| {
        let grid = Grid::Values { step };
        let mut diff = 0.0f64;
        for (i, &x) in record.iter().enumerate() {
            let b = base.map_or(0.0, |b| b[i]);
            let v = grid.value(b, grid.level(b, x));
            if v.is_finite() {
                let d = f64::from(v) - f64::from(x);
                diff += d * d;
            }
        }
        match (diff, norm2) {
            (0.0, _) => 0.0,
            (_, 0.0) => f64::INFINITY,
            _ => (diff / norm2).sqrt(),
        }
    };
    let tolerance = bound.tolerance();
    if error(f32::MAX) <= tolerance {
        return Grid::Values { step: f32::MAX };
    }
    let norm = norm2.sqrt();
    // A uniform error of step²/12 on every value is exactly the bound.
    let guess = (tolerance * norm * (12.0 / record.len() as f64).sqrt()) as f32;
    if !guess.is_normal() {
        return LOSSLESS;
    }
    // Bracket: `good` meets the bound, `bad` does not; the error grows about
    // as the step, so each try scales the step by how far off the last was.
    // (step, error) pairs.
    let (mut good, mut bad) = (None::<(f32, f64)>, None::<(f32, f64)>);
    let mut step = guess;
    for _ in 0..64 {
        let e = error(step);
        let factor = if e > 0.0 {
            (tolerance / e).clamp(0.25, 4.0)
        } else {
            4.0
        };
        if e <= tolerance {
            good = Some((step, e));
            if bad.is_some() {
                break;
            }
            step *= (factor * 1.02) as f32;
            if !step.is_finite() {
                break;
            }
        } else {
            bad = Some((step, e));
            if good.is_some() {
                break;
            }
            step *= (factor * 0.98) as f32;
            if !step.is_normal() {
                break;
            }
        }
    }
    let (Some(mut good), Some(mut bad)) = (good, bad) else {
        return good.map_or(LOSSLESS, |(step, _)| Grid::Values { step });
    };
    // Interpolated bisection in log–log space, kept inside the bracket, to
    // within 0.5% of the largest step that meets the bound.
    for _ in 0..40 {
        if bad.0 / good.0 <= 1.005 {
            break;
        }
        let (lg, lb) = (f64::from(good.0).ln(), f64::from(bad.0).ln());
        let t = if good.1 > 0.0 && bad.1.is_finite() {
            ((tolerance.ln() - good.1.ln()) / (bad.1.ln() - good.1.ln())).clamp(0.1, 0.9)
        } else {
            0.5
        };
        let mid = (lg + t * (lb - lg)).exp() as f32;
        if mid <= good.0 || mid >= bad.0 {
            break;
        }
        let e = error(mid);
        if e <= tolerance {
            good = (mid, e);
        } else {
            bad = (mid, e);
        }
    }
    let good = good.0;
    Grid::Values { step: good }
}

/// The neighbourhood of one position: prediction, context and west residual.
#[inline]
fn neighbourhood(
    levels: &[i64],
    residuals: &[i64],
    i: usize,
    cols: usize,
    lorenzo: bool,
) -> Option<(i64, usize, i64)> {
    let (r, c) = (i / cols, i % cols);
    let at = |j: usize| (levels[j], residuals[j].unsigned_abs());
    let zero = (0i64, 0u64);
    let w = if c > 0 { at(i - 1) } else { zero };
    let n = if r > 0 { at(i - cols) } else { zero };
    let nw = if r > 0 && c > 0 { at(i - cols - 1) } else { zero };
    let ne = if r > 0 && c + 1 < cols {
        at(i - cols + 1)
    } else {
        zero
    };
    let quiet = w.0 == 0 && n.0 == 0 && nw.0 == 0 && ne.0 == 0;
    let ctx = coder::context(quiet, w.1, n.1, nw.1, ne.1);
    let prediction = if !lorenzo {
        0
    } else {
        match (r, c) {
            (0, 0) => 0,
            (0, _) => w.0,
            (_, 0) => n.0,
            _ => w.0.checked_add(n.0)?.checked_sub(nw.0)?,
        }
    };
    let west = if c > 0 { residuals[i - 1] } else { 0 };
    Some((prediction, ctx, west))
}

fn write(q: &Quantised, cols: usize, grid: Grid, lorenzo: bool) -> Result<Vec<u8>, EncodeError> {
    let (kind, parameter) = grid.kind_and_parameter();
    let kind = kind | if lorenzo { KIND_LORENZO } else { 0 };
    let mut head = Vec::with_capacity(HEAD_LEN + q.levels.len() / 4);
    head.push(kind);
    head.extend_from_slice(&parameter.to_le_bytes());
    let mut enc = RangeEncoder::with_buffer(head);
    let mut models = Models::new();
    let mut residuals = vec![0i64; q.levels.len()];
    for i in 0..q.levels.len() {
        let (prediction, ctx, west) = neighbourhood(&q.levels, &residuals, i, cols, lorenzo)
            .expect("levels within ±2^40 predict within i64");
        let d = q.levels[i] - prediction;
        models.put(&mut enc, ctx, west, d)?;
        residuals[i] = d;
    }
    models.put_count(&mut enc, q.exact.len() as u64)?;
    let mut next = 0u64;
    for &position in &q.exact {
        models.put_count(&mut enc, u64::from(position) - next)?;
        models.put_word(&mut enc, q.values[position as usize].to_bits())?;
        next = u64::from(position) + 1;
    }
    Ok(enc.finish())
}

/// Codes `record` (rows of `cols` values) so that [`decode`] returns values
/// within `bound` of it, given the same `base`.
///
/// Every value must be finite; so must the base's. The record is decoded
/// before it is returned and refused with [`EncodeError::Unmet`] should it not
/// meet the bound (which would be this library's bug: a lossless coding is
/// tried before giving up).
pub fn encode(
    record: &[f32],
    cols: usize,
    base: Option<&[f32]>,
    bound: ErrorBound,
) -> Result<Vec<u8>, EncodeError> {
    check_input(record, cols, base)?;
    let mut grid = choose_grid(record, base, bound);
    loop {
        let q = quantise(record, base, grid, bound);
        let mut best: Option<Vec<u8>> = None;
        for lorenzo in [true, false] {
            let bytes = write(&q, cols, grid, lorenzo)?;
            if best.as_ref().is_none_or(|b| bytes.len() < b.len()) {
                best = Some(bytes);
            }
        }
        let bytes = best.expect("two candidates");
        let mut back = vec![0.0f32; record.len()];
        let holds = decode(&bytes, cols, base, &mut back).is_ok() && bound.holds(record, &back);
        if holds {
            return Ok(bytes);
        }
        if grid == LOSSLESS {
            return Err(EncodeError::Unmet {
                bound: bound.to_string(),
                achieved: bound.measure(record, &back),
            });
        }
        grid = LOSSLESS;
    }
}

/// Reads how a record was coded from its first bytes.
pub fn describe(bytes: &[u8]) -> Result<Coding, DecodeError> {
    let head = bytes.get(..HEAD_LEN).ok_or(DecodeError::Truncated {
        needed: HEAD_LEN,
        found: bytes.len(),
    })?;
    let kind = head[0];
    if kind & !KIND_KNOWN != 0 {
        return Err(DecodeError::Kind { kind });
    }
    let parameter = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
    let grid = if kind & KIND_PATTERNS != 0 {
        if parameter > MAX_HALF_WIDTH {
            return Err(DecodeError::HalfWidth {
                half: parameter,
                max: MAX_HALF_WIDTH,
            });
        }
        Grid::Patterns { half: parameter }
    } else {
        let step = f32::from_bits(parameter);
        if !(step.is_normal() && step > 0.0) {
            return Err(DecodeError::Step { step });
        }
        Grid::Values { step }
    };
    Ok(Coding {
        grid,
        lorenzo: kind & KIND_LORENZO != 0,
    })
}

/// Decodes a record coded by [`encode`] into `out` (its length is the
/// record's), rows of `cols` values, over the same `base`.
///
/// Any bytes give either the record or a typed error; the work and memory
/// are bounded by `out.len()`.
pub fn decode(bytes: &[u8], cols: usize, base: Option<&[f32]>, out: &mut [f32]) -> Result<(), DecodeError> {
    let len = out.len();
    if cols == 0 || !len.is_multiple_of(cols) {
        return Err(DecodeError::Shape { len, cols });
    }
    if let Some(base) = base
        && base.len() != len
    {
        return Err(DecodeError::BaseLength {
            expected: len,
            found: base.len(),
        });
    }
    let coding = describe(bytes)?;
    let message = &bytes[HEAD_LEN..];
    let mut dec = RangeDecoder::new(message)?;
    let mut models = Models::new();
    let mut levels = vec![0i64; len];
    let mut residuals = vec![0i64; len];
    for i in 0..len {
        let (prediction, ctx, west) = neighbourhood(&levels, &residuals, i, cols, coding.lorenzo)
            .ok_or(DecodeError::Overflow { index: i })?;
        let d = models.get(&mut dec, ctx, west)?;
        let k = prediction
            .checked_add(d)
            .ok_or(DecodeError::Overflow { index: i })?;
        if k.unsigned_abs() > 4 * MAX_LEVEL as u64 {
            return Err(DecodeError::Overflow { index: i });
        }
        levels[i] = k;
        residuals[i] = d;
    }
    for (i, (o, &k)) in out.iter_mut().zip(&levels).enumerate() {
        *o = coding.grid.value(base.map_or(0.0, |b| b[i]), k);
    }
    let count = models.get_count(&mut dec)?;
    if count > len as u64 {
        return Err(DecodeError::Exact { position: count, len });
    }
    let mut next = 0u64;
    for _ in 0..count {
        let position = next
            .checked_add(models.get_count(&mut dec)?)
            .filter(|&p| p < len as u64)
            .ok_or(DecodeError::Exact { position: next, len })?;
        out[position as usize] = f32::from_bits(models.get_word(&mut dec)?);
        next = position + 1;
    }
    let used = dec.finish()?;
    if used != message.len() {
        return Err(DecodeError::Trailing {
            message: used,
            payload: message.len(),
        });
    }
    if let Some(index) = out.iter().position(|v| !v.is_finite()) {
        return Err(DecodeError::NonFinite { index });
    }
    Ok(())
}
