#!/usr/bin/env bash
# One row of the accuracy ablation in docs/results.md §4: train with the given
# `sae train` options, compress the 1 000 public SAS images (refined), score them.
#
#   scripts/accuracy-row.sh NAME [sae train options...]
#
# Writes docs/results/accuracy/NAME.json (the `sae eval --json` figures plus the
# training time, its options and the validation curve). Needs a release build
# (`cargo build --release -p sae-cli`) and ../shared/data/sas_sasmodels_public.f32.
#
# With TUNE="IMAGES [sae tune options]" the decoder is then fine-tuned on
# IMAGES (`sae tune`; its time counts as training). With BASE=OTHER the model of
# row OTHER (target/accuracy/OTHER) is taken instead of training one; its
# training time and curve are carried over.
set -euo pipefail
name=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
sae=${SAE:-$root/target/release/sae}
public=${PUBLIC:-$root/../shared/data/sas_sasmodels_public.f32}
refine=${REFINE:-100}
work=$root/target/accuracy/$name
out=$root/docs/results/accuracy
mkdir -p "$work" "$out"
start=$(date +%s.%N)
if [[ -n ${BASE:-} ]]; then
    base=$root/target/accuracy/$BASE
    cp "$base/model.safetensors" "$work/trained.safetensors"
    cp "$base/curve.jsonl" "$work/curve.jsonl"
    start=$(python3 -c "import json,sys; print($start - json.load(open(sys.argv[1]))['train_seconds'])" "$out/$BASE.json")
else
    "$sae" train "$@" -o "$work/trained.safetensors" --curve "$work/curve.jsonl"
fi
if [[ -n ${TUNE:-} ]]; then
    read -r -a tune <<< "$TUNE"
    "$sae" tune -m "$work/trained.safetensors" -i "${tune[@]:0:1}" -o "$work/model.safetensors" "${tune[@]:1}"
else
    cp "$work/trained.safetensors" "$work/model.safetensors"
fi
trained=$(date +%s.%N)
"$sae" compress -m "$work/model.safetensors" -i "$public" --shape 1000,64,64 \
    -o "$work/public.sae" --refine "$refine"
compressed=$(date +%s.%N)
"$sae" decompress -m "$work/model.safetensors" -i "$work/public.sae" -o "$work/public_rec.npy"
"$sae" eval --reference "$public" --shape 1000,64,64 --reconstruction "$work/public_rec.npy" \
    --container "$work/public.sae" --json > "$work/eval.json"
options="$*${BASE:+(model of $BASE)}${TUNE:+; sae tune -i $TUNE}"
python3 - "$name" "$work" "$out/$name.json" "$start" "$trained" "$compressed" "$refine" "$options" <<'PY'
import json, sys
name, work, dest, start, trained, compressed, refine, options = sys.argv[1:]
result = json.load(open(f"{work}/eval.json"))
curve = [json.loads(line) for line in open(f"{work}/curve.jsonl")]
result.update(name=name, options=options, refine=int(refine),
              train_seconds=float(trained) - float(start),
              compress_seconds=float(compressed) - float(trained), curve=curve)
json.dump(result, open(dest, "w"), indent=1)
e, l, r = result["rel_l2"], result["log10_rms"], result["radial_max_rel"]
print(f"{name}: rel L2 mean {e['mean']:.3e} median {e['p50']:.3e} p90 {e['p90']:.3e} max {e['max']:.3e}; "
      f"log10 {l['mean']:.3f}; I(q) {r['mean']:.3e}; ratio {result['byte_ratio']:.1f}x; "
      f"px/nnz {result['values_per_nonzero']['mean']:.1f}; train {result['train_seconds']:.0f} s")
PY
