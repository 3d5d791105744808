use predicates::prelude::*;

use crate::common::{dir, fails, p, sae, shared};

#[test]
fn inspect_describes_the_container_in_text_and_json() {
    let s = shared();
    sae()
        .args(["inspect", p(&s.container)])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("records        40").and(predicate::str::contains("transforms     l2")),
        );
    let out = sae()
        .args(["inspect", p(&s.container), "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["records"], 40);
    assert_eq!(json["finished"], true);
    let bytes = &json["bytes"];
    let total = bytes["total"].as_u64().unwrap();
    assert_eq!(total, std::fs::metadata(&s.container).unwrap().len());
    assert!(bytes["record_totals"]["indices"].as_u64().unwrap() > 0);
}

#[test]
fn a_cut_container_is_an_error() {
    let s = shared();
    let d = dir("inspect-bad");
    let cut = d.join("cut.sae");
    std::fs::write(&cut, &std::fs::read(&s.container).unwrap()[..20]).unwrap();
    fails(&["inspect", p(&cut)], "cut.sae");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_closed_pipe_ends_inspect_quietly() {
    let s = shared();
    // A pipe whose reading end is closed before inspect starts: its first
    // write fails with a broken pipe, every time.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("sae"))
        .args(["inspect", p(&s.container)])
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status.code());
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn a_cut_container_is_described_as_cut() {
    let s = shared();
    let d = dir("inspect-cut");
    let bytes = std::fs::read(&s.container).unwrap();
    let cut = d.join("cut.sae");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    sae()
        .args(["inspect", p(&cut)])
        .assert()
        .success()
        .stdout(predicate::str::contains("unfinished or cut"));
    std::fs::remove_dir_all(&d).unwrap();
}
