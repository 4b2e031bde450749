"""mlpx.landscape._study: the paper's three loss setups and the log-loss reference."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx.landscape import agreement_study
from mlpx.landscape._ensemble import final_gradient_norm
from mlpx.landscape._results import at_critical_point

SMALL = dict(hidden_layer_sizes=(8,), epochs=2)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    return X[:200], y[:200], X[200:280], y[200:280]


@pytest.fixture(scope="module")
def study(digits):
    X, y, X_test, y_test = digits
    return agreement_study(X, y, X_test=X_test, y_test=y_test, seeds=[0, 1], **SMALL)


def test_each_setup_trains_the_model_it_names(study):
    mse, mse_softmax, logloss, bce = (
        study.estimators[s][0] for s in
        ("mse_no_softmax", "mse_softmax", "logloss_softmax", "bce_sigmoid"))
    assert isinstance(mse, MLPXRegressor) and mse.loss == "squared_error"
    assert (mse.out_activation_, mse.n_outputs_) == ("identity", 10)
    assert isinstance(mse_softmax, MLPXClassifier) and mse_softmax.loss == "squared_error"
    assert (mse_softmax.out_activation_, mse_softmax.n_outputs_) == ("softmax", 10)
    assert logloss.loss == "log_loss"
    assert isinstance(logloss, MLPXClassifier)
    assert (logloss.out_activation_, logloss.n_outputs_) == ("softmax", 10)
    assert isinstance(bce, MLPXClassifier)
    assert (bce.out_activation_, bce.n_outputs_) == ("logistic", 10)
    assert bce._label_binarizer.y_type_ == "multilabel-indicator"


def test_labels_are_argmax_of_the_outputs(study, digits):
    X, y, _, _ = digits
    arr = study.arrays
    mse, logloss, bce = (study.estimators[s][1] for s in
                         ("mse_no_softmax", "logloss_softmax", "bce_sigmoid"))
    np.testing.assert_array_equal(arr["mse_no_softmax"]["train_pred"][1, -1],
                                  mse.predict(X).argmax(axis=1))
    np.testing.assert_array_equal(arr["logloss_softmax"]["train_pred"][1, -1],
                                  logloss.predict(X))
    np.testing.assert_array_equal(arr["bce_sigmoid"]["train_pred"][1, -1],
                                  bce.predict_proba(X).argmax(axis=1))
    for setup in study.setups:
        np.testing.assert_array_equal(
            arr[setup]["train_score"][:, -1],
            (arr[setup]["train_pred"][:, -1] == y).mean(axis=1))


def test_test_loss_follows_each_setup_loss(study, digits):
    _, _, X_test, y_test = digits
    Y = np.eye(10)[y_test]
    mse = study.estimators["mse_no_softmax"][0]
    bce = study.estimators["bce_sigmoid"][0]
    p = np.clip(bce.predict_proba(X_test), 1e-15, 1 - 1e-15)
    assert study.arrays["mse_no_softmax"]["test_loss"][0, -1] == pytest.approx(
        0.5 * np.mean((mse.predict(X_test) - Y) ** 2))
    assert study.arrays["bce_sigmoid"]["test_loss"][0, -1] == pytest.approx(
        -np.mean(np.sum(Y * np.log(p) + (1 - Y) * np.log(1 - p), axis=1)))


def test_tables_identical_for_n_jobs_1_and_2_and_under_dask(study, digits):
    import joblib
    from distributed import Client, get_task_stream

    X, y, X_test, y_test = digits
    kw = dict(X_test=X_test, y_test=y_test, seeds=[0, 1], **SMALL)
    two = agreement_study(X, y, n_jobs=2, **kw)
    with Client(processes=False, n_workers=2, threads_per_worker=1,
                dashboard_address=None) as client:
        with joblib.parallel_backend("dask"), get_task_stream(client) as stream:
            on_dask = agreement_study(X, y, **kw)
    assert len(stream.data) > 0  # the runs went through dask
    for other in (two, on_dask):
        pd.testing.assert_frame_equal(study.per_seed, other.per_seed, check_exact=True)
        pd.testing.assert_frame_equal(study.pairs, other.pairs, check_exact=True)


def test_string_labels_and_two_classes(digits):
    X, y, _, _ = digits
    keep = np.isin(y, [3, 8])
    names = np.where(y[keep] == 3, "three", "eight")
    s = agreement_study(X[keep], names, seeds=[0, 1], **SMALL)
    assert s.meta["classes"] == ["eight", "three"]
    assert s.estimators["logloss_softmax"][0].n_outputs_ == 1  # logistic, like sklearn
    assert s.estimators["bce_sigmoid"][0].n_outputs_ == 2
    assert set(np.unique(s.arrays["bce_sigmoid"]["train_pred"])) <= {0, 1}


def test_continuous_target_runs_the_regression_setup(digits):
    X, y, X_test, y_test = digits
    s = agreement_study(X, y / 9.0 + 0.01, X_test=X_test, y_test=y_test / 9.0 + 0.01,
                        seeds=[0, 1], **SMALL)
    assert s.setups == ["mse_regression"]
    assert s.meta["kinds"] == {"mse_regression": "regression"}
    assert "train_rms_gap" in s.pairs


@pytest.mark.parametrize("kwargs, match", [
    (dict(seeds=[0]), "at least 2 seeds"),
    (dict(setups=["hinge"]), "Unknown setups"),
    (dict(setups=["mse_regression"]), "do not apply"),
    (dict(setups=["bce_sigmoid", "bce_sigmoid"]), "repeated"),
])
def test_bad_study_arguments(digits, kwargs, match):
    X, y, _, _ = digits
    with pytest.raises(ValueError, match=match):
        agreement_study(X, y, **{**dict(seeds=[0, 1]), **SMALL, **kwargs})


def test_bad_targets(digits):
    X, y, X_test, y_test = digits
    with pytest.raises(ValueError, match="single class"):
        agreement_study(X, np.zeros(len(X), int), seeds=[0, 1], **SMALL)
    with pytest.raises(ValueError, match="not in y"):
        agreement_study(X, y, X_test=X_test, y_test=y_test + 100, seeds=[0, 1], **SMALL)
    with pytest.raises(ValueError, match="do not apply"):
        agreement_study(X, y + 0.5, setups=["logloss_softmax"], seeds=[0, 1], **SMALL)


@pytest.fixture(scope="module")
def until_tolerance():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    settings = dict(seeds=[0, 1], hidden_layer_sizes=(6,), epochs=150, learning_rate_init=0.05,
                    setups=["mse_no_softmax"])
    return (X, y, agreement_study(X, y, until="tolerance", **settings),
            agreement_study(X, y, **settings))


def test_until_tolerance_stops_a_run_at_its_first_critical_point(until_tolerance):
    X, y, study, budget = until_tolerance
    arr, full = study.arrays["mse_no_softmax"], budget.arrays["mse_no_softmax"]
    assert sorted(arr["stopped_by"]) == ["budget", "tolerance"]
    for k, (why, stop) in enumerate(zip(arr["stopped_by"], arr["stop_epoch"])):
        est = study.estimators["mse_no_softmax"][k]
        assert est.n_iter_ == stop
        # the same trajectory as the budget run up to the stop, then frozen
        np.testing.assert_array_equal(arr["train_loss"][k, :stop], full["train_loss"][k, :stop])
        assert (arr["train_loss"][k, stop - 1:] == arr["train_loss"][k, stop - 1]).all()
        # and the criterion holds exactly when the run says it stopped on it
        met = (arr["grad_norm"][k] <= 1e-3) and (arr["grad_norm"][k]
                                                  <= 1e-2 * arr["grad_norm_start"][k])
        assert met == (why == "tolerance") == study.converged("mse_no_softmax")[k]
        if why == "tolerance":
            assert stop < 150
            # it had not met the criterion one epoch earlier: the first critical point
            before = final_gradient_norm(est, X, np.eye(10)[y], arr["params"][k, stop - 2])
            assert not at_critical_point(before, arr["grad_norm_start"][k])
    assert study.summary().loc["mse_no_softmax", "n_stopped_at_tol"] == 1


def test_a_plateau_with_a_small_gradient_from_the_start_is_not_a_critical_point():
    assert not at_critical_point(5e-4, 6e-4)    # small, but barely moved from the start
    assert at_critical_point(5e-4, 0.1)
    assert not at_critical_point(2e-3, 1.0)     # moved, but not small
    np.testing.assert_array_equal(at_critical_point([1e-4, 1e-2], [1.0, 1.0]), [True, False])


@pytest.mark.parametrize("bad", [dict(until="forever"), dict(grad_tol=0), dict(grad_rtol=-1),
                                 dict(grad_tol=float("nan"))])
def test_bad_stopping_settings_are_refused(digits, bad):
    X, y, _, _ = digits
    with pytest.raises(ValueError, match=next(iter(bad))):
        agreement_study(X, y, seeds=[0, 1], **SMALL, **bad)
