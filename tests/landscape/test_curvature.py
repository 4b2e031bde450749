"""mlpx.landscape curvature: Hessian operator, extreme eigenvalues, trace."""

import warnings

import numpy as np
import pytest
from scipy.sparse.linalg import LinearOperator
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx.landscape._curvature import (
    dense_hessian,
    extreme_eigenvalues,
    hessian_operator,
    hutchinson_trace,
)


@pytest.fixture(scope="module")
def fitted():
    X, y = make_classification(80, 5, n_informative=3, n_classes=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPXClassifier(hidden_layer_sizes=(6,), activation="tanh", max_iter=30,
                             alpha=0.01, random_state=0).fit(X, y)
    return clf, X, y


def test_operator_agrees_with_the_dense_hessian(fitted):
    clf, X, y = fitted
    H = hessian_operator(clf, X, y)
    assert isinstance(H, LinearOperator) and H.shape == (clf._params.size,) * 2
    D = dense_hessian(clf, X, y)
    v = np.random.default_rng(0).normal(size=H.shape[0])
    np.testing.assert_allclose(H @ v, D @ v, rtol=1e-12)
    np.testing.assert_allclose(D, D.T, atol=1e-12)


def test_extreme_eigenvalues_match_the_dense_spectrum(fitted):
    clf, X, y = fitted
    w = np.linalg.eigvalsh(dense_hessian(clf, X, y))
    top, bottom = extreme_eigenvalues(clf, X, y)
    assert top == pytest.approx(w[-1], rel=1e-6)
    assert bottom == pytest.approx(w[0], rel=1e-6, abs=1e-9)


def test_hutchinson_trace_estimates_the_trace(fitted):
    clf, X, y = fitted
    exact = np.trace(dense_hessian(clf, X, y))
    est, se = hutchinson_trace(clf, X, y, n_samples=400, random_state=0)
    assert se > 0
    assert abs(est - exact) < 4 * se


def test_penalty_adds_alpha_over_n_on_the_weights(fitted):
    clf, X, y = fitted
    D = dense_hessian(clf, X, y) - dense_hessian(clf, X, y, include_penalty=False)
    n_w = sum(c.size for c in clf.coefs_)
    np.testing.assert_allclose(np.diag(D)[:n_w], clf.alpha / len(X), rtol=1e-10)
    np.testing.assert_allclose(np.diag(D)[n_w:], 0, atol=1e-14)


def test_weight_hessian_vanishes_at_zero_with_two_hidden_layers():
    # A deep linear network at zero weights: every second derivative between
    # weights still multiplies a zero weight (the biases' rows need not vanish).
    X, y = make_regression(40, 4, n_targets=2, random_state=0)
    reg = MLPXRegressor(hidden_layer_sizes=(3, 3), activation="identity", alpha=0.0,
                        max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    reg._params[:] = 0.0
    H = dense_hessian(reg, X, y)
    n_w = sum(c.size for c in reg.coefs_)
    assert np.count_nonzero(H[:n_w, :n_w]) == 0
    assert np.count_nonzero(H) > 0  # the output bias rows do not vanish


def test_bad_inputs(fitted):
    clf, X, y = fitted
    with pytest.raises(ValueError, match="features"):
        hessian_operator(clf, X[:, :2], y)
    with pytest.raises(ValueError, match="n_samples"):
        hutchinson_trace(clf, X, y, n_samples=1)
    with pytest.raises(ValueError, match="max_params"):
        dense_hessian(clf, X, y, max_params=10)
