"""Curvature of the loss at a fitted network: exact Hessian-vector products.

The products come from the compiled R-operator (Network.hessian_vector), on the
same loss the estimator minimises (mean data loss + alpha/(2n) ||W||^2), over
the flat parameter vector (W_0..W_{L-1}, then b_0..b_{L-1}).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.linalg import LinearOperator, eigsh
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from mlpx._engine import network_of, params_of, targets_of

if TYPE_CHECKING:
    from mlpx import MLPXClassifier, MLPXRegressor


def _engine_data(est, X, y, sample_weight):
    theta = params_of(est)
    X = validate_data(est, X, dtype=(np.float64, np.float32), reset=False)
    X = np.ascontiguousarray(X, dtype=theta.dtype)
    Y = targets_of(est, y)
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {Y.shape[0]}.")
    return theta, X, Y


def hessian_operator(
    est: MLPXClassifier | MLPXRegressor,
    X: ArrayLike,
    y: ArrayLike,
    sample_weight: ArrayLike | None = None,
    include_penalty: bool = True,
) -> LinearOperator:
    """The Hessian of est's training loss on (X, y) as a LinearOperator.

    Parameters
    ----------
    est : fitted MLPXClassifier or MLPXRegressor
        The network; its current weights are the point of expansion.
    X, y : array-like
        The data the loss is taken over.
    sample_weight : array-like, default=None
        Sample weights, as in ``fit``.
    include_penalty : bool, default=True
        Include the L2 term (alpha / n on the weights' diagonal).

    Returns
    -------
    H : scipy.sparse.linalg.LinearOperator of shape (n_params, n_params)
        ``H @ v`` is the exact Hessian-vector product (float64 in and out).
    """
    theta, X, Y = _engine_data(est, X, y, sample_weight)
    network = network_of(est)
    alpha = float(est.alpha) if include_penalty else 0.0
    out = np.empty_like(theta)

    def matvec(v):
        network.hessian_vector(theta, np.ravel(v), X, Y, sample_weight, alpha, out)
        return out.astype(np.float64)

    return LinearOperator((theta.size, theta.size), matvec=matvec, rmatvec=matvec,
                          dtype=np.float64)


def dense_hessian(
    est: MLPXClassifier | MLPXRegressor,
    X: ArrayLike,
    y: ArrayLike,
    sample_weight: ArrayLike | None = None,
    include_penalty: bool = True,
    max_params: int = 4000,
) -> NDArray[np.float64]:
    """The full Hessian matrix (n_params^2 memory: small networks only)."""
    H = hessian_operator(est, X, y, sample_weight, include_penalty)
    if H.shape[0] > max_params:
        raise ValueError(
            f"The network has {H.shape[0]} parameters; the dense Hessian is limited to "
            f"max_params={max_params}. Use hessian_operator with eigsh instead."
        )
    return H @ np.eye(H.shape[0])


def extreme_eigenvalues(
    est: MLPXClassifier | MLPXRegressor,
    X: ArrayLike,
    y: ArrayLike,
    sample_weight: ArrayLike | None = None,
    include_penalty: bool = True,
    tol: float = 1e-8,
    random_state: int | np.random.RandomState | None = 0,
) -> tuple[float, float]:
    """The largest and smallest Hessian eigenvalues (Lanczos, scipy's eigsh).

    Returns
    -------
    lambda_max, lambda_min : float
        lambda_min < 0 means the point is not a local minimum (a saddle, or
        not critical).
    """
    H = hessian_operator(est, X, y, sample_weight, include_penalty)
    v0 = check_random_state(random_state).normal(size=H.shape[0])
    if H.shape[0] < 3:
        w = np.linalg.eigvalsh(H @ np.eye(H.shape[0]))
        return float(w[-1]), float(w[0])
    top = eigsh(H, k=1, which="LA", tol=tol, v0=v0, return_eigenvectors=False)[0]
    bottom = eigsh(H, k=1, which="SA", tol=tol, v0=v0, return_eigenvectors=False)[0]
    return float(top), float(bottom)


_WHICH = ("largest", "smallest", "magnitude")


def top_hessian_eigenvalues(
    est: MLPXClassifier | MLPXRegressor,
    X: ArrayLike,
    y: ArrayLike,
    k: int = 1,
    *,
    which: Literal["largest", "smallest", "magnitude"] = "largest",
    sample_weight: ArrayLike | None = None,
    include_penalty: bool = True,
    tol: float = 1e-10,
    return_eigenvectors: bool = False,
    random_state: int | np.random.RandomState | None = 0,
) -> NDArray[np.float64] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The k extreme Hessian eigenvalues (and eigenvectors), by Lanczos (eigsh).

    Parameters
    ----------
    est : fitted MLPXClassifier or MLPXRegressor
        The network; its current weights are the point of expansion.
    X, y : array-like
        The data the loss is taken over.
    k : int, default=1
        How many, 1 <= k < n_params.
    which : {'largest', 'smallest', 'magnitude'}, default='largest'
        The k largest, the k smallest (most negative), or the k largest in
        absolute value.
    sample_weight : array-like, default=None
        Sample weights, as in ``fit``.
    include_penalty : bool, default=True
        Include the L2 term (alpha / n on the weights' diagonal).
    tol : float, default=1e-10
        ARPACK's relative accuracy: each residual ||H u - lambda u||, which
        bounds the eigenvalue's error, is at most tol * |lambda| ('largest',
        'magnitude'), or for 'smallest' at most tol * (s - lambda) with
        s = 2 max(lambda_1, 0): relative to the spectrum's width, not to
        eigenvalues near zero (0: machine precision).
    return_eigenvectors : bool, default=False
        Also return the unit eigenvectors.
    random_state : int, RandomState instance or None, default=0
        Draws Lanczos's starting vector.

    Returns
    -------
    eigenvalues : ndarray of shape (k,)
        Largest first ('largest', 'magnitude': by absolute value), or smallest
        first ('smallest').
    eigenvectors : ndarray of shape (n_params, k)
        Column i belongs to eigenvalue i; only with ``return_eigenvectors``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlpx import MLPXClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPXClassifier(hidden_layer_sizes=(5,), solver="lbfgs", random_state=0).fit(X, y)
    >>> top = top_hessian_eigenvalues(clf, X, y, k=3)
    >>> bool(top[0] >= top[1] >= top[2])
    True
    """
    if which not in _WHICH:
        raise ValueError(f"which must be one of {list(_WHICH)}, got {which!r}.")
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}.")
    H = hessian_operator(est, X, y, sample_weight, include_penalty)
    n = H.shape[0]
    if not (isinstance(k, (int, np.integer)) and not isinstance(k, bool) and 1 <= k < n):
        raise ValueError(f"k must be an integer with 1 <= k < n_params = {n}, got {k!r}.")
    v0 = check_random_state(random_state).normal(size=n)
    if which == "smallest":
        # ARPACK's test is relative to each eigenvalue, and the smallest ones
        # sit near zero: on shift - H (the same Krylov spaces) it becomes
        # relative to the spectrum's width, and converges about twice as fast.
        top = eigsh(H, k=1, which="LA", tol=1e-3, v0=v0, return_eigenvectors=False)[0]
        shift = top + abs(top)
        shifted = LinearOperator(H.shape, matvec=lambda v: shift * np.ravel(v) - H @ v,
                                 dtype=np.float64)
        mu, U = eigsh(shifted, k=k, which="LA", tol=tol, v0=v0)
        w = shift - mu
    else:
        w, U = eigsh(H, k=k, which="LA" if which == "largest" else "LM", tol=tol, v0=v0)
    key = {"largest": -w, "smallest": w, "magnitude": -np.abs(w)}[which]
    order = np.argsort(key, kind="stable")
    return (w[order], U[:, order]) if return_eigenvectors else w[order]


def hutchinson_trace(
    est: MLPXClassifier | MLPXRegressor,
    X: ArrayLike,
    y: ArrayLike,
    n_samples: int = 100,
    sample_weight: ArrayLike | None = None,
    include_penalty: bool = True,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[float, float]:
    """Hutchinson's estimate of tr(H): the mean of z^T H z over Rademacher z.

    Returns
    -------
    trace : float
        The estimate.
    std_error : float
        Its standard error (sample std / sqrt(n_samples)).
    """
    if n_samples < 2:
        raise ValueError(f"n_samples must be at least 2, got {n_samples}.")
    H = hessian_operator(est, X, y, sample_weight, include_penalty)
    rng = check_random_state(random_state)
    values = np.empty(n_samples)
    for i in range(n_samples):
        z = rng.choice([-1.0, 1.0], size=H.shape[0])
        values[i] = z @ (H @ z)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(n_samples))
