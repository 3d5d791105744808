use crate::common::{compress, dir, ok, p, shared, train};

#[test]
fn recoding_equals_training_with_those_codings() {
    // Recoding a gap model per unit with a 10% step gives exactly the
    // containers of the model trained that way (same seed, same weights).
    let s = shared();
    let d = dir("recode");
    let (gaps, recoded) = (d.join("gaps.safetensors"), d.join("recoded.safetensors"));
    train(&s.images, &gaps, "3", &["--indices", "gaps"]);
    ok(&[
        "recode",
        "-m",
        p(&gaps),
        "-i",
        p(&s.images),
        "-o",
        p(&recoded),
        "--step",
        "0.1",
    ]);
    let (a, b) = (d.join("a.sae"), d.join("b.sae"));
    compress(&recoded, &s.images, &a, &[]);
    compress(&s.quantised, &s.images, &b, &[]);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    std::fs::remove_dir_all(&d).unwrap();
}
