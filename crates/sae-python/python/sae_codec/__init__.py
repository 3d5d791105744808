"""sae_codec: compression of scientific data with sparse overcomplete autoencoders.

The codec of the ``sae-codec`` Rust workspace on numpy arrays::

    import sae_codec

    images, params = sae_codec.simulate(200, seed=1, npix=32)
    codec = sae_codec.Codec.train(images, epochs=3)
    data = codec.compress(images)              # container bytes, as `sae compress` writes
    back = codec.decompress(data)              # float32, shape (200, 32, 32)
    print(sae_codec.inspect(data)["bytes"]["total"], "bytes")

``sae_codec.numcodecs.SaeCodec`` stores zarr chunks with the codec.
"""

import json as _json
import os as _os

from . import errors
from ._native import Codec, __version__
from ._native import inspect_json as _inspect_json
from ._native import simulate_json as _simulate_json
from .errors import FormatError, InvalidInput, SaeError

__all__ = [
    "Codec",
    "FormatError",
    "InvalidInput",
    "SaeError",
    "errors",
    "inspect",
    "simulate",
    "__version__",
]


def inspect(data):
    """What a container holds (the dict ``sae inspect --json`` prints):
    record count and shape, codings, transforms, bound, model name and
    fingerprint, and where the bytes go. No record is decoded."""
    return _json.loads(_inspect_json(bytes(data)))


def simulate(count=None, *, seed=0, npix=64, oversample=3, params=None):
    """Small-angle scattering images, as ``sae simulate`` computes them.

    Either ``count`` images drawn with ``seed`` on an ``npix`` x ``npix``
    detector, or the images that ``params`` describes (a sidecar: the dict
    this function returns, or the path of a sidecar JSON file such as
    ``sae simulate`` writes). Returns ``(images, sidecar)``: a float32 array
    ``(k, npix, npix)`` and the sidecar dict (``q_grid``, and per image its
    scattering model and parameters under ``images``).
    """
    params_json = None
    if params is not None:
        if isinstance(params, (str, _os.PathLike)):
            with open(params, encoding="utf-8") as f:
                params_json = f.read()
        else:
            params_json = _json.dumps(params)
    images, sidecar = _simulate_json(count, seed, npix, oversample, params_json)
    return images, _json.loads(sidecar)
