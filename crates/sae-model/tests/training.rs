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
        Err(ModelError::Shape { .. })
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
