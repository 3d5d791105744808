//! Simulator throughput: 64×64 images of analytic shapes without
//! polydispersity or pixel averaging, and with the reference data's settings
//! (35-point Schulz polydispersity, 3×3 averaging, half with S(q) where allowed).
//!
//! Run: `cargo bench --bench sas`. Figures are recorded in `docs/benchmarks.md`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sae_codec::sae_sas::{DatasetConfig, Detector, Scatterer, Shape};

fn bench(c: &mut Criterion) {
    let plain = Detector {
        oversample: 1,
        ..Detector::default()
    };
    let shapes = [
        Shape::Sphere {
            sld: 4.0,
            sld_solvent: 1.0,
            radius: 60.0,
        },
        Shape::Cylinder {
            sld: 4.0,
            sld_solvent: 1.0,
            radius: 40.0,
            length: 300.0,
            theta: 60.0,
            phi: 30.0,
        },
        Shape::Parallelepiped {
            sld: 4.0,
            sld_solvent: 1.0,
            length_a: 30.0,
            length_b: 80.0,
            length_c: 300.0,
            theta: 60.0,
            phi: 30.0,
            psi: 10.0,
        },
    ];
    let mut group = c.benchmark_group("sas/monodisperse_64x64");
    group.throughput(Throughput::Elements(1));
    for shape in shapes {
        let scatterer = Scatterer::new(shape);
        group.bench_function(BenchmarkId::from_parameter(shape.name()), |b| {
            b.iter(|| black_box(plain.image(&scatterer).expect("valid")))
        });
    }
    group.finish();

    // The reference settings, on a seeded mix of all models (parallel over images).
    let config = DatasetConfig::default();
    let params = config.sample(48, 11);
    let scatterers: Vec<Scatterer> = params.iter().map(|p| p.to_scatterer().expect("valid")).collect();
    let reference = Detector::default();
    let mut group = c.benchmark_group("sas/reference_settings_64x64");
    group.throughput(Throughput::Elements(scatterers.len() as u64));
    group.sample_size(10);
    group.bench_function(BenchmarkId::from_parameter("48_mixed_images"), |b| {
        b.iter(|| black_box(reference.images(&scatterers).expect("valid")))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
