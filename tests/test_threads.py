"""Thread control: threadpoolctl and OMP_NUM_THREADS set the engine's threads."""

import os
import subprocess
import sys

import mlpx._core._forward_backward  # noqa: F401  (loads the engine's OpenMP runtime)
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


def test_forward_calls_blas_only_beyond_the_tile_kernels():
    # A multi-threaded predict caps BLAS at one thread only when the forward
    # pass will call it; the decision follows the engine's chunks (256 to
    # 1024 rows: all of them up to 1024) and what the tiles take (m n k <= 3e5,
    # or in float32 at most 256 rows).
    import numpy as np
    from mlpx._core._forward_backward import _gemm, forward_calls_blas

    kernels = _gemm("N", "N", 1.0, np.ones((1, 1)), np.ones((1, 1)), 0.0,
                    np.ones((1, 1)), "small")
    digits_net = np.array([64, 10, 10, 10], dtype=np.intp)
    wide = np.array([1000, 10, 2], dtype=np.intp)  # 256 x 1000 x 10 = 2.56e6
    narrow = np.array([100, 30, 2], dtype=np.intp)  # 327 x 100 x 30 = 9.8e5
    assert forward_calls_blas(digits_net, 400) is (not kernels)  # 400 x 64 x 10
    assert forward_calls_blas(digits_net, 5000) is True  # 1024 x 64 x 10
    assert forward_calls_blas(wide, 5000) is True  # float64: BLAS above 3e5
    assert forward_calls_blas(wide, 5000, single=True) is (not kernels)  # 256 rows
    assert forward_calls_blas(narrow, 5000, single=True) is True
    # a sparse first layer is the engine's own loop; the rest is small
    assert forward_calls_blas(wide, 5000, True) is (not kernels)
    assert forward_calls_blas(digits_net, 0) is False
