//! The fused CPU kernels: every elementwise part of a training step and of
//! sparse inference (bias and activation, residual, penalty, column sums,
//! scaled add, sparse layer, ReLU backward, the Adam update) as one pass.
//!
//! Each replaces a chain of candle operations (one pass and one temporary
//! each) by a single pass, in place where the input is a fresh tensor. They
//! compute exactly what the chains compute; on other devices, or for
//! non-contiguous inputs, the chains themselves run.

use std::cell::{Cell, RefCell};

use candle_core::{CpuStorage, CustomOp1, DType, InplaceOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

/// f32 or f64, for kernels that serve both training (f32) and gradient checks (f64).
pub(crate) trait Real:
    Copy + Send + Sync + PartialOrd + Default + std::ops::Add<Output = Self> + std::ops::Sub<Output = Self>
{
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
    fn scale(self, s: f64) -> Self;
}

impl Real for f32 {
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn scale(self, s: f64) -> Self {
        self * s as f32
    }
}

impl Real for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
    fn scale(self, s: f64) -> Self {
        self * s
    }
}

/// The contiguous part of a storage that a layout describes.
pub(crate) fn slice<'a, T>(data: &'a [T], layout: &Layout) -> candle_core::Result<&'a [T]> {
    match layout.contiguous_offsets() {
        Some((a, b)) => Ok(&data[a..b]),
        None => candle_core::bail!("fused kernel needs a contiguous tensor"),
    }
}

/// The contiguous part of a storage that a layout describes, mutably.
pub(crate) fn slice_mut<'a, T>(data: &'a mut [T], layout: &Layout) -> candle_core::Result<&'a mut [T]> {
    match layout.contiguous_offsets() {
        Some((a, b)) => Ok(&mut data[a..b]),
        None => candle_core::bail!("fused kernel needs a contiguous tensor"),
    }
}

/// `v > 0`, false for NaN: ReLU maps NaN to 0 like the masks do.
pub(crate) fn is_positive<T: PartialOrd + Default>(v: T) -> bool {
    v > T::default()
}

fn fusable(tensors: &[&Tensor]) -> bool {
    tensors.iter().all(|t| t.device().is_cpu() && t.is_contiguous())
}

/// Dispatches an in-place kernel on f32 or f64 storages.
macro_rules! dispatch2 {
    ($s1:expr, $l1:expr, $s2:expr, $l2:expr, $f:expr) => {
        match ($s1, $s2) {
            (CpuStorage::F32(a), CpuStorage::F32(b)) => $f(slice_mut(a, $l1)?, slice(b, $l2)?),
            (CpuStorage::F64(a), CpuStorage::F64(b)) => $f(slice_mut(a, $l1)?, slice(b, $l2)?),
            _ => candle_core::bail!("fused kernel: unsupported dtypes"),
        }
    };
}

/// `t ← t + bias` per row, then ReLU if asked; counts the positive outputs.
struct BiasActivation {
    relu: bool,
    positives: Cell<u64>,
}

impl BiasActivation {
    fn run<T: Real>(&self, t: &mut [T], bias: &[T]) -> candle_core::Result<()> {
        let cols = bias.len();
        let relu = self.relu;
        let positives: u64 = t
            .par_chunks_mut(cols)
            .map(|row| {
                let mut count = 0;
                for (v, &b) in row.iter_mut().zip(bias) {
                    let s = *v + b;
                    *v = if relu && !is_positive(s) { T::default() } else { s };
                    count += u64::from(*v > T::default());
                }
                count
            })
            .sum();
        self.positives.set(positives);
        Ok(())
    }
}

impl InplaceOp2 for BiasActivation {
    fn name(&self) -> &'static str {
        "bias-activation"
    }
    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        dispatch2!(s1, l1, s2, l2, |a, b| self.run(a, b))
    }
}

/// `activation(x·W + b)` for a fresh product `xw`, and the number of positive outputs.
pub(crate) fn bias_activation(xw: Tensor, bias: &Tensor, relu: bool) -> candle_core::Result<(Tensor, u64)> {
    if fusable(&[&xw, bias]) {
        let op = BiasActivation {
            relu,
            positives: Cell::new(0),
        };
        xw.inplace_op2(bias, &op)?;
        return Ok((xw, op.positives.get()));
    }
    let pre = xw.broadcast_add(bias)?;
    let out = if relu { pre.relu()? } else { pre };
    let positives = out
        .gt(&out.zeros_like()?)?
        .to_dtype(DType::F64)?
        .sum_all()?
        .to_scalar::<f64>()?;
    Ok((out, positives as u64))
}

/// Sums over a batch of reconstructions.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct ResidualSums {
    /// `Σ_b ‖y_b − x_b‖²`.
    pub squared_error: f64,
    /// `Σ_b ‖y_b − x_b‖ / ‖x_b‖` (a zero-norm sample divides by 1e-30).
    pub relative_error: f64,
}

/// `y ← scale · (y − x)`, with the error sums of the batch.
struct Residual {
    cols: usize,
    scale: f64,
    sums: Cell<ResidualSums>,
}

impl Residual {
    fn run<T: Real>(&self, y: &mut [T], x: &[T]) -> candle_core::Result<()> {
        let scale = self.scale;
        let (sq, rel) = y
            .par_chunks_mut(self.cols)
            .zip(x.par_chunks(self.cols))
            .map(|(y, x)| {
                let (mut err, mut norm) = (0.0f64, 0.0f64);
                for (y, &x) in y.iter_mut().zip(x) {
                    let d = *y - x;
                    let df = d.to_f64();
                    err += df * df;
                    norm += x.to_f64() * x.to_f64();
                    *y = d.scale(scale);
                }
                (err, err.sqrt() / norm.sqrt().max(1e-30))
            })
            .reduce(|| (0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
        self.sums.set(ResidualSums {
            squared_error: sq,
            relative_error: rel,
        });
        Ok(())
    }
}

impl InplaceOp2 for Residual {
    fn name(&self) -> &'static str {
        "residual"
    }
    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        dispatch2!(s1, l1, s2, l2, |a, b| self.run(a, b))
    }
}

/// Turns a fresh reconstruction `y` into `scale · (y − x)` and returns the error sums.
pub(crate) fn residual(y: Tensor, x: &Tensor, scale: f64) -> candle_core::Result<(Tensor, ResidualSums)> {
    if fusable(&[&y, x]) && y.dims() == x.dims() {
        let op = Residual {
            cols: x.dim(1)?,
            scale,
            sums: Cell::new(ResidualSums::default()),
        };
        y.inplace_op2(x, &op)?;
        return Ok((y, op.sums.get()));
    }
    let diff = (y - x)?;
    let err = diff.sqr()?.sum(1)?.to_dtype(DType::F64)?;
    let norm = x.sqr()?.sum(1)?.sqrt()?.to_dtype(DType::F64)?;
    let squared_error = err.sum_all()?.to_scalar::<f64>()?;
    let relative_error = (err.sqrt()? / norm.clamp(1e-30, f64::INFINITY)?)?
        .sum_all()?
        .to_scalar::<f64>()?;
    Ok((
        (diff * scale)?,
        ResidualSums {
            squared_error,
            relative_error,
        },
    ))
}

/// Which shipped selector a fused penalty kernel computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PenaltyKind {
    Identity,
    ForwardDifference,
}

/// `(Σ‖f(z)‖₁, subgradient)` in one pass over `z`.
struct Penalty {
    kind: PenaltyKind,
    cols: usize,
    sum: Cell<f64>,
}

fn sign<T: Real>(v: T) -> T {
    let zero = T::default();
    if v > zero {
        T::from_f64(1.0)
    } else if v < zero {
        T::from_f64(-1.0)
    } else {
        zero
    }
}

impl Penalty {
    fn run<T: Real>(&self, z: &[T]) -> Vec<T> {
        let mut grad = vec![T::default(); z.len()];
        let kind = self.kind;
        let sum: f64 = grad
            .par_chunks_mut(self.cols)
            .zip(z.par_chunks(self.cols))
            .map(|(g, z)| match kind {
                PenaltyKind::Identity => {
                    let mut s = 0.0;
                    for (g, &v) in g.iter_mut().zip(z) {
                        s += v.to_f64().abs();
                        *g = sign(v);
                    }
                    s
                }
                PenaltyKind::ForwardDifference => {
                    let mut s = 0.0;
                    let mut previous = T::default();
                    for i in 0..z.len().saturating_sub(1) {
                        let d = z[i + 1] - z[i];
                        s += d.to_f64().abs();
                        let current = sign(d);
                        g[i] = previous - current;
                        previous = current;
                    }
                    if let Some(last) = g.last_mut() {
                        *last = previous;
                    }
                    s
                }
            })
            .sum();
        self.sum.set(sum);
        grad
    }
}

impl CustomOp1 for Penalty {
    fn name(&self) -> &'static str {
        "l1-penalty"
    }
    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let out = match storage {
            CpuStorage::F32(z) => CpuStorage::F32(self.run(slice(z, layout)?)),
            CpuStorage::F64(z) => CpuStorage::F64(self.run(slice(z, layout)?)),
            _ => candle_core::bail!("l1-penalty: unsupported dtype"),
        };
        Ok((out, layout.shape().clone()))
    }
}

/// `(Σ_b ‖f(z_b)‖₁, subgradient)` for a shipped selector, fused on the CPU.
pub(crate) fn penalty(kind: PenaltyKind, z: &Tensor) -> Option<candle_core::Result<(f64, Tensor)>> {
    if !fusable(&[z]) || z.rank() != 2 {
        return None;
    }
    let cols = match z.dim(1) {
        Ok(c) if c > 0 => c,
        _ => return None,
    };
    let op = Penalty {
        kind,
        cols,
        sum: Cell::new(0.0),
    };
    Some(z.apply_op1_no_bwd(&op).map(|g| (op.sum.get(), g)))
}

/// Sums of the columns of a `(rows, cols)` matrix: the bias gradient.
struct ColumnSums {
    cols: usize,
}

impl ColumnSums {
    fn run<T: Real>(&self, t: &[T]) -> Vec<T> {
        // Row by row into one accumulator: sequential, cache-friendly and
        // vectorised, where a strided reduction over the rows is not.
        let mut sums = vec![T::default(); self.cols];
        for row in t.chunks_exact(self.cols) {
            for (s, &v) in sums.iter_mut().zip(row) {
                *s = *s + v;
            }
        }
        sums
    }
}

impl CustomOp1 for ColumnSums {
    fn name(&self) -> &'static str {
        "column-sums"
    }
    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let out = match storage {
            CpuStorage::F32(t) => CpuStorage::F32(self.run(slice(t, layout)?)),
            CpuStorage::F64(t) => CpuStorage::F64(self.run(slice(t, layout)?)),
            _ => candle_core::bail!("column-sums: unsupported dtype"),
        };
        Ok((out, Shape::from(self.cols)))
    }
}

/// `t.sum(0)` for a matrix, fused on the CPU.
pub(crate) fn column_sums(t: &Tensor) -> candle_core::Result<Tensor> {
    if fusable(&[t]) && t.rank() == 2 && t.dim(1)? > 0 {
        t.apply_op1_no_bwd(&ColumnSums { cols: t.dim(1)? })
    } else {
        t.sum(0)
    }
}

/// `t ← keep · t + add · u`, in place (`keep = 1` skips its multiply).
struct Combine {
    keep: f64,
    add: f64,
}

impl InplaceOp2 for Combine {
    fn name(&self) -> &'static str {
        "combine"
    }
    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let (keep, add) = (self.keep, self.add);
        fn run<T: Real>(t: &mut [T], u: &[T], keep: f64, add: f64) -> candle_core::Result<()> {
            t.par_chunks_mut(1 << 16)
                .zip(u.par_chunks(1 << 16))
                .for_each(|(t, u)| {
                    for (t, &u) in t.iter_mut().zip(u) {
                        let kept = if keep == 1.0 { *t } else { t.scale(keep) };
                        *t = kept + u.scale(add);
                    }
                });
            Ok(())
        }
        dispatch2!(s1, l1, s2, l2, |a, b| run(a, b, keep, add))
    }
}

/// `t + scale · u` for a fresh tensor `t`, in place on the CPU.
pub(crate) fn add_scaled(t: Tensor, u: &Tensor, scale: f64) -> candle_core::Result<Tensor> {
    if fusable(&[&t, u]) && t.dims() == u.dims() {
        t.inplace_op2(
            u,
            &Combine {
                keep: 1.0,
                add: scale,
            },
        )?;
        Ok(t)
    } else {
        t + (u * scale)?
    }
}

/// `t ← decay · t + (1 − decay) · u` (one step of an exponential moving
/// average), in place on the CPU.
pub(crate) fn blend(t: &mut Tensor, u: &Tensor, decay: f64) -> candle_core::Result<()> {
    if fusable(&[t, u]) && t.dims() == u.dims() {
        t.inplace_op2(
            u,
            &Combine {
                keep: decay,
                add: 1.0 - decay,
            },
        )
    } else {
        *t = ((&*t * decay)? + (u * (1.0 - decay))?)?;
        Ok(())
    }
}

/// The first decoder layer on sparse codes: `relu(b + Σ_j v_j · W[j, :])` per
/// sample, reading only the rows of `W` (shape `(l, m)`) that are active.
pub(crate) struct SparseLayer<'a> {
    /// `(indices, values)` per sample; rows past them are padding (bias only).
    pub codes: &'a [(&'a [u32], &'a [f32])],
    /// Rows of the output, at least `codes.len()`.
    pub rows: usize,
}

impl SparseLayer<'_> {
    fn run<T: Real>(&self, w: &[T], bias: &[T]) -> candle_core::Result<Vec<T>> {
        let m = bias.len();
        let l = w.len() / m.max(1);
        if self
            .codes
            .iter()
            .any(|(idx, _)| idx.iter().any(|&i| i as usize >= l))
        {
            candle_core::bail!("sparse layer: index beyond the latent size {l}");
        }
        let mut out = vec![T::default(); self.rows * m];
        out.par_chunks_mut(m).enumerate().for_each(|(b, acc)| {
            acc.copy_from_slice(bias);
            if let Some((indices, values)) = self.codes.get(b) {
                // This sample's own entries, in order: its sum does not
                // depend on the other samples.
                for (&j, &v) in indices.iter().zip(values.iter()) {
                    let row = &w[j as usize * m..(j as usize + 1) * m];
                    let v = f64::from(v);
                    for (a, &wv) in acc.iter_mut().zip(row) {
                        *a = *a + wv.scale(v);
                    }
                }
            }
            for a in acc.iter_mut() {
                if !is_positive(*a) {
                    *a = T::default();
                }
            }
        });
        Ok(out)
    }
}

impl candle_core::CustomOp2 for SparseLayer<'_> {
    fn name(&self) -> &'static str {
        "sparse-layer"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let m = l2.shape().elem_count();
        let out = match (s1, s2) {
            (CpuStorage::F32(w), CpuStorage::F32(b)) => {
                CpuStorage::F32(self.run(slice(w, l1)?, slice(b, l2)?)?)
            }
            (CpuStorage::F64(w), CpuStorage::F64(b)) => {
                CpuStorage::F64(self.run(slice(w, l1)?, slice(b, l2)?)?)
            }
            _ => candle_core::bail!("sparse-layer: unsupported dtypes"),
        };
        Ok((out, Shape::from((self.rows, m))))
    }
}

/// Whether [`SparseLayer`] can run on these tensors.
pub(crate) fn sparse_layer_fusable(w: &Tensor, bias: &Tensor) -> bool {
    fusable(&[w, bias])
}

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
        dispatch2!(s1, l1, s2, l2, |g, a| {
            mask(g, a);
            Ok(())
        })
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

/// The latent's columns a sparse training step works on, and the three
/// layouts it moves them between: gathered columns of a matrix, gathered
/// rows, and gradients scattered back into zeros.
enum Gather {
    /// `(k, rows)`: the `k` listed columns of a `(rows, cols)` matrix, each
    /// as a contiguous row (the transpose of `index_select(units, 1)`).
    ColumnsTransposed { rows: usize, cols: usize },
    /// `(rows, cols)` zeros with the rows of a `(k, cols)` matrix at the listed rows.
    ScatterRows { rows: usize, cols: usize },
    /// `(rows, cols)` zeros with the columns of a `(rows, k)` matrix at the listed columns.
    ScatterColumns { rows: usize, cols: usize },
    /// A `(rows, cols)` matrix transposed into a fresh `(cols, rows)` one.
    Transpose { rows: usize, cols: usize },
}

struct GatherOp<'a> {
    units: &'a [u32],
    kind: Gather,
}

/// Side of the square blocks a transpose moves through a local buffer:
/// 16 f32 are one 64-byte cache line.
const TILE: usize = 16;
/// A TILE × TILE block transposed (fixed sizes, so the compiler unrolls it
/// into register shuffles).
#[inline(always)]
fn flip<T: Copy + Default>(a: &[[T; TILE]; TILE]) -> [[T; TILE]; TILE] {
    let mut out = [[T::default(); TILE]; TILE];
    for (i, row) in a.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            out[j][i] = v;
        }
    }
    out
}

/// Output rows of a transpose one task writes: 4 blocks side by side, so
/// each input row is read 256 contiguous bytes at a time.
const BAND: usize = 64;

impl GatherOp<'_> {
    fn run<T: Real>(&self, t: &[T]) -> (Vec<T>, Shape) {
        let k = self.units.len();
        match self.kind {
            Gather::ColumnsTransposed { rows, cols } => {
                let mut out = vec![T::default(); k * rows];
                out.par_chunks_mut(rows).zip(self.units).for_each(|(row, &j)| {
                    for (r, o) in row.iter_mut().enumerate() {
                        *o = t[r * cols + j as usize];
                    }
                });
                (out, Shape::from((k, rows)))
            }
            Gather::ScatterRows { rows, cols } => {
                let mut out = vec![T::default(); rows * cols];
                for (i, &j) in self.units.iter().enumerate() {
                    let j = j as usize;
                    out[j * cols..(j + 1) * cols].copy_from_slice(&t[i * cols..(i + 1) * cols]);
                }
                (out, Shape::from((rows, cols)))
            }
            Gather::ScatterColumns { rows, cols } => {
                let mut out = vec![T::default(); rows * cols];
                out.par_chunks_mut(cols).enumerate().for_each(|(r, row)| {
                    for (i, &j) in self.units.iter().enumerate() {
                        row[j as usize] = t[r * k + i];
                    }
                });
                (out, Shape::from((rows, cols)))
            }
            Gather::Transpose { rows, cols } => {
                let mut out = vec![T::default(); rows * cols];
                // Bands of BAND output rows (input columns) in parallel; inside
                // a band, TILE × TILE blocks go through a local buffer so that
                // every cache line of the input and the output is read or
                // written once and whole (a direct strided copy thrashes L1:
                // rows 4 or 16 KiB apart share one cache set).
                out.par_chunks_mut(BAND * rows)
                    .enumerate()
                    .for_each(|(band, block)| {
                        let width = block.len() / rows;
                        let mut buf = [[T::default(); TILE]; TILE];
                        for r0 in (0..rows).step_by(TILE) {
                            let h = TILE.min(rows - r0);
                            for c1 in (0..width).step_by(TILE) {
                                let w = TILE.min(width - c1);
                                let c0 = band * BAND + c1;
                                for (i, line) in buf.iter_mut().enumerate().take(h) {
                                    let src = (r0 + i) * cols + c0;
                                    line[..w].copy_from_slice(&t[src..src + w]);
                                }
                                let flipped = flip(&buf);
                                for (j, line) in flipped.iter().enumerate().take(w) {
                                    let dst = (c1 + j) * rows + r0;
                                    block[dst..dst + h].copy_from_slice(&line[..h]);
                                }
                            }
                        }
                    });
                (out, Shape::from((cols, rows)))
            }
        }
    }
}

impl CustomOp1 for GatherOp<'_> {
    fn name(&self) -> &'static str {
        "latent-gather"
    }
    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        Ok(match storage {
            CpuStorage::F32(t) => {
                let (v, s) = self.run(slice(t, layout)?);
                (CpuStorage::F32(v), s)
            }
            CpuStorage::F64(t) => {
                let (v, s) = self.run(slice(t, layout)?);
                (CpuStorage::F64(v), s)
            }
            _ => candle_core::bail!("latent-gather: unsupported dtype"),
        })
    }
}

/// The listed columns of `w` (`(rows, cols)`), as the rows of a fresh
/// `(k, rows)` matrix: `w.index_select(units, 1).t()`, contiguous.
pub(crate) fn gather_columns_transposed(
    w: &Tensor,
    units: &[u32],
    index: &Tensor,
) -> candle_core::Result<Tensor> {
    let (rows, cols) = w.dims2()?;
    if fusable(&[w]) {
        let kind = Gather::ColumnsTransposed { rows, cols };
        w.apply_op1_no_bwd(&GatherOp { units, kind })
    } else {
        w.index_select(index, 1)?.t()?.contiguous()
    }
}

/// A gradient that is `g` at the listed rows (`axis` 0: `g` is `(k, cols)`,
/// the result `(len, cols)`) or columns (`axis` 1: `g` is `(rows, k)`, the
/// result `(rows, len)`), and 0 elsewhere.
pub(crate) fn scatter(
    g: &Tensor,
    units: &[u32],
    index: &Tensor,
    axis: usize,
    len: usize,
) -> candle_core::Result<Tensor> {
    let (r, c) = g.dims2()?;
    let (rows, cols) = if axis == 0 { (len, c) } else { (r, len) };
    if fusable(&[g]) {
        let kind = if axis == 0 {
            Gather::ScatterRows { rows, cols }
        } else {
            Gather::ScatterColumns { rows, cols }
        };
        g.apply_op1_no_bwd(&GatherOp { units, kind })
    } else {
        Tensor::zeros((rows, cols), g.dtype(), g.device())?.index_add(index, g, axis)
    }
}

/// `w` transposed into a fresh contiguous matrix, tiled on the CPU: a
/// product with it runs at the full speed of a plain product, where one
/// with the transposed view (`w.t()`) runs about half as fast.
pub(crate) fn transposed(w: &Tensor) -> candle_core::Result<Tensor> {
    let (rows, cols) = w.dims2()?;
    if fusable(&[w]) {
        let kind = Gather::Transpose { rows, cols };
        w.apply_op1_no_bwd(&GatherOp { units: &[], kind })
    } else {
        w.t()?.contiguous()
    }
}

/// `a · wᵀ` for `a` of shape `(b, p)` and `w` of shape `(q, p)`, by whichever
/// copy is smaller: `w` transposed (`q·p` values moved), or `a` transposed
/// and the product `w · aᵀ` transposed back (`b·p + q·b`). With a weight
/// matrix on the right and a batch on the left the second moves a fraction
/// of the first (at the recipe's shape 0.6 M values instead of 4.2 M), and
/// both products run in the fast plain layout.
pub(crate) fn times_transposed(a: &Tensor, w: &Tensor) -> candle_core::Result<Tensor> {
    let ((b, p), (q, p2)) = (a.dims2()?, w.dims2()?);
    if p != p2 {
        candle_core::bail!("times_transposed: inner dimensions {p} and {p2} differ");
    }
    if !fusable(&[a, w]) {
        return a.matmul(&w.t()?);
    }
    if b * p + q * b < q * p {
        transposed(&w.matmul(&transposed(a)?)?)
    } else {
        a.matmul(&transposed(w)?)
    }
}

/// Every element of `t`, as f64, in row-major order (for tests).
#[cfg(test)]
pub(crate) fn f64_values(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f64>())
        .expect("a numeric tensor")
}

#[cfg(test)]
mod gather_tests {
    use candle_core::{Device, Tensor};

    use super::*;

    #[test]
    fn gathers_scatters_and_transposes_match_candle() {
        // Shapes that are not multiples of the tile, in both dtypes.
        for (rows, cols) in [(37usize, 70usize), (70, 37), (1, 5), (64, 64), (130, 200)] {
            for dtype in [DType::F32, DType::F64] {
                let values: Vec<f64> = (0..rows * cols).map(|i| (i as f64 * 0.37).sin()).collect();
                let w = Tensor::from_vec(values, (rows, cols), &Device::Cpu)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap();
                let same = |a: &Tensor, b: &Tensor| {
                    assert_eq!(a.dims(), b.dims());
                    assert_eq!(f64_values(a), f64_values(b));
                };
                same(&transposed(&w).unwrap(), &w.t().unwrap().contiguous().unwrap());
                let list: Vec<u32> = (0..cols as u32).filter(|j| j % 3 != 1).collect();
                let index = Tensor::from_slice(&list, list.len(), &Device::Cpu).unwrap();
                let picked = w.index_select(&index, 1).unwrap();
                same(
                    &gather_columns_transposed(&w, &list, &index).unwrap(),
                    &picked.t().unwrap().contiguous().unwrap(),
                );
                // Scattered back along either axis: what candle's index_add into zeros gives.
                for axis in [0, 1] {
                    let len = w.dim(axis).unwrap();
                    let list: Vec<u32> = (0..len as u32).filter(|j| j % 3 != axis as u32).collect();
                    let index = Tensor::from_slice(&list, list.len(), &Device::Cpu).unwrap();
                    let picked = w.index_select(&index, axis).unwrap();
                    let expected = w.zeros_like().unwrap().index_add(&index, &picked, axis).unwrap();
                    same(&scatter(&picked, &list, &index, axis, len).unwrap(), &expected);
                }
            }
        }
    }

    #[test]
    fn a_times_w_transposed_either_way_equals_the_plain_product() {
        // (b, p, q): the batch transposed (b·p + q·b < q·p), then w transposed.
        for (b, p, q) in [(3usize, 50usize, 40usize), (40, 50, 3), (17, 33, 65)] {
            let m = |r: usize, c: usize, k: f64| {
                let v: Vec<f64> = (0..r * c).map(|i| (i as f64 * k).sin()).collect();
                Tensor::from_vec(v, (r, c), &Device::Cpu).unwrap()
            };
            let (a, w) = (m(b, p, 0.31), m(q, p, 0.53));
            let expected = f64_values(&a.matmul(&w.t().unwrap()).unwrap());
            let got = f64_values(&times_transposed(&a, &w).unwrap());
            assert_eq!(got.len(), b * q);
            for (g, e) in got.iter().zip(&expected) {
                assert!(
                    (g - e).abs() <= 1e-12 * (1.0 + e.abs()),
                    "{b}x{p}x{q}: {g} vs {e}"
                );
            }
        }
        let (a, w) = (
            Tensor::zeros((2, 3), DType::F32, &Device::Cpu).unwrap(),
            Tensor::zeros((2, 4), DType::F32, &Device::Cpu).unwrap(),
        );
        assert!(times_transposed(&a, &w).is_err());
    }
}
