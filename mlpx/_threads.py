"""Thread counts for the engine, and the BLAS cap while OpenMP threads run."""

import os
from contextlib import contextmanager

from joblib import cpu_count
from threadpoolctl import ThreadpoolController

from mlpx._core._openmp import omp_max_threads

_controller = None


def effective_n_threads():
    """Threads the engine may use.

    OMP_NUM_THREADS and threadpoolctl's limits on the "openmp" API are honoured
    (both lower omp_get_max_threads()); by default, the physical cores.
    """
    n = omp_max_threads()
    if not os.environ.get("OMP_NUM_THREADS"):
        n = min(n, cpu_count(only_physical_cores=True))
    return max(1, n)


@contextmanager
def single_threaded_blas():
    """Cap BLAS at one thread: the engine calls it from its own OpenMP threads."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield
