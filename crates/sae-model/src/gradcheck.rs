//! Finite-difference checks of the hand-written backward pass, in f64.

use candle_core::{DType, Device, Tensor};

use crate::arch::Architecture;
use crate::fused::f64_values;
use crate::network::Autoencoder;
use crate::selector::{ForwardDifference, Identity, SparseSelector};
use crate::view::InputView;

fn objective(model: &Autoencoder, x: &Tensor, lambda: f64, selector: &dyn SparseSelector) -> f64 {
    let (recon, penalty) = model.loss_terms(x, selector).unwrap();
    recon + lambda * penalty
}

/// `tensor` with element `i` (flat) moved by `delta`.
fn nudged(tensor: &Tensor, i: usize, delta: f64) -> Tensor {
    let mut v = tensor.flatten_all().unwrap().to_vec1::<f64>().unwrap();
    v[i] += delta;
    Tensor::from_vec(v, tensor.dims(), tensor.device()).unwrap()
}

fn check(selector: &dyn SparseSelector, lambda: f64, seed: u64) {
    check_with_view(selector, lambda, seed, InputView::Linear);
}

fn check_with_view(selector: &dyn SparseSelector, lambda: f64, seed: u64, view: InputView) {
    let arch = Architecture::new(3, 4, 7).unwrap();
    let mut model = Autoencoder::new_with_dtype(arch, &Device::Cpu, seed, DType::F64).unwrap();
    model.set_input_view(view).unwrap();
    let x = Tensor::from_vec(
        (0..15)
            .map(|i| ((i * 37 % 11) as f64 / 5.0 - 0.8).abs() + 0.1)
            .collect::<Vec<_>>(),
        (5, 3),
        &Device::Cpu,
    )
    .unwrap();
    let grads = model.step(&x, lambda, selector, true).unwrap().1.unwrap();
    let h = 1e-6;
    let mut checked = 0;
    for k in 0..4 {
        let layer = grads.as_array()[k];
        for (is_bias, analytic) in [(false, &layer.weight), (true, &layer.bias)] {
            let analytic = analytic.flatten_all().unwrap().to_vec1::<f64>().unwrap();
            for (i, &g) in analytic.iter().enumerate() {
                let at = |delta: f64| {
                    let mut m = model.deep_copy().unwrap();
                    let layer = m.layers.as_array_mut().into_iter().nth(k).unwrap();
                    let target = if is_bias {
                        &mut layer.bias
                    } else {
                        &mut layer.weight
                    };
                    *target = nudged(target, i, delta);
                    objective(&m, &x, lambda, selector)
                };
                let numeric = (at(h) - at(-h)) / (2.0 * h);
                assert!(
                    (numeric - g).abs() <= 1e-6 * (1.0 + g.abs()),
                    "{} layer {k} {} [{i}]: analytic {g}, numeric {numeric}",
                    selector.name(),
                    if is_bias { "bias" } else { "weight" },
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, arch.parameter_count());
}

#[test]
fn gradients_match_finite_differences_identity() {
    for seed in 0..3 {
        check(&Identity, 0.3, seed);
        check(&Identity, 0.0, seed);
    }
}

#[test]
fn gradients_match_finite_differences_forward_difference() {
    for seed in 0..3 {
        check(&ForwardDifference, 0.3, seed);
    }
}

#[test]
fn gradients_match_finite_differences_with_encoder_views() {
    for seed in 0..2 {
        check_with_view(&Identity, 0.3, seed, InputView::Sqrt);
        check_with_view(&Identity, 0.3, seed, InputView::Log { floor: 1e-2 });
    }
}

#[test]
fn relu_derivative_at_zero_is_zero() {
    // A unit whose pre-activation is exactly 0 gets no gradient (PyTorch's
    // convention), so a dead-at-zero unit stays put.
    let arch = Architecture::new(1, 1, 1).unwrap();
    let mut model = Autoencoder::new_with_dtype(arch, &Device::Cpu, 0, DType::F64).unwrap();
    let dev = Device::Cpu;
    model.layers.encoder_hidden.weight = Tensor::new(&[[1.0f64]], &dev).unwrap();
    model.layers.encoder_hidden.bias = Tensor::new(&[-1.0f64], &dev).unwrap();
    let x = Tensor::new(&[[1.0f64]], &dev).unwrap(); // pre-activation 1 - 1 = 0
    let grads = model.step(&x, 0.0, &Identity, true).unwrap().1.unwrap();
    assert_eq!(grads.encoder_hidden.weight.to_vec2::<f64>().unwrap(), [[0.0]]);
    assert_eq!(grads.encoder_hidden.bias.to_vec1::<f64>().unwrap(), [0.0]);
}

/// A network whose batch uses a third of its latent units: the others get a
/// large negative bias, so they stay off for every sample.
fn sparse_model(dtype: DType, seed: u64) -> (Autoencoder, Tensor) {
    let arch = Architecture::new(24, 16, 96).unwrap();
    let mut model = Autoencoder::new_with_dtype(arch, &Device::Cpu, seed, dtype).unwrap();
    let bias: Vec<f64> = (0..96).map(|j| if j % 3 == 0 { 0.05 } else { -1e3 }).collect();
    model.layers.encoder_latent.bias = Tensor::new(bias.as_slice(), &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap();
    let x: Vec<f64> = (0..9 * 24)
        .map(|i| ((i * 37 % 29) as f64 / 7.0 - 1.5).abs() + 0.1)
        .collect();
    let x = Tensor::from_vec(x, (9, 24), &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap();
    (model, x)
}

#[test]
fn the_step_on_active_units_equals_the_dense_step() {
    use crate::network::StepPath;
    for (dtype, tolerance) in [(DType::F64, 1e-12), (DType::F32, 1e-5)] {
        for selector in [&Identity as &dyn SparseSelector, &ForwardDifference] {
            let (model, x) = sparse_model(dtype, 5);
            let act = model.forward(&x, StepPath::Auto).unwrap();
            let used = act
                .support
                .as_ref()
                .expect("a third of the units: the sparse path")
                .z
                .dim(1)
                .unwrap();
            assert!(used > 0 && used <= 32, "{used} units active");
            let step = |path| model.step_on(&x, 0.2, selector, true, path).unwrap();
            let (sparse_stats, sparse) = step(StepPath::Auto);
            let (dense_stats, dense) = step(StepPath::Dense);
            let close = |a: f64, b: f64| (a - b).abs() <= tolerance * (1.0 + b.abs());
            assert!(close(sparse_stats.recon, dense_stats.recon) && sparse_stats.nnz == dense_stats.nnz);
            let (sparse, dense) = (sparse.unwrap(), dense.unwrap());
            for k in 0..4 {
                let (s, d) = (sparse.as_array()[k], dense.as_array()[k]);
                for (a, b) in [(&s.weight, &d.weight), (&s.bias, &d.bias)] {
                    assert_eq!(a.dims(), b.dims());
                    let (a, b) = (f64_values(a), f64_values(b));
                    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                    for (i, (a, b)) in a.iter().zip(&b).enumerate() {
                        assert!(
                            (a - b).abs() <= tolerance * (1.0 + scale),
                            "{dtype:?} {} layer {k} [{i}]: sparse {a}, dense {b}",
                            selector.name()
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn a_dense_batch_takes_the_dense_path() {
    use crate::network::StepPath;
    let (mut model, x) = sparse_model(DType::F64, 1);
    model.layers.encoder_latent.bias = model.layers.encoder_latent.bias.ones_like().unwrap();
    assert!(model.forward(&x, StepPath::Auto).unwrap().support.is_none());
}
