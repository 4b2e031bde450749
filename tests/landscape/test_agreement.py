"""mlpx.landscape._agreement: label, probability and weight agreement metrics."""

import warnings

import numpy as np
import pytest
from scipy.stats import entropy
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx.landscape import (
    agreement_matrix,
    agreement_over_epochs,
    ensemble_spread,
    flat_params,
    prediction_agreement,
    weight_difference_count,
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


@pytest.fixture(scope="module")
def two_classifiers(digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return [MLPXClassifier((8,), max_iter=5, random_state=s).fit(X, y) for s in (0, 1)]


def test_classification_agreement_counts_identical_labels():
    res = prediction_agreement([0, 1, 2, 2, 5], [0, 1, 1, 2, 4])
    assert (res.fraction, res.count, res.n_samples, res.rms_gap) == (0.6, 3, 5, None)


def test_multi_output_sample_agrees_only_when_all_outputs_do():
    a = np.array([[1, 0], [0, 1], [1, 1]])
    b = np.array([[1, 0], [0, 0], [1, 1]])
    assert prediction_agreement(a, b).count == 2


def test_regression_agreement_absolute_and_relative_tolerance():
    a = np.array([0.0, 1.0, 2.0, 3.0])
    b = np.array([0.05, 1.5, 2.0, 2.0])
    res = prediction_agreement(a, b, kind="regression", tol=0.1)
    assert res.count == 2 and res.fraction == 0.5
    assert res.rms_gap == pytest.approx(np.sqrt((0.05**2 + 0.25 + 0 + 1) / 4))
    # relative_to_std=y: tolerance = tol * std(y); std of y below is 10
    y = np.array([-10.0, 10.0])
    assert prediction_agreement(a, b, kind="regression", tol=0.06,
                                relative_to_std=y).count == 3
    # default tol with relative_to_std is 0.1 standard deviations = 1.0
    assert prediction_agreement(a, b, kind="regression", relative_to_std=y).count == 4


def test_regression_agreement_needs_a_tolerance():
    with pytest.raises(ValueError, match="tol"):
        prediction_agreement([1.0], [1.0], kind="regression")


def test_agreement_rejects_bad_kind_and_shape_mismatch():
    with pytest.raises(ValueError, match="kind"):
        prediction_agreement([1], [1], kind="ranking")
    with pytest.raises(ValueError, match="shapes"):
        prediction_agreement([1, 2], [1, 2, 3])


def test_agreement_matrix_is_symmetric_with_ones_on_the_diagonal():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 3, 50)
    preds = np.stack([np.where(rng.random(50) < p, rng.integers(0, 3, 50), base)
                      for p in (0.0, 0.2, 0.5, 0.9)])
    M = agreement_matrix(preds)
    assert M.shape == (4, 4)
    np.testing.assert_array_equal(M, M.T)
    np.testing.assert_array_equal(np.diag(M), 1.0)
    assert M[0, 1] == prediction_agreement(preds[0], preds[1]).fraction
    assert (M < 1).sum() > 0  # the noisier models really disagree


def test_agreement_matrix_of_fitted_estimators_uses_their_predictions(digits,
                                                                      two_classifiers):
    X, _ = digits
    M = agreement_matrix(two_classifiers, X=X)
    expected = np.mean(two_classifiers[0].predict(X) == two_classifiers[1].predict(X))
    assert M[0, 1] == M[1, 0] == expected


def test_agreement_over_epochs_matches_pairwise_agreement():
    rng = np.random.default_rng(1)
    P = rng.integers(0, 4, size=(3, 5, 40))  # K=3 models, 5 epochs, 40 samples
    D = agreement_over_epochs(P)
    assert D.shape == (5, 3, 3)
    for e in range(5):
        np.testing.assert_array_equal(D[e], agreement_matrix(P[:, e]))
    counts = agreement_over_epochs({"train_pred": P}, normalize=False)
    assert counts.dtype.kind == "i" and counts[2, 0, 1] == np.sum(P[0, 2] == P[1, 2])
    with pytest.raises(ValueError, match="test predictions"):
        agreement_over_epochs({"train_pred": P}, split="test")


def test_model_compared_with_itself_has_no_weight_difference_and_no_spread(
        digits, two_classifiers):
    X, _ = digits
    clf = two_classifiers[0]
    assert weight_difference_count(clf, clf, 0.0) == 0
    assert ensemble_spread([clf, clf, clf], X=X) == 0.0
    assert prediction_agreement(clf, clf, X=X).fraction == 1.0


def test_two_seeds_differ_in_weights_and_spread(digits, two_classifiers):
    X, _ = digits
    a, b = two_classifiers
    n = flat_params(a).size
    assert 0 < weight_difference_count(a, b, 0.1) < n
    assert weight_difference_count(a, b, 0.0) == n
    assert weight_difference_count(a, b, 1e6) == 0
    assert ensemble_spread([a, b], X=X) > 0


def test_weight_difference_count_over_all_layers_weights_and_biases():
    a = np.zeros(10)
    b = np.array([0.0, 0.2, -0.3, 0.05, 0, 0, 0, 0, 0, 1.0])  # last = a bias
    assert weight_difference_count(a, b, 0.1) == 3
    with pytest.raises(ValueError, match="same architecture"):
        weight_difference_count(a, np.zeros(11), 0.1)
    with pytest.raises(ValueError, match="tau"):
        weight_difference_count(a, b, -1.0)


def test_flat_params_follows_the_buffer_layout(two_classifiers):
    clf = two_classifiers[0]
    theta = flat_params(clf)
    np.testing.assert_array_equal(theta, clf._params)
    W0 = clf.coefs_[0]
    np.testing.assert_array_equal(theta[: W0.size], W0.ravel())
    np.testing.assert_array_equal(theta[-clf.intercepts_[-1].size:], clf.intercepts_[-1])


def test_ensemble_spread_is_entropy_of_mean_minus_mean_entropy():
    rng = np.random.default_rng(2)
    P = rng.dirichlet(np.ones(4), size=(3, 20))  # K=3, 20 samples, 4 classes
    expected = np.mean(entropy(P.mean(axis=0), axis=1) - entropy(P, axis=2).mean(axis=0))
    assert ensemble_spread(P) == pytest.approx(expected, rel=1e-12)
    # Two confident models that disagree completely: log(2) nats.
    one_hot = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    assert ensemble_spread(one_hot) == pytest.approx(np.log(2))


def test_ensemble_spread_rejects_non_probabilities():
    with pytest.raises(ValueError, match="probability"):
        ensemble_spread(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="shape"):
        ensemble_spread(np.ones((2, 3)))


@pytest.mark.parametrize("metric", [
    lambda est, X: prediction_agreement(est, est, X=X),
    lambda est, X: agreement_matrix([est, est], X=X),
    lambda est, X: ensemble_spread([est, est], X=X),
    lambda est, X: weight_difference_count(est, est, 0.1),
    lambda est, X: flat_params(est),
])
@pytest.mark.parametrize("cls", [MLPXClassifier, MLPXRegressor])
def test_unfitted_estimator_is_a_clear_value_error(metric, cls, digits):
    X, _ = digits
    with pytest.raises(ValueError, match="not fitted"):
        metric(cls(), X)


def test_estimators_without_X_is_a_clear_value_error(two_classifiers):
    with pytest.raises(ValueError, match="Pass X"):
        prediction_agreement(*two_classifiers)
