#!/usr/bin/env bash
# Installs the CUDA toolkit that the `cuda` feature builds with, from the
# Python package index, into a local folder, and prints the environment to
# build with:
#
#     eval "$(scripts/cuda-toolkit.sh)"
#     cargo build --release --locked -p sae-cli --features cuda
#
# No GPU and no system CUDA are needed to build: nvcc compiles candle's
# kernels to PTX (and its static kernels to SASS) for CUDA_COMPUTE_CAP
# (default 90, Hopper; PTX for 9.0 is JIT-compiled by the driver on later
# GPUs too), and the binary links against the wheels' libraries and a stub
# of the driver library (libcuda.so.1), which the GPU machine's driver
# provides at run time.
#
# Environment: CUDA_TOOLKIT_DIR (default target/cuda-toolkit), CUDA_COMPUTE_CAP,
# CUDA_SERIES (a 13.x toolkit series, default 13.0: the oldest CUDA 13, so that the
# PTX loads on any CUDA 13 driver; cudarc 0.19 supports up to 13.4; CUDA 12's
# wheels are named and laid out differently, and a CUDA 13 build needs a driver
# of the 580 series or later).
# Progress goes to stderr; stdout is only the `export` lines.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${CUDA_TOOLKIT_DIR:-$root/target/cuda-toolkit}
series=${CUDA_SERIES:-13.0}
[[ $series == 13.* ]] || { echo "cuda-toolkit: CUDA_SERIES=$series: only 13.x is supported" >&2; exit 2; }
cap=${CUDA_COMPUTE_CAP:-90}
home=$dir/nvidia/cu13

# One definition of what the build needs: compiler, headers, the libraries
# candle links (cudart, cublas, cublasLt, curand, nvrtc).
packages=(
    "nvidia-cuda-nvcc==$series.*"
    "nvidia-cuda-crt==$series.*"
    "nvidia-nvvm==$series.*"
    "nvidia-cuda-cccl==$series.*"
    "nvidia-cuda-runtime==$series.*"
    "nvidia-cuda-nvrtc==$series.*"
    "nvidia-cublas==$series.*"
    "nvidia-curand==10.4.0.*"
)
stamp=$dir/.installed
if [[ ! -f $stamp || $(cat "$stamp") != "${packages[*]}" ]]; then
    echo "cuda-toolkit: installing ${packages[*]} into $dir" >&2
    rm -rf "$dir"
    # Any pip will do: the system's, else the Python tests' venv (scripts/python-tests.sh).
    pip=(python3 -m pip)
    if ! "${pip[@]}" --version > /dev/null 2>&1; then
        pip=("$root/target/python-venv/bin/python" -m pip)
    fi
    "${pip[@]}" install --quiet --no-deps --target "$dir" "${packages[@]}" >&2
    printf '%s' "${packages[*]}" > "$stamp"
fi
[[ -x $home/bin/nvcc ]] || { echo "cuda-toolkit: no nvcc in $home/bin" >&2; exit 1; }

# The linker wants unversioned names; the wheels ship only the sonames.
for lib in "$home"/lib/lib*.so.*; do
    base=${lib%%.so.*}.so
    [[ -e $base ]] || ln -s "$(basename "$lib")" "$base"
done

# A stub of the driver library, with every function cudarc declares, so that
# `-lcuda` links here; the soname is the real driver's.
stubs=$home/lib/stubs
if [[ ! -f $stubs/libcuda.so ]]; then
    # The cudarc that Cargo.lock names, from cargo's registry.
    locked=$(sed -n '/^name = "cudarc"$/{n;s/^version = "\(.*\)"$/\1/p}' "$root/Cargo.lock")
    [[ -n $locked ]] || { echo "cuda-toolkit: no cudarc in Cargo.lock" >&2; exit 1; }
    find_cudarc() { find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -mindepth 2 -maxdepth 2 -type d -name "cudarc-$locked" | head -n 1; }
    cudarc=$(find_cudarc)
    if [[ -z $cudarc ]]; then
        (cd "$root" && cargo fetch --locked >&2)
        cudarc=$(find_cudarc)
    fi
    [[ -d $cudarc/src/driver/sys ]] || { echo "cuda-toolkit: cudarc $locked's sources not found" >&2; exit 1; }
    mkdir -p "$stubs"
    grep -rhoE 'pub unsafe fn cu[A-Za-z0-9_]+' "$cudarc/src/driver/sys" | sed 's/pub unsafe fn //' | sort -u |
        sed 's/.*/int &(void) { return 999; }/' > "$stubs/libcuda.c"
    cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$stubs/libcuda.so" "$stubs/libcuda.c"
fi

version=$("$home/bin/nvcc" --version | sed -n 's/.*release \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
read -r major minor <<< "$version"
echo "cuda-toolkit: nvcc $major.$minor in $home, compute capability $cap" >&2
cat <<EOF
export CUDA_HOME="$home"
export CUDA_ROOT="$home"
export PATH="$home/bin:\$PATH"
export LIBRARY_PATH="$home/lib:$stubs\${LIBRARY_PATH:+:\$LIBRARY_PATH}"
export CUDA_COMPUTE_CAP="$cap"
export CUDARC_CUDA_VERSION="${major}0${minor}0"
EOF
