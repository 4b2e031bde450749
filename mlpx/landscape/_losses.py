"""The data loss of a fitted network on held-out data, as its estimator defines it."""

from mlpx._engine import network_of, params_of, targets_of


def data_loss(est, X, y, multilabel=None):
    """Mean loss of the fitted `est` on (X, y), without the L2 penalty.

    Squared error: half the mean over samples and outputs. Log-loss (softmax or
    binary): -mean_i sum_k y_ik log p_ik. Multilabel (logistic outputs): the
    binary log-loss summed over outputs, averaged over samples. Poisson: the half
    Poisson deviance. (`multilabel` is accepted for compatibility; the model's
    label binarizer knows.)
    """
    return network_of(est).data_loss(params_of(est), X, targets_of(est, y))
