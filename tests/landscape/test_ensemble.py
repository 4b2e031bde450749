"""mlpx.landscape._ensemble: training K seeds epoch by epoch.

What recording per epoch must get right, pinned here: K calls of partial_fit
equal one fit of K epochs only without shuffling (with an integer random_state
each partial_fit call re-seeds its generator, so every call after the first
reuses one permutation); train_seeds reproduces fit exactly anyway.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx.landscape import train_seeds
from mlpx.landscape._initialization import initial_params, layer_units
from mlpx.landscape._losses import data_loss


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    return X[:240], y[:240], X[240:360], y[240:360]


def regression_data(digits):
    X, y, X_test, y_test = digits
    return X, (y - 4.5) / 3, X_test, (y_test - 4.5) / 3


def classifier(**kw):
    params = dict(hidden_layer_sizes=(8,), max_iter=4, batch_size=50, n_iter_no_change=100)
    return MLPXClassifier(**{**params, **kw})


def partial_fit_k(est, X, y, k, **kw):
    for _ in range(k):
        est.partial_fit(X, y, **kw)
    return est


def test_k_partial_fits_equal_one_fit_without_shuffle(digits):
    X, y, _, _ = digits
    fit = classifier(shuffle=False, random_state=0).fit(X, y)
    part = partial_fit_k(classifier(shuffle=False, random_state=0), X, y, 4,
                         classes=np.unique(y))
    assert part.loss_curve_ == fit.loss_curve_
    np.testing.assert_array_equal(part._params, fit._params)
    assert part.t_ == fit.t_
    assert part.n_iter_ == 1 and fit.n_iter_ == 4  # partial_fit counts its own epoch


def test_k_partial_fits_leave_fit_after_one_epoch_with_shuffle(digits):
    X, y, _, _ = digits
    fit = classifier(random_state=0).fit(X, y)
    part = partial_fit_k(classifier(random_state=0), X, y, 4, classes=np.unique(y))
    assert part.loss_curve_[0] == fit.loss_curve_[0]
    assert all(a != b for a, b in zip(part.loss_curve_[1:], fit.loss_curve_[1:]))


def test_partial_fit_with_int_random_state_reuses_one_permutation(digits):
    # Calls 2..K shuffle with the first draw of a fresh RandomState(seed): the
    # same as feeding that fixed order without shuffling.
    X, y, _, _ = digits
    classes = np.unique(y)
    shuffled = classifier(random_state=0).partial_fit(X, y, classes=classes)
    perm = np.arange(len(X))
    np.random.RandomState(0).shuffle(perm)
    fixed = clone(shuffled).set_params(shuffle=False)
    fixed.partial_fit(X, y, classes=classes)
    fixed._params[:] = shuffled._params  # same start for the comparison below
    fixed._optimizer = shuffled._optimizer.copy()
    for _ in range(3):
        shuffled.partial_fit(X, y)
        fixed.partial_fit(X[perm], y[perm])
    assert fixed.loss_curve_[1:] == shuffled.loss_curve_[1:]


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_train_seeds_reproduces_fit_exactly(digits, solver, kind):
    X, y, _, _ = digits
    if kind == "regressor":
        X, y, _, _ = regression_data(digits)
        est = MLPXRegressor(hidden_layer_sizes=(8,), max_iter=5, batch_size=50,
                            solver=solver, n_iter_no_change=100)
    else:
        est = classifier(max_iter=5, solver=solver)
    study = train_seeds(est, X, y, [3, 7], record=("loss", "params"), record_every=2)
    name = type(est).__name__
    assert list(study.arrays[name]["epochs"]) == [2, 4, 5]
    for i, seed in enumerate([3, 7]):
        ref = clone(est).set_params(random_state=seed).fit(X, y)
        got = study.estimators[name][i]
        np.testing.assert_array_equal(got._params, ref._params)
        assert got.loss_curve_ == ref.loss_curve_
        assert (got.n_iter_, got.t_, got.shuffle) == (ref.n_iter_, ref.t_, True)
        np.testing.assert_array_equal(study.arrays[name]["params"][i, -1], ref._params)
        # train loss: the data loss of the weights at the end of each recorded
        # epoch (as the test loss), not the running mean of loss_curve_
        for k, epoch in enumerate([2, 4, 5]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                at = clone(est).set_params(random_state=seed, max_iter=epoch).fit(X, y)
            assert study.arrays[name]["train_loss"][i, k] == data_loss(at, X, y)
            assert study.arrays[name]["penalty"][i, k] == pytest.approx(
                0.5 * at.alpha * sum((W.astype(float) ** 2).sum() for W in at.coefs_)
                / X.shape[0], rel=1e-12)
    assert not hasattr(est, "coefs_")  # the template is never fitted


def test_train_seeds_runs_all_epochs_where_fit_would_stop_early(digits):
    X, y, _, _ = digits
    est = classifier(max_iter=6, n_iter_no_change=1, tol=10.0)
    assert clone(est).set_params(random_state=0).fit(X, y).n_iter_ < 6
    study = train_seeds(est, X, y, [0, 1])
    assert list(study.per_seed.epoch.unique()) == [1, 2, 3, 4, 5, 6]


def test_recorded_test_loss_and_scores(digits):
    X, y, X_test, y_test = digits
    study = train_seeds(classifier(), X, y, [0, 1], X_test=X_test, y_test=y_test,
                        record=("loss", "predictions"))
    arr = study.arrays["MLPXClassifier"]
    for i, est in enumerate(study.estimators["MLPXClassifier"]):
        P = np.clip(est.predict_proba(X_test), 1e-300, 1)
        expected = -np.mean(np.log(P[np.arange(len(y_test)), y_test]))
        assert arr["test_loss"][i, -1] == pytest.approx(expected, rel=1e-12)
        assert arr["test_score"][i, -1] == est.score(X_test, y_test)
        assert arr["train_score"][i, -1] == est.score(X, y)
        np.testing.assert_array_equal(arr["test_pred"][i, -1], est.predict(X_test))
    assert arr["train_pred"].shape == (2, 4, len(X))


def test_regressor_test_loss_is_half_mean_squared_error(digits):
    X, y, X_test, y_test = regression_data(digits)
    est = MLPXRegressor(hidden_layer_sizes=(8,), max_iter=3)
    study = train_seeds(est, X, y, [0, 1], X_test=X_test, y_test=y_test)
    fitted = study.estimators["MLPXRegressor"][1]
    expected = 0.5 * np.mean((fitted.predict(X_test) - y_test) ** 2)
    assert study.arrays["MLPXRegressor"]["test_loss"][1, -1] == pytest.approx(expected)
    assert study.meta["scores"]["MLPXRegressor"] == "r2"


def first_layer_after_tiny_step(study, name):
    """Weights after one epoch at a negligible learning rate: the initial ones."""
    return [est.coefs_[0] for est in study.estimators[name]], \
           [est.intercepts_[0] for est in study.estimators[name]]


def test_normal_init_scale_per_seed_index(digits):
    X, y, _, _ = digits
    est = classifier(hidden_layer_sizes=(50,), max_iter=1, learning_rate_init=1e-12)
    study = train_seeds(est, X, y, [5, 9, 11], init="normal", init_scale=lambda i: i + 2)
    W, b = first_layer_after_tiny_step(study, "MLPXClassifier")
    for i in range(3):
        assert W[i].std() == pytest.approx(i + 2, rel=0.05)
        assert np.abs(b[i]).max() < 1e-6
    assert study.meta["init"] == {"scheme": "normal", "scales": [2.0, 3.0, 4.0]}


def test_he_init_std_is_sqrt_two_over_fan_in(digits):
    X, y, _, _ = digits
    est = classifier(hidden_layer_sizes=(50,), max_iter=1, learning_rate_init=1e-12)
    W, _ = first_layer_after_tiny_step(train_seeds(est, X, y, [0, 1], init="he"),
                                       "MLPXClassifier")
    assert W[0].std() == pytest.approx(np.sqrt(2 / 64), rel=0.05)
    assert not np.array_equal(W[0], W[1])


def test_given_start_equals_the_init_params_hook(digits):
    X, y, _, _ = digits
    est = classifier(max_iter=3)
    study = train_seeds(est, X, y, [4, 6], init="normal", init_scale=[0.3, 0.5])
    theta = initial_params("normal", 0.5, 6, layer_units(est, X, y), "relu", X.dtype)
    ref = clone(est).set_params(random_state=6)._fit(X, y, init_params=theta)
    np.testing.assert_array_equal(study.estimators["MLPXClassifier"][1]._params,
                                  ref._params)


def test_lbfgs_is_recorded_once_at_the_end(digits):
    X, y, _, _ = digits
    est = classifier(solver="lbfgs", max_iter=15)
    study = train_seeds(est, X, y, [0, 1], record=("loss", "params"))
    assert list(study.arrays["MLPXClassifier"]["epochs"]) == [15]
    ref = clone(est).set_params(random_state=1).fit(X, y)
    np.testing.assert_array_equal(study.arrays["MLPXClassifier"]["params"][1, 0],
                                  ref._params)


def test_results_do_not_depend_on_n_jobs(digits):
    X, y, X_test, y_test = digits
    kw = dict(X_test=X_test, y_test=y_test, record=("loss", "predictions", "params"))
    one = train_seeds(classifier(), X, y, [0, 1, 2], n_jobs=1, **kw)
    two = train_seeds(classifier(), X, y, [0, 1, 2], n_jobs=2, **kw)
    pd.testing.assert_frame_equal(one.per_seed, two.per_seed, check_exact=True)
    pd.testing.assert_frame_equal(one.pairs, two.pairs, check_exact=True)
    for key, value in one.arrays["MLPXClassifier"].items():
        np.testing.assert_array_equal(value, two.arrays["MLPXClassifier"][key])


def predict_on_a_dask_worker(est, X):
    from distributed import get_worker

    get_worker()  # raises ValueError when not run by a dask worker
    return est.predict(X)


def test_runs_under_the_dask_backend(digits):
    import joblib
    from distributed import Client

    X, y, _, _ = digits
    kw = dict(record=("loss", "predictions"), predict=predict_on_a_dask_worker,
              kind="classification")
    with Client(processes=False, n_workers=2, threads_per_worker=1,
                dashboard_address=None):
        with joblib.parallel_backend("dask"):
            on_dask = train_seeds(classifier(), X, y, [0, 1, 2], **kw)
    reference = train_seeds(classifier(), X, y, [0, 1, 2],
                            record=("loss", "predictions"))
    pd.testing.assert_frame_equal(on_dask.per_seed, reference.per_seed, check_exact=True)
    pd.testing.assert_frame_equal(on_dask.pairs, reference.pairs, check_exact=True)


@pytest.mark.parametrize("seeds, match", [
    ([0], "at least 2 seeds"),
    ([], "at least 2 seeds"),
    ([1, 1], "distinct"),
    ([0, 1.5], "integers"),
])
def test_bad_seeds(digits, seeds, match):
    X, y, _, _ = digits
    with pytest.raises(ValueError, match=match):
        train_seeds(classifier(), X, y, seeds)


def test_test_data_must_come_in_pairs_of_equal_length(digits):
    X, y, X_test, y_test = digits
    with pytest.raises(ValueError, match="pass both or neither"):
        train_seeds(classifier(), X, y, [0, 1], X_test=X_test)
    with pytest.raises(ValueError, match="pass both or neither"):
        train_seeds(classifier(), X, y, [0, 1], y_test=y_test)
    with pytest.raises(ValueError, match="120 samples but y_test has 119"):
        train_seeds(classifier(), X, y, [0, 1], X_test=X_test, y_test=y_test[:-1])
    with pytest.raises(ValueError, match="features"):
        train_seeds(classifier(), X, y, [0, 1], X_test=X_test[:, :5], y_test=y_test)


@pytest.mark.parametrize("kwargs, match", [
    (dict(init="xavier"), "init must be"),
    (dict(init="normal"), "needs init_scale"),
    (dict(init="normal", init_scale=[1.0]), "one per seed"),
    (dict(init="normal", init_scale=-1.0), "> 0"),
    (dict(init="he", init_scale=1.0), "only used with init='normal'"),
    (dict(record=("loss", "gradients")), "unknown"),
    (dict(record_every=0), "record_every"),
    (dict(kind="ranking"), "kind"),
])
def test_bad_options(digits, kwargs, match):
    X, y, _, _ = digits
    with pytest.raises(ValueError, match=match):
        train_seeds(classifier(), X, y, [0, 1], **kwargs)


def test_early_stopping_and_foreign_estimators_are_refused(digits):
    from sklearn.neural_network import MLPClassifier

    X, y, _, _ = digits
    with pytest.raises(ValueError, match="early_stopping"):
        train_seeds(classifier(early_stopping=True), X, y, [0, 1])
    with pytest.raises(TypeError, match="MLPXClassifier or MLPXRegressor"):
        train_seeds(MLPClassifier(), X, y, [0, 1])


def test_a_dask_cluster_trains_blocks_of_seeds_compiled(digits, monkeypatch):
    import joblib
    from distributed import Client, get_task_stream

    from mlpx.landscape import _ensemble

    X, y, _, _ = digits
    per_seed_path = []
    monkeypatch.setattr(_ensemble, "train_one",
                        lambda task: per_seed_path.append(task) or None)
    kw = dict(record=("loss", "predictions", "params"))
    seeds = list(range(8))
    reference = train_seeds(classifier(), X, y, seeds, **kw)
    with Client(processes=False, n_workers=2, threads_per_worker=1,
                dashboard_address=None) as client:
        with joblib.parallel_backend("dask"), get_task_stream(client) as stream:
            on_dask = train_seeds(classifier(), X, y, seeds, **kw)
    assert not per_seed_path  # no seed took the Python epoch loop
    assert len(stream.data) == 2  # one compiled block per worker
    pd.testing.assert_frame_equal(on_dask.per_seed, reference.per_seed, check_exact=True)
    pd.testing.assert_frame_equal(on_dask.pairs, reference.pairs, check_exact=True)
    for key, value in reference.arrays["MLPXClassifier"].items():
        np.testing.assert_array_equal(value, on_dask.arrays["MLPXClassifier"][key])


def test_the_final_gradient_norm_is_that_of_the_training_objective():
    # checked against central finite differences of the estimator's own loss
    from mlpx._engine import network_of, params_of, targets_of
    from mlpx.landscape._ensemble import final_gradient_norm

    X, y = load_digits(return_X_y=True)
    X, y = X[:120] / 16, y[:120]
    est = MLPXClassifier(hidden_layer_sizes=(4,), alpha=0.3, max_iter=3,
                         random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    net, theta, Y = network_of(est), params_of(est).copy(), targets_of(est, y)
    h, grad = 1e-6, np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        lp = net.loss_gradient(theta + e, X, Y, alpha=est.alpha)[0]
        lm = net.loss_gradient(theta - e, X, Y, alpha=est.alpha)[0]
        grad[i] = (lp - lm) / (2 * h)
    assert final_gradient_norm(est, X, y) == pytest.approx(np.linalg.norm(grad), rel=1e-6)


def test_the_compiled_path_shows_progress_over_seed_epochs(capsys):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    train_seeds(MLPXClassifier((8,), max_iter=5), X[:200] / 16, y[:200], range(3),
                engine="compiled", verbose=True)
    err = capsys.readouterr().err
    assert "seed epochs" in err and "15/15" in err


def test_without_tqdm_the_bar_prints_a_count_every_tenth(capsys):
    from mlpx.landscape._progress import _PlainBar

    bar = _PlainBar(25, "work")
    for _ in range(25):
        bar.update()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "work: 2/25" and lines[-1] == "work: 25/25" and len(lines) == 13
