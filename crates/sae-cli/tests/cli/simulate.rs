use sae_codec::io::read_npy;

use crate::common::{dir, fails, ok, p};

#[test]
fn a_sidecar_reproduces_the_random_images() {
    let d = dir("simulate");
    let (images, again) = (d.join("x.npy"), d.join("again.npy"));
    ok(&[
        "simulate",
        "--count",
        "6",
        "--seed",
        "1",
        "--npix",
        "8",
        "--oversample",
        "1",
        "-o",
        p(&images),
    ]);
    assert!(d.join("x.json").exists());
    ok(&["simulate", "--params", p(&d.join("x.json")), "-o", p(&again)]);
    let array = read_npy(&images).unwrap();
    assert_eq!(array.shape, [6, 8, 8]);
    assert_eq!(array, read_npy(&again).unwrap());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn without_a_count_or_parameters_it_says_what_to_give() {
    let d = dir("simulate-bad");
    fails(&["simulate", "-o", p(&d.join("y.npy"))], "--count");
}

#[test]
fn sizes_beyond_the_machine_are_one_line_errors() {
    let d = dir("simulate-sizes");
    let out = d.join("y.npy");
    fails(
        &["simulate", "--count", "1000000000000", "-o", p(&out)],
        "available",
    );
    fails(
        &["simulate", "--count", "1152921504606846976", "-o", p(&out)],
        "2^64",
    );
    fails(
        &["simulate", "--count", "1", "--npix", "1000000", "-o", p(&out)],
        "available",
    );
    fails(
        &[
            "simulate",
            "--count",
            "1",
            "--npix",
            "4294967296",
            "--oversample",
            "4294967296",
            "-o",
            p(&out),
        ],
        "2^64",
    );
    assert!(!out.exists());
    std::fs::remove_dir_all(&d).unwrap();
}

/// `sae simulate` for two 8×8 images to `out` (and its sidecar to `sidecar`).
fn simulate_to(out: &std::path::Path, sidecar: &std::path::Path) -> std::process::Output {
    crate::common::sae()
        .args([
            "simulate",
            "--count",
            "2",
            "--npix",
            "8",
            "--oversample",
            "1",
            "--sidecar",
            p(sidecar),
            "-o",
            p(out),
        ])
        .output()
        .unwrap()
}

#[test]
fn outputs_go_where_the_user_points() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};

    let d = dir("simulate-outputs");
    let reference = d.join("reference.npy");
    ok(&[
        "simulate",
        "--count",
        "2",
        "--npix",
        "8",
        "--oversample",
        "1",
        "-o",
        p(&reference),
    ]);
    let expected = std::fs::read(&reference).unwrap();

    // A link into another folder: the file it points to is written, the link stays.
    let elsewhere = d.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let link = d.join("link.npy");
    std::os::unix::fs::symlink("elsewhere/target.npy", &link).unwrap();
    assert!(simulate_to(&link, &d.join("link.json")).status.success());
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read(elsewhere.join("target.npy")).unwrap(), expected);
    // Through the link again, now that its target exists.
    assert!(simulate_to(&link, &d.join("link.json")).status.success());
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());

    // A named pipe: its reader gets the file, and the pipe stays a pipe.
    let fifo = d.join("fifo.npy");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let out = simulate_to(&fifo, &d.join("fifo.json"));
    if !out.status.success() {
        // Release the reader before failing, or the test would hang.
        drop(std::fs::OpenOptions::new().write(true).open(&fifo));
        panic!("{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(reader.join().unwrap(), expected);
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());

    // A device: written in place (a full disk is an error), never replaced.
    let out = simulate_to(std::path::Path::new("/dev/full"), &d.join("full.json"));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/dev/full") && stderr.contains("No space left"),
        "{stderr}"
    );
    assert!(
        std::fs::metadata("/dev/full")
            .unwrap()
            .file_type()
            .is_char_device()
    );

    // New files honour the umask; a file that is replaced keeps its mode.
    let (fresh, side) = (d.join("fresh.npy"), d.join("fresh.json"));
    let script = format!(
        "umask 027 && exec '{}' simulate --count 2 --npix 8 --oversample 1 -o '{}'",
        assert_cmd::cargo::cargo_bin("sae").display(),
        p(&fresh)
    );
    assert!(
        std::process::Command::new("sh")
            .args(["-c", &script])
            .status()
            .unwrap()
            .success()
    );
    let mode = |f: &std::path::Path| std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(&fresh), mode(&side)), (0o640, 0o640));
    std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o604)).unwrap();
    assert!(simulate_to(&fresh, &side).status.success());
    assert_eq!(mode(&fresh), 0o604);

    // The sidecar may not be the output.
    fails(
        &[
            "simulate",
            "--count",
            "2",
            "--npix",
            "8",
            "-o",
            p(&d.join("x.json")),
        ],
        "would overwrite the output",
    );
    std::fs::remove_dir_all(&d).unwrap();
}
