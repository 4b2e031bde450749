"""The compiled Hessian-vector product against differences of the exact gradient."""

import numpy as np
import pytest

from tests import reference
from tests.conftest import HIDDEN, OUTPUT_LOSS_IDS, OUTPUT_LOSSES, make_problem, network

SIZES = {1: (4, 5, 3), 2: (4, 5, 4, 3)}


def hv(theta, v, sizes, hidden, out, X, Y, alpha, sw=None, loss=None):
    return network(sizes, hidden, out, loss).hessian_vector(theta, v, X, Y, sw, alpha)


@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("out, loss", OUTPUT_LOSSES, ids=OUTPUT_LOSS_IDS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_hessian_vector_matches_differences_of_the_gradient(hidden, out, loss, depth):
    sizes = SIZES[depth]
    X, Y, theta = make_problem(out, sizes, n=15, seed=7)
    sw = np.random.default_rng(8).uniform(0.5, 2, len(X))
    v = np.random.default_rng(9).normal(size=theta.size)
    got = hv(theta, v, sizes, hidden, out, X, Y, 0.2, sw, loss=loss)
    h = 1e-5
    gp = reference.loss_and_gradient(theta + h * v, sizes, hidden, out, X, Y, 0.2, sw,
                                     loss=loss)[1]
    gm = reference.loss_and_gradient(theta - h * v, sizes, hidden, out, X, Y, 0.2, sw,
                                     loss=loss)[1]
    fd = (gp - gm) / (2 * h)
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())


def test_dense_hessian_is_symmetric_and_matches_columnwise_differences():
    sizes = (3, 4, 2)
    X, Y, theta = make_problem("softmax", sizes, n=20, seed=3)
    P = theta.size
    H = np.column_stack([hv(theta, e, sizes, "tanh", "softmax", X, Y, 0.1)
                         for e in np.eye(P)])
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    h = 1e-6
    for i in range(P):
        e = np.zeros(P)
        e[i] = h
        col = (reference.loss_and_gradient(theta + e, sizes, "tanh", "softmax", X, Y, 0.1)[1]
               - reference.loss_and_gradient(theta - e, sizes, "tanh", "softmax", X, Y, 0.1)[1]
               ) / (2 * h)
        np.testing.assert_allclose(H[:, i], col, rtol=1e-6, atol=1e-7)


def test_float32_hessian_vector_is_close_to_float64():
    sizes = (4, 6, 3)
    X, Y, theta = make_problem("identity", sizes, n=30, seed=1)
    v = np.random.default_rng(2).normal(size=theta.size)
    h64 = hv(theta, v, sizes, "softplus", "identity", X, Y, 0.1)
    h32 = hv(theta.astype(np.float32), v.astype(np.float32), sizes, "softplus",
             "identity", X.astype(np.float32), Y.astype(np.float32), 0.1)
    assert h32.dtype == np.float32
    np.testing.assert_allclose(h32, h64, rtol=1e-4, atol=1e-5 * np.abs(h64).max())
