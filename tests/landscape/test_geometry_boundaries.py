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


# ----------------------------------------------- beside the Bayes optimum
@pytest.fixture(scope="module")
def mixture_runs():
    """Two tanh networks (L-BFGS, little penalty) on the Gaussian mixture, whose
    Bayes-optimal classifier is known."""
    from mlpx.landscape._data import gaussian_mixture

    data = gaussian_mixture(400, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a, b = (MLPXClassifier(hidden_layer_sizes=(20,), activation="tanh", solver="lbfgs",
                               max_iter=3000, random_state=s).fit(data.X, data.y)
                for s in (0, 1))
    return a, b, data


def test_two_runs_disagree_with_each_other_and_with_bayes(mixture_runs):
    a, b, data = mixture_runs
    bayes = data.bayes
    ab = decision_disagreement(a, b, data.X, resolution=150)
    a_bayes = decision_disagreement(a, bayes, data.X, resolution=150)
    b_bayes = decision_disagreement(b, bayes, data.X, resolution=150)
    assert decision_disagreement(bayes, bayes, data.X, resolution=50) == 0.0
    assert 0 < ab < 0.5 and 0 < a_bayes < 0.5 and 0 < b_bayes < 0.5
    assert ab <= a_bayes + b_bayes  # on one grid, disagreement is a distance
    # on the distribution: 100 000 fresh points
    X, y = bayes.sample(100_000, random_state=1)
    wrong_bayes = bayes.predict(X) != y
    assert abs(wrong_bayes.mean() - data.bayes_error) < 4 * np.sqrt(
        data.bayes_error * (1 - data.bayes_error) / y.size)
    for net in (a, b):
        pred = net.predict(X)
        off_bayes = pred != bayes.predict(X)
        excess = (pred != y).mean() - wrong_bayes.mean()
        # where a network agrees with Bayes it is right exactly when Bayes is
        assert excess <= off_bayes.mean()
        # no classifier beats Bayes: its excess error is positive, by far more
        # than 4 standard errors of the paired difference
        assert excess > 4 * np.sqrt(off_bayes.mean() / y.size)


def _bayes_vertices(ax):
    artists = [c for c in ax.collections if c.get_gid() == "bayes"]
    assert artists
    return np.concatenate([p.vertices for c in artists for p in c.get_paths()])


def test_plot_draws_the_bayes_boundary_where_the_bayes_label_changes(mixture_runs):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, b, data = mixture_runs
    res = 120
    ax = plot_decision_boundaries(a, b, data.X, data.y, resolution=res, bayes=data.bayes,
                                  labels=("seed 0", "seed 1"))
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[:3] == ["seed 0", "seed 1", "Bayes-optimal"]
    assert texts[3].startswith("disagree")
    vertices = _bayes_vertices(ax)
    assert len(vertices) > 20
    # marching squares puts each vertex halfway between two grid neighbours of
    # different Bayes labels: half a step (and a little) either way crosses
    xx, yy = decision_grid(data.X, res)
    step = np.array([xx[0, 1] - xx[0, 0], yy[1, 0] - yy[0, 0]])
    crossed = np.zeros(len(vertices), dtype=bool)
    for axis in (0, 1):
        shift = np.zeros(2)
        shift[axis] = 0.51 * step[axis]
        crossed |= data.bayes.predict(vertices - shift) != data.bayes.predict(vertices + shift)
    assert crossed.all()
    # and so within half a grid step of where the posterior is 1/2
    assert np.abs(data.bayes.predict_proba(vertices)[:, 1] - 0.5).max() < 0.1
    plt.close(ax.figure)

    ax2 = plot_decision_boundaries(a, b, data.X, resolution=res,
                                   bayes=lambda Z: data.bayes.predict(Z))
    np.testing.assert_allclose(_bayes_vertices(ax2), vertices)
    plt.close(ax2.figure)
    ax3 = plot_decision_boundaries(a, b, data.X, resolution=res)
    assert not [c for c in ax3.collections if c.get_gid() == "bayes"]
    plt.close(ax3.figure)


def test_bayes_must_predict(mixture_runs):
    pytest.importorskip("matplotlib")
    a, b, data = mixture_runs
    with pytest.raises(ValueError, match="bayes must be a fitted classifier"):
        plot_decision_boundaries(a, b, data.X, bayes="bayes")
    with pytest.raises(ValueError, match="labels for"):
        plot_decision_boundaries(a, b, data.X, resolution=20, bayes=lambda Z: Z[:3, 0] > 0)
