//! A recipe, whole: how a codec is built and trained, and the optional
//! stages around training and compression; and the one value that changes
//! parts of it ([`Overrides`]), applied and validated here for every shell
//! (the `sae` command line, the Python package, a library user).

use sae_model::{DecoderTuning, InputView, LambdaControl, Refinement, Selector};

use crate::ErrorBound;
use crate::codec::CodecConfig;
use crate::coding::{IndexFormat, ValueFormat};
use crate::device::ComputeDevice;
use crate::error::{CodecError, Result};
use crate::transform::Transforms;

/// Everything a [`Preset`](crate::Preset) recommends, in one value: the
/// codec's configuration and each optional stage, `None` where the recipe
/// leaves it out (there is no second way, such as a count of 0, to say so).
///
/// ```
/// use sae_codec::{Overrides, Preset};
///
/// let recipe = Preset::Sas.recipe();
/// assert_eq!(recipe.refinement.map(|r| r.iterations), Some(100));
/// assert!(recipe.tuning.is_none() && recipe.bound.is_none());
///
/// // What a user changes is one value, applied and checked by the library.
/// let changed = recipe.apply(&Overrides { epochs: Some(5), refine: Some(0), ..Overrides::default() })?;
/// assert_eq!(changed.config.train.epochs, 5);
/// assert!(changed.refinement.is_none());
/// # Ok::<(), sae_codec::CodecError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    /// How the codec is built and trained ([`Codec::train`](crate::Codec::train)).
    pub config: CodecConfig,
    /// How it trains on freshly simulated images
    /// ([`Codec::train_streaming`](crate::Codec::train_streaming) with
    /// [`SimulatedImages`](crate::SimulatedImages); `sae train --simulate`),
    /// if the recipe knows a simulator for its data.
    pub simulation: Option<SimulationRecipe>,
    /// The decoder fine-tuning after training
    /// ([`Codec::tune_decoder`](crate::Codec::tune_decoder)), or `None`: no tuning.
    pub tuning: Option<DecoderTuning>,
    /// How compression refines each latent
    /// ([`Codec::with_refinement`](crate::Codec::with_refinement)), or
    /// `None`: the encoder's latents as they are.
    pub refinement: Option<Refinement>,
    /// The error every record is held to
    /// ([`Codec::compress_bounded`](crate::Codec::compress_bounded)), or
    /// `None`: no guarantee, the fastest compression.
    pub bound: Option<ErrorBound>,
}

/// Training on simulated images: a pool renewed while the network trains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulationRecipe {
    /// Images simulated before training starts; fresh ones replace them between epochs.
    pub pool: usize,
    /// Training time (the learning rate decays over it; training ends at
    /// the first epoch end past it).
    pub seconds: f64,
    /// Whether each oriented simulation enters the pool as its four views
    /// ([`SimulatedImages::spawn_views`](crate::SimulatedImages::spawn_views)):
    /// about four fresh images per simulation, so the simulating thread
    /// takes less of the cores from training.
    pub views: bool,
}

/// Changes to a [`Recipe`]: every field left `None` (or `false`) keeps the
/// recipe's choice. The `sae` command line fills one from its flags, the
/// Python package from keyword arguments; [`Recipe::apply`] applies and
/// checks it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// The network's ratios `(m/n, l/n)`.
    pub arch: Option<(f64, f64)>,
    /// The penalty's selector.
    pub selector: Option<Selector>,
    /// A fixed penalty weight λ; with `target_error`, the weight it starts from.
    pub lambda: Option<f64>,
    /// Steer λ to reach this mean relative L2 error instead of fixing it.
    pub target_error: Option<f64>,
    /// Passes over the data; with a time budget, the most.
    pub epochs: Option<usize>,
    /// Train for this many minutes (the learning rate decays over them),
    /// ending at the first epoch end past them.
    pub minutes: Option<f64>,
    /// What the encoder sees of a record.
    pub encoder_view: Option<InputView>,
    /// Keep an exponential moving average of the weights with this decay.
    pub weight_average: Option<f64>,
    /// Steps of linear learning-rate warm-up.
    pub warmup: Option<u64>,
    /// Samples per step.
    pub batch: Option<usize>,
    /// The learning rate.
    pub learning_rate: Option<f64>,
    /// Seed of the initialisation and of the shuffling (both).
    pub seed: Option<u64>,
    /// The transforms before the model.
    pub transforms: Option<Transforms>,
    /// How nonzero latent values are stored.
    pub values: Option<ValueFormat>,
    /// The relative quantisation step: the same setting as
    /// `values: Some(ValueFormat::Quantized { relative_step })`, applied to
    /// whichever quantised format `values` (or the recipe) names.
    pub step: Option<f32>,
    /// How nonzero positions are coded.
    pub indices: Option<IndexFormat>,
    /// Where the network trains and runs.
    pub device: Option<ComputeDevice>,
    /// Training on simulated images: the time budget is the recipe's
    /// simulation time unless `minutes` or `epochs` say otherwise.
    pub simulate: bool,
    /// The simulated pool's size (with `simulate`).
    pub pool: Option<usize>,
    /// Whether simulations enter the pool as their four views (with `simulate`).
    pub views: Option<bool>,
    /// Rounds of decoder tuning after training (0: none).
    pub tune_rounds: Option<usize>,
    /// Refinement iterations when compressing (0: none).
    pub refine: Option<usize>,
    /// Refinement's penalty λ on ‖z‖₁.
    pub refine_lambda: Option<f64>,
    /// Whether refinement may switch on latents the encoder left at zero.
    pub refine_grow: Option<bool>,
    /// The error every record is held to when compressing.
    pub max_error: Option<ErrorBound>,
}

impl Recipe {
    /// Records decoder tuning uses when a recipe without tuning is asked to
    /// tune (`tune_rounds`): refinement costs ~30 ms per 64×64 record and
    /// round on 2 cores, so a round on these takes about three minutes.
    pub const TUNING_RECORDS: usize = 6000;

    /// Epochs of a run that a time budget ends: training stops at the first
    /// epoch end past the budget, long before this many.
    pub const UNBOUNDED_EPOCHS: usize = usize::MAX / 2;

    /// The recipe with `overrides` applied, checked: every training and
    /// tuning setting in its domain, and no refinement setting given where
    /// refinement is off.
    pub fn apply(&self, overrides: &Overrides) -> Result<Self> {
        let o = overrides;
        let mut recipe = self.clone();
        let config = &mut recipe.config;
        let train = &mut config.train;
        if let Some((hidden, latent)) = o.arch {
            (config.hidden_ratio, config.latent_ratio) = (hidden, latent);
        }
        if let Some(selector) = o.selector {
            config.selector = selector;
        }
        if let Some(target) = o.target_error {
            let start = o.lambda.or(match train.lambda {
                LambdaControl::Fixed(lambda) => Some(lambda),
                _ => None,
            });
            train.lambda = LambdaControl::adaptive(target, start.unwrap_or(0.0));
        } else if let Some(lambda) = o.lambda {
            train.lambda = LambdaControl::Fixed(lambda);
        }
        if let Some(epochs) = o.epochs {
            train.epochs = epochs;
        }
        if o.simulate && recipe.simulation.is_none() {
            return Err(CodecError::InvalidSetting {
                name: "simulation",
                reason: "this recipe knows no simulator for its data".into(),
            });
        }
        if let (Some(pool), Some(simulation)) = (o.pool, recipe.simulation.as_mut()) {
            simulation.pool = pool;
        }
        if let (Some(views), Some(simulation)) = (o.views, recipe.simulation.as_mut()) {
            simulation.views = views;
        }
        let budget = match (o.minutes, o.simulate, o.epochs) {
            (Some(minutes), _, _) => Some(minutes * 60.0),
            (None, true, None) => recipe.simulation.map(|s| s.seconds),
            _ => None,
        };
        if let Some(seconds) = budget {
            train.time_budget = Some(seconds);
            if o.epochs.is_none() {
                train.epochs = Self::UNBOUNDED_EPOCHS;
            }
        }
        if let Some(view) = o.encoder_view {
            config.encoder_view = view;
        }
        if let Some(decay) = o.weight_average {
            train.weight_average = Some(decay);
        }
        if let Some(steps) = o.warmup {
            train.lr_warmup_steps = steps;
        }
        if let Some(batch) = o.batch {
            train.batch_size = batch;
        }
        if let Some(lr) = o.learning_rate {
            train.learning_rate = lr;
        }
        if let Some(seed) = o.seed {
            (config.seed, train.seed) = (seed, seed);
        }
        if let Some(transforms) = &o.transforms {
            config.transforms = transforms.0.clone();
        }
        config.values = o.values.unwrap_or(config.values).with_step(o.step)?;
        config.indices = o.indices.unwrap_or(config.indices);
        if let Some(device) = o.device {
            config.device = device;
        }
        train.validate()?;
        if let Some(rounds) = o.tune_rounds {
            recipe.tuning = (rounds > 0).then(|| DecoderTuning {
                rounds,
                ..recipe.tuning.unwrap_or(DecoderTuning {
                    max_records: Some(Self::TUNING_RECORDS),
                    ..DecoderTuning::default()
                })
            });
        }
        if let Some(tuning) = &recipe.tuning {
            tuning.validate()?;
        }
        recipe.refinement = refinement(recipe.refinement, o)?;
        if o.max_error.is_some() {
            recipe.bound = o.max_error;
        }
        Ok(recipe)
    }
}

/// The recipe's `refinement` with the overrides' refinement settings.
fn refinement(recipe: Option<Refinement>, o: &Overrides) -> Result<Option<Refinement>> {
    let shaped = o.refine_lambda.is_some() || o.refine_grow.is_some();
    let iterations = match (o.refine, recipe) {
        (Some(iterations), _) => iterations,
        (None, Some(r)) => r.iterations,
        (None, None) => 0,
    };
    if iterations == 0 {
        if shaped {
            return Err(CodecError::InvalidSetting {
                name: "refinement",
                reason: "its λ and growth shape refinement, which is off (0 iterations)".into(),
            });
        }
        return Ok(None);
    }
    let base = recipe.unwrap_or_default();
    let refinement = Refinement {
        iterations,
        lambda: o.refine_lambda.unwrap_or(base.lambda),
        grow_support: o.refine_grow.unwrap_or(base.grow_support),
        // The codec fills in its quantisation step.
        lattice: base.lattice,
    };
    refinement.validate()?;
    Ok(Some(refinement))
}
