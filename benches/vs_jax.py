"""JAX/XLA's side of benches/vs_jax.sh: the identical MLP, objective and
optimiser on the weights and batches our side wrote, timed the same way.

    python benches/vs_jax.py DIR        (DIR/recipe, DIR/large from vs_jax)

n -> m -> l -> m -> n, ReLU after the first three layers, objective
mean_b ||y_b - x_b||^2 + lam * mean_b ||z_b||_1, Adam (0.9, 0.999, 1e-8), one
jitted step; encoding is the two encoder layers on 512 records. Also the
machine's peak: one 4096^3 f32 product. Prints one JSON line per point.
"""

import json
import pathlib
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

REPEATS = 15
LAMBDA = 3e-3


def median_time(f, *args):
    jax.block_until_ready(f(*args))
    jax.block_until_ready(f(*args))
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        jax.block_until_ready(f(*args))
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def forward(params, x):
    (w0, b0), (w1, b1), (w2, b2), (w3, b3) = params
    h0 = jax.nn.relu(x @ w0 + b0)
    z = jax.nn.relu(h0 @ w1 + b1)
    h2 = jax.nn.relu(z @ w2 + b2)
    return z, h2 @ w3 + b3


def loss(params, x):
    z, y = forward(params, x)
    return jnp.mean(jnp.sum((y - x) ** 2, axis=1)) + LAMBDA * jnp.mean(jnp.sum(jnp.abs(z), axis=1))


@jax.jit
def step(params, m, v, t, x):
    g = jax.grad(loss)(params, x)
    lr, b1, b2, eps = 1e-9, 0.9, 0.999, 1e-8
    m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
    v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, g)
    c1, c2 = 1 - b1**t, 1 - b2**t
    params = jax.tree.map(lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), params, m, v)
    return params, m, v


@jax.jit
def encode(params, x):
    (w0, b0), (w1, b1), _, _ = params
    return jax.nn.relu(jax.nn.relu(x @ w0 + b0) @ w1 + b1)


def main():
    root = pathlib.Path(sys.argv[1])
    a = jnp.ones((4096, 4096), jnp.float32)
    peak = 2 * 4096**3 / median_time(jax.jit(lambda a: a @ a), a) / 1e9
    for name in ("recipe", "large"):
        d = root / name
        if not d.exists():
            continue
        load = lambda f: jnp.asarray(np.load(d / f"{f}.npy"))
        params = [(load(f"w{i}"), load(f"b{i}")) for i in range(4)]
        x, rows = load("x"), load("encode")
        zeros = jax.tree.map(jnp.zeros_like, params)
        t = jnp.float32(1.0)
        s = median_time(lambda: step(params, zeros, zeros, t, x))
        e = median_time(encode, params, rows)
        print(json.dumps({"point": name, "jax": jax.__version__, "step_s": s, "encode_512_s": e,
                          "peak_gflops_4096": peak}))


if __name__ == "__main__":
    main()
