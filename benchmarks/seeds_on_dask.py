"""A seed study on a Dask cluster against the same study run here.

256 seeds of a digits 64-10-10-10 network (30 epochs), trained three ways:
here in one compiled call; on a ``distributed.LocalCluster`` (2 worker
processes x 1 thread) under ``joblib.parallel_backend("dask")`` in blocks of
seeds, one compiled call per worker; and on the same cluster one seed per task
through the Python epoch loop (``engine="joblib"``). The tables must be
identical; the script prints the times and their ratios.

    python benchmarks/seeds_on_dask.py [--seeds 256] [--epochs 30]
"""

import argparse
import time
import warnings

import joblib
import numpy as np
import pandas as pd
from distributed import Client, LocalCluster
from sklearn.datasets import load_digits

from mlpx import MLPXClassifier
from mlpx.landscape import train_seeds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    est = MLPXClassifier(hidden_layer_sizes=(10, 10), max_iter=args.epochs)
    seeds = list(range(args.seeds))

    def study(**kw):
        start = time.perf_counter()
        result = train_seeds(est, X, y, seeds, **kw)
        return result, time.perf_counter() - start

    study(engine="compiled")  # warm-up
    local, t_local = study()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster):
        with joblib.parallel_backend("dask"):
            study()  # warm-up: the workers import mlpx
            blocks, t_blocks = study()
            per_seed, t_per_seed = study(engine="joblib")
    for other in (blocks, per_seed):
        pd.testing.assert_frame_equal(other.per_seed, local.per_seed, check_exact=True)
        pd.testing.assert_frame_equal(other.pairs, local.pairs, check_exact=True)
    print(f"{args.seeds} seeds x {args.epochs} epochs of digits 64-10-10-10; "
          "tables identical on every path")
    print(f"  here, one compiled call            {t_local:8.2f} s")
    print(f"  Dask, compiled blocks of seeds     {t_blocks:8.2f} s  "
          f"({t_blocks / t_local:.2f}x here)")
    print(f"  Dask, one seed per task (Python)   {t_per_seed:8.2f} s  "
          f"({t_per_seed / t_local:.2f}x here)")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
