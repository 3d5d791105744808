"""Type stubs of the native module (Rust, built with maturin)."""

import os
from typing import Any, Callable, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

_Path = Union[str, "os.PathLike[str]"]
_Records = Union[npt.NDArray[np.float32], npt.NDArray[np.float64]]

class Codec:
    """A trained codec: a sparse overcomplete autoencoder and its coding tables."""

    @staticmethod
    def load(path: _Path, device: str = "cpu") -> "Codec":
        """Loads a model file (`.safetensors`, as `sae train` writes it)."""
    @staticmethod
    def train(
        images: _Records,
        *,
        preset: str = "sas",
        progress: Union[bool, Callable[[dict], Any], None] = None,
        epochs: Optional[int] = None,
        minutes: Optional[float] = None,
        lambda_: Optional[float] = None,
        target_error: Optional[float] = None,
        arch: Optional[Tuple[float, float]] = None,
        selector: Optional[str] = None,
        batch: Optional[int] = None,
        learning_rate: Optional[float] = None,
        warmup: Optional[int] = None,
        seed: Optional[int] = None,
        transforms: Optional[str] = None,
        values: Optional[str] = None,
        indices: Optional[str] = None,
        encoder_view: Optional[str] = None,
        weight_average: Optional[float] = None,
        tune_rounds: Optional[int] = None,
        device: Optional[str] = None,
    ) -> "Codec":
        """Trains a codec on `images` `(k, *record_shape)` with a preset's recipe and these overrides."""
    def save(self, path: _Path) -> None:
        """Writes the model file."""
    def compress(
        self,
        images: _Records,
        *,
        max_error: Optional[str] = None,
        refine: Optional[int] = None,
        refine_lambda: Optional[float] = None,
        refine_grow: Optional[bool] = None,
        preset: str = "sas",
    ) -> bytes:
        """Compresses records into container bytes (identical to `sae compress`'s)."""
    def decompress(self, data: bytes) -> npt.NDArray[np.float32]:
        """Decompresses container bytes into `(k, *record_shape)` float32."""
    @property
    def record_shape(self) -> list[int]:
        """The shape of one record."""
    @property
    def fingerprint(self) -> str:
        """SHA-256 of the weights, hex."""
    @property
    def name(self) -> str:
        """The model's name, as containers record it."""

def inspect_json(data: bytes) -> str: ...
def check_max_error(text: str) -> str:
    """The bound as containers record it; InvalidInput if `text` is not one."""
def simulate_json(
    count: Optional[int] = None,
    seed: int = 0,
    npix: int = 64,
    oversample: int = 3,
    params_json: Optional[str] = None,
) -> Tuple[npt.NDArray[np.float32], str]: ...
