"""
==================================================
Grid search over network size and regularisation
==================================================

mlpx estimators work anywhere a scikit-learn estimator does. Here
:class:`mlpx.MLPXClassifier` sits in a :class:`~sklearn.pipeline.Pipeline`
after a :class:`~sklearn.preprocessing.StandardScaler`, and
:class:`~sklearn.model_selection.GridSearchCV` tunes the width of the hidden
layer together with ``alpha``, the strength of the L2 penalty. Because
``alpha`` is divided by the batch size (see the user guide), the useful values
are larger than for a per-sample weight decay.
"""

# %%
# The pipeline and the grid
# -------------------------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from mlpx import MLPXClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

pipe = Pipeline([
    ("scale", StandardScaler()),
    # 30 epochs with a larger step than the default keep the search short.
    ("mlp", MLPXClassifier(max_iter=30, learning_rate_init=0.01, random_state=0)),
])
param_grid = {
    "mlp__hidden_layer_sizes": [(8,), (32,), (64,)],
    "mlp__alpha": [1e-4, 1.0, 10.0, 100.0],
}
search = GridSearchCV(pipe, param_grid,
                      cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0))

# %%
# Search
# ------
# 12 candidates x 3 folds = 36 fits, then one refit on the whole training set.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # 30 epochs on purpose
    search.fit(X_train, y_train)

print("best parameters:", search.best_params_)
print(f"cross-validated accuracy: {search.best_score_:.4f}")
print(f"test accuracy of the refitted pipeline: {search.score(X_test, y_test):.4f}")

# %%
# Heat map of the cross-validated accuracy
# ----------------------------------------
# Rows: hidden layer width; columns: ``alpha``. Wider is better here, a
# moderate penalty helps every width a little, and ``alpha=100`` shrinks the
# weights so hard that the networks barely learn.
widths = [h[0] for h in param_grid["mlp__hidden_layer_sizes"]]
alphas = param_grid["mlp__alpha"]
scores = np.empty((len(widths), len(alphas)))
for params, score in zip(search.cv_results_["params"],
                         search.cv_results_["mean_test_score"], strict=True):
    i = widths.index(params["mlp__hidden_layer_sizes"][0])
    j = alphas.index(params["mlp__alpha"])
    scores[i, j] = score

fig, ax = plt.subplots(figsize=(7, 4.5))
image = ax.imshow(scores, cmap="viridis", vmin=max(0.0, scores.min()), vmax=1.0)
ax.set_xticks(range(len(alphas)), labels=[f"{a:g}" for a in alphas])
ax.set_yticks(range(len(widths)), labels=[str(w) for w in widths])
ax.set(xlabel="alpha", ylabel="hidden units", title="Cross-validated accuracy")
for i in range(len(widths)):
    for j in range(len(alphas)):
        ax.text(j, i, f"{scores[i, j]:.3f}", ha="center", va="center",
                color="white" if scores[i, j] < scores.mean() else "black")
fig.colorbar(image, ax=ax, label="accuracy")
fig.tight_layout()
plt.show()
