"""Thread control: threadpoolctl and OMP_NUM_THREADS set the engine's threads."""

import os
import subprocess
import sys

import mlpx._core._engine  # noqa: F401  (loads the engine's OpenMP runtime)
import numpy as np
import pytest
from mlpx._core._openmp import omp_max_threads
from threadpoolctl import threadpool_info, threadpool_limits

from mlpx._threads import effective_n_threads


def _engine_pools():
    # The OpenMP runtime the engine links, as threadpoolctl sees it.
    return [p for p in threadpool_info() if p["user_api"] == "openmp"]


def test_engine_openmp_runtime_is_visible_to_threadpoolctl():
    assert _engine_pools(), threadpool_info()


def test_threadpool_limits_on_openmp_makes_the_engine_single_threaded():
    with threadpool_limits(limits=1, user_api="openmp"):
        assert omp_max_threads() == 1
        assert effective_n_threads() == 1
    assert effective_n_threads() >= 1


def test_omp_num_threads_is_honoured_and_reported():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    code = ("import mlpx; from mlpx._threads import effective_n_threads; "
            "print(effective_n_threads()); mlpx.show_versions()")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, timeout=120).stdout
    first, rest = out.split("\n", 1)
    assert first == "1"
    assert "engine threads: 1" in rest
    assert "openmp" in rest  # the thread pools section lists the OpenMP runtime


def test_forward_calls_blas_only_for_products_the_tiles_do_not_take():
    # A predict caps BLAS at one thread (under a budget of two or more) when
    # one of the forward pass's products is BLAS's, not the tiles' (m n k <=
    # 3e5, in float32 A @ B of at most 256 rows, or at most 16 rows): threaded
    # BLAS rounds differently. With only the tiles there is no cap to set.
    from mlpx._core._predict import calls_blas
    from mlpx._core._testing import _gemm

    from mlpx._engine import Network

    def cap(sizes, n, sparse=False, single=False):
        return calls_blas(Network(sizes, "relu", "softmax").core, n, sparse, single)

    kernels = _gemm("N", "N", 1.0, np.ones((1, 1)), np.ones((1, 1)), 0.0,
                    np.ones((1, 1)), "small")
    digits_net = np.array([64, 10, 10, 10], dtype=np.intp)
    wide = np.array([1000, 10, 2], dtype=np.intp)  # 256 x 1000 x 10 = 2.56e6
    narrow = np.array([100, 30, 2], dtype=np.intp)  # 327 x 100 x 30 = 9.8e5
    mnist = np.array([784, 100, 10], dtype=np.intp)
    assert cap(digits_net, 5000) is True  # 1024 x 64 x 10 chunks
    assert cap(digits_net, 400) is False  # 400 x 64 x 10: the tiles
    assert cap(mnist, 100) is True  # one chunk, but BLAS's
    assert cap(mnist, 16) is False  # 16 rows: the tiles
    assert cap(wide, 5000) is True  # float64: BLAS above 3e5
    assert cap(wide, 5000, single=True) is (not kernels)  # 256 rows
    assert cap(narrow, 5000, single=True) is True
    assert cap(np.array([784, 500, 10], dtype=np.intp), 5000, single=True) is (
        not kernels)  # 256-row chunks of A @ B
    # a sparse first layer is the engine's own loop; the rest is small
    assert cap(wide, 5000, True) is (not kernels)
    assert cap(digits_net, 0) is False


@pytest.mark.parametrize("hidden", [(100,), (500,)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predict_is_bit_identical_under_one_or_two_thread_budgets(dtype, hidden):
    # 16 rows: the tiles; 200: one chunk (float64: BLAS, capped at one thread;
    # float32: the tiles);
    # 3000: chunks on two engine threads, BLAS capped at one
    from mlpx import MLPXClassifier

    rng = np.random.default_rng(0)
    X = rng.random((3000, 784)).astype(dtype)
    y = rng.integers(0, 10, 3000)
    with threadpool_limits(limits=1):
        model = MLPXClassifier(hidden, max_iter=2, random_state=0).fit(X[:600], y[:600])
    for n in (16, 200, 3000):
        out = []
        for t in (1, 2):
            with threadpool_limits(limits=t):
                out.append(model.predict_proba(X[:n]))
        np.testing.assert_array_equal(out[0], out[1])


def test_blas_cap_holds_inside_and_restores_every_library_after():
    from mlpx._threads import single_threaded_blas

    def blas_threads():
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        assert before and max(before) == 2
        with single_threaded_blas():
            assert set(blas_threads()) == {1}
            with single_threaded_blas():  # nested (another engine call): still one
                assert set(blas_threads()) == {1}
            assert set(blas_threads()) == {1}
        assert blas_threads() == before
        with pytest.raises(RuntimeError), single_threaded_blas():
            raise RuntimeError("engine failed")
        assert blas_threads() == before


def test_tile_grid_follows_mlpx_tile_grid_and_else_the_core_count(monkeypatch):
    from mlpx import _threads

    monkeypatch.setenv("MLPX_TILE_GRID", "1")
    assert _threads.tile_grid_default() is True
    monkeypatch.setenv("MLPX_TILE_GRID", "0")
    assert _threads.tile_grid_default() is False
    monkeypatch.setenv("MLPX_TILE_GRID", "yes")
    with pytest.raises(ValueError, match="MLPX_TILE_GRID must be 0 or 1, got 'yes'"):
        _threads.tile_grid_default()
    monkeypatch.delenv("MLPX_TILE_GRID")
    assert _threads.tile_grid_default() == (_threads._physical_cores() >= 8)
