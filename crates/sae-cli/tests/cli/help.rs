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

/// Every default the help texts state is the preset's own: change the
/// preset and this fails until the help says so too.
#[test]
fn help_states_the_presets_numbers() {
    use sae_codec::Preset;
    use sae_codec::sae_model::LambdaControl;

    let preset = Preset::Sas;
    let config = preset.config();
    let train = &config.train;
    let LambdaControl::Fixed(lambda) = train.lambda else {
        panic!("the sas preset has a fixed λ")
    };
    let simulation = preset.simulation();
    let tuning = preset.tuning().expect("the sas preset names its tuning");
    let refinement = preset.refinement().expect("the sas preset refines");
    let stated = |args: &[&str]| {
        let out = sae().args(args).assert().success().get_output().stdout.clone();
        // Help text wraps lines: join them, then collapse runs of spaces.
        let text = String::from_utf8(out).unwrap();
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let help = stated(&["train", "--help"]);
    let expected = [
        format!("(sas: {})", simulation.pool),
        format!("(sas: {} minutes)", simulation.seconds / 60.0),
        format!("(sas: {},{})", config.hidden_ratio, config.latent_ratio),
        format!("(sas: {})", config.selector),
        format!("(sas: {lambda:e})"),
        format!("(sas: {})", train.epochs),
        format!("(sas: {})", config.encoder_view),
        format!("(sas: {})", train.lr_warmup_steps),
        format!("(sas: {}, none)", tuning.rounds),
        format!("first {} training images", tuning.max_records.unwrap()),
        format!("(sas: {})", train.batch_size),
        format!("(sas: {:e})", train.learning_rate),
        format!("(sas: {})", train.seed),
        format!("(sas: {})", sae_codec::Transforms(config.transforms.clone())),
    ];
    for e in &expected {
        assert!(help.contains(e.as_str()), "`sae train --help` lacks {e}");
    }
    let stated_count = help.matches("(sas: ").count();
    assert_eq!(
        stated_count,
        expected.len() - 1,
        "a default in `sae train --help` is not checked here"
    );
    let help = stated(&["compress", "--help"]);
    assert!(
        help.contains(&format!("(sas preset: {};", refinement.iterations)),
        "{help}"
    );
}
