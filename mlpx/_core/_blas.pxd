# Row-major GEMM over scipy's BLAS, for float and double.
from cython cimport floating
from scipy.linalg.cython_blas cimport dgemm, sgemm

ctypedef Py_ssize_t intp


cdef inline void gemm(char ta, char tb, intp m, intp n, intp k, floating alpha,
                      const floating* A, intp lda, const floating* B, intp ldb,
                      floating beta, floating* C, intp ldc) noexcept nogil:
    """C (m x n, row-major) = alpha * op(A) @ op(B) + beta * C.

    ta / tb are 'N' or 'T'. BLAS is column-major, so this computes
    C^T = op(B)^T op(A)^T: the operands swap places, the flags stay.
    """
    cdef int m_ = <int>m, n_ = <int>n, k_ = <int>k
    cdef int lda_ = <int>lda, ldb_ = <int>ldb, ldc_ = <int>ldc
    if floating is float:
        sgemm(&tb, &ta, &n_, &m_, &k_, &alpha, <float*>B, &ldb_, <float*>A, &lda_,
              &beta, C, &ldc_)
    else:
        dgemm(&tb, &ta, &n_, &m_, &k_, &alpha, <double*>B, &ldb_, <double*>A, &lda_,
              &beta, C, &ldc_)
