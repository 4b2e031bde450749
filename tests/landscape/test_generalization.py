"""mlpx.landscape._generalization: spectral complexity, margins and the margin
bound of Bartlett, Foster & Telgarsky (2017), against NumPy computations of
their definitions."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.special import expit, softmax
from scipy.stats import rankdata
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx._engine import Network, n_params, network_of, with_params
from mlpx.landscape._generalization import (
    LIPSCHITZ,
    MEASURES,
    _layers,
    generalization_table,
    margin_bound_terms,
    margins,
    measure_correlations,
    normalized_margins,
    plot_generalization,
    spectral_complexity,
)

HIDDEN = ["identity", "logistic", "tanh", "relu", "leaky_relu", "softplus"]
ACT = {
    "identity": lambda z: z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "softplus": lambda z: np.logaddexp(0.0, z),
}
# the activations' Lipschitz constants and values at 0, from their definitions
LIP = {"identity": 1.0, "logistic": 0.25, "tanh": 1.0, "relu": 1.0, "leaky_relu": 1.0,
       "softplus": 1.0}
AT_ZERO = {"identity": 0.0, "logistic": 0.5, "tanh": 0.0, "relu": 0.0, "leaky_relu": 0.0,
           "softplus": np.log(2.0)}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def classifier(activation="relu", n_classes=3, hidden=(4, 3), seed=0, n=40, n_features=5,
               dtype=np.float64, labels=None):
    """A small classifier with random weights and biases (its classes from a short fit)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features)).astype(dtype)
    names = np.arange(n_classes) if labels is None else np.asarray(labels)
    y = names[np.arange(n) % n_classes]
    est = MLPXClassifier(hidden, activation=activation, solver="lbfgs", max_iter=3,
                         random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    theta = rng.normal(scale=0.8, size=n_params(network_of(est).layer_units))
    return with_params(est, theta.astype(dtype)), X, y


def rebuilt(est, coefs, intercepts):
    flat = np.concatenate([np.ravel(c) for c in coefs] + [np.ravel(b) for b in intercepts])
    return with_params(est, flat)


def logits_by_numpy(est, X):
    H = np.asarray(X, dtype=np.float64)
    coefs = [np.asarray(c, dtype=np.float64) for c in est.coefs_]
    intercepts = [np.asarray(b, dtype=np.float64) for b in est.intercepts_]
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        H = ACT[est.activation](H @ W + b)
    return H @ coefs[-1] + intercepts[-1]


def margins_by_the_book(Z, y_index):
    if Z.shape[1] == 1:  # binary: logits (0, z)
        Z = np.hstack([np.zeros_like(Z), Z])
    out = []
    for z, k in zip(Z, y_index):
        others = [z[j] for j in range(len(z)) if j != k]
        out.append(z[k] - max(others))
    return np.array(out)


def bias_free_matrices(coefs, intercepts, activation, bias):
    """A_i of the network on (x, 1), written out entry by entry."""
    coefs = [np.asarray(c, dtype=np.float64) for c in coefs]
    intercepts = [np.asarray(b, dtype=np.float64) for b in intercepts]
    if bias == "ignore":
        return [W.T.copy() for W in coefs]
    L = len(coefs)
    mats = []
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        n_in, n_out = W.shape
        last = i == L - 1
        A = np.zeros((n_out + (0 if last else 1), n_in + 1))
        A[:n_out, :n_in] = W.T
        offset = AT_ZERO[activation] if i > 0 else 0.0
        for j in range(n_out):
            A[j, n_in] = b[j] + offset * sum(W[k, j] for k in range(n_in))
        if not last:
            A[n_out, n_in] = 1.0
        mats.append(A)
    return mats


def spectral_complexity_by_the_book(est, ref=None, bias="augment"):
    act = est.activation
    A = bias_free_matrices(est.coefs_, est.intercepts_, act, bias)
    if ref is None:
        M = [np.zeros_like(a) for a in A]
    else:
        M = bias_free_matrices(ref.coefs_, ref.intercepts_, act, bias)
    rho_hidden = LIP[act] if bias == "ignore" else max(LIP[act], 1.0)
    rho = [rho_hidden] * (len(A) - 1) + [1.0]
    s = [np.linalg.svd(a, compute_uv=False)[0] for a in A]
    t = []
    for a, m in zip(A, M):
        D = (a - m).T
        t.append(sum(np.sqrt(np.sum(D[:, c] ** 2)) for c in range(D.shape[1])))
    product = 1.0
    for r, si in zip(rho, s):
        product *= r * si
    total = sum((ti / si) ** (2.0 / 3.0) for ti, si in zip(t, s))
    return product * total ** 1.5


def bias_free_forward(mats, activation, X):
    """Logits of the bias-free form: s - s(0) on the units, identity on the constant."""
    H = np.hstack([X, np.ones((X.shape[0], 1))])
    for A in mats[:-1]:
        Z = H @ A.T
        H = np.hstack([ACT[activation](Z[:, :-1]) - AT_ZERO[activation], Z[:, -1:]])
    return H @ mats[-1].T


# --------------------------------------------------------------------------- constants
@pytest.mark.parametrize("activation", HIDDEN)
def test_lipschitz_constants_and_values_at_zero_are_the_engines_activations(activation):
    # softplus' slope reaches its supremum 1 only at infinity: a wide grid
    z = np.linspace(-40, 40, 800001)[:, None]
    sigma = Network((1, 1), activation, activation).forward(np.array([1.0, 0.0]), z)[:, 0]
    slopes = np.abs(np.diff(sigma)) / np.diff(z[:, 0])
    assert slopes.max() == pytest.approx(LIPSCHITZ[activation], rel=1e-6)
    assert LIPSCHITZ[activation] == LIP[activation]
    assert sigma[400000] == pytest.approx(AT_ZERO[activation], abs=1e-15)


@pytest.mark.parametrize("activation", HIDDEN)
def test_the_reference_bias_free_form_computes_the_networks_logits(activation):
    est, X, _ = classifier(activation)
    mats = bias_free_matrices(est.coefs_, est.intercepts_, activation, "augment")
    np.testing.assert_allclose(bias_free_forward(mats, activation, X),
                               logits_by_numpy(est, X), rtol=1e-12, atol=1e-12)
    # and the module's own matrices are that form, entry for entry
    A, M, rho = _layers(est, None, "augment")
    assert M is None and rho == [max(LIP[activation], 1.0)] * 2 + [1.0]
    for a, b in zip(A, mats):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


# --------------------------------------------------------------------------- spectral complexity
@pytest.mark.parametrize("bias", ["augment", "ignore"])
@pytest.mark.parametrize("activation", HIDDEN)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_spectral_complexity_equals_the_definition(activation, n_classes, bias):
    est, _, _ = classifier(activation, n_classes)
    assert spectral_complexity(est, bias=bias) == pytest.approx(
        spectral_complexity_by_the_book(est, bias=bias), rel=1e-12)


@pytest.mark.parametrize("bias", ["augment", "ignore"])
@pytest.mark.parametrize("hidden", [(3,), (4, 3), (4, 3, 2)])
def test_spectral_complexity_with_a_reference_network(hidden, bias):
    est, _, _ = classifier("tanh", 3, hidden, seed=1)
    ref, _, _ = classifier("tanh", 3, hidden, seed=2)
    expected = spectral_complexity_by_the_book(est, ref, bias)
    assert spectral_complexity(est, ref, bias=bias) == pytest.approx(expected, rel=1e-12)
    flat = np.concatenate([c.ravel() for c in ref.coefs_] + [b for b in ref.intercepts_])
    assert spectral_complexity(est, flat, bias=bias) == pytest.approx(expected, rel=1e-12)
    assert expected != pytest.approx(spectral_complexity_by_the_book(est, None, bias), rel=1e-3)
    assert spectral_complexity(est, est, bias=bias) == 0.0


def test_spectral_complexity_of_a_float32_network_and_of_a_regressor():
    est, _, _ = classifier("logistic", 3, dtype=np.float32)
    assert est.coefs_[0].dtype == np.float32
    assert spectral_complexity(est) == pytest.approx(spectral_complexity_by_the_book(est),
                                                     rel=1e-12)
    rng = np.random.default_rng(3)
    reg = MLPXRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(rng.normal(size=(20, 3)), rng.normal(size=(20, 2)))
    assert spectral_complexity(reg) == pytest.approx(spectral_complexity_by_the_book(reg),
                                                     rel=1e-12)


def test_a_zero_layer_gives_zero_complexity_not_nan():
    est, _, _ = classifier("relu", 3, (4,))
    zero = rebuilt(est, [est.coefs_[0], 0 * est.coefs_[1]], est.intercepts_)
    assert spectral_complexity(zero, bias="ignore") == 0.0


# --------------------------------------------------------------------------- margins
@pytest.mark.parametrize("activation", HIDDEN)
@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_margins_equal_a_numpy_forward_pass(activation, n_classes):
    labels = list("abcde")[:n_classes]
    est, X, y = classifier(activation, n_classes, labels=labels)
    Z = logits_by_numpy(est, X)
    proba = expit(Z) if n_classes == 2 else softmax(Z, axis=1)
    if n_classes == 2:
        proba = np.hstack([1 - proba, proba])
    np.testing.assert_allclose(est.predict_proba(X), proba, rtol=1e-10, atol=1e-12)
    y_index = np.array([labels.index(v) for v in y])
    m = margins(est, X, y)
    np.testing.assert_allclose(m, margins_by_the_book(Z, y_index), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(m > 0, est.predict(X) == y)


def test_margins_accept_sparse_input_and_column_labels():
    est, X, y = classifier("tanh", 3)
    dense = margins(est, X, y)
    np.testing.assert_allclose(margins(est, sp.csr_matrix(X), y), dense, rtol=1e-12)
    np.testing.assert_array_equal(margins(est, X, y.reshape(-1, 1)), dense)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_rescaling_hidden_units_keeps_margins_and_changes_r_as_the_formula_says(activation):
    est, X, y = classifier(activation, 3, (4, 3), seed=4)
    W, b = [c.copy() for c in est.coefs_], [v.copy() for v in est.intercepts_]
    c = np.array([0.3, 2.0, 5.0, 0.7])  # one factor per unit of the first hidden layer
    W[0] *= c
    b[0] *= c
    W[1] /= c[:, None]
    scaled = rebuilt(est, W, b)
    np.testing.assert_allclose(margins(scaled, X, y), margins(est, X, y), rtol=1e-10)
    for bias in ("augment", "ignore"):
        R = spectral_complexity(scaled, bias=bias)
        assert R == pytest.approx(spectral_complexity_by_the_book(scaled, bias=bias), rel=1e-12)
        assert R != pytest.approx(spectral_complexity(est, bias=bias), rel=1e-2)
    # one factor for the whole layer: without biases and reference, R_A is invariant
    W, b = [c.copy() for c in est.coefs_], [v.copy() for v in est.intercepts_]
    W[1], b[1], W[2] = 3.0 * W[1], 3.0 * b[1], W[2] / 3.0
    layer = rebuilt(est, W, b)
    np.testing.assert_allclose(margins(layer, X, y), margins(est, X, y), rtol=1e-10)
    assert spectral_complexity(layer, bias="ignore") == pytest.approx(
        spectral_complexity(est, bias="ignore"), rel=1e-12)
    R = spectral_complexity(layer, bias="augment")
    assert R == pytest.approx(spectral_complexity_by_the_book(layer), rel=1e-12)
    assert R != pytest.approx(spectral_complexity(est), rel=1e-2)


@pytest.mark.parametrize("bias", ["augment", "ignore"])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_scaling_the_logits_scales_margins_and_r_but_not_normalised_margins(n_classes, bias):
    est, X, y = classifier("tanh", n_classes, seed=5)
    W, b = list(est.coefs_), list(est.intercepts_)
    scaled = rebuilt(est, W[:-1] + [2.5 * W[-1]], b[:-1] + [2.5 * b[-1]])
    np.testing.assert_allclose(margins(scaled, X, y), 2.5 * margins(est, X, y), rtol=1e-12)
    assert spectral_complexity(scaled, bias=bias) == pytest.approx(
        2.5 * spectral_complexity(est, bias=bias), rel=1e-12)
    np.testing.assert_allclose(normalized_margins(scaled, X, y, bias=bias),
                               normalized_margins(est, X, y, bias=bias), rtol=1e-11)
    before, after = margin_bound_terms(est, X, y, bias=bias), margin_bound_terms(
        scaled, X, y, bias=bias)
    assert after.gamma == pytest.approx(2.5 * before.gamma, rel=1e-12)
    assert after.ramp_loss == pytest.approx(before.ramp_loss, rel=1e-12)
    assert after.complexity == pytest.approx(before.complexity, rel=1e-11)


@pytest.mark.parametrize("bias", ["augment", "ignore"])
def test_normalized_margins_divide_by_r_times_the_mean_input_norm(bias):
    est, X, y = classifier("softplus", 3, seed=6)
    ref, _, _ = classifier("softplus", 3, seed=7)
    n = X.shape[0]
    norm = np.sqrt(np.sum(X ** 2) + (n if bias == "augment" else 0))
    for r in (None, ref):
        R = spectral_complexity_by_the_book(est, r, bias)
        np.testing.assert_allclose(
            normalized_margins(est, X, y, reference=r, bias=bias),
            margins(est, X, y) / (R * norm / n), rtol=1e-11)


# --------------------------------------------------------------------------- the bound
@pytest.mark.parametrize("bias, width", [("augment", 6), ("ignore", 5)])
def test_margin_bound_terms_by_the_book(bias, width):
    est, X, y = classifier("relu", 3, (4, 3), seed=8)  # widths 5, 4, 3, 3
    m = margins(est, X, y)
    n = X.shape[0]
    norm = np.sqrt(np.sum(X ** 2) + (n if bias == "augment" else 0))
    R = spectral_complexity_by_the_book(est, bias=bias)
    for gamma in np.quantile(m[m > 0], [0.5, 0.9]).tolist():
        # every piece of the ramp is used: wrong, inside the margin, beyond it
        assert (m <= 0).any() and ((m > 0) & (m < gamma)).any() and (m >= gamma).any()
        ramp = np.mean([1.0 if v <= 0 else (1 - v / gamma if v < gamma else 0.0) for v in m])
        terms = margin_bound_terms(est, X, y, gamma, bias=bias)
        assert terms.gamma == gamma
        assert terms.ramp_loss == pytest.approx(ramp, rel=1e-12)
        assert terms.complexity == pytest.approx(norm * R * np.log(width) / (gamma * n),
                                                 rel=1e-11)
        assert terms.value == terms.ramp_loss + terms.complexity


def test_the_default_gamma_is_a_margin_quantile_and_the_term_is_ln_w_over_it():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    est = MLPXClassifier((6,), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
    m = margins(est, X, y)
    assert np.quantile(m, 0.2) > 0
    terms = margin_bound_terms(est, X, y, quantile=0.2)
    assert terms.gamma == pytest.approx(np.quantile(m, 0.2), rel=1e-14)
    # complexity = ln(W) / (the same quantile of the normalised margins), W = 7
    nm = normalized_margins(est, X, y)
    assert terms.complexity == pytest.approx(np.log(7) / np.quantile(nm, 0.2), rel=1e-10)


def test_a_quantile_below_zero_makes_the_bound_vacuous():
    est, X, y = classifier("relu", 5, seed=10)
    m = margins(est, X, y)
    assert np.quantile(m, 0.1) <= 0
    terms = margin_bound_terms(est, X, y)
    assert terms.gamma == 0.0 and terms.complexity == np.inf and terms.value == np.inf
    assert terms.ramp_loss == np.mean(m <= 0)


# --------------------------------------------------------------------------- across a study
@pytest.fixture(scope="module")
def study():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] - X[:, 2] > 0).astype(int) + (X[:, 1] > 0.5)
    Xtr, ytr, Xte, yte = X[:80], y[:80], X[80:], y[80:]
    ests = {}
    for seed in (3, 5, 8, 13):
        est = MLPXClassifier((5,), solver="lbfgs", max_iter=40 * (seed % 5 + 1),
                             random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ests[seed] = est.fit(Xtr, ytr)
    return ests, Xtr, ytr, Xte, yte


def test_the_table_holds_each_networks_measures(study):
    ests, Xtr, ytr, Xte, yte = study
    table = generalization_table(ests, Xtr, ytr, Xte, yte, quantile=0.2)
    assert list(table.index) == [3, 5, 8, 13] and table.index.name == "seed"
    for seed, est in ests.items():
        row = table.loc[seed]
        m = margins(est, Xtr, ytr)
        assert row.spectral_complexity == pytest.approx(spectral_complexity_by_the_book(est),
                                                        rel=1e-12)
        np.testing.assert_allclose(row[["margin_q10", "margin_q50", "margin_q90"]].to_numpy(
            dtype=float), np.quantile(m, [0.1, 0.5, 0.9]), rtol=1e-12)
        assert row.normalized_margin_median == pytest.approx(
            np.median(normalized_margins(est, Xtr, ytr)), rel=1e-12)
        terms = margin_bound_terms(est, Xtr, ytr, quantile=0.2)
        assert (row.gamma, row.ramp_loss, row.bound_complexity, row.bound) == pytest.approx(
            tuple(terms), rel=1e-12)
        assert row.train_error == pytest.approx(np.mean(est.predict(Xtr) != ytr), abs=1e-15)
        assert row.test_error == pytest.approx(np.mean(est.predict(Xte) != yte), abs=1e-15)
        assert row.error_gap == pytest.approx(row.test_error - row.train_error, abs=1e-15)
    # a sequence labels rows by position; references enter per network
    listed = generalization_table(list(ests.values()), Xtr, ytr, Xte, yte,
                                  references=list(ests.values())[::-1], bias="ignore")
    assert list(listed.index) == [0, 1, 2, 3]
    first, last = list(ests.values())[0], list(ests.values())[-1]
    assert listed.spectral_complexity[0] == pytest.approx(
        spectral_complexity_by_the_book(first, last, "ignore"), rel=1e-12)


def test_rank_correlations_are_those_of_the_ranks():
    table = pd.DataFrame({
        "test_error": [0.1, 0.4, 0.2, 0.3, 0.5],
        "up": [1.0, 30.0, 4.0, 9.0, np.inf],
        "down": [5.0, 2.0, 4.0, 3.0, 1.0],
        "mixed": [2.0, 1.0, 5.0, 3.0, 4.0],
        "flat": [1.0] * 5,
    })
    corr = measure_correlations(table, measures=["up", "down", "mixed", "flat"])
    assert corr.loc["up", "spearman"] == pytest.approx(1.0)
    assert corr.loc["down", "kendall"] == pytest.approx(-1.0)
    ranks = np.corrcoef(rankdata(table.mixed), rankdata(table.test_error))[0, 1]
    assert corr.loc["mixed", "spearman"] == pytest.approx(ranks, rel=1e-12)
    # tau = (concordant - discordant) / 10 pairs, counted by hand
    x, y = table.mixed.to_numpy(), table.test_error.to_numpy()
    pairs = [(i, j) for i in range(5) for j in range(i + 1, 5)]
    tau = sum(np.sign((x[i] - x[j]) * (y[i] - y[j])) for i, j in pairs) / len(pairs)
    assert corr.loc["mixed", "kendall"] == pytest.approx(tau, rel=1e-12)
    assert corr.loc["flat"].isna().all()
    assert list(corr.columns) == ["spearman", "spearman_pvalue", "kendall", "kendall_pvalue"]


def test_correlations_of_a_study_cover_the_measures(study):
    ests, Xtr, ytr, Xte, yte = study
    corr = measure_correlations(generalization_table(ests, Xtr, ytr, Xte, yte))
    assert list(corr.index) == list(MEASURES)
    gap = measure_correlations(generalization_table(ests, Xtr, ytr, Xte, yte),
                               target="error_gap", measures=["spectral_complexity"])
    assert gap.shape == (1, 4)


def test_the_figure_draws_each_network(study):
    ests, Xtr, ytr, Xte, yte = study
    table = generalization_table(ests, Xtr, ytr, Xte, yte)
    nm = [normalized_margins(e, Xtr, ytr) for e in ests.values()]
    fig = plot_generalization(table, nm, measures=["spectral_complexity", "bound"])
    ax_margins, ax_r, ax_bound = fig.axes[:3]
    assert len(fig.axes) == 4  # and the colour bar
    assert ax_margins.get_xlabel() == "normalised margin"
    assert len(ax_margins.patches) == len(ests)
    heights = ax_margins.patches[2].get_data().values
    edges = ax_margins.patches[2].get_data().edges
    np.testing.assert_allclose(heights, np.histogram(nm[2], bins=edges, density=True)[0])
    np.testing.assert_allclose(ax_r.collections[0].get_offsets(),
                               table[["spectral_complexity", "test_error"]].to_numpy())
    rho = measure_correlations(table).loc["bound", "spearman"]
    assert f"Spearman rho = {rho:.2f}" in ax_bound.get_title()
    raw = plot_generalization(table, [margins(e, Xtr, ytr) for e in ests.values()],
                              measures=["margin_q10"], margin_label="raw margin")
    assert raw.axes[0].get_xlabel() == "raw margin" and len(raw.axes) == 3


# --------------------------------------------------------------------------- bad input
def test_margins_need_a_single_label_mlpx_classifier():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(20, 3))
    reg = MLPXRegressor(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=3)
    multi = MLPXClassifier((3,), solver="lbfgs", max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, X[:, 0])
        multi.fit(X, (X[:, :2] > 0).astype(int))
        sk = MLPClassifier((3,), max_iter=3).fit(X, X[:, 0] > 0)
    for f in (margins, normalized_margins, margin_bound_terms):
        with pytest.raises(ValueError, match="classifiers; got a MLPXRegressor"):
            f(reg, X, X[:, 0])
        with pytest.raises(ValueError, match="multilabel"):
            f(multi, X, X[:, 0] > 0)
        with pytest.raises(TypeError, match="mlpx's estimators"):
            f(sk, X, X[:, 0] > 0)
        with pytest.raises(NotFittedError):
            f(MLPXClassifier(), X, X[:, 0] > 0)
    with pytest.raises(ValueError, match="classifiers"):
        generalization_table([reg], X, X[:, 0], X, X[:, 0])


def test_bad_data_is_refused():
    est, X, y = classifier("relu", 3)
    with pytest.raises(ValueError, match="does not know: \\[7\\]"):
        margins(est, X, np.where(np.arange(len(y)) == 4, 7, y))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        margins(est, X, y[:-1])
    with pytest.raises(ValueError, match="1-d class labels"):
        margins(est, X, np.c_[y, y])
    with pytest.raises(ValueError, match="features"):
        margins(est, X[:, :3], y)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        margins(est, bad, y)


def test_bad_options_are_refused():
    est, X, y = classifier("relu", 3)
    other, _, _ = classifier("relu", 3, (5, 3))
    with pytest.raises(ValueError, match="bias must be one of"):
        spectral_complexity(est, bias="drop")
    with pytest.raises(ValueError, match="bias must be one of"):
        normalized_margins(est, X, y, bias="drop")
    with pytest.raises(ValueError, match="layer sizes"):
        spectral_complexity(est, other)
    with pytest.raises(ValueError, match="flat parameter vector of 51 values"):
        spectral_complexity(est, np.zeros(50))
    with pytest.raises(ValueError, match="NaN or infinite"):
        spectral_complexity(est, np.full(51, np.nan))
    for gamma in (0.0, -1.0, np.inf, np.nan, "1"):
        with pytest.raises(ValueError, match="gamma must be a positive"):
            margin_bound_terms(est, X, y, gamma)
    for q in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="quantile must be in"):
            margin_bound_terms(est, X, y, quantile=q)
        with pytest.raises(ValueError, match="quantile must be in"):
            generalization_table([est], X, y, X, y, quantile=q)


def test_bad_study_arguments_are_refused(study):
    ests, Xtr, ytr, Xte, yte = study
    with pytest.raises(ValueError, match="empty"):
        generalization_table([], Xtr, ytr, Xte, yte)
    with pytest.raises(ValueError, match="sequence of fitted classifiers"):
        generalization_table(next(iter(ests.values())), Xtr, ytr, Xte, yte)
    with pytest.raises(ValueError, match="one reference per estimator \\(4\\)"):
        generalization_table(ests, Xtr, ytr, Xte, yte, references=[None])
    table = generalization_table(ests, Xtr, ytr, Xte, yte)
    with pytest.raises(ValueError, match="at least 3 networks"):
        measure_correlations(table.iloc[:2])
    with pytest.raises(ValueError, match="no column"):
        measure_correlations(table, measures=["sharpness"])
    nm = [normalized_margins(e, Xtr, ytr) for e in ests.values()]
    with pytest.raises(ValueError, match="margins has 3 arrays"):
        plot_generalization(table, nm[:3])
    with pytest.raises(ValueError, match="no column"):
        plot_generalization(table, nm, measures=["sharpness"])
    with pytest.raises(ValueError, match="bins must be"):
        plot_generalization(table, nm, bins=1)
    with pytest.raises(ValueError, match="finite"):
        plot_generalization(table, nm[:3] + [np.array([np.nan])])


def test_margins_use_the_networks_leaky_slope():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPXClassifier(hidden_layer_sizes=(6,), activation="leaky_relu",
                             leaky_slope=0.4, max_iter=30, random_state=0).fit(X, y)
    s = X @ est.coefs_[0] + est.intercepts_[0]
    z = np.where(s > 0, s, 0.4 * s) @ est.coefs_[1] + est.intercepts_[1]
    rows = np.arange(len(y))
    other = np.where(np.eye(3, dtype=bool)[y], -np.inf, z).max(axis=1)
    np.testing.assert_allclose(margins(est, X, y), z[rows, y] - other, rtol=1e-10,
                               atol=1e-12)
