//! Training: Adam, λ control, validation, early stopping, checkpoints, progress.

use std::borrow::Cow;
use std::path::PathBuf;
use std::time::Instant;

use candle_core::Tensor;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::error::{ModelError, Result, whole_records};
use crate::io::ModelInfo;
use crate::network::{Autoencoder, StepPath};
use crate::optim::{Adam, AdamConfig};
use crate::selector::SparseSelector;

/// How the penalty weight λ evolves during training.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum LambdaControl {
    /// A constant λ.
    Fixed(f64),
    /// λ rises linearly from 0 to `lambda` over the first `steps` steps, then stays.
    WarmUp {
        /// Final λ.
        lambda: f64,
        /// Length of the ramp in optimiser steps.
        steps: u64,
    },
    /// λ is steered so that the reconstruction's mean relative L2 error
    /// approaches `target_rel_error`: raised while the error is below the
    /// target (buying sparsity), lowered while above. After each step,
    /// `λ ← λ · exp(gain · (target − e) / target)` with `e` a moving average of
    /// the batches' errors, the exponent clamped to `±gain`, and λ kept
    /// within `[initial·10⁻³, initial·10⁶]`.
    Adaptive {
        /// The mean relative L2 error to reach, e.g. `3e-2`.
        target_rel_error: f64,
        /// Starting λ (positive).
        initial: f64,
        /// Controller gain per step; `0.01`–`0.05` is gentle.
        gain: f64,
    },
}

impl LambdaControl {
    /// An adaptive controller with a gentle default gain.
    pub fn adaptive(target_rel_error: f64, initial: f64) -> Self {
        Self::Adaptive {
            target_rel_error,
            initial,
            gain: 0.02,
        }
    }

    fn initial(&self) -> f64 {
        match *self {
            Self::Fixed(l) => l,
            Self::WarmUp { .. } => 0.0,
            Self::Adaptive { initial, .. } => initial,
        }
    }

    fn validate(&self) -> Result<()> {
        let bad = |reason: String| {
            Err(ModelError::InvalidConfig {
                name: "lambda",
                reason,
            })
        };
        match *self {
            Self::Fixed(l) | Self::WarmUp { lambda: l, .. } if !(l.is_finite() && l >= 0.0) => {
                bad(format!("λ = {l} must be finite and non-negative"))
            }
            Self::Adaptive {
                target_rel_error,
                initial,
                gain,
            } if !(target_rel_error > 0.0
                && initial > 0.0
                && initial.is_finite()
                && gain > 0.0
                && gain.is_finite()) =>
            {
                bad(format!(
                    "adaptive control needs target > 0, initial λ > 0 and gain > 0 (got {target_rel_error}, {initial}, {gain})"
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Learning-rate schedule after the linear warm-up.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum LrSchedule {
    /// The base learning rate throughout.
    Constant,
    /// Cosine decay from the base rate to `min_factor` times it at the last step.
    Cosine {
        /// Final fraction of the base rate.
        min_factor: f64,
    },
}

/// Fresh training samples that arrive while a network trains ("data without
/// end"): a simulator on a background thread, a detector stream, a reader.
///
/// Between epochs [`Trainer::train_streaming`] puts fresh samples in place
/// of the oldest samples of its training pool. Under a time budget it takes
/// what is ready ([`take_ready`](Self::take_ready)), so the pool is renewed as
/// fast as the source delivers and training never waits for it. Without one
/// it waits for the source's next delivery and takes only that
/// ([`take_next`](Self::take_next)), so that a run of a fixed number of epochs
/// sees the same samples in the same epochs on any machine, however fast.
pub trait SampleSource {
    /// Samples ready now (row-major, a whole number of records of the model's
    /// input size; empty when none are ready). Should not block for long.
    fn take_ready(&mut self) -> Result<Vec<f32>>;

    /// The source's next delivery, waiting for it if need be: for runs that
    /// must not depend on how fast the source is. Empty when the source has
    /// no more. The default takes what is ready.
    fn take_next(&mut self) -> Result<Vec<f32>> {
        self.take_ready()
    }
}

/// Everything that controls a training run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Base learning rate.
    pub learning_rate: f64,
    /// Schedule after warm-up.
    pub schedule: LrSchedule,
    /// Steps of linear learning-rate warm-up.
    pub lr_warmup_steps: u64,
    /// Adam's hyper-parameters (weight decay 0 by default).
    pub adam: AdamConfig,
    /// Samples per step.
    pub batch_size: usize,
    /// Passes over the training split (with a time budget, the most).
    pub epochs: usize,
    /// Stop at the end of the first epoch that ends past this many seconds
    /// of training, with the learning-rate schedule following the elapsed
    /// fraction of the budget (or of the epochs, whichever is further).
    pub time_budget: Option<f64>,
    /// Seed of the split and of the shuffling.
    pub seed: u64,
    /// Fraction of the data held out for validation (0 for none).
    pub validation_fraction: f64,
    /// How λ evolves.
    pub lambda: LambdaControl,
    /// Stop after this many epochs without a better validation score.
    pub early_stopping_patience: Option<usize>,
    /// Put the best (by validation score) weights back at the end.
    pub restore_best: bool,
    /// Write `latest.safetensors` every epoch and `best.safetensors` on improvement.
    pub checkpoint_dir: Option<PathBuf>,
    /// Keep an exponential moving average of the weights, `w̄ ← d·w̄ + (1−d)·w`
    /// after every step with decay `d` (e.g. 0.999), and validate, keep and
    /// return the averaged weights instead of the last ones. `None`: no average.
    pub weight_average: Option<f64>,
    /// How each step runs its products over the latent: on the batch's
    /// active units ([`StepPath::Auto`], the default) or on all of them.
    pub step_path: StepPath,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            schedule: LrSchedule::Constant,
            lr_warmup_steps: 0,
            adam: AdamConfig::default(),
            batch_size: 256,
            epochs: 10,
            time_budget: None,
            seed: 0,
            validation_fraction: 0.1,
            lambda: LambdaControl::Fixed(0.0),
            early_stopping_patience: None,
            restore_best: true,
            checkpoint_dir: None,
            weight_average: None,
            step_path: StepPath::Auto,
        }
    }
}

impl TrainConfig {
    /// Checks every setting's domain (what [`Trainer::train`] checks before
    /// it starts), so a caller can refuse a bad configuration before
    /// preparing data for it.
    pub fn validate(&self) -> Result<()> {
        let c = self;
        c.lambda.validate()?;
        let bad = |name, reason: String| Err(ModelError::InvalidConfig { name, reason });
        if !(c.learning_rate > 0.0 && c.learning_rate.is_finite()) {
            return bad("learning rate", format!("{} must be positive", c.learning_rate));
        }
        if c.batch_size == 0 {
            return bad("batch size", "must be at least 1".into());
        }
        if !(0.0..1.0).contains(&c.validation_fraction) {
            return bad(
                "validation fraction",
                format!("{} must be in [0, 1)", c.validation_fraction),
            );
        }
        if let Some(t) = c.time_budget
            && !(t > 0.0 && t.is_finite())
        {
            return bad("time budget", format!("{t} s must be positive"));
        }
        if let Some(d) = c.weight_average
            && !(0.0..1.0).contains(&d)
        {
            return bad("weight average", format!("decay {d} must be in [0, 1)"));
        }
        Ok(())
    }
}

/// What the progress callback sees after every step.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Epoch (0-based).
    pub epoch: usize,
    /// Number of epochs configured.
    pub epochs: usize,
    /// Optimiser steps so far (1 after the first).
    pub step: u64,
    /// Steps in one epoch.
    pub steps_per_epoch: u64,
    /// `mean ‖y − x‖²` of the batch.
    pub recon_loss: f64,
    /// `mean ‖f(z)‖₁` of the batch.
    pub penalty: f64,
    /// λ used for this step.
    pub lambda: f64,
    /// Learning rate used for this step.
    pub learning_rate: f64,
    /// Mean relative L2 error of the batch.
    pub batch_rel_error: f64,
    /// Mean number of active latent units per sample in the batch.
    pub batch_nnz: f64,
    /// Latent units active for some sample of the batch (the width the
    /// step's latent products ran on when it ran on the active units).
    pub batch_units: usize,
    /// Validation metrics, on the last step of an epoch.
    pub validation: Option<Validation>,
    /// Fresh samples from a [`SampleSource`] that went into the pool so far.
    pub fresh_samples: u64,
    /// Seconds since training started, when this step began (its learning
    /// rate follows them under a time budget).
    pub seconds: f64,
}

/// Metrics on the held-out split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Validation {
    /// Mean relative L2 error `‖y − x‖ / ‖x‖`.
    pub rel_error: f64,
    /// Mean squared error per sample, `mean ‖y − x‖²`.
    pub recon_loss: f64,
    /// `mean ‖f(z)‖₁`.
    pub penalty: f64,
    /// Mean active latent units per sample.
    pub nnz: f64,
    /// Seconds since training started, when this was measured.
    pub seconds: f64,
}

/// The outcome of [`Trainer::train`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Validation metrics after each epoch (empty without a validation split).
    pub history: Vec<Validation>,
    /// Epochs run.
    pub epochs_run: usize,
    /// Optimiser steps taken.
    pub steps: u64,
    /// λ at the end.
    pub final_lambda: f64,
    /// Epoch whose weights were kept (with `restore_best`).
    pub best_epoch: Option<usize>,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Fresh samples taken from a [`SampleSource`] into the training pool.
    pub fresh_samples: u64,
}

/// Trains an [`Autoencoder`] on row-major samples.
///
/// ```
/// use candle_core::Device;
/// use sae_model::{Architecture, Autoencoder, Identity, LambdaControl, TrainConfig, Trainer};
///
/// // 64 samples of 8 values, each a scaled copy of one of two patterns.
/// let data: Vec<f32> = (0..64)
///     .flat_map(|i| {
///         let s = 0.5 + (i % 7) as f32 / 7.0;
///         (0..8).map(move |j| if (j < 4) == (i % 2 == 0) { s } else { 0.0 })
///     })
///     .collect();
/// let mut model = Autoencoder::new(Architecture::new(8, 16, 16)?, &Device::Cpu, 1)?;
/// let config = TrainConfig {
///     epochs: 30,
///     batch_size: 16,
///     learning_rate: 1e-2,
///     lambda: LambdaControl::Fixed(1e-3),
///     ..TrainConfig::default()
/// };
/// let report = Trainer::new(config, Box::new(Identity)).train(&mut model, &data, |_| {})?;
/// assert!(report.history.last().unwrap().rel_error < 0.5);
/// # Ok::<(), sae_model::ModelError>(())
/// ```
#[derive(Debug)]
pub struct Trainer {
    config: TrainConfig,
    selector: Box<dyn SparseSelector>,
}

impl Trainer {
    /// A trainer with `config`, penalising `‖f(z)‖₁` for the selector `f`.
    pub fn new(config: TrainConfig, selector: Box<dyn SparseSelector>) -> Self {
        Self { config, selector }
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The selector.
    pub fn selector(&self) -> &dyn SparseSelector {
        &*self.selector
    }

    fn validate(&self, samples: usize) -> Result<()> {
        self.config.validate()?;
        if samples == 0 {
            return Err(ModelError::NoRecords);
        }
        Ok(())
    }

    /// Trains `model` on `data` (row-major samples of the model's input size),
    /// calling `progress` after every step.
    pub fn train(
        &self,
        model: &mut Autoencoder,
        data: &[f32],
        progress: impl FnMut(&Progress),
    ) -> Result<TrainReport> {
        self.train_inner(model, data, None, progress)
    }

    /// Like [`train`](Self::train), renewing the training pool from `source`
    /// between epochs: fresh samples replace the oldest ones (the held-out
    /// validation samples, drawn from `data`, stay). An epoch is one pass over
    /// the pool, whatever it holds by then.
    pub fn train_streaming(
        &self,
        model: &mut Autoencoder,
        data: &[f32],
        source: &mut dyn SampleSource,
        progress: impl FnMut(&Progress),
    ) -> Result<TrainReport> {
        self.train_inner(model, data, Some(source), progress)
    }

    fn train_inner(
        &self,
        model: &mut Autoencoder,
        data: &[f32],
        mut source: Option<&mut dyn SampleSource>,
        mut progress: impl FnMut(&Progress),
    ) -> Result<TrainReport> {
        let started = Instant::now();
        let n = model.architecture().input;
        let samples = whole_records(data, n)?;
        self.validate(samples)?;
        let c = &self.config;

        let mut rng = ChaCha8Rng::seed_from_u64(c.seed);
        let mut order: Vec<usize> = (0..samples).collect();
        order.shuffle(&mut rng);
        let n_val = if c.validation_fraction > 0.0 && samples >= 2 {
            ((samples as f64 * c.validation_fraction).round() as usize).clamp(1, samples - 1)
        } else {
            0
        };
        let (train_idx, val_idx) = order.split_at(samples - n_val);
        let mut train_idx = train_idx.to_vec();
        let val_batches = gather_batches(model, data, val_idx, c.batch_size)?;

        let steps_per_epoch = train_idx.len().div_ceil(c.batch_size) as u64;
        let total_steps = steps_per_epoch.saturating_mul(c.epochs as u64);
        let mut adam = Adam::new(model, c.adam)?;
        let mut lambda = c.lambda.initial();
        let mut error_average: Option<f64> = None;
        let mut step = 0u64;
        let mut report = TrainReport {
            history: Vec::new(),
            epochs_run: 0,
            steps: 0,
            final_lambda: lambda,
            best_epoch: None,
            stopped_early: false,
            seconds: 0.0,
            fresh_samples: 0,
        };
        let mut pool: Cow<'_, [f32]> = Cow::Borrowed(data);
        // The training rows in a fixed order (train_idx is reshuffled every
        // epoch), and the position in it of the oldest row: the next to renew.
        let ring = train_idx.clone();
        let mut renew_at = 0usize;
        let mut average = match c.weight_average {
            Some(_) => Some(model.deep_copy()?),
            None => None,
        };
        let mut best: Option<(f64, Autoencoder)> = None;
        let mut since_best = 0usize;
        if let Some(dir) = &c.checkpoint_dir {
            std::fs::create_dir_all(dir)?;
        }

        for epoch in 0..c.epochs {
            if epoch > 0
                && let Some(source) = source.as_deref_mut()
            {
                let fresh = match c.time_budget {
                    Some(_) => source.take_ready()?,
                    None => source.take_next()?,
                };
                whole_records(&fresh, n)?;
                report.fresh_samples += renew_pool(pool.to_mut(), &ring, &mut renew_at, &fresh, n) as u64;
            }
            train_idx.shuffle(&mut rng);
            for (b, chunk) in train_idx.chunks(c.batch_size).enumerate() {
                step += 1;
                if let LambdaControl::WarmUp {
                    lambda: target,
                    steps,
                } = c.lambda
                {
                    lambda = target * (step as f64 / steps.max(1) as f64).min(1.0);
                }
                let seconds = started.elapsed().as_secs_f64();
                let lr = self.learning_rate(step, total_steps, seconds);
                let x = gather(model, &pool, chunk)?;
                let stats = model.train_step_on(&x, lambda, &*self.selector, &mut adam, lr, c.step_path)?;
                if let (Some(avg), Some(decay)) = (average.as_mut(), c.weight_average) {
                    // Bias-corrected early on: the average starts as a copy of the start.
                    let d = decay.min((1.0 + step as f64) / (10.0 + step as f64));
                    avg.blend_from(model, d)?;
                }
                let rel_error = stats.rel_error;
                let used_lambda = lambda;
                if let LambdaControl::Adaptive {
                    target_rel_error,
                    gain,
                    ..
                } = c.lambda
                {
                    let e = match error_average {
                        Some(avg) => 0.9 * avg + 0.1 * rel_error,
                        None => rel_error,
                    };
                    error_average = Some(e);
                    // At most a factor e^±gain per step, within nine decades of the start.
                    let change = gain * ((target_rel_error - e) / target_rel_error).clamp(-1.0, 1.0);
                    let initial = c.lambda.initial();
                    lambda = (lambda * change.exp()).clamp(initial * 1e-3, initial * 1e6);
                }
                let last_of_epoch = b as u64 + 1 == steps_per_epoch;
                let validation = if last_of_epoch && !val_batches.is_empty() {
                    let mut v = self.validation(average.as_ref().unwrap_or(model), &val_batches)?;
                    v.seconds = started.elapsed().as_secs_f64();
                    Some(v)
                } else {
                    None
                };
                progress(&Progress {
                    epoch,
                    epochs: c.epochs,
                    step,
                    steps_per_epoch,
                    recon_loss: stats.recon,
                    penalty: stats.penalty,
                    lambda: used_lambda,
                    learning_rate: lr,
                    batch_rel_error: rel_error,
                    batch_nnz: stats.nnz,
                    batch_units: stats.units,
                    validation,
                    fresh_samples: report.fresh_samples,
                    seconds,
                });
                if let Some(v) = validation {
                    report.history.push(v);
                }
            }
            report.epochs_run = epoch + 1;
            // The weights this run stands for: the average when one is kept.
            let current: &Autoencoder = average.as_ref().unwrap_or(model);
            if let Some(dir) = &c.checkpoint_dir {
                current.save(
                    dir.join("latest.safetensors"),
                    &ModelInfo::new(self.selector.name(), lambda),
                )?;
            }
            let out_of_time = c
                .time_budget
                .is_some_and(|t| started.elapsed().as_secs_f64() >= t);
            let Some(v) = report.history.last().copied() else {
                if out_of_time {
                    break;
                }
                continue;
            };
            let score = self.score(&v, lambda);
            if best.as_ref().is_none_or(|(s, _)| score < *s) {
                best = Some((score, current.deep_copy()?));
                report.best_epoch = Some(epoch);
                since_best = 0;
                if let Some(dir) = &c.checkpoint_dir {
                    current.save(
                        dir.join("best.safetensors"),
                        &ModelInfo::new(self.selector.name(), lambda),
                    )?;
                }
            } else {
                since_best += 1;
                if c.early_stopping_patience.is_some_and(|p| since_best >= p) {
                    report.stopped_early = true;
                    break;
                }
            }
            if out_of_time {
                break;
            }
        }
        match best {
            Some((_, weights)) if c.restore_best => *model = weights,
            _ => {
                if let Some(avg) = average {
                    *model = avg;
                }
            }
        }
        report.steps = step;
        report.final_lambda = lambda;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// Lower is better. With a fixed λ, the validation objective; under
    /// adaptive control (where λ moves) the sparsity, penalised when the
    /// error exceeds the target.
    fn score(&self, v: &Validation, lambda: f64) -> f64 {
        match self.config.lambda {
            LambdaControl::Adaptive { target_rel_error, .. } => {
                let excess = (v.rel_error / target_rel_error).max(1.0);
                (v.nnz + 1.0) * excess * excess
            }
            _ => v.recon_loss + lambda * v.penalty,
        }
    }

    fn learning_rate(&self, step: u64, total_steps: u64, seconds: f64) -> f64 {
        let c = &self.config;
        let base = c.learning_rate;
        if step <= c.lr_warmup_steps {
            return base * step as f64 / c.lr_warmup_steps as f64;
        }
        match c.schedule {
            LrSchedule::Constant => base,
            LrSchedule::Cosine { min_factor } => {
                let span = total_steps.saturating_sub(c.lr_warmup_steps).max(1) as f64;
                let by_steps = (step - c.lr_warmup_steps) as f64 / span;
                let by_time = c.time_budget.map_or(0.0, |budget| seconds / budget);
                let t = by_steps.max(by_time).min(1.0);
                base * (min_factor + (1.0 - min_factor) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()))
            }
        }
    }

    fn validation(&self, model: &Autoencoder, batches: &[Tensor]) -> Result<Validation> {
        let mut total = 0usize;
        let (mut rel, mut recon, mut penalty, mut nnz) = (0.0, 0.0, 0.0, 0.0);
        for x in batches {
            let b = x.dim(0)?;
            let (s, _) = model.step(x, 0.0, &*self.selector, false)?;
            recon += s.recon * b as f64;
            penalty += s.penalty * b as f64;
            rel += s.rel_error * b as f64;
            nnz += s.nnz * b as f64;
            total += b;
        }
        let t = total as f64;
        Ok(Validation {
            rel_error: rel / t,
            recon_loss: recon / t,
            penalty: penalty / t,
            nnz: nnz / t,
            seconds: 0.0,
        })
    }
}

fn gather(model: &Autoencoder, data: &[f32], rows: &[usize]) -> Result<Tensor> {
    let n = model.architecture().input;
    let mut batch = Vec::with_capacity(rows.len() * n);
    for &r in rows {
        batch.extend_from_slice(&data[r * n..(r + 1) * n]);
    }
    Ok(Tensor::from_vec(batch, (rows.len(), n), model.device())?.to_dtype(model.dtype())?)
}

fn gather_batches(model: &Autoencoder, data: &[f32], rows: &[usize], batch: usize) -> Result<Vec<Tensor>> {
    rows.chunks(batch).map(|c| gather(model, data, c)).collect()
}

/// Copies the samples of `fresh` over the oldest rows of `rows`, which
/// `ring` lists from `*at` on (oldest first), and advances `*at`; at most
/// one ring's worth, the newest, since older ones would be overwritten at
/// once. Returns how many samples went in.
fn renew_pool(rows: &mut [f32], ring: &[usize], at: &mut usize, fresh: &[f32], n: usize) -> usize {
    let take = (fresh.len() / n).min(ring.len());
    for sample in fresh.chunks_exact(n).skip(fresh.len() / n - take) {
        let r = ring[*at];
        rows[r * n..(r + 1) * n].copy_from_slice(sample);
        *at = (*at + 1) % ring.len();
    }
    take
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selector::Identity;

    #[test]
    fn fresh_samples_replace_the_oldest_training_rows() {
        // Rows 0..4, of which 1 and 3 are the training ring (0, 2 held out).
        let mut rows = vec![0.0f32, 1.0, 2.0, 3.0];
        let ring = [3, 1];
        let mut at = 0;
        assert_eq!(renew_pool(&mut rows, &ring, &mut at, &[10.0], 1), 1);
        assert_eq!(rows, [0.0, 1.0, 2.0, 10.0]);
        // Next the oldest is row 1, then row 3 again (holding the first fresh sample).
        assert_eq!(renew_pool(&mut rows, &ring, &mut at, &[11.0, 12.0], 1), 2);
        assert_eq!(rows, [0.0, 11.0, 2.0, 12.0]);
        // More than a ring's worth: only the newest go in, oldest row (1) first.
        assert_eq!(renew_pool(&mut rows, &ring, &mut at, &[20.0, 21.0, 22.0], 1), 2);
        assert_eq!(rows, [0.0, 21.0, 2.0, 22.0]);
        assert_eq!(renew_pool(&mut rows, &ring, &mut at, &[], 1), 0);
    }

    #[test]
    fn the_cosine_schedule_follows_steps_or_time_whichever_is_further() {
        let trainer = |budget| {
            Trainer::new(
                TrainConfig {
                    learning_rate: 1e-2,
                    lr_warmup_steps: 10,
                    schedule: LrSchedule::Cosine { min_factor: 0.1 },
                    time_budget: budget,
                    ..TrainConfig::default()
                },
                Box::new(Identity),
            )
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        let t = trainer(None);
        // Warm-up, then the decay over the remaining 100 steps.
        assert!(close(t.learning_rate(5, 110, 0.0), 5e-3));
        assert!(close(t.learning_rate(10, 110, 0.0), 1e-2));
        assert!(close(t.learning_rate(60, 110, 0.0), 1e-2 * 0.55));
        assert!(close(t.learning_rate(110, 110, 0.0), 1e-3));
        // A time budget: half of it gone is half the decay, whatever the steps say.
        let t = trainer(Some(100.0));
        assert!(close(t.learning_rate(11, u64::MAX, 50.0), 1e-2 * 0.55));
        assert!(close(t.learning_rate(11, u64::MAX, 100.0), 1e-3));
        assert!(close(t.learning_rate(11, u64::MAX, 1e9), 1e-3));
        // The steps, when further along, win.
        assert!(close(t.learning_rate(110, 110, 1.0), 1e-3));
    }
}
