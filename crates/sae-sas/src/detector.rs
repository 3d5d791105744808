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
    ///
    /// Every model here scatters the same at `q` and `−q`, and the sample
    /// points are symmetric about 0, so only half of them are evaluated;
    /// for isotropic shapes only the distinct `|q|` are.
    pub fn image(&self, scatterer: &Scatterer) -> Result<Vec<f32>> {
        self.check()?;
        let prepared = scatterer.prepare()?;
        let samples = self.sample_axis();
        let grid = if scatterer.shape.is_oriented() {
            centrosymmetric_grid(&samples, |qx, qy| prepared.intensity(qx, qy))
        } else {
            isotropic_grid(&samples, |qx, qy| prepared.intensity(qx, qy))
        };
        Ok(self.average_pixels(&grid))
    }

    /// The sample coordinates along one axis (`npix × oversample`),
    /// exactly antisymmetric: `a[N−1−j] = −a[j]`.
    fn sample_axis(&self) -> Vec<f64> {
        let d = self.pixel_width();
        let s = self.oversample;
        let n = self.npix * s;
        let mut axis: Vec<f64> = (0..n)
            .map(|j| {
                let (i, k) = (j / s, j % s);
                -self.qmax + (i as f64 + 0.5) * d + ((k as f64 + 0.5) / s as f64 - 0.5) * d
            })
            .collect();
        for j in 0..n / 2 {
            axis[n - 1 - j] = -axis[j];
        }
        if n % 2 == 1 {
            axis[n / 2] = 0.0;
        }
        axis
    }

    /// Pixel means of the sample grid (row-major, `N = npix·oversample` per side).
    fn average_pixels(&self, grid: &[f64]) -> Vec<f32> {
        let s = self.oversample;
        let n = self.npix * s;
        let centres = self.centres();
        let mut image = vec![0f32; self.npix * self.npix];
        for (iy, row) in image.chunks_mut(self.npix).enumerate() {
            for (ix, pixel) in row.iter_mut().enumerate() {
                if let Some(r) = self.beam_stop
                    && centres[ix] * centres[ix] + centres[iy] * centres[iy] < r * r
                {
                    continue;
                }
                let mut sum = 0.0;
                for jy in iy * s..(iy + 1) * s {
                    for jx in ix * s..(ix + 1) * s {
                        sum += grid[jy * n + jx];
                    }
                }
                *pixel = (sum / (s * s) as f64) as f32;
            }
        }
        image
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

/// `f` on the grid `axis × axis`, using `f(−q) = f(q)`: the lower half of the
/// rows mirrors the upper half.
fn centrosymmetric_grid(axis: &[f64], f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    let n = axis.len();
    let mut grid = vec![0.0; n * n];
    let half = n.div_ceil(2);
    for jy in 0..half {
        for jx in 0..n {
            grid[jy * n + jx] = f(axis[jx], axis[jy]);
        }
    }
    for jy in half..n {
        for jx in 0..n {
            grid[jy * n + jx] = grid[(n - 1 - jy) * n + (n - 1 - jx)];
        }
    }
    grid
}

/// `f` on the grid `axis × axis` for an `f` of `|q|` alone: each distinct
/// pair of `|qx|`, `|qy|` is evaluated once.
fn isotropic_grid(axis: &[f64], f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    let n = axis.len();
    let half = n.div_ceil(2);
    // Folded index: j and N−1−j share |q| along an axis.
    let fold = |j: usize| if j < half { j } else { n - 1 - j };
    let mut table = vec![0.0; half * half];
    for u in 0..half {
        for v in 0..=u {
            let value = f(axis[u], axis[v]);
            table[u * half + v] = value;
            table[v * half + u] = value;
        }
    }
    let mut grid = vec![0.0; n * n];
    for jy in 0..n {
        for jx in 0..n {
            grid[jy * n + jx] = table[fold(jy) * half + fold(jx)];
        }
    }
    grid
}

/// A symmetry of the square detector that can change a pattern.
///
/// The detector's grid maps onto itself under the eight symmetries of the
/// square (quarter turns and mirrors about the beam), and every model here
/// scatters the same at `q` and `−q`, so a half turn leaves each image as it
/// is: an image has at most these four distinct views. Each view of a
/// simulated image is the image of the same particle in another orientation
/// (turned about the beam, or mirrored), itself a valid pattern; for the
/// isotropic models all four are the image itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The image as simulated.
    Identity,
    /// Turned by 90° about the beam: `(qx, qy) → (qy, −qx)`.
    QuarterTurn,
    /// Mirrored: `qx → −qx`.
    Mirror,
    /// Mirrored about the diagonal: `(qx, qy) → (qy, qx)`.
    Transpose,
}

impl View {
    /// The four distinct views, the identity first.
    pub const ALL: [View; 4] = [View::Identity, View::QuarterTurn, View::Mirror, View::Transpose];

    /// This view of `image`, a row-major `npix × npix` image (`[iy][ix]`).
    ///
    /// # Panics
    /// If `image` does not hold `npix²` values.
    pub fn apply(self, npix: usize, image: &[f32]) -> Vec<f32> {
        assert_eq!(image.len(), npix * npix, "an npix × npix image");
        let last = npix.saturating_sub(1);
        let at = |iy: usize, ix: usize| match self {
            View::Identity => image[iy * npix + ix],
            View::QuarterTurn => image[(last - ix) * npix + iy],
            View::Mirror => image[iy * npix + (last - ix)],
            View::Transpose => image[ix * npix + iy],
        };
        (0..npix * npix).map(|i| at(i / npix, i % npix)).collect()
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
