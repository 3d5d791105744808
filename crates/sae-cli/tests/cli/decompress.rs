use sae_codec::io::read_npy;

use crate::common::{dir, fails, p, shared};

#[test]
fn a_container_decompresses_to_images_of_its_shape() {
    let d = dir("decompress");
    let recon = crate::common::decompress_shared(&d);
    assert_eq!(read_npy(&recon).unwrap().shape, [40, 16, 16]);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn another_models_or_a_cut_container_is_refused() {
    let s = shared();
    let d = dir("decompress-bad");
    let recon = d.join("r.npy");
    fails(
        &[
            "decompress",
            "-m",
            p(&s.other),
            "-i",
            p(&s.container),
            "-o",
            p(&recon),
        ],
        "model",
    );
    let bytes = std::fs::read(&s.container).unwrap();
    let cut = d.join("cut.sae");
    std::fs::write(&cut, &bytes[..20]).unwrap();
    fails(
        &["decompress", "-m", p(&s.model), "-i", p(&cut), "-o", p(&recon)],
        "cut.sae",
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_cut_container_needs_allow_partial_and_then_says_what_was_lost() {
    let s = shared();
    let d = dir("decompress-partial");
    let recon = d.join("r.npy");
    let bytes = std::fs::read(&s.container).unwrap();
    let cut = d.join("half.sae");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    fails(
        &["decompress", "-m", p(&s.model), "-i", p(&cut), "-o", p(&recon)],
        "damaged or unfinished",
    );
    assert!(!recon.exists(), "a refused run leaves no output");
    let out = crate::common::sae()
        .args([
            "decompress",
            "-m",
            p(&s.model),
            "-i",
            p(&cut),
            "-o",
            p(&recon),
            "--allow-partial",
        ])
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("whole records") && text.contains("lost"), "{text}");
    let records = read_npy(&recon).unwrap().shape[0];
    assert!(records > 0 && records < 40, "{records}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn an_output_that_is_an_input_is_refused() {
    let s = shared();
    for output in [&s.container, &s.model] {
        let before = std::fs::read(output).unwrap();
        fails(
            &[
                "decompress",
                "-m",
                p(&s.model),
                "-i",
                p(&s.container),
                "-o",
                p(output),
            ],
            "is also an input",
        );
        assert_eq!(std::fs::read(output).unwrap(), before);
    }
}
