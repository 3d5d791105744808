//! The training step's matrix products at the recipe's shape
//! (`(n, m, l) = (4096, 1024, 4096)`, batch 128) through candle and `gemm`,
//! each in the layout the step uses, with GFLOP/s: a product with a
//! transposed view on the right runs about half as fast as a plain one, and
//! candle's own transpose copy is slow; `docs/benchmarks.md` ("Training on
//! the active units") has the figures.
//!
//! Run: `cargo bench --bench matmul_layouts`.

use sae_codec::sae_model::candle_core::{Device, Tensor};
use std::time::Instant;
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn t(name: &str, a: &Tensor, b: &Tensor) {
    let flops = 2.0 * a.dim(0).unwrap() as f64 * a.dim(1).unwrap() as f64 * b.dim(1).unwrap() as f64;
    for _ in 0..3 {
        a.matmul(b).unwrap();
    }
    let s = Instant::now();
    let r = 20;
    for _ in 0..r {
        std::hint::black_box(a.matmul(b).unwrap());
    }
    let dt = s.elapsed().as_secs_f64() / r as f64;
    println!("{name:40} {:7.2} ms {:6.0} GF/s", dt * 1e3, flops / dt / 1e9);
}
fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let d = Device::Cpu;
    let r = |a, b| Tensor::randn(0f32, 1.0, (a, b), &d).unwrap();
    let (bt, n, m) = (128usize, 4096usize, 1024usize);
    t("x(128x4096)·W0(4096x1024)", &r(bt, n), &r(n, m));
    t("h0(128x1024)·W1(1024x4096)", &r(bt, m), &r(m, n));
    t(
        "da2(128x1024)·W2t  (t of 4096x1024)",
        &r(bt, m),
        &r(n, m).t().unwrap(),
    );
    t(
        "inputT(4096x128)·da0(128x1024)",
        &r(bt, n).t().unwrap(),
        &r(bt, m),
    );
    t("h2T(1024x128)·dy(128x4096)", &r(bt, m).t().unwrap(), &r(bt, n));
    t("big 2048^3", &r(2048, 2048), &r(2048, 2048));
    t("x(512x4096)·W0(4096x1024)", &r(512, n), &r(n, m));
    t("zA(128x330)·W2A(330x1024)", &r(bt, 330), &r(330, m));
    let w = r(n, m);
    for _ in 0..3 {
        w.t().unwrap().contiguous().unwrap();
    }
    let s = Instant::now();
    for _ in 0..20 {
        std::hint::black_box(w.t().unwrap().contiguous().unwrap());
    }
    println!(
        "transpose copy 4096x1024: {:.2} ms",
        s.elapsed().as_secs_f64() / 20.0 * 1e3
    );
    t(
        "da2(128x1024)·W2t contiguous",
        &r(bt, m),
        &w.t().unwrap().contiguous().unwrap(),
    );
    t(
        "dy(128x4096)·W3t (t of 1024x4096)",
        &r(bt, n),
        &r(m, n).t().unwrap(),
    );
    t(
        "zA(128x330)·W1At (t of 1024x330)",
        &r(bt, 330),
        &r(m, 330).t().unwrap(),
    );
}
