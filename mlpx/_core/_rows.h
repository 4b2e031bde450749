/* Row-block helpers of the engine: the gather of a mini-batch's rows into a
 * contiguous buffer, and the column sums of a block (the bias gradients).
 *
 * The rows come in the epoch's shuffled order, so the hardware prefetcher
 * cannot guess the next one; when X does not fit in L2 each row then waits
 * on L3. The rows a few places ahead (eight: enough to cover the latency of
 * L3 on a row of a small network) are prefetched while the current one is
 * copied, with their targets (rows of the k-column Y, which the loss reads
 * after the forward pass). */
#ifndef MLPX_ROWS_H
#define MLPX_ROWS_H
#include <stddef.h>
#include <string.h>

#if defined(__GNUC__)
#define MLPX_PREFETCH(p) __builtin_prefetch(p)
#else
#define MLPX_PREFETCH(p) ((void)(p))
#endif

#define MLPX_DEFINE_GATHER(T, S)                                                     \
static inline void mlpx_gather_rows_##S(T* dst, const T* X, ptrdiff_t ldx,           \
                                        const ptrdiff_t* idx, ptrdiff_t m,           \
                                        ptrdiff_t nf, const T* Y, ptrdiff_t k) {     \
    enum { AHEAD = 8, LINE = 64 / sizeof(T) };                                       \
    for (ptrdiff_t i = 0; i < m; i++) {                                              \
        if (i + AHEAD < m) {                                                         \
            const T* next = X + idx[i + AHEAD] * ldx;                                \
            for (ptrdiff_t j = 0; j < nf; j += LINE)                                 \
                MLPX_PREFETCH(next + j);                                             \
            MLPX_PREFETCH(next + nf - 1);  /* the last line of an unaligned row */   \
            MLPX_PREFETCH(Y + idx[i + AHEAD] * k);  /* read by the loss */           \
            MLPX_PREFETCH(Y + idx[i + AHEAD] * k + k - 1);                           \
        }                                                                            \
        memcpy(dst + i * nf, X + idx[i] * ldx, (size_t)nf * sizeof(T));              \
    }                                                                                \
}
MLPX_DEFINE_GATHER(double, d)
MLPX_DEFINE_GATHER(float, s)

/* out[j] = sum_i D[i * n + j], each column summed in row order (as NumPy's
 * sum over axis 0 of a C-ordered array). Sixteen columns at a time are kept
 * in local accumulators: summed in place in out, every add waited on the
 * store of the one before (for a 200-row block of one column, 200 chained
 * store-to-load round trips). */
#define MLPX_DEFINE_COLUMN_SUMS(T, S)                                                \
static inline void mlpx_column_sums_##S(const T* D, ptrdiff_t m, ptrdiff_t n,        \
                                        T* out) {                                    \
    enum { W = 16 };                                                                 \
    for (ptrdiff_t j0 = 0; j0 < n; j0 += W) {                                        \
        const ptrdiff_t w = n - j0 < W ? n - j0 : W;                                 \
        T acc[W] = {0};                                                              \
        if (w == W) {                                                                \
            for (ptrdiff_t i = 0; i < m; i++)                                        \
                for (int j = 0; j < W; j++)  /* a fixed width: registers */          \
                    acc[j] += D[i * n + j0 + j];                                     \
        } else {                                                                     \
            for (ptrdiff_t i = 0; i < m; i++)                                        \
                for (ptrdiff_t j = 0; j < w; j++)                                    \
                    acc[j] += D[i * n + j0 + j];                                     \
        }                                                                            \
        for (ptrdiff_t j = 0; j < w; j++)                                            \
            out[j0 + j] = acc[j];                                                    \
    }                                                                                \
}
MLPX_DEFINE_COLUMN_SUMS(double, d)
MLPX_DEFINE_COLUMN_SUMS(float, s)
#endif
