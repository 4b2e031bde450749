/* Reductions that the compiler may vectorise: `omp simd reduction` allows the
 * reassociation that plain C forbids (the order of the sum is then fixed by the
 * build and the CPU, never by the thread count). Without OpenMP the pragma is
 * ignored and the loops run in order. */
#ifndef MLPX_SIMD_H
#define MLPX_SIMD_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "_cpu.h"

static inline double mlpx_sumsq_double(const double* x, ptrdiff_t n) {
    double s = 0.0;
    #pragma omp simd reduction(+:s)
    for (ptrdiff_t i = 0; i < n; i++) s += x[i] * x[i];
    return s;
}

static inline double mlpx_sumsq_float(const float* x, ptrdiff_t n) {
    double s = 0.0;
    #pragma omp simd reduction(+:s)
    for (ptrdiff_t i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}

static inline double mlpx_sum_double(const double* x, ptrdiff_t n) {
    double s = 0.0;
    #pragma omp simd reduction(+:s)
    for (ptrdiff_t i = 0; i < n; i++) s += x[i];
    return s;
}

static inline double mlpx_sum_float(const float* x, ptrdiff_t n) {
    double s = 0.0;
    #pragma omp simd reduction(+:s)
    for (ptrdiff_t i = 0; i < n; i++) s += (double)x[i];
    return s;
}

/* Whether no x[i] is NaN or infinite: x * 0 is 0 for finite x and NaN else,
 * so the sum cannot overflow (unlike a plain sum of x). K independent sums:
 * with one (an `omp simd` reduction in the baseline SSE2 build) every add
 * would wait on the one before. */
#define MLPX_DEFINE_ALL_FINITE(T, S)                                                 \
static inline int mlpx_all_finite_##S(const T* x, ptrdiff_t n) {                     \
    enum { K = 64 / sizeof(T) };                                                     \
    const ptrdiff_t nk = n - n % K;                                                  \
    T z[K] = {0}, s = 0;                                                             \
    for (ptrdiff_t i = 0; i < nk; i += K)                                            \
        for (int j = 0; j < K; j++)                                                  \
            z[j] += x[i + j] * 0;                                                    \
    for (ptrdiff_t i = nk; i < n; i++)                                               \
        s += x[i] * 0;                                                               \
    for (int j = 0; j < K; j++)                                                      \
        s += z[j];                                                                   \
    return s == 0;                                                                   \
}
MLPX_DEFINE_ALL_FINITE(double, double)
MLPX_DEFINE_ALL_FINITE(float, float)

/* The largest |x[i]| of an array, as the bit pattern of that value with the
 * sign cleared. For IEEE numbers the order of these patterns, compared as
 * integers, is the order of |x|, with inf above every finite value and NaN
 * above inf: one pass tells both whether x is finite and how large it is.
 * An integer max vectorises in SSE2 (AVX2 when the CPU has it). */
#define MLPX_ABS_MAX_BODY(T, I, MASK)                                                \
{                                                                                    \
    I m = 0;                                                                         \
    _Pragma("omp simd reduction(max:m)")                                            \
    for (ptrdiff_t i = 0; i < n; i++) {                                              \
        I b;                                                                         \
        memcpy(&b, x + i, sizeof(b));                                                \
        b &= MASK;                                                                   \
        m = b > m ? b : m;                                                           \
    }                                                                                \
    return m;                                                                        \
}
static int32_t mlpx_abs_max_bits_float_base(const float* x, ptrdiff_t n)
    MLPX_ABS_MAX_BODY(float, int32_t, INT32_MAX)
static int64_t mlpx_abs_max_bits_double_base(const double* x, ptrdiff_t n)
    MLPX_ABS_MAX_BODY(double, int64_t, INT64_MAX)
#if MLPX_X86_DISPATCH
MLPX_TARGET_AVX2
static int32_t mlpx_abs_max_bits_float_avx2(const float* x, ptrdiff_t n)
    MLPX_ABS_MAX_BODY(float, int32_t, INT32_MAX)
MLPX_TARGET_AVX2
static int64_t mlpx_abs_max_bits_double_avx2(const double* x, ptrdiff_t n)
    MLPX_ABS_MAX_BODY(double, int64_t, INT64_MAX)
#else
#define mlpx_abs_max_bits_float_avx2 mlpx_abs_max_bits_float_base
#define mlpx_abs_max_bits_double_avx2 mlpx_abs_max_bits_double_base
#endif
#undef MLPX_ABS_MAX_BODY

/* max |x[i]| (0 for n = 0; inf if x holds inf, NaN if it holds NaN) */
static inline double mlpx_abs_max_float(const float* x, ptrdiff_t n) {
    const int32_t b = (MLPX_HAVE_AVX2() ? mlpx_abs_max_bits_float_avx2
                                         : mlpx_abs_max_bits_float_base)(x, n);
    float v;
    memcpy(&v, &b, sizeof(v));
    return (double)v;
}

static inline double mlpx_abs_max_double(const double* x, ptrdiff_t n) {
    const int64_t b = (MLPX_HAVE_AVX2() ? mlpx_abs_max_bits_double_avx2
                                         : mlpx_abs_max_bits_double_base)(x, n);
    double v;
    memcpy(&v, &b, sizeof(v));
    return v;
}
#endif
