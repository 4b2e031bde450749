"""Multi-seed studies of the loss landscape, on top of the mlpx estimators.

Train K copies of a network that differ only in their seed, record them epoch
by epoch, and compare their losses, their predictions and their weights.
Needs pandas (the ``landscape`` extra); the figures need matplotlib (the
``plot`` extra). See the installation page for both.
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
from mlpx.landscape._alignment import (
    Alignment,
    WeightDistance,
    align,
    permute_hidden_units,
    weight_distance,
)
from mlpx.landscape._baseline import constant_baseline
from mlpx.landscape._boundaries import decision_disagreement, plot_decision_boundaries
from mlpx.landscape._curvature import (
    dense_hessian,
    extreme_eigenvalues,
    hessian_operator,
    hutchinson_trace,
    top_hessian_eigenvalues,
)
from mlpx.landscape._data import (
    BayesClassifier,
    GaussianMixtureData,
    auer_dataset,
    count_distinct_minima,
    gaussian_mixture,
    random_labels,
)
from mlpx.landscape._ensemble import train_seeds
from mlpx.landscape._generalization import (
    MarginBoundTerms,
    generalization_table,
    margin_bound_terms,
    margins,
    measure_correlations,
    normalized_margins,
    plot_generalization,
    spectral_complexity,
)
from mlpx.landscape._linear import (
    check_linear_assumptions,
    classify_critical_point,
    critical_point_from_eigenvectors,
    critical_point_summary,
    linear_network_optimum,
    trained_critical_points,
)
from mlpx.landscape._paths import PathResult, bezier_path, linear_path
from mlpx.landscape._plotting import (
    plot_agreement_counts,
    plot_agreement_matrix,
    plot_loss_curves,
)
from mlpx.landscape._report import agreement_report
from mlpx.landscape._representations import cka_matrix, hidden_representations, linear_cka
from mlpx.landscape._results import SeedStudy
from mlpx.landscape._spectrum import (
    SpectralDensity,
    hessian_spectral_density,
    plot_seed_spectra,
    seed_spectra,
)
from mlpx.landscape._study import SETUPS, agreement_study
from mlpx.landscape._surfaces import (
    LossSurface,
    Plane,
    loss_surface,
    plane_through,
    plot_loss_surface,
    random_directions,
)
from mlpx.landscape._width import plot_width_study, width_study

__all__ = [
    "Alignment",
    "PathResult",
    "WeightDistance",
    "align",
    "auer_dataset",
    "bezier_path",
    "check_linear_assumptions",
    "cka_matrix",
    "classify_critical_point",
    "count_distinct_minima",
    "critical_point_from_eigenvectors",
    "decision_disagreement",
    "dense_hessian",
    "extreme_eigenvalues",
    "hessian_operator",
    "hidden_representations",
    "hutchinson_trace",
    "linear_cka",
    "linear_network_optimum",
    "linear_path",
    "permute_hidden_units",
    "plot_decision_boundaries",
    "plot_width_study",
    "random_labels",
    "weight_distance",
    "width_study",
    "SETUPS",
    "Agreement",
    "SeedStudy",
    "agreement_matrix",
    "agreement_over_epochs",
    "agreement_report",
    "agreement_study",
    "constant_baseline",
    "ensemble_spread",
    "flat_params",
    "plot_agreement_counts",
    "plot_agreement_matrix",
    "plot_loss_curves",
    "prediction_agreement",
    "train_seeds",
    "weight_difference_count",
    "LossSurface",
    "Plane",
    "loss_surface",
    "plane_through",
    "plot_loss_surface",
    "random_directions",
    "SpectralDensity",
    "hessian_spectral_density",
    "plot_seed_spectra",
    "seed_spectra",
    "top_hessian_eigenvalues",
    "MarginBoundTerms",
    "generalization_table",
    "margin_bound_terms",
    "margins",
    "measure_correlations",
    "normalized_margins",
    "plot_generalization",
    "spectral_complexity",
    "BayesClassifier",
    "GaussianMixtureData",
    "gaussian_mixture",
    "trained_critical_points",
    "critical_point_summary",
]
