"""Multi-seed studies of the loss landscape, on top of the mlpx estimators.

Train K copies of a network that differ only in their seed, record them epoch
by epoch, and compare their losses, their predictions and their weights.
Needs pandas (``pip install mlpx[landscape]``); the figures need matplotlib
(``pip install mlpx[plot]``).
"""

from mlpx.landscape._agreement import (
    Agreement,
    agreement_matrix,
    agreement_over_epochs,
    ensemble_spread,
    flat_params,
    prediction_agreement,
    weight_difference_count,
)
from mlpx.landscape._ensemble import train_seeds
from mlpx.landscape._plotting import (
    plot_agreement_counts,
    plot_agreement_matrix,
    plot_loss_curves,
)
from mlpx.landscape._results import SeedStudy
from mlpx.landscape._study import SETUPS, agreement_study

__all__ = [
    "SETUPS",
    "Agreement",
    "SeedStudy",
    "agreement_matrix",
    "agreement_over_epochs",
    "agreement_study",
    "ensemble_spread",
    "flat_params",
    "plot_agreement_counts",
    "plot_agreement_matrix",
    "plot_loss_curves",
    "prediction_agreement",
    "train_seeds",
    "weight_difference_count",
]
