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
    /// sasmodels does for sizes) and their unnormalised weights.
    ///
    /// The normalisation does not matter: intensities divide by the
    /// weighted volume, which carries the same total weight.
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
                    // Shape of the Schulz density relative to its value at R = 1,
                    // which keeps the exponent small for narrow distributions.
                    let z = (centre / sigma) * (centre / sigma);
                    let r = x / centre;
                    ((z - 1.0) * r.ln() - z * (r - 1.0)).exp()
                }
            };
            if w > 0.0 {
                out.push((x, w));
            }
        }
        Ok(out)
    }
}
