use predicates::prelude::*;

use crate::common::sae;

#[test]
fn help_lists_every_subcommand() {
    let mut expected = predicate::str::contains("simulate").boxed();
    for name in [
        "train",
        "tune",
        "compress",
        "decompress",
        "inspect",
        "recode",
        "eval",
    ] {
        expected = expected.and(predicate::str::contains(name)).boxed();
    }
    sae().arg("--help").assert().success().stdout(expected);
}
