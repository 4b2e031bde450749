"""Scale out with Dask: a grid search and a seed study on a Dask cluster.

    python examples/dask_scaling.py                       # a local cluster
    python examples/dask_scaling.py tcp://scheduler:8786  # an existing cluster

joblib hands the fits of ``GridSearchCV`` (candidates x folds) and the runs of a
seed study (seeds x loss setups) to the workers of the Dask cluster that the
active ``Client`` is connected to; the results are those of a run on one
machine. Needs ``dask[distributed]`` (in the ``test`` extra) and mlpx on every
worker. The documentation page "Scaling out" explains each step;
tests/test_scaling.py runs this code on a small in-process cluster.
"""

import sys

import joblib
from dask.distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split

from mlpx import MLPXClassifier
from mlpx.landscape import agreement_study


def grid_search(X, y, max_iter=50):
    """Cross-validate 4 candidates x 3 folds, one fit per Dask task."""
    search = GridSearchCV(
        MLPXClassifier(max_iter=max_iter, random_state=0),
        {"hidden_layer_sizes": [(16,), (32,)], "alpha": [1e-4, 1e-2]},
        cv=3,
    )
    with joblib.parallel_backend("dask"):
        search.fit(X, y)
    return search


def seed_study(X_train, y_train, X_test, y_test, seeds=range(4), epochs=30):
    """Train every seed under every loss setup, one run per Dask task."""
    with joblib.parallel_backend("dask"):
        return agreement_study(X_train, y_train, X_test=X_test, y_test=y_test,
                               seeds=seeds, hidden_layer_sizes=(10, 10), epochs=epochs,
                               batch_size=32)


def main(address=None):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25,
                                                        random_state=0)
    # One thread per worker process: each fit uses the worker's cores through
    # mlpx's own OpenMP threads (OMP_NUM_THREADS caps them per worker).
    cluster = None if address else LocalCluster(n_workers=2, threads_per_worker=1)
    with Client(address or cluster) as client:
        print(f"Dask dashboard: {client.dashboard_link}")
        search = grid_search(X_train, y_train)
        print(f"best parameters {search.best_params_}, "
              f"cross-validated accuracy {search.best_score_:.3f}")
        study = seed_study(X_train, y_train, X_test, y_test)
        print(study.summary()[["train_loss_mean", "test_score_mean", "test_agreement_mean"]])
    if cluster is not None:
        cluster.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
