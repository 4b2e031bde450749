"""The engine's OpenMP runtime: built with it or not, its thread count, the cost of a region."""
from time import perf_counter

from cython.parallel cimport prange

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int mlpx_openmp_enabled(void) { return 1; }
    static int mlpx_omp_max_threads(void) { return omp_get_max_threads(); }
    #else
    static int mlpx_openmp_enabled(void) { return 0; }
    static int mlpx_omp_max_threads(void) { return 1; }
    #endif
    """
    int mlpx_openmp_enabled() noexcept nogil
    int mlpx_omp_max_threads() noexcept nogil


def openmp_enabled():
    """Whether the engine was compiled with OpenMP."""
    return bool(mlpx_openmp_enabled())


def omp_max_threads():
    """omp_get_max_threads() of the engine's runtime (1 without OpenMP).

    It follows OMP_NUM_THREADS and threadpoolctl's limits on the "openmp" API.
    """
    return mlpx_omp_max_threads()


def parallel_regions_seconds(int n_threads, Py_ssize_t n_chunks, Py_ssize_t n_tasks,
                             Py_ssize_t repeats):
    """Seconds per batch of the engine's two parallel regions, with no work in them.

    Each repeat opens the regions a training batch opens (see batch_gradient):
    a dynamic loop over `n_chunks`, then one over `n_tasks`, on `n_threads`
    threads. What remains is the runtime's cost: waking the threads, dealing
    the iterations and the barrier at each region's end. For benchmarks.
    """
    cdef Py_ssize_t r, i
    cdef double[64] sink
    if n_threads < 1 or repeats < 1 or not 1 <= n_chunks <= 64 or not 1 <= n_tasks <= 64:
        raise ValueError(f"need n_threads >= 1, repeats >= 1 and 1 to 64 chunks and tasks, "
                         f"got n_threads={n_threads}, n_chunks={n_chunks}, "
                         f"n_tasks={n_tasks}, repeats={repeats}")
    for i in range(64):
        sink[i] = 0
    start = perf_counter()
    with nogil:
        for r in range(repeats):
            # every iteration writes its own slot: nothing to optimise away, no race
            for i in prange(n_chunks, schedule='dynamic', num_threads=n_threads):
                sink[i] += 1
            for i in prange(n_tasks, schedule='dynamic', num_threads=n_threads):
                sink[i] += 1
    elapsed = perf_counter() - start
    if sink[0] != 2 * repeats:
        raise RuntimeError("the regions skipped iterations")
    return elapsed / repeats
