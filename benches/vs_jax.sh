#!/usr/bin/env bash
# Our training step and encoding beside JAX/XLA's, in one run on one machine:
# the identical MLP, weights, batch and optimiser at the recipe's shape
# (4096, 1024, 4096) batch 128 (weights after 2 epochs of the sas preset: a
# sparse latent) and at (4096, 4096, 8192) batch 512 (fresh weights: dense),
# plus the machine's peak (one 4096^3 product in XLA). Prints the ratios.
#   benches/vs_jax.sh          (JAX from the package index into target/jax-venv)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/jax-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "jax[cpu]" numpy
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo build --release --locked --bench vs_jax
bin=$(ls -t target/release/deps/vs_jax-* | grep -v '\.d$' | head -1)
"$bin" "$out" | tee "$out/ours.jsonl"
"$venv/bin/python" benches/vs_jax.py "$out" | tee "$out/jax.jsonl"
"$venv/bin/python" - "$out" <<'PY'
import json, sys
d = sys.argv[1]
ours = {r["point"]: r for r in map(json.loads, open(f"{d}/ours.jsonl"))}
jax = {r["point"]: r for r in map(json.loads, open(f"{d}/jax.jsonl"))}
for p, o in ours.items():
    j = jax[p]
    print(f"{p}: (n, m, l) = ({o['n']}, {o['m']}, {o['l']}), batch {o['batch']}, "
          f"{o['batch_active_units']:.0f} active latent units in the batch")
    print(f"  step: ours {o['step_active_s'] * 1e3:.1f} ms (dense path {o['step_dense_s'] * 1e3:.1f} ms), "
          f"JAX {j['step_s'] * 1e3:.1f} ms -> ours {j['step_s'] / o['step_active_s']:.2f}x JAX's speed "
          f"(dense path {j['step_s'] / o['step_dense_s']:.2f}x)")
    print(f"  encode 512: ours {o['encode_512_s'] * 1e3:.1f} ms, JAX {j['encode_512_s'] * 1e3:.1f} ms "
          f"-> ours {j['encode_512_s'] / o['encode_512_s']:.2f}x JAX's speed")
print(f"machine peak (XLA, one 4096^3 f32 product): {next(iter(jax.values()))['peak_gflops_4096']:.0f} GFLOP/s")
PY
