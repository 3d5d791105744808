#!/usr/bin/env python3
"""Prints the accuracy ablation table of docs/results.md §4 from the JSON rows
that scripts/accuracy-row.sh writes (docs/results/accuracy/NAME.json).

    python3 scripts/accuracy-table.py [NAME ...]    # all rows, by name, if none given
"""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent / "docs" / "results" / "accuracy"
names = sys.argv[1:] or sorted(p.stem for p in root.glob("*.json"))
print("| row | `sae train` options | rel L2 mean / median / p90 / max | log10 RMS mean / max (decades) "
      "| I(q) max rel. dev. median | pixels per nonzero | true byte ratio | training: s, epochs, final validation |")
print("| --- | --- | --- | --- | ---: | ---: | ---: | --- |")
for name in names:
    r = json.load(open(root / f"{name}.json"))
    e, l, q = r["rel_l2"], r["log10_rms"], r["radial_max_rel"]
    curve = r["curve"]
    last = curve[-1] if curve else {}
    val = last.get("validation_rel_error", last.get("rel_error", float("nan")))
    print(f"| `{name}` | `{r['options']}` | {e['mean']:.2e} / {e['p50']:.2e} / {e['p90']:.2e} / {e['max']:.2f} "
          f"| {l['mean']:.2f} / {l['max']:.2f} | {q['p50']:.2g} | {r['values_per_nonzero']['mean']:.0f} "
          f"| {r['byte_ratio']:.0f}× | {r['train_seconds']:.0f}, {len(curve)}, {val:.2e} |")
