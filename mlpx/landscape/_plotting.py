"""Figures of a SeedStudy (matplotlib, an optional dependency imported on use).

Each function returns a matplotlib Figure with one column per setup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

import numpy as np

from mlpx._cli_tools import install_hint

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from mlpx.landscape._results import SeedStudy


#: Up to this many seeds (or pairs) are drawn one line (or cell label) each;
#: more are summarised, so the figures stay readable for 2 to 100 seeds.
FEW = 10


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"Plotting needs matplotlib, which is not installed: {install_hint('plot')}",
            name="matplotlib",
        ) from exc
    return plt


def _setups(study, setups):
    if setups is None:
        return study.setups
    setups = [setups] if isinstance(setups, str) else list(setups)
    for s in setups:
        study._check_setup(s)
    return setups


def _grid(plt, n_rows, n_cols, figsize):
    figsize = figsize or (4.2 * n_cols, 2.8 * n_rows + 0.6)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=figsize, squeeze=False,
                             sharex="col", layout="constrained")
    return fig, axes


def plot_loss_curves(
    study: SeedStudy,
    *,
    setups: str | Iterable[str] | None = None,
    log_y: bool = True,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Training (top) and test (bottom) loss of every seed over epochs.

    Parameters
    ----------
    study : SeedStudy
        A study recorded with 'loss'.
    setups : str or list of str, default=None
        Setups to draw (columns); None for all.
    log_y : bool, default=True
        Logarithmic loss axis.
    figsize : tuple, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = _pyplot()
    setups = _setups(study, setups)
    splits = [s for s in ("train", "test") if f"{s}_loss" in study.per_seed]
    if not splits:
        raise ValueError("No losses were recorded: train with record=('loss', ...).")
    fig, axes = _grid(plt, len(splits), len(setups), figsize)
    few = len(study.seeds) <= FEW
    for c, setup in enumerate(setups):
        df = study.per_seed[study.per_seed.setup == setup]
        for r, split in enumerate(splits):
            ax = axes[r, c]
            for k, (seed, g) in enumerate(df.groupby("seed", sort=False)):
                if few:
                    ax.plot(g.epoch, g[f"{split}_loss"], label=f"seed {seed}")
                else:
                    ax.plot(g.epoch, g[f"{split}_loss"], color="0.6", lw=0.6, alpha=0.5,
                            label="each seed" if k == 0 else None)
            if not few:
                median = df.groupby("epoch")[f"{split}_loss"].median()
                ax.plot(median.index, median.to_numpy(), color="C0", lw=2,
                        label=f"median of {len(study.seeds)} seeds")
            if log_y:
                ax.set_yscale("log")
            ax.set_ylabel(f"{split} loss")
            ax.grid(alpha=0.3)
            if r == 0:
                ax.set_title(setup)
            if r == len(splits) - 1:
                ax.set_xlabel("epoch")
    axes[0, 0].legend(fontsize="small")
    return fig


def plot_agreement_counts(
    study: SeedStudy,
    *,
    split: Literal["train", "test"] = "train",
    setups: str | Iterable[str] | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Samples labelled identically (top) and differently (bottom) by each pair.

    The counterpart of Figures 2 and 7 of Cetinsoy, Mazari & Rhouma. For
    regression setups "identically" means within the study's tolerance.

    Parameters
    ----------
    study : SeedStudy
        A study recorded with 'predictions'.
    split : {'train', 'test'}, default='train'
    setups : str or list of str, default=None
    figsize : tuple, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = _pyplot()
    setups = _setups(study, setups)
    col = f"{split}_agree_count"
    if col not in study.pairs:
        raise ValueError(f"No {split} predictions were recorded: use record=('predictions',).")
    fig, axes = _grid(plt, 2, len(setups), figsize)
    n_pairs = len(study.seeds) * (len(study.seeds) - 1) // 2
    for c, setup in enumerate(setups):
        df = study.pairs[study.pairs.setup == setup]
        rows = ((axes[0, c], f"{split}_agree_count"), (axes[1, c], f"{split}_disagree_count"))
        if n_pairs <= FEW:
            for (a, b), g in df.groupby(["seed_a", "seed_b"], sort=False):
                for ax, col in rows:
                    ax.plot(g.epoch, g[col], label=f"seeds {a}-{b}")
        else:
            for ax, col in rows:
                q = df.groupby("epoch")[col].quantile([0.0, 0.1, 0.5, 0.9, 1.0]).unstack()
                ax.fill_between(q.index, q[0.1], q[0.9], color="C0", alpha=0.3,
                                label="10-90 % of pairs")
                ax.plot(q.index, q[0.0], color="C0", lw=0.8, ls=":", label="min, max")
                ax.plot(q.index, q[1.0], color="C0", lw=0.8, ls=":")
                ax.plot(q.index, q[0.5], color="C0", lw=2, label=f"median of {n_pairs} pairs")
        same, apart = (("predictions within tolerance", "predictions apart")
                       if study.meta["kinds"][setup] == "regression"
                       else ("same label", "different label"))
        axes[0, c].set_title(setup)
        axes[0, c].set_ylabel(f"{split} samples, {same}")
        axes[1, c].set_ylabel(f"{split} samples, {apart}")
        axes[1, c].set_xlabel("epoch")
        for ax in axes[:, c]:
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize="x-small", ncol=2 if n_pairs <= FEW else 1)
    return fig


def plot_agreement_matrix(
    study: SeedStudy,
    *,
    epoch: int | None = None,
    split: Literal["train", "test"] = "train",
    setups: str | Iterable[str] | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Heat-map of the pairwise agreement fractions at one recorded epoch.

    Parameters
    ----------
    study : SeedStudy
        A study recorded with 'predictions'.
    epoch : int, default=None
        Recorded epoch; None for the last.
    split : {'train', 'test'}, default='train'
    setups : str or list of str, default=None
    figsize : tuple, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = _pyplot()
    setups = _setups(study, setups)
    mats = [study.agreement_matrix(s, epoch=epoch, split=split) for s in setups]
    figsize = figsize or (3.6 * len(setups) + 0.8, 3.6)
    fig, axes = plt.subplots(1, len(setups), figsize=figsize, squeeze=False,
                             layout="constrained")
    K = len(study.seeds)
    step = max(1, K // FEW)  # tick labels: at most about FEW of them
    ticks = list(range(0, K, step))
    for ax, setup, M in zip(axes[0], setups, mats):
        # a share: the colours mean the same in every figure
        im = ax.imshow(M, vmin=0.0, vmax=1.0, cmap="viridis")
        if K <= FEW:
            for i, j in np.ndindex(M.shape):
                ax.text(j, i, f"{M[i, j]:.3f}", ha="center", va="center", fontsize="x-small",
                        color="black" if M[i, j] > 0.5 else "white")
        ax.set_xticks(ticks, [str(study.seeds[t]) for t in ticks])
        ax.set_yticks(ticks, [str(study.seeds[t]) for t in ticks])
        ax.set_xlabel("seed")
        ax.set_title(setup)
    axes[0, 0].set_ylabel("seed")
    which = "last epoch" if epoch is None else f"epoch {epoch}"
    fig.suptitle(f"{split} agreement, {which}")
    regression = all(study.meta["kinds"][s] == "regression" for s in setups)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8,
                 label="fraction within tolerance" if regression else "fraction labelled alike")
    return fig
