"""The Python face of the compiled engine (mlpx._core).

The estimators and mlpx.landscape reach the engine only through this module:

* :class:`Network`: a network's layer sizes and activations, the layout of its
  flat parameter vector (W_0, ..., W_{L-1}, then b_0, ..., b_{L-1}: the order
  scikit-learn packs them for L-BFGS) and the compiled passes over it: outputs,
  loss and gradient, Hessian-vector products.
* :class:`Trainer`: mini-batch training of a network: one epoch, or K seeds at
  once, with an optimizer's state and step rule.
* the fitted estimators' networks, parameters and targets, for mlpx.landscape
  (:func:`network_of`, :func:`params_of`, :func:`targets_of`, ...).
"""

import contextlib
import copy

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier

from mlpx._core import _gradient, _hessian, _predict, _surface, _train
from mlpx._core._engine import Network as _CoreNetwork
from mlpx._core._types import Activation, Loss, Status, StepRule
from mlpx._losses import mean_loss
from mlpx._targets import is_regression_target, n_outputs
from mlpx._threads import effective_n_threads, single_threaded_blas

__all__ = [
    "ACTIVATION_CODES", "HIDDEN_ACTIVATIONS", "Network", "Status", "StepRule", "Trainer",
    "engine_input", "fit_from", "fit_seeds", "glorot_uniform", "is_regression_target",
    "layer_units_for", "n_params", "network_of",
    "pack", "params_of", "reorder_params", "set_params_of", "single_threaded_blas",
    "targets_of", "unpack", "with_params",
]

#: Activation name -> the engine's code.
ACTIVATION_CODES = {a.name.lower(): int(a) for a in Activation}
HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu", "leaky_relu", "softplus")

# Below this many flops a forward pass runs on one thread without touching BLAS limits.
_SMALL_FORWARD_FLOPS = 2e6
_EMPTY_IDX = np.empty(0, dtype=np.intp)


def n_params(sizes):
    """Number of weights and biases of a network with these layer sizes."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def unpack(params, sizes):
    """Views of the flat buffer as (coefs, intercepts) lists, no copy."""
    coefs, intercepts = [], []
    start = 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        coefs.append(params[start : start + fan_in * fan_out].reshape(fan_in, fan_out))
        start += fan_in * fan_out
    for fan_out in sizes[1:]:
        intercepts.append(params[start : start + fan_out])
        start += fan_out
    return coefs, intercepts


def pack(coefs, intercepts, dtype):
    """A new flat buffer holding copies of coefs and intercepts."""
    return np.concatenate(
        [np.asarray(a, dtype=dtype).ravel() for a in list(coefs) + list(intercepts)]
    )


def glorot_uniform(rng, sizes, activation, dtype):
    """scikit-learn's initialisation, drawing from rng in scikit-learn's order.

    Each layer draws U(-b, b) with b = sqrt(factor / (fan_in + fan_out)),
    factor 2 for logistic hidden units and 6 otherwise; coefs then intercept,
    layer by layer. With the same random_state, mlpx and scikit-learn start
    from identical weights.
    """
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rng.uniform(-bound, bound, fan_out))
    return pack(coefs, intercepts, dtype)


def _abs_max(values):
    """max |values| without np.abs's temporary copy of the data."""
    return max(float(values.max()), -float(values.min()))


def engine_input(X, dtype):
    """X as the engine takes it: a C-contiguous array, or CSR arrays.

    Returns (dense, csr) where csr is a dict of keyword arguments for the
    engine (empty for dense input) and dense has 0 rows for sparse input.
    """
    values = X.data if sp.issparse(X) else X
    if dtype == np.float32 and values.dtype != np.float32 and values.size:
        if _abs_max(values) > float(np.finfo(np.float32).max):
            raise ValueError(
                "X has values beyond the float32 range (about 3.4e38) but the model "
                "computes in float32: scale the data, or fit on float64 data."
            )
    if sp.issparse(X):
        X = X.tocsr()
        csr = dict(
            x_data=np.ascontiguousarray(X.data, dtype=dtype),
            x_indices=np.ascontiguousarray(X.indices, dtype=np.intp),
            x_indptr=np.ascontiguousarray(X.indptr, dtype=np.intp),
        )
        return np.empty((0, X.shape[1]), dtype=dtype), csr
    return np.ascontiguousarray(X, dtype=dtype), {}


def _weights(sample_weight, dtype, n_samples):
    if sample_weight is None:
        return np.empty(0, dtype=dtype)
    sw = np.ascontiguousarray(sample_weight, dtype=dtype)
    if sw.shape != (n_samples,):
        raise ValueError(f"sample_weight has shape {sw.shape}; expected ({n_samples},), "
                         "one weight per sample.")
    if not (np.isfinite(sw).all() and (sw >= 0).all() and sw.sum() > 0):
        raise ValueError("sample_weight must be finite and >= 0, with a positive sum.")
    return sw


def _check_rows(network, X, Y, n_features):
    if n_features != network.layer_units[0]:
        raise ValueError(f"X has {n_features} features; the network takes "
                         f"{network.layer_units[0]}.")
    if Y.ndim != 2 or Y.shape[1] != network.layer_units[-1]:
        raise ValueError(f"Y has shape {Y.shape}; the network has "
                         f"{network.layer_units[-1]} outputs.")
    if Y.shape[0] != X.shape[0] and X.shape[0] != 0:
        raise ValueError(f"X has {X.shape[0]} samples but Y has {Y.shape[0]}.")


class Network:
    """An MLP's layer sizes and activations, and the compiled passes over its
    flat parameter vector.

    Parameters
    ----------
    layer_units : sequence of int
        Inputs, hidden widths, outputs.
    activation : str
        Activation of the hidden layers (``HIDDEN_ACTIVATIONS``).
    out_activation : str
        Activation of the output layer: 'identity', 'logistic', 'softmax' or
        'exp'.
    loss : {None, 'squared_error'}, default=None
        None: the output activation's canonical loss (squared error, binary
        log-loss, log-loss, Poisson deviance); 'squared_error': half the
        squared error averaged over the outputs, on any output activation.
    leaky_slope : float, default=0.01
        Slope of 'leaky_relu' for negative inputs, in [0, 1].
    """

    def __init__(self, layer_units, activation, out_activation, loss=None, leaky_slope=0.01):
        if loss not in (None, "squared_error"):
            raise ValueError(f"loss must be None or 'squared_error', got {loss!r}.")
        self.layer_units = tuple(int(u) for u in layer_units)
        self.activation = activation
        self.out_activation = out_activation
        # the identity's canonical loss is the squared error: one name for it
        self.loss = None if out_activation == "identity" else loss
        self.leaky_slope = float(leaky_slope)
        self.core = _CoreNetwork(np.asarray(self.layer_units, dtype=np.intp),
                                 ACTIVATION_CODES[activation],
                                 ACTIVATION_CODES[out_activation],
                                 Loss.SQUARED_ERROR if self.loss else Loss.CANONICAL,
                                 self.leaky_slope)

    @property
    def n_params(self):
        return self.core.n_params

    def __reduce__(self):
        return Network, (self.layer_units, self.activation, self.out_activation, self.loss,
                         self.leaky_slope)

    def unpack(self, params):
        """(coefs, intercepts): views of a flat parameter vector."""
        return unpack(params, self.layer_units)

    def forward(self, params, X, n_threads=None, check_finite=False):
        """The network's outputs for X (n_samples x n_outputs, params' dtype).

        X is dense or sparse; with check_finite, returns None when dense X holds
        NaN or inf. n_threads (default: the engine's budget) is reduced to one
        for small passes, and BLAS is capped at one thread whenever the pass
        calls it: threaded BLAS would round differently, and the results must
        not depend on any thread count.
        """
        dtype = params.dtype
        X_engine, csr = engine_input(X, dtype)
        n = X.shape[0]
        out = np.empty((n, self.layer_units[-1]), dtype=dtype)
        flops = 2.0 * n * (params.size - sum(self.layer_units[1:]))
        calls_blas = _predict.calls_blas(self.core, n, bool(csr), dtype == np.float32)
        small = flops < _SMALL_FORWARD_FLOPS
        if n_threads is None:
            # the budget costs microseconds to read: a small pass needs none
            n_threads = 1 if small else effective_n_threads()
        with single_threaded_blas() if calls_blas else contextlib.nullcontext():
            finite = _predict.forward(self.core, params, X_engine, out, n_threads,
                                      check_finite=check_finite, **csr)
        return out if finite else None

    def data_loss(self, params, X, Y, sample_weight=None):
        """(Weighted) mean data loss at params on (X, Y), no penalty (NumPy, from
        the outputs; the engine computes the same loss while training)."""
        P = self.forward(params, X)
        return mean_loss(self.out_activation, np.asarray(Y, dtype=P.dtype), P, sample_weight,
                         loss=self.loss)

    def loss_gradient(self, params, X, Y, sample_weight=None, alpha=0.0, grad=None,
                      n_threads=None, csr=None):
        """(loss, gradient) of the whole data set at params.

        The loss is scikit-learn's: the (weighted) mean data loss plus
        ``alpha / (2 * sum(sample_weight)) * ||W||^2``. Y is the target matrix
        (see :func:`targets_of`). grad, if given, receives the gradient. With
        csr, X is already as :func:`engine_input` returns it.
        """
        dtype = params.dtype
        X_engine, csr = engine_input(X, dtype) if csr is None else (X, csr)
        Y = np.ascontiguousarray(Y, dtype=dtype)
        _check_rows(self, X_engine, Y, X.shape[1])
        sw = _weights(sample_weight, dtype, Y.shape[0])
        grad = np.empty_like(params) if grad is None else grad
        n_threads = effective_n_threads() if n_threads is None else n_threads
        with single_threaded_blas():
            loss = _gradient.loss_gradient(self.core, params, X_engine, Y, sw, float(alpha),
                                           grad, n_threads, **csr)
        return loss, grad

    def losses_at(self, origin, directions, coords, X, Y, alpha=0.0, n_threads=None):
        """The loss of :meth:`loss_gradient` (unweighted, dense X) at many points.

        Point i is ``origin + coords[i] @ directions``, formed in float64 and
        rounded to origin's dtype, the one computed in: origin has shape
        (n_params,), directions (D, n_params), coords (m, D). Each point is
        computed whole by one thread, so the losses do not depend on n_threads.
        Returns the m losses (float64). Finiteness is the caller's to check.
        """
        dtype = origin.dtype
        X = np.ascontiguousarray(X, dtype=dtype)
        Y = np.ascontiguousarray(Y, dtype=dtype)
        _check_rows(self, X, Y, X.shape[1])
        if X.shape[0] == 0:
            raise ValueError("X has no samples.")
        directions = np.ascontiguousarray(directions, dtype=np.float64)
        coords = np.ascontiguousarray(coords, dtype=np.float64)
        if (origin.shape != (self.n_params,) or directions.ndim != 2
                or directions.shape[1] != self.n_params or directions.shape[0] == 0
                or coords.ndim != 2 or coords.shape[1] != directions.shape[0]):
            raise ValueError(
                f"origin {origin.shape}, directions {directions.shape} and coords "
                f"{coords.shape} do not fit a network of {self.n_params} parameters: "
                "expected (n_params,), (D, n_params) with D >= 1 and (m, D).")
        out = np.empty(coords.shape[0])
        n_threads = effective_n_threads() if n_threads is None else n_threads
        with single_threaded_blas():
            _surface.losses_at(self.core, origin, directions, coords, X, Y, float(alpha),
                               out, int(n_threads))
        return out

    def hessian_vector(self, params, v, X, Y, sample_weight=None, alpha=0.0, out=None):
        """H v, H the Hessian of :meth:`loss_gradient`'s loss at params (dense X)."""
        dtype = params.dtype
        out = np.empty_like(params) if out is None else out
        X = np.ascontiguousarray(X, dtype=dtype)
        Y = np.ascontiguousarray(Y, dtype=dtype)
        _check_rows(self, X, Y, X.shape[1])
        v = np.ascontiguousarray(v, dtype=dtype)
        if v.shape != params.shape or out.shape != params.shape:
            raise ValueError(f"v has shape {v.shape}; the network has {params.size} "
                             "parameters.")
        sw = _weights(sample_weight, dtype, X.shape[0])
        with single_threaded_blas():
            _hessian.hessian_vector(self.core, params, v, X, Y, sw, float(alpha), out)
        return out


class Trainer:
    """Mini-batch training of a network with an optimizer (mlpx._optimizers).

    The optimizer holds the state (its ``s1``, ``s2``, step count ``t`` and
    current ``learning_rate``); the trainer runs epochs with it and advances it.
    """

    def __init__(self, network, optimizer, batch_size, alpha):
        self.network = network
        self.optimizer = optimizer
        self.core = _train.Trainer(
            network.core, int(batch_size), float(alpha), int(optimizer.kind),
            float(optimizer.learning_rate_init), momentum=float(optimizer.momentum),
            nesterov=bool(optimizer.nesterov), beta_1=float(optimizer.beta_1),
            beta_2=float(optimizer.beta_2), epsilon=float(optimizer.epsilon),
            temperature=float(getattr(optimizer, "temperature", 0.0)),
            noise_seed=int(optimizer.noise_seed),
        )

    def epoch(self, params, X, Y, sample_weight=None, order=None, n_threads=1, csr=None):
        """One epoch, updating params and the optimizer in place.

        X is dense as :func:`engine_input` returns it (with its csr arguments
        for sparse input); order is the epoch's row order (None: in order).
        Returns (loss_sum, n_batches, status): the sum over batches of batch
        loss times batch rows, the batches completed, and Status.OK or
        Status.DIVERGED (the parameters then hold non-finite values).
        """
        opt = self.optimizer
        loss_sum, n_batches, status, steps = self.core.epoch(
            params, opt.s1, opt.s2, opt.t, opt.learning_rate, X, Y,
            _weights(sample_weight, params.dtype, Y.shape[0]),
            _EMPTY_IDX if order is None else order, n_threads, **(csr or {}))
        self._advance(opt, steps)
        return loss_sum, n_batches, status

    def _advance(self, opt, steps):
        opt.t = steps
        if opt.kind == StepRule.ADAM:
            opt.learning_rate = _train.adam_step(opt.learning_rate_init, opt.beta_1,
                                                 opt.beta_2, steps)

    def seeds(self, params, X, Y, generators, lr_per_epoch, record, n_threads=1):
        """Train K networks (the rows of params) for len(lr_per_epoch) epochs each.

        Each seed computes what its own epochs would; the seeds run side by
        side, one per thread. generators: K numpy RandomStates drawing each
        seed's epoch orders (their locks held by the caller), or None.
        record: one flag per epoch, snapshot the parameters after it.

        Returns (states, snapshots, losses, ok): per seed a copy of the
        optimizer advanced by the epochs, the recorded parameters
        (K x n_recorded x P), the mean loss of each epoch (K x E) and whether
        it stayed finite.
        """
        opt = self.optimizer
        K, P = params.shape
        E = len(lr_per_epoch)
        s1 = np.zeros((K, P), dtype=params.dtype)
        s2 = np.zeros((K, P), dtype=params.dtype)
        record = np.asarray(record, dtype=np.uint8)
        snapshots = np.empty((K, int(record.sum()), P), dtype=params.dtype)
        losses = np.empty((K, E))
        ok = np.empty(K, dtype=np.uint8)
        self.core.seeds(params, s1, s2, opt.t, X, Y, np.empty(0, dtype=params.dtype),
                        generators, np.asarray(lr_per_epoch, dtype=np.float64), record,
                        snapshots, losses, ok, n_threads)
        steps = opt.t + E * -(-Y.shape[0] // min(self.core.batch_size, Y.shape[0]))
        states = []
        for k in range(K):
            state = opt.copy()
            state.s1 = s1[k].copy()
            state.s2 = s2[k].copy() if opt.s2 is not opt.s1 else state.s1
            self._advance(state, steps)
            states.append(state)
        return states, snapshots, losses, ok.astype(bool)


# ---------------------------------------------------------------------------
# The fitted estimators' networks, for mlpx.landscape
# ---------------------------------------------------------------------------
def _check_mlpx(est, fitted=True):
    if not hasattr(est, "_mlpx_network"):
        raise TypeError(
            f"expected an MLPXClassifier or MLPXRegressor, got {type(est).__name__}; "
            "mlpx.landscape works on mlpx's estimators (refit the model with mlpx)."
        )
    if fitted and not hasattr(est, "_params"):
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(f"This {type(est).__name__} is not fitted yet.")


def network_of(est):
    """The :class:`Network` of a fitted mlpx estimator."""
    _check_mlpx(est)
    return est._mlpx_network()


def params_of(est):
    """The fitted estimator's flat parameter vector (its live buffer: a view)."""
    _check_mlpx(est)
    return est._sync_params()


def set_params_of(est, params):
    """Write a flat parameter vector into a fitted estimator, in place."""
    _check_mlpx(est)
    buf = est._sync_params()
    if np.shape(params) != buf.shape:
        raise ValueError(f"params has shape {np.shape(params)}; the network has "
                         f"{buf.size} parameters.")
    buf[...] = params
    return est


def with_params(est, params):
    """A fitted copy of `est` whose flat parameter vector is `params`.

    Everything else (classes, layer sizes, hyper-parameters, loss curve,
    optimizer state) is copied from `est` as it is.
    """
    _check_mlpx(est)
    new = copy.deepcopy(est)
    params = np.asarray(params).ravel()
    buf = new._sync_params()
    if params.size != buf.size:
        raise ValueError(f"theta has {params.size} values; the network has {buf.size} "
                         "parameters.")
    buf[...] = params
    return new


def reorder_params(est, index):
    """A copy of a fitted estimator whose flat parameters are ``params[index]``,
    with the per-parameter state that rides along (optimizer moments, the best
    weights of early stopping) reordered the same way."""
    new = with_params(est, params_of(est)[index])
    if getattr(new, "_best_params", None) is not None and new._best_params.size == index.size:
        new._best_params = new._best_params[index]
    opt = getattr(new, "_optimizer", None)
    if opt is not None:
        shared = opt.s2 is opt.s1
        opt.s1 = opt.s1[index]
        opt.s2 = opt.s1 if shared else opt.s2[index]
    return new


def targets_of(est, y):
    """The engine's target matrix for y (n_samples x n_outputs, the model's dtype):
    the label indicator of a classifier, the values of a regressor."""
    _check_mlpx(est)
    return est._engine_targets(y)


def fit_from(est, X, y, init_params=None, incremental=False):
    """Fit (or, incremental, train one more epoch of) an mlpx estimator, starting
    from the flat parameters init_params instead of its own initialisation."""
    _check_mlpx(est, fitted=False)
    return est._fit(X, y, incremental=incremental, init_params=init_params)


def layer_units_for(estimator, X, y):
    """The layer sizes a fit of `estimator` (fitted or not) on (X, y) will have."""
    h = estimator.hidden_layer_sizes
    hidden = [int(h)] if np.ndim(h) == 0 else [int(s) for s in h]
    return [X.shape[1]] + hidden + [n_outputs(y, is_classifier(estimator))]


def fit_seeds(estimator, starts, X, y, record_epochs, record_fn):
    """Train one copy of `estimator` per start, all seeds in one compiled call.

    starts: (seed, initial flat parameters or None, the numpy RandomState its
    epochs are shuffled with) per copy. After each epoch of record_epochs
    (1-based), ``record_fn(k, est, train_loss)`` sees copy k with that epoch's
    weights. Returns the fitted copies, each in the state its own ``fit`` would
    leave (early stopping aside).
    """
    _check_mlpx(estimator, fitted=False)
    return estimator._fit_seeds(starts, X, y, record_epochs, record_fn)
