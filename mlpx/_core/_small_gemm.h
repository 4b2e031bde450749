/* Matrix products for which BLAS does not pay off (see mlpx_tiles_take).
 *
 * OpenBLAS spends much of a tiny product (say 200x64 @ 64x10, the first layer
 * of a digits network) packing its operands and dispatching, and repacks the
 * weights for every chunk of a batch; these kernels read the operands in
 * place instead. Every product is written as
 *   C = A B  with B's rows contiguous,
 * vectorised along B's rows and broadcasting elements of A, which may have any
 * strides. Row-major op(A) op(B) maps onto that form as:
 *   op(B) = B        -> directly (C's columns along the vectors);
 *   op(A) = A^T      -> transposed, C^T = op(B)^T A^T (C's rows along the vectors),
 *                       chosen when a small C has more rows than columns
 *                       and more columns than one tile holds;
 *   op(B) = B^T only -> B^T is copied once (it is a weight matrix: small).
 *
 * The tiles are compiled for AVX2+FMA (GCC/Clang on x86) and used when the CPU
 * has them (__builtin_cpu_supports). Elsewhere, and with compilers without
 * GCC vector extensions, mlpx_small_gemm_* returns -1 and the engine calls
 * BLAS: with 16-byte vectors the tiles do not beat OpenBLAS.
 */
#ifndef MLPX_SMALL_GEMM_H
#define MLPX_SMALL_GEMM_H
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "_cpu.h"

/* Which products the tiles compute (the engine asks mlpx_tiles_take):
 * - every product of at most MLPX_SMALL_GEMM_MAX_WORK multiply-adds (m n k):
 *   below it OpenBLAS's packing and dispatch cost more than the arithmetic;
 * - in float32 (`single`), a larger A @ B with at most MLPX_TILE_MAX_ROWS rows
 *   (a chunk's layer): the tiles read A and B in place, while OpenBLAS
 *   repacks B for every chunk of a batch. The gradient tasks (A^T @ delta)
 *   go to OpenBLAS, which packs the delta block once for the whole reduction.
 *   In training, the forward products of large weights go to OpenBLAS too
 *   (forward_rows in _engine.pyx decides, before asking here); a predict,
 *   whose weights stay warm, keeps them on the tiles. In float64 the tiles
 *   lost to OpenBLAS on these products in most runs. More rows (a large
 *   predict) would re-read A from L3 for every column block;
 * - in both types, A @ B with at most MLPX_TILE_FEW_ROWS rows (the layers of a
 *   predict on a few rows): OpenBLAS packs all of B for them, which a
 *   few rows do not repay (benchmarks/compare.py's predict rows track this);
 * Where the CPU has AVX-512 (MLPX_WIDE_TILES) the products the tiles take run
 * on 64-byte vectors, with the same bits. The engine's tile grid
 * (_engine.pyx) runs every product of a batch on the tiles, whatever this rule
 * says: merged tiles must round as single ones.
 * The tiles run over k in blocks of MLPX_KC: a block of A (rows x KC) stays in
 * L2 and a tile's KC x 24-float block of B in L1. */
#define MLPX_SMALL_GEMM_MAX_WORK 300000
#define MLPX_TILE_MAX_ROWS 256
#define MLPX_TILE_FEW_ROWS 16
#define MLPX_KC 96

/* Set by tests (mlpx._core._testing.narrow_tiles) to run the AVX2 tiles on a
 * CPU with AVX-512: both compute every element by the same chain, and the
 * tests check that they agree bit for bit. */
static int mlpx_tiles_narrow = 0;
#if MLPX_X86_DISPATCH && !defined(MLPX_NO_SMALL_GEMM)
#define MLPX_WIDE_TILES() (!mlpx_tiles_narrow && MLPX_HAVE_AVX512())
#else
#define MLPX_WIDE_TILES() 0
#endif

/* The wide tiles pad C's last columns to a 64-byte vector: where that wastes
 * more than a quarter of the lanes (10 outputs: 16 lanes of doubles, 6 of
 * them empty) the AVX2 tiles do the product (12 lanes, 2 empty). */
static inline int mlpx_wide_fits(ptrdiff_t n, ptrdiff_t vl) {
    const ptrdiff_t padded = (n + vl - 1) / vl * vl;
    return 4 * (padded - n) <= padded;
}

static inline int mlpx_tiles_take(int single, char ta, char tb, ptrdiff_t m,
                                  ptrdiff_t n, ptrdiff_t k) {
    const int bn = tb != 'T' && tb != 't', an = ta != 'T' && ta != 't';
    return m * n * k <= MLPX_SMALL_GEMM_MAX_WORK
        || (single && m <= MLPX_TILE_MAX_ROWS && an && bn)
        || (m <= MLPX_TILE_FEW_ROWS && an && bn);
}

/* Epilogues applied to C in the store (see _small_gemm_tile.h) */
#define MLPX_EPI_NONE 0
#define MLPX_EPI_RELU 1       /* C = max(C + bias, 0) */
#define MLPX_EPI_RELU_GRAD 2  /* C = C where Z != 0, else 0 */

#if MLPX_X86_DISPATCH && !defined(MLPX_NO_SMALL_GEMM)
#include <immintrin.h>
#define MLPX_MR 4

typedef double mlpx_v4d __attribute__((vector_size(32)));
typedef float mlpx_v8f __attribute__((vector_size(32)));
typedef long long mlpx_v4i __attribute__((vector_size(32)));
typedef int mlpx_v8i __attribute__((vector_size(32)));

#define MLPX_ATTR MLPX_TARGET_AVX2
#define MLPX_T double
#define MLPX_V mlpx_v4d
#define MLPX_MASK mlpx_v4i
#define MLPX_MLOAD(p, mask) ((mlpx_v4d)_mm256_maskload_pd((p), (__m256i)(mask)))
#define MLPX_MSTORE(p, mask, v) _mm256_maskstore_pd((p), (__m256i)(mask), (__m256d)(v))
#define MLPX_PREFIX mlpx_tile_d
#include "_small_gemm_widths.h"
#define MLPX_T float
#define MLPX_V mlpx_v8f
#define MLPX_MASK mlpx_v8i
#define MLPX_MLOAD(p, mask) ((mlpx_v8f)_mm256_maskload_ps((p), (__m256i)(mask)))
#define MLPX_MSTORE(p, mask, v) _mm256_maskstore_ps((p), (__m256i)(mask), (__m256)(v))
#define MLPX_PREFIX mlpx_tile_s
#include "_small_gemm_widths.h"
#undef MLPX_ATTR

/* The same tiles on 64-byte vectors (AVX-512), 8 rows high, with B's column
 * blocks packed from 16 rows of C on: 8 x 24 doubles / 8 x 48 floats. */
typedef double mlpx_v8d __attribute__((vector_size(64)));
typedef float mlpx_v16f __attribute__((vector_size(64)));
typedef long long mlpx_v8i64 __attribute__((vector_size(64)));
typedef int mlpx_v16i __attribute__((vector_size(64)));
#define MLPX_ATTR MLPX_TARGET_AVX512
#define MLPX_ROWS8
#define MLPX_PACK_ROWS 16
#define MLPX_T double
#define MLPX_V mlpx_v8d
#define MLPX_MASK mlpx_v8i64
#define MLPX_MLOAD(p, mask) \
    ((mlpx_v8d)_mm512_maskz_loadu_pd(_mm512_movepi64_mask((__m512i)(mask)), (p)))
#define MLPX_MSTORE(p, mask, v) \
    _mm512_mask_storeu_pd((p), _mm512_movepi64_mask((__m512i)(mask)), (__m512d)(v))
#define MLPX_PREFIX mlpx_tile_wd
#include "_small_gemm_widths.h"
#define MLPX_T float
#define MLPX_V mlpx_v16f
#define MLPX_MASK mlpx_v16i
#define MLPX_MLOAD(p, mask) \
    ((mlpx_v16f)_mm512_maskz_loadu_ps(_mm512_movepi32_mask((__m512i)(mask)), (p)))
#define MLPX_MSTORE(p, mask, v) \
    _mm512_mask_storeu_ps((p), _mm512_movepi32_mask((__m512i)(mask)), (__m512)(v))
#define MLPX_PREFIX mlpx_tile_ws
#include "_small_gemm_widths.h"
#undef MLPX_ROWS8
#undef MLPX_PACK_ROWS
#undef MLPX_ATTR

/* C[i] = alpha * dot(A[i, :], b) (+ beta C[i]) for rows of A with unit stride:
 * the products with one output column (a regression network's last layer),
 * where the column tiles would use one lane of four. */
#define MLPX_DEFINE_DOTS(T, S, V)                                                    \
MLPX_AVX2 static inline T mlpx_hsum_##S(V v) {                                                 \
    T s = 0;                                                                         \
    for (int l = 0; l < (int)(sizeof(V) / sizeof(T)); l++)                           \
        s += v[l];                                                                   \
    return s;                                                                        \
}                                                                                    \
MLPX_AVX2 static void mlpx_dots_##S(ptrdiff_t m, ptrdiff_t k, T alpha, const T* A,  \
                                    ptrdiff_t lda, const T* b, T beta, T* C,         \
                                    ptrdiff_t ldc) {                                 \
    enum { VL = sizeof(V) / sizeof(T) };                                             \
    const ptrdiff_t kv = k / VL * VL;                                                \
    T s[4];                                                                          \
    for (ptrdiff_t i0 = 0; i0 < m; i0 += 4) {                                        \
        /* four rows at once: four independent FMA chains */                         \
        const int mr = m - i0 < 4 ? (int)(m - i0) : 4;                               \
        const T* a0 = A + i0 * lda;                                                  \
        const T* a1 = mr > 1 ? a0 + lda : a0;                                        \
        const T* a2 = mr > 2 ? a0 + 2 * lda : a0;                                    \
        const T* a3 = mr > 3 ? a0 + 3 * lda : a0;                                    \
        V c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};                                    \
        for (ptrdiff_t p = 0; p < kv; p += VL) {                                     \
            V y, x;                                                                  \
            memcpy(&y, b + p, sizeof(y));                                            \
            memcpy(&x, a0 + p, sizeof(x)); c0 += x * y;                              \
            memcpy(&x, a1 + p, sizeof(x)); c1 += x * y;                              \
            memcpy(&x, a2 + p, sizeof(x)); c2 += x * y;                              \
            memcpy(&x, a3 + p, sizeof(x)); c3 += x * y;                              \
        }                                                                            \
        s[0] = mlpx_hsum_##S(c0); s[1] = mlpx_hsum_##S(c1);                          \
        s[2] = mlpx_hsum_##S(c2); s[3] = mlpx_hsum_##S(c3);                          \
        for (ptrdiff_t p = kv; p < k; p++) {                                         \
            s[0] += a0[p] * b[p]; s[1] += a1[p] * b[p];                              \
            s[2] += a2[p] * b[p]; s[3] += a3[p] * b[p];                              \
        }                                                                            \
        for (int r = 0; r < mr; r++) {                                               \
            T* c = C + (i0 + r) * ldc;                                               \
            *c = beta == 0 ? alpha * s[r] : alpha * s[r] + beta * *c;                \
        }                                                                            \
    }                                                                                \
}
#define MLPX_AVX2 MLPX_TARGET_AVX2
MLPX_DEFINE_DOTS(double, d, mlpx_v4d)
MLPX_DEFINE_DOTS(float, s, mlpx_v8f)
#undef MLPX_AVX2

/* Row-major C (m x n) = alpha op(A) op(B) + beta C, as BLAS gemm with the
 * operands in C order, then the epilogue (a bias added along C's rows,
 * MLPX_EPI_*) if asked. Return 0, or -1 if the CPU lacks AVX2/FMA, scratch
 * memory ran out or an epilogue was asked of a transposed product (the caller
 * then uses BLAS and applies the epilogue itself). The tiles run over all
 * columns: three-vector tiles (12 accumulators: as many as AVX2's 16
 * registers allow), then one tile of 1-3 vectors for the rest, read from a
 * zero-padded copy of B's last columns and stored with a lane mask (10
 * columns of doubles: one 12-wide pass, A read once). */
#define MLPX_STACK 8192 /* elements of scratch kept on the stack (32-64 KB) */
#define MLPX_DEFINE_SMALL_GEMM(T, S, VL, D)                                             \
/* k in blocks of MLPX_KC (C += each block's product; the epilogue in the last):  \
   an element's chain of multiply-adds depends on k alone, not on m or n */      \
static inline void mlpx_tiles_##S(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, T alpha,    \
                                  const T* A, ptrdiff_t rsa, ptrdiff_t csa,          \
                                  const T* B, ptrdiff_t ldb, T beta,                 \
                                  T* C, ptrdiff_t rsc, ptrdiff_t csc, T* pad,        \
                                  const T* bias, const T* Z, ptrdiff_t rsz,          \
                                  int epi) {                                         \
    const ptrdiff_t n3 = n / (3 * VL) * (3 * VL), rest = n - n3;                     \
    for (ptrdiff_t p0 = 0; p0 < k; p0 += MLPX_KC) {                                  \
        const ptrdiff_t kb = k - p0 < MLPX_KC ? k - p0 : MLPX_KC;                    \
        const int last = p0 + kb == k;                                               \
        const T* Ap = A + p0 * csa;                                                  \
        const T* Bp = B + p0 * ldb;                                                  \
        const T bk = p0 == 0 ? beta : (T)1;                                          \
        const T* bb = last ? bias : NULL;                                            \
        const T* zb = last ? Z : NULL;                                               \
        const int eb = last ? epi : MLPX_EPI_NONE;                                   \
        if (n3 > 0)                                                                  \
            mlpx_tile_##S##3(m, n3, kb, alpha, Ap, rsa, csa, Bp, ldb, bk, C, rsc,    \
                             csc, pad, bb, zb, rsz, eb);                             \
        const T* br = bb ? bb + n3 : NULL;                                           \
        const T* zr = zb ? zb + n3 : NULL;                                           \
        T* Cr = C + n3 * csc;                                                        \
        if (rest > 2 * VL)                                                           \
            mlpx_tile_##S##3(m, rest, kb, alpha, Ap, rsa, csa, Bp + n3, ldb, bk, Cr, \
                             rsc, csc, pad, br, zr, rsz, eb);                        \
        else if (rest > VL)                                                          \
            mlpx_tile_##S##2(m, rest, kb, alpha, Ap, rsa, csa, Bp + n3, ldb, bk, Cr, \
                             rsc, csc, pad, br, zr, rsz, eb);                        \
        else if (rest > 0)                                                           \
            mlpx_tile_##S##1(m, rest, kb, alpha, Ap, rsa, csa, Bp + n3, ldb, bk, Cr, \
                             rsc, csc, pad, br, zr, rsz, eb);                        \
    }                                                                                \
}                                                                                    \
static inline int mlpx_tiled_gemm_##S(char ta, char tb, ptrdiff_t m, ptrdiff_t n,      \
                                    ptrdiff_t k, T alpha, const T* A,                \
                                    ptrdiff_t lda, const T* B, ptrdiff_t ldb,        \
                                    T beta, T* C, ptrdiff_t ldc, const T* bias,      \
                                    const T* Z, ptrdiff_t ldz, int epi) {            \
    const int at = ta == 'T' || ta == 't', bt = tb == 'T' || tb == 't';              \
    /* transposed when a small C has more rows than columns, unless its columns   \
       nearly fill one tile: then the broadcasts read A^T in place just as well.    \
       A large C is stored by rows: C^T's strided stores would dominate. The        \
       two forms compute every element by the same chain of multiply-adds. */       \
    const int one_tile = n > VL && n <= 3 * VL;                                      \
    const int transposed = at && (bt || (m > n && !one_tile                          \
                                        && m * n * k <= MLPX_SMALL_GEMM_MAX_WORK));  \
    const int has_epi = bias != NULL || epi != MLPX_EPI_NONE;                        \
    if (has_epi && transposed)                                                       \
        return -1;  /* the epilogue needs C's rows along the vectors */              \
    if (n == 1 && !at && (bt || ldb == 1)) {                                         \
        /* op(B) is one contiguous column */                                         \
        mlpx_dots_##D(m, k, alpha, A, lda, B, beta, C, ldc);                         \
        if (has_epi)                                                                 \
            for (ptrdiff_t i = 0; i < m; i++) {                                      \
                T v = C[i * ldc];                                                    \
                if (bias != NULL) v += bias[0];                                      \
                if (epi == MLPX_EPI_RELU) v = v > 0 ? v : (T)0;                      \
                else if (epi == MLPX_EPI_RELU_GRAD) v = Z[i * ldz] != 0 ? v : (T)0;  \
                C[i * ldc] = v;                                                      \
            }                                                                        \
        return 0;                                                                    \
    }                                                                                \
    /* scratch: the zero-padded last column block, and B^T copied with its rows  \
       contiguous when op(B) = B^T (a weight matrix); on the stack when small */    \
    const ptrdiff_t pad_len = (k < MLPX_KC ? k : MLPX_KC) * 3 * VL;                   \
    const ptrdiff_t pack_len = (!transposed && bt) ? k * n : 0;                      \
    T stack[MLPX_STACK];                                                             \
    T* buf = pad_len + pack_len <= MLPX_STACK                                        \
        ? stack : (T*)malloc((size_t)(pad_len + pack_len) * sizeof(T));              \
    if (buf == NULL)                                                                 \
        return -1;                                                                   \
    if (transposed) {                                                                \
        /* C^T (n x m) = op(B)^T (n x k) A (k x m, rows of length lda) */            \
        mlpx_tiles_##S(n, m, k, alpha, B, bt ? ldb : 1, bt ? 1 : ldb, A, lda, beta,  \
                       C, 1, ldc, buf, NULL, NULL, 0, MLPX_EPI_NONE);                \
    } else {                                                                         \
        const T* Bn = B;                                                             \
        ptrdiff_t ldbn = ldb;                                                        \
        if (bt) {                                                                    \
            T* pack = buf + pad_len;                                                 \
            /* in 16 x 16 blocks: the reads along B's rows and the writes     \
               along pack's stay within a few cache lines each */              \
            for (ptrdiff_t j0 = 0; j0 < n; j0 += 16)                                 \
                for (ptrdiff_t p0 = 0; p0 < k; p0 += 16) {                           \
                    const ptrdiff_t j1 = j0 + 16 < n ? j0 + 16 : n;                  \
                    const ptrdiff_t p1 = p0 + 16 < k ? p0 + 16 : k;                  \
                    for (ptrdiff_t j = j0; j < j1; j++)                              \
                        for (ptrdiff_t p = p0; p < p1; p++)                          \
                            pack[p * n + j] = B[j * ldb + p];                        \
                }                                                                    \
            Bn = pack;                                                               \
            ldbn = n;                                                                \
        }                                                                            \
        mlpx_tiles_##S(m, n, k, alpha, A, at ? 1 : lda, at ? lda : 1, Bn, ldbn, beta, \
                       C, ldc, 1, buf, bias, Z, ldz, epi);                           \
    }                                                                                \
    if (buf != stack)                                                                \
        free(buf);                                                                   \
    return 0;                                                                        \
}

/* VL: elements in a vector (32 bytes: AVX2, 64: AVX-512) */
MLPX_DEFINE_SMALL_GEMM(double, d, 4, d)
MLPX_DEFINE_SMALL_GEMM(float, s, 8, s)
MLPX_DEFINE_SMALL_GEMM(double, wd, 8, d)
MLPX_DEFINE_SMALL_GEMM(float, ws, 16, s)
#undef MLPX_DEFINE_SMALL_GEMM

#define MLPX_DEFINE_DISPATCH(T, S, VLW)                                              \
static inline int mlpx_gemm_epi_##S(char ta, char tb, ptrdiff_t m, ptrdiff_t n,      \
                                    ptrdiff_t k, T alpha, const T* A,                \
                                    ptrdiff_t lda, const T* B, ptrdiff_t ldb,        \
                                    T beta, T* C, ptrdiff_t ldc, const T* bias,      \
                                    const T* Z, ptrdiff_t ldz, int epi) {            \
    if (!MLPX_HAVE_AVX2())                                                           \
        return -1;                                                                   \
    if (MLPX_WIDE_TILES() && mlpx_wide_fits(n, VLW))                                 \
        return mlpx_tiled_gemm_w##S(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, \
                                    ldc, bias, Z, ldz, epi);                         \
    return mlpx_tiled_gemm_##S(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, \
                               bias, Z, ldz, epi);                                   \
}
MLPX_DEFINE_DISPATCH(double, d, 8)
MLPX_DEFINE_DISPATCH(float, s, 16)
#undef MLPX_DEFINE_DISPATCH


static inline int mlpx_small_gemm_available(void) {
    return MLPX_HAVE_AVX2();
}

#else  /* BLAS does every product */
static inline int mlpx_small_gemm_available(void) { return 0; }
/* the epilogue products decline: the engine calls BLAS and its own passes */
#define MLPX_DEFINE_NO_TILES(T, S)                                                   \
static inline int mlpx_gemm_epi_##S(char ta, char tb, ptrdiff_t m, ptrdiff_t n,      \
                                    ptrdiff_t k, T alpha, const T* A,                \
                                    ptrdiff_t lda, const T* B, ptrdiff_t ldb,        \
                                    T beta, T* C, ptrdiff_t ldc, const T* bias,      \
                                    const T* Z, ptrdiff_t ldz, int epi) {            \
    return -1;                                                                       \
}
MLPX_DEFINE_NO_TILES(double, d)
MLPX_DEFINE_NO_TILES(float, s)
#undef MLPX_DEFINE_NO_TILES
#endif

/* The product alone, no epilogue (both branches above). */
#define MLPX_DEFINE_PLAIN(T, S)                                                      \
static inline int mlpx_small_gemm_##S(char ta, char tb, ptrdiff_t m, ptrdiff_t n,    \
                                      ptrdiff_t k, T alpha, const T* A,              \
                                      ptrdiff_t lda, const T* B, ptrdiff_t ldb,      \
                                      T beta, T* C, ptrdiff_t ldc) {                 \
    return mlpx_gemm_epi_##S(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,   \
                             NULL, NULL, 0, MLPX_EPI_NONE);                          \
}
MLPX_DEFINE_PLAIN(double, d)
MLPX_DEFINE_PLAIN(float, s)
#undef MLPX_DEFINE_PLAIN
#endif
