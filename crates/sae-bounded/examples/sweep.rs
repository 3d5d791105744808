//! Bytes per record of the bounded coder on a file of 64×64 f32 images, per bound.
//!
//! `cargo run --release -p sae-bounded --example sweep -- ../shared/data/sas_sasmodels_public.f32 [count]`

use std::time::Instant;

use sae_bounded::{ErrorBound, decode, describe, encode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: sweep FILE.f32 [count] [bounds…]")?;
    let count: usize = args.next().map_or(Ok(1000), |s| s.parse())?;
    let bounds: Vec<String> = args.collect();
    let bytes = std::fs::read(&path)?;
    let values: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let len = 64 * 64;
    let images: Vec<&[f32]> = values.chunks_exact(len).take(count).collect();
    let default: Vec<String> = [
        "l2:1e-1", "l2:3e-2", "l2:1e-2", "l2:3e-3", "l2:1e-3", "l2:1e-4", "abs:1e-2", "rel:1e-2", "rel:1e-3",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let bounds = if bounds.is_empty() { default } else { bounds };
    println!("bound       mean_bytes  ratio  lorenzo  worst      enc_MB/s dec_MB/s");
    for b in bounds {
        let bound: ErrorBound = b.parse()?;
        let (mut total, mut lorenzo, mut worst) = (0usize, 0usize, 0f64);
        let (mut te, mut td) = (0f64, 0f64);
        let mut back = vec![0f32; len];
        for image in &images {
            let t = Instant::now();
            let coded = encode(image, 64, None, bound)?;
            te += t.elapsed().as_secs_f64();
            let t = Instant::now();
            decode(&coded, 64, None, &mut back)?;
            td += t.elapsed().as_secs_f64();
            worst = worst.max(bound.measure(image, &back));
            total += coded.len();
            lorenzo += usize::from(describe(&coded)?.lorenzo);
        }
        let n = images.len() as f64;
        let mb = n * (len * 4) as f64 / 1e6;
        println!(
            "{b:<11} {:>10.1} {:>6.1} {:>8} {:>9.3e} {:>8.1} {:>8.1}",
            total as f64 / n,
            (len * 4) as f64 * n / total as f64,
            lorenzo,
            worst,
            mb / te,
            mb / td
        );
    }
    Ok(())
}
