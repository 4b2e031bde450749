"""mlpx inside scikit-learn's model selection, pipelines, clone and pickle."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mlpx import MLPXClassifier, MLPXRegressor

GRID = {"mlp__hidden_layer_sizes": [(10,), (50,), (20, 20)],
        "mlp__alpha": [1e-5, 1e-3, 1e-1]}


def pipeline(mlp):
    return Pipeline([("scale", StandardScaler()), ("mlp", mlp)])


@pytest.fixture(scope="module")
def digits():
    return load_digits(return_X_y=True)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def test_grid_search_over_hidden_units_and_alpha_matches_sklearn(digits):
    X, y = digits
    kw = dict(max_iter=60, random_state=0)
    ours = GridSearchCV(pipeline(MLPXClassifier(**kw)), GRID, cv=3, n_jobs=2).fit(X, y)
    theirs = GridSearchCV(pipeline(MLPClassifier(**kw)), GRID, cv=3, n_jobs=2).fit(X, y)
    assert len(ours.cv_results_["params"]) == 9
    # Same initial weights, same shuffles, same updates: the same scores per candidate.
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"],
                               theirs.cv_results_["mean_test_score"], atol=1e-12)
    assert ours.best_params_ == theirs.best_params_
    assert ours.best_score_ > 0.9
    assert ours.score(X, y) > 0.95


def test_randomized_search_and_cross_val_score(digits):
    X, y = digits
    search = RandomizedSearchCV(
        pipeline(MLPXClassifier(max_iter=40, random_state=0)),
        {"mlp__alpha": loguniform(1e-6, 1e-1), "mlp__hidden_layer_sizes": [(16,), (32,)]},
        n_iter=4, cv=3, random_state=0, n_jobs=2,
    ).fit(X, y)
    assert search.best_score_ > 0.9
    scores = cross_val_score(pipeline(MLPXClassifier(max_iter=40, random_state=0)),
                             X, y, cv=5)
    assert scores.shape == (5,) and scores.mean() > 0.9


@pytest.mark.parametrize("cls", [MLPXClassifier, MLPXRegressor])
def test_get_and_set_every_parameter(cls):
    est = cls()
    params = est.get_params()
    sk = (MLPClassifier if cls is MLPXClassifier else __import__(
        "sklearn.neural_network", fromlist=["MLPRegressor"]).MLPRegressor)()
    sk_params = sk.get_params()
    # every scikit-learn parameter, with the same default
    for name, value in sk_params.items():
        assert params[name] == value, name
    new_values = {name: object() for name in params}
    est.set_params(**new_values)
    assert all(est.get_params()[n] is v for n, v in new_values.items())
    assert list(params) == sorted(params)  # get_params is alphabetical, as sklearn


def test_pickle_round_trip_in_a_fresh_process(tmp_path, digits):
    X, y = digits
    clf = MLPXClassifier(hidden_layer_sizes=(16,), max_iter=20, random_state=0)
    clf.fit(X / 16, y)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X / 16)
    code = (
        "import pickle, numpy as np, sys; "
        f"m = pickle.loads(open({str(path)!r}, 'rb').read()); "
        f"X = np.load({str(tmp_path / 'X.npy')!r}); "
        f"np.save({str(tmp_path / 'p.npy')!r}, m.predict_proba(X))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), clf.predict_proba(X / 16))
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params() and not hasattr(fresh, "coefs_")
