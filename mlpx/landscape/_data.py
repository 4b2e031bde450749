"""Data sets that shape the landscape: many bad minima, and random labels.

Auer, Herbster & Warmuth (1995), "Exponentially many local minima for single
neurons": the squared loss of one sigmoid neuron x -> σ(x·w) (no bias), summed
over n examples in d dimensions, can have ⌊n/d⌋^d local minima. The mechanism
is saturation. One example (x, y) with 0 < y < 1 has a loss (y - σ(wx))^2 with
a single minimum at w = logit(y)/x and flat tails on both sides. Examples
whose minima lie far apart (in units of 1/|x|) each sit in the flat tails of
the others, so the sum keeps every minimum: k examples on one axis give k
minima in one dimension. Putting ⌊n/d⌋ such examples on each coordinate axis
makes the loss a sum of independent one-dimensional losses, L(w) =
sum_i L_1(w_i), whose minima are all combinations: ⌊n/d⌋^d of them.

Zhang et al. (2017), "Understanding deep learning requires rethinking
generalization": networks fit random labels too; :func:`random_labels`
corrupts a share of them.

A problem whose optimum is known: :func:`gaussian_mixture` draws 2-D points of
classes that are each a mixture of Gaussians, and returns the Bayes-optimal
classifier (:class:`BayesClassifier`) and its error, against which trained
networks' decision regions can be compared (Bishop 1995, Fig. 1.26; Hastie,
Tibshirani & Friedman 2009, Fig. 2.5).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import solve_triangular
from scipy.optimize import minimize
from scipy.special import expit, logit, logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted


class AuerData(NamedTuple):
    """An instance of the Auer-Herbster-Warmuth construction.

    Attributes
    ----------
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
    n_minima : int
        The number of local minima of the single neuron's loss: m^d, where m
        (at most ⌊n/d⌋) is the number of minima along one axis, counted.
    centers : ndarray of shape (⌊n/d⌋,)
        Where each example on an axis has its own minimum (logit(y)/x): the
        minima of the whole loss lie near the points of centers^d (slightly
        shifted by the other examples' tails).
    """

    X: np.ndarray
    y: np.ndarray
    n_minima: int
    centers: np.ndarray


class MinimaCount(NamedTuple):
    """Distinct local minima reached from many starts.

    Attributes
    ----------
    n_minima : int
        Number of distinct minima.
    minima : ndarray of shape (n_minima, d)
        One representative weight vector per minimum, by increasing loss.
    losses : ndarray of shape (n_minima,)
    counts : ndarray of shape (n_minima,)
        Starts that ended in each minimum.
    final : ndarray of shape (n_starts, d)
        Where each start ended.
    labels : ndarray of shape (n_starts,)
        Index of the minimum each start reached, -1 if it stopped elsewhere
        (a plateau of the saturated sigmoid, or not converged).
    """

    n_minima: int
    minima: np.ndarray
    losses: np.ndarray
    counts: np.ndarray
    final: np.ndarray
    labels: np.ndarray


def auer_dataset(n: int, d: int, *, ratio: float = 10.0, target: float = 0.75) -> AuerData:
    """Examples on which one sigmoid neuron has up to ⌊n/d⌋^d local minima.

    k = ⌊n/d⌋ examples lie on each coordinate axis, x = (logit(target) /
    ratio^j) e_i for j = 0..k-1, all with label `target`: along each axis the
    single-example minima sit at w_i = 1, ratio, ratio^2, ...; a minimum
    survives the other examples' tails only if they are far enough apart
    (``ratio=10`` with ``target=0.75`` keeps all k; ``ratio=3`` or
    ``target=0.95`` merge them into one). The loss is a sum of the same
    one-dimensional loss over the d axes, so its minima are the combinations
    of the m minima of that one-dimensional loss: ``n_minima`` = m^d, with m
    counted on a fine scan of its derivative. The n - kd leftover examples
    are x = 0, y = 1/2, whose loss is 0 whatever w.

    Parameters
    ----------
    n : int
        Number of examples, >= d.
    d : int
        Dimension, >= 1.
    ratio : float, default=10.0
        Spacing of the minima along an axis (> 1).
    target : float, default=0.75
        The label, in (1/2, 1). One example's loss tends to
        (target - 1/2)^2 as w -> 0 and to (1 - target)^2 as w -> infinity:
        equal tails only at 0.75; the higher the target, the deeper the left
        tail and the more easily neighbouring minima merge.

    Returns
    -------
    data : AuerData
        ``X``, ``y``, ``n_minima`` (counted, see above) and ``centers``.
    """
    if not (isinstance(d, numbers.Integral) and d >= 1):
        raise ValueError(f"d must be an integer >= 1, got {d!r}.")
    if not (isinstance(n, numbers.Integral) and n >= d):
        raise ValueError(f"n must be an integer >= d = {d}, got {n!r}.")
    if not ratio > 1:
        raise ValueError(f"ratio must be > 1, got {ratio!r}.")
    if not 0.5 < target < 1:
        raise ValueError(f"target must be in (0.5, 1), got {target!r}.")
    k = n // d
    centers = float(ratio) ** np.arange(k)
    X = np.zeros((n, d))
    y = np.full(n, 0.5)
    for i in range(d):
        X[i * k:(i + 1) * k, i] = logit(target) / centers
        y[i * k:(i + 1) * k] = target
    return AuerData(X, y, _axis_minima(logit(target) / centers, target) ** d, centers)


def _axis_minima(x, target):
    """Local minima of w -> sum_j (target - σ(x_j w))^2 on the real line.

    For w <= 0 every σ(x_j w) <= 1/2 < target, so the loss decreases there:
    the minima are at w > 0, each near some logit(target) / x_j. They are the
    sign changes, from - to +, of the derivative on a log-spaced scan that
    reaches three decades beyond the outermost centres (where the derivative
    is exactly 0 the sigmoids are saturated: flat, no minimum).
    """
    centers = logit(target) / x
    w = np.geomspace(centers.min() * 1e-3, centers.max() * 1e3, 200_000)
    slope = np.empty_like(w)
    step = max(1, 2**22 // x.size)  # bounds the temporary (w, x) block
    for i in range(0, w.size, step):
        s = expit(np.outer(w[i:i + step], x))
        slope[i:i + step] = ((s - target) * s * (1 - s) * x).sum(axis=1)
    sign = np.sign(slope[slope != 0])
    return int(np.count_nonzero((sign[:-1] < 0) & (sign[1:] > 0)))


def neuron_loss(w, X, y):
    """Loss, gradient and Hessian of one sigmoid neuron, L(w) = mean (y - σ(Xw))^2 / 2."""
    s = expit(X @ w)
    r = s - y
    ds = s * (1 - s)
    n = X.shape[0]
    loss = 0.5 * float(r @ r) / n
    grad = X.T @ (r * ds) / n
    curv = ds * ds + r * ds * (1 - 2 * s)
    hess = (X.T * curv) @ X / n
    return loss, grad, hess


def _starts(init, n_starts, d, rng, init_scale, init_range):
    if init is None or (isinstance(init, str) and init == "normal"):
        return rng.normal(0.0, init_scale, (n_starts, d))
    if isinstance(init, str) and init == "log-uniform":
        lo, hi = init_range
        if not 0 < lo < hi:
            raise ValueError(
                f"init_range must be (low, high) with 0 < low < high, got {init_range!r}."
            )
        return np.exp(rng.uniform(np.log(lo), np.log(hi), (n_starts, d)))
    if isinstance(init, str):
        raise ValueError(  # noqa: TRY004 - a bad value of the right type
            f"init must be 'normal', 'log-uniform', an array or a callable, got {init!r}."
        )
    W = np.asarray(init(rng, n_starts, d) if callable(init) else init, dtype=np.float64)
    if W.shape != (n_starts, d):
        raise ValueError(f"The starting points have shape {W.shape}; expected ({n_starts}, {d}).")
    return W


def _same(a, b, rtol, atol):
    return bool(np.all(np.abs(a - b) <= atol + rtol * np.maximum(np.abs(a), np.abs(b))))


def count_distinct_minima(
    X: ArrayLike,
    y: ArrayLike,
    n_starts: int = 100,
    *,
    init: Literal["normal", "log-uniform"]
    | ArrayLike
    | Callable[[np.random.RandomState, int, int], ArrayLike]
    | None = None,
    init_scale: float = 1.0,
    init_range: tuple[float, float] = (0.1, 10.0),
    rtol: float = 1e-3,
    atol: float = 1e-6,
    gtol: float = 1e-10,
    min_curvature: float = 1e-12,
    max_iter: int = 1000,
    random_state: int | np.random.RandomState | None = 0,
) -> MinimaCount:
    """Train one sigmoid neuron from many starts and count the distinct minima.

    The model is x -> σ(x·w), no bias (append a column of ones to X for one),
    with the squared loss mean (y - σ(Xw))^2 / 2. An MLPXRegressor cannot
    express it (it always has a hidden layer and an identity output), so it
    is implemented here in NumPy and minimised by Newton's method in a trust
    region (``scipy.optimize.minimize(method='trust-exact')``) with the exact
    gradient and Hessian, which copes with the very different curvatures of
    the minima.

    A final point counts as a minimum when its gradient norm is at most
    `gtol` (times 10) and the Hessian's smallest eigenvalue exceeds
    `min_curvature`; points stuck on a plateau of the saturated sigmoid fail
    the curvature test. Two minima are the same when every coordinate agrees
    within ``atol + rtol * max(|a|, |b|)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, d)
    y : array-like of shape (n_samples,)
    n_starts : int, default=100
    init : {'normal', 'log-uniform'}, array-like or callable, default=None
        Starting points: 'normal' (or None) draws N(0, init_scale^2) per
        weight; 'log-uniform' draws each weight log-uniformly in
        `init_range` (positive); an array of shape (n_starts, d) gives them;
        a callable ``init(rng, n_starts, d)`` returns them.
    init_scale : float, default=1.0
    init_range : tuple of float, default=(0.1, 10.0)
    rtol, atol : float, default=1e-3, 1e-6
        Tolerances of "same minimum".
    gtol : float, default=1e-10
        Gradient tolerance of the optimiser.
    min_curvature : float, default=1e-12
        Smallest Hessian eigenvalue of a minimum.
    max_iter : int, default=1000
        Optimiser iterations per start.
    random_state : int, RandomState or None, default=0

    Returns
    -------
    count : MinimaCount
    """
    X = check_array(X, dtype=np.float64)
    y = check_array(y, ensure_2d=False, dtype=np.float64)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}.")
    if not (isinstance(n_starts, numbers.Integral) and n_starts >= 1):
        raise ValueError(f"n_starts must be an integer >= 1, got {n_starts!r}.")
    rng = check_random_state(random_state)
    W0 = _starts(init, n_starts, X.shape[1], rng, init_scale, init_range)

    def fun(w):
        return neuron_loss(w, X, y)[0]

    def jac(w):
        return neuron_loss(w, X, y)[1]

    def hess(w):
        return neuron_loss(w, X, y)[2]

    final = np.empty_like(W0)
    labels = np.full(n_starts, -1)
    minima, losses, counts = [], [], []
    for s, w0 in enumerate(W0):
        res = minimize(fun, w0, jac=jac, hess=hess, method="trust-exact",
                       options={"gtol": gtol, "maxiter": max_iter})
        w = final[s] = res.x
        loss, grad, H = neuron_loss(w, X, y)
        if np.linalg.norm(grad) > 10 * gtol or np.linalg.eigvalsh(H)[0] <= min_curvature:
            continue
        for m, rep in enumerate(minima):
            if _same(w, rep, rtol, atol):
                labels[s] = m
                counts[m] += 1
                break
        else:
            labels[s] = len(minima)
            minima.append(w.copy())
            losses.append(loss)
            counts.append(1)
    order = np.argsort(losses, kind="stable")
    relabel = np.full(len(minima) + 1, -1)
    relabel[order] = np.arange(len(minima))
    return MinimaCount(
        n_minima=len(minima),
        minima=np.array(minima).reshape(-1, X.shape[1])[order],
        losses=np.array(losses)[order],
        counts=np.array(counts, dtype=np.int64)[order],
        final=final,
        labels=np.where(labels >= 0, relabel[labels], -1),
    )


def random_labels(
    y: ArrayLike,
    q: float,
    random_state: int | np.random.RandomState | None = None,
    *,
    mode: Literal["shuffle", "uniform"] = "shuffle",
) -> NDArray[Any]:
    """Corrupt a share q of the labels (Zhang et al. 2017).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels.
    q : float
        Share of the samples whose label is corrupted, in [0, 1]: exactly
        ``round(q * n_samples)`` samples, drawn without replacement.
    random_state : int, RandomState or None, default=None
    mode : {'shuffle', 'uniform'}, default='shuffle'
        'shuffle': the chosen samples' labels are permuted among them, which
        keeps the label counts (a label may land back on its own sample).
        'uniform': each chosen sample gets a class drawn uniformly from the
        classes of y (Zhang et al.'s "partially corrupted labels").

    Returns
    -------
    y_new : ndarray of shape (n_samples,)
        A new array; y is not modified.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-d labels, got shape {y.shape}.")
    if not (isinstance(q, numbers.Real) and 0 <= q <= 1):
        raise ValueError(f"q must be a share in [0, 1], got {q!r}.")
    if mode not in ("shuffle", "uniform"):
        raise ValueError(f"mode must be 'shuffle' or 'uniform', got {mode!r}.")
    rng = check_random_state(random_state)
    idx = rng.choice(y.size, round(q * y.size), replace=False)
    y_new = y.copy()
    if mode == "shuffle":
        y_new[idx] = y[idx][rng.permutation(idx.size)]
    else:
        y_new[idx] = rng.choice(np.unique(y), idx.size)
    return y_new


# The default problem: two classes of two 2-D Gaussians each, priors 1/2. The
# Bayes boundary has two curved branches; the Bayes error is about 9.2 %.
MIXTURE_MEANS = (((-1.0, 0.6), (1.2, 1.6)), ((0.6, -0.4), (-0.6, 2.2)))
MIXTURE_COVARIANCES = (
    (((0.45, 0.15), (0.15, 0.35)), ((0.35, -0.1), (-0.1, 0.3))),
    (((0.4, 0.0), (0.0, 0.25)), ((0.3, 0.12), (0.12, 0.4))),
)


def _probabilities(p, size, what):
    p = np.full(size, 1.0 / size) if p is None else np.asarray(p, dtype=np.float64)
    if p.shape != (size,) or not np.all(p > 0) or not np.isclose(p.sum(), 1.0, atol=1e-12):
        raise ValueError(f"{what} must be {size} positive numbers summing to 1, got {p!r}.")
    return p


def _check_mixture(means, covariances, weights, priors):
    """Validated per-class means (k, 2), Cholesky factors (k, 2, 2), weights, priors."""
    if len(means) < 2 or len(covariances) != len(means):
        raise ValueError(
            f"means and covariances must give the components of at least 2 classes, one "
            f"entry per class; got {len(means)} and {len(covariances)} entries."
        )
    n_classes = len(means)
    if weights is not None and len(weights) != n_classes:
        raise ValueError(f"weights must have one entry per class ({n_classes}), got "
                         f"{len(weights)}.")
    mus, chols, ws = [], [], []
    for c in range(n_classes):
        mu = np.asarray(means[c], dtype=np.float64)
        cov = np.asarray(covariances[c], dtype=np.float64)
        if mu.ndim != 2 or mu.shape[1] != 2 or mu.shape[0] < 1:
            raise ValueError(f"means of class {c} must have shape (n_components, 2), got "
                             f"{mu.shape}.")
        if cov.shape != (mu.shape[0], 2, 2):
            raise ValueError(f"covariances of class {c} must have shape ({mu.shape[0]}, 2, 2),"
                             f" got {cov.shape}.")
        if not (np.isfinite(mu).all() and np.isfinite(cov).all()):
            raise ValueError(f"means and covariances of class {c} must be finite.")
        if not np.allclose(cov, np.swapaxes(cov, 1, 2)):
            raise ValueError(f"covariances of class {c} must be symmetric.")
        try:
            chols.append(np.linalg.cholesky(cov))
        except np.linalg.LinAlgError:
            raise ValueError(f"covariances of class {c} must be positive definite.") from None
        mus.append(mu)
        ws.append(_probabilities(None if weights is None else weights[c], mu.shape[0],
                                 f"weights of class {c}"))
    return mus, chols, ws, _probabilities(priors, n_classes, "priors")


def _log_gaussian(X, mean, chol):
    """log N(x; mean, L L^T) for the rows of X."""
    z = solve_triangular(chol, (X - mean).T, lower=True)
    return (-0.5 * (z**2).sum(axis=0) - np.log(np.diag(chol)).sum()
            - 0.5 * X.shape[1] * np.log(2 * np.pi))


class BayesClassifier(ClassifierMixin, BaseEstimator):
    """The Bayes-optimal classifier of classes that are mixtures of 2-D Gaussians.

    Class c has prior ``priors[c]`` and density p(x | c) = sum_k
    ``weights[c][k]`` N(x; ``means[c][k]``, ``covariances[c][k]``). The
    classifier predicts argmax_c priors[c] p(x | c), the label of least error
    rate for points drawn from that distribution; :meth:`bayes_error` is
    that rate. ``fit`` only validates the parameters: nothing is learnt.

    Parameters
    ----------
    means : sequence of array-like of shape (n_components_c, 2)
        Per class, the means of its components.
    covariances : sequence of array-like of shape (n_components_c, 2, 2)
        Per class, the (positive definite) covariances of its components.
    weights : sequence of array-like of shape (n_components_c,), default=None
        Per class, the component weights (summing to 1); None for equal ones.
    priors : array-like of shape (n_classes,), default=None
        Class priors (summing to 1); None for equal ones.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        0, 1, ..., the labels :func:`gaussian_mixture` draws.
    n_features_in_ : int
        2.

    Examples
    --------
    >>> from mlpx.landscape._data import BayesClassifier
    >>> bayes = BayesClassifier([[[-1, 0]], [[1, 0]]],
    ...                         [[[[1, 0], [0, 1]]], [[[1, 0], [0, 1]]]]).fit()
    >>> bayes.predict([[-0.5, 3.0], [0.5, -3.0]])
    array([0, 1])
    >>> round(bayes.bayes_error(), 4)  # Φ(-1) for unit-variance classes 2 apart
    0.1587
    """

    def __init__(self, means: ArrayLike, covariances: ArrayLike,
                 weights: Sequence[ArrayLike] | None = None,
                 priors: ArrayLike | None = None) -> None:
        self.means = means
        self.covariances = covariances
        self.weights = weights
        self.priors = priors

    def fit(self, X: ArrayLike | None = None, y: ArrayLike | None = None) -> BayesClassifier:
        """Validate the parameters (X and y are ignored).

        Returns
        -------
        self : BayesClassifier
        """
        self._mixture = _check_mixture(self.means, self.covariances, self.weights,
                                       self.priors)
        self.classes_ = np.arange(len(self._mixture[3]))
        self.n_features_in_ = 2
        return self

    def _check_X(self, X):
        check_is_fitted(self)
        X = check_array(X, dtype=np.float64)
        if X.shape[1] != 2:
            raise ValueError(f"X has {X.shape[1]} features; the mixture is 2-D.")
        return X

    def joint_log_density(self, X: ArrayLike) -> NDArray[np.float64]:
        """log(priors[c] p(x | c)) for each row of X and class c.

        Returns
        -------
        log_density : ndarray of shape (n_samples, n_classes)
        """
        X = self._check_X(X)
        mus, chols, ws, priors = self._mixture
        return np.column_stack([
            np.log(priors[c]) + logsumexp(
                [np.log(w) + _log_gaussian(X, mu, L) for w, mu, L in zip(ws[c], mus[c],
                                                                          chols[c])], axis=0)
            for c in range(priors.size)
        ])

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Posterior class probabilities P(c | x).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        joint = self.joint_log_density(X)
        return np.exp(joint - logsumexp(joint, axis=1, keepdims=True))

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """The Bayes-optimal labels argmax_c priors[c] p(x | c).

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        joint = self.joint_log_density(X)
        return self.classes_[np.argmax(joint, axis=1)]

    def bayes_error(self, resolution: int = 801) -> float:
        """The Bayes error, 1 - ∫ max_c priors[c] p(x | c) dx, by quadrature.

        The integrand ``sum_c - max_c`` of priors[c] p(x | c) is summed on a
        resolution x resolution grid (trapezoidal rule) over a box reaching 8
        standard deviations beyond every component, outside which the mass is
        below 1e-14. The integrand has kinks along the Bayes boundary, which
        limit the rule to an error O(h^2) in the grid step h: about 1e-5 at
        the default resolution for the default mixture of
        :func:`gaussian_mixture` and for two unit Gaussians, far below the
        standard error of any Monte Carlo estimate (1e-3 for 10^5 points).

        Parameters
        ----------
        resolution : int, default=801
            Grid points per axis.

        Returns
        -------
        error : float
        """
        check_is_fitted(self)
        if not (isinstance(resolution, numbers.Integral) and resolution >= 3):
            raise ValueError(f"resolution must be an integer >= 3, got {resolution!r}.")
        mus, chols, _, _ = self._mixture
        reach = 8 * np.sqrt(np.concatenate([(L**2).sum(axis=2) for L in chols]))
        centres = np.concatenate(mus)
        lo, hi = (centres - reach).min(axis=0), (centres + reach).max(axis=0)
        axes = [np.linspace(lo[k], hi[k], resolution) for k in range(2)]
        quad = np.ones(resolution)
        quad[[0, -1]] = 0.5  # trapezoidal weights
        total = 0.0
        step = max(1, 2**17 // resolution)  # grid rows per block: bounded memory
        for i in range(0, resolution, step):
            x0 = np.repeat(axes[0][i:i + step], resolution)
            joint = np.exp(self.joint_log_density(
                np.column_stack([x0, np.tile(axes[1], x0.size // resolution)])))
            excess = (joint.sum(axis=1) - joint.max(axis=1)).reshape(-1, resolution)
            total += float(quad[i:i + step] @ excess @ quad)
        return float(total * (axes[0][1] - axes[0][0]) * (axes[1][1] - axes[1][0]))

    def sample(
        self, n_samples: int, random_state: int | np.random.RandomState | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Draw points and their classes from the mixture.

        Returns
        -------
        X : ndarray of shape (n_samples, 2)
        y : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        if not (isinstance(n_samples, numbers.Integral) and n_samples >= 1):
            raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}.")
        rng = check_random_state(random_state)
        mus, chols, ws, priors = self._mixture
        y = rng.choice(priors.size, size=n_samples, p=priors)
        X = np.empty((n_samples, 2))
        for c in range(priors.size):
            rows = np.flatnonzero(y == c)
            comp = rng.choice(ws[c].size, size=rows.size, p=ws[c])
            z = rng.standard_normal((rows.size, 2))
            X[rows] = mus[c][comp] + np.einsum("nij,nj->ni", chols[c][comp], z)
        return X, y


class GaussianMixtureData(NamedTuple):
    """A sample of :func:`gaussian_mixture` and its known optimum.

    Attributes
    ----------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,)
    bayes : BayesClassifier
        The fitted Bayes-optimal classifier of the distribution.
    bayes_error : float
        Its error rate on the distribution (:meth:`BayesClassifier.bayes_error`).
    """

    X: np.ndarray
    y: np.ndarray
    bayes: BayesClassifier
    bayes_error: float


def gaussian_mixture(
    n_samples: int = 200,
    random_state: int | np.random.RandomState | None = None,
    *,
    means: Any = None,
    covariances: Any = None,
    weights: Any = None,
    priors: ArrayLike | None = None,
) -> GaussianMixtureData:
    """Two-class (or more) 2-D data from mixtures of Gaussians, with the Bayes optimum.

    Each point's class is drawn from `priors`, then one of the class's
    components from its `weights`, then the point from that Gaussian. The
    default distribution has two classes of two components each, whose
    Bayes boundary has two curved branches (Bayes error about 9.2 %).

    Parameters
    ----------
    n_samples : int, default=200
    random_state : int, RandomState or None, default=None
    means, covariances, weights, priors : default=None
        The distribution, as in :class:`BayesClassifier`; None for the
        default one (`means` and `covariances` go together).

    Returns
    -------
    data : GaussianMixtureData
        ``X``, ``y``, the fitted ``bayes`` classifier and its ``bayes_error``.

    Examples
    --------
    >>> from mlpx.landscape._data import gaussian_mixture
    >>> data = gaussian_mixture(500, random_state=0)
    >>> data.X.shape, round(data.bayes_error, 3)
    ((500, 2), 0.092)
    >>> bool(abs((data.bayes.predict(data.X) != data.y).mean() - data.bayes_error) < 0.05)
    True
    """
    if (means is None) != (covariances is None):
        raise ValueError("Give both means and covariances, or neither (the default mixture).")
    if means is None:
        means, covariances = MIXTURE_MEANS, MIXTURE_COVARIANCES
    bayes = BayesClassifier(means, covariances, weights, priors).fit()
    X, y = bayes.sample(n_samples, random_state)
    return GaussianMixtureData(X, y, bayes, bayes.bayes_error())
