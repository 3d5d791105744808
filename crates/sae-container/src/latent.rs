//! The sparse latent: sorted nonzero positions and their values.

use crate::error::{ContainerError, Result};

/// A latent vector of length `len` stored by its nonzero entries.
///
/// Invariants: `indices` are strictly increasing and below `len`, and there
/// is one value per index.
///
/// ```
/// use sae_container::SparseLatent;
///
/// let latent = SparseLatent::from_dense(&[0.0, 1.5, 0.0, 0.0, -2.0]);
/// assert_eq!(latent.indices(), [1, 4]);
/// assert_eq!(latent.values(), [1.5, -2.0]);
/// assert_eq!(latent.to_dense(), [0.0, 1.5, 0.0, 0.0, -2.0]);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SparseLatent {
    len: u32,
    indices: Vec<u32>,
    values: Vec<f32>,
}

impl SparseLatent {
    /// A latent from explicit parts, checking the invariants.
    pub fn new(len: u32, indices: Vec<u32>, values: Vec<f32>) -> Result<Self> {
        let invalid = |reason: String| ContainerError::InvalidInput {
            what: "sparse latent",
            reason,
        };
        if indices.len() != values.len() {
            return Err(invalid(format!(
                "{} indices but {} values",
                indices.len(),
                values.len()
            )));
        }
        if let Some(w) = indices.windows(2).find(|w| w[0] >= w[1]) {
            return Err(invalid(format!(
                "indices not strictly increasing: {} then {}",
                w[0], w[1]
            )));
        }
        if let Some(&last) = indices.last()
            && last >= len
        {
            return Err(invalid(format!(
                "index {last} is outside the latent length {len}"
            )));
        }
        Ok(Self { len, indices, values })
    }

    /// The nonzero entries of `dense` (every entry that is not exactly `0.0`; `-0.0` counts as zero).
    pub fn from_dense(dense: &[f32]) -> Self {
        Self::from_dense_with_threshold(dense, 0.0)
    }

    /// The entries of `dense` whose magnitude exceeds `threshold` (NaN entries are kept).
    ///
    /// # Panics
    /// If `dense` is longer than `u32::MAX` entries.
    pub fn from_dense_with_threshold(dense: &[f32], threshold: f32) -> Self {
        let len = u32::try_from(dense.len()).expect("latent longer than u32::MAX");
        let (indices, values) = dense
            .iter()
            .enumerate()
            .filter(|(_, v)| v.abs() > threshold || v.is_nan())
            .map(|(i, &v)| (i as u32, v))
            .unzip();
        Self { len, indices, values }
    }

    /// The dense vector of length [`len`](Self::len), zeros where no entry is stored.
    pub fn to_dense(&self) -> Vec<f32> {
        let mut dense = vec![0.0; self.len as usize];
        self.scatter_into(&mut dense);
        dense
    }

    /// Writes the stored entries into `dense` (which must have length `len`), leaving the rest untouched.
    ///
    /// # Panics
    /// If `dense.len() != self.len()`.
    pub fn scatter_into(&self, dense: &mut [f32]) {
        assert_eq!(
            dense.len(),
            self.len as usize,
            "dense buffer has the wrong length"
        );
        for (&i, &v) in self.indices.iter().zip(&self.values) {
            dense[i as usize] = v;
        }
    }

    /// Length of the dense latent.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether the dense latent has length zero.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of stored (nonzero) entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Sorted positions of the stored entries.
    pub fn indices(&self) -> &[u32] {
        &self.indices
    }

    /// Values of the stored entries, in index order.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// `(index, value)` pairs in index order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (u32, f32)> + '_ {
        self.indices.iter().copied().zip(self.values.iter().copied())
    }

    /// Splits into `(len, indices, values)`.
    pub fn into_parts(self) -> (u32, Vec<u32>, Vec<f32>) {
        (self.len, self.indices, self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invariants_are_checked() {
        assert!(SparseLatent::new(4, vec![0, 3], vec![1.0, 2.0]).is_ok());
        assert!(SparseLatent::new(4, vec![0, 4], vec![1.0, 2.0]).is_err());
        assert!(SparseLatent::new(4, vec![2, 2], vec![1.0, 2.0]).is_err());
        assert!(SparseLatent::new(4, vec![2], vec![1.0, 2.0]).is_err());
        assert!(SparseLatent::new(0, vec![], vec![]).unwrap().is_empty());
    }

    #[test]
    fn threshold_and_nan() {
        let l = SparseLatent::from_dense_with_threshold(&[0.1, -0.5, f32::NAN, 0.0, -0.0], 0.2);
        assert_eq!(l.indices(), [1, 2]);
        assert_eq!(l.nnz(), 2);
    }
}
