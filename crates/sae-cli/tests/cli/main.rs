//! The `sae` binary end to end, on small simulated images, one module per
//! subcommand, and its answers to bad inputs: one `error:` line and a
//! non-zero exit, never a panic.

mod common;

mod compress;
mod decompress;
mod eval;
mod gpu_script;
mod help;
mod inspect;
mod recode;
mod search;
mod simulate;
mod train;
mod tune;
