//! The range encoder.

use std::io::Write;

use crate::coder::{RANGE_MIN, scale, tail_block_bits, tail_bytes};
use crate::{AdaptiveModel, EncodeError, MAX_TOTAL, ProbabilityModel};

/// Encodes symbols into a growing byte vector.
///
/// The output is a sequence of big-endian 32-bit words followed by a short
/// tail (1 to 8 bytes). A carry out of the 64-bit state is resolved without
/// rewriting output: the last word that a carry could still change is held
/// back, together with a count of the all-ones words after it (LZMA's scheme,
/// on 32-bit words).
///
/// The message is self-delimiting: a [`RangeDecoder`](crate::RangeDecoder)
/// decodes it correctly whatever bytes follow it, and tells where it ended.
///
/// ```
/// use sae_arith::{Categorical, RangeDecoder, RangeEncoder};
///
/// let model = Categorical::from_frequencies(&[6, 1, 1])?;
/// let mut encoder = RangeEncoder::new();
/// for symbol in [0, 0, 1, 0, 2, 0] {
///     encoder.encode(symbol, &model)?;
/// }
/// let bytes = encoder.finish();
/// assert_eq!(bytes, [0x78, 0x00]); // 2 bytes for 6 symbols
///
/// let mut decoder = RangeDecoder::new(&bytes)?;
/// let decoded: Vec<usize> = (0..6).map(|_| decoder.decode(&model)).collect::<Result<_, _>>()?;
/// assert_eq!(decoded, [0, 0, 1, 0, 2, 0]);
/// assert_eq!(decoder.finish()?, bytes.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RangeEncoder {
    out: Vec<u8>,
    low: u64,
    range: u64,
    /// The most recent word a carry could still increment, if any.
    cache: Option<u32>,
    /// All-ones words emitted after `cache`, through which a carry would ripple.
    pending_ones: u64,
}

impl Default for RangeEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl RangeEncoder {
    /// An encoder with an empty output buffer.
    pub fn new() -> Self {
        Self::with_buffer(Vec::new())
    }

    /// An encoder that appends to `buffer` (which keeps its current contents).
    ///
    /// Use it to code several messages back to back into one vector.
    pub fn with_buffer(buffer: Vec<u8>) -> Self {
        Self {
            out: buffer,
            low: 0,
            range: u64::MAX,
            cache: None,
            pending_ones: 0,
        }
    }

    /// Encodes `symbol` under a static `model`.
    #[inline]
    pub fn encode<M: ProbabilityModel + ?Sized>(
        &mut self,
        symbol: usize,
        model: &M,
    ) -> Result<(), EncodeError> {
        let total = model.total();
        if total == 0 || total > MAX_TOTAL {
            return Err(EncodeError::InvalidTotal { total });
        }
        let Some(iv) = model.interval(symbol) else {
            return Err(EncodeError::SymbolOutOfRange {
                symbol,
                alphabet_size: model.alphabet_size(),
            });
        };
        if iv.width == 0 {
            return Err(EncodeError::ZeroProbability { symbol });
        }
        if u64::from(iv.start) + u64::from(iv.width) > u64::from(total) {
            return Err(EncodeError::InvalidInterval {
                symbol,
                start: iv.start,
                width: iv.width,
                total,
            });
        }
        let r = scale(self.range, total);
        let (low, carry) = self.low.overflowing_add(r * u64::from(iv.start));
        self.low = low;
        if carry {
            self.propagate_carry();
        }
        self.range = r * u64::from(iv.width);
        if self.range < RANGE_MIN {
            self.shift_word();
        }
        Ok(())
    }

    /// Encodes `symbol` under an adaptive `model`, then updates the model.
    #[inline]
    pub fn encode_adaptive<M: AdaptiveModel>(
        &mut self,
        symbol: usize,
        model: &mut M,
    ) -> Result<(), EncodeError> {
        self.encode(symbol, &model.current())?;
        model.update(symbol);
        Ok(())
    }

    /// Encodes one bit under an [`AdaptiveBit`], then updates it: the same
    /// bytes as [`encode_adaptive`](Self::encode_adaptive), without its
    /// generic checks (an adaptive bit is always a valid model).
    #[inline]
    pub fn encode_bit(&mut self, bit: bool, model: &mut crate::AdaptiveBit) {
        let r = self.range >> crate::AdaptiveBit::PRECISION;
        let ones = u64::from(model.ones());
        let zeros = (1u64 << crate::AdaptiveBit::PRECISION) - ones;
        if bit {
            let (low, carry) = self.low.overflowing_add(r * zeros);
            self.low = low;
            if carry {
                self.propagate_carry();
            }
            self.range = r * ones;
        } else {
            self.range = r * zeros;
        }
        if self.range < RANGE_MIN {
            self.shift_word();
        }
        crate::AdaptiveModel::update(model, usize::from(bit));
    }

    /// Encodes every symbol of `symbols` under a static `model`.
    pub fn encode_all<M: ProbabilityModel + ?Sized>(
        &mut self,
        symbols: impl IntoIterator<Item = usize>,
        model: &M,
    ) -> Result<(), EncodeError> {
        symbols.into_iter().try_for_each(|s| self.encode(s, model))
    }

    /// A carry left the 64-bit window: add it to the held-back word; the
    /// all-ones words after it become zeros. Everything is final afterwards,
    /// because the interval now lies below the next multiple of that word.
    #[cold]
    fn propagate_carry(&mut self) {
        // A carry cannot happen before the first word is shifted out or twice
        // without a shift in between: the interval's top never grows.
        let cache = self.cache.take().unwrap_or_default();
        self.out.extend_from_slice(&cache.wrapping_add(1).to_be_bytes());
        for _ in 0..self.pending_ones {
            self.out.extend_from_slice(&[0; 4]);
        }
        self.pending_ones = 0;
    }

    /// Moves the top word of `low` out of the window.
    #[inline]
    fn shift_word(&mut self) {
        let word = (self.low >> 32) as u32;
        self.low <<= 32;
        self.range <<= 32;
        match self.cache {
            Some(_) if word == u32::MAX => self.pending_ones += 1,
            Some(cache) => {
                self.out.extend_from_slice(&cache.to_be_bytes());
                for _ in 0..self.pending_ones {
                    self.out.extend_from_slice(&[0xff; 4]);
                }
                self.pending_ones = 0;
                self.cache = Some(word);
            }
            // After a carry (or at the start) nothing can ripple into what is
            // already written, so even an all-ones word may be held back.
            None => self.cache = Some(word),
        }
    }

    /// Number of bytes `finish` would return now (the current compressed size).
    pub fn len_if_finished(&self) -> usize {
        let held = usize::from(self.cache.is_some()) + self.pending_ones as usize;
        self.out.len() + 4 * held + tail_bytes(self.range)
    }

    /// Writes the shortest tail that identifies the message and returns the bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.flush_tail();
        self.out
    }

    fn flush_tail(&mut self) {
        let block = 1u64 << tail_block_bits(self.range);
        let (rounded, carry) = self.low.overflowing_add(block - 1);
        self.low = rounded & !(block - 1);
        if carry {
            self.propagate_carry();
        }
        if let Some(cache) = self.cache.take() {
            self.out.extend_from_slice(&cache.to_be_bytes());
            for _ in 0..self.pending_ones {
                self.out.extend_from_slice(&[0xff; 4]);
            }
        }
        self.pending_ones = 0;
        let tail = tail_bytes(self.range);
        self.out.extend_from_slice(&self.low.to_be_bytes()[..tail]);
    }
}

/// A [`RangeEncoder`] that streams its output into any [`Write`].
///
/// Finished words are buffered and written in blocks of 64 KiB, so the hot
/// path stays the same as the in-memory encoder's.
///
/// ```
/// use sae_arith::{StreamEncoder, Uniform};
///
/// let model = Uniform::new(256)?;
/// let mut encoder = StreamEncoder::new(Vec::new());
/// for byte in b"hello" {
///     encoder.encode(usize::from(*byte), &model)?;
/// }
/// let (sink, written) = encoder.finish()?;
/// assert_eq!(written, sink.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct StreamEncoder<W: Write> {
    inner: RangeEncoder,
    sink: W,
    written: u64,
}

impl<W: Write> StreamEncoder<W> {
    const FLUSH_AT: usize = 1 << 16;

    /// An encoder writing into `sink`.
    pub fn new(sink: W) -> Self {
        Self {
            inner: RangeEncoder::with_buffer(Vec::with_capacity(Self::FLUSH_AT + 64)),
            sink,
            written: 0,
        }
    }

    /// Encodes `symbol` under a static `model`.
    #[inline]
    pub fn encode<M: ProbabilityModel + ?Sized>(
        &mut self,
        symbol: usize,
        model: &M,
    ) -> Result<(), EncodeError> {
        self.inner.encode(symbol, model)?;
        self.flush_if_full()
    }

    /// Encodes `symbol` under an adaptive `model`, then updates the model.
    #[inline]
    pub fn encode_adaptive<M: AdaptiveModel>(
        &mut self,
        symbol: usize,
        model: &mut M,
    ) -> Result<(), EncodeError> {
        self.inner.encode_adaptive(symbol, model)?;
        self.flush_if_full()
    }

    #[inline]
    fn flush_if_full(&mut self) -> Result<(), EncodeError> {
        if self.inner.out.len() >= Self::FLUSH_AT {
            self.write_out()?;
        }
        Ok(())
    }

    fn write_out(&mut self) -> Result<(), EncodeError> {
        self.sink.write_all(&self.inner.out)?;
        self.written += self.inner.out.len() as u64;
        self.inner.out.clear();
        Ok(())
    }

    /// Writes the tail, flushes the sink and returns it with the number of bytes written.
    pub fn finish(mut self) -> Result<(W, usize), EncodeError> {
        self.inner.flush_tail();
        self.write_out()?;
        self.sink.flush()?;
        Ok((self.sink, self.written as usize))
    }
}
