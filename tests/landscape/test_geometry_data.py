"""mlpx.landscape._data: many minima for one neuron, random labels."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from mlpx.landscape._data import (
    auer_dataset,
    count_distinct_minima,
    neuron_loss,
    random_labels,
)


@pytest.mark.parametrize("n, d", [(3, 1), (4, 1), (4, 2), (7, 2), (6, 3)])
def test_single_neuron_has_floor_n_over_d_to_the_d_minima(n, d):
    data = auer_dataset(n, d)
    assert data.n_minima == (n // d) ** d
    hi = data.centers[-1] * 5
    count = count_distinct_minima(data.X, data.y, n_starts=25 * data.n_minima,
                                  init="log-uniform", init_range=(0.2, hi), random_state=0)
    assert count.n_minima == data.n_minima
    assert (count.counts > 0).all() and count.counts.sum() == (count.labels >= 0).sum()
    # one minimum near each combination of per-axis centres
    per_axis = np.sort(np.unique(np.round(np.log10(count.minima))))
    assert per_axis.size == n // d
    assert np.all(np.diff(count.losses) >= 0)


def test_one_dimensional_minima_sit_near_the_examples_own_minima():
    data = auer_dataset(3, 1)
    count = count_distinct_minima(data.X, data.y, n_starts=60, init="log-uniform",
                                  init_range=(0.2, 500.0))
    found = np.sort(count.minima[:, 0])
    np.testing.assert_allclose(found, data.centers, rtol=0.25)


def test_a_convex_problem_has_one_minimum():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = 0.2 + 0.6 * (X @ [0.5, -0.3] > 0)  # inside (0, 1): a finite minimiser
    count = count_distinct_minima(X, y, n_starts=15, init_scale=0.5)
    assert count.n_minima == 1 and count.counts[0] == 15


def test_neuron_gradient_and_hessian_are_exact():
    data = auer_dataset(6, 2)
    w = np.array([0.7, 3.0])
    _, grad, hess = neuron_loss(w, data.X, data.y)
    np.testing.assert_allclose(grad, approx_fprime(w, lambda v: neuron_loss(v, data.X, data.y)[0],
                                                   1e-7), rtol=1e-5, atol=1e-10)
    num = approx_fprime(w, lambda v: neuron_loss(v, data.X, data.y)[1], 1e-7)
    num = np.asarray(num).reshape(2, 2)
    np.testing.assert_allclose(hess, num, rtol=1e-4, atol=1e-9)


def test_leftover_examples_do_not_change_the_loss():
    full, extra = auer_dataset(4, 2), auer_dataset(5, 2)
    w = np.array([2.0, 20.0])
    assert extra.X.shape == (5, 2) and not extra.X[4].any()
    assert 5 * neuron_loss(w, extra.X, extra.y)[0] == pytest.approx(
        4 * neuron_loss(w, full.X, full.y)[0])


def test_random_labels_shuffle_a_share_and_keep_the_counts():
    y = np.repeat(np.arange(5), 40)
    y_new = random_labels(y, 0.3, random_state=0)
    changed = y_new != y
    assert 0 < changed.mean() <= 0.3
    np.testing.assert_array_equal(np.bincount(y_new), np.bincount(y))
    np.testing.assert_array_equal(random_labels(y, 0.0, random_state=0), y)
    assert (random_labels(y, 1.0, random_state=0) != y).mean() > 0.6
    assert y_new is not y and (y == np.repeat(np.arange(5), 40)).all()


def test_uniform_corruption_draws_from_the_classes():
    y = np.array(["a", "b", "c"] * 30)
    y_new = random_labels(y, 0.5, random_state=1, mode="uniform")
    assert set(y_new) <= {"a", "b", "c"}
    assert (y_new != y).mean() <= 0.5


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="n must be"):
        auer_dataset(1, 2)
    with pytest.raises(ValueError, match="q must be"):
        random_labels([0, 1], 1.5)
    with pytest.raises(ValueError, match="mode"):
        random_labels([0, 1], 0.5, mode="swap")
    with pytest.raises(ValueError, match="shape"):
        count_distinct_minima(np.ones((3, 2)), np.ones(3), n_starts=2, init=np.ones((3, 2)))


def _grid_minima_2d(data, lo=1e-3, hi=1e5, n=700):
    """Strict local minima of the neuron's loss on a log-spaced 2-D grid of w > 0."""
    from scipy.special import expit

    w = np.geomspace(lo, hi, n)
    x0, x1 = data.X[:, 0], data.X[:, 1]
    # the loss is a sum over the two axes: L(w0, w1) = l0(w0) + l1(w1)
    l0 = ((data.y - expit(np.outer(w, x0))) ** 2).sum(axis=1)
    l1 = ((data.y - expit(np.outer(w, x1))) ** 2).sum(axis=1)
    L = l0[:, None] + l1[None, :]
    core = L[1:-1, 1:-1]
    is_min = np.ones_like(core, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                is_min &= core < L[1 + di:n - 1 + di, 1 + dj:n - 1 + dj]
    return int(is_min.sum())


@pytest.mark.parametrize("ratio, target", [
    (10.0, 0.75), (3.0, 0.75), (10.0, 0.95), (5.0, 0.75), (10.0, 0.9), (30.0, 0.9)])
def test_n_minima_is_what_a_grid_scan_of_the_loss_finds(ratio, target):
    data = auer_dataset(8, 2, ratio=ratio, target=target)
    assert data.n_minima == _grid_minima_2d(data)


def test_close_examples_merge_their_minima():
    # the cases: 16 claimed, 1 found
    assert auer_dataset(8, 2, ratio=3.0).n_minima == 1
    assert auer_dataset(8, 2, target=0.95).n_minima == 1
    assert auer_dataset(8, 2).n_minima == 16
