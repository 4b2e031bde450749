"""A slow, obvious NumPy reference of the engine, for the tests to compare against.

Everything is written out from the formulas, with no shared code with mlpx:
s^(l) = x^(l-1) W_l + b_l, x^(l) = sigma(s^(l)); the loss is scikit-learn's
(squared error 0.5*mean over samples and outputs, log-loss, binary log-loss,
half Poisson deviance), weighted by sample weights, plus alpha/(2 sum w) ||W||^2.
"""

import numpy as np


def _slope(name):
    """(name, leaky ReLU slope): a hidden activation is a name or (name, slope)."""
    return name if isinstance(name, tuple) else (name, 0.01)


def activation(name, s):
    if name == "identity":
        return s
    if name == "logistic":
        return 1.0 / (1.0 + np.exp(-s))
    if name == "tanh":
        return np.tanh(s)
    if name == "relu":
        return np.maximum(s, 0)
    name, slope = _slope(name)
    if name == "leaky_relu":
        return np.where(s > 0, s, slope * s)
    if name == "softplus":
        return np.logaddexp(0, s)
    if name == "exp":
        return np.exp(s)
    if name == "softmax":
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise ValueError(name)


def derivative(name, s):
    """d sigma / d s at the pre-activation s (hidden activations only)."""
    if name == "identity":
        return np.ones_like(s)
    if name == "logistic":
        z = activation("logistic", s)
        return z * (1 - z)
    if name == "tanh":
        return 1 - np.tanh(s) ** 2
    if name == "relu":
        return (s > 0).astype(s.dtype)
    name, slope = _slope(name)
    if name == "leaky_relu":
        return np.where(s > 0, 1.0, slope)
    if name == "softplus":
        return activation("logistic", s)
    raise ValueError(name)


def unpack(theta, sizes):
    coefs, intercepts, start = [], [], 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        coefs.append(theta[start : start + a * b].reshape(a, b))
        start += a * b
    for b in sizes[1:]:
        intercepts.append(theta[start : start + b])
        start += b
    return coefs, intercepts


def forward(theta, sizes, hidden, out, X):
    """Pre-activations and activations of every layer (inputs first)."""
    coefs, intercepts = unpack(theta, sizes)
    xs, ss = [X], []
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        s = xs[-1] @ W + b
        ss.append(s)
        xs.append(activation(out if i == len(coefs) - 1 else hidden, s))
    return ss, xs


def data_loss(out, Y, P, sw, loss=None):
    """Per-sample loss (before weighting), as scikit-learn defines it; with
    loss 'squared_error', half the squared error on any output."""
    eps = np.finfo(P.dtype).eps
    if out == "identity" or loss == "squared_error":
        return 0.5 * ((Y - P) ** 2).mean(axis=1)
    if out == "exp":
        with np.errstate(divide="ignore", invalid="ignore"):
            ylog = np.where(Y > 0, Y * np.log(np.where(Y > 0, Y, 1) / P), 0.0)
        return (ylog - Y + P).sum(axis=1)
    Pc = np.clip(P, eps, 1 - eps)
    if out == "softmax":
        return -(Y * np.log(Pc)).sum(axis=1)
    if out == "logistic":
        return -(Y * np.log(Pc) + (1 - Y) * np.log(1 - Pc)).sum(axis=1)
    raise ValueError(out)


def output_jacobian(out, P):
    """dp/ds of each row of the outputs P: an (n, k, k) array."""
    n, k = P.shape
    if out == "softmax":
        return np.einsum("ij,jk->ijk", P, np.eye(k)) - np.einsum("ij,ik->ijk", P, P)
    d = {"logistic": P * (1 - P), "exp": P, "identity": np.ones_like(P)}[out]
    return np.einsum("ij,jk->ijk", d, np.eye(k))


def loss_and_gradient(theta, sizes, hidden, out, X, Y, alpha, sample_weight=None,
                      loss=None):
    """scikit-learn's objective and its exact gradient, by the delta recursion
    (loss 'squared_error': half the squared error on the output activation)."""
    n = X.shape[0]
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    sw_sum = sw.sum()
    coefs, _ = unpack(theta, sizes)
    ss, xs = forward(theta, sizes, hidden, out, X)
    P = xs[-1]
    value = (sw * data_loss(out, Y, P, sw, loss)).sum() / sw_sum
    value += 0.5 * alpha * sum((W**2).sum() for W in coefs) / sw_sum
    if loss == "squared_error":
        # dE_i/dp = w (p - y) / k, then through the output's Jacobian
        g = (P - Y) * sw[:, None] / Y.shape[1]
        delta = np.einsum("ij,ijk->ik", g, output_jacobian(out, P))
    else:
        # canonical link: dE_i/ds = p - y (squared error: divided by the outputs)
        delta = (P - Y) * sw[:, None]
        if out == "identity":
            delta = delta / Y.shape[1]
    grads_W, grads_b = [None] * len(coefs), [None] * len(coefs)
    for layer in range(len(coefs) - 1, -1, -1):
        grads_W[layer] = (xs[layer].T @ delta + alpha * coefs[layer]) / sw_sum
        grads_b[layer] = delta.sum(axis=0) / sw_sum
        if layer > 0:
            delta = (delta @ coefs[layer].T) * derivative(hidden, ss[layer - 1])
    grad = np.concatenate([g.ravel() for g in grads_W + grads_b])
    return value, grad
