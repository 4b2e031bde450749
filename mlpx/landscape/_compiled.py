"""All seeds of a study in one compiled call (mlpx._core._multi_seed).

For small networks one seed's mini-batch is too small to split across threads;
running the seeds side by side, one per thread, uses the cores instead. Each
seed computes exactly what ``train_one`` (epoch by epoch) computes, so the
results are bit-identical; only the Python round trip per epoch disappears.
"""

import contextlib
import copy

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from mlpx._core._multi_seed import train_seeds_epochs
from mlpx._multilayer_perceptron import DivergenceError
from mlpx._network import ACTIVATION_CODES
from mlpx._threads import effective_n_threads, single_threaded_blas

#: Networks whose batch costs less than this (flops) train all seeds at once.
SMALL_NETWORK_FLOPS = 2e7


def compiled_eligible(estimator, X, batch_flops):
    """Whether the compiled multi-seed path can and should train these seeds."""
    return (
        estimator.solver in ("sgd", "adam")
        and estimator.learning_rate != "adaptive"  # needs a decision per epoch
        and not estimator.early_stopping
        and isinstance(X, np.ndarray)
        and batch_flops < SMALL_NETWORK_FLOPS
    )


def _lr_per_epoch(opt, n_epochs, n_samples):
    """SGD step size of each epoch: constant, or invscaling after each epoch."""
    lrs = np.empty(n_epochs)
    for e in range(n_epochs):
        lrs[e] = opt.learning_rate
        opt.iteration_ends((e + 1) * n_samples)
    return lrs


def _prepared_seeds(estimator, starts, X, y):
    """One clone of `estimator` per start, each as ``_prepare_fit`` leaves it.

    The data are validated once: every seed sees the same X and y, so the
    state that validation sets (``classes_``, ``n_features_in_``, the label
    binarizer...) is the same, and each further seed is a deep copy of the
    first with its own ``random_state`` and initial parameters. Returns the
    estimators and the validated X and 2-D targets.
    """
    seed0, theta0, _ = starts[0]
    first = clone(estimator).set_params(random_state=seed0)
    X_, Y, _, _ = first._prepare_fit(X, y, None, False, init_params=theta0)
    ests = [first]
    for seed, theta, _ in starts[1:]:
        # The memo entry skips the copy of the generator, replaced just below
        # (copying a RandomState was 330 of the copy's 570 us).
        est = copy.deepcopy(first, memo={id(first._random_state): None})
        est.random_state = seed
        est._random_state = check_random_state(seed)
        est._initialize(Y, first._layer_units, first._params.dtype, theta)
        ests.append(est)
    return ests, X_, Y


def train_compiled(estimator, starts, X, y, record_epochs, record_fn):
    """Train one copy of `estimator` per start for max_iter epochs in one call.

    Parameters
    ----------
    estimator : MLPXClassifier or MLPXRegressor
        The unfitted model (never fitted itself).
    starts : list of (seed, theta, random_state)
        Each copy's random_state, initial flat parameters and the generator
        its epoch permutations are drawn from (as in fit).
    X, y : arrays
        Training data (validated).
    record_epochs : list of int
        Epochs (1-based) after which ``record_fn(k, est, train_loss)`` is
        called with estimator k holding that epoch's weights.
    record_fn : callable

    Returns
    -------
    estimators : list
        The fitted estimators, with the state a per-seed ``fit`` leaves
        (loss_curve_, n_iter_, t_, optimizer state), minus early stopping.
    """
    ests, X_, Y = _prepared_seeds(estimator, starts, X, y)
    n_epochs, n, dtype = estimator.max_iter, Y.shape[0], ests[0]._params.dtype
    K, P = len(ests), ests[0]._params.size
    params = np.stack([e._params for e in ests])
    opt = ests[0]._new_optimizer()
    s1 = np.zeros((K, P), dtype=dtype)
    s2 = np.zeros((K, P), dtype=dtype)
    # Each seed's epochs are shuffled in the compiled loop, from its own
    # generator, with the draws its fit would make.
    gens = [rs for _, _, rs in starts] if estimator.shuffle else None
    record = np.zeros(n_epochs, dtype=np.uint8)
    record[[e - 1 for e in record_epochs]] = 1
    snapshots = np.empty((K, int(record.sum()), P), dtype=dtype)
    losses = np.empty((K, n_epochs))
    ok = np.empty(K, dtype=np.uint8)
    lrs = _lr_per_epoch(opt.copy(), n_epochs, n)
    est0 = ests[0]
    with single_threaded_blas(), contextlib.ExitStack() as held:
        for rs in gens or ():
            held.enter_context(rs._bit_generator.lock)
        train_seeds_epochs(
            params, np.asarray(est0._layer_units, dtype=np.intp),
            ACTIVATION_CODES[est0.activation], ACTIVATION_CODES[est0.out_activation_],
            X_, Y, np.empty(0, dtype=dtype), gens, est0._batch_size_for(n),
            float(est0.alpha), opt, s1, s2, lrs, record, snapshots, losses, ok,
            effective_n_threads(),
        )
    if not ok.all():
        bad = [ests[k].random_state for k in np.flatnonzero(ok == 0)]
        raise DivergenceError(
            f"Training diverged for seeds {bad}: the loss or the weights became NaN "
            "or infinite. Lower learning_rate_init, scale the data or increase alpha."
        )
    for k, est in enumerate(ests):
        for r, epoch in enumerate(record_epochs):
            est._params[:] = snapshots[k, r]
            record_fn(k, est, float(losses[k, epoch - 1]))
        est._params[:] = params[k]
        state = opt.copy()
        state.s1 = s1[k].copy()
        state.s2 = s2[k].copy() if opt.s2 is not opt.s1 else state.s1
        state.learning_rate = lrs[-1] if opt.kind == 1 else opt.learning_rate
        if opt.kind == 1:
            state.iteration_ends(n_epochs * n)
        est._optimizer = state
        for e in range(n_epochs):
            est.loss_curve_.append(float(losses[k, e]))
            est._update_no_improvement_count(False, None)
        est.n_iter_ = n_epochs
        est.t_ = n_epochs * n
        est.loss_ = est.loss_curve_[-1]
    return ests
