"""mlpx.landscape refuses what it cannot use with a clear error, never a crash."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from mlpx import MLPXClassifier
from mlpx.landscape import (
    agreement_study,
    align,
    bezier_path,
    cka_matrix,
    ensemble_spread,
    hessian_operator,
    hidden_representations,
    linear_path,
    train_seeds,
    weight_distance,
)


@pytest.fixture(scope="module")
def fitted():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPXClassifier(hidden_layer_sizes=(6,), max_iter=2, random_state=0).fit(X, y)
        theirs = MLPClassifier(hidden_layer_sizes=(6,), max_iter=2, random_state=0).fit(X, y)
    return X, y, ours, theirs


@pytest.mark.parametrize("call", [
    lambda a, b, X, y: align(a, b),
    lambda a, b, X, y: weight_distance(a, b),
    lambda a, b, X, y: linear_path(a, b, X, y),
    lambda a, b, X, y: bezier_path(a, b, X, y, n_iter=1),
    lambda a, b, X, y: cka_matrix(a, b, X),
    lambda a, b, X, y: hidden_representations(b, X),
    lambda a, b, X, y: hessian_operator(b, X, y),
])
def test_scikit_learn_models_are_refused_with_a_type_error(call, fitted):
    X, y, ours, theirs = fitted
    with pytest.raises(TypeError, match="MLPClassifier"):
        call(ours, theirs, X, y)


@pytest.mark.parametrize("weights, match", [
    (np.ones(1), "shape"),
    (np.ones(3), "shape"),
    (np.ones(500), "shape"),
    (np.full(200, np.nan), "finite"),
    (-np.ones(200), ">= 0"),
    (np.zeros(200), "positive sum"),
])
def test_hessian_refuses_bad_sample_weights(weights, match, fitted):
    X, y, ours, _ = fitted
    with pytest.raises(ValueError, match=match):
        H = hessian_operator(ours, X, y, sample_weight=weights)
        H @ np.ones(H.shape[0])


def test_hessian_of_a_classifier_refuses_labels_it_never_saw(fitted):
    X, y, ours, _ = fitted
    with pytest.raises(ValueError, match="not in classes_"):
        hessian_operator(ours, X, np.where(y == 0, 99, y))


@pytest.mark.parametrize("shape", [(0, 5, 3), (2, 0, 3), (2, 5, 0)])
def test_ensemble_spread_refuses_empty_input(shape):
    with pytest.raises(ValueError, match="probas"):
        ensemble_spread(np.empty(shape))


@pytest.mark.parametrize("tau", [np.nan, np.inf, -1.0, "0.1"])
def test_a_tau_that_is_not_a_finite_number_at_least_0_is_refused(tau, fitted):
    X, y, _, _ = fitted
    with pytest.raises(ValueError, match="tau must be a finite number >= 0"):
        agreement_study(X, y, seeds=[0, 1], hidden_layer_sizes=(4,), epochs=1, tau=tau)
    with pytest.raises(ValueError, match="tau must be a finite number >= 0"):
        train_seeds(MLPXClassifier(hidden_layer_sizes=(4,), max_iter=1), X, y,
                    seeds=[0, 1], tau=tau)


@pytest.mark.parametrize("epochs", [0, -3, 1.5, True])
def test_an_agreement_study_needs_at_least_one_epoch(epochs, fitted):
    X, y, _, _ = fitted
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        agreement_study(X, y, seeds=[0, 1], hidden_layer_sizes=(4,), epochs=epochs)
