"""How much models trained from different seeds agree: labels, probabilities, weights.

Every function takes prediction arrays, or fitted estimators together with the
data ``X`` to predict on.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import xlogy
from sklearn.utils.validation import check_is_fitted as _check_fitted

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

    from mlpx.landscape._results import SeedStudy

KINDS = ("classification", "regression")


class Agreement(NamedTuple):
    """Agreement of two models on a set of samples.

    Attributes
    ----------
    fraction : float
        Share of samples on which the two models agree.
    count : int
        Number of samples on which they agree.
    n_samples : int
        Number of samples compared.
    rms_gap : float or None
        Root mean square difference of the predictions (regression only).
    """

    fraction: float
    count: int
    n_samples: int
    rms_gap: float | None = None


def _is_estimator(obj):
    return hasattr(obj, "fit") and hasattr(obj, "get_params")


def _outputs(obj, X, method):
    """`obj` as an array: its `method`(X) if it is an estimator."""
    if _is_estimator(obj):
        _check_fitted(obj)
        if X is None:
            raise ValueError(
                f"Pass X to compare fitted estimators: their {method}(X) is compared."
            )
        return np.asarray(getattr(obj, method)(X))
    return np.asarray(obj)


def flat_params(est: BaseEstimator | ArrayLike) -> NDArray[Any]:
    """The parameter vector of a fitted network: W_0..W_{L-1} then b_0..b_{L-1}.

    Parameters
    ----------
    est : MLPXClassifier, MLPXRegressor or array-like
        A fitted estimator (scikit-learn's MLPs work too), or a flat vector,
        returned as a 1-d array.

    Returns
    -------
    theta : ndarray of shape (n_params,)
        Weights row-major (fan_in x fan_out), layer by layer, then the biases:
        the layout of mlpx's parameter buffer.
    """
    if not _is_estimator(est):
        return np.asarray(est).ravel()
    _check_fitted(est)
    return np.concatenate(
        [np.ravel(w) for w in est.coefs_] + [np.ravel(b) for b in est.intercepts_]
    )


def _check_kind(kind):
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}.")


def _regression_tolerance(tol, relative_to_std):
    if relative_to_std is None:
        if tol is None:
            raise ValueError(
                "Regression agreement needs a tolerance: pass tol (absolute) or "
                "relative_to_std=y (tol then defaults to 0.1 standard deviations)."
            )
        scale = 1.0
    else:
        ref = np.asarray(relative_to_std, dtype=float)
        scale = float(ref) if ref.ndim == 0 else float(np.std(ref))
        tol = 0.1 if tol is None else tol
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}.")
    return float(tol) * scale


def _agree_mask(a, b, kind, abs_tol):
    """Boolean agreement per sample (axis 0) of two prediction arrays."""
    if kind == "classification":
        same = a == b
    else:
        same = np.abs(a.astype(float) - b.astype(float)) <= abs_tol
    # A multi-output sample agrees when all its outputs do.
    return same.reshape(same.shape[0], -1).all(axis=1) if same.ndim > 1 else same


def prediction_agreement(
    pred_a: ArrayLike | BaseEstimator,
    pred_b: ArrayLike | BaseEstimator,
    *,
    kind: Literal["classification", "regression"] = "classification",
    tol: float | None = None,
    relative_to_std: ArrayLike | float | None = None,
    X: ArrayLike | None = None,
) -> Agreement:
    """Share of samples on which two models give the same prediction.

    Parameters
    ----------
    pred_a, pred_b : array-like of shape (n_samples,) or (n_samples, n_outputs), \
or fitted estimator
        Predictions of the two models, or the fitted models themselves (then
        ``X`` is required and ``predict(X)`` is compared).
    kind : {'classification', 'regression'}, default='classification'
        Classification: a sample agrees when the labels are identical (all
        outputs of a multi-output sample). Regression: when the predictions are
        within the tolerance.
    tol : float, default=None
        Regression tolerance: absolute, or in standard deviations of
        ``relative_to_std`` when it is given (then 0.1 by default).
    relative_to_std : array-like or float, default=None
        Regression only: the targets y whose standard deviation sets the scale
        of ``tol`` (or that standard deviation as a number).
    X : array-like of shape (n_samples, n_features), default=None
        Data to predict on when estimators are passed.

    Returns
    -------
    agreement : Agreement
        ``fraction`` and ``count`` of agreeing samples, ``n_samples``, and for
        regression ``rms_gap``, the root mean square difference of predictions.

    Examples
    --------
    >>> from mlpx.landscape import prediction_agreement
    >>> prediction_agreement([0, 1, 2, 2], [0, 1, 1, 2])
    Agreement(fraction=0.75, count=3, n_samples=4, rms_gap=None)
    """
    _check_kind(kind)
    a, b = _outputs(pred_a, X, "predict"), _outputs(pred_b, X, "predict")
    if a.shape != b.shape:
        raise ValueError(f"Predictions have different shapes: {a.shape} and {b.shape}.")
    if a.ndim == 0 or a.shape[0] == 0:
        raise ValueError("Predictions must hold at least one sample.")
    n = a.shape[0]
    if kind == "classification":
        count = int(_agree_mask(a, b, kind, None).sum())
        return Agreement(count / n, count, n)
    abs_tol = _regression_tolerance(tol, relative_to_std)
    count = int(_agree_mask(a, b, kind, abs_tol).sum())
    rms = float(np.sqrt(np.mean((a.astype(float) - b.astype(float)) ** 2)))
    return Agreement(count / n, count, n, rms)


def _stack(preds, X, method):
    if isinstance(preds, np.ndarray):
        return preds
    return np.stack([_outputs(p, X, method) for p in preds])


def agreement_matrix(
    preds: ArrayLike | Sequence[BaseEstimator],
    *,
    kind: Literal["classification", "regression"] = "classification",
    tol: float | None = None,
    relative_to_std: ArrayLike | float | None = None,
    X: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Pairwise agreement fractions of K models.

    Parameters
    ----------
    preds : array-like of shape (K, n_samples) or (K, n_samples, n_outputs), \
or list of fitted estimators
        Predictions of K models (or the models, with ``X``).
    kind, tol, relative_to_std, X
        As in :func:`prediction_agreement`.

    Returns
    -------
    M : ndarray of shape (K, K)
        ``M[i, j]`` is the share of samples on which models i and j agree:
        symmetric, with ones on the diagonal.
    """
    _check_kind(kind)
    P = _stack(preds, X, "predict")
    if P.ndim < 2 or P.shape[1] == 0:
        raise ValueError(
            f"preds must have shape (K, n_samples, ...), got {P.shape}."
        )
    abs_tol = None if kind == "classification" else _regression_tolerance(
        tol, relative_to_std
    )
    K = P.shape[0]
    M = np.eye(K)
    for i in range(K):
        for j in range(i + 1, K):
            M[i, j] = M[j, i] = _agree_mask(P[i], P[j], kind, abs_tol).mean()
    return M


def agreement_over_epochs(
    history: SeedStudy | dict[str, ArrayLike] | ArrayLike,
    *,
    split: Literal["train", "test"] = "train",
    setup: str | None = None,
    normalize: bool = True,
    kind: Literal["classification", "regression"] | None = None,
    tol: float | None = None,
    relative_to_std: ArrayLike | float | None = None,
) -> NDArray[np.float64] | NDArray[np.int64]:
    """Pairwise agreement at every recorded epoch.

    Parameters
    ----------
    history : SeedStudy, dict or array-like of shape (K, n_epochs, n_samples, ...)
        Recorded predictions: a :class:`SeedStudy` from ``train_seeds(...,
        record=("predictions",))``, the dict of one setup's arrays (its
        ``"{split}_pred"`` entry is used), or the prediction array itself.
    split : {'train', 'test'}, default='train'
        Which predictions of a SeedStudy or dict to compare.
    setup : str, default=None
        The setup of a SeedStudy holding several; None for its only one.
    normalize : bool, default=True
        Return fractions of samples; False for counts.
    kind : {'classification', 'regression'}, default=None
        How predictions are compared; None takes the SeedStudy's kind, else
        'classification'.
    tol, relative_to_std
        Regression tolerance, as in :func:`prediction_agreement`.

    Returns
    -------
    D : ndarray of shape (n_epochs, K, K)
        ``D[e, i, j]``: agreement of seeds i and j at the e-th recorded epoch.
    """
    if hasattr(history, "arrays") and hasattr(history, "setups"):  # SeedStudy
        setup = history._check_setup(setup)
        kind = kind or history.meta["kinds"][setup]
        if kind == "regression" and tol is None and relative_to_std is None:
            tol = history.meta["regression_tol_abs"][setup]
        history = history.arrays[setup]
    if isinstance(history, dict):
        key = f"{split}_pred"
        if key not in history:
            raise ValueError(
                f"No {split} predictions recorded: train with "
                "record=('loss', 'predictions')."
            )
        history = history[key]
    kind = kind or "classification"
    _check_kind(kind)
    P = np.asarray(history)
    if P.ndim < 3:
        raise ValueError(
            f"Predictions over epochs must have shape (K, n_epochs, n_samples, ...), "
            f"got {P.shape}."
        )
    abs_tol = None if kind == "classification" else _regression_tolerance(
        tol, relative_to_std
    )
    K, n_epochs, n = P.shape[:3]
    D = np.empty((n_epochs, K, K), dtype=float if normalize else np.int64)
    for e in range(n_epochs):
        for i in range(K):
            D[e, i, i] = 1.0 if normalize else n
            for j in range(i + 1, K):
                count = _agree_mask(P[i, e], P[j, e], kind, abs_tol).sum()
                D[e, i, j] = D[e, j, i] = count / n if normalize else count
    return D


def ensemble_spread(
    probas: ArrayLike | Sequence[BaseEstimator], *, X: ArrayLike | None = None
) -> float:
    """Disagreement of K probabilistic models: H(mean p) - mean H(p_k).

    The entropy of the averaged prediction minus the average entropy (in nats),
    per sample, averaged over samples: the Jensen-Shannon divergence of the K
    predictive distributions (the "mutual information" of an ensemble). It is 0
    when all models predict the same probabilities and at most log(K).

    Parameters
    ----------
    probas : array-like of shape (K, n_samples, n_classes) or list of fitted \
classifiers
        Class probabilities of K models (rows summing to 1), or the models with
        ``X`` (their ``predict_proba(X)`` is used).
    X : array-like of shape (n_samples, n_features), default=None
        Data to predict on when classifiers are passed.

    Returns
    -------
    spread : float
        Mean over samples of H(mean_k p_k) - mean_k H(p_k), >= 0.
    """
    P = np.asarray(_stack(probas, X, "predict_proba"), dtype=float)
    if P.ndim != 3 or 0 in P.shape:
        raise ValueError(
            f"probas must have shape (K, n_samples, n_classes) with K, n_samples and "
            f"n_classes >= 1, got {P.shape}."
        )
    if (P < 0).any() or not np.allclose(P.sum(axis=2), 1.0, atol=1e-4):
        raise ValueError(
            "probas must hold probability vectors: non-negative rows summing to 1."
        )
    # Computed as mean_k KL(p_k || mean p), which equals H(mean p) - mean H(p_k);
    # the mean is taken as p_0 + mean(p_k - p_0) so that identical models give
    # mean p == p_0 exactly and a spread of exactly 0.
    mean = P[0] + (P - P[0]).mean(axis=0)
    kl = (xlogy(P, P) - xlogy(P, mean)).sum(axis=2)
    return float(np.maximum(kl.mean(axis=0), 0.0).mean())


def check_tau(tau):
    """tau as a float; ValueError unless it is a finite number >= 0."""
    if not (isinstance(tau, numbers.Real) and not isinstance(tau, bool)
            and np.isfinite(tau) and tau >= 0):
        raise ValueError(f"tau must be a finite number >= 0, got {tau!r}.")
    return float(tau)


def weight_difference_count(
    theta_a: ArrayLike | BaseEstimator, theta_b: ArrayLike | BaseEstimator, tau: float
) -> int:
    """Number of parameters that differ by more than tau between two networks.

    The weight metric of Cetinsoy, Mazari & Rhouma: weights and biases of all
    layers are compared position by position (no matching of hidden units).

    Parameters
    ----------
    theta_a, theta_b : array-like of shape (n_params,) or fitted estimator
        Flat parameter vectors (layout of :func:`flat_params`) or fitted networks
        of the same architecture.
    tau : float
        Threshold, >= 0.

    Returns
    -------
    count : int
        Number of parameters with ``|theta_a - theta_b| > tau``.
    """
    a, b = flat_params(theta_a), flat_params(theta_b)
    if a.shape != b.shape:
        raise ValueError(
            f"The networks have different numbers of parameters ({a.size} and "
            f"{b.size}): compare networks of the same architecture."
        )
    tau = check_tau(tau)
    return int(np.count_nonzero(np.abs(a.astype(float) - b.astype(float)) > tau))
