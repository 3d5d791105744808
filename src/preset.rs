//! Named recipes: the settings this project measured and recommends, in one
//! place for the library, the `sae` command line, the examples and the docs.

use std::fmt;
use std::str::FromStr;

use sae_container::Transform;
use sae_model::{InputView, LambdaControl, LrSchedule, Refinement, Selector, TrainConfig};

use crate::codec::CodecConfig;
use crate::coding::{IndexFormat, ValueFormat};
use crate::device::ComputeDevice;

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
    /// of 128 at a learning rate of 1e-3 with a cosine decay to a tenth, 5% of
    /// the images held out for validation, values quantised with a step of 5%
    /// of their RMS, positions coded per unit.
    ///
    /// Measured (README, the main job `cargo run --release --example
    /// sas_roundtrip`, 2 cores): trained on 6 000 simulated images in 231 s,
    /// on 500 held-out ones a mean relative L2 error of 6.09e-2 at 214.9× the
    /// raw f32 bytes. `docs/results.md` has the whole rate–distortion curve.
    #[default]
    Sas,
}

impl Preset {
    /// Every preset, for listings.
    pub const ALL: [Self; 1] = [Self::Sas];

    /// The configuration this recipe stands for.
    pub fn config(self) -> CodecConfig {
        match self {
            Self::Sas => CodecConfig {
                hidden_ratio: 0.25,
                latent_ratio: 1.0,
                selector: Selector::Identity,
                train: TrainConfig {
                    learning_rate: 1e-3,
                    schedule: LrSchedule::Cosine { min_factor: 0.1 },
                    batch_size: 128,
                    epochs: 30,
                    seed: 0,
                    validation_fraction: 0.05,
                    lambda: LambdaControl::Fixed(3e-3),
                    ..TrainConfig::default()
                },
                transforms: vec![Transform::PerRecordScale],
                values: ValueFormat::Quantized {
                    relative_step: ValueFormat::DEFAULT_RELATIVE_STEP,
                },
                indices: IndexFormat::PerUnit,
                threshold: 0.0,
                seed: 0,
                device: ComputeDevice::Cpu,
                encoder_view: InputView::Linear,
            },
        }
    }
}

impl Preset {
    /// The compression-time refinement this recipe recommends
    /// ([`Codec::with_refinement`](crate::Codec::with_refinement)): for
    /// `Sas`, 100 iterations on each latent's support (then 50 on the
    /// quantiser's grid), which lowered the mean error by 8–19% at the same
    /// size in `docs/results.md` §1.4, at ~0.5 MB/s of compression.
    pub fn refinement(self) -> Option<Refinement> {
        match self {
            Self::Sas => Some(Refinement {
                iterations: 100,
                ..Refinement::default()
            }),
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sas => "sas",
        })
    }
}

impl FromStr for Preset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.to_string() == s)
            .ok_or_else(|| format!("unknown preset `{s}` (sas)"))
    }
}
