"""mlpx.landscape._alignment: hidden-unit permutations and weight matching."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx._engine import n_params, params_of, with_params
from mlpx.landscape._alignment import (
    align,
    canonical_scaling,
    match_units,
    permutation_index,
    permute_hidden_units,
    weight_distance,
)


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 5))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    return X, y


@pytest.fixture(scope="module", params=[(7,), (6, 5), (5, 4, 6)], ids=["1h", "2h", "3h"])
def clf(request, data):
    return _fit(MLPXClassifier(hidden_layer_sizes=request.param, activation="tanh",
                               max_iter=20, random_state=0), *data)


def _random_perms(est, seed):
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for n in est._layer_units[1:-1]]


def test_permuted_network_predicts_identically(clf, data):
    X, _ = data
    twin = permute_hidden_units(clf, _random_perms(clf, 1))
    assert not np.array_equal(twin._params, clf._params)
    np.testing.assert_array_equal(twin.predict(X), clf.predict(X))
    # same function: only the order of the sums over hidden units differs
    np.testing.assert_allclose(twin.predict_proba(X), clf.predict_proba(X), rtol=0, atol=1e-13)


def test_permuted_regressor_predicts_identically(data):
    X, y = data
    reg = _fit(MLPXRegressor(hidden_layer_sizes=(6, 4), activation="relu", max_iter=20,
                             random_state=0), X, y.astype(float))
    twin = permute_hidden_units(reg, _random_perms(reg, 2))
    np.testing.assert_allclose(twin.predict(X), reg.predict(X), rtol=1e-13, atol=1e-13)


def test_permutation_moves_rows_and_columns(data):
    X, y = data
    est = _fit(MLPXClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0), X, y)
    twin = permute_hidden_units(est, [[2, 0, 1]])
    np.testing.assert_array_equal(twin.coefs_[0], est.coefs_[0][:, [2, 0, 1]])
    np.testing.assert_array_equal(twin.intercepts_[0], est.intercepts_[0][[2, 0, 1]])
    np.testing.assert_array_equal(twin.coefs_[1], est.coefs_[1][[2, 0, 1], :])
    np.testing.assert_array_equal(twin.intercepts_[1], est.intercepts_[1])
    assert twin.coefs_[0].base is twin._params  # still views into the buffer


def test_permutation_leaves_original_and_permutes_optimizer_state(clf):
    before = clf._params.copy()
    perms = _random_perms(clf, 3)
    twin = permute_hidden_units(clf, perms)
    np.testing.assert_array_equal(clf._params, before)
    index = permutation_index(clf._layer_units, perms)
    np.testing.assert_array_equal(twin._optimizer.s1, clf._optimizer.s1[index])
    np.testing.assert_array_equal(twin._optimizer.s2, clf._optimizer.s2[index])


def test_alignment_recovers_the_permutation_exactly(clf):
    perms = _random_perms(clf, 4)
    twin = permute_hidden_units(clf, perms)
    aligned, found, _, _ = align(clf, twin)
    # twin's unit j is clf's unit perms[j]; matching undoes it
    for p, q in zip(perms, found):
        np.testing.assert_array_equal(q, np.argsort(p))
    np.testing.assert_array_equal(aligned._params, clf._params)
    raw = weight_distance(clf, twin)
    after = weight_distance(clf, twin, aligned=True)
    assert raw.l2 > 0 and raw.diff_count > 0 and raw.cosine < 0.99
    assert after.l2 == 0.0 and after.diff_count == 0
    assert after.cosine == pytest.approx(1.0)
    assert (raw.aligned, after.aligned) == (False, True)


def test_alignment_never_increases_the_distance(data):
    X, y = data
    a, b = (_fit(MLPXClassifier(hidden_layer_sizes=(8, 6), max_iter=50, random_state=s), X, y)
            for s in (0, 1))
    raw, after = weight_distance(a, b), weight_distance(a, b, aligned=True)
    assert after.l2 < raw.l2
    np.testing.assert_array_equal(align(a, b).estimator.predict(X), b.predict(X))


def test_one_hidden_layer_matching_is_the_brute_force_optimum():
    rng = np.random.default_rng(5)
    sizes = (3, 5, 2)
    n = n_params(sizes)
    a, b = rng.normal(size=n), rng.normal(size=n)
    (found,) = match_units(a, b, sizes)
    from itertools import permutations

    best = min(permutations(range(5)),
               key=lambda p: np.linalg.norm(a - b[permutation_index(sizes, [list(p)])]))
    np.testing.assert_array_equal(found, best)


def test_bad_permutations_and_architectures_are_refused(clf, data):
    X, y = data
    n_hidden = len(clf._layer_units) - 2
    with pytest.raises(ValueError, match="one permutation per hidden layer"):
        permute_hidden_units(clf, [])
    with pytest.raises(ValueError, match="must be a permutation"):
        permute_hidden_units(clf, [np.zeros(n, int) for n in clf._layer_units[1:-1]])
    other = _fit(MLPXClassifier(hidden_layer_sizes=(2,) * n_hidden, max_iter=2), X, y)
    with pytest.raises(ValueError, match="different layer sizes"):
        align(clf, other)
    with pytest.raises(ValueError, match="not fitted"):
        weight_distance(clf, MLPXClassifier())


def _transformed_twin(est, seed, *, flip=False, rescale=False):
    """A copy of est with permuted hidden units, negated (flip) or positively
    rescaled (rescale) ones: the same function."""
    from mlpx.landscape._alignment import sign_vector

    rng = np.random.default_rng(seed)
    sizes = est._layer_units
    perms = _random_perms(est, seed)
    twin = permute_hidden_units(est, perms)
    theta = params_of(twin).astype(np.float64)
    if flip:
        signs = [rng.choice([-1, 1], size=n) for n in sizes[1:-1]]
        theta = theta * sign_vector(sizes, signs)
    if rescale:
        from mlpx._engine import unpack

        coefs, intercepts = unpack(theta, sizes)  # views of theta
        for h in range(len(sizes) - 2):
            c = rng.uniform(0.2, 5.0, size=sizes[h + 1])
            coefs[h] *= c
            intercepts[h] *= c
            coefs[h + 1] /= c[:, None]
    return with_params(twin, theta)


@pytest.mark.parametrize("hidden", [(7,), (6, 5), (5, 4, 6)])
@pytest.mark.parametrize("activation", ["tanh", "identity"])
def test_alignment_recovers_permutations_with_sign_flips_exactly(hidden, activation, data):
    X, y = data
    est = _fit(MLPXClassifier(hidden_layer_sizes=hidden, activation=activation,
                              max_iter=20, random_state=0), X, y)
    twin = _transformed_twin(est, 3, flip=True)
    np.testing.assert_allclose(twin.predict_proba(X), est.predict_proba(X), rtol=1e-12)
    assert weight_distance(est, twin).l2 > 1.0
    # permutations alone cannot undo the flips
    only_perm = align(est, twin, symmetries="permutation").estimator
    assert np.linalg.norm(params_of(only_perm) - params_of(est)) > 1.0
    found = align(est, twin)
    assert any((s < 0).any() for s in found.signs) and not found.rescaled
    np.testing.assert_allclose(params_of(found.estimator), params_of(est), atol=1e-12)
    np.testing.assert_allclose(found.estimator.predict_proba(X), twin.predict_proba(X),
                               rtol=1e-12)
    assert weight_distance(est, twin, aligned=True).l2 < 1e-12


@pytest.mark.parametrize("hidden", [(7,), (6, 5), (5, 4, 6)])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_alignment_recovers_permutations_with_positive_rescalings_exactly(hidden, activation,
                                                                          data):
    X, y = data
    est = _fit(MLPXClassifier(hidden_layer_sizes=hidden, activation=activation,
                              max_iter=20, random_state=0), X, y)
    twin = _transformed_twin(est, 4, rescale=True)
    np.testing.assert_allclose(twin.predict_proba(X), est.predict_proba(X), rtol=1e-10)
    found = align(est, twin)
    assert found.rescaled and all((s > 0).all() for s in found.signs)
    sizes = est._layer_units
    np.testing.assert_allclose(params_of(found.estimator),
                               canonical_scaling(params_of(est), sizes), atol=1e-10)
    np.testing.assert_allclose(found.estimator.predict_proba(X), est.predict_proba(X),
                               rtol=1e-10)
    assert weight_distance(est, twin, aligned=True).l2 < 1e-10
    assert weight_distance(est, twin).l2 > 1.0


def test_logistic_units_are_matched_by_permutation_only(data):
    X, y = data
    est = _fit(MLPXClassifier(hidden_layer_sizes=(6,), activation="logistic",
                              max_iter=20, random_state=0), X, y)
    found = align(est, permute_hidden_units(est, _random_perms(est, 1)))
    assert not found.rescaled and all((s > 0).all() for s in found.signs)
    with pytest.raises(ValueError, match="symmetries must be"):
        align(est, est, symmetries="signs")
