"""The codec on numpy arrays: round trips, the command line's bytes, errors."""

import subprocess

import numpy as np
import pytest

import sae_codec
from conftest import NPIX, rel_l2


def test_round_trip_keeps_shape_and_dtype(codec, images):
    data = codec.compress(images[:20])
    assert isinstance(data, bytes)
    back = codec.decompress(data)
    assert back.dtype == np.float32
    assert back.shape == (20, NPIX, NPIX)
    assert np.all(np.isfinite(back))
    # A lossy codec, but a trained one: far better than predicting zero.
    assert np.median(rel_l2(images[:20], back)) < 0.9
    summary = sae_codec.inspect(data)
    assert summary["records"] == 20
    assert summary["record_shape"] == [NPIX, NPIX]
    assert summary["fingerprint"] == codec.fingerprint
    assert summary["bytes"]["total"] == len(data)


def test_float64_flat_and_strided_inputs_give_the_same_bytes(codec, images):
    batch = images[:8]
    expected = codec.compress(batch)
    assert codec.compress(batch.astype(np.float64)) == expected
    assert codec.compress(batch.reshape(8, NPIX * NPIX)) == expected
    assert codec.compress(np.asfortranarray(batch)) == expected
    assert codec.compress(batch.astype(">f4")) == expected
    # Misaligned memory (as pickled buffers can be): copied, not misread.
    raw = np.frombuffer(b"\0" + batch.tobytes(), dtype=np.uint8)[1:]
    misaligned = raw.view(np.float32).reshape(batch.shape)
    assert not misaligned.flags.aligned
    assert codec.compress(misaligned) == expected
    one = codec.decompress(codec.compress(batch[0]))
    assert one.shape == (1, NPIX, NPIX)


def test_bytes_equal_the_command_lines(codec, images, model_path, sae_bin, tmp_path):
    batch = images[:12]
    npy = tmp_path / "in.npy"
    np.save(npy, batch)
    out = tmp_path / "out.sae"
    subprocess.run([sae_bin, "compress", "-m", model_path, "-i", npy, "-o", out], check=True)
    assert out.read_bytes() == codec.compress(batch)
    bounded = tmp_path / "bounded.sae"
    subprocess.run(
        [sae_bin, "compress", "-m", model_path, "-i", npy, "-o", bounded, "--max-error", "l2:1e-2"],
        check=True,
    )
    assert bounded.read_bytes() == codec.compress(batch, max_error="l2:1e-2")
    decoded = tmp_path / "back.npy"
    subprocess.run([sae_bin, "decompress", "-m", model_path, "-i", out, "-o", decoded], check=True)
    np.testing.assert_array_equal(np.load(decoded), codec.decompress(out.read_bytes()))


def test_guaranteed_mode_holds_every_record(codec, images):
    data = codec.compress(images[:16], max_error="l2:1e-2", refine=0)
    errors = rel_l2(images[:16], codec.decompress(data))
    assert errors.max() <= 1e-2
    assert sae_codec.inspect(data)["max_error"] == "l2:1e-2"


def test_bad_input_raises_the_librarys_message(codec, images):
    with pytest.raises(sae_codec.InvalidInput, match="float32 or float64 array, got dtype int64"):
        codec.compress(np.zeros((2, NPIX, NPIX), dtype=np.int64))
    with pytest.raises(sae_codec.InvalidInput, match="expected a numpy array"):
        codec.compress([[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"does not hold records of shape \[16, 16\]"):
        codec.compress(np.ones((2, NPIX, NPIX + 1), dtype=np.float32))
    poisoned = images[:3].copy()
    poisoned[1, 2, 3] = np.nan
    with pytest.raises(sae_codec.InvalidInput, match="non-finite value at position 291"):
        codec.compress(poisoned)
    with pytest.raises(sae_codec.InvalidInput, match="max_error"):
        codec.compress(images[:1], max_error="l3:1")


def test_corrupt_and_truncated_bytes_raise_format_errors(codec, images):
    data = bytearray(codec.compress(images[:4]))
    with pytest.raises(sae_codec.FormatError):
        codec.decompress(b"not a container")
    with pytest.raises(sae_codec.FormatError):
        codec.decompress(bytes(data[: len(data) // 2]))
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0x40
    with pytest.raises(sae_codec.FormatError):
        codec.decompress(bytes(flipped))
    with pytest.raises(sae_codec.FormatError):
        sae_codec.inspect(b"\0" * 10)


def test_a_container_of_another_model_is_refused(codec, images):
    other = sae_codec.Codec.train(images, epochs=1, warmup=1, batch=32, seed=4)
    with pytest.raises(sae_codec.FormatError, match="made with model"):
        codec.decompress(other.compress(images[:2], refine=0))


def test_loading_a_missing_model_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        sae_codec.Codec.load(tmp_path / "missing.safetensors")


def test_training_reports_each_epoch_and_settings_are_checked(images):
    seen = []
    sae_codec.Codec.train(images, epochs=2, warmup=1, batch=32, progress=seen.append)
    assert [s["epoch"] for s in seen] == [1, 2]
    assert all(s["rel_error"] > 0 and s["epochs"] == 2 for s in seen)
    with pytest.raises(sae_codec.InvalidInput, match="batch"):
        sae_codec.Codec.train(images, epochs=1, batch=0)
    with pytest.raises(sae_codec.InvalidInput, match="preset"):
        sae_codec.Codec.train(images, preset="nope")

    def failing(_):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        sae_codec.Codec.train(images, epochs=1, warmup=1, batch=32, progress=failing)


def test_simulation_is_seeded_and_its_parameters_reproduce_it(tmp_path):
    a, sidecar = sae_codec.simulate(3, seed=11, npix=NPIX, oversample=1)
    b, _ = sae_codec.simulate(3, seed=11, npix=NPIX, oversample=1)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (3, NPIX, NPIX) and a.dtype == np.float32
    assert len(sidecar["images"]) == 3
    again, _ = sae_codec.simulate(params=sidecar)
    np.testing.assert_array_equal(again, a)
    path = tmp_path / "params.json"
    import json

    path.write_text(json.dumps(sidecar))
    np.testing.assert_array_equal(sae_codec.simulate(params=path)[0], a)
    with pytest.raises(sae_codec.InvalidInput):
        sae_codec.simulate()
