/* Reductions that the compiler may vectorise: `omp simd reduction` allows the
 * reassociation that plain C forbids (the order of the sum is then fixed by the
 * build and the CPU, never by the thread count). Without OpenMP the pragma is
 * ignored and the loops run in order. */
#ifndef MLPX_SIMD_H
#define MLPX_SIMD_H
#include <stddef.h>

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
 * waited on the one before, 3x slower on 64000 doubles than this. */
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
#endif
