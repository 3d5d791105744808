//! Quality and size of a compression run, in the original data domain.

use crate::error::{CodecError, Result};

/// Mean, extremes and percentiles of a per-record quantity.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Mean.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest value.
    pub max: f64,
}

impl Summary {
    /// Summarises `values` (empty input gives NaN everywhere).
    pub fn of(values: &[f64]) -> Self {
        let mut sorted: Vec<f64> = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let at = |p: f64| {
            if sorted.is_empty() {
                f64::NAN
            } else {
                sorted[((sorted.len() - 1) as f64 * p).round() as usize]
            }
        };
        Self {
            mean: if sorted.is_empty() {
                f64::NAN
            } else {
                sorted.iter().sum::<f64>() / sorted.len() as f64
            },
            min: at(0.0),
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

/// The figures reported for every compression run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Metrics {
    /// Number of records compared.
    pub records: usize,
    /// Relative L2 error `‖x̂ − x‖ / ‖x‖` per record.
    pub rel_l2: Summary,
    /// `10 log10(peak² / MSE)` over all values, with `peak = max |x|`.
    pub psnr_db: f64,
    /// Largest absolute error of any value.
    pub max_abs_error: f64,
    /// The paper's ratio: values per nonzero latent entry, per record (if nonzeros are known).
    pub values_per_nonzero: Option<Summary>,
    /// Raw f32 bytes over container bytes, everything included (if the size is known).
    pub byte_ratio: Option<f64>,
}

impl Metrics {
    /// Compares `reconstruction` with `original` (records of `record_len`
    /// values); `nnz` per record and the container's size add the ratios.
    pub fn compute(
        original: &[f32],
        reconstruction: &[f32],
        record_len: usize,
        nnz: Option<&[usize]>,
        container_bytes: Option<u64>,
    ) -> Result<Self> {
        if original.len() != reconstruction.len()
            || record_len == 0
            || !original.len().is_multiple_of(record_len)
        {
            return Err(CodecError::shape(format!(
                "{} original and {} reconstructed values in records of {record_len}",
                original.len(),
                reconstruction.len()
            )));
        }
        // NaN would vanish from maxima and poison means: refuse it.
        for data in [original, reconstruction] {
            if let Some(position) = data.iter().position(|v| !v.is_finite()) {
                return Err(sae_model::ModelError::NonFinite { position }.into());
            }
        }
        let records = original.len() / record_len;
        let mut rel = Vec::with_capacity(records);
        let (mut sq_err, mut peak, mut max_abs) = (0.0f64, 0.0f64, 0.0f64);
        for (x, y) in original.chunks(record_len).zip(reconstruction.chunks(record_len)) {
            let (mut e, mut norm) = (0.0f64, 0.0f64);
            for (&a, &b) in x.iter().zip(y) {
                let d = f64::from(b) - f64::from(a);
                e += d * d;
                norm += f64::from(a) * f64::from(a);
                peak = peak.max(f64::from(a).abs());
                max_abs = max_abs.max(d.abs());
            }
            sq_err += e;
            rel.push(if norm > 0.0 { (e / norm).sqrt() } else { e.sqrt() });
        }
        let mse = sq_err / original.len() as f64;
        let values_per_nonzero = match nnz {
            Some(nnz) if nnz.len() == records => Some(Summary::of(
                &nnz.iter()
                    .map(|&k| record_len as f64 / (k.max(1)) as f64)
                    .collect::<Vec<_>>(),
            )),
            Some(nnz) => {
                return Err(CodecError::shape(format!(
                    "{} nonzero counts for {records} records",
                    nnz.len()
                )));
            }
            None => None,
        };
        Ok(Self {
            records,
            rel_l2: Summary::of(&rel),
            psnr_db: 10.0 * (peak * peak / mse).log10(),
            max_abs_error: max_abs,
            values_per_nonzero,
            byte_ratio: container_bytes.map(|b| (original.len() * 4) as f64 / b as f64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_of_a_known_case() {
        let x = [3.0f32, 4.0, 1.0, 0.0];
        let y = [3.0f32, 4.5, 1.0, 0.0];
        let m = Metrics::compute(&x, &y, 2, Some(&[1, 2]), Some(8)).unwrap();
        assert_eq!(m.records, 2);
        assert!((m.rel_l2.max - 0.1).abs() < 1e-12); // 0.5 / 5
        assert_eq!(m.rel_l2.min, 0.0);
        assert_eq!(m.max_abs_error, 0.5);
        assert_eq!(m.byte_ratio, Some(2.0));
        let v = m.values_per_nonzero.unwrap();
        assert_eq!((v.min, v.max), (1.0, 2.0));
        assert!((m.psnr_db - 10.0 * (16.0f64 / (0.25 / 4.0)).log10()).abs() < 1e-9);
        assert!(Metrics::compute(&x, &y[..3], 2, None, None).is_err());
    }
}
