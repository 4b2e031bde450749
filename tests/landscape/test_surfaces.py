"""mlpx.landscape._surfaces: loss surfaces on planes, their directions and figures."""

import select
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import matplotlib.axes
import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx._engine import network_of, params_of, targets_of, unpack, with_params
from mlpx.landscape._alignment import align as align_units
from mlpx.landscape._alignment import canonical_scaling
from mlpx.landscape._losses import data_loss
from mlpx.landscape._paths import NetworkLoss
from mlpx.landscape._surfaces import (
    LossSurface,
    Plane,
    loss_surface,
    plane_through,
    plot_loss_surface,
    random_directions,
)
from tests import reference


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    return X[:400], y[:400], X[400:600], y[400:600]


@pytest.fixture(scope="module")
def trio(digits):
    X, y, _, _ = digits
    return [_fit(MLPXClassifier(hidden_layer_sizes=(16,), max_iter=60, random_state=s), X, y)
            for s in (0, 1, 2)]


def _penalised(est, X, y, theta, alpha):
    """The estimator's own loss at theta: its data loss (NumPy, from its
    predicted outputs) plus alpha / (2 n) * sum of squared weights."""
    twin = with_params(est, theta)
    return data_loss(twin, X, y) + alpha / (2 * len(X)) * sum(
        (W**2).sum() for W in twin.coefs_)


# ---------------------------------------------------------------------------
# The grid against losses evaluated one by one
# ---------------------------------------------------------------------------
def test_corners_and_centre_equal_losses_evaluated_one_by_one(trio, digits):
    X, y, X_test, y_test = digits
    est = trio[0]
    alpha = 1e-2
    s = loss_surface(est, X, y, random_state=0, resolution=7, X_test=X_test, y_test=y_test,
                     alpha=alpha)
    assert s.train_loss.shape == s.test_loss.shape == (7, 7)
    assert s.x[3] == 0.0 and s.y[3] == 0.0  # the centre is the network itself
    theta = params_of(est).astype(np.float64)
    assert s.train_loss[3, 3] == pytest.approx(_penalised(est, X, y, theta, alpha), rel=1e-12)
    assert s.test_loss[3, 3] == pytest.approx(
        _penalised(est, X_test, y_test, theta, alpha), rel=1e-12)
    train, test = NetworkLoss(est, X, y, alpha), NetworkLoss(est, X_test, y_test, alpha)
    frame = s.to_frame().set_index(["x", "y"])
    for i, j in [(0, 0), (0, 6), (6, 0), (6, 6), (3, 3)]:
        point = s.origin + s.x[i] * s.directions[0] + s.y[j] * s.directions[1]
        one_by_one = _penalised(est, X, y, point, alpha)
        assert s.train_loss[i, j] == pytest.approx(one_by_one, rel=1e-12)
        assert s.train_loss[i, j] == pytest.approx(train(point), rel=1e-12)
        assert s.test_loss[i, j] == pytest.approx(test(point), rel=1e-12)
        row = frame.loc[(s.x[i], s.y[j])]
        assert (row.train_loss, row.test_loss) == (s.train_loss[i, j], s.test_loss[i, j])
    # a step of one filter norm from the trained network raises the loss
    assert s.train_loss[[0, 0, 6, 6], [0, 6, 0, 6]].min() > s.train_loss[3, 3]


def test_to_frame_lists_every_grid_point_once(trio, digits):
    X, y, _, _ = digits
    s = loss_surface(trio[0], X, y, random_state=1, resolution=(4, 3))
    df = s.to_frame()
    assert list(df.columns) == ["x", "y", "train_loss"] and len(df) == 12
    assert len(df.drop_duplicates(["x", "y"])) == 12
    for row in df.itertuples():
        i, j = np.flatnonzero(s.x == row.x)[0], np.flatnonzero(s.y == row.y)[0]
        assert row.train_loss == s.train_loss[i, j]
    np.testing.assert_array_equal(s.x, np.linspace(-1, 1, 4))
    np.testing.assert_array_equal(s.y, np.linspace(-1, 1, 3))


MODELS = [
    ("classifier", "relu", {}),
    ("classifier", "tanh", {"loss": "squared_error"}),
    ("binary", "logistic", {}),
    ("multilabel", "softplus", {}),
    ("regressor", "identity", {}),
    ("regressor", "leaky_relu", {}),
    ("poisson", "tanh", {"loss": "poisson"}),
]


def _problem(kind, n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    if kind == "classifier":
        return X, rng.integers(0, 4, n)
    if kind == "binary":
        return X, (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    if kind == "multilabel":
        return X, (rng.random((n, 3)) < 0.4).astype(int)
    if kind == "poisson":
        return X, rng.poisson(np.exp(0.3 * X[:, 0]))
    return X, np.c_[X[:, 0] - X[:, 1], X[:, 2] ** 2]


@pytest.mark.parametrize("kind, hidden, extra", MODELS,
                         ids=[f"{k}-{h}" for k, h, _ in MODELS])
@pytest.mark.parametrize("n", [40, 2500])  # one chunk of rows; several with a short last one
def test_grid_equals_a_plain_numpy_evaluation(kind, hidden, extra, n):
    X, y = _problem(kind, n)
    cls = MLPXRegressor if kind in ("regressor", "poisson") else MLPXClassifier
    est = _fit(cls(hidden_layer_sizes=(6, 4), activation=hidden, max_iter=20,
                   random_state=0, **extra), X, y)
    net = network_of(est)
    Y = targets_of(est, y).astype(np.float64)
    s = loss_surface(est, X, y, random_state=3, resolution=(3, 4), alpha=0.3,
                     extent=(-0.7, 0.4, -0.2, 0.9))
    for i, j in [(0, 0), (1, 2), (2, 3), (2, 1)]:
        theta = s.origin + s.x[i] * s.directions[0] + s.y[j] * s.directions[1]
        expected, _ = reference.loss_and_gradient(theta, net.layer_units, hidden,
                                                  net.out_activation, X, Y, 0.3,
                                                  loss=net.loss)
        assert s.train_loss[i, j] == pytest.approx(expected, rel=1e-12)


def test_float32_models_are_evaluated_in_float64_and_the_float32_kernel_agrees(digits):
    X, y, _, _ = digits
    est = _fit(MLPXClassifier(hidden_layer_sizes=(12,), max_iter=30, random_state=0),
               X.astype(np.float32), y)
    assert params_of(est).dtype == np.float32
    net = network_of(est)
    Y = targets_of(est, y).astype(np.float64)
    s = loss_surface(est, X, y, random_state=0, resolution=3)
    theta = s.origin + s.x[0] * s.directions[0] + s.y[2] * s.directions[1]
    expected, _ = reference.loss_and_gradient(theta, net.layer_units, "relu", "softmax",
                                              X, Y, 0.0)
    assert s.train_loss[0, 2] == pytest.approx(expected, rel=1e-12)
    # the engine's float32 path: the point rounded to float32, computed in float32
    coords = np.array([[s.x[0], s.y[2]], [0.0, 0.0]])
    got = net.losses_at(params_of(est), s.directions, coords, X, Y)
    theta32 = theta.astype(np.float32).astype(np.float64)
    for value, point in zip(got, [theta32, params_of(est).astype(np.float64)]):
        expected, _ = reference.loss_and_gradient(point, net.layer_units, "relu",
                                                  "softmax", X, Y, 0.0)
        # float32 rounding of about 64 products per unit: ~1e-5 relative at most
        assert value == pytest.approx(expected, rel=1e-5)


def test_thread_count_does_not_change_the_grid():
    X, y = load_digits(return_X_y=True)  # 1797 rows: several chunks of rows
    est = _fit(MLPXClassifier(hidden_layer_sizes=(32,), max_iter=20, random_state=0),
               X / 16, y)
    grids = [loss_surface(est, X / 16, y, random_state=0, resolution=(5, 4), alpha=1e-3,
                          n_threads=t).train_loss for t in (1, 2, 3)]
    assert np.isfinite(grids[0]).all() and np.unique(grids[0]).size == 20
    for g in grids[1:]:
        np.testing.assert_array_equal(g, grids[0])


# ---------------------------------------------------------------------------
# Filter normalisation
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def deep(digits):
    X, y, _, _ = digits
    return _fit(MLPXClassifier(hidden_layer_sizes=(9, 5), max_iter=30, random_state=0),
                X, y)


def test_filter_normalisation_follows_its_definition(deep):
    sizes = network_of(deep).layer_units
    d = random_directions(deep, random_state=7)
    raw = np.random.RandomState(7).standard_normal((2, d.shape[1]))
    assert d.shape == raw.shape
    for direction, draw in zip(d, raw):
        d_coefs, d_intercepts = unpack(direction, sizes)
        g_coefs, _ = unpack(draw, sizes)
        for W, D, G in zip(deep.coefs_, d_coefs, g_coefs):
            for j in range(W.shape[1]):  # filter j: the incoming weights of unit j
                w, dj, gj = W[:, j], D[:, j], G[:, j]
                assert np.linalg.norm(dj) == pytest.approx(np.linalg.norm(w), rel=1e-12)
                np.testing.assert_allclose(dj, gj * np.linalg.norm(w) / np.linalg.norm(gj),
                                           rtol=1e-12)
        assert all((b == 0).all() for b in d_intercepts)  # biases stay fixed (Li et al.)
    assert not np.allclose(d[0], d[1])


def test_layer_normalisation_raw_draws_and_copied_biases(deep):
    sizes = network_of(deep).layer_units
    raw = np.random.RandomState(3).standard_normal((1, network_of(deep).n_params))[0]
    layer = random_directions(deep, 3, normalization="layer", biases="copy", n_directions=1)
    plain = random_directions(deep, 3, normalization=None, n_directions=1)
    assert layer.shape == plain.shape == (1, raw.size)
    l_coefs, l_intercepts = unpack(layer[0], sizes)
    p_coefs, p_intercepts = unpack(plain[0], sizes)
    g_coefs, _ = unpack(raw, sizes)
    for W, L, P, G in zip(deep.coefs_, l_coefs, p_coefs, g_coefs):
        np.testing.assert_allclose(L, G * np.linalg.norm(W) / np.linalg.norm(G), rtol=1e-12)
        np.testing.assert_array_equal(P, G)
    for b, lb, pb in zip(deep.intercepts_, l_intercepts, p_intercepts):
        np.testing.assert_array_equal(lb, b)
        assert (pb == 0).all()


def test_a_unit_without_incoming_weights_gets_no_direction(deep):
    theta = params_of(deep).copy()
    coefs, _ = unpack(theta, network_of(deep).layer_units)
    coefs[1][:, 2] = 0.0  # unit 2 of the second hidden layer
    d = random_directions(with_params(deep, theta), random_state=0)
    for direction in d:
        D = unpack(direction, network_of(deep).layer_units)[0][1]
        assert (D[:, 2] == 0).all() and (np.linalg.norm(D, axis=0)[[0, 1, 3, 4]] > 0).all()


# ---------------------------------------------------------------------------
# The plane through three networks
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("align, symmetries", [(False, "permutation"), (True, "permutation"),
                                               (True, "auto")])
def test_the_plane_through_three_networks_passes_through_each(digits, activation, align,
                                                              symmetries):
    X, y, _, _ = digits
    nets = [_fit(MLPXClassifier(hidden_layer_sizes=(10,), activation=activation,
                                max_iter=40, random_state=s), X, y) for s in (0, 1, 2)]
    plane = plane_through(*nets, align=align, symmetries=symmetries)
    assert plane.aligned is align and set(plane.points) == {"a", "b", "c"}
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-12)
    (ax, ay), (bx, by), (cx, cy) = (plane.points[k] for k in "abc")
    assert (ax, ay, by) == (0.0, 0.0, 0.0) and bx > 0 and cy > 0
    # a, b at two corners of one grid, c at the corner of another
    s_ab = loss_surface(nets[0], X, y, plane, extent=(0.0, bx, 0.0, cy), resolution=2)
    s_c = loss_surface(nets[0], X, y, plane, extent=(cx, cx + 1, cy, cy + 1), resolution=2)
    for value, est in [(s_ab.train_loss[0, 0], nets[0]), (s_ab.train_loss[1, 0], nets[1]),
                       (s_c.train_loss[0, 0], nets[2])]:
        assert value == pytest.approx(data_loss(est, X, y), rel=1e-12)
    # the points are the networks' own parameter vectors, b's and c's units
    # reordered (and, with 'auto', signs flipped or units rescaled)
    twins = nets if not align else [nets[0]] + [
        align_units(nets[0], est, symmetries=symmetries).estimator for est in nets[1:]]
    rescaled = align and symmetries == "auto" and activation == "relu"
    if rescaled:
        twins[0] = with_params(nets[0], canonical_scaling(params_of(nets[0]),
                                                          network_of(nets[0]).layer_units))
    for (px, py), est in zip(plane.points.values(), twins):
        point = plane.origin + px * plane.directions[0] + py * plane.directions[1]
        np.testing.assert_allclose(point, params_of(est), rtol=0, atol=1e-12)
    if align and not rescaled:  # relabelling leaves a where it is
        np.testing.assert_array_equal(plane.origin, params_of(nets[0]))
    # the default extent holds the three points with a margin
    x0, x1, y0, y1 = plane.extent
    assert x0 < min(0, cx) and x1 > max(bx, cx) and y0 < 0 and y1 > cy


def test_aligning_brings_the_networks_closer_in_the_plane(digits):
    X, y, _, _ = digits
    nets = [_fit(MLPXClassifier(hidden_layer_sizes=(10,), activation="tanh", max_iter=40,
                                random_state=s), X, y) for s in (0, 1, 2)]
    raw, aligned = plane_through(*nets), plane_through(*nets, align=True)
    assert aligned.points["b"][0] < raw.points["b"][0]
    assert np.hypot(*aligned.points["c"]) < np.hypot(*raw.points["c"])


def test_the_default_extent_is_the_planes_own(trio, digits):
    X, y, _, _ = digits
    plane = plane_through(*trio, margin=0.1)
    s = loss_surface(trio[0], X, y, plane, resolution=3)
    assert (s.x[0], s.x[-1], s.y[0], s.y[-1]) == plane.extent
    assert s.points == plane.points
    np.testing.assert_array_equal(s.origin, plane.origin)


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------
def test_contour_and_heatmap_show_the_grid_and_the_points(trio, digits, monkeypatch):
    X, y, X_test, y_test = digits
    # the contour set, however the matplotlib version files it under the Axes
    drawn = []
    contour = matplotlib.axes.Axes.contour
    monkeypatch.setattr(matplotlib.axes.Axes, "contour",
                        lambda self, *a, **k: drawn.append(contour(self, *a, **k)) or drawn[-1])
    s = loss_surface(trio[0], X, y, plane_through(*trio), resolution=(6, 5), X_test=X_test,
                     y_test=y_test)
    ax = plot_loss_surface(s, kind="heatmap", which="test")
    mesh = ax.collections[0]
    np.testing.assert_array_equal(np.asarray(mesh.get_array()).ravel(),
                                  s.test_loss.T.ravel())
    assert [t.get_text() for t in ax.texts] == ["a", "b", "c"]
    markers = [(line.get_xdata()[0], line.get_ydata()[0]) for line in ax.get_lines()]
    assert markers == list(s.points.values())
    _, ax2 = plt.subplots()
    assert s.plot(ax2, kind="contour", levels=8) is ax2
    levels = drawn[-1].levels
    assert len(levels) == 8
    assert levels[0] == pytest.approx(s.train_loss.min()) and levels[-1] == pytest.approx(
        s.train_loss.max())
    np.testing.assert_allclose(np.diff(np.log(levels)), np.log(levels[1] / levels[0]))


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------
def test_bad_input_is_a_clear_value_error(trio, digits):
    X, y, X_test, y_test = digits
    est = trio[0]
    n = network_of(est).n_params
    d = random_directions(est, random_state=0)
    cases = [
        (dict(X=X[:, :10]), "features"),
        (dict(y=y[:-1]), "samples"),
        (dict(directions=d[:1]), r"\(2, %d\)" % n),
        (dict(directions=d[:, :-1]), "directions has shape"),
        (dict(directions=d, origin=np.zeros(n - 1)), "origin has shape"),
        (dict(directions=np.where(np.arange(n) == 5, np.nan, d)), "finite"),
        (dict(directions=d, origin=np.full(n, np.inf)), "finite"),
        (dict(directions=np.vstack([d[0], np.zeros(n)])), "zero"),
        (dict(X=np.where(np.arange(64) == 3, np.nan, X)), "NaN"),
        (dict(resolution=1), "resolution"),
        (dict(resolution=2.5), "resolution"),
        (dict(resolution=(5,)), "resolution"),
        (dict(resolution=(5, 1)), "resolution"),
        (dict(extent=(1, -1, -1, 1)), "extent"),
        (dict(extent=(-1, 1, -1)), "extent"),
        (dict(extent=(-1, 1, -1, np.inf)), "extent"),
        (dict(X_test=X_test), "X_test and y_test"),
        (dict(alpha=-1.0), "alpha"),
        (dict(n_threads=0), "n_threads"),
        (dict(directions=plane_through(*trio), origin=np.zeros(n)), "origin or a Plane"),
    ]
    for kwargs, match in cases:
        args = dict(X=X, y=y) | kwargs
        with pytest.raises(ValueError, match=match):
            loss_surface(est, args.pop("X"), args.pop("y"), **args)
    with pytest.raises(NotFittedError):
        loss_surface(MLPXClassifier(), X, y)
    with pytest.raises(NotFittedError):
        random_directions(MLPXClassifier())
    for kwargs, match in [(dict(normalization="unit"), "normalization"),
                          (dict(biases="random"), "biases"),
                          (dict(n_directions=0), "n_directions")]:
        with pytest.raises(ValueError, match=match):
            random_directions(est, **kwargs)


def test_the_engine_refuses_shapes_that_would_read_past_its_buffers(trio, digits):
    X, y, _, _ = digits
    net, theta = network_of(trio[0]), params_of(trio[0]).astype(np.float64)
    Y = targets_of(trio[0], y)
    d, c = np.ones((2, theta.size)), np.zeros((3, 2))
    for args in [(theta[:-1], d, c, X, Y), (theta, d[:, :-1], c, X, Y),
                 (theta, d, np.zeros((3, 3)), X, Y), (theta, d[:0], c[:, :0], X, Y),
                 (theta, d, c, X[:, :-1], Y), (theta, d, c, X, Y[:-1]),
                 (theta, d, c, X, Y[:, :-1]), (theta, d, c, X[:0], Y[:0])]:
        with pytest.raises(ValueError):
            net.losses_at(*args)
    assert net.losses_at(theta, d, c[:0], X, Y).shape == (0,)


def test_planes_that_are_no_planes_are_refused(trio, digits):
    X, y, _, _ = digits
    a, b, c = trio
    with pytest.raises(ValueError, match="same parameters"):
        plane_through(a, a, c)
    # c on the line through a and b
    mid = with_params(a, (params_of(a) + params_of(b)) / 2)
    with pytest.raises(ValueError, match="one line"):
        plane_through(a, b, mid)
    other = _fit(MLPXClassifier(hidden_layer_sizes=(7,), max_iter=5, random_state=0), X, y)
    with pytest.raises(ValueError, match="layer sizes"):
        plane_through(a, b, other)
    with pytest.raises(ValueError, match="margin"):
        plane_through(a, b, c, margin=-1)
    with pytest.raises(ValueError, match="symmetries"):
        plane_through(a, b, c, align=True, symmetries="scaling")
    with pytest.raises(NotFittedError):
        plane_through(a, b, MLPXClassifier(hidden_layer_sizes=(16,)))


def test_bad_plot_arguments(trio, digits):
    X, y, _, _ = digits
    s = loss_surface(trio[0], X, y, random_state=0, resolution=3)
    assert isinstance(s, LossSurface) and isinstance(plane_through(*trio), Plane)
    for kwargs, match in [(dict(kind="surface"), "kind"), (dict(which="val"), "which"),
                          (dict(which="test"), "no test loss"), (dict(levels=1), "levels")]:
        with pytest.raises(ValueError, match=match):
            plot_loss_surface(s, **kwargs)


# ---------------------------------------------------------------------------
# Ctrl-C
# ---------------------------------------------------------------------------
CHILD = textwrap.dedent("""
    import signal, warnings
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if inherited ignored
    import numpy as np
    from mlpx import MLPXClassifier
    from mlpx.landscape._surfaces import loss_surface
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X, y = rng.random((20000, 100)), rng.integers(0, 5, 20000)
    clf = MLPXClassifier(hidden_layer_sizes=(256, 256), max_iter=1).fit(X[:500], y[:500])
    print("ready", flush=True)
    try:
        loss_surface(clf, X, y, random_state=0)  # 2601 points of ~4 GFLOP each
        print("finished", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
""")


def _readline(proc, timeout=120):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, f"no line from the child within {timeout} s"
    return proc.stdout.readline().strip()


def test_ctrl_c_stops_a_long_surface_quickly():
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert _readline(proc) == "ready"
        time.sleep(1.0)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        line = _readline(proc)
        reaction = time.perf_counter() - sent
    finally:
        proc.kill()
        proc.wait()
    assert line == "interrupted"
    # the calling thread looks for signals after each chunk of rows (milliseconds)
    assert reaction < 1.0, reaction
