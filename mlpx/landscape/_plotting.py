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
    for c, setup in enumerate(setups):
        df = study.per_seed[study.per_seed.setup == setup]
        for r, split in enumerate(splits):
            ax = axes[r, c]
            for seed, g in df.groupby("seed", sort=False):
                ax.plot(g.epoch, g[f"{split}_loss"], label=f"seed {seed}")
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
    for c, setup in enumerate(setups):
        df = study.pairs[study.pairs.setup == setup]
        for (a, b), g in df.groupby(["seed_a", "seed_b"], sort=False):
            axes[0, c].plot(g.epoch, g[f"{split}_agree_count"], label=f"seeds {a}-{b}")
            axes[1, c].plot(g.epoch, g[f"{split}_disagree_count"])
        axes[0, c].set_title(setup)
        axes[0, c].set_ylabel(f"{split} samples, same label")
        axes[1, c].set_ylabel(f"{split} samples, different label")
        axes[1, c].set_xlabel("epoch")
        for ax in axes[:, c]:
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize="x-small", ncol=2)
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
    low = min(float(m.min()) for m in mats)
    figsize = figsize or (3.6 * len(setups) + 0.8, 3.6)
    fig, axes = plt.subplots(1, len(setups), figsize=figsize, squeeze=False,
                             layout="constrained")
    labels = [str(s) for s in study.seeds]
    for ax, setup, M in zip(axes[0], setups, mats):
        im = ax.imshow(M, vmin=low, vmax=1.0, cmap="viridis")
        for i, j in np.ndindex(M.shape):
            ax.text(j, i, f"{M[i, j]:.3f}", ha="center", va="center", fontsize="x-small",
                    color="black" if M[i, j] > (low + 1) / 2 else "white")
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("seed")
        ax.set_title(setup)
    axes[0, 0].set_ylabel("seed")
    which = "last epoch" if epoch is None else f"epoch {epoch}"
    fig.suptitle(f"{split} agreement, {which}")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="fraction labelled alike")
    return fig
