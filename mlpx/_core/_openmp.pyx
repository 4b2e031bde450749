"""The engine's OpenMP runtime: built with it or not, and its thread count."""

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
