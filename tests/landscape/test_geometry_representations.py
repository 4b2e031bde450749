"""mlpx.landscape._representations: hidden activations and linear CKA."""

import warnings

import numpy as np
import pytest
from scipy.special import expit
from scipy.stats import ortho_group
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXClassifier
from mlpx.landscape._alignment import permute_hidden_units
from mlpx.landscape._representations import (
    cka_matrix,
    hidden_representations,
    linear_cka,
)


@pytest.fixture(scope="module")
def reps():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(60, 8))
    B = A @ rng.normal(size=(8, 5)) + 0.5 * rng.normal(size=(60, 5))
    return A, B


def cka_by_the_book(R1, R2, debiased):
    """Gram-matrix formulas: Kornblith et al. (biased), Song et al. (unbiased HSIC)."""
    n = R1.shape[0]
    R1, R2 = R1 - R1.mean(0), R2 - R2.mean(0)
    K, L = R1 @ R1.T, R2 @ R2.T
    if not debiased:
        H = np.eye(n) - np.ones((n, n)) / n
        def hsic(K, L):
            return np.trace(K @ H @ L @ H)
    else:
        def hsic(K, L):
            K, L = K - np.diag(np.diag(K)), L - np.diag(np.diag(L))
            one = np.ones(n)
            return (np.trace(K @ L) + (one @ K @ one) * (one @ L @ one) / ((n - 1) * (n - 2))
                    - 2 / (n - 2) * one @ K @ L @ one) / (n * (n - 3))
    return hsic(K, L) / np.sqrt(hsic(K, K) * hsic(L, L))


@pytest.mark.parametrize("debiased", [False, True])
def test_cka_equals_the_gram_matrix_formula(reps, debiased):
    A, B = reps
    assert linear_cka(A, B, debiased=debiased) == pytest.approx(
        cka_by_the_book(A, B, debiased), rel=1e-10)
    assert linear_cka(A[:, :2], B[:, 3:], debiased=debiased) == pytest.approx(
        cka_by_the_book(A[:, :2], B[:, 3:], debiased), rel=1e-10)


@pytest.mark.parametrize("debiased", [False, True])
def test_cka_of_a_representation_with_itself_is_one(reps, debiased):
    A, B = reps
    assert linear_cka(A, A, debiased=debiased) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(A, B, debiased=debiased) < 0.99


@pytest.mark.parametrize("debiased", [False, True])
def test_cka_is_invariant_to_rotation_scaling_and_shift(reps, debiased):
    A, B = reps
    base = linear_cka(A, B, debiased=debiased)
    Q = ortho_group.rvs(A.shape[1], random_state=0)
    assert linear_cka(3.7 * A @ Q + 5.0, B, debiased=debiased) == pytest.approx(base, rel=1e-10)
    assert linear_cka(A, -0.2 * B, debiased=debiased) == pytest.approx(base, rel=1e-10)
    # but not to an anisotropic scaling
    assert linear_cka(A * np.arange(1, 9), B, debiased=debiased) != pytest.approx(base, rel=1e-3)


def test_debiased_cka_is_near_zero_for_independent_wide_representations():
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(50, 200)), rng.normal(size=(50, 200))
    assert linear_cka(A, B) > 0.7  # the biased estimator sees similarity in noise
    assert abs(linear_cka(A, B, debiased=True)) < 0.05


def test_cka_refuses_mismatched_samples(reps):
    A, B = reps
    with pytest.raises(ValueError, match="same samples"):
        linear_cka(A, B[:-1])
    with pytest.raises(ValueError, match="at least 4"):
        linear_cka(A[:3], B[:3], debiased=True)
    assert np.isnan(linear_cka(np.ones((10, 2)), B[:10]))


@pytest.fixture(scope="module")
def net():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(70, 4))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPXClassifier(hidden_layer_sizes=(6, 5), activation="logistic", max_iter=30,
                             random_state=0).fit(X, y)
    return est, X


def test_hidden_representations_follow_the_weights(net):
    est, X = net
    H1, H2 = hidden_representations(est, X)
    W, b = est.coefs_, est.intercepts_
    np.testing.assert_allclose(H1, expit(X @ W[0] + b[0]), rtol=1e-12)
    np.testing.assert_allclose(H2, expit(H1 @ W[1] + b[1]), rtol=1e-12)
    np.testing.assert_allclose(expit(H2 @ W[2] + b[2]).ravel(), est.predict_proba(X)[:, 1],
                               rtol=1e-12)


def test_permuted_network_has_the_same_representations_up_to_order(net):
    est, X = net
    perms = [np.array([5, 4, 3, 2, 1, 0]), np.array([1, 0, 2, 4, 3])]
    twin = permute_hidden_units(est, perms)
    for R, T, p in zip(hidden_representations(est, X), hidden_representations(twin, X), perms):
        np.testing.assert_allclose(T, R[:, p], rtol=1e-13)
    M = cka_matrix(est, twin, X)
    assert M.shape == (2, 2)
    np.testing.assert_allclose(np.diag(M), 1.0, atol=1e-12)


def test_hidden_representations_use_the_networks_leaky_slope():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPXClassifier(hidden_layer_sizes=(7, 4), activation="leaky_relu",
                             leaky_slope=0.3, max_iter=20, random_state=0).fit(X, y)
    h = X
    for W, b, got in zip(est.coefs_[:-1], est.intercepts_[:-1], hidden_representations(est, X)):
        s = h @ W + b
        h = np.where(s > 0, s, 0.3 * s)
        np.testing.assert_allclose(got, h, rtol=1e-12, atol=1e-12)
