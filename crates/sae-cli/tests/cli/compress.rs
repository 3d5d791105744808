use predicates::prelude::*;
use sae_codec::io::{Array, write_npy};

use crate::common::{compress, dir, eval_json, fails, ok, p, sae, shared};

#[test]
fn refined_compression_is_read_by_the_same_decoder_and_no_worse() {
    let s = shared();
    let d = dir("compress-refine");
    let (refined, recon) = (d.join("refined.sae"), d.join("r.npy"));
    compress(&s.model, &s.images, &refined, &["--refine", "30"]);
    let error_of = |container: &std::path::Path| {
        ok(&[
            "decompress",
            "-m",
            p(&s.model),
            "-i",
            p(container),
            "-o",
            p(&recon),
        ]);
        eval_json(&recon, &[p(&s.images)])["rel_l2"]["mean"]
            .as_f64()
            .unwrap()
    };
    let (plain, better) = (error_of(&s.container), error_of(&refined));
    assert!(better < plain, "refined {better} vs plain {plain}");
    // Without a flag, the preset's refinement (100 iterations); --no-refine is --refine 0.
    let (default, hundred, none) = (d.join("default.sae"), d.join("100.sae"), d.join("none.sae"));
    compress(&s.model, &s.images, &default, &[]);
    compress(&s.model, &s.images, &hundred, &["--refine", "100"]);
    compress(&s.model, &s.images, &none, &["--refine", "0"]);
    let read = |f: &std::path::Path| std::fs::read(f).unwrap();
    assert_eq!(read(&default), read(&hundred));
    assert_eq!(read(&none), read(&s.container));
    assert_ne!(read(&default), read(&none));
    fails(
        &[
            "compress",
            "-m",
            p(&s.model),
            "-i",
            p(&s.images),
            "-o",
            p(&refined),
            "--refine",
            "5",
            "--refine-lambda=-1",
        ],
        "refinement lambda",
    );
    // Refinement settings with --no-refine would be silently ignored: refused.
    sae()
        .args([
            "compress",
            "-m",
            p(&s.model),
            "-i",
            p(&s.images),
            "-o",
            p(&refined),
            "--no-refine",
            "--refine-grow",
        ])
        .assert()
        .failure()
        .stderr(predicates::str::contains("cannot be used with"));
    // And so with --refine 0, which says the same.
    for flag in ["--refine-grow", "--refine-lambda=1e-3"] {
        fails(
            &[
                "compress",
                "-m",
                p(&s.model),
                "-i",
                p(&s.images),
                "-o",
                p(&refined),
                "--refine",
                "0",
                flag,
            ],
            "which is off (0 iterations)",
        );
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_inputs_are_one_line_errors() {
    let s = shared();
    let d = dir("compress-bad");
    let out = d.join("x.sae");
    let (model, images) = (p(&s.model), p(&s.images));
    fails(
        &[
            "compress",
            "-m",
            model,
            "-i",
            p(&d.join("missing.npy")),
            "-o",
            p(&out),
        ],
        "missing.npy",
    );
    fails(
        &[
            "compress",
            "-m",
            p(&d.join("nope.safetensors")),
            "-i",
            images,
            "-o",
            p(&out),
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
            model,
            "-i",
            p(&raw),
            "--shape",
            "2,16,16",
            "-o",
            p(&out),
        ],
        "shape",
    );
    // Images of another shape than the model's records.
    let wrong = d.join("wrong.npy");
    write_npy(&wrong, &Array::new(vec![2, 4, 4], vec![1.0; 32]).unwrap()).unwrap();
    fails(
        &["compress", "-m", model, "-i", p(&wrong), "-o", p(&out)],
        "do not fit",
    );
    // NaN and infinity.
    let nan = d.join("nan.npy");
    let mut values = vec![1.0f32; 2 * 256];
    values[270] = f32::NAN;
    write_npy(&nan, &Array::new(vec![2, 16, 16], values).unwrap()).unwrap();
    fails(
        &["compress", "-m", model, "-i", p(&nan), "-o", p(&out)],
        "non-finite",
    );
    // Devices: an unknown name, and a GPU in a build without CUDA.
    sae()
        .args([
            "compress",
            "-m",
            model,
            "-i",
            images,
            "-o",
            p(&out),
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
                model,
                "-i",
                images,
                "-o",
                p(&out),
                "--device",
                "cuda",
            ],
            "--features cuda",
        );
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn outputs_are_never_inputs_and_never_half_written() {
    let s = shared();
    let d = dir("compress-out");
    for output in [&s.model, &s.images] {
        let before = std::fs::read(output).unwrap();
        fails(
            &["compress", "-m", p(&s.model), "-i", p(&s.images), "-o", p(output)],
            "is also an input",
        );
        assert_eq!(std::fs::read(output).unwrap(), before);
    }
    // The same file by another spelling.
    let spelled = s
        .images
        .parent()
        .unwrap()
        .join(".")
        .join(s.images.file_name().unwrap());
    fails(
        &[
            "compress",
            "-m",
            p(&s.model),
            "-i",
            p(&s.images),
            "-o",
            p(&spelled),
        ],
        "is also an input",
    );
    // A failing run leaves nothing under the output name.
    let nan = d.join("nan.npy");
    let mut values = vec![1.0f32; 256];
    values[3] = f32::NAN;
    write_npy(&nan, &Array::new(vec![1, 16, 16], values).unwrap()).unwrap();
    let out = d.join("never.sae");
    fails(
        &["compress", "-m", p(&s.model), "-i", p(&nan), "-o", p(&out)],
        "non-finite",
    );
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".sae-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_missing_or_truncated_input_is_one_line_with_its_cause_once() {
    let s = shared();
    let d = dir("compress-causes");
    let out = d.join("x.sae");
    let missing = d.join("missing.npy");
    let stderr = sae()
        .args(["compress", "-m", p(&s.model), "-i", p(&missing), "-o", p(&out)])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let text = String::from_utf8(stderr).unwrap();
    assert_eq!(text.matches("os error 2").count(), 1, "{text}");
    // A .npy whose data stops short of its declared shape.
    let whole = std::fs::read(&s.images).unwrap();
    let short = d.join("short.npy");
    std::fs::write(&short, &whole[..whole.len() - 100]).unwrap();
    fails(
        &["compress", "-m", p(&s.model), "-i", p(&short), "-o", p(&out)],
        "needs",
    );
    std::fs::write(&short, b"\x93NUMPY garbage").unwrap();
    fails(
        &["compress", "-m", p(&s.model), "-i", p(&short), "-o", p(&out)],
        "not a valid .npy header",
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn max_error_holds_for_every_image_and_eval_confirms_it() {
    let s = shared();
    let d = dir("compress-bound");
    let (container, recon) = (d.join("b.sae"), d.join("r.npy"));
    let compress_to = |spec: &str| {
        let mut command = sae();
        command.args([
            "compress",
            "-m",
            p(&s.model),
            "-i",
            p(&s.images),
            "-o",
            p(&container),
            "--max-error",
            spec,
        ]);
        command
    };
    for spec in ["l2:1e-2", "abs:1e-3", "rel:1e-3"] {
        let out = compress_to(spec).assert().success().get_output().stderr.clone();
        let stderr = String::from_utf8_lossy(&out);
        assert!(stderr.contains("every image within"), "{stderr}");
        let inspected = sae()
            .args(["inspect", p(&container), "--json"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let inspected: serde_json::Value = serde_json::from_slice(&inspected).unwrap();
        let promised: sae_codec::ErrorBound = inspected["max_error"].as_str().unwrap().parse().unwrap();
        assert_eq!(promised, spec.parse().unwrap());
        ok(&[
            "decompress",
            "-m",
            p(&s.model),
            "-i",
            p(&container),
            "-o",
            p(&recon),
        ]);
        let report = eval_json(&recon, &[p(&s.images), "--max-error", spec]);
        assert_eq!(
            report["max_error"]["violations"].as_array().unwrap().len(),
            0,
            "{spec}"
        );
        assert!(report["max_error"]["achieved"].as_f64().unwrap() <= promised.tolerance());
    }
    for bad in ["l2:0", "rel:-1", "linf:1"] {
        compress_to(bad)
            .assert()
            .failure()
            .stderr(predicate::str::contains("--max-error"));
    }
}
