//! `scripts/gpu-paper-run.sh --dry-run`: every step of the GPU run, at tiny
//! sizes on the CPU, with this build's `sae`, so that the script is ready
//! when a GPU is.

use std::path::Path;

use crate::common::dir;

#[test]
fn the_gpu_run_script_runs_every_step_on_the_cpu() {
    let d = dir("gpu-script");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/gpu-paper-run.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_sae"))
        .args(["--dry-run", "--out"])
        .arg(&*d)
        .env("TRAIN_IMAGES", "96")
        // `--tf32` reaches train and compress (it changes nothing on the CPU).
        .env("TF32", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("result.json")).unwrap()).unwrap();
    assert_eq!(result["device"], "cpu");
    assert_eq!(result["train_images"], 96);
    assert_eq!(result["epochs"], 2);
    // The same device on both sides of the checks: identical results.
    assert_eq!(result["checks"]["train_step_rel_l2_max"], 0.0);
    assert_eq!(result["checks"]["decode_rel_l2_max"], 0.0);
    assert_eq!(result["train_step_tf32_rel_l2_max"], 0.0);
    assert_eq!(result["tf32"], true);
    for key in ["rel_l2", "values_per_nonzero"] {
        let mean = result[key]["mean"].as_f64().unwrap();
        assert!(mean.is_finite() && mean > 0.0, "{key}: {mean}");
    }
    assert!(result["byte_ratio"].as_f64().unwrap() > 1.0);
    assert!(result["samples_per_second"].as_f64().unwrap() > 0.0);
    // What it printed is what it wrote.
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, result);
}
