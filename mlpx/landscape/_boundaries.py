"""Decision boundaries of two networks on 2-D inputs: where do they disagree?

Two seeds can label every training point alike yet draw different boundaries
between them. These helpers evaluate both networks on a regular grid over the
data's bounding box and report (or draw) where their predictions differ, and
draw beside them a known optimal boundary, such as the Bayes-optimal one of
:func:`~mlpx.landscape._data.gaussian_mixture`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import check_array

from mlpx.landscape._agreement import _check_fitted

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from sklearn.base import BaseEstimator


def _check_2d(X):
    X = check_array(X, dtype=np.float64)
    if X.shape[1] != 2:
        raise ValueError(
            f"Decision boundaries are drawn for 2-D inputs; X has {X.shape[1]} features."
        )
    return X


def decision_grid(X, resolution=200, margin=0.05):
    """A regular grid over the bounding box of X, widened by `margin`.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
    resolution : int, default=200
        Points per axis.
    margin : float, default=0.05
        Widening of each side, as a fraction of the data's range on that axis.

    Returns
    -------
    xx, yy : ndarray of shape (resolution, resolution)
        Coordinates of the grid points (``numpy.meshgrid`` layout).
    """
    X = _check_2d(X)
    if not (isinstance(resolution, (int, np.integer)) and resolution >= 2):
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}.")
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0, got {margin!r}.")
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = margin * np.where(hi > lo, hi - lo, 1.0)
    axes = [np.linspace(lo[k] - pad[k], hi[k] + pad[k], resolution) for k in range(2)]
    return np.meshgrid(*axes)


def _predict_grid(est, xx, yy):
    _check_fitted(est)
    pred = np.asarray(est.predict(np.column_stack([xx.ravel(), yy.ravel()])))
    return pred.reshape(xx.shape + pred.shape[1:])


def _differ(pa, pb):
    diff = pa != pb
    return diff.reshape(diff.shape[:2] + (-1,)).any(axis=2)


def decision_disagreement(
    est_a: BaseEstimator,
    est_b: BaseEstimator,
    X: ArrayLike,
    resolution: int = 200,
    *,
    margin: float = 0.05,
) -> float:
    """Share of a grid over the data where two networks predict differently.

    Parameters
    ----------
    est_a, est_b : fitted classifiers
        Networks (or any estimators with ``predict``) taking 2-D inputs.
    X : array-like of shape (n_samples, 2)
        The data whose bounding box the grid covers.
    resolution : int, default=200
        Grid points per axis.
    margin : float, default=0.05
        Widening of the box, as in :func:`decision_grid`.

    Returns
    -------
    fraction : float
        Share of the resolution^2 grid points labelled differently (a point of
        a multilabel problem differs when any label does).
    """
    xx, yy = decision_grid(X, resolution, margin)
    return float(_differ(_predict_grid(est_a, xx, yy), _predict_grid(est_b, xx, yy)).mean())


def _label_codes(pa, pb):
    """Integer codes of the predictions of both grids, from one code book."""
    shape = pa.shape[:2]
    both = np.concatenate([pa.reshape(shape[0] * shape[1], -1),
                           pb.reshape(shape[0] * shape[1], -1)])
    if both.shape[1] == 1:  # one label per point (any dtype)
        _, codes = np.unique(both[:, 0], return_inverse=True)
    else:  # multi-output: one code per distinct row
        _, codes = np.unique(both, axis=0, return_inverse=True)
    codes = codes.reshape(2, *shape)
    return codes[0], codes[1]


def plot_decision_boundaries(
    est_a: BaseEstimator,
    est_b: BaseEstimator,
    X: ArrayLike,
    y: ArrayLike | None = None,
    *,
    resolution: int = 200,
    margin: float = 0.05,
    labels: Sequence[str] = ("a", "b"),
    bayes: BaseEstimator | Callable[[np.ndarray], ArrayLike] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Overlay the decision boundaries of two networks on 2-D data.

    The boundaries of `est_a` are drawn as solid lines, those of `est_b`
    dashed, over a shading of the region where they disagree; the data are
    drawn on top (coloured by `y` when given). With `bayes`, the optimal
    boundary is drawn as a thick black line beside them (gid ``'bayes'``).

    Parameters
    ----------
    est_a, est_b : fitted classifiers
    X : array-like of shape (n_samples, 2)
    y : array-like of shape (n_samples,), default=None
    resolution : int, default=200
    margin : float, default=0.05
    labels : tuple of str, default=('a', 'b')
        Legend names of the two networks.
    bayes : fitted classifier or callable, default=None
        The optimal classifier of the problem: an estimator with ``predict``
        (e.g. the ``bayes`` of :func:`~mlpx.landscape._data.gaussian_mixture`)
        or a function of an (n, 2) array returning n labels.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    from mlpx.landscape._plotting import _pyplot

    plt = _pyplot()
    X = _check_2d(X)
    if bayes is not None and not (hasattr(bayes, "predict") or callable(bayes)):
        raise ValueError(
            f"bayes must be a fitted classifier or a function of X, got {type(bayes).__name__}."
        )
    xx, yy = decision_grid(X, resolution, margin)
    pa, pb = _predict_grid(est_a, xx, yy), _predict_grid(est_b, xx, yy)
    ca, cb = _label_codes(pa, pb)
    differ = _differ(pa, pb)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.4), layout="constrained")
    ax.contourf(xx, yy, differ.astype(float), levels=[0.5, 1.5], colors=["0.85"])
    levels = np.arange(max(ca.max(), cb.max())) + 0.5
    if levels.size:
        ax.contour(xx, yy, ca, levels=levels, colors="C0", linestyles="solid")
        ax.contour(xx, yy, cb, levels=levels, colors="C3", linestyles="dashed")
    if bayes is not None:
        _draw_bayes(ax, bayes, xx, yy)
    colours = {} if y is None else {"c": np.unique(y, return_inverse=True)[1], "cmap": "viridis"}
    ax.scatter(X[:, 0], X[:, 1], s=12, edgecolors="k", linewidths=0.3, **colours)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], color="C0", label=labels[0]),
               Line2D([], [], color="C3", ls="--", label=labels[1])]
    if bayes is not None:
        handles.append(Line2D([], [], color="k", lw=2, label="Bayes-optimal"))
    handles.append(Patch(color="0.85", label=f"disagree ({differ.mean():.1%})"))
    ax.legend(handles=handles, fontsize="small", loc="best")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return ax


def _draw_bayes(ax, bayes, xx, yy):
    """The boundaries of the labels `bayes` gives the grid, thick and black."""
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    if hasattr(bayes, "predict"):
        _check_fitted(bayes)
        pred = np.asarray(bayes.predict(grid))
    else:
        pred = np.asarray(bayes(grid))
    if pred.shape[:1] != (grid.shape[0],):
        raise ValueError(
            f"bayes returned {pred.shape[:1]} labels for {grid.shape[0]} grid points."
        )
    _, codes = np.unique(pred.reshape(grid.shape[0], -1), axis=0, return_inverse=True)
    codes = codes.reshape(xx.shape)
    if codes.max() == 0:
        return
    cs = ax.contour(xx, yy, codes, levels=np.arange(codes.max()) + 0.5, colors="k",
                    linewidths=2)
    # matplotlib < 3.8 keeps one PathCollection per level in cs.collections
    from matplotlib.collections import Collection

    for artist in [cs] if isinstance(cs, Collection) else cs.collections:
        artist.set_gid("bayes")
