//! Network sizes: `n -> m -> l -> m -> n`.

use crate::error::{ModelError, Result};

/// The sizes of a symmetric autoencoder `n -> m -> l -> m -> n`.
///
/// The paper names a network by its ratios `(m/n, l/n)`; an overcomplete
/// sparse autoencoder has `l > n`, the classical hourglass `l < n`.
///
/// ```
/// use sae_model::Architecture;
///
/// let arch = Architecture::from_ratios(4096, 1.0, 2.0)?; // (1, 2) on 64×64 images
/// assert_eq!((arch.input, arch.hidden, arch.latent), (4096, 4096, 8192));
/// assert_eq!(arch.to_string(), "(1, 2) with n = 4096");
/// assert!(arch.is_overcomplete());
/// # Ok::<(), sae_model::ModelError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Architecture {
    /// Input and output size `n`.
    pub input: usize,
    /// Hidden layer size `m`.
    pub hidden: usize,
    /// Latent size `l`.
    pub latent: usize,
}

impl Architecture {
    /// Sizes given absolutely; each must be at least 1.
    pub fn new(input: usize, hidden: usize, latent: usize) -> Result<Self> {
        if input == 0 || hidden == 0 || latent == 0 {
            return Err(ModelError::InvalidConfig {
                name: "architecture",
                reason: format!("sizes ({input}, {hidden}, {latent}) must all be positive"),
            });
        }
        if latent > u32::MAX as usize {
            return Err(ModelError::InvalidConfig {
                name: "architecture",
                reason: format!("latent size {latent} exceeds u32 indices"),
            });
        }
        let arch = Self {
            input,
            hidden,
            latent,
        };
        if arch.checked_parameter_count().is_none() {
            return Err(ModelError::InvalidConfig {
                name: "architecture",
                reason: format!("({input}, {hidden}, {latent}) has more parameters than memory can address"),
            });
        }
        Ok(arch)
    }

    /// Sizes from the paper's ratios: `m = round(n · m_ratio)`, `l = round(n · l_ratio)`.
    pub fn from_ratios(input: usize, hidden_ratio: f64, latent_ratio: f64) -> Result<Self> {
        let size = |ratio: f64, name: &'static str| {
            if !(ratio.is_finite() && ratio > 0.0) {
                return Err(ModelError::InvalidConfig {
                    name,
                    reason: format!("ratio {ratio} must be finite and positive"),
                });
            }
            let size = (input as f64 * ratio).round();
            if size >= u32::MAX as f64 {
                return Err(ModelError::InvalidConfig {
                    name,
                    reason: format!("ratio {ratio} gives a layer of {size:e} units"),
                });
            }
            Ok((size as usize).max(1))
        };
        Self::new(input, size(hidden_ratio, "m/n")?, size(latent_ratio, "l/n")?)
    }

    /// `m / n`.
    pub fn hidden_ratio(&self) -> f64 {
        self.hidden as f64 / self.input as f64
    }

    /// `l / n`.
    pub fn latent_ratio(&self) -> f64 {
        self.latent as f64 / self.input as f64
    }

    /// Whether the latent is larger than the input.
    pub fn is_overcomplete(&self) -> bool {
        self.latent > self.input
    }

    /// Number of trainable parameters.
    pub fn parameter_count(&self) -> usize {
        self.checked_parameter_count()
            .expect("checked when the architecture was made")
    }

    /// Number of trainable parameters, or `None` if it overflows.
    fn checked_parameter_count(&self) -> Option<usize> {
        let (n, m, l) = (self.input, self.hidden, self.latent);
        let weights = n.checked_mul(m)?.checked_add(m.checked_mul(l)?)?.checked_mul(2)?;
        weights.checked_add(2 * m)?.checked_add(l)?.checked_add(n)
    }

    /// `(fan_in, fan_out)` of the four layers in order.
    pub(crate) fn layers(&self) -> [(usize, usize); 4] {
        let (n, m, l) = (self.input, self.hidden, self.latent);
        [(n, m), (m, l), (l, m), (m, n)]
    }
}

impl std::fmt::Display for Architecture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "({}, {}) with n = {}",
            fmt_ratio(self.hidden_ratio()),
            fmt_ratio(self.latent_ratio()),
            self.input
        )
    }
}

fn fmt_ratio(r: f64) -> String {
    if r >= 1.0 && r.fract() == 0.0 {
        format!("{r:.0}")
    } else if (1.0 / r).fract() == 0.0 {
        format!("1/{:.0}", 1.0 / r)
    } else {
        format!("{r:.3}")
    }
}
