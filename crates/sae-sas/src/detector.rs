//! The detector: a square grid of pixels in `(qx, qy)`, pixel-area averaging,
//! beam stop and counting noise.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};
use rayon::prelude::*;

use crate::error::{Result, invalid};
use crate::scatterer::Scatterer;

/// An `N×N` detector over `[−qmax, qmax]²`.
///
/// Pixel `(iy, ix)` has its centre at `qᵢ = −qmax + (i + ½)·Δ` with
/// `Δ = 2·qmax/N`; rows run along `qy`, columns along `qx`. With
/// `oversample = S`, each pixel is the mean of `S×S` evaluations at
/// `qᵢ + (k + ½)/S·Δ − Δ/2`, `k = 0..S` (for S = 3: `qᵢ − Δ/3, qᵢ, qᵢ + Δ/3`).
#[derive(Debug, Clone, PartialEq)]
pub struct Detector {
    /// Pixels per side.
    pub npix: usize,
    /// Largest |qx|, |qy| at the detector edge (1/Å).
    pub qmax: f64,
    /// Sub-samples per pixel side (1 = pixel centres only).
    pub oversample: usize,
    /// Radius of a beam stop around q = 0 (1/Å): pixels whose centre lies inside read 0.
    pub beam_stop: Option<f64>,
}

impl Default for Detector {
    /// 64×64 over ±0.3 1/Å with 3×3 averaging, as the reference data.
    fn default() -> Self {
        Self {
            npix: 64,
            qmax: 0.3,
            oversample: 3,
            beam_stop: None,
        }
    }
}

impl Detector {
    /// The pixel width Δ.
    pub fn pixel_width(&self) -> f64 {
        2.0 * self.qmax / self.npix as f64
    }

    /// Pixel centres along one axis.
    pub fn centres(&self) -> Vec<f64> {
        let d = self.pixel_width();
        (0..self.npix)
            .map(|i| -self.qmax + (i as f64 + 0.5) * d)
            .collect()
    }

    fn check(&self) -> Result<()> {
        if self.npix == 0 || self.oversample == 0 {
            return Err(invalid("detector", "npix and oversample must be at least 1"));
        }
        if !(self.qmax.is_finite() && self.qmax > 0.0) {
            return Err(invalid(
                "qmax",
                format!("{} must be finite and positive", self.qmax),
            ));
        }
        Ok(())
    }

    /// The image of `scatterer`, row-major `[iy][ix]`, in 1/cm.
    pub fn image(&self, scatterer: &Scatterer) -> Result<Vec<f32>> {
        self.check()?;
        let prepared = scatterer.prepare()?;
        let d = self.pixel_width();
        let s = self.oversample;
        let offsets: Vec<f64> = (0..s).map(|k| ((k as f64 + 0.5) / s as f64 - 0.5) * d).collect();
        let centres = self.centres();
        let mut image = vec![0f32; self.npix * self.npix];
        for (iy, row) in image.chunks_mut(self.npix).enumerate() {
            let qy = centres[iy];
            for (ix, pixel) in row.iter_mut().enumerate() {
                let qx = centres[ix];
                if let Some(r) = self.beam_stop
                    && qx * qx + qy * qy < r * r
                {
                    *pixel = 0.0;
                    continue;
                }
                let mut sum = 0.0;
                for &oy in &offsets {
                    for &ox in &offsets {
                        sum += prepared.intensity(qx + ox, qy + oy);
                    }
                }
                *pixel = (sum / (s * s) as f64) as f32;
            }
        }
        Ok(image)
    }

    /// Images of many scatterers, in parallel, concatenated.
    pub fn images(&self, scatterers: &[Scatterer]) -> Result<Vec<f32>> {
        let images: Vec<Vec<f32>> = scatterers
            .par_iter()
            .map(|s| self.image(s))
            .collect::<Result<_>>()?;
        Ok(images.concat())
    }
}

/// Replaces each pixel by a Poisson count with mean proportional to it, the
/// whole image holding `total_counts` on average, then rescales back to the
/// original units. Seeded: the same seed gives the same noise.
pub fn poisson_noise(image: &mut [f32], total_counts: f64, seed: u64) -> Result<()> {
    if !(total_counts.is_finite() && total_counts > 0.0) {
        return Err(invalid(
            "total_counts",
            format!("{total_counts} must be finite and positive"),
        ));
    }
    let sum: f64 = image.iter().map(|&v| f64::from(v.max(0.0))).sum();
    if sum == 0.0 {
        return Ok(());
    }
    let per_unit = total_counts / sum;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for v in image.iter_mut() {
        let mean = f64::from(v.max(0.0)) * per_unit;
        let counts = if mean > 0.0 {
            Poisson::new(mean).map(|p| p.sample(&mut rng)).unwrap_or(mean)
        } else {
            0.0
        };
        *v = (counts / per_unit) as f32;
    }
    Ok(())
}
