"""mlpx.landscape._width: distribution of final losses over seeds, per width."""

import warnings

import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx.landscape._ensemble import final_gradient_norm
from mlpx.landscape._losses import data_loss
from mlpx.landscape._width import plot_width_study, width_study


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    return X[:300], y[:300], X[300:400], y[300:400]


@pytest.fixture(scope="module")
def table(digits):
    X, y, X_test, y_test = digits
    est = MLPXClassifier(max_iter=8, batch_size=32, learning_rate_init=3e-3)
    return width_study(est, X, y, [2, 16], [0, 1, 2, 3], X_test=X_test, y_test=y_test,
                       bins=4)


def test_one_row_per_width_with_the_distribution(table):
    assert list(table.index) == [2, 16]
    assert list(table.hidden_layer_sizes) == [(2,), (16,)]
    assert list(table.n_params) == [64 * 2 + 2 + 2 * 10 + 10, 64 * 16 + 16 + 16 * 10 + 10]
    for split in ("train", "test"):
        row = table.loc[16]
        losses = row[f"{split}_losses"]
        assert len(losses) == 4 and table.attrs["seeds"] == [0, 1, 2, 3]
        assert row[f"{split}_mean"] == pytest.approx(losses.mean())
        assert row[f"{split}_std"] == pytest.approx(losses.std(ddof=1))
        assert row[f"{split}_rel_std"] == pytest.approx(losses.std(ddof=1) / losses.mean())
        assert row[f"{split}_min"] <= row[f"{split}_q25"] <= row[f"{split}_q50"] \
            <= row[f"{split}_q75"] <= row[f"{split}_max"]
        assert row[f"{split}_hist"].sum() == 4
        assert len(table.attrs[f"{split}_bins"]) == 5


def test_losses_are_those_of_a_plain_fit(table, digits):
    X, y, X_test, y_test = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPXClassifier(hidden_layer_sizes=(16,), max_iter=8, batch_size=32,
                             learning_rate_init=3e-3, random_state=2, tol=0,
                             n_iter_no_change=100).fit(X, y)
    assert table.loc[16, "train_losses"][2] == pytest.approx(data_loss(est, X, y), rel=1e-9)
    assert table.loc[16, "test_losses"][2] == pytest.approx(data_loss(est, X_test, y_test),
                                                            rel=1e-9)


def test_the_table_counts_the_runs_that_reached_a_critical_point(table, digits):
    X, y, _, _ = digits
    # 8 Adam epochs: none at a critical point, and the largest gradient says so
    assert list(table.n_converged) == [0, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPXClassifier(hidden_layer_sizes=(16,), max_iter=8, batch_size=32,
                             learning_rate_init=3e-3, random_state=1, tol=0,
                             n_iter_no_change=100).fit(X, y)
    grad = final_gradient_norm(est, X, y)
    assert grad <= table.loc[16, "grad_norm_max"] and grad > 1e-3
    # L-BFGS to its tolerance: every run of the wide network at a critical point
    lbfgs = width_study(MLPXClassifier(solver="lbfgs", max_iter=3000, tol=1e-9), X[:100],
                        y[:100], [16], [0, 1])
    assert lbfgs.loc[16, "n_converged"] == 2 and lbfgs.loc[16, "grad_norm_max"] <= 1e-3


def test_wider_networks_reach_lower_losses(table):
    # (whether their spread is smaller depends on the data and the budget: see
    # examples/plot_width_study.py; it is not asserted here)
    assert table.loc[16, "train_max"] < table.loc[2, "train_min"]


def test_widths_fill_every_hidden_layer_or_are_given_as_tuples(digits):
    X = digits[0]
    est = MLPXRegressor(hidden_layer_sizes=(5, 5), max_iter=2)
    table = width_study(est, X[:60], X[:60, 10], [3, (4, 2)], [0, 1])
    assert list(table.hidden_layer_sizes) == [(3, 3), (4, 2)]
    assert list(table.index) == [3, "(4, 2)"]
    assert "test_mean" not in table


def test_plot(table):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plot_width_study(table)
    assert len(fig.axes) == 2
    plt.close(fig)


def test_bad_arguments_are_refused(digits):
    X, y, _, _ = digits
    est = MLPXClassifier(max_iter=1)
    with pytest.raises(ValueError, match="at least 2 seeds"):
        width_study(est, X, y, [2], [0])
    with pytest.raises(ValueError, match="positive"):
        width_study(est, X, y, [0], [0, 1])
    with pytest.raises(TypeError, match="MLPXClassifier or MLPXRegressor"):
        width_study(object(), X, y, [2], [0, 1])
