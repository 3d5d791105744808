//! Text forms of the header's types: one-line descriptions for people
//! (`sae inspect`), and a parseable form for transforms and element types.

use std::fmt;
use std::str::FromStr;

use super::{ElementType, HashAlgorithm, IndexCoding, Transform, ValueCoding, ValueModel};

impl fmt::Display for ElementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::U16 => "u16",
            Self::U32 => "u32",
            Self::I32 => "i32",
            Self::U8 => "u8",
        })
    }
}

impl FromStr for ElementType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "f32" => Self::F32,
            "f64" => Self::F64,
            "u16" => Self::U16,
            "u32" => Self::U32,
            "i32" => Self::I32,
            "u8" => Self::U8,
            other => {
                return Err(format!(
                    "unknown element type `{other}` (f32, f64, u16, u32, i32, u8)"
                ));
            }
        })
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sha256 => "sha256",
        })
    }
}

/// One line; a fitted table of thousands of entries is summarised.
///
/// ```
/// use sae_container::IndexCoding;
///
/// assert_eq!(IndexCoding::reference().to_string(), "Gaussian gaps, σ² = 1000, floor 0.001, 24-bit");
/// let per_unit = IndexCoding::PerUnit { frequencies: vec![32768, 16384] };
/// assert_eq!(per_unit.to_string(), "per-unit activity table of 2 units (mean probability 0.3750)");
/// ```
impl fmt::Display for IndexCoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gaussian {
                sigma2,
                floor,
                precision,
            } => write!(f, "Gaussian gaps, σ² = {sigma2}, floor {floor}, {precision}-bit"),
            Self::Table { frequencies } => write!(f, "fitted gap table of {} symbols", frequencies.len()),
            Self::Adaptive { increment } => write!(f, "adaptive gaps, increment {increment}"),
            Self::Uniform => f.write_str("uniform gaps"),
            Self::PerUnit { frequencies } => {
                let mean = frequencies.iter().map(|&q| f64::from(q)).sum::<f64>()
                    / (frequencies.len().max(1) as f64 * f64::from(1u32 << Self::PER_UNIT_PRECISION));
                write!(
                    f,
                    "per-unit activity table of {} units (mean probability {mean:.4})",
                    frequencies.len()
                )
            }
        }
    }
}

/// One line.
///
/// ```
/// use sae_container::{ValueCoding, ValueModel};
///
/// assert_eq!(ValueCoding::F16.to_string(), "f16");
/// let q = ValueCoding::Quantized { step: 0.5, model: ValueModel::Adaptive { alphabet: 64 } };
/// assert_eq!(q.to_string(), "quantised, step 5e-1, adaptive over 64 symbols");
/// ```
impl fmt::Display for ValueCoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::F32 => f.write_str("f32"),
            Self::F16 => f.write_str("f16"),
            Self::Bf16 => f.write_str("bf16"),
            Self::Quantized { step, model } => match model {
                ValueModel::Table { frequencies } => {
                    write!(
                        f,
                        "quantised, step {step:e}, fitted table of {} symbols",
                        frequencies.len()
                    )
                }
                ValueModel::Adaptive { alphabet } => {
                    write!(f, "quantised, step {step:e}, adaptive over {alphabet} symbols")
                }
            },
        }
    }
}

/// `log(FLOOR)`, `log10(FLOOR)`, `affine(SCALE,OFFSET)` or `scale` (the
/// per-record scale); [`FromStr`] reads the same forms back.
///
/// ```
/// use sae_container::Transform;
///
/// let t: Transform = "log10(1e-6)".parse()?;
/// assert_eq!(t, Transform::Log10 { floor: 1e-6 });
/// assert_eq!(t.to_string().parse::<Transform>()?, t);
/// assert_eq!("scale".parse::<Transform>()?, Transform::PerRecordScale);
/// # Ok::<(), String>(())
/// ```
impl fmt::Display for Transform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Log { floor } => write!(f, "log({floor:e})"),
            Self::Log10 { floor } => write!(f, "log10({floor:e})"),
            Self::Affine { scale, offset } => write!(f, "affine({scale:e},{offset:e})"),
            Self::PerRecordScale => f.write_str("scale"),
        }
    }
}

impl FromStr for Transform {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s == "scale" {
            return Ok(Self::PerRecordScale);
        }
        let bad =
            || format!("`{s}` is not a transform: log(FLOOR), log10(FLOOR), affine(SCALE,OFFSET) or scale");
        let (name, rest) = s.split_once('(').ok_or_else(bad)?;
        let args = rest.strip_suffix(')').ok_or_else(bad)?;
        let numbers = args
            .split(',')
            .map(|a| a.trim().parse::<f64>().map_err(|_| bad()))
            .collect::<Result<Vec<_>, _>>()?;
        let t = match (name.trim(), &numbers[..]) {
            ("log", &[floor]) => Self::Log { floor },
            ("log10", &[floor]) => Self::Log10 { floor },
            ("affine", &[scale, offset]) => Self::Affine { scale, offset },
            _ => return Err(bad()),
        };
        if !t.is_valid() {
            return Err(format!("transform `{s}` has invalid parameters"));
        }
        Ok(t)
    }
}
