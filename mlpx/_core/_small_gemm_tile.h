/* One instance of the small-GEMM tile loop; included by _small_gemm_widths.h with
 *   MLPX_T      element type (double or float)
 *   MLPX_V      GCC vector type of MLPX_T (32 bytes for AVX2, 64 for AVX-512)
 *   MLPX_MASK   the integer vector type of the same lane width (lane masks)
 *   MLPX_MLOAD(p, mask), MLPX_MSTORE(p, mask, v)   masked load / store
 *   MLPX_NV     vectors per tile row (the tile is MLPX_MR x MLPX_NV vectors)
 *   MLPX_NAME   function name
 *   MLPX_ATTR   function attributes (the instruction set of this copy)
 *   MLPX_ROWS8  (optional) 8-row tiles for every MLPX_NV (AVX-512's 32 registers)
 *   MLPX_PACK_ROWS (optional) from this many rows of C on, every column block
 *               of B is copied into the contiguous `pad` first: its rows are then
 *               read in sequence, whatever B's row stride
 *
 * C[i*rsc + j*csc] = alpha * sum_p A[i*rsa + p*csa] * B[p*ldb + j]  (+ beta * C)
 * for i < m, j < n. B's rows are contiguous, so the tile vectorises along j
 * and broadcasts single elements of A: any strides of A (and so A or A^T) are
 * read without packing. `pad` holds k * MLPX_NV * VL elements: the last,
 * narrower column block of B is copied there with zeros after it (masked
 * loads in the inner loop cost more than the copy), and the last vector of
 * each of its rows of C is stored with a lane mask.
 * beta == 0 means C is only written (it may hold NaN). Every element of C is
 * the same chain of multiply-adds, in the order of p, whichever path computes
 * it, so results do not depend on the tile an element falls in.
 *
 * An epilogue may follow in the store, where the row is still in registers
 * (C's columns contiguous, csc == 1, only): to alpha v + beta C, bias[j] is
 * added if bias is not NULL, then epi = MLPX_EPI_RELU keeps v where v > 0
 * (else +0, NaN too, as the separate ReLU pass does) and MLPX_EPI_RELU_GRAD
 * keeps v where Z[i, j] != 0 (Z: the layer's ReLU output, row stride rsz). Each is the operation the
 * separate pass would apply to the stored value, so results are unchanged. */
#define MLPX_CAT_(a, b) a##b
#define MLPX_CAT(a, b) MLPX_CAT_(a, b)
#define MLPX_BLOCK MLPX_CAT(MLPX_NAME, _block)

/* Rows i0.. of one column block (nb columns from Bj / Cj). `partial`, a
 * constant after inlining, says whether the block's last vector is masked. */
MLPX_ATTR static inline __attribute__((always_inline)) void MLPX_BLOCK(
    ptrdiff_t m, ptrdiff_t k, MLPX_T alpha, const MLPX_T* A, ptrdiff_t rsa,
    ptrdiff_t csa, const MLPX_T* Bj, ptrdiff_t ldb, MLPX_T beta, MLPX_T* Cj,
    ptrdiff_t rsc, ptrdiff_t csc, ptrdiff_t nb, const int partial, MLPX_MASK mask,
    const MLPX_T* biasj, const MLPX_T* Zj, ptrdiff_t rsz, int epi)
{
    enum { VL = sizeof(MLPX_V) / sizeof(MLPX_T), LAST = MLPX_NV - 1 };
#define MLPX_LOAD_VEC(v, idx) memcpy(&v, bp + (idx) * VL, sizeof(v));
/* the B vectors of row p of the block */
#define MLPX_LOAD_B                                                              \
        const MLPX_T* bp = Bj + p * ldb;                                         \
        const ptrdiff_t q = p * csa;                                             \
        MLPX_V ba, bb = {0}, bc = {0};                                           \
        MLPX_LOAD_VEC(ba, 0)                                                     \
        if (MLPX_NV >= 2) { MLPX_LOAD_VEC(bb, 1) }                               \
        if (MLPX_NV == 3) { MLPX_LOAD_VEC(bc, 2) }                               \
        (void)bb; (void)bc;
#if MLPX_NV == 3
#define MLPX_FMA_ROW(ca, cb, cc, ar) { const MLPX_T x = (ar)[q]; ca += x * ba; cb += x * bb; cc += x * bc; }
#elif MLPX_NV == 2
#define MLPX_FMA_ROW(ca, cb, cc, ar) { const MLPX_T x = (ar)[q]; ca += x * ba; cb += x * bb; (void)(cc); }
#else
#define MLPX_FMA_ROW(ca, cb, cc, ar) { const MLPX_T x = (ar)[q]; ca += x * ba; (void)(cb); (void)(cc); }
#endif
/* the vector idx of row z of an epilogue operand (bias, Z), lanes past the
   last column read as zeros */
#define MLPX_EPI_LOAD(x, z, idx)                                                 \
    if (partial && (idx) == LAST) x = MLPX_MLOAD((z) + (idx) * VL, mask);        \
    else memcpy(&x, (z) + (idx) * VL, sizeof(x));
/* one vector of C's row i: alpha v (+ beta C), then the epilogue, masked if
   it is the last of a partial block */
#define MLPX_STORE_VEC(c, v, idx, i)                                             \
    if ((idx) < MLPX_NV) {                                                       \
        MLPX_V r = alpha * (v);                                                  \
        if (beta != 0) {                                                         \
            MLPX_V old;                                                          \
            if (partial && (idx) == LAST) old = MLPX_MLOAD((c) + (idx) * VL, mask); \
            else memcpy(&old, (c) + (idx) * VL, sizeof(old));                    \
            r += beta * old;                                                     \
        }                                                                        \
        if (biasj != NULL) {                                                     \
            MLPX_V bv;                                                           \
            MLPX_EPI_LOAD(bv, biasj, idx)                                        \
            r += bv;                                                             \
        }                                                                        \
        if (epi == MLPX_EPI_RELU) {                                              \
            const MLPX_V zero = {0};                                             \
            r = (MLPX_V)((MLPX_MASK)(r > zero) & (MLPX_MASK)r);                  \
        } else if (epi == MLPX_EPI_RELU_GRAD) {                                  \
            const MLPX_V zero = {0};                                             \
            MLPX_V zv;                                                           \
            MLPX_EPI_LOAD(zv, Zj + (i) * rsz, idx)                               \
            r = (MLPX_V)((MLPX_MASK)(zv != zero) & (MLPX_MASK)r);                \
        }                                                                        \
        if (partial && (idx) == LAST) MLPX_MSTORE((c) + (idx) * VL, mask, r);    \
        else memcpy((c) + (idx) * VL, &r, sizeof(r));                            \
    }
/* C's row i from the accumulators va, vb, vc */
#define MLPX_STORE_ROW(i, va, vb, vc)                                            \
    {                                                                            \
        MLPX_T* c = Cj + (i) * rsc;                                              \
        if (csc == 1) {                                                          \
            MLPX_STORE_VEC(c, va, 0, i)                                          \
            MLPX_STORE_VEC(c, vb, 1, i)                                          \
            MLPX_STORE_VEC(c, vc, 2, i)                                          \
        } else                                                                   \
        for (ptrdiff_t jj = 0; jj < nb; jj++) {                                  \
            const MLPX_T v = jj < VL ? (va)[jj]                                  \
                : jj < 2 * VL ? (vb)[jj - VL] : (vc)[jj - 2 * VL];               \
            c[jj * csc] = beta == 0 ? alpha * v : alpha * v + beta * c[jj * csc]; \
        }                                                                        \
    }
    ptrdiff_t i0 = 0;
#if MLPX_NV == 1 || defined(MLPX_ROWS8)
    /* 8-row tiles: with one vector per row, a 4-row tile's 4 accumulators
       would wait on the FMA latency at half the core's rate; with AVX-512's
       32 registers, 8 rows of 3 vectors (24 accumulators) read each B vector
       for 8 rows instead of 4 */
    for (; i0 + 8 <= m; i0 += 8) {
        MLPX_V c0a = {0}, c1a = {0}, c2a = {0}, c3a = {0};
        MLPX_V c4a = {0}, c5a = {0}, c6a = {0}, c7a = {0};
        MLPX_V c0b = {0}, c1b = {0}, c2b = {0}, c3b = {0};
        MLPX_V c4b = {0}, c5b = {0}, c6b = {0}, c7b = {0};
        MLPX_V c0c = {0}, c1c = {0}, c2c = {0}, c3c = {0};
        MLPX_V c4c = {0}, c5c = {0}, c6c = {0}, c7c = {0};
        const MLPX_T* a0 = A + i0 * rsa;
        for (ptrdiff_t p = 0; p < k; p++) {
            MLPX_LOAD_B
            MLPX_FMA_ROW(c0a, c0b, c0c, a0)
            MLPX_FMA_ROW(c1a, c1b, c1c, a0 + rsa)
            MLPX_FMA_ROW(c2a, c2b, c2c, a0 + 2 * rsa)
            MLPX_FMA_ROW(c3a, c3b, c3c, a0 + 3 * rsa)
            MLPX_FMA_ROW(c4a, c4b, c4c, a0 + 4 * rsa)
            MLPX_FMA_ROW(c5a, c5b, c5c, a0 + 5 * rsa)
            MLPX_FMA_ROW(c6a, c6b, c6c, a0 + 6 * rsa)
            MLPX_FMA_ROW(c7a, c7b, c7c, a0 + 7 * rsa)
        }
        MLPX_STORE_ROW(i0, c0a, c0b, c0c)
        MLPX_STORE_ROW(i0 + 1, c1a, c1b, c1c)
        MLPX_STORE_ROW(i0 + 2, c2a, c2b, c2c)
        MLPX_STORE_ROW(i0 + 3, c3a, c3b, c3c)
        MLPX_STORE_ROW(i0 + 4, c4a, c4b, c4c)
        MLPX_STORE_ROW(i0 + 5, c5a, c5b, c5c)
        MLPX_STORE_ROW(i0 + 6, c6a, c6b, c6c)
        MLPX_STORE_ROW(i0 + 7, c7a, c7b, c7c)
    }
#endif
    /* 4-row tiles: the B vectors first, then one broadcast of A at a time
       (12 accumulators + 3 + 1 = AVX2's 16 registers, no spills). The last
       2 or 3 rows run as a tile too, reading a valid row twice. */
    for (; i0 + 1 < m; i0 += MLPX_MR) {
        const ptrdiff_t rows = m - i0 < MLPX_MR ? m - i0 : MLPX_MR;
        MLPX_V c0a = {0}, c1a = {0}, c2a = {0}, c3a = {0};
        MLPX_V c0b = {0}, c1b = {0}, c2b = {0}, c3b = {0};
        MLPX_V c0c = {0}, c1c = {0}, c2c = {0}, c3c = {0};
        const MLPX_T* a0 = A + i0 * rsa;
        const MLPX_T* a1 = a0 + rsa;
        const MLPX_T* a2 = rows > 2 ? a1 + rsa : a1;
        const MLPX_T* a3 = rows > 3 ? a2 + rsa : a2;
        for (ptrdiff_t p = 0; p < k; p++) {
            MLPX_LOAD_B
            MLPX_FMA_ROW(c0a, c0b, c0c, a0)
            MLPX_FMA_ROW(c1a, c1b, c1c, a1)
            MLPX_FMA_ROW(c2a, c2b, c2c, a2)
            MLPX_FMA_ROW(c3a, c3b, c3c, a3)
        }
        MLPX_STORE_ROW(i0, c0a, c0b, c0c)
        MLPX_STORE_ROW(i0 + 1, c1a, c1b, c1c)
        if (rows > 2) MLPX_STORE_ROW(i0 + 2, c2a, c2b, c2c)
        if (rows > 3) MLPX_STORE_ROW(i0 + 3, c3a, c3b, c3c)
    }
    /* a last single row: one tile row (three FMA chains) */
    if (i0 < m) {
        MLPX_V c0a = {0}, c0b = {0}, c0c = {0};
        const MLPX_T* a0 = A + i0 * rsa;
        for (ptrdiff_t p = 0; p < k; p++) {
            MLPX_LOAD_B
            MLPX_FMA_ROW(c0a, c0b, c0c, a0)
        }
        MLPX_STORE_ROW(i0, c0a, c0b, c0c)
    }
#undef MLPX_LOAD_VEC
#undef MLPX_EPI_LOAD
#undef MLPX_LOAD_B
#undef MLPX_FMA_ROW
#undef MLPX_STORE_VEC
#undef MLPX_STORE_ROW
}

MLPX_ATTR static void MLPX_NAME(
    ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, MLPX_T alpha,
    const MLPX_T* A, ptrdiff_t rsa, ptrdiff_t csa,
    const MLPX_T* B, ptrdiff_t ldb, MLPX_T beta,
    MLPX_T* C, ptrdiff_t rsc, ptrdiff_t csc, MLPX_T* pad,
    const MLPX_T* bias, const MLPX_T* Z, ptrdiff_t rsz, int epi)
{
    enum { VL = sizeof(MLPX_V) / sizeof(MLPX_T), NR = MLPX_NV * VL };
    MLPX_MASK lane;
    for (int l = 0; l < VL; l++)
        lane[l] = l;
    for (ptrdiff_t j0 = 0; j0 < n; j0 += NR) {
        const ptrdiff_t nb = n - j0 < NR ? n - j0 : NR;
#ifdef MLPX_PACK_ROWS
        const int direct = nb == NR && m < MLPX_PACK_ROWS;
#else
        const int direct = nb == NR;
#endif
        if (direct) {
            MLPX_BLOCK(m, k, alpha, A, rsa, csa, B + j0, ldb, beta, C + j0 * csc, rsc,
                       csc, nb, 0, lane, bias ? bias + j0 : NULL, Z ? Z + j0 : NULL, rsz,
                       epi);
        } else {
            /* lanes of the last vector that hold columns of C */
            MLPX_MASK width;
            for (int l = 0; l < VL; l++)
                width[l] = (int)(nb - (MLPX_NV - 1) * VL);
            const MLPX_MASK mask = lane < width;
            for (ptrdiff_t p = 0; p < k; p++)
                for (ptrdiff_t jj = 0; jj < NR; jj++)
                    pad[p * NR + jj] = jj < nb ? B[p * ldb + j0 + jj] : (MLPX_T)0;
            if (nb == NR)  /* a full block, packed */
                MLPX_BLOCK(m, k, alpha, A, rsa, csa, pad, NR, beta, C + j0 * csc, rsc,
                           csc, nb, 0, lane, bias ? bias + j0 : NULL,
                           Z ? Z + j0 : NULL, rsz, epi);
            else
                MLPX_BLOCK(m, k, alpha, A, rsa, csa, pad, NR, beta, C + j0 * csc, rsc,
                           csc, nb, 1, mask, bias ? bias + j0 : NULL,
                           Z ? Z + j0 : NULL, rsz, epi);
        }
    }
}
#undef MLPX_BLOCK
