//! Random datasets: parameter ranges per model, a seeded sampler, parallel generation.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::detector::Detector;
use crate::error::Result;
use crate::sidecar::{ImageParams, QGrid, Sidecar};

/// How one parameter is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// Uniform in `[low, high]`.
    Linear(f64, f64),
    /// `10^U(low, high)`: log-uniform between `10^low` and `10^high`.
    Log10(f64, f64),
}

impl Range {
    fn draw(self, rng: &mut impl Rng) -> f64 {
        match self {
            Self::Linear(a, b) => rng.random_range(a..=b),
            Self::Log10(a, b) => 10f64.powf(rng.random_range(a..=b)),
        }
    }

    fn to_json(self) -> Value {
        match self {
            Self::Linear(a, b) => json!(["linear", a, b]),
            Self::Log10(a, b) => json!(["log", a, b]),
        }
    }
}

/// The ranges of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRanges {
    /// sasmodels model name.
    pub model: String,
    /// `(parameter, range)` in drawing order.
    pub params: Vec<(String, Range)>,
    /// The size parameter that gets polydispersity.
    pub polydisperse: String,
    /// Whether the hard-sphere structure factor may be added.
    pub structure_factor: bool,
}

/// Everything that defines a random dataset.
///
/// The default ranges are those of the reference data (after the SAS-Temper
/// study, Heller, Doucet & Archibald, SoftwareX 2021, with size caps for a
/// 64×64 detector over ±0.3 1/Å):
///
/// | model | parameter | range |
/// | --- | --- | --- |
/// | all | `sld` (or `sld_core`, `sld_shell`) | −0.56 … 8.0 (10⁻⁶/Å²) |
/// | all | `sld_solvent` | −0.56 … 6.38 (10⁻⁶/Å²) |
/// | sphere, core_shell_sphere, cylinder, core_shell_cylinder | `radius` | 10 … 1000 Å (log-uniform) |
/// | core_shell_sphere | `thickness` | 1 … 100 Å (log-uniform) |
/// | cylinder, core_shell_cylinder | `length` | 10 … 10 000 Å (log-uniform) |
/// | core_shell_cylinder | `thickness` | 10 … 200 Å |
/// | ellipsoid | `radius_polar`, `radius_equatorial` | 10 … 1000 Å (log-uniform) |
/// | parallelepiped | `length_a`, `length_b`, `length_c` | 10 … 1000 Å (log-uniform) |
/// | oriented models | `theta` / `phi` / `psi` | 0 … 90° / 0 … 360° / 0 … 360° |
///
/// The main size parameter (`radius`; `radius_equatorial` for the ellipsoid,
/// `length_a` for the parallelepiped) gets Schulz polydispersity of relative
/// width 0 … 0.4 (35 points, 3σ). Sphere, core–shell sphere and ellipsoid get
/// the hard-sphere structure factor with probability ½ (volume fraction
/// 0 … 0.5, effective radius from the shape). Contrasts below 0.5 are redrawn.
/// Scale 1, background 0.001 1/cm.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetConfig {
    /// Models, chosen uniformly.
    pub models: Vec<ModelRanges>,
    /// Relative polydispersity width range.
    pub pd_width: (f64, f64),
    /// Polydispersity points.
    pub pd_npts: usize,
    /// Polydispersity range in σ.
    pub pd_nsigma: f64,
    /// Probability of the hard-sphere structure factor where allowed.
    pub structure_probability: f64,
    /// Volume-fraction range of the structure factor.
    pub volfraction: (f64, f64),
    /// Smallest |SLD difference| between neighbouring media.
    pub min_contrast: f64,
    /// Overall scale.
    pub scale: f64,
    /// Background (1/cm).
    pub background: f64,
}

fn ranges(model: &str, params: &[(&str, Range)], polydisperse: &str, structure_factor: bool) -> ModelRanges {
    ModelRanges {
        model: model.into(),
        params: params.iter().map(|(n, r)| (n.to_string(), *r)).collect(),
        polydisperse: polydisperse.into(),
        structure_factor,
    }
}

impl Default for DatasetConfig {
    /// The reference data's ranges (see the module docs).
    fn default() -> Self {
        let sld = Range::Linear(-0.56, 8.0);
        let solvent = Range::Linear(-0.56, 6.38);
        let size = Range::Log10(1.0, 3.0);
        let theta = Range::Linear(0.0, 90.0);
        let phi = Range::Linear(0.0, 360.0);
        Self {
            models: vec![
                ranges(
                    "sphere",
                    &[("sld", sld), ("sld_solvent", solvent), ("radius", size)],
                    "radius",
                    true,
                ),
                ranges(
                    "core_shell_sphere",
                    &[
                        ("sld_core", sld),
                        ("sld_shell", sld),
                        ("sld_solvent", solvent),
                        ("radius", size),
                        ("thickness", Range::Log10(0.0, 2.0)),
                    ],
                    "radius",
                    true,
                ),
                ranges(
                    "cylinder",
                    &[
                        ("sld", sld),
                        ("sld_solvent", solvent),
                        ("radius", size),
                        ("length", Range::Log10(1.0, 4.0)),
                        ("theta", theta),
                        ("phi", phi),
                    ],
                    "radius",
                    false,
                ),
                ranges(
                    "ellipsoid",
                    &[
                        ("sld", sld),
                        ("sld_solvent", solvent),
                        ("radius_polar", size),
                        ("radius_equatorial", size),
                        ("theta", theta),
                        ("phi", phi),
                    ],
                    "radius_equatorial",
                    true,
                ),
                ranges(
                    "core_shell_cylinder",
                    &[
                        ("sld_core", sld),
                        ("sld_shell", sld),
                        ("sld_solvent", solvent),
                        ("radius", size),
                        ("thickness", Range::Linear(10.0, 200.0)),
                        ("length", Range::Log10(1.0, 4.0)),
                        ("theta", theta),
                        ("phi", phi),
                    ],
                    "radius",
                    false,
                ),
                ranges(
                    "parallelepiped",
                    &[
                        ("sld", sld),
                        ("sld_solvent", solvent),
                        ("length_a", size),
                        ("length_b", size),
                        ("length_c", size),
                        ("theta", theta),
                        ("phi", phi),
                        ("psi", phi),
                    ],
                    "length_a",
                    false,
                ),
            ],
            pd_width: (0.0, 0.4),
            pd_npts: 35,
            pd_nsigma: 3.0,
            structure_probability: 0.5,
            volfraction: (0.0, 0.5),
            min_contrast: 0.5,
            scale: 1.0,
            background: 0.001,
        }
    }
}

/// Whether neighbouring media differ by at least `min` in SLD.
fn contrast_ok(params: &BTreeMap<String, Value>, min: f64) -> bool {
    let get = |k: &str| params.get(k).and_then(Value::as_f64);
    let pairs = [
        ("sld", "sld_solvent"),
        ("sld_core", "sld_shell"),
        ("sld_shell", "sld_solvent"),
    ];
    pairs
        .iter()
        .filter_map(|(a, b)| Some((get(a)?, get(b)?)))
        .all(|(a, b)| (a - b).abs() >= min)
}

impl DatasetConfig {
    /// Draws `count` parameter sets with a seeded generator (ChaCha8).
    pub fn sample(&self, count: usize, seed: u64) -> Vec<ImageParams> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..count)
            .map(|index| {
                let model = &self.models[rng.random_range(0..self.models.len())];
                let mut params = BTreeMap::new();
                loop {
                    for (name, range) in &model.params {
                        params.insert(name.clone(), json!(range.draw(&mut rng)));
                    }
                    if contrast_ok(&params, self.min_contrast) {
                        break;
                    }
                }
                params.insert("scale".into(), json!(self.scale));
                params.insert("background".into(), json!(self.background));
                let pd = &model.polydisperse;
                params.insert(
                    format!("{pd}_pd"),
                    json!(rng.random_range(self.pd_width.0..=self.pd_width.1)),
                );
                params.insert(format!("{pd}_pd_type"), json!("schulz"));
                params.insert(format!("{pd}_pd_n"), json!(self.pd_npts));
                params.insert(format!("{pd}_pd_nsigma"), json!(self.pd_nsigma));
                let structure_factor =
                    (model.structure_factor && rng.random_bool(self.structure_probability)).then(|| {
                        params.insert(
                            "volfraction".into(),
                            json!(rng.random_range(self.volfraction.0..=self.volfraction.1)),
                        );
                        params.insert("radius_effective_mode".into(), json!(1));
                        params.insert("structure_factor_mode".into(), json!(0));
                        "hardsphere".to_string()
                    });
                ImageParams {
                    index,
                    model: model.model.clone(),
                    structure_factor,
                    params,
                }
            })
            .collect()
    }

    /// A sidecar describing `images` on `detector`, with these ranges and the seed.
    pub fn sidecar(&self, images: Vec<ImageParams>, detector: &Detector, seed: u64) -> Sidecar {
        let mut extra = BTreeMap::new();
        extra.insert(
            "generator".into(),
            json!(concat!("sae-sas ", env!("CARGO_PKG_VERSION"))),
        );
        extra.insert("seed".into(), json!(seed));
        extra.insert(
            "rng".into(),
            json!("ChaCha8Rng::seed_from_u64(seed); parameters drawn in order"),
        );
        extra.insert("dtype".into(), json!("float32"));
        extra.insert(
            "shape".into(),
            json!([images.len(), detector.npix, detector.npix]),
        );
        extra.insert(
            "layout".into(),
            json!("C order; image n, row iy (qy), column ix (qx)"),
        );
        let ranges: BTreeMap<String, Value> = self
            .models
            .iter()
            .map(|m| {
                let r: BTreeMap<String, Value> =
                    m.params.iter().map(|(n, r)| (n.clone(), r.to_json())).collect();
                (m.model.clone(), json!(r))
            })
            .collect();
        extra.insert(
            "sampling".into(),
            json!({
                "ranges": ranges,
                "pd": {"type": "schulz", "width": [self.pd_width.0, self.pd_width.1], "npts": self.pd_npts, "nsigma": self.pd_nsigma},
                "structure_factor": {"name": "hardsphere", "probability": self.structure_probability,
                                      "volfraction": ["linear", self.volfraction.0, self.volfraction.1], "radius_effective_mode": 1},
                "min_contrast": self.min_contrast, "scale": self.scale, "background": self.background,
            }),
        );
        Sidecar {
            q_grid: QGrid {
                npix: detector.npix,
                q_edge_min: -detector.qmax,
                q_edge_max: detector.qmax,
                supersample_per_axis: detector.oversample,
                extra: BTreeMap::from([("unit".to_string(), json!("1/Angstrom"))]),
            },
            images,
            extra,
        }
    }

    /// Draws `count` images and simulates them in parallel: the images
    /// (`count × npix × npix`, f32) and their sidecar.
    pub fn generate(&self, count: usize, seed: u64, detector: &Detector) -> Result<(Vec<f32>, Sidecar)> {
        let images = self.sample(count, seed);
        let scatterers = images
            .iter()
            .map(ImageParams::to_scatterer)
            .collect::<Result<Vec<_>>>()?;
        let data = detector.images(&scatterers)?;
        Ok((data, self.sidecar(images, detector, seed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_is_seeded_and_valid() {
        let config = DatasetConfig::default();
        let a = config.sample(60, 7);
        assert_eq!(a, config.sample(60, 7));
        assert_ne!(a, config.sample(60, 8));
        for p in &a {
            p.to_scatterer().unwrap();
            assert!(contrast_ok(&p.params, 0.5));
        }
        let models: std::collections::BTreeSet<_> = a.iter().map(|p| p.model.as_str()).collect();
        assert_eq!(models.len(), 6);
        assert!(a.iter().any(|p| p.structure_factor.is_some()));
    }

    #[test]
    fn generated_sidecar_round_trips_and_reproduces_the_images() {
        let config = DatasetConfig::default();
        let detector = Detector {
            npix: 16,
            oversample: 1,
            ..Detector::default()
        };
        let (data, sidecar) = config.generate(5, 3, &detector).unwrap();
        assert_eq!(data.len(), 5 * 16 * 16);
        let text = sidecar.to_json();
        let back = Sidecar::from_json(&text).unwrap();
        assert!(back == sidecar, "sidecar changed in a JSON round trip");
        let again: Vec<f32> = back
            .images
            .iter()
            .flat_map(|p| {
                back.detector()
                    .unwrap()
                    .image(&p.to_scatterer().unwrap())
                    .unwrap()
            })
            .collect();
        assert_eq!(again, data);
    }
}
