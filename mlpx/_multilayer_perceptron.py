"""MLPXClassifier and MLPXRegressor: scikit-learn's MLP API over the compiled engine."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_array, validate_data

from mlpx import _param_checks as pc
from mlpx._base import BaseMultilayerPerceptronX
from mlpx._targets import (
    binarize,
    check_known_labels,
    fit_label_binarizer,
    labels_from_output,
    unique,
)
from mlpx._validation import check_fitted as _check_fitted
from mlpx._validation import finite_abs_max, refuse_strings

_SHARED_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.

    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', 'softplus'}, \
default='relu'
        Activation of the hidden layers: f(x) = x, 1 / (1 + exp(-x)), tanh(x),
        max(0, x), max(leaky_slope x, x) or log(1 + exp(x)).

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

    leaky_slope : float, default=0.01
        Slope of 'leaky_relu' for negative inputs, in [0, 1] (0 is ReLU, 1 the
        identity). Ignored by the other activations. Not in scikit-learn.
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


class MLPXClassifier(ClassifierMixin, BaseMultilayerPerceptronX):
    _extra_parameter_checks = {"class_weight": [pc.class_weight()],
                               "loss": [pc.options("log_loss", "squared_error")]}

    __doc__ = (
        """Multi-layer perceptron classifier on a compiled engine.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`: the
    same parameters, defaults, fitted attributes and update rules. It minimises
    the log-loss (softmax output for multiclass, logistic for binary and
    multilabel targets), or with ``loss='squared_error'`` the squared error
    between those outputs and the one-hot targets.

    Parameters
    ----------"""
        + _SHARED_DOC
        + """
    loss : {'log_loss', 'squared_error'}, default='log_loss'
        The data loss of the output probabilities: 'log_loss' as
        scikit-learn; 'squared_error' is half the squared error between the
        probabilities (softmax or logistic outputs) and the indicator targets,
        averaged over the outputs (Cetinsoy et al.'s softmax experiment). The
        output activation is the same for both. Not a parameter of
        scikit-learn's MLPClassifier.
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
        loss="log_loss",
        class_weight=None,
        temperature=1.0,
        leaky_slope=0.01,
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
            leaky_slope=leaky_slope,
        )

    def _validate_input(self, X, y, incremental, reset):
        refuse_strings(X)
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
        x_max = finite_abs_max(X, self)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.dtype == object and len({isinstance(v, str) for v in np.ravel(y)}) > 1:
            raise ValueError(
                "Mix of label input types (string and number) in y: use one type "
                "for all class labels."
            )
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = fit_label_binarizer(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique(y)
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
        return X, binarize(self._label_binarizer, y, X.dtype), x_max

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
        return labels_from_output(self._label_binarizer, out, self.n_outputs_)

    _score_function = staticmethod(accuracy_score)

    def _validate_targets(self, y):
        """Check held-out labels against classes_; return (labels, indicator)."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y)
        check_known_labels(y, self.classes_, "y_val")
        return y, self._label_binarizer.transform(y)

    def _engine_targets(self, y):
        """The engine's 2-D float64 target matrix (label indicator) for labels y."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y)
        if y.ndim == 1:
            check_known_labels(y, self.classes_)
        return super()._engine_targets(self._label_binarizer.transform(y))

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
        weights = weights if sample_weight is None else weights * sample_weight
        if not weights.sum() > 0:
            raise ValueError(
                f"class_weight={self.class_weight!r} gives every sample of y weight 0: "
                "no sample would count."
            )
        return weights

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
        leaky_slope=0.01,
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
            leaky_slope=leaky_slope,
        )

    def _validate_input(self, X, y, incremental, reset):
        refuse_strings(X)
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
        x_max = finite_abs_max(X, self)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError("loss='poisson' requires y >= 0; y has negative values.")
        # Beyond this, the squared errors of the first predictions (about |y|)
        # summed over the samples overflow: training could only diverge.
        y_max = float(np.max(np.abs(y))) if y.size else 0.0
        if y_max > np.sqrt(np.finfo(X.dtype).max / max(y.shape[0], 1)):
            raise ValueError(
                f"y holds values as large as {y_max:.3g}: their squared errors overflow "
                f"{X.dtype}. Scale the target, e.g. with sklearn.compose."
                "TransformedTargetRegressor(regressor=..., transformer=StandardScaler())."
            )
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
