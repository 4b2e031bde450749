# Row-major GEMM for float and double: small products and those of few rows by
# the tile kernels of _small_gemm.h, the rest by scipy's BLAS.
from cython cimport floating
from scipy.linalg.cython_blas cimport dgemm, sgemm

ctypedef Py_ssize_t intp

cdef extern from "_small_gemm.h":
    int small_gemm_d "mlpx_small_gemm_d" (
        char ta, char tb, intp m, intp n, intp k, double alpha, const double* A,
        intp lda, const double* B, intp ldb, double beta, double* C, intp ldc) noexcept nogil
    int small_gemm_s "mlpx_small_gemm_s" (
        char ta, char tb, intp m, intp n, intp k, float alpha, const float* A,
        intp lda, const float* B, intp ldb, float beta, float* C, intp ldc) noexcept nogil
    int gemm_epi_d "mlpx_gemm_epi_d" (
        char ta, char tb, intp m, intp n, intp k, double alpha, const double* A,
        intp lda, const double* B, intp ldb, double beta, double* C, intp ldc,
        const double* bias, const double* Z, intp ldz, int epi) noexcept nogil
    int gemm_epi_s "mlpx_gemm_epi_s" (
        char ta, char tb, intp m, intp n, intp k, float alpha, const float* A,
        intp lda, const float* B, intp ldb, float beta, float* C, intp ldc,
        const float* bias, const float* Z, intp ldz, int epi) noexcept nogil
    bint tiles_take "mlpx_tiles_take" (bint single, char ta, char tb, intp m,
                                        intp n, intp k) noexcept nogil
    int EPI_NONE "MLPX_EPI_NONE"
    int EPI_RELU "MLPX_EPI_RELU"
    int EPI_RELU_GRAD "MLPX_EPI_RELU_GRAD"
    bint small_gemm_available "mlpx_small_gemm_available" () noexcept nogil


cdef inline void blas_gemm(char ta, char tb, intp m, intp n, intp k, floating alpha,
                           const floating* A, intp lda, const floating* B, intp ldb,
                           floating beta, floating* C, intp ldc) noexcept nogil:
    """C (m x n, row-major) = alpha * op(A) @ op(B) + beta * C, by BLAS.

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


cdef inline int small_gemm(char ta, char tb, intp m, intp n, intp k, floating alpha,
                           const floating* A, intp lda, const floating* B, intp ldb,
                           floating beta, floating* C, intp ldc) noexcept nogil:
    """As blas_gemm, by the small-product kernels; -1 if they cannot run here."""
    if floating is float:
        return small_gemm_s(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
    return small_gemm_d(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)


cdef inline int small_gemm_epilogue(
    char tb, intp m, intp n, intp k, const floating* A, intp lda, const floating* B,
    intp ldb, floating* C, intp ldc, const floating* bias, const floating* Z, intp ldz,
    int epi,
) noexcept nogil:
    """C = A @ op(B) (+ bias along the rows) with the epilogue epi (EPI_*) applied
    in the store, by the tile kernels. Return -1, writing nothing, when the
    product is not theirs (tiles_take) or they cannot run here: the caller then
    runs gemm and the epilogue as passes of their own."""
    if not tiles_take(floating is float, c'N', tb, m, n, k):
        return -1
    if floating is float:
        return gemm_epi_s(c'N', tb, m, n, k, 1, A, lda, B, ldb, 0, C, ldc, bias, Z, ldz, epi)
    return gemm_epi_d(c'N', tb, m, n, k, 1, A, lda, B, ldb, 0, C, ldc, bias, Z, ldz, epi)


cdef inline void gemm(char ta, char tb, intp m, intp n, intp k, floating alpha,
                      const floating* A, intp lda, const floating* B, intp ldb,
                      floating beta, floating* C, intp ldc) noexcept nogil:
    """C (m x n, row-major) = alpha * op(A) @ op(B) + beta * C."""
    if tiles_take(floating is float, ta, tb, m, n, k):
        if small_gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc) == 0:
            return
    blas_gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
