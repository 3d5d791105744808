//! Coding tables fitted on training latents: the gap table, the per-unit
//! activity table and the quantised-value table.

use super::{IndexCoding, ValueModel};
use crate::error::{ContainerError, Result};
use crate::latent::SparseLatent;

impl IndexCoding {
    /// A gap table fitted on training latents of length `latent_len`, quantised
    /// to `2^precision`; every gap keeps a nonzero frequency, so latents unlike
    /// the training ones stay codable.
    ///
    /// ```
    /// use sae_container::{IndexCoding, SparseLatent};
    ///
    /// let training = [SparseLatent::new(16, vec![0, 1, 2, 9], vec![1.0; 4])?];
    /// let coding = IndexCoding::fitted(training.iter(), 16, 12)?;
    /// let IndexCoding::Table { frequencies } = coding else { unreachable!() };
    /// assert_eq!(frequencies.len(), 17); // 16 gaps and the terminator
    /// assert!(frequencies[0] > frequencies[5]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fitted<'a>(
        latents: impl IntoIterator<Item = &'a SparseLatent>,
        latent_len: u32,
        precision: u32,
    ) -> Result<Self> {
        let mut gaps = Vec::new();
        for latent in latents {
            check_training_len(latent, latent_len)?;
            let mut next = 0;
            for &i in latent.indices() {
                gaps.push((i - next) as usize);
                next = i + 1;
            }
            gaps.push(latent_len as usize);
        }
        let table = sae_arith::Categorical::from_samples(gaps, latent_len as usize + 1, precision)?;
        Ok(Self::Table {
            frequencies: table.frequencies().collect(),
        })
    }

    /// A [`PerUnit`](Self::PerUnit) model fitted on training latents of length
    /// `latent_len`: each unit's firing rate, smoothed by half a count so that
    /// units never seen active stay codable.
    ///
    /// ```
    /// use sae_container::{IndexCoding, SparseLatent};
    ///
    /// let training = [
    ///     SparseLatent::new(4, vec![0, 2], vec![1.0; 2])?,
    ///     SparseLatent::new(4, vec![2], vec![1.0])?,
    /// ];
    /// let IndexCoding::PerUnit { frequencies } = IndexCoding::fitted_per_unit(training.iter(), 4)? else {
    ///     unreachable!()
    /// };
    /// // (count + 1/2) / (latents + 1) of 2^16: unit 2 fired twice, unit 1 never.
    /// assert_eq!(frequencies, [32768, 10923, 54613, 10923]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fitted_per_unit<'a>(
        latents: impl IntoIterator<Item = &'a SparseLatent>,
        latent_len: u32,
    ) -> Result<Self> {
        let mut counts = vec![0u64; latent_len as usize];
        let mut seen = 0u64;
        for latent in latents {
            check_training_len(latent, latent_len)?;
            for &i in latent.indices() {
                counts[i as usize] += 1;
            }
            seen += 1;
        }
        let total = f64::from(1u32 << Self::PER_UNIT_PRECISION);
        let frequencies = counts
            .iter()
            .map(|&c| {
                let p = (c as f64 + 0.5) / (seen as f64 + 1.0);
                ((p * total).round() as u32).clamp(1, (1 << Self::PER_UNIT_PRECISION) - 1)
            })
            .collect();
        Ok(Self::PerUnit { frequencies })
    }
}

/// Refuses a training latent of another length than the model's.
fn check_training_len(latent: &SparseLatent, latent_len: u32) -> Result<()> {
    if latent.len() != latent_len {
        return Err(ContainerError::InvalidInput {
            what: "training latent",
            reason: format!("length {} differs from {latent_len}", latent.len()),
        });
    }
    Ok(())
}

impl ValueModel {
    /// A table fitted on training `values` quantised with `step`, over
    /// `alphabet` symbols (the last one escapes), quantised to `2^precision`.
    pub fn fitted<'a>(
        values: impl IntoIterator<Item = &'a f32>,
        step: f32,
        alphabet: u32,
        precision: u32,
    ) -> Result<Self> {
        if alphabet < 2 {
            return Err(ContainerError::InvalidInput {
                what: "value model",
                reason: format!("alphabet of {alphabet} symbols leaves no room for the escape"),
            });
        }
        let escape = alphabet as usize - 1;
        let symbols = values
            .into_iter()
            .map(|&v| super::quantize(v, step).map_or(escape, |z| (z as usize).min(escape)));
        let table = sae_arith::Categorical::from_samples(symbols, alphabet as usize, precision)?;
        Ok(Self::Table {
            frequencies: table.frequencies().collect(),
        })
    }
}
