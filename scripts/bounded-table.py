#!/usr/bin/env python3
"""Prints the guaranteed-mode table of docs/results.md §5 from
docs/results/sas_bounded.json (studies/src/bin/sas_bounded.rs) and
docs/results/sas_peers_bounded.json (peers/, `bounded`).

    python3 scripts/bounded-table.py            # the table
    python3 scripts/bounded-table.py --check    # docs/results.md §5 shows it as printed

With --check it exits non-zero, naming the rows, when §5 differs from the JSON files.
"""
import json
import pathlib
import sys

docs = pathlib.Path(__file__).resolve().parent.parent / "docs"
ours = json.load(open(docs / "results" / "sas_bounded.json"))
peers = json.load(open(docs / "results" / "sas_peers_bounded.json"))


def key(bound):
    kind, e = bound.split(":")
    return kind, float(e)


peer = {}
for r in peers["rows"]:
    peer[(r["compressor"], key(r["bound"]))] = r

lines = []
lines.append("| bound | sae-codec B/image (ratio) | latent / correction / direct | bounded coder alone | ZFP | SZ3 abs | SZ3 L2 | fewer bytes than the best peer | compress / decompress MB/s |")
lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in ours["rows"]:
    k = key(r["bound"])
    c = r["choices"]

    def cell(name):
        p = peer.get((name, k))
        if p is None:
            return "—", None
        text = f"{p['bytes_per_image']:.0f}"
        if p["unreachable"]:
            text += f" ({p['unreachable']} unreachable)"
        return text, p["bytes_per_image"]

    cells = [cell(n) for n in ("zfp", "sz3_abs", "sz3_l2")]
    best = min(v for _, v in cells if v is not None)
    lines.append(
        f"| `{k[0]}:{k[1]:.0e}` | {r['bytes_per_image']:.0f} ({r['byte_ratio']:.0f}×) "
        f"| {c['latent']} / {c['residual']} / {c['direct']} | {r['bounded_alone_bytes_per_image']:.0f} "
        f"| {cells[0][0]} | {cells[1][0]} | {cells[2][0]} | {best / r['bytes_per_image']:.2f}× "
        f"| {r['compress_mb_s']:.0f} / {r['decompress_mb_s']:.0f} |"
    )

if sys.argv[1:] != ["--check"]:
    sys.stdout.write("\n".join(lines) + "\n")
    sys.exit(0)
text = (docs / "results.md").read_text()
start = text.index("## 5.")
end = text.find("\n## 6.", start)
section = text[start:] if end < 0 else text[start:end]
shown = [l for l in section.splitlines() if l.startswith("| `")]
rows = lines[2:]
problems = [f"not in docs/results.md §5 as printed: {r}" for r in rows if r not in shown]
problems += [f"in §5 but not in the JSON files: {l}" for l in shown if l not in rows]
for p in problems:
    sys.stderr.write(p + "\n")
if problems:
    sys.exit(1)
sys.stdout.write(f"docs/results.md §5 shows all {len(rows)} guaranteed-mode rows as their JSON says\n")
