"""How the spread of the minima reached by different seeds changes with width.

Choromanska et al. (2015), "The loss surfaces of multilayer networks", argue
from a spin-glass model that the local minima of large networks lie in a band
of losses that narrows as the network grows: the final losses of K seeds then
spread less for wider networks. :func:`width_study` trains K seeds per width
and tabulates the distribution of their final train and test losses.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import clone

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx._engine import network_of
from mlpx.landscape._ensemble import check_data, check_seeds, train_seeds
from mlpx.landscape._losses import data_loss

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from mlpx import MLPXClassifier, MLPXRegressor

_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def _hidden_for(estimator, width):
    """hidden_layer_sizes for `width`: an int fills every hidden layer, a tuple is used as is."""
    if isinstance(width, numbers.Integral):
        if width < 1:
            raise ValueError(f"widths must be positive, got {width!r}.")
        h = estimator.hidden_layer_sizes
        depth = 1 if np.ndim(h) == 0 else len(h)
        return (int(width),) * depth
    hidden = tuple(width)
    if not hidden or not all(isinstance(w, numbers.Integral) and w >= 1 for w in hidden):
        raise ValueError(f"widths must be positive integers or tuples of them, got {width!r}.")
    return tuple(int(w) for w in hidden)


def _distribution(values, prefix, edges):
    """Summary statistics and histogram counts of one width's final losses."""
    values = np.asarray(values, dtype=float)
    row = {
        f"{prefix}_mean": values.mean(),
        f"{prefix}_std": values.std(ddof=1) if values.size > 1 else np.nan,
        f"{prefix}_rel_std": (values.std(ddof=1) / abs(values.mean())
                              if values.size > 1 and values.mean() != 0 else np.nan),
        f"{prefix}_min": values.min(),
        f"{prefix}_max": values.max(),
    }
    for q, v in zip(_QUANTILES, np.quantile(values, _QUANTILES)):
        row[f"{prefix}_q{round(q * 100):02d}"] = v
    row[f"{prefix}_hist"] = np.histogram(values, bins=edges)[0]
    row[f"{prefix}_losses"] = values
    return row


def _edges(all_values, bins):
    """Histogram edges shared by all widths, log-spaced when the losses are positive."""
    lo, hi = float(np.min(all_values)), float(np.max(all_values))
    if lo > 0 and hi > lo:
        return np.geomspace(lo, hi, bins + 1)
    if hi == lo:
        hi = lo + 1.0
    return np.linspace(lo, hi, bins + 1)


def width_study(
    estimator: MLPXClassifier | MLPXRegressor,
    X: ArrayLike,
    y: ArrayLike,
    widths: Iterable[int | tuple[int, ...]],
    seeds: Iterable[int],
    *,
    X_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
    bins: int = 10,
    n_jobs: int | None = None,
    verbose: bool = False,
) -> pd.DataFrame:
    """Distribution over seeds of the final losses, for each hidden width.

    Each width trains ``len(seeds)`` clones of `estimator` with
    :func:`mlpx.landscape.train_seeds` (every epoch of ``max_iter`` is run;
    no early stop on ``tol``), then takes the data loss (no L2 penalty) of
    each final network on the training data and on the test data. The
    spread compares minima only where the runs reached one: the table counts
    them (``n_converged``); ``solver='lbfgs'`` with a large ``max_iter``
    gets most runs of small networks there.

    Parameters
    ----------
    estimator : MLPXClassifier or MLPXRegressor
        The model; only ``hidden_layer_sizes`` changes with the width.
    X, y : array-like
        Training data.
    widths : sequence of int or of tuple of int
        An int w sets every hidden layer of `estimator` to w units; a tuple
        is used as ``hidden_layer_sizes``.
    seeds : sequence of int
        At least two distinct seeds.
    X_test, y_test : array-like, default=None
        Held-out data (both or neither).
    bins : int, default=10
        Histogram bins, shared by all widths (log-spaced over the range of
        all the final losses of a split when they are positive).
    n_jobs : int, default=None
        Seeds trained in parallel (joblib), as in ``train_seeds``.
    verbose : bool, default=False
        Progress bars.

    Returns
    -------
    table : pandas.DataFrame
        One row per width, indexed by ``width`` (the int, or the tuple as a
        string): ``hidden_layer_sizes``, ``n_params``, ``n_seeds``,
        ``n_converged`` (seeds that ended at a critical point, as
        :meth:`SeedStudy.converged` tests it: only their losses are minima,
        so a spread over unconverged runs depends on the budget) and
        ``grad_norm_max`` (the largest final gradient norm), and for
        ``train`` (and ``test``): ``_mean``, ``_std`` (ddof=1), ``_rel_std``
        (std / mean), ``_min``,
        ``_max``, quantiles ``_q10``, ``_q25``, ``_q50``, ``_q75``, ``_q90``,
        ``_hist`` (counts per bin; edges in ``table.attrs["train_bins"]``)
        and ``_losses`` (the final losses, in seed order; the seeds are in
        ``table.attrs["seeds"]``). Draw it with :func:`plot_width_study`.
    """
    import pandas as pd

    if not isinstance(estimator, (MLPXClassifier, MLPXRegressor)):
        raise TypeError(
            f"estimator must be an MLPXClassifier or MLPXRegressor, got "
            f"{type(estimator).__name__}."
        )
    widths = list(widths)
    if not widths:
        raise ValueError("widths must hold at least one width.")
    hidden = [_hidden_for(estimator, w) for w in widths]
    if not (isinstance(bins, numbers.Integral) and bins >= 1):
        raise ValueError(f"bins must be an integer >= 1, got {bins!r}.")
    seeds = check_seeds(seeds)
    X, y, X_test, y_test = check_data(X, y, X_test, y_test)
    splits = ["train"] + ([] if X_test is None else ["test"])
    final = []
    for h in hidden:
        est = clone(estimator).set_params(hidden_layer_sizes=h)
        # only the final networks matter: record the last epoch only
        study = train_seeds(est, X, y, seeds, X_test=X_test, y_test=y_test, n_jobs=n_jobs,
                            record_every=est.max_iter, verbose=verbose)
        models = study.estimators[study.setups[0]]
        losses = {"train": [data_loss(m, X, y) for m in models]}
        if X_test is not None:
            losses["test"] = [data_loss(m, X_test, y_test) for m in models]
        converged = study.converged(study.setups[0])
        grad = study.arrays[study.setups[0]]["grad_norm"]
        final.append((h, int(network_of(models[0]).n_params), losses,
                      int(converged.sum()), float(grad.max())))
    edges = {s: _edges(np.concatenate([f[2][s] for f in final]), bins) for s in splits}
    rows = []
    for w, (h, size, losses, n_converged, grad_max) in zip(widths, final):
        row = {"width": w if isinstance(w, numbers.Integral) else str(h),
               "hidden_layer_sizes": h, "n_params": size, "n_seeds": len(seeds),
               "n_converged": n_converged, "grad_norm_max": grad_max}
        for s in splits:
            row.update(_distribution(losses[s], s, edges[s]))
        rows.append(row)
    table = pd.DataFrame(rows).set_index("width")
    table.attrs["seeds"] = list(seeds)
    for s in splits:
        table.attrs[f"{s}_bins"] = edges[s]
    return table


def plot_width_study(
    table: pd.DataFrame, *, log_y: bool = True, figsize: tuple[float, float] | None = None
) -> Figure:
    """Final losses per width (left) and their spread (right).

    Left: each seed's final loss as a dot, per width, with the median joined
    across widths; train solid, test dashed. Right: the standard deviation
    over seeds, absolute and relative to the mean, against the width.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`width_study`.
    log_y : bool, default=True
    figsize : tuple, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    from mlpx.landscape._plotting import _pyplot

    plt = _pyplot()
    if "train_losses" not in table:
        raise ValueError("plot_width_study draws the table returned by width_study.")
    splits = [s for s in ("train", "test") if f"{s}_losses" in table]
    fig, (left, right) = plt.subplots(1, 2, figsize=figsize or (10, 3.8), layout="constrained")
    x = np.arange(len(table))
    labels = [str(w) for w in table.index]
    for k, s in enumerate(splits):
        color, ls = f"C{k}", "-" if s == "train" else "--"
        for xi, losses in zip(x, table[f"{s}_losses"]):
            jitter = (k - 0.5 * (len(splits) - 1)) * 0.15
            left.scatter(np.full(len(losses), xi + jitter), losses, s=12, color=color, alpha=0.7)
        left.plot(x, table[f"{s}_q50"], ls=ls, color=color, label=f"{s} (median)")
        right.plot(x, table[f"{s}_std"], ls=ls, color=color, marker="o", label=f"{s} std")
        right.plot(x, table[f"{s}_rel_std"], ls=ls, color=color, marker="s", alpha=0.5,
                   label=f"{s} std / mean")
    for ax, title in ((left, "final loss of each seed"), (right, "spread over seeds")):
        ax.set_xticks(x, labels)
        ax.set_xlabel("hidden width")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if log_y:
            ax.set_yscale("log")
        ax.legend(fontsize="small")
    left.set_ylabel("loss")
    return fig
