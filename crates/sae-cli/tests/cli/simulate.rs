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
