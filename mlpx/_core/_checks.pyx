"""Checks of the training input that run in C: finiteness and magnitude of X in one pass."""
from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport free, malloc

from ._types cimport intp

cdef extern from "_simd.h":
    double abs_max_float "mlpx_abs_max_float" (const float* x, intp n) noexcept nogil
    double abs_max_double "mlpx_abs_max_double" (const double* x, intp n) noexcept nogil

# Elements per parallel block, and the fewest elements worth a second thread
# (the pass is bound by memory bandwidth: a second thread helps only on large arrays).
cdef intp BLOCK = 1 << 16
cdef intp MIN_PARALLEL = 1 << 20


cdef inline double block_abs_max(const floating* x, intp n) noexcept nogil:
    if floating is float:
        return abs_max_float(x, n)
    else:
        return abs_max_double(x, n)


def abs_max(const floating[::1] x, int n_threads=1):
    """max |x[i]| in one pass without the GIL.

    Returns 0.0 for an empty x, inf if x holds an infinity and no NaN, NaN if
    it holds a NaN: the result is finite exactly when every x[i] is.
    """
    cdef intp n = x.shape[0], n_blocks, b, i0
    cdef double* part
    cdef double best = 0, v
    if n == 0:
        return 0.0
    if n < MIN_PARALLEL or n_threads < 2:
        with nogil:
            best = block_abs_max(&x[0], n)
        return best
    n_blocks = (n + BLOCK - 1) // BLOCK
    part = <double*>malloc(n_blocks * sizeof(double))
    if part == NULL:
        raise MemoryError("no memory for the partial maxima of the input check")
    with nogil:
        for b in prange(n_blocks, schedule='dynamic', num_threads=n_threads):
            i0 = b * BLOCK
            part[b] = block_abs_max(&x[i0], min(BLOCK, n - i0))
        for b in range(n_blocks):
            v = part[b]
            if v != v:  # NaN
                best = v
                break
            if v > best:
                best = v
    free(part)
    return best
