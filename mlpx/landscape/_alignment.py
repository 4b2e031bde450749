"""Hidden-unit permutations: apply them to a network, and match two networks.

Permuting the units of a hidden layer (the columns of the weights and biases
that feed it and the rows of the weights that leave it) leaves the network's
function unchanged. Two networks trained from different seeds may therefore be
far apart in weight space yet close once their units are matched. Weight
matching (Ainsworth, Hayase & Srinivasa 2023, "Git Re-Basin") picks, layer by
layer, the permutation of b's units that maximises the inner product of the
two weight vectors, which is the one that minimises their L2 distance, since
permutations preserve norms.

A permutation ``perm`` of a hidden layer lists the original units in their
new order: unit ``j`` of the permuted network is unit ``perm[j]`` of the
original.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment

from mlpx._engine import n_params, network_of, params_of, reorder_params, unpack
from mlpx._engine import with_params as with_params
from mlpx.landscape._agreement import _check_fitted, weight_difference_count

if TYPE_CHECKING:
    from mlpx import MLPXClassifier, MLPXRegressor


class Alignment(NamedTuple):
    """The network b with its hidden units matched to those of a.

    Attributes
    ----------
    estimator : MLPXClassifier or MLPXRegressor
        A fitted copy of b with matched hidden units: same function as b.
    perms : list of ndarray
        One permutation per hidden layer (unit ``j`` of the copy is unit
        ``perms[l][j]`` of b).
    signs : list of ndarray
        Per hidden layer, +1 or -1 per unit of the copy: -1 where the unit's
        incoming and outgoing weights were negated (odd activations only).
    rescaled : bool
        Whether both networks were put in canonical scaling first (ReLU and
        leaky ReLU): each hidden unit's incoming weights and bias scaled to
        norm 1, its outgoing weights by the inverse.
    """

    estimator: object
    perms: list
    signs: list
    rescaled: bool


class WeightDistance(NamedTuple):
    """How far apart the parameter vectors of two networks are.

    Attributes
    ----------
    l2 : float
        Euclidean distance of the flat parameter vectors.
    cosine : float
        Cosine similarity of the two vectors (nan if one of them is zero).
    diff_count : int
        Number of parameters differing by more than ``tau``.
    n_params : int
        Number of parameters of each network.
    aligned : bool
        Whether b's hidden units were matched to a's first.
    """

    l2: float
    cosine: float
    diff_count: int
    n_params: int
    aligned: bool


def layer_sizes(est):
    """The layer sizes of a fitted network: inputs, hidden layers, outputs."""
    _check_fitted(est)
    return network_of(est).layer_units


def _check_same_architecture(est_a, est_b):
    sizes_a, sizes_b = layer_sizes(est_a), layer_sizes(est_b)
    if sizes_a != sizes_b:
        raise ValueError(
            f"The networks have different layer sizes {sizes_a} and {sizes_b}: "
            "compare networks of the same architecture."
        )
    return sizes_a


def _check_perms(perms, sizes):
    hidden = sizes[1:-1]
    perms = list(perms)
    if len(perms) != len(hidden):
        raise ValueError(
            f"Give one permutation per hidden layer: {len(hidden)} expected, got "
            f"{len(perms)}."
        )
    out = []
    for l, (p, n) in enumerate(zip(perms, hidden)):
        p = np.asarray(p)
        if p.shape != (n,) or not np.issubdtype(p.dtype, np.integer) or not np.array_equal(
            np.sort(p), np.arange(n)
        ):
            raise ValueError(
                f"perms[{l}] must be a permutation of range({n}) (hidden layer {l} "
                f"has {n} units), got {p!r}."
            )
        out.append(p.astype(np.intp))
    return out


def permutation_index(sizes, perms):
    """Where each parameter of the permuted network comes from.

    Parameters
    ----------
    sizes : sequence of int
        Layer sizes (inputs, hidden layers, outputs).
    perms : sequence of array-like of int
        One permutation per hidden layer.

    Returns
    -------
    index : ndarray of shape (n_params,)
        ``theta[index]`` is the flat parameter vector of the permuted network
        when ``theta`` is that of the original (layout of mlpx's buffer).
    """
    sizes = tuple(int(s) for s in sizes)
    order = [np.arange(sizes[0])] + _check_perms(perms, sizes) + [np.arange(sizes[-1])]
    coefs, intercepts = unpack(np.arange(n_params(sizes)), sizes)
    parts = [W[np.ix_(order[l], order[l + 1])].ravel() for l, W in enumerate(coefs)]
    parts += [b[order[l + 1]] for l, b in enumerate(intercepts)]
    return np.concatenate(parts)


def permute_hidden_units(
    est: MLPXClassifier | MLPXRegressor, perms: Sequence[ArrayLike]
) -> MLPXClassifier | MLPXRegressor:
    """A copy of a fitted network with its hidden units reordered.

    The copy computes exactly the same function. Its optimizer state (the
    moments of Adam, the velocities of SGD) and best parameters are permuted
    too, so a warm-started fit continues as the original would.

    Parameters
    ----------
    est : MLPXClassifier or MLPXRegressor
        A fitted network.
    perms : sequence of array-like of int
        One permutation per hidden layer: unit ``j`` of the copy is unit
        ``perms[l][j]`` of `est`.

    Returns
    -------
    permuted : MLPXClassifier or MLPXRegressor
        A new fitted estimator; `est` is left unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from mlpx import MLPXRegressor
    >>> from mlpx.landscape._alignment import permute_hidden_units
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> est = MLPXRegressor(hidden_layer_sizes=(4,), max_iter=5).fit(X, X[:, 0])
    >>> twin = permute_hidden_units(est, [[3, 1, 0, 2]])
    >>> bool(np.allclose(est.predict(X), twin.predict(X), rtol=1e-13, atol=1e-13))
    True
    """
    index = permutation_index(layer_sizes(est), perms)
    return reorder_params(est, index)


def _similarity(coefs_a, intercepts_a, coefs_b, intercepts_b, order, sign, h,
                outgoing=True):
    """Inner products of a's units (rows) with b's units (columns) in hidden layer h.

    A unit is described by its incoming weights and bias and its outgoing
    weights; b's neighbouring layers are taken in their current order and signs.
    """
    W_in_a, W_in_b = coefs_a[h], coefs_b[h][order[h], :] * sign[h][:, None]
    W_out_a, W_out_b = coefs_a[h + 1], coefs_b[h + 1][:, order[h + 2]] * sign[h + 2]
    S = W_in_a.T @ W_in_b
    S += np.outer(intercepts_a[h], intercepts_b[h])
    if outgoing:
        S += W_out_a @ W_out_b.T
    return S


def match_units(theta_a, theta_b, sizes, *, max_sweeps=100, signs=False):
    """Permutations (and signs) of b's hidden units that bring it closest to a (L2).

    Coordinate ascent: each hidden layer in turn gets the permutation solving
    a linear assignment problem given the current permutations of its
    neighbours; sweeps stop when a whole sweep improves nothing. With one
    hidden layer the first assignment is already the exact optimum. With
    ``signs=True`` a unit may also be negated (its incoming weights, bias and
    outgoing weights), which leaves the function of an odd activation (tanh,
    identity) unchanged: the assignment then maximises |similarity| and each
    matched unit takes the sign of its similarity.

    Parameters
    ----------
    theta_a, theta_b : ndarray of shape (n_params,)
        Flat parameter vectors of two networks with layer sizes `sizes`.
    sizes : sequence of int
    max_sweeps : int, default=100

    signs : bool, default=False

    Returns
    -------
    perms : list of ndarray
        One permutation per hidden layer.
    unit_signs : list of ndarray
        Only with ``signs=True``: +1 or -1 per unit, in the permuted order.
    """
    sizes = tuple(int(s) for s in sizes)
    a = np.asarray(theta_a, dtype=np.float64)
    b = np.asarray(theta_b, dtype=np.float64)
    coefs_a, intercepts_a = unpack(a, sizes)
    coefs_b, intercepts_b = unpack(b, sizes)
    hidden = sizes[1:-1]
    order = [np.arange(sizes[0])] + [np.arange(n) for n in hidden] + [np.arange(sizes[-1])]
    sign = [np.ones(n) for n in sizes]
    if signs:
        # A first pass from the inputs up on incoming weights alone: the layer
        # below is already matched, so a unit's sign is read off reliably
        # (the outgoing weights of still unmatched layers are noise).
        for h in range(len(hidden)):
            S = _similarity(coefs_a, intercepts_a, coefs_b, intercepts_b, order, sign, h,
                            outgoing=False)
            _, order[h + 1] = linear_sum_assignment(np.abs(S), maximize=True)
            rows = np.arange(S.shape[0])
            sign[h + 1] = np.where(S[rows, order[h + 1]] < 0, -1.0, 1.0)
    for _ in range(max_sweeps):
        improved = False
        for h in range(len(hidden)):
            S = _similarity(coefs_a, intercepts_a, coefs_b, intercepts_b, order, sign, h)
            _, cols = linear_sum_assignment(np.abs(S) if signs else S, maximize=True)
            rows = np.arange(S.shape[0])
            new_sign = np.where(S[rows, cols] < 0, -1.0, 1.0) if signs else sign[h + 1]
            gain = ((S[rows, cols] * new_sign).sum()
                    - (S[rows, order[h + 1]] * sign[h + 1]).sum())
            if gain > 1e-12 * max(1.0, np.abs(S).sum()):
                order[h + 1], sign[h + 1] = cols, new_sign
                improved = True
        if not improved:
            break
    perms = [p.astype(np.intp) for p in order[1:-1]]
    return (perms, [s.astype(np.int8) for s in sign[1:-1]]) if signs else perms


def sign_vector(sizes, signs):
    """Per parameter, the factor (+1 or -1) that negating hidden units applies:
    W_l[i, j] gets the signs of unit i below and unit j above, b_l[j] that of j."""
    sizes = tuple(int(s) for s in sizes)
    unit = [np.ones(sizes[0])] + [np.asarray(s, dtype=np.float64) for s in signs] + [
        np.ones(sizes[-1])]
    coefs, intercepts = unpack(np.ones(n_params(sizes)), sizes)
    for l, (W, b) in enumerate(zip(coefs, intercepts)):
        W *= np.outer(unit[l], unit[l + 1])
        b *= unit[l + 1]
    return np.concatenate([W.ravel() for W in coefs] + list(intercepts))


def canonical_scaling(theta, sizes):
    """theta with every hidden unit's incoming weights and bias scaled to norm 1
    and its outgoing weights scaled by the inverse, layer after layer.

    For positively homogeneous activations (ReLU, leaky ReLU: f(cz) = c f(z)
    for c > 0) the network computes the same function, and any two networks
    that differ by positive rescalings of units have the same canonical form.
    Units whose incoming weights and bias are all zero are left as they are.
    """
    sizes = tuple(int(s) for s in sizes)
    out = np.array(theta, dtype=np.float64)
    coefs, intercepts = unpack(out, sizes)  # views of out
    for h in range(len(sizes) - 2):
        norm = np.sqrt((coefs[h] ** 2).sum(axis=0) + intercepts[h] ** 2)
        norm[norm == 0] = 1.0
        coefs[h] /= norm
        intercepts[h] /= norm
        coefs[h + 1] *= norm[:, None]
    return out


_ODD = ("tanh", "identity")
_HOMOGENEOUS = ("relu", "leaky_relu")


def aligned_vectors(theta_a, theta_b, sizes, activation, *, max_sweeps=100):
    """(a, b) as flat vectors in which they are compared modulo every symmetry
    of `activation`: b's units matched to a's (permutations; sign flips for
    tanh and identity), both in canonical scaling for relu and leaky_relu.
    The vector form of :func:`align`, without copying estimators."""
    sizes = tuple(int(s) for s in sizes)
    a = np.asarray(theta_a, dtype=np.float64)
    b = np.asarray(theta_b, dtype=np.float64)
    if activation in _HOMOGENEOUS:
        a, b = canonical_scaling(a, sizes), canonical_scaling(b, sizes)
    if activation in _ODD:
        perms, signs = match_units(a, b, sizes, max_sweeps=max_sweeps, signs=True)
        return a, b[permutation_index(sizes, perms)] * sign_vector(sizes, signs)
    perms = match_units(a, b, sizes, max_sweeps=max_sweeps)
    return a, b[permutation_index(sizes, perms)]


def _symmetries(est_a, est_b, symmetries):
    if symmetries not in ("auto", "permutation"):
        raise ValueError(
            f"symmetries must be 'auto' or 'permutation', got {symmetries!r}.")
    act = est_b.activation
    if symmetries == "permutation" or est_a.activation != act:
        return False, False
    return act in _ODD, act in _HOMOGENEOUS


def align(
    est_a: MLPXClassifier | MLPXRegressor,
    est_b: MLPXClassifier | MLPXRegressor,
    *,
    max_sweeps: int = 100,
    symmetries: str = "auto",
) -> Alignment:
    """Match b's hidden units to a's modulo the symmetries of the activation.

    Parameters
    ----------
    est_a : MLPXClassifier or MLPXRegressor
        The reference network (fitted).
    est_b : MLPXClassifier or MLPXRegressor
        A fitted network of the same architecture; it is not modified.
    max_sweeps : int, default=100
        Most sweeps over the hidden layers (see :func:`match_units`).
    symmetries : {'auto', 'permutation'}, default='auto'
        ``'permutation'``: reorder units only (weight matching). ``'auto'``:
        every symmetry of the hidden activation (both networks must share
        it): permutations always; sign flips too for tanh and identity;
        canonical scaling of both networks first for relu and leaky_relu
        (see :func:`canonical_scaling`); permutations only for logistic and
        softplus.

    Returns
    -------
    alignment : Alignment
        ``(estimator, perms, signs, rescaled)``: a new fitted copy of b with
        matched units (it predicts as b does, to rounding after a rescaling),
        the permutation and signs of each hidden layer, and whether the
        copy is in canonical scaling. After a rescaling the copy's optimizer
        state is b's, reordered: a warm start from it does not continue b's
        trajectory.
    """
    sizes = _check_same_architecture(est_a, est_b)
    flip, rescale = _symmetries(est_a, est_b, symmetries)
    theta_a, theta_b = params_of(est_a), params_of(est_b)
    if rescale:
        theta_a, theta_b = canonical_scaling(theta_a, sizes), canonical_scaling(theta_b, sizes)
    if flip:
        perms, signs = match_units(theta_a, theta_b, sizes, max_sweeps=max_sweeps, signs=True)
    else:
        perms = match_units(theta_a, theta_b, sizes, max_sweeps=max_sweeps)
        signs = [np.ones(len(p), dtype=np.int8) for p in perms]
    index = permutation_index(sizes, perms)
    aligned = permute_hidden_units(est_b, perms)
    if flip or rescale:
        factor = sign_vector(sizes, signs)
        aligned = with_params(aligned, (np.asarray(theta_b, dtype=np.float64)[index]
                                        * factor).astype(params_of(est_b).dtype))
        opt = getattr(aligned, "_optimizer", None)
        if flip and opt is not None:  # first moments / velocities flip, second moments not
            shared = opt.s2 is opt.s1
            opt.s1 = opt.s1 * factor.astype(opt.s1.dtype)
            opt.s2 = opt.s1 if shared else opt.s2
    return Alignment(aligned, perms, signs, rescale)


def weight_distance(
    est_a: MLPXClassifier | MLPXRegressor,
    est_b: MLPXClassifier | MLPXRegressor,
    *,
    aligned: bool = False,
    tau: float = 0.1,
) -> WeightDistance:
    """L2 distance, cosine similarity and count of differing weights.

    Parameters
    ----------
    est_a, est_b : MLPXClassifier or MLPXRegressor
        Fitted networks of the same architecture.
    aligned : bool, default=False
        Match b's hidden units to a's (:func:`align`, modulo every symmetry
        of the activation) before comparing; for ReLU networks both are
        compared in canonical scaling. Compare ``aligned=False`` and
        ``aligned=True`` to see how much of the distance is a mere
        relabelling of units.
    tau : float, default=0.1
        Parameters differing by more than tau are counted.

    Returns
    -------
    distance : WeightDistance
        ``l2``, ``cosine``, ``diff_count``, ``n_params`` and ``aligned``.
    """
    sizes = _check_same_architecture(est_a, est_b)
    a = params_of(est_a).astype(np.float64)
    if aligned:
        alignment = align(est_a, est_b)
        est_b = alignment.estimator
        if alignment.rescaled:
            a = canonical_scaling(a, sizes)
    b = params_of(est_b).astype(np.float64)
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    cosine = float(a @ b / norms) if norms > 0 else float("nan")
    return WeightDistance(
        l2=float(np.linalg.norm(a - b)),
        cosine=cosine,
        diff_count=weight_difference_count(a, b, tau),
        n_params=int(a.size),
        aligned=bool(aligned),
    )
