"""The data loss of a fitted network on held-out data, as its estimator defines it.

The same formulas as scikit-learn's MLPs (sklearn/neural_network/_base.py),
computed from the public predictions; no L2 penalty.
"""

import numpy as np
from scipy.special import xlogy
from sklearn.base import is_classifier
from sklearn.utils.multiclass import type_of_target


def data_loss(est, X, y, multilabel=None):
    """Mean loss of the fitted `est` on (X, y), without the L2 penalty.

    Squared error: half the mean over samples and outputs. Log-loss (softmax or
    binary): -mean_i sum_k y_ik log p_ik. Multilabel (logistic outputs): the
    binary log-loss summed over outputs, averaged over samples. Poisson: the half
    Poisson deviance. `multilabel` says whether y is a label-indicator matrix
    (None: find out from y).
    """
    if is_classifier(est):
        P = est.predict_proba(X)
        eps = np.finfo(P.dtype).eps
        P = np.clip(P, eps, 1 - eps)
        if multilabel is None:
            multilabel = type_of_target(y).startswith("multilabel")
        if multilabel:
            Y = np.asarray(y, dtype=P.dtype)
            return float(-(xlogy(Y, P) + xlogy(1 - Y, 1 - P)).sum(axis=1).mean())
        # predict_proba's columns follow classes_ (binary too: [1 - p, p])
        Y = (np.asarray(y)[:, None] == est.classes_[None, :]).astype(P.dtype)
        return float(-xlogy(Y, P).sum(axis=1).mean())
    P = np.asarray(est.predict(X))
    n = P.shape[0]
    P, Y = P.reshape(n, -1), np.asarray(y, dtype=P.dtype).reshape(n, -1)
    if est.loss == "poisson":
        return float((xlogy(Y, Y / P) - Y + P).sum(axis=1).mean())
    return float(0.5 * ((Y - P) ** 2).mean())
