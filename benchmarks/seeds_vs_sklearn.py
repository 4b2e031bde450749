"""Multi-seed training: mlpx.landscape.train_seeds against a joblib loop of
scikit-learn MLPClassifier fits.

K seeds of a 64-10-10-10 network on digits (X/16), 50 epochs each, adam,
batch 200, every epoch run (n_iter_no_change > epochs). mlpx trains all seeds
in one compiled call (engine='compiled', one seed per thread) and records only
the final epoch; scikit-learn fits the seeds with joblib.Parallel(n_jobs=2).
Both get the same X: float64 (load_digits' dtype), then float32 (both
libraries then train in float32). Medians of repeats, measured in one run.

    python benchmarks/seeds_vs_sklearn.py [--seeds 16] [--epochs 50] [--repeats 5]
                                          [--dtype float64 float32]
"""

import argparse
import os
import platform
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

import mlpx
from mlpx import MLPXClassifier
from mlpx.landscape import train_seeds


def sklearn_fit(params, seed, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier(**params, random_state=seed).fit(X, y).loss_


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dtype", nargs="+", default=["float64", "float32"],
                        choices=["float64", "float32"])
    args = parser.parse_args()
    X64, y = load_digits(return_X_y=True)
    X64 = X64 / 16.0
    params = dict(hidden_layer_sizes=(10, 10), max_iter=args.epochs,
                  n_iter_no_change=args.epochs + 1, batch_size=200)
    seeds = list(range(args.seeds))
    print(f"{platform.platform()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; "
          f"mlpx {mlpx.__version__}")
    print(f"{args.seeds} seeds x 64-10-10-10 on digits, {args.epochs} epochs, "
          f"medians of {args.repeats}")
    with Parallel(n_jobs=2) as pool:
        pool(delayed(sklearn_fit)(dict(params, max_iter=1), s, X64, y) for s in seeds[:2])
        for dtype in args.dtype:
            X = X64.astype(dtype)
            sk, mx = [], []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                sk_losses = pool(delayed(sklearn_fit)(params, s, X, y) for s in seeds)
                sk.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                study = train_seeds(MLPXClassifier(**params), X, y, seeds, engine="compiled",
                                    record_every=args.epochs)
                mx.append(time.perf_counter() - t0)
            (ests,) = study.estimators.values()
            mx_losses = [e.loss_ for e in ests]
            t_sk, t_mx = np.median(sk), np.median(mx)
            print(f"{dtype}:")
            print(f"  {'scikit-learn, joblib n_jobs=2':<36}{t_sk:8.3f} s")
            print(f"  {'mlpx train_seeds (compiled)':<36}{t_mx:8.3f} s")
            print(f"  speed-up: {t_sk / t_mx:.1f}x")
            # Same seeds, same initialisation and shuffles: the same final losses.
            print(f"  largest final-loss difference between the two: "
                  f"{np.max(np.abs(np.array(sk_losses) - mx_losses)):.2e}")


if __name__ == "__main__":
    main()
