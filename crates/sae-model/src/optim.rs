//! Adam with an explicit weight decay (default 0), updating in place.

use crate::error::Result;
use crate::fused::{AdamStep, Moments, adam_update};
use crate::network::{Autoencoder, Dense, Gradients};

/// Adam's hyper-parameters.
///
/// `weight_decay` is decoupled (AdamW) and **0 by default**, unlike candle's
/// `ParamsAdamW::default()` (0.01), which would quietly shrink the weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// First-moment decay β₁.
    pub beta1: f64,
    /// Second-moment decay β₂.
    pub beta2: f64,
    /// Added to the denominator for stability.
    pub eps: f64,
    /// Decoupled weight decay per unit learning rate.
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// Adam state for the eight parameter tensors of an [`Autoencoder`].
///
/// On the CPU each update is one fused, in-place pass over parameter,
/// gradient and both moments (candle's stock AdamW builds several
/// temporaries per parameter, which dominates large steps).
#[derive(Debug)]
pub struct Adam {
    config: AdamConfig,
    moments: Vec<Moments>,
    steps: u64,
    /// The first layer updated (0: all four; 2: the decoder's two).
    first_layer: usize,
}

impl Adam {
    /// Fresh (zero) moments for `model`'s parameters.
    pub fn new(model: &Autoencoder, config: AdamConfig) -> Result<Self> {
        Self::from_layer(model, config, 0)
    }

    /// Fresh moments for the decoder's parameters only (decoder fine-tuning).
    pub(crate) fn for_decoder(model: &Autoencoder, config: AdamConfig) -> Result<Self> {
        Self::from_layer(model, config, 2)
    }

    fn from_layer(model: &Autoencoder, config: AdamConfig, first_layer: usize) -> Result<Self> {
        let moments = model
            .layers
            .as_array()
            .into_iter()
            .skip(first_layer)
            .flat_map(|layer| [&layer.weight, &layer.bias])
            .map(Moments::for_param)
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self {
            config,
            moments,
            steps: 0,
            first_layer,
        })
    }

    /// Updates taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Applies one update with learning rate `lr`.
    pub(crate) fn apply(&mut self, model: &mut Autoencoder, grads: &Gradients, lr: f64) -> Result<()> {
        debug_assert_eq!(self.first_layer, 0);
        self.apply_from(model, &grads.as_array(), lr)
    }

    /// Applies one update to the decoder's two layers, from their gradients.
    pub(crate) fn apply_decoder(
        &mut self,
        model: &mut Autoencoder,
        grads: &[&Dense; 2],
        lr: f64,
    ) -> Result<()> {
        debug_assert_eq!(self.first_layer, 2);
        self.apply_from(model, grads, lr)
    }

    /// Updates layers `first_layer..` from `grads`, one per layer in order.
    fn apply_from(&mut self, model: &mut Autoencoder, grads: &[&Dense], lr: f64) -> Result<()> {
        self.steps += 1;
        let t = self.steps as i32;
        let step = AdamStep {
            lr,
            beta1: self.config.beta1,
            beta2: self.config.beta2,
            eps: self.config.eps,
            weight_decay: self.config.weight_decay,
            bias1: 1.0 - self.config.beta1.powi(t),
            bias2: 1.0 - self.config.beta2.powi(t),
        };
        let params = model
            .layers
            .as_array_mut()
            .into_iter()
            .skip(self.first_layer)
            .flat_map(|layer| [&mut layer.weight, &mut layer.bias]);
        let grads = grads.iter().flat_map(|layer| [&layer.weight, &layer.bias]);
        for ((param, grad), moments) in params.zip(grads).zip(&mut self.moments) {
            adam_update(param, grad, moments, step)?;
        }
        Ok(())
    }
}
