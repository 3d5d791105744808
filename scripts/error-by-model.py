#!/usr/bin/env python3
"""Where the error of a reconstruction of the public SAS images lives: mean
relative L2 error per sasmodels model (and structure factor), and each one's
share of the total. Standard library only.

    python3 scripts/error-by-model.py RECONSTRUCTION.npy [PUBLIC.f32 [PUBLIC.json]]
"""
import array
import ast
import json
import math
import pathlib
import sys
from collections import defaultdict

root = pathlib.Path(__file__).resolve().parent.parent
rec_path = sys.argv[1]
ref_path = sys.argv[2] if len(sys.argv) > 2 else root / "../shared/data/sas_sasmodels_public.f32"
side_path = sys.argv[3] if len(sys.argv) > 3 else pathlib.Path(str(ref_path)).with_suffix(".json")


def read_npy(path):
    raw = open(path, "rb").read()
    if raw[:6] != b"\x93NUMPY":
        sys.exit(f"{path}: not a .npy file")
    header_len = int.from_bytes(raw[8:10], "little") if raw[6] == 1 else int.from_bytes(raw[8:12], "little")
    start = (10 if raw[6] == 1 else 12) + header_len
    header = ast.literal_eval(raw[start - header_len:start].decode("latin1"))
    if header["descr"] != "<f4" or header["fortran_order"]:
        sys.exit(f"{path}: expected little-endian f32 in C order, got {header}")
    values = array.array("f")
    values.frombytes(raw[start:])
    return values, header["shape"]


rec, shape = read_npy(rec_path)
ref = array.array("f")
ref.frombytes(open(ref_path, "rb").read())
images = json.load(open(side_path))["images"]
n = math.prod(shape[1:])
if len(ref) != len(rec) or len(images) != shape[0]:
    sys.exit("the reconstruction, the reference and the sidecar disagree in size")

by = defaultdict(list)
for i, image in enumerate(images):
    x, y = ref[i * n:(i + 1) * n], rec[i * n:(i + 1) * n]
    err = math.sqrt(sum((b - a) ** 2 for a, b in zip(x, y)) / sum(a * a for a in x))
    key = image["model"] + ("+" + image["structure_factor"] if image.get("structure_factor") else "")
    by[key].append(err)
total = sum(sum(v) for v in by.values())
print("| model | images | mean rel L2 | median | max | share of the total error |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for key, errs in sorted(by.items(), key=lambda kv: -sum(kv[1])):
    errs.sort()
    print(f"| {key} | {len(errs)} | {sum(errs) / len(errs):.2e} | {errs[len(errs) // 2]:.2e} | {errs[-1]:.2f} "
          f"| {100 * sum(errs) / total:.0f}% |")
