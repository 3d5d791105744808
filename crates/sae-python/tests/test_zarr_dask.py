"""The numcodecs codec: JSON configuration, zarr chunks, a Dask cluster."""

import json
import pathlib
import subprocess
import sys

import dask.array as da
import distributed
import numcodecs
import numpy as np
import pytest
import zarr

import sae_codec
from sae_codec.numcodecs import CODEC_ID, SaeCodec
from conftest import NPIX


def expected_chunks(codec, images, rows, **settings):
    """What the codec alone makes of each chunk of `rows` records."""
    return np.concatenate(
        [codec.decompress(codec.compress(images[i : i + rows], **settings)) for i in range(0, len(images), rows)]
    )


def test_config_round_trips_through_json(model_path, codec):
    sae = SaeCodec(model=model_path, max_error="l2:1e-2", refine=0)
    config = json.loads(json.dumps(sae.get_config()))
    assert config["id"] == CODEC_ID
    assert config["fingerprint"] == codec.fingerprint
    again = numcodecs.get_codec(config)
    assert isinstance(again, SaeCodec) and again.get_config() == sae.get_config()


def test_bad_settings_are_refused_when_the_codec_is_made(model_path):
    with pytest.raises(sae_codec.InvalidInput, match="max_error"):
        SaeCodec(model=model_path, max_error="l2:-1")
    with pytest.raises(sae_codec.InvalidInput, match="refine"):
        SaeCodec(model=model_path, refine=-3)
    with pytest.raises(sae_codec.InvalidInput, match="dtype"):
        SaeCodec(model=model_path, dtype="int16")
    with pytest.raises(FileNotFoundError):
        SaeCodec(model="no-such-model.safetensors")


def test_a_changed_model_file_is_refused(model_path, tmp_path, images):
    config = SaeCodec(model=model_path).get_config()
    other = tmp_path / "other.safetensors"
    sae_codec.Codec.train(images, epochs=1, warmup=1, batch=32, seed=9).save(other)
    config["model"] = str(other)
    with pytest.raises(sae_codec.FormatError, match="fingerprint"):
        numcodecs.get_codec(config)


def test_zarr_stores_chunks_and_reads_back_with_only_the_model(model_path, codec, images, tmp_path):
    store = tmp_path / "images.zarr"
    z = zarr.create(
        shape=images.shape, chunks=(40, NPIX, NPIX), dtype="float32",
        compressor=SaeCodec(model=model_path, refine=0), zarr_format=2, store=str(store),
    )
    z[:] = images
    back = zarr.open_array(str(store), mode="r")[:]
    np.testing.assert_array_equal(back, expected_chunks(codec, images, 40, refine=0))
    # A fresh interpreter that never imports sae_codec: numcodecs finds the
    # codec by its id through the entry point, and the model by its path.
    script = f"import zarr, numpy; print(repr(float(zarr.open_array({str(store)!r}, mode='r')[:].sum())))"
    total = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    assert float(total.stdout) == float(back.sum())


def test_zarr_float64_arrays(model_path, codec, images, tmp_path):
    z = zarr.create(
        shape=images.shape, chunks=(80, NPIX, NPIX), dtype="float64",
        compressor=SaeCodec(model=model_path, dtype="float64", refine=0), zarr_format=2,
        store=str(tmp_path / "f64.zarr"),
    )
    z[:] = images.astype(np.float64)
    back = z[:]
    assert back.dtype == np.float64
    np.testing.assert_array_equal(back, expected_chunks(codec, images, 80, refine=0).astype(np.float64))


def test_chunks_that_split_records_get_a_clear_error(model_path, images, tmp_path):
    z = zarr.create(
        shape=images.shape, chunks=(40, NPIX // 2, NPIX), dtype="float32",
        compressor=SaeCodec(model=model_path, refine=0), zarr_format=2, store=str(tmp_path / "bad.zarr"),
    )
    with pytest.raises(sae_codec.InvalidInput, match=r"chunk of shape \(40, 8, 16\).*records of shape \[16, 16\]"):
        z[:] = images
    with pytest.raises(sae_codec.InvalidInput, match="float64 chunk"):
        SaeCodec(model=model_path).encode(images[:2].astype(np.float64))


def test_dask_cluster_compresses_into_zarr(model_path, codec, images, tmp_path):
    store = tmp_path / "dask.zarr"
    z = zarr.create(
        shape=images.shape, chunks=(20, NPIX, NPIX), dtype="float32",
        compressor=SaeCodec(model=model_path, refine=0), zarr_format=2, store=str(store),
    )
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster):
            da.from_array(images, chunks=(20, NPIX, NPIX)).store(z, lock=False)
            back = da.from_zarr(str(store)).compute()
    np.testing.assert_array_equal(back, expected_chunks(codec, images, 20, refine=0))


def test_the_dask_example_runs(tmp_path):
    example = pathlib.Path(__file__).resolve().parents[1] / "examples" / "dask_zarr.py"
    store = tmp_path / "example.zarr"
    run = subprocess.run(
        [sys.executable, example, "--count", "60", "--chunk", "20", "--workers", "2", "--refine", "0",
         "--store", store],
        check=True, capture_output=True, text=True,
    )
    assert "images            60 of 64x64, chunks of 20" in run.stdout
    assert "relative L2" in run.stdout
    assert zarr.open_array(str(store), mode="r").shape == (60, 64, 64)

