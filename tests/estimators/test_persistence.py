"""Saving and loading models: pickle (version-stamped) and skops."""

import pickle
import warnings

import numpy as np
import pytest
import skops.io as sio
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning

import mlpx
from mlpx import MLPXClassifier, MLPXRegressor, MlpxVersionWarning


@pytest.fixture(params=["classifier", "regressor"])
def fitted(request):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if request.param == "classifier":
            X, y = load_digits(return_X_y=True)
            return MLPXClassifier(hidden_layer_sizes=(8,), max_iter=3,
                                  random_state=0).fit(X / 16, y), X / 16
        X, y = make_regression(100, 5, random_state=0)
        return MLPXRegressor(hidden_layer_sizes=(8,), max_iter=3, solver="sgd",
                             random_state=0).fit(X, y), X


def test_pickle_round_trip_is_silent_and_exact(fitted):
    est, X = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    assert all(a.base is loaded._params for a in loaded.coefs_ + loaded.intercepts_)


def test_pickle_from_another_version_warns(fitted, monkeypatch):
    est, X = fitted
    data = pickle.dumps(est)
    monkeypatch.setattr("mlpx._base.__version__", "99.0")
    with pytest.warns(MlpxVersionWarning, match="saved by mlpx .* loaded by mlpx 99.0"):
        loaded = pickle.loads(data)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_skops_round_trip_with_trusted_types(fitted, tmp_path):
    est, X = fitted
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    assert set(sio.get_untrusted_types(file=path)) <= set(mlpx.SKOPS_TRUSTED_TYPES)
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(path)  # nothing is trusted by default
    loaded = sio.load(path, trusted=mlpx.SKOPS_TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    assert all(a.base is loaded._params for a in loaded.coefs_ + loaded.intercepts_)


@pytest.mark.parametrize("solver", ["sgd", "adam", "sgld", "lbfgs"])
def test_every_solver_saves_and_loads_with_the_trusted_list(solver, tmp_path):
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPXClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=3,
                             random_state=0).fit(X / 16, y)
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    loaded = sio.load(path, trusted=mlpx.SKOPS_TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.predict_proba(X / 16), est.predict_proba(X / 16))
