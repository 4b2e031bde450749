"""Deep linear networks: the closed-form optimum, the hypotheses, the critical points.

A network with identity activations computes x -> W x + c with
W = W_{H+1} ... W_1 of rank at most p, the smallest hidden width. Baldi &
Hornik (1989) for one hidden layer and Kawaguchi (2016) for any depth showed
that its squared loss has no bad local minimum: every local minimum is global,
and the global minimum is the best rank-p linear map.

Notation of the papers (columns = samples): X is d_x x n, Y is d_y x n and

    Σ = Y X^T (X X^T)^{-1} X Y^T            (d_y x d_y),
    min ½ ||Y - W X||_F^2 = ½ (tr(Y Y^T) - sum of the min(p, d_y) largest
                               eigenvalues of Σ).

The mlpx estimators fit intercepts: the output bias absorbs the means, so the
formulas hold for the centred data X - mean(X), Y - mean(Y). They average the
squared error over samples and outputs, ``sum_ik (y_ik - p_ik)^2 / (2 n d_y)``
(plus an L2 penalty, absent with alpha=0), so this module reports losses in
that normalisation: the ½-sum of squares above divided by n d_y.

:func:`trained_critical_points` trains one network per seed and classifies
where each run ended (global minimum, saddle, rank condition), which makes the
theorem checkable on what training finds.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array

from mlpx._engine import network_of, pack, params_of, set_params_of, single_threaded_blas
from mlpx.landscape._agreement import _check_fitted
from mlpx.landscape._paths import NetworkLoss

if TYPE_CHECKING:
    from mlpx import MLPXClassifier, MLPXRegressor


class LinearOptimum(NamedTuple):
    """The global minimum of a deep linear network's squared loss.

    Attributes
    ----------
    loss : float
        L*, in the estimators' normalisation (mean over samples and outputs
        of the squared error, halved).
    least_squares_loss : float
        The loss of the unconstrained least-squares fit (= L* when p >= d_y).
    eigenvalues : ndarray of shape (d_y,)
        Eigenvalues of Σ (centred data), in decreasing order.
    rank : int
        min(p, d_y): how many eigen-directions the optimum keeps.
    n_samples : int
    n_outputs : int
    """

    loss: float
    least_squares_loss: float
    eigenvalues: np.ndarray
    rank: int
    n_samples: int
    n_outputs: int


class LinearAssumptions(NamedTuple):
    """Kawaguchi's (2016) hypotheses on the data, checked on centred data.

    Attributes
    ----------
    n_samples, d_x, d_y : int
    rank_xx : int
        Rank of X X^T (must be d_x).
    rank_xy : int
        Rank of X Y^T (must be min(d_x, d_y)).
    dy_le_dx : bool
        d_y <= d_x.
    eigenvalues : ndarray of shape (d_y,)
        Eigenvalues of Σ, decreasing.
    min_gap : float
        Smallest difference of two consecutive eigenvalues (inf if d_y = 1).
    relative_min_gap : float
        ``min_gap`` over the largest eigenvalue.
    distinct : bool
        ``relative_min_gap > rtol``: Σ has d_y distinct eigenvalues.
    satisfied : bool
        All of the above hold.
    """

    n_samples: int
    d_x: int
    d_y: int
    rank_xx: int
    rank_xy: int
    dy_le_dx: bool
    eigenvalues: np.ndarray
    min_gap: float
    relative_min_gap: float
    distinct: bool
    satisfied: bool


class CriticalPoint(NamedTuple):
    """What a network's parameter vector is for its training loss.

    Attributes
    ----------
    kind : str
        'not critical' (gradient norm above ``grad_tol``); 'saddle' (an
        eigenvalue of the Hessian below ``-eig_tol``); for a linear network
        without penalty, 'global minimum' (loss equal to L*) or 'degenerate
        saddle' (no negative curvature detected but a loss above L*: by
        Kawaguchi (2016) not a local minimum); otherwise 'local minimum'
        (second-order conditions hold).
    loss : float
    grad_norm : float
        Euclidean norm of the gradient.
    min_eigenvalue : float
        Smallest eigenvalue of the Hessian.
    optimum_loss : float or None
        L* for a linear network without penalty, else None.
    middle_rank : int or None
        For a linear network, rank(W_H ... W_2), the product of the weights
        between hidden layers (Kawaguchi's notation; the identity of the
        hidden width with one hidden layer); else None.
    rank_condition : bool or None
        For a linear network, whether middle_rank equals p, the smallest
        hidden width. Kawaguchi (2016, Theorem 2.3 (iv)): when it holds, the
        Hessian at any saddle point has a negative eigenvalue; when it fails,
        a saddle may be degenerate (no negative eigenvalue). None otherwise.
    """

    kind: str
    loss: float
    grad_norm: float
    min_eigenvalue: float
    optimum_loss: float | None
    middle_rank: int | None = None
    rank_condition: bool | None = None


def _as_2d(Y, n):
    Y = check_array(Y, ensure_2d=False, dtype=np.float64)
    Y = Y.reshape(Y.shape[0], -1)
    if Y.shape[0] != n:
        raise ValueError(f"X has {n} samples but Y has {Y.shape[0]}.")
    return Y


def _centred(X, Y):
    """Centred float64 copies of X (n, d_x) and Y (n, d_y), and the means."""
    X = check_array(X, dtype=np.float64)
    Y = _as_2d(Y, X.shape[0])
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    return X - x_mean, Y - y_mean, x_mean, y_mean


def _smallest_width(p):
    widths = [p] if isinstance(p, numbers.Integral) else list(p)
    if not widths or not all(isinstance(w, numbers.Integral) and w >= 1 for w in widths):
        raise ValueError(f"p must be a positive width or a sequence of them, got {p!r}.")
    return int(min(widths))


def _spectrum(Xc, Yc):
    """rank(Xc), eigenvalues and eigenvectors of Σ (decreasing), least-squares SSE.

    Σ = B^T B with B = Q^T Yc, Q an orthonormal basis of the columns of Xc
    (Q Q^T = Xc (Xc^T Xc)^+ Xc^T): its eigenvalues are the squared singular
    values of B, and the least-squares residual is Yc - Q B.
    """
    U, s, _ = np.linalg.svd(Xc, full_matrices=False)
    tol = s[0] * max(Xc.shape) * np.finfo(np.float64).eps if s.size else 0.0
    rank = int((s > tol).sum())
    Q = U[:, :rank]
    B = Q.T @ Yc
    sse_ls = float(((Yc - Q @ B) ** 2).sum())
    _, sb, Vt = np.linalg.svd(B, full_matrices=True)
    eig = np.zeros(Yc.shape[1])
    eig[: sb.size] = sb**2
    return rank, eig, Vt.T, sse_ls


def linear_network_optimum(X: ArrayLike, Y: ArrayLike, p: int | Sequence[int]) -> LinearOptimum:
    """Closed-form global minimum of a deep linear network's squared loss.

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples,) or (n_samples, d_y)
    p : int or sequence of int
        The smallest hidden width, or the hidden widths.

    Returns
    -------
    optimum : LinearOptimum
        ``loss`` is L* = (tr(Yc Yc^T) - sum of the top min(p, d_y) eigenvalues
        of Σ) / (2 n d_y) with centred Xc, Yc: what ``MLPXRegressor(
        activation='identity', alpha=0)`` reports as ``loss_`` at its global
        minimum, for any depth whose smallest width is p.

    Notes
    -----
    The sum of squares is computed as the least-squares residual plus the
    discarded eigenvalues, which avoids the cancellation in tr(Yc Yc^T) - sum
    of the kept ones. A rank-deficient X is handled (X X^T is then replaced
    by its pseudo-inverse); :func:`check_linear_assumptions` says whether the
    hypotheses of the theorems hold.
    """
    p = _smallest_width(p)
    Xc, Yc, _, _ = _centred(X, Y)
    n, d_y = Yc.shape
    _, eig, _, sse_ls = _spectrum(Xc, Yc)
    r = min(p, d_y)
    scale = 2.0 * n * d_y
    return LinearOptimum(
        loss=(sse_ls + float(eig[r:].sum())) / scale,
        least_squares_loss=sse_ls / scale,
        eigenvalues=eig,
        rank=r,
        n_samples=n,
        n_outputs=d_y,
    )


def check_linear_assumptions(
    X: ArrayLike, Y: ArrayLike, *, rtol: float = 1e-8
) -> LinearAssumptions:
    """Check the hypotheses of Baldi & Hornik (1989) and Kawaguchi (2016).

    X X^T and X Y^T of full rank, d_y <= d_x, and Σ with d_y distinct
    eigenvalues, for the centred data (the estimators fit intercepts).

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples,) or (n_samples, d_y)
    rtol : float, default=1e-8
        Eigenvalues closer than ``rtol`` times the largest count as equal.

    Returns
    -------
    assumptions : LinearAssumptions
    """
    Xc, Yc, _, _ = _centred(X, Y)
    n, d_x = Xc.shape
    d_y = Yc.shape[1]
    rank_xx, eig, _, _ = _spectrum(Xc, Yc)
    rank_xy = int(np.linalg.matrix_rank(Xc.T @ Yc))
    gaps = -np.diff(eig)
    min_gap = float(gaps.min()) if gaps.size else float("inf")
    top = float(eig[0]) if eig.size else 0.0
    relative = min_gap / top if top > 0 else (float("inf") if d_y == 1 else 0.0)
    distinct = bool(relative > rtol)
    checks = (rank_xx == d_x, rank_xy == min(d_x, d_y), d_y <= d_x, distinct)
    return LinearAssumptions(
        n_samples=n, d_x=d_x, d_y=d_y, rank_xx=rank_xx, rank_xy=rank_xy,
        dy_le_dx=d_y <= d_x, eigenvalues=eig, min_gap=min_gap,
        relative_min_gap=float(relative), distinct=distinct, satisfied=all(checks),
    )


def _check_widths(widths):
    widths = (widths,) if isinstance(widths, numbers.Integral) else tuple(widths)
    if not widths or not all(isinstance(w, numbers.Integral) and w >= 1 for w in widths):
        raise ValueError(f"widths must be positive hidden widths, got {widths!r}.")
    return tuple(int(w) for w in widths)


def _check_subset(subset, d_y, p):
    subset = [subset] if isinstance(subset, numbers.Integral) else list(subset)
    if not all(isinstance(j, numbers.Integral) and 0 <= j < d_y for j in subset):
        raise ValueError(
            f"subset must hold eigenvalue indices in [0, {d_y}) (0 = largest), got {subset!r}."
        )
    if len(set(subset)) != len(subset):
        raise ValueError(f"subset has repeated indices: {subset!r}.")
    if len(subset) > p:
        raise ValueError(
            f"subset has {len(subset)} eigenvectors but the smallest hidden width is {p}."
        )
    return sorted(int(j) for j in subset)


def critical_point_from_eigenvectors(
    X: ArrayLike, Y: ArrayLike, subset: int | Sequence[int], widths: int | Sequence[int]
) -> MLPXRegressor:
    """A linear network at the critical point of a set of eigenvectors of Σ.

    Baldi & Hornik (1989): with U_J the eigenvectors of Σ indexed by J, the
    map W = U_J U_J^T W_ls (W_ls the least-squares map) is realised at a
    critical point of the loss: the first layer is U_J^T W_ls, the middle
    layers pass the first |J| units through, the last layer is U_J, unused
    units are 0, and the biases centre the data. It is the global minimum
    when J holds the min(p, d_y) largest eigenvalues, and a saddle otherwise.
    With distinct eigenvalues, the saddle's Hessian has a negative eigenvalue
    when J misses a larger eigenvalue, or with one hidden layer. With two or
    more hidden layers and J the |J| < min(p, d_y) largest, the middle
    layers have rank |J| < p, Kawaguchi's rank condition fails, and the
    saddle is degenerate: its smallest Hessian eigenvalue is 0 up to rounding
    (see :func:`classify_critical_point`). Its loss is
    (tr(Yc Yc^T) - sum_{j in J} λ_j) / (2 n d_y).

    Parameters
    ----------
    X : array-like of shape (n_samples, d_x)
    Y : array-like of shape (n_samples,) or (n_samples, d_y)
    subset : int or sequence of int
        Indices J of eigenvalues of Σ, 0 for the largest; at most
        min(widths) of them.
    widths : int or sequence of int
        Hidden widths (any depth; one hidden layer in Baldi & Hornik).

    Returns
    -------
    est : MLPXRegressor
        A fitted ``MLPXRegressor(activation='identity', alpha=0,
        solver='lbfgs')`` holding these weights (fitted for one iteration to
        set it up, then overwritten).
    """
    from mlpx import MLPXRegressor

    widths = _check_widths(widths)
    Xc, Yc, x_mean, y_mean = _centred(X, Y)
    d_x, d_y = Xc.shape[1], Yc.shape[1]
    J = _check_subset(subset, d_y, min(widths))
    r = len(J)
    _, _, V, _ = _spectrum(Xc, Yc)
    U_J = V[:, J]
    W_ls = np.linalg.lstsq(Xc, Yc, rcond=None)[0]  # (d_x, d_y): Xc @ W_ls = P_X Yc
    sizes = (d_x, *widths, d_y)
    coefs = [np.zeros((a, b)) for a, b in pairwise(sizes)]
    intercepts = [np.zeros(b) for b in sizes[1:]]
    coefs[0][:, :r] = W_ls @ U_J
    for W in coefs[1:-1]:
        W[:r, :r] = np.eye(r)
    coefs[-1][:r, :] = U_J.T
    intercepts[0] = -x_mean @ coefs[0]
    intercepts[-1] = y_mean.copy()

    est = MLPXRegressor(hidden_layer_sizes=widths, activation="identity", solver="lbfgs",
                        alpha=0.0, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(Xc + x_mean, Yc[:, 0] + y_mean[0] if d_y == 1 else Yc + y_mean)
    set_params_of(est, pack(coefs, intercepts, np.float64))
    return est


def finite_difference_hessian(loss, theta, *, step=1e-5):
    """Hessian by central differences of the exact gradient (small networks).

    Column j is (g(θ + h e_j) - g(θ - h e_j)) / 2h with h = step * max(1,
    |θ_j|); the result is symmetrised.

    Parameters
    ----------
    loss : NetworkLoss
    theta : ndarray of shape (n_params,)
    step : float, default=1e-5

    Returns
    -------
    H : ndarray of shape (n_params, n_params)
    """
    theta = np.asarray(theta, dtype=np.float64)
    H = np.empty((theta.size, theta.size))
    for j in range(theta.size):
        h = step * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        H[:, j] = (loss.loss_grad(up)[1] - loss.loss_grad(down)[1]) / (2 * h)
    return (H + H.T) / 2


def _middle_rank(est):
    """rank(W_H ... W_2): the product of the weights between hidden layers
    (the identity of the hidden width with one hidden layer)."""
    widths = network_of(est).layer_units[1:-1]
    middle = np.eye(widths[0])
    for W in est.coefs_[1:-1]:
        middle = middle @ W
    return int(np.linalg.matrix_rank(middle))


def _is_linear_network(est):
    return (not is_classifier(est) and est.activation == "identity"
            and est.out_activation_ == "identity" and getattr(est, "loss", None) == "squared_error")


def classify_critical_point(
    est: MLPXClassifier | MLPXRegressor,
    X: ArrayLike,
    y: ArrayLike,
    hessian_min_eig: Callable[[MLPXClassifier | MLPXRegressor, ArrayLike, ArrayLike], float]
    | None = None,
    *,
    alpha: float | None = None,
    grad_tol: float = 1e-6,
    eig_tol: float = 1e-6,
    loss_rtol: float = 1e-6,
    max_params: int = 2000,
) -> CriticalPoint:
    """Is the network at a critical point of its loss, and of which kind?

    Parameters
    ----------
    est : MLPXClassifier or MLPXRegressor
        A fitted network; its current parameters are examined.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    hessian_min_eig : callable, default=None
        ``hessian_min_eig(est, X, y) -> float``, the smallest eigenvalue of
        the Hessian of the loss (e.g. from Hessian-vector products, such as
        ``lambda e, X, y: extreme_eigenvalues(e, X, y)[1]``). None
        computes the dense Hessian by central differences of the exact
        gradient: n_params + 1 gradient pairs, for networks of at most
        `max_params` parameters.
    alpha : float, default=None
        L2 penalty of the loss examined; None for the estimator's ``alpha``.
    grad_tol : float, default=1e-6
        Largest gradient norm of a critical point.
    eig_tol : float, default=1e-6
        Eigenvalues below ``-eig_tol`` count as negative curvature. At a
        point that is only nearly critical (a trained network), the flat
        directions of the network's symmetries show eigenvalues of the order
        of the gradient norm, of either sign: set `eig_tol` accordingly.
    loss_rtol : float, default=1e-6
        Relative tolerance of "loss equal to L*" (linear networks).
    max_params : int, default=2000

    Returns
    -------
    point : CriticalPoint
        ``kind``, ``loss``, ``grad_norm``, ``min_eigenvalue``, ``optimum_loss``,
        and for a linear network ``middle_rank`` and ``rank_condition``.
    """
    _check_fitted(est)
    alpha = float(est.alpha if alpha is None else alpha)
    loss = NetworkLoss(est, X, y, alpha)
    theta = params_of(est).astype(np.float64)
    if hessian_min_eig is None and theta.size > max_params:
        raise ValueError(
            f"The network has {theta.size} parameters: a dense Hessian is limited to "
            f"max_params={max_params}. Pass hessian_min_eig to use another method."
        )
    with single_threaded_blas():
        value, grad = loss.loss_grad(theta)
        if hessian_min_eig is None:
            min_eig = float(np.linalg.eigvalsh(finite_difference_hessian(loss, theta))[0])
        else:
            min_eig = float(hessian_min_eig(est, X, y))
    grad_norm = float(np.linalg.norm(grad))
    optimum = middle_rank = rank_condition = None
    if _is_linear_network(est):
        widths = network_of(est).layer_units[1:-1]
        middle_rank = _middle_rank(est)
        rank_condition = middle_rank == min(widths)
        if alpha == 0:
            optimum = linear_network_optimum(X, y, widths).loss
    if grad_norm > grad_tol:
        kind = "not critical"
    elif min_eig < -eig_tol:
        kind = "saddle"
    elif optimum is None:
        kind = "local minimum"
    elif value - optimum <= loss_rtol * abs(optimum) + 1e-15:
        kind = "global minimum"
    else:
        kind = "degenerate saddle"
    return CriticalPoint(kind, value, grad_norm, min_eig, optimum, middle_rank, rank_condition)


def _check_seeds(seeds):
    try:
        seeds = list(seeds)
    except TypeError:
        raise ValueError(f"seeds must be a sequence of integers, got {seeds!r}.") from None
    if not seeds or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool)
                            and s >= 0 for s in seeds):
        raise ValueError(f"seeds must be one or more integers >= 0, got {seeds!r}.")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds!r}.")
    return [int(s) for s in seeds]


def _min_hessian_eigenvalue(est, X, y, max_params):
    """Smallest eigenvalue of the exact Hessian: dense up to max_params, else Lanczos."""
    from mlpx.landscape._curvature import dense_hessian, extreme_eigenvalues

    if params_of(est).size <= max_params:
        return float(np.linalg.eigvalsh(dense_hessian(est, X, y, max_params=max_params))[0])
    return extreme_eigenvalues(est, X, y)[1]


def trained_critical_points(
    estimator: MLPXRegressor,
    X: ArrayLike,
    y: ArrayLike,
    seeds: Sequence[int],
    *,
    grad_tol: float | None = None,
    grad_rtol: float | None = None,
    eig_tol: float | None = None,
    loss_rtol: float = 1e-6,
    max_params: int = 2000,
    return_estimators: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, list[MLPXRegressor]]:
    """Train one network per seed and classify where each run ended.

    What Kawaguchi (2016) makes checkable. For a deep linear network
    (``activation='identity'``) under his hypotheses on the data
    (:func:`check_linear_assumptions`), every local minimum is global and
    every other critical point is a saddle; so each end point at a critical
    point is a 'global minimum' (loss equal to L*), a 'saddle' (a negative
    Hessian eigenvalue) or a 'degenerate saddle' (loss above L*, no negative
    curvature; possible only where the rank condition rank(W_H ... W_2) = p
    fails, Theorem 2.3 (iv)). His result for nonlinear (ReLU) networks rests on
    a model in which the paths' activations are independent Bernoulli
    variables, which a trained network does not satisfy: for a nonlinear
    network only the hypotheses on the data, the gradient and the Hessian
    are checked. An end point there without negative curvature is labelled
    'no negative curvature', not 'local minimum': at a gradient norm of
    1e-4, a run along a flat valley passes the same tests. One thing holds
    for every activation of mlpx: the global minimum of its loss is at most
    L* (units kept in a region where the activation is linear, or scaled
    down to one, approach any rank-p affine map), so an end point above L*
    is certainly not a global minimum (``not_global``).

    Parameters
    ----------
    estimator : MLPXRegressor
        The network to train (cloned, with ``random_state=seed``): squared
        error, ``alpha=0``; ``solver='lbfgs'`` with a tiny ``tol`` trains to
        the end of its relative-decrease test.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    seeds : sequence of int
        Distinct seeds, one run each.
    grad_tol, grad_rtol : float, default=None
        A run reached a critical point when its final full-batch gradient
        norm is at most `grad_tol` and at most `grad_rtol` times the norm at
        its initial weights (:func:`~mlpx.landscape._results.at_critical_point`);
        None for the seed studies' defaults (1e-3 and 1e-2).
    eig_tol : float, default=None
        Hessian eigenvalues below ``-eig_tol`` count as negative curvature.
        None: per run, ``max(10 * grad_norm, 1e-8)``. At a point that is only
        nearly critical, the flat directions of the network's symmetries have
        eigenvalues of the order of the gradient norm, of either sign.
    loss_rtol : float, default=1e-6
        A loss within ``loss_rtol * L*`` of L* counts as equal to it.
    max_params : int, default=2000
        Up to this many parameters the Hessian is dense (exact products);
        above, its smallest eigenvalue comes from Lanczos iterations. For
        ReLU units it is the Hessian of the linear piece the point lies on.
    return_estimators : bool, default=False
        Also return the fitted networks, in the order of `seeds`.

    Returns
    -------
    table : pandas.DataFrame
        One row per seed: ``seed``, ``activation``, ``loss`` (training loss
        at the end), ``optimum`` (L*), ``relative_gap`` ((loss - L*) / L*),
        ``grad_norm_start``, ``grad_norm``, ``at_critical_point``,
        ``min_eigenvalue`` (of the Hessian), ``eig_tol``, ``middle_rank`` and
        ``rank_condition`` (linear networks; else missing), ``not_global``,
        ``kind``, ``n_iter`` and ``solver_converged`` (no ConvergenceWarning).
        ``kind`` is 'not critical',
        'saddle', 'global minimum', 'degenerate saddle' (linear), 'undetermined'
        (linear, loss above L* without negative curvature while the data fail
        the hypotheses) or 'no negative curvature' (nonlinear).
    estimators : list of MLPXRegressor
        With ``return_estimators=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from mlpx import MLPXRegressor
    >>> from mlpx.landscape._linear import trained_critical_points
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 4))
    >>> Y = X @ rng.normal(size=(4, 3)) + 0.3 * rng.normal(size=(40, 3))
    >>> net = MLPXRegressor(hidden_layer_sizes=(2,), activation="identity", alpha=0.0,
    ...                     solver="lbfgs", tol=1e-15, max_iter=5000)
    >>> table = trained_critical_points(net, X, Y, range(3))
    >>> list(table.kind)
    ['global minimum', 'global minimum', 'global minimum']
    """
    from sklearn.base import clone

    from mlpx import MLPXRegressor
    from mlpx.landscape._initialization import initial_params, layer_units
    from mlpx.landscape._results import GRAD_RTOL, GRAD_TOL, at_critical_point

    if not isinstance(estimator, MLPXRegressor):
        raise ValueError(
            "Kawaguchi's theorems concern the squared loss: estimator must be an "
            f"MLPXRegressor, got {type(estimator).__name__}."
        )
    if estimator.loss != "squared_error" or estimator.alpha != 0:
        raise ValueError(
            "The theorems concern the unpenalised squared loss: set loss='squared_error' "
            f"and alpha=0 (got loss={estimator.loss!r}, alpha={estimator.alpha!r})."
        )
    if estimator.early_stopping:
        raise ValueError("early_stopping=True trains on part of the data: set it to False.")
    seeds = _check_seeds(seeds)
    grad_tol = GRAD_TOL if grad_tol is None else grad_tol
    grad_rtol = GRAD_RTOL if grad_rtol is None else grad_rtol
    for name, value in (("grad_tol", grad_tol), ("grad_rtol", grad_rtol),
                        ("loss_rtol", loss_rtol)):
        if not (isinstance(value, numbers.Real) and value >= 0):
            raise ValueError(f"{name} must be a number >= 0, got {value!r}.")
    if eig_tol is not None and not (isinstance(eig_tol, numbers.Real) and eig_tol >= 0):
        raise ValueError(f"eig_tol must be None or a number >= 0, got {eig_tol!r}.")
    X = check_array(X, dtype=np.float64)
    y = check_array(y, ensure_2d=False, dtype=np.float64)
    _as_2d(y, X.shape[0])
    hidden = estimator.hidden_layer_sizes
    widths = _check_widths(hidden)
    optimum = linear_network_optimum(X, y, widths)
    assumptions = check_linear_assumptions(X, y)
    linear = estimator.activation == "identity"
    units = layer_units(estimator, X, y)

    rows, fitted = [], []
    for seed in seeds:
        est = clone(estimator).set_params(random_state=seed)
        # the Glorot draw est.fit makes first from RandomState(seed)
        theta0 = initial_params("default", None, seed, units, est.activation, X.dtype,
                                random_state=np.random.RandomState(seed))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            est.fit(X, y)
        loss = NetworkLoss(est, X, y)
        with single_threaded_blas():
            value, grad = loss.loss_grad(params_of(est))
            grad_start = float(np.linalg.norm(loss.loss_grad(theta0)[1]))
            min_eig = _min_hessian_eigenvalue(est, X, y, max_params)
        grad_norm = float(np.linalg.norm(grad))
        critical = bool(at_critical_point(grad_norm, grad_start, grad_tol, grad_rtol))
        tol = max(10.0 * grad_norm, 1e-8) if eig_tol is None else float(eig_tol)
        gap = (value - optimum.loss) / optimum.loss if optimum.loss > 0 else np.nan
        at_optimum = value - optimum.loss <= loss_rtol * abs(optimum.loss) + 1e-15
        if not critical:
            kind = "not critical"
        elif min_eig < -tol:
            kind = "saddle"
        elif not linear:
            kind = "no negative curvature"
        elif at_optimum:
            kind = "global minimum"
        else:
            kind = "degenerate saddle" if assumptions.satisfied else "undetermined"
        middle = _middle_rank(est) if linear else None
        fitted.append(est)
        rows.append({
            "seed": seed, "activation": est.activation, "loss": value,
            "optimum": optimum.loss, "relative_gap": gap,
            "grad_norm_start": grad_start, "grad_norm": grad_norm,
            "at_critical_point": critical, "min_eigenvalue": min_eig, "eig_tol": tol,
            "middle_rank": middle,
            "rank_condition": None if middle is None else middle == min(widths),
            "not_global": not at_optimum, "kind": kind, "n_iter": est.n_iter_,
            "solver_converged": not any(issubclass(w.category, ConvergenceWarning)
                                        for w in caught),
        })
    table = pd.DataFrame(rows)
    return (table, fitted) if return_estimators else table


_PLURALS = {"global minimum": "global minima", "saddle": "saddles",
            "degenerate saddle": "degenerate saddles", "undetermined": "undetermined",
            "run": "runs"}


def _count(n, word):
    return f"{n} {word if n == 1 else _PLURALS[word]}"


def critical_point_summary(table: pd.DataFrame) -> str:
    """One sentence on a table of :func:`trained_critical_points`.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`trained_critical_points`, or several of them
        concatenated, of one activation.

    Returns
    -------
    summary : str
        E.g. "5 of 5 runs reached a critical point; all of them global
        minima." For nonlinear networks: how many end points have no
        negative curvature, how many lie above L* (not global), and what the
        tests cannot decide.
    """
    if not {"kind", "activation", "not_global"} <= set(table.columns):
        raise ValueError("table must be the output of trained_critical_points.")
    if table.activation.nunique() > 1:
        raise ValueError(
            f"table mixes activations {sorted(table.activation.unique())}: summarise one "
            "at a time."
        )
    kinds = table.kind[table.kind != "not critical"].value_counts()
    k = int(kinds.sum())
    head = f"{k} of {_count(len(table), 'run')} reached a critical point"
    if k == 0:
        return head + "."
    if (table.activation == "identity").all():
        if len(kinds) == 1:
            kind = kinds.index[0]
            return f"{head}; " + (f"it is a {kind}." if k == 1
                                  else f"all of them {_PLURALS[kind]}.")
        return head + ": " + ", ".join(_count(c, kind) for kind, c in kinds.items()) + "."
    flat = int((table.kind == "no negative curvature").sum())
    above = int(table.not_global[table.kind != "not critical"].sum())
    activation = table.activation.iloc[0]
    return (f"{head}: {flat} without negative curvature, "
            f"{_count(int((table.kind == 'saddle').sum()), 'saddle')}; {above} of these {k} "
            f"end above L*, so are not global minima. Kawaguchi's theorem does not cover "
            f"{activation} networks: these tests cannot tell a local minimum from a slow run "
            "along a flat valley, nor whether a point below L* is global.")
