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
 * so the sum cannot overflow (unlike a plain sum of x). */
static inline int mlpx_all_finite_double(const double* x, ptrdiff_t n) {
    double s = 0.0;
    #pragma omp simd reduction(+:s)
    for (ptrdiff_t i = 0; i < n; i++) s += x[i] * 0.0;
    return s == 0.0;
}

static inline int mlpx_all_finite_float(const float* x, ptrdiff_t n) {
    float s = 0.0f;
    #pragma omp simd reduction(+:s)
    for (ptrdiff_t i = 0; i < n; i++) s += x[i] * 0.0f;
    return s == 0.0f;
}
#endif
