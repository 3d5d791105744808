//! The decoder with one result on every machine, for records whose error
//! bound depends on it (`sae_codec`'s guaranteed mode).
//!
//! [`Autoencoder::decode_sparse`] leaves the order of its sums to the matrix
//! kernel, which differs with the CPU's vector width and the build; an error
//! bound checked on one machine could then fail by an ulp on another. The
//! [`ExactDecoder`] fixes the arithmetic instead:
//!
//! * hidden unit `j`: `a = 0; for each (i, v) of the code in order: a = a + v·W₁[i, j]`,
//!   then `h_j = a + b₁[j]` if that is positive, else 0;
//! * output `k`: `a = 0; for j = 0, 1, … with h_j > 0: a = a + h_j·W₂[j, k]`, then `y_k = a + b₂[k]`;
//!
//! every product and every sum an `f32` operation rounded on its own (Rust
//! never fuses a multiply and an add unless asked). Each output's sequence of
//! operations is the same however many lanes compute outputs side by side,
//! however records are batched and however many threads share them, so the
//! vectorised loops here equal [`ExactDecoder::decode_reference`], the plain
//! scalar form of the definition, bit for bit.

use rayon::prelude::*;

use crate::network::{Autoencoder, check_codes};
use crate::{Architecture, Result, SparseCode};

/// Records decoded together, sharing each row of `W₂` while it is in cache.
const BLOCK: usize = 32;

/// The decoder half of an [`Autoencoder`] with a fixed order of operations.
///
/// ```
/// use sae_model::{Architecture, Autoencoder, ExactDecoder, SparseCode};
/// use sae_model::candle_core::Device;
///
/// let model = Autoencoder::new(Architecture::new(16, 8, 32)?, &Device::Cpu, 7)?;
/// let exact = ExactDecoder::new(&model)?;
/// let code = SparseCode { indices: vec![1, 5, 30], values: vec![0.5, 1.25, 2.0] };
/// let fast = exact.decode(std::slice::from_ref(&code))?;
/// assert_eq!(fast, exact.decode_reference(&code)?);
/// // Close to the matrix-kernel decoder, though not always to the bit.
/// let kernel = model.decode_sparse(&[code])?;
/// assert!(fast.iter().zip(&kernel).all(|(a, b)| (a - b).abs() <= 1e-5 * (1.0 + b.abs())));
/// # Ok::<(), sae_model::ModelError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ExactDecoder {
    arch: Architecture,
    /// `W₁`, `(l, m)` row-major.
    hidden_weight: Vec<f32>,
    hidden_bias: Vec<f32>,
    /// `W₂`, `(m, n)` row-major.
    output_weight: Vec<f32>,
    output_bias: Vec<f32>,
}

impl ExactDecoder {
    /// Copies the decoder's weights (as `f32`) out of `model`.
    pub fn new(model: &Autoencoder) -> Result<Self> {
        let layers = model.layers();
        let host = |t: &candle_core::Tensor| -> Result<Vec<f32>> {
            Ok(t.to_dtype(candle_core::DType::F32)?
                .flatten_all()?
                .to_vec1::<f32>()?)
        };
        Ok(Self {
            arch: model.architecture(),
            hidden_weight: host(layers.decoder_hidden.weight())?,
            hidden_bias: host(layers.decoder_hidden.bias())?,
            output_weight: host(layers.decoder_output.weight())?,
            output_bias: host(layers.decoder_output.bias())?,
        })
    }

    /// The sizes.
    pub fn architecture(&self) -> Architecture {
        self.arch
    }

    /// The hidden layer of one code, by the definition.
    fn hidden(&self, code: &SparseCode, h: &mut [f32]) {
        let m = self.arch.hidden;
        h.fill(0.0);
        for (&i, &v) in code.indices.iter().zip(&code.values) {
            let row = &self.hidden_weight[i as usize * m..(i as usize + 1) * m];
            for (a, &w) in h.iter_mut().zip(row) {
                *a += v * w;
            }
        }
        for (a, &b) in h.iter_mut().zip(&self.hidden_bias) {
            let s = *a + b;
            *a = if s > 0.0 { s } else { 0.0 };
        }
    }

    /// Decodes codes into row-major records; threads share the blocks.
    pub fn decode(&self, codes: &[SparseCode]) -> Result<Vec<f32>> {
        check_codes(codes, self.arch.latent)?;
        let (n, m) = (self.arch.input, self.arch.hidden);
        let mut out = vec![0.0f32; codes.len() * n];
        out.par_chunks_mut(BLOCK * n)
            .zip(codes.par_chunks(BLOCK))
            .for_each(|(out, codes)| {
                let mut hidden = vec![0.0f32; codes.len() * m];
                for (h, code) in hidden.chunks_exact_mut(m).zip(codes) {
                    self.hidden(code, h);
                }
                for j in 0..m {
                    let row = &self.output_weight[j * n..(j + 1) * n];
                    for (y, h) in out.chunks_exact_mut(n).zip(hidden.chunks_exact(m)) {
                        let hj = h[j];
                        if hj > 0.0 {
                            for (a, &w) in y.iter_mut().zip(row) {
                                *a += hj * w;
                            }
                        }
                    }
                }
                for y in out.chunks_exact_mut(n) {
                    for (a, &b) in y.iter_mut().zip(&self.output_bias) {
                        *a += b;
                    }
                }
            });
        Ok(out)
    }

    /// The definition as plain scalar loops, one value at a time: what
    /// [`decode`](Self::decode) must equal bit for bit.
    pub fn decode_reference(&self, code: &SparseCode) -> Result<Vec<f32>> {
        check_codes(std::slice::from_ref(code), self.arch.latent)?;
        let (n, m) = (self.arch.input, self.arch.hidden);
        let mut h = vec![0.0f32; m];
        for (j, hj) in h.iter_mut().enumerate() {
            let mut a = 0.0f32;
            for (&i, &v) in code.indices.iter().zip(&code.values) {
                a += v * self.hidden_weight[i as usize * m + j];
            }
            let s = a + self.hidden_bias[j];
            *hj = if s > 0.0 { s } else { 0.0 };
        }
        let mut y = vec![0.0f32; n];
        for (k, yk) in y.iter_mut().enumerate() {
            let mut a = 0.0f32;
            for (j, &hj) in h.iter().enumerate() {
                if hj > 0.0 {
                    a += hj * self.output_weight[j * n + k];
                }
            }
            *yk = a + self.output_bias[k];
        }
        Ok(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn codes(l: usize, count: usize) -> Vec<SparseCode> {
        (0..count)
            .map(|b| {
                let indices: Vec<u32> = (0..l as u32)
                    .filter(|i| (i * 7 + b as u32 * 3).is_multiple_of(5))
                    .collect();
                let values = indices
                    .iter()
                    .map(|&i| 0.1 + (i as f32 * 0.37 + b as f32).sin().abs())
                    .collect();
                SparseCode { indices, values }
            })
            .collect()
    }

    #[test]
    fn blocks_threads_and_vectors_equal_the_scalar_definition() {
        let model = Autoencoder::new(Architecture::new(40, 24, 56).unwrap(), &Device::Cpu, 3).unwrap();
        let exact = ExactDecoder::new(&model).unwrap();
        let codes = codes(56, 2 * BLOCK + 5);
        let all = exact.decode(&codes).unwrap();
        for (b, code) in codes.iter().enumerate() {
            let reference = exact.decode_reference(code).unwrap();
            let got = &all[b * 40..(b + 1) * 40];
            assert!(
                got.iter()
                    .zip(&reference)
                    .all(|(a, r)| a.to_bits() == r.to_bits()),
                "record {b}"
            );
        }
        // One at a time, or on one thread, the same bits.
        let single = exact.decode(&codes[7..8]).unwrap();
        assert_eq!(single, all[7 * 40..8 * 40]);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        assert_eq!(pool.install(|| exact.decode(&codes)).unwrap(), all);
    }

    #[test]
    fn bad_codes_are_refused() {
        let model = Autoencoder::new(Architecture::new(8, 4, 16).unwrap(), &Device::Cpu, 1).unwrap();
        let exact = ExactDecoder::new(&model).unwrap();
        let beyond = SparseCode {
            indices: vec![16],
            values: vec![1.0],
        };
        assert!(exact.decode(&[beyond]).is_err());
        let ragged = SparseCode {
            indices: vec![1, 2],
            values: vec![1.0],
        };
        assert!(exact.decode_reference(&ragged).is_err());
        assert!(exact.decode(&[]).unwrap().is_empty());
    }
}
