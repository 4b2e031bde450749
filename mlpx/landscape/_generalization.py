"""Margin-based generalisation measures of classifiers (Bartlett, Foster &
Telgarsky 2017, "Spectrally-normalized margin bounds for neural networks").

A network maps x to logits F(x) = A_L s_{L-1}(A_{L-1} ... s_1(A_1 x)), with
A_i = ``coefs_[i].T`` (mlpx, like scikit-learn, stores the transpose). Its
spectral complexity, for reference matrices M_i (0 by default),

    R_A = (prod_i rho_i ||A_i||_s) (sum_i ||A_i^T - M_i^T||_{2,1}^{2/3}
                                          / ||A_i||_s^{2/3})^{3/2},

takes ||.||_s the spectral norm, ||B||_{2,1} the sum of the L2 norms of B's
columns and rho_i the Lipschitz constant of s_i (1 for identity, ReLU, leaky
ReLU, tanh and softplus, 1/4 for the logistic; 1 for the logits, i = L). Their
Theorem 1.1 bounds the test error of every network and margin gamma > 0 by
the empirical gamma-ramp loss plus O~(||X||_F R_A ln(W) / (gamma n)), W the
largest width; their Figure 2 compares networks by the margins normalised by
R_A ||X||_F / n.

The theorem is for networks without biases and with s_i(0) = 0. With
``bias='augment'`` (the default) the network is written exactly in that form:
a constant input 1 is appended to x and carried through every hidden layer,
so that A_i = [[W_i^T, b_i], [0, 1]] (the last layer [W_L^T, b_L]), the
constant coordinate passes its activations unchanged (rho_i becomes max(rho_i,
1) there), and an activation with s(0) != 0 (logistic 1/2, softplus ln 2) is
replaced by s - s(0), its offset moved into the next layer's bias:
b_{i+1} + s(0) W_{i+1}^T 1. ||X||_F then includes the constant column:
sqrt(||X||_F^2 + n). With ``bias='ignore'`` the weight matrices alone are
measured, as in most empirical studies; that is not a bound on the network
with its biases. A reference network is transformed the same way.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.stats import kendalltau, spearmanr
from sklearn.base import is_classifier
from sklearn.utils.validation import check_consistent_length, validate_data

from mlpx._engine import Network, network_of, params_of
from mlpx.landscape._plotting import _pyplot

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from mlpx import MLPXClassifier, MLPXRegressor

#: Lipschitz constant of each hidden activation (leaky ReLU's slope is at most 1).
LIPSCHITZ = {"identity": 1.0, "relu": 1.0, "leaky_relu": 1.0, "tanh": 1.0,
             "logistic": 0.25, "softplus": 1.0}
#: s(0) of the hidden activations where it is not 0.
_AT_ZERO = {"logistic": 0.5, "softplus": float(np.log(2.0))}
BIAS_MODES = ("augment", "ignore")
#: The columns of generalization_table that measure_correlations relates to the test error.
MEASURES = ("spectral_complexity", "margin_q10", "margin_q50", "margin_q90",
            "normalized_margin_median", "bound_complexity", "bound")


class MarginBoundTerms(NamedTuple):
    """The data-dependent terms of Bartlett et al.'s Theorem 1.1 at margin gamma.

    Attributes
    ----------
    gamma : float
        The margin.
    ramp_loss : float
        Empirical gamma-ramp loss: mean of clip(1 - margin / gamma, 0, 1).
    complexity : float
        ||X||_F R_A ln(W) / (gamma n).
    value : float
        ramp_loss + complexity.
    """

    gamma: float
    ramp_loss: float
    complexity: float
    value: float


def _check_bias(bias):
    if bias not in BIAS_MODES:
        raise ValueError(f"bias must be one of {BIAS_MODES}, got {bias!r}.")


def _weights(est):
    """(Network, coefs, intercepts) of a fitted mlpx network, in float64."""
    network = network_of(est)
    theta = np.asarray(params_of(est), dtype=np.float64)
    return network, theta, network.unpack(theta)


def _reference_weights(reference, network):
    if reference is None:
        return None
    if hasattr(reference, "get_params"):
        ref_network, _, (coefs, intercepts) = _weights(reference)
        if ref_network.layer_units != network.layer_units:
            raise ValueError(
                f"The reference network has layer sizes {ref_network.layer_units}; the "
                f"network has {network.layer_units}."
            )
        return coefs, intercepts
    theta = np.asarray(reference, dtype=np.float64)
    if theta.ndim != 1 or theta.size != network.n_params:
        raise ValueError(
            f"reference must be a fitted network or a flat parameter vector of "
            f"{network.n_params} values, got an array of shape {theta.shape}."
        )
    if not np.isfinite(theta).all():
        raise ValueError("reference holds NaN or infinite values.")
    return network.unpack(theta)


def _matrices(coefs, intercepts, activation, bias):
    """The A_i (n_out x n_in) of the bias-free form of the network."""
    if bias == "ignore":
        return [W.T for W in coefs]
    shift = _AT_ZERO.get(activation, 0.0)
    last = len(coefs) - 1
    mats = []
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        if i > 0 and shift:
            b = b + shift * W.sum(axis=0)
        A = np.hstack([W.T, b[:, None]])
        if i < last:
            A = np.vstack([A, np.eye(1, A.shape[1], A.shape[1] - 1)])
        mats.append(A)
    return mats


def _layers(est, reference, bias):
    """(A_i, M_i or None, rho_i) of est's bias-free form."""
    _check_bias(bias)
    network, _, (coefs, intercepts) = _weights(est)
    ref = _reference_weights(reference, network)
    A = _matrices(coefs, intercepts, network.activation, bias)
    M = None if ref is None else _matrices(*ref, network.activation, bias)
    rho = LIPSCHITZ[network.activation]
    if bias == "augment":
        rho = max(rho, 1.0)
    return A, M, [rho] * (len(A) - 1) + [1.0]


def spectral_complexity(
    est: MLPXClassifier | MLPXRegressor,
    reference: MLPXClassifier | MLPXRegressor | ArrayLike | None = None,
    *,
    bias: Literal["augment", "ignore"] = "augment",
) -> float:
    """Bartlett et al.'s spectral complexity R_A of a fitted network.

    Parameters
    ----------
    est : fitted MLPXClassifier or MLPXRegressor
        The network, up to its output layer's pre-activation.
    reference : fitted network or array-like, default=None
        The reference matrices M_i: a network of the same layer sizes (e.g.
        the initial weights) or its flat parameter vector (W_0..W_{L-1} then
        b_0..b_{L-1}); None for M_i = 0.
    bias : {'augment', 'ignore'}, default='augment'
        How biases enter (see the module's description): 'augment' measures
        the network with its biases as a bias-free network on (x, 1);
        'ignore' measures the weight matrices alone.

    Returns
    -------
    R_A : float
        Computed as (sum_i (rho_i t_i prod_{j != i} rho_j s_j)^{2/3})^{3/2},
        with s_i = ||A_i||_s and t_i = ||A_i^T - M_i^T||_{2,1}: the same value,
        defined also when a layer is zero.

    Examples
    --------
    >>> import numpy as np
    >>> from mlpx import MLPXClassifier
    >>> from mlpx.landscape._generalization import spectral_complexity
    >>> X, y = np.eye(4), [0, 1, 1, 0]
    >>> clf = MLPXClassifier((3,), solver="lbfgs", random_state=0).fit(X, y)
    >>> spectral_complexity(clf) > spectral_complexity(clf, bias="ignore") > 0
    True
    """
    A, M, rho = _layers(est, reference, bias)
    s = np.array([np.linalg.norm(a, 2) for a in A])
    diffs = A if M is None else [a - m for a, m in zip(A, M)]
    # ||(A - M)^T||_{2,1}: the columns of (A - M)^T are the rows of A - M
    t = np.array([np.linalg.norm(d, axis=1).sum() for d in diffs])
    rs = np.asarray(rho) * s
    terms = [rho[i] * t[i] * np.prod(np.delete(rs, i)) for i in range(len(A))]
    return float(np.sum(np.power(terms, 2.0 / 3.0)) ** 1.5)


def _check_classifier(est):
    network = network_of(est)
    if not is_classifier(est):
        raise ValueError(
            f"Margins are defined for classifiers; got a {type(est).__name__}."
        )
    classes = np.asarray(est.classes_)
    if network.out_activation == "logistic" and network.layer_units[-1] > 1:
        raise ValueError(
            "The classifier was fitted on multilabel targets; margins are defined for "
            "single-label (binary or multiclass) classifiers."
        )
    if classes.size < 2:
        raise ValueError(f"The classifier knows {classes.size} class; margins need two or more.")
    return network, classes


def _check_Xy(est, X, y, classes):
    X = validate_data(est, X, accept_sparse="csr", dtype=np.float64, reset=False)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y must be 1-d class labels, got shape {y.shape}.")
    check_consistent_length(X, y)
    index = pd.Index(classes).get_indexer(y)
    if (index < 0).any():
        unknown = pd.unique(y[index < 0])[:5]
        raise ValueError(
            f"y has labels the classifier does not know: {unknown.tolist()}; its classes "
            f"are {classes.tolist()}."
        )
    return X, index


def _margins(est, X, y):
    """(margins, validated X) of a classifier on (X, y)."""
    network, classes = _check_classifier(est)
    X, index = _check_Xy(est, X, y, classes)
    theta = np.asarray(params_of(est), dtype=np.float64)
    logits = Network(network.layer_units, network.activation, "identity",
                     leaky_slope=network.leaky_slope).forward(theta, X)
    if logits.shape[1] == 1:  # binary: the logit of classes[1] against a logit 0
        return (2.0 * index - 1.0) * logits[:, 0], X
    rows = np.arange(len(index))
    true = logits[rows, index].copy()
    logits[rows, index] = -np.inf
    return true - logits.max(axis=1), X


def margins(est: MLPXClassifier, X: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
    """Output margins f(x)_y - max_{j != y} f(x)_j of a classifier.

    f is the output layer's pre-activation (the logits); a binary classifier
    has one logit z for classes_[1] against an implicit 0, and the margin
    (2y - 1) z with y in {0, 1} the index of the label.

    Parameters
    ----------
    est : fitted MLPXClassifier
        A binary or multiclass (not multilabel) classifier.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Labels, among ``est.classes_``.

    Returns
    -------
    margins : ndarray of shape (n_samples,)
        Positive where the sample is classified correctly.

    Examples
    --------
    >>> import numpy as np
    >>> from mlpx import MLPXClassifier
    >>> from mlpx.landscape._generalization import margins
    >>> X, y = np.eye(4), [0, 1, 1, 0]
    >>> clf = MLPXClassifier((3,), solver="lbfgs", random_state=0).fit(X, y)
    >>> bool(np.all((margins(clf, X, y) > 0) == (clf.predict(X) == y)))
    True
    """
    return _margins(est, X, y)[0]


def _input_norm(X, bias):
    squares = sp.linalg.norm(X) ** 2 if sp.issparse(X) else np.sum(X * X)
    if bias == "augment":
        squares += X.shape[0]
    return float(np.sqrt(squares))


def normalized_margins(
    est: MLPXClassifier,
    X: ArrayLike,
    y: ArrayLike,
    *,
    reference: MLPXClassifier | ArrayLike | None = None,
    bias: Literal["augment", "ignore"] = "augment",
) -> NDArray[np.float64]:
    """Margins divided by R_A ||X||_F / n (Bartlett et al.'s Figure 2).

    Parameters
    ----------
    est : fitted MLPXClassifier
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        ||X||_F is taken over these samples (with the constant column when
        ``bias='augment'``).
    y : array-like of shape (n_samples,)
    reference, bias
        As in :func:`spectral_complexity`.

    Returns
    -------
    normalized_margins : ndarray of shape (n_samples,)
        Unchanged when the logits are multiplied by a constant.
    """
    _check_bias(bias)
    m, X = _margins(est, X, y)
    scale = spectral_complexity(est, reference, bias=bias) * _input_norm(X, bias) / X.shape[0]
    return m / scale


def _max_width(est, bias):
    units = network_of(est).layer_units
    extra = 1 if bias == "augment" else 0
    return max(max(u + extra for u in units[:-1]), units[-1])


def margin_bound_terms(
    est: MLPXClassifier,
    X: ArrayLike,
    y: ArrayLike,
    gamma: float | None = None,
    *,
    quantile: float = 0.1,
    reference: MLPXClassifier | ArrayLike | None = None,
    bias: Literal["augment", "ignore"] = "augment",
) -> MarginBoundTerms:
    """Bartlett et al.'s margin bound at gamma, without its constants.

    Theorem 1.1 bounds the test error by ``ramp_loss + O~(complexity +
    sqrt(ln(1/delta) / n))``. Computed here: the empirical gamma-ramp loss on
    (X, y) and ``complexity = ||X||_F R_A ln(W) / (gamma n)``, W the largest
    layer width (input and hidden widths count the constant unit with
    ``bias='augment'``). Omitted: the theorem's constants and logarithmic
    factors, and the confidence term. The theorem holds for every gamma at
    once, so any gamma may be chosen after seeing the data.

    Parameters
    ----------
    est : fitted MLPXClassifier
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The training data of the bound.
    y : array-like of shape (n_samples,)
    gamma : float, default=None
        The margin (> 0); None for the ``quantile`` quantile of the margins
        on (X, y) (Jiang et al. 2020 take the 10th percentile).
    quantile : float, default=0.1
        In (0, 1); used when gamma is None. Where that quantile is not
        positive the bound is vacuous: gamma=0, complexity=inf, and the
        ramp loss is its limit, the share of margins <= 0.
    reference, bias
        As in :func:`spectral_complexity`.

    Returns
    -------
    MarginBoundTerms
        (gamma, ramp_loss, complexity, value).

    Examples
    --------
    >>> import numpy as np
    >>> from mlpx import MLPXClassifier
    >>> from mlpx.landscape._generalization import margin_bound_terms
    >>> X, y = np.eye(4), [0, 1, 1, 0]
    >>> clf = MLPXClassifier((3,), solver="lbfgs", random_state=0).fit(X, y)
    >>> terms = margin_bound_terms(clf, X, y, gamma=0.5)
    >>> bool(terms.value == terms.ramp_loss + terms.complexity)
    True
    """
    _check_bias(bias)
    if gamma is not None and not (
        isinstance(gamma, numbers.Real) and 0 < gamma < np.inf
    ):
        raise ValueError(f"gamma must be a positive finite margin, got {gamma!r}.")
    _check_quantile(quantile)
    m, X = _margins(est, X, y)
    R = spectral_complexity(est, reference, bias=bias)
    return _bound_terms(m, gamma, quantile, R * _input_norm(X, bias) / X.shape[0],
                        _max_width(est, bias))


def _check_quantile(quantile):
    if not (isinstance(quantile, numbers.Real) and 0 < quantile < 1):
        raise ValueError(f"quantile must be in (0, 1), got {quantile!r}.")


def _bound_terms(m, gamma, quantile, scale, width):
    """MarginBoundTerms of margins m, with scale = R_A ||X||_F / n."""
    if gamma is None:
        gamma = float(np.quantile(m, quantile))
        if gamma <= 0:
            return MarginBoundTerms(0.0, float(np.mean(m <= 0)), np.inf, np.inf)
    ramp = float(np.mean(np.clip(1.0 - m / gamma, 0.0, 1.0)))
    complexity = float(scale * np.log(width) / gamma)
    return MarginBoundTerms(float(gamma), ramp, complexity, ramp + complexity)


def _labelled(estimators, references):
    if isinstance(estimators, Mapping):
        labels, ests = list(estimators.keys()), list(estimators.values())
    elif isinstance(estimators, Sequence):
        labels, ests = list(range(len(estimators))), list(estimators)
    else:
        raise ValueError(
            "estimators must be a sequence of fitted classifiers or a mapping from labels "
            f"to them, got {type(estimators).__name__}."
        )
    if not ests:
        raise ValueError("estimators is empty: pass at least one fitted classifier.")
    if references is None:
        references = [None] * len(ests)
    elif isinstance(references, Mapping) or len(references) != len(ests):
        raise ValueError(
            f"references must be a sequence with one reference per estimator "
            f"({len(ests)}), in their order."
        )
    return labels, ests, list(references)


def generalization_table(
    estimators: Sequence[MLPXClassifier] | Mapping[Any, MLPXClassifier],
    X_train: ArrayLike,
    y_train: ArrayLike,
    X_test: ArrayLike,
    y_test: ArrayLike,
    *,
    references: Sequence[Any] | None = None,
    bias: Literal["augment", "ignore"] = "augment",
    quantile: float = 0.1,
) -> pd.DataFrame:
    """Generalisation measures and errors of each network of a study.

    Parameters
    ----------
    estimators : sequence or mapping of fitted MLPXClassifier
        The networks (e.g. ``dict(zip(study.seeds, study.estimators[setup]))``
        of a :class:`SeedStudy`); a mapping's keys label the rows, else their
        positions.
    X_train, y_train : array-like
        The training data: the margins and the bound are taken on it.
    X_test, y_test : array-like
        Held-out data for the test error.
    references : sequence, default=None
        One reference (network or flat vector, see
        :func:`spectral_complexity`) per estimator, e.g. its initial weights.
    bias : {'augment', 'ignore'}, default='augment'
    quantile : float, default=0.1
        The margin quantile gamma of the bound (:func:`margin_bound_terms`).

    Returns
    -------
    table : pandas.DataFrame
        One row per network (index 'seed'): ``spectral_complexity``; the
        10 %, 50 % and 90 % quantiles of the training margins
        (``margin_q10``, ``margin_q50``, ``margin_q90``);
        ``normalized_margin_median``; the bound's ``gamma``, ``ramp_loss``,
        ``bound_complexity`` and ``bound``; ``train_error``, ``test_error``
        (1 - accuracy of ``predict``) and ``error_gap`` (test - train).
    """
    _check_bias(bias)
    _check_quantile(quantile)
    labels, ests, refs = _labelled(estimators, references)
    rows = []
    for est, ref in zip(ests, refs):
        m, X = _margins(est, X_train, y_train)
        R = spectral_complexity(est, ref, bias=bias)
        scale = R * _input_norm(X, bias) / X.shape[0]
        terms = _bound_terms(m, None, quantile, scale, _max_width(est, bias))
        q10, q50, q90 = np.quantile(m, [0.1, 0.5, 0.9])
        train_error = 1.0 - est.score(X_train, y_train)
        test_error = 1.0 - est.score(X_test, y_test)
        rows.append({
            "spectral_complexity": R,
            "margin_q10": q10, "margin_q50": q50, "margin_q90": q90,
            "normalized_margin_median": q50 / scale,
            "gamma": terms.gamma, "ramp_loss": terms.ramp_loss,
            "bound_complexity": terms.complexity, "bound": terms.value,
            "train_error": train_error, "test_error": test_error,
            "error_gap": test_error - train_error,
        })
    return pd.DataFrame(rows, index=pd.Index(labels, name="seed"))


def measure_correlations(
    table: pd.DataFrame,
    target: str = "test_error",
    measures: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rank correlations of each measure with the test error across networks.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`generalization_table` (at least 3 rows).
    target : str, default='test_error'
        The column the measures are related to (e.g. 'error_gap').
    measures : sequence of str, default=None
        Columns to relate; default ``MEASURES``.

    Returns
    -------
    correlations : pandas.DataFrame
        One row per measure: ``spearman``, ``spearman_pvalue``, ``kendall``,
        ``kendall_pvalue`` (scipy.stats.spearmanr, kendalltau); NaN where a
        column is constant.
    """
    measures = list(MEASURES if measures is None else measures)
    missing = [c for c in [target] + measures if c not in table.columns]
    if missing:
        raise ValueError(f"The table has no column(s) {missing}; it has {list(table.columns)}.")
    if len(table) < 3:
        raise ValueError(f"Rank correlations need at least 3 networks, got {len(table)}.")
    y = table[target].to_numpy(dtype=float)
    out = {}
    for name in measures:
        x = table[name].to_numpy(dtype=float)
        if np.unique(x).size < 2 or np.unique(y).size < 2:
            out[name] = dict(spearman=np.nan, spearman_pvalue=np.nan, kendall=np.nan,
                             kendall_pvalue=np.nan)
            continue
        rho, p_rho = spearmanr(x, y)
        tau, p_tau = kendalltau(x, y)
        out[name] = dict(spearman=float(rho), spearman_pvalue=float(p_rho),
                         kendall=float(tau), kendall_pvalue=float(p_tau))
    return pd.DataFrame.from_dict(out, orient="index")


def plot_generalization(
    table: pd.DataFrame,
    margins: Sequence[ArrayLike],
    *,
    measures: Sequence[str] = ("spectral_complexity", "normalized_margin_median", "bound"),
    target: str = "test_error",
    bins: int = 40,
    margin_label: str = "normalised margin",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Margin distributions of the networks, and measures vs test error.

    The first panel overlays each network's distribution of margins (a
    density histogram on shared bins), coloured by its test error; each
    further panel plots a column of the table against the test error, with
    Spearman's rho (from 3 networks on).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`generalization_table`.
    margins : sequence of array-like
        One array of margins per row of the table, in its order: usually
        :func:`normalized_margins` on each network's training data.
    measures : sequence of str
        Columns of the table to plot against the test error.
    target : str, default='test_error'
        The column on the vertical axes and in the colours.
    bins : int, default=40
    margin_label : str, default='normalised margin'
        The first panel's horizontal axis label.
    figsize : tuple, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    measures = list(measures)
    bad = [c for c in measures + [target] if c not in table.columns]
    if bad:
        raise ValueError(f"The table has no column(s) {bad}; it has {list(table.columns)}.")
    margins = [np.asarray(m, dtype=np.float64).ravel() for m in margins]
    if len(margins) != len(table):
        raise ValueError(
            f"margins has {len(margins)} arrays; the table has {len(table)} networks."
        )
    if any(m.size == 0 or not np.isfinite(m).all() for m in margins):
        raise ValueError("Each network's margins must be a non-empty array of finite values.")
    if not (isinstance(bins, numbers.Integral) and bins >= 2):
        raise ValueError(f"bins must be an integer >= 2, got {bins!r}.")
    plt = _pyplot()
    edges = np.histogram_bin_edges(np.concatenate(margins), bins=bins)
    errors = table[target].to_numpy(dtype=float)
    low, high = errors.min(), errors.max()
    norm = plt.Normalize(low, high if high > low else low + 1.0)
    cmap = plt.get_cmap("viridis")

    n_panels = 1 + len(measures)
    figsize = figsize or (3.8 * n_panels + 0.8, 3.4)
    fig, axes = plt.subplots(1, n_panels, figsize=figsize, layout="constrained",
                             squeeze=False)
    axes = axes[0]
    for values, err in zip(margins, errors):
        density, _ = np.histogram(values, bins=edges, density=True)
        axes[0].stairs(density, edges, color=cmap(norm(err)), alpha=0.8)
    axes[0].axvline(0.0, color="0.5", lw=0.8, ls=":")
    axes[0].set(xlabel=margin_label, ylabel="density", title="margin distributions")
    correlations = (measure_correlations(table, target, measures)
                    if len(table) >= 3 else None)
    for ax, name in zip(axes[1:], measures):
        ax.scatter(table[name], errors, c=errors, cmap=cmap, norm=norm, s=25)
        title = name.replace("_", " ")
        if correlations is not None:
            title += f"\nSpearman rho = {correlations.loc[name, 'spearman']:.2f}"
        ax.set(xlabel=name, ylabel=target.replace("_", " "), title=title)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=list(axes),
                 label=target.replace("_", " "))
    return fig
