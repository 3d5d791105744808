//! Size polydispersity as sasmodels samples it.

use crate::error::{Result, invalid};

/// The distribution of a polydisperse size parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Distribution {
    /// sasmodels `schulz`: `w ∝ R^{z−1} e^{−Rz}` with `R = x/c`, `z = (c/σ)²`.
    Schulz,
    /// sasmodels `gaussian`: `w ∝ exp(−(x−c)²/2σ²)`.
    Gaussian,
}

impl Distribution {
    /// By sasmodels name (`"schulz"`, `"gaussian"`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "schulz" => Some(Self::Schulz),
            "gaussian" => Some(Self::Gaussian),
            _ => None,
        }
    }

    /// The sasmodels name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Schulz => "schulz",
            Self::Gaussian => "gaussian",
        }
    }
}

/// Polydispersity of one size parameter, in sasmodels' `_pd`, `_pd_n`,
/// `_pd_nsigma`, `_pd_type` terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Polydispersity {
    /// The size parameter it acts on (e.g. `"radius"`).
    pub parameter: String,
    /// Relative width `σ / centre` (`_pd`).
    pub width: f64,
    /// Number of points (`_pd_n`, 35 in sasmodels' default).
    pub npts: usize,
    /// Half-range in σ (`_pd_nsigma`).
    pub nsigma: f64,
    /// Distribution (`_pd_type`).
    pub distribution: Distribution,
}

impl Polydispersity {
    /// `npts` points over `centre ± nsigma·σ` (those ≤ 0 dropped, as
    /// sasmodels does for sizes) and their weights, normalised to sum to 1
    /// as sasmodels' `get_weights` does.
    ///
    /// The scale of the weights cancels in the intensity, but it matters for
    /// the weight cutoff ([`Scatterer::pd_cutoff`](crate::Scatterer::pd_cutoff)).
    pub fn points(&self, centre: f64) -> Result<Vec<(f64, f64)>> {
        if !(self.width.is_finite() && self.width >= 0.0) {
            return Err(invalid(
                &format!("{}_pd", self.parameter),
                format!("width {} must be ≥ 0", self.width),
            ));
        }
        if !(self.nsigma.is_finite() && self.nsigma > 0.0) {
            return Err(invalid(
                &format!("{}_pd_nsigma", self.parameter),
                format!("{} must be > 0", self.nsigma),
            ));
        }
        let sigma = self.width * centre;
        if sigma == 0.0 || self.npts < 2 {
            return Ok(if centre >= 0.0 {
                vec![(centre, 1.0)]
            } else {
                Vec::new()
            });
        }
        // numpy.linspace(-nσ·σ, +nσ·σ, npts), added to the centre.
        let (start, stop) = (-self.nsigma * sigma, self.nsigma * sigma);
        let step = (stop - start) / (self.npts - 1) as f64;
        let lower = match self.distribution {
            Distribution::Schulz => 1e-8,
            Distribution::Gaussian => 0.0,
        };
        let mut out = Vec::with_capacity(self.npts);
        for i in 0..self.npts {
            let offset = if i + 1 == self.npts {
                stop
            } else {
                start + step * i as f64
            };
            let x = centre + offset;
            if x < lower {
                continue;
            }
            let w = match self.distribution {
                Distribution::Gaussian => (-(x - centre) * (x - centre) / (2.0 * sigma * sigma)).exp(),
                Distribution::Schulz => {
                    // The density relative to its value at R = 1, which keeps
                    // the exponent small for narrow distributions; the
                    // normalisation below removes the constant.
                    let z = (centre / sigma) * (centre / sigma);
                    let r = x / centre;
                    ((z - 1.0) * r.ln() - z * (r - 1.0)).exp()
                }
            };
            if w > 0.0 {
                out.push((x, w));
            }
        }
        let total: f64 = out.iter().map(|p| p.1).sum();
        for p in &mut out {
            p.1 /= total;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_and_follow_the_density() {
        let pd = Polydispersity {
            parameter: "radius".into(),
            width: 0.1,
            npts: 201,
            nsigma: 8.0,
            distribution: Distribution::Schulz,
        };
        let points = pd.points(50.0).unwrap();
        assert!((points.iter().map(|p| p.1).sum::<f64>() - 1.0).abs() < 1e-12);
        // Normalised, the Schulz density of mean 50 and σ 5 integrates to 1.
        let dx = points[1].0 - points[0].0;
        let z: f64 = 100.0;
        let density = |x: f64| {
            let r = x / 50.0;
            ((z - 1.0) * r.ln() - z * (r - 1.0)).exp()
        };
        let norm: f64 = points.iter().map(|p| density(p.0) * dx).sum();
        for p in &points {
            assert!((p.1 - density(p.0) * dx / norm).abs() < 1e-12);
        }
        // Points at or below zero are dropped.
        let wide = Polydispersity { width: 0.5, ..pd };
        assert!(wide.points(50.0).unwrap().iter().all(|p| p.0 > 0.0));
    }
}
