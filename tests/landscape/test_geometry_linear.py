"""mlpx.landscape._linear: deep linear networks reach the closed-form optimum."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXRegressor
from mlpx.landscape._linear import (
    check_linear_assumptions,
    classify_critical_point,
    critical_point_from_eigenvectors,
    linear_network_optimum,
)
from mlpx.landscape._paths import NetworkLoss

N, DX, DY = 40, 6, 4


@pytest.fixture(scope="module")
def data():
    """Random full-rank data with non-zero means (the biases must absorb them)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, DX)) + rng.normal(size=DX)
    Y = X @ rng.normal(size=(DX, DY)) + 0.5 * rng.normal(size=(N, DY)) + 1.0
    return X, Y


def optimum_by_the_book(X, Y, p):
    """L* from the papers' formula, columns = samples, on centred data."""
    Xc, Yc = (X - X.mean(0)).T, (Y - Y.mean(0)).T  # d_x x n, d_y x n
    Sigma = Yc @ Xc.T @ np.linalg.inv(Xc @ Xc.T) @ Xc @ Yc.T
    lam = np.sort(np.linalg.eigvalsh(Sigma))[::-1]
    half_sse = 0.5 * (np.trace(Yc @ Yc.T) - lam[: min(p, Yc.shape[0])].sum())
    return half_sse / (Yc.shape[1] * Yc.shape[0])  # the estimators' 1 / (n d_y)


def _fit_linear(widths, X, Y, seed):
    est = MLPXRegressor(hidden_layer_sizes=widths, activation="identity", solver="lbfgs",
                        alpha=0.0, tol=1e-15, max_iter=20000, max_fun=40000, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, Y)


def test_optimum_matches_the_formula_of_the_papers(data):
    X, Y = data
    for p in (1, 2, 3, 4, 7):
        opt = linear_network_optimum(X, Y, p)
        assert opt.loss == pytest.approx(optimum_by_the_book(X, Y, p), rel=1e-10)
        assert opt.rank == min(p, DY)
    opt = linear_network_optimum(X, Y, [5, 2, 3])  # the smallest width counts
    assert opt.loss == pytest.approx(optimum_by_the_book(X, Y, 2), rel=1e-10)
    assert np.all(np.diff(opt.eigenvalues) <= 0)


def test_least_squares_loss_is_the_unconstrained_fit(data):
    X, Y = data
    A = np.column_stack([X, np.ones(N)])
    residual = Y - A @ np.linalg.lstsq(A, Y, rcond=None)[0]
    opt = linear_network_optimum(X, Y, 2)
    assert opt.least_squares_loss == pytest.approx((residual**2).sum() / (2 * N * DY), rel=1e-10)
    assert linear_network_optimum(X, Y, DY).loss == pytest.approx(opt.least_squares_loss)
    assert opt.loss > opt.least_squares_loss


@pytest.mark.parametrize("widths", [(2,), (3, 2), (4, 2, 3)], ids=["1h", "2h", "3h"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deep_linear_networks_reach_the_global_minimum(data, widths, seed):
    X, Y = data
    assert min(widths) < DY
    target = linear_network_optimum(X, Y, widths).loss
    est = _fit_linear(widths, X, Y, seed)
    assert est.loss_ >= target * (1 - 1e-12)  # L* is a lower bound
    assert est.loss_ == pytest.approx(target, rel=1e-6)
    assert target > linear_network_optimum(X, Y, DY).loss * 1.5  # the rank limit binds


@pytest.mark.parametrize("widths", [(4,), (5, 4), (6, 4, 5)], ids=["1h", "2h", "3h"])
def test_wide_enough_linear_networks_reach_least_squares(data, widths):
    X, Y = data
    est = _fit_linear(widths, X, Y, 0)
    assert est.loss_ == pytest.approx(linear_network_optimum(X, Y, 1).least_squares_loss,
                                      rel=1e-6)


def test_assumptions_hold_on_random_data_and_fail_otherwise(data):
    X, Y = data
    ok = check_linear_assumptions(X, Y)
    assert ok.satisfied and ok.rank_xx == DX and ok.rank_xy == DY and ok.distinct
    assert ok.min_gap == pytest.approx(-np.diff(ok.eigenvalues).max())
    collinear = np.column_stack([X, X[:, 0] + X[:, 1]])
    assert check_linear_assumptions(collinear, Y).rank_xx == DX
    assert not check_linear_assumptions(collinear, Y).satisfied
    too_many_outputs = check_linear_assumptions(X[:, :3], Y)
    assert not too_many_outputs.dy_le_dx and not too_many_outputs.satisfied
    twin = check_linear_assumptions(X, np.column_stack([Y[:, 0], Y[:, 0]]))
    assert twin.rank_xy == 1 and not twin.satisfied  # eigenvalues (λ, 0): distinct
    # targets = two orthogonal directions of X's column space, equally scaled:
    # Σ = 9 I, a repeated eigenvalue
    Q = np.linalg.qr(X - X.mean(0))[0]
    equal = check_linear_assumptions(X, 3 * Q[:, :2])
    assert equal.eigenvalues == pytest.approx([9.0, 9.0])
    assert not equal.distinct and not equal.satisfied and equal.rank_xy == 2


SUBSETS = [(0, 2), (1, 2), (0, 3), (2, 3), (0,), (3,), ()]


@pytest.mark.parametrize("subset", SUBSETS)
def test_eigenvector_subsets_give_saddles_with_vanishing_gradient(data, subset):
    X, Y = data
    est = critical_point_from_eigenvectors(X, Y, subset, 2)
    point = classify_critical_point(est, X, Y)
    assert point.grad_norm < 1e-10
    assert point.min_eigenvalue < -1e-3
    assert point.kind == "saddle"
    lam = linear_network_optimum(X, Y, 2).eigenvalues
    Yc = Y - Y.mean(0)
    expected = ((Yc**2).sum() - lam[list(subset)].sum()) / (2 * N * DY)
    assert point.loss == pytest.approx(expected, rel=1e-10)


def test_top_eigenvectors_give_the_global_minimum(data):
    X, Y = data
    for widths in [2, (3, 2), (2, 4, 3)]:
        est = critical_point_from_eigenvectors(X, Y, [0, 1], widths)
        point = classify_critical_point(est, X, Y)
        assert point.kind == "global minimum"
        assert point.grad_norm < 1e-10 and point.min_eigenvalue > -1e-8
        assert point.loss == pytest.approx(point.optimum_loss, rel=1e-12)


def test_deeper_rank_deficient_points_are_degenerate_saddles(data):
    """Kawaguchi (2016): with two or more hidden layers, some saddles have no
    negative curvature; here the network that keeps one eigenvector only."""
    X, Y = data
    est = critical_point_from_eigenvectors(X, Y, [0], (3, 2))
    point = classify_critical_point(est, X, Y)
    assert point.grad_norm < 1e-10
    assert point.min_eigenvalue > -1e-8
    assert point.loss > point.optimum_loss * 1.01
    assert point.kind == "degenerate saddle"
    # Kawaguchi's rank condition fails: rank(W_2) = 1 < p = 2
    assert (point.middle_rank, point.rank_condition) == (1, False)


@pytest.mark.parametrize("widths, subset, rank, kind", [
    ((2,), [0], 2, "saddle"),            # one hidden layer: no middle product, rank p
    ((3, 2), [0, 1], 2, "global minimum"),
    ((3, 2), [1], 1, "saddle"),          # misses the largest eigenvalue: negative curvature
    ((3, 3, 2), [0], 1, "degenerate saddle"),
])
def test_the_rank_condition_is_reported(data, widths, subset, rank, kind):
    X, Y = data
    point = classify_critical_point(critical_point_from_eigenvectors(X, Y, subset, widths),
                                    X, Y)
    assert point.kind == kind
    assert point.middle_rank == rank
    assert point.rank_condition == (rank == min(widths))
    if point.rank_condition and kind != "global minimum":
        assert point.min_eigenvalue < -1e-3  # Theorem 2.3 (iv): a strict saddle


def test_trained_networks_classify_and_a_user_eigen_solver_is_used(data):
    X, Y = data
    est = _fit_linear((3,), X, Y, 0)
    # near (not at) the minimum, the flat directions of the GL(p) symmetry show
    # eigenvalues of the order of the gradient: tolerances must follow it
    point = classify_critical_point(est, X, Y, grad_tol=1e-4, eig_tol=1e-4)
    assert point.grad_norm < 1e-4
    assert point.kind == "global minimum"
    calls = []

    def fake(e, X_, y_):
        calls.append(e)
        return -1.0

    assert classify_critical_point(est, X, Y, fake, grad_tol=1e-4).kind == "saddle"
    assert calls == [est]
    start = _fit_linear((3,), X, Y, 0)
    start._params[:] = 0.1
    assert classify_critical_point(start, X, Y).kind == "not critical"


def test_dense_hessian_is_the_finite_difference_of_the_loss(data):
    X, Y = data
    from mlpx.landscape._linear import finite_difference_hessian

    est = critical_point_from_eigenvectors(X, Y, [1], 2)
    loss = NetworkLoss(est, X, Y)
    theta = est._params.copy() + 0.01
    H = finite_difference_hessian(loss, theta)
    v = np.random.default_rng(1).normal(size=theta.size)
    h = 1e-4
    second = (loss(theta + h * v) - 2 * loss(theta) + loss(theta - h * v)) / h**2
    assert v @ H @ v == pytest.approx(second, rel=1e-4)


def test_bad_arguments_are_refused(data):
    X, Y = data
    with pytest.raises(ValueError, match="positive width"):
        linear_network_optimum(X, Y, 0)
    with pytest.raises(ValueError, match="eigenvalue indices"):
        critical_point_from_eigenvectors(X, Y, [DY], 2)
    with pytest.raises(ValueError, match="smallest hidden width"):
        critical_point_from_eigenvectors(X, Y, [0, 1, 2], (3, 2))
    with pytest.raises(ValueError, match="samples"):
        linear_network_optimum(X, Y[:-1], 2)


def test_paths_between_the_two_pieces_of_the_minima_rise_to_a_saddle(data):
    """Flipping the sign of one hidden unit keeps the function but moves the
    network to the other piece (det C < 0) of the set of global minima; every
    path between the pieces must reach the loss of the saddle J = (0, 2)."""
    from mlpx.landscape._alignment import with_params
    from mlpx.landscape._paths import bezier_path, linear_path

    X, Y = data
    a = _fit_linear((2,), X, Y, 0)
    flip = [np.array([-1.0, 1.0])[None, :], np.array([-1.0, 1.0])[:, None]]
    b = with_params(a, np.concatenate([(a.coefs_[0] * flip[0]).ravel(),
                                       (a.coefs_[1] * flip[1]).ravel(),
                                       a.intercepts_[0] * flip[0][0], a.intercepts_[1]]))
    np.testing.assert_allclose(b.predict(X), a.predict(X), rtol=1e-12, atol=1e-12)
    saddle = critical_point_from_eigenvectors(X, Y, [0, 2], 2)
    floor = classify_critical_point(saddle, X, Y).loss - a.loss_
    assert floor > 0.1
    straight = linear_path(a, b, X, Y)
    curve = bezier_path(a, b, X, Y, n_iter=3000, learning_rate=1e-2)
    for path in (straight, curve):
        assert path.table.train_loss.max() >= a.loss_ + floor - 1e-9
    # and the bound is tight: the trained curve crosses near the saddle
    assert curve.table.train_loss.max() <= a.loss_ + floor + 0.01


# ------------------------------------------------ trained_critical_points
def _numpy_loss(coefs, intercepts, X, Y, act):
    """The estimators' loss, from the weights, in plain NumPy."""
    h = X
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        h = h @ W + b
        if i < len(coefs) - 1:
            h = act(h)
    return ((Y - h) ** 2).sum() / (2 * Y.size)


def _numpy_gradient_norm(coefs, intercepts, X, Y, act=lambda z: z, step=1e-6):
    """Norm of the gradient by central differences of _numpy_loss."""
    arrays = [np.array(a, dtype=float) for a in (*coefs, *intercepts)]
    k = len(coefs)
    grad = []
    for a in arrays:
        for idx in np.ndindex(a.shape):
            old = a[idx]
            a[idx] = old + step
            up = _numpy_loss(arrays[:k], arrays[k:], X, Y, act)
            a[idx] = old - step
            down = _numpy_loss(arrays[:k], arrays[k:], X, Y, act)
            a[idx] = old
            grad.append((up - down) / (2 * step))
    return float(np.linalg.norm(grad))


def _sklearn_start(widths, activation, seed, X, Y):
    """scikit-learn's initial weights for this seed (mlpx draws the same ones):
    one SGD step of 1e-300 leaves them unchanged."""
    from sklearn.neural_network import MLPRegressor

    sk = MLPRegressor(hidden_layer_sizes=widths, activation=activation, solver="sgd",
                      learning_rate_init=1e-300, max_iter=1, shuffle=False, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk.fit(X, Y)
    return sk.coefs_, sk.intercepts_


def _lbfgs(widths, activation="identity"):
    return MLPXRegressor(hidden_layer_sizes=widths, activation=activation, solver="lbfgs",
                         alpha=0.0, tol=1e-15, max_iter=20000, max_fun=40000)


@pytest.mark.parametrize("widths", [(2,), (3, 2), (2, 4, 3)], ids=["1h", "2h", "3h"])
def test_trained_linear_networks_end_at_global_minima(data, widths):
    from mlpx.landscape._linear import critical_point_summary, trained_critical_points

    X, Y = data
    table = trained_critical_points(_lbfgs(widths), X, Y, range(5))
    assert list(table.seed) == [0, 1, 2, 3, 4]
    target = optimum_by_the_book(X, Y, min(widths))
    assert table.optimum.to_numpy() == pytest.approx(np.full(5, target), rel=1e-10)
    assert (table.loss >= target * (1 - 1e-12)).all()
    assert table.loss.to_numpy() == pytest.approx(np.full(5, target), rel=1e-6)
    assert table.at_critical_point.all()
    assert (table.grad_norm <= 1e-3).all()
    assert (table.grad_norm <= 1e-2 * table.grad_norm_start).all()
    assert (table.middle_rank == 2).all() and table.rank_condition.all()
    assert not table.not_global.any()
    assert list(table.kind) == ["global minimum"] * 5
    assert (table.activation == "identity").all()
    assert critical_point_summary(table) == (
        "5 of 5 runs reached a critical point; all of them global minima.")


def test_gradient_norms_are_those_of_the_start_and_the_end(data):
    """Against central differences of a NumPy loss, at scikit-learn's initial
    weights (the same draw) and at the fitted weights."""
    from mlpx.landscape._linear import trained_critical_points

    X, Y = data
    table, fitted = trained_critical_points(_lbfgs((3, 2)), X, Y, [0, 7],
                                            return_estimators=True)
    for row, est in zip(table.itertuples(), fitted):
        coefs, intercepts = _sklearn_start((3, 2), "identity", row.seed, X, Y)
        assert row.grad_norm_start == pytest.approx(
            _numpy_gradient_norm(coefs, intercepts, X, Y), rel=1e-6)
        assert est.random_state == row.seed
        same = _fit_linear((3, 2), X, Y, row.seed)  # what est.fit gives
        np.testing.assert_array_equal(est.coefs_[0], same.coefs_[0])
        assert row.loss == pytest.approx(
            _numpy_loss(est.coefs_, est.intercepts_, X, Y, lambda z: z), rel=1e-12)
        assert row.grad_norm == pytest.approx(
            _numpy_gradient_norm(est.coefs_, est.intercepts_, X, Y), rel=1e-3)


def test_min_eigenvalue_is_that_of_the_hessian_dense_or_lanczos(data):
    """At a strict saddle, the smallest eigenvalue of the exact Hessian matches
    the finite-difference Hessian, by either method."""
    from mlpx.landscape._linear import _min_hessian_eigenvalue, finite_difference_hessian

    X, Y = data
    est = critical_point_from_eigenvectors(X, Y, [1, 2], (3, 2))
    reference = np.linalg.eigvalsh(
        finite_difference_hessian(NetworkLoss(est, X, Y), est._params.copy()))[0]
    assert reference < -1e-2
    assert _min_hessian_eigenvalue(est, X, Y, 2000) == pytest.approx(reference, rel=1e-5)
    assert _min_hessian_eigenvalue(est, X, Y, 10) == pytest.approx(reference, rel=1e-5)


def test_negative_curvature_is_counted_below_minus_eig_tol(data):
    """The flat symmetry directions of a nearly critical point have eigenvalues
    of either sign, of the order of the gradient: with eig_tol=0 they count."""
    from mlpx.landscape._linear import critical_point_summary, trained_critical_points

    X, Y = data
    default = trained_critical_points(_lbfgs((3, 2)), X, Y, range(4))
    assert (default.eig_tol == np.maximum(10 * default.grad_norm, 1e-8)).all()
    assert (default.min_eigenvalue.abs() < default.grad_norm).all()
    strict = trained_critical_points(_lbfgs((3, 2)), X, Y, range(4), eig_tol=0.0)
    np.testing.assert_array_equal(strict.kind == "saddle", strict.min_eigenvalue < 0)
    assert (strict.min_eigenvalue < 0).any()
    mixed = strict.kind.value_counts()
    text = critical_point_summary(strict)
    assert text.startswith("4 of 4 runs reached a critical point")
    assert all(str(c) in text for c in mixed)
    tight = trained_critical_points(_lbfgs((3, 2)), X, Y, range(2), grad_tol=1e-12)
    assert list(tight.kind) == ["not critical"] * 2
    assert critical_point_summary(tight) == "0 of 2 runs reached a critical point."


def test_a_relu_network_reaches_l_star_so_it_bounds_the_global_minimum(data):
    """A ReLU network whose units all stay active computes the linear global
    minimum: L* is an upper bound of a ReLU network's global minimum."""
    from mlpx.landscape._alignment import with_params

    X, Y = data
    linear = critical_point_from_eigenvectors(X, Y, [0, 1], (3, 2))
    relu = _lbfgs((3, 2), "relu").set_params(max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        relu.fit(X, Y)
    W, b = [w.copy() for w in linear.coefs_], [c.copy() for c in linear.intercepts_]
    shift = []
    for k in range(2):  # lift each hidden layer above 0, undo it in the next layer
        h = X.copy()
        for Wj, bj in zip(W[: k + 1], b[: k + 1]):
            h = h @ Wj + bj
        shift.append(1.0 - h.min(axis=0))
        b[k] = b[k] + shift[k]
        b[k + 1] = b[k + 1] - shift[k] @ W[k + 1]
    relu = with_params(relu, np.concatenate([*(w.ravel() for w in W), *b]))
    loss = NetworkLoss(relu, X, Y)(np.concatenate([*(w.ravel() for w in W), *b]))
    assert loss == pytest.approx(optimum_by_the_book(X, Y, 2), rel=1e-10)
    np.testing.assert_allclose(relu.predict(X), linear.predict(X), atol=1e-10)


def test_dead_relu_networks_end_above_l_star_without_curvature(data):
    """Kawaguchi's nonlinear theorem assumes independent Bernoulli activations;
    real ReLU networks stop where every unit of a layer is dead: a constant
    output, a flat neighbourhood, a loss far above L*."""
    from mlpx.landscape._linear import critical_point_summary, trained_critical_points

    X, Y = data
    table = trained_critical_points(_lbfgs((2, 2), "relu"), X, Y, range(6))
    assert table.middle_rank.isna().all() and table.rank_condition.isna().all()
    assert set(table.kind) <= {"no negative curvature", "saddle", "not critical"}
    constant_loss = ((Y - Y.mean(0)) ** 2).sum() / (2 * Y.size)
    dead = table[np.isclose(table.loss, constant_loss, rtol=1e-9)]
    assert len(dead) >= 2
    assert (dead.kind == "no negative curvature").all() and dead.not_global.all()
    assert (dead.min_eigenvalue.abs() < 1e-8).all()
    assert (table.not_global == (table.loss > table.optimum * (1 + 1e-6))).all()
    text = critical_point_summary(table)
    critical = table[table.kind != "not critical"]
    assert text.startswith(f"{len(critical)} of 6 runs reached a critical point: "
                           f"{(table.kind == 'no negative curvature').sum()} without "
                           "negative curvature")
    assert f"{int(critical.not_global.sum())} of these {len(critical)} end above L*" in text
    assert "does not cover relu networks" in text


def test_trained_critical_points_refuses_what_the_theorem_does_not_cover(data):
    from mlpx import MLPXClassifier
    from mlpx.landscape._linear import trained_critical_points

    X, Y = data
    with pytest.raises(ValueError, match="MLPXRegressor"):
        trained_critical_points(MLPXClassifier(), X, Y[:, 0] > 0, [0])
    with pytest.raises(ValueError, match="alpha=0"):
        trained_critical_points(_lbfgs((2,)).set_params(alpha=1e-3), X, Y, [0])
    with pytest.raises(ValueError, match="squared_error"):
        trained_critical_points(_lbfgs((2,)).set_params(loss="poisson"), X, np.abs(Y), [0])
    with pytest.raises(ValueError, match="distinct"):
        trained_critical_points(_lbfgs((2,)), X, Y, [1, 1])
    with pytest.raises(ValueError, match="one or more integers"):
        trained_critical_points(_lbfgs((2,)), X, Y, [])
    with pytest.raises(ValueError, match="eig_tol"):
        trained_critical_points(_lbfgs((2,)), X, Y, [0], eig_tol=-1.0)
    with pytest.raises(ValueError, match="samples"):
        trained_critical_points(_lbfgs((2,)), X, Y[:-1], [0])


def test_summaries_of_concatenated_tables_and_mixed_activations(data):
    import pandas as pd

    from mlpx.landscape._linear import critical_point_summary, trained_critical_points

    X, Y = data
    one = trained_critical_points(_lbfgs((2,)), X, Y, range(2))
    two = trained_critical_points(_lbfgs((3, 2)), X, Y, range(3))
    both = pd.concat([one, two], ignore_index=True)
    assert critical_point_summary(both) == (
        "5 of 5 runs reached a critical point; all of them global minima.")
    assert critical_point_summary(one.iloc[:1]) == (
        "1 of 1 run reached a critical point; it is a global minimum.")
    tanh = trained_critical_points(_lbfgs((2,), "tanh"), X, Y, [0])
    with pytest.raises(ValueError, match="mixes activations"):
        critical_point_summary(pd.concat([one, tanh]))
    with pytest.raises(ValueError, match="output of trained_critical_points"):
        critical_point_summary(one.drop(columns="kind"))
