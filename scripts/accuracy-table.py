#!/usr/bin/env python3
"""Prints the accuracy ablation table of docs/results.md §4 from the JSON rows
that scripts/accuracy-row.sh writes (docs/results/accuracy/NAME.json).

    python3 scripts/accuracy-table.py [NAME ...]    # all rows, by name, if none given
    python3 scripts/accuracy-table.py --check       # docs/results.md §4 shows every row as printed

With --check (CI's last step) it exits non-zero, naming the rows, when a JSON
row is missing from §4 or differs from it, or §4 shows a row no JSON holds.
"""
import json
import pathlib
import sys

docs = pathlib.Path(__file__).resolve().parent.parent / "docs"
root = docs / "results" / "accuracy"
check = sys.argv[1:] == ["--check"]
names = (not check and sys.argv[1:]) or sorted(p.stem for p in root.glob("*.json"))
lines = []
print = lines.append  # noqa: A001 — rows are collected, then printed or checked
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

if not check:
    sys.stdout.write("\n".join(lines) + "\n")
    sys.exit(0)
text = (docs / "results.md").read_text()
start = text.index("## 4.")
end = text.find("\n## 5.", start)
section = text[start:] if end < 0 else text[start:end]
shown = [l for l in section.splitlines() if l.startswith("| `")]
rows = lines[2:]
problems = [f"not in docs/results.md §4 as printed: {r}" for r in rows if r not in shown]
named = {r.split("`")[1] for r in rows}
problems += [f"in §4 without a JSON row: {l}" for l in shown if l.split("`")[1] not in named]
for p in problems:
    sys.stderr.write(p + "\n")
if problems:
    sys.exit(1)
sys.stdout.write(f"docs/results.md §4 shows all {len(rows)} accuracy rows as their JSON says\n")
