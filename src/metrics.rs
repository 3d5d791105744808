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
    /// What a log colour scale shows: per record, the RMS over its positive
    /// pixels of `log10(max(x̂, x_min)) − log10(x)` in decades, `x_min` the
    /// record's smallest positive value (so a reconstruction at or below zero
    /// counts as the faintest pixel). `None` for data with negative values.
    pub log10_rms: Option<Summary>,
    /// What a scattering curve shows, for 2-D records ([`with_radial`](Self::with_radial)):
    /// per record, the largest relative deviation of the azimuthally
    /// averaged intensity `Î(q)` from `I(q)` over the q bins ([`radial_profile`]).
    pub radial_max_rel: Option<Summary>,
}

/// The azimuthal average of a row-major `height × width` image about its
/// centre `((height−1)/2, (width−1)/2)`: bin `k` holds the mean of the pixels
/// whose centre lies at a distance `r` with `k ≤ r < k + 1` pixels, for every
/// full circle (`r < min(height, width)/2`); the corners are left out. Only
/// the first `height` rows of `width` values are read; an empty image has no bins.
///
/// ```
/// let image = [1.0f32; 16];
/// assert_eq!(sae_codec::radial_profile(&image, 4, 4), vec![1.0, 1.0]);
/// ```
pub fn radial_profile(image: &[f32], height: usize, width: usize) -> Vec<f64> {
    if height == 0 || width == 0 {
        return Vec::new();
    }
    let limit = height.min(width) as f64 / 2.0;
    let bins = limit.ceil() as usize;
    let (mut sum, mut count) = (vec![0.0f64; bins], vec![0u32; bins]);
    let (cy, cx) = ((height as f64 - 1.0) / 2.0, (width as f64 - 1.0) / 2.0);
    for (i, row) in image.chunks(width).take(height).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            let r = ((i as f64 - cy).powi(2) + (j as f64 - cx).powi(2)).sqrt();
            if r < limit {
                let k = r as usize;
                sum[k] += f64::from(v);
                count[k] += 1;
            }
        }
    }
    sum.iter()
        .zip(&count)
        .filter(|(_, c)| **c > 0)
        .map(|(s, &c)| s / f64::from(c))
        .collect()
}

/// NaN would vanish from maxima and poison means: refuse it.
fn check_finite(original: &[f32], reconstruction: &[f32]) -> Result<()> {
    for data in [original, reconstruction] {
        if let Some(position) = data.iter().position(|v| !v.is_finite()) {
            return Err(sae_model::ModelError::NonFinite { position }.into());
        }
    }
    Ok(())
}

/// Per record, RMS of log10 differences over its positive pixels (see [`Metrics::log10_rms`]).
fn log10_rms(original: &[f32], reconstruction: &[f32], record_len: usize) -> Option<Summary> {
    if original.iter().any(|&v| v < 0.0) {
        return None;
    }
    let mut per_record = Vec::new();
    for (x, y) in original.chunks(record_len).zip(reconstruction.chunks(record_len)) {
        let floor = x
            .iter()
            .copied()
            .filter(|&v| v > 0.0)
            .fold(f32::INFINITY, f32::min);
        if !floor.is_finite() {
            continue; // no positive pixel: nothing to show on a log scale
        }
        let (mut sum, mut count) = (0.0f64, 0usize);
        for (&a, &b) in x.iter().zip(y) {
            if a > 0.0 {
                let d = f64::from(b.max(floor)).log10() - f64::from(a).log10();
                sum += d * d;
                count += 1;
            }
        }
        per_record.push((sum / count as f64).sqrt());
    }
    (!per_record.is_empty()).then(|| Summary::of(&per_record))
}

/// The report `sae eval` prints: one line a metric, those computed.
impl std::fmt::Display for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "records                 {}", self.records)?;
        let e = &self.rel_l2;
        writeln!(
            f,
            "relative L2 error       mean {:.3e}  min {:.3e}  median {:.3e}  p90 {:.3e}  max {:.3e}",
            e.mean, e.min, e.p50, e.p90, e.max
        )?;
        if let Some(l) = self.log10_rms {
            writeln!(
                f,
                "log10 RMS (decades)     mean {:.3}  median {:.3}  p90 {:.3}  max {:.3}",
                l.mean, l.p50, l.p90, l.max
            )?;
        }
        if let Some(r) = self.radial_max_rel {
            writeln!(
                f,
                "I(q) max rel deviation  mean {:.3e}  median {:.3e}  p90 {:.3e}  max {:.3e}",
                r.mean, r.p50, r.p90, r.max
            )?;
        }
        writeln!(f, "PSNR                    {:.1} dB", self.psnr_db)?;
        writeln!(f, "max abs error           {:.3e}", self.max_abs_error)?;
        if let Some(v) = self.values_per_nonzero {
            writeln!(
                f,
                "values per nonzero      mean {:.1}  min {:.1}  max {:.1}",
                v.mean, v.min, v.max
            )?;
        }
        if let Some(r) = self.byte_ratio {
            writeln!(f, "byte ratio              {r:.1}x")?;
        }
        Ok(())
    }
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
        check_finite(original, reconstruction)?;
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
            log10_rms: log10_rms(original, reconstruction, record_len),
            radial_max_rel: None,
        })
    }

    /// Adds [`radial_max_rel`](Self::radial_max_rel) for records of
    /// `record_shape` (two dimensions; other shapes leave it `None`). Bins
    /// whose original mean is not positive are skipped.
    pub fn with_radial(
        mut self,
        original: &[f32],
        reconstruction: &[f32],
        record_shape: &[usize],
    ) -> Result<Self> {
        let &[h, w] = record_shape else {
            return Ok(self);
        };
        let n = h.checked_mul(w).unwrap_or(0);
        if n == 0 || original.len() != reconstruction.len() || !original.len().is_multiple_of(n) {
            return Err(CodecError::shape(format!(
                "{} original and {} reconstructed values in records of {record_shape:?}",
                original.len(),
                reconstruction.len()
            )));
        }
        check_finite(original, reconstruction)?;
        let per_record: Vec<f64> = original
            .chunks(n)
            .zip(reconstruction.chunks(n))
            .map(|(x, y)| {
                let (a, b) = (radial_profile(x, h, w), radial_profile(y, h, w));
                a.iter()
                    .zip(&b)
                    .filter(|(i, _)| **i > 0.0)
                    .map(|(i, j)| (j - i).abs() / i)
                    .fold(0.0, f64::max)
            })
            .collect();
        self.radial_max_rel = Some(Summary::of(&per_record));
        Ok(self)
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
        // log10: record 0 is off by log10(4.5/4) in one of two positive pixels.
        let l = m.log10_rms.unwrap();
        assert!((l.max - ((4.5f64 / 4.0).log10().powi(2) / 2.0).sqrt()).abs() < 1e-7);
        // Record 1's zero pixel is left out; its reconstruction is exact.
        assert_eq!(l.min, 0.0);
    }

    #[test]
    fn log10_error_clamps_at_the_faintest_pixel_and_skips_negative_data() {
        let x = [1e-3f32, 1.0];
        let y = [-5.0f32, 1.0]; // clamped to 1e-3: no error shown
        assert_eq!(
            Metrics::compute(&x, &y, 2, None, None)
                .unwrap()
                .log10_rms
                .unwrap()
                .max,
            0.0
        );
        let y = [1e-2f32, 1.0]; // one decade on one pixel of two
        let e = Metrics::compute(&x, &y, 2, None, None)
            .unwrap()
            .log10_rms
            .unwrap()
            .max;
        assert!((e - 0.5f64.sqrt()).abs() < 1e-6);
        assert!(
            Metrics::compute(&[-1.0, 1.0], &[-1.0, 1.0], 2, None, None)
                .unwrap()
                .log10_rms
                .is_none()
        );
    }

    #[test]
    fn radial_profile_and_its_error() {
        // 6×6: centre 2.5; ring k holds distances in [k, k+1), rings 0..3 are full circles.
        let image: Vec<f32> = (0..36)
            .map(|p| {
                let (i, j) = ((p / 6) as f64 - 2.5, (p % 6) as f64 - 2.5);
                (10.0 - (i * i + j * j).sqrt()) as f32
            })
            .collect();
        let profile = radial_profile(&image, 6, 6);
        assert_eq!(profile.len(), 3);
        assert!(profile[0] > profile[1] && profile[1] > profile[2]);
        // Doubling the outermost full ring's pixels doubles that bin: error 1 there.
        let mut doubled = image.clone();
        for (p, v) in doubled.iter_mut().enumerate() {
            let (i, j) = ((p / 6) as f64 - 2.5, (p % 6) as f64 - 2.5);
            let r = (i * i + j * j).sqrt();
            if (2.0..3.0).contains(&r) {
                *v *= 2.0;
            }
        }
        let m = Metrics::compute(&image, &doubled, 36, None, None)
            .unwrap()
            .with_radial(&image, &doubled, &[6, 6])
            .unwrap();
        assert!((m.radial_max_rel.unwrap().max - 1.0).abs() < 1e-9);
        let same = Metrics::compute(&image, &image, 36, None, None)
            .unwrap()
            .with_radial(&image, &image, &[6, 6])
            .unwrap();
        assert_eq!(same.radial_max_rel.unwrap().max, 0.0);
        // Non-finite values are errors, not a max that drops them.
        let mut bad = image.clone();
        bad[7] = f32::NAN;
        assert!(same.clone().with_radial(&image, &bad, &[6, 6]).is_err());
        assert!(radial_profile(&[], 0, 0).is_empty());
        // 1-D records have no radial profile.
        let flat = Metrics::compute(&image, &image, 36, None, None)
            .unwrap()
            .with_radial(&image, &image, &[36])
            .unwrap();
        assert!(flat.radial_max_rel.is_none());
    }
}
