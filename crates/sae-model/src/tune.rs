//! Decoder fine-tuning on refined latents: training the decoder on what
//! compression will actually store.
//!
//! Compression refines each latent against its record under the fixed
//! decoder ([`Autoencoder::refine`]), so the decoder sees latents that the
//! encoder never produced during training. Tuning alternates the two halves of
//! that objective: refine the training latents under the current decoder, then
//! take a few epochs of Adam on the decoder alone, minimising
//! `mean ‖d(z*) − x‖²` over those refined latents `z*`. The encoder (and so
//! every coding table fitted on its latents) is unchanged.

use std::time::Instant;

use candle_core::Tensor;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::error::{ModelError, Result};
use crate::fused::{column_sums, relu_backward, residual};
use crate::network::{Autoencoder, Dense};
use crate::optim::{Adam, AdamConfig};
use crate::refine::Refinement;

/// How [`Autoencoder::tune_decoder`] alternates refinement and decoder training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecoderTuning {
    /// Refine-then-train rounds.
    pub rounds: usize,
    /// Passes of decoder training over the refined latents per round.
    pub epochs: usize,
    /// How the training latents are refined each round (no lattice: the
    /// values are continuous here; compression adds its own).
    pub refinement: Refinement,
    /// Adam's learning rate for the decoder (constant).
    pub learning_rate: f64,
    /// Records per decoder step.
    pub batch_size: usize,
    /// Fraction of the records held out to score each round (at least one
    /// record when positive); the best-scoring decoder is kept.
    pub validation_fraction: f64,
    /// Seed of the split and of the batch order.
    pub seed: u64,
    /// Tune on at most this many records (the first ones; `None`: all):
    /// refinement costs ~30 ms per 64×64 record and round on 2 cores.
    pub max_records: Option<usize>,
}

impl Default for DecoderTuning {
    /// 3 rounds of 2 epochs after 30 refinement iterations, learning rate
    /// 1e-4, batches of 128, 5% held out.
    fn default() -> Self {
        Self {
            rounds: 3,
            epochs: 2,
            refinement: Refinement {
                iterations: 30,
                ..Refinement::default()
            },
            learning_rate: 1e-4,
            batch_size: 128,
            validation_fraction: 0.05,
            seed: 0,
            max_records: None,
        }
    }
}

impl DecoderTuning {
    /// Checks every field's domain.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &'static str, reason: String| Err(ModelError::InvalidConfig { name, reason });
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(
                "tuning learning rate",
                format!("{} is not positive and finite", self.learning_rate),
            );
        }
        if self.batch_size == 0 {
            return bad("tuning batch size", "must be at least 1".into());
        }
        if self.epochs == 0 {
            return bad("tuning epochs", "must be at least 1".into());
        }
        if self.max_records == Some(0) {
            return bad("tuning records", "must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.validation_fraction) {
            return bad(
                "tuning validation fraction",
                format!("{} is not in [0, 1)", self.validation_fraction),
            );
        }
        if self.refinement.lattice.is_some() {
            return bad(
                "tuning refinement",
                "the latents are continuous here: no lattice".into(),
            );
        }
        Ok(())
    }
}

/// One tuning round, as reported to the progress callback.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TuneRound {
    /// 1-based round number.
    pub round: usize,
    /// Mean relative L2 error of the refined training latents over this
    /// round's first epoch, each batch measured just before its step.
    pub train_rel_error: f64,
    /// Mean relative L2 error of the held-out records, refined under the
    /// decoder after this round (`NaN` without held-out records).
    pub validation_rel_error: f64,
    /// Seconds since tuning started.
    pub seconds: f64,
}

/// What [`Autoencoder::tune_decoder`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct TuneReport {
    /// Held-out mean relative L2 error, refined, under the decoder before tuning.
    pub initial_validation: f64,
    /// Every round.
    pub rounds: Vec<TuneRound>,
    /// The round whose decoder was kept (0: the original one); without
    /// held-out records, the last round.
    pub kept_round: usize,
}

impl Autoencoder {
    /// Fine-tunes the decoder on refined latents of `samples` (see the
    /// [module docs](crate::tune)); the encoder is untouched. With held-out
    /// records, the decoder that scores best on them (refined) is kept, so
    /// tuning never leaves the model worse on them than it started.
    ///
    /// ```
    /// use candle_core::Device;
    /// use sae_model::{Architecture, Autoencoder, DecoderTuning};
    ///
    /// let mut model = Autoencoder::new(Architecture::new(16, 16, 32)?, &Device::Cpu, 3)?;
    /// let x: Vec<f32> = (0..40 * 16).map(|i| ((i % 16) as f32 / 5.0).cos().abs()).collect();
    /// let tuning = DecoderTuning { rounds: 2, batch_size: 8, learning_rate: 1e-2, validation_fraction: 0.1, ..Default::default() };
    /// let report = model.tune_decoder(&x, &tuning, |_| {})?;
    /// assert!(report.rounds.iter().all(|r| r.validation_rel_error.is_finite()));
    /// let kept = report.rounds.iter().map(|r| r.validation_rel_error).fold(report.initial_validation, f64::min);
    /// assert!(kept <= report.initial_validation);
    /// # Ok::<(), sae_model::ModelError>(())
    /// ```
    pub fn tune_decoder(
        &mut self,
        samples: &[f32],
        tuning: &DecoderTuning,
        mut progress: impl FnMut(&TuneRound),
    ) -> Result<TuneReport> {
        tuning.validate()?;
        let n = self.architecture().input;
        self.batch_tensor(samples)?; // validates shape and values
        let records = (samples.len() / n).min(tuning.max_records.unwrap_or(usize::MAX));
        let started = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(tuning.seed);
        let mut order: Vec<usize> = (0..records).collect();
        order.shuffle(&mut rng);
        let n_val = if tuning.validation_fraction > 0.0 && records >= 2 {
            ((records as f64 * tuning.validation_fraction).round() as usize).clamp(1, records - 1)
        } else {
            0
        };
        let gather = |idx: &[usize]| -> Vec<f32> {
            idx.iter()
                .flat_map(|&i| &samples[i * n..(i + 1) * n])
                .copied()
                .collect()
        };
        let (train_idx, val_idx) = order.split_at(records - n_val);
        let train = gather(train_idx);
        let val = gather(val_idx);

        let mut report = TuneReport {
            initial_validation: self.refined_error(&val, &tuning.refinement)?,
            rounds: Vec::new(),
            kept_round: 0,
        };
        // Without held-out records there is nothing to choose by: the last decoder stays.
        let mut best = match n_val {
            0 => None,
            _ => Some((report.initial_validation, self.deep_copy()?)),
        };
        let mut adam = Adam::for_decoder(self, AdamConfig::default())?;
        for round in 1..=tuning.rounds {
            let codes = self.refine(&train, &self.encode_sparse(&train, 0.0)?, &tuning.refinement)?;
            let mut train_error = 0.0;
            let mut batch_order: Vec<usize> = (0..codes.len()).collect();
            for epoch in 0..tuning.epochs {
                batch_order.shuffle(&mut rng);
                for batch in batch_order.chunks(tuning.batch_size) {
                    let rows: Vec<f32> = batch
                        .iter()
                        .flat_map(|&i| &train[i * n..(i + 1) * n])
                        .copied()
                        .collect();
                    let x = self.batch_tensor(&rows)?;
                    let z = self.dense_latents(batch.iter().map(|&i| &codes[i]), batch.len())?;
                    let rel = self.decoder_step(&z, &x, &mut adam, tuning.learning_rate)?;
                    if epoch == 0 {
                        train_error += rel * batch.len() as f64;
                    }
                }
            }
            let validation = self.refined_error(&val, &tuning.refinement)?;
            match &mut best {
                None => report.kept_round = round,
                Some((score, _)) if validation < *score => {
                    best = Some((validation, self.deep_copy()?));
                    report.kept_round = round;
                }
                Some(_) => {}
            }
            let r = TuneRound {
                round,
                train_rel_error: train_error / codes.len().max(1) as f64,
                validation_rel_error: validation,
                seconds: started.elapsed().as_secs_f64(),
            };
            progress(&r);
            report.rounds.push(r);
        }
        if let Some((_, kept)) = best {
            *self = kept;
        }
        Ok(report)
    }

    /// Mean relative L2 error of `samples` reconstructed from their refined latents (`NaN` if none).
    fn refined_error(&self, samples: &[f32], refinement: &Refinement) -> Result<f64> {
        let n = self.architecture().input;
        if samples.is_empty() {
            return Ok(f64::NAN);
        }
        let codes = self.refine(samples, &self.encode_sparse(samples, 0.0)?, refinement)?;
        let back = self.decode_sparse(&codes)?;
        let total: f64 = samples
            .chunks(n)
            .zip(back.chunks(n))
            .map(|(x, y)| {
                let (e, s) = x.iter().zip(y).fold((0.0, 0.0), |(e, s), (&a, &b)| {
                    let (a, b) = (f64::from(a), f64::from(b));
                    (e + (b - a) * (b - a), s + a * a)
                });
                if s > 0.0 { (e / s).sqrt() } else { e.sqrt() }
            })
            .sum();
        Ok(total / (samples.len() / n) as f64)
    }

    /// One Adam step on the decoder for `mean ‖d(z) − x‖²`; returns the
    /// batch's mean relative error before the step.
    fn decoder_step(&mut self, z: &Tensor, x: &Tensor, adam: &mut Adam, lr: f64) -> Result<f64> {
        let b = x.dim(0)?;
        let (h2, _) = self.layers.decoder_hidden.forward(z, true)?;
        let (y, _) = self.layers.decoder_output.forward(&h2, false)?;
        let (dy, sums) = residual(y, x, 2.0 / b as f64)?;
        let loss = sums.squared_error / b as f64;
        if !loss.is_finite() {
            return Err(ModelError::Diverged {
                step: adam.steps() + 1,
                loss,
            });
        }
        let gw3 = h2.t()?.matmul(&dy)?;
        let gb3 = column_sums(&dy)?;
        let da2 = relu_backward(dy.matmul(&self.layers.decoder_output.weight.t()?)?, &h2)?;
        let gw2 = z.t()?.matmul(&da2)?;
        let gb2 = column_sums(&da2)?;
        let hidden = Dense {
            weight: gw2,
            bias: gb2,
        };
        let output = Dense {
            weight: gw3,
            bias: gb3,
        };
        adam.apply_decoder(self, &[&hidden, &output], lr)?;
        Ok(sums.relative_error / b as f64)
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;
    use crate::arch::Architecture;
    use crate::selector::Identity;
    use crate::train::{TrainConfig, Trainer};

    fn data(records: usize, n: usize) -> Vec<f32> {
        (0..records * n)
            .map(|i| {
                let (r, j) = ((i / n) as f32, (i % n) as f32);
                ((j * (0.2 + 0.01 * r)).sin() + 1.1) * (1.0 + 0.05 * r)
            })
            .collect()
    }

    #[test]
    fn tuning_lowers_the_refined_error_and_leaves_the_encoder_alone() {
        let n = 16;
        let x = data(64, n);
        let mut model = Autoencoder::new(Architecture::new(n, 16, 32).unwrap(), &Device::Cpu, 1).unwrap();
        let config = TrainConfig {
            epochs: 3,
            batch_size: 16,
            validation_fraction: 0.0,
            ..TrainConfig::default()
        };
        Trainer::new(config, Box::new(Identity))
            .train(&mut model, &x, |_| {})
            .unwrap();
        let encoder_before = model.encode_sparse(&x, 0.0).unwrap();
        let tuning = DecoderTuning {
            rounds: 3,
            epochs: 5,
            batch_size: 8,
            learning_rate: 3e-3,
            validation_fraction: 0.25,
            ..DecoderTuning::default()
        };
        let mut rounds = 0;
        let report = model.tune_decoder(&x, &tuning, |_| rounds += 1).unwrap();
        assert_eq!(rounds, 3);
        assert_eq!(report.rounds.len(), 3);
        // Undertrained, the decoder has plenty to gain: the kept one is strictly better.
        assert!(report.kept_round > 0, "{report:?}");
        let kept = report.rounds[report.kept_round - 1].validation_rel_error;
        assert!(kept < report.initial_validation, "{report:?}");
        assert_eq!(model.encode_sparse(&x, 0.0).unwrap(), encoder_before);
    }

    #[test]
    fn a_round_that_does_harm_is_not_kept() {
        let n = 16;
        let x = data(32, n);
        let mut model = Autoencoder::new(Architecture::new(n, 16, 32).unwrap(), &Device::Cpu, 2).unwrap();
        let before = model
            .decode_sparse(&model.encode_sparse(&x, 0.0).unwrap())
            .unwrap();
        // A huge learning rate wrecks the decoder; the original is kept.
        let tuning = DecoderTuning {
            rounds: 1,
            epochs: 1,
            batch_size: 4,
            learning_rate: 10.0,
            validation_fraction: 0.25,
            ..DecoderTuning::default()
        };
        let report = model.tune_decoder(&x, &tuning, |_| {}).unwrap();
        assert_eq!(report.kept_round, 0, "{report:?}");
        assert_eq!(
            model
                .decode_sparse(&model.encode_sparse(&x, 0.0).unwrap())
                .unwrap(),
            before
        );
    }

    #[test]
    fn without_held_out_records_the_last_round_is_kept() {
        let n = 16;
        let x = data(16, n);
        let mut model = Autoencoder::new(Architecture::new(n, 16, 32).unwrap(), &Device::Cpu, 5).unwrap();
        let before = model
            .decode_sparse(&model.encode_sparse(&x, 0.0).unwrap())
            .unwrap();
        let tuning = DecoderTuning {
            rounds: 2,
            epochs: 1,
            batch_size: 4,
            validation_fraction: 0.0,
            ..DecoderTuning::default()
        };
        let report = model.tune_decoder(&x, &tuning, |_| {}).unwrap();
        assert_eq!(report.kept_round, 2);
        assert!(report.initial_validation.is_nan());
        assert!(report.rounds.iter().all(|r| r.validation_rel_error.is_nan()));
        assert_ne!(
            model
                .decode_sparse(&model.encode_sparse(&x, 0.0).unwrap())
                .unwrap(),
            before
        );
    }

    #[test]
    fn bad_settings_and_data_are_refused() {
        let mut model = Autoencoder::new(Architecture::new(4, 4, 8).unwrap(), &Device::Cpu, 0).unwrap();
        let x = vec![1.0f32; 16];
        for tuning in [
            DecoderTuning {
                learning_rate: 0.0,
                ..Default::default()
            },
            DecoderTuning {
                batch_size: 0,
                ..Default::default()
            },
            DecoderTuning {
                epochs: 0,
                ..Default::default()
            },
            DecoderTuning {
                max_records: Some(0),
                ..Default::default()
            },
            DecoderTuning {
                validation_fraction: 1.0,
                ..Default::default()
            },
            DecoderTuning {
                refinement: Refinement {
                    lattice: Some(0.1),
                    ..Refinement::default()
                },
                ..Default::default()
            },
        ] {
            assert!(matches!(
                model.tune_decoder(&x, &tuning, |_| {}),
                Err(ModelError::InvalidConfig { .. })
            ));
        }
        let mut bad = x.clone();
        bad[3] = f32::NAN;
        assert!(
            model
                .tune_decoder(&bad, &DecoderTuning::default(), |_| {})
                .is_err()
        );
        assert!(
            model
                .tune_decoder(&x[..5], &DecoderTuning::default(), |_| {})
                .is_err()
        );
    }
}
