//! Using `sae-arith` on its own, with a probability model of your own.
//!
//! A smooth signal is quantised and its first differences (small integers
//! around zero) are coded under a custom two-sided geometric model that
//! implements [`ProbabilityModel`]; the same residuals are then coded with the
//! crate's adaptive model for comparison.
//!
//! Run: `cargo run --release --example embed_arith`

use sae_codec::sae_arith::{
    Adaptive, Interval, ProbabilityModel, RangeDecoder, RangeEncoder, ideal_code_length,
};

/// `P(d) ∝ θ^|d|` for residuals `d ∈ -radius..=radius`, stored as symbol `d + radius`.
///
/// Frequencies are quantised once into a cumulative table whose total is a
/// power of two, so that the coder scales by a shift instead of a division.
struct TwoSidedGeometric {
    radius: i64,
    cdf: Vec<u32>,
}

impl TwoSidedGeometric {
    const PRECISION: u32 = 16;

    fn new(theta: f64, radius: i64) -> Self {
        let weights: Vec<f64> = (-radius..=radius)
            .map(|d| theta.powi(d.unsigned_abs() as i32))
            .collect();
        let sum: f64 = weights.iter().sum();
        let total = 1u32 << Self::PRECISION;
        // One unit for every symbol, the rest in proportion to the weights;
        // the rounding leftover goes to the centre symbol.
        let spare = f64::from(total - weights.len() as u32);
        let mut freqs: Vec<u32> = weights.iter().map(|w| 1 + (w / sum * spare) as u32).collect();
        let assigned: u32 = freqs.iter().sum();
        freqs[radius as usize] += total - assigned;
        let mut cdf = vec![0];
        for f in freqs {
            cdf.push(cdf.last().copied().unwrap_or(0) + f);
        }
        Self { radius, cdf }
    }

    fn symbol(&self, residual: i64) -> usize {
        (residual + self.radius) as usize
    }

    fn residual(&self, symbol: usize) -> i64 {
        symbol as i64 - self.radius
    }
}

impl ProbabilityModel for TwoSidedGeometric {
    fn alphabet_size(&self) -> usize {
        self.cdf.len() - 1
    }

    fn total(&self) -> u32 {
        self.cdf[self.cdf.len() - 1]
    }

    fn interval(&self, symbol: usize) -> Option<Interval> {
        let start = *self.cdf.get(symbol)?;
        let end = *self.cdf.get(symbol + 1)?;
        Some(Interval {
            start,
            width: end - start,
        })
    }

    fn symbol_at(&self, target: u32) -> (usize, Interval) {
        // The last cumulative start that is <= target.
        let symbol = self.cdf.partition_point(|&c| c <= target) - 1;
        let symbol = symbol.min(self.alphabet_size() - 1);
        (
            symbol,
            self.interval(symbol).unwrap_or(Interval { start: 0, width: 0 }),
        )
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A smooth test signal quantised to 12 bits.
    let signal: Vec<i64> = (0..100_000)
        .map(|i| {
            let t = f64::from(i) / 500.0;
            (2000.0 * (t.sin() + 0.3 * (3.7 * t).cos())).round() as i64
        })
        .collect();
    let residuals: Vec<i64> = std::iter::once(signal[0])
        .chain(signal.windows(2).map(|w| w[1] - w[0]))
        .collect();
    let radius = residuals.iter().map(|r| r.abs()).max().unwrap_or(0).max(1);

    // Custom static model.
    let model = TwoSidedGeometric::new(0.8, radius);
    let symbols: Vec<usize> = residuals.iter().map(|&r| model.symbol(r)).collect();
    let mut encoder = RangeEncoder::new();
    encoder.encode_all(symbols.iter().copied(), &model)?;
    let bytes = encoder.finish();
    let mut decoder = RangeDecoder::new(&bytes)?;
    let decoded: Vec<i64> = decoder
        .decode_many(symbols.len(), &model)?
        .into_iter()
        .map(|s| model.residual(s))
        .collect();
    assert_eq!(decoded, residuals);
    let ideal = ideal_code_length(&model, symbols.iter().copied()) / 8.0;

    // The crate's adaptive model learns the same statistics while coding.
    let alphabet = model.alphabet_size();
    let mut adaptive = Adaptive::new(alphabet)?;
    let mut encoder = RangeEncoder::new();
    for &s in &symbols {
        encoder.encode_adaptive(s, &mut adaptive)?;
    }
    let adaptive_bytes = encoder.finish();
    let mut adaptive = Adaptive::new(alphabet)?;
    let mut decoder = RangeDecoder::new(&adaptive_bytes)?;
    for &s in &symbols {
        assert_eq!(decoder.decode_adaptive(&mut adaptive)?, s);
    }

    let raw = 2 * signal.len();
    println!("{} samples of a 12-bit signal, {raw} bytes as i16", signal.len());
    println!(
        "two-sided geometric model: {:>7} bytes ({:.2}x), ideal {:.0} bytes",
        bytes.len(),
        raw as f64 / bytes.len() as f64,
        ideal
    );
    println!(
        "adaptive model:            {:>7} bytes ({:.2}x)",
        adaptive_bytes.len(),
        raw as f64 / adaptive_bytes.len() as f64
    );
    println!("both decoded exactly");
    Ok(())
}
