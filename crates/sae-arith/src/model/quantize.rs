//! Deterministic quantisation of real weights to integer frequencies.
//!
//! Compressed files are decoded years later on other machines, and the model is
//! rebuilt from a few parameters. Every step here uses only IEEE-754 basic
//! operations in a fixed order (no libm, no parallel sums), so the same weights
//! give the same frequencies everywhere.

use crate::ModelError;

/// Which symbols must keep a nonzero frequency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Support {
    /// Every symbol, even one of weight zero (so any symbol stays codable).
    All,
    /// Only symbols of positive weight; zero-weight symbols get frequency zero.
    PositiveWeights,
}

/// Turns `weights` into frequencies that sum to exactly `total`.
///
/// Each supported symbol first receives one unit; the rest is shared in
/// proportion to the weights, floors first, and the units left by rounding go
/// to the largest remainders (ties to the lower symbol).
pub(crate) fn quantize_weights(
    weights: &[f64],
    total: u32,
    support: Support,
) -> Result<Vec<u32>, ModelError> {
    if weights.is_empty() {
        return Err(ModelError::EmptyAlphabet);
    }
    if let Some((index, &value)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        return Err(ModelError::InvalidWeight { index, value });
    }
    let supported = |w: f64| support == Support::All || w > 0.0;
    let n_supported = weights.iter().filter(|&&w| supported(w)).count();
    if n_supported == 0 {
        return Err(ModelError::ZeroTotal);
    }
    if n_supported > total as usize {
        return Err(ModelError::AlphabetTooLarge {
            size: n_supported,
            max: total as usize,
        });
    }
    let sum: f64 = weights.iter().sum();
    let spare = f64::from(total - n_supported as u32);

    let mut freqs = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    let mut assigned: u64 = 0;
    for &w in weights {
        // A zero sum only happens with `Support::All`: then all share equally.
        let share = if sum > 0.0 { w / sum * spare } else { 0.0 };
        let floor = share.floor();
        let base = u32::from(supported(w)) + floor as u32;
        assigned += u64::from(base);
        freqs.push(base);
        remainders.push(share - floor);
    }

    let mut left = i64::from(total) - assigned as i64;
    if sum == 0.0 {
        // Equal shares: spread the rest one unit at a time over all symbols.
        let n = freqs.len() as i64;
        let each = (left / n) as u32;
        for f in &mut freqs {
            *f += each;
        }
        left -= i64::from(each) * n;
    }
    if left > 0 {
        let mut order: Vec<usize> = (0..weights.len()).filter(|&i| supported(weights[i])).collect();
        let by_remainder =
            |a: &usize, b: &usize| remainders[*b].total_cmp(&remainders[*a]).then_with(|| a.cmp(b));
        let k = (left as usize).min(order.len());
        if k < order.len() {
            order.select_nth_unstable_by(k, by_remainder);
        }
        for &i in &order[..k] {
            freqs[i] += 1;
        }
        left -= k as i64;
        // Only reachable when every remainder got its unit and rounding still left
        // some over; give it to the most frequent symbol.
        if left > 0 {
            let top = argmax(&freqs);
            freqs[top] += left as u32;
        }
    }
    while left < 0 {
        // Floating-point rounding overshot by a few units: take them from the
        // most frequent symbol, which loses the least.
        let top = argmax(&freqs);
        let take = (-left).min(i64::from(freqs[top]) - 1) as u32;
        freqs[top] -= take;
        left += i64::from(take);
        if take == 0 {
            break;
        }
    }
    debug_assert_eq!(freqs.iter().map(|&f| u64::from(f)).sum::<u64>(), u64::from(total));
    Ok(freqs)
}

/// Index of the largest value, the lowest index on ties.
fn argmax(values: &[u32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// `ceil(log2(x))` for `x >= 1`.
pub(crate) fn ceil_log2(x: u64) -> u32 {
    if x <= 1 { 0 } else { 64 - (x - 1).leading_zeros() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_to_total_and_keeps_support() {
        let w = [0.0, 1.0, 1e-12, 5.0, 0.0];
        let f = quantize_weights(&w, 1 << 10, Support::PositiveWeights).unwrap();
        assert_eq!(f.iter().sum::<u32>(), 1 << 10);
        assert_eq!(f[0], 0);
        assert_eq!(f[4], 0);
        assert!(f[2] >= 1);
        assert!(f[3] > f[1]);
        let g = quantize_weights(&w, 1 << 10, Support::All).unwrap();
        assert!(g.iter().all(|&x| x >= 1));
        assert_eq!(g.iter().sum::<u32>(), 1 << 10);
    }

    #[test]
    fn all_zero_weights() {
        assert_eq!(
            quantize_weights(&[0.0; 3], 16, Support::PositiveWeights),
            Err(ModelError::ZeroTotal)
        );
        let f = quantize_weights(&[0.0; 3], 16, Support::All).unwrap();
        assert_eq!(f.iter().sum::<u32>(), 16);
        assert!(f.iter().max().unwrap() - f.iter().min().unwrap() <= 1);
    }

    #[test]
    fn rejects_bad_weights() {
        assert!(matches!(
            quantize_weights(&[1.0, f64::NAN], 16, Support::All),
            Err(ModelError::InvalidWeight { index: 1, .. })
        ));
        assert!(matches!(
            quantize_weights(&[1.0, -1.0], 16, Support::All),
            Err(ModelError::InvalidWeight { index: 1, .. })
        ));
        assert!(matches!(
            quantize_weights(&[1.0; 17], 16, Support::All),
            Err(ModelError::AlphabetTooLarge { size: 17, max: 16 })
        ));
    }

    #[test]
    fn ceil_log2_values() {
        assert_eq!(ceil_log2(1), 0);
        assert_eq!(ceil_log2(2), 1);
        assert_eq!(ceil_log2(3), 2);
        assert_eq!(ceil_log2(4097), 13);
    }
}
