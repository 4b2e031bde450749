"""mlpx: a fast compiled multilayer perceptron for scikit-learn.

``MLPXClassifier`` and ``MLPXRegressor`` are drop-in replacements for
scikit-learn's ``MLPClassifier`` and ``MLPRegressor``.
"""

from mlpx._base import DivergenceError, MlpxVersionWarning
from mlpx._multilayer_perceptron import MLPXClassifier, MLPXRegressor
from mlpx._optimizers import OPTIMIZERS
from mlpx._show_versions import show_versions
from mlpx._version import __version__

#: Types to trust when loading mlpx models with skops:
#: ``skops.io.load(path, trusted=mlpx.SKOPS_TRUSTED_TYPES)``.
SKOPS_TRUSTED_TYPES = [f"{cls.__module__}.{cls.__qualname__}"
                       for cls in (MLPXClassifier, MLPXRegressor, *OPTIMIZERS)]

__all__ = [
    "SKOPS_TRUSTED_TYPES",
    "DivergenceError",
    "MLPXClassifier",
    "MLPXRegressor",
    "MlpxVersionWarning",
    "__version__",
    "show_versions",
]
