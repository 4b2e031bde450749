/* One instance of the small-GEMM tile loop; included by _small_gemm.h with
 *   MLPX_T      element type (double or float)
 *   MLPX_V      GCC vector type of MLPX_T (16 or 32 bytes)
 *   MLPX_NV     vectors per tile row (the tile is MLPX_MR x MLPX_NV vectors)
 *   MLPX_NAME   function name
 *   MLPX_ATTR   function attributes (the instruction set of this copy)
 *
 * C[i*rsc + j*csc] = alpha * sum_p A[i*rsa + p*csa] * B[p*ldb + j]  (+ beta * C)
 * for i < m, j < n. B's rows are contiguous, so the tile vectorises along j
 * and broadcasts single elements of A: any strides of A (and so A or A^T) are
 * read without packing. `pad` holds k * MLPX_NV * VL elements: the last,
 * narrower column block of B is copied there with zeros after it.
 * beta == 0 means C is only written (it may hold NaN). */
/* C's row i from the accumulators va, vb, vc (the first nb columns). */
#ifndef MLPX_STORE_ROW
#define MLPX_STORE_ROW(i, va, vb, vc)                                            \
    {                                                                            \
        MLPX_T* c = C + (i) * rsc + j0 * csc;                                    \
        if (csc == 1 && nb == NR && beta == 0) { /* whole vectors */            \
            const MLPX_V sa = alpha * (va), sb = alpha * (vb), sc = alpha * (vc); \
            memcpy(c, &sa, sizeof(sa));                                          \
            if (MLPX_NV >= 2) memcpy(c + VL, &sb, sizeof(sb));                   \
            if (MLPX_NV == 3) memcpy(c + 2 * VL, &sc, sizeof(sc));               \
        } else                                                                   \
        for (ptrdiff_t jj = 0; jj < nb; jj++) {                                  \
            const MLPX_T v = jj < VL ? (va)[jj]                                  \
                : jj < 2 * VL ? (vb)[jj - VL] : (vc)[jj - 2 * VL];               \
            c[jj * csc] = beta == 0 ? alpha * v : alpha * v + beta * c[jj * csc]; \
        }                                                                        \
    }
#endif

MLPX_ATTR static void MLPX_NAME(
    ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, MLPX_T alpha,
    const MLPX_T* A, ptrdiff_t rsa, ptrdiff_t csa,
    const MLPX_T* B, ptrdiff_t ldb, MLPX_T beta,
    MLPX_T* C, ptrdiff_t rsc, ptrdiff_t csc, MLPX_T* pad)
{
    enum { VL = sizeof(MLPX_V) / sizeof(MLPX_T), NR = MLPX_NV * VL };
    for (ptrdiff_t j0 = 0; j0 < n; j0 += NR) {
        const ptrdiff_t nb = n - j0 < NR ? n - j0 : NR;
        const MLPX_T* Bj = B + j0;
        ptrdiff_t ld = ldb;
        if (nb < NR) {
            for (ptrdiff_t p = 0; p < k; p++)
                for (ptrdiff_t jj = 0; jj < NR; jj++)
                    pad[p * NR + jj] = jj < nb ? B[p * ldb + j0 + jj] : (MLPX_T)0;
            Bj = pad;
            ld = NR;
        }
#if MLPX_NV == 3
#define MLPX_FMA_ROW(ca, cb, cc, ar) { const MLPX_T x = (ar)[q]; ca += x * ba; cb += x * bb; cc += x * bc; }
#elif MLPX_NV == 2
#define MLPX_FMA_ROW(ca, cb, cc, ar) { const MLPX_T x = (ar)[q]; ca += x * ba; cb += x * bb; }
#else
#define MLPX_FMA_ROW(ca, cb, cc, ar) { const MLPX_T x = (ar)[q]; ca += x * ba; }
#endif
/* the B vectors of row p of the block */
#define MLPX_LOAD_B                                                              \
        const MLPX_T* bp = Bj + p * ld;                                          \
        const ptrdiff_t q = p * csa;                                             \
        MLPX_V ba, bb, bc;                                                       \
        memcpy(&ba, bp, sizeof(ba));                                             \
        if (MLPX_NV >= 2) memcpy(&bb, bp + VL, sizeof(bb));                      \
        if (MLPX_NV == 3) memcpy(&bc, bp + 2 * VL, sizeof(bc));                  \
        (void)bb; (void)bc;
        ptrdiff_t i0 = 0;
        /* 4-row tiles: the B vectors first, then one broadcast of A at a time
           (12 accumulators + 3 + 1 = AVX2's 16 registers, no spills) */
        for (; i0 + MLPX_MR <= m; i0 += MLPX_MR) {
            MLPX_V c0a = {0}, c1a = {0}, c2a = {0}, c3a = {0};
            MLPX_V c0b = {0}, c1b = {0}, c2b = {0}, c3b = {0};
            MLPX_V c0c = {0}, c1c = {0}, c2c = {0}, c3c = {0};
            const MLPX_T* a0 = A + i0 * rsa;
            for (ptrdiff_t p = 0; p < k; p++) {
                MLPX_LOAD_B
                MLPX_FMA_ROW(c0a, c0b, c0c, a0)
                MLPX_FMA_ROW(c1a, c1b, c1c, a0 + rsa)
                MLPX_FMA_ROW(c2a, c2b, c2c, a0 + 2 * rsa)
                MLPX_FMA_ROW(c3a, c3b, c3c, a0 + 3 * rsa)
            }
            MLPX_STORE_ROW(i0, c0a, c0b, c0c)
            MLPX_STORE_ROW(i0 + 1, c1a, c1b, c1c)
            MLPX_STORE_ROW(i0 + 2, c2a, c2b, c2c)
            MLPX_STORE_ROW(i0 + 3, c3a, c3b, c3c)
        }
        /* the last rows one at a time */
        for (; i0 < m; i0++) {
            MLPX_V c0a = {0}, c0b = {0}, c0c = {0};
            const MLPX_T* a0 = A + i0 * rsa;
            for (ptrdiff_t p = 0; p < k; p++) {
                MLPX_LOAD_B
                MLPX_FMA_ROW(c0a, c0b, c0c, a0)
            }
            MLPX_STORE_ROW(i0, c0a, c0b, c0c)
        }
#undef MLPX_FMA_ROW
#undef MLPX_LOAD_B
    }
}
