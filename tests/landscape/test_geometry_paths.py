"""mlpx.landscape._paths: losses along linear and Bezier paths, barriers."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx.landscape._alignment import permute_hidden_units
from mlpx.landscape._losses import data_loss
from mlpx.landscape._paths import NetworkLoss, bezier_path, linear_path


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    return X[:400], y[:400], X[400:600], y[400:600]


@pytest.fixture(scope="module")
def pair(digits):
    X, y, _, _ = digits
    return [_fit(MLPXClassifier(hidden_layer_sizes=(16,), max_iter=60, random_state=s), X, y)
            for s in (0, 1)]


def test_loss_matches_the_data_loss_and_the_penalised_training_loss(pair, digits):
    X, y, X_test, y_test = digits
    a = pair[0]
    theta = a._params
    assert NetworkLoss(a, X_test, y_test)(theta) == pytest.approx(
        data_loss(a, X_test, y_test), rel=1e-12)
    penalty = a.alpha / (2 * len(X)) * sum((W**2).sum() for W in a.coefs_)
    assert NetworkLoss(a, X, y, alpha=a.alpha)(theta) == pytest.approx(
        data_loss(a, X, y) + penalty, rel=1e-12)


def test_linear_path_ends_are_the_two_networks(pair, digits):
    X, y, X_test, y_test = digits
    res = linear_path(*pair, X, y, X_test=X_test, y_test=y_test, n_points=11)
    df = res.table
    assert df.t.iloc[0] == 0.0 and df.t.iloc[-1] == 1.0 and df.t.is_monotonic_increasing
    assert df.train_loss.iloc[0] == pytest.approx(data_loss(pair[0], X, y), rel=1e-12)
    assert df.train_loss.iloc[-1] == pytest.approx(data_loss(pair[1], X, y), rel=1e-12)
    assert df.test_loss.iloc[-1] == pytest.approx(data_loss(pair[1], X_test, y_test), rel=1e-12)
    assert df.train_gap.iloc[0] == 0.0 and df.train_gap.iloc[-1] == 0.0
    assert res.barrier == pytest.approx(df.train_gap.max()) and res.barrier > 0
    assert res.test_barrier == pytest.approx(df.test_gap.max())


def test_refinement_adds_points_and_never_lowers_the_barrier(pair, digits):
    X, y, _, _ = digits
    coarse = linear_path(*pair, X, y, n_points=9, refine=False)
    fine = linear_path(*pair, X, y, n_points=9, refine=True)
    assert len(coarse.table) == 9 and len(fine.table) > 9
    assert fine.barrier >= coarse.barrier
    # the refined maximum is a local maximum of the gap
    t = fine.barrier_t
    loss = NetworkLoss(pair[0], X, y)
    a, b = pair[0]._params, pair[1]._params
    l0, l1 = fine.table.train_loss.iloc[0], fine.table.train_loss.iloc[-1]

    def gap(s):
        return loss(a + s * (b - a)) - (l0 + s * (l1 - l0))

    assert 0 < t < 1
    assert gap(t) == pytest.approx(fine.barrier, rel=1e-12)
    assert gap(t) >= max(gap(t - 1e-3), gap(t + 1e-3))


def test_barrier_of_a_model_with_itself_is_zero(pair, digits):
    X, y, X_test, y_test = digits
    res = linear_path(pair[0], pair[0], X, y, X_test=X_test, y_test=y_test)
    assert res.barrier == 0.0 and res.test_barrier == 0.0
    assert np.all(res.table.train_loss == res.table.train_loss.iloc[0])


def test_barrier_to_a_permuted_copy_vanishes_once_aligned(pair, digits):
    X, y, _, _ = digits
    a = pair[0]
    rng = np.random.default_rng(0)
    twin = permute_hidden_units(a, [rng.permutation(16)])
    raw = linear_path(a, twin, X, y)
    aligned = linear_path(a, twin, X, y, align=True)
    assert raw.barrier > 0.1
    assert aligned.barrier == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("hidden", [(16,), (12, 8)])
def test_aligned_barrier_is_not_above_the_raw_one(digits, hidden):
    X, y, X_test, y_test = digits
    a, b = (_fit(MLPXClassifier(hidden_layer_sizes=hidden, max_iter=60, random_state=s), X, y)
            for s in (0, 1))
    raw = linear_path(a, b, X, y, X_test=X_test, y_test=y_test)
    aligned = linear_path(a, b, X, y, X_test=X_test, y_test=y_test, align=True)
    assert aligned.barrier <= raw.barrier
    assert aligned.aligned and not raw.aligned


def test_bezier_path_lowers_the_barrier_and_keeps_its_ends(pair, digits):
    X, y, X_test, y_test = digits
    line = linear_path(*pair, X, y, align=True)
    curve = bezier_path(*pair, X, y, X_test=X_test, y_test=y_test, align=True, n_iter=300,
                        learning_rate=1e-2, batch_size=128)
    assert curve.kind == "bezier" and curve.control.shape == pair[0]._params.shape
    assert curve.table.train_loss.iloc[0] == pytest.approx(line.table.train_loss.iloc[0])
    assert curve.table.train_loss.iloc[-1] == pytest.approx(line.table.train_loss.iloc[-1])
    assert curve.barrier < line.barrier
    assert curve.history.shape == (300,)
    assert curve.history[-50:].mean() < curve.history[:50].mean()


def test_bezier_with_no_training_is_the_straight_line(pair, digits):
    X, y, _, _ = digits
    line = linear_path(*pair, X, y, n_points=7, refine=False)
    curve = bezier_path(*pair, X, y, n_points=7, refine=False, n_iter=0)
    np.testing.assert_allclose(curve.table.train_loss, line.table.train_loss, rtol=1e-12)


def test_regression_paths(digits):
    X, _, _, _ = digits
    y = X[:, :3] @ np.array([1.0, -2.0, 0.5])
    a, b = (_fit(MLPXRegressor(hidden_layer_sizes=(8,), max_iter=100, random_state=s), X, y)
            for s in (0, 1))
    res = linear_path(a, b, X, y)
    assert res.table.train_loss.iloc[0] == pytest.approx(data_loss(a, X, y), rel=1e-12)


def test_paths_refuse_mismatched_inputs(pair, digits):
    X, y, X_test, _ = digits
    with pytest.raises(ValueError, match="both or neither"):
        linear_path(*pair, X, y, X_test=X_test)
    with pytest.raises(ValueError, match="n_points"):
        linear_path(*pair, X, y, n_points=2)
    with pytest.raises(ValueError, match="features"):
        linear_path(*pair, X[:, :10], y)
    reg = _fit(MLPXRegressor(hidden_layer_sizes=(16,), max_iter=2), X, np.eye(10)[y])
    with pytest.raises(ValueError, match="same kind"):
        linear_path(pair[0], reg, X, y)
