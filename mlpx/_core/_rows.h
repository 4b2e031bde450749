/* Gather of a mini-batch's rows into a contiguous buffer.
 *
 * The rows come in the epoch's shuffled order, so the hardware prefetcher
 * cannot guess the next one; when X does not fit in L2 (digits in float64:
 * 920 KB) each row then waits on L3. The rows a few places ahead are
 * prefetched while the current one is copied, with their targets (rows of
 * the k-column Y, which the loss reads after the forward pass). */
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
    enum { AHEAD = 4, LINE = 64 / sizeof(T) };                                       \
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
#endif
