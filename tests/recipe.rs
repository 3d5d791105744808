//! A preset's recipe, whole, and the overrides the library applies to it
//! for every shell (`sae`, Python, a library user).

use sae_codec::sae_model::{LambdaControl, ModelError};
use sae_codec::{
    CodecError, DecoderTuning, ErrorBound, IndexFormat, Overrides, Preset, Recipe, Transforms, ValueFormat,
};

#[test]
fn a_preset_returns_its_whole_recipe_each_stage_an_option() {
    let sas = Preset::Sas.recipe();
    assert_eq!(sas.config, Preset::Sas.config());
    let simulation = sas.simulation.expect("sas simulates");
    assert_eq!((simulation.pool, simulation.seconds), (20_000, 3300.0));
    assert!(sas.tuning.is_none(), "sas does not tune unless asked");
    assert_eq!(sas.refinement.map(|r| r.iterations), Some(100));
    assert!(sas.bound.is_none());
    // SasLog is Sas in the log domain, every other stage the same.
    let log = Preset::SasLog.recipe();
    assert_eq!(log.config.transforms, Transforms::preset("log10").unwrap().0);
    assert_eq!(
        Recipe {
            config: sas.config.clone(),
            ..log.clone()
        },
        sas
    );
}

#[test]
fn no_overrides_change_nothing() {
    for preset in Preset::ALL {
        let recipe = preset.recipe();
        assert_eq!(recipe.apply(&Overrides::default()).unwrap(), recipe);
    }
}

#[test]
fn a_count_of_zero_turns_a_stage_off() {
    let sas = Preset::Sas.recipe();
    let off = sas
        .apply(&Overrides {
            refine: Some(0),
            tune_rounds: Some(0),
            ..Overrides::default()
        })
        .unwrap();
    assert!(off.refinement.is_none() && off.tuning.is_none());
    let on = sas
        .apply(&Overrides {
            refine: Some(7),
            refine_lambda: Some(1e-3),
            refine_grow: Some(true),
            tune_rounds: Some(2),
            ..Overrides::default()
        })
        .unwrap();
    let refinement = on.refinement.unwrap();
    assert_eq!(
        (refinement.iterations, refinement.lambda, refinement.grow_support),
        (7, 1e-3, true)
    );
    assert_eq!(
        on.tuning,
        Some(DecoderTuning {
            rounds: 2,
            max_records: Some(Recipe::TUNING_RECORDS),
            ..DecoderTuning::default()
        })
    );
    assert!(matches!(
        sas.apply(&Overrides {
            refine_lambda: Some(-1.0),
            ..Overrides::default()
        }),
        Err(CodecError::Model(ModelError::InvalidConfig {
            name: "refinement lambda",
            ..
        }))
    ));
    // Shaping a refinement that is off is the caller's mistake.
    for shaping in [
        Overrides {
            refine: Some(0),
            refine_lambda: Some(1.0),
            ..Overrides::default()
        },
        Overrides {
            refine: Some(0),
            refine_grow: Some(true),
            ..Overrides::default()
        },
    ] {
        assert!(matches!(
            sas.apply(&shaping),
            Err(CodecError::InvalidSetting {
                name: "refinement",
                ..
            })
        ));
    }
}

#[test]
fn simulation_trains_for_the_recipes_time_unless_told_otherwise() {
    let sas = Preset::Sas.recipe();
    let simulate = |more: Overrides| {
        sas.apply(&Overrides {
            simulate: true,
            ..more
        })
        .unwrap()
    };
    let timed = simulate(Overrides::default());
    assert_eq!(timed.config.train.time_budget, Some(3300.0));
    assert_eq!(timed.config.train.epochs, Recipe::UNBOUNDED_EPOCHS);
    let counted = simulate(Overrides {
        epochs: Some(4),
        pool: Some(500),
        ..Overrides::default()
    });
    assert_eq!(counted.config.train.time_budget, None);
    assert_eq!(counted.config.train.epochs, 4);
    assert_eq!(counted.simulation.unwrap().pool, 500);
    let both = simulate(Overrides {
        epochs: Some(4),
        minutes: Some(2.0),
        ..Overrides::default()
    });
    assert_eq!(
        (both.config.train.time_budget, both.config.train.epochs),
        (Some(120.0), 4)
    );
    // Minutes alone, on the caller's data: the budget, epochs without bound.
    let minutes = sas
        .apply(&Overrides {
            minutes: Some(1.5),
            ..Overrides::default()
        })
        .unwrap();
    assert_eq!(
        (minutes.config.train.time_budget, minutes.config.train.epochs),
        (Some(90.0), Recipe::UNBOUNDED_EPOCHS)
    );
    // A recipe without a simulator refuses to simulate.
    let none = Recipe {
        simulation: None,
        ..sas.clone()
    };
    assert!(matches!(
        none.apply(&Overrides {
            simulate: true,
            ..Overrides::default()
        }),
        Err(CodecError::InvalidSetting {
            name: "simulation",
            ..
        })
    ));
}

#[test]
fn training_and_coding_overrides_land_where_they_belong() {
    let sas = Preset::Sas.recipe();
    let r = sas
        .apply(&Overrides {
            arch: Some((0.5, 2.0)),
            seed: Some(9),
            target_error: Some(2e-2),
            values: Some(ValueFormat::F16),
            indices: Some(IndexFormat::FittedGaps),
            max_error: Some(ErrorBound::L2(1e-2)),
            ..Overrides::default()
        })
        .unwrap();
    assert_eq!((r.config.hidden_ratio, r.config.latent_ratio), (0.5, 2.0));
    assert_eq!((r.config.seed, r.config.train.seed), (9, 9));
    // The target steers λ from the recipe's fixed λ.
    assert_eq!(r.config.train.lambda, LambdaControl::adaptive(2e-2, 3e-3));
    assert_eq!(r.config.values, ValueFormat::F16);
    assert_eq!(r.config.indices, IndexFormat::FittedGaps);
    assert_eq!(r.bound, Some(ErrorBound::L2(1e-2)));
    // The step is the quantised format's own setting: one value, two spellings.
    let stepped = sas
        .apply(&Overrides {
            step: Some(0.1),
            ..Overrides::default()
        })
        .unwrap();
    assert_eq!(
        stepped.config.values,
        "quantized:0.1".parse::<ValueFormat>().unwrap()
    );
    assert!(matches!(
        sas.apply(&Overrides {
            values: Some(ValueFormat::F32),
            step: Some(0.1),
            ..Overrides::default()
        }),
        Err(CodecError::InvalidSetting {
            name: "quantisation step",
            ..
        })
    ));
    // Training settings are checked where they are applied.
    assert!(matches!(
        sas.apply(&Overrides {
            learning_rate: Some(-1.0),
            ..Overrides::default()
        }),
        Err(CodecError::Model(ModelError::InvalidConfig {
            name: "learning rate",
            ..
        }))
    ));
    assert!(matches!(
        sas.apply(&Overrides {
            batch: Some(0),
            ..Overrides::default()
        }),
        Err(CodecError::Model(ModelError::InvalidConfig { .. }))
    ));
}
