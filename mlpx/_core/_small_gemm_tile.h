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
        for (ptrdiff_t i0 = 0; i0 < m; i0 += MLPX_MR) {
            const int mr = m - i0 < MLPX_MR ? (int)(m - i0) : MLPX_MR;
            /* MLPX_MR = 4 rows of accumulators, named so that they stay in registers */
            MLPX_V c0a = {0}, c1a = {0}, c2a = {0}, c3a = {0};
#if MLPX_NV >= 2
            MLPX_V c0b = {0}, c1b = {0}, c2b = {0}, c3b = {0};
#endif
#if MLPX_NV == 3
            MLPX_V c0c = {0}, c1c = {0}, c2c = {0}, c3c = {0};
#endif
            const MLPX_T* a0 = A + i0 * rsa;
            /* rows past m read row 0 again; their results are not stored */
            const MLPX_T* a1 = mr > 1 ? a0 + rsa : a0;
            const MLPX_T* a2 = mr > 2 ? a0 + 2 * rsa : a0;
            const MLPX_T* a3 = mr > 3 ? a0 + 3 * rsa : a0;
            for (ptrdiff_t p = 0; p < k; p++) {
                /* the B vectors first, then one broadcast of A at a time:
                   12 accumulators + 3 + 1 = AVX2's 16 registers, no spills */
                const MLPX_T* bp = Bj + p * ld;
                const ptrdiff_t q = p * csa;
                MLPX_V ba;
                memcpy(&ba, bp, sizeof(ba));
#if MLPX_NV >= 2
                MLPX_V bb;
                memcpy(&bb, bp + VL, sizeof(bb));
#endif
#if MLPX_NV == 3
                MLPX_V bc;
                memcpy(&bc, bp + 2 * VL, sizeof(bc));
#endif
#if MLPX_NV == 3
#define MLPX_ROW(ca, cb, cc, ar) { const MLPX_T x = ar[q]; ca += x * ba; cb += x * bb; cc += x * bc; }
#elif MLPX_NV == 2
#define MLPX_ROW(ca, cb, cc, ar) { const MLPX_T x = ar[q]; ca += x * ba; cb += x * bb; }
#else
#define MLPX_ROW(ca, cb, cc, ar) { const MLPX_T x = ar[q]; ca += x * ba; }
#endif
                MLPX_ROW(c0a, c0b, c0c, a0)
                MLPX_ROW(c1a, c1b, c1c, a1)
                MLPX_ROW(c2a, c2b, c2c, a2)
                MLPX_ROW(c3a, c3b, c3c, a3)
#undef MLPX_ROW
            }
            for (int r = 0; r < mr; r++) {
                const MLPX_V va = r == 0 ? c0a : r == 1 ? c1a : r == 2 ? c2a : c3a;
#if MLPX_NV >= 2
                const MLPX_V vb = r == 0 ? c0b : r == 1 ? c1b : r == 2 ? c2b : c3b;
#endif
#if MLPX_NV == 3
                const MLPX_V vc = r == 0 ? c0c : r == 1 ? c1c : r == 2 ? c2c : c3c;
#endif
                MLPX_T* c = C + (i0 + r) * rsc + j0 * csc;
                for (ptrdiff_t jj = 0; jj < nb; jj++) {
#if MLPX_NV == 3
                    const MLPX_T v = jj < VL ? va[jj] : jj < 2 * VL ? vb[jj - VL] : vc[jj - 2 * VL];
#elif MLPX_NV == 2
                    const MLPX_T v = jj < VL ? va[jj] : vb[jj - VL];
#else
                    const MLPX_T v = va[jj];
#endif
                    c[jj * csc] = beta == 0 ? alpha * v : alpha * v + beta * c[jj * csc];
                }
            }
        }
    }
}
