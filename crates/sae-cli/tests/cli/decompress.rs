use sae_codec::io::read_npy;

use crate::common::{dir, fails, ok, p, shared};

#[test]
fn a_container_decompresses_to_images_of_its_shape() {
    let s = shared();
    let d = dir("decompress");
    let recon = d.join("r.npy");
    ok(&[
        "decompress",
        "-m",
        p(&s.model),
        "-i",
        p(&s.container),
        "-o",
        p(&recon),
    ]);
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
