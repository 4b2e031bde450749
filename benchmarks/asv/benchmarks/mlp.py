"""asv benchmarks of MLPXClassifier: fit time, fit peak memory, predict time, score.

One class, parameterised over dtype (float64, float32), thread budget (1, 2;
``threadpoolctl.threadpool_limits(limits=t)`` around each call) and
hidden_layer_sizes:

* (10, 10) on digits (``load_digits``, X/16; 1347 training, 450 test rows),
  20 epochs, learning_rate_init=1e-2;
* (100,) on a synthetic 12000 x 784, 10-class problem (10000 training, 2000
  test rows; uniform features centred on 0, labels = argmax of a random linear
  map), 2 epochs, learning_rate_init=3e-3;
* (500, 300) on the same data, 1 epoch, only when the environment variable
  MLPX_ASV_LARGE=1 is set (it takes several seconds per fit).

Every fit runs all its epochs (solver="adam", batch_size=200, tol=0,
n_iter_no_change=epochs+1, random_state=0), so the work is fixed. The learning
rates are chosen so that these few epochs already reach a useful test accuracy
(about 0.85 and 0.65), which ``track_score`` records to catch correctness
regressions alongside the timings.

Run from this directory (benchmarks/asv):

    asv run --python=same --quick        # the installed mlpx, each benchmark once
    asv run main^!                       # build and benchmark the tip of main
    asv continuous main HEAD             # compare two commits
"""

import os
import warnings
from functools import cache

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from mlpx import MLPXClassifier

HIDDEN = [(10, 10), (100,)]
if os.environ.get("MLPX_ASV_LARGE", "") not in ("", "0"):
    HIDDEN.append((500, 300))
EPOCHS = {(10, 10): 20, (100,): 2, (500, 300): 1}
LEARNING_RATE = {(10, 10): 1e-2, (100,): 3e-3, (500, 300): 3e-3}
N_SYNTHETIC_TRAIN = 10000
N_SYNTHETIC_TEST = 2000


def make_synthetic(n_samples, n_features=784, n_classes=10, seed=0):
    """Uniform features; labels from the argmax of a random linear map."""
    rng = np.random.default_rng(seed)
    X = rng.random((n_samples, n_features))
    W = rng.standard_normal((n_features, n_classes))
    y = np.argmax((X - 0.5) @ W, axis=1)
    return X, y


@cache
def load_data(hidden):
    """(X_train, X_test, y_train, y_test) in float64 for a hidden_layer_sizes."""
    if tuple(hidden) == (10, 10):
        X, y = load_digits(return_X_y=True)
        return train_test_split(X / 16.0, y, test_size=0.25, random_state=0, stratify=y)
    X, y = make_synthetic(N_SYNTHETIC_TRAIN + N_SYNTHETIC_TEST)
    X -= 0.5  # centred features: a few epochs then learn the linear labels
    return train_test_split(X, y, test_size=N_SYNTHETIC_TEST, random_state=0, stratify=y)


class MLPXClassifierSuite:
    """Fit, peak memory, predict and accuracy of MLPXClassifier."""

    params = (["float64", "float32"], [1, 2], HIDDEN)
    param_names = ["dtype", "threads", "hidden_layer_sizes"]
    timeout = 120.0

    def setup(self, dtype, threads, hidden):
        X_train, X_test, y_train, y_test = load_data(tuple(hidden))
        self.X_train = X_train.astype(dtype)
        self.X_test = X_test.astype(dtype)
        self.y_train, self.y_test = y_train, y_test
        self.threads = threads
        epochs = EPOCHS[tuple(hidden)]
        self.estimator_params = dict(
            hidden_layer_sizes=tuple(hidden), solver="adam", batch_size=200,
            learning_rate_init=LEARNING_RATE[tuple(hidden)], max_iter=epochs,
            tol=0.0, n_iter_no_change=epochs + 1, early_stopping=False, shuffle=True,
            random_state=0,
        )
        self.fitted = self._fit()  # for time_predict and track_score

    def _fit(self):
        est = MLPXClassifier(**self.estimator_params)
        with threadpool_limits(limits=self.threads), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return est.fit(self.X_train, self.y_train)

    def time_fit(self, dtype, threads, hidden):
        self._fit()

    def peakmem_fit(self, dtype, threads, hidden):
        self._fit()

    def time_predict(self, dtype, threads, hidden):
        with threadpool_limits(limits=self.threads):
            self.fitted.predict(self.X_test)

    def track_score(self, dtype, threads, hidden):
        return float(self.fitted.score(self.X_test, self.y_test))

    track_score.unit = "accuracy"
