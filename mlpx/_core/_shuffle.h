/* The epoch orders of a fit, drawn in C from the fit's own numpy RandomState.
 *
 * A fit shuffles its rows each epoch with RandomState.shuffle(arange(n)) and
 * composes the result with the previous order. Done in Python for every seed
 * and epoch of a multi-seed study, those draws would be a large share of the
 * study's time. Here each seed draws its own orders
 * inside the parallel region, through numpy's bit-generator interface
 * (bitgen_t, a stable C ABI), with the bounded draw of RandomState's legacy
 * shuffle: Fisher-Yates from the top, j uniform on [0, i] by masked
 * rejection. NEP 19 freezes that stream, and a test checks it against
 * RandomState.shuffle. */
#ifndef MLPX_SHUFFLE_H
#define MLPX_SHUFFLE_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "numpy/random/bitgen.h"

/* A uniform integer on [0, max], as numpy's legacy random_interval draws it. */
static inline uint64_t mlpx_random_interval(bitgen_t* bg, uint64_t max) {
    uint64_t mask = max, value;
    if (max == 0)
        return 0;
    mask |= mask >> 1;  /* the smallest all-ones mask >= max */
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    if (max <= 0xffffffffUL) {
        while ((value = (bg->next_uint32(bg->state) & mask)) > max)
            ;
    } else {
        while ((value = (bg->next_uint64(bg->state) & mask)) > max)
            ;
    }
    return value;
}

/* order = order[perm], perm = RandomState.shuffle(arange(n)) drawn from bg.
 * perm and tmp: n elements of scratch. */
static inline void mlpx_next_order(bitgen_t* bg, ptrdiff_t* order, ptrdiff_t* perm,
                                   ptrdiff_t* tmp, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++)
        perm[i] = i;
    for (ptrdiff_t i = n - 1; i > 0; i--) {
        const ptrdiff_t j = (ptrdiff_t)mlpx_random_interval(bg, (uint64_t)i);
        const ptrdiff_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (ptrdiff_t i = 0; i < n; i++)
        tmp[i] = order[perm[i]];
    memcpy(order, tmp, (size_t)n * sizeof(ptrdiff_t));
}
#endif
