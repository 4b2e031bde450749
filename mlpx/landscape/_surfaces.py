"""Loss surfaces in two dimensions: the loss on a plane of parameter space.

A plane is an origin θ_0 and two directions d_1, d_2; the surface is the loss
L(θ_0 + x d_1 + y d_2) on a grid of (x, y). Two planes are common:

* random directions around one minimum, each rescaled filter by filter to the
  norms of the network's own weights (*filter normalisation*, Li et al. 2018,
  "Visualizing the loss landscape of neural nets"), so that surfaces of
  networks with differently scaled weights can be compared
  (:func:`random_directions`);
* the plane through three networks, e.g. three seeds' minima, raw or with
  their hidden units matched first (Garipov et al. 2018, "Loss surfaces, mode
  connectivity, and fast ensembling of DNNs") (:func:`plane_through`).

The grid is evaluated by the compiled engine: its threads take whole grid
points, each forming its own parameter vector and running the forward pass
over the data set, with no Python per point; the losses do not depend on the
number of threads. As along the paths of :func:`mlpx.landscape.linear_path`,
losses are computed in float64 on the whole data set: the mean data loss plus
the L2 penalty ``alpha / (2 n) * sum ||W||^2`` (default ``alpha=0``, the data
loss).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.utils import check_random_state

from mlpx._engine import network_of, params_of, unpack
from mlpx.landscape._alignment import align as align_units
from mlpx.landscape._alignment import canonical_scaling
from mlpx.landscape._paths import _endpoints, _losses

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from mlpx import MLPXClassifier, MLPXRegressor

#: The extent of a random plane (Li et al. 2018 plot [-1, 1]^2).
RANDOM_EXTENT = (-1.0, 1.0, -1.0, 1.0)


class Plane(NamedTuple):
    """A plane of parameter space: ``origin + x * directions[0] + y * directions[1]``.

    Attributes
    ----------
    origin : ndarray of shape (n_params,)
    directions : ndarray of shape (2, n_params)
    points : dict
        Named points of the plane and their (x, y) coordinates, marked on plots.
    extent : tuple of float
        Default (x_min, x_max, y_min, y_max) of a surface on this plane.
    aligned : bool
        Whether the networks that define it had their hidden units matched.
    """

    origin: np.ndarray
    directions: np.ndarray
    points: dict
    extent: tuple
    aligned: bool = False


@dataclass
class LossSurface:
    """The loss on a grid of a plane.

    Attributes
    ----------
    x, y : ndarray of shape (n_x,) and (n_y,)
        Grid coordinates along the first and second direction.
    train_loss : ndarray of shape (n_x, n_y)
        ``train_loss[i, j]`` is the loss at ``origin + x[i] d_1 + y[j] d_2``.
    test_loss : ndarray of shape (n_x, n_y) or None
        The same on the test data, if given.
    origin : ndarray of shape (n_params,)
    directions : ndarray of shape (2, n_params)
    points : dict
        Named points and their (x, y) coordinates.
    alpha : float
        L2 penalty included in the losses.
    """

    x: np.ndarray
    y: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray | None
    origin: np.ndarray = field(repr=False)
    directions: np.ndarray = field(repr=False)
    points: dict
    alpha: float

    def to_frame(self) -> pd.DataFrame:
        """The grid as a pandas DataFrame: one row per point, columns ``x``,
        ``y``, ``train_loss`` (and ``test_loss``), x varying slowest."""
        import pandas as pd

        gx, gy = np.meshgrid(self.x, self.y, indexing="ij")
        cols = {"x": gx.ravel(), "y": gy.ravel(), "train_loss": self.train_loss.ravel()}
        if self.test_loss is not None:
            cols["test_loss"] = self.test_loss.ravel()
        return pd.DataFrame(cols)

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw the surface with :func:`plot_loss_surface`; return the Axes."""
        return plot_loss_surface(self, ax, **kwargs)


def _flat_params(est):
    return np.array(params_of(est), dtype=np.float64)


def random_directions(
    est: MLPXClassifier | MLPXRegressor,
    random_state: int | np.random.RandomState | None = None,
    *,
    normalization: str | None = "filter",
    biases: str = "zero",
    n_directions: int = 2,
) -> NDArray[np.float64]:
    """Random directions in a network's parameter space, filter-normalised.

    Each direction is drawn from a standard normal distribution, then each of
    its filters is rescaled to the norm of the network's filter (Li et al.
    2018). The filter of a unit of an MLP is its incoming weight vector, a
    column of ``coefs_[l]``: with ``normalization='filter'`` the direction's
    ``d_l[:, j]`` becomes ``d_l[:, j] * ||W_l[:, j]|| / ||d_l[:, j]||``, so a
    step of 1 along it changes every unit's incoming weights by their own
    norm (a unit whose weights are all zero gets no direction).

    Parameters
    ----------
    est : MLPXClassifier or MLPXRegressor
        A fitted network, whose weights give the norms.
    random_state : int, RandomState or None, default=None
        Draws of the directions.
    normalization : {'filter', 'layer'} or None, default='filter'
        'filter' as above; 'layer': each layer's direction scaled to the
        Frobenius norm of its weight matrix; None: the raw draws.
    biases : {'zero', 'copy'}, default='zero'
        The bias part of each direction. 'zero': the biases stay fixed, as in
        the paper's experiments (its code's ``ignore='biasbn'``); 'copy': the
        biases themselves (its code's other choice), so a step of t scales
        them by 1 + t.
    n_directions : int, default=2

    Returns
    -------
    directions : ndarray of shape (n_directions, n_params)
        In the layout of the flat parameter vector (weights, then biases).

    Examples
    --------
    >>> import numpy as np
    >>> from mlpx import MLPXRegressor
    >>> from mlpx.landscape._surfaces import random_directions
    >>> X = np.random.default_rng(0).normal(size=(30, 3))
    >>> est = MLPXRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, X[:, 0])
    >>> d = random_directions(est, random_state=0)
    >>> d.shape
    (2, 21)
    >>> W = est.coefs_[0]
    >>> D = d[0, :12].reshape(3, 4)  # the first layer's part of the first direction
    >>> bool(np.allclose(np.linalg.norm(D, axis=0), np.linalg.norm(W, axis=0)))
    True
    """
    if normalization not in ("filter", "layer", None):
        raise ValueError(
            f"normalization must be 'filter', 'layer' or None, got {normalization!r}.")
    if biases not in ("zero", "copy"):
        raise ValueError(f"biases must be 'zero' or 'copy', got {biases!r}.")
    if not (isinstance(n_directions, (int, np.integer)) and n_directions >= 1):
        raise ValueError(f"n_directions must be an integer >= 1, got {n_directions!r}.")
    theta = _flat_params(est)
    sizes = network_of(est).layer_units
    coefs, intercepts = unpack(theta, sizes)
    rng = check_random_state(random_state)
    out = rng.standard_normal((n_directions, theta.size))
    for d in out:
        d_coefs, d_intercepts = unpack(d, sizes)  # views of d
        for W, D in zip(coefs, d_coefs):
            if normalization == "filter":
                w_norm, d_norm = np.linalg.norm(W, axis=0), np.linalg.norm(D, axis=0)
                D *= np.divide(w_norm, d_norm, out=np.zeros_like(w_norm),
                               where=d_norm > 0)
            elif normalization == "layer":
                d_norm = np.linalg.norm(D)
                D *= np.linalg.norm(W) / d_norm if d_norm > 0 else 0.0
        for b, db in zip(intercepts, d_intercepts):
            db[...] = 0.0 if biases == "zero" else b
    return out


def plane_through(
    est_a: MLPXClassifier | MLPXRegressor,
    est_b: MLPXClassifier | MLPXRegressor,
    est_c: MLPXClassifier | MLPXRegressor,
    *,
    align: bool = False,
    symmetries: str = "permutation",
    margin: float = 0.25,
) -> Plane:
    """The plane through three networks' parameter vectors.

    With θ_a, θ_b, θ_c the flat vectors, the origin is θ_a and the directions
    are orthonormal (Gram-Schmidt, as Garipov et al. 2018):
    ``d_1 = (θ_b - θ_a) / ||θ_b - θ_a||`` and d_2 the unit vector along the
    part of ``θ_c - θ_a`` orthogonal to d_1. Coordinates are therefore
    distances in parameter space: a is at (0, 0), b at (||θ_b - θ_a||, 0) and
    c at (<θ_c - θ_a, d_1>, ||that orthogonal part||).

    Parameters
    ----------
    est_a, est_b, est_c : MLPXClassifier or MLPXRegressor
        Fitted networks of the same architecture and kind.
    align : bool, default=False
        Match b's and c's hidden units to a's first
        (:func:`mlpx.landscape.align`): the plane then passes through
        relabelled copies of b and c, which compute the same functions.
    symmetries : {'permutation', 'auto'}, default='permutation'
        The symmetries `align` uses. 'permutation' reorders units only, so
        the plane stays in the networks' own scale and a raw and an aligned
        plane can be compared. 'auto' also flips signs (tanh, identity) and,
        for ReLU and leaky ReLU, puts all three networks in canonical scaling
        (each unit's incoming weights and bias of norm 1), a's point included
        (same function as a, hence the same loss up to rounding); that can
        change the distances a lot.
    margin : float, default=0.25
        The plane's default extent: the box around the three points padded
        on every side by margin times its longer side.

    Returns
    -------
    plane : Plane
        With ``points`` ``{'a': (0, 0), 'b': ..., 'c': ...}``.
    """
    if not (np.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}.")
    theta_a, theta_b = _endpoints(est_a, est_b, False)
    _, theta_c = _endpoints(est_a, est_c, False)
    if symmetries not in ("permutation", "auto"):
        raise ValueError(
            f"symmetries must be 'permutation' or 'auto', got {symmetries!r}.")
    if align:
        ab = align_units(est_a, est_b, symmetries=symmetries)
        ac = align_units(est_a, est_c, symmetries=symmetries)
        theta_b = params_of(ab.estimator).astype(np.float64)
        theta_c = params_of(ac.estimator).astype(np.float64)
        if ab.rescaled:
            theta_a = canonical_scaling(theta_a, network_of(est_a).layer_units)
    u, v = theta_b - theta_a, theta_c - theta_a
    u_norm = np.linalg.norm(u)
    if u_norm == 0:
        raise ValueError("Networks a and b have the same parameters: they span no plane.")
    d1 = u / u_norm
    cx = float(v @ d1)
    w = v - cx * d1
    cy = float(np.linalg.norm(w))
    if not cy > 1e-12 * max(np.linalg.norm(v), u_norm):
        raise ValueError("The three networks lie on one line: they span no plane.")
    points = {"a": (0.0, 0.0), "b": (float(u_norm), 0.0), "c": (cx, cy)}
    xs, ys = [p[0] for p in points.values()], [p[1] for p in points.values()]
    pad = margin * max(max(xs) - min(xs), max(ys) - min(ys))
    extent = (min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad)
    return Plane(theta_a, np.stack([d1, w / cy]), points, extent, bool(align))


def _check_resolution(resolution):
    res = (resolution, resolution) if np.ndim(resolution) == 0 else tuple(resolution)
    if len(res) != 2 or not all(isinstance(r, (int, np.integer)) and r >= 2 for r in res):
        raise ValueError(
            f"resolution must be an integer >= 2 or a pair of them, got {resolution!r}.")
    return int(res[0]), int(res[1])


def _check_extent(extent):
    e = np.asarray(extent, dtype=np.float64)
    if e.shape != (4,) or not np.isfinite(e).all() or not (e[0] < e[1] and e[2] < e[3]):
        raise ValueError(
            "extent must be four finite numbers (x_min, x_max, y_min, y_max) with "
            f"x_min < x_max and y_min < y_max, got {extent!r}.")
    return tuple(float(v) for v in e)


def _plane(est, directions, origin, random_state):
    """The Plane a call of loss_surface asks for."""
    if isinstance(directions, Plane):
        if origin is not None:
            raise ValueError("Pass origin or a Plane, not both: the plane has its origin.")
        plane = directions
    else:
        if directions is None:
            directions = random_directions(est, random_state)
        start = _flat_params(est) if origin is None else origin
        plane = Plane(start, directions, {"origin": (0.0, 0.0)}, RANDOM_EXTENT)
    n = network_of(est).n_params
    origin = np.array(plane.origin, dtype=np.float64)
    directions = np.array(plane.directions, dtype=np.float64)
    if origin.shape != (n,):
        raise ValueError(f"origin has shape {origin.shape}; the network has {n} parameters.")
    if directions.shape != (2, n):
        raise ValueError(
            f"directions has shape {directions.shape}; expected (2, {n}): two directions "
            "over the network's parameters.")
    if not (np.isfinite(origin).all() and np.isfinite(directions).all()):
        raise ValueError("origin and directions must be finite (no NaN or inf).")
    if not (np.abs(directions) > 0).any(axis=1).all():
        raise ValueError("A direction is zero: it spans no plane.")
    return Plane(origin, directions, plane.points, plane.extent, plane.aligned)


def loss_surface(
    est: MLPXClassifier | MLPXRegressor,
    X: ArrayLike,
    y: ArrayLike,
    directions: Plane | ArrayLike | None = None,
    *,
    origin: ArrayLike | None = None,
    extent: tuple[float, float, float, float] | None = None,
    resolution: int | tuple[int, int] = 51,
    X_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
    alpha: float = 0.0,
    random_state: int | np.random.RandomState | None = None,
    n_threads: int | None = None,
) -> LossSurface:
    """The loss on a grid of a plane through parameter space.

    Parameters
    ----------
    est : MLPXClassifier or MLPXRegressor
        A fitted network: its architecture gives the function, and its
        parameters the default origin.
    X : array-like of shape (n_samples, n_features)
        Data of the train loss.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Labels or targets.
    directions : Plane, array-like of shape (2, n_params) or None, default=None
        The plane: a :class:`Plane` (from :func:`plane_through`), two
        directions around `origin`, or None for two filter-normalised random
        directions around `est` (:func:`random_directions` with
        `random_state`).
    origin : array-like of shape (n_params,), default=None
        The plane's origin when directions is an array or None; default the
        parameters of `est`.
    extent : (x_min, x_max, y_min, y_max), default=None
        The grid's range; default the plane's own (a Plane), else
        (-1, 1, -1, 1).
    resolution : int or (int, int), default=51
        Grid points along x and y (ends included), each >= 2.
    X_test, y_test : array-like, default=None
        Held-out data for a test surface on the same grid (both or neither).
    alpha : float, default=0.0
        L2 penalty in the losses; 0 gives the data loss.
    random_state : int, RandomState or None, default=None
        Draws of the random directions (directions=None only).
    n_threads : int, default=None
        Engine threads; None for the engine's default budget. The losses do
        not depend on it.

    Returns
    -------
    surface : LossSurface
        Grid coordinates, losses, the plane and its named points.

    Examples
    --------
    >>> import numpy as np
    >>> from mlpx import MLPXRegressor
    >>> from mlpx.landscape._surfaces import loss_surface
    >>> X = np.random.default_rng(0).normal(size=(30, 3))
    >>> est = MLPXRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, X[:, 0])
    >>> s = loss_surface(est, X, X[:, 0], resolution=5, random_state=0)
    >>> s.train_loss.shape, s.to_frame().shape
    ((5, 5), (25, 3))
    >>> bool(np.isclose(s.train_loss[2, 2], np.mean((est.predict(X) - X[:, 0]) ** 2) / 2))
    True
    """
    if n_threads is not None and not (isinstance(n_threads, (int, np.integer))
                                      and n_threads >= 1):
        raise ValueError(f"n_threads must be an integer >= 1 or None, got {n_threads!r}.")
    n_x, n_y = _check_resolution(resolution)
    if origin is not None:
        origin = np.asarray(origin, dtype=np.float64)
    plane = _plane(est, directions, origin, random_state)
    x_min, x_max, y_min, y_max = _check_extent(plane.extent if extent is None else extent)
    train, test = _losses(est, X, y, X_test, y_test, alpha)
    gx, gy = np.linspace(x_min, x_max, n_x), np.linspace(y_min, y_max, n_y)
    coords = np.stack(np.meshgrid(gx, gy, indexing="ij"), axis=-1).reshape(-1, 2)

    def grid(loss):
        return loss.network.losses_at(plane.origin, plane.directions, coords, loss.X,
                                      loss.Y, loss.alpha, n_threads).reshape(n_x, n_y)

    return LossSurface(gx, gy, grid(train), None if test is None else grid(test),
                       plane.origin, plane.directions, dict(plane.points), train.alpha)


def plot_loss_surface(
    result: LossSurface,
    ax: Axes | None = None,
    *,
    kind: str = "contour",
    which: str = "train",
    levels: int = 20,
    log: bool = True,
    **kwargs: Any,
) -> Axes:
    """Draw a loss surface as contour lines or a heat map, with its named points.

    Parameters
    ----------
    result : LossSurface
    ax : matplotlib Axes, default=None
        Where to draw; a new figure if None.
    kind : {'contour', 'heatmap'}, default='contour'
    which : {'train', 'test'}, default='train'
    levels : int, default=20
        Contour levels.
    log : bool, default=True
        Levels (contour) or colours (heat map) on a log scale of the loss,
        which resolves the valleys; linear if a loss is <= 0.
    **kwargs
        Passed to ``ax.contour`` or ``ax.pcolormesh``.

    Returns
    -------
    ax : matplotlib Axes
    """
    from mlpx.landscape._plotting import _pyplot

    if kind not in ("contour", "heatmap"):
        raise ValueError(f"kind must be 'contour' or 'heatmap', got {kind!r}.")
    if which not in ("train", "test"):
        raise ValueError(f"which must be 'train' or 'test', got {which!r}.")
    Z = result.train_loss if which == "train" else result.test_loss
    if Z is None:
        raise ValueError("This surface has no test loss: compute it with X_test, y_test.")
    if not (isinstance(levels, (int, np.integer)) and levels >= 2):
        raise ValueError(f"levels must be an integer >= 2, got {levels!r}.")
    plt = _pyplot()
    from matplotlib.colors import LogNorm

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.2), layout="constrained")
    Z = np.ma.masked_invalid(Z.T)  # rows along y
    lo, hi = float(Z.min()), float(Z.max())
    log = log and lo > 0 and hi > lo
    kwargs.setdefault("cmap", "viridis")
    if kind == "contour":
        lv = np.geomspace(lo, hi, levels) if log else np.linspace(lo, hi, levels)
        cs = ax.contour(result.x, result.y, Z, levels=lv, **kwargs)
        ax.clabel(cs, cs.levels[::3], fontsize="x-small", fmt="%.3g")
    else:
        mesh = ax.pcolormesh(result.x, result.y, Z, shading="nearest",
                             norm=LogNorm(lo, hi) if log else None, **kwargs)
        ax.figure.colorbar(mesh, ax=ax, label=f"{which} loss")
    for name, (px, py) in result.points.items():
        ax.plot(px, py, "o", color="white", mec="black", ms=6)
        ax.annotate(name, (px, py), xytext=(5, 5), textcoords="offset points",
                    fontsize="small", bbox=dict(boxstyle="round,pad=0.15", fc="white",
                                                ec="none", alpha=0.8))
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("direction 1")
    ax.set_ylabel("direction 2")
    return ax
