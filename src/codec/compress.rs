//! Records into containers.

use std::io::Write;

use sae_container::{ContainerWriter, Extra, SparseLatent};
use sae_model::{Refinement, SparseCode};

use super::{BATCH, Codec, check_data};
use crate::coding;
use crate::error::{CodecError, Overflow, Result};
use crate::transform;

impl Codec {
    /// Compresses records (row-major, the codec's record shape) into container bytes.
    pub fn compress(&self, records: &[f32]) -> Result<Vec<u8>> {
        self.compress_to(records, Vec::new())
    }

    /// Compresses records into a container written to `sink` as each batch
    /// is encoded; returns the sink once the container is finished.
    pub fn compress_to<W: Write>(&self, records: &[f32], sink: W) -> Result<W> {
        let n = self.model.architecture().input;
        check_data(records, n)?;
        let mut writer = ContainerWriter::new(sink, self.header.clone())?;
        for (b, batch) in records.chunks(BATCH * n).enumerate() {
            let (codes, scales) = self.encode_batch((b * BATCH) as u64, batch)?;
            self.check_readable((b * BATCH) as u64, &codes, &scales)?;
            for (code, scale) in codes.into_iter().zip(scales) {
                let latent = SparseLatent::new(self.header.latent_len, code.indices, code.values)?;
                let extras: Vec<Extra> = scale.map(Extra::compact_scale).into_iter().collect();
                writer.append_with_extras(&latent, &extras)?;
            }
        }
        Ok(writer.finish()?)
    }

    /// The latents compression would store for `records`, values as the
    /// container stores them (after refinement, if this codec refines, and
    /// the value coding's rounding), without writing a container: what a
    /// [`LatentIndex`](crate::search::LatentIndex) query compares with stored records.
    pub fn latents(&self, records: &[f32]) -> Result<Vec<SparseLatent>> {
        let n = self.model.architecture().input;
        check_data(records, n)?;
        let mut out = Vec::with_capacity(records.len() / n);
        for (b, batch) in records.chunks(BATCH * n).enumerate() {
            let (codes, _) = self.encode_batch((b * BATCH) as u64, batch)?;
            for code in self.stored(&codes) {
                out.push(SparseLatent::new(
                    self.header.latent_len,
                    code.indices,
                    code.values,
                )?);
            }
        }
        Ok(out)
    }

    /// The latents of a batch of records (numbered from `first`), as the
    /// container will store them but for its rounding, and their scales.
    pub(crate) fn encode_batch(
        &self,
        first: u64,
        batch: &[f32],
    ) -> Result<(Vec<SparseCode>, Vec<Option<f64>>)> {
        let n = self.model.architecture().input;
        let mut transformed = batch.to_vec();
        let mut scales = Vec::with_capacity(batch.len() / n);
        for (i, record) in transformed.chunks_mut(n).enumerate() {
            let index = first + i as u64;
            let scale = transform::forward(&self.header.transforms, record)?;
            check_encodable(index, record, scale)?;
            scales.push(scale);
        }
        {
            let mut codes = self.model.encode_sparse(&transformed, self.threshold)?;
            if let Some(refinement) = &self.refinement {
                // End the search on the quantiser's grid: rounding after it
                // would undo part of what it found.
                let refinement = Refinement {
                    lattice: refinement.lattice.or(coding::step(&self.header.value_coding)),
                    ..*refinement
                };
                codes = self.model.refine(&transformed, &codes, &refinement)?;
                // Refinement keeps every positive entry; the threshold still applies.
                if self.threshold > 0.0 {
                    codes
                        .iter_mut()
                        .for_each(|code| code.retain_above(self.threshold));
                }
            }
            for code in &mut codes {
                coding::prune(&self.header.value_coding, code);
            }
            Ok((codes, scales))
        }
    }

    /// Refuses a batch whose records, as stored, this codec could not read
    /// back: it decodes them exactly as decompression will (stored values,
    /// then the inverse transforms) and checks that every output is finite,
    /// so compression never writes a file that decompression refuses.
    fn check_readable(&self, first: u64, codes: &[SparseCode], scales: &[Option<f64>]) -> Result<()> {
        let stored = self.stored(codes);
        let mut decoded = self.model.decode_sparse(&stored)?;
        let n = self.model.architecture().input;
        for (i, (record, scale)) in decoded.chunks_mut(n).zip(scales).enumerate() {
            let index = first + i as u64;
            let finite = transform::inverse(&self.header.transforms, record, *scale).is_ok()
                && record.iter().all(|v| v.is_finite());
            if !finite {
                return Err(CodecError::Overflow {
                    record: index,
                    cause: Overflow::Reconstruction,
                });
            }
        }
        Ok(())
    }

    /// The codes with their values as the container stores them.
    pub(crate) fn stored(&self, codes: &[SparseCode]) -> Vec<SparseCode> {
        let coding = &self.header.value_coding;
        codes
            .iter()
            .map(|code| SparseCode {
                indices: code.indices.clone(),
                // An unstorable value is the writer's error to report.
                values: code
                    .values
                    .iter()
                    .map(|&v| coding.stored(v).unwrap_or(0.0))
                    .collect(),
            })
            .collect()
    }
}

/// Refuses a record whose transformed values, or the per-record scale that
/// brings them back, are not finite. A scale past the largest f32 is fine
/// (the container stores it as an f64): whether the record comes back
/// finite is checked on its reconstruction (`Codec::check_readable`).
fn check_encodable(index: u64, transformed: &[f32], scale: Option<f64>) -> Result<()> {
    let overflow = |cause| Err(CodecError::Overflow { record: index, cause });
    if let Some(position) = transformed.iter().position(|v| !v.is_finite()) {
        return overflow(Overflow::Transformed { position });
    }
    if let Some(norm) = scale
        && !norm.is_finite()
    {
        return overflow(Overflow::Norm { norm });
    }
    Ok(())
}
