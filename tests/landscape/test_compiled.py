"""The compiled multi-seed path: bit-identical to fitting each seed alone."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx.landscape import train_seeds


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


def _estimators(study):
    (ests,) = study.estimators.values()
    return ests


@pytest.mark.parametrize("params", [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate_init=0.05),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.5),
    dict(solver="sgd", nesterovs_momentum=False, shuffle=False, batch_size=64),
])
def test_compiled_seeds_equal_per_seed_fit_bit_for_bit(digits, params):
    X, y = digits
    est = MLPXClassifier(hidden_layer_sizes=(10, 10, 10), max_iter=6, alpha=1e-3,
                         n_iter_no_change=1000, **params)
    study = train_seeds(est, X, y, [3, 11, 7], engine="compiled",
                        record=("loss", "params"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seed, fitted in zip([3, 11, 7], _estimators(study)):
            ref = MLPXClassifier(hidden_layer_sizes=(10, 10, 10), max_iter=6, alpha=1e-3,
                                 n_iter_no_change=1000, random_state=seed, **params)
            ref.fit(X, y)
            assert np.array_equal(ref._params, fitted._params)
            assert ref.loss_curve_ == fitted.loss_curve_
            assert ref.t_ == fitted.t_ and ref.n_iter_ == fitted.n_iter_
            np.testing.assert_array_equal(ref._optimizer.s1, fitted._optimizer.s1)
            assert ref._optimizer.t == fitted._optimizer.t
            assert ref._optimizer.learning_rate == fitted._optimizer.learning_rate
            np.testing.assert_array_equal(ref.predict_proba(X), fitted.predict_proba(X))


def test_compiled_and_joblib_paths_give_identical_studies(digits):
    X, y = digits
    est = MLPXRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    y = y.astype(float)
    kw = dict(X_test=X[:100], y_test=y[:100], record=("loss", "predictions", "params"),
              init="normal", init_scale=lambda i: 0.1 * (i + 1))
    a = train_seeds(est, X, y, [0, 1, 2], engine="compiled", **kw)
    b = train_seeds(est, X, y, [0, 1, 2], engine="joblib", n_jobs=2, **kw)
    assert a.per_seed.equals(b.per_seed) and a.pairs.equals(b.pairs)
    for x, z in zip(_estimators(a), _estimators(b)):
        assert np.array_equal(x._params, z._params)


def test_compiled_engine_refuses_what_it_cannot_do(digits):
    X, y = digits
    with pytest.raises(ValueError, match="engine='compiled'"):
        train_seeds(MLPXClassifier(solver="lbfgs"), X, y, [0, 1], engine="compiled")
    with pytest.raises(ValueError, match="engine='compiled'"):
        train_seeds(MLPXClassifier(solver="sgd", learning_rate="adaptive"), X, y, [0, 1],
                    engine="compiled")


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def test_compiled_seeds_have_the_fitted_state_of_a_per_seed_fit(digits):
    # The data are validated once and the other seeds copied from the first:
    # each estimator must still hold what its own fit would set, share no
    # mutable state with the others, and work on its own afterwards.
    X, y = digits
    kw = dict(hidden_layer_sizes=(10,), max_iter=3, n_iter_no_change=1000)
    study = train_seeds(MLPXClassifier(**kw), X, y, [5, 6], engine="compiled")
    fitted = _estimators(study)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        refs = [MLPXClassifier(random_state=s, **kw).fit(X, y) for s in (5, 6)]
    for ref, est in zip(refs, fitted):
        assert set(vars(ref)) == set(vars(est))
        for name in vars(ref):
            if name.endswith("_") and not name.startswith("_"):
                assert _same(getattr(ref, name), getattr(est, name)), name
        assert est.get_params() == ref.get_params()
        assert _same(vars(ref._label_binarizer), vars(est._label_binarizer))
    a, b = fitted
    for name in ("classes_", "_label_binarizer", "_params", "loss_curve_", "_optimizer"):
        assert getattr(a, name) is not getattr(b, name), name
    a.partial_fit(X, y)  # continuing one seed leaves the other untouched
    assert _same(b._params, refs[1]._params) and b.loss_curve_ == refs[1].loss_curve_


@pytest.mark.parametrize("n", [1, 2, 3, 200, 1797, 70001])
def test_compiled_epoch_orders_are_the_fits_shuffles(n):
    from mlpx._core._testing import epoch_orders as _epoch_orders

    ours, theirs = np.random.RandomState(n), np.random.RandomState(n)
    theirs.random_sample(3)  # a generator part-way through its stream, as after init
    ours.random_sample(3)
    got = _epoch_orders(ours, n, 4)
    order = np.arange(n)
    for e in range(4):
        perm = np.arange(n)
        theirs.shuffle(perm)
        order = order[perm]
        np.testing.assert_array_equal(got[e], order)
    # both generators were advanced by exactly the same draws
    assert ours.randint(2**31) == theirs.randint(2**31)
