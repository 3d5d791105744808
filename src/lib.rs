pub use sae_arith;
