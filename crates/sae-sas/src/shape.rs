//! The form factors, with sasmodels' parameter names, units and conventions.
//!
//! Scattering length densities are in 10⁻⁶/Å², lengths in Å, angles in
//! degrees, q in 1/Å; `F²` carries sasmodels' factor 10⁻⁴ so that intensities
//! come out in 1/cm once divided by the particle volume.

use std::f64::consts::PI;

use crate::special::{j1c_fast as j1c, sinc_fast as sinc, sph_j1c_fast as sph_j1c};

/// A particle shape and its (monodisperse) parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Shape {
    /// sasmodels `sphere`.
    Sphere {
        /// Particle SLD.
        sld: f64,
        /// Solvent SLD.
        sld_solvent: f64,
        /// Radius (Å).
        radius: f64,
    },
    /// sasmodels `core_shell_sphere`.
    CoreShellSphere {
        /// Core SLD.
        sld_core: f64,
        /// Shell SLD.
        sld_shell: f64,
        /// Solvent SLD.
        sld_solvent: f64,
        /// Core radius (Å).
        radius: f64,
        /// Shell thickness (Å).
        thickness: f64,
    },
    /// sasmodels `cylinder`, oriented by `theta`, `phi`.
    Cylinder {
        /// Particle SLD.
        sld: f64,
        /// Solvent SLD.
        sld_solvent: f64,
        /// Radius (Å).
        radius: f64,
        /// Length (Å).
        length: f64,
        /// Axis-to-beam angle (degrees).
        theta: f64,
        /// Rotation about the beam (degrees).
        phi: f64,
    },
    /// sasmodels `ellipsoid` (of revolution), oriented by `theta`, `phi`.
    Ellipsoid {
        /// Particle SLD.
        sld: f64,
        /// Solvent SLD.
        sld_solvent: f64,
        /// Polar radius, along the axis (Å).
        radius_polar: f64,
        /// Equatorial radius (Å).
        radius_equatorial: f64,
        /// Axis-to-beam angle (degrees).
        theta: f64,
        /// Rotation about the beam (degrees).
        phi: f64,
    },
    /// sasmodels `core_shell_cylinder`, oriented by `theta`, `phi`.
    CoreShellCylinder {
        /// Core SLD.
        sld_core: f64,
        /// Shell SLD.
        sld_shell: f64,
        /// Solvent SLD.
        sld_solvent: f64,
        /// Core radius (Å).
        radius: f64,
        /// Shell thickness, also on the ends (Å).
        thickness: f64,
        /// Core length (Å).
        length: f64,
        /// Axis-to-beam angle (degrees).
        theta: f64,
        /// Rotation about the beam (degrees).
        phi: f64,
    },
    /// sasmodels `parallelepiped`, oriented by `theta`, `phi`, `psi`.
    Parallelepiped {
        /// Particle SLD.
        sld: f64,
        /// Solvent SLD.
        sld_solvent: f64,
        /// Edge a (Å).
        length_a: f64,
        /// Edge b (Å).
        length_b: f64,
        /// Edge c (Å).
        length_c: f64,
        /// c-axis-to-beam angle (degrees).
        theta: f64,
        /// Rotation about the beam (degrees).
        phi: f64,
        /// Rotation about the c axis (degrees).
        psi: f64,
    },
}

const FOUR_PI_3: f64 = 4.0 * PI / 3.0;

impl Shape {
    /// The sasmodels name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sphere { .. } => "sphere",
            Self::CoreShellSphere { .. } => "core_shell_sphere",
            Self::Cylinder { .. } => "cylinder",
            Self::Ellipsoid { .. } => "ellipsoid",
            Self::CoreShellCylinder { .. } => "core_shell_cylinder",
            Self::Parallelepiped { .. } => "parallelepiped",
        }
    }

    /// The size parameters, which polydispersity may act on.
    pub fn size_parameters(&self) -> &'static [&'static str] {
        match self {
            Self::Sphere { .. } => &["radius"],
            Self::CoreShellSphere { .. } => &["radius", "thickness"],
            Self::Cylinder { .. } => &["radius", "length"],
            Self::Ellipsoid { .. } => &["radius_polar", "radius_equatorial"],
            Self::CoreShellCylinder { .. } => &["radius", "thickness", "length"],
            Self::Parallelepiped { .. } => &["length_a", "length_b", "length_c"],
        }
    }

    /// The value of a size parameter, if the shape has it.
    pub fn size(&self, name: &str) -> Option<f64> {
        let mut copy = *self;
        copy.size_mut(name).map(|v| *v)
    }

    /// The shape with size parameter `name` set to `value`, if it has it.
    pub fn with_size(&self, name: &str, value: f64) -> Option<Self> {
        let mut copy = *self;
        *copy.size_mut(name)? = value;
        Some(copy)
    }

    fn size_mut(&mut self, name: &str) -> Option<&mut f64> {
        Some(match (self, name) {
            (Self::Sphere { radius, .. }, "radius") => radius,
            (Self::CoreShellSphere { radius, .. }, "radius") => radius,
            (Self::CoreShellSphere { thickness, .. }, "thickness") => thickness,
            (Self::Cylinder { radius, .. }, "radius") => radius,
            (Self::Cylinder { length, .. }, "length") => length,
            (Self::Ellipsoid { radius_polar, .. }, "radius_polar") => radius_polar,
            (
                Self::Ellipsoid {
                    radius_equatorial, ..
                },
                "radius_equatorial",
            ) => radius_equatorial,
            (Self::CoreShellCylinder { radius, .. }, "radius") => radius,
            (Self::CoreShellCylinder { thickness, .. }, "thickness") => thickness,
            (Self::CoreShellCylinder { length, .. }, "length") => length,
            (Self::Parallelepiped { length_a, .. }, "length_a") => length_a,
            (Self::Parallelepiped { length_b, .. }, "length_b") => length_b,
            (Self::Parallelepiped { length_c, .. }, "length_c") => length_c,
            _ => return None,
        })
    }

    /// Particle volume (Å³) as sasmodels' `form_volume`.
    pub fn volume(&self) -> f64 {
        match *self {
            Self::Sphere { radius, .. } => FOUR_PI_3 * radius.powi(3),
            Self::CoreShellSphere {
                radius, thickness, ..
            } => FOUR_PI_3 * (radius + thickness).powi(3),
            Self::Cylinder { radius, length, .. } => PI * radius * radius * length,
            Self::Ellipsoid {
                radius_polar,
                radius_equatorial,
                ..
            } => FOUR_PI_3 * radius_polar * radius_equatorial * radius_equatorial,
            Self::CoreShellCylinder {
                radius,
                thickness,
                length,
                ..
            } => cylinder_volume(radius + thickness, length + 2.0 * thickness),
            Self::Parallelepiped {
                length_a,
                length_b,
                length_c,
                ..
            } => length_a * length_b * length_c,
        }
    }

    /// Effective radius for a structure factor, by sasmodels' `radius_effective(mode)`.
    ///
    /// Mode 1 (the default in sasmodels) is: the radius for a sphere, the
    /// outer radius of a core–shell sphere, the average-curvature radius of an
    /// ellipsoid, the excluded-volume radius of cylinders. Unknown modes fall
    /// back to mode 1, as sasmodels' `switch` does.
    pub fn radius_effective(&self, mode: u32) -> f64 {
        match *self {
            Self::Sphere { radius, .. } => radius,
            Self::CoreShellSphere {
                radius, thickness, ..
            } => match mode {
                2 => radius,
                _ => radius + thickness,
            },
            Self::Ellipsoid {
                radius_polar: p,
                radius_equatorial: e,
                ..
            } => match mode {
                2 => (p * e * e).cbrt(),
                3 => p.min(e),
                4 => p.max(e),
                _ => ellipsoid_curvature_radius(p, e),
            },
            Self::Cylinder { radius, length, .. } => match mode {
                2 => (PI * radius * radius * length / FOUR_PI_3).cbrt(),
                3 => radius,
                4 => 0.5 * length,
                5 => radius.min(0.5 * length),
                6 => radius.max(0.5 * length),
                7 => (radius * radius + 0.25 * length * length).sqrt(),
                _ => {
                    0.5 * (0.75
                        * radius
                        * (2.0 * radius * length + (radius + length) * (PI * radius + length)))
                        .cbrt()
                }
            },
            Self::CoreShellCylinder {
                radius,
                thickness,
                length,
                ..
            } => {
                let (r, l) = (radius + thickness, length + 2.0 * thickness);
                match mode {
                    2 => (cylinder_volume(r, l) / FOUR_PI_3).cbrt(),
                    3 => r,
                    4 => 0.5 * l,
                    5 => r.min(0.5 * l),
                    6 => r.max(0.5 * l),
                    7 => (r * r + 0.25 * l * l).sqrt(),
                    _ => 0.5 * (0.75 * r * (2.0 * r * l + (r + l) * (PI * r + l))).cbrt(),
                }
            }
            Self::Parallelepiped {
                length_a: a,
                length_b: b,
                length_c: c,
                ..
            } => match mode {
                2 => (a * b * c / FOUR_PI_3).cbrt(),
                3 => 0.5 * a,
                4 => 0.5 * b,
                5 => 0.5 * c,
                6 => (a * b / PI).sqrt(),
                7 => 0.5 * (a * a + b * b).sqrt(),
                8 => 0.5 * (a * a + b * b + c * c).sqrt(),
                _ => parallelepiped_excluded_volume_radius(a, b, c),
            },
        }
    }

    /// Whether the scattering depends on the orientation (and so on `qx`, `qy` separately).
    pub fn is_oriented(&self) -> bool {
        !matches!(self, Self::Sphere { .. } | Self::CoreShellSphere { .. })
    }

    /// The rotation taking detector `(qx, qy)` into the particle frame.
    pub(crate) fn orientation(&self) -> Orientation {
        match *self {
            Self::Cylinder { theta, phi, .. }
            | Self::Ellipsoid { theta, phi, .. }
            | Self::CoreShellCylinder { theta, phi, .. } => Orientation::axial(theta, phi),
            Self::Parallelepiped { theta, phi, psi, .. } => Orientation::full(theta, phi, psi),
            _ => Orientation::default(),
        }
    }

    /// `F²` (×10⁻⁴, in 10⁻⁸ cm⁻¹·Å³ units as sasmodels) at a q already rotated into the particle frame.
    pub(crate) fn f2(&self, q: &ParticleQ) -> f64 {
        match *self {
            Self::Sphere {
                sld,
                sld_solvent,
                radius,
            } => {
                let f = (sld - sld_solvent) * FOUR_PI_3 * radius.powi(3) * sph_j1c(q.q * radius);
                1e-4 * f * f
            }
            Self::CoreShellSphere {
                sld_core,
                sld_shell,
                sld_solvent,
                radius,
                thickness,
            } => {
                let outer = radius + thickness;
                let f = FOUR_PI_3 * radius.powi(3) * sph_j1c(q.q * radius) * (sld_core - sld_shell)
                    + FOUR_PI_3 * outer.powi(3) * sph_j1c(q.q * outer) * (sld_shell - sld_solvent);
                1e-4 * f * f
            }
            Self::Cylinder {
                sld,
                sld_solvent,
                radius,
                length,
                ..
            } => {
                let f = (sld - sld_solvent)
                    * cylinder_volume(radius, length)
                    * j1c(q.qab * radius)
                    * sinc(0.5 * q.qc * length);
                1e-4 * f * f
            }
            Self::Ellipsoid {
                sld,
                sld_solvent,
                radius_polar,
                radius_equatorial,
                ..
            } => {
                let qr = ((radius_equatorial * q.qab).powi(2) + (radius_polar * q.qc).powi(2)).sqrt();
                let f = (sld - sld_solvent) * self.volume() * sph_j1c(qr);
                1e-4 * f * f
            }
            Self::CoreShellCylinder {
                sld_core,
                sld_shell,
                sld_solvent,
                radius,
                thickness,
                length,
                ..
            } => {
                let core = cylinder_volume(radius, length)
                    * (sld_core - sld_shell)
                    * sinc(0.5 * length * q.qc)
                    * j1c(radius * q.qab);
                let (r, h) = (radius + thickness, 0.5 * length + thickness);
                let shell =
                    cylinder_volume(r, 2.0 * h) * (sld_shell - sld_solvent) * sinc(h * q.qc) * j1c(r * q.qab);
                let f = core + shell;
                1e-4 * f * f
            }
            Self::Parallelepiped {
                sld,
                sld_solvent,
                length_a,
                length_b,
                length_c,
                ..
            } => {
                let f = (sld - sld_solvent)
                    * length_a
                    * length_b
                    * length_c
                    * sinc(0.5 * length_a * q.qa)
                    * sinc(0.5 * length_b * q.qb)
                    * sinc(0.5 * length_c * q.qc);
                1e-4 * f * f
            }
        }
    }
}

impl Shape {
    /// `Σ w·F²` over the polydispersity `points` `(value, weight)` of the size
    /// parameter `param`, computing once what does not depend on it.
    /// `None` where no such shortcut exists (the caller then sums [`f2`](Self::f2)).
    pub(crate) fn f2_sum(&self, q: &ParticleQ, param: &str, points: &[(f64, f64)]) -> Option<f64> {
        let sum = |f: &dyn Fn(f64) -> f64| 1e-4 * points.iter().map(|&(x, w)| w * f(x).powi(2)).sum::<f64>();
        Some(match (*self, param) {
            (Self::Sphere { sld, sld_solvent, .. }, "radius") => {
                let c = (sld - sld_solvent) * FOUR_PI_3;
                sum(&|r| c * r * r * r * sph_j1c(q.q * r))
            }
            (
                Self::Cylinder {
                    sld,
                    sld_solvent,
                    length,
                    ..
                },
                "radius",
            ) => {
                let c = (sld - sld_solvent) * PI * length * sinc(0.5 * q.qc * length);
                sum(&|r| c * r * r * j1c(q.qab * r))
            }
            (
                Self::Cylinder {
                    sld,
                    sld_solvent,
                    radius,
                    ..
                },
                "length",
            ) => {
                let c = (sld - sld_solvent) * PI * radius * radius * j1c(q.qab * radius);
                sum(&|l| c * l * sinc(0.5 * q.qc * l))
            }
            (
                Self::Ellipsoid {
                    sld,
                    sld_solvent,
                    radius_polar,
                    ..
                },
                "radius_equatorial",
            ) => {
                let c = (sld - sld_solvent) * FOUR_PI_3 * radius_polar;
                let polar = (radius_polar * q.qc).powi(2);
                sum(&|re| c * re * re * sph_j1c(((re * q.qab).powi(2) + polar).sqrt()))
            }
            (
                Self::Ellipsoid {
                    sld,
                    sld_solvent,
                    radius_equatorial,
                    ..
                },
                "radius_polar",
            ) => {
                let c = (sld - sld_solvent) * FOUR_PI_3 * radius_equatorial * radius_equatorial;
                let equatorial = (radius_equatorial * q.qab).powi(2);
                sum(&|rp| c * rp * sph_j1c((equatorial + (rp * q.qc).powi(2)).sqrt()))
            }
            (
                Self::Parallelepiped {
                    sld,
                    sld_solvent,
                    length_b,
                    length_c,
                    ..
                },
                "length_a",
            ) => {
                let c = (sld - sld_solvent)
                    * length_b
                    * length_c
                    * sinc(0.5 * length_b * q.qb)
                    * sinc(0.5 * length_c * q.qc);
                sum(&|a| c * a * sinc(0.5 * a * q.qa))
            }
            (
                Self::CoreShellCylinder {
                    sld_core,
                    sld_shell,
                    sld_solvent,
                    thickness,
                    length,
                    ..
                },
                "radius",
            ) => {
                let h = 0.5 * length + thickness;
                let core = PI * length * (sld_core - sld_shell) * sinc(0.5 * length * q.qc);
                let shell = PI * 2.0 * h * (sld_shell - sld_solvent) * sinc(h * q.qc);
                sum(&|r| {
                    let outer = r + thickness;
                    core * r * r * j1c(r * q.qab) + shell * outer * outer * j1c(outer * q.qab)
                })
            }
            _ => return None,
        })
    }
}

fn cylinder_volume(radius: f64, length: f64) -> f64 {
    PI * radius * radius * length
}

/// The excluded-volume radius of the cylinder that sasmodels matches to a
/// parallelepiped: the two closest edges form its circular cross-section.
fn parallelepiped_excluded_volume_radius(a: f64, b: f64, c: f64) -> f64 {
    let mut edges = [a, b, c];
    edges.sort_by(f64::total_cmp);
    let [short, middle, long] = edges;
    let (r, length) = if middle - short > long - middle {
        ((middle * long / PI).sqrt(), short)
    } else {
        ((short * middle / PI).sqrt(), long)
    };
    0.5 * (0.75 * r * (2.0 * r * length + (r + length) * (PI * r + length))).cbrt()
}

fn ellipsoid_curvature_radius(polar: f64, equatorial: f64) -> f64 {
    if polar == equatorial {
        return polar;
    }
    if polar * equatorial == 0.0 {
        return 0.0;
    }
    let ratio = if polar < equatorial {
        polar / equatorial
    } else {
        equatorial / polar
    };
    let e1 = (1.0 - ratio * ratio).sqrt();
    let b1 = 1.0 + e1.asin() / (e1 * ratio);
    let bl = (1.0 + e1) / (1.0 - e1);
    let b2 = 1.0 + 0.5 * ratio * ratio / e1 * bl.ln();
    let delta = 0.75 * b1 * b2;
    0.5 * (2.0 * (delta + 1.0) * polar * equatorial * equatorial).cbrt()
}

/// A scattering vector in the particle frame.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct ParticleQ {
    /// `|q|`.
    pub q: f64,
    /// Component along the particle's a axis.
    pub qa: f64,
    /// Component along the b axis.
    pub qb: f64,
    /// Component along the c (symmetry) axis.
    pub qc: f64,
    /// `√(qa² + qb²)`.
    pub qab: f64,
}

/// sasmodels' view rotation (no orientation dispersion): the rows of `R`
/// with `R·(qx, qy)ᵀ = (qa, qb, qc)ᵀ`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Orientation {
    r: [[f64; 2]; 3],
}

impl Orientation {
    /// Axially symmetric particles: only `qc` is needed, `qab` follows from `|q|`.
    fn axial(theta: f64, phi: f64) -> Self {
        let (st, ct) = theta.to_radians().sin_cos();
        let (sp, cp) = phi.to_radians().sin_cos();
        Self {
            r: [[cp * ct, sp * ct], [-sp, cp], [st * cp, sp * st]],
        }
    }

    /// Particles with three distinct axes.
    fn full(theta: f64, phi: f64, psi: f64) -> Self {
        let (st, ct) = theta.to_radians().sin_cos();
        let (sp, cp) = phi.to_radians().sin_cos();
        let (ss, cs) = psi.to_radians().sin_cos();
        Self {
            r: [
                [-sp * ss + cp * cs * ct, sp * cs * ct + ss * cp],
                [-sp * cs - ss * cp * ct, -sp * ss * ct + cp * cs],
                [st * cp, sp * st],
            ],
        }
    }

    /// `(qx, qy)` in the particle frame.
    pub(crate) fn apply(&self, qx: f64, qy: f64) -> ParticleQ {
        let r = &self.r;
        let qa = r[0][0] * qx + r[0][1] * qy;
        let qb = r[1][0] * qx + r[1][1] * qy;
        let qc = r[2][0] * qx + r[2][1] * qy;
        let q2 = qx * qx + qy * qy;
        // As sasmodels: qab from |q|² − qc², never negative.
        let qab_sq = -qc * qc + q2;
        ParticleQ {
            q: q2.sqrt(),
            qa,
            qb,
            qc,
            qab: if qab_sq > 0.0 { qab_sq.sqrt() } else { 0.0 },
        }
    }
}
