//! The `sae` binary end to end, on small simulated images, and its answers
//! to bad inputs: one `error:` line and a non-zero exit, never a panic.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use sae_codec::sae_sas::loaders::{Array, read_npy, write_npy};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sae-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sae() -> Command {
    Command::cargo_bin("sae").unwrap()
}

fn ok(args: &[&str]) {
    sae().args(args).assert().success();
}

/// Runs a failing command and checks the one-line error.
fn fails(args: &[&str], needle: &str) {
    sae()
        .args(args)
        .assert()
        .failure()
        .stderr(predicate::str::starts_with("error: "))
        .stderr(predicate::str::contains(needle))
        .stderr(predicate::str::contains("panicked").not())
        .stderr(predicate::function(|s: &str| s.trim_end().lines().count() == 1));
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn compress(model: &Path, input: &Path, output: &Path, extra: &[&str]) {
    let mut args = vec!["compress", "-m", p(model), "-i", p(input), "-o", p(output)];
    args.extend_from_slice(extra);
    ok(&args);
}

fn train(data: &Path, model: &Path, seed: &str, extra: &[&str]) {
    let mut args = vec![
        "train",
        "-i",
        p(data),
        "-o",
        p(model),
        "--arch",
        "1,2",
        "--epochs",
        "2",
        "--batch",
        "16",
        "--seed",
        seed,
    ];
    args.extend_from_slice(extra);
    ok(&args);
}

#[test]
fn simulate_train_compress_decompress_inspect_eval() {
    let d = dir("flow");
    let (train_npy, again, model, sae_file, recon) = (
        d.join("train.npy"),
        d.join("again.npy"),
        d.join("m.safetensors"),
        d.join("out.sae"),
        d.join("recon.npy"),
    );
    ok(&[
        "simulate",
        "--count",
        "40",
        "--seed",
        "1",
        "--npix",
        "16",
        "--oversample",
        "1",
        "-o",
        p(&train_npy),
    ]);
    assert!(d.join("train.json").exists());
    // The sidecar reproduces the images exactly.
    ok(&["simulate", "--params", p(&d.join("train.json")), "-o", p(&again)]);
    assert_eq!(read_npy(&train_npy).unwrap(), read_npy(&again).unwrap());

    train(&train_npy, &model, "3", &[]);
    compress(&model, &train_npy, &sae_file, &[]);
    sae()
        .args(["inspect", p(&sae_file), "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"records\": 40"));
    sae()
        .args(["inspect", p(&sae_file)])
        .assert()
        .success()
        .stdout(predicate::str::contains("records"));
    ok(&["decompress", "-m", p(&model), "-i", p(&sae_file), "-o", p(&recon)]);
    assert_eq!(read_npy(&recon).unwrap().shape, [40, 16, 16]);
    sae()
        .args([
            "eval",
            "--reference",
            p(&train_npy),
            "--reconstruction",
            p(&recon),
            "--container",
            p(&sae_file),
            "--json",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("rel_l2").and(predicate::str::contains("byte_ratio")));
    // A raw f32 reference with --shape gives the same figures as the .npy one.
    let raw = d.join("train.f32");
    let array = read_npy(&train_npy).unwrap();
    let bytes: Vec<u8> = array.data.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&raw, bytes).unwrap();
    let eval_json = |reference: &[&str]| {
        let mut args = vec!["eval", "--reconstruction", p(&recon), "--json", "--reference"];
        args.extend_from_slice(reference);
        let out = sae().args(&args).assert().success().get_output().stdout.clone();
        String::from_utf8(out).unwrap()
    };
    assert_eq!(
        eval_json(&[p(&raw), "--shape", "40,16,16"]),
        eval_json(&[p(&train_npy)])
    );

    // Quantised values: the container says so and decodes to the same shape.
    let quantised = d.join("q.safetensors");
    train(
        &train_npy,
        &quantised,
        "3",
        &["--values", "quantized", "--step", "0.1"],
    );
    compress(&quantised, &train_npy, &sae_file, &[]);
    sae().args(["inspect", p(&sae_file)]).assert().success().stdout(
        predicate::str::contains("values         quantised, step")
            .and(predicate::str::contains("fitted table of 1024 symbols")),
    );
    ok(&[
        "decompress",
        "-m",
        p(&quantised),
        "-i",
        p(&sae_file),
        "-o",
        p(&recon),
    ]);
    assert_eq!(read_npy(&recon).unwrap().shape, [40, 16, 16]);

    // The default index coding is per unit; gaps stay available.
    sae()
        .args(["inspect", p(&sae_file)])
        .assert()
        .success()
        .stdout(predicate::str::contains("per-unit activity table of"));
    let gaps = d.join("gaps.safetensors");
    train(&train_npy, &gaps, "3", &["--indices", "gaps"]);
    compress(&gaps, &train_npy, &sae_file, &[]);
    sae()
        .args(["inspect", p(&sae_file)])
        .assert()
        .success()
        .stdout(predicate::str::contains("fitted gap table"));
    // Recoding the gap model per unit with a 10% step gives exactly the
    // containers of the model trained that way (same seed, same weights).
    let recoded = d.join("recoded.safetensors");
    ok(&[
        "recode",
        "-m",
        p(&gaps),
        "-i",
        p(&train_npy),
        "-o",
        p(&recoded),
        "--step",
        "0.1",
    ]);
    let per_unit = d.join("per-unit.sae");
    compress(&recoded, &train_npy, &per_unit, &[]);
    compress(&quantised, &train_npy, &sae_file, &[]);
    assert_eq!(
        std::fs::read(&per_unit).unwrap(),
        std::fs::read(&sae_file).unwrap()
    );

    // Refined compression: a container the same decoder reads, no worse.
    let error_of = |container: &Path| {
        ok(&["decompress", "-m", p(&model), "-i", p(container), "-o", p(&recon)]);
        let out = sae()
            .args([
                "eval",
                "--reference",
                p(&train_npy),
                "--reconstruction",
                p(&recon),
                "--json",
            ])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        json["rel_l2"]["mean"].as_f64().unwrap()
    };
    let refined = d.join("refined.sae");
    compress(&model, &train_npy, &sae_file, &[]);
    compress(&model, &train_npy, &refined, &["--refine", "30"]);
    let (plain, better) = (error_of(&sae_file), error_of(&refined));
    assert!(better < plain, "refined {better} vs plain {plain}");
    fails(
        &[
            "compress",
            "-m",
            p(&model),
            "-i",
            p(&train_npy),
            "-o",
            p(&refined),
            "--refine",
            "5",
            "--refine-lambda=-1",
        ],
        "refinement lambda",
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_inputs_are_one_line_errors() {
    let d = dir("bad");
    let (data, model, other, sae_file) = (
        d.join("x.npy"),
        d.join("m.safetensors"),
        d.join("o.safetensors"),
        d.join("x.sae"),
    );
    ok(&[
        "simulate",
        "--count",
        "20",
        "--seed",
        "2",
        "--npix",
        "8",
        "--oversample",
        "1",
        "-o",
        p(&data),
    ]);
    train(&data, &model, "1", &[]);
    train(&data, &other, "2", &[]);

    fails(
        &[
            "compress",
            "-m",
            p(&model),
            "-i",
            p(&d.join("missing.npy")),
            "-o",
            p(&sae_file),
        ],
        "missing.npy",
    );
    fails(
        &[
            "compress",
            "-m",
            p(&d.join("nope.safetensors")),
            "-i",
            p(&data),
            "-o",
            p(&sae_file),
        ],
        "loading model",
    );
    // Raw input whose size does not match the shape given.
    let raw = d.join("x.f32");
    std::fs::write(&raw, vec![0u8; 100]).unwrap();
    fails(
        &[
            "compress",
            "-m",
            p(&model),
            "-i",
            p(&raw),
            "--shape",
            "2,8,8",
            "-o",
            p(&sae_file),
        ],
        "shape",
    );
    // Images of another shape than the model's records.
    let wrong = d.join("wrong.npy");
    write_npy(&wrong, &Array::new(vec![2, 4, 4], vec![1.0; 32]).unwrap()).unwrap();
    fails(
        &["compress", "-m", p(&model), "-i", p(&wrong), "-o", p(&sae_file)],
        "do not fit",
    );
    // NaN and infinity.
    let nan = d.join("nan.npy");
    let mut values = vec![1.0f32; 2 * 64];
    values[70] = f32::NAN;
    write_npy(&nan, &Array::new(vec![2, 8, 8], values).unwrap()).unwrap();
    fails(
        &["compress", "-m", p(&model), "-i", p(&nan), "-o", p(&sae_file)],
        "non-finite",
    );
    // A container made with another model, and a truncated one.
    ok(&["compress", "-m", p(&model), "-i", p(&data), "-o", p(&sae_file)]);
    fails(
        &[
            "decompress",
            "-m",
            p(&other),
            "-i",
            p(&sae_file),
            "-o",
            p(&d.join("r.npy")),
        ],
        "model",
    );
    let bytes = std::fs::read(&sae_file).unwrap();
    let cut = d.join("cut.sae");
    std::fs::write(&cut, &bytes[..20]).unwrap();
    fails(
        &[
            "decompress",
            "-m",
            p(&model),
            "-i",
            p(&cut),
            "-o",
            p(&d.join("r.npy")),
        ],
        "cut.sae",
    );
    fails(&["inspect", p(&cut)], "cut.sae");
    fails(&["simulate", "-o", p(&d.join("y.npy"))], "--count");
    // Devices: an unknown name, and a GPU in a build without CUDA.
    // (clap reports bad option values itself, with a usage hint after the error line.)
    sae()
        .args([
            "compress",
            "-m",
            p(&model),
            "-i",
            p(&data),
            "-o",
            p(&sae_file),
            "--device",
            "tpu",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::starts_with("error: ").and(predicate::str::contains("not one of")))
        .stderr(predicate::str::contains("panicked").not());
    if !cfg!(feature = "cuda") {
        fails(
            &[
                "compress",
                "-m",
                p(&model),
                "-i",
                p(&data),
                "-o",
                p(&sae_file),
                "--device",
                "cuda",
            ],
            "--features cuda",
        );
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn help_lists_every_subcommand() {
    sae().arg("--help").assert().success().stdout(
        predicate::str::contains("simulate")
            .and(predicate::str::contains("train"))
            .and(predicate::str::contains("compress"))
            .and(predicate::str::contains("decompress"))
            .and(predicate::str::contains("inspect"))
            .and(predicate::str::contains("recode"))
            .and(predicate::str::contains("eval")),
    );
}
