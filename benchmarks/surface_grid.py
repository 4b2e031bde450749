"""A 51 x 51 loss surface of a digits network: the compiled grid against the same
2601 points evaluated one by one.

MLPXClassifier(hidden_layer_sizes=(32,)) fitted on all 1797 digits (X/16); a
filter-normalised random plane around it, [-1, 1]^2. Timed, median of repeats,
in one run:

* ``loss_surface`` (all points in one compiled call), on the engine's default
  threads and on one thread;
* one by one through the estimator: ``with_params`` then its data loss (a
  forward pass of the copy and NumPy's loss), point after point;
* one by one through ``NetworkLoss`` (the engine's whole-data loss and
  gradient at each point, as the 1-D paths evaluate).

The one-by-one losses are checked against the grid.

    python benchmarks/surface_grid.py [--resolution 51] [--repeats 3]
"""

import argparse
import os
import platform
import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import mlpx
from mlpx import MLPXClassifier
from mlpx._engine import single_threaded_blas, with_params
from mlpx._threads import effective_n_threads
from mlpx.landscape._losses import data_loss
from mlpx.landscape._paths import NetworkLoss
from mlpx.landscape._surfaces import loss_surface


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=51)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPXClassifier(hidden_layer_sizes=(32,), max_iter=200, random_state=0).fit(X, y)
    r = args.resolution
    surface = loss_surface(est, X, y, random_state=0, resolution=r)
    points = [surface.origin + a * surface.directions[0] + b * surface.directions[1]
              for a in surface.x for b in surface.y]
    threads = effective_n_threads()
    print(f"mlpx {mlpx.__version__}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, engine threads {threads}")
    print(f"{r} x {r} = {len(points)} points, {len(X)} samples, network 64-32-10 "
          f"(train loss at the centre {surface.train_loss[r // 2, r // 2]:.4f})")

    def grid(n_threads):
        return lambda: loss_surface(est, X, y, random_state=0, resolution=r,
                                    n_threads=n_threads).train_loss.ravel()

    def estimator_one_by_one():
        return np.array([data_loss(with_params(est, p), X, y) for p in points])

    loss = NetworkLoss(est, X, y)

    def network_loss_one_by_one():
        with single_threaded_blas():
            return np.array([loss(p) for p in points])

    rows = [("loss_surface, compiled grid", grid(None)),
            ("loss_surface, compiled grid, 1 thread", grid(1)),
            ("one by one: with_params + data loss", estimator_one_by_one),
            ("one by one: NetworkLoss (loss + gradient)", network_loss_one_by_one)]
    reference = surface.train_loss.ravel()
    base = None
    for name, fn in rows:
        median, times, values = timed(fn, args.repeats)
        base = base or median
        diff = np.max(np.abs(values - reference) / np.abs(reference))
        print(f"{name:45s} {median:8.3f} s  ({', '.join(f'{t:.3f}' for t in times)})  "
              f"x{median / base:6.1f}  max rel. diff to the grid {diff:.1e}")


if __name__ == "__main__":
    main()
