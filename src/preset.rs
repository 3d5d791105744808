//! Named recipes: the settings this project measured and recommends, in one
//! place for the library, the `sae` command line, the examples and the docs.

use std::fmt;
use std::str::FromStr;

use crate::transform::Transforms;
use sae_model::{InputView, LambdaControl, LrSchedule, Refinement, Selector, TrainConfig};

use crate::codec::CodecConfig;
use crate::coding::{IndexFormat, ValueFormat};
use crate::device::ComputeDevice;
use crate::recipe::{Recipe, SimulationRecipe};

/// A named, measured recipe for a kind of data.
///
/// ```
/// use sae_codec::{CodecConfig, Preset};
///
/// let config = Preset::Sas.config();
/// assert_eq!((config.hidden_ratio, config.latent_ratio), (0.25, 1.0));
/// assert_eq!(config, CodecConfig::default());
/// assert_eq!("sas".parse::<Preset>()?, Preset::Sas);
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Preset {
    /// 64×64 small-angle scattering images, trained on the CPU: the network
    /// `(1/4, 1, 3e-3, z)`, per-record L2 normalisation, 30 epochs of batches
    /// of 128 at a learning rate of 3e-3 (after 200 steps of linear warm-up)
    /// with a cosine decay to a tenth, 5% of the images held out for
    /// validation, values quantised with a step of 5% of their RMS, positions
    /// coded per unit; compression refines each latent (100 iterations).
    /// On simulated images it trains for 55 minutes on a pool of 20 000
    /// renewed while it trains ([`Preset::recipe`] has every stage).
    ///
    /// Measured (README, the main job `cargo run --release --example
    /// sas_roundtrip`, 2 cores): trained on 6 000 simulated images in 126 s,
    /// on 500 held-out ones a mean relative L2 error of 4.55e-2 at 259× the
    /// raw f32 bytes; trained for the hour on simulated images (`sae train
    /// --simulate`), 3.02e-2 at 365× on the 1 000 public images.
    /// `docs/results.md` has the whole rate–distortion curve.
    #[default]
    Sas,
    /// `Sas` with the loss in the log domain, for users who read the whole
    /// q range (log colour scales, I(q) curves): intensities go through
    /// `log10(max(x, 1e-6))`, then per-record L2 normalisation, before the
    /// network, so the squared error it minimises is one of log intensities.
    /// Everything else is `Sas`'s.
    ///
    /// Measured (`docs/results.md` §4, 5 minutes of training on 6 000 images,
    /// the 1 000 public images): log10 RMS error 0.17 decades against 1.39
    /// for `Sas`, the median I(q) deviation per q bin 2.0 against 15 — but a
    /// mean relative L2 error of raw intensities of 0.99 against 4.2e-2: the
    /// bright centre, which dominates that metric, is only as exact as the
    /// rest.
    SasLog,
}

impl Preset {
    /// Every preset, for listings.
    pub const ALL: [Self; 2] = [Self::Sas, Self::SasLog];

    /// The whole recipe: configuration, simulation, tuning, refinement and
    /// bound, each stage `None` where the recipe leaves it out.
    ///
    /// `Sas`: simulation on a pool of 20 000 images for 55 minutes; no
    /// decoder tuning (measured, `docs/results.md` §4: 3 rounds on 6 000
    /// images lowered the public images' mean error by only 1.1% and took
    /// 145 s on 2 cores, less than the same time spent training); 100
    /// refinement iterations on each latent's support (then 50 on the
    /// quantiser's grid), which lowered the mean error by 8–19% at the same
    /// size in `docs/results.md` §1.4, at ~0.5 MB/s of compression; no
    /// guaranteed bound (`sae compress --max-error` asks for one).
    pub fn recipe(self) -> Recipe {
        let sas = Recipe {
            config: CodecConfig {
                hidden_ratio: 0.25,
                latent_ratio: 1.0,
                selector: Selector::Identity,
                train: TrainConfig {
                    learning_rate: 3e-3,
                    lr_warmup_steps: 200,
                    schedule: LrSchedule::Cosine { min_factor: 0.1 },
                    batch_size: 128,
                    epochs: 30,
                    seed: 0,
                    validation_fraction: 0.05,
                    lambda: LambdaControl::Fixed(3e-3),
                    ..TrainConfig::default()
                },
                transforms: Transforms::named("l2"),
                values: ValueFormat::Quantized {
                    relative_step: ValueFormat::DEFAULT_RELATIVE_STEP,
                },
                indices: IndexFormat::PerUnit,
                threshold: 0.0,
                seed: 0,
                device: ComputeDevice::Cpu,
                encoder_view: InputView::Linear,
            },
            simulation: Some(SimulationRecipe {
                pool: 20_000,
                seconds: 55.0 * 60.0,
                views: true,
            }),
            tuning: None,
            refinement: Some(Refinement {
                iterations: 100,
                ..Refinement::default()
            }),
            bound: None,
        };
        match self {
            Self::Sas => sas,
            Self::SasLog => {
                let mut recipe = sas;
                recipe.config.transforms = Transforms::named("log10");
                recipe
            }
        }
    }

    /// The recipe's configuration (`self.recipe().config`).
    pub fn config(self) -> CodecConfig {
        self.recipe().config
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sas => "sas",
            Self::SasLog => "sas-log",
        })
    }
}

impl FromStr for Preset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|p| p.to_string() == s).ok_or_else(|| {
            let names: Vec<String> = Self::ALL.iter().map(Self::to_string).collect();
            format!("unknown preset `{s}` ({})", names.join(", "))
        })
    }
}
