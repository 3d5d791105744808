"""Compress a stack of detector images across a Dask cluster into zarr, read
it back, and report sizes, speed and errors: the way a facility would
compress millions of images across nodes, here on a local cluster.

    python crates/sae-python/examples/dask_zarr.py --model model.safetensors \
        --count 2000 --workers 2 --store /tmp/images.zarr

Without --model it trains a small model first (a few seconds; poor errors).
Each chunk of images is made on the worker that compresses it: simulated
there (`sae_codec.simulate`, a seed per chunk) or, with --input, read from
a .npy stack there; nothing large travels through the scheduler. Each worker process runs one thread of ours (RAYON_NUM_THREADS=1),
so the workers split the cores instead of fighting over them.
"""

import argparse
import os
import pathlib
import shutil
import tempfile
import time

import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="model file (sae train / Codec.save); default: train a small one")
    p.add_argument("--input", help=".npy stack (k, n, n) of images; default: simulate")
    p.add_argument("--count", type=int, default=2000, help="images to simulate (default 2000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=2, help="Dask worker processes (default 2)")
    p.add_argument("--chunk", type=int, default=100, help="images per zarr chunk (default 100)")
    p.add_argument("--max-error", help="hold every image to this bound, e.g. l2:1e-2")
    p.add_argument("--refine", type=int, help="refinement iterations (default: the preset's)")
    p.add_argument("--store", help="zarr store path (default: a temporary folder)")
    args = p.parse_args()

    # Before the cluster starts, so that the worker processes inherit it.
    os.environ.setdefault("RAYON_NUM_THREADS", "1")
    import dask
    import dask.array as da
    import distributed
    import zarr

    import sae_codec
    from sae_codec.numcodecs import SaeCodec

    if args.input:
        count, npix = np.load(args.input, mmap_mode="r").shape[:2]
    else:
        count = args.count
        npix = sae_codec.Codec.load(args.model).record_shape[0] if args.model else 64
    starts = range(0, count, args.chunk)

    def load(start):
        """One chunk of images, made where it is compressed: read from the
        file, or simulated with a seed of its own."""
        rows = min(args.chunk, count - start)
        if args.input:
            return np.asarray(np.load(args.input, mmap_mode="r")[start : start + rows], dtype=np.float32)
        return sae_codec.simulate(rows, seed=args.seed * 1_000_003 + start, npix=npix)[0]

    scratch = pathlib.Path(tempfile.mkdtemp(prefix="sae-dask-"))
    model = args.model
    if model is None:
        model = str(scratch / "model.safetensors")
        sae_codec.Codec.train(np.concatenate([load(s) for s in starts[:10]]), epochs=5).save(model)
    store = args.store or str(scratch / "images.zarr")
    shutil.rmtree(store, ignore_errors=True)

    compressor = SaeCodec(model=model, max_error=args.max_error, refine=args.refine)
    z = zarr.create(
        shape=(count, npix, npix), chunks=(args.chunk, npix, npix), dtype="float32",
        compressor=compressor, zarr_format=2, store=store,
    )
    with distributed.LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster):
        stack = da.concatenate([
            da.from_delayed(dask.delayed(load)(s), shape=(min(args.chunk, count - s), npix, npix), dtype=np.float32)
            for s in starts
        ])
        start = time.perf_counter()
        stack.store(z, lock=False)
        write_s = time.perf_counter() - start
        start = time.perf_counter()
        back = da.from_zarr(store).compute()
        read_s = time.perf_counter() - start

    images = np.concatenate([load(s) for s in starts])
    stored = sum(f.stat().st_size for f in pathlib.Path(store).rglob("*") if f.is_file())
    flat = images.reshape(len(images), -1).astype(np.float64)
    errors = np.linalg.norm(flat - back.reshape(len(back), -1), axis=1) / np.linalg.norm(flat, axis=1)
    print(f"images            {len(images)} of {images.shape[1]}x{images.shape[2]}, chunks of {args.chunk}")
    print(f"workers           {args.workers} processes x 1 thread")
    print(f"codec             {compressor!r}")
    print(f"compress (write)  {write_s:.1f} s, {len(images) / write_s:.0f} images/s")
    print(f"decompress (read) {read_s:.2f} s, {len(images) / read_s:.0f} images/s")
    print(f"stored bytes      {stored} (zarr chunks and metadata): {images.nbytes / stored:.1f}x of raw float32")
    print(f"relative L2       mean {errors.mean():.3e}, median {np.median(errors):.3e}, max {errors.max():.3e}")
    if args.store is None:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
