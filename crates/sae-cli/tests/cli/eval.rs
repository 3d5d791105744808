use sae_codec::io::read_npy;

use crate::common::{dir, eval_json, ok, p, shared};

#[test]
fn eval_reports_errors_and_ratios_for_npy_and_raw_references() {
    let s = shared();
    let d = dir("eval");
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
    let with_container = eval_json(&recon, &[p(&s.images), "--container", p(&s.container)]);
    assert_eq!(with_container["records"], 40);
    assert!(with_container["rel_l2"]["mean"].as_f64().unwrap() > 0.0);
    assert!(with_container["byte_ratio"].as_f64().unwrap() > 1.0);
    assert!(with_container["values_per_nonzero"]["mean"].as_f64().unwrap() > 1.0);
    // A raw f32 reference with --shape gives the same figures as the .npy one.
    let raw = d.join("x.f32");
    let array = read_npy(&s.images).unwrap();
    std::fs::write(
        &raw,
        array
            .data
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    assert_eq!(
        eval_json(&recon, &[p(&raw), "--shape", "40,16,16"]),
        eval_json(&recon, &[p(&s.images)])
    );
    std::fs::remove_dir_all(&d).unwrap();
}
