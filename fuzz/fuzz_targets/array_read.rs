//! The CLI's array readers on arbitrary bytes: `.npy`, IDX and raw f32 must
//! return an array whose shape matches its values, or a typed error; never
//! panic, and never allocate for a declared size the bytes do not hold.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&selector, data)) = input.split_first() else {
        return;
    };
    let check = |array: sae_io::Array| {
        assert_eq!(array.shape.iter().product::<usize>(), array.data.len());
    };
    match selector % 3 {
        0 => {
            if let Ok(array) = sae_io::parse_npy(data) {
                check(array);
            }
        }
        1 => {
            if let Ok(idx) = sae_io::parse_idx(data) {
                let _ = idx;
            }
        }
        _ => {
            // The shape from the first bytes, as a user's --shape could be.
            let Some((dims, rest)) = data.split_first_chunk::<4>() else {
                return;
            };
            let shape: Vec<usize> = dims.iter().map(|&d| usize::from(d)).collect();
            if let Ok(array) = sae_io::parse_raw_f32(rest, &shape) {
                check(array);
            }
        }
    }
});
