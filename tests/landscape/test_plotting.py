"""mlpx.landscape._plotting: the figures of a SeedStudy."""

import sys

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np
import pytest
from sklearn.datasets import load_digits

from mlpx.landscape import (
    agreement_study,
    plot_agreement_counts,
    plot_agreement_matrix,
    plot_loss_curves,
)


@pytest.fixture(scope="module")
def study():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    return agreement_study(X[:150], y[:150], X_test=X[150:200], y_test=y[150:200],
                           seeds=[0, 1, 2], hidden_layer_sizes=(6,), epochs=3)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_loss_curves_one_line_per_seed_train_and_test_rows(study):
    fig = plot_loss_curves(study)
    axes = np.array(fig.axes).reshape(2, 4)  # train and test rows, one column per setup
    assert [ax.get_title() for ax in axes[0]] == study.setups
    for ax in axes.ravel():
        assert len(ax.get_lines()) == 3
    line = axes[1, 2].get_lines()[1]  # test loss, bce_sigmoid (third setup), seed 1
    expected = study.arrays["bce_sigmoid"]["test_loss"][1]
    np.testing.assert_array_equal(line.get_ydata(), expected)


def test_agreement_counts_one_line_per_pair(study):
    fig = plot_agreement_counts(study, setups="logloss_softmax")
    same, different = fig.axes
    assert len(same.get_lines()) == len(different.get_lines()) == 3
    total = same.get_lines()[0].get_ydata() + different.get_lines()[0].get_ydata()
    np.testing.assert_array_equal(total, 150)


def test_agreement_matrix_heat_map_per_setup(study):
    fig = plot_agreement_matrix(study, split="test")
    heat = [ax for ax in fig.axes if ax.images]
    assert len(heat) == 4  # one per setup
    np.testing.assert_array_equal(heat[0].images[0].get_array(),
                                  study.agreement_matrix("mse_no_softmax", split="test"))


def test_study_methods_draw_the_same_figures(study):
    assert len(study.plot_loss_curves(setups=["bce_sigmoid"]).axes) == 2
    assert len(study.plot_agreement_counts().axes) == 2 * 4  # same/different x setups


def test_missing_matplotlib_says_what_to_install(study, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install \"mlpx\[plot\]\""):
        plot_loss_curves(study)
