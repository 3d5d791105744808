//! The JSON parameter sidecar of the reference data (read and write), so that
//! the images a file lists can be simulated exactly.
//!
//! Each entry of `images` names a sasmodels model, an optional structure
//! factor and every parameter in sasmodels' spelling (`radius`,
//! `radius_pd`, `radius_pd_type`, `radius_pd_n`, `radius_pd_nsigma`,
//! `volfraction`, `radius_effective_mode`, …). `q_grid` gives the detector.
//! An optional `pd_cutoff` parameter sets the polydispersity weight cutoff;
//! without it [`DEFAULT_PD_CUTOFF`] (1e-5) applies, as for the reference data.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::detector::Detector;
use crate::dispersion::{Distribution, Polydispersity};
use crate::error::{Result, SasError, invalid};
use crate::scatterer::{DEFAULT_PD_CUTOFF, HardSphere, Scatterer};
use crate::shape::Shape;

/// One image's model and parameters, as the sidecar lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageParams {
    /// Position in the image stack.
    #[serde(default)]
    pub index: usize,
    /// sasmodels model name (`"sphere"`, `"cylinder"`, …).
    pub model: String,
    /// `"hardsphere"` or none.
    #[serde(default)]
    pub structure_factor: Option<String>,
    /// Every parameter by its sasmodels name.
    pub params: BTreeMap<String, Value>,
}

/// The detector grid, as the sidecar describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QGrid {
    /// Pixels per side.
    pub npix: usize,
    /// Lower edge of the grid (1/Å), `−qmax`.
    pub q_edge_min: f64,
    /// Upper edge of the grid (1/Å), `qmax`.
    pub q_edge_max: f64,
    /// Sub-samples per pixel side.
    #[serde(default = "one")]
    pub supersample_per_axis: usize,
    /// Other entries, kept as they are.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

fn one() -> usize {
    1
}

/// A whole sidecar file: the grid, the images, and whatever else it records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sidecar {
    /// The detector.
    pub q_grid: QGrid,
    /// One entry per image, in file order.
    pub images: Vec<ImageParams>,
    /// Other entries (provenance, sampling ranges, …), kept as they are.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Sidecar {
    /// Parses sidecar JSON.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| SasError::Malformed {
            format: "sidecar JSON",
            reason: e.to_string(),
        })
    }

    /// Reads a sidecar file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|cause| SasError::Io {
            path: path.display().to_string(),
            cause,
        })?;
        Self::from_json(&text)
    }

    /// Serialises as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("sidecar values are plain JSON")
    }

    /// Writes the sidecar to `path`.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json()).map_err(|cause| SasError::Io {
            path: path.display().to_string(),
            cause,
        })
    }

    /// The detector the grid describes (symmetric about 0).
    pub fn detector(&self) -> Result<Detector> {
        let g = &self.q_grid;
        if (g.q_edge_min + g.q_edge_max).abs() > 1e-12 * g.q_edge_max.abs() {
            return Err(invalid(
                "q_grid",
                "only grids symmetric about q = 0 are supported",
            ));
        }
        Ok(Detector {
            npix: g.npix,
            qmax: g.q_edge_max,
            oversample: g.supersample_per_axis,
            beam_stop: None,
        })
    }
}

fn number(params: &BTreeMap<String, Value>, name: &str) -> Result<f64> {
    match params.get(name) {
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite())
            .ok_or_else(|| invalid(name, format!("{v} is not a finite number"))),
        None => Err(invalid(name, "missing")),
    }
}

fn number_or(params: &BTreeMap<String, Value>, name: &str, default: f64) -> Result<f64> {
    if params.contains_key(name) {
        number(params, name)
    } else {
        Ok(default)
    }
}

impl ImageParams {
    /// The scatterer these parameters describe.
    pub fn to_scatterer(&self) -> Result<Scatterer> {
        let p = &self.params;
        let n = |name: &str| number(p, name);
        let shape = match self.model.as_str() {
            "sphere" => Shape::Sphere {
                sld: n("sld")?,
                sld_solvent: n("sld_solvent")?,
                radius: n("radius")?,
            },
            "core_shell_sphere" => Shape::CoreShellSphere {
                sld_core: n("sld_core")?,
                sld_shell: n("sld_shell")?,
                sld_solvent: n("sld_solvent")?,
                radius: n("radius")?,
                thickness: n("thickness")?,
            },
            "cylinder" => Shape::Cylinder {
                sld: n("sld")?,
                sld_solvent: n("sld_solvent")?,
                radius: n("radius")?,
                length: n("length")?,
                theta: n("theta")?,
                phi: n("phi")?,
            },
            "ellipsoid" => Shape::Ellipsoid {
                sld: n("sld")?,
                sld_solvent: n("sld_solvent")?,
                radius_polar: n("radius_polar")?,
                radius_equatorial: n("radius_equatorial")?,
                theta: n("theta")?,
                phi: n("phi")?,
            },
            "core_shell_cylinder" => Shape::CoreShellCylinder {
                sld_core: n("sld_core")?,
                sld_shell: n("sld_shell")?,
                sld_solvent: n("sld_solvent")?,
                radius: n("radius")?,
                thickness: n("thickness")?,
                length: n("length")?,
                theta: n("theta")?,
                phi: n("phi")?,
            },
            "parallelepiped" => Shape::Parallelepiped {
                sld: n("sld")?,
                sld_solvent: n("sld_solvent")?,
                length_a: n("length_a")?,
                length_b: n("length_b")?,
                length_c: n("length_c")?,
                theta: n("theta")?,
                phi: n("phi")?,
                psi: n("psi")?,
            },
            other => {
                return Err(SasError::Unsupported {
                    what: "model",
                    name: other.to_string(),
                });
            }
        };
        let mut polydispersity = Vec::new();
        for &parameter in shape.size_parameters() {
            let width = number_or(p, &format!("{parameter}_pd"), 0.0)?;
            if width == 0.0 {
                continue;
            }
            let distribution = match p.get(&format!("{parameter}_pd_type")) {
                None => Distribution::Gaussian,
                Some(v) => {
                    let name = v.as_str().unwrap_or_default();
                    Distribution::from_name(name).ok_or_else(|| SasError::Unsupported {
                        what: "dispersion",
                        name: name.to_string(),
                    })?
                }
            };
            let npts = number_or(p, &format!("{parameter}_pd_n"), 35.0)?;
            if !((1.0..=1e5).contains(&npts) && npts.fract() == 0.0) {
                return Err(invalid(
                    &format!("{parameter}_pd_n"),
                    format!("{npts} is not a point count"),
                ));
            }
            polydispersity.push(Polydispersity {
                parameter: parameter.to_string(),
                width,
                npts: npts as usize,
                nsigma: number_or(p, &format!("{parameter}_pd_nsigma"), 3.0)?,
                distribution,
            });
        }
        let structure_factor = match self.structure_factor.as_deref() {
            None => None,
            Some("hardsphere") => {
                let mode = number_or(p, "structure_factor_mode", 0.0)?;
                if mode != 0.0 {
                    return Err(SasError::Unsupported {
                        what: "structure_factor_mode",
                        name: format!("{mode} (only 0, P·S, exists in 2D)"),
                    });
                }
                Some(HardSphere {
                    volfraction: number(p, "volfraction")?,
                    radius_effective_mode: number_or(p, "radius_effective_mode", 0.0)? as u32,
                    radius_effective: number_or(p, "radius_effective", 50.0)?,
                })
            }
            Some(other) => {
                return Err(SasError::Unsupported {
                    what: "structure factor",
                    name: other.to_string(),
                });
            }
        };
        Ok(Scatterer {
            shape,
            polydispersity,
            structure_factor,
            scale: number_or(p, "scale", 1.0)?,
            background: number_or(p, "background", 0.001)?,
            pd_cutoff: number_or(p, "pd_cutoff", DEFAULT_PD_CUTOFF)?,
        })
    }
}
