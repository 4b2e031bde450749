"""
=====================================================================
Deep linear networks: every local minimum is global (Kawaguchi 2016)
=====================================================================

A network with identity activations computes x -> W x + c, where W is the
product of its weight matrices and has rank at most p, its smallest hidden
width. Baldi & Hornik (1989) for one hidden layer and Kawaguchi (2016) for
any depth proved that its squared loss has no bad local minimum. Under mild
hypotheses on the data every local minimum is global, and the global minimum
has a closed form: with Σ = Y X^T (X X^T)^{-1} X Y^T (centred data, columns
= samples),

    L* = ½ (tr(Y Y^T) - sum of the p largest eigenvalues of Σ) / (n d_y)

in the normalisation of :class:`~mlpx.MLPXRegressor`. The other critical
points are built from other sets of eigenvectors of Σ, and are saddles.

This example checks all of this with :mod:`mlpx.landscape` on random data:

1. networks of 1, 2 and 3 hidden layers trained by L-BFGS from several seeds
   reach L*;
2. the critical points of the other eigenvector subsets have a vanishing
   gradient and, with one hidden layer, a negative Hessian eigenvalue;
3. two global minima found from different seeds can lie in different pieces
   of the set of global minima; every path between such pieces rises to the
   loss of a saddle, while within one piece a curved path stays near L*.
"""

# %%
# Data and the closed-form optimum
# --------------------------------
# 60 samples, 6 inputs, 4 outputs, and a bottleneck of p = 2 < d_y = 4: the
# rank constraint binds, so L* lies above the least-squares loss.
import warnings
from itertools import combinations

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXRegressor
from mlpx.landscape._linear import (
    check_linear_assumptions,
    classify_critical_point,
    critical_point_from_eigenvectors,
    linear_network_optimum,
)
from mlpx.landscape._paths import bezier_path, linear_path

rng = np.random.default_rng(0)
n, d_x, d_y, p = 60, 6, 4, 2
X = rng.normal(size=(n, d_x))
Y = X @ rng.normal(size=(d_x, d_y)) + 0.5 * rng.normal(size=(n, d_y))

checks = check_linear_assumptions(X, Y)
optimum = linear_network_optimum(X, Y, p)
print(f"hypotheses satisfied: {checks.satisfied} (smallest relative eigen-gap "
      f"{checks.relative_min_gap:.3f})")
print("eigenvalues of Σ:", np.round(optimum.eigenvalues, 2))
print(f"L* = {optimum.loss:.6f}, least squares = {optimum.least_squares_loss:.6f}")

# %%
# Training reaches L*
# -------------------
# Eight seeds per depth; every hidden layer is at least p wide and one of them
# is exactly p. ``tol`` is tiny so that L-BFGS stops on its relative-decrease
# test only.
architectures = {1: (2,), 2: (4, 2), 3: (4, 2, 4)}
gaps = {}
for depth, hidden in architectures.items():
    gaps[depth] = []
    for seed in range(8):
        est = MLPXRegressor(hidden_layer_sizes=hidden, activation="identity", solver="lbfgs",
                            alpha=0.0, tol=1e-15, max_iter=20000, max_fun=40000,
                            random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, Y)
        gaps[depth].append((est.loss_ - optimum.loss) / optimum.loss)
    print(f"{depth} hidden layer(s) {hidden}: (loss - L*) / L* from "
          f"{min(gaps[depth]):.1e} to {max(gaps[depth]):.1e}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
ax1.bar(range(1, d_y + 1), optimum.eigenvalues, color=["C0"] * p + ["0.7"] * (d_y - p))
ax1.set_xlabel("eigenvalue of Σ (decreasing)")
ax1.set_title(f"L* keeps the top {p} (blue)")
for depth, g in gaps.items():
    ax2.scatter(np.full(len(g), depth), np.maximum(g, 1e-16), label=str(architectures[depth]))
ax2.set_yscale("log")
ax2.set_xticks(list(architectures))
ax2.set_xlabel("hidden layers")
ax2.set_ylabel("(loss - L*) / L*")
ax2.set_title("final loss of each seed")
ax2.legend(fontsize="small")

# %%
# The other critical points are saddles
# -------------------------------------
# Every subset J of at most p eigenvectors gives a critical point (Baldi &
# Hornik). :func:`classify_critical_point` measures its gradient and the
# smallest eigenvalue of its Hessian (dense, by finite differences of the
# exact gradient: these networks have at most 38 parameters).
points = []
for depth, hidden in ((1, (2,)), (2, (3, 2))):
    for r in range(p + 1):
        for J in combinations(range(d_y), r):
            est = critical_point_from_eigenvectors(X, Y, J, hidden)
            cp = classify_critical_point(est, X, Y)
            points.append((depth, J, cp))
            print(f"{depth} hidden, J={J!s:7s} loss {cp.loss:.4f}  |grad| "
                  f"{cp.grad_norm:.1e}  λ_min {cp.min_eigenvalue:+.2e}  {cp.kind}")

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
markers = {"global minimum": "*", "saddle": "o", "degenerate saddle": "s"}
for depth, color in ((1, "C0"), (2, "C1")):
    for kind, marker in markers.items():
        sel = [cp for d, _, cp in points if d == depth and cp.kind == kind]
        if sel:
            ax.scatter([cp.min_eigenvalue for cp in sel], [cp.loss for cp in sel],
                       marker=marker, s=90 if marker == "*" else 40, color=color,
                       label=f"{depth} hidden: {kind}", alpha=0.8)
ax.axhline(optimum.loss, color="k", lw=0.8, ls=":", label="L*")
ax.axvline(0, color="0.5", lw=0.8)
ax.set_xlabel("smallest Hessian eigenvalue")
ax.set_ylabel("loss")
ax.set_title("critical points of the eigenvector subsets")
ax.legend(fontsize="x-small")

# %%
# Paths between two global minima
# -------------------------------
# Two seeds of the one-hidden-layer network reach L* with different weights.
# Only the product W = W_1 W_2 is fixed (in the estimators' row layout
# ``coefs_[0] @ coefs_[1]``); the factors are fixed up to an invertible 2 x 2
# matrix C, ``coefs_[0] -> coefs_[0] @ C``, ``coefs_[1] -> inv(C) @
# coefs_[1]``. The set of global minima therefore has two connected pieces,
# det C > 0 and det C < 0. A permutation of the two hidden units has det = -1,
# so it moves a network from one piece to the other.
#
# Going from one piece to the other, the 2 x 2 matrix ``coefs_[1] @ U``
# (U = the top two eigenvectors of Σ) changes the sign of its determinant. At
# some point on the way it is singular, and the network then predicts nothing
# along some direction of span(U). The lowest loss it can have there is the
# loss of the saddle J = (0, 2). So *every* path between the two pieces has a
# barrier of at least L(J=(0, 2)) - L*.
from mlpx.landscape._alignment import align, permute_hidden_units

pair = []
for seed in (0, 5):
    est = MLPXRegressor(hidden_layer_sizes=(2,), activation="identity", solver="lbfgs",
                        alpha=0.0, tol=1e-15, max_iter=20000, max_fun=40000,
                        random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pair.append(est.fit(X, Y))
a, b = pair
C = np.linalg.lstsq(a.coefs_[0], b.coefs_[0], rcond=None)[0]
print(f"det C = {np.linalg.det(C):+.3f}; weight matching keeps the units in order: "
      f"{align(a, b).perms[0]}")
swapped = permute_hidden_units(b, [[1, 0]])  # same function, the other piece
bound = next(cp.loss for d, J, cp in points if d == 1 and J == (0, 2)) - optimum.loss
paths = {
    "straight (aligned)": linear_path(a, b, X, Y, align=True),
    "Bezier (aligned)": bezier_path(a, b, X, Y, align=True, n_iter=1500),
    "straight, units swapped": linear_path(a, swapped, X, Y),
    "Bezier, units swapped": bezier_path(a, swapped, X, Y, n_iter=1500),
}
fig, ax = plt.subplots(figsize=(6.4, 4), layout="constrained")
for (name, res), ls in zip(paths.items(), ["-", "-", "--", "--"]):
    ax.plot(res.table.t, res.table.train_loss, ls=ls,
            label=f"{name}: barrier {res.barrier:.3f}")
    print(f"{name:24s} barrier {res.barrier:.4f} at t = {res.barrier_t:.3f}")
print(f"lower bound for any path between the two pieces: {bound:.4f}")
ax.axhline(optimum.loss, color="k", lw=0.8, ls=":", label="L*")
ax.axhline(optimum.loss + bound, color="0.4", lw=0.8, ls="-.",
           label="L(J=(0, 2)): floor of paths across pieces")
ax.set_xlabel("t")
ax.set_ylabel("training loss")
ax.set_title("between two global minima (1 hidden layer of 2)")
ax.legend(fontsize="x-small")
plt.show()

# %%
# What the figures show
# ---------------------
# The numbers are those of our run of this script (printed above). Every step
# is deterministic, so they should reproduce up to rounding differences
# between BLAS builds.
#
# **Training reaches L*.** Σ has eigenvalues 616.7, 450.2, 124.6 and 56.0. L*
# is 0.48703, more than four times the least-squares loss 0.11096, so the
# bottleneck of width 2 matters. All 24 runs (8 seeds of each of 1, 2 and 3
# hidden layers) end above L* by a relative 7e-10 to 1e-8. None ends below it,
# and none stops at another critical point. Deeper networks end slightly
# farther from L* (up to 4e-9 with two hidden layers and 1e-8 with three,
# against 3e-9 with one) because L-BFGS stops on its relative-decrease test.
#
# **The other critical points are saddles.** With one hidden layer, each of
# the 10 other subsets of at most two eigenvectors is a critical point
# (gradient norm below 3e-15). Each has a clearly negative Hessian
# eigenvalue, between -0.85 and -0.37: a saddle, as Baldi & Hornik proved.
# The top pair J = (0, 1) is the global minimum. Its smallest eigenvalue is 0
# up to finite-difference error (-8e-13), the flat directions of the
# invertible-matrix symmetry. With two hidden layers (3, 2), the same subsets
# give the same losses, but J = () and J = (0,) have no negative curvature
# (smallest eigenvalues -4e-17 and -8e-13) at losses 2.71 and 1.43, far above
# L*. These are the "bad" saddles of Kawaguchi's theorem, which exist only
# with more than one hidden layer. A second-order test cannot tell them from
# minima; the closed-form L* can. J = (1,) has a negative eigenvalue of only
# -0.079.
#
# **Paths.** The two seeds' minima are related by a matrix C with det C =
# -0.888: they lie in different pieces of the set of global minima. Weight
# matching, which minimises the L2 distance, keeps the units in order and so
# leaves them there. The straight line then rises by 1.048. A trained Bezier
# curve lowers the rise to 0.942 but cannot go below 0.678, the bound for
# paths between the pieces. Swapping the two hidden units of one network
# (same function) puts both in the same piece. The straight line gets worse
# (1.400), but the Bezier curve now stays within 0.009 of L*. So the minima
# of a linear network are connected, but only within a piece. Alignment that
# minimises the L2 distance does not have to pick the ordering that connects
# them.
