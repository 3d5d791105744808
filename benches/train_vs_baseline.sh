#!/usr/bin/env bash
# Training throughput of this tree's `sae train` beside a baseline commit's, in one
# run on the same machine, images and options: a fixed pool and a streaming run.
#
#   benches/train_vs_baseline.sh [BASE]     # BASE: a commit, default 8c2280b (before issue 27)
#
# Builds BASE's CLI once into target/baseline/ (a git worktree and its own target
# directory), simulates a pool of 6 000 64×64 images (seed 0), then runs:
#   fixed:     sae train -i pool.npy --epochs $EPOCHS            (default 10)
#   streaming: sae train --simulate 6000 --minutes $MINUTES     (default 3), with
#              this tree's `--views true` and `--views false` beside the baseline
# and prints sample-passes per second of training for each (the curve's epochs ×
# the 5 700 training rows over the last epoch's time), and the ratios.
# Figures: docs/benchmarks.md ("Against the code before issue 27").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-8c2280b}
epochs=${EPOCHS:-10}
minutes=${MINUTES:-3}
work=$root/target/baseline
mkdir -p "$work"
if [[ ! -x $work/sae-$base ]]; then
    rm -rf "$work/src"
    git -C "$root" worktree prune
    git -C "$root" worktree add --detach "$work/src" "$base" >/dev/null
    cargo build --release --locked -p sae-cli --manifest-path "$work/src/Cargo.toml" \
        --target-dir "$work/target"
    cp "$work/target/release/sae" "$work/sae-$base"
    git -C "$root" worktree remove --force "$work/src"
fi
cargo build --release --locked -p sae-cli --manifest-path "$root/Cargo.toml"
new=$root/target/release/sae
old=$work/sae-$base
pool=$work/pool6000.npy
[[ -f $pool ]] || "$new" simulate --count 6000 --seed 0 -o "$pool"

rate() { # curve.jsonl -> sample-passes per second (5% of 6 000 held out)
    python3 - "$1" <<'PY'
import json, sys
curve = [json.loads(l) for l in open(sys.argv[1])]
print(f"{len(curve) * 5700 / curve[-1]['seconds']:.0f}")
PY
}
run() { # name binary options...
    local name=$1 bin=$2
    shift 2
    "$bin" train "$@" -o "$work/$name.safetensors" --curve "$work/$name.jsonl" 2>"$work/$name.log"
    printf '%s %s\n' "$name" "$(rate "$work/$name.jsonl")"
}
{
    run fixed-base "$old" -i "$pool" --epochs "$epochs"
    run fixed-new "$new" -i "$pool" --epochs "$epochs"
    run stream-base "$old" --simulate 6000 --minutes "$minutes"
    run stream-new-noviews "$new" --simulate 6000 --minutes "$minutes" --views false
    run stream-new "$new" --simulate 6000 --minutes "$minutes" --views true
} | tee "$work/rates.txt"
python3 - "$work/rates.txt" <<'PY'
import sys
r = dict(line.split() for line in open(sys.argv[1]))
r = {k: float(v) for k, v in r.items()}
print(f"fixed pool: {r['fixed-new'] / r['fixed-base']:.2f}x the baseline's samples/s")
print(f"streaming: {r['stream-new'] / r['stream-base']:.2f}x (views), "
      f"{r['stream-new-noviews'] / r['stream-base']:.2f}x (every image simulated)")
PY
