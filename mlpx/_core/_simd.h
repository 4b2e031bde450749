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
#endif
