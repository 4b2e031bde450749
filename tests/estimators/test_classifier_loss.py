"""MLPXClassifier(loss='squared_error'): the squared error on the output probabilities."""

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.preprocessing import label_binarize

from mlpx import MLPXClassifier


def objective(clf, X, Y):
    """Half the squared error between probabilities and indicators, averaged
    over outputs and samples, plus scikit-learn's L2 penalty (NumPy)."""
    P = clf.predict_proba(X)
    if P.shape[1] == 2 and Y.shape[1] == 1:  # binary: one logistic output
        P = P[:, 1:]
    penalty = 0.5 * clf.alpha * sum((W**2).sum() for W in clf.coefs_) / len(X)
    return 0.5 * ((P - Y) ** 2).mean() + penalty


@pytest.mark.parametrize("target", ["multiclass", "binary", "multilabel"])
def test_lbfgs_minimises_the_squared_error_of_the_probabilities(target):
    X, y = load_iris(return_X_y=True)
    if target == "binary":
        y = (y == 2).astype(int)
        Y = y[:, None].astype(float)
    elif target == "multilabel":
        X, y = make_multilabel_classification(150, 4, n_classes=3, random_state=0)
        Y = y.astype(float)
    else:
        Y = label_binarize(y, classes=[0, 1, 2]).astype(float)
    clf = MLPXClassifier((8,), loss="squared_error", solver="lbfgs", alpha=1e-3,
                         max_iter=300, random_state=0).fit(X, y)
    assert clf.loss_ == pytest.approx(objective(clf, X, Y), rel=1e-10)
    # a different objective from the log-loss: other weights from the same start
    log = MLPXClassifier((8,), solver="lbfgs", alpha=1e-3, max_iter=300,
                         random_state=0).fit(X, y)
    assert not np.allclose(log.coefs_[0], clf.coefs_[0])


def test_the_output_activation_is_the_same_for_both_losses():
    X, y = load_iris(return_X_y=True)
    clf = MLPXClassifier((5,), loss="squared_error", max_iter=5, random_state=0)
    with pytest.warns(Warning):
        clf.fit(X, y)
    assert clf.out_activation_ == "softmax"
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1, rtol=1e-12)


def test_an_unknown_loss_is_refused():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="loss"):
        MLPXClassifier(loss="hinge").fit(X, y)
