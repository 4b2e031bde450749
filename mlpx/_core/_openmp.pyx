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


cdef extern from *:
    """
    #if defined(__SANITIZE_ADDRESS__)
    #define MLPX_SANITIZED 1
    #elif defined(__has_feature)
    #if __has_feature(address_sanitizer)
    #define MLPX_SANITIZED 1
    #endif
    #endif
    #ifndef MLPX_SANITIZED
    #define MLPX_SANITIZED 0
    #endif
    """
    int MLPX_SANITIZED


def sanitized():
    """Whether the engine was built for the sanitizer run (MLPX_SANITIZE=1).

    That build is compiled at another optimisation level, so its floating-point
    results differ in the last bits from a normal build's.
    """
    return bool(MLPX_SANITIZED)


def openmp_enabled():
    """Whether the engine was compiled with OpenMP."""
    return bool(mlpx_openmp_enabled())


def omp_max_threads():
    """omp_get_max_threads() of the engine's runtime (1 without OpenMP).

    It follows OMP_NUM_THREADS and threadpoolctl's limits on the "openmp" API.
    """
    return mlpx_omp_max_threads()
