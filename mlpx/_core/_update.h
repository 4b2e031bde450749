/* Weight decay, gradient scaling and the SGD / Adam step of a block of weights,
 * fused into one pass (the four separate passes it replaces each streamed the
 * weights, gradient and optimizer state through memory).
 *
 * For j < n, with the rules of scikit-learn:
 *   sq  += W[j]^2                      (before the step: the L2 term of the loss)
 *   G[j] = (G[j] + alpha W[j]) / n_eff
 *   SGD:  v = mom s1[j] - lr G[j]; s1[j] = v; W[j] += nesterov ? mom v - lr G[j] : v
 *   Adam: s1[j] = b1 s1[j] + (1-b1) G[j]; s2[j] = b2 s2[j] + (1-b2) G[j]^2;
 *         W[j] -= lr s1[j] / (sqrt(s2[j]) + eps)
 *   chk += W[j]                        (after the step: a NaN/inf detector)
 * kind 0 only scales the gradient (no step, chk = 0).
 *
 * The loop is compiled twice on x86 (AVX2+FMA and baseline) and chosen at run
 * time; `omp simd` lets the two sums vectorise. */
#ifndef MLPX_UPDATE_H
#define MLPX_UPDATE_H
#include <math.h>
#include <stddef.h>
#include "_cpu.h"

#define MLPX_UPDATE_BODY(T, SQRT)                                                    \
{                                                                                    \
    double s = 0.0, c = 0.0;                                                         \
    if (kind == 2) {                                                                 \
        _Pragma("omp simd reduction(+:s,c)")                                        \
        for (ptrdiff_t j = 0; j < n; j++) {                                          \
            const T w = W[j];                                                        \
            s += (double)w * (double)w;                                              \
            const T g = (G[j] + alpha * w) / n_eff;                                  \
            G[j] = g;                                                                \
            const T m1 = b1 * s1[j] + (1 - b1) * g;                                  \
            const T m2 = b2 * s2[j] + (1 - b2) * (g * g);                            \
            s1[j] = m1;                                                              \
            s2[j] = m2;                                                              \
            const T wn = w + -lr * m1 / (SQRT(m2) + eps);                            \
            W[j] = wn;                                                               \
            c += (double)wn;                                                         \
        }                                                                            \
    } else if (kind == 1) {                                                          \
        _Pragma("omp simd reduction(+:s,c)")                                        \
        for (ptrdiff_t j = 0; j < n; j++) {                                          \
            const T w = W[j];                                                        \
            s += (double)w * (double)w;                                              \
            const T g = (G[j] + alpha * w) / n_eff;                                  \
            G[j] = g;                                                                \
            const T v = mom * s1[j] - lr * g;                                        \
            s1[j] = v;                                                               \
            const T wn = nesterov ? w + (mom * v - lr * g) : w + v;                  \
            W[j] = wn;                                                               \
            c += (double)wn;                                                         \
        }                                                                            \
    } else {                                                                         \
        _Pragma("omp simd reduction(+:s)")                                          \
        for (ptrdiff_t j = 0; j < n; j++) {                                          \
            const T w = W[j];                                                        \
            s += (double)w * (double)w;                                              \
            G[j] = (G[j] + alpha * w) / n_eff;                                       \
        }                                                                            \
    }                                                                                \
    *sq = s;                                                                         \
    *chk = c;                                                                        \
}

#define MLPX_UPDATE_ARGS(T)                                                          \
    int kind, T* W, T* G, T* s1, T* s2, ptrdiff_t n, T alpha, T n_eff, T lr,         \
    T mom, int nesterov, T b1, T b2, T eps, double* sq, double* chk

static void mlpx_decay_step_d_base(MLPX_UPDATE_ARGS(double)) MLPX_UPDATE_BODY(double, sqrt)
static void mlpx_decay_step_s_base(MLPX_UPDATE_ARGS(float)) MLPX_UPDATE_BODY(float, sqrtf)

#if MLPX_X86_DISPATCH
MLPX_TARGET_AVX2
static void mlpx_decay_step_d_avx2(MLPX_UPDATE_ARGS(double)) MLPX_UPDATE_BODY(double, sqrt)
MLPX_TARGET_AVX2
static void mlpx_decay_step_s_avx2(MLPX_UPDATE_ARGS(float)) MLPX_UPDATE_BODY(float, sqrtf)
#else
#define mlpx_decay_step_d_avx2 mlpx_decay_step_d_base
#define mlpx_decay_step_s_avx2 mlpx_decay_step_s_base
#endif

static inline void mlpx_decay_step_d(MLPX_UPDATE_ARGS(double)) {
    (MLPX_HAVE_AVX2() ? mlpx_decay_step_d_avx2 : mlpx_decay_step_d_base)(
        kind, W, G, s1, s2, n, alpha, n_eff, lr, mom, nesterov, b1, b2, eps, sq, chk);
}

static inline void mlpx_decay_step_s(MLPX_UPDATE_ARGS(float)) {
    (MLPX_HAVE_AVX2() ? mlpx_decay_step_s_avx2 : mlpx_decay_step_s_base)(
        kind, W, G, s1, s2, n, alpha, n_eff, lr, mom, nesterov, b1, b2, eps, sq, chk);
}
#endif
