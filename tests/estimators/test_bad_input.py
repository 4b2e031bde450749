"""Bad values get a clear ValueError before any training (scikit-learn's conventions)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXClassifier, MLPXRegressor


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


@pytest.mark.parametrize("cls", [MLPXClassifier, MLPXRegressor])
def test_negative_verbose_is_refused(cls, digits):
    X, y = digits
    with pytest.raises(ValueError, match="verbose"):
        cls(verbose=-1, max_iter=1).fit(X, y)


@pytest.mark.parametrize("weights", [{0: -1.0}, {0: np.nan}, {0: np.inf}, {0: "1"}])
def test_class_weights_must_be_finite_and_non_negative(weights, digits):
    X, y = digits
    with pytest.raises(ValueError, match="class_weight"):
        MLPXClassifier(class_weight=weights, max_iter=1).fit(X, y)


def test_class_weights_that_zero_every_sample_are_refused(digits):
    X, y = digits
    weights = {c: 0.0 for c in np.unique(y)}
    with pytest.raises(ValueError, match="weight 0"):
        MLPXClassifier(class_weight=weights, max_iter=1).fit(X, y)


def test_boolean_sample_weights_count_as_zeros_and_ones(digits):
    X, y = digits
    keep = np.arange(len(y)) % 3 != 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPXClassifier(max_iter=3, random_state=0).fit(X, y, sample_weight=keep)
        b = MLPXClassifier(max_iter=3, random_state=0).fit(X, y,
                                                            sample_weight=keep.astype(float))
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])


@pytest.mark.parametrize("kind", ["U", "S"])
def test_string_arrays_are_refused_in_fit_and_predict(kind, digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPXClassifier(max_iter=1).fit(X, y)
    Xs = X.astype(kind)  # numeric strings: a float dtype would parse them
    with pytest.raises(ValueError, match="bytes/strings"):
        clf.predict(Xs)
    with pytest.raises(ValueError, match="bytes/strings"):
        MLPXClassifier(max_iter=1).fit(Xs, y)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e160), (np.float32, 1e30)])
def test_targets_whose_squared_errors_overflow_are_blamed_not_the_learning_rate(
        solver, dtype, scale):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3)).astype(dtype)
    y = rng.normal(size=50) * scale
    with pytest.raises(ValueError, match="y holds values as large as .*Scale the target"):
        MLPXRegressor(solver=solver, max_iter=3).fit(X, y)
    # the same targets scaled into range train
    MLPXRegressor(solver=solver, max_iter=3).fit(X, y / scale)
