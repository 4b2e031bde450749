"""Fit and predict the same model N times and print the resident memory.

A leak in the compiled engine (a workspace not freed, say) would show as
steady growth; allocator noise settles after the first iterations.

    python scripts/memory_growth.py [N]        (default 1000)
"""

import sys
import warnings

from sklearn.datasets import make_classification

from mlpx import MLPXClassifier, MLPXRegressor


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("needs Linux /proc")


def main(n_iter=1000):
    warnings.simplefilter("ignore")
    X, y = make_classification(500, 30, n_classes=3, n_informative=6, random_state=0)
    models = [
        (MLPXClassifier(hidden_layer_sizes=(64, 32), max_iter=3, random_state=0), y),
        (MLPXRegressor(hidden_layer_sizes=(32,), solver="lbfgs", max_iter=20,
                       random_state=0), y.astype(float)),
    ]
    marks = {}
    for i in range(1, n_iter + 1):
        for model, target in models:
            model.fit(X, target).predict(X)
        if i in (10, 100) or i % 250 == 0:
            marks[i] = rss_mb()
            print(f"iteration {i:5d}: RSS {marks[i]:8.1f} MB", flush=True)
    growth = marks[max(marks)] - marks[100]
    print(f"growth from iteration 100 to {max(marks)}: {growth:+.1f} MB")
    return 0 if growth < 5 else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
