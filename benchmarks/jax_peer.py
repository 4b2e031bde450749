"""The XLA-compiled peer of compare.py: a whole epoch of mini-batch Adam in JAX.

The epoch is one ``jax.jit``-compiled ``lax.scan`` over the mini-batches (the
row permutation and the gathers inside), with optax's Adam after L2 weight
decay, as the PyTorch loop does. Compilation happens on a first, untimed call
and is reported apart. Full batches only (a last partial batch would be a
second compiled shape): the timed work is the same to a batch in the rows of
compare.py whose row count the batch size divides, and a partial batch less in
the others.

XLA chooses its own threads at start-up, so each thread budget runs in a fresh
interpreter restricted to that many CPUs (``os.sched_setaffinity``):

    python benchmarks/jax_peer.py DATA.npz '{"hidden": [100], ...}'

prints one JSON line: ``ms_per_epoch`` (median of ``repeats``) and
``compile_s``. ``run_child`` does this from compare.py; ``available()`` says
whether JAX and optax can be imported here.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import ALPHA, LEARNING_RATE  # this script's directory


def available():
    """Whether jax and optax import (checked in a child: importing jax here
    would start its threads in the benchmark's own process)."""
    code = "import jax, optax"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def run_child(X, y, hidden, classifier, epochs, batch_size, threads, repeats, seed=0):
    """ms per epoch (median of repeats) and compile seconds, in a fresh interpreter."""
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.npz"
        np.savez(path, X=X, y=y)
        spec = dict(hidden=list(hidden), classifier=bool(classifier), epochs=int(epochs),
                    batch_size=int(batch_size), threads=int(threads),
                    repeats=int(repeats), seed=int(seed))
        out = subprocess.run([sys.executable, str(Path(__file__).resolve()), str(path),
                              json.dumps(spec)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _limit_threads(threads):
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if cpus and threads < len(cpus):
        os.sched_setaffinity(0, cpus[:threads])
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                               + f" --xla_cpu_multi_thread_eigen={threads > 1}").strip()


def child(path, spec):
    import numpy as np

    _limit_threads(spec["threads"])
    data = np.load(path)
    X, y = data["X"], data["y"]
    import jax

    if X.dtype == np.float64:
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    classifier = spec["classifier"]
    n, d = X.shape
    if classifier:
        classes, codes = np.unique(y, return_inverse=True)
        targets, n_out = jnp.asarray(codes), len(classes)
    else:
        y2 = y.reshape(n, -1).astype(X.dtype)
        targets, n_out = jnp.asarray(y2), y2.shape[1]
    sizes = [d, *spec["hidden"], n_out]
    key = jax.random.PRNGKey(spec["seed"])
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        key, sub = jax.random.split(key)
        bound = np.sqrt(6.0 / (a + b))
        params.append((jax.random.uniform(sub, (a, b), X.dtype, -bound, bound),
                       jnp.zeros(b, X.dtype)))
    bs = min(spec["batch_size"], n)
    n_batches = n // bs
    Xj = jnp.asarray(X)
    opt = optax.chain(optax.add_decayed_weights(ALPHA), optax.adam(LEARNING_RATE))

    def loss(params, xb, yb):
        h = xb
        for W, b in params[:-1]:
            h = jax.nn.relu(h @ W + b)
        out = h @ params[-1][0] + params[-1][1]
        if classifier:
            return optax.softmax_cross_entropy_with_integer_labels(out, yb).mean()
        return 0.5 * jnp.mean((out - yb) ** 2)

    def step(carry, batch):
        params, state = carry
        grads = jax.grad(loss)(params, *batch)
        updates, state = opt.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), None

    @jax.jit
    def epoch(params, state, key):
        idx = jax.random.permutation(key, n)[: n_batches * bs].reshape(n_batches, bs)
        (params, state), _ = jax.lax.scan(step, (params, state), (Xj[idx], targets[idx]))
        return params, state

    state = opt.init(params)
    t0 = time.perf_counter()
    jax.block_until_ready(epoch(params, state, key))
    compile_s = time.perf_counter() - t0
    times = []
    for _ in range(spec["repeats"]):
        p, s = params, state
        t0 = time.perf_counter()
        for _ in range(spec["epochs"]):
            key, sub = jax.random.split(key)
            p, s = epoch(p, s, sub)
        jax.block_until_ready(p)
        times.append(1000.0 * (time.perf_counter() - t0) / spec["epochs"])
    return dict(ms_per_epoch=statistics.median(times), runs=times, compile_s=compile_s)


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], json.loads(sys.argv[2]))))
