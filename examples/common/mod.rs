//! Helpers shared by the examples and the studies (`studies/`): settings
//! from the environment, a training progress bar, and pictures.

#![allow(dead_code)] // each program uses the part it needs

pub mod figures;

use indicatif::{ProgressBar, ProgressStyle};
use sae_codec::Progress;

/// The environment variable `name` parsed, or `default` when unset or unparsable.
pub fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An environment variable parsed as a `T`, if it is set and parses (as [`env`] reads it).
pub fn env_opt<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// A progress bar over `epochs` and the callback that moves it with each validation.
pub fn training_bar(epochs: usize) -> (ProgressBar, impl FnMut(&Progress)) {
    let bar = ProgressBar::new(epochs as u64);
    bar.set_style(
        ProgressStyle::with_template("training {bar:30} epoch {pos}/{len} {msg} [{elapsed}<{eta}]")
            .expect("a valid template"),
    );
    let handle = bar.clone();
    let callback = move |p: &Progress| {
        if let Some(v) = p.validation {
            handle.set_position(p.epoch as u64 + 1);
            handle.set_message(format!("val rel L2 {:.3e}, {:.1} nonzeros", v.rel_error, v.nnz));
        }
    };
    (bar, callback)
}
