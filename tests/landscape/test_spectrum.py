"""mlpx.landscape._spectrum and top_hessian_eigenvalues: the Hessian spectrum by
stochastic Lanczos quadrature and Lanczos, against the dense Hessian's
eigendecomposition (numpy.linalg.eigh of dense_hessian)."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy.integrate import trapezoid
from sklearn.datasets import load_digits, load_iris, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx._engine import params_of, single_threaded_blas, with_params
from mlpx.landscape._curvature import dense_hessian, top_hessian_eigenvalues
from mlpx.landscape._spectrum import (
    SpectralDensity,
    hessian_spectral_density,
    plot_seed_spectra,
    seed_spectra,
)

EPS = np.finfo(np.float64).eps


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _tanh_classifier():  # 283 parameters
    X, y = make_classification(200, 10, n_informative=6, n_classes=3, random_state=0)
    est = MLPXClassifier(hidden_layer_sizes=(20,), activation="tanh", solver="lbfgs",
                         max_iter=200, alpha=1e-3, random_state=0)
    return _fit(est, X, y), X, y


def _relu_regressor():  # 932 parameters
    X, y = make_regression(300, 8, n_targets=2, noise=5.0, random_state=1)
    y = y / y.std()
    est = MLPXRegressor(hidden_layer_sizes=(30, 20), activation="relu", solver="lbfgs",
                        max_iter=300, alpha=1e-2, random_state=0)
    return _fit(est, X, y), X, y


def _logistic_digits():  # 1960 parameters
    X, y = load_digits(return_X_y=True)
    X, y = X[:500] / 16, y[:500]
    est = MLPXClassifier(hidden_layer_sizes=(26,), activation="logistic", solver="lbfgs",
                         max_iter=300, alpha=1e-4, random_state=0)
    return _fit(est, X, y), X, y


NETWORKS = {"tanh-classifier": _tanh_classifier, "relu-regressor": _relu_regressor,
            "logistic-digits": _logistic_digits}


class Dense:
    """A network, its data and the eigendecomposition of its dense Hessian."""

    def __init__(self, est, X, y):
        self.est, self.X, self.y = est, X, y
        self.H = dense_hessian(est, X, y)
        # one BLAS thread: on two shared cores a threaded 2000 x 2000 eigh ran
        # 6-18 times slower than on one
        with single_threaded_blas():
            self.w, self.U = np.linalg.eigh(self.H)
        self.n = self.w.size
        self.norm = np.abs(self.w).max()

    def probe_measure(self, V):
        """(u_i^T v)^2 for each unit-normalised row v of V: (n_probes, n)."""
        V = V / np.linalg.norm(V, axis=1, keepdims=True)
        return (V @ self.U) ** 2

    def normalised_moments(self, max_order):
        """tr(H^k) / n, k = 0..max_order."""
        return np.array([np.mean(self.w ** k) for k in range(max_order + 1)])

    def probe_std(self, k, probe):
        """The exact standard deviation of v^T H^k v over unit-normalised probes.

        Rademacher z, v = z / sqrt(n): Var(z^T A z) = 2 sum_{i != j} A_ij^2.
        Gaussian z, v uniform on the sphere: Var(v^T A v) =
        2 (tr(A^2) - tr(A)^2 / n) / (n (n + 2)).
        """
        lam = self.w ** k
        if probe == "rademacher":
            diag = (self.U ** 2) @ lam  # diag(H^k)
            return np.sqrt(2 * (np.sum(lam ** 2) - np.sum(diag ** 2))) / self.n
        return np.sqrt(2 * (np.sum(lam ** 2) - lam.sum() ** 2 / self.n)
                       / (self.n * (self.n + 2)))


@pytest.fixture(scope="module", params=list(NETWORKS))
def dense(request):
    return Dense(*NETWORKS[request.param]())


@pytest.fixture(scope="module")
def tiny():
    X, y = load_iris(return_X_y=True)
    # a network after 50 SGD epochs: 9 negative eigenvalues, from -0.8 to -8e-6 of
    # the largest, well apart (after L-BFGS to convergence, half of the spectrum
    # would sit within rounding of zero)
    est = _fit(MLPXClassifier(hidden_layer_sizes=(4,), activation="tanh", solver="sgd",
                              max_iter=50, alpha=1e-2, random_state=0), X, y)
    return Dense(est, X, y)  # 35 parameters


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_the_networks_span_a_few_hundred_to_2000_parameters_and_are_indefinite(dense):
    assert 250 <= dense.n <= 2000
    assert dense.w[0] < 0 < dense.w[-1]  # negative mass to find, as after most fits


# --------------------------------------------------------------- quadrature
def test_each_probes_moments_are_its_dense_quadratic_forms(dense):
    # Gauss quadrature with m nodes integrates polynomials of degree <= 2m - 1
    # exactly: sum_j w_j node_j^k = v^T H^k v for k <= 4 once m >= 3. In floating
    # point Lanczos with full reorthogonalisation gives T = Q^T H Q + E with
    # ||E|| <= m sqrt(n) eps ||H||, which moves the k-th moment by at most
    # k ||E|| ||H||^(k-1) (and the weights' sum, k = 0, by about m eps).
    m = 60
    V = np.random.default_rng(1).choice([-1.0, 1.0], size=(6, dense.n))
    sd = hessian_spectral_density(dense.est, dense.X, dense.y, probes=V, n_lanczos=m)
    assert [t.size for t in sd.nodes] == [m] * 6
    reference = dense.probe_measure(V) @ (dense.w[:, None] ** np.arange(5))
    for k in range(5):
        tol = max(k, 1) * m * np.sqrt(dense.n) * EPS * dense.norm ** k
        np.testing.assert_allclose(sd.probe_moments(4)[:, k], reference[:, k], rtol=0,
                                   atol=tol)


@pytest.mark.parametrize("probe", ["rademacher", "gaussian"])
def test_moments_estimate_the_dense_spectrums_normalised_moments(dense, probe):
    # E[v^T H^k v] = tr(H^k) / n for unit-normalised Rademacher or Gaussian
    # probes, and the quadrature is exact for k <= 4 (above): the mean of N
    # probes is within 4 standard errors sigma_k / sqrt(N) of tr(H^k) / n, sigma_k
    # the exact spread computed from the dense Hessian (two-sided normal tail
    # beyond 4 sigma: 6e-5).
    N = 30
    sd = hessian_spectral_density(dense.est, dense.X, dense.y, n_probes=N, n_lanczos=40,
                                  probe=probe, random_state=0)
    got, exact = sd.moments(4), dense.normalised_moments(4)
    assert got[0] == pytest.approx(1.0, abs=40 * EPS * 10)
    for k in range(1, 5):
        se = dense.probe_std(k, probe) / np.sqrt(N)
        assert se > 0
        assert abs(got[k] - exact[k]) <= 4 * se, (k, got[k], exact[k], se)
    assert sd.trace == pytest.approx(dense.n * got[1])
    assert abs(sd.trace - dense.w.sum()) <= 4 * dense.n * dense.probe_std(1, probe) / np.sqrt(N)


def test_full_depth_quadrature_is_exact_per_probe(tiny):
    # With n Lanczos steps (or fewer, when the Krylov space closes) the nodes are
    # the eigenvalues the probe sees and the weights its squared components:
    # sum_j w_j f(node_j) = v^T f(H) v for any f, not only polynomials.
    V = np.random.default_rng(2).normal(size=(5, tiny.n))
    sd = hessian_spectral_density(tiny.est, tiny.X, tiny.y, probes=V, n_lanczos=10 * tiny.n)
    assert max(t.size for t in sd.nodes) <= tiny.n
    mu = tiny.probe_measure(V)
    s = tiny.norm
    # ||E|| <= n sqrt(n) eps ||H|| (as above); |x| / s and exp(x / s) change by at
    # most e ||E|| / s for that perturbation, up to a log(n) factor for |x|
    tol = np.e * np.log(tiny.n) * tiny.n * np.sqrt(tiny.n) * EPS
    for f in (np.abs, np.exp, lambda x: np.sin(3 * x)):
        got = np.array([w @ f(t / s) for t, w in zip(sd.nodes, sd.weights)])
        np.testing.assert_allclose(got, mu @ f(tiny.w / s), rtol=0, atol=tol)
    # the density then equals the dense spectrum smoothed, weighted as the probes see it
    grid = np.linspace(tiny.w[0] - 1, tiny.w[-1] + 1, 200)
    sigma = 0.05 * s
    ref = (mu.mean(0) * np.exp(-0.5 * ((grid[:, None] - tiny.w) / sigma) ** 2)).sum(1)
    np.testing.assert_allclose(sd.density(grid, sigma=sigma)[1],
                               ref / (sigma * np.sqrt(2 * np.pi)), rtol=1e-9, atol=1e-12)


def test_lanczos_stops_when_the_krylov_space_closes():
    # A deep linear network at zero weights: only the bias rows of the Hessian
    # are non-zero, so a probe sees a handful of distinct eigenvalues and its
    # quadrature is exact with that many nodes.
    X, y = make_regression(40, 4, n_targets=2, random_state=0)
    reg = _fit(MLPXRegressor(hidden_layer_sizes=(3, 3), activation="identity", alpha=0.0,
                             max_iter=1, random_state=0), X, y)
    reg = with_params(reg, np.zeros_like(params_of(reg)))
    d = Dense(reg, X, y)
    distinct = np.unique(np.round(d.w / d.norm, 8)).size
    sd = hessian_spectral_density(reg, X, y, n_probes=3, n_lanczos=d.n, random_state=0)
    assert all(t.size <= distinct < d.n for t in sd.nodes)
    V = np.random.RandomState(0).choice([-1.0, 1.0], size=(3, d.n))
    got = np.array([w @ np.exp(t / d.norm) for t, w in zip(sd.nodes, sd.weights)])
    np.testing.assert_allclose(got, d.probe_measure(V) @ np.exp(d.w / d.norm), atol=1e-12)


def test_negative_mass_bounds_bracket_each_probes_dense_mass(dense):
    # Chebyshev-Markov-Stieltjes: per probe, the mass below c lies between the
    # quadrature's weight below c minus the node just below and plus the node
    # just above. Checked per probe (exact bounds), then on the means.
    V = np.random.default_rng(3).choice([-1.0, 1.0], size=(8, dense.n))
    mu = dense.probe_measure(V)
    for rtol in (0.0, 1e-5, 1e-3, 1e-2):
        c = -rtol * dense.w[-1]
        truth = mu[:, dense.w < c].sum(1)
        for i in range(len(V)):
            one = hessian_spectral_density(dense.est, dense.X, dense.y, probes=V[i],
                                           n_lanczos=50)
            low, high = one.negative_mass_bounds(-c)
            assert low - 1e-12 <= truth[i] <= high + 1e-12, (rtol, i, low, truth[i], high)
            assert low <= one.negative_mass(-c) <= high


def test_negative_mass_at_full_depth_is_the_dense_fraction(tiny):
    V = np.random.default_rng(4).choice([-1.0, 1.0], size=(4, tiny.n))
    sd = hessian_spectral_density(tiny.est, tiny.X, tiny.y, probes=V, n_lanczos=tiny.n)
    # thresholds midway between negative eigenvalues, far from every node
    neg = tiny.w[tiny.w < 0]
    assert neg.size >= 3
    for a, b in zip(neg[:-1], neg[1:]):
        if b - a < 1e-6 * tiny.norm:
            continue
        c = -(a + b) / 2
        expected = tiny.probe_measure(V)[:, tiny.w < -c].sum(1).mean()
        assert sd.negative_mass(c) == pytest.approx(expected, abs=1e-10)
        low, high = sd.negative_mass_bounds(c)
        assert low <= expected <= high


def test_density_integrates_to_one_with_the_moments_of_the_nodes(dense):
    sd = hessian_spectral_density(dense.est, dense.X, dense.y, n_probes=3, n_lanczos=30,
                                  random_state=0)
    sigma = sd.default_sigma()
    grid, rho = sd.density(n_points=50)
    assert grid[0] == pytest.approx(min(t.min() for t in sd.nodes) - 5 * sigma)
    # far enough out that the Gaussian tails left off are below rounding (exp(-72))
    grid = np.linspace(grid[0] - 7 * sigma, grid[-1] + 7 * sigma, 40001)
    rho = sd.density(grid)[1]
    m = sd.moments(2)
    # Gaussian smoothing keeps the mass and the mean and adds sigma^2 to the second moment
    assert trapezoid(rho, grid) == pytest.approx(1.0, rel=1e-8)
    assert trapezoid(grid * rho, grid) == pytest.approx(m[1], rel=1e-8, abs=1e-10 * dense.norm)
    assert trapezoid(grid ** 2 * rho, grid) == pytest.approx(m[2] + sigma ** 2, rel=1e-7)


def test_probes_are_normalised_and_draws_reproducible(tiny):
    a = hessian_spectral_density(tiny.est, tiny.X, tiny.y, n_probes=3, n_lanczos=8,
                                 random_state=7)
    b = hessian_spectral_density(tiny.est, tiny.X, tiny.y, n_probes=3, n_lanczos=8,
                                 random_state=7)
    c = hessian_spectral_density(tiny.est, tiny.X, tiny.y, n_probes=3, n_lanczos=8,
                                 random_state=8)
    for p in range(3):
        np.testing.assert_array_equal(a.nodes[p], b.nodes[p])
        np.testing.assert_array_equal(a.weights[p], b.weights[p])
    assert not np.allclose(a.nodes[0], c.nodes[0])
    V = np.random.default_rng(5).normal(size=(2, tiny.n))
    s1 = hessian_spectral_density(tiny.est, tiny.X, tiny.y, probes=V, n_lanczos=8)
    s2 = hessian_spectral_density(tiny.est, tiny.X, tiny.y, probes=[3 * V[0], V[1] / 7],
                                  n_lanczos=8)
    # the same quadrature up to rounding (its moments; single weights of close
    # nodes are ill-conditioned)
    np.testing.assert_allclose(s1.probe_moments(12), s2.probe_moments(12), rtol=1e-12)
    for p in range(2):
        np.testing.assert_allclose(s1.nodes[p], s2.nodes[p], rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------- top-k
def test_top_k_eigenvalues_agree_with_the_dense_spectrum(dense):
    w, scale = dense.w, dense.norm
    top = top_hessian_eigenvalues(dense.est, dense.X, dense.y, k=5)
    np.testing.assert_allclose(top, w[::-1][:5], rtol=0, atol=1e-8 * scale)
    by_size = w[np.argsort(-np.abs(w), kind="stable")][:4]
    mag = top_hessian_eigenvalues(dense.est, dense.X, dense.y, k=4, which="magnitude")
    np.testing.assert_allclose(np.abs(mag), np.abs(by_size), rtol=0, atol=1e-8 * scale)
    assert np.all(np.diff(np.abs(mag)) <= 0)
    bottom = top_hessian_eigenvalues(dense.est, dense.X, dense.y, k=2, which="smallest")
    np.testing.assert_allclose(bottom, w[:2], rtol=0, atol=1e-8 * scale)


def test_top_k_eigenvectors_are_orthonormal_eigenvectors(dense):
    vals, vecs = top_hessian_eigenvalues(dense.est, dense.X, dense.y, k=3,
                                         return_eigenvectors=True)
    assert vecs.shape == (dense.n, 3)
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(3), atol=1e-10)
    residual = np.linalg.norm(dense.H @ vecs - vecs * vals, axis=0)
    assert residual.max() <= 1e-8 * dense.norm


def test_top_k_is_reproducible_and_exact_at_a_tight_tolerance(tiny):
    a = top_hessian_eigenvalues(tiny.est, tiny.X, tiny.y, k=3, random_state=1)
    b = top_hessian_eigenvalues(tiny.est, tiny.X, tiny.y, k=3, random_state=1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(top_hessian_eigenvalues(tiny.est, tiny.X, tiny.y, k=tiny.n - 1),
                               tiny.w[::-1][: tiny.n - 1], rtol=0, atol=1e-8 * tiny.norm)


# --------------------------------------------------------------- seeds
@pytest.fixture(scope="module")
def seeds():
    X, y = load_iris(return_X_y=True)
    ests = [_fit(MLPXClassifier(hidden_layer_sizes=(5,), activation="tanh", solver="lbfgs",
                                max_iter=60, random_state=s), X, y) for s in (3, 4, 5)]
    return ests, X, y


def test_seed_spectra_tabulates_each_networks_spectrum(seeds):
    ests, X, y = seeds
    table, dens = seed_spectra(ests, X, y, seeds=[3, 4, 5], k=2, n_probes=6, n_lanczos=20,
                               random_state=0, return_densities=True)
    assert list(table.seed) == [3, 4, 5]
    assert list(table.columns) == [
        "seed", "n_params", "lambda_1", "lambda_2", "lambda_min", "trace",
        "trace_std_error", "negative_mass", "negative_mass_low", "negative_mass_high"]
    for row, est, sd in zip(table.itertuples(), ests, dens):
        d = Dense(est, X, y)
        assert row.n_params == d.n == sd.n_params
        np.testing.assert_allclose([row.lambda_1, row.lambda_2], d.w[::-1][:2], rtol=0,
                                   atol=1e-8 * d.norm)
        assert row.lambda_min == pytest.approx(d.w[0], abs=1e-8 * d.norm)
        assert abs(row.trace - d.w.sum()) <= 4 * d.n * d.probe_std(1, "rademacher") / np.sqrt(6)
        assert row.trace == sd.trace and row.trace_std_error == sd.trace_std_error
        c = 1e-3 * row.lambda_1
        assert row.negative_mass == sd.negative_mass(c)
        assert (row.negative_mass_low, row.negative_mass_high) == sd.negative_mass_bounds(c)
        # every network's quadrature started from the same probes
        same = hessian_spectral_density(est, X, y, n_probes=6, n_lanczos=20, random_state=0)
        np.testing.assert_array_equal(np.concatenate(same.nodes), np.concatenate(sd.nodes))
    assert seed_spectra(ests[:1], X, y, k=1, n_probes=2, n_lanczos=5).seed.tolist() == [0]


def test_plot_seed_spectra_draws_each_density_in_its_own_panel(seeds):
    ests, X, y = seeds
    table, dens = seed_spectra(ests, X, y, k=2, n_probes=3, n_lanczos=10,
                               return_densities=True)
    fig = plot_seed_spectra(dens, table=table, sigma=0.05, n_cols=2)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 3 and len(fig.axes) == 4
    for ax, sd, row in zip(shown, dens, table.itertuples()):
        line = ax.get_lines()[0]
        np.testing.assert_allclose(line.get_ydata(), sd.density(line.get_xdata(), sigma=0.05)[1])
        marks = [ln for ln in ax.get_lines() if ln.get_label() == "top eigenvalues"][0]
        np.testing.assert_allclose(marks.get_xdata(), [row.lambda_1, row.lambda_2])
        assert ax.get_title() == f"seed {row.seed}"
    assert shown[0].get_yscale() == "log"
    assert len(plot_seed_spectra(dens, labels="abc").axes) == 3
    ax = dens[0].plot()
    assert ax.get_lines() and ax.get_yscale() == "log"


# --------------------------------------------------------------- bad input
def test_bad_inputs(tiny, seeds):
    est, X, y = tiny.est, tiny.X, tiny.y
    n = tiny.n
    with pytest.raises(ValueError, match="n_lanczos"):
        hessian_spectral_density(est, X, y, n_lanczos=0)
    with pytest.raises(ValueError, match="n_probes"):
        hessian_spectral_density(est, X, y, n_probes=0)
    with pytest.raises(ValueError, match="probe must be"):
        hessian_spectral_density(est, X, y, probe="uniform")
    with pytest.raises(ValueError, match=rf"shape \(n_probes, {n}\)"):
        hessian_spectral_density(est, X, y, probes=np.ones((2, n + 1)))
    with pytest.raises(ValueError, match="non-zero"):
        hessian_spectral_density(est, X, y, probes=np.zeros((1, n)))
    with pytest.raises(ValueError, match="features"):
        hessian_spectral_density(est, X[:, :2], y)
    for call in (lambda e: hessian_spectral_density(e, X, y),
                 lambda e: top_hessian_eigenvalues(e, X, y),
                 lambda e: seed_spectra([e], X, y)):
        with pytest.raises(NotFittedError):
            call(MLPXClassifier())
    for k in (0, n, n + 3, 2.0):
        with pytest.raises(ValueError, match=f"1 <= k < n_params = {n}"):
            top_hessian_eigenvalues(est, X, y, k=k)
    with pytest.raises(ValueError, match="which"):
        top_hessian_eigenvalues(est, X, y, which="LA")
    with pytest.raises(ValueError, match="tol"):
        top_hessian_eigenvalues(est, X, y, tol=-1.0)
    sd = hessian_spectral_density(est, X, y, n_probes=2, n_lanczos=4, random_state=0)
    with pytest.raises(ValueError, match="sigma"):
        sd.density(sigma=0.0)
    with pytest.raises(ValueError, match="threshold"):
        sd.negative_mass(-1.0)
    with pytest.raises(ValueError, match="threshold"):
        sd.negative_mass_bounds(np.nan)
    with pytest.raises(ValueError, match="max_order"):
        sd.moments(-1)
    with pytest.raises(ValueError, match="one-dimensional"):
        sd.density(np.zeros((2, 2)))
    ests = seeds[0]
    with pytest.raises(ValueError, match="empty"):
        seed_spectra([], X, y)
    with pytest.raises(ValueError, match="2 seeds for 3 estimators"):
        seed_spectra(ests, X, y, seeds=[0, 1])
    with pytest.raises(ValueError, match="negative_rtol"):
        seed_spectra(ests, X, y, negative_rtol=-1)
    with pytest.raises(ValueError, match="random_state must be an int"):
        seed_spectra(ests, X, y, random_state=np.random.RandomState(0))
    with pytest.raises(ValueError, match="empty"):
        plot_seed_spectra([])
    with pytest.raises(ValueError, match="2 labels for 1 densities"):
        plot_seed_spectra([sd], labels=[0, 1])
    with pytest.raises(ValueError, match="n_cols"):
        plot_seed_spectra([sd], n_cols=0)
    assert isinstance(sd, SpectralDensity) and sd.n_probes == 2


def test_one_lanczos_step_gives_each_probes_rayleigh_quotient(tiny):
    V = np.random.default_rng(6).normal(size=(3, tiny.n))
    sd = hessian_spectral_density(tiny.est, tiny.X, tiny.y, probes=V, n_lanczos=1)
    rayleigh = np.einsum("pi,ij,pj->p", V, tiny.H, V) / np.sum(V * V, axis=1)
    np.testing.assert_allclose(np.concatenate(sd.nodes), rayleigh, rtol=1e-12)
    np.testing.assert_array_equal(np.concatenate(sd.weights), 1.0)
