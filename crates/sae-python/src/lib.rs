//! The native half of the Python package `sae_codec` (built with maturin as
//! `sae_codec._native`): a thin shell over the `sae-codec` facade. Every
//! setting goes through the library's [`Recipe::apply`], every message is the
//! library's own `Display` text, and the heavy work runs with the GIL released.
//!
//! The Python half (`python/sae_codec/`) re-exports these names, adds the
//! numcodecs codec and parses the JSON that `inspect` and `simulate` return.

use std::path::PathBuf;

use numpy::{
    IntoPyArray, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyFileNotFoundError, PyIsADirectoryError, PyOSError, PyPermissionError};
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyBytes, PyDict};
use sae_codec::sae_sas::{DatasetConfig, Detector, ImageParams, Sidecar};
use sae_codec::{CodecError, ContainerSummary, ErrorBound, ModelError, Overrides, Preset, Recipe};

pyo3::import_exception!(sae_codec.errors, SaeError);
pyo3::import_exception!(sae_codec.errors, InvalidInput);
pyo3::import_exception!(sae_codec.errors, FormatError);

/// The Python exception for a library error: `InvalidInput` (also a
/// `ValueError`) where the caller's data or setting is at fault,
/// `FormatError` where bytes or a file are not what they claim, `OSError`
/// for the file system, `SaeError` (their base) otherwise. The message is
/// the library's one line, as the `sae` command prints it.
fn to_py(error: CodecError) -> PyErr {
    let message = error.to_string();
    match &error {
        CodecError::InvalidSetting { .. } | CodecError::Overflow { .. } => InvalidInput::new_err(message),
        CodecError::Model(model) => match model {
            ModelError::InvalidConfig { .. }
            | ModelError::Shape { .. }
            | ModelError::NotWholeRecords { .. }
            | ModelError::NoRecords
            | ModelError::NonFinite { .. } => InvalidInput::new_err(message),
            ModelError::Io(io) => os_error(io, message),
            ModelError::Candle(_) | ModelError::Source { .. } | ModelError::Diverged { .. } => {
                SaeError::new_err(message)
            }
            _ => FormatError::new_err(message),
        },
        CodecError::Container(_)
        | CodecError::ModelFile(_)
        | CodecError::ModelMismatch { .. }
        | CodecError::HeaderMismatch { .. }
        | CodecError::CorruptRecord { .. }
        | CodecError::Unfinished { .. }
        | CodecError::NonFiniteOutput { .. } => FormatError::new_err(message),
        CodecError::Io(io) => os_error(io, message),
        _ => SaeError::new_err(message),
    }
}

/// The `OSError` subclass Python raises for this kind of failure.
fn os_error(error: &std::io::Error, message: String) -> PyErr {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
        ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
        ErrorKind::IsADirectory => PyIsADirectoryError::new_err(message),
        _ => PyOSError::new_err(message),
    }
}

fn invalid(message: impl Into<String>) -> PyErr {
    InvalidInput::new_err(message.into())
}

/// Parses a setting the way the `sae` command line does (the same `FromStr`).
fn parse<T: std::str::FromStr>(name: &str, text: Option<&str>) -> PyResult<Option<T>>
where
    T::Err: std::fmt::Display,
{
    text.map(|t| {
        t.parse::<T>()
            .map_err(|e| invalid(format!("invalid {name} {t:?}: {e}")))
    })
    .transpose()
}

fn preset(name: &str) -> PyResult<Recipe> {
    Ok(name
        .parse::<Preset>()
        .map_err(|e| invalid(format!("invalid preset {name:?}: {e}")))?
        .recipe())
}

/// Reads a numpy array of `float32` or `float64` records, borrowed when it
/// is an aligned C-contiguous `float32` array, else converted by numpy into
/// one (`astype(float32, order="C")`: the rounding of Rust's `as f32`; values
/// beyond f32's range become infinities, which the codec refuses with their
/// position). Returns the array and its shape.
fn records<'py>(data: &Bound<'py, PyAny>) -> PyResult<(PyReadonlyArrayDyn<'py, f32>, Vec<usize>)> {
    let array = data
        .cast::<PyUntypedArray>()
        .map_err(|_| invalid(format!("expected a numpy array, got {}", type_name(data))))?;
    let shape = array.shape().to_vec();
    let dtype = array.dtype();
    let f32_dtype = numpy::dtype::<f32>(data.py());
    // Either byte order: numpy converts to native below.
    if dtype.kind() != b'f' || !matches!(dtype.itemsize(), 4 | 8) {
        return Err(invalid(format!(
            "expected a float32 or float64 array, got dtype {dtype}"
        )));
    }
    if let Ok(f32s) = data.cast::<PyArrayDyn<f32>>() {
        // An array borrowed mutably elsewhere (another thread writing it)
        // is converted, never read while it changes.
        if let Ok(readonly) = f32s.try_readonly() {
            // `as_slice` also accepts Fortran order; records are rows, C order.
            if f32s.is_c_contiguous() && readonly.as_slice().is_ok() {
                return Ok((readonly, shape));
            }
        }
    }
    let converted = data.call_method(
        "astype",
        (f32_dtype,),
        Some(&[("order", "C")].into_py_dict(data.py())?),
    )?;
    let converted = converted.cast_into::<PyArrayDyn<f32>>()?;
    let readonly = converted
        .try_readonly()
        .map_err(|e| SaeError::new_err(e.to_string()))?;
    Ok((readonly, shape))
}

fn slice<'a>(array: &'a PyReadonlyArrayDyn<'_, f32>) -> PyResult<&'a [f32]> {
    array
        .as_slice()
        .map_err(|e| SaeError::new_err(format!("numpy gave an array that is not contiguous: {e}")))
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "an object".into())
}

/// The number of records in an array of `shape` holding records of
/// `record_shape`: `(k, *record_shape)`, `(k, prod(record_shape))` or one
/// record of `record_shape`.
fn count_records(shape: &[usize], record_shape: &[usize]) -> PyResult<usize> {
    let record_len: usize = record_shape.iter().product();
    if shape == record_shape {
        return Ok(1);
    }
    match shape.split_first() {
        Some((&k, rest)) if rest == record_shape || rest == [record_len] => Ok(k),
        _ => Err(invalid(format!(
            "an array of shape {shape:?} does not hold records of shape {record_shape:?}: \
             give (k, {}) or (k, {record_len})",
            record_shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// A trained codec: a sparse overcomplete autoencoder and its coding tables.
///
/// Load one with `Codec.load(path)` (a model file written by `sae train` or
/// `Codec.save`), or train one with `Codec.train(images)`.
#[pyclass(frozen, module = "sae_codec")]
struct Codec {
    inner: sae_codec::Codec,
}

#[pymethods]
impl Codec {
    /// Loads a model file (`.safetensors`, as `sae train` writes it).
    ///
    /// `device` is `"cpu"` or `"cuda:N"` (a build with the `cuda` feature).
    #[staticmethod]
    #[pyo3(signature = (path, device = "cpu"))]
    fn load(py: Python<'_>, path: PathBuf, device: &str) -> PyResult<Self> {
        let device = parse("device", Some(device))?.unwrap_or_default();
        let inner = py
            .detach(|| sae_codec::Codec::load_on(&path, device))
            .map_err(|e| match e {
                CodecError::Io(io) => os_error(&io, format!("loading model {}: {io}", path.display())),
                other => to_py(other),
            })?;
        Ok(Self { inner })
    }

    /// Trains a codec on `images`, an array `(k, *record_shape)` of
    /// `float32` or `float64`, with a preset's recipe and the overrides given.
    ///
    /// `progress`: `True` prints one line per epoch to standard error; a
    /// callable receives a dict per epoch (`epoch`, `epochs`, `seconds`,
    /// `rel_error`, `nnz`, `lambda`). Returns the trained codec.
    #[staticmethod]
    #[pyo3(signature = (
        images, *, preset = "sas", progress = None, epochs = None, minutes = None, lambda_ = None,
        target_error = None, arch = None, selector = None, batch = None, learning_rate = None,
        warmup = None, seed = None, transforms = None, values = None, indices = None,
        encoder_view = None, weight_average = None, tune_rounds = None, device = None
    ))]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments, one per setting
    fn train(
        py: Python<'_>,
        images: &Bound<'_, PyAny>,
        preset: &str,
        progress: Option<Bound<'_, PyAny>>,
        epochs: Option<usize>,
        minutes: Option<f64>,
        lambda_: Option<f64>,
        target_error: Option<f64>,
        arch: Option<(f64, f64)>,
        selector: Option<&str>,
        batch: Option<usize>,
        learning_rate: Option<f64>,
        warmup: Option<u64>,
        seed: Option<u64>,
        transforms: Option<&str>,
        values: Option<&str>,
        indices: Option<&str>,
        encoder_view: Option<&str>,
        weight_average: Option<f64>,
        tune_rounds: Option<usize>,
        device: Option<&str>,
    ) -> PyResult<Self> {
        let recipe = self::preset(preset)?
            .apply(&Overrides {
                arch,
                selector: parse("selector", selector)?,
                lambda: lambda_,
                target_error,
                epochs,
                minutes,
                encoder_view: parse("encoder_view", encoder_view)?,
                weight_average,
                warmup,
                batch,
                learning_rate,
                seed,
                transforms: parse("transforms", transforms)?,
                values: parse("values", values)?,
                indices: parse("indices", indices)?,
                device: parse("device", device)?,
                tune_rounds,
                ..Overrides::default()
            })
            .map_err(to_py)?;
        let (data, shape) = records(images)?;
        if shape.len() < 2 {
            return Err(invalid(format!(
                "expected an array (k, *record_shape) of training records, got shape {shape:?}"
            )));
        }
        let progress = Reporter::new(progress)?;
        let values = slice(&data)?;
        let record_shape = &shape[1..];
        let inner = py
            .detach(|| -> Result<_, CodecError> {
                let (codec, _report) =
                    sae_codec::Codec::train(values, record_shape, &recipe.config, |p| progress.epoch(p))?;
                match &recipe.tuning {
                    None => Ok(codec),
                    Some(tuning) => Ok(codec.tune_decoder(values, tuning, |_| {})?.0),
                }
            })
            .map_err(to_py)?;
        progress.finish()?;
        Ok(Self { inner })
    }

    /// Writes the model file (what `Codec.load` and `sae compress -m` read).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.inner.save(&path)).map_err(to_py)
    }

    /// Compresses `images` (`(k, *record_shape)`, `(k, n)` or one record;
    /// `float32` or `float64`) into container bytes, as `sae compress` does
    /// with the same settings: the bytes are identical.
    ///
    /// `max_error` (`"l2:1e-2"`, `"abs:E"`, `"rel:E"`) holds every record to
    /// that bound (the guaranteed mode); `refine` sets the refinement
    /// iterations (0: none; default the preset's).
    #[pyo3(signature = (images, *, max_error = None, refine = None, refine_lambda = None, refine_grow = None, preset = "sas"))]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments, one per setting
    fn compress<'py>(
        &self,
        py: Python<'py>,
        images: &Bound<'py, PyAny>,
        max_error: Option<&str>,
        refine: Option<usize>,
        refine_lambda: Option<f64>,
        refine_grow: Option<bool>,
        preset: &str,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let recipe = self::preset(preset)?
            .apply(&Overrides {
                refine,
                refine_lambda,
                refine_grow,
                max_error: parse::<ErrorBound>("max_error", max_error)?,
                ..Overrides::default()
            })
            .map_err(to_py)?;
        let (data, shape) = records(images)?;
        count_records(&shape, &self.inner.record_shape())?;
        let values = slice(&data)?;
        let codec = self.inner.clone().with_refinement(recipe.refinement);
        let bytes = py
            .detach(|| match recipe.bound {
                None => codec.compress(values),
                Some(bound) => codec.compress_bounded(values, bound),
            })
            .map_err(to_py)?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Decompresses container bytes made with this codec's model into an
    /// array `(k, *record_shape)` of `float32`.
    fn decompress<'py>(&self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
        let values = py.detach(|| self.inner.decompress(data)).map_err(to_py)?;
        let record_shape = self.inner.record_shape();
        let record_len: usize = record_shape.iter().product();
        let mut shape = vec![values.len() / record_len.max(1)];
        shape.extend(record_shape);
        values.into_pyarray(py).reshape(shape)
    }

    /// The shape of one record, e.g. `(64, 64)`.
    #[getter]
    fn record_shape(&self) -> Vec<usize> {
        self.inner.record_shape()
    }

    /// The model's fingerprint (SHA-256 of its weights, hex), as containers record it.
    #[getter]
    fn fingerprint(&self) -> String {
        sae_codec::sae_model::hex(&self.inner.fingerprint())
    }

    /// The model's name, as containers record it.
    #[getter]
    fn name(&self) -> String {
        self.inner.header().model_name.clone().unwrap_or_default()
    }

    fn __repr__(&self) -> String {
        format!(
            "Codec(record_shape={:?}, name={:?})",
            self.inner.record_shape(),
            self.name()
        )
    }
}

/// Progress reports from a training run, to standard error or to a callable.
struct Reporter {
    callback: Option<Py<PyAny>>,
    print: bool,
    error: std::sync::Mutex<Option<PyErr>>,
}

impl Reporter {
    fn new(progress: Option<Bound<'_, PyAny>>) -> PyResult<Self> {
        let (callback, print) = match progress {
            None => (None, false),
            Some(p) if p.is_callable() => (Some(p.unbind()), false),
            Some(p) => (None, p.is_truthy()?),
        };
        Ok(Self {
            callback,
            print,
            error: std::sync::Mutex::new(None),
        })
    }

    fn epoch(&self, p: &sae_codec::Progress) {
        let Some(v) = p.validation else { return };
        if self.print {
            eprintln!(
                "epoch {}/{}: {:.1} s, validation rel L2 {:.3e}, {:.1} nonzeros",
                p.epoch + 1,
                p.epochs,
                v.seconds,
                v.rel_error,
                v.nnz
            );
        }
        let Some(callback) = &self.callback else { return };
        let mut error = self.error.lock().unwrap_or_else(|e| e.into_inner());
        if error.is_some() {
            return;
        }
        *error = Python::attach(|py| {
            let report = PyDict::new(py);
            report.set_item("epoch", p.epoch + 1)?;
            report.set_item("epochs", p.epochs)?;
            report.set_item("seconds", v.seconds)?;
            report.set_item("rel_error", v.rel_error)?;
            report.set_item("nnz", v.nnz)?;
            report.set_item("lambda", p.lambda)?;
            callback.call1(py, (report,)).map(drop)
        })
        .err();
    }

    /// The first error the callable raised, raised now.
    fn finish(self) -> PyResult<()> {
        match self.error.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// What a container holds, as JSON text (`sae inspect --json`); records
/// are not decoded and no model is needed.
#[pyfunction]
fn inspect_json(data: &[u8]) -> PyResult<String> {
    let summary = ContainerSummary::read(std::io::Cursor::new(data)).map_err(to_py)?;
    serde_json::to_string(&summary).map_err(|e| SaeError::new_err(e.to_string()))
}

/// Simulates SAS images as `sae simulate` does: `count` images drawn with
/// `seed`, or the images a sidecar's parameters describe (`params_json`).
/// Returns the images `(k, npix, npix)` and the sidecar as JSON text.
#[pyfunction]
#[pyo3(signature = (count = None, seed = 0, npix = 64, oversample = 3, params_json = None))]
fn simulate_json<'py>(
    py: Python<'py>,
    count: Option<usize>,
    seed: u64,
    npix: usize,
    oversample: usize,
    params_json: Option<&str>,
) -> PyResult<(Bound<'py, PyArrayDyn<f32>>, String)> {
    let sas = |e: sae_codec::sae_sas::SasError| invalid(e.to_string());
    let (images, sidecar, npix) = match (params_json, count) {
        (Some(text), _) => {
            let sidecar = Sidecar::from_json(text).map_err(sas)?;
            let detector = sidecar.detector().map_err(sas)?;
            sae_codec::memory::check_simulation(sidecar.images.len(), &detector).map_err(to_py)?;
            let scatterers = sidecar
                .images
                .iter()
                .map(ImageParams::to_scatterer)
                .collect::<Result<Vec<_>, _>>()
                .map_err(sas)?;
            let images = py.detach(|| detector.images(&scatterers)).map_err(sas)?;
            (images, sidecar, detector.npix)
        }
        (None, Some(count)) => {
            let detector = Detector {
                npix,
                oversample,
                ..Detector::default()
            };
            sae_codec::memory::check_simulation(count, &detector).map_err(to_py)?;
            let (images, sidecar) = py
                .detach(|| DatasetConfig::default().generate(count, seed, &detector))
                .map_err(sas)?;
            (images, sidecar, npix)
        }
        (None, None) => return Err(invalid("give count or params")),
    };
    let text = serde_json::to_string(&sidecar).map_err(|e| SaeError::new_err(e.to_string()))?;
    let count = images.len() / (npix * npix).max(1);
    let array = images.into_pyarray(py).reshape(vec![count, npix, npix])?;
    Ok((array, text))
}

/// A bound (`"l2:1e-2"`, `"abs:E"`, `"rel:E"`) checked and written the way
/// containers record it; `InvalidInput` if it is not one.
#[pyfunction]
fn check_max_error(text: &str) -> PyResult<String> {
    Ok(parse::<ErrorBound>("max_error", Some(text))?
        .expect("a text was given")
        .to_string())
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Codec>()?;
    module.add_function(wrap_pyfunction!(inspect_json, module)?)?;
    module.add_function(wrap_pyfunction!(simulate_json, module)?)?;
    module.add_function(wrap_pyfunction!(check_max_error, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
