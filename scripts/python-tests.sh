#!/usr/bin/env bash
# The Python package's tests: a venv with maturin, numpy, pytest, numcodecs,
# zarr and Dask from the package index at the versions pinned in
# scripts/python-test-requirements.txt, the package installed the way the
# README says (`pip install crates/sae-python`), then pytest. The CLI the
# tests compare bytes with is this workspace's `sae` as `cargo test` built it
# (target/debug/sae; the same code gives the same bytes at any opt-level),
# else a fresh build of it.
#   scripts/python-tests.sh [PYTEST ARGS]   (venv in target/python-venv)
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
venv=target/python-venv
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv" || {
        echo "python3 -m venv failed: install python3-venv (Debian) or set PYTHON" >&2
        exit 1
    }
fi
"$venv/bin/pip" install -q --upgrade pip
# Pinned: an unpinned install into a venv kept from an earlier run once paired
# a new dask with an old distributed (ImportError at collection).
"$venv/bin/pip" install -q -r scripts/python-test-requirements.txt
"$venv/bin/pip" check

echo "== pip install crates/sae-python"
"$venv/bin/pip" install -q crates/sae-python

echo "== the sae CLI, for byte-for-byte comparisons"
if [ -z "${SAE_BIN:-}" ]; then
    [ -x target/debug/sae ] || cargo build --locked -p sae-cli
    export SAE_BIN="$PWD/target/debug/sae"
fi

echo "== pytest crates/sae-python/tests"
"$venv/bin/python" -m pytest crates/sae-python/tests -q "$@"
