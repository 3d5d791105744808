"""Type stubs of sae_codec."""

import os
from typing import Any, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import errors as errors
from ._native import Codec as Codec
from ._native import __version__ as __version__
from .errors import FormatError as FormatError
from .errors import InvalidInput as InvalidInput
from .errors import SaeError as SaeError

def inspect(data: Union[bytes, bytearray, memoryview]) -> dict[str, Any]:
    """What a container holds (the dict `sae inspect --json` prints)."""

def simulate(
    count: Optional[int] = None,
    *,
    seed: int = 0,
    npix: int = 64,
    oversample: int = 3,
    params: Union[dict[str, Any], str, "os.PathLike[str]", None] = None,
) -> Tuple[npt.NDArray[np.float32], dict[str, Any]]:
    """SAS images as `sae simulate` computes them, and their sidecar."""
