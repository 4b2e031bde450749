import os

# scikit-learn's check_array_api_input runs only when scipy sees this at import.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest

from mlpx._engine import Network, n_params

# ("leaky_relu", 0.1): leaky ReLU of slope 0.1 (seed 003's), not the default 0.01
HIDDEN = ["identity", "logistic", "tanh", "relu", "leaky_relu", ("leaky_relu", 0.1),
          "softplus"]
OUTPUTS = ["identity", "softmax", "logistic", "exp"]
# (output activation, loss): each output's own loss, then the squared error on
# the nonlinear outputs
OUTPUT_LOSSES = [(out, None) for out in OUTPUTS] + [
    (out, "squared_error") for out in ("softmax", "logistic", "exp")]
OUTPUT_LOSS_IDS = [out if loss is None else f"{out}-squared" for out, loss in OUTPUT_LOSSES]


def make_problem(out, sizes, n=12, seed=0, dtype=np.float64):
    """Random inputs, targets suited to the output, and small random parameters."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    k = sizes[-1]
    if out == "identity":
        Y = rng.normal(size=(n, k))
    elif out == "softmax":
        Y = np.eye(k)[rng.integers(0, k, n)]
    elif out == "logistic":
        Y = (rng.random((n, k)) < 0.5).astype(float)
    else:  # exp / poisson
        Y = rng.poisson(1.5, size=(n, k)).astype(float)
    theta = rng.normal(scale=0.5, size=n_params(sizes))
    return X.astype(dtype), Y.astype(dtype), theta.astype(dtype)


def network(sizes, hidden, out, loss=None):
    """The engine's Network of these layer sizes, activations and loss (hidden:
    a name, or (name, leaky ReLU slope))."""
    if isinstance(hidden, tuple):
        return Network(sizes, hidden[0], out, loss, leaky_slope=hidden[1])
    return Network(sizes, hidden, out, loss)


@pytest.fixture(params=[np.float64, np.float32], ids=["float64", "float32"])
def dtype(request):
    return request.param
