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
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import expit, logit
from sklearn.utils import check_array, check_random_state


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
