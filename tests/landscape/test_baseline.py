"""The constant baseline against scikit-learn's metrics of a constant prediction."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score

from mlpx.landscape._baseline import constant_baseline


@pytest.fixture
def labels():
    rng = np.random.default_rng(0)
    return rng.choice([3, 5, 9], size=200, p=[0.5, 0.3, 0.2]), rng.choice([3, 5, 9], size=80)


def test_classification_setups_match_a_constant_prediction_of_the_class_frequencies(labels):
    y, y_test = labels
    classes = np.array([3, 5, 9])
    freq = np.array([(y == c).mean() for c in classes])
    table = constant_baseline(["mse_no_softmax", "mse_softmax", "logloss_softmax",
                               "bce_sigmoid"], y, y_test)
    for yy, part in ((y, "train"), (y_test, "test")):
        onehot = (yy[:, None] == classes).astype(float)
        P = np.tile(freq, (len(yy), 1))
        assert table.loc["mse_no_softmax", f"{part}_loss"] == pytest.approx(
            mean_squared_error(onehot, P) / 2)
        # a softmax output reaches the frequencies too
        assert table.loc["mse_softmax", f"{part}_loss"] == pytest.approx(
            mean_squared_error(onehot, P) / 2)
        assert table.loc["logloss_softmax", f"{part}_loss"] == pytest.approx(
            log_loss(yy, P, labels=classes))
        assert table.loc["bce_sigmoid", f"{part}_loss"] == pytest.approx(
            sum(log_loss(onehot[:, k], freq[k] * np.ones(len(yy)), labels=[0, 1])
                for k in range(3)))
        acc = accuracy_score(yy, np.full(len(yy), 3))  # 3 is the majority class
        assert (table.loc[:, f"{part}_score"] == acc).all()


def test_regression_matches_predicting_the_training_mean():
    rng = np.random.default_rng(1)
    y, y_test = rng.normal(2.0, 3.0, 150), rng.normal(2.5, 3.0, 60)
    table = constant_baseline(["mse_regression"], y, y_test)
    for yy, part in ((y, "train"), (y_test, "test")):
        pred = np.full(len(yy), y.mean())
        assert table.loc["mse_regression", f"{part}_loss"] == pytest.approx(
            mean_squared_error(yy, pred) / 2)
        assert table.loc["mse_regression", f"{part}_score"] == pytest.approx(
            r2_score(yy, pred))
    assert table.loc["mse_regression", "train_score"] == pytest.approx(0.0, abs=1e-12)


def test_without_a_test_set_only_training_columns():
    table = constant_baseline(["logloss_softmax"], np.array([0, 1, 1, 1]))
    assert list(table.columns) == ["train_loss", "train_score"]
    assert table.loc["logloss_softmax", "train_score"] == 0.75
