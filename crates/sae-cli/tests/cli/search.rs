//! `sae search` and `sae classify`: neighbours and labels from containers'
//! latents, and their answers to bad inputs.

use predicates::prelude::*;
use sae_codec::io::{Array, write_npy};

use crate::common::{compress, dir, fails, ok, p, sae, shared};

/// A failure after progress lines: the last stderr line is the error.
fn fails_after_progress(args: &[&str], needle: &str) {
    let out = sae().args(args).assert().failure().get_output().stderr.clone();
    let err = String::from_utf8(out).unwrap();
    let last = err.trim_end().lines().last().unwrap_or_default();
    assert!(last.starts_with("error: ") && last.contains(needle), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn json_of(args: &[&str]) -> serde_json::Value {
    let out = sae().args(args).assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn a_stored_record_and_its_own_image_find_it_first() {
    let s = shared();
    let container = p(&s.container);
    // A stored record as the query: itself first, at similarity 1.
    let record = format!("{container}:5");
    let out = json_of(&[
        "search",
        "-m",
        p(&s.model),
        "--index",
        container,
        "--record",
        &record,
        "-k",
        "3",
        "--json",
    ]);
    assert_eq!(out["k"], 3);
    assert_eq!(out["index"]["records"], 40);
    let hits = out["queries"][0]["hits"].as_array().unwrap();
    assert!(!hits.is_empty() && hits.len() <= 3);
    assert_eq!(hits[0]["file"], container);
    let top = hits[0]["similarity"].as_f64().unwrap();
    assert!((top - 1.0).abs() < 1e-5, "top similarity {top}");
    // Similarities are in descending order.
    let sims: Vec<f64> = hits.iter().map(|h| h["similarity"].as_f64().unwrap()).collect();
    assert!(sims.windows(2).all(|w| w[0] >= w[1]), "{sims:?}");
    // The images themselves, encoded as the container was (unrefined):
    // each finds a record with its own latent (itself, or one tied with it).
    let out = json_of(&[
        "search",
        "-m",
        p(&s.model),
        "--index",
        container,
        "--query",
        p(&s.images),
        "-k",
        "1",
        "--no-refine",
        "--json",
    ]);
    let queries = out["queries"].as_array().unwrap();
    assert_eq!(queries.len(), 40);
    let mut found_itself = 0;
    for (i, q) in queries.iter().enumerate() {
        if let Some(hit) = q["hits"].as_array().unwrap().first() {
            let sim = hit["similarity"].as_f64().unwrap();
            assert!((sim - 1.0).abs() < 1e-5, "query {i}: {sim}");
            found_itself += usize::from(hit["record"] == i);
        }
    }
    assert!(found_itself >= 30, "{found_itself} of 40 found themselves");
    // The text form: a header and one line per hit.
    sae()
        .args([
            "search",
            "-m",
            p(&s.model),
            "--index",
            container,
            "--record",
            &record,
            "-k",
            "2",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "query\trank\tfile\trecord\tsimilarity\n0\t1\t",
        ))
        .stderr(predicate::str::contains("40 records"));
}

#[test]
fn classify_votes_with_the_sidecars_labels_and_reports_the_confusion() {
    let s = shared();
    let d = dir("classify");
    let (test, test_sae) = (d.join("test.npy"), d.join("test.sae"));
    ok(&[
        "simulate",
        "--count",
        "24",
        "--seed",
        "2",
        "--npix",
        "16",
        "--oversample",
        "1",
        "-o",
        p(&test),
    ]);
    compress(&s.model, &test, &test_sae, &["--no-refine"]);
    // The simulator's sidecar next to the images carries each image's model.
    let train_labels = s.images.with_extension("json");
    let test_labels = test.with_extension("json");
    let base = [
        "classify",
        "-m",
        p(&s.model),
        "--index",
        p(&s.container),
        "--labels",
        p(&train_labels),
        "--query",
        p(&test_sae),
        "-k",
        "5",
    ];
    let mut args = base.to_vec();
    args.extend(["--query-labels", p(&test_labels), "--json"]);
    let out = json_of(&args);
    let accuracy = out["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&accuracy));
    let confusion = &out["confusion"];
    let counted: u64 = confusion["counts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap().iter().map(|c| c.as_u64().unwrap()))
        .sum::<u64>()
        + confusion["unclassified"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .sum::<u64>();
    assert_eq!(counted, 24);
    assert_eq!(out["predicted"].as_array().unwrap().len(), 24);
    // Text: the accuracy line, then the confusion table.
    let mut args = base.to_vec();
    args.extend(["--query-labels", p(&test_labels)]);
    sae()
        .args(&args)
        .assert()
        .success()
        .stdout(predicate::str::starts_with("5-NN accuracy "))
        .stdout(predicate::str::contains("true \\ predicted"));
    // Without the queries' labels: one predicted label per record.
    let out = sae().args(base).assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("record\tlabel\n"));
    assert_eq!(text.lines().count(), 25);
    // Labels that do not fit.
    let mut args = base.to_vec();
    args.extend(["--query-labels", p(&train_labels)]);
    fails_after_progress(&args, "40 labels");
    let (a, b) = (p(&s.container), p(&train_labels));
    fails(
        &[
            "classify",
            "-m",
            p(&s.model),
            "--index",
            a,
            a,
            "--labels",
            b,
            "--query",
            p(&test_sae),
        ],
        "1 --labels files for 2 --index files",
    );
}

#[test]
fn bad_queries_other_models_cut_files_and_k_zero_are_one_line_errors() {
    let s = shared();
    let d = dir("search-errors");
    let (model, container) = (p(&s.model), p(&s.container));
    let search = |extra: &[&str]| {
        let mut args = vec!["search", "-m", model, "--index", container];
        args.extend_from_slice(extra);
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let fails_with = |args: Vec<String>, needle: &str| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(&args, needle);
    };
    // A query of the wrong shape.
    let wrong = d.join("wrong.npy");
    write_npy(&wrong, &Array::new(vec![2, 8, 8], vec![1.0f32; 128]).unwrap()).unwrap();
    fails_with(search(&["--query", p(&wrong)]), "query");
    // -k 0.
    let record = format!("{container}:0");
    fails_with(search(&["--record", &record, "-k", "0"]), "-k must be at least 1");
    // A record that is not there, and a malformed FILE:N.
    let far = format!("{container}:40");
    fails_with(search(&["--record", &far]), "holds 40 records");
    fails_with(search(&["--record", "nothing-here"]), "expected FILE:N");
    // A container made by another model.
    let foreign = d.join("other.sae");
    compress(&s.other, &s.images, &foreign, &["--no-refine"]);
    fails(
        &["search", "-m", model, "--index", p(&foreign), "--record", &record],
        "made with model",
    );
    // A cut container: refused, or searched up to its last whole record
    // with --allow-partial, which says what it skipped.
    let bytes = std::fs::read(&s.container).unwrap();
    let cut = d.join("cut.sae");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    fails(
        &["search", "-m", model, "--index", p(&cut), "--record", &record],
        "damaged or unfinished",
    );
    let out = sae()
        .args([
            "search",
            "-m",
            model,
            "--index",
            p(&cut),
            "--record",
            &record,
            "--allow-partial",
            "--json",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "bytes after the last whole record skipped",
        ))
        .get_output()
        .stdout
        .clone();
    let out: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let records = out["index"]["records"].as_u64().unwrap();
    assert!(records > 0 && records < 40, "{records} records");
}
