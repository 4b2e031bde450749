"""MLPXClassifier and MLPXRegressor: scikit-learn's MLP API over the compiled engine.

Python sees epoch boundaries only: validation, the loss curve, early stopping and
verbose output live here; each epoch runs in `mlpx._core._epoch.run_epoch`.
"""

from __future__ import annotations

import contextlib
import warnings
from abc import ABC, abstractmethod
from typing import Any, TypeVar

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import assert_all_finite, check_random_state, column_or_1d
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from mlpx import _param_checks as pc
from mlpx._core._checks import abs_max
from mlpx._core._epoch import DIVERGED, run_epoch
from mlpx._core._forward_backward import forward, forward_calls_blas, loss_gradient
from mlpx._losses import mean_loss
from mlpx._network import (
    ACTIVATION_CODES,
    HIDDEN_ACTIVATIONS,
    glorot_uniform,
    n_params,
    pack,
    unpack,
)
from mlpx._optimizers import AdamOptimizer, SGDOptimizer, SGLDOptimizer
from mlpx._threads import effective_n_threads, single_threaded_blas
from mlpx._version import __version__

_STOCHASTIC_SOLVERS = ("sgd", "adam", "sgld")
_EMPTY_IDX = np.empty(0, dtype=np.intp)
# Below this many flops a forward pass runs on one thread without touching BLAS limits.
_SMALL_FORWARD_FLOPS = 2e6
_FLOAT32_SCALE_WARNING = 1e4
_MLPX = TypeVar("_MLPX", bound="BaseMultilayerPerceptronX")


# The engine's forward pass per dtype: calling a specialisation directly skips
# Cython's run-time choice among the fused signatures (microseconds per call).
_FORWARD = {np.dtype(np.float64): forward["double"], np.dtype(np.float32): forward["float"]}


def _check_fitted(estimator):
    """check_is_fitted, with its cost (tags, attribute scan) only when unfitted."""
    if not hasattr(estimator, "_params"):
        check_is_fitted(estimator)


class DivergenceError(ValueError):
    """Training diverged: the loss or the weights became NaN or infinite."""


class MlpxVersionWarning(UserWarning):
    """A saved model is loaded by a different version of mlpx than saved it."""


#: Types to trust when loading mlpx models with skops:
#: ``skops.io.load(path, trusted=mlpx.SKOPS_TRUSTED_TYPES)``.
SKOPS_TRUSTED_TYPES = [
    "mlpx._multilayer_perceptron.MLPXClassifier",
    "mlpx._multilayer_perceptron.MLPXRegressor",
    "mlpx._optimizers.SGDOptimizer",
    "mlpx._optimizers.AdamOptimizer",
]


def _engine_input(X, dtype):
    """X as the engine takes it: a C-contiguous array, or CSR arrays.

    Returns (dense, csr) where csr is a dict of keyword arguments for the
    engine (empty for dense input) and dense has 0 rows for sparse input.
    """
    values = X.data if sp.issparse(X) else X
    if dtype == np.float32 and values.dtype != np.float32 and values.size:
        if _abs_max(values) > np.finfo(np.float32).max:
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


def _abs_max(values):
    """max |values| without np.abs's temporary copy of the data."""
    return max(float(values.max()), -float(values.min()))


def _finite_abs_max(X, estimator):
    """max |X| over X's stored values; scikit-learn's error if X holds NaN or inf.

    Training data is validated with ``ensure_all_finite=False`` and checked
    here, in one compiled pass: scikit-learn's check (a sum of X) and the
    min and max that the float32 scale warning needs read X three times, about
    30 ms more on a 60000 x 784 float32 X.
    """
    values = X.data if sp.issparse(X) else X
    x_max = abs_max(np.ravel(values, order="K"), effective_n_threads())
    if not np.isfinite(x_max):
        assert_all_finite(values, estimator_name=type(estimator).__name__, input_name="X")
    return x_max


def _warn_if_badly_scaled(x_max, dtype):
    """float32 has 7 digits: warn when inputs (max |X| = x_max) are large enough
    to cost accuracy."""
    if dtype == np.float32 and x_max > _FLOAT32_SCALE_WARNING:
        warnings.warn(
            f"Training in float32 on inputs as large as {x_max:.3g}: "
            "float32 keeps about 7 significant digits, so gradients lose accuracy and "
            "training may stall or diverge. Scale your data (e.g. StandardScaler) or "
            "fit on float64 data.",
            UserWarning, stacklevel=2,
        )


class BaseMultilayerPerceptronX(BaseEstimator, ABC):
    """Shared machinery of the two estimators. Use the derived classes."""

    _parameter_checks = {
        "hidden_layer_sizes": [pc.hidden_layer_sizes()],
        "activation": [pc.options(*HIDDEN_ACTIVATIONS)],
        "solver": [pc.options("lbfgs", "sgd", "adam", "sgld")],
        "alpha": [pc.interval("float", 0, np.inf, "left")],
        "batch_size": [pc.options("auto"), pc.interval("int", 1, np.inf, "left")],
        "learning_rate": [pc.options("constant", "invscaling", "adaptive")],
        "learning_rate_init": [pc.interval("float", 0, np.inf, "neither")],
        "power_t": [pc.interval("float", 0, np.inf, "left")],
        "max_iter": [pc.interval("int", 1, np.inf, "left")],
        "shuffle": [pc.boolean()],
        "random_state": [pc.random_state()],
        "tol": [pc.interval("float", 0, np.inf, "left")],
        "verbose": [pc.verbose()],
        "warm_start": [pc.boolean()],
        "momentum": [pc.interval("float", 0, 1, "both")],
        "nesterovs_momentum": [pc.boolean()],
        "early_stopping": [pc.boolean()],
        "validation_fraction": [pc.interval("float", 0, 1, "left")],
        "beta_1": [pc.interval("float", 0, 1, "left")],
        "beta_2": [pc.interval("float", 0, 1, "left")],
        "epsilon": [pc.interval("float", 0, np.inf, "neither")],
        "n_iter_no_change": [pc.interval("int", 1, np.inf, "left"), pc.inf()],
        "max_fun": [pc.interval("int", 1, np.inf, "left")],
        "temperature": [pc.interval("float", 0, np.inf, "left")],
    }

    @abstractmethod
    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        loss,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        max_fun,
        temperature,
    ):
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.temperature = temperature

    # ------------------------------------------------------------------ state
    def _set_params_buffer(self, params):
        """Make `params` the network's buffer and coefs_/intercepts_ views of it."""
        self._params = params
        self.coefs_, self.intercepts_ = unpack(params, self._layer_units)

    def _sync_params(self):
        """Repack if coefs_ / intercepts_ were replaced by arrays that are not views."""
        arrays = list(self.coefs_) + list(self.intercepts_)
        if len(arrays) != 2 * (len(self._layer_units) - 1) or not all(
            a.base is self._params for a in arrays
        ):
            shapes = [np.shape(c) for c in self.coefs_]
            expected = list(zip(self._layer_units[:-1], self._layer_units[1:]))
            if shapes != expected or [np.shape(b) for b in self.intercepts_] != [
                (n,) for n in self._layer_units[1:]
            ]:
                raise ValueError(
                    f"coefs_ / intercepts_ have shapes {shapes} that do not match "
                    f"the network's layer sizes {self._layer_units}."
                )
            self._set_params_buffer(
                pack(self.coefs_, self.intercepts_, self._params.dtype)
            )
        return self._params

    def __getstate__(self):
        if hasattr(self, "_params"):
            self._sync_params()
        state = dict(super().__getstate__())  # may be self.__dict__ itself
        state.pop("coefs_", None)
        state.pop("intercepts_", None)
        state["_mlpx_version"] = __version__
        return state

    def __setstate__(self, state):
        state = dict(state)
        saved = state.pop("_mlpx_version", "unknown")
        if saved != __version__:
            warnings.warn(
                f"This {type(self).__name__} was saved by mlpx {saved} and is loaded "
                f"by mlpx {__version__}: it may not load or predict correctly. Refit "
                "it with this version if you can.",
                MlpxVersionWarning, stacklevel=2,
            )
        super().__setstate__(state)
        if "_params" in state:
            self._set_params_buffer(self._params)

    def _engine_codes(self):
        return ACTIVATION_CODES[self.activation], ACTIVATION_CODES[self.out_activation_]

    def __sklearn_is_fitted__(self):
        # what check_is_fitted asks; its default scans every attribute per call
        return hasattr(self, "_params")

    # ---------------------------------------------------------------- predict
    def _is_plain_array(self, X):
        """True for a 2-D C-contiguous float ndarray of the right width, fitted
        without feature names: what validate_data passes unchanged if it is
        finite, which the engine checks (validate_data costs more than
        predicting a few rows, so small predictions skip it)."""
        return (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in (np.float64, np.float32)
            and X.shape[1] == self.n_features_in_
            and X.shape[0] > 0
            and not hasattr(self, "feature_names_in_")
            and X.flags.c_contiguous
        )

    def _forward_pass_fast(self, X, check_input=True):
        """Output-layer activations for X (n_samples x n_outputs)."""
        unchecked = check_input and self._is_plain_array(X)
        if check_input and not unchecked:
            X = validate_data(self, X, accept_sparse=["csr", "csc"],
                              dtype=(np.float64, np.float32), reset=False)
        params = self._sync_params()
        n_samples = X.shape[0]
        X_engine, csr = _engine_input(X, params.dtype)
        out = np.empty((n_samples, self.n_outputs_), dtype=params.dtype)
        hidden, output = self._engine_codes()
        sizes = np.asarray(self._layer_units, dtype=np.intp)
        forward = _FORWARD[params.dtype]
        flops = 2.0 * n_samples * (params.size - sum(self._layer_units[1:]))
        calls_blas = forward_calls_blas(sizes, n_samples, bool(csr),
                                        params.dtype == np.float32)
        small = flops < _SMALL_FORWARD_FLOPS
        # the budget costs 3 us to read: a small pass of tiles only needs none
        budget = 1 if small and not calls_blas else effective_n_threads()
        n_threads = 1 if small else budget
        # BLAS is capped (about 50 us) only when the pass calls it: threaded
        # BLAS would round differently under another thread budget
        cap = calls_blas and budget > 1
        with single_threaded_blas() if cap else contextlib.nullcontext():
            finite = forward(params, sizes, hidden, output, X_engine, out, n_threads,
                             check_finite=unchecked, **csr)
        if not finite:  # NaN or inf in X: validate_data says so
            validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
            raise ValueError("Input X contains NaN or infinity.")
        return out

    # -------------------------------------------------------------------- fit
    def _validate_params(self):
        checks = dict(self._parameter_checks)
        checks.update(getattr(self, "_extra_parameter_checks", {}))
        pc.validate(self, checks)

    def _hidden_sizes(self):
        h = self.hidden_layer_sizes
        return [int(h)] if np.ndim(h) == 0 else [int(s) for s in h]

    def _fit(self, X, y, sample_weight=None, incremental=False, init_params=None,
             validation=None):
        """Fit, leaving the estimator exactly as it was if anything raises.

        init_params: a flat parameter vector to start from instead of the
        default initialisation (used by mlpx.landscape for its init schemes).
        validation: (X_val, y_val, sample_weight_val) given to fit, or None.
        """
        snapshot = dict(self.__dict__)
        try:
            with single_threaded_blas():
                return self._fit_unsafe(X, y, sample_weight, incremental, init_params,
                                        validation)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            raise

    def _fit_unsafe(self, X, y, sample_weight, incremental, init_params, validation):
        X, Y, sample_weight, val = self._prepare_fit(
            X, y, sample_weight, incremental, init_params, validation
        )
        if self.solver in _STOCHASTIC_SOLVERS:
            self._fit_stochastic(X, Y, sample_weight, incremental, val)
        else:
            self._fit_lbfgs(X, Y, sample_weight)
        if not np.isfinite(self._params).all():
            raise DivergenceError(
                "Solver produced non-finite parameter weights. The input data may "
                "contain large values and need to be preprocessed."
            )
        return self

    def _prepare_fit(self, X, y, sample_weight, incremental, init_params=None,
                     validation=None):
        """Validate the inputs and (re)initialise the network for a fit.

        Returns X, Y (2-D targets), sample weights and the validation set in
        the network's dtype, ready for the engine.
        """
        self._validate_params()
        hidden = self._hidden_sizes()
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X, Y, x_max = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = self._check_sample_weight(sample_weight, X)
        if Y.ndim == 1:
            Y = Y.reshape((-1, 1))
        sample_weight = self._with_class_weight(Y, sample_weight, incremental)
        layer_units = [X.shape[1]] + hidden + [Y.shape[1]]
        self._random_state = check_random_state(self.random_state)

        if first_pass:
            self._initialize(Y, layer_units, X.dtype, init_params)
        else:
            if layer_units != list(self._layer_units):
                raise ValueError(
                    f"The network's layer sizes {list(self._layer_units)} do not match "
                    f"those of this call {layer_units} (hidden_layer_sizes, number of "
                    "features or outputs changed). Refit with warm_start=False."
                )
            # Work on a copy: the previous weights stay intact until the fit succeeds.
            self._set_params_buffer(self._sync_params().copy())
            if hasattr(self, "_optimizer"):
                self._optimizer = self._optimizer.copy()
            self.loss_curve_ = list(getattr(self, "loss_curve_", None) or [])
            for name in ("validation_scores_", "validation_loss_curve_"):
                if getattr(self, name, None) is not None:
                    setattr(self, name, list(getattr(self, name)))

        dtype = self._params.dtype
        _warn_if_badly_scaled(x_max, dtype)
        if not sp.issparse(X):
            X = _engine_input(X, dtype)[0]
        Y = np.ascontiguousarray(Y, dtype=dtype)
        if sample_weight is not None:
            sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)
        val = None
        if validation is not None and (validation[0] is not None or validation[1] is not None):
            val = self._check_validation_set(*validation)
        return X, Y, sample_weight, val

    def _with_class_weight(self, Y, sample_weight, incremental):
        """Sample weights times class weights (classifier only)."""
        return sample_weight

    def _check_validation_set(self, X_val, y_val, sample_weight_val):
        """Validate a validation set given to fit; return (X, Y, y, sample_weight)."""
        if X_val is None or y_val is None:
            raise ValueError("X_val and y_val must be given together.")
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise ValueError(
                "X_val and y_val are used for early stopping, which only the "
                f"stochastic solvers ('sgd', 'adam') do; solver={self.solver!r}."
            )
        if not self.early_stopping:
            raise ValueError(
                "X_val and y_val were passed to fit while early_stopping=False. "
                "Set early_stopping=True to stop on this validation set."
            )
        X_val = validate_data(self, X_val, accept_sparse=["csr", "csc"],
                              dtype=(np.float64, np.float32), reset=False)
        y_val, Y_val = self._validate_targets(y_val)
        if X_val.shape[0] != Y_val.shape[0]:
            raise ValueError(
                f"X_val has {X_val.shape[0]} samples but y_val has {Y_val.shape[0]}."
            )
        if sample_weight_val is not None:
            sample_weight_val = self._check_sample_weight(sample_weight_val, X_val)
        dtype = self._params.dtype
        return X_val, np.ascontiguousarray(Y_val, dtype=dtype), y_val, sample_weight_val

    def _check_sample_weight(self, sample_weight, X):
        sw = np.asarray(sample_weight)
        if sw.ndim == 0:
            sw = np.full(X.shape[0], float(sw))
        if sw.ndim != 1 or sw.shape[0] != X.shape[0]:
            raise ValueError(
                f"sample_weight has shape {sw.shape}; expected ({X.shape[0]},), one "
                "weight per sample."
            )
        if not np.issubdtype(sw.dtype, np.number) or np.iscomplexobj(sw):
            raise ValueError(f"sample_weight must be numeric, got dtype {sw.dtype}.")
        sw = sw.astype(np.float64)
        if not np.isfinite(sw).all():
            raise ValueError("sample_weight contains NaN or infinity.")
        if (sw < 0).any():
            raise ValueError("sample_weight contains negative values.")
        if sw.sum() <= 0:
            raise ValueError("sample_weight sums to zero: no sample would count.")
        return sw

    def _initialize(self, Y, layer_units, dtype, init_params=None):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(layer_units)
        self._layer_units = tuple(layer_units)
        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"
        if init_params is None:
            params = glorot_uniform(self._random_state, layer_units, self.activation, dtype)
        else:
            params = np.array(init_params, dtype=dtype).ravel()
            if params.size != n_params(layer_units):
                raise ValueError(
                    f"init_params has {params.size} values; a network with layer "
                    f"sizes {layer_units} has {n_params(layer_units)} parameters."
                )
        self._set_params_buffer(params)
        self._best_params = params.copy()
        if self.solver in _STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.validation_loss_curve_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.validation_loss_curve_ = None
                self.best_validation_score_ = None

    def _new_optimizer(self):
        n, dtype = self._params.size, self._params.dtype
        if self.solver == "sgld":
            return SGLDOptimizer(
                n,
                dtype,
                self.learning_rate_init,
                self.learning_rate,
                self.power_t,
                self.temperature,
                noise_seed=self._random_state.randint(np.iinfo(np.int32).max),
            )
        if self.solver == "sgd":
            return SGDOptimizer(
                n,
                dtype,
                self.learning_rate_init,
                self.learning_rate,
                self.momentum,
                self.nesterovs_momentum,
                self.power_t,
            )
        return AdamOptimizer(
            n, dtype, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon
        )

    def _fit_stochastic(self, X, Y, sample_weight, incremental, val=None):
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._new_optimizer()
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        if early_stopping and val is None:
            X_train, Y_train, sw_train, val = self._validation_split(X, Y, sample_weight)
        else:
            X_train, Y_train, sw_train = X, Y, sample_weight

        n_samples = X_train.shape[0]
        sample_idx = np.arange(n_samples, dtype=np.intp)
        batch_size = self._batch_size_for(n_samples)

        sizes = np.asarray(self._layer_units, dtype=np.intp)
        hidden, output = self._engine_codes()
        dtype = self._params.dtype
        sw = _EMPTY_ARRAYS[dtype] if sw_train is None else sw_train
        n_threads = effective_n_threads()
        X_train, csr = _engine_input(X_train, dtype)
        opt = self._optimizer
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            if self.shuffle:
                # sklearn.utils.shuffle's draw, without its per-call validation cost
                perm = np.arange(n_samples)
                self._random_state.shuffle(perm)
                sample_idx = sample_idx[perm]
            loss_sum, n_batches, status = run_epoch(
                self._params,
                sizes,
                hidden,
                output,
                X_train,
                Y_train,
                sw,
                sample_idx if self.shuffle else _EMPTY_IDX,
                batch_size,
                float(self.alpha),
                opt,
                n_threads,
                **csr,
            )
            if status == DIVERGED:
                raise DivergenceError(
                    f"Training diverged in epoch {self.n_iter_ + 1}, mini-batch "
                    f"{n_batches + 1}: the loss or the weights became NaN or infinite. "
                    f"Lower learning_rate_init (now {self.learning_rate_init}), scale "
                    "the input data (e.g. with StandardScaler), or increase alpha."
                )
            self.n_iter_ += 1
            self.loss_ = float(loss_sum / n_samples)
            self.t_ += n_samples
            self.loss_curve_.append(self.loss_)
            if self.verbose:
                print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
            self._update_no_improvement_count(early_stopping, val)
            opt.iteration_ends(self.t_)
            if self._no_improvement_count > self.n_iter_no_change:
                if early_stopping:
                    msg = (
                        "Validation score did not improve more than tol=%f for %d "
                        "consecutive epochs." % (self.tol, self.n_iter_no_change)
                    )
                else:
                    msg = (
                        "Training loss did not improve more than tol=%f for %d "
                        "consecutive epochs." % (self.tol, self.n_iter_no_change)
                    )
                if opt.trigger_stopping(msg, self.verbose):
                    break
                self._no_improvement_count = 0
            if incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn(
                    "Stochastic Optimizer: Maximum iterations (%d) reached and the "
                    "optimization hasn't converged yet." % self.max_iter,
                    ConvergenceWarning, stacklevel=2,
                )
        if early_stopping:
            self._params[:] = self._best_params

    def _batch_size_for(self, n_samples):
        """Mini-batch size: min(200, n) for 'auto', else batch_size clipped to [1, n]."""
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is "
                "going to be clipped",
                stacklevel=3,
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    def _validation_split(self, X, Y, sample_weight):
        # Stratify as scikit-learn does (not for multilabel), on the boolean indicator.
        stratify = Y.astype(bool) if is_classifier(self) and self.n_outputs_ == 1 else None
        arrays = (X, Y) if sample_weight is None else (X, Y, sample_weight)
        parts = train_test_split(
            *arrays,
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        X_train, X_val, Y_train, Y_val = parts[:4]
        sw_train, sw_val = (parts[4], parts[5]) if sample_weight is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or "
                "the size of your dataset."
            )
        y_val = self._predictions_from_output(Y_val)
        return (
            X_train,
            np.ascontiguousarray(Y_train),
            None if sw_train is None else np.ascontiguousarray(sw_train),
            (X_val, Y_val, y_val, sw_val),
        )

    def _validation_score_and_loss(self, val):
        """Score (accuracy or R^2) and mean data loss on the validation set."""
        X_val, Y_val, y_val, sw_val = val
        out = self._forward_pass_fast(X_val, check_input=False)
        loss = mean_loss(self.out_activation_, Y_val, out, sw_val)
        y_pred = self._predictions_from_output(out)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan, loss
        return self._score_function(y_val, y_pred, sample_weight=sw_val), loss

    def _update_no_improvement_count(self, early_stopping, val):
        if early_stopping:
            score, loss = self._validation_score_and_loss(val)
            self.validation_scores_.append(score)
            self.validation_loss_curve_.append(loss)
            if self.verbose:
                print("Validation score: %f" % score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = self._params.copy()
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    def _fit_lbfgs(self, X, Y, sample_weight):
        sizes = np.asarray(self._layer_units, dtype=np.intp)
        hidden, output = self._engine_codes()
        dtype = self._params.dtype
        sw = _EMPTY_ARRAYS[dtype] if sample_weight is None else sample_weight
        n_threads = effective_n_threads()
        alpha = float(self.alpha)
        grad = np.empty_like(self._params)
        X, csr = _engine_input(X, dtype)

        def loss_and_grad(theta):
            # scipy's iterate is float64; a float64 network computes on it directly.
            theta = theta if dtype == np.float64 else theta.astype(dtype)
            loss = loss_gradient(theta, sizes, hidden, output, X, Y, sw, alpha, grad,
                                 n_threads, **csr)
            return loss, grad.astype(np.float64, copy=False)

        res = scipy.optimize.minimize(
            loss_and_grad,
            self._params.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol},
        )
        if res.status != 0:
            warnings.warn(
                f"lbfgs failed to converge after {res.nit} iteration(s) "
                f"(status={res.status}): {res.message}. Increase the number of "
                "iterations (max_iter) or scale the data.",
                ConvergenceWarning, stacklevel=2,
            )
        self.n_iter_ = min(int(res.nit), self.max_iter)
        self.loss_ = float(res.fun)
        self._params[:] = res.x


    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    def fit(self: _MLPX, X: ArrayLike | sp.spmatrix | sp.sparray, y: ArrayLike,
            sample_weight: ArrayLike | None = None,
            X_val: ArrayLike | sp.spmatrix | sp.sparray | None = None,
            y_val: ArrayLike | None = None,
            sample_weight_val: ArrayLike | None = None) -> _MLPX:
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data. float32 input trains in float32.
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in
            regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights: the loss is the weighted mean, and the L2 penalty is
            divided by the sum of the weights of the batch.
        X_val, y_val : array-like, default=None
            A validation set for early stopping (requires ``early_stopping=True``
            and a stochastic solver). When given, all of X trains the network
            and ``validation_fraction`` is ignored. As in
            :class:`~sklearn.ensemble.HistGradientBoostingClassifier`.
        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Weights of the validation samples, for the score and the loss.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False,
                         validation=(X_val, y_val, sample_weight_val))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


_EMPTY_ARRAYS = {
    np.dtype(np.float64): np.empty(0, dtype=np.float64),
    np.dtype(np.float32): np.empty(0, dtype=np.float32),
}

_SHARED_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.

    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', 'softplus'}, \
default='relu'
        Activation of the hidden layers: f(x) = x, 1 / (1 + exp(-x)), tanh(x),
        max(0, x), max(0.01 x, x) or log(1 + exp(x)).

    solver : {'lbfgs', 'sgd', 'adam', 'sgld'}, default='adam'
        Weight optimisation: full-batch L-BFGS (scipy), mini-batch SGD, Adam, or
        stochastic gradient Langevin dynamics (the SGD step plus Gaussian noise
        of variance ``2 * learning_rate * temperature``; no momentum).

    alpha : float, default=0.0001
        Strength of the L2 penalty (weight decay). For a batch B the objective is
        ``E_B = mean loss over B + alpha / (2 |B|) * sum_l ||W_l||_F^2``, biases
        not penalised (with sample weights, |B| is the sum of the batch's
        weights). It is the lambda of weight decay, ``E + (lambda / 2) ||w||^2``,
        with ``lambda = alpha / |B|``: each step shrinks the weights by
        ``learning_rate * alpha / |B| * W`` on top of the data gradient.

    batch_size : int, default='auto'
        Size of the mini-batches of the stochastic solvers;
        'auto' means ``min(200, n_samples)``. Ignored by lbfgs.

    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Schedule of the SGD step size: constant; ``learning_rate_init /
        (t + 1) ** power_t`` after each epoch, t the samples seen; or divided by 5
        whenever ``n_iter_no_change`` epochs fail to improve by ``tol``.

    learning_rate_init : float, default=0.001
        Initial step size of 'sgd' and 'adam'.

    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.

    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).

    shuffle : bool, default=True
        Shuffle the samples in each epoch (stochastic solvers).

    random_state : int, RandomState instance, default=None
        Seeds the initial weights, the shuffling and the early-stopping split.
        mlpx draws them as scikit-learn does, so the same seed gives the same
        initial weights as scikit-learn's MLP.

    tol : float, default=1e-4
        Improvement below which an epoch counts as no improvement.

    verbose : bool, default=False
        Print the loss after each epoch.

    warm_start : bool, default=False
        Start from the previous solution. The optimizer state (momentum, Adam
        moments) resets on each call to ``fit``, as in scikit-learn.

    momentum : float, default=0.9
        Momentum of 'sgd', in [0, 1].

    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum ('sgd' with momentum > 0).

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, stop when its score
        has not improved by ``tol`` for ``n_iter_no_change`` epochs, and restore
        the best weights.

    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.

    beta_1 : float, default=0.9
        Decay of Adam's first-moment estimate, in [0, 1).

    beta_2 : float, default=0.999
        Decay of Adam's second-moment estimate, in [0, 1).

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    n_iter_no_change : int, default=10
        Epochs without improvement before stopping ('sgd', 'adam').

    max_fun : int, default=15000
        Maximum number of loss evaluations of 'lbfgs'.
"""

_TEMPERATURE_DOC = """
    temperature : float, default=1.0
        Temperature (1 / beta) of the 'sgld' solver; 0 makes it plain SGD
        without momentum. Ignored by the other solvers.
"""

_ATTRIBUTES_DOC = """
    loss_ : float
        The loss after the last epoch (data loss plus L2 penalty).

    best_loss_ : float or None
        The lowest training loss reached (None with early stopping).

    loss_curve_ : list of float
        The loss after each epoch (stochastic solvers).

    validation_scores_ : list of float or None
        Held-out score after each epoch with early stopping, else None.

    validation_loss_curve_ : list of float or None
        Mean data loss (no penalty) on the held-out set after each epoch, with
        early stopping, else None.

    best_validation_score_ : float or None
        The best held-out score with early stopping, else None.

    t_ : int
        Training samples seen by the solver.

    coefs_ : list of ndarray, length n_layers - 1
        Weight matrices, ``coefs_[i]`` of shape (fan_in, fan_out). They are views
        into one flat parameter buffer.

    intercepts_ : list of ndarray, length n_layers - 1
        Bias vectors, views into the same buffer.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names seen during fit, when X had string column names.

    n_iter_ : int
        Epochs (or lbfgs iterations) run.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Activation of the output layer.
"""


def _is_integer_labels(y):
    return isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "iu" and y.size > 0


def _unique_labels(y):
    """unique_labels(y), by one np.unique for a 1-D integer array (its type checks
    took about 0.35 ms of every partial_fit)."""
    return np.unique(y) if _is_integer_labels(y) else unique_labels(y)


def _fit_label_binarizer(y):
    """LabelBinarizer().fit(y). For a 1-D integer array its three attributes
    come from one np.unique: type_of_target and unique_labels took about
    0.8 ms of every fit of a small network, 17 times np.unique's cost."""
    lb = LabelBinarizer()
    if _is_integer_labels(y):
        lb.classes_ = np.unique(y)
        lb.y_type_ = "multiclass" if len(lb.classes_) > 2 else "binary"
        lb.sparse_input_ = False
        return lb
    return lb.fit(y)


def _binarize(lb, y, dtype):
    """lb.transform(y) as a `dtype` array, one-hot without its validation when
    y is a 1-D array of lb's known labels (the classes of a fit's own y, or
    checked against them): its type_of_target and label_binarize took about
    2 ms of every fit of a small network."""
    classes = lb.classes_
    if lb.y_type_ in ("binary", "multiclass") and y.ndim == 1 and len(classes) >= 2:
        idx = np.searchsorted(classes, y)
        if (idx < len(classes)).all() and np.array_equal(classes[idx], y):
            if lb.y_type_ == "binary":
                return (idx == 1).astype(dtype).reshape(-1, 1)
            Y = np.zeros((y.shape[0], len(classes)), dtype=dtype)
            Y[np.arange(y.shape[0]), idx] = 1
            return Y
    return lb.transform(y).astype(dtype)


class MLPXClassifier(ClassifierMixin, BaseMultilayerPerceptronX):
    _extra_parameter_checks = {"class_weight": [pc.class_weight()]}

    __doc__ = (
        """Multi-layer perceptron classifier on a compiled engine.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`: the
    same parameters, defaults, fitted attributes and update rules. It minimises
    the log-loss (softmax output for multiclass, logistic for binary and
    multilabel targets).

    Parameters
    ----------"""
        + _SHARED_DOC
        + """
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into the sample weights: a dict
        {label: weight}, or 'balanced' for ``n_samples / (n_classes *
        np.bincount(y))``, as elsewhere in scikit-learn. Single-output targets
        only; 'balanced' is not available in ``partial_fit``.
"""
        + _TEMPERATURE_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        Class labels (one array per output for multilabel targets).
"""
        + _ATTRIBUTES_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from mlpx import MLPXClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPXClassifier(hidden_layer_sizes=(32,), max_iter=50, random_state=0)
    >>> clf.fit(X / 16, y).score(X / 16, y) > 0.95
    True
    """
    )

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        class_weight=None,
        temperature=1.0,
    ):
        self.class_weight = class_weight
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss="log_loss",
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            temperature=temperature,
        )

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
            ensure_all_finite=False,
        )
        x_max = _finite_abs_max(X, self)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.dtype == object and len({isinstance(v, str) for v in np.ravel(y)}) > 1:
            raise ValueError(
                "Mix of label input types (string and number) in y: use one type "
                "for all class labels."
            )
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = _fit_label_binarizer(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = _unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes "
                        f"as in the previous call to fit. Previously got "
                        f"{self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {classes}."
                )
        return X, _binarize(self._label_binarizer, y, X.dtype), x_max

    def predict(self, X: ArrayLike | sp.spmatrix | sp.sparray) -> NDArray[Any]:
        """Predict class labels for X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        _check_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        return self._predictions_from_output(
            self._forward_pass_fast(X, check_input=check_input)
        )

    def _predictions_from_output(self, out):
        # LabelBinarizer.inverse_transform's decisions, without its per-call
        # validation (it costs more than the forward pass of a small batch)
        y_type = self._label_binarizer.y_type_
        if y_type == "multiclass":
            return self.classes_.take(np.argmax(out, axis=1))
        if y_type == "binary" and len(self.classes_) == 2:
            return self.classes_.take((out[:, 0] > 0.5).astype(np.intp))
        return self._label_binarizer.inverse_transform(
            out.ravel() if self.n_outputs_ == 1 else out
        )

    _score_function = staticmethod(accuracy_score)

    def _validate_targets(self, y):
        """Check held-out labels against classes_; return (labels, indicator)."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y)
        unknown = np.setdiff1d(unique_labels(y), self.classes_)
        if len(unknown):
            raise ValueError(
                f"y_val has labels {unknown} that are not in classes_ {self.classes_}."
            )
        return y, self._label_binarizer.transform(y)

    def _with_class_weight(self, Y, sample_weight, incremental):
        if self.class_weight is None:
            return sample_weight
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError("class_weight is not supported for multilabel targets.")
        if incremental and isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: one batch "
                "does not show the class frequencies. Pass a dict of class weights."
            )
        index = Y.argmax(axis=1) if Y.shape[1] > 1 else Y[:, 0].astype(int)
        weights = compute_sample_weight(self.class_weight, self.classes_[index])
        return weights if sample_weight is None else weights * sample_weight

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X: ArrayLike | sp.spmatrix | sp.sparray, y: ArrayLike,
                    sample_weight: ArrayLike | None = None,
                    classes: ArrayLike | None = None) -> MLPXClassifier:
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array of shape (n_classes,), default=None
            All classes of all calls; required on the first call.

        Returns
        -------
        self : object
            The updated estimator.
        """
        first_call = not hasattr(self, "classes_")
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if classes is not None:
            classes = unique_labels(classes)
            if not first_call and not np.array_equal(self.classes_, classes):
                raise ValueError(
                    f"`classes={classes}` is not the same as on the first call to "
                    f"partial_fit, which was {self.classes_}."
                )
        if first_call:
            snapshot = dict(self.__dict__)
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
            self.classes_ = self._label_binarizer.classes_
            try:
                return self._fit(X, y, sample_weight=sample_weight, incremental=True)
            except BaseException:
                self.__dict__.clear()
                self.__dict__.update(snapshot)
                raise
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict_log_proba(
        self, X: ArrayLike | sp.spmatrix | sp.sparray
    ) -> NDArray[np.floating[Any]]:
        """Log of the probability estimates, ``log(predict_proba(X))``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            The log-probability of each class, ordered as in `classes_`.
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(
        self, X: ArrayLike | sp.spmatrix | sp.sparray
    ) -> NDArray[np.floating[Any]]:
        """Probability estimates.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The probability of each class, ordered as in `classes_`.
        """
        _check_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPXRegressor(RegressorMixin, BaseMultilayerPerceptronX):
    __doc__ = (
        """Multi-layer perceptron regressor on a compiled engine.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`: the
    same parameters, defaults, fitted attributes and update rules. It minimises
    half the mean squared error, ``sum_i sum_k (y_ik - p_ik)^2 / (2 n k)`` for n
    samples and k outputs, plus the L2 penalty; its gradient is the exact
    gradient of that loss for any number of outputs.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        The loss; 'poisson' uses an exponential output and half the Poisson
        deviance, for targets y >= 0.
"""
        + _SHARED_DOC
        + _TEMPERATURE_DOC
        + """
    Attributes
    ----------"""
        + _ATTRIBUTES_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from mlpx import MLPXRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=0.1, random_state=0)
    >>> reg = MLPXRegressor(hidden_layer_sizes=(32,), solver="lbfgs", random_state=0)
    >>> reg.fit(X, y).score(X, y) > 0.99
    True
    """
    )

    _extra_parameter_checks = {"loss": [pc.options("squared_error", "poisson")]}

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        temperature=1.0,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss=loss,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            temperature=temperature,
        )

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
            ensure_all_finite=False,
        )
        x_max = _finite_abs_max(X, self)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError("loss='poisson' requires y >= 0; y has negative values.")
        return X, y, x_max

    def predict(self, X: ArrayLike | sp.spmatrix | sp.sparray) -> NDArray[np.floating[Any]]:
        """Predict using the multi-layer perceptron.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        _check_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        return self._predictions_from_output(
            self._forward_pass_fast(X, check_input=check_input)
        )

    def _predictions_from_output(self, out):
        return out.ravel() if out.shape[1] == 1 else out

    _score_function = staticmethod(r2_score)

    def _validate_targets(self, y):
        """Check held-out targets; return (targets, 2-D targets)."""
        y = check_array(y, ensure_2d=False, dtype=np.float64)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y_val has {Y.shape[1]} outputs; the model has {self.n_outputs_}."
            )
        return y, Y

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X: ArrayLike | sp.spmatrix | sp.sparray, y: ArrayLike,
                    sample_weight: ArrayLike | None = None) -> MLPXRegressor:
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
