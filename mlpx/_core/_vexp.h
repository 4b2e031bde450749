/* exp of non-positive numbers, in place, vectorised: the softmax's exp(z - max);
 * and the softmax of the rows of a block, which uses it.
 *
 * libm's exp is scalar, and a large share of a small network's mini-batch. With
 * AVX2 this loop computes exp(x) = 2^n exp(r), n = round(x / ln 2),
 * r = x - n ln 2 (ln 2 split in two so that n ln2_hi is exact), exp(r) by its
 * Taylor series (to r^13 for double, r^7 for float: truncation below half an
 * ulp for |r| <= ln(2)/2), and 2^n built in the exponent bits. Arguments below
 * the smallest normal result give 0 (exact to within 2.3e-308 / 1.2e-38, far
 * below what a probability can resolve); NaN stays NaN. Without AVX2 the loop
 * calls libm. Written with GCC vector extensions: the branch-free form does
 * not depend on the auto-vectoriser. */
#ifndef MLPX_VEXP_H
#define MLPX_VEXP_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "_cpu.h"

static void mlpx_exp_nonpos_d_base(double* x, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) x[i] = exp(x[i]);
}

static void mlpx_exp_nonpos_s_base(float* x, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) x[i] = expf(x[i]);
}

#if MLPX_X86_DISPATCH
typedef double mlpx_e4d __attribute__((vector_size(32)));
typedef long long mlpx_e4l __attribute__((vector_size(32)));
typedef float mlpx_e8f __attribute__((vector_size(32)));
typedef int mlpx_e8i __attribute__((vector_size(32)));

MLPX_TARGET_AVX2
static inline mlpx_e4d mlpx_exp4(mlpx_e4d x) {
    const mlpx_e4d lo = {-708.0, -708.0, -708.0, -708.0};  /* exp(-708) ~ 3.3e-308 */
    const double shift = 6755399441055744.0;  /* 1.5 * 2^52: adding it rounds to an integer */
    const mlpx_e4l below = x < lo;
    const mlpx_e4d xc = (mlpx_e4d)(((mlpx_e4l)x & ~below) | ((mlpx_e4l)lo & below));
    const mlpx_e4d t = xc * 1.4426950408889634 + shift;
    const mlpx_e4d nf = t - shift;
    mlpx_e4d r = xc - nf * 0.693145751953125;
    r = r - nf * 1.42860682030941723212e-6;
    mlpx_e4d p = r * (1.0 / 6227020800.0) + 1.0 / 479001600.0;  /* 1/13!, 1/12! */
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    const mlpx_e4l scale = ((mlpx_e4l)t + 1023) << 52;  /* low bits of t: 2^51 + n */
    return (mlpx_e4d)((mlpx_e4l)(p * (mlpx_e4d)scale) & ~below);
}

MLPX_TARGET_AVX2
static inline mlpx_e8f mlpx_exp8(mlpx_e8f x) {
    const mlpx_e8f lo = {-87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f};
    const float shift = 12582912.0f;           /* 1.5 * 2^23 */
    const mlpx_e8i below = x < lo;
    const mlpx_e8f xc = (mlpx_e8f)(((mlpx_e8i)x & ~below) | ((mlpx_e8i)lo & below));
    const mlpx_e8f t = xc * 1.44269504f + shift;
    const mlpx_e8f nf = t - shift;
    mlpx_e8f r = xc - nf * 0.693359375f;
    r = r - nf * -2.12194440e-4f;
    mlpx_e8f p = r * (1.0f / 5040.0f) + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const mlpx_e8i scale = ((mlpx_e8i)t + 127) << 23;
    return (mlpx_e8f)((mlpx_e8i)(p * (mlpx_e8f)scale) & ~below);
}

#define MLPX_DEFINE_VEXP(T, S, V, F)                                                 \
MLPX_TARGET_AVX2                                                  \
static void mlpx_exp_nonpos_##S##_avx2(T* x, ptrdiff_t n) {                          \
    enum { VL = sizeof(V) / sizeof(T) };                                             \
    ptrdiff_t i = 0;                                                                 \
    for (; i + VL <= n; i += VL) {  /* constant-size copies: plain vector moves */   \
        V v;                                                                         \
        memcpy(&v, x + i, sizeof(v));                                                \
        v = F(v);                                                                    \
        memcpy(x + i, &v, sizeof(v));                                                \
    }                                                                                \
    if (i < n) {                                                                     \
        const size_t bytes = (size_t)(n - i) * sizeof(T);                            \
        V v = {0};                                                                   \
        memcpy(&v, x + i, bytes);                                                    \
        v = F(v);                                                                    \
        memcpy(x + i, &v, bytes);                                                    \
    }                                                                                \
}
MLPX_DEFINE_VEXP(double, d, mlpx_e4d, mlpx_exp4)
MLPX_DEFINE_VEXP(float, s, mlpx_e8f, mlpx_exp8)
#else
#define mlpx_exp_nonpos_d_avx2 mlpx_exp_nonpos_d_base
#define mlpx_exp_nonpos_s_avx2 mlpx_exp_nonpos_s_base
#endif

/* x[i] = exp(x[i]) for x[i] <= 0 (or NaN). */
static inline void mlpx_exp_nonpos_d(double* x, ptrdiff_t n) {
    (MLPX_HAVE_AVX2() ? mlpx_exp_nonpos_d_avx2 : mlpx_exp_nonpos_d_base)(x, n);
}

static inline void mlpx_exp_nonpos_s(float* x, ptrdiff_t n) {
    (MLPX_HAVE_AVX2() ? mlpx_exp_nonpos_s_avx2 : mlpx_exp_nonpos_s_base)(x, n);
}

/* In place softmax of each row of the row-major m x n block z: exp(z - max)
 * over the row's sum. The row's max and sum are `omp simd` reductions (so the
 * sum's order is fixed by the build and the CPU, never by the thread count); a
 * row holding NaN or inf comes out all NaN, as with any order. Compiled for
 * AVX2+FMA and baseline like the exp, and chosen at run time. */
#define MLPX_SOFTMAX_BODY(T, EXPN)                                                   \
{                                                                                    \
    for (ptrdiff_t i = 0; i < m; i++) {                                              \
        T* row = z + i * n;                                                          \
        T mx = row[0];                                                               \
        _Pragma("omp simd reduction(max:mx)")                                       \
        for (ptrdiff_t j = 0; j < n; j++)                                            \
            mx = row[j] > mx ? row[j] : mx;                                          \
        for (ptrdiff_t j = 0; j < n; j++)                                            \
            row[j] = row[j] - mx;                                                    \
    }                                                                                \
    EXPN(z, m * n);                                                                  \
    for (ptrdiff_t i = 0; i < m; i++) {                                              \
        T* row = z + i * n;                                                          \
        T s = 0;                                                                     \
        _Pragma("omp simd reduction(+:s)")                                          \
        for (ptrdiff_t j = 0; j < n; j++)                                            \
            s += row[j];                                                             \
        for (ptrdiff_t j = 0; j < n; j++)                                            \
            row[j] = row[j] / s;                                                     \
    }                                                                                \
}
static void mlpx_softmax_rows_d_base(double* z, ptrdiff_t m, ptrdiff_t n)
    MLPX_SOFTMAX_BODY(double, mlpx_exp_nonpos_d_base)
static void mlpx_softmax_rows_s_base(float* z, ptrdiff_t m, ptrdiff_t n)
    MLPX_SOFTMAX_BODY(float, mlpx_exp_nonpos_s_base)
#if MLPX_X86_DISPATCH
MLPX_TARGET_AVX2
static void mlpx_softmax_rows_d_avx2(double* z, ptrdiff_t m, ptrdiff_t n)
    MLPX_SOFTMAX_BODY(double, mlpx_exp_nonpos_d_avx2)
MLPX_TARGET_AVX2
static void mlpx_softmax_rows_s_avx2(float* z, ptrdiff_t m, ptrdiff_t n)
    MLPX_SOFTMAX_BODY(float, mlpx_exp_nonpos_s_avx2)
#else
#define mlpx_softmax_rows_d_avx2 mlpx_softmax_rows_d_base
#define mlpx_softmax_rows_s_avx2 mlpx_softmax_rows_s_base
#endif

static inline void mlpx_softmax_rows_d(double* z, ptrdiff_t m, ptrdiff_t n) {
    (MLPX_HAVE_AVX2() ? mlpx_softmax_rows_d_avx2 : mlpx_softmax_rows_d_base)(z, m, n);
}

static inline void mlpx_softmax_rows_s(float* z, ptrdiff_t m, ptrdiff_t n) {
    (MLPX_HAVE_AVX2() ? mlpx_softmax_rows_s_avx2 : mlpx_softmax_rows_s_base)(z, m, n);
}
#endif
