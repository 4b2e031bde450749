"""
================================================================
Decision regions of two runs beside the Bayes-optimal boundary
================================================================

A classic figure of neural-network courses (Bishop 1995; Hastie, Tibshirani
& Friedman 2009, Fig. 2.5): points of two classes drawn from a mixture of
Gaussians, the Bayes-optimal boundary in black, and the boundaries of two
independent backpropagation runs beside it. Because the distribution is
known, so is the best any classifier can do: the Bayes classifier labels x
with argmax_c P(c) p(x | c), and its error rate, the Bayes error, is the
floor of every classifier's error.

:func:`~mlpx.landscape._data.gaussian_mixture` draws such a problem and
returns its :class:`~mlpx.landscape._data.BayesClassifier`;
:func:`~mlpx.landscape.plot_decision_boundaries` draws the Bayes boundary
beside two networks' (``bayes=``), and
:func:`~mlpx.landscape.decision_disagreement` measures how far apart the
boundaries are. We train two seeds of the same network twice: with almost
no penalty, and with weight decay.

(The course figure uses leaky ReLU units with slope 0.1; mlpx's leaky ReLU
has slope 0.01, so we use tanh units.)
"""

# %%
# The problem and its optimum
# ---------------------------
# Two classes, each a mixture of two 2-D Gaussians with equal priors; 400
# training points. The Bayes error comes from a quadrature of the densities.
# A fresh sample of 100 000 points measures every classifier on the
# distribution itself.
import warnings

import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXClassifier
from mlpx.landscape import decision_disagreement, gaussian_mixture, plot_decision_boundaries

data = gaussian_mixture(400, random_state=0)
bayes = data.bayes
X_new, y_new = bayes.sample(100_000, random_state=1)
bayes_new = bayes.predict(X_new)
print(f"Bayes error {data.bayes_error:.4f} (quadrature); on the fresh sample "
      f"{(bayes_new != y_new).mean():.4f}; on the training points "
      f"{(bayes.predict(data.X) != data.y).mean():.4f}")

# %%
# Two runs, two penalties
# -----------------------
# One hidden layer of 20 tanh units, trained by L-BFGS to convergence from
# seeds 0 and 1; ``alpha`` is the L2 penalty (weight decay).
setups = {"alpha = 1e-4": 1e-4, "alpha = 1 (weight decay)": 1.0}
runs = {}
for name, alpha in setups.items():
    runs[name] = []
    for seed in (0, 1):
        net = MLPXClassifier(hidden_layer_sizes=(20,), activation="tanh", solver="lbfgs",
                             alpha=alpha, max_iter=3000, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            runs[name].append(net.fit(data.X, data.y))

for name, (a, b) in runs.items():
    print(name)
    for seed, net in zip((0, 1), (a, b)):
        pred = net.predict(X_new)
        print(f"  seed {seed}: training error {1 - net.score(data.X, data.y):.4f}, "
              f"error on the distribution {(pred != y_new).mean():.4f} "
              f"(Bayes + {(pred != y_new).mean() - (bayes_new != y_new).mean():.4f}), "
              f"differs from Bayes on {(pred != bayes_new).mean():.1%} of the "
              f"distribution and {decision_disagreement(net, bayes, data.X):.1%} of the box")
    print(f"  the two seeds differ on {(a.predict(X_new) != b.predict(X_new)).mean():.1%} "
          f"of the distribution and {decision_disagreement(a, b, data.X):.1%} of the box")

# %%
# The figure
# ----------
# Solid and dashed: the two seeds; black: the Bayes-optimal boundary; grey:
# where the seeds disagree, with its share of the plotted box in the legend.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
for ax, (name, (a, b)) in zip(axes, runs.items()):
    plot_decision_boundaries(a, b, data.X, data.y, bayes=bayes, labels=("seed 0", "seed 1"),
                             ax=ax)
    ax.set_title(name)
plt.show()

# %%
# What the figure shows
# ---------------------
# The numbers are those printed above by our run; everything is seeded.
#
# **The optimum.** The Bayes error is 9.24 %; the Bayes classifier makes
# 9.09 % errors on the fresh sample (1.6 standard errors of that estimate, 0.09
# %, below) and 8.75 % on the 400 training points. Its boundary has two curved
# branches.
#
# **Almost no penalty.** Both seeds fit the training points better than the
# Bayes classifier does (training errors 3.0 % and 4.25 %) and are worse on
# the distribution (12.5 % and 13.5 %, 3.4 and 4.4 points above the Bayes
# error): they have learnt the sample, not the distribution. Their boundaries
# wind around single points, differ from the Bayes boundary on 8.0 % and 9.4 %
# of the distribution, and differ from each other on 8.1 % of it, although
# they saw the same data and differ only in their initial weights: two runs,
# two minima, two boundaries, as in the course figure.
#
# **Weight decay.** With alpha = 1 both seeds draw smooth boundaries, with
# errors of 9.94 % and 9.99 % on the distribution (0.85 and 0.89 points above
# the Bayes error) and training errors (9.0 % and 8.75 %) like the Bayes
# classifier's. The two seeds now agree on 99.8 % of the distribution: the
# penalty leaves one minimum where there were many. What remains is a shared
# bias, not noise: both follow the upper branch of the Bayes boundary and the
# left half of the lower one, but cut across where the lower branch bends
# down to the right (x1 > 1), so each differs from the Bayes classifier on
# 3.5 % of the distribution. Over the plotted box the shares are larger (7.8
# % and 8.1 %), since the box gives the empty corners, where no point
# constrains a network, the same weight as the data; the share of the
# distribution is the one that measures how close a network is to the
# optimum.
