use sae_codec::io::read_npy;

use crate::common::{dir, eval_json, ok, p, shared};

#[test]
fn eval_reports_errors_and_ratios_for_npy_and_raw_references() {
    let s = shared();
    let d = dir("eval");
    let recon = crate::common::decompress_shared(&d);
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

#[test]
fn nan_reconstructions_and_cut_containers_are_not_scored() {
    use sae_codec::io::{Array, write_npy};
    let s = shared();
    let d = dir("eval-bad");
    let array = read_npy(&s.images).unwrap();
    let mut data = array.data.clone();
    data[5] = f32::NAN;
    let nan = d.join("nan.npy");
    write_npy(&nan, &Array::new(array.shape.clone(), data).unwrap()).unwrap();
    crate::common::fails(
        &["eval", "--reference", p(&s.images), "--reconstruction", p(&nan)],
        "non-finite",
    );
    let bytes = std::fs::read(&s.container).unwrap();
    let cut = d.join("cut.sae");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let recon = d.join("r.npy");
    ok(&[
        "decompress",
        "-m",
        p(&s.model),
        "-i",
        p(&cut),
        "-o",
        p(&recon),
        "--allow-partial",
    ]);
    let args = [
        "eval",
        "--reference",
        p(&s.images),
        "--reconstruction",
        p(&recon),
        "--container",
        p(&cut),
    ];
    crate::common::fails(&args, "--allow-partial");
    let mut partial = args.to_vec();
    partial.extend(["--allow-partial", "--json"]);
    let out = crate::common::sae()
        .args(&partial)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let records = json["records"].as_u64().unwrap();
    assert!(records > 0 && records < 40, "{records}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_reconstruction_that_is_not_images_is_a_one_line_error() {
    let s = shared();
    let d = dir("eval-0d");
    // A 0-d array (one value, no axis) and a 1-d one: no image count.
    for (name, shape) in [("scalar.npy", vec![]), ("flat.npy", vec![4])] {
        let path = d.join(name);
        let len = shape.iter().product();
        sae_codec::io::write_npy(&path, &sae_codec::io::Array::new(shape, vec![1.0; len]).unwrap()).unwrap();
        crate::common::fails(
            &["eval", "--reference", p(&s.images), "--reconstruction", p(&path)],
            "expected (N, …) images",
        );
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn max_error_names_every_record_over_the_bound() {
    let s = shared();
    let d = dir("eval-bound");
    let recon = crate::common::decompress_shared(&d);
    // The largest relative L2 error of a record is what `l2:` achieves, and
    // the largest of `rel_l2` in the metrics.
    let all = eval_json(&recon, &[p(&s.images), "--max-error", "l2:1e9"]);
    let achieved = all["max_error"]["achieved"].as_f64().unwrap();
    assert!((achieved - all["rel_l2"]["max"].as_f64().unwrap()).abs() <= 1e-6 * achieved);
    assert_eq!(all["max_error"]["violations"].as_array().unwrap().len(), 0);
    // At that bound every record holds; at half of it some do not, listed,
    // and the command fails with one line.
    let at = format!("l2:{achieved:e}");
    eval_json(&recon, &[p(&s.images), "--max-error", &at]);
    let with_bound = |spec: &str| {
        let mut command = crate::common::sae();
        command.args([
            "eval",
            "--reference",
            p(&s.images),
            "--reconstruction",
            p(&recon),
            "--max-error",
            spec,
        ]);
        command
    };
    let out = with_bound(&format!("l2:{:e}", achieved / 2.0)).output().unwrap();
    assert!(!out.status.success());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let listed = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("record "))
        .count();
    assert!(listed >= 1, "{stdout}");
    assert!(
        stderr.starts_with(&format!("error: {listed} of 40 records exceed the bound")),
        "{stderr}"
    );
    for bad in ["l2:-1", "l2:0", "linf:1", "abs"] {
        with_bound(bad)
            .assert()
            .failure()
            .stderr(predicates::str::contains("--max-error"));
    }
    std::fs::remove_dir_all(&d).unwrap();
}
