"""A tiny model, trained once per test session: 16x16 simulated images,
a few epochs (seconds). The tests check the bindings, not the accuracy."""

import os
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

import sae_codec

REPO = pathlib.Path(__file__).resolve().parents[3]
NPIX = 16


@pytest.fixture(scope="session")
def images():
    images, _ = sae_codec.simulate(160, seed=7, npix=NPIX, oversample=1)
    return images


@pytest.fixture(scope="session")
def model_path(tmp_path_factory, images):
    codec = sae_codec.Codec.train(images, epochs=3, warmup=5, batch=32, seed=3)
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    codec.save(path)
    return path


@pytest.fixture(scope="session")
def codec(model_path):
    return sae_codec.Codec.load(model_path)


@pytest.fixture(scope="session")
def sae_bin():
    """The `sae` command line of this workspace: $SAE_BIN, else built here."""
    if os.environ.get("SAE_BIN"):
        return pathlib.Path(os.environ["SAE_BIN"])
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.fail("set SAE_BIN to the `sae` binary, or put cargo on PATH to build it")
    subprocess.run([cargo, "build", "--release", "-p", "sae-cli"], cwd=REPO, check=True)
    return REPO / "target" / "release" / "sae"


def rel_l2(original, decoded):
    a = original.reshape(len(original), -1).astype(np.float64)
    b = decoded.reshape(len(decoded), -1).astype(np.float64)
    return np.linalg.norm(a - b, axis=1) / np.linalg.norm(a, axis=1)
