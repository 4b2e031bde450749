"""Time per training epoch: mlpx.MLPXClassifier vs sklearn's MLPClassifier.

Both estimators are fitted with identical settings (solver="adam",
batch_size=200, shuffle=True, random_state=0, early_stopping=False, tol=0 and
n_iter_no_change=epochs+1, so that every one of the ``max_iter`` epochs runs).
The time per epoch is the wall time of ``fit`` divided by ``n_iter_``; each
cell is the median of several repeats.

Rows:

* digits (``load_digits``, X/16, 1797 x 64), hidden (100,) and (10, 10);
  20 epochs, 5 repeats;
* synthetic 60000 x 784, 10 classes (uniform features, labels = argmax of a
  random linear map), hidden (100,); 2 epochs, 3 repeats;

each in float64 and float32 (sklearn trains in float32 on float32 input, as
mlpx does) and with 1 and 2 threads. The thread budget is set with
``threadpoolctl.threadpool_limits(limits=t)`` on all APIs around both fits, so
sklearn (BLAS threads) and mlpx (OpenMP threads) get the same number.

Run from the repository root:

    python benchmarks/compare_sklearn.py              # full run, a few minutes
    python benchmarks/compare_sklearn.py --quick      # smoke run, seconds
    python benchmarks/compare_sklearn.py --json results.json
"""

import argparse
import json
import os
import platform
import statistics
import time
import warnings

import numpy as np
import sklearn
from compare import make_synthetic  # benchmarks/ is this script's directory
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

import mlpx
from mlpx import MLPXClassifier

DTYPES = ("float64", "float32")
THREADS = (1, 2)
LIBRARIES = (("sklearn", MLPClassifier), ("mlpx", MLPXClassifier))


def make_cases(quick, repeats):
    """(dataset name, X, y, hidden sizes, epochs, repeats) for every row group."""
    X_dig, y_dig = load_digits(return_X_y=True)
    X_dig = X_dig / 16.0
    n_big = 6000 if quick else 60000
    X_syn, y_syn = make_synthetic(n_big)
    dig_e, dig_r = (5, 2) if quick else (20, 5)
    syn_e, syn_r = (2, 1) if quick else (2, 3)
    syn_name = f"synthetic {n_big}x784"
    return [
        ("digits", X_dig, y_dig, (100,), dig_e, repeats or dig_r),
        ("digits", X_dig, y_dig, (10, 10), dig_e, repeats or dig_r),
        (syn_name, X_syn, y_syn, (100,), syn_e, repeats or syn_r),
    ]


def make_params(hidden, epochs):
    return dict(
        hidden_layer_sizes=hidden,
        solver="adam",
        batch_size=200,
        max_iter=epochs,
        n_iter_no_change=epochs + 1,
        tol=0.0,
        random_state=0,
        shuffle=True,
        early_stopping=False,
    )


def ms_per_epoch(cls, X, y, params):
    """Fit once; return wall time per epoch in milliseconds."""
    clf = cls(**params)
    t0 = time.perf_counter()
    clf.fit(X, y)
    elapsed = time.perf_counter() - t0
    assert clf.n_iter_ == params["max_iter"], (cls.__name__, clf.n_iter_)
    assert clf.coefs_[0].dtype == X.dtype, (cls.__name__, clf.coefs_[0].dtype)
    return 1000.0 * elapsed / clf.n_iter_


def bench_row(X, y, hidden, epochs, repeats, threads):
    """Median ms/epoch of each library, with both under the same thread limit."""
    params = make_params(hidden, epochs)
    times = {name: [] for name, _ in LIBRARIES}
    with threadpool_limits(limits=threads):
        for _, cls in LIBRARIES:  # untimed warm-up: first-call costs
            ms_per_epoch(cls, X[:1000], y[:1000], dict(params, max_iter=1,
                                                       n_iter_no_change=2))
        for _ in range(repeats):  # interleave the libraries to share any drift
            for name, cls in LIBRARIES:
                times[name].append(ms_per_epoch(cls, X, y, params))
    return {name: statistics.median(t) for name, t in times.items()}


def header():
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {platform.platform()}, {platform.machine()}, "
        f"os.cpu_count()={os.cpu_count()}, Python {platform.python_version()}, "
        f"load average {load} (other work on the machine skews the timings)\n"
        f"versions: mlpx {mlpx.__version__}, scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}"
    )


COLUMNS = (("dataset", 22, "s"), ("hidden", 9, "s"), ("dtype", 8, "s"),
           ("threads", 7, "d"), ("sklearn ms/epoch", 17, ".2f"),
           ("mlpx ms/epoch", 14, ".2f"), ("speed-up", 9, ".2f"))


def format_row(values):
    cells = []
    for (_title, width, fmt), v in zip(COLUMNS, values):
        align = "<" if fmt == "s" else ">"
        cells.append(f"{v:{align}{width}{fmt}}")
    return " | ".join(cells)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats per cell for every row (default: 5 digits, "
                             "3 synthetic; 2/1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: fewer repeats/epochs, 6000x784 synthetic")
    parser.add_argument("--json", metavar="PATH", help="also write results as JSON")
    args = parser.parse_args()
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")

    print(header())
    print("solver=adam, batch_size=200, every epoch runs; speed-up = sklearn/mlpx; "
          "medians of repeats")
    titles = [c[0] for c in COLUMNS]
    widths = [c[1] for c in COLUMNS]
    print(" | ".join(f"{t:<{w}}" if i < 3 else f"{t:>{w}}"
                     for i, (t, w) in enumerate(zip(titles, widths))))
    print("-+-".join("-" * w for w in widths))

    warnings.simplefilter("ignore", ConvergenceWarning)
    results = []
    versions = {"mlpx": mlpx.__version__, "sklearn": sklearn.__version__,
                "numpy": np.__version__}
    t_start = time.perf_counter()
    for dataset, X64, y, hidden, epochs, repeats in make_cases(args.quick,
                                                                args.repeats):
        for dtype in DTYPES:
            X = X64.astype(dtype)
            for threads in THREADS:
                med = bench_row(X, y, hidden, epochs, repeats, threads)
                ratio = med["sklearn"] / med["mlpx"]
                hidden_s = ",".join(map(str, hidden))
                print(format_row((dataset, hidden_s, dtype, threads,
                                  med["sklearn"], med["mlpx"], ratio)), flush=True)
                results.append(dict(
                    dataset=dataset, hidden=list(hidden), dtype=dtype,
                    threads=threads, epochs=epochs, repeats=repeats,
                    sklearn_ms_per_epoch=med["sklearn"],
                    mlpx_ms_per_epoch=med["mlpx"], ratio=ratio, versions=versions,
                ))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"total time: {time.perf_counter() - t_start:.0f} s, load average {load}")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
