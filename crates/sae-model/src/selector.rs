//! Sparse-structure selectors: the operator `f` in the penalty `λ‖f(z)‖₁`.

use candle_core::{DType, Tensor, Var};

/// The operator `f` whose output the training penalty `λ‖f(z)‖₁` makes sparse.
///
/// `z` is a batch of latents of shape `(batch, l)`. Two selectors ship:
/// [`Identity`] (`f(z) = z`: few active units) and [`ForwardDifference`]
/// (`(f z)ᵢ = zᵢ₊₁ − zᵢ`: piecewise-constant latents, i.e. few *changes*).
///
/// # Your own selector
///
/// Implement [`apply`](Self::apply) with candle operations. The provided
/// [`l1_subgradient`](Self::l1_subgradient) differentiates `‖f(z)‖₁` through
/// candle's autograd, using the subgradient `sign(0) = 0` (PyTorch's choice);
/// override it when you know a closed form, as the shipped selectors do.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use sae_model::SparseSelector;
///
/// /// Differences across a 2D grid of latents (rows of `width` units).
/// #[derive(Debug)]
/// struct RowDifference { width: usize }
///
/// impl SparseSelector for RowDifference {
///     fn name(&self) -> String { format!("row_diff_{}", self.width) }
///     fn apply(&self, z: &Tensor) -> candle_core::Result<Tensor> {
///         let l = z.dim(1)?;
///         z.narrow(1, self.width, l - self.width)? - z.narrow(1, 0, l - self.width)?
///     }
/// }
///
/// let z = Tensor::new(&[[1f32, 2., 3., 3.]], &Device::Cpu)?;
/// let sel = RowDifference { width: 2 };
/// assert_eq!(sel.apply(&z)?.to_vec2::<f32>()?, [[2., 1.]]);
/// // d/dz of |z2 - z0| + |z3 - z1| = [-1, -1, 1, 1]
/// assert_eq!(sel.l1_subgradient(&z)?.to_vec2::<f32>()?, [[-1., -1., 1., 1.]]);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub trait SparseSelector: std::fmt::Debug + Send + Sync {
    /// A short, stable name, stored in weight files (`"z"`, `"grad_z"`, …).
    fn name(&self) -> String;

    /// `f(z)` for a batch `z` of shape `(batch, l)`.
    fn apply(&self, z: &Tensor) -> candle_core::Result<Tensor>;

    /// A subgradient of `Σ_b ‖f(z_b)‖₁` with respect to `z`, shape `(batch, l)`,
    /// taking `sign(0) = 0`.
    fn l1_subgradient(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        let var = Var::from_tensor(&z.detach())?;
        let fz = self.apply(var.as_tensor())?;
        // |u| as relu(u) + relu(-u): candle's ReLU has derivative 1 at 0, so
        // the two terms cancel there and the subgradient at 0 is 0.
        let abs = (fz.relu()? + fz.neg()?.relu()?)?;
        let grads = abs.sum_all()?.backward()?;
        match grads.get(var.as_tensor()) {
            Some(g) => Ok(g.clone()),
            None => z.zeros_like(),
        }
    }

    /// `Σ_b ‖f(z_b)‖₁` as a scalar tensor.
    fn l1_norm(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        self.apply(z)?.abs()?.sum_all()
    }

    /// `(Σ_b ‖f(z_b)‖₁, subgradient)` together; the training step calls this.
    /// Override it when both come cheaper from one pass.
    fn penalty_and_subgradient(&self, z: &Tensor) -> candle_core::Result<(f64, Tensor)> {
        let norm = self.l1_norm(z)?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        Ok((norm, self.l1_subgradient(z)?))
    }
}

/// `f(z) = z`: the penalty counts active units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Identity;

impl Identity {
    /// Its stored name.
    pub const NAME: &'static str = "z";
    /// Its title in a container's model name (`sae (1/4, 1) with n = 4096
    /// Identity`): fixed since release 1.0, so that containers keep their bytes.
    pub const TITLE: &'static str = "Identity";
}

impl SparseSelector for Identity {
    fn name(&self) -> String {
        Self::NAME.into()
    }

    fn apply(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        Ok(z.clone())
    }

    fn l1_subgradient(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        sign(z)
    }

    fn penalty_and_subgradient(&self, z: &Tensor) -> candle_core::Result<(f64, Tensor)> {
        match crate::fused::penalty(crate::fused::PenaltyKind::Identity, z) {
            Some(fused) => fused,
            None => Ok((
                self.l1_norm(z)?.to_dtype(DType::F64)?.to_scalar::<f64>()?,
                self.l1_subgradient(z)?,
            )),
        }
    }
}

/// `(f z)ᵢ = zᵢ₊₁ − zᵢ` for `i < l − 1`: the penalty counts changes between neighbours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForwardDifference;

impl ForwardDifference {
    /// Its stored name.
    pub const NAME: &'static str = "grad_z";
    /// The short spelling the command line also accepts.
    pub const ALIAS: &'static str = "grad";
    /// Its title in a container's model name: fixed since release 1.0.
    pub const TITLE: &'static str = "ForwardDifference";
}

impl SparseSelector for ForwardDifference {
    fn name(&self) -> String {
        Self::NAME.into()
    }

    fn apply(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        let l = z.dim(1)?;
        if l < 2 {
            return z.narrow(1, 0, 0);
        }
        z.narrow(1, 1, l - 1)? - z.narrow(1, 0, l - 1)?
    }

    fn l1_subgradient(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        let l = z.dim(1)?;
        if l < 2 {
            return z.zeros_like();
        }
        // With s = sign(f z): ∂/∂zᵢ Σ|zⱼ₊₁ − zⱼ| = sᵢ₋₁ − sᵢ (s₋₁ = s_{l−1} = 0).
        let s = sign(&self.apply(z)?)?;
        s.pad_with_zeros(1, 1, 0)? - s.pad_with_zeros(1, 0, 1)?
    }

    fn penalty_and_subgradient(&self, z: &Tensor) -> candle_core::Result<(f64, Tensor)> {
        match crate::fused::penalty(crate::fused::PenaltyKind::ForwardDifference, z) {
            Some(fused) => fused,
            None => Ok((
                self.l1_norm(z)?.to_dtype(DType::F64)?.to_scalar::<f64>()?,
                self.l1_subgradient(z)?,
            )),
        }
    }
}

/// `sign(x)` with `sign(0) = 0`, as f32/f64 like `x`.
pub(crate) fn sign(x: &Tensor) -> candle_core::Result<Tensor> {
    let dtype = x.dtype();
    let zero = x.zeros_like()?;
    let positive = x.gt(&zero)?.to_dtype(dtype)?;
    let negative = x.lt(&zero)?.to_dtype(dtype)?;
    positive - negative
}

/// A selector by its stored name, for the shipped ones.
pub fn selector_from_name(name: &str) -> Option<Box<dyn SparseSelector>> {
    name.parse::<Selector>().ok().map(Selector::boxed)
}

/// The shipped selectors by name: what a configuration or a command line chooses.
///
/// [`Display`](std::fmt::Display) writes the name stored in weight files
/// (`z`, `grad_z`); [`FromStr`](std::str::FromStr) also takes `grad` for `∇z`.
///
/// ```
/// use sae_model::Selector;
///
/// assert_eq!("grad".parse::<Selector>()?, Selector::ForwardDifference);
/// assert_eq!(Selector::ForwardDifference.to_string(), "grad_z");
/// assert_eq!(Selector::Identity.boxed().name(), "z");
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Selector {
    /// `f(z) = z` ([`Identity`]).
    #[default]
    Identity,
    /// `(f z)ᵢ = zᵢ₊₁ − zᵢ` ([`ForwardDifference`]).
    ForwardDifference,
}

impl Selector {
    /// Its title in a container's model name (`Identity`, `ForwardDifference`):
    /// a stable text, not the enum's `Debug` form, fixed since release 1.0.
    ///
    /// ```
    /// use sae_model::Selector;
    ///
    /// assert_eq!(Selector::ForwardDifference.title(), "ForwardDifference");
    /// ```
    pub fn title(self) -> &'static str {
        match self {
            Self::Identity => Identity::TITLE,
            Self::ForwardDifference => ForwardDifference::TITLE,
        }
    }

    /// The selector as a trait object, for [`Trainer::new`](crate::Trainer::new).
    pub fn boxed(self) -> Box<dyn SparseSelector> {
        match self {
            Self::Identity => Box::new(Identity),
            Self::ForwardDifference => Box::new(ForwardDifference),
        }
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Identity => Identity::NAME,
            Self::ForwardDifference => ForwardDifference::NAME,
        })
    }
}

impl std::str::FromStr for Selector {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            Identity::NAME => Ok(Self::Identity),
            ForwardDifference::NAME | ForwardDifference::ALIAS => Ok(Self::ForwardDifference),
            other => Err(format!(
                "unknown selector `{other}` ({}, {})",
                Identity::NAME,
                ForwardDifference::ALIAS
            )),
        }
    }
}

/// Whether the dtype is one the model computes in.
pub(crate) fn is_float(dtype: DType) -> bool {
    matches!(dtype, DType::F32 | DType::F64)
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    #[test]
    fn shipped_selectors_match_autograd_subgradient() {
        #[derive(Debug)]
        struct ViaAutograd<S>(S);
        impl<S: SparseSelector> SparseSelector for ViaAutograd<S> {
            fn name(&self) -> String {
                self.0.name()
            }
            fn apply(&self, z: &Tensor) -> candle_core::Result<Tensor> {
                self.0.apply(z)
            }
        }
        // Ties (equal neighbours, zeros) exercise the sign(0) = 0 convention.
        let z = Tensor::new(
            &[[0f32, 0., 1., 1., 3., 0.5], [2., 0., 0., 4., 4., 4.]],
            &Device::Cpu,
        )
        .unwrap();
        for (closed, auto) in [
            (
                Box::new(Identity) as Box<dyn SparseSelector>,
                Box::new(ViaAutograd(Identity)) as Box<dyn SparseSelector>,
            ),
            (
                Box::new(ForwardDifference),
                Box::new(ViaAutograd(ForwardDifference)),
            ),
        ] {
            let a = closed.l1_subgradient(&z).unwrap().to_vec2::<f32>().unwrap();
            let b = auto.l1_subgradient(&z).unwrap().to_vec2::<f32>().unwrap();
            assert_eq!(a, b, "{}", closed.name());
        }
        let g = ForwardDifference
            .l1_subgradient(&z)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        assert_eq!(g[0], [0., -1., 1., -1., 2., -1.]);
    }

    #[test]
    fn fused_penalty_matches_the_composite() {
        let z = Tensor::new(
            &[[0f32, 0., 1., 1., 3., 0.5], [2., -1., 0., 4., 4., 4.]],
            &Device::Cpu,
        )
        .unwrap();
        for sel in [
            Box::new(Identity) as Box<dyn SparseSelector>,
            Box::new(ForwardDifference),
        ] {
            let (sum, grad) = sel.penalty_and_subgradient(&z).unwrap();
            let want_sum = sel.l1_norm(&z).unwrap().to_scalar::<f32>().unwrap();
            assert!((sum - f64::from(want_sum)).abs() < 1e-6, "{}", sel.name());
            assert_eq!(
                grad.to_vec2::<f32>().unwrap(),
                sel.l1_subgradient(&z).unwrap().to_vec2::<f32>().unwrap(),
                "{}",
                sel.name()
            );
        }
    }

    #[test]
    fn names_round_trip() {
        for s in [
            Box::new(Identity) as Box<dyn SparseSelector>,
            Box::new(ForwardDifference),
        ] {
            assert_eq!(selector_from_name(&s.name()).unwrap().name(), s.name());
        }
        assert!(selector_from_name("nope").is_none());
    }
}
