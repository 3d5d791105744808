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

/// Bytes in GiB or MiB, for messages.
fn human(bytes: u64) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    if bytes as f64 >= GIB {
        format!("{:.1} GiB", bytes as f64 / GIB)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    }
}
