"""The Hessian's eigenvalue density by stochastic Lanczos quadrature, per network
and for the end points of a seed study.

For a unit vector v and the Hessian H = U diag(lambda) U^T of n parameters,
v^T f(H) v = sum_i (u_i^T v)^2 f(lambda_i): an integral of f against a
spectral measure with weights (u_i^T v)^2. m steps of Lanczos from v give a
tridiagonal T_m whose eigenvalues (Ritz values) and squared first eigenvector
components are the nodes and weights of the m-point Gauss quadrature of that
measure, exact for polynomials f of degree up to 2m - 1. Averaged over random
probes with E[v v^T] = I / n, the quadratures estimate the spectral density
(1/n) sum_i delta(t - lambda_i) (Ubaru, Chen & Saad 2017, "Fast estimation of
tr(f(A)) via stochastic Lanczos quadrature"; Ghorbani, Krishnan & Xiao 2019,
"An investigation into neural net optimization via Hessian eigenvalue
density"; PyHessian, Yao et al. 2020).

The Hessian is applied by exact Hessian-vector products
(:func:`~mlpx.landscape.hessian_operator`), never formed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import eigh_tridiagonal
from sklearn.utils import check_random_state

from mlpx._engine import single_threaded_blas
from mlpx.landscape._curvature import hessian_operator, top_hessian_eigenvalues

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from mlpx import MLPXClassifier, MLPXRegressor

#: Lanczos stops early when the next off-diagonal entry falls below this times
#: the largest entry of T so far: the Krylov space is then invariant up to
#: rounding, and truncating there changes any quadrature by O(beta^2) only.
_BREAKDOWN = np.sqrt(np.finfo(np.float64).eps)


@dataclass(eq=False)  # arrays: no meaningful ==
class SpectralDensity:
    """Gauss quadratures of a Hessian's spectral measure, one per probe.

    Attributes
    ----------
    nodes : tuple of ndarray
        Per probe, the Ritz values (ascending); a probe whose Krylov space
        became invariant before ``n_lanczos`` steps has fewer.
    weights : tuple of ndarray
        Per probe, the squared first components of T's eigenvectors (they sum
        to 1).
    n_params : int
        The Hessian's size n.

    Notes
    -----
    ``sum_j weights[p][j] * f(nodes[p][j])`` estimates ``tr(f(H)) / n``; the
    mean over probes is the estimate, its spread over probes the noise.
    """

    nodes: tuple[NDArray[np.float64], ...] = field(repr=False)
    weights: tuple[NDArray[np.float64], ...] = field(repr=False)
    n_params: int

    @property
    def n_probes(self) -> int:
        """The number of probes."""
        return len(self.nodes)

    def probe_moments(self, max_order: int = 4) -> NDArray[np.float64]:
        """sum_j w_j node_j^k per probe, k = 0..max_order: (n_probes, max_order + 1)."""
        _check_int("max_order", max_order, 0)
        k = np.arange(max_order + 1)
        return np.array([w @ (t[:, None] ** k) for t, w in zip(self.nodes, self.weights)])

    def moments(self, max_order: int = 4) -> NDArray[np.float64]:
        """Estimates of tr(H^k) / n for k = 0..max_order (the mean over probes)."""
        return self.probe_moments(max_order).mean(axis=0)

    @property
    def trace(self) -> float:
        """The estimate of tr(H) (n times the first moment)."""
        return float(self.n_params * self.moments(1)[1])

    @property
    def trace_std_error(self) -> float:
        """The standard error of :attr:`trace` over probes (NaN for one probe)."""
        per_probe = self.n_params * self.probe_moments(1)[:, 1]
        if per_probe.size < 2:
            return float("nan")
        return float(per_probe.std(ddof=1) / np.sqrt(per_probe.size))

    def negative_mass(self, threshold: float = 0.0) -> float:
        """The estimated fraction of eigenvalues below ``-threshold``.

        The quadrature cannot tell the sign of eigenvalues closer to zero than
        its nodes are spaced there: a bulk of near-zero eigenvalues is carried
        by a node or two just above or below zero. :meth:`negative_mass_bounds`
        says how far the answer can be trusted.
        """
        _check_threshold(threshold)
        return float(np.mean([w[t < -threshold].sum()
                              for t, w in zip(self.nodes, self.weights)]))

    def negative_mass_bounds(self, threshold: float = 0.0) -> tuple[float, float]:
        """Bounds on the fraction of eigenvalues below ``-threshold``.

        Per probe, the Chebyshev-Markov-Stieltjes inequalities bound the mass of
        the probe's spectral measure below c by the quadrature's weight below c
        less the weight of the node just below c, and plus the weight of the
        node at or just above c (Szegő, Orthogonal Polynomials, Thm. 3.41.1).
        These are the means of those bounds over probes: estimates (probe noise
        remains) of a lower and an upper bound, far apart when a heavy node
        sits near ``-threshold``.

        Returns
        -------
        low, high : float
        """
        _check_threshold(threshold)
        low, high = [], []
        for t, w in zip(self.nodes, self.weights):
            k = int(np.searchsorted(t, -threshold))  # nodes t[:k] lie below -threshold
            below = w[:k].sum()
            low.append(below - (w[k - 1] if k > 0 else 0.0))
            high.append(below + (w[k] if k < t.size else 0.0))
        return float(np.mean(low)), float(np.mean(high))

    def default_sigma(self) -> float:
        """The default smoothing width: 1 % of the range of the nodes."""
        t = np.concatenate(self.nodes)
        width = float(t.max() - t.min())
        return 0.01 * width if width > 0 else max(1e-3 * float(np.abs(t).max()), 1e-12)

    def density(
        self,
        grid: ArrayLike | None = None,
        *,
        sigma: float | None = None,
        n_points: int = 1000,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The spectral density smoothed by a Gaussian of width sigma.

        rho(t) = mean over probes of sum_j w_j N(t; node_j, sigma^2): an
        estimate of (1/n) sum_i N(t; lambda_i, sigma^2), which integrates to 1
        (multiply by ``n_params`` for eigenvalues per unit).

        Parameters
        ----------
        grid : array-like of shape (n_grid,), default=None
            Where to evaluate; None for ``n_points`` points from the smallest
            node - 5 sigma to the largest + 5 sigma.
        sigma : float, default=None
            Smoothing width (> 0); None for :meth:`default_sigma`.
        n_points : int, default=1000
            Size of the default grid.

        Returns
        -------
        grid, rho : ndarray of shape (n_grid,)
        """
        sigma = self.default_sigma() if sigma is None else sigma
        if not (np.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}.")
        t = np.concatenate(self.nodes)
        w = np.concatenate(self.weights) / self.n_probes
        if grid is None:
            _check_int("n_points", n_points, 2)
            grid = np.linspace(t.min() - 5 * sigma, t.max() + 5 * sigma, n_points)
        grid = np.asarray(grid, dtype=np.float64)
        if grid.ndim != 1:
            raise ValueError(f"grid must be one-dimensional, got shape {grid.shape}.")
        z = (grid[:, None] - t[None, :]) / sigma
        return grid, np.exp(-0.5 * z * z) @ w / (sigma * np.sqrt(2 * np.pi))

    def plot(
        self,
        ax: Axes | None = None,
        *,
        sigma: float | None = None,
        log_y: bool = True,
        **kwargs,
    ) -> Axes:
        """Draw the smoothed density (log scale by default); return the Axes."""
        from mlpx.landscape._plotting import _pyplot

        if ax is None:
            _, ax = _pyplot().subplots(figsize=(5, 3.4), layout="constrained")
        grid, rho = self.density(sigma=sigma)
        ax.plot(grid, rho, **kwargs)
        if log_y:
            ax.set_yscale("log")
            # the Gaussian tails reach 1e-300: show eight decades below the peak
            ax.set_ylim(rho.max() * 1e-8, rho.max() * 3)
        ax.set_xlabel("eigenvalue")
        ax.set_ylabel("density")
        ax.grid(alpha=0.3)
        return ax


def _check_threshold(threshold):
    if not (np.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold must be a finite number >= 0, got {threshold!r}.")


def _check_int(name, value, low):
    if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            and value >= low):
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")


def _lanczos(matvec, v, n_steps):
    """Diagonal and off-diagonal of T from n_steps of Lanczos on matvec from v,
    with full reorthogonalisation (without it the Ritz values repeat and the
    weights of the outliers are wrong once the first ones have converged)."""
    Q = np.empty((n_steps, v.size))
    alpha, beta = np.empty(n_steps), np.empty(n_steps)
    q = v / np.linalg.norm(v)
    scale = 0.0
    for j in range(n_steps):
        Q[j] = q
        w = matvec(q)
        alpha[j] = q @ w
        w -= alpha[j] * q
        if j:
            w -= beta[j - 1] * Q[j - 1]
        for _ in range(2):  # twice is enough (Parlett; Giraud et al. 2005)
            w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
        beta[j] = np.linalg.norm(w)
        scale = max(scale, abs(alpha[j]), beta[j])
        if j + 1 == n_steps or beta[j] <= _BREAKDOWN * scale:
            return alpha[: j + 1], beta[:j]
        q = w / beta[j]
    raise AssertionError("unreachable")


def _probes(n_probes, n, probe, random_state):
    rng = check_random_state(random_state)
    if probe == "rademacher":
        return rng.choice([-1.0, 1.0], size=(n_probes, n))
    return rng.normal(size=(n_probes, n))


def hessian_spectral_density(
    est: MLPXClassifier | MLPXRegressor,
    X: ArrayLike,
    y: ArrayLike,
    *,
    n_probes: int = 10,
    n_lanczos: int = 100,
    probe: Literal["rademacher", "gaussian"] = "rademacher",
    probes: ArrayLike | None = None,
    random_state: int | np.random.RandomState | None = None,
    sample_weight: ArrayLike | None = None,
    include_penalty: bool = True,
) -> SpectralDensity:
    """The Hessian's eigenvalue density by stochastic Lanczos quadrature.

    Parameters
    ----------
    est : fitted MLPXClassifier or MLPXRegressor
        The network; its current weights are the point of expansion.
    X, y : array-like
        The data the loss is taken over.
    n_probes : int, default=10
        Random starting vectors, each normalised to unit length.
    n_lanczos : int, default=100
        Lanczos steps per probe (quadrature nodes), at most n_params (a
        larger value runs n_params steps). Memory: n_lanczos x n_params floats.
    probe : {'rademacher', 'gaussian'}, default='rademacher'
        Distribution of the entries of the probes.
    probes : array-like of shape (n_probes, n_params), default=None
        The starting vectors themselves (e.g. the same ones for several
        networks); overrides ``n_probes``, ``probe`` and ``random_state``.
    random_state : int, RandomState instance or None, default=None
        Draws the probes.
    sample_weight : array-like, default=None
        Sample weights, as in ``fit``.
    include_penalty : bool, default=True
        Include the L2 term (alpha / n on the weights' diagonal).

    Returns
    -------
    SpectralDensity
        Nodes and weights per probe; its ``moments``, ``density``,
        ``negative_mass`` and ``trace``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlpx import MLPXClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPXClassifier(hidden_layer_sizes=(5,), solver="lbfgs", random_state=0).fit(X, y)
    >>> sd = hessian_spectral_density(clf, X, y, n_probes=4, random_state=0)
    >>> sd.n_params, len(sd.nodes)
    (43, 4)
    >>> float(sd.moments(0)[0])  # the quadrature weights of each probe sum to 1
    1.0
    """
    _check_int("n_lanczos", n_lanczos, 1)
    if probes is None:
        _check_int("n_probes", n_probes, 1)
        if probe not in ("rademacher", "gaussian"):
            raise ValueError(f"probe must be 'rademacher' or 'gaussian', got {probe!r}.")
    H = hessian_operator(est, X, y, sample_weight, include_penalty)
    n = H.shape[0]
    if probes is None:
        V = _probes(n_probes, n, probe, random_state)
    else:
        V = np.array(probes, dtype=np.float64, ndmin=2)
        if V.ndim != 2 or V.shape[1] != n or V.shape[0] < 1:
            raise ValueError(f"probes must have shape (n_probes, {n}), got {V.shape}.")
        if not (np.isfinite(V).all() and np.linalg.norm(V, axis=1).min() > 0):
            raise ValueError("probes must be finite and non-zero.")
    nodes, weights = [], []
    with single_threaded_blas():  # many small products: threads cost more than they give
        for v in V:
            a, b = _lanczos(H.matvec, v, min(n_lanczos, n))
            theta, S = eigh_tridiagonal(a, b)
            nodes.append(theta)
            weights.append(S[0] ** 2)
    return SpectralDensity(tuple(nodes), tuple(weights), n)


def seed_spectra(
    estimators: Sequence[MLPXClassifier | MLPXRegressor],
    X: ArrayLike,
    y: ArrayLike,
    *,
    seeds: Sequence[object] | None = None,
    k: int = 3,
    n_probes: int = 10,
    n_lanczos: int = 100,
    negative_rtol: float = 1e-3,
    tol: float = 1e-10,
    random_state: int | None = 0,
    sample_weight: ArrayLike | None = None,
    include_penalty: bool = True,
    return_densities: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, list[SpectralDensity]]:
    """The Hessian spectrum at the end point of every seed, side by side.

    Parameters
    ----------
    estimators : sequence of fitted MLPXClassifier or MLPXRegressor
        The networks, e.g. ``study.estimators[setup]`` of a
        :class:`~mlpx.landscape.SeedStudy`.
    X, y : array-like
        The data the loss is taken over (e.g. the training set).
    seeds : sequence, default=None
        A label per network (e.g. ``study.seeds``); None for 0, 1, ...
    k : int, default=3
        Top eigenvalues per network (Lanczos to relative accuracy 1e-10).
    n_probes, n_lanczos : int, default=10, 100
        As in :func:`hessian_spectral_density`.
    negative_rtol : float, default=1e-3
        Eigenvalues below ``-negative_rtol * lambda_1`` count as negative
        mass. The quadrature cannot tell the sign of the bulk of eigenvalues
        near zero (on a digits network with 100 Lanczos steps, the node that
        carries half the weight sat at -1.3e-5 lambda_1); the bounds columns
        say whether the threshold is beyond that resolution.
    tol : float, default=1e-10
        Accuracy of the eigenvalue columns, as in
        :func:`~mlpx.landscape.top_hessian_eigenvalues`
        (``lambda_min`` relative to the spectrum's width).
    random_state : int or None, default=0
        Seeds the probes; every network gets the same draw (an int), so that
        differences between networks of one architecture are not probe noise.
    sample_weight : array-like, default=None
    include_penalty : bool, default=True
    return_densities : bool, default=False
        Also return the :class:`SpectralDensity` of each network.

    Returns
    -------
    table : pandas.DataFrame
        One row per network: ``seed``, ``n_params``, ``lambda_1`` ..
        ``lambda_k`` (largest first), ``lambda_min`` (the smallest
        eigenvalue: negative means not a local minimum), ``trace`` and
        ``trace_std_error`` (the quadrature's estimate of tr(H)),
        ``negative_mass`` (estimated fraction of eigenvalues below
        ``-negative_rtol * lambda_1``) and ``negative_mass_low`` /
        ``negative_mass_high`` (:meth:`SpectralDensity.negative_mass_bounds`).
    densities : list of SpectralDensity
        Only with ``return_densities=True``.
    """
    import pandas as pd

    estimators = list(estimators)
    if not estimators:
        raise ValueError("estimators is empty: pass at least one fitted network.")
    seeds = list(range(len(estimators))) if seeds is None else list(seeds)
    if len(seeds) != len(estimators):
        raise ValueError(f"{len(seeds)} seeds for {len(estimators)} estimators.")
    if not (np.isfinite(negative_rtol) and negative_rtol >= 0):
        raise ValueError(f"negative_rtol must be a finite number >= 0, got {negative_rtol!r}.")
    if isinstance(random_state, np.random.RandomState):
        raise ValueError("random_state must be an int or None here, so that every "
                         "network gets the same probes.")
    rows, densities = [], []
    for seed, est in zip(seeds, estimators):
        top = top_hessian_eigenvalues(est, X, y, k, sample_weight=sample_weight,
                                      include_penalty=include_penalty, tol=tol)
        bottom = top_hessian_eigenvalues(est, X, y, 1, which="smallest",
                                         sample_weight=sample_weight,
                                         include_penalty=include_penalty, tol=tol)
        sd = hessian_spectral_density(est, X, y, n_probes=n_probes, n_lanczos=n_lanczos,
                                      random_state=random_state,
                                      sample_weight=sample_weight,
                                      include_penalty=include_penalty)
        densities.append(sd)
        threshold = negative_rtol * max(float(top[0]), 0.0)
        low, high = sd.negative_mass_bounds(threshold)
        rows.append({
            "seed": seed, "n_params": sd.n_params,
            **{f"lambda_{i + 1}": float(v) for i, v in enumerate(top)},
            "lambda_min": float(bottom[0]), "trace": sd.trace,
            "trace_std_error": sd.trace_std_error,
            "negative_mass": sd.negative_mass(threshold),
            "negative_mass_low": low, "negative_mass_high": high,
        })
    table = pd.DataFrame(rows)
    return (table, densities) if return_densities else table


def plot_seed_spectra(
    densities: Sequence[SpectralDensity],
    *,
    table: pd.DataFrame | None = None,
    labels: Sequence[object] | None = None,
    sigma: float | None = None,
    n_cols: int = 5,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Each network's smoothed spectral density in its own panel, side by side.

    Parameters
    ----------
    densities : sequence of SpectralDensity
        E.g. from ``seed_spectra(..., return_densities=True)``.
    table : pandas.DataFrame, default=None
        That call's table: its top eigenvalues are marked and its
        ``lambda_min`` and ``negative_mass`` written in each panel.
    labels : sequence, default=None
        Panel titles' labels; None for the table's ``seed`` column, else 0, 1, ...
    sigma : float, default=None
        One smoothing width for all panels; None for 1 % of the nodes' range
        over all networks.
    n_cols : int, default=5
        Panels per row.
    figsize : tuple, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    from mlpx.landscape._plotting import _pyplot

    plt = _pyplot()
    densities = list(densities)
    if not densities:
        raise ValueError("densities is empty.")
    _check_int("n_cols", n_cols, 1)
    if table is not None and len(table) != len(densities):
        raise ValueError(f"table has {len(table)} rows for {len(densities)} densities.")
    if labels is None:
        labels = list(table["seed"]) if table is not None else list(range(len(densities)))
    elif len(labels) != len(densities):
        raise ValueError(f"{len(labels)} labels for {len(densities)} densities.")
    nodes = np.concatenate([np.concatenate(d.nodes) for d in densities])
    lo, hi = float(nodes.min()), float(nodes.max())
    if sigma is None:
        sigma = 0.01 * (hi - lo) if hi > lo else max(1e-3 * abs(hi), 1e-12)
    grid = np.linspace(lo - 5 * sigma, hi + 5 * sigma, 1000)
    n_cols = min(n_cols, len(densities))
    n_rows = -(-len(densities) // n_cols)
    figsize = figsize or (2.6 * n_cols + 0.6, 2.4 * n_rows + 0.6)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=figsize, squeeze=False, sharex=True,
                             sharey=True, layout="constrained")
    rhos = [sd.density(grid, sigma=sigma)[1] for sd in densities]
    peak = max(rho.max() for rho in rhos)
    floor = peak * 1e-8
    for i, (ax, rho, label) in enumerate(zip(axes.flat, rhos, labels)):
        ax.plot(grid, rho, lw=1)
        ax.axvline(0.0, color="0.6", lw=0.6)
        if table is not None:
            row = table.iloc[i]
            tops = [row[c] for c in table.columns if c.startswith("lambda_") and c[7:].isdigit()]
            # a rug just above the axis, clear of the curve and the text
            ax.plot(tops, np.full(len(tops), floor * 3), "^", color="C3", ms=4,
                    label="top eigenvalues")
            ax.text(0.97, 0.95, f"λ_min {row['lambda_min']:.2g}\n"
                    f"negative {row['negative_mass']:.1%}\n"
                    f"({row['negative_mass_low']:.1%} to {row['negative_mass_high']:.1%})",
                    transform=ax.transAxes, ha="right", va="top", fontsize="x-small")
        ax.set_title(f"seed {label}", fontsize="small")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(densities):]:
        ax.set_visible(False)
    axes[0, 0].set_yscale("log")
    axes[0, 0].set_ylim(floor, peak * 3)
    for ax in axes[-1]:
        ax.set_xlabel("eigenvalue")
    for ax in axes[:, 0]:
        ax.set_ylabel("density")
    fig.suptitle(f"Hessian spectral density (Gaussian smoothing σ = {sigma:.2g})")
    return fig
