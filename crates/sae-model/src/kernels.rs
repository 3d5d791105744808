//! Fused CPU kernels for the two memory-bound steps of training.
//!
//! candle builds each elementwise expression from separate passes with a
//! temporary each; for the ReLU mask and the Adam update that traffic costs
//! more than it needs to. On the CPU these run as single in-place passes
//! (split across threads); other devices use the equivalent tensor expression.

use std::cell::RefCell;

use candle_core::{CpuStorage, DType, InplaceOp2, Layout, Tensor};
use rayon::prelude::*;

use crate::fused::{slice, slice_mut};

/// Elements per parallel chunk: large enough to amortise scheduling.
const CHUNK: usize = 1 << 16;

/// `grad ← grad · [activation > 0]`: back-propagation through a ReLU, with
/// derivative 0 at 0 (PyTorch's convention; candle's own ReLU uses 1).
struct ReluMask;

impl InplaceOp2 for ReluMask {
    fn name(&self) -> &'static str {
        "relu-mask"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        match (s1, s2) {
            (CpuStorage::F32(g), CpuStorage::F32(a)) => {
                mask(slice_mut(g, l1)?, slice(a, l2)?);
                Ok(())
            }
            (CpuStorage::F64(g), CpuStorage::F64(a)) => {
                mask(slice_mut(g, l1)?, slice(a, l2)?);
                Ok(())
            }
            _ => candle_core::bail!("relu-mask: unsupported dtypes"),
        }
    }
}

fn mask<T: Copy + PartialOrd + Default + Send + Sync>(grad: &mut [T], activation: &[T]) {
    let zero = T::default();
    grad.par_chunks_mut(CHUNK)
        .zip(activation.par_chunks(CHUNK))
        .for_each(|(g, a)| {
            for (g, &a) in g.iter_mut().zip(a) {
                if !crate::fused::is_positive(a) {
                    *g = zero;
                }
            }
        });
}

/// `grad · [activation > 0]` — in place on `grad` when it is a fresh CPU tensor.
pub(crate) fn relu_backward(grad: Tensor, activation: &Tensor) -> candle_core::Result<Tensor> {
    if grad.device().is_cpu() && grad.is_contiguous() && activation.is_contiguous() {
        grad.inplace_op2(activation, &ReluMask)?;
        Ok(grad)
    } else {
        let keep = activation.gt(&activation.zeros_like()?)?.to_dtype(grad.dtype())?;
        grad * keep
    }
}

/// Hyper-parameters of one Adam step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdamStep {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// `1 − β₁ᵗ` and `1 − β₂ᵗ`.
    pub bias1: f64,
    pub bias2: f64,
}

/// Adam moments of one parameter.
#[derive(Debug)]
pub(crate) enum Moments {
    /// Plain vectors updated together with the parameter in one pass.
    Cpu { m: Vec<f32>, v: Vec<f32> },
    /// Tensors for other devices.
    Device { m: Tensor, v: Tensor },
}

impl Moments {
    pub(crate) fn for_param(param: &Tensor) -> candle_core::Result<Self> {
        if param.device().is_cpu() && param.dtype() == DType::F32 {
            let n = param.elem_count();
            Ok(Self::Cpu {
                m: vec![0.0; n],
                v: vec![0.0; n],
            })
        } else {
            Ok(Self::Device {
                m: param.zeros_like()?,
                v: param.zeros_like()?,
            })
        }
    }
}

struct FusedAdam<'a> {
    step: AdamStep,
    moments: RefCell<(&'a mut [f32], &'a mut [f32])>,
}

impl InplaceOp2 for FusedAdam<'_> {
    fn name(&self) -> &'static str {
        "fused-adam"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let (CpuStorage::F32(p), CpuStorage::F32(g)) = (s1, s2) else {
            candle_core::bail!("fused-adam: parameters and gradients must be f32");
        };
        let (p, g) = (slice_mut(p, l1)?, slice(g, l2)?);
        let mut moments = self.moments.borrow_mut();
        let (m, v) = &mut *moments;
        if p.len() != g.len() || p.len() != m.len() || p.len() != v.len() {
            candle_core::bail!("fused-adam: buffer lengths differ");
        }
        let s = self.step;
        let (b1, b2) = (s.beta1 as f32, s.beta2 as f32);
        let step_size = (s.lr / s.bias1) as f32;
        let inv_sqrt_bias2 = (1.0 / s.bias2.sqrt()) as f32;
        let eps = s.eps as f32;
        let decay = (1.0 - s.lr * s.weight_decay) as f32;
        p.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .zip(m.par_chunks_mut(CHUNK))
            .zip(v.par_chunks_mut(CHUNK))
            .for_each(|(((p, g), m), v)| {
                for i in 0..p.len() {
                    let gi = g[i];
                    m[i] = b1 * m[i] + (1.0 - b1) * gi;
                    v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
                    let denom = v[i].sqrt() * inv_sqrt_bias2 + eps;
                    p[i] = p[i] * decay - step_size * m[i] / denom;
                }
            });
        Ok(())
    }
}

/// One Adam(W) update of `param` with `grad`, in place.
pub(crate) fn adam_update(
    param: &mut Tensor,
    grad: &Tensor,
    moments: &mut Moments,
    step: AdamStep,
) -> candle_core::Result<()> {
    match moments {
        Moments::Cpu { m, v } => {
            let grad = grad.contiguous()?;
            let op = FusedAdam {
                step,
                moments: RefCell::new((m.as_mut_slice(), v.as_mut_slice())),
            };
            param.inplace_op2(&grad, &op)
        }
        Moments::Device { m, v } => {
            *m = ((&*m * step.beta1)? + (grad * (1.0 - step.beta1))?)?;
            *v = ((&*v * step.beta2)? + (grad.sqr()? * (1.0 - step.beta2))?)?;
            let denom = ((v.sqrt()? / step.bias2.sqrt())? + step.eps)?;
            let update = ((&*m / step.bias1)? / denom)?;
            *param = ((&*param * (1.0 - step.lr * step.weight_decay))? - (update * step.lr)?)?;
            Ok(())
        }
    }
}
