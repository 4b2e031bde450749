"""Sparse X (CSR/CSC) trains and predicts like the same values given densely."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXClassifier, MLPXRegressor


def sparse_problem(classifier, n=300, d=40, density=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, random_state=seed, format="csr") * 3.0
    w = rng.normal(size=d)
    score = X @ w
    y = (score > np.median(score)).astype(int) + (score > np.quantile(score, 0.8))
    if not classifier:
        y = score + 0.1 * rng.normal(size=n)
    return X, y


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("cls", [MLPXClassifier, MLPXRegressor])
def test_sparse_and_dense_give_the_same_model(cls, solver, fmt):
    X, y = sparse_problem(cls is MLPXClassifier)
    X = X.asformat(fmt)
    params = dict(hidden_layer_sizes=(20, 10), solver=solver, max_iter=15,
                  random_state=0, batch_size=64, learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = cls(**params).fit(X, y)
        b = cls(**params).fit(X.toarray(), y)
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(ca, cb, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.loss_, b.loss_, rtol=1e-9)
    np.testing.assert_allclose(a._predict(X), b._predict(X.toarray()), rtol=1e-9,
                               atol=1e-12)


def test_sparse_explicit_zeros_and_float32():
    X, y = sparse_problem(True)
    X = X.astype(np.float32).tocsr()
    X_explicit = X.copy()
    X_explicit.data[::3] = 0.0  # stored zeros
    dense = X_explicit.toarray()
    a = MLPXClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    b = MLPXClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a.fit(X_explicit, y)
        b.fit(dense, y)
    assert a.coefs_[0].dtype == np.float32
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.predict_proba(X_explicit), b.predict_proba(dense),
                               rtol=1e-5, atol=1e-6)


def test_large_sparse_predict_in_parallel_matches_dense():
    X, y = sparse_problem(False, n=20000, d=300, density=0.02)
    reg = MLPXRegressor(hidden_layer_sizes=(64,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    np.testing.assert_allclose(reg.predict(X), reg.predict(X.toarray()), rtol=1e-10,
                               atol=1e-10)
