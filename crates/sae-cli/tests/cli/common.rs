//! Helpers, and the images and models the modules share (made once).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use predicates::prelude::*;

/// A fresh directory for one test, removed when the test ends (passed or
/// failed); it reads as the path it holds.
pub struct Dir(tempfile::TempDir);

impl std::ops::Deref for Dir {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for Dir {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

pub fn dir(name: &str) -> Dir {
    Dir(tempfile::Builder::new()
        .prefix(&format!("sae-cli-{name}-"))
        .tempdir()
        .unwrap())
}

/// The folder of the images and models shared by the tests of this run,
/// under cargo's temporary folder for tests (`target/tmp`): statics are
/// never dropped, so each run removes the folders earlier runs left.
fn shared_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let mine = root.join(format!("sae-cli-shared-{}", std::process::id()));
    if let Ok(entries) = std::fs::read_dir(&root) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let pid = name
                .strip_prefix("sae-cli-shared-")
                .and_then(|p| p.parse::<u32>().ok());
            // Only a folder whose run has ended: no process of that id.
            if let Some(pid) = pid
                && !Path::new(&format!("/proc/{pid}")).exists()
            {
                std::fs::remove_dir_all(entry.path()).ok();
            }
        }
    }
    std::fs::create_dir_all(&mine).unwrap();
    mine
}

pub fn sae() -> Command {
    Command::cargo_bin("sae").unwrap()
}

pub fn ok(args: &[&str]) {
    sae().args(args).assert().success();
}

/// Runs a failing command and checks the one-line error.
pub fn fails(args: &[&str], needle: &str) {
    sae()
        .args(args)
        .assert()
        .failure()
        .stderr(predicate::str::starts_with("error: "))
        .stderr(predicate::str::contains(needle))
        .stderr(predicate::str::contains("panicked").not())
        .stderr(predicate::function(|s: &str| s.trim_end().lines().count() == 1));
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

pub fn compress(model: &Path, input: &Path, output: &Path, extra: &[&str]) {
    let mut args = vec!["compress", "-m", p(model), "-i", p(input), "-o", p(output)];
    args.extend_from_slice(extra);
    ok(&args);
}

/// A small, fast training run over the preset, with `extra` flags.
pub fn train(data: &Path, model: &Path, seed: &str, extra: &[&str]) {
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

/// Images and models shared by the modules.
pub struct Shared {
    /// 40 simulated 16×16 images.
    pub images: PathBuf,
    /// A model trained on them with the preset's codings (seed 3).
    pub model: PathBuf,
    /// The same training with another seed: another fingerprint.
    pub other: PathBuf,
    /// The same training as `model` with values quantised at a 10% step.
    pub quantised: PathBuf,
    /// A container of `images` made with `model`, unrefined.
    pub container: PathBuf,
}

pub fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let d = shared_dir();
        let s = Shared {
            images: d.join("train.npy"),
            model: d.join("m.safetensors"),
            other: d.join("other.safetensors"),
            quantised: d.join("q.safetensors"),
            container: d.join("m.sae"),
        };
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
            p(&s.images),
        ]);
        train(&s.images, &s.model, "3", &[]);
        train(&s.images, &s.other, "4", &[]);
        train(
            &s.images,
            &s.quantised,
            "3",
            &["--values", "quantized", "--step", "0.1"],
        );
        compress(&s.model, &s.images, &s.container, &["--no-refine"]);
        s
    })
}

/// `sae eval --json` of a reconstruction against the shared images.
pub fn eval_json(reconstruction: &Path, reference: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "eval",
        "--reconstruction",
        p(reconstruction),
        "--json",
        "--reference",
    ];
    args.extend_from_slice(reference);
    let out = sae().args(&args).assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

/// The shared container decompressed into `folder` (as `r.npy`).
pub fn decompress_shared(folder: &Path) -> PathBuf {
    let s = shared();
    let recon = folder.join("r.npy");
    ok(&[
        "decompress",
        "-m",
        p(&s.model),
        "-i",
        p(&s.container),
        "-o",
        p(&recon),
    ]);
    recon
}
