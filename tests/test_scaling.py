"""examples/dask_scaling.py, the code of the "Scaling out" page, on a small cluster.

The example is part of the source tree, not of the installed package: these
tests skip where only the tests were copied (the wheel tests).
"""

import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from mlpx.landscape import agreement_study

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "dask_scaling.py"

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def example():
    if not EXAMPLE.is_file():
        pytest.skip(f"{EXAMPLE} is not there (the examples are not installed)")
    return runpy.run_path(str(EXAMPLE))


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(processes=False, n_workers=2, threads_per_worker=1,
                      dashboard_address=None) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300], X[300:400] / 16.0, y[300:400]


def test_grid_search_runs_on_the_workers_and_matches_a_local_run(example, cluster, data):
    from distributed import Client, get_task_stream

    X, y, _, _ = data
    with Client(cluster) as client, get_task_stream(client) as stream:
        search = example["grid_search"](X, y, max_iter=3)
    assert len(stream.data) > 0  # the fits went through Dask
    local = GridSearchCV(search.estimator, search.param_grid, cv=search.cv).fit(X, y)
    assert search.best_params_ == local.best_params_
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])


def test_seed_study_runs_on_the_workers_and_matches_a_local_run(example, cluster, data):
    from distributed import Client, get_task_stream

    X, y, X_test, y_test = data
    with Client(cluster) as client, get_task_stream(client) as stream:
        study = example["seed_study"](X, y, X_test, y_test, seeds=[0, 1], epochs=2)
    assert len(stream.data) > 0
    local = agreement_study(X, y, X_test=X_test, y_test=y_test, seeds=[0, 1],
                            hidden_layer_sizes=(10, 10), epochs=2, batch_size=32)
    pd.testing.assert_frame_equal(study.per_seed, local.per_seed, check_exact=True)
    pd.testing.assert_frame_equal(study.pairs, local.pairs, check_exact=True)


def test_main_on_an_existing_cluster(example, cluster, capsys):
    example["main"](cluster.scheduler_address)
    out = capsys.readouterr().out
    assert "best parameters" in out
    assert all(setup in out for setup in ("mse_no_softmax", "logloss_softmax", "bce_sigmoid"))
