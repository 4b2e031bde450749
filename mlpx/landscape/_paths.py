"""The loss along paths between two trained networks, and its barrier.

A straight line between two minima θ_a and θ_b, θ(t) = (1 - t) θ_a + t θ_b,
often crosses a region of higher loss; the *barrier* is the largest excess of
the loss over the straight interpolation of the end losses,

    barrier = max_t L(θ(t)) - [(1 - t) L(θ_a) + t L(θ_b)]

(Frankle et al. 2020, "Linear mode connectivity"; Entezari et al. 2022), which
is 0 when the path stays below that chord. A quadratic Bezier curve through a
trained control point (Garipov et al. 2018, "Loss surfaces, mode connectivity,
and fast ensembling of DNNs") often joins the same two minima with almost no
barrier.

Losses are computed by the compiled engine in float64 on the whole data set,
with the L2 penalty ``alpha / (2 n) * sum ||W||^2`` of the estimators. By
default ``alpha=0``: the pure data loss (mean squared error / 2, or mean
log-loss), the quantity the barrier literature reports; pass the estimator's
``alpha`` to follow its training objective instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize_scalar
from sklearn.base import is_classifier
from sklearn.utils import check_array, check_random_state

from mlpx._engine import network_of, params_of, single_threaded_blas, targets_of
from mlpx.landscape._alignment import _check_same_architecture
from mlpx.landscape._alignment import align as align_units

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from mlpx import MLPXClassifier, MLPXRegressor


class NetworkLoss:
    """Loss (and gradient) of a network's architecture at any parameter vector.

    Parameters
    ----------
    est : MLPXClassifier or MLPXRegressor
        A fitted network: its layer sizes, activations and output give the
        function; its own parameters are not used.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Labels (classifier) or targets (regressor).
    alpha : float, default=0.0
        L2 penalty: the loss is the mean data loss plus
        ``alpha / (2 n) * sum of squared weights`` (biases excluded).
    n_threads : int, default=None
        Engine threads; None for the engine's default budget.

    Notes
    -----
    Evaluating many points, call it inside ``single_threaded_blas()`` (from
    mlpx._engine), as the public functions of this module do: BLAS is then
    capped once for all of them.
    """

    def __init__(self, est, X, y, alpha=0.0, n_threads=None):
        self.network = network_of(est)
        X = check_array(X, dtype=np.float64, order="C")
        n_in = self.network.layer_units[0]
        if X.shape[1] != n_in:
            raise ValueError(f"X has {X.shape[1]} features; the network takes {n_in}.")
        self.X = X
        self.Y = targets_of(est, y)
        if self.Y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but y has {self.Y.shape[0]}.")
        if not (np.isfinite(alpha) and alpha >= 0):
            raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}.")
        self.alpha = float(alpha)
        self.n_params = self.network.n_params
        self.n_threads = None if n_threads is None else int(n_threads)

    def __call__(self, theta, rows=None):
        """Loss at `theta` (on the samples `rows`, default all)."""
        return self.loss_grad(theta, rows)[0]

    def loss_grad(self, theta, rows=None):
        """(loss, gradient) at `theta`; the gradient is a new array."""
        theta = np.ascontiguousarray(theta, dtype=np.float64)
        X, Y = (self.X, self.Y) if rows is None else (self.X[rows], self.Y[rows])
        loss, grad = self.network.loss_gradient(theta, X, Y, alpha=self.alpha,
                                                n_threads=self.n_threads)
        return float(loss), grad


@dataclass
class PathResult:
    """The losses along a path between two networks.

    Attributes
    ----------
    kind : str
        'linear' or 'bezier'.
    table : pandas.DataFrame
        One row per evaluated t, sorted: ``t``, ``train_loss``, ``train_gap``
        (loss minus the straight interpolation of the end losses) and, with
        test data, ``test_loss`` and ``test_gap``.
    barrier : float
        Largest ``train_gap`` (>= 0, the ends having gap 0).
    barrier_t : float
        Where it is reached.
    test_barrier : float or None
        Largest ``test_gap`` over the same t.
    aligned : bool
        Whether b's hidden units were matched to a's first.
    alpha : float
        L2 penalty included in the losses.
    control : ndarray or None
        Bezier only: the trained control point (flat parameter vector).
    history : ndarray or None
        Bezier only: the loss at the sampled t of each training step.
    """

    kind: str
    table: object
    barrier: float
    barrier_t: float
    test_barrier: float | None
    aligned: bool
    alpha: float
    control: np.ndarray | None = field(default=None, repr=False)
    history: np.ndarray | None = field(default=None, repr=False)

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw the train (and test) loss against t; return the Axes."""
        from mlpx.landscape._plotting import _pyplot

        if ax is None:
            _, ax = _pyplot().subplots(figsize=(5, 3.4), layout="constrained")
        df = self.table
        label = f"{self.kind}{' (aligned)' if self.aligned else ''}"
        line, = ax.plot(df.t, df.train_loss, label=f"{label}, train", **kwargs)
        if "test_loss" in df:
            ax.plot(df.t, df.test_loss, ls="--", color=line.get_color(),
                    label=f"{label}, test")
        ax.set_xlabel("t")
        ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
        return ax


def _check_n_points(n_points):
    if not (isinstance(n_points, (int, np.integer)) and n_points >= 3):
        raise ValueError(f"n_points must be an integer >= 3, got {n_points!r}.")


def _losses(est, X, y, X_test, y_test, alpha):
    if (X_test is None) != (y_test is None):
        raise ValueError("X_test and y_test go together: pass both or neither.")
    train = NetworkLoss(est, X, y, alpha)
    test = None if X_test is None else NetworkLoss(est, X_test, y_test, alpha)
    return train, test


def _scan(point, loss, n_points, refine):
    """{t: loss(point(t))} on a grid, refined around the largest gap to the chord."""
    values = {}

    def at(t):
        t = float(t)
        if t not in values:
            values[t] = loss(point(t))
        return values[t]

    grid = np.linspace(0.0, 1.0, n_points)
    for t in grid:
        at(t)
    l0, l1 = values[0.0], values[1.0]

    def gap(t):
        return at(t) - (l0 + t * (l1 - l0))

    k = int(np.argmax([gap(t) for t in grid]))
    if refine and 0 < k < n_points - 1:
        minimize_scalar(lambda t: -gap(t), bounds=(grid[k - 1], grid[k + 1]),
                        method="bounded", options={"xatol": 1e-5})
    return values


def _path_table(point, train, test, n_points, refine):
    import pandas as pd

    values = _scan(point, train, n_points, refine)
    t = np.array(sorted(values))
    cols = {"t": t, "train_loss": np.array([values[s] for s in t])}
    cols["train_gap"] = _gaps(t, cols["train_loss"])
    if test is not None:
        cols["test_loss"] = np.array([test(point(s)) for s in t])
        cols["test_gap"] = _gaps(t, cols["test_loss"])
    return pd.DataFrame(cols)


def _gaps(t, losses):
    """Loss minus the chord between the end losses (exactly 0 at the ends)."""
    return losses - (losses[0] + t * (losses[-1] - losses[0]))


def _result(kind, table, aligned, alpha, **extra):
    k = int(np.argmax(table.train_gap.to_numpy()))
    test_barrier = float(table.test_gap.max()) if "test_gap" in table else None
    return PathResult(kind, table, float(table.train_gap.iloc[k]), float(table.t.iloc[k]),
                      test_barrier, aligned, alpha, **extra)


def _endpoints(est_a, est_b, align):
    _check_same_architecture(est_a, est_b)
    if type(est_a) is not type(est_b) or est_a.out_activation_ != est_b.out_activation_ or (
        est_a.activation != est_b.activation
    ):
        raise ValueError(
            "The networks must be of the same kind (class, hidden and output "
            "activations) to be joined by a path."
        )
    if is_classifier(est_a) and not np.array_equal(est_a.classes_, est_b.classes_):
        raise ValueError(
            f"The classifiers have different classes {est_a.classes_} and {est_b.classes_}."
        )
    if align:
        est_b = align_units(est_a, est_b).estimator
    return params_of(est_a).astype(np.float64), params_of(est_b).astype(np.float64)


def linear_path(
    est_a: MLPXClassifier | MLPXRegressor,
    est_b: MLPXClassifier | MLPXRegressor,
    X: ArrayLike,
    y: ArrayLike,
    *,
    X_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
    n_points: int = 25,
    refine: bool = True,
    align: bool = False,
    alpha: float = 0.0,
) -> PathResult:
    """Loss along the straight line between two networks, and its barrier.

    Parameters
    ----------
    est_a, est_b : MLPXClassifier or MLPXRegressor
        Fitted networks of the same architecture and kind.
    X : array-like of shape (n_samples, n_features)
        Data of the train loss.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Labels or targets.
    X_test, y_test : array-like, default=None
        Held-out data for a test loss along the same points (both or neither).
    n_points : int, default=25
        Evenly spaced t in [0, 1], ends included.
    refine : bool, default=True
        Locate the largest gap more precisely: a bounded scalar search
        (``scipy.optimize.minimize_scalar``) between the grid neighbours of the
        grid's largest gap adds its points to the table.
    align : bool, default=False
        Match b's hidden units to a's first (:func:`mlpx.landscape.align`):
        the barrier then measures more than a relabelling of units.
    alpha : float, default=0.0
        L2 penalty in the losses; 0 gives the data loss.

    Returns
    -------
    result : PathResult
        The table of losses and the barrier (see :class:`PathResult`).
    """
    _check_n_points(n_points)
    a, b = _endpoints(est_a, est_b, align)
    train, test = _losses(est_a, X, y, X_test, y_test, alpha)
    delta = b - a

    def point(t):
        return a + t * delta  # exactly a at t = 0, and a everywhere when a == b

    with single_threaded_blas():
        table = _path_table(point, train, test, n_points, refine)
    return _result("linear", table, bool(align), float(alpha))


def bezier_point(a, control, b, t):
    """The quadratic Bezier curve (1-t)^2 a + 2t(1-t) control + t^2 b."""
    return (1 - t) ** 2 * a + 2 * t * (1 - t) * control + t**2 * b


def train_bezier_control(loss, a, b, *, n_iter=1000, learning_rate=1e-2, batch_size=None,
                         n_t=1, random_state=0, init=None):
    """Fit the control point of a quadratic Bezier curve from a to b.

    Minimises the expected loss E_{t ~ U[0, 1]} L(θ(t)) over the control
    point c with Adam (Garipov et al. 2018): each step draws `n_t` values of
    t (and a mini-batch of samples) and follows the chain rule
    dθ(t)/dc = 2t(1 - t).

    Parameters
    ----------
    loss : NetworkLoss
    a, b : ndarray of shape (n_params,)
        The ends.
    n_iter : int, default=1000
        Adam steps.
    learning_rate : float, default=1e-2
    batch_size : int, default=None
        Samples per step; None for all.
    n_t : int, default=1
        Values of t per step.
    random_state : int, RandomState or None, default=0
    init : ndarray, default=None
        Starting control point; default the midpoint (a + b) / 2 (the straight
        line).

    Returns
    -------
    control : ndarray of shape (n_params,)
    history : ndarray of shape (n_iter,)
        The mean loss at the sampled t of each step.
    """
    rng = check_random_state(random_state)
    c = (a + b) / 2 if init is None else np.array(init, dtype=np.float64).ravel()
    if c.shape != a.shape:
        raise ValueError(f"init has {c.size} values; the network has {a.size} parameters.")
    n = loss.X.shape[0]
    if batch_size is not None and not (1 <= batch_size):
        raise ValueError(f"batch_size must be >= 1 or None, got {batch_size!r}.")
    m, v = np.zeros_like(c), np.zeros_like(c)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    history = np.empty(n_iter)
    for step in range(1, n_iter + 1):
        rows = None if batch_size is None or batch_size >= n else rng.choice(
            n, batch_size, replace=False)
        g = np.zeros_like(c)
        total = 0.0
        for t in rng.uniform(0.0, 1.0, n_t):
            value, grad = loss.loss_grad(bezier_point(a, c, b, t), rows)
            g += 2 * t * (1 - t) * grad
            total += value
        g /= n_t
        history[step - 1] = total / n_t
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
        c -= learning_rate * m_hat / (np.sqrt(v_hat) + eps)
    return c, history


def bezier_path(
    est_a: MLPXClassifier | MLPXRegressor,
    est_b: MLPXClassifier | MLPXRegressor,
    X: ArrayLike,
    y: ArrayLike,
    *,
    X_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
    n_points: int = 25,
    refine: bool = True,
    align: bool = False,
    alpha: float = 0.0,
    n_iter: int = 1000,
    learning_rate: float = 1e-2,
    batch_size: int | None = None,
    n_t: int = 1,
    random_state: int | np.random.RandomState | None = 0,
) -> PathResult:
    """Loss along a quadratic Bezier curve with a trained middle point.

    The curve θ(t) = (1-t)^2 θ_a + 2t(1-t) θ_c + t^2 θ_b starts as the straight
    line (θ_c the midpoint); θ_c is trained with Adam to minimise the loss
    averaged over t ~ U[0, 1] on (X, y) (see :func:`train_bezier_control`),
    then the loss is evaluated along the curve as in :func:`linear_path`. The
    barrier is measured against the same straight interpolation of the end
    losses.

    Parameters
    ----------
    est_a, est_b, X, y, X_test, y_test, n_points, refine, align, alpha
        As in :func:`linear_path`; `alpha` is also the penalty the control
        point is trained with.
    n_iter : int, default=1000
        Adam steps on the control point.
    learning_rate : float, default=1e-2
    batch_size : int, default=None
        Samples per step; None for the whole training set.
    n_t : int, default=1
        Values of t drawn per step.
    random_state : int, RandomState or None, default=0
        Draws of t and of the mini-batches.

    Returns
    -------
    result : PathResult
        With ``control`` (the trained θ_c) and ``history`` (the training
        losses at the sampled t).
    """
    _check_n_points(n_points)
    if not (isinstance(n_iter, (int, np.integer)) and n_iter >= 0):
        raise ValueError(f"n_iter must be an integer >= 0, got {n_iter!r}.")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}.")
    a, b = _endpoints(est_a, est_b, align)
    train, test = _losses(est_a, X, y, X_test, y_test, alpha)
    with single_threaded_blas():
        control, history = train_bezier_control(
            train, a, b, n_iter=n_iter, learning_rate=learning_rate,
            batch_size=batch_size, n_t=n_t, random_state=random_state)
        table = _path_table(lambda t: bezier_point(a, control, b, t), train, test,
                            n_points, refine)
    return _result("bezier", table, bool(align), float(alpha), control=control,
                   history=history)
