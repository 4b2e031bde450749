"""sample_weight, class_weight, validation sets, partial_fit, multi-output, poisson."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss, mean_squared_error
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx._engine import Network
from tests import reference
from tests.estimators.test_estimators import assert_same_state, state


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def classification(n=150, seed=0):
    return make_classification(n, 6, n_informative=4, n_classes=3, random_state=seed)


def regression(n=150, seed=0, n_targets=1):
    X, y = make_regression(n, 6, noise=0.1, random_state=seed, n_targets=n_targets)
    return X, y / y.std()


# ------------------------------------------------------------- sample weights
@pytest.mark.parametrize("out", ["identity", "softmax", "logistic", "exp"])
def test_integer_weights_equal_repeated_rows_in_loss_and_gradient(out):
    from tests.conftest import make_problem

    sizes = (4, 6, 3)
    X, Y, theta = make_problem(out, sizes, n=30, seed=5)
    w = np.random.default_rng(1).integers(0, 4, len(X)).astype(float)
    net = Network(sizes, "tanh", out)
    l_w, g_w = net.loss_gradient(theta, X, Y, w, 0.3, n_threads=1)
    l_r, g_r = net.loss_gradient(theta, np.repeat(X, w.astype(int), axis=0),
                                 np.repeat(Y, w.astype(int), axis=0), None, 0.3, n_threads=1)
    assert l_w == pytest.approx(l_r, rel=1e-13)
    np.testing.assert_allclose(g_w, g_r, rtol=1e-12, atol=1e-15)


def test_integer_weights_equal_repeated_rows_with_lbfgs():
    X, y = regression()
    w = np.random.default_rng(1).integers(0, 4, len(y))
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", random_state=0, alpha=0.5,
                  max_iter=300, tol=1e-12)
    a = MLPXRegressor(**params).fit(X, y, sample_weight=w)
    b = MLPXRegressor(**params).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    assert a.loss_ == pytest.approx(b.loss_, rel=1e-7)
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-5, atol=1e-6)


def test_sample_weight_changes_the_fit_and_routes_through_cross_validate():
    X, y = classification()
    X = StandardScaler().fit_transform(X)
    w = np.where(y == 0, 5.0, 1.0)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = MLPXClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
        clf.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
        weighted = cross_validate(clf, X, y, cv=3, params={"sample_weight": w},
                                  return_estimator=True)
    plain = cross_validate(MLPXClassifier(hidden_layer_sizes=(8,), max_iter=30,
                                          random_state=0), X, y, cv=3, return_estimator=True)
    for a, b in zip(weighted["estimator"], plain["estimator"]):
        assert not np.allclose(a.coefs_[0], b.coefs_[0])
    # the weighted score is the weighted accuracy of each fold's model
    assert not np.allclose(weighted["test_score"], plain["test_score"])


@pytest.mark.parametrize("bad, match", [
    (np.ones(10), "one weight per sample"),
    (-np.ones(150), "negative"),
    (np.zeros(150), "sums to zero"),
    (np.full(150, np.nan), "NaN"),
])
def test_bad_sample_weight_raises_and_keeps_the_model(bad, match):
    X, y = classification()
    clf = MLPXClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    before = state(clf)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y, sample_weight=bad)
    with pytest.raises(ValueError, match=match):
        clf.partial_fit(X, y, sample_weight=bad)
    assert_same_state(before, state(clf))


# --------------------------------------------------------------- class weight
def test_class_weight_dict_and_balanced_equal_sample_weights():
    X, y = classification()
    y = np.where(y == 2, 1, y)  # imbalanced: 0 and 1
    params = dict(hidden_layer_sizes=(6,), max_iter=10, random_state=0)
    for cw in ({0: 3.0, 1: 0.5}, "balanced"):
        a = MLPXClassifier(**params, class_weight=cw).fit(X, y)
        b = MLPXClassifier(**params).fit(X, y, sample_weight=compute_sample_weight(cw, y))
        np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    unweighted = MLPXClassifier(**params).fit(X, y)
    assert not np.array_equal(a.coefs_[0], unweighted.coefs_[0])


def test_class_weight_refusals():
    X, y = classification()
    with pytest.raises(ValueError, match="partial_fit"):
        MLPXClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])
    Y = np.eye(3)[y]
    Y[:, 0] = 1
    with pytest.raises(ValueError, match="multilabel"):
        MLPXClassifier(class_weight="balanced").fit(X, Y)
    with pytest.raises(ValueError, match="class_weight"):
        MLPXClassifier(class_weight="auto").fit(X, y)


# ------------------------------------------------------------- validation set
def test_given_validation_set_drives_early_stopping():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    X_tr, y_tr, X_val, y_val = X[:1200], y[:1200], X[1200:], y[1200:]
    clf = MLPXClassifier(hidden_layer_sizes=(20,), early_stopping=True,
                         n_iter_no_change=3, max_iter=100, random_state=0)
    clf.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    assert clf.t_ == clf.n_iter_ * len(X_tr)  # all of X trains, nothing held out
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == clf.n_iter_
    # the best weights are restored: their score and loss on X_val are the recorded ones
    best = int(np.argmax(clf.validation_scores_))
    assert clf.score(X_val, y_val) == pytest.approx(clf.validation_scores_[best])
    assert clf.validation_loss_curve_[best] == pytest.approx(
        log_loss(y_val, clf.predict_proba(X_val)), rel=1e-10)


def test_validation_loss_curve_from_the_split_regressor():
    X, y = regression(n=300)
    reg = MLPXRegressor(hidden_layer_sizes=(10,), early_stopping=True, max_iter=40,
                        n_iter_no_change=100, random_state=0, learning_rate_init=0.01)
    reg.fit(X, y)
    assert len(reg.validation_loss_curve_) == reg.n_iter_ == 40
    assert reg.validation_loss_curve_[-1] < reg.validation_loss_curve_[0]
    no_es = MLPXRegressor(hidden_layer_sizes=(4,), max_iter=2).fit(X, y)
    assert no_es.validation_loss_curve_ is None and no_es.validation_scores_ is None


def test_weighted_validation_set_regressor_loss_is_half_weighted_mse():
    X, y = regression(n=300)
    w_val = np.linspace(0.5, 2, 100)
    reg = MLPXRegressor(hidden_layer_sizes=(10,), early_stopping=True, max_iter=30,
                        n_iter_no_change=100, random_state=0)
    reg.fit(X[:200], y[:200], X_val=X[200:], y_val=y[200:], sample_weight_val=w_val)
    best = int(np.argmax(reg.validation_scores_))
    expected = 0.5 * mean_squared_error(y[200:], reg.predict(X[200:]), sample_weight=w_val)
    assert reg.validation_loss_curve_[best] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("kwargs, match", [
    (dict(X_val="X"), "together"),
    (dict(y_val="y"), "together"),
])
def test_validation_set_refusals(kwargs, match):
    X, y = classification()
    clf = MLPXClassifier(hidden_layer_sizes=(4,), early_stopping=True, max_iter=3,
                         random_state=0).fit(X, y)
    before = state(clf)
    kwargs = {k: (X if v == "X" else y) for k, v in kwargs.items()}
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y, **kwargs)
    with pytest.raises(ValueError, match="early_stopping=False"):
        MLPXClassifier(max_iter=3).fit(X, y, X_val=X, y_val=y)
    with pytest.raises(ValueError, match="stochastic"):
        MLPXClassifier(solver="lbfgs", early_stopping=True).fit(X, y, X_val=X, y_val=y)
    with pytest.raises(ValueError, match="not in classes_"):
        clf.fit(X, y, X_val=X, y_val=y + 10)
    with pytest.raises(ValueError, match="features"):
        clf.fit(X, y, X_val=X[:, :3], y_val=y)
    assert_same_state(before, state(clf))


# ---------------------------------------------------------------- partial_fit
def test_partial_fit_refusals_keep_the_model():
    X, y = classification()
    with pytest.raises(ValueError, match="classes must be passed"):
        MLPXClassifier().partial_fit(X, y)
    clf = MLPXClassifier(hidden_layer_sizes=(4,), random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    before = state(clf)
    with pytest.raises(ValueError, match="not in `self.classes_`"):
        clf.partial_fit(X, np.where(y == 0, 7, y))
    with pytest.raises(ValueError, match="early_stopping"):
        clf.set_params(early_stopping=True).partial_fit(X, y)
    clf.set_params(early_stopping=False)
    assert_same_state(before, state(clf))
    with pytest.raises(AttributeError, match="partial_fit"):
        MLPXClassifier(solver="lbfgs").partial_fit(X, y, classes=[0, 1, 2])


def test_partial_fit_keeps_optimizer_state_and_equals_fit_without_shuffle():
    X, y = regression()
    params = dict(hidden_layer_sizes=(8,), random_state=0, shuffle=False,
                  n_iter_no_change=100)
    a = MLPXRegressor(**params, max_iter=4).fit(X, y)
    b = MLPXRegressor(**params)
    for _ in range(4):
        b.partial_fit(X, y)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-12)
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-12)


# -------------------------------------------------- multi-output / multilabel
def test_multi_output_gradient_is_the_exact_gradient_of_the_loss():
    # scikit-learn issue #8349: its multi-output squared-error gradient is
    # n_outputs times the gradient of the loss it reports.
    X, Y = regression(n=60, n_targets=3)
    reg = MLPXRegressor(hidden_layer_sizes=(5,), solver="lbfgs", alpha=0.1,
                        max_iter=2000, tol=1e-12, random_state=0).fit(X, Y)
    sizes = list(reg._layer_units)
    theta = reg._params.copy()
    ref_loss, ref_grad = reference.loss_and_gradient(theta, sizes, "relu", "identity",
                                                     X, Y, 0.1)
    assert reg.loss_ == pytest.approx(ref_loss, rel=1e-12)
    _, grad = Network(sizes, "relu", "identity").loss_gradient(theta, X, Y, None, 0.1,
                                                               n_threads=1)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-9, atol=1e-14)
    # the reference is itself checked against finite differences of the loss:
    h, i = 1e-6, 3
    e = np.zeros_like(theta)
    e[i] = h
    fd = (reference.loss_and_gradient(theta + e, sizes, "relu", "identity", X, Y, 0.1)[0]
          - reference.loss_and_gradient(theta - e, sizes, "relu", "identity", X, Y, 0.1)[0]
          ) / (2 * h)
    assert grad[i] == pytest.approx(fd, rel=1e-6, abs=1e-9)
    assert reg.predict(X).shape == Y.shape


def test_multilabel_classification():
    X, Y = make_classification(300, 8, n_informative=6, random_state=0)[0], None
    rng = np.random.default_rng(0)
    Y = (X[:, :3] + 0.3 * rng.normal(size=(300, 3)) > 0).astype(int)
    clf = MLPXClassifier(hidden_layer_sizes=(20,), max_iter=300, random_state=0,
                         learning_rate_init=0.01).fit(X, Y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 3
    P = clf.predict_proba(X)
    assert P.shape == (300, 3) and not np.allclose(P.sum(1), 1)
    np.testing.assert_array_equal(clf.predict(X), (P > 0.5).astype(int))
    assert clf.score(X, Y) > 0.8


def test_poisson_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1]))
    reg = MLPXRegressor(loss="poisson", hidden_layer_sizes=(8,), solver="lbfgs",
                        random_state=0, max_iter=500).fit(X, y)
    assert reg.out_activation_ == "exp"
    assert (reg.predict(X) > 0).all()
    # better than the constant-mean model in Poisson deviance
    from sklearn.metrics import mean_poisson_deviance
    assert mean_poisson_deviance(y, reg.predict(X)) < mean_poisson_deviance(
        y, np.full(len(y), y.mean()))
    before = state(reg)
    with pytest.raises(ValueError, match="y >= 0"):
        reg.fit(X, y - 5.0)
    assert_same_state(before, state(reg))


def test_a_pipeline_passes_X_val_untransformed_and_the_documented_recipe_scores_it_right():
    X, y = load_digits(return_X_y=True)
    X_tr, y_tr, X_val, y_val = X[:1200], y[:1200], X[1200:], y[1200:]
    params = dict(hidden_layer_sizes=(32,), early_stopping=True, max_iter=15,
                  random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make_pipeline(StandardScaler(), MLPXClassifier(**params))
        pipe.fit(X_tr, y_tr, mlpxclassifier__X_val=X_val, mlpxclassifier__y_val=y_val)
        scaler = StandardScaler().fit(X_tr)
        clf = MLPXClassifier(**params).fit(scaler.transform(X_tr), y_tr,
                                           X_val=scaler.transform(X_val), y_val=y_val)
    model = make_pipeline(scaler, clf)
    # the recipe's validation score is the kept model's own held-out accuracy ...
    assert model.score(X_val, y_val) == pytest.approx(clf.best_validation_score_)
    # ... while the pipeline scored raw pixels against a network trained on scaled ones
    assert pipe[-1].best_validation_score_ < clf.best_validation_score_ - 0.05
