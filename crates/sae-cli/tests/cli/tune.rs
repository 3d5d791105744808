use crate::common::{compress, dir, fails, ok, p, shared};

#[test]
fn tuning_writes_a_model_that_round_trips_and_refuses_bad_settings() {
    let s = shared();
    let d = dir("tune");
    let tuned = d.join("tuned.safetensors");
    let args = |extra: &'static [&'static str]| {
        let mut a = vec![
            "tune",
            "-m",
            p(&s.model),
            "-i",
            p(&s.images),
            "-o",
            p(&tuned),
            "--rounds",
            "2",
            "--batch",
            "8",
            "--iterations",
            "10",
        ];
        a.extend_from_slice(extra);
        a
    };
    ok(&args(&["--lr", "1e-3"]));
    let (container, back) = (d.join("t.sae"), d.join("t.npy"));
    compress(&tuned, &s.images, &container, &["--refine", "10"]);
    ok(&["decompress", "-m", p(&tuned), "-i", p(&container), "-o", p(&back)]);
    fails(&args(&["--lr", "0"]), "learning rate");
    fails(&args(&["--epochs", "0"]), "epochs");
    // The model is an input: writing over it is refused.
    fails(
        &["tune", "-m", p(&s.model), "-i", p(&s.images), "-o", p(&s.model)],
        "input",
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn training_with_tuning_rounds_equals_training_then_tuning() {
    let s = shared();
    let d = dir("train-tune");
    let (tuned_in_training, tuned_after) = (d.join("a.safetensors"), d.join("b.safetensors"));
    crate::common::train(&s.images, &tuned_in_training, "3", &["--tune-rounds", "2"]);
    ok(&[
        "tune",
        "-m",
        p(&s.model),
        "-i",
        p(&s.images),
        "-o",
        p(&tuned_after),
        "--rounds",
        "2",
    ]);
    let (a, b) = (d.join("a.sae"), d.join("b.sae"));
    compress(&tuned_in_training, &s.images, &a, &["--no-refine"]);
    compress(&tuned_after, &s.images, &b, &["--no-refine"]);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // Tuning did change the decoder: another fingerprint than the untuned model's.
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&s.container).unwrap());
    std::fs::remove_dir_all(&d).unwrap();
}
