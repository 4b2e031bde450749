"""The experiment of Cetinsoy, Mazari & Rhouma: do seeds reach equivalent minima?

K identical networks differ only in their seed (initial weights and shuffling);
each is trained under one or more loss setups, and the study records their
losses, their labels and their weights epoch by epoch.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx._engine import is_regression_target
from mlpx.landscape._agreement import check_tau
from mlpx.landscape._ensemble import (
    SeedTask,
    check_data,
    check_record,
    check_seeds,
    run_tasks,
)
from mlpx.landscape._initialization import check_init
from mlpx.landscape._results import GRAD_RTOL, GRAD_TOL, SeedStudy

#: Setup name -> what it trains: the paper's three on class labels (MSE without
#: and with softmax, binary cross-entropy), the modern log-loss reference, and
#: regression.
SETUPS = {
    "mse_no_softmax": "paper: MLPXRegressor, squared error on one-hot targets, "
                      "identity outputs; label = argmax of the outputs",
    "mse_softmax": "paper: MLPXClassifier(loss='squared_error'), squared error "
                   "between softmax outputs and one-hot targets (one logistic output "
                   "for two classes); label = argmax",
    "bce_sigmoid": "paper: MLPXClassifier on the one-hot indicator matrix "
                   "(multilabel): binary cross-entropy on sigmoid outputs, no softmax; "
                   "label = argmax of the sigmoid outputs",
    "logloss_softmax": "reference: MLPXClassifier, log-loss on softmax outputs (one "
                       "logistic output for two classes)",
    "mse_regression": "MLPXRegressor, squared error on a continuous target",
}
CLASSIFICATION_SETUPS = ("mse_no_softmax", "mse_softmax", "bce_sigmoid", "logloss_softmax")


def argmax_output(est, X):
    """Label index = argmax of the network's outputs (``predict``)."""
    out = np.asarray(est.predict(X))
    return np.argmax(out.reshape(out.shape[0], -1), axis=1)


def argmax_proba(est, X):
    """Label index = argmax of ``predict_proba`` (softmax or sigmoid outputs)."""
    return np.argmax(est.predict_proba(X), axis=1)


def _check_setups(setups, regression):
    if setups is None:
        return ("mse_regression",) if regression else CLASSIFICATION_SETUPS
    setups = (setups,) if isinstance(setups, str) else tuple(setups)
    unknown = [s for s in setups if s not in SETUPS]
    if unknown or not setups:
        raise ValueError(f"Unknown setups {unknown}; choose from {list(SETUPS)}.")
    if len(set(setups)) != len(setups):
        raise ValueError(f"setups are repeated: {list(setups)}.")
    wrong = [s for s in setups if (s == "mse_regression") != regression]
    if wrong:
        target = "a continuous" if regression else "a class-label"
        raise ValueError(f"Setups {wrong} do not apply to {target} target y.")
    return setups


def _encode_labels(y, y_test):
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(f"y has a single class {classes}: nothing to classify.")
    y_idx = np.searchsorted(classes, y)
    y_test_idx = None
    if y_test is not None:
        unseen = np.setdiff1d(np.unique(y_test), classes)
        if unseen.size:
            raise ValueError(f"y_test has labels {unseen} that are not in y.")
        y_test_idx = np.searchsorted(classes, y_test)
    return classes, y_idx, y_test_idx


def agreement_study(
    X: ArrayLike,
    y: ArrayLike,
    *,
    X_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
    seeds: Iterable[int] = range(5),
    hidden_layer_sizes: int | Sequence[int] = (10, 10),
    epochs: int = 30,
    solver: str = "adam",
    alpha: float = 1e-4,
    setups: str | Iterable[str] | None = None,
    activation: str = "relu",
    learning_rate_init: float = 1e-3,
    batch_size: int | Literal["auto"] = "auto",
    init: Literal["default", "he", "normal"] = "default",
    init_scale: float | Sequence[float] | Callable[[int], float] | None = None,
    record: str | Sequence[str] = ("loss", "predictions", "params"),
    record_every: int = 1,
    tau: float = 0.1,
    regression_tol: float = 0.1,
    until: Literal["budget", "tolerance"] = "budget",
    grad_tol: float = GRAD_TOL,
    grad_rtol: float = GRAD_RTOL,
    estimator_params: Mapping[str, Any] | None = None,
    n_jobs: int | None = None,
    verbose: bool = False,
) -> SeedStudy:
    """Train K seeds under each loss setup and record losses, labels and weights.

    The protocol of Cetinsoy, Mazari & Rhouma (an experimental test of
    Kawaguchi 2016): identical networks differing only in their seed, trained
    for a fixed number of epochs, compared by loss, by the labels they give
    (identically labelled samples per pair) and by their weights (parameters
    differing by more than tau).

    Setups on class labels (labels compared as indices into ``np.unique(y)``):

    - ``'mse_no_softmax'`` (the paper's "without softmax", its eq. 2):
      MLPXRegressor, squared error on one-hot targets with identity outputs
      (the setting of Kawaguchi's theorem); label = argmax.
    - ``'mse_softmax'`` (the paper's "with softmax", eqs. 2-3):
      ``MLPXClassifier(loss='squared_error')``, the squared error between the
      softmax outputs and the one-hot targets; label = argmax.
    - ``'bce_sigmoid'`` (the paper's cross-entropy run): MLPXClassifier on the
      one-hot indicator matrix (multilabel): binary cross-entropy on sigmoid
      outputs without softmax; label = argmax of the sigmoid outputs.
    - ``'logloss_softmax'`` (the modern reference, not in the paper):
      MLPXClassifier, log-loss on softmax outputs (for two classes
      scikit-learn's single logistic output, the same model).

    On a continuous target: ``'mse_regression'``, MLPXRegressor on y, with
    predictions agreeing when within ``regression_tol`` standard deviations of y.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training data (scale it first, e.g. pixels / 16 for digits).
    y : array-like of shape (n_samples,)
        Class labels, or a continuous target.
    X_test, y_test : array-like, default=None
        Held-out data (both or neither).
    seeds : sequence of int, default=range(5)
        At least two distinct seeds.
    hidden_layer_sizes : tuple of int, default=(10, 10)
    epochs : int, default=30
        Epochs of every run ('sgd', 'adam'; iterations of 'lbfgs'): the
        budget.
    solver : {'adam', 'sgd', 'lbfgs'}, default='adam'
    alpha : float, default=1e-4
        L2 penalty.
    setups : sequence of str, default=None
        None: the four class-label setups above, or 'mse_regression' for a
        continuous y.
    activation : str, default='relu'
        Hidden activation.
    learning_rate_init : float, default=1e-3
    batch_size : int or 'auto', default='auto'
    init : {'default', 'he', 'normal'}, default='default'
        Initial weights; see :func:`train_seeds`.
    init_scale : float, sequence or callable, default=None
        Scale(s) of init='normal'; e.g. ``lambda i: (i + 2) * s`` for the paper's
        growing scales.
    record : sequence of str, default=('loss', 'predictions', 'params')
    record_every : int, default=1
    tau : float, default=0.1
        Threshold of the weight-difference counts.
    regression_tol : float, default=0.1
        Agreement tolerance of 'mse_regression', in standard deviations of y.
    until : {'budget', 'tolerance'}, default='budget'
        'budget': every run trains for `epochs`. 'tolerance': a run also stops
        at the first recorded epoch where it is at a critical point (see
        `grad_tol`); its weights are kept (and
        recorded unchanged) for the remaining epochs. Each run's
        ``stopped_by`` ('tolerance', 'budget', or for 'lbfgs' 'solver': its
        own criterion) and ``stop_epoch`` are in ``study.arrays``. With
        'lbfgs' the run is one fit, with ``tol=0`` unless `estimator_params`
        sets it; it is checked at its end.
    grad_tol, grad_rtol : float, default=1e-3, 1e-2
        A run is at a critical point when the full-batch gradient norm of its
        training objective is at most grad_tol and at most grad_rtol times its
        value at the run's initial weights (``summary()['n_converged']``,
        ``study.converged(setup)``); the relative test keeps a plateau, where
        the gradient is small from the start, from passing. The criterion of
        until='tolerance'.
    estimator_params : dict, default=None
        More parameters for every estimator (e.g. ``{"momentum": 0.5}``).
    n_jobs : int, default=None
        Runs (seeds x setups) in parallel with joblib; None follows the active
        ``joblib.parallel_backend``. Results do not depend on it.
    verbose : bool, default=False
        Progress bar over seeds x setups.

    Returns
    -------
    study : SeedStudy
        Tables with a ``setup`` column; ``study.plot_loss_curves()``,
        ``study.plot_agreement_counts()`` and ``study.plot_agreement_matrix()``
        draw the paper's figures.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from mlpx.landscape import agreement_study
    >>> X, y = load_digits(return_X_y=True)
    >>> study = agreement_study(X[:300] / 16, y[:300], seeds=[0, 1], epochs=3)
    >>> sorted(study.per_seed.setup.unique())
    ['bce_sigmoid', 'logloss_softmax', 'mse_no_softmax', 'mse_softmax']
    """
    seeds = check_seeds(seeds)
    tau = check_tau(tau)
    if until not in ("budget", "tolerance"):
        raise ValueError(f"until must be 'budget' or 'tolerance', got {until!r}.")
    for name, value in (("grad_tol", grad_tol), ("grad_rtol", grad_rtol)):
        if (not isinstance(value, numbers.Real) or isinstance(value, bool)
                or not np.isfinite(value) or value <= 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}.")
    if not isinstance(epochs, numbers.Integral) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}.")
    X, y, X_test, y_test = check_data(X, y, X_test, y_test)
    record = check_record(record, record_every)
    scales = check_init(init, init_scale, len(seeds))
    regression = is_regression_target(y)
    setups = _check_setups(setups, regression)
    params = dict(
        hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
        alpha=alpha, batch_size=batch_size, learning_rate_init=learning_rate_init,
        max_iter=epochs, **(estimator_params or {}),
    )
    if until == "tolerance" and solver == "lbfgs":
        # L-BFGS cannot test the study's criterion itself: let it run until its
        # relative-decrease test or the budget, unless told otherwise
        params.setdefault("tol", 0.0)

    if regression:
        targets = {"mse_regression": (MLPXRegressor(**params), y, y_test, y, y_test, None)}
        kinds = {"mse_regression": "regression"}
        tols = {"mse_regression": regression_tol * float(np.std(y))}
        classes = None
    else:
        classes, y_idx, y_test_idx = _encode_labels(y, y_test)
        eye = np.eye(classes.size, dtype=X.dtype)
        Y, Y_test = eye[y_idx], None if y_test_idx is None else eye[y_test_idx]
        targets = {
            "mse_no_softmax": (MLPXRegressor(**params), Y, Y_test, y_idx, y_test_idx,
                               argmax_output),
            "mse_softmax": (MLPXClassifier(**{**params, "loss": "squared_error"}), y_idx,
                            y_test_idx, y_idx, y_test_idx, None),
            "logloss_softmax": (MLPXClassifier(**params), y_idx, y_test_idx, y_idx,
                                y_test_idx, None),
            "bce_sigmoid": (MLPXClassifier(**params), Y, Y_test, y_idx, y_test_idx,
                            argmax_proba),
        }
        kinds = {s: "classification" for s in setups}
        tols = {s: None for s in setups}

    tasks = []
    for setup in setups:
        est, y_fit, y_test_fit, y_score, y_test_score, predict = targets[setup]
        tasks += [
            SeedTask(setup, i, seed, est, X, y_fit, X_test, y_test_fit, y_score=y_score,
                     y_test_score=y_test_score, init=init,
                     init_scale=None if scales is None else scales[i], record=record,
                     record_every=record_every, predict=predict, kind=kinds[setup],
                     grad_tol=grad_tol if until == "tolerance" else None, grad_rtol=grad_rtol)
            for i, seed in enumerate(seeds)
        ]
    runs = run_tasks(tasks, n_jobs=n_jobs, verbose=verbose, desc="seeds x setups")
    K = len(seeds)
    runs_by_setup = {s: runs[k * K:(k + 1) * K] for k, s in enumerate(setups)}
    return SeedStudy.from_runs(
        runs_by_setup,
        seeds=seeds,
        kinds={s: kinds[s] for s in setups},
        record=record,
        tau=tau,
        regression_tol={s: tols[s] for s in setups},
        grad_tol=float(grad_tol),
        grad_rtol=float(grad_rtol),
        until=until,
        init={"scheme": init, "scales": scales},
        setup_descriptions={s: SETUPS[s] for s in setups},
        classes=None if classes is None else classes.tolist(),
        n_train=int(X.shape[0]),
        n_test=None if X_test is None else int(X_test.shape[0]),
    )
