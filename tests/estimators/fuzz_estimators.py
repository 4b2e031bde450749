"""Random inputs and hyper-parameters through fit, partial_fit and predict.

Run by test_fuzz.py in a child process, so that a crash shows as a dead child
rather than taking the test run down. Every call must end in finite outputs
or a ValueError / TypeError; anything else fails (hypothesis shrinks it first).

``python fuzz_estimators.py N`` runs N fixed cases (derandomized, as the test
suite does, so that a run is reproducible); ``N random`` draws new ones.
"""

import sys
import warnings

import numpy as np
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlpx import MLPXClassifier, MLPXRegressor

LAYOUTS = ("dense", "fortran", "csr", "csc", "coo")
OUTCOMES = {"refused": 0, "fitted": 0}


@st.composite
def problems(draw):
    n = draw(st.integers(1, 40))
    d = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64]))
    X = (rng.normal(size=(n, d)) * draw(st.sampled_from([1e-3, 1.0, 1e3]))).astype(dtype)
    if draw(st.integers(0, 4)) == 0 and dtype != np.int64:
        X.flat[draw(st.integers(0, X.size - 1))] = draw(
            st.sampled_from([np.nan, np.inf, -np.inf]))
    layout = draw(st.sampled_from(LAYOUTS))
    if layout == "fortran":
        X = np.asfortranarray(X)
    elif layout != "dense":
        X = getattr(sp, f"{layout}_matrix")(X)
    classifier = draw(st.booleans())
    if classifier:
        y = rng.integers(0, draw(st.integers(1, 4)), n)
    else:
        k = draw(st.integers(0, 3))  # 0: a 1-d target
        y = rng.normal(size=(n, k)) if k else rng.normal(size=n)
    params = dict(
        hidden_layer_sizes=draw(st.lists(st.integers(1, 8), min_size=1, max_size=3)),
        activation=draw(st.sampled_from(
            ["identity", "logistic", "tanh", "relu", "leaky_relu", "softplus"])),
        solver=draw(st.sampled_from(["sgd", "adam", "lbfgs", "sgld"])),
        alpha=draw(st.sampled_from([0.0, 1e-4, 1e-4, 1.0, 1.0, -1.0])),
        batch_size=draw(st.sampled_from(["auto", "auto", 1, 3, 3, 100, 0])),
        learning_rate_init=draw(st.sampled_from([1e-3, 0.1, 10.0])),
        max_iter=draw(st.integers(1, 4)),
        early_stopping=draw(st.integers(0, 3)) == 0,
        random_state=draw(st.integers(0, 10)),
    )
    return classifier, X, y, params, draw(st.sampled_from(["fit", "partial_fit"]))


@settings(max_examples=int(sys.argv[1]) if len(sys.argv) > 1 else 300, deadline=None,
          suppress_health_check=list(HealthCheck), database=None,
          derandomize=sys.argv[2:3] != ["random"])
@given(problems())
def check_fit_and_predict(problem):
    classifier, X, y, params, how = problem
    est = (MLPXClassifier if classifier else MLPXRegressor)(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if how == "fit":
                est.fit(X, y)
            elif classifier:
                est.partial_fit(X, y, classes=np.unique(y))
            else:
                est.partial_fit(X, y)
        except (ValueError, TypeError):
            OUTCOMES["refused"] += 1
            return
        except AttributeError as exc:  # partial_fit is not offered for lbfgs
            assert params["solver"] == "lbfgs" and how == "partial_fit", exc
            return
        OUTCOMES["fitted"] += 1
        assert all(np.isfinite(c).all() for c in est.coefs_ + est.intercepts_)
        try:
            out = est.predict_proba(X) if classifier else est.predict(X)
        except ValueError:  # non-finite X is refused in predict too
            return
    assert np.isfinite(out).all()


if __name__ == "__main__":
    check_fit_and_predict()
    print(OUTCOMES)
    print("ok")
