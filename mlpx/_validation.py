"""Checks of the estimators' inputs, in one place, before anything reaches the engine."""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import check_is_fitted

from mlpx._core._checks import abs_max
from mlpx._threads import effective_n_threads

_FLOAT32_SCALE_WARNING = 1e4


def check_fitted(estimator):
    """check_is_fitted, with its cost (tags, attribute scan) only when unfitted."""
    if not hasattr(estimator, "_params"):
        check_is_fitted(estimator)


def finite_abs_max(X, estimator):
    """max |X| over X's stored values; scikit-learn's error if X holds NaN or inf.

    Training data is validated with ``ensure_all_finite=False`` and checked
    here, in one compiled pass, instead of scikit-learn's check and the float32
    scale warning's min and max reading X three times.
    """
    values = X.data if sp.issparse(X) else X
    x_max = abs_max(np.ravel(values, order="K"), effective_n_threads())
    if not np.isfinite(x_max):
        assert_all_finite(values, estimator_name=type(estimator).__name__, input_name="X")
    return x_max


def warn_if_badly_scaled(x_max, dtype):
    """float32 has 7 digits: warn when inputs (max |X| = x_max) are large enough
    to cost accuracy."""
    # beyond float32's range the engine refuses X with a ValueError: no warning first
    if dtype == np.float32 and _FLOAT32_SCALE_WARNING < x_max <= float(
            np.finfo(np.float32).max):
        warnings.warn(
            f"Training in float32 on inputs as large as {x_max:.3g}: "
            "float32 keeps about 7 significant digits, so gradients lose accuracy and "
            "training may stall or diverge. Scale your data (e.g. StandardScaler) or "
            "fit on float64 data.",
            UserWarning, stacklevel=3,
        )


def refuse_strings(X):
    """scikit-learn's error for an array of strings (which a float dtype would parse)."""
    if getattr(getattr(X, "dtype", None), "kind", None) in ("U", "S"):
        raise ValueError(
            "dtype='numeric' is not compatible with arrays of bytes/strings. Convert "
            "your data to numeric values explicitly instead."
        )


def check_sample_weight(sample_weight, n_samples):
    """Sample weights as a float64 array of n_samples finite values >= 0, not all 0."""
    sw = np.asarray(sample_weight)
    if sw.ndim == 0:
        sw = np.full(n_samples, float(sw))
    if sw.ndim != 1 or sw.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has shape {sw.shape}; expected ({n_samples},), one "
            "weight per sample."
        )
    if not (np.issubdtype(sw.dtype, np.number) or sw.dtype == bool) or np.iscomplexobj(sw):
        raise ValueError(f"sample_weight must be numeric, got dtype {sw.dtype}.")
    sw = sw.astype(np.float64)
    if not np.isfinite(sw).all():
        raise ValueError("sample_weight contains NaN or infinity.")
    if (sw < 0).any():
        raise ValueError("sample_weight contains negative values.")
    if sw.sum() <= 0:
        raise ValueError("sample_weight sums to zero: no sample would count.")
    return sw
