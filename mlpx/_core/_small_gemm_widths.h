/* The tile loop of _small_gemm_tile.h for 3, 2 and 1 vectors per tile row,
 * named MLPX_PREFIX3, MLPX_PREFIX2, MLPX_PREFIX1 (MLPX_PREFIX: e.g. mlpx_tile_d).
 * Included by _small_gemm.h with MLPX_T, MLPX_V, MLPX_MASK, MLPX_MLOAD,
 * MLPX_MSTORE and MLPX_ATTR set (see _small_gemm_tile.h); undefines the five
 * type macros and MLPX_PREFIX afterwards. */
#define MLPX_CAT_(a, b) a##b
#define MLPX_CAT(a, b) MLPX_CAT_(a, b)
#define MLPX_NAME MLPX_CAT(MLPX_PREFIX, 3)
#define MLPX_NV 3
#include "_small_gemm_tile.h"
#undef MLPX_NV
#undef MLPX_NAME
#define MLPX_NAME MLPX_CAT(MLPX_PREFIX, 2)
#define MLPX_NV 2
#include "_small_gemm_tile.h"
#undef MLPX_NV
#undef MLPX_NAME
#define MLPX_NAME MLPX_CAT(MLPX_PREFIX, 1)
#define MLPX_NV 1
#include "_small_gemm_tile.h"
#undef MLPX_NV
#undef MLPX_NAME
#undef MLPX_PREFIX
#undef MLPX_T
#undef MLPX_V
#undef MLPX_MASK
#undef MLPX_MLOAD
#undef MLPX_MSTORE
