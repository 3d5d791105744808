//! The hard-sphere structure factor (Percus–Yevick closure), as sasmodels' `hardsphere`.

/// `S(q)` of hard spheres of radius `radius_effective` at volume fraction `volfraction`.
pub fn hard_sphere(q: f64, radius_effective: f64, volfraction: f64) -> f64 {
    if radius_effective.abs() < 1e-12 {
        return 1.0;
    }
    let phi = volfraction;
    let d = (1.0 / (1.0 - phi)).powi(2);
    let a = ((1.0 + 2.0 * phi) * d).powi(2);
    let x = (2.0 * q * radius_effective).abs();
    if x < 5e-6 {
        return 1.0 / a;
    }
    let x2 = x * x;
    let b = -6.0 * phi * ((1.0 + 0.5 * phi) * d).powi(2);
    let g = 0.5 * phi * a;
    if x < 0.05 {
        // Series of the closed form below, which cancels at small x.
        let ff = 8.0 * a
            + 6.0 * b
            + 4.0 * g
            + (-0.8 * a - b / 1.5 - 0.5 * g + (a / 35.0 + 0.0125 * b + 0.02 * g) * x2) * x2;
        return 1.0 / (1.0 + phi * ff);
    }
    let x4 = x2 * x2;
    let (s, c) = x.sin_cos();
    let ff = ((g * ((4.0 * x2 - 24.0) * x * s - (x4 - 12.0 * x2 + 24.0) * c + 24.0) / x2
        + b * (2.0 * x * s - (x2 - 2.0) * c - 2.0))
        / x
        + a * (s - x * c))
        / x;
    1.0 / (1.0 + 24.0 * phi * ff / x2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(hard_sphere(0.1, 0.0, 0.3), 1.0);
        // No particles: no structure.
        assert!((hard_sphere(0.05, 50.0, 0.0) - 1.0).abs() < 1e-12);
        // Compressibility limit S(0) = (1−φ)⁴/(1+2φ)².
        let phi: f64 = 0.3;
        let s0 = (1.0 - phi).powi(4) / (1.0 + 2.0 * phi).powi(2);
        assert!((hard_sphere(1e-9, 50.0, phi) - s0).abs() < 1e-12);
        // Continuous where the series hands over to the closed form.
        let r = 50.0;
        let q = 0.05 / (2.0 * r);
        assert!((hard_sphere(q * (1.0 - 1e-9), r, phi) - hard_sphere(q * (1.0 + 1e-9), r, phi)).abs() < 1e-8);
        // Tends to 1 at large q.
        assert!((hard_sphere(5.0, r, phi) - 1.0).abs() < 1e-3);
    }
}
