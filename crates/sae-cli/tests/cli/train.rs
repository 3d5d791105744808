use predicates::prelude::*;

use crate::common::{compress, dir, fails, ok, p, sae, shared, train};

#[test]
fn codings_chosen_at_training_are_what_the_container_says() {
    let s = shared();
    let d = dir("train");
    let file = d.join("x.sae");
    // The preset's index coding is per unit; quantised values with the step asked for.
    compress(&s.quantised, &s.images, &file, &[]);
    sae().args(["inspect", p(&file)]).assert().success().stdout(
        predicate::str::contains("values         quantised, step")
            .and(predicate::str::contains("fitted table of 1024 symbols"))
            .and(predicate::str::contains("per-unit activity table of")),
    );
    let gaps = d.join("gaps.safetensors");
    train(
        &s.images,
        &gaps,
        "3",
        &["--indices", "gaps", "--values", "f16", "--transform", "log10"],
    );
    compress(&gaps, &s.images, &file, &[]);
    sae().args(["inspect", p(&file)]).assert().success().stdout(
        predicate::str::contains("fitted gap table")
            .and(predicate::str::contains("values         f16"))
            .and(predicate::str::contains("transforms     log10")),
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_training_options_are_one_line_errors() {
    let s = shared();
    let d = dir("train-bad");
    let out = d.join("m.safetensors");
    let base = ["train", "-i", p(&s.images), "-o", p(&out), "--epochs", "1"];
    let with = |extra: &[&'static str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        args
    };
    fails(&with(&["--arch", "1"]), "--arch takes two ratios");
    fails(
        &with(&["--values", "f16", "--step", "0.1"]),
        "a step applies to quantized values",
    );
    // clap reports bad option values itself, with a usage hint after the error line.
    for (flag, value, needle) in [
        ("--values", "f8", "not a value format"),
        ("--indices", "tree", "not an index format"),
        ("--selector", "y", "unknown selector"),
        ("--transform", "sqrt", "not a transform"),
        ("--preset", "mnist", "unknown preset"),
    ] {
        sae()
            .args(with(&[flag, value]))
            .assert()
            .failure()
            .stderr(predicate::str::starts_with("error: ").and(predicate::str::contains(needle)))
            .stderr(predicate::str::contains("panicked").not());
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn sizes_beyond_the_machine_are_one_line_errors() {
    let s = shared();
    let d = dir("train-sizes");
    let out = d.join("m.safetensors");
    fails(
        &["train", "-i", p(&s.images), "-o", p(&out), "--arch", "1e9,1"],
        "ratio",
    );
    fails(
        &["train", "-i", p(&s.images), "-o", p(&out), "--arch", "1000,1000"],
        "available",
    );
    assert!(!out.exists());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn training_on_simulated_images_for_a_time_budget() {
    let d = dir("train-simulate");
    let (model, curve) = (d.join("m.safetensors"), d.join("curve.jsonl"));
    // Epochs, not time, drive this run: each epoch after the first waits for
    // one chunk of 64 fresh images, so what it sees never depends on speed.
    // Its stderr is no terminal: plain progress lines, the first at once.
    sae()
        .args([
            "train",
            "--simulate",
            "200",
            "--npix",
            "16",
            "--epochs",
            "3",
            "--arch",
            "0.5,1",
            "--batch",
            "16",
            "-o",
            p(&model),
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "128 freshly simulated images went into training",
        ))
        .stderr(
            predicate::str::is_match(
                r"(?m)^epoch 1: 0\.\d min, validation rel L2 \S+, \S+ nonzeros, 0 fresh images$",
            )
            .unwrap(),
        );
    // A time budget ends the run at the end of the first epoch past it.
    sae()
        .args([
            "train",
            "--simulate",
            "64",
            "--npix",
            "16",
            "--minutes",
            "0.005",
            "--arch",
            "0.5,1",
            "--batch",
            "16",
            "--encoder-view",
            "log",
            "--weight-average",
            "0.9",
            "--warmup",
            "3",
            "--curve",
            p(&curve),
            "-o",
            p(&model),
        ])
        .assert()
        .success();
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&curve)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|l| l["rel_error"].as_f64().unwrap().is_finite()));
    assert!(lines.last().unwrap()["seconds"].as_f64().unwrap() >= 0.3);
    // The model knows its encoder view, and compresses 16×16 images.
    let images = d.join("images.npy");
    ok(&["simulate", "--count", "8", "--npix", "16", "-o", p(&images)]);
    compress(&model, &images, &d.join("x.sae"), &["--no-refine"]);
    let (_, info) =
        sae_codec::sae_model::Autoencoder::load(&model, &sae_codec::sae_model::candle_core::Device::Cpu)
            .unwrap();
    assert!(info.extra.contains_key("codec.header"));
    assert_eq!(
        sae_codec::Codec::load(&model).unwrap().model().input_view(),
        sae_codec::InputView::Log { floor: 1e-6 }
    );
    // The curve may not overwrite the input or the model being written.
    let (before, model_before) = (std::fs::read(&images).unwrap(), std::fs::read(&model).unwrap());
    for curve in [&images, &model] {
        crate::common::fails(
            &[
                "train",
                "-i",
                p(&images),
                "--epochs",
                "1",
                "--curve",
                p(curve),
                "-o",
                p(&model),
            ],
            "is also an input",
        );
    }
    assert_eq!(std::fs::read(&images).unwrap(), before);
    assert_eq!(std::fs::read(&model).unwrap(), model_before);
    // clap's own errors, with a usage hint after the error line.
    for (args, needle) in [
        (vec!["train", "-o", p(&model)], "--input"),
        (
            vec![
                "train",
                "--simulate",
                "8",
                "--npix",
                "16",
                "--encoder-view",
                "cube",
                "-o",
                p(&model),
            ],
            "unknown encoder view",
        ),
    ] {
        sae()
            .args(args)
            .assert()
            .failure()
            .stderr(predicate::str::contains(needle));
    }
    fails(
        &[
            "train",
            "--simulate",
            "8",
            "--npix",
            "16",
            "--weight-average",
            "1",
            "-o",
            p(&model),
        ],
        "weight average",
    );
    std::fs::remove_dir_all(&d).unwrap();
}
