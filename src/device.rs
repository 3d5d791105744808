//! Where the network runs: the CPU, or a CUDA GPU when built with `--features cuda`.

use std::fmt;
use std::str::FromStr;

use sae_model::candle_core::{self, Device};

use crate::error::{CodecError, Result};

/// The compute device a codec trains and runs its network on.
///
/// Containers do not depend on it: a file compressed on a GPU decompresses on
/// a CPU (the latents are the same up to floating-point rounding of the encoder).
///
/// ```
/// use sae_codec::ComputeDevice;
///
/// assert_eq!("cpu".parse::<ComputeDevice>()?, ComputeDevice::Cpu);
/// assert_eq!("cuda:1".parse::<ComputeDevice>()?, ComputeDevice::Cuda(1));
/// assert_eq!(ComputeDevice::Cuda(0).to_string(), "cuda:0");
/// // Without `--features cuda`, asking for a GPU is a typed error, not a panic.
/// if !cfg!(feature = "cuda") {
///     assert!(ComputeDevice::Cuda(0).open().is_err());
/// }
/// # Ok::<(), sae_codec::CodecError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ComputeDevice {
    /// The CPU, all cores (the default).
    #[default]
    Cpu,
    /// The CUDA GPU with this ordinal; needs the `cuda` feature.
    Cuda(usize),
}

impl ComputeDevice {
    /// The first GPU if this build supports CUDA and one is present, else the CPU.
    pub fn best_available() -> Self {
        if candle_core::utils::cuda_is_available() && Device::new_cuda(0).is_ok() {
            Self::Cuda(0)
        } else {
            Self::Cpu
        }
    }

    /// Opens the device for candle.
    pub fn open(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::Cpu),
            Self::Cuda(ordinal) => Device::new_cuda(ordinal).map_err(|e| CodecError::Device {
                device: format!("cuda:{ordinal}"),
                reason: if cfg!(feature = "cuda") {
                    format!("cannot open cuda:{ordinal}: {e}")
                } else {
                    format!("cuda:{ordinal} requested but this build has no CUDA support (build with --features cuda)")
                },
            }),
        }
    }
}

/// Lets f32 matrix products on CUDA GPUs run on TF32 tensor cores (inputs
/// rounded to a 10-bit mantissa, f32 accumulation), for the whole process;
/// off by default, as in PyTorch.
///
/// TF32 tensor cores exist on Ampere and later GPUs; each input is rounded
/// to a relative 2⁻¹¹ ≈ 4.9e-4. Its speed-up and its effect on the trained
/// error have not been measured by this project yet: compare a TF32 run with
/// an f32 one before relying on it (`scripts/gpu-paper-run.sh` reports a TF32
/// training step's agreement with the CPU). The CPU's products are not
/// affected, and on a build without the `cuda` feature this does nothing.
///
/// ```
/// sae_codec::set_tf32(true);
/// assert_eq!(sae_codec::tf32(), sae_codec::sae_model::candle_core::utils::cuda_is_available());
/// sae_codec::set_tf32(false);
/// assert!(!sae_codec::tf32());
/// ```
pub fn set_tf32(enabled: bool) {
    candle_core::cuda::set_gemm_reduced_precision_f32(enabled);
}

/// Whether f32 products on CUDA GPUs may use TF32 (see [`set_tf32`]); always
/// false on a build without the `cuda` feature.
pub fn tf32() -> bool {
    // candle's stand-in for a build without CUDA answers true; there is no GPU product to speed up.
    candle_core::utils::cuda_is_available() && candle_core::cuda::gemm_reduced_precision_f32()
}

impl fmt::Display for ComputeDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(ordinal) => write!(f, "cuda:{ordinal}"),
        }
    }
}

impl FromStr for ComputeDevice {
    type Err = CodecError;

    /// Parses `cpu`, `cuda` (= `cuda:0`), `cuda:N` or `auto` (see [`ComputeDevice::best_available`]).
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda(0)),
            "auto" => Ok(Self::best_available()),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| CodecError::InvalidSetting {
                    name: "device",
                    reason: format!("`{s}` is not one of cpu, cuda, cuda:N, auto"),
                }),
        }
    }
}
