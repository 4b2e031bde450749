"""Train one network per seed and record it epoch by epoch.

Recording per epoch reproduces ``fit`` exactly. Calling ``partial_fit`` K times
keeps the optimizer state (Adam moments, momentum, step count), whereas
``warm_start`` fits reset it; but with ``shuffle=True`` and an integer
``random_state`` each call re-seeds its random generator (scikit-learn's MLPs
behave the same), so every call after the first draws the same permutation and
the trajectory leaves that of ``fit`` after the first epoch. ``fit`` instead
composes a fresh permutation with the previous order each epoch. So the
estimator is driven with ``shuffle=False`` while the permutations are drawn
here, from ``RandomState(seed)`` and in ``fit``'s order, and each epoch's data
is passed in that order: with ``shuffle=False`` K ``partial_fit`` calls equal
one ``fit`` bit for bit, hence so does the whole run.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import numpy as np
from joblib import Parallel, delayed
from joblib.parallel import get_active_backend
from numpy.typing import ArrayLike, NDArray
from sklearn.base import clone, is_classifier
from sklearn.metrics import r2_score
from sklearn.utils import check_X_y
from sklearn.utils.multiclass import type_of_target

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx._engine import fit_from, fit_seeds, network_of, params_of, targets_of
from mlpx.landscape._agreement import KINDS, _agree_mask, check_tau, flat_params
from mlpx.landscape._compiled import compiled_eligible
from mlpx.landscape._initialization import check_init, initial_params, layer_units
from mlpx.landscape._losses import data_loss
from mlpx.landscape._progress import progress, progress_bar
from mlpx.landscape._results import SeedStudy, at_critical_point

RECORDABLE = ("loss", "predictions", "params")


def check_seeds(seeds):
    """A list of at least two distinct integer seeds."""
    try:
        seeds = list(seeds)
    except TypeError:
        raise ValueError(f"seeds must be a sequence of integers, got {seeds!r}.") from None
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"seeds must be integers, got {seeds!r}.")
    seeds = [int(s) for s in seeds]
    if len(seeds) < 2:
        raise ValueError(
            f"A seed study compares models: it needs at least 2 seeds, got {len(seeds)}."
        )
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}.")
    return seeds


def check_data(X, y, X_test, y_test):
    """Validated (X, y, X_test, y_test) as arrays; X_test and y_test go together."""
    if (X_test is None) != (y_test is None):
        raise ValueError("X_test and y_test go together: pass both or neither.")
    X, y = check_X_y(X, y, multi_output=True, dtype=(np.float64, np.float32))
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if X_test is not None:
        if len(X_test) != len(y_test):
            raise ValueError(
                f"X_test has {len(X_test)} samples but y_test has {len(y_test)}."
            )
        X_test, y_test = check_X_y(
            X_test, y_test, multi_output=True, dtype=(np.float64, np.float32)
        )
        if y_test.ndim == 2 and y_test.shape[1] == 1:
            y_test = y_test.ravel()
        if X_test.shape[1] != X.shape[1]:
            raise ValueError(
                f"X_test has {X_test.shape[1]} features but X has {X.shape[1]}."
            )
        X_test = X_test.astype(X.dtype, copy=False)
    return X, y, X_test, y_test


def check_record(record, record_every):
    record = (record,) if isinstance(record, str) else tuple(record)
    unknown = set(record) - set(RECORDABLE)
    if unknown:
        raise ValueError(f"record can hold {RECORDABLE}; unknown: {sorted(unknown)}.")
    if not (isinstance(record_every, numbers.Integral) and record_every >= 1):
        raise ValueError(f"record_every must be an integer >= 1, got {record_every!r}.")
    return tuple(r for r in RECORDABLE if r in record)


def default_predict(est, X):
    """The estimator's own ``predict``."""
    return est.predict(X)


def _score(kind, y_true, y_pred):
    if kind == "classification":
        return float(_agree_mask(np.asarray(y_true), np.asarray(y_pred), kind, None).mean())
    return float(r2_score(y_true, y_pred))


class SeedTask:
    """Everything one worker needs to train and record one seed (picklable)."""

    def __init__(self, setup, index, seed, estimator, X, y, X_test=None, y_test=None,
                 y_score=None, y_test_score=None, init="default", init_scale=None,
                 record=("loss",), record_every=1, predict=None, kind="classification",
                 grad_tol=None, grad_rtol=None):
        self.setup, self.index, self.seed = setup, index, seed
        # None: train for the estimator's max_iter epochs; else also stop at the
        # first recorded epoch whose full-batch gradient norm is <= grad_tol
        self.grad_tol, self.grad_rtol = grad_tol, grad_rtol
        self.estimator = estimator
        self.X, self.y, self.X_test, self.y_test = X, y, X_test, y_test
        self.y_score = y if y_score is None else y_score
        self.y_test_score = y_test if y_test_score is None else y_test_score
        self.init, self.init_scale = init, init_scale
        self.record, self.record_every = record, record_every
        self.predict = predict or default_predict
        self.kind = kind
        self.multilabel_test = X_test is not None and type_of_target(y_test).startswith(
            "multilabel"
        )


def recorded_epochs(n_epochs, record_every):
    epochs = list(range(record_every, n_epochs + 1, record_every))
    if not epochs or epochs[-1] != n_epochs:
        epochs.append(n_epochs)
    return epochs


def _record(est, task, run, running_loss=None):
    """Record est at the end of an epoch. Train and test losses are the same
    quantity, the data loss of the current weights (the optimizer's running
    mean over the epoch's mini-batches, `running_loss`, is not used); the L2
    penalty is recorded apart."""
    train_pred = np.asarray(task.predict(est, task.X))
    test_pred = None if task.X_test is None else np.asarray(task.predict(est, task.X_test))
    if "loss" in task.record:
        run["train_loss"].append(data_loss(est, task.X, task.y))
        run["penalty"].append(
            0.5 * est.alpha * sum(float((W.astype(np.float64) ** 2).sum()) for W in est.coefs_)
            / task.X.shape[0])
        run["train_score"].append(_score(task.kind, task.y_score, train_pred))
        if test_pred is not None:
            run["test_loss"].append(
                data_loss(est, task.X_test, task.y_test, task.multilabel_test)
            )
            run["test_score"].append(_score(task.kind, task.y_test_score, test_pred))
    if "predictions" in task.record:
        run["train_pred"].append(train_pred)
        if test_pred is not None:
            run["test_pred"].append(test_pred)
    if "params" in task.record:
        run["params"].append(flat_params(est).copy())


def final_gradient_norm(est, X, y, params=None):
    """Euclidean norm of the gradient of `est`'s training objective (mean data
    loss plus the L2 penalty) over all of (X, y), at its current weights (or at
    `params`): zero at a critical point, whatever the solver's own stopping rule."""
    params = params_of(est) if params is None else params.astype(params_of(est).dtype)
    _, grad = network_of(est).loss_gradient(params, X, targets_of(est, y), alpha=est.alpha)
    return float(np.linalg.norm(grad.astype(np.float64)))


def _new_run():
    return {k: [] for k in ("train_loss", "penalty", "train_score", "test_loss", "test_score",
                            "train_pred", "test_pred", "params")}


def _repeat_last(run):
    """Record a stopped run again at a later epoch: its weights no longer change."""
    for values in run.values():
        if isinstance(values, list) and values:
            values.append(values[-1])


def _start_state(task, units):
    """The seed's initial parameters and shuffling generator (as its fit draws them)."""
    rs = np.random.RandomState(task.seed)
    theta = initial_params(task.init, task.init_scale, task.seed, units,
                           task.estimator.activation, task.X.dtype, random_state=rs)
    if task.init != "default":
        # A given start draws nothing from the estimator's generator, so the
        # shuffles start from a fresh RandomState(seed), as in _fit(init_params=...).
        rs = np.random.RandomState(task.seed)
    return theta, rs


def _start(task):
    """The seed's unfitted clone, initial parameters and shuffling generator."""
    est = clone(task.estimator).set_params(random_state=task.seed)
    theta, rs = _start_state(task, layer_units(est, task.X, task.y))
    return est, theta, rs


def train_one(task):
    """Train and record one seed; return the fitted estimator and its records."""
    est, theta, rs = _start(task)
    X, y = task.X, task.y
    run = _new_run()

    if est.solver == "lbfgs":  # no epochs: one fit, recorded at its end
        fit_from(est, X, y, init_params=theta)
        _record(est, task, run, float(est.loss_))
        run["epochs"] = [est.max_iter]
        run["estimator"] = est
        run["grad_norm"] = final_gradient_norm(est, X, y)
        run["grad_norm_start"] = final_gradient_norm(est, X, y, theta)
        run["stop_epoch"] = est.n_iter_
        if task.grad_tol is not None and at_critical_point(
                run["grad_norm"], run["grad_norm_start"], task.grad_tol, task.grad_rtol):
            run["stopped_by"] = "tolerance"
        else:
            run["stopped_by"] = "budget" if est.n_iter_ >= est.max_iter else "solver"
        return run

    n_epochs, shuffle, warm_start = est.max_iter, est.shuffle, est.warm_start
    est.set_params(shuffle=False, warm_start=False)
    epochs = set(recorded_epochs(n_epochs, task.record_every))
    order = np.arange(X.shape[0])
    run["stopped_by"], run["stop_epoch"] = "budget", n_epochs
    for epoch in range(1, n_epochs + 1):
        if run["stopped_by"] == "tolerance":
            if epoch in epochs:
                _repeat_last(run)
            continue
        if shuffle:
            perm = np.arange(X.shape[0])
            rs.shuffle(perm)  # the draw of sklearn.utils.shuffle, as fit makes it
            order = order[perm]
            Xe, ye = X[order], y[order]
        else:
            Xe, ye = X, y
        if epoch == 1:
            fit_from(est, Xe, ye, init_params=theta, incremental=True)
            run["grad_norm_start"] = final_gradient_norm(est, X, y, theta)
        else:
            est.partial_fit(Xe, ye)
        if epoch in epochs:
            _record(est, task, run, float(est.loss_curve_[-1]))
            if (task.grad_tol is not None and epoch < n_epochs and at_critical_point(
                    final_gradient_norm(est, X, y), run["grad_norm_start"], task.grad_tol,
                    task.grad_rtol)):
                run["stopped_by"], run["stop_epoch"] = "tolerance", epoch
    est.set_params(shuffle=shuffle, warm_start=warm_start)
    est.n_iter_ = run["stop_epoch"]  # partial_fit counts its own single epoch
    run["epochs"] = sorted(epochs)
    run["estimator"] = est
    run["grad_norm"] = final_gradient_norm(est, X, y)
    if task.grad_tol is not None and at_critical_point(
            run["grad_norm"], run["grad_norm_start"], task.grad_tol, task.grad_rtol):
        run["stopped_by"] = "tolerance"
    return run


def run_compiled(tasks, units, verbose=False):
    """All tasks (one setup, layer sizes `units`) in one compiled call; records
    as train_one does. verbose: a progress bar over the recorded epochs of
    every seed."""
    runs = [_new_run() for _ in tasks]
    epochs = recorded_epochs(tasks[0].estimator.max_iter, tasks[0].record_every)
    bar = progress_bar(len(tasks) * len(epochs), "seed epochs") if verbose else None

    def record(k, est, loss):
        _record(est, tasks[k], runs[k], loss)
        if bar is not None:
            bar.update(1)

    try:
        ests = fit_seeds(
            tasks[0].estimator, [(t.seed, *_start_state(t, units)) for t in tasks],
            tasks[0].X, tasks[0].y, epochs, record,
        )
    finally:
        if bar is not None:
            bar.close()
    for run, est, task in zip(runs, ests, tasks):
        run["epochs"] = epochs
        run["estimator"] = est
        run["grad_norm"] = final_gradient_norm(est, task.X, task.y)
        run["grad_norm_start"] = final_gradient_norm(est, task.X, task.y,
                                                     _start_state(task, units)[0])
        run["stopped_by"], run["stop_epoch"] = "budget", epochs[-1]
    return runs


def run_compiled_blocks(tasks, units, verbose=False):
    """The tasks in blocks of seeds, each block one compiled call on a worker of
    joblib's active backend (e.g. a Dask cluster): as few round trips as
    workers, and every seed computes what run_compiled computes for it."""
    from joblib import effective_n_jobs

    n_blocks = max(1, min(len(tasks), effective_n_jobs(-1)))
    blocks = [list(b) for b in np.array_split(np.arange(len(tasks)), n_blocks) if len(b)]
    results = Parallel(return_as="generator")(
        delayed(run_compiled)([tasks[i] for i in block], units) for block in blocks
    )
    if verbose:
        results = progress(results, total=len(blocks), desc="blocks of seeds")
    return [run for block_runs in results for run in block_runs]


def _use_compiled(engine, tasks, n_jobs, units):
    """False (joblib, one seed per task), "local" (all seeds in one compiled call
    here) or "blocks" (blocks of seeds, each compiled, on joblib's backend)."""
    if engine == "joblib":
        return False
    est, X = tasks[0].estimator, tasks[0].X
    batch = min(200, X.shape[0]) if est.batch_size == "auto" else est.batch_size
    flops = 6.0 * batch * sum(a * b for a, b in zip(units[:-1], units[1:]))
    eligible = compiled_eligible(est, X, flops)
    if engine == "compiled" and not eligible:
        raise ValueError(
            "engine='compiled' needs solver 'sgd' or 'adam', a non-adaptive learning "
            "rate, no early stopping, dense X and a small network."
        )
    if not eligible:
        return False
    if engine == "compiled" or (n_jobs is None and _local_backend()):
        return "local"
    return "blocks" if n_jobs is None else False


def _local_backend():
    """Whether joblib's active backend runs here (not e.g. on a Dask cluster)."""
    backend, _ = get_active_backend()
    return type(backend).__name__ in (
        "LokyBackend", "SequentialBackend", "ThreadingBackend", "MultiprocessingBackend"
    )


def run_tasks(tasks, n_jobs=None, verbose=False, desc="seeds"):
    """Run train_one over tasks with joblib (any backend, e.g. dask), in order."""
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(train_one)(t) for t in tasks
    )
    if verbose:
        results = progress(results, total=len(tasks), desc=desc)
    return list(results)


def train_seeds(
    estimator: MLPXClassifier | MLPXRegressor,
    X: ArrayLike,
    y: ArrayLike,
    seeds: Iterable[int],
    *,
    X_test: ArrayLike | None = None,
    y_test: ArrayLike | None = None,
    init: Literal["default", "he", "normal"] = "default",
    init_scale: float | Sequence[float] | Callable[[int], float] | None = None,
    record: str | Sequence[str] = "loss",
    record_every: int = 1,
    predict: Callable[[Any, NDArray[Any]], ArrayLike] | None = None,
    kind: Literal["classification", "regression"] | None = None,
    name: str | None = None,
    tau: float = 0.1,
    regression_tol: float = 0.1,
    n_jobs: int | None = None,
    engine: Literal["auto", "compiled", "joblib"] = "auto",
    verbose: bool = False,
) -> SeedStudy:
    """Fit one clone of `estimator` per seed and record each along training.

    Each seed trains ``estimator.max_iter`` epochs with ``random_state=seed``
    and exactly the trajectory of ``clone(estimator).set_params(
    random_state=seed).fit(X, y)`` (default init), except that training never
    stops early on ``tol`` / ``n_iter_no_change``: all seeds are recorded at the
    same epochs. Recording happens after epochs ``record_every``,
    ``2 * record_every``, ... and the last one.

    Parameters
    ----------
    estimator : MLPXClassifier or MLPXRegressor
        The model to train; it is cloned, never fitted itself. Its solver is
        'adam' or 'sgd' (recorded per epoch) or 'lbfgs' (recorded once, at the
        end, labelled epoch ``max_iter``). ``early_stopping`` is not supported.
    X : array-like of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Training targets.
    seeds : sequence of int
        At least two distinct seeds; seed ``seeds[i]`` is model i.
    X_test, y_test : array-like, default=None
        Held-out data for the test loss, score and predictions (both or neither).
    init : {'default', 'he', 'normal'}, default='default'
        'default': the estimator's Glorot initialisation. 'he': W ~ N(0, 2 /
        fan_in). 'normal': W ~ N(0, init_scale^2). He and normal set biases to 0
        and draw from ``numpy.random.default_rng(seed)``.
    init_scale : float, sequence of float or callable, default=None
        With init='normal': one scale for all seeds, one per seed, or a function
        of the seed index i, e.g. ``lambda i: i + 2`` (Cetinsoy et al.).
    record : str or sequence of {'loss', 'predictions', 'params'}, default='loss'
        'loss': training loss (the ``loss_curve_`` entry: mean over the
        epoch's mini-batches, L2 penalty included), test loss (data loss of the
        end-of-epoch model, no penalty) and scores (accuracy or R^2 of
        ``predict``). 'predictions': train and test predictions. 'params': the
        flat parameter vector.
    record_every : int, default=1
        Record every this many epochs (and after the last).
    predict : callable, default=None
        ``predict(estimator, X)`` returning the predictions to record, score and
        compare; default ``estimator.predict(X)``. Must be picklable for n_jobs.
    kind : {'classification', 'regression'}, default=None
        How predictions are scored and compared; default: 'classification' for
        classifiers, 'regression' for regressors.
    name : str, default=None
        The setup name in the tables; default the estimator's class name.
    tau : float, default=0.1
        Threshold of the weight-difference counts of the pairs table.
    regression_tol : float, default=0.1
        Regression agreement tolerance, in standard deviations of y.
    n_jobs : int, default=None
        Seeds trained in parallel with joblib; None follows the active
        ``joblib.parallel_backend`` (e.g. 'dask'). Results do not depend on it.
    engine : {'auto', 'compiled', 'joblib'}, default='auto'
        'compiled' trains all seeds in one compiled call, in parallel over
        seeds with OpenMP (sgd/adam with a non-adaptive schedule, dense X,
        small networks); 'joblib' fits each seed in Python epoch by epoch
        (with n_jobs / any joblib backend). 'auto' takes 'compiled' for small
        eligible networks when n_jobs is None: here, or under a joblib backend
        that runs elsewhere (e.g. Dask) in blocks of seeds, one compiled call
        per worker. Results are bit-identical.
    verbose : bool, default=False
        Show a progress bar over seeds.

    Returns
    -------
    study : SeedStudy
        The K fitted estimators, the recorded arrays and the tables.
    """
    if not isinstance(estimator, (MLPXClassifier, MLPXRegressor)):
        raise TypeError(
            f"estimator must be an MLPXClassifier or MLPXRegressor, got "
            f"{type(estimator).__name__}."
        )
    if estimator.early_stopping:
        raise ValueError("train_seeds does not support early_stopping=True.")
    seeds = check_seeds(seeds)
    tau = check_tau(tau)
    X, y, X_test, y_test = check_data(X, y, X_test, y_test)
    record = check_record(record, record_every)
    scales = check_init(init, init_scale, len(seeds))
    if kind is None:
        kind = "classification" if is_classifier(estimator) else "regression"
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}.")
    name = name or type(estimator).__name__
    tasks = [
        SeedTask(name, i, s, estimator, X, y, X_test, y_test, init=init,
                 init_scale=None if scales is None else scales[i], record=record,
                 record_every=record_every, predict=predict, kind=kind)
        for i, s in enumerate(seeds)
    ]
    # One estimator and one data set: the layer sizes are found once (a
    # label-binarizer fit) and the data validated once (in train_compiled).
    units = None if engine == "joblib" else layer_units(estimator, X, y)
    path = _use_compiled(engine, tasks, n_jobs, units)
    if path == "local":
        runs = run_compiled(tasks, units, verbose)
    elif path == "blocks":
        runs = run_compiled_blocks(tasks, units, verbose)
    else:
        runs = run_tasks(tasks, n_jobs=n_jobs, verbose=verbose)
    return SeedStudy.from_runs(
        {name: runs},
        seeds=seeds,
        kinds={name: kind},
        record=record,
        tau=tau,
        regression_tol={name: regression_tol * float(np.std(y)) if kind == "regression" else None},
        init={"scheme": init, "scales": scales},
    )

