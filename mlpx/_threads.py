"""Thread counts for the engine, and the BLAS cap while OpenMP threads run."""

import functools
import os
import threading
from contextlib import contextmanager

import threadpoolctl
from joblib import cpu_count
from threadpoolctl import ThreadpoolController

from mlpx._core._openmp import omp_max_threads

_controller = None
# A pthreads OpenBLAS has one process-wide pool, and threadpoolctl (>= 3.8) lets
# only one "controlling" Python thread change it. Engine calls from several
# Python threads therefore share one cap: set by the first to enter, lifted by
# the last to leave, each taking control of the pool explicitly.
_lock = threading.Lock()
_users = 0
_limiter = None


@functools.cache
def _physical_cores():
    # joblib reads the cgroup CPU quota files on every call (about 0.1 ms);
    # the machine does not change while the process runs.
    return cpu_count(only_physical_cores=True)


def effective_n_threads():
    """Threads the engine may use.

    OMP_NUM_THREADS and threadpoolctl's limits on the "openmp" API are honoured
    (both lower omp_get_max_threads()); by default, the physical cores.
    """
    n = omp_max_threads()
    if not os.environ.get("OMP_NUM_THREADS"):
        n = min(n, _physical_cores())
    return max(1, n)


@contextmanager
def single_threaded_blas():
    """Cap BLAS at one thread: the engine calls it from its own OpenMP threads."""
    global _controller, _users, _limiter
    with _lock:
        if _users == 0:
            if _controller is None:
                _controller = ThreadpoolController()
            _take_blas_control()
            _limiter = _controller.limit(limits=1, user_api="blas")
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                _take_blas_control()
                _limiter.restore_original_limits()
                _limiter = None
                _take_blas_control()  # and hand it back to whoever asks next


def _take_blas_control():
    """Release threadpoolctl's OpenBLAS controlling thread (no-op before 3.8)."""
    clear = getattr(threadpoolctl.OpenBLASController, "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)
