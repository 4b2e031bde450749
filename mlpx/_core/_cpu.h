/* Run-time choice between an AVX2+FMA build of a function and a baseline one,
 * written once for every kernel that has both.
 *
 * MLPX_TARGET_AVX2 marks the AVX2+FMA build; MLPX_HAVE_AVX2() says whether the
 * CPU runs it. MLPX_TARGET_AVX512 / MLPX_HAVE_AVX512() do the same for the
 * AVX-512 (F + DQ) build of the tile kernels. Where the compiler cannot target AVX2 from a baseline build
 * (not GCC/Clang on x86), MLPX_X86_DISPATCH is 0 and only baselines exist. */
#ifndef MLPX_CPU_H
#define MLPX_CPU_H

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define MLPX_X86_DISPATCH 1
#define MLPX_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define MLPX_HAVE_AVX2() (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
#define MLPX_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx2,fma")))
#define MLPX_HAVE_AVX512() \
    (MLPX_HAVE_AVX2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq"))
#else
#define MLPX_X86_DISPATCH 0
#define MLPX_TARGET_AVX2
#define MLPX_HAVE_AVX2() 0
#define MLPX_TARGET_AVX512
#define MLPX_HAVE_AVX512() 0
#endif

#endif
