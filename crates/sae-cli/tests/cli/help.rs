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

/// Every default the help texts state is the recipe's own: change the
/// preset and this fails until the help says so too (the help reads the
/// recipe, so it does).
#[test]
fn help_states_the_presets_numbers() {
    use sae_codec::sae_model::LambdaControl;
    use sae_codec::{Preset, Recipe, Transforms};

    let recipe = Preset::Sas.recipe();
    let config = &recipe.config;
    let train = &config.train;
    let LambdaControl::Fixed(lambda) = train.lambda else {
        panic!("the sas preset has a fixed λ")
    };
    let simulation = recipe.simulation.expect("the sas preset simulates");
    let refinement = recipe.refinement.expect("the sas preset refines");
    assert!(
        recipe.tuning.is_none(),
        "the help says the sas preset does not tune"
    );
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
        format!("(sas: {})", simulation.views),
        format!("(sas: {},{})", config.hidden_ratio, config.latent_ratio),
        format!("(sas: {})", config.selector),
        format!("(sas: {lambda:e})"),
        format!("(sas: {})", train.epochs),
        format!("(sas: {})", config.encoder_view),
        format!("(sas: {})", train.lr_warmup_steps),
        "(sas: 0, none)".to_string(),
        format!("(sas: {})", train.batch_size),
        format!("(sas: {:e})", train.learning_rate),
        format!("(sas: {})", train.seed),
        format!("(sas: {})", Transforms(config.transforms.clone())),
        format!("(sas: {})", config.values),
        format!("(sas: {})", config.indices),
    ];
    for e in &expected {
        assert!(help.contains(e.as_str()), "`sae train --help` lacks {e}");
    }
    assert!(
        help.contains(&format!("first {} training images", Recipe::TUNING_RECORDS)),
        "{help}"
    );
    assert_eq!(
        help.matches("(sas: ").count(),
        expected.len(),
        "a default in `sae train --help` is not checked here"
    );
    let help = stated(&["compress", "--help"]);
    assert!(
        help.contains(&format!("(sas preset: {};", refinement.iterations)),
        "{help}"
    );
    assert!(help.contains(&format!("(sas: {})", refinement.lambda)), "{help}");
}
