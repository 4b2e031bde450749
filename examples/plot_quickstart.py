"""
=========================================
Quickstart: mlpx next to scikit-learn
=========================================

:class:`mlpx.MLPXClassifier` is a drop-in replacement for scikit-learn's
:class:`~sklearn.neural_network.MLPClassifier`: the same parameters, the same
initial weights for the same ``random_state``, the same updates. Here both fit
the handwritten digits with identical settings; we compare their accuracy and
their fit time.
"""

# %%
# Data
# ----
# 8x8 images of digits, pixel values scaled to [0, 1]; a quarter held out.
import time
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from mlpx import MLPXClassifier

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
print(f"{X_train.shape[0]} training and {X_test.shape[0]} test samples, "
      f"{X.shape[1]} features, {len(set(y))} classes")

# %%
# Fit both with the same settings
# -------------------------------
# Only the class differs. ``n_iter_no_change`` is larger than ``max_iter`` so that
# both run all 40 epochs: the same amount of work. Both are timed under the same
# thread budget (``threadpool_limits`` caps scikit-learn's BLAS threads and
# mlpx's OpenMP threads alike), after a warm-up fit, as the median of three fits.
import statistics

from threadpoolctl import threadpool_limits

from mlpx._threads import effective_n_threads

params = dict(hidden_layer_sizes=(100,), max_iter=40, n_iter_no_change=41,
              random_state=0)
budget = effective_n_threads()

results = {}
with warnings.catch_warnings(), threadpool_limits(limits=budget):
    warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached
    for name, cls in [("scikit-learn", MLPClassifier), ("mlpx", MLPXClassifier)]:
        cls(**params).fit(X_train, y_train)  # warm-up
        times = []
        for _ in range(3):
            clf = cls(**params)
            start = time.perf_counter()
            clf.fit(X_train, y_train)
            times.append(time.perf_counter() - start)
        results[name] = dict(model=clf, seconds=statistics.median(times),
                             train=clf.score(X_train, y_train),
                             test=clf.score(X_test, y_test))

print(f"{budget} thread(s) each; fit time: median of 3 fits after a warm-up")
print(f"{'':14}{'train acc':>10}{'test acc':>10}{'fit (s)':>10}")
for name, r in results.items():
    print(f"{name:14}{r['train']:>10.4f}{r['test']:>10.4f}{r['seconds']:>10.3f}")
speedup = results["scikit-learn"]["seconds"] / results["mlpx"]["seconds"]
print(f"mlpx fits {speedup:.1f}x faster here, on {budget} thread(s) each")

# %%
# Same trajectory
# ---------------
# From the same seed the two follow the same path: their training losses per
# epoch agree to rounding.
sk_curve = results["scikit-learn"]["model"].loss_curve_
mx_curve = results["mlpx"]["model"].loss_curve_
print("largest difference of the loss curves:",
      max(abs(a - b) for a, b in zip(sk_curve, mx_curve, strict=True)))

fig, (ax_loss, ax_time) = plt.subplots(1, 2, figsize=(10, 4))
ax_loss.plot(sk_curve, label="scikit-learn", linewidth=3, alpha=0.5)
ax_loss.plot(mx_curve, "--", label="mlpx")
ax_loss.set(xlabel="epoch", ylabel="training loss", yscale="log",
            title="Loss per epoch")
ax_loss.legend()

names = list(results)
bars = ax_time.bar(names, [results[n]["seconds"] for n in names],
                   color=["tab:blue", "tab:orange"])
ax_time.bar_label(bars, labels=[f"{results[n]['seconds']:.2f} s\n"
                                f"test acc {results[n]['test']:.3f}" for n in names])
ax_time.set(ylabel="fit time (s)",
            title=f"Fit time, 40 epochs, {budget} thread(s) each (median of 3)")
ax_time.margins(y=0.25)
fig.tight_layout()
plt.show()
