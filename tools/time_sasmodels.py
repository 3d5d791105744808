"""Times sasmodels on the 1 000 reference images, to compare with sae-sas.

Usage: pip install sasmodels==1.1.0 && python3 tools/time_sasmodels.py [DATA_DIR]

Computes every image of sas_sasmodels_public.json with sasmodels' compiled C
kernels (double precision, polydispersity cutoff 1e-5, 3x3 sub-pixel points,
all q points of an image in one kernel call), checks the result against the
stored images and prints the wall-clock time. Kernels are compiled before timing.
"""
import json
import sys
import time

import numpy as np
from sasmodels.core import load_model
from sasmodels.direct_model import call_kernel

data_dir = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
meta = json.load(open(f"{data_dir}/sas_sasmodels_public.json"))
ref = np.fromfile(f"{data_dir}/sas_sasmodels_public.f32", dtype="<f4").reshape(-1, 64, 64)
centres = -0.3 + (np.arange(64) + 0.5) * 0.009375
sub = (centres[:, None] + np.array([-1, 0, 1])[None, :] * 0.009375 / 3).ravel()
qx, qy = np.meshgrid(sub, sub)
kernels = {}
for im in meta["images"]:
    name = im["sasmodels_name"]
    if name not in kernels:
        kernels[name] = load_model(name, dtype="double").make_kernel([qx.ravel(), qy.ravel()])
start = time.time()
worst = 0.0
for i, im in enumerate(meta["images"]):
    I = call_kernel(kernels[im["sasmodels_name"]], im["params"], cutoff=1e-5)
    I = I.reshape(64, 3, 64, 3).mean(axis=(1, 3)).astype(np.float32)
    r = ref[i].astype(np.float64)
    worst = max(worst, np.sqrt(((I - r) ** 2).sum() / (r ** 2).sum()))
elapsed = time.time() - start
print(f"{len(meta['images'])} images in {elapsed:.1f} s ({len(meta['images']) / elapsed:.0f} images/s); "
      f"worst relative L2 vs stored {worst:.1e}")
