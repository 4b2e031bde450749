"""mlpx.landscape._boundaries: where two networks on 2-D data disagree."""

import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXClassifier
from mlpx.landscape._boundaries import (
    decision_disagreement,
    decision_grid,
    plot_decision_boundaries,
)


class Threshold(ClassifierMixin, BaseEstimator):
    """A stand-in classifier with a known boundary: label 1 where x1 > c."""

    def __init__(self, c=0.0):
        self.c = c

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def predict(self, X):
        return (X[:, 0] > self.c).astype(int)


def test_disagreement_is_the_area_between_two_boundaries():
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    a, b = Threshold(0.25).fit(X), Threshold(0.5).fit(X)
    frac = decision_disagreement(a, b, X, resolution=401, margin=0.0)
    assert frac == pytest.approx(0.25, abs=0.01)
    assert decision_disagreement(b, b, X) == 0.0


def test_grid_covers_the_data_with_a_margin():
    X = np.array([[0.0, 10.0], [2.0, 14.0], [1.0, 11.0]])
    xx, yy = decision_grid(X, resolution=5, margin=0.5)
    assert xx.shape == yy.shape == (5, 5)
    assert (xx.min(), xx.max(), yy.min(), yy.max()) == (-1.0, 3.0, 8.0, 16.0)


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(150, noise=0.25, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a, b = (MLPXClassifier(hidden_layer_sizes=(8,), max_iter=200, random_state=s).fit(X, y)
                for s in (0, 3))
    return a, b, X, y


def test_two_seeds_disagree_somewhere_off_the_data(moons):
    a, b, X, _ = moons
    frac = decision_disagreement(a, b, X, resolution=100)
    assert 0 < frac < 0.5
    assert decision_disagreement(a, a, X, resolution=50) == 0.0


def test_plot_draws_both_boundaries(moons):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, b, X, y = moons
    ax = plot_decision_boundaries(a, b, X, y, resolution=60, labels=("seed 0", "seed 3"))
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[:2] == ["seed 0", "seed 3"] and texts[2].startswith("disagree")
    assert len(ax.collections) >= 3  # shading, two contour sets (+ scatter)
    plt.close(ax.figure)


def test_inputs_must_be_two_dimensional(moons):
    a, b, X, _ = moons
    with pytest.raises(ValueError, match="2-D inputs"):
        decision_disagreement(a, b, np.column_stack([X, X[:, 0]]))
    with pytest.raises(ValueError, match="resolution"):
        decision_disagreement(a, b, X, resolution=1)
