"""Hidden representations of a network, and how similar two of them are (CKA).

Linear centered kernel alignment (Kornblith et al. 2019, "Similarity of neural
network representations revisited") compares two representations R1 (n x p1)
and R2 (n x p2) of the same n samples:

    CKA(R1, R2) = ||R2c^T R1c||_F^2 / (||R1c^T R1c||_F ||R2c^T R2c||_F),

with column-centred R1c, R2c: the HSIC of the linear kernels, normalised. It is
invariant to orthogonal transformations and isotropic scaling of either
representation (not to arbitrary invertible maps), and 1 for R1 = R2. The
plain estimator is biased upwards when the number of features is large
compared with n; the debiased form (Nguyen, Raghu & Kornblith 2021, "Do wide
and deep networks learn the same things?") replaces each HSIC by the unbiased
estimator of Song et al. (2012): with K = R1c R1c^T, L = R2c R2c^T and their
diagonals set to zero (K~, L~),

    HSIC_u(K, L) = [tr(K~ L~) + (1^T K~ 1)(1^T L~ 1) / ((n - 1)(n - 2))
                    - 2 / (n - 2) 1^T K~ L~ 1] / (n (n - 3)).

Both are computed here in feature space, in O(n p1 p2) time and without the
n x n Gram matrices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.utils import check_array

from mlpx._engine import Network, network_of, params_of
from mlpx.landscape._agreement import _check_fitted

if TYPE_CHECKING:
    from mlpx import MLPXClassifier, MLPXRegressor


def _check_pair(R1, R2):
    R1 = check_array(R1, dtype=np.float64, ensure_min_features=1)
    R2 = check_array(R2, dtype=np.float64, ensure_min_features=1)
    if R1.shape[0] != R2.shape[0]:
        raise ValueError(
            f"The representations must describe the same samples: {R1.shape[0]} and "
            f"{R2.shape[0]} rows."
        )
    return R1 - R1.mean(axis=0), R2 - R2.mean(axis=0)


def _hsic_biased(A, B):
    """||B^T A||_F^2 (n^2 times the biased HSIC of centred linear kernels)."""
    return float(np.sum((B.T @ A) ** 2))


def _hsic_unbiased(A, B):
    """Song et al.'s unbiased HSIC of the linear kernels of A and B (feature space)."""
    n = A.shape[0]
    dA, dB = np.einsum("ij,ij->i", A, A), np.einsum("ij,ij->i", B, B)
    sA, sB = A.sum(axis=0), B.sum(axis=0)
    trace = np.sum((B.T @ A) ** 2) - dA @ dB  # sum_{i != j} K_ij L_ij
    KA1 = A @ sA - dA  # K~ 1
    LB1 = B @ sB - dB  # L~ 1
    total = trace + KA1.sum() * LB1.sum() / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * (KA1 @ LB1)
    return float(total / (n * (n - 3)))


def linear_cka(R1: ArrayLike, R2: ArrayLike, *, debiased: bool = False) -> float:
    """Linear CKA of two representations of the same samples.

    Parameters
    ----------
    R1 : array-like of shape (n_samples, p1)
    R2 : array-like of shape (n_samples, p2)
    debiased : bool, default=False
        Use the unbiased HSIC estimator (needs n_samples >= 4). The
        debiased value can be slightly negative for unrelated
        representations.

    Returns
    -------
    cka : float
        In [0, 1] for the plain estimator; nan when a representation is
        constant (zero after centring).
    """
    A, B = _check_pair(R1, R2)
    if debiased:
        if A.shape[0] < 4:
            raise ValueError(f"The debiased CKA needs at least 4 samples, got {A.shape[0]}.")
        hsic = _hsic_unbiased
    else:
        hsic = _hsic_biased
    denom = hsic(A, A) * hsic(B, B)
    if not denom > 0:
        return float("nan")
    return float(hsic(A, B) / np.sqrt(denom))


def hidden_representations(
    est: MLPXClassifier | MLPXRegressor, X: ArrayLike
) -> list[NDArray[np.float64]]:
    """The activations of each hidden layer of a fitted network.

    Computed by the compiled engine, one layer at a time (each layer run as a
    one-layer network whose output activation is the hidden activation), in
    float64.

    Parameters
    ----------
    est : MLPXClassifier or MLPXRegressor
        A fitted network.
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    representations : list of ndarray
        ``representations[l]`` has shape (n_samples, width of hidden layer l).
    """
    _check_fitted(est)
    H = check_array(X, dtype=np.float64, order="C")
    if H.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {H.shape[1]} features; the network takes {est.n_features_in_}.")
    network = network_of(est)
    coefs, intercepts = network.unpack(params_of(est))
    out = []
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        layer = Network(W.shape, network.activation, network.activation,
                        leaky_slope=network.leaky_slope)
        H = layer.forward(np.concatenate([W.ravel(), b]).astype(np.float64), H, n_threads=1)
        out.append(H)
    return out


def cka_matrix(
    est_a: MLPXClassifier | MLPXRegressor,
    est_b: MLPXClassifier | MLPXRegressor,
    X: ArrayLike,
    *,
    debiased: bool = False,
) -> NDArray[np.float64]:
    """Linear CKA between every hidden layer of a and every hidden layer of b.

    Parameters
    ----------
    est_a, est_b : MLPXClassifier or MLPXRegressor
        Fitted networks taking the same inputs (any architectures).
    X : array-like of shape (n_samples, n_features)
    debiased : bool, default=False

    Returns
    -------
    M : ndarray of shape (n_hidden_a, n_hidden_b)
        ``M[i, j]`` = CKA of hidden layer i of a and hidden layer j of b.
    """
    Ra, Rb = hidden_representations(est_a, X), hidden_representations(est_b, X)
    return np.array([[linear_cka(A, B, debiased=debiased) for B in Rb] for A in Ra])
