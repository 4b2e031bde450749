# Row-major GEMM for the engine: BLAS (scipy's) for real work, plain loops for the
# small, thin products of small networks, where a BLAS call costs more in
# overhead (several microseconds) than the arithmetic.
from cython cimport floating
from scipy.linalg.cython_blas cimport dgemm, sgemm

ctypedef Py_ssize_t intp

cdef extern from *:
    """
    /* Products with at most this many multiply-adds use the loop kernels. */
    #define MLPX_SMALL_GEMM 65536
    """
    double SMALL_GEMM "MLPX_SMALL_GEMM"


cdef inline void small_gemm(char ta, char tb, intp m, intp n, intp k,
                            const floating* A, intp lda, const floating* B, intp ldb,
                            floating* C, intp ldc) noexcept nogil:
    """C = op(A) @ op(B) with plain loops (alpha = 1, beta = 0); ta, tb not both 'T'."""
    cdef intp i, j, p
    cdef floating a, s
    cdef floating* c
    cdef const floating* b
    if ta == c'N' and tb == c'N':
        for i in range(m):
            c = C + i * ldc
            for j in range(n):
                c[j] = 0
            for p in range(k):
                a = A[i * lda + p]
                b = B + p * ldb
                for j in range(n):
                    c[j] += a * b[j]
    elif ta == c'T':
        # C[p, j] = sum_i A[i, p] B[i, j]: accumulate row by row of A and B
        for i in range(m):
            c = C + i * ldc
            for j in range(n):
                c[j] = 0
        for p in range(k):
            b = B + p * ldb
            for i in range(m):
                a = A[p * lda + i]
                c = C + i * ldc
                for j in range(n):
                    c[j] += a * b[j]
    else:
        # C[i, j] = sum_p A[i, p] B[j, p]: dot products of contiguous rows
        for i in range(m):
            for j in range(n):
                s = 0
                for p in range(k):
                    s += A[i * lda + p] * B[j * ldb + p]
                C[i * ldc + j] = s


cdef inline void gemm(char ta, char tb, intp m, intp n, intp k, floating alpha,
                      const floating* A, intp lda, const floating* B, intp ldb,
                      floating beta, floating* C, intp ldc) noexcept nogil:
    """C (m x n, row-major) = alpha * op(A) @ op(B) + beta * C.

    ta / tb are 'N' or 'T'. BLAS is column-major, so this computes
    C^T = op(B)^T op(A)^T: the operands swap places, the flags stay.
    The choice of kernel depends on the shapes only, so results do not
    depend on the number of threads.
    """
    cdef int m_ = <int>m, n_ = <int>n, k_ = <int>k
    cdef int lda_ = <int>lda, ldb_ = <int>ldb, ldc_ = <int>ldc
    if (alpha == 1 and beta == 0 and not (ta == c'T' and tb == c'T')
            and <double>m * n * k <= SMALL_GEMM):
        small_gemm(ta, tb, m, n, k, A, lda, B, ldb, C, ldc)
    elif floating is float:
        sgemm(&tb, &ta, &n_, &m_, &k_, &alpha, <float*>B, &ldb_, <float*>A, &lda_,
              &beta, C, &ldc_)
    else:
        dgemm(&tb, &ta, &n_, &m_, &k_, &alpha, <double*>B, &ldb_, <double*>A, &lda_,
              &beta, C, &ldc_)
