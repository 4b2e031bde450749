"""The estimators' shared machinery: fit and partial_fit at epoch granularity,
early stopping, warm start, scikit-learn's fitted attributes, persistence.

Python sees epoch boundaries only; each epoch runs in the compiled engine
(through mlpx._engine).
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from abc import ABC, abstractmethod
from typing import TypeVar

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from mlpx import _param_checks as pc
from mlpx._engine import (
    HIDDEN_ACTIVATIONS,
    Network,
    Status,
    StepRule,
    Trainer,
    engine_input,
    glorot_uniform,
    n_params,
    pack,
    unpack,
)
from mlpx._losses import mean_loss
from mlpx._optimizers import AdamOptimizer, SGDOptimizer, SGLDOptimizer
from mlpx._threads import effective_n_threads, single_threaded_blas
from mlpx._validation import check_sample_weight, refuse_strings, warn_if_badly_scaled
from mlpx._version import __version__

_STOCHASTIC_SOLVERS = ("sgd", "adam", "sgld")
_MLPX = TypeVar("_MLPX", bound="BaseMultilayerPerceptronX")


class DivergenceError(ValueError):
    """Training diverged: the loss or the weights became NaN or infinite."""


# scikit-learn's message for a fit whose weights became non-finite; the
# DivergenceError of such a fit starts with it
_NON_FINITE = ("Solver produced non-finite parameter weights. The input data may contain "
               "large values and need to be preprocessed.")


class MlpxVersionWarning(UserWarning):
    """A saved model is loaded by a different version of mlpx than saved it."""


def _lr_per_epoch(opt, n_epochs, n_samples):
    """SGD step size of each epoch: constant, or invscaling after each epoch."""
    lrs = np.empty(n_epochs)
    for e in range(n_epochs):
        lrs[e] = opt.learning_rate
        opt.iteration_ends((e + 1) * n_samples)
    return lrs


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
        "leaky_slope": [pc.interval("float", 0, 1, "both")],
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
        leaky_slope,
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
        self.leaky_slope = leaky_slope

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
        state.pop("_network", None)
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

    def _mlpx_network(self):
        """The fitted network's engine description (built once, not pickled)."""
        key = (self._layer_units, self.activation, self.out_activation_,
               "squared_error" if self.loss == "squared_error" else None,
               float(getattr(self, "leaky_slope", 0.01)))
        cached = self.__dict__.get("_network")
        if cached is None or cached[0] != key:
            cached = (key, Network(*key))
            self._network = cached
        return cached[1]

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
            refuse_strings(X)
            X = validate_data(self, X, accept_sparse=["csr", "csc"],
                              dtype=(np.float64, np.float32), reset=False)
        out = self._mlpx_network().forward(self._sync_params(), X, check_finite=unchecked)
        if out is None:  # NaN or inf in X: validate_data says so
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
        X, Y, sample_weight, val, x_max = self._prepare_fit(
            X, y, sample_weight, incremental, init_params, validation
        )
        if self.solver in _STOCHASTIC_SOLVERS:
            self._fit_stochastic(X, Y, sample_weight, incremental, val)
        else:
            self._fit_lbfgs(X, Y, sample_weight)
        if not np.isfinite(self._params).all():
            raise DivergenceError(_NON_FINITE)
        if self._outputs_overflow(X, x_max):
            raise DivergenceError(
                "Solver produced parameter weights so large that the network's outputs "
                "on the training data overflow. The input data may contain large values "
                "and need to be preprocessed; or lower learning_rate_init."
            )
        return self

    def _outputs_overflow(self, X, x_max):
        """Whether the fitted weights, finite themselves, give non-finite outputs on X.

        A diverging run's last step can leave weights so large that a forward
        pass overflows (float32 first). The forward pass is only run when a
        bound on the outputs' magnitude exceeds the dtype's range, so a healthy
        fit pays a few maxima over the weights and no pass over X (x_max is
        max |X|, known from the input checks).
        """
        bound = float(x_max)
        for W, b in zip(self.coefs_, self.intercepts_):
            # every activation satisfies |f(z)| <= |z| + 1
            bound = W.shape[0] * float(np.max(np.abs(W))) * (bound + 1) + float(
                np.max(np.abs(b)))
        if not bound > float(np.finfo(self._params.dtype).max):
            return False
        with np.errstate(over="ignore", invalid="ignore"):
            out = self._mlpx_network().forward(self._params, X)
        return not np.isfinite(out).all()

    def _prepare_fit(self, X, y, sample_weight, incremental, init_params=None,
                     validation=None):
        """Validate the inputs and (re)initialise the network for a fit.

        Returns X, Y (2-D targets), sample weights and the validation set in
        the network's dtype, ready for the engine, and max |X|.
        """
        self._validate_params()
        hidden = self._hidden_sizes()
        # coefs_ set by hand on an estimator mlpx has not fitted: they are the start
        assigned = hasattr(self, "coefs_") and not hasattr(self, "_params")
        first_pass = assigned or not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X, Y, x_max = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
        if Y.ndim == 1:
            Y = Y.reshape((-1, 1))
        sample_weight = self._with_class_weight(Y, sample_weight, incremental)
        layer_units = [X.shape[1]] + hidden + [Y.shape[1]]
        self._random_state = check_random_state(self.random_state)

        if first_pass:
            if assigned and init_params is None:
                init_params = self._assigned_params(layer_units)
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
        warn_if_badly_scaled(x_max, dtype)
        if not sp.issparse(X):
            X = engine_input(X, dtype)[0]
        Y = np.ascontiguousarray(Y, dtype=dtype)
        if sample_weight is not None:
            sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)
        val = None
        if validation is not None and (validation[0] is not None or validation[1] is not None):
            val = self._check_validation_set(*validation)
        return X, Y, sample_weight, val, x_max

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
            sample_weight_val = check_sample_weight(sample_weight_val, X_val.shape[0])
        dtype = self._params.dtype
        return X_val, np.ascontiguousarray(Y_val, dtype=dtype), y_val, sample_weight_val

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

    def _assigned_params(self, layer_units):
        """The flat parameters of coefs_ / intercepts_ a user assigned by hand."""
        coefs = list(getattr(self, "coefs_", None) or [])
        intercepts = list(getattr(self, "intercepts_", None) or [])
        expected = list(zip(layer_units[:-1], layer_units[1:]))
        if ([np.shape(c) for c in coefs] != expected
                or [np.shape(b) for b in intercepts] != [(n,) for n in layer_units[1:]]):
            raise ValueError(
                f"coefs_ / intercepts_ were assigned with shapes "
                f"{[np.shape(c) for c in coefs]} / {[np.shape(b) for b in intercepts]}; "
                f"this data and hidden_layer_sizes need layer sizes {list(layer_units)}."
            )
        return pack(coefs, intercepts, np.float64)

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
        trainer = Trainer(self._mlpx_network(), self._optimizer,
                          self._batch_size_for(n_samples), self.alpha)
        n_threads = effective_n_threads()
        X_train, csr = engine_input(X_train, self._params.dtype)
        opt = self._optimizer
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            if self.shuffle:
                # sklearn.utils.shuffle's draw, without its per-call validation cost
                perm = np.arange(n_samples)
                self._random_state.shuffle(perm)
                sample_idx = sample_idx[perm]
            loss_sum, n_batches, status = trainer.epoch(
                self._params, X_train, Y_train, sw_train,
                sample_idx if self.shuffle else None, n_threads, csr)
            if status == Status.DIVERGED:
                where = (f"Training diverged in epoch {self.n_iter_ + 1}, mini-batch "
                         f"{n_batches + 1}: the loss or the weights became NaN or infinite")
                if early_stopping and np.isfinite(self.best_validation_score_):
                    # as scikit-learn: the epoch scores NaN and the best weights stay
                    self._record_diverged_epoch(n_samples)
                    warnings.warn(
                        f"{where}. Training stopped; the weights of the best validation "
                        f"score ({self.best_validation_score_:.6g}) are kept. Lower "
                        f"learning_rate_init (now {self.learning_rate_init}) or scale the "
                        "input data.", ConvergenceWarning, stacklevel=2)
                    break
                raise DivergenceError(
                    f"{_NON_FINITE} ({where}. Lower learning_rate_init (now "
                    f"{self.learning_rate_init}), scale the input data (e.g. with "
                    "StandardScaler), or increase alpha.)"
                )
            self._record_epoch(float(loss_sum / n_samples), n_samples, early_stopping, val,
                               self.verbose)
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
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run scores inf
            loss = mean_loss(self.out_activation_, Y_val, out, sw_val,
                             loss=self._mlpx_network().loss)
        y_pred = self._predictions_from_output(out)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan, loss
        with np.errstate(over="ignore", invalid="ignore"):
            return self._score_function(y_val, y_pred, sample_weight=sw_val), loss

    def _record_epoch(self, loss, n_samples, early_stopping, val, verbose=False):
        """The bookkeeping after an epoch of mean loss `loss` over n_samples rows."""
        self.n_iter_ += 1
        self.loss_ = loss
        self.t_ += n_samples
        self.loss_curve_.append(loss)
        if verbose:
            print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
        self._update_no_improvement_count(early_stopping, val)

    def _record_diverged_epoch(self, n_samples):
        """The bookkeeping of an epoch that diverged under early stopping: NaN
        loss and validation score, as scikit-learn records them."""
        self.n_iter_ += 1
        self.t_ += n_samples
        self.loss_ = np.nan
        self.loss_curve_.append(np.nan)
        self.validation_scores_.append(np.nan)
        self.validation_loss_curve_.append(np.nan)

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
        network = self._mlpx_network()
        dtype = self._params.dtype
        n_threads = effective_n_threads()
        grad = np.empty_like(self._params)
        X, csr = engine_input(X, dtype)
        # The stochastic solvers descend the squared error summed over the k
        # outputs (scikit-learn's update); L-BFGS minimises the same objective,
        # divided by k: the mean over outputs with the penalty alpha / k, whose
        # loss and gradient agree. loss_ is then reported as scikit-learn does.
        squared = network.out_activation == "identity" or network.loss == "squared_error"
        alpha = self.alpha / Y.shape[1] if squared else self.alpha

        def loss_and_grad(theta, alpha=alpha):
            # scipy's iterate is float64; a float64 network computes on it directly.
            theta = theta if dtype == np.float64 else theta.astype(dtype)
            loss, _ = network.loss_gradient(theta, X, Y, sample_weight, alpha, grad,
                                            n_threads, csr)
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
        self._params[:] = res.x
        self.loss_ = (float(loss_and_grad(res.x, self.alpha)[0]) if alpha != self.alpha
                      else float(res.fun))


    def _engine_targets(self, y):
        """The engine's 2-D float64 target matrix for held-out targets y."""
        Y = np.asarray(y, dtype=np.float64)
        Y = np.ascontiguousarray(Y.reshape(len(Y), -1))
        if Y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {Y.shape[1]} outputs; the network has {self.n_outputs_}.")
        return Y

    def _fit_seeds(self, starts, X, y, record_epochs, record_fn):
        """Train one copy of self per start in one compiled call (see
        mlpx._engine.fit_seeds); every copy computes what its own fit would."""
        seed0, theta0, _ = starts[0]
        first = clone(self).set_params(random_state=seed0)
        X_, Y, _, _, _ = first._prepare_fit(X, y, None, False, init_params=theta0)
        ests = [first]
        for seed, theta, _ in starts[1:]:
            # The data are validated once: each further copy is a deep copy of the
            # first with its own random_state and initial parameters (the memo
            # entry skips copying the generator, replaced just below).
            est = copy.deepcopy(first, memo={id(first._random_state): None})
            est.random_state = seed
            est._random_state = check_random_state(seed)
            est._initialize(Y, first._layer_units, first._params.dtype, theta)
            ests.append(est)
        n_epochs, n = self.max_iter, Y.shape[0]
        params = np.stack([e._params for e in ests])
        opt = first._new_optimizer()
        # each copy's epochs are shuffled in the compiled loop, from its own
        # generator, with the draws its fit would make
        gens = [rs for _, _, rs in starts] if self.shuffle else None
        record = np.zeros(n_epochs, dtype=np.uint8)
        record[[e - 1 for e in record_epochs]] = 1
        lrs = _lr_per_epoch(opt.copy(), n_epochs, n)
        trainer = Trainer(first._mlpx_network(), opt, first._batch_size_for(n), first.alpha)
        with single_threaded_blas(), contextlib.ExitStack() as held:
            for rs in gens or ():
                held.enter_context(rs._bit_generator.lock)
            states, snapshots, losses, ok = trainer.seeds(params, X_, Y, gens, lrs, record,
                                                          effective_n_threads())
        if not ok.all():
            bad = [ests[k].random_state for k in np.flatnonzero(~ok)]
            raise DivergenceError(
                f"Training diverged for seeds {bad}: the loss or the weights became NaN "
                "or infinite. Lower learning_rate_init, scale the data or increase alpha."
            )
        for k, est in enumerate(ests):
            for r, epoch in enumerate(record_epochs):
                est._params[:] = snapshots[k, r]
                record_fn(k, est, float(losses[k, epoch - 1]))
            est._params[:] = params[k]
            state = states[k]
            if opt.kind == StepRule.SGD:
                state.learning_rate = lrs[-1]
                state.iteration_ends(n_epochs * n)
            est._optimizer = state
            for e in range(n_epochs):
                est._record_epoch(float(losses[k, e]), n, False, None)
        return ests

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
            :class:`~sklearn.ensemble.HistGradientBoostingClassifier`. Passed
            through a :class:`~sklearn.pipeline.Pipeline`, X_val reaches this
            estimator untransformed by the earlier steps: transform it
            yourself (see the user guide, "Early stopping").
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


