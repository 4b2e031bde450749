"""The best constant predictor of each setup: the floor a trained network must beat."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import xlogy
from sklearn.metrics import r2_score


def _entropy(p):
    return float(-xlogy(p, p).sum())


def _constant_losses(setup, y, freq, mean):
    """(loss, score) on y of the constant fitted on the training set."""
    if setup == "mse_regression":
        Y = np.asarray(y, dtype=float).reshape(len(y), -1)
        pred = np.broadcast_to(mean, Y.shape)
        return 0.5 * float(((Y - pred) ** 2).mean()), float(r2_score(Y, pred))
    onehot = np.eye(freq.size)[y]
    accuracy = float(np.mean(y == np.argmax(freq)))
    with np.errstate(divide="ignore"):
        if setup in ("mse_no_softmax", "mse_softmax"):
            loss = 0.5 * float(((onehot - freq) ** 2).mean())
        elif setup == "logloss_softmax":
            loss = float(-(onehot * np.log(freq)).sum(axis=1).mean())
        else:  # bce_sigmoid: binary log-loss summed over the outputs
            loss = float(-(xlogy(onehot, freq) + xlogy(1 - onehot, 1 - freq))
                         .sum(axis=1).mean())
    return loss, accuracy


def constant_baseline(
    setups: list[str], y: ArrayLike, y_test: ArrayLike | None = None
) -> pd.DataFrame:
    """Losses and scores of the best constant predictor, per setup.

    The constant is fitted on the training targets: the class frequencies
    (every classification setup's loss is minimised by them; the label is the
    majority class) or the mean of a regression target. A study's losses mean
    something only beside it: on digits, squared error on one-hot targets is
    already 0.045 for the constant.

    Parameters
    ----------
    setups : list of str
        Setup names of :data:`SETUPS`.
    y, y_test : array-like
        Training and (optionally) test targets: class labels, or a continuous
        target for ``mse_regression``.

    Returns
    -------
    baseline : pandas.DataFrame
        Indexed by setup: ``train_loss``, ``train_score`` and, with y_test,
        ``test_loss``, ``test_score`` (accuracy, or R^2 for regression).
    """
    rows = []
    for setup in setups:
        if setup == "mse_regression":
            mean = np.asarray(y, dtype=float).reshape(len(y), -1).mean(axis=0)
            freq, encode = None, np.asarray
        else:
            classes, y_idx = np.unique(y, return_inverse=True)
            freq, mean = np.bincount(y_idx, minlength=classes.size) / len(y_idx), None

            def encode(labels, classes=classes):
                return np.searchsorted(classes, labels)
        row = {"setup": setup}
        row["train_loss"], row["train_score"] = _constant_losses(
            setup, encode(y), freq, mean)
        if y_test is not None:
            row["test_loss"], row["test_score"] = _constant_losses(
                setup, encode(y_test), freq, mean)
        rows.append(row)
    return pd.DataFrame(rows).set_index("setup")
