"""The compiled engine against central finite differences and a NumPy reference."""

import numpy as np
import pytest
import scipy.sparse
from mlpx._core._openmp import openmp_enabled
from mlpx._core._predict import forward
from mlpx._core._testing import narrow_tiles, tile_grid, training_plan, wide_tiles
from mlpx._core._train import Trainer
from mlpx._core._types import Status, StepRule

from mlpx._core import _gradient
from mlpx._engine import engine_input, n_params
from tests import reference
from tests.conftest import HIDDEN, OUTPUT_LOSS_IDS, OUTPUT_LOSSES, make_problem, network

DEPTHS = {1: (4, 5, 3), 2: (4, 5, 4, 3), 3: (4, 5, 4, 3, 3)}
EMPTY = {np.float64: np.empty(0), np.float32: np.empty(0, dtype=np.float32)}


def engine_loss_grad(theta, sizes, hidden, out, X, Y, alpha, sw=None, n_threads=1,
                     loss=None):
    return network(sizes, hidden, out, loss).loss_gradient(theta, X, Y, sw, alpha,
                                                           n_threads=n_threads)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("out, loss", OUTPUT_LOSSES, ids=OUTPUT_LOSS_IDS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_gradient_matches_central_differences(hidden, out, loss, depth, weighted, dtype):
    # outputs: identity = (multi-output) squared error, softmax = log-loss,
    # logistic = (multilabel) binary log-loss, exp = Poisson; 3 outputs each;
    # then the squared error on softmax, logistic and exp outputs.
    sizes = DEPTHS[depth]
    X, Y, theta = make_problem(out, sizes, dtype=dtype)
    sw = np.random.default_rng(3).uniform(0, 3, X.shape[0]) if weighted else None
    alpha = 0.3
    _, grad = engine_loss_grad(theta, sizes, hidden, out, X, Y, alpha, sw, loss=loss)
    assert grad.dtype == dtype
    # Differences are taken in float64 at the same point, so the float32 engine
    # is checked against an accurate derivative (to float32 accuracy).
    t64, X64, Y64 = theta.astype(np.float64), X.astype(np.float64), Y.astype(np.float64)
    h = 1e-6
    fd = np.empty_like(t64)
    for i in range(t64.size):
        e = np.zeros_like(t64)
        e[i] = h
        lp, _ = engine_loss_grad(t64 + e, sizes, hidden, out, X64, Y64, alpha, sw, loss=loss)
        lm, _ = engine_loss_grad(t64 - e, sizes, hidden, out, X64, Y64, alpha, sw, loss=loss)
        fd[i] = (lp - lm) / (2 * h)
    tol = 1e-6 if dtype == np.float64 else 2e-3
    np.testing.assert_allclose(grad, fd, rtol=tol, atol=tol * np.abs(fd).max())


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("out, loss", OUTPUT_LOSSES, ids=OUTPUT_LOSS_IDS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_engine_matches_numpy_reference(hidden, out, loss, depth, dtype):
    sizes = DEPTHS[depth]
    X, Y, theta = make_problem(out, sizes, n=40, seed=1, dtype=dtype)
    sw = np.random.default_rng(2).uniform(0.2, 2.0, X.shape[0])
    ref_loss, ref_grad = reference.loss_and_gradient(
        theta.astype(float), sizes, hidden, out, X.astype(float), Y.astype(float), 0.1,
        sw, loss=loss,
    )
    value, grad = engine_loss_grad(theta, sizes, hidden, out, X, Y, 0.1, sw, loss=loss)
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    assert value == pytest.approx(ref_loss, rel=rtol)
    np.testing.assert_allclose(grad, ref_grad, rtol=rtol * 10,
                               atol=rtol * np.abs(ref_grad).max())
    # forward pass (prediction path)
    out_arr = np.empty((X.shape[0], sizes[-1]), dtype=dtype)
    forward(network(sizes, hidden, out).core, theta, X, out_arr, 1)
    _, xs = reference.forward(theta.astype(float), sizes, hidden, out, X.astype(float))
    np.testing.assert_allclose(out_arr, xs[-1], rtol=rtol * 10, atol=rtol)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_forward_check_finite_refuses_non_finite_input_untouched(bad, dtype):
    # predict skips validate_data for plain arrays and lets the engine look for
    # NaN / inf: it must say so and compute nothing, whatever the position.
    sizes = (4, 5, 3)
    net = network(sizes, "relu", "softmax").core
    X, _, theta = make_problem("softmax", sizes, n=37, dtype=dtype)
    out = np.empty((X.shape[0], 3), dtype=dtype)
    assert forward(net, theta, X, out, 1, check_finite=True)
    want = out.copy()
    for i in (0, X.size // 2, X.size - 1):  # first, middle, last (the vector tail)
        Xb = X.copy()
        Xb.flat[i] = bad
        out[:] = -7
        assert not forward(net, theta, Xb, out, 1, check_finite=True)
        assert (out == -7).all()
    # without the check the call computes as before
    assert forward(net, theta, X, out, 1)
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("sizes", [(30, 200, 50, 10), (784, 64, 10)])
def test_large_batches_split_into_chunks_match_reference(sizes):
    # Big enough that the batch is cut into several chunks and gradient tasks,
    # and that BLAS (not the small-matrix loops) does the products.
    X, Y, theta = make_problem("softmax", sizes, n=700, seed=3)
    theta *= 0.1
    ref_loss, ref_grad = reference.loss_and_gradient(theta, sizes, "tanh", "softmax",
                                                     X, Y, 1e-3)
    for n_threads in (1, 2):
        loss, grad = engine_loss_grad(theta, sizes, "tanh", "softmax", X, Y, 1e-3,
                                      n_threads=n_threads)
        assert loss == pytest.approx(ref_loss, rel=1e-12)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("block", [1, 64, 299, 700])
def test_a_data_set_cut_into_row_blocks_gives_the_reference_loss_and_gradient(
        block, sparse, dtype):
    # A large data set is summed block by block, each block scaled by the
    # total weight; the first 300 rows weigh nothing, so blocks of 1 and 64
    # rows include some whose own weight is zero.
    sizes = (30, 40, 20, 5)
    X, Y, theta = make_problem("softmax", sizes, n=700, seed=5, dtype=dtype)
    theta *= 0.3
    X[X < 0.5] = 0  # sparse enough to make the CSR form differ from dense
    sw = np.random.default_rng(5).uniform(0, 2, 700).astype(dtype)
    sw[:300] = 0
    ref_loss, ref_grad = reference.loss_and_gradient(
        theta.astype(float), sizes, "tanh", "softmax", X.astype(float), Y.astype(float),
        0.1, sw.astype(float))
    net = network(sizes, "tanh", "softmax")
    X_engine, csr = engine_input(scipy.sparse.csr_matrix(X) if sparse else X, dtype)
    grads = []
    for n_threads in (1, 2):
        grad = np.empty_like(theta)
        loss = _gradient.loss_gradient(net.core, theta, X_engine, Y, sw, 0.1, grad,
                                       n_threads, block=block, **csr)
        rtol = 1e-12 if dtype == np.float64 else 2e-5
        assert loss == pytest.approx(ref_loss, rel=rtol)
        np.testing.assert_allclose(grad, ref_grad, rtol=rtol * 10,
                                   atol=rtol * np.abs(ref_grad).max())
        grads.append(grad)
    assert np.array_equal(grads[0], grads[1])
    with pytest.raises(ValueError, match="block"):
        _gradient.loss_gradient(net.core, theta, X_engine, Y, sw, 0.1, grad, 1, block=-1,
                                **csr)


def test_gradient_is_bit_identical_for_any_thread_count():
    sizes = (50, 120, 60, 7)
    X, Y, theta = make_problem("softmax", sizes, n=1000, seed=4)
    _, g1 = engine_loss_grad(theta, sizes, "relu", "softmax", X, Y, 1e-2, n_threads=1)
    _, g2 = engine_loss_grad(theta, sizes, "relu", "softmax", X, Y, 1e-2, n_threads=2)
    _, g3 = engine_loss_grad(theta, sizes, "relu", "softmax", X, Y, 1e-2, n_threads=3)
    assert np.array_equal(g1, g2) and np.array_equal(g1, g3)


def _assert_tasks_partition_every_weight_matrix(sizes, tasks):
    for layer in range(len(sizes) - 1):
        cover = np.zeros((sizes[layer], sizes[layer + 1]), dtype=int)
        for l, i0, i1, j0, j1 in tasks:
            if l == layer:
                assert i1 > i0 and j1 > j0
                cover[i0:i1, j0:j1] += 1
        assert (cover == 1).all()


@pytest.mark.parametrize("sizes, batch, chunk_rows, first_layer_tasks", [
    ((784, 100, 10), 200, 100, 6),     # the benchmark network: 2 chunks, 6 tasks of 131 rows
    ((784, 500, 300, 10), 200, 100, 6),
    ((64, 10, 10, 10), 200, 200, 1),   # too little work to split
    ((784, 100, 10), 37, 37, 1),
])
def test_chunk_plan_partitions_the_batch_and_each_layer(sizes, batch, chunk_rows,
                                                        first_layer_tasks):
    # the plan of CPUs without the AVX-512 tiles (forced here with the AVX2 ones)
    with narrow_tiles():
        plan = training_plan(network(sizes, "relu", "softmax").core, batch)
    assert not plan["grid"]
    assert plan["chunk_rows"] == chunk_rows
    _assert_tasks_partition_every_weight_matrix(sizes, plan["tasks"])
    assert all(j0 == 0 and j1 == sizes[l + 1] for l, _, _, j0, j1 in plan["tasks"])
    assert sum(t[0] == 0 for t in plan["tasks"]) == first_layer_tasks
    with pytest.raises(ValueError, match="batch_size"):
        training_plan(network(sizes, "relu", "softmax").core, 0)


@pytest.mark.parametrize("sizes, batch", [((64, 10, 10, 10), 200), ((784, 100, 10), 37)])
def test_batches_too_small_to_split_keep_the_chunk_plan(sizes, batch):
    with tile_grid():
        plan = training_plan(network(sizes, "relu", "softmax").core, batch)
    assert not plan["grid"] and plan["chunk_rows"] == batch


@pytest.mark.skipif(not wide_tiles(), reason="the tile grid runs on the AVX-512 tiles only")
@pytest.mark.parametrize("sizes", [(784, 100, 10), (784, 500, 300, 10)])
def test_every_large_region_of_a_batch_has_32_tiles_of_similar_cost(sizes):
    # a batch of 200 on the grid: each region holding 5 % or more of the
    # batch's flops (the first layer's products, and the second's of
    # 784-500-300-10) feeds at least 32 threads, its tiles within 25 % of each
    # other; a plan that cuts rows only (2 chunks of 100) fails this
    with tile_grid():
        plan = training_plan(network(sizes, "relu", "softmax").core, 200)
    assert plan["grid"]
    _assert_tasks_partition_every_weight_matrix(sizes, plan["tasks"])
    total = sum(sum(tiles) for _, tiles in plan["regions"])
    large = [(name, tiles) for name, tiles in plan["regions"] if sum(tiles) >= 0.05 * total]
    expected = {(784, 100, 10): {"forward 0", "gradient 0"},
                (784, 500, 300, 10): {"forward 0", "forward 1", "backward 1", "gradient 0",
                                      "gradient 1"}}[sizes]
    assert {name for name, _ in large} == expected
    for name, tiles in large:
        assert len(tiles) >= 32, name
        assert max(tiles) <= 1.25 * min(tiles), name
    # the row blocks of the grid cover the batch
    assert -(-200 // plan["chunk_rows"]) * plan["chunk_rows"] >= 200


def test_epoch_refuses_an_order_of_the_wrong_length():
    # the compiled epoch reads sample_idx[i] for every row: a short order must
    # be refused before it, not read past its end
    from mlpx import MLPXClassifier

    X, y = make_problem("softmax", (6, 5, 3), n=50, seed=1)[:2]
    est = MLPXClassifier(hidden_layer_sizes=(5,), max_iter=1).fit(X, y.argmax(1))
    params = est._params.copy()
    opt = est._optimizer
    trainer = Trainer(est._mlpx_network().core, 20, 1e-4, StepRule.ADAM, 1e-3,
                      beta_1=0.9, beta_2=0.999, epsilon=1e-8)
    with pytest.raises(ValueError, match="order has 10 entries for 50 rows"):
        trainer.epoch(params, opt.s1.copy(), opt.s2.copy(), opt.t, opt.learning_rate, X, y,
                      EMPTY[np.float64], np.arange(10, dtype=np.intp), 1)
    assert np.array_equal(params, est._params)


def test_saturated_outputs_give_finite_loss_and_gradient():
    sizes = (3, 4, 2)
    X, Y, theta = make_problem("logistic", sizes)
    X *= 1e4  # drives the outputs to exactly 0 or 1
    for out in ("logistic", "softmax"):
        loss, grad = engine_loss_grad(theta, sizes, "identity", out, X, Y, 0.0)
        assert np.isfinite(loss) and np.isfinite(grad).all()


def test_build_reports_openmp():
    # The default build must have OpenMP; only an explicit MLPX_NO_OPENMP=1 build lacks it.
    import os

    assert openmp_enabled() or os.environ.get("MLPX_NO_OPENMP") == "1"


def test_divergence_stops_every_thread_count_at_the_same_mini_batch():
    # A network whose batches are split across threads, and a step size that
    # overflows the weights within the first epoch: every thread count stops
    # after the same mini-batch, with the same (diverged) parameters.
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    sizes = np.array([300, 256, 128, 10], dtype=np.intp)
    X = rng.normal(size=(2000, 300))
    Y = np.eye(10)[rng.integers(0, 10, 2000)]
    theta0 = rng.normal(scale=0.05, size=n_params(sizes))
    order = rng.permutation(2000).astype(np.intp)
    outcomes = []
    trainer = Trainer(network(sizes, "relu", "softmax").core, 200, 1e-4, StepRule.SGD, 1e7,
                      momentum=0.9, nesterov=True)
    for threads in (1, 2, 3, 8):
        params, s1 = theta0.copy(), np.zeros_like(theta0)
        with threadpool_limits(threads, user_api="openmp"):
            loss_sum, n_batches, status, steps = trainer.epoch(
                params, s1, s1, 0, 1e7, X, Y, np.empty(0), order, threads)
        assert status == Status.DIVERGED
        outcomes.append((n_batches, steps, loss_sum, params.tobytes()))
    assert 0 < outcomes[0][0] < 9
    assert all(o == outcomes[0] for o in outcomes[1:])


@pytest.mark.skipif(not wide_tiles(), reason="the tile grid runs on the AVX-512 tiles only")
@pytest.mark.parametrize("out, loss", OUTPUT_LOSSES, ids=OUTPUT_LOSS_IDS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_tile_grid_matches_numpy_reference(hidden, out, loss, dtype):
    # a batch large enough for the grid, whose hidden layers are cut into
    # column blocks (the activations and their derivatives applied block by
    # block) and whose first gradient into row x column blocks; on one thread
    # (coarse schedule) and eight (fine): the same bits, and the reference's
    # loss and gradient
    sizes = (300, 120, 60, 3)
    with tile_grid():
        plan = training_plan(network(sizes, hidden, out, loss).core, 200)
        assert plan["grid"]
        assert {j1 - j0 for l, _, _, j0, j1 in plan["tasks"] if l == 0} != {120}
        X, Y, theta = make_problem(out, sizes, n=200, seed=5, dtype=dtype)
        theta = (theta * 0.1).astype(dtype)  # 300 inputs: keep the units unsaturated
        sw = np.random.default_rng(6).uniform(0.2, 2.0, X.shape[0])
        one = engine_loss_grad(theta, sizes, hidden, out, X, Y, 0.1, sw, n_threads=1,
                               loss=loss)
        eight = engine_loss_grad(theta, sizes, hidden, out, X, Y, 0.1, sw, n_threads=8,
                                 loss=loss)
    assert one[0] == eight[0] and np.array_equal(one[1], eight[1])
    ref_loss, ref_grad = reference.loss_and_gradient(
        theta.astype(float), sizes, hidden, out, X.astype(float), Y.astype(float), 0.1,
        sw, loss=loss)
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    assert one[0] == pytest.approx(ref_loss, rel=rtol)
    np.testing.assert_allclose(one[1], ref_grad, rtol=rtol * 10,
                               atol=rtol * np.abs(ref_grad).max())
