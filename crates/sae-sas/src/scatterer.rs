//! A complete scattering model: shape, polydispersity, structure factor, scale, background.

use crate::dispersion::Polydispersity;
use crate::error::{Result, invalid};
use crate::shape::{Orientation, Shape};
use crate::structure::hard_sphere;

/// The hard-sphere structure factor of a `model@hardsphere` product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HardSphere {
    /// Volume fraction of particles.
    pub volfraction: f64,
    /// sasmodels' `radius_effective_mode`: 0 uses [`radius_effective`](Self::radius_effective),
    /// other values ask the shape (see [`Shape::radius_effective`]).
    pub radius_effective_mode: u32,
    /// The effective radius when the mode is 0 (Å).
    pub radius_effective: f64,
}

/// What sasmodels computes for one image: `I(q) = scale/⟨V⟩ · ⟨F²⟩ [· φ · S(q)] + background`.
///
/// `⟨·⟩` are weighted averages over the polydispersity points; with a
/// structure factor, the effective radius is the weighted mean of the
/// shape's and `S` is evaluated at `|q|` (sasmodels' "P·S" mode, the only one
/// it supports in 2D).
#[derive(Debug, Clone, PartialEq)]
pub struct Scatterer {
    /// The particle.
    pub shape: Shape,
    /// Size polydispersity (several parameters multiply).
    pub polydispersity: Vec<Polydispersity>,
    /// Optional hard-sphere interactions.
    pub structure_factor: Option<HardSphere>,
    /// Overall scale.
    pub scale: f64,
    /// Flat background (1/cm).
    pub background: f64,
    /// Polydispersity points whose weight (the product of the distributions'
    /// densities, as sasmodels computes them) is not above this are skipped,
    /// as sasmodels' `cutoff` argument does. [`DEFAULT_PD_CUTOFF`] by default.
    pub pd_cutoff: f64,
}

/// The polydispersity weight cutoff of SasView and of the reference data, `1e-5`.
///
/// sasmodels' `call_kernel` uses 0 unless told otherwise; the reference images
/// (`../shared/data/sas_sasmodels_public.*`) were computed with 1e-5, which
/// matters for strongly polydisperse models with a structure factor (the
/// effective radius shifts by about 1e-5).
pub const DEFAULT_PD_CUTOFF: f64 = 1e-5;

impl Scatterer {
    /// A monodisperse, dilute scatterer with sasmodels' defaults (scale 1, background 0.001).
    pub fn new(shape: Shape) -> Self {
        Self {
            shape,
            polydispersity: Vec::new(),
            structure_factor: None,
            scale: 1.0,
            background: 0.001,
            pd_cutoff: DEFAULT_PD_CUTOFF,
        }
    }

    /// Precomputes what every pixel shares: the polydispersity points, the
    /// weighted volume and effective radius, the orientation.
    pub fn prepare(&self) -> Result<Prepared> {
        let mut configs: Vec<(Shape, f64)> = vec![(self.shape, 1.0)];
        for pd in &self.polydispersity {
            let centre = self.shape.size(&pd.parameter).ok_or_else(|| {
                invalid(
                    &pd.parameter,
                    format!("`{}` has no such size parameter", self.shape.name()),
                )
            })?;
            let points = pd.points(centre)?;
            configs = configs
                .iter()
                .flat_map(|(shape, w)| {
                    points
                        .iter()
                        .filter_map(move |&(x, wx)| Some((shape.with_size(&pd.parameter, x)?, w * wx)))
                })
                .collect();
        }
        // Monodisperse parameters have weight 1, always above the cutoff.
        if !self.polydispersity.is_empty() {
            configs.retain(|&(_, w)| w > self.pd_cutoff);
        }
        let total: f64 = configs.iter().map(|(_, w)| w).sum();
        let volume: f64 = configs.iter().map(|(s, w)| w * s.volume()).sum();
        let structure = match self.structure_factor {
            Some(hs) => {
                let radius = if hs.radius_effective_mode == 0 {
                    hs.radius_effective
                } else {
                    configs
                        .iter()
                        .map(|(s, w)| w * s.radius_effective(hs.radius_effective_mode))
                        .sum::<f64>()
                        / if total == 0.0 { 1.0 } else { total }
                };
                Some((radius, hs.volfraction))
            }
            None => None,
        };
        let factor = if volume != 0.0 { self.scale / volume } else { 0.0 };
        // One polydisperse parameter (the usual case): keep its points for the
        // shapes' shortcut sums.
        let single = match self.polydispersity.as_slice() {
            [pd] => {
                let mut points = pd.points(self.shape.size(&pd.parameter).unwrap_or(0.0))?;
                points.retain(|&(_, w)| w > self.pd_cutoff);
                Some((pd.parameter.clone(), points))
            }
            _ => None,
        };
        Ok(Prepared {
            orientation: self.shape.orientation(),
            shape: self.shape,
            single,
            configs,
            scale_over_volume: factor * structure.map_or(1.0, |(_, phi)| phi),
            structure,
            background: self.background,
        })
    }
}

/// A [`Scatterer`] ready to evaluate at many `(qx, qy)`.
#[derive(Debug, Clone)]
pub struct Prepared {
    orientation: Orientation,
    shape: Shape,
    /// The points of the only polydisperse parameter, if exactly one.
    single: Option<(String, Vec<(f64, f64)>)>,
    configs: Vec<(Shape, f64)>,
    scale_over_volume: f64,
    structure: Option<(f64, f64)>,
    background: f64,
}

impl Prepared {
    /// `I(qx, qy)` in 1/cm.
    pub fn intensity(&self, qx: f64, qy: f64) -> f64 {
        let q = self.orientation.apply(qx, qy);
        let shortcut = self
            .single
            .as_ref()
            .and_then(|(param, points)| self.shape.f2_sum(&q, param, points));
        let f2 = shortcut.unwrap_or_else(|| self.configs.iter().map(|(shape, w)| w * shape.f2(&q)).sum());
        let s = self.structure.map_or(1.0, |(r, phi)| hard_sphere(q.q, r, phi));
        self.scale_over_volume * f2 * s + self.background
    }

    /// Number of polydispersity points evaluated per `q`.
    pub fn points(&self) -> usize {
        self.configs.len()
    }
}
