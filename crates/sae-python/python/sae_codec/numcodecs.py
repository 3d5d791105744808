"""A numcodecs codec: zarr (and anything else that takes numcodecs codecs)
stores chunks of records compressed by ``sae_codec``.

::

    import zarr
    from sae_codec.numcodecs import SaeCodec

    z = zarr.create(shape=(1000, 64, 64), chunks=(100, 64, 64), dtype="float32",
                    compressor=SaeCodec(model="model.safetensors"), zarr_format=2,
                    store="images.zarr")
    z[:] = images
    back = zarr.open_array("images.zarr")[:]   # needs only the model file

A chunk must hold whole records: ``(k, *record_shape)`` or ``(k, n)``. The
codec is registered under the id ``"sae_codec"`` (also through the
``numcodecs.codecs`` entry point, so reading needs no import of ours), and
its configuration is plain JSON: the model's path, its fingerprint (checked
when the model is loaded), the dtype, and the compression settings.
"""

import os
import threading

import numpy as np
from numcodecs.abc import Codec as _Codec
from numcodecs.compat import ensure_contiguous_ndarray_like, ensure_ndarray_like, ndarray_copy
from numcodecs.registry import register_codec

from ._native import Codec, check_max_error
from .errors import FormatError, InvalidInput

__all__ = ["SaeCodec", "CODEC_ID"]

#: The id zarr metadata records for this codec; stable across versions.
CODEC_ID = "sae_codec"

_DTYPES = ("float32", "float64")
_loaded = {}
_lock = threading.Lock()


def _load(model, device):
    """One loaded model per path, device and file version in a process (a
    Dask worker decodes many chunks with one)."""
    path = os.path.abspath(os.fspath(model))
    stat = os.stat(path)
    key = (path, device, stat.st_mtime_ns, stat.st_size)
    with _lock:
        codec = _loaded.get(key)
        if codec is None:
            codec = Codec.load(path, device=device)
            _loaded[key] = codec
        return codec


class SaeCodec(_Codec):
    """Chunks of records compressed by a trained ``sae_codec`` model.

    Parameters
    ----------
    model : str or path
        The model file (``sae train`` or ``Codec.save`` wrote it). Readers
        need the same file.
    dtype : "float32" or "float64"
        The array's dtype; decoded chunks come back in it.
    max_error : str, optional
        Hold every record to this bound (``"l2:1e-2"``, ``"abs:E"``,
        ``"rel:E"``): the guaranteed mode.
    refine : int, optional
        Refinement iterations per record when compressing (0: none); by
        default the preset's.
    fingerprint : str, optional
        The model's fingerprint (hex); filled in from the model when not
        given, and checked when the model is loaded.
    device : str
        ``"cpu"`` or ``"cuda:N"``.
    """

    codec_id = CODEC_ID

    def __init__(self, model, dtype="float32", max_error=None, refine=None, fingerprint=None, device="cpu"):
        if str(dtype) not in _DTYPES:
            raise InvalidInput(f"SaeCodec: dtype must be one of {_DTYPES}, got {dtype!r}")
        if max_error is not None:
            check_max_error(max_error)
        if refine is not None and (isinstance(refine, bool) or not isinstance(refine, int) or refine < 0):
            raise InvalidInput(f"SaeCodec: refine must be a whole number of iterations (0: none), got {refine!r}")
        self.model = os.fspath(model)
        self.dtype = str(dtype)
        self.max_error = max_error
        self.refine = refine
        self.device = device
        codec = self._codec()
        if fingerprint is None:
            fingerprint = codec.fingerprint
        elif fingerprint != codec.fingerprint:
            raise FormatError(
                f"SaeCodec: the model file {self.model} has fingerprint {codec.fingerprint}, "
                f"the configuration names {fingerprint}"
            )
        self.fingerprint = fingerprint

    def _codec(self):
        return _load(self.model, self.device)

    def encode(self, buf):
        array = ensure_ndarray_like(buf)
        if array.dtype.name != self.dtype:
            raise InvalidInput(
                f"SaeCodec(dtype={self.dtype!r}) was given a {array.dtype.name} chunk; "
                f"create the codec with the array's dtype (one of {_DTYPES})"
            )
        try:
            return self._codec().compress(
                np.ascontiguousarray(array), max_error=self.max_error, refine=self.refine
            )
        except InvalidInput as e:
            raise InvalidInput(f"SaeCodec: chunk of shape {array.shape}: {e}") from e

    def decode(self, buf, out=None):
        data = ensure_contiguous_ndarray_like(buf).view("u1")
        records = self._codec().decompress(bytes(data))
        if self.dtype != "float32":
            records = records.astype(self.dtype)
        if out is None:
            return records
        return ndarray_copy(records, out)

    def __getstate__(self):
        # The loaded model stays behind; a worker loads it from the path.
        return self.get_config()

    def __setstate__(self, state):
        state = dict(state)
        state.pop("id", None)
        self.__init__(**state)

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "id" and v is not None)
        return f"SaeCodec({settings})"


register_codec(SaeCodec)
