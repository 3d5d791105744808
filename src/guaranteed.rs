//! The guaranteed mode: every record within an [`ErrorBound`].
//!
//! For each record the compressor takes the cheapest of three codings that
//! meets the bound, checked on exactly what the decompressor computes:
//!
//! 1. the sparse latent alone, when the model's reconstruction meets it;
//! 2. the latent and a `sae-bounded` correction over that reconstruction
//!    (record extra [`Extra::RESIDUAL`]);
//! 3. the record coded by `sae-bounded` alone, no network (extra
//!    [`Extra::BOUNDED`], empty latent, no scale).
//!
//! The reconstruction a bound rests on comes from the [`ExactDecoder`]
//! (a fixed order of operations) and the transforms' inverses in single
//! correctly rounded `f64` operations, so it is the same on every machine.
//! The header records the bound (format 1.2), so that older readers refuse
//! the file instead of returning records without their corrections.

use rayon::prelude::*;
use sae_container::{Choice, ContainerWriter, Extra, Record, SparseLatent, Transform};
use sae_model::{ExactDecoder, SparseCode};

use crate::codec::{BATCH, Codec};
use crate::error::{CodecError, RecordDefect, Result};
use crate::{ErrorBound, transform};

/// How many records took each coding ([`Codec::compress_bounded_to`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Choices {
    /// The latent alone met the bound.
    pub latent: u64,
    /// The latent and a correction.
    pub residual: u64,
    /// Coded directly, without the model.
    pub direct: u64,
}

impl Choices {
    /// All records.
    pub fn total(&self) -> u64 {
        self.latent + self.residual + self.direct
    }
}

/// One record's coding, before it is written.
enum Coded {
    Latent,
    Residual(Vec<u8>),
    Direct(Vec<u8>),
}

/// A correction is tried only where the model's reconstruction is within this
/// many times the bound (`l2`, then the pointwise bounds): on the public SAS
/// images with the recommended model (`docs/results.md` §5) no correction won
/// beyond 3.2× under `l2` bounds and 20× under `abs` bounds, so this skips
/// most tries that cannot win, with a margin.
fn correction_reach(bound: ErrorBound) -> f64 {
    match bound {
        ErrorBound::L2(_) => 8.0,
        ErrorBound::Abs(_) | ErrorBound::Rel(_) => 64.0,
    }
}

/// Bytes a tagged extra of `len` data bytes adds to a record.
fn extra_cost(len: usize) -> u64 {
    let varint = (usize::BITS - len.max(1).leading_zeros()).div_ceil(7) as u64;
    2 + varint + len as u64
}

impl Codec {
    /// The decoder the guaranteed mode rests on, built once.
    pub(crate) fn exact(&self) -> Result<&ExactDecoder> {
        if let Some(exact) = self.exact.get() {
            return Ok(exact);
        }
        let built = ExactDecoder::new(&self.model)?;
        Ok(self.exact.get_or_init(|| built))
    }

    /// Values per row of a record: the last dimension of its shape.
    fn row_len(&self) -> usize {
        self.header.record_shape.last().map_or(1, |&d| d as usize).max(1)
    }

    /// Refuses transforms whose inverse is not the same on every machine.
    fn check_exact_transforms(&self) -> Result<()> {
        for t in &self.header.transforms {
            if !matches!(t, Transform::PerRecordScale | Transform::Affine { .. }) {
                return Err(CodecError::Unsupported {
                    what: format!(
                        "the guaranteed mode with transform {t}: its inverse uses the platform's \
                         exp, which may round differently on another machine (train with the \
                         `l2` or `none` transforms)"
                    ),
                });
            }
        }
        Ok(())
    }

    /// The model's reconstructions of stored codes in the user's units, by
    /// the exact path; `None` for a record whose reconstruction is not finite.
    fn exact_reconstructions(
        &self,
        codes: &[SparseCode],
        scales: &[Option<f64>],
    ) -> Result<Vec<Option<Vec<f32>>>> {
        let n = self.model.architecture().input;
        let decoded = self.exact()?.decode(codes)?;
        Ok(decoded
            .chunks_exact(n)
            .zip(scales)
            .map(|(y, scale)| {
                let mut y = y.to_vec();
                let ok = transform::inverse(&self.header.transforms, &mut y, *scale).is_ok()
                    && y.iter().all(|v| v.is_finite());
                ok.then_some(y)
            })
            .collect())
    }

    /// Compresses records so that every one decompresses within `bound`
    /// of it, on any machine ([`guaranteed`](crate::guaranteed)).
    ///
    /// ```
    /// # use sae_codec::{Codec, CodecConfig, ErrorBound, Transforms};
    /// # use sae_codec::sae_model::{LambdaControl, TrainConfig};
    /// # let data: Vec<f32> = (0..64 * 16).map(|i| ((i % 16) as f32 / 3.0).sin().abs() * (1 + i / 16 % 4) as f32).collect();
    /// # let config = CodecConfig {
    /// #     train: TrainConfig { epochs: 3, batch_size: 16, lambda: LambdaControl::Fixed(1e-3), ..TrainConfig::default() },
    /// #     ..CodecConfig::default()
    /// # };
    /// let (codec, _) = Codec::train(&data, &[16], &config, |_| {})?;
    /// let bound: ErrorBound = "l2:1e-3".parse().unwrap();
    /// let bytes = codec.compress_bounded(&data, bound)?;
    /// let back = codec.decompress(&bytes)?;
    /// assert!(bound.check(&data, &back, 16).unwrap().violations.is_empty());
    /// # Ok::<(), sae_codec::CodecError>(())
    /// ```
    pub fn compress_bounded(&self, records: &[f32], bound: ErrorBound) -> Result<Vec<u8>> {
        Ok(self.compress_bounded_to(records, bound, Vec::new())?.0)
    }

    /// [`compress_bounded`](Self::compress_bounded) into `sink`, batch by
    /// batch; returns the sink and how many records took each coding.
    pub fn compress_bounded_to<W: std::io::Write>(
        &self,
        records: &[f32],
        bound: ErrorBound,
        sink: W,
    ) -> Result<(W, Choices)> {
        let n = self.model.architecture().input;
        crate::codec::check_data(records, n)?;
        self.check_exact_transforms()?;
        let mut header = self.header.clone();
        header.bound = Some(bound);
        let mut writer = ContainerWriter::new(sink, header)?;
        let cols = self.row_len();
        let empty = SparseLatent::new(self.header.latent_len, vec![], vec![])?;
        // A direct record's bytes but for its data (its latent takes none).
        let placeholder = Extra {
            tag: Extra::BOUNDED,
            data: Vec::new(),
        };
        let direct_base = writer.measure(&empty, &[placeholder])?.total() - extra_cost(0);
        let mut choices = Choices::default();
        for (b, batch) in records.chunks(BATCH * n).enumerate() {
            let first = (b * BATCH) as u64;
            let (codes, scales) = self.encode_batch(first, batch)?;
            let stored = self.stored(&codes);
            let bases = self.exact_reconstructions(&stored, &scales)?;
            let mut latents = Vec::with_capacity(codes.len());
            let mut latent_costs = Vec::with_capacity(codes.len());
            for (code, scale) in codes.into_iter().zip(&scales) {
                let latent = SparseLatent::new(self.header.latent_len, code.indices, code.values)?;
                let extras: Vec<Extra> = scale.map(Extra::compact_scale).into_iter().collect();
                latent_costs.push(writer.measure(&latent, &extras)?.total());
                latents.push((latent, extras));
            }
            let coded: Vec<Coded> = batch
                .par_chunks_exact(n)
                .zip(&bases)
                .zip(&latent_costs)
                .enumerate()
                .map(|(i, ((x, base), &latent_cost))| {
                    let record = first + i as u64;
                    let fail = |source| CodecError::Bounded { record, source };
                    // The cheapest of the codings that meet the bound.
                    let direct = sae_bounded::encode(x, cols, None, bound).map_err(fail)?;
                    let direct_cost = direct_base + extra_cost(direct.len());
                    let Some(base) = base else {
                        return Ok(Coded::Direct(direct));
                    };
                    if bound.holds(x, base) {
                        return Ok(if latent_cost <= direct_cost {
                            Coded::Latent
                        } else {
                            Coded::Direct(direct)
                        });
                    }
                    // A correction costs the latent and more: no use where the latent
                    // alone costs more, nor (measured, below) where the base is far off.
                    if latent_cost >= direct_cost
                        || bound.measure(x, base) > correction_reach(bound) * bound.tolerance()
                    {
                        return Ok(Coded::Direct(direct));
                    }
                    let residual = sae_bounded::encode(x, cols, Some(base), bound).map_err(fail)?;
                    if latent_cost + extra_cost(residual.len()) < direct_cost {
                        return Ok(Coded::Residual(residual));
                    }
                    Ok(Coded::Direct(direct))
                })
                .collect::<Result<_>>()?;
            for ((latent, mut extras), coded) in latents.into_iter().zip(coded) {
                match coded {
                    Coded::Latent => {
                        choices.latent += 1;
                        writer.append_with_extras(&latent, &extras)?;
                    }
                    Coded::Residual(data) => {
                        choices.residual += 1;
                        extras.push(Extra {
                            tag: Extra::RESIDUAL,
                            data,
                        });
                        writer.append_with_extras(&latent, &extras)?;
                    }
                    Coded::Direct(data) => {
                        choices.direct += 1;
                        let extras = [Extra {
                            tag: Extra::BOUNDED,
                            data,
                        }];
                        writer.append_with_extras(&empty, &extras)?;
                    }
                }
            }
        }
        Ok((writer.finish()?, choices))
    }

    /// Decodes the records of a file with an error bound (numbered from `first`).
    pub(crate) fn decode_bounded(&self, first: u64, records: Vec<Record>) -> Result<Vec<f32>> {
        self.check_exact_transforms()?;
        let n = self.model.architecture().input;
        let cols = self.row_len();
        let needs_scale = self.header.transforms.contains(&Transform::PerRecordScale);
        // Only records that use the model are decoded through it.
        let mut codes = Vec::with_capacity(records.len());
        let mut scales = Vec::with_capacity(records.len());
        let mut slot = Vec::with_capacity(records.len());
        for (i, record) in records.iter().enumerate() {
            if matches!(record.choice(), Choice::Bounded(_)) {
                slot.push(None);
                continue;
            }
            let scale = record.scale();
            if needs_scale && scale.is_none() {
                return Err(CodecError::CorruptRecord {
                    index: first + i as u64,
                    defect: RecordDefect::MissingScale,
                });
            }
            slot.push(Some(codes.len()));
            scales.push(scale);
            codes.push(SparseCode {
                indices: record.latent.indices().to_vec(),
                values: record.latent.values().to_vec(),
            });
        }
        let decoded = self.exact_reconstructions(&codes, &scales)?;
        let bases: Vec<Option<&Vec<f32>>> =
            slot.iter().map(|s| s.and_then(|k| decoded[k].as_ref())).collect();
        let mut out = vec![0.0f32; records.len() * n];
        out.par_chunks_exact_mut(n)
            .zip(&records)
            .zip(&bases)
            .enumerate()
            .try_for_each(|(i, ((out, record), base))| {
                let index = first + i as u64;
                let corrupt = |defect| CodecError::CorruptRecord { index, defect };
                match record.choice() {
                    Choice::Bounded(bytes) => sae_bounded::decode(bytes, cols, None, out)
                        .map_err(|e| corrupt(RecordDefect::Direct(e))),
                    choice => {
                        let base = base.ok_or(CodecError::NonFiniteOutput { record: index })?;
                        match choice {
                            Choice::Residual(bytes) => sae_bounded::decode(bytes, cols, Some(base), out)
                                .map_err(|e| corrupt(RecordDefect::Correction(e))),
                            _ => {
                                out.copy_from_slice(base);
                                Ok(())
                            }
                        }
                    }
                }
            })?;
        Ok(out)
    }
}
