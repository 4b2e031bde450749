"""
=====================================================================
Loss surfaces in two dimensions: three minima and a random plane
=====================================================================

A network's loss lives in thousands of dimensions; a plane through parameter
space shows a two-dimensional slice of it. Two planes tell different stories:

- the plane through three minima, here three networks trained from different
  seeds (Garipov et al. 2018): how the minima sit relative to each other, and
  what lies between them. Matching the hidden units of two networks first
  (:func:`mlpx.landscape.align`) removes the part of their distance that is a
  mere relabelling of units;
- a plane of two random directions around one minimum, each rescaled filter
  by filter to the norms of the network's own weights (filter normalisation,
  Li et al. 2018): the shape of the basin, on a scale that does not depend on
  how large the weights happen to be.

Each surface below is a 41 x 41 grid evaluated by the compiled engine, all
points in one call.
"""

# %%
# Three networks from three seeds
# -------------------------------
# One hidden layer of 32 ReLU units on scikit-learn's digits, a quarter held
# out, trained by L-BFGS to a low training loss.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from mlpx import MLPXClassifier
from mlpx.landscape import loss_surface, plane_through, plot_loss_surface

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.25, random_state=0, stratify=y
)
nets = []
for seed in range(3):
    est = MLPXClassifier(hidden_layer_sizes=(32,), solver="lbfgs", max_iter=300,
                         alpha=1e-4, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        nets.append(est.fit(X_train, y_train))
    print(f"seed {seed}: train loss {est.loss_:.4f}, test accuracy "
          f"{est.score(X_test, y_test):.3f}")

# %%
# The plane through the three minima, raw and aligned
# ---------------------------------------------------
# The plane's axes are orthonormal, so its coordinates are distances in
# parameter space: network a sits at the origin, b on the first axis.
def near(surface, point):
    """The train loss at the grid point nearest `point`."""
    i = np.abs(surface.x - point[0]).argmin()
    j = np.abs(surface.y - point[1]).argmin()
    return surface.train_loss[i, j]


planes = {"raw": plane_through(*nets), "aligned": plane_through(*nets, align=True)}
surfaces = {}
for name, plane in planes.items():
    s = loss_surface(nets[0], X_train, y_train, plane, resolution=41,
                     X_test=X_test, y_test=y_test)
    surfaces[name] = s
    a, b, c = (np.array(plane.points[k]) for k in "abc")
    middles = [near(s, (p + q) / 2) for p, q in [(a, b), (a, c), (b, c)]]
    print(f"{name:8s} |a-b| = {np.linalg.norm(b - a):5.1f}, |a-c| = "
          f"{np.linalg.norm(c - a):5.1f}; train loss near the middles of ab, ac, bc "
          f"{np.round(middles, 2)}, near the centroid {near(s, (a + b + c) / 3):.2f}")

# %%
# A filter-normalised random plane around network a
# -------------------------------------------------
# A step of 1 along a direction changes every unit's incoming weights by their
# own norm; the biases stay fixed, as in Li et al.
random = loss_surface(nets[0], X_train, y_train, resolution=41, random_state=0,
                      X_test=X_test, y_test=y_test)
centre = random.train_loss[20, 20]
print(f"random plane: train loss at a {centre:.1e}, test loss {random.test_loss[20, 20]:.2f}")
print("train loss a step of 1 along the axes:",
      random.train_loss[[0, 40, 20, 20], [20, 20, 0, 40]].round(1))
print("a step of 0.5 along the axes:",
      random.train_loss[[10, 30, 20, 20], [20, 20, 10, 30]].round(1))
print("(-0.5, -0.5), (0.5, 0.5):", random.train_loss[[10, 30], [10, 30]].round(1),
      " (-0.5, 0.5), (0.5, -0.5):", random.train_loss[[10, 30], [30, 10]].round(1))
print(random.to_frame().head())

# %%
# The figure
# ----------
# Contours of the training loss on a log scale; the heat map on the right is
# the test loss of the random plane.
fig, axes = plt.subplots(1, 4, figsize=(17, 4.2), layout="constrained")
plot_loss_surface(surfaces["raw"], axes[0])
plot_loss_surface(surfaces["aligned"], axes[1])
plot_loss_surface(random, axes[2])
plot_loss_surface(random, axes[3], kind="heatmap", which="test")
for ax, title in zip(axes, ["three seeds, raw", "three seeds, aligned",
                            "random plane (filter-normalised), train",
                            "random plane, test"]):
    ax.set_title(title)
plt.show()

# %%
# What the figure shows
# ---------------------
# The three seeds reach the same training loss (about 1e-4: L-BFGS has nearly
# interpolated the training set) at three different points. In the raw plane
# (left) they are 58-63 apart (the networks' own norm is about 47), and the
# straight segments between them climb above the loss of guessing
# (log 10 = 2.3): about 3-3.6 at their middles, about 7 near the centroid of
# the triangle. Three separate basins.
#
# Matching the hidden units of b and c to those of a (second panel) changes no
# network's function, only which unit is called which, yet it brings b and c
# about 30 % closer to a (43 apart) and lowers everything between them: about
# 0.4-0.9 at the middles of the segments, 0.7 near the centroid, and one
# contour (1.35 here) encloses all three minima. Much of the raw picture's
# separation is the arbitrary order of the units; what remains is a real but
# lower barrier between minima that are still distinct.
#
# The random plane around a (right) shows one basin. A step of one filter norm
# along an axis raises the loss from 1e-4 to 10-23, half a step to 2.8-7: the
# minimum L-BFGS found is narrow on the scale of the weights. The level sets
# are ellipses: half a step along the diagonal (x = y) costs 9-20, along the
# other diagonal about 5 -- the curvature differs from direction to
# direction. The test loss (heat map) has the same basin around the same
# point, on a higher floor (0.53 at a, against a training loss of 1e-4).
#
# The grids are data: ``surface.to_frame()`` gives one row per point
# (``x``, ``y``, ``train_loss``, ``test_loss``), ready to save or to plot with
# other tools.
