//! Refusing work that cannot fit in this machine's memory before allocating
//! for it: a size from a flag or a file is checked, never trusted.

use sysinfo::System;

use crate::error::{CodecError, Result};

/// Refuses `bytes` (`None`: a size computation that overflowed) for `what`
/// when they exceed the memory this machine has available now.
///
/// ```
/// use sae_codec::memory::check_fits;
///
/// assert!(check_fits(Some(1 << 20), "a small buffer").is_ok());
/// assert!(check_fits(Some(u64::MAX), "everything").is_err());
/// assert!(check_fits(None, "an overflowing size").is_err());
/// ```
pub fn check_fits(bytes: Option<u64>, what: &str) -> Result<()> {
    let Some(bytes) = bytes else {
        return Err(CodecError::InvalidSetting {
            name: "size",
            reason: format!("{what} needs more bytes than 2^64"),
        });
    };
    let mut system = System::new();
    system.refresh_memory();
    let available = system.available_memory();
    // Where the system does not say, only impossible sizes are refused.
    let limit = if available > 0 { available } else { u64::MAX / 2 };
    if bytes > limit {
        return Err(CodecError::InvalidSetting {
            name: "size",
            reason: format!(
                "{what} needs {} but this machine has {} available",
                human(bytes),
                human(available)
            ),
        });
    }
    Ok(())
}

/// Refuses simulating `count` images on `detector` when they cannot fit in
/// memory, before simulating any: the images in f32, and the oversampled
/// grid of f64 each simulating thread holds.
///
/// ```
/// use sae_codec::memory::check_simulation;
/// use sae_codec::sae_sas::Detector;
///
/// assert!(check_simulation(10, &Detector::default()).is_ok());
/// assert!(check_simulation(usize::MAX, &Detector::default()).is_err());
/// ```
#[cfg(feature = "sas")]
pub fn check_simulation(count: usize, detector: &sae_sas::Detector) -> Result<()> {
    let (npix, oversample) = (detector.npix, detector.oversample);
    let bytes = (|| {
        let images = (count as u64)
            .checked_mul(npix as u64)?
            .checked_mul(npix as u64)?
            .checked_mul(4)?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        let fine = npix.checked_mul(oversample)? as u64;
        let grids = fine.checked_mul(fine)?.checked_mul(8)?.checked_mul(threads)?;
        images.checked_add(grids)
    })();
    check_fits(
        bytes,
        &format!("{count} images of {npix}×{npix} pixels (oversampled {oversample}×)"),
    )
}

/// Bytes in GiB or MiB, for messages.
fn human(bytes: u64) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    if bytes as f64 >= GIB {
        format!("{:.1} GiB", bytes as f64 / GIB)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    }
}
