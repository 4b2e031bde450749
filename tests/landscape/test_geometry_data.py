"""mlpx.landscape._data: many minima for one neuron, random labels, a mixture
of Gaussians with its Bayes optimum."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from scipy.stats import multivariate_normal, norm

from mlpx.landscape._data import (
    MIXTURE_COVARIANCES,
    MIXTURE_MEANS,
    BayesClassifier,
    auer_dataset,
    count_distinct_minima,
    gaussian_mixture,
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


# ------------------------------------------------------------ gaussian_mixture
THREE_CLASSES = dict(
    means=[[[0.0, 0.0], [2.0, 1.0]], [[1.0, -1.5]], [[-1.5, 1.0], [-1.0, -1.0], [0.5, 2.5]]],
    covariances=[[[[1.0, 0.3], [0.3, 0.5]], [[0.2, 0.0], [0.0, 0.6]]],
                 [[[0.7, -0.2], [-0.2, 0.4]]],
                 [[[0.3, 0.1], [0.1, 0.3]], [[0.5, 0.0], [0.0, 0.2]], [[0.4, 0.0], [0.0, 0.4]]]],
    weights=[[0.7, 0.3], [1.0], [0.2, 0.5, 0.3]],
    priors=[0.5, 0.2, 0.3],
)


def scipy_joint_densities(means, covariances, weights, priors):
    """x -> priors[c] p(x | c), (n, n_classes), from scipy.stats.multivariate_normal."""
    def joint(X):
        return np.column_stack([
            priors[c] * sum(w * multivariate_normal(m, S).pdf(X)
                            for w, m, S in zip(weights[c], means[c], covariances[c]))
            for c in range(len(priors))
        ])
    return joint


def draw_mixture(n, rng, means, covariances, weights, priors):
    """Points of the mixture, drawn with NumPy's generator (not the module's sampler)."""
    y = rng.choice(len(priors), size=n, p=priors)
    X = np.empty((n, 2))
    for c in range(len(priors)):
        rows = np.flatnonzero(y == c)
        k = rng.choice(len(weights[c]), size=rows.size, p=weights[c])
        for j in range(len(weights[c])):
            X[rows[k == j]] = rng.multivariate_normal(means[c][j], covariances[c][j],
                                                      size=(k == j).sum())
    return X, y


DEFAULT = dict(means=MIXTURE_MEANS, covariances=MIXTURE_COVARIANCES,
               weights=[[0.5, 0.5], [0.5, 0.5]], priors=[0.5, 0.5])


@pytest.mark.parametrize("mixture", [DEFAULT, THREE_CLASSES], ids=["default", "3 classes"])
def test_bayes_posterior_and_labels_match_scipy(mixture):
    bayes = BayesClassifier(**mixture).fit()
    X = np.random.default_rng(0).uniform(-4, 5, size=(2000, 2))
    joint = scipy_joint_densities(**mixture)(X)
    np.testing.assert_allclose(bayes.predict_proba(X), joint / joint.sum(1, keepdims=True),
                               rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(np.exp(bayes.joint_log_density(X)), joint, rtol=1e-9)
    np.testing.assert_array_equal(bayes.predict(X), joint.argmax(1))
    assert len(set(bayes.predict(X))) == len(mixture["priors"])  # every class wins somewhere


def test_bayes_error_of_two_gaussians_is_the_normal_tail():
    """Equal unit covariances, means (±m, 0), priors (p, 1 - p): the boundary is
    x = ln(p / (1 - p)) / (2m) and the error has a closed form."""
    m, p = 0.8, 0.3
    bayes = BayesClassifier([[[-m, 0.0]], [[m, 0.0]]], [[np.eye(2)], [np.eye(2)]],
                            priors=[p, 1 - p]).fit()
    t = np.log(p / (1 - p)) / (2 * m)
    exact = p * norm.sf(t + m) + (1 - p) * norm.cdf(t - m)
    # the trapezoidal rule across the boundary's kink: O(h^2), h = 0.022 here
    assert bayes.bayes_error() == pytest.approx(exact, abs=1e-5)
    assert bayes.bayes_error(201) == pytest.approx(exact, abs=2e-4)


@pytest.mark.parametrize("mixture", [DEFAULT, THREE_CLASSES], ids=["default", "3 classes"])
def test_bayes_error_matches_monte_carlo(mixture):
    """The Bayes classifier's error rate on 100 000 fresh points (drawn here with
    NumPy) is within 4 standard errors of the quadrature."""
    bayes = BayesClassifier(**mixture).fit()
    error = bayes.bayes_error()
    n = 100_000
    X, y = draw_mixture(n, np.random.default_rng(1), **mixture)
    mc = (bayes.predict(X) != y).mean()
    assert abs(mc - error) <= 4 * np.sqrt(error * (1 - error) / n)
    # no other rule does better: e.g. the posterior's second choice, or x1 > 0
    assert (y != bayes.predict_proba(X).argsort(1)[:, -2]).mean() > mc
    if len(mixture["priors"]) == 2:
        assert ((X[:, 0] > 0).astype(int) != y).mean() > mc


def test_gaussian_mixture_draws_from_its_distribution():
    data = gaussian_mixture(40_000, random_state=0)
    X, y = data.X, data.y
    assert X.shape == (40_000, 2) and set(y) == {0, 1}
    assert data.bayes_error == pytest.approx(data.bayes.bayes_error())
    assert abs(y.mean() - 0.5) < 4 * np.sqrt(0.25 / y.size)
    for c in (0, 1):
        mu, S = np.array(MIXTURE_MEANS[c]), np.array(MIXTURE_COVARIANCES[c])
        mean = mu.mean(0)
        cov = S.mean(0) + (mu - mean).T @ (mu - mean) / 2
        Xc = X[y == c]
        se = np.sqrt(np.diag(cov) / len(Xc))
        assert np.all(np.abs(Xc.mean(0) - mean) < 4 * se)
        np.testing.assert_allclose(np.cov(Xc.T), cov, atol=0.05)
    again = gaussian_mixture(50, random_state=0)
    np.testing.assert_array_equal(again.X, data.bayes.sample(50, random_state=0)[0])
    custom = gaussian_mixture(300, random_state=1, **THREE_CLASSES)
    assert set(custom.y) == {0, 1, 2}


@pytest.mark.parametrize("kwargs, message", [
    (dict(means=MIXTURE_MEANS), "both means and covariances"),
    (dict(means=MIXTURE_MEANS[:1], covariances=MIXTURE_COVARIANCES[:1]), "at least 2 classes"),
    (dict(means=[[[0, 0, 0]], [[1, 1, 1]]], covariances=[[np.eye(3)], [np.eye(3)]]),
     "shape \\(n_components, 2\\)"),
    (dict(means=[[[0, 0]], [[1, 1]]], covariances=[[np.eye(2)], [[[1, 2], [2, 1]]]]),
     "positive definite"),
    (dict(means=[[[0, 0]], [[1, 1]]], covariances=[[np.eye(2)], [[[1, 0.5], [0, 1]]]]),
     "symmetric"),
    (dict(means=[[[0, 0]], [[1, 1]]], covariances=[[np.eye(2)], [np.eye(2)]],
          priors=[0.7, 0.7]), "priors must be 2 positive numbers summing to 1"),
    (dict(means=[[[0, 0]], [[1, 1]]], covariances=[[np.eye(2)], [np.eye(2)]],
          weights=[[0.5], [1.0]]), "weights of class 0"),
    (dict(means=[[[0, 0]], [[1, 1]]], covariances=[[np.eye(2)], [np.eye(2)[None]]]),
     "covariances of class 1 must have shape"),
])
def test_bad_mixtures_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gaussian_mixture(10, random_state=0, **kwargs)


def test_bayes_classifier_checks_its_input():
    bayes = BayesClassifier(MIXTURE_MEANS, MIXTURE_COVARIANCES)
    with pytest.raises(Exception, match="not fitted"):
        bayes.predict([[0.0, 0.0]])
    bayes.fit()
    with pytest.raises(ValueError, match="3 features"):
        bayes.predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="resolution"):
        bayes.bayes_error(2)
    with pytest.raises(ValueError, match="n_samples"):
        bayes.sample(0)
