//! Physical checks that do not need reference data: limits, symmetries, options.

use sae_sas::{Detector, Distribution, HardSphere, Polydispersity, Scatterer, Shape, View, poisson_noise};

fn small() -> Detector {
    Detector {
        npix: 24,
        qmax: 0.2,
        oversample: 1,
        beam_stop: None,
    }
}

#[test]
fn sphere_forward_scattering_is_contrast_squared_times_volume() {
    let (sld, solvent, r) = (4.0, 1.0, 30.0);
    let s = Scatterer::new(Shape::Sphere {
        sld,
        sld_solvent: solvent,
        radius: r,
    });
    let p = s.prepare().unwrap();
    let v = 4.0 / 3.0 * std::f64::consts::PI * r * r * r;
    let expected = 1e-4 * (sld - solvent) * (sld - solvent) * v + 0.001;
    assert!((p.intensity(1e-7, 0.0) / expected - 1.0).abs() < 1e-9);
}

#[test]
fn cylinder_along_the_beam_scatters_isotropically() {
    let s = Scatterer::new(Shape::Cylinder {
        sld: 3.0,
        sld_solvent: 1.0,
        radius: 40.0,
        length: 200.0,
        theta: 0.0,
        phi: 37.0,
    });
    let p = s.prepare().unwrap();
    for q in [0.01, 0.05, 0.13] {
        let a = p.intensity(q, 0.0);
        for angle in [0.3f64, 1.1, 2.5] {
            let b = p.intensity(q * angle.cos(), q * angle.sin());
            assert!((a / b - 1.0).abs() < 1e-9, "q {q} angle {angle}: {a} vs {b}");
        }
    }
}

#[test]
fn images_are_centrosymmetric_and_isotropic_shapes_are_fourfold() {
    let d = small();
    let cylinder = Scatterer::new(Shape::Cylinder {
        sld: 3.0,
        sld_solvent: 1.0,
        radius: 20.0,
        length: 300.0,
        theta: 70.0,
        phi: 20.0,
    });
    let img = d.image(&cylinder).unwrap();
    let n = d.npix;
    for iy in 0..n {
        for ix in 0..n {
            assert_eq!(img[iy * n + ix], img[(n - 1 - iy) * n + (n - 1 - ix)]);
        }
    }
    // Not isotropic: a horizontal and a vertical line differ.
    assert_ne!(img[n / 2 * n + 2], img[2 * n + n / 2]);
    let sphere = Scatterer::new(Shape::Sphere {
        sld: 3.0,
        sld_solvent: 1.0,
        radius: 20.0,
    });
    let img = d.image(&sphere).unwrap();
    for iy in 0..n {
        for ix in 0..n {
            assert_eq!(img[iy * n + ix], img[ix * n + iy]);
            assert_eq!(img[iy * n + ix], img[iy * n + (n - 1 - ix)]);
        }
    }
}

#[test]
fn each_view_is_the_image_of_the_particle_turned_or_mirrored() {
    let d = Detector {
        oversample: 3,
        ..small()
    };
    let cylinder = |phi: f64| {
        let s = Scatterer::new(Shape::Cylinder {
            sld: 3.0,
            sld_solvent: 1.0,
            radius: 20.0,
            length: 300.0,
            theta: 70.0,
            phi,
        });
        d.image(&s).unwrap()
    };
    let image = cylinder(20.0);
    let close = |a: &[f32], b: &[f32], what: &str| {
        let top = b.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 1e-5 * top, "{what}, pixel {i}: {x} vs {y}");
        }
    };
    // Turned by 90° about the beam, mirrored in qx, mirrored about the diagonal.
    close(
        &View::QuarterTurn.apply(d.npix, &image),
        &cylinder(110.0),
        "quarter turn",
    );
    close(&View::Mirror.apply(d.npix, &image), &cylinder(160.0), "mirror");
    close(
        &View::Transpose.apply(d.npix, &image),
        &cylinder(70.0),
        "transpose",
    );
    assert_eq!(View::Identity.apply(d.npix, &image), image);
    // The four views differ from one another for an oriented particle.
    let views: Vec<Vec<f32>> = View::ALL.iter().map(|v| v.apply(d.npix, &image)).collect();
    for a in 0..4 {
        for b in a + 1..4 {
            assert_ne!(views[a], views[b], "views {a} and {b}");
        }
    }
}

#[test]
fn narrow_polydispersity_tends_to_the_monodisperse_image() {
    let shape = Shape::CoreShellSphere {
        sld_core: 1.0,
        sld_shell: 4.0,
        sld_solvent: 2.0,
        radius: 40.0,
        thickness: 10.0,
    };
    let mono = small().image(&Scatterer::new(shape)).unwrap();
    for distribution in [Distribution::Schulz, Distribution::Gaussian] {
        let mut s = Scatterer::new(shape);
        s.polydispersity.push(Polydispersity {
            parameter: "radius".into(),
            width: 1e-5,
            npts: 35,
            nsigma: 3.0,
            distribution,
        });
        let poly = small().image(&s).unwrap();
        for (a, b) in mono.iter().zip(&poly) {
            assert!((a / b - 1.0).abs() < 1e-3, "{distribution:?}: {a} vs {b}");
        }
        // A wide distribution smears the minima.
        s.polydispersity[0].width = 0.3;
        let wide = small().image(&s).unwrap();
        let contrast = |img: &[f32]| {
            img.iter().cloned().fold(0.0f32, f32::max) / img.iter().cloned().fold(f32::INFINITY, f32::min)
        };
        assert!(contrast(&wide) < contrast(&mono));
    }
}

#[test]
fn structure_factor_at_zero_volume_fraction_changes_nothing() {
    let shape = Shape::Sphere {
        sld: 2.0,
        sld_solvent: 5.0,
        radius: 50.0,
    };
    let plain = Scatterer::new(shape);
    let mut with_s = plain.clone();
    with_s.structure_factor = Some(HardSphere {
        volfraction: 1e-12,
        radius_effective_mode: 1,
        radius_effective: 0.0,
    });
    let a = plain.prepare().unwrap();
    let b = with_s.prepare().unwrap();
    // I = φ·P·S + bg with S → 1 as φ → 0: (I_b − bg)/φ = I_a − bg.
    for q in [0.01, 0.07] {
        let ia = a.intensity(q, 0.0) - 0.001;
        let ib = (b.intensity(q, 0.0) - 0.001) / 1e-12;
        assert!((ia / ib - 1.0).abs() < 1e-6, "{ia} vs {ib}");
    }
}

#[test]
fn beam_stop_and_noise() {
    let mut d = small();
    d.beam_stop = Some(0.03);
    let s = Scatterer::new(Shape::Sphere {
        sld: 2.0,
        sld_solvent: 5.0,
        radius: 50.0,
    });
    let img = d.image(&s).unwrap();
    let n = d.npix;
    assert_eq!(img[n / 2 * n + n / 2], 0.0);
    assert!(img[0] > 0.0);

    let mut a = img.clone();
    let mut b = img.clone();
    poisson_noise(&mut a, 1e6, 5).unwrap();
    poisson_noise(&mut b, 1e6, 5).unwrap();
    assert_eq!(a, b, "same seed, same noise");
    assert_ne!(a, img);
    let (sa, si): (f64, f64) = (
        a.iter().map(|&v| f64::from(v)).sum(),
        img.iter().map(|&v| f64::from(v)).sum(),
    );
    assert!(
        (sa / si - 1.0).abs() < 0.01,
        "total intensity preserved on average"
    );
    assert!(poisson_noise(&mut a, -1.0, 0).is_err());
}

#[test]
fn bad_parameters_are_typed_errors() {
    let mut s = Scatterer::new(Shape::Sphere {
        sld: 2.0,
        sld_solvent: 5.0,
        radius: 50.0,
    });
    s.polydispersity.push(Polydispersity {
        parameter: "length".into(),
        width: 0.1,
        npts: 35,
        nsigma: 3.0,
        distribution: Distribution::Schulz,
    });
    assert!(s.prepare().is_err());
    let d = Detector { npix: 0, ..small() };
    assert!(
        d.image(&Scatterer::new(Shape::Sphere {
            sld: 1.0,
            sld_solvent: 0.0,
            radius: 1.0
        }))
        .is_err()
    );
}
