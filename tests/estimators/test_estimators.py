"""Behaviour of MLPXClassifier / MLPXRegressor as scikit-learn estimators."""

import pickle
import warnings
from functools import partial

import numpy as np
import pytest
import scipy.sparse
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from threadpoolctl import threadpool_limits

from mlpx import DivergenceError, MLPXClassifier, MLPXRegressor

ESTIMATORS = [MLPXClassifier, MLPXRegressor]

FITTED_ATTRIBUTES = [
    "coefs_", "intercepts_", "loss_", "best_loss_", "loss_curve_", "validation_scores_",
    "best_validation_score_", "n_iter_", "t_", "n_layers_", "n_outputs_",
    "out_activation_", "n_features_in_",
]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def data(cls, n=120, d=6, seed=0, dtype=np.float64):
    if cls is MLPXClassifier:
        X, y = make_classification(n, d, n_informative=4, n_classes=3, random_state=seed)
    else:
        X, y = make_regression(n, d, noise=0.1, random_state=seed)
        y = y / y.std()
    return X.astype(dtype), y


def state(est):
    """Everything a fit may change, as comparable values."""
    out = {}
    for k, v in vars(est).items():
        if k == "_random_state":
            continue
        if isinstance(v, np.ndarray):
            out[k] = v.copy()
        elif isinstance(v, list):
            out[k] = [a.copy() if isinstance(a, np.ndarray) else a for a in v]
        else:
            out[k] = v
    return out


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        va, vb = a[k], b[k]
        if isinstance(va, list):
            assert len(va) == len(vb)
            for x, y in zip(va, vb):
                np.testing.assert_array_equal(x, y)
        elif isinstance(va, np.ndarray):
            np.testing.assert_array_equal(va, vb)
        elif k not in ("_optimizer", "_label_binarizer"):
            assert va == vb or (va != va and vb != vb), k


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_fitted_attributes_as_sklearn(cls):
    X, y = data(cls)
    est = cls(hidden_layer_sizes=(7, 5), max_iter=5, random_state=0).fit(X, y)
    for attr in FITTED_ATTRIBUTES:
        assert hasattr(est, attr), attr
    assert est.n_layers_ == 4 and est.n_features_in_ == X.shape[1]
    assert [c.shape for c in est.coefs_] == [(6, 7), (7, 5), (5, est.n_outputs_)]
    assert len(est.loss_curve_) == est.n_iter_ == 5
    assert est.loss_ == est.loss_curve_[-1]
    assert est.t_ == 5 * X.shape[0]


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_coefs_are_views_of_one_flat_buffer(cls):
    X, y = data(cls)
    est = cls(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    flat = est._params
    assert all(a.base is flat for a in est.coefs_ + est.intercepts_)
    before = est.predict(X)
    est.coefs_[0][...] = 0.0  # in-place edits reach the network
    assert not np.array_equal(before, est.predict(X)) or cls is MLPXClassifier
    assert np.all(flat[: est.coefs_[0].size] == 0)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_assigned_coefs_are_repacked(cls):
    X, y = data(cls)
    est = cls(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    expected = est.predict(X)
    est.coefs_ = [c.copy() for c in est.coefs_]  # no longer views
    np.testing.assert_array_equal(est.predict(X), expected)
    assert all(a.base is est._params for a in est.coefs_)
    est.coefs_ = [np.zeros((2, 2))] + est.coefs_[1:]
    with pytest.raises(ValueError, match="do not match"):
        est.predict(X)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_float32_trains_and_predicts_in_float32(cls):
    X, y = data(cls, dtype=np.float32)
    for solver in ("adam", "sgd", "lbfgs"):
        est = cls(hidden_layer_sizes=(8,), max_iter=20, solver=solver,
                  random_state=0).fit(X, y)
        assert all(a.dtype == np.float32 for a in est.coefs_ + est.intercepts_)
        assert np.isfinite(est.loss_)
        if cls is MLPXClassifier:
            assert est.predict_proba(X).dtype == np.float32
        else:
            assert est.predict(X).dtype == np.float32


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_other_inputs_train_in_float64(cls):
    X, y = data(cls)
    est = cls(hidden_layer_sizes=(4,), max_iter=2).fit(X.astype(np.int64), y)
    assert est.coefs_[0].dtype == np.float64


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_fit_is_bit_identical_for_one_or_two_openmp_threads(cls, solver):
    # Large enough that batches are split into chunks and tasks run in parallel.
    X, y = data(cls, n=3000, d=40, seed=1)
    params = dict(hidden_layer_sizes=(96, 48), solver=solver, max_iter=3,
                  batch_size=1000, random_state=0, learning_rate_init=0.01)
    fits = []
    for n in (1, 2):
        with threadpool_limits(limits=n, user_api="openmp"):
            fits.append(cls(**params).fit(X, y))
    a, b = fits
    assert a.loss_ == b.loss_
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert np.array_equal(ca, cb)
    with threadpool_limits(limits=2, user_api="openmp"):
        p2 = a.predict(X)
    with threadpool_limits(limits=1, user_api="openmp"):
        p1 = a.predict(X)
    np.testing.assert_array_equal(p1, p2)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_float32_training_with_large_weights_tracks_float64(activation):
    # 300 x 200 weights take 240 KB in float32 and a batch of 200 is two chunks
    # of 100 rows: training sends these forward products to BLAS, a predict
    # keeps them on the tile kernels. From the same weights, one epoch in
    # float32 must follow the float64 epoch to float32 accuracy, on one or two
    # threads alike.
    X, y = data(MLPXClassifier, n=400, d=300, seed=2)
    params = dict(hidden_layer_sizes=(200,), activation=activation, solver="sgd",
                  momentum=0.0, learning_rate_init=0.05, batch_size=200, shuffle=False,
                  alpha=1e-3, max_iter=1, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = MLPXClassifier(**params).fit(X.astype(np.float32), y)
        fits = {}
        for dtype, n_threads in ((np.float64, 1), (np.float32, 1), (np.float32, 2)):
            est = clone(start).fit(X.astype(dtype), y)  # sets the shapes
            for dst, src in zip(est.coefs_ + est.intercepts_,
                                start.coefs_ + start.intercepts_):
                dst[...] = src
            with threadpool_limits(limits=n_threads, user_api="openmp"):
                fits[dtype, n_threads] = est.fit(X.astype(dtype), y)
    ref, f32, f32_2t = fits[np.float64, 1], fits[np.float32, 1], fits[np.float32, 2]
    for a, b, c in zip(ref.coefs_ + ref.intercepts_, f32.coefs_ + f32.intercepts_,
                       f32_2t.coefs_ + f32_2t.intercepts_):
        assert np.abs(a - b).max() <= 1e-6 * np.abs(a).max()
        assert np.array_equal(b, c)
    assert f32.loss_ == pytest.approx(ref.loss_, rel=1e-6)


def test_classifier_probabilities():
    X, y = load_digits(return_X_y=True)
    clf = MLPXClassifier(hidden_layer_sizes=(32,), max_iter=100, random_state=0)
    clf.fit(X / 16, y)
    proba = clf.predict_proba(X / 16)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(X / 16))
    np.testing.assert_allclose(clf.predict_log_proba(X / 16), np.log(proba))
    assert clf.score(X / 16, y) > 0.95


def test_binary_and_string_labels():
    X, y = make_classification(200, 5, random_state=0)
    labels = np.array(["no", "yes"])[y]
    clf = MLPXClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0,
                        learning_rate_init=0.01)
    clf.fit(X, labels)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 1
    assert set(clf.predict(X)) <= {"no", "yes"}
    assert clf.predict_proba(X).shape == (200, 2)
    assert clf.score(X, labels) > 0.8


def test_early_stopping_restores_best_weights():
    X, y = data(MLPXClassifier, n=400)
    clf = MLPXClassifier(hidden_layer_sizes=(16,), early_stopping=True,
                         n_iter_no_change=2, max_iter=200, random_state=0,
                         learning_rate_init=0.05)
    clf.fit(X, y)
    assert clf.n_iter_ < 200
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_warm_start_continues_and_keeps_weights():
    X, y = data(MLPXRegressor)
    a = MLPXRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                      warm_start=True).fit(X, y)
    w = a.coefs_[0].copy()
    a.fit(X, y)
    assert len(a.loss_curve_) == 10
    assert not np.array_equal(w, a.coefs_[0])
    b = MLPXRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    b.fit(X, y)  # no warm start: refits from scratch
    assert len(b.loss_curve_) == 5


def test_partial_fit_runs_one_epoch_per_call():
    X, y = data(MLPXClassifier)
    clf = MLPXClassifier(hidden_layer_sizes=(8,), random_state=0)
    for _ in range(3):
        clf.partial_fit(X, y, classes=np.unique(y))
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 3
    assert clf.t_ == 3 * X.shape[0]


def test_adaptive_learning_rate_divides_by_five():
    X, y = data(MLPXRegressor)
    reg = MLPXRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate="adaptive",
                        tol=10.0, n_iter_no_change=1, max_iter=50, random_state=0)
    reg.fit(X, y)
    assert reg._optimizer.learning_rate < reg.learning_rate_init


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_pickle_and_clone(cls):
    X, y = data(cls)
    est = cls(hidden_layer_sizes=(6,), max_iter=5, random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    assert all(a.base is loaded._params for a in loaded.coefs_ + loaded.intercepts_)
    c = clone(est)
    assert c.get_params() == est.get_params() and not hasattr(c, "coefs_")


def test_verbose_prints_sklearn_format(capsys):
    X, y = data(MLPXRegressor)
    MLPXRegressor(hidden_layer_sizes=(4,), max_iter=2, verbose=True).fit(X, y)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Iteration 1, loss = ") and out[1].startswith("Iteration 2")


# ------------------------------------------------------------------ bad input
BAD_X = {
    "nan": lambda X: np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X),
    "inf": lambda X: np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X),
    "1d": lambda X: X[:, 0],
    "3d": lambda X: X[:, :, None],
    "strings": lambda X: np.full(X.shape, "a", dtype=object),
    "complex": lambda X: X + 1j,
    "no rows": lambda X: X[:0],
    "no features": lambda X: X[:, :0],
}


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("case", BAD_X)
def test_bad_X_in_fit_raises_value_error_and_keeps_the_model(cls, case):
    X, y = data(cls)
    est = cls(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    before = state(est)
    bad = BAD_X[case](X)
    y_bad = y[: len(bad)] if bad.ndim else y
    with pytest.raises(ValueError):
        est.fit(bad, y_bad)
    assert_same_state(before, state(est))


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("case", ["nan", "inf", "1d", "3d", "strings", "complex",
                                  "no rows", "no features"])
def test_bad_X_in_predict_raises_value_error(cls, case):
    X, y = data(cls)
    est = cls(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    with pytest.raises(ValueError):
        est.predict(BAD_X[case](X))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_wrong_number_of_features_or_samples(cls):
    X, y = data(cls)
    est = cls(hidden_layer_sizes=(4,), max_iter=3).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :-1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        cls().fit(X, y[:-1])


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_predict_before_fit(cls):
    with pytest.raises(NotFittedError):
        cls().predict(np.zeros((2, 3)))


def test_nan_in_y_raises():
    X, y = data(MLPXRegressor)
    y = y.copy()
    y[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPXRegressor().fit(X, y)


BAD_PARAMS = [
    dict(hidden_layer_sizes=(0,)),
    dict(hidden_layer_sizes=(3.5,)),
    dict(hidden_layer_sizes="abc"),
    dict(activation="sigmoid"),
    dict(solver="rmsprop"),
    dict(alpha=-1.0),
    dict(batch_size=0),
    dict(learning_rate="fast"),
    dict(learning_rate_init=0.0),
    dict(max_iter=0),
    dict(momentum=1.5),
    dict(validation_fraction=1.0),
    dict(beta_1=1.0),
    dict(epsilon=0.0),
    dict(n_iter_no_change=0),
    dict(shuffle="yes"),
    dict(tol=np.nan),
]


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("params", BAD_PARAMS, ids=lambda p: next(iter(p)))
def test_bad_hyper_parameters_raise_value_error_naming_them(cls, params):
    X, y = data(cls)
    name = next(iter(params))
    with pytest.raises(ValueError, match=name):
        cls(**params).fit(X, y)


def test_bad_loss_for_regressor():
    X, y = data(MLPXRegressor)
    with pytest.raises(ValueError, match="loss"):
        MLPXRegressor(loss="absolute_error").fit(X, y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_divergence_raises_and_keeps_the_previous_model(cls):
    # float32 so that the exploding weights overflow within a few epochs
    X, y = data(cls, dtype=np.float32)
    X = X * 1e3
    est = cls(hidden_layer_sizes=(16,), solver="sgd", momentum=0.9, max_iter=5,
              random_state=0, learning_rate_init=1e-8).fit(X, y)
    est.set_params(learning_rate_init=1e6)
    before = state(est)
    with pytest.raises(DivergenceError, match="learning_rate_init"):
        est.fit(X, y)
    assert_same_state(before, state(est))
    assert np.isfinite(est._params).all()
    with pytest.raises(ValueError):  # a DivergenceError is a ValueError
        cls(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=1e6,
            random_state=0).fit(X, y)


def test_a_run_whose_finite_weights_overflow_the_outputs_is_refused():
    # found by the fuzz test: the last step of a diverging float32 run left
    # finite weights (~1e26) whose forward pass overflows to inf
    X = np.array([[345.5842]], dtype=np.float32)
    y = np.array([0.82161814])
    est = MLPXRegressor(hidden_layer_sizes=(1,), activation="identity", solver="sgd",
                        learning_rate_init=1e-3, max_iter=3, random_state=1)
    with pytest.raises(DivergenceError, match="outputs on the training data overflow"):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")
    # the same run one epoch shorter is a (poor) model with finite outputs
    est.set_params(max_iter=2).fit(X, y)
    assert np.isfinite(est.predict(X)).all()


@pytest.mark.parametrize("y", [
    np.array([3, 1, 2, 3, 1]),                      # multiclass ints
    np.array(["b", "a", "b", "b"], dtype=object),   # binary strings
    np.array([0.0, 2.0, 0.0, 1.0]),                 # integer-valued floats
    np.array([True, False, False]),                 # booleans
    np.array(["x", "y", "z", "x"]),                 # unicode strings
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_binarize_equals_label_binarizer(y, dtype):
    from sklearn.preprocessing import LabelBinarizer

    from mlpx._targets import binarize as _binarize

    lb = LabelBinarizer().fit(y)
    for part in (y, y[:2], y[::-1]):  # all classes, a subset (partial_fit), reordered
        got = _binarize(lb, part, dtype)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, lb.transform(part))


def test_fast_binarize_leaves_unknown_labels_to_label_binarizer():
    from sklearn.preprocessing import LabelBinarizer

    from mlpx._targets import binarize as _binarize

    lb = LabelBinarizer().fit([1, 2, 3])
    # 4 sorts past every class, 0 before them: neither is a class
    for bad in ([1, 4], [0, 2]):
        np.testing.assert_array_equal(_binarize(lb, np.array(bad), np.float64),
                                      lb.transform(bad))


@pytest.mark.parametrize("y", [
    np.array([3, 1, 2, 3, 1]),                      # multiclass int64
    np.array([-7, 5, 5, -7], dtype=np.int32),       # binary, negative labels
    np.array([4, 4, 4], dtype=np.uint8),            # a single class
    np.array([9, 0, 200, 0], dtype=np.uint16),      # unsigned multiclass
    np.array([0.0, 2.0, 1.0]),                      # floats: LabelBinarizer's own fit
    np.array(["b", "a", "b"], dtype=object),        # strings: LabelBinarizer's own fit
    np.array([[1, 0], [0, 1], [1, 1]]),             # multilabel: LabelBinarizer's own fit
], ids=["int64", "int32-binary", "uint8-one-class", "uint16", "float", "object",
        "multilabel"])
def test_fast_label_fit_equals_sklearns(y):
    from sklearn.preprocessing import LabelBinarizer
    from sklearn.utils.multiclass import unique_labels

    from mlpx._targets import fit_label_binarizer as _fit_label_binarizer
    from mlpx._targets import unique as _unique_labels

    labels = _unique_labels(y)
    assert labels.dtype == unique_labels(y).dtype
    np.testing.assert_array_equal(labels, unique_labels(y))
    got, want = _fit_label_binarizer(y), LabelBinarizer().fit(y)
    assert got.y_type_ == want.y_type_
    assert got.sparse_input_ == want.sparse_input_
    assert got.classes_.dtype == want.classes_.dtype
    np.testing.assert_array_equal(got.classes_, want.classes_)
    np.testing.assert_array_equal(got.transform(y), want.transform(y))
    np.testing.assert_array_equal(got.inverse_transform(want.transform(y)), y)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_and_partial_fit_refuse_non_finite_X_with_sklearns_message(bad, dtype, sparse):
    # fit checks X in one compiled pass (validate_data skips it); the error is
    # still scikit-learn's and names the estimator
    X, y = load_digits(return_X_y=True)
    X = (X[:200] / 16).astype(dtype)
    X[150, 30] = bad  # past the first batch: nothing may train on it
    X = scipy.sparse.csr_matrix(X) if sparse else X
    for fit in (MLPXClassifier(hidden_layer_sizes=(5,), max_iter=2).fit,
                partial(MLPXClassifier(hidden_layer_sizes=(5,)).partial_fit,
                        classes=np.unique(y))):
        message = "Input X contains NaN" if np.isnan(bad) else "Input X contains infinity"
        with pytest.raises(ValueError, match=message):
            fit(X, y[:200])


@pytest.mark.filterwarnings("error::RuntimeWarning")  # no numpy overflow warning leaks
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_small_predict_refuses_non_finite_rows(bad, dtype):
    X, y = load_digits(return_X_y=True)
    model = MLPXClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit((X / 16).astype(dtype), y)
    row = (X[:1] / 16).astype(dtype)
    row[0, 7] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        model.predict_proba(row)
    # finite values whose sum overflows are valid input, as for validate_data
    huge = np.full((1, 64), np.finfo(dtype).max / 2, dtype=dtype)
    assert model.predict(huge).shape == (1,)


@pytest.mark.parametrize("cls", [MLPXClassifier, MLPXRegressor])
def test_leaky_slope_sets_leaky_relu_and_its_ends_are_relu_and_identity(cls):
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16.0, y[:300]
    if cls is MLPXRegressor:
        y = y / 9.0
    kw = dict(hidden_layer_sizes=(12,), max_iter=5, random_state=0, solver="sgd",
              learning_rate_init=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fits = {name: cls(**kw, **extra).fit(X, y) for name, extra in {
            "relu": dict(activation="relu"),
            "slope 0": dict(activation="leaky_relu", leaky_slope=0.0),
            "identity": dict(activation="identity"),
            "slope 1": dict(activation="leaky_relu", leaky_slope=1.0),
            "slope 0.1": dict(activation="leaky_relu", leaky_slope=0.1),
            "default": dict(activation="leaky_relu"),
            "tanh": dict(activation="tanh", leaky_slope=0.5),
            "tanh default": dict(activation="tanh"),
        }.items()}
    same = [("relu", "slope 0"), ("identity", "slope 1"), ("tanh", "tanh default")]
    for a, b in same:
        for wa, wb in zip(fits[a].coefs_, fits[b].coefs_):
            np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(fits["slope 0.1"].coefs_[0], fits["default"].coefs_[0])
    # the fitted slope is the one the predictions use: by hand from coefs_
    est = fits["slope 0.1"]
    s = X @ est.coefs_[0] + est.intercepts_[0]
    out = np.where(s > 0, s, 0.1 * s) @ est.coefs_[1] + est.intercepts_[1]
    got = est.predict_proba(X) if cls is MLPXClassifier else est.predict(X)
    want = (np.exp(out - out.max(1, keepdims=True))
            / np.exp(out - out.max(1, keepdims=True)).sum(1, keepdims=True)
            if cls is MLPXClassifier else out.ravel())
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    # pickling and cloning keep it
    assert pickle.loads(pickle.dumps(est)).predict(X[:5]).tolist() == est.predict(X[:5]).tolist()
    assert clone(est).get_params()["leaky_slope"] == 0.1


@pytest.mark.parametrize("slope", [-0.1, 1.5, np.nan, "0.1"])
def test_leaky_slope_outside_zero_to_one_is_refused(slope):
    X, y = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match="leaky_slope"):
        MLPXClassifier(activation="leaky_relu", leaky_slope=slope, max_iter=1).fit(X[:50],
                                                                                  y[:50])
