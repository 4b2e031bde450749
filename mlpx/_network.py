"""One flat parameter buffer per network; coefs_ / intercepts_ are views into it.

The buffer holds W_0, ..., W_{L-1} (row-major, fan_in x fan_out) followed by
b_0, ..., b_{L-1}: the order in which scikit-learn packs them for L-BFGS. This
vector is "the parameter vector" of the landscape tools.
"""

import numpy as np

#: Activation name -> code understood by the compiled engine (_core/_activations.pxd).
ACTIVATION_CODES = {
    "identity": 0,
    "logistic": 1,
    "tanh": 2,
    "relu": 3,
    "leaky_relu": 4,
    "softplus": 5,
    "softmax": 6,
    "exp": 7,
}
HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu", "leaky_relu", "softplus")


def n_params(sizes):
    """Number of weights and biases of a network with these layer sizes."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def unpack(params, sizes):
    """Views of the flat buffer as (coefs, intercepts) lists, no copy."""
    coefs, intercepts = [], []
    start = 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        coefs.append(params[start : start + fan_in * fan_out].reshape(fan_in, fan_out))
        start += fan_in * fan_out
    for fan_out in sizes[1:]:
        intercepts.append(params[start : start + fan_out])
        start += fan_out
    return coefs, intercepts


def pack(coefs, intercepts, dtype):
    """A new flat buffer holding copies of coefs and intercepts."""
    return np.concatenate(
        [np.asarray(a, dtype=dtype).ravel() for a in list(coefs) + list(intercepts)]
    )


def glorot_uniform(rng, sizes, activation, dtype):
    """scikit-learn's initialisation, drawing from rng in scikit-learn's order.

    Each layer draws U(-b, b) with b = sqrt(factor / (fan_in + fan_out)),
    factor 2 for logistic hidden units and 6 otherwise; coefs then intercept,
    layer by layer. With the same random_state, mlpx and scikit-learn start
    from identical weights.
    """
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rng.uniform(-bound, bound, fan_out))
    return pack(coefs, intercepts, dtype)
