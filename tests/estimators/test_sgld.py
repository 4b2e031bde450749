"""The SGLD solver: SGD plus Gaussian noise of variance 2 * lr * temperature."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from mlpx import MLPXClassifier, MLPXRegressor


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def test_zero_temperature_is_plain_sgd():
    X, y = make_regression(200, 5, random_state=0)
    kw = dict(hidden_layer_sizes=(8,), max_iter=5, shuffle=False, random_state=0,
              learning_rate_init=1e-3)
    a = MLPXRegressor(solver="sgld", temperature=0.0, **kw).fit(X, y)
    b = MLPXRegressor(solver="sgd", momentum=0.0, nesterovs_momentum=False, **kw).fit(X, y)
    np.testing.assert_array_equal(a._params, b._params)
    assert a.loss_curve_ == b.loss_curve_


def test_noise_has_the_langevin_variance():
    # A learning rate so small that the gradient step vanishes next to the noise:
    # one step moves each parameter by sqrt(2 lr T) * N(0, 1).
    X, y = make_regression(50, 40, random_state=0)
    lr, temperature = 1e-8, 5e7  # 2 lr T = 1
    reg = MLPXRegressor(solver="sgld", hidden_layer_sizes=(50,), max_iter=1,
                        batch_size=50, learning_rate_init=lr, temperature=temperature,
                        random_state=0, shuffle=False)
    start = MLPXRegressor(solver="sgld", hidden_layer_sizes=(50,), max_iter=1,
                          batch_size=50, learning_rate_init=lr, temperature=0.0,
                          random_state=0, shuffle=False)
    step = reg.fit(X, y)._params - start.fit(X, y)._params  # same start, same gradient
    assert step.size > 2000
    assert abs(step.mean()) < 4 / np.sqrt(step.size)
    assert step.var() == pytest.approx(1.0, abs=0.1)
    # Gaussian tails: about 4.6% beyond 2 sigma
    assert np.mean(np.abs(step) > 2) == pytest.approx(0.0455, abs=0.015)


def test_sgld_is_reproducible_and_seeded():
    X, y = make_classification(300, 6, random_state=0)
    kw = dict(solver="sgld", hidden_layer_sizes=(16,), max_iter=3, temperature=1e-3,
              learning_rate_init=0.01)
    a = MLPXClassifier(random_state=1, **kw).fit(X, y)
    b = MLPXClassifier(random_state=1, **kw).fit(X, y)
    c = MLPXClassifier(random_state=2, **kw).fit(X, y)
    np.testing.assert_array_equal(a._params, b._params)
    assert not np.array_equal(a._params, c._params)


def test_sgld_is_bit_identical_for_one_or_two_threads():
    X, y = make_classification(3000, 40, random_state=1)
    kw = dict(solver="sgld", hidden_layer_sizes=(96, 48), max_iter=2, batch_size=1000,
              temperature=1e-4, learning_rate_init=0.01, random_state=0)
    fits = []
    for n in (1, 2):
        with threadpool_limits(limits=n, user_api="openmp"):
            fits.append(MLPXClassifier(**kw).fit(X, y)._params)
    np.testing.assert_array_equal(*fits)


def test_bad_temperature():
    X, y = make_classification(50, 4, random_state=0)
    with pytest.raises(ValueError, match="temperature"):
        MLPXClassifier(solver="sgld", temperature=-1.0).fit(X, y)
