/* Matrix products too small for BLAS to pay off.
 *
 * OpenBLAS spends much of a tiny product (say 200x64 @ 64x10, the first layer
 * of a digits network) packing its operands and dispatching; these kernels
 * read the operands in place instead. Every product is written as
 *   C = A B  with B's rows contiguous,
 * vectorised along B's rows and broadcasting elements of A, which may have any
 * strides. Row-major op(A) op(B) maps onto that form as:
 *   op(B) = B        -> directly (C's columns along the vectors);
 *   op(A) = A^T      -> transposed, C^T = op(B)^T A^T (C's rows along the vectors),
 *                       chosen when C has more rows than columns;
 *   op(B) = B^T only -> B^T is copied once (it is a weight matrix: small).
 *
 * The tiles are compiled for AVX2+FMA (GCC/Clang on x86) and used when the CPU
 * has them (__builtin_cpu_supports). Elsewhere, and with compilers without
 * GCC vector extensions, mlpx_small_gemm_* returns -1 and the engine calls
 * BLAS: the same tiles with 16-byte vectors were slower than OpenBLAS.
 */
#ifndef MLPX_SMALL_GEMM_H
#define MLPX_SMALL_GEMM_H
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) \
    && !defined(MLPX_NO_SMALL_GEMM)
#define MLPX_MR 4

typedef double mlpx_v4d __attribute__((vector_size(32)));
typedef float mlpx_v8f __attribute__((vector_size(32)));

#define MLPX_ATTR __attribute__((target("avx2,fma")))
#define MLPX_T double
#define MLPX_V mlpx_v4d
#define MLPX_NV 3
#define MLPX_NAME mlpx_tile_d3
#include "_small_gemm_tile.h"
#undef MLPX_NV
#undef MLPX_NAME
#define MLPX_NV 2
#define MLPX_NAME mlpx_tile_d2
#include "_small_gemm_tile.h"
#undef MLPX_NV
#undef MLPX_NAME
#define MLPX_NV 1
#define MLPX_NAME mlpx_tile_d1
#include "_small_gemm_tile.h"
#undef MLPX_NV
#undef MLPX_NAME
#undef MLPX_T
#undef MLPX_V
#define MLPX_T float
#define MLPX_V mlpx_v8f
#define MLPX_NV 3
#define MLPX_NAME mlpx_tile_s3
#include "_small_gemm_tile.h"
#undef MLPX_NV
#undef MLPX_NAME
#define MLPX_NV 2
#define MLPX_NAME mlpx_tile_s2
#include "_small_gemm_tile.h"
#undef MLPX_NV
#undef MLPX_NAME
#define MLPX_NV 1
#define MLPX_NAME mlpx_tile_s1
#include "_small_gemm_tile.h"
#undef MLPX_NV
#undef MLPX_NAME
#undef MLPX_T
#undef MLPX_V
#undef MLPX_ATTR

/* Row-major C (m x n) = alpha op(A) op(B) + beta C, as BLAS gemm with the
 * operands in C order. Return 0, or -1 if the CPU lacks AVX2/FMA or scratch
 * memory ran out (the caller then uses BLAS). The tiles run over all
 * columns: three-vector tiles (12 accumulators: as many as AVX2's 16
 * registers allow), then one tile of 1-3 vectors for the rest, zero-padded
 * (10 columns of doubles: one 12-wide pass, A read once). */
#define MLPX_DEFINE_SMALL_GEMM(T, S, VL)                                             \
static inline void mlpx_tiles_##S(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha,    \
                                  const T* A, ptrdiff_t rsa, ptrdiff_t csa,          \
                                  const T* B, ptrdiff_t ldb, T beta,                 \
                                  T* C, ptrdiff_t rsc, ptrdiff_t csc, T* pad) {      \
    const ptrdiff_t n3 = n / (3 * VL) * (3 * VL), rest = n - n3;                     \
    if (n3 > 0)                                                                      \
        mlpx_tile_##S##3(m, n3, k, alpha, A, rsa, csa, B, ldb, beta, C, rsc, csc,    \
                         pad);                                                       \
    if (rest > 2 * VL)                                                               \
        mlpx_tile_##S##3(m, rest, k, alpha, A, rsa, csa, B + n3, ldb, beta,          \
                         C + n3 * csc, rsc, csc, pad);                               \
    else if (rest > VL)                                                              \
        mlpx_tile_##S##2(m, rest, k, alpha, A, rsa, csa, B + n3, ldb, beta,          \
                         C + n3 * csc, rsc, csc, pad);                               \
    else if (rest > 0)                                                               \
        mlpx_tile_##S##1(m, rest, k, alpha, A, rsa, csa, B + n3, ldb, beta,          \
                         C + n3 * csc, rsc, csc, pad);                               \
}                                                                                    \
static inline int mlpx_small_gemm_##S(char ta, char tb, ptrdiff_t m, ptrdiff_t n,    \
                                      ptrdiff_t k, T alpha, const T* A,              \
                                      ptrdiff_t lda, const T* B, ptrdiff_t ldb,      \
                                      T beta, T* C, ptrdiff_t ldc) {                 \
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))          \
        return -1;                                                                   \
    const int at = ta == 'T' || ta == 't', bt = tb == 'T' || tb == 't';              \
    const int transposed = at && (bt || m > n);                                      \
    const ptrdiff_t pad_len = k * 3 * VL, pack_len = (!transposed && bt) ? k * n : 0; \
    T* buf = (T*)malloc((size_t)(pad_len + pack_len + 1) * sizeof(T));              \
    if (buf == NULL)                                                                 \
        return -1;                                                                   \
    if (transposed) {                                                                \
        /* C^T (n x m) = op(B)^T (n x k) A (k x m, rows of length lda) */            \
        mlpx_tiles_##S(n, m, k, alpha, B, bt ? ldb : 1, bt ? 1 : ldb, A, lda, beta,  \
                       C, 1, ldc, buf);                                              \
    } else {                                                                         \
        const T* Bn = B;                                                             \
        ptrdiff_t ldbn = ldb;                                                        \
        if (bt) {                                                                    \
            T* pack = buf + pad_len;                                                 \
            for (ptrdiff_t p = 0; p < k; p++)                                        \
                for (ptrdiff_t j = 0; j < n; j++)                                    \
                    pack[p * n + j] = B[j * ldb + p];                                \
            Bn = pack;                                                               \
            ldbn = n;                                                                \
        }                                                                            \
        mlpx_tiles_##S(m, n, k, alpha, A, at ? 1 : lda, at ? lda : 1, Bn, ldbn, beta, \
                       C, ldc, 1, buf);                                              \
    }                                                                                \
    free(buf);                                                                       \
    return 0;                                                                        \
}

/* VL: elements in a 32-byte vector */
MLPX_DEFINE_SMALL_GEMM(double, d, 4)
MLPX_DEFINE_SMALL_GEMM(float, s, 8)

#else  /* BLAS does every product */
static inline int mlpx_small_gemm_d(char ta, char tb, ptrdiff_t m, ptrdiff_t n,
                                    ptrdiff_t k, double alpha, const double* A,
                                    ptrdiff_t lda, const double* B, ptrdiff_t ldb,
                                    double beta, double* C, ptrdiff_t ldc) {
    return -1;
}
static inline int mlpx_small_gemm_s(char ta, char tb, ptrdiff_t m, ptrdiff_t n,
                                    ptrdiff_t k, float alpha, const float* A,
                                    ptrdiff_t lda, const float* B, ptrdiff_t ldb,
                                    float beta, float* C, ptrdiff_t ldc) {
    return -1;
}
#endif
#endif
