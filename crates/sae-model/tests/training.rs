//! Small training runs: the loss and the number of active units fall, the
//! adaptive λ controller steers to its target, runs are reproducible, and
//! early stopping and checkpoints work.

use candle_core::Device;
use sae_model::{
    Architecture, Autoencoder, ForwardDifference, Identity, LambdaControl, LrSchedule, ModelError,
    TrainConfig, Trainer,
};

/// Samples that are sparse combinations of a few smooth patterns.
fn synthetic(count: usize, n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let patterns: Vec<Vec<f64>> = (0..6)
        .map(|p| {
            (0..n)
                .map(|i| ((i as f64 + 1.0) * (p as f64 + 1.0) * 0.37).sin().abs())
                .collect()
        })
        .collect();
    let mut data = Vec::with_capacity(count * n);
    for _ in 0..count {
        let a = (next() * 6.0) as usize;
        let b = (next() * 6.0) as usize;
        let (wa, wb) = (0.5 + next(), 0.5 * next());
        data.extend((0..n).map(|i| (wa * patterns[a][i] + wb * patterns[b][i]) as f32));
    }
    data
}

fn config(lambda: LambdaControl, epochs: usize) -> TrainConfig {
    TrainConfig {
        learning_rate: 1e-2,
        batch_size: 32,
        epochs,
        seed: 9,
        validation_fraction: 0.2,
        lambda,
        ..TrainConfig::default()
    }
}

#[test]
fn loss_and_active_units_fall() {
    let data = synthetic(400, 16, 1);
    let mut model = Autoencoder::new(Architecture::new(16, 16, 32).unwrap(), &Device::Cpu, 2).unwrap();
    let mut first = None;
    let mut last = None;
    let report = Trainer::new(config(LambdaControl::Fixed(0.1), 60), Box::new(Identity))
        .train(&mut model, &data, |p| {
            let loss = p.recon_loss + p.lambda * p.penalty;
            first.get_or_insert((loss, p.batch_nnz));
            last = Some((loss, p.batch_nnz));
        })
        .unwrap();
    let (first, last) = (first.unwrap(), last.unwrap());
    assert!(last.0 < 0.2 * first.0, "loss {} -> {}", first.0, last.0);
    assert!(last.1 < 0.6 * first.1, "active units {} -> {}", first.1, last.1);
    let v = report.history.last().unwrap();
    assert!(v.rel_error < 0.15, "validation error {}", v.rel_error);
    assert_eq!(report.epochs_run, 60);
}

#[test]
fn runs_are_reproducible() {
    let data = synthetic(100, 8, 3);
    let run = || {
        let mut model = Autoencoder::new(Architecture::new(8, 8, 16).unwrap(), &Device::Cpu, 4).unwrap();
        Trainer::new(config(LambdaControl::Fixed(1e-3), 3), Box::new(ForwardDifference))
            .train(&mut model, &data, |_| {})
            .unwrap();
        model.fingerprint().unwrap()
    };
    assert_eq!(run(), run());
}

#[test]
fn adaptive_lambda_steers_to_the_target_error() {
    let data = synthetic(400, 16, 1);
    let target = 0.15;
    let mut model = Autoencoder::new(Architecture::new(16, 16, 32).unwrap(), &Device::Cpu, 2).unwrap();
    let lambda = LambdaControl::Adaptive {
        target_rel_error: target,
        initial: 1e-3,
        gain: 0.1,
    };
    let mut cfg = config(lambda, 60);
    cfg.restore_best = false;
    let mut lambdas = Vec::new();
    let report = Trainer::new(cfg, Box::new(Identity))
        .train(&mut model, &data, |p| lambdas.push(p.lambda))
        .unwrap();
    // Early on the error is above the target and λ falls; once the network
    // fits, λ rises and buys sparsity until the error sits at the target.
    let lowest = lambdas.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(
        lowest < 1e-3 && report.final_lambda > 100.0 * lowest,
        "λ path {lowest} -> {}",
        report.final_lambda
    );
    let last = report.history.last().unwrap();
    assert!(
        (last.rel_error - target).abs() < 0.3 * target,
        "validation error {}",
        last.rel_error
    );
    assert!(last.nnz < 8.0, "active units {}", last.nnz);
}

#[test]
fn early_stopping_and_checkpoints() {
    let data = synthetic(120, 8, 7);
    let dir = std::env::temp_dir().join(format!("sae-train-test-{}", std::process::id()));
    let mut model = Autoencoder::new(Architecture::new(8, 8, 16).unwrap(), &Device::Cpu, 8).unwrap();
    let cfg = TrainConfig {
        learning_rate: 0.5, // far too large: validation stops improving at once
        schedule: LrSchedule::Cosine { min_factor: 0.1 },
        early_stopping_patience: Some(2),
        checkpoint_dir: Some(dir.clone()),
        ..config(LambdaControl::Fixed(1e-3), 50)
    };
    let report = Trainer::new(cfg, Box::new(Identity))
        .train(&mut model, &data, |_| {})
        .unwrap();
    assert!(report.stopped_early);
    assert!(report.epochs_run < 50);
    let best = report.best_epoch.unwrap();
    assert_eq!(
        report.epochs_run,
        best + 3,
        "patience of two epochs after the best"
    );
    let (saved, _) = Autoencoder::load(dir.join("best.safetensors"), &Device::Cpu).unwrap();
    // The best weights were restored into the model.
    assert_eq!(saved.fingerprint().unwrap(), model.fingerprint().unwrap());
    assert!(dir.join("latest.safetensors").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_inputs_are_typed_errors() {
    let mut model = Autoencoder::new(Architecture::new(4, 4, 8).unwrap(), &Device::Cpu, 0).unwrap();
    let trainer = Trainer::new(config(LambdaControl::Fixed(0.0), 1), Box::new(Identity));
    assert!(matches!(
        trainer.train(&mut model, &[1.0; 7], |_| {}),
        Err(ModelError::NotWholeRecords {
            values: 7,
            record_len: 4
        })
    ));
    let mut nan = vec![1.0; 8];
    nan[5] = f32::INFINITY;
    assert!(matches!(
        trainer.train(&mut model, &nan, |_| {}),
        Err(ModelError::NonFinite { position: 5 })
    ));
    let bad = Trainer::new(config(LambdaControl::Fixed(-1.0), 1), Box::new(Identity));
    assert!(matches!(
        bad.train(&mut model, &[1.0; 8], |_| {}),
        Err(ModelError::InvalidConfig { .. })
    ));
}

/// Hands out prepared chunks, one per call, then nothing.
struct Chunks(Vec<Vec<f32>>);

impl sae_model::SampleSource for Chunks {
    fn take_ready(&mut self) -> sae_model::Result<Vec<f32>> {
        Ok(if self.0.is_empty() {
            Vec::new()
        } else {
            self.0.remove(0)
        })
    }
}

#[test]
fn streaming_renews_the_pool_and_learns_from_fresh_samples() {
    let n = 16;
    // The starting pool holds one pattern family only; fresh samples bring others.
    let pool: Vec<f32> = synthetic(200, n, 1);
    let fresh: Vec<Vec<f32>> = (0..6).map(|k| synthetic(100, n, 100 + k)).collect();
    let arch = Architecture::new(n, 16, 32).unwrap();
    let cfg = config(LambdaControl::Fixed(1e-3), 8);
    let mut model = Autoencoder::new(arch, &Device::Cpu, 2).unwrap();
    let report = Trainer::new(cfg.clone(), Box::new(Identity))
        .train_streaming(&mut model, &pool, &mut Chunks(fresh), |_| {})
        .unwrap();
    // 6 chunks of 100, each taken at the start of epochs 2..7, within a pool of 160.
    assert_eq!(report.fresh_samples, 600);
    assert_eq!(report.epochs_run, 8);
    // A source that sends a partial sample is refused, not truncated.
    let mut model = Autoencoder::new(arch, &Device::Cpu, 2).unwrap();
    let err = Trainer::new(cfg.clone(), Box::new(Identity))
        .train_streaming(&mut model, &pool, &mut Chunks(vec![vec![0.5; n + 1]]), |_| {})
        .unwrap_err();
    assert!(
        matches!(err, ModelError::NotWholeRecords { values, record_len } if (values, record_len) == (n + 1, n)),
        "{err}"
    );
    let mut model = Autoencoder::new(arch, &Device::Cpu, 2).unwrap();
    let err = Trainer::new(cfg, Box::new(Identity))
        .train_streaming(&mut model, &pool, &mut Chunks(vec![vec![f32::NAN; n]]), |_| {})
        .unwrap_err();
    assert!(matches!(err, ModelError::NonFinite { .. }), "{err}");
}

#[test]
fn streaming_with_an_empty_source_is_plain_training() {
    let data = synthetic(120, 8, 3);
    let run = |streaming: bool| {
        let mut model = Autoencoder::new(Architecture::new(8, 8, 16).unwrap(), &Device::Cpu, 4).unwrap();
        let trainer = Trainer::new(config(LambdaControl::Fixed(1e-3), 3), Box::new(Identity));
        if streaming {
            trainer
                .train_streaming(&mut model, &data, &mut Chunks(Vec::new()), |_| {})
                .unwrap();
        } else {
            trainer.train(&mut model, &data, |_| {}).unwrap();
        }
        model.fingerprint().unwrap()
    };
    assert_eq!(run(true), run(false));
}

#[test]
fn weight_average_is_what_is_validated_and_kept() {
    let data = synthetic(300, 16, 5);
    let arch = Architecture::new(16, 16, 32).unwrap();
    let train = |average: Option<f64>| {
        let mut model = Autoencoder::new(arch, &Device::Cpu, 2).unwrap();
        let cfg = TrainConfig {
            weight_average: average,
            restore_best: false,
            ..config(LambdaControl::Fixed(1e-3), 20)
        };
        let report = Trainer::new(cfg, Box::new(Identity))
            .train(&mut model, &data, |_| {})
            .unwrap();
        (model, report)
    };
    let (plain, plain_report) = train(None);
    let (averaged, averaged_report) = train(Some(0.99));
    assert_ne!(plain.fingerprint().unwrap(), averaged.fingerprint().unwrap());
    // The averaged weights still reconstruct: the average of a converging run.
    let v = averaged_report.history.last().unwrap();
    assert!(
        v.rel_error < 1.5 * plain_report.history.last().unwrap().rel_error + 0.02,
        "{v:?}"
    );
    // Its last validation is the returned model's.
    let x = averaged.batch_tensor(&data).unwrap();
    assert!(averaged.loss_terms(&x, &Identity).unwrap().0.is_finite());
    // A decay of 0 is the last weights themselves.
    let (zero, _) = train(Some(0.0));
    assert_eq!(zero.fingerprint().unwrap(), plain.fingerprint().unwrap());
    for bad in [1.0, -0.1, f64::NAN] {
        let mut model = Autoencoder::new(arch, &Device::Cpu, 2).unwrap();
        let cfg = TrainConfig {
            weight_average: Some(bad),
            ..config(LambdaControl::Fixed(1e-3), 1)
        };
        let err = Trainer::new(cfg, Box::new(Identity)).train(&mut model, &data, |_| {});
        assert!(matches!(err, Err(ModelError::InvalidConfig { .. })), "{bad}");
    }
}

#[test]
fn a_time_budget_ends_the_run_and_drives_the_schedule() {
    let data = synthetic(200, 8, 7);
    let mut model = Autoencoder::new(Architecture::new(8, 8, 16).unwrap(), &Device::Cpu, 4).unwrap();
    let cfg = TrainConfig {
        epochs: 1_000_000,
        time_budget: Some(0.3),
        schedule: LrSchedule::Cosine { min_factor: 0.1 },
        lr_warmup_steps: 0,
        ..config(LambdaControl::Fixed(1e-3), 1)
    };
    let mut steps = Vec::new();
    let report = Trainer::new(cfg, Box::new(Identity))
        .train(&mut model, &data, |p| {
            steps.push((p.step, p.seconds, p.learning_rate))
        })
        .unwrap();
    assert!(report.epochs_run < 1_000_000);
    assert!(report.seconds >= 0.3, "{}", report.seconds);
    // Every step's rate is the cosine at the fraction of the budget spent
    // when it began (a million epochs barely move it by steps): the rate
    // follows time, whatever the machine's speed.
    let total_steps = (report.steps as f64 / report.epochs_run as f64) * 1e6;
    for &(step, seconds, lr) in &steps {
        let t = (seconds / 0.3).max(step as f64 / total_steps).min(1.0);
        let expected = 1e-2 * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()));
        assert!(
            (lr - expected).abs() <= 1e-9 * expected,
            "step {step} at {seconds} s: {lr} vs {expected}"
        );
    }
    // The run ended past its budget, so its last steps ran late in it.
    let &(_, last_seconds, last_lr) = steps.last().unwrap();
    assert!(
        last_seconds > 0.0 && last_lr < 1e-2,
        "{last_seconds} s: {last_lr}"
    );
    let seconds: Vec<f64> = report.history.iter().map(|v| v.seconds).collect();
    assert!(seconds.windows(2).all(|w| w[0] <= w[1]) && seconds[0] > 0.0);
    let mut model = Autoencoder::new(Architecture::new(8, 8, 16).unwrap(), &Device::Cpu, 4).unwrap();
    let bad = TrainConfig {
        time_budget: Some(0.0),
        ..config(LambdaControl::Fixed(1e-3), 1)
    };
    assert!(
        Trainer::new(bad, Box::new(Identity))
            .train(&mut model, &data, |_| {})
            .is_err()
    );
}

#[test]
fn an_encoder_view_trains_and_survives_a_file() {
    // Views scale each record to unit norm: meant for normalised records.
    let mut data = synthetic(200, 16, 11);
    for record in data.chunks_mut(16) {
        let norm = record.iter().map(|v| v * v).sum::<f32>().sqrt();
        record.iter_mut().for_each(|v| *v /= norm);
    }
    let arch = Architecture::new(16, 16, 32).unwrap();
    let mut model = Autoencoder::new(arch, &Device::Cpu, 2).unwrap();
    model.set_input_view(sae_model::InputView::Sqrt).unwrap();
    let report = Trainer::new(config(LambdaControl::Fixed(1e-3), 30), Box::new(Identity))
        .train(&mut model, &data, |_| {})
        .unwrap();
    let (first, last) = (
        report.history[0].rel_error,
        report.history.last().unwrap().rel_error,
    );
    assert!(last < 0.4 && last < 0.6 * first, "{first} -> {last}");
    model
        .set_input_view(sae_model::InputView::Log { floor: 1e-3 })
        .unwrap();
    let bytes = model
        .to_safetensors(&sae_model::ModelInfo::new("z", 1e-3))
        .unwrap();
    let (back, info) = Autoencoder::from_safetensors(&bytes, &Device::Cpu).unwrap();
    assert_eq!(back.input_view(), sae_model::InputView::Log { floor: 1e-3 });
    assert!(
        info.extra.is_empty(),
        "the view is the model's, not an extra: {:?}",
        info.extra
    );
    assert_eq!(
        back.encode_sparse(&data, 0.0).unwrap(),
        model.encode_sparse(&data, 0.0).unwrap()
    );
    // The view changes what the encoder computes.
    let mut linear = back.clone();
    linear.set_input_view(sae_model::InputView::Linear).unwrap();
    assert_ne!(
        linear.encode_sparse(&data, 0.0).unwrap(),
        model.encode_sparse(&data, 0.0).unwrap()
    );
    assert!(
        linear
            .set_input_view(sae_model::InputView::Log { floor: 0.0 })
            .is_err()
    );
}
