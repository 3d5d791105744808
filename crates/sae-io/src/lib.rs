//! Reading and writing the data the codec compresses: `.npy` arrays, raw
//! little-endian f32 with a shape, and MNIST's IDX files (optionally gzipped).
//!
//! Every reader checks the declared shape against the bytes present and
//! returns a typed error for bad files; none panics. Generic I/O, apart from
//! the SAS simulator: a codec user gets it without compiling the physics.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::Path;

use npyz::WriterBuilder;

/// Everything that can go wrong reading or writing an array, and whose fault it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The file could not be opened, read or written (the machine).
    #[error("I/O error on {path}: {cause}")]
    Io {
        /// The file.
        path: String,
        /// What the system said (shown in the message, not chained as a source).
        cause: std::io::Error,
    },
    /// The file is not a valid array of its format (the file).
    #[error("malformed {format} data: {reason}")]
    Malformed {
        /// `npy`, `idx`, …
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A shape does not match the values (the caller, or the file's header).
    #[error("shape mismatch: {reason}")]
    Shape {
        /// What does not match.
        reason: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = IoError> = std::result::Result<T, E>;

/// The README's example, compiled and run as a doctest so it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// A dense f32 array in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Values in C (row-major) order.
    pub data: Vec<f32>,
}

impl Array {
    /// An array, checking that `shape` matches the data.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Self> {
        let count = checked_count(&shape)?;
        if count != data.len() {
            return Err(IoError::Shape {
                reason: format!("shape {shape:?} holds {count} values, data has {}", data.len()),
            });
        }
        Ok(Self { shape, data })
    }

    /// Number of records (the first dimension; 1 for a 0-d array).
    pub fn records(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// Values per record (product of the other dimensions).
    pub fn record_len(&self) -> usize {
        self.shape.iter().skip(1).product()
    }
}

fn checked_count(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| IoError::Shape {
            reason: format!("shape {shape:?} overflows"),
        })
}

fn io_error(path: &Path, cause: std::io::Error) -> IoError {
    IoError::Io {
        path: path.display().to_string(),
        cause,
    }
}

fn open(path: &Path) -> Result<BufReader<File>> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| io_error(path, e))
}

/// Reads a `.npy` file of f32 or f64 values (either byte order) in C order;
/// f64 values are rounded to f32. See [`parse_npy`].
pub fn read_npy(path: impl AsRef<Path>) -> Result<Array> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    parse_npy(&bytes)
}

/// Parses the bytes of a `.npy` file of f32 or f64 values in C order.
///
/// The shape its header declares must match the bytes that follow it
/// exactly: a forged shape is an error, never an allocation.
pub fn parse_npy(bytes: &[u8]) -> Result<Array> {
    let malformed = |reason: String| IoError::Malformed {
        format: "npy",
        reason,
    };
    // npyz describes header faults over several lines; one is enough here.
    let first_line = |e: std::io::Error| {
        let text = e.to_string();
        malformed(format!(
            "not a valid .npy header ({})",
            text.lines().next().unwrap_or("unreadable").trim()
        ))
    };
    let file = npyz::NpyFile::new(bytes).map_err(first_line)?;
    if file.order() != npyz::Order::C {
        return Err(malformed(
            "Fortran-order arrays are not supported; save with order='C'".into(),
        ));
    }
    let shape = file
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| malformed(format!("dimension {d} too large"))))
        .collect::<Result<Vec<_>>>()?;
    let type_str = match file.dtype() {
        npyz::DType::Plain(ts) => ts.to_string(),
        other => return Err(malformed(format!("dtype {} is not f32 or f64", other.descr()))),
    };
    let width = match &type_str[1..] {
        "f4" => 4,
        "f8" => 8,
        _ => return Err(malformed(format!("dtype {type_str} is not f32 or f64"))),
    };
    let data_bytes = bytes.len() - npy_data_start(bytes).ok_or_else(|| malformed("header length".into()))?;
    let declared = shape
        .iter()
        .try_fold(width, |n: usize, &d| n.checked_mul(d))
        .ok_or_else(|| malformed(format!("shape {shape:?} overflows")))?;
    if declared != data_bytes {
        return Err(malformed(format!(
            "shape {shape:?} of {type_str} needs {declared} bytes of data, the file holds {data_bytes}"
        )));
    }
    let data = match width {
        4 => file.into_vec::<f32>().map_err(first_line)?,
        _ => file
            .into_vec::<f64>()
            .map_err(first_line)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
    };
    Array::new(shape, data).map_err(|e| malformed(e.to_string()))
}

/// Where a `.npy` file's data starts: after the magic, the version, the
/// header length (2 bytes in version 1, 4 after) and the header.
fn npy_data_start(bytes: &[u8]) -> Option<usize> {
    let (len, fixed) = match bytes.get(6)? {
        1 => (
            usize::from(u16::from_le_bytes([*bytes.get(8)?, *bytes.get(9)?])),
            10,
        ),
        _ => (
            u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?) as usize,
            12,
        ),
    };
    let start = fixed + len;
    (start <= bytes.len()).then_some(start)
}

/// Writes an f32 `.npy` file (little-endian, C order).
pub fn write_npy(path: impl AsRef<Path>, array: &Array) -> Result<()> {
    let mut writer = NpyWriter::create(path, &array.shape)?;
    writer.push(&array.data)?;
    writer.finish()
}

/// Writes an f32 `.npy` file of a shape known up front, a slice of values
/// at a time: what streams a large array to disk without holding it.
///
/// ```
/// # let path = std::env::temp_dir().join(format!("sae-io-npywriter-{}.npy", std::process::id()));
/// use sae_io::{NpyWriter, read_npy};
///
/// let mut writer = NpyWriter::create(&path, &[3, 2])?;
/// writer.push(&[1.0, 2.0, 3.0, 4.0])?;
/// writer.push(&[5.0, 6.0])?;
/// writer.finish()?;
/// assert_eq!(read_npy(&path)?.data, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct NpyWriter {
    writer: npyz::NpyWriter<f32, BufWriter<File>>,
    path: std::path::PathBuf,
    expected: u64,
    written: u64,
}

impl NpyWriter {
    /// Creates (or truncates) `path` and writes the header for `shape`.
    pub fn create(path: impl AsRef<Path>, shape: &[usize]) -> Result<Self> {
        let path = path.as_ref();
        let expected = checked_count(shape)? as u64;
        let file = File::create(path).map_err(|e| io_error(path, e))?;
        let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        let writer = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&dims)
            .writer(BufWriter::new(file))
            .begin_nd()
            .map_err(|e| io_error(path, e))?;
        Ok(Self {
            writer,
            path: path.to_path_buf(),
            expected,
            written: 0,
        })
    }

    /// Appends `values` in row-major order; more than the shape holds is an error.
    pub fn push(&mut self, values: &[f32]) -> Result<()> {
        let after = self.written + values.len() as u64;
        if after > self.expected {
            return Err(IoError::Shape {
                reason: format!("{after} values written to an array of {}", self.expected),
            });
        }
        self.writer
            .extend(values.iter().copied())
            .map_err(|e| io_error(&self.path, e))?;
        self.written = after;
        Ok(())
    }

    /// Flushes the file; fewer values than the shape holds is an error.
    pub fn finish(self) -> Result<()> {
        if self.written != self.expected {
            return Err(IoError::Shape {
                reason: format!("{} values written to an array of {}", self.written, self.expected),
            });
        }
        self.writer.finish().map_err(|e| io_error(&self.path, e))
    }
}

/// Reads raw little-endian f32 values of the given `shape`; the file's
/// length must match it exactly.
pub fn read_raw_f32(path: impl AsRef<Path>, shape: &[usize]) -> Result<Array> {
    let path = path.as_ref();
    let expected = raw_len(shape)?;
    let len = std::fs::metadata(path).map_err(|e| io_error(path, e))?.len();
    if len != expected as u64 {
        return Err(IoError::Shape {
            reason: format!(
                "{} holds {len} bytes; shape {shape:?} of f32 needs {expected}",
                path.display()
            ),
        });
    }
    parse_raw_f32(&std::fs::read(path).map_err(|e| io_error(path, e))?, shape)
}

/// Parses raw little-endian f32 values of the given `shape`; `bytes` must
/// hold exactly that many.
pub fn parse_raw_f32(bytes: &[u8], shape: &[usize]) -> Result<Array> {
    let expected = raw_len(shape)?;
    if bytes.len() != expected {
        return Err(IoError::Shape {
            reason: format!("{} bytes; shape {shape:?} of f32 needs {expected}", bytes.len()),
        });
    }
    let data = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Array::new(shape.to_vec(), data)
}

fn raw_len(shape: &[usize]) -> Result<usize> {
    checked_count(shape)?
        .checked_mul(4)
        .ok_or_else(|| IoError::Shape {
            reason: format!("shape {shape:?} overflows"),
        })
}

/// Writes raw little-endian f32 values.
pub fn write_raw_f32(path: impl AsRef<Path>, data: &[f32]) -> Result<()> {
    let path = path.as_ref();
    let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes).map_err(|e| io_error(path, e))
}

/// The contents of an IDX file of unsigned bytes (MNIST images or labels).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idx {
    /// Dimensions, outermost first (`[n, 28, 28]` for images, `[n]` for labels).
    pub shape: Vec<usize>,
    /// The bytes in C order.
    pub data: Vec<u8>,
}

/// Reads an IDX file of `u8` values, gunzipping it if it starts with the gzip magic.
pub fn read_idx(path: impl AsRef<Path>) -> Result<Idx> {
    let path = path.as_ref();
    let mut raw = Vec::new();
    open(path)?.read_to_end(&mut raw).map_err(|e| io_error(path, e))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        gunzip_idx(&raw)?
    } else {
        raw
    };
    parse_idx(&bytes)
}

/// The most bytes deflate inflates one compressed byte to (zlib's technical
/// details: 1032:1, reached by long runs of one byte).
const DEFLATE_MAX_RATIO: u64 = 1032;

/// Decompresses a gzipped IDX file no further than its header declares (one
/// byte more, so that trailing data is seen): a small file that inflates
/// without end is read only as far as its shape.
fn gunzip_idx(raw: &[u8]) -> Result<Vec<u8>> {
    let malformed = |reason: String| IoError::Malformed {
        format: "IDX (gzip)",
        reason,
    };
    let mut decoder = flate2::read::GzDecoder::new(raw);
    let mut out = vec![0u8; 4];
    decoder
        .read_exact(&mut out)
        .map_err(|e| malformed(e.to_string()))?;
    let ndims = usize::from(out[3]);
    out.resize(4 + 4 * ndims, 0);
    decoder
        .read_exact(&mut out[4..])
        .map_err(|e| malformed(e.to_string()))?;
    let count = out[4..]
        .chunks_exact(4)
        .try_fold(1u64, |n, d| {
            n.checked_mul(u64::from(u32::from_be_bytes([d[0], d[1], d[2], d[3]])))
        })
        .ok_or_else(|| malformed("dimensions overflow".into()))?;
    // Deflate expands at most 1032-fold: a shape the compressed bytes cannot
    // hold is refused before anything is read into memory for it.
    let most = (raw.len() as u64).saturating_mul(DEFLATE_MAX_RATIO);
    if count > most {
        return Err(malformed(format!(
            "the header declares {count} bytes of data; {} compressed bytes inflate to at most {most}",
            raw.len()
        )));
    }
    decoder
        .take(count.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| malformed(e.to_string()))?;
    Ok(out)
}

/// Parses IDX bytes: magic `0 0 0x08 ndims`, big-endian `u32` dimensions, data.
pub fn parse_idx(bytes: &[u8]) -> Result<Idx> {
    let malformed = |reason: String| IoError::Malformed {
        format: "IDX",
        reason,
    };
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(malformed("missing the 00 00 magic".into()));
    }
    if bytes[2] != 0x08 {
        return Err(malformed(format!(
            "element type {:#04x} is not unsigned byte (0x08)",
            bytes[2]
        )));
    }
    let ndims = usize::from(bytes[3]);
    let header = 4 + 4 * ndims;
    if bytes.len() < header {
        return Err(malformed(format!(
            "{} bytes cannot hold {ndims} dimensions",
            bytes.len()
        )));
    }
    let shape: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let count = checked_count(&shape)?;
    if bytes.len() - header != count {
        return Err(malformed(format!(
            "shape {shape:?} needs {count} bytes of data, found {}",
            bytes.len() - header
        )));
    }
    Ok(Idx {
        shape,
        data: bytes[header..].to_vec(),
    })
}
