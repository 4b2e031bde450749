"""Property-based: any input is either handled exactly like its clean equivalent
or refused with a ValueError that leaves a fitted model exactly as it was."""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXClassifier, MLPXRegressor
from tests.estimators.test_estimators import assert_same_state, state

DTYPES = ["float64", "float32", "int64", "bool", "complex", "str", "object-num"]
LAYOUTS = ["C", "F", "strided", "read-only"]
SPECIALS = ["none", "nan", "inf", "huge"]


@st.composite
def inputs(draw):
    n = draw(st.integers(0, 12))
    d = draw(st.integers(0, 4))
    dtype = draw(st.sampled_from(DTYPES))
    layout = draw(st.sampled_from(LAYOUTS))
    special = draw(st.sampled_from(SPECIALS))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, d)) * draw(st.sampled_from([1e-3, 1.0, 1e3]))
    if special != "none" and base.size:
        i = draw(st.integers(0, base.size - 1))
        base.flat[i] = {"nan": np.nan, "inf": -np.inf, "huge": 1e300}[special]
    X = {
        "float64": lambda: base,
        "float32": lambda: base.astype(np.float32),
        "int64": lambda: np.nan_to_num(base).clip(-1e6, 1e6).astype(np.int64),
        "bool": lambda: base > 0,
        "complex": lambda: base + 1j,
        "str": lambda: base.astype(str).astype(object),
        "object-num": lambda: base.astype(object),
    }[dtype]()
    if layout == "F":
        X = np.asfortranarray(X)
    elif layout == "strided":
        X = np.repeat(X, 2, axis=1)[:, ::2]
    elif layout == "read-only":
        X = X.copy()
        X.setflags(write=False)
    return X, dtype


def convertible(X, dtype):
    """Whether X has a clean numeric equivalent (numeric strings parse, as in
    numpy and scikit-learn); complex numbers and empty arrays have none."""
    if X.shape[0] == 0 or X.shape[1] == 0 or dtype == "complex":
        return False
    try:
        values = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return bool(np.isfinite(values).all())


def outcome(fn):
    """The result of fn(), or the ValueError it raised."""
    try:
        return fn()
    except ValueError as exc:
        return exc


def clean(X, dtype):
    target = np.float32 if dtype == "float32" else np.float64
    return np.ascontiguousarray(np.asarray(X, dtype=np.float64).astype(target))


def fresh(cls):
    return cls(hidden_layer_sizes=(3,), max_iter=2, random_state=0)


_SETTINGS = settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(data=inputs(), classifier=st.booleans())
def test_fit_handles_or_refuses(data, classifier):
    X, dtype = data
    cls = MLPXClassifier if classifier else MLPXRegressor
    n = X.shape[0]
    y = np.arange(n) % 2 if classifier else np.linspace(-1, 1, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and float32-scale advice
        model = fresh(cls).fit(np.random.default_rng(1).normal(size=(8, 2)),
                               np.arange(8) % 2 if classifier else np.arange(8.0))
        before = state(model)
        want = outcome(lambda: fresh(cls).fit(clean(X, dtype), y)) if convertible(
            X, dtype) else ValueError("no clean equivalent")
        if isinstance(want, ValueError):
            # refused: with a ValueError, and a fitted model stays as it was
            got = outcome(lambda: model.fit(X, y))
            assert isinstance(got, ValueError), f"accepted {dtype} {X.shape}"
            assert_same_state(before, state(model))
        else:
            got = fresh(cls).fit(X, y)
            np.testing.assert_array_equal(got._params, want._params)
            np.testing.assert_array_equal(got.predict(X), want.predict(clean(X, dtype)))


@_SETTINGS
@given(data=inputs(), classifier=st.booleans())
def test_predict_handles_or_refuses(data, classifier):
    X, dtype = data
    cls = MLPXClassifier if classifier else MLPXRegressor
    d = X.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        rng = np.random.default_rng(2)
        model = fresh(cls).fit(rng.normal(size=(10, max(d, 1))),
                               np.arange(10) % 2 if classifier else np.arange(10.0))
    before = state(model)
    want = outcome(lambda: model.predict(clean(X, dtype))) if convertible(
        X, dtype) else ValueError("no clean equivalent")
    got = outcome(lambda: model.predict(X))
    if isinstance(want, ValueError):
        assert isinstance(got, ValueError), f"predict accepted {dtype} {X.shape}"
    else:
        np.testing.assert_array_equal(got, want)
    assert_same_state(before, state(model))
