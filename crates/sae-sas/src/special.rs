//! Special functions of the form factors, accurate to about 1e-14 relative
//! away from their zeros (absolute near them), with care at small arguments.

use std::f64::consts::PI;

/// `sin(x)/x`, 1 at 0.
pub fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-4 {
        let x2 = x * x;
        1.0 - x2 / 6.0 * (1.0 - x2 / 20.0)
    } else {
        x.sin() / x
    }
}

/// `3 j₁(x)/x = 3 (sin x − x cos x)/x³`, 1 at 0 (the sphere's form factor amplitude).
pub fn sph_j1c(x: f64) -> f64 {
    if x.abs() < 0.1 {
        // Taylor series: the closed form cancels badly here.
        let x2 = x * x;
        1.0 + x2 * (-1.0 / 10.0 + x2 * (1.0 / 280.0 + x2 * (-1.0 / 15120.0 + x2 / 1_330_560.0)))
    } else {
        3.0 * (x.sin() / x - x.cos()) / (x * x)
    }
}

/// `2 J₁(x)/x`, 1 at 0 (the cylinder's cross-section amplitude).
pub fn j1c(x: f64) -> f64 {
    if x.abs() < 1e-3 {
        let x2 = x * x;
        1.0 - x2 / 8.0 * (1.0 - x2 / 24.0)
    } else {
        2.0 * bessel_j1(x) / x
    }
}

/// The Bessel function of the first kind of order one, `J₁(x)`.
///
/// Power series below 8, Miller's backward recurrence (normalised by
/// `J₀ + 2ΣJ₂ₖ = 1`) up to 25, Hankel's asymptotic expansion beyond.
pub fn bessel_j1(x: f64) -> f64 {
    let ax = x.abs();
    let value = if ax < 8.0 {
        series_j1(ax)
    } else if ax < 25.0 {
        miller_j1(ax)
    } else {
        asymptotic_j1(ax)
    };
    // J₁ is odd.
    if x < 0.0 { -value } else { value }
}

fn series_j1(x: f64) -> f64 {
    let h = 0.5 * x;
    let h2 = h * h;
    let mut term = h;
    let mut sum = h;
    for k in 1..60 {
        term *= -h2 / (k as f64 * (k + 1) as f64);
        sum += term;
        if term.abs() < 1e-17 * sum.abs() {
            break;
        }
    }
    sum
}

fn miller_j1(x: f64) -> f64 {
    // Start well above x, at an even order, with arbitrary small values.
    let start = ((x + 30.0 + 8.0 * x.sqrt()) as usize) | 1;
    let start = start + 1;
    let (mut next, mut current) = (0.0f64, 1e-30f64);
    let mut norm = 0.0;
    let mut j1 = 0.0;
    for k in (1..=start).rev() {
        // J_{k-1} = (2k/x) J_k − J_{k+1}
        let previous = 2.0 * k as f64 / x * current - next;
        next = current;
        current = previous;
        let order = k - 1;
        if order == 1 {
            j1 = current;
        }
        if order % 2 == 0 {
            norm += if order == 0 { current } else { 2.0 * current };
        }
        if current.abs() > 1e250 {
            // Rescale to stay in range; only ratios matter.
            next *= 1e-250;
            current *= 1e-250;
            norm *= 1e-250;
            j1 *= 1e-250;
        }
    }
    j1 / norm
}

fn asymptotic_j1(x: f64) -> f64 {
    // μ = 4ν² = 4. P = Σ (−1)^k a_{2k}/x^{2k}, Q = Σ (−1)^k a_{2k+1}/x^{2k+1},
    // with a_k = Π_{j=1..k} (μ − (2j−1)²) / (k! 8^k).
    let mu = 4.0;
    let mut p = 1.0;
    let mut q = 0.0;
    let mut term = 1.0f64;
    for k in 1..40 {
        let odd = (2 * k - 1) as f64;
        term *= (mu - odd * odd) / (k as f64 * 8.0 * x);
        if term.abs() < 1e-17 {
            break;
        }
        match k % 4 {
            1 => q += term,
            2 => p -= term,
            3 => q -= term,
            _ => p += term,
        }
    }
    let chi = x - 0.75 * PI;
    (2.0 / (PI * x)).sqrt() * (p * chi.cos() - q * chi.sin())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn j1_matches_reference_values() {
        // scipy.special.j1 (Cephes), to its last digits.
        let reference = [
            (1e-3, 0.0004999999375000026),
            (0.5, 0.24226845767487387),
            (1.0, 0.44005058574493355),
            (5.0, -0.3275791375914653),
            (8.0, 0.2346363468539146),
            (10.0, 0.04347274616886141),
            (12.5, -0.16548380461475956),
            (20.0, 0.0668331241758502),
            (25.3, -0.09002954350877665),
            (50.0, -0.09751182812517509),
            (100.0, -0.0771453520141123),
            (300.0, -0.03188743137749927),
            (1000.0, 0.00472831190708902),
        ];
        for (x, want) in reference {
            let got = bessel_j1(x);
            assert!(
                (got - want).abs() <= 2e-14 * want.abs().max(0.01),
                "J1({x}) = {got}, want {want}"
            );
            assert_eq!(bessel_j1(-x), -got);
        }
    }

    #[test]
    fn methods_agree_where_they_hand_over() {
        for x in [7.5, 8.0, 8.5] {
            assert!((series_j1(x) - miller_j1(x)).abs() < 1e-14, "{x}");
        }
        for x in [24.0, 25.0, 30.0] {
            assert!((miller_j1(x) - asymptotic_j1(x)).abs() < 1e-14, "{x}");
        }
    }

    #[test]
    fn small_argument_forms_match_closed_forms() {
        // Below the cut-offs: the leading terms of the series.
        for x in [1e-6f64, 1e-5, 1e-4] {
            assert!((sph_j1c(x) - (1.0 - x * x / 10.0)).abs() < 1e-15, "{x}");
            assert!((j1c(x) - (1.0 - x * x / 8.0)).abs() < 1e-15, "{x}");
            assert!((sinc(x) - (1.0 - x * x / 6.0)).abs() < 1e-15, "{x}");
        }
        // At the cut-offs both forms agree.
        let x = 0.1f64;
        let closed = 3.0 * (x.sin() - x * x.cos()) / (x * x * x);
        assert!((sph_j1c(x - 1e-15) - closed).abs() < 1e-13);
        assert!((j1c(1e-3 - 1e-15) - 2.0 * bessel_j1(1e-3) / 1e-3).abs() < 1e-15);
        assert_eq!((sph_j1c(0.0), j1c(0.0), sinc(0.0)), (1.0, 1.0, 1.0));
    }
}
