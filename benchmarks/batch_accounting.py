"""Where a compute-bound training batch spends its time, against the GEMM ceiling.

For a one-hidden-layer network on the 60000 x 784 problem of ``compare.py``
(default 784-100-10, batch 200, one thread; ``--threads t`` runs the products
on t threads, as the engine would), one run alternates, round after round:

* the first layer's forward product ``X_b @ W`` (200 x 784 @ 784 x 100) as one
  BLAS call: the ceiling product of ``compare.py``;
* the same product cut as the engine cuts it (``training_plan``: region-1 chunks
  of rows, each chunk one BLAS call that packs W again);
* the first layer's weight gradient ``X_b^T @ delta`` as one call, and cut into
  the engine's region-2 tasks (blocks of rows of W, each packing delta again);
* a training batch: ``MLPXClassifier.fit`` (adam, 2 epochs of ``--rows`` rows)
  divided by its batches (fit's fixed costs included).

The products call the BLAS that mlpx calls (scipy's, through
``scipy.linalg.cython_blas``) with the operands warm in cache. A batch does two
such products, so "% of ceiling" is (2 x one-call forward) / batch. The batch
splits into the two products at one call each, what cutting them as the engine
does adds, and the rest (the optimizer step, the gather of the batch's rows,
loss and deltas, the output layer, the bias and activation passes, and any
slowdown of the products in training against warm operands). Medians over the
rounds. On t threads a one-call product runs as t concurrent copies (its time
is their wall time / t), and the engine's chunks and tasks are dealt to the
threads round-robin; the BLAS is capped at one thread, as in the engine.
On Linux it also prints the share of the machine's CPU time the hypervisor
stole during the fits.

    python benchmarks/batch_accounting.py                  # float64 and float32
    python benchmarks/batch_accounting.py --threads 2
    python benchmarks/batch_accounting.py --hidden 300 --rounds 9
"""

import argparse
import ctypes
import statistics
import time
import warnings

import numpy as np
import threadpoolctl
from harness import (  # this script's directory
    concurrent_seconds,
    fit_params,
    make_synthetic,
    thread_budget,
)
from mlpx._core._testing import training_plan
from scipy.linalg import cython_blas
from sklearn.exceptions import ConvergenceWarning

import mlpx
from mlpx._engine import Network

BATCH = 200


def _blas_gemm(dtype):
    """Row-major C = op(A) @ B through scipy's BLAS ?gemm, called via ctypes."""
    name = "sgemm" if dtype == np.float32 else "dgemm"
    capsule = cython_blas.__pyx_capi__[name]
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = ctypes.c_void_p
    get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    scalar = ctypes.c_float if dtype == np.float32 else ctypes.c_double
    int_p, scalar_p = ctypes.POINTER(ctypes.c_int), ctypes.POINTER(scalar)
    void_p, char_p = ctypes.c_void_p, ctypes.c_char_p
    fn = ctypes.CFUNCTYPE(None, char_p, char_p, int_p, int_p, int_p, scalar_p, void_p, int_p,
                          void_p, int_p, scalar_p, void_p, int_p)(
        get_pointer(capsule, get_name(capsule)))

    def call(ta, m, n, k, a, lda, b, ldb, c, ldc):
        """Return a no-argument function computing C (m x n) = op(A) @ B (pointers)."""
        # BLAS is column-major: C^T = B^T op(A)^T, operands swapped, flags kept.
        # byref keeps each scalar alive as long as the call's arguments
        args = (b"N", ta, *(ctypes.byref(ctypes.c_int(v)) for v in (n, m, k)),
                ctypes.byref(scalar(1)), b, ctypes.byref(ctypes.c_int(ldb)), a,
                ctypes.byref(ctypes.c_int(lda)), ctypes.byref(scalar(0)), c,
                ctypes.byref(ctypes.c_int(ldc)))
        return lambda: fn(*args)

    return call


def product_calls(dtype, x, W, delta, out, grad, chunk_rows, tasks):
    """The four ways of running the first layer's two products, as call lists."""
    gemm = _blas_gemm(dtype)
    m, fi = x.shape
    fo = W.shape[1]
    item = x.itemsize
    xp, wp, dp, op, gp = (a.ctypes.data for a in (x, W, delta, out, grad))
    chunks = [gemm(b"N", min(chunk_rows, m - r0), fo, fi, xp + r0 * fi * item, fi, wp, fo,
                   op + r0 * fo * item, fo) for r0 in range(0, m, chunk_rows)]
    blocks = [gemm(b"T", i1 - i0, fo, m, xp + i0 * item, fi, dp, fo, gp + i0 * fo * item, fo)
              for layer, i0, i1 in tasks if layer == 0]
    return {
        "forward, one call": [gemm(b"N", m, fo, fi, xp, fi, wp, fo, op, fo)],
        f"forward, {len(chunks)} chunks": chunks,
        "gradient, one call": [gemm(b"T", fi, fo, m, xp, fi, dp, fo, gp, fo)],
        f"gradient, {len(blocks)} tasks": blocks,
    }


def cpu_jiffies():
    """(stolen, all) CPU time of the machine so far from /proc/stat, or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal [guest guest_nice, inside user]
    return fields[7], sum(fields[:8])


def account(dtype, hidden, rows, rounds, X, y, threads=1):
    dtype = np.dtype(dtype)
    Xd = X.astype(dtype)
    sizes = np.array([X.shape[1], hidden, 10], dtype=np.intp)
    plan = training_plan(Network(sizes, "relu", "softmax").core, BATCH)
    # the blocks of rows of W_0 (one per row block when the grid also cuts columns)
    chunk_rows = plan["chunk_rows"]
    tasks = [(layer, i0, i1) for layer, i0, i1, j0, _ in plan["tasks"] if j0 == 0]
    rng = np.random.default_rng(0)
    x = np.ascontiguousarray(Xd[rng.choice(len(Xd), BATCH, replace=False)])
    W = rng.uniform(-0.08, 0.08, (X.shape[1], hidden)).astype(dtype)
    delta = rng.standard_normal((BATCH, hidden)).astype(dtype)
    # one output pair per thread: the one-call products run as `threads` copies
    outs = [(np.empty((BATCH, hidden), dtype), np.empty((X.shape[1], hidden), dtype))
            for _ in range(threads)]
    copies = [product_calls(dtype, x, W, delta, out, grad, chunk_rows, tasks)
              for out, grad in outs]
    names = list(copies[0])
    # per way, the calls of each thread: copies of a one-call product (time / threads
    # is then its throughput), or the engine's chunks and tasks dealt round-robin
    ways = {}
    for name in names:
        if "one call" in name:
            ways[name] = ([copy[name] for copy in copies], threads)
        else:
            calls = copies[0][name]
            ways[name] = ([calls[t::threads] for t in range(threads)], 1)
    params = fit_params((hidden,), 2, BATCH, 0)
    n_batches = 2 * -(-rows // BATCH)
    times = {name: [] for name in [*names, "training batch"]}
    stolen = total = 0
    with thread_budget(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(rounds):
            with threadpoolctl.threadpool_limits(1, user_api="blas"):  # as in the engine
                for name, (call_lists, per) in ways.items():
                    times[name].append(concurrent_seconds(call_lists, 50) / 50 / per)
            before = cpu_jiffies()
            start = time.perf_counter()
            mlpx.MLPXClassifier(**params).fit(Xd[:rows], y[:rows])
            times["training batch"].append((time.perf_counter() - start) / n_batches)
            after = cpu_jiffies()
            if before is not None and after is not None:
                stolen += after[0] - before[0]
                total += after[1] - before[1]
    med = {name: statistics.median(t) for name, t in times.items()}
    flops = 2.0 * BATCH * X.shape[1] * hidden
    print(f"\n{dtype.name}, {X.shape[1]}-{hidden}-10, batch {BATCH}, {threads} thread(s): "
          f"chunks of {chunk_rows} rows, first-layer tasks "
          f"{[(i0, i1) for layer, i0, i1 in tasks if layer == 0]}; medians of {rounds} rounds")
    print(f"  {'':24s} {'us':>8s} {'GFLOP/s':>8s}")
    for name in names:
        print(f"  {name:24s} {1e6 * med[name]:8.1f} {flops / med[name] / 1e9:8.1f}")
    batch = med["training batch"]
    one_call = med[names[0]] + med[names[2]]
    planned = med[names[1]] + med[names[3]]
    print(f"  {'training batch':24s} {1e6 * batch:8.1f} {2 * flops / batch / 1e9:8.1f}")
    print(f"  % of ceiling (2 x one-call forward / batch): {100 * 2 * med[names[0]] / batch:.1f}")
    print(f"  of the batch: the two products at one call each {100 * one_call / batch:.1f} %, "
          f"the cut into chunks and tasks {100 * (planned - one_call) / batch:.1f} %, "
          f"the rest {100 * (batch - planned) / batch:.1f} %")
    if cpu_jiffies() is not None:
        share = 100 * stolen / total if total else 0.0
        print(f"  CPU time stolen by the hypervisor during the fits: {share:.1f} %")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--rows", type=int, default=20000,
                        help="training rows of each timed fit (2 epochs)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    X, y = make_synthetic(60000)
    for dtype in args.dtypes.split(","):
        account(dtype, args.hidden, args.rows, args.rounds, X, y, args.threads)


if __name__ == "__main__":
    main()
