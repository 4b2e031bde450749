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


@pytest.fixture(scope="module")
def many():
    X, y = load_digits(return_X_y=True)
    return agreement_study(X[:150] / 16, y[:150], seeds=range(12), hidden_layer_sizes=(4,),
                           epochs=2, setups=["logloss_softmax"])


def test_many_seeds_are_summarised_not_drawn_one_by_one(many):
    (ax,) = plot_loss_curves(many).axes
    assert len(ax.get_lines()) == 12 + 1  # a thin line per seed and their median
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "each seed", "median of 12 seeds"]
    median = np.median(many.arrays["logloss_softmax"]["train_loss"], axis=0)
    np.testing.assert_allclose(ax.get_lines()[-1].get_ydata(), median)
    same, _ = plot_agreement_counts(many).axes
    # 66 pairs: a band, min and max, and the median, not 66 lines and labels
    assert len(same.get_lines()) == 3 and len(same.collections) == 1
    assert len(same.get_legend().get_texts()) == 3
    counts = many.pairs[many.pairs.epoch == 2].train_agree_count
    assert same.get_lines()[2].get_ydata()[-1] == np.median(counts)


def test_agreement_matrix_has_a_fixed_colour_range_and_labels_only_few_cells(many, study):
    fig = plot_agreement_matrix(many)
    heat = next(ax for ax in fig.axes if ax.images)
    assert heat.images[0].get_clim() == (0.0, 1.0)
    assert not heat.texts
    assert len(heat.get_xticks()) <= 12
    few = plot_agreement_matrix(study)
    cells = [ax for ax in few.axes if ax.images][0]
    assert cells.images[0].get_clim() == (0.0, 1.0) and len(cells.texts) == 9


def test_regression_studies_speak_of_tolerance_not_labels():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    study = agreement_study(X[:100], (y[:100] - y.mean()) / y.std(), seeds=[0, 1],
                            hidden_layer_sizes=(4,), epochs=2)
    same, apart = plot_agreement_counts(study).axes
    assert same.get_ylabel() == "train samples, predictions within tolerance"
    assert apart.get_ylabel() == "train samples, predictions apart"
    fig = plot_agreement_matrix(study)
    assert fig.axes[-1].get_ylabel() == "fraction within tolerance"
