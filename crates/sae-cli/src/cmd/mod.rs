//! The subcommands, and the arguments and helpers several of them share.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sae_codec::io::{Array, read_npy, read_raw_f32};
use std::sync::OnceLock;

use sae_codec::{Codec, ComputeDevice, IndexFormat, Overrides, Preset, Recipe, ValueFormat};

pub mod classify;
pub mod compress;
pub mod decompress;
pub mod eval;
pub mod inspect;
pub mod recode;
pub mod search;
pub mod simulate;
pub mod train;
pub mod tune;

/// Input images: shared by the subcommands that read them.
#[derive(clap::Args)]
pub struct Input {
    /// Input images: `.npy` (f32 or f64, shape (N, …)) or raw little-endian f32 with --shape.
    #[arg(short, long)]
    pub input: PathBuf,
    /// Shape of a raw f32 input, e.g. `1000,64,64`.
    #[arg(long, value_delimiter = ',')]
    pub shape: Option<Vec<usize>>,
}

impl Input {
    /// Reads the images; at least two dimensions, the first counting images.
    pub fn read(&self) -> Result<Array> {
        read_images(&self.input, self.shape.as_deref())
    }
}

/// Reads `.npy`, or raw f32 when `shape` is given.
pub fn read_images(path: &Path, shape: Option<&[usize]>) -> Result<Array> {
    let array = match shape {
        Some(shape) => read_raw_f32(path, shape),
        None => read_npy(path),
    }
    .with_context(|| format!("reading {}", path.display()))?;
    if array.shape.len() < 2 {
        bail!(
            "{} has shape {:?}; expected (N, …) images",
            path.display(),
            array.shape
        );
    }
    Ok(array)
}

/// The default preset's recipe, read by the help texts: every default a
/// help text states comes from here (a CLI test holds them to it).
pub fn sas() -> &'static Recipe {
    static SAS: OnceLock<Recipe> = OnceLock::new();
    SAS.get_or_init(|| Preset::Sas.recipe())
}

/// How a model stores latents: shared by `train` and `recode`. Unset
/// options take the preset's choice.
#[derive(clap::Args)]
pub struct CodingArgs {
    #[arg(long, help = format!(
        "How nonzero latent values are stored: f32, f16, bf16, quantized or quantized:STEP (sas: {}).",
        sas().config.values
    ))]
    pub values: Option<ValueFormat>,
    /// Quantisation step of quantized values, as a fraction of the RMS
    /// nonzero training latent: the same setting as `--values quantized:STEP`.
    #[arg(long)]
    pub step: Option<f32>,
    #[arg(long, help = format!(
        "How nonzero positions are coded: per-unit, gaps or reference (sas: {}).",
        sas().config.indices
    ))]
    pub indices: Option<IndexFormat>,
}

impl CodingArgs {
    /// The choices given, as overrides of a recipe.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            values: self.values,
            step: self.step,
            indices: self.indices,
            ..Overrides::default()
        }
    }
}

/// How images are encoded into latents: shared by `compress` and by the
/// commands that query with images (`search`, `classify`), so that a query
/// is encoded as the stored records were.
#[derive(clap::Args)]
pub struct RefineArgs {
    /// The recipe the refinement options start from.
    #[arg(long, default_value_t = Preset::Sas)]
    pub preset: Preset,
    #[arg(long, conflicts_with = "no_refine", help = format!(
        "Refine each latent against its image for this many iterations (sas preset: {}; 0: the \
         encoder's latents as they are). Slower, lower error; the container decodes the same way.",
        sas().refinement.map_or(0, |r| r.iterations)
    ))]
    pub refine: Option<usize>,
    /// Store the encoder's latents as they are (fast; same as --refine 0).
    #[arg(long, conflicts_with_all = ["refine_lambda", "refine_grow"])]
    pub no_refine: bool,
    #[arg(long, help = format!(
        "Penalty λ on ‖z‖₁ while refining: larger drops more latents (sas: {}).",
        sas().refinement.unwrap_or_default().lambda
    ))]
    pub refine_lambda: Option<f64>,
    /// Let refinement switch on latents the encoder left at zero.
    #[arg(long)]
    pub refine_grow: bool,
}

impl RefineArgs {
    /// The preset's recipe with these choices, and `more`, applied.
    pub fn recipe(&self, more: Overrides) -> Result<Recipe> {
        Ok(self.preset.recipe().apply(&Overrides {
            refine: if self.no_refine { Some(0) } else { self.refine },
            refine_lambda: self.refine_lambda,
            refine_grow: self.refine_grow.then_some(true),
            ..more
        })?)
    }
}

/// Refuses images whose shape is not the model's record shape.
pub fn check_fits(images: &Array, codec: &Codec) -> Result<()> {
    if images.shape[1..] != codec.record_shape()[..] {
        bail!(
            "images of shape {:?} do not fit the model's records of shape {:?}",
            &images.shape[1..],
            codec.record_shape()
        );
    }
    Ok(())
}

/// Refuses an output path that names one of the command's inputs (the same
/// file, however spelled): writing it would destroy what is being read.
pub fn check_output(output: &Path, inputs: &[&Path]) -> Result<()> {
    for input in inputs {
        if same_file(output, input) {
            bail!(
                "the output {} is also an input: choose another output path",
                output.display()
            );
        }
    }
    Ok(())
}

/// Whether two paths name the same file, however spelled (through links,
/// `..`, or a file that does not exist yet).
pub fn same_file(a: &Path, b: &Path) -> bool {
    let resolve = |p: &Path| -> Option<PathBuf> {
        let p = resolve_links(p).ok()?;
        if let Ok(full) = p.canonicalize() {
            return Some(full);
        }
        // Not there yet: resolve its folder, keep its name.
        let parent = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.canonicalize().ok()?,
            _ => std::env::current_dir().ok()?,
        };
        Some(parent.join(p.file_name()?))
    };
    let a = resolve(a);
    a.is_some() && a == resolve(b)
}

/// Writes an output where the user points.
///
/// A regular file (or a new one) is written through a temporary file in its
/// folder, renamed into place only when `write` succeeded, so a failed run
/// never leaves a half-written file under the final name; the new file takes
/// the mode of the one it replaces, or `0666` less the umask when there was
/// none, as any other tool's output does. A symbolic link is followed (the
/// file it points to is replaced, the link stays). Anything else that is
/// already there — a named pipe, a device such as `/dev/stdout` or
/// `/dev/null` — is written in place, never replaced; a folder is refused.
pub fn write_output(output: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;

    let target = resolve_links(output)?;
    let existing = match std::fs::metadata(&target) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("writing {}", output.display())),
    };
    match &existing {
        Some(meta) if meta.is_dir() => bail!("{} is a folder, not a file to write", output.display()),
        Some(meta) if !meta.is_file() => {
            return write(&target).with_context(|| format!("writing {}", output.display()));
        }
        _ => {}
    }
    let folder = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".sae-")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(&folder)
        .with_context(|| format!("creating a temporary file in {}", folder.display()))?;
    if let Some(meta) = &existing {
        std::fs::set_permissions(temp.path(), meta.permissions())
            .with_context(|| format!("writing {}", output.display()))?;
    }
    write(temp.path())?;
    temp.persist(&target)
        .map_err(|e| e.error)
        .with_context(|| format!("writing {}", output.display()))?;
    Ok(())
}

/// `path` with its symbolic links followed, to a file that may not exist
/// yet (a dangling link names the file to create).
fn resolve_links(path: &Path) -> Result<PathBuf> {
    let mut path = path.to_path_buf();
    // As many hops as Linux follows before ELOOP.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link =
                    std::fs::read_link(&path).with_context(|| format!("reading link {}", path.display()))?;
                path = match path.parent() {
                    Some(folder) if link.is_relative() => folder.join(link),
                    _ => link,
                };
            }
            _ => return Ok(path),
        }
    }
    bail!("{}: too many levels of symbolic links", path.display())
}

/// Writes `text` to stdout; a closed pipe (`sae inspect … | head`) ends the
/// command quietly, as it does every Unix tool.
pub fn print(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => Ok(other?),
    }
}

/// Loads a model file onto `device`.
pub fn load_codec(path: &Path, device: ComputeDevice) -> Result<Codec> {
    Codec::load_on(path, device).with_context(|| format!("loading model {}", path.display()))
}
