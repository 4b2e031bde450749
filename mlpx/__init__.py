"""mlpx: a fast compiled multilayer perceptron for scikit-learn.

``MLPXClassifier`` and ``MLPXRegressor`` are drop-in replacements for
scikit-learn's ``MLPClassifier`` and ``MLPRegressor``.
"""

from mlpx._multilayer_perceptron import (
    SKOPS_TRUSTED_TYPES,
    DivergenceError,
    MLPXClassifier,
    MLPXRegressor,
    MlpxVersionWarning,
)
from mlpx._show_versions import show_versions
from mlpx._version import __version__

__all__ = [
    "SKOPS_TRUSTED_TYPES",
    "DivergenceError",
    "MLPXClassifier",
    "MLPXRegressor",
    "MlpxVersionWarning",
    "__version__",
    "show_versions",
]
