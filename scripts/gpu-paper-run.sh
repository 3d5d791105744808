#!/usr/bin/env bash
# The paper-scale run on one GPU, in one go, with nothing but the `sae`
# binary built with `--features cuda` (scripts/cuda-toolkit.sh) and this
# repository:
#
#     scripts/gpu-paper-run.sh BINARY [--public FILE] [--out DIR] [--minutes M] [--dry-run]
#
#  1. checks the device (nvidia-smi, and a first CUDA operation through BINARY);
#  2. checks that the GPU agrees with the CPU: one training step from the same
#     seed on each (their models' reconstructions of the same images), and the
#     decoding of one container on each;
#  3. the paper's configuration `(1, 2, λ, z)` at 64×64: simulates the training
#     images on the machine's cores, trains on the GPU for M minutes, compresses
#     the public SAS images (FILE: the raw f32 images, shape 1000×64×64, or their
#     parameter sidecar, which `sae simulate --params` recomputes) and evaluates;
#  4. times the same MLP's training step in PyTorch, when it is installed;
#  5. writes DIR/result.json (error mean/median/max, pixels per nonzero, byte
#     ratio, samples/s, epochs, the checks) and prints it.
#
# --dry-run runs every step at tiny sizes on the CPU (no GPU, no PyTorch
# needed): the CLI tests run it, so the script stays in working order.
#
# On a GPU machine without network (only the repository and the carried build
# outputs travel), build here and send the binary and the public parameters:
#
#     eval "$(scripts/cuda-toolkit.sh)"
#     cargo build --release --locked -p sae-cli --features cuda
#     mkdir -p target/gpu-data && cp ../shared/data/sas_sasmodels_public.json target/gpu-data/
#     strip -o target/gpu-data/sae target/release/sae    # 123 MB -> 53 MB (2026-12-08)
#     # there, with target/gpu-data carried along (64 MiB at most):
#     scripts/gpu-paper-run.sh target/gpu-data/sae --out "$OUT/gpu-run" --minutes 6
#
# (the public set is recomputed there from its parameters by `sae simulate
# --params`, on the machine's cores; 6 minutes of training leave room for the
# rest, ~2 minutes, under a 10-minute limit per command).
# Environment: TRAIN_IMAGES (default 50000), BATCH (default 512), LAMBDA
# (default: the sas preset's), TF32 (1: train and compress with `--tf32`;
# default 0, exact f32 products; the checks report a TF32 step either way),
# PYTHON (default python3).
#
# The binary links the CUDA libraries it was built with (scripts/cuda-toolkit.sh:
# CUDA 13's libcublas.so.13, libcurand.so.10, libnvrtc.so.13, libcudart.so.13).
# Where the loader does not find them, the script looks in CUDA_HOME,
# /usr/local/cuda* and the Python packages' nvidia/ folders (PyTorch's CUDA
# wheels) and adds what it finds to LD_LIBRARY_PATH.
set -euo pipefail

usage() { echo "usage: $0 BINARY [--public FILE] [--out DIR] [--minutes M] [--dry-run]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
sae=$(realpath "$1")
shift
root=$(cd "$(dirname "$0")/.." && pwd)
public="" out="$root/target/gpu-run" minutes=8 dry=false
while [[ $# -gt 0 ]]; do
    case $1 in
        --public) public=$(realpath "$2"); shift 2 ;;
        --out) out=$2; shift 2 ;;
        --minutes) minutes=$2; shift 2 ;;
        --dry-run) dry=true; shift ;;
        *) usage ;;
    esac
done
python=${PYTHON:-python3}
mkdir -p "$out"
out=$(realpath "$out")
log() { echo "gpu-paper-run: $*" >&2; }

if $dry; then
    device=cpu npix=16 count=${TRAIN_IMAGES:-200} batch=${BATCH:-32} train=(--epochs 2)
    sim=(--npix 16 --oversample 1)
else
    device=cuda npix=64 count=${TRAIN_IMAGES:-50000} batch=${BATCH:-512} train=(--minutes "$minutes")
    sim=()
fi
lambda=()
[[ -n ${LAMBDA:-} ]] && lambda=(--lambda "$LAMBDA")
case ${TF32:-0} in
    0) tf32=false products=() ;;
    1) tf32=true products=(--tf32) ;;
    *) echo "$0: TF32 is 0 or 1, not '$TF32'" >&2; exit 2 ;;
esac

# 1. The device.
if ! $dry; then
    if command -v nvidia-smi > /dev/null; then
        nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader >&2 || true
    else
        log "no nvidia-smi on PATH"
    fi
fi
# The CUDA libraries, where the loader does not know them.
missing_libs() { ldd "$sae" 2> /dev/null | awk '/not found/ {print $1}'; }
if [[ -n $(missing_libs) ]]; then
    dirs=()
    for d in ${CUDA_HOME:-} /usr/local/cuda /usr/local/cuda-*; do
        for sub in lib64 lib targets/x86_64-linux/lib; do
            if [[ -d $d/$sub ]]; then dirs+=("$d/$sub"); fi
        done
    done
    while IFS= read -r d; do
        if [[ -d $d ]]; then
            while IFS= read -r lib; do dirs+=("$lib"); done < <(find "$d" -name 'lib*.so*' -printf '%h\n' | sort -u)
        fi
    done < <("$python" -c 'import nvidia; print("\n".join(nvidia.__path__))' 2> /dev/null || true)
    for lib in $(missing_libs); do
        for d in "${dirs[@]}"; do
            if [[ -e $d/$lib ]]; then
                log "$lib from $d"
                export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
                break
            fi
        done
    done
    left=$(missing_libs | tr '\n' ' ')
    if [[ -n $left ]]; then
        log "libraries the binary needs are not on this machine: $left"
        log "(libcuda.so.1 is the GPU driver's; the *.so.13 ones are CUDA 13's cuBLAS, NVRTC and runtime: from a CUDA 13 toolkit or PyTorch's cu13 wheels)"
        exit 1
    fi
fi
"$sae" --version >&2

# 2. GPU against CPU, on 64 small images: one training step from one seed
# (batch = the training images), then both models' reconstructions of the
# images compared; and one container decoded on each device.
check=$out/check
mkdir -p "$check"
"$sae" simulate --count 64 --seed 1 --npix 16 --oversample 1 -o "$check/images.npy"
step() {
    "$sae" train -i "$check/images.npy" -o "$check/$1.safetensors" --arch 1,2 --epochs 1 \
        --batch 64 --seed 3 --device "$2" "${@:3}" 2> "$check/$1.log"
    "$sae" compress -m "$check/$1.safetensors" -i "$check/images.npy" -o "$check/$1.sae" --no-refine
    "$sae" decompress -m "$check/$1.safetensors" -i "$check/$1.sae" -o "$check/$1.npy"
}
step cpu cpu
step dev "$device"
step dev-tf32 "$device" --tf32
"$sae" eval --reference "$check/cpu.npy" --reconstruction "$check/dev.npy" --json > "$check/step.json"
"$sae" eval --reference "$check/cpu.npy" --reconstruction "$check/dev-tf32.npy" --json > "$check/step-tf32.json"
"$sae" decompress -m "$check/cpu.safetensors" -i "$check/cpu.sae" -o "$check/cpu-on-dev.npy" --device "$device"
"$sae" eval --reference "$check/cpu.npy" --reconstruction "$check/cpu-on-dev.npy" --json > "$check/decode.json"

# 3. The paper's configuration.
log "simulating $count training images on $(nproc) cores"
start=$(date +%s.%N)
"$sae" simulate --count "$count" --seed 0 "${sim[@]}" -o "$out/train.npy"
simulated=$(date +%s.%N)
if [[ -z $public ]] && ! $dry; then
    public=$root/target/gpu-data/sas_sasmodels_public.json
    [[ -f $public ]] || { log "no public images: give --public FILE (.f32 or its .json sidecar)"; exit 1; }
fi
case $public in
    "") "$sae" simulate --count 20 --seed 7 --npix 16 --oversample 1 -o "$out/public.npy"
        reference=("$out/public.npy") ;;
    *.json) "$sae" simulate --params "$public" -o "$out/public.npy"
        reference=("$out/public.npy") ;;
    *) reference=("$public" --shape 1000,64,64) ;;
esac
log "training (1, 2, λ, z) on $device for ${train[*]}, batch $batch"
"$sae" train -i "$out/train.npy" -o "$out/model.safetensors" --arch 1,2 --selector z "${lambda[@]}" \
    --batch "$batch" "${train[@]}" --device "$device" "${products[@]}" --curve "$out/curve.jsonl" 2> "$out/train.log"
trained=$(date +%s.%N)
"$sae" compress -m "$out/model.safetensors" -i "${reference[@]}" -o "$out/public.sae" --no-refine --device "$device" \
    "${products[@]}"
compressed=$(date +%s.%N)
"$sae" decompress -m "$out/model.safetensors" -i "$out/public.sae" -o "$out/public_rec.npy" --device "$device"
"$sae" eval --reference "${reference[@]}" --reconstruction "$out/public_rec.npy" --container "$out/public.sae" \
    --json > "$out/eval.json"

# 4. PyTorch's step of the same MLP, when PyTorch is there.
torch_json=null
if "$python" -c "import torch" 2> /dev/null; then
    n=$((npix * npix))
    torch_json=$("$python" - "$n" "$batch" "$dry" <<'PY'
import json, sys, time
import torch
n, batch, dry = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "true"
dev = "cuda" if torch.cuda.is_available() and not dry else "cpu"
m, l = n, 2 * n
net = torch.nn.Sequential(torch.nn.Linear(n, m), torch.nn.ReLU(), torch.nn.Linear(m, l), torch.nn.ReLU(),
                          torch.nn.Linear(l, m), torch.nn.ReLU(), torch.nn.Linear(m, n)).to(dev)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
x = torch.rand(batch, n, device=dev)
def step():
    z = net[:4](x)
    y = net[4:](z)
    loss = ((y - x) ** 2).sum(1).mean() + 3e-3 * z.abs().sum(1).mean()
    opt.zero_grad(); loss.backward(); opt.step()
def median_step():
    for _ in range(3): step()
    if dev == "cuda": torch.cuda.synchronize()
    times = []
    for _ in range(5 if dry else 20):
        t = time.perf_counter(); step()
        if dev == "cuda": torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]
result = {"torch": torch.__version__, "device": dev, "shape": [n, m, l], "batch": batch}
for name, allow in (("f32", False), ("tf32", True)):
    torch.backends.cuda.matmul.allow_tf32 = allow
    med = median_step()
    result[name] = {"step_ms": med * 1e3, "samples_per_second": batch / med}
print(json.dumps(result))
PY
)
fi

# 5. One result.
"$python" - "$out" "$count" "$start" "$simulated" "$trained" "$compressed" "$device" "$batch" "$torch_json" "$tf32" <<'PY'
import json, sys
out, count, start, simulated, trained, compressed, device, batch, torch_json, tf32 = sys.argv[1:]
count, batch = int(count), int(batch)
ev = json.load(open(f"{out}/eval.json"))
curve = [json.loads(line) for line in open(f"{out}/curve.jsonl")]
step = json.load(open(f"{out}/check/step.json"))
step_tf32 = json.load(open(f"{out}/check/step-tf32.json"))
decode = json.load(open(f"{out}/check/decode.json"))
train_seconds = float(trained) - float(simulated)
epochs = curve[-1]["epoch"] if curve else 0
# 5% of the images are held out for validation (the sas preset).
samples = epochs * round(count * 0.95)
result = {
    "device": device, "network": "(1, 2, lambda, z)", "train_images": count, "batch": batch,
    "tf32": tf32 == "true",
    "simulate_seconds": float(simulated) - float(start), "train_seconds": train_seconds,
    "compress_seconds": float(compressed) - float(trained), "epochs": epochs,
    "samples_per_second": samples / curve[-1]["seconds"] if curve else None,
    "validation": curve[-1] if curve else None,
    "rel_l2": ev["rel_l2"], "values_per_nonzero": ev["values_per_nonzero"], "byte_ratio": ev["byte_ratio"],
    "checks": {"train_step_rel_l2_max": step["rel_l2"]["max"], "decode_rel_l2_max": decode["rel_l2"]["max"]},
    "train_step_tf32_rel_l2_max": step_tf32["rel_l2"]["max"],
    "pytorch_step": json.loads(torch_json),
}
json.dump(result, open(f"{out}/result.json", "w"), indent=1)
print(json.dumps(result, indent=1))
bad = [k for k, v in result["checks"].items() if not v <= 1e-4]
if bad:
    sys.exit(f"gpu-paper-run: the device disagrees with the CPU: {bad} over 1e-4")
PY
