"""The data losses of the estimators, in NumPy, for held-out sets.

The engine computes the same losses in C while training; these mirror
scikit-learn's definitions (sklearn/neural_network/_base.py), per sample.
"""

import numpy as np
from scipy.special import xlogy


def mean_loss(out_activation, Y, P, sample_weight=None, loss=None):
    """(Weighted) mean data loss of outputs P for indicator/targets Y (no penalty).

    With loss None, the output activation's own loss: identity: half the
    squared error averaged over outputs; exp: half the Poisson deviance;
    softmax: log-loss; logistic: binary log-loss summed over the outputs.
    Probabilities are clipped to [eps, 1 - eps] as in scikit-learn. With loss
    'squared_error', half the squared error averaged over outputs, whatever
    the output activation.
    """
    if out_activation == "identity" or loss == "squared_error":
        per_sample = 0.5 * ((Y - P) ** 2).mean(axis=1)
    elif out_activation == "exp":
        per_sample = (xlogy(Y, Y / P) - Y + P).sum(axis=1)
    else:
        eps = np.finfo(P.dtype).eps
        Pc = np.clip(P, eps, 1 - eps)
        per_sample = -xlogy(Y, Pc).sum(axis=1)
        if out_activation == "logistic":
            per_sample -= xlogy(1 - Y, 1 - Pc).sum(axis=1)
    return float(np.average(per_sample, weights=sample_weight))
