"""Same start, same data, same hyper-parameters: scikit-learn's trajectory.

Both models are first fitted for one epoch; scikit-learn's weights are then
copied into mlpx, and both continue with warm_start for several epochs without
shuffling. Weights and loss curves must agree to 1e-10 relative (float64).
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from mlpx import MLPXClassifier, MLPXRegressor

SOLVERS = {
    "sgd-nesterov": dict(solver="sgd", nesterovs_momentum=True, learning_rate_init=0.05),
    "sgd-momentum": dict(solver="sgd", nesterovs_momentum=False, learning_rate_init=0.05),
    "sgd-invscaling": dict(solver="sgd", momentum=0.0, learning_rate="invscaling",
                           learning_rate_init=0.5, power_t=0.25),
    "adam": dict(solver="adam", learning_rate_init=0.01),
}
EPOCHS = 8


def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), (y - y.mean()) / y.std()


def assert_close(a, b, rtol=1e-10):
    a, b = np.asarray(a), np.asarray(b)
    scale = np.abs(a).max()
    assert np.abs(a - b).max() <= rtol * scale, np.abs(a - b).max() / scale


def continue_from_sklearn_weights(sk_cls, mx_cls, params, X, y):
    common = dict(params, shuffle=False, random_state=0, max_iter=1, warm_start=True,
                  alpha=1e-3, batch_size=64, n_iter_no_change=100)
    sk, mx = sk_cls(**common), mx_cls(**common)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk.fit(X, y)
        mx.fit(X, y)
        for dst, src in zip(mx.coefs_ + mx.intercepts_, sk.coefs_ + sk.intercepts_):
            dst[...] = src
        sk.set_params(max_iter=EPOCHS)
        mx.set_params(max_iter=EPOCHS)
        sk.fit(X, y)
        mx.fit(X, y)
    return sk, mx


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("hidden", [(20,), (16, 8)])
def test_classifier_follows_sklearn_trajectory(solver, hidden):
    X, y = digits()
    params = dict(SOLVERS[solver], hidden_layer_sizes=hidden, activation="tanh")
    sk, mx = continue_from_sklearn_weights(MLPClassifier, MLPXClassifier, params, X, y)
    assert len(mx.loss_curve_) == len(sk.loss_curve_) == 1 + EPOCHS
    assert_close(sk.loss_curve_[1:], mx.loss_curve_[1:])
    for a, b in zip(sk.coefs_ + sk.intercepts_, mx.coefs_ + mx.intercepts_):
        assert_close(a, b)
    assert mx.n_iter_ == sk.n_iter_ and mx.t_ == sk.t_


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("activation", ["relu", "logistic"])
def test_regressor_follows_sklearn_trajectory(solver, activation):
    X, y = diabetes()
    params = dict(SOLVERS[solver], hidden_layer_sizes=(30, 10), activation=activation)
    sk, mx = continue_from_sklearn_weights(MLPRegressor, MLPXRegressor, params, X, y)
    assert_close(sk.loss_curve_[1:], mx.loss_curve_[1:])
    for a, b in zip(sk.coefs_ + sk.intercepts_, mx.coefs_ + mx.intercepts_):
        assert_close(a, b)


@pytest.mark.parametrize("cls_pair", [(MLPClassifier, MLPXClassifier),
                                      (MLPRegressor, MLPXRegressor)])
def test_same_seed_same_initial_weights_and_shuffles(cls_pair):
    # With the same random_state mlpx draws the initial weights and the epoch
    # permutations exactly as scikit-learn does.
    sk_cls, mx_cls = cls_pair
    X, y = digits()
    if mx_cls is MLPXRegressor:
        y = y.astype(float)
    params = dict(hidden_layer_sizes=(12,), max_iter=4, random_state=3,
                  learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = sk_cls(**params).fit(X, y)
        mx = mx_cls(**params).fit(X, y)
    assert_close(sk.loss_curve_, mx.loss_curve_)
    for a, b in zip(sk.coefs_, mx.coefs_):
        assert_close(a, b)


def test_early_stopping_follows_sklearn():
    X, y = digits()
    params = dict(hidden_layer_sizes=(15,), early_stopping=True, random_state=0,
                  n_iter_no_change=3, max_iter=60, learning_rate_init=0.02)
    sk = MLPClassifier(**params).fit(X, y)
    mx = MLPXClassifier(**params).fit(X, y)
    assert mx.n_iter_ == sk.n_iter_
    assert_close(sk.validation_scores_, mx.validation_scores_)
    assert mx.best_validation_score_ == pytest.approx(sk.best_validation_score_)
    assert mx.best_loss_ is None and sk.best_loss_ is None
    for a, b in zip(sk.coefs_, mx.coefs_):  # best weights restored
        assert_close(a, b)


def test_lbfgs_reaches_sklearn_loss_from_same_start():
    # With enough weight decay the basin is well defined; with very little, the
    # two runs' last-digit differences pick different local minima after
    # hundreds of line searches, as two scikit-learn builds would.
    X, y = diabetes()
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", random_state=0,
                  max_iter=5000, tol=1e-12, alpha=1.0, activation="tanh")
    sk = MLPRegressor(**params).fit(X, y)
    mx = MLPXRegressor(**params).fit(X, y)
    assert mx.loss_ == pytest.approx(sk.loss_, rel=1e-6)


def multi_output(k):
    X, _ = digits()
    rng = np.random.RandomState(k)
    Y = X[:, :10] @ rng.normal(size=(10, k)) + 0.1 * rng.normal(size=(len(X), k))
    return X, Y[:, 0] if k == 1 else Y


@pytest.mark.parametrize("solver", ["sgd-nesterov", "adam"])
@pytest.mark.parametrize("k", [1, 3, 10])
def test_multi_output_regression_follows_sklearn_trajectory(solver, k):
    # scikit-learn's step is the gradient of the squared error summed over
    # the k outputs (its loss_curve_ reports the mean over them)
    X, Y = multi_output(k)
    params = dict(SOLVERS[solver], hidden_layer_sizes=(32,), activation="relu")
    sk, mx = continue_from_sklearn_weights(MLPRegressor, MLPXRegressor, params, X, Y)
    assert_close(sk.loss_curve_[1:], mx.loss_curve_[1:])
    for a, b in zip(sk.coefs_ + sk.intercepts_, mx.coefs_ + mx.intercepts_):
        assert_close(a, b)


def test_multi_output_lbfgs_minimises_the_objective_the_sgd_step_descends():
    # scikit-learn hands SciPy the mean loss with the gradient of the summed
    # one (its issue #8349), and its line searches end early; mlpx gives
    # L-BFGS a loss and gradient that agree and gets further down the same
    # objective from the same start. loss_ is reported as scikit-learn's.
    from mlpx._engine import network_of, pack

    X, Y = multi_output(3)
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", random_state=0,
                  max_iter=5000, tol=1e-12, alpha=1.0, activation="tanh")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = MLPRegressor(**params).fit(X, Y)
        mx = MLPXRegressor(**params).fit(X, Y)
    network = network_of(mx)

    def objective(est):  # sum over outputs of the squared error / 2n + alpha/(2n) ||W||^2
        value, grad = network.loss_gradient(pack(est.coefs_, est.intercepts_, np.float64),
                                            X, Y, alpha=1.0 / 3)
        return 3 * value, 3 * np.linalg.norm(grad)

    (j_mx, g_mx), (j_sk, g_sk) = objective(mx), objective(sk)
    assert j_mx <= j_sk and g_mx < g_sk
    assert g_mx < 1e-3
    penalty = 0.5 * sum((W**2).sum() for W in mx.coefs_) / len(X)
    assert mx.loss_ == pytest.approx(0.5 * ((mx.predict(X) - Y) ** 2).mean() + penalty,
                                     rel=1e-12)
