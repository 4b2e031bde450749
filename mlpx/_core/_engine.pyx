"""The compiled engine: forward pass, deltas, gradients and optimizer steps of
mini-batches, run by a team of OpenMP threads. Declarations are in _engine.pxd.

Parallelism, and why results do not depend on the thread count. Each batch is
two phases of tiles, whose cut depends on the batch size and the network only,
never on the threads:

* chunks: the batch rows are cut into chunks of `chunk_rows` rows; each chunk
  runs the forward pass, the output deltas and the delta recursion for its
  rows. Rows are independent, so no reduction is needed; the per-chunk losses
  are added in chunk order.
* tasks: the weight gradient of layer l, x^(l-1)^T delta^(l), is cut into fixed
  blocks of rows of W_l; each task computes its block over the whole batch with
  one GEMM, adds the weight decay and, when training, applies the optimizer
  step to exactly those parameters. Each parameter is written by one task, so
  there is nothing to reduce.

One parallel region runs all the batches of an epoch (see run_job): threads take
tiles as they come free (_team.h), so a thread the OS deschedules between tiles
holds nobody up. BLAS must run single-threaded meanwhile (the caller caps it),
so the OpenMP and BLAS pools never multiply.
"""
from cython cimport floating
from cython.parallel cimport parallel, threadid
from libc.math cimport cos, exp, expm1, isfinite, log, log1p, pow, sqrt, sqrtf, tanh
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from scipy.linalg.cython_blas cimport dgemm, sgemm

import numpy as np

from ._types cimport (
    ADAM, CANONICAL, DIVERGED, EXP, IDENTITY, INTERRUPTED, LEAKY_RELU, LOGISTIC, NO_UPDATE,
    OK, RELU, SGD, SGLD, SOFTMAX, SOFTPLUS, SQUARED_ERROR, TANH, intp,
)


cdef extern from "_vexp.h":
    void mlpx_exp_nonpos_d(double* x, intp n) noexcept nogil
    void mlpx_exp_nonpos_s(float* x, intp n) noexcept nogil
    void mlpx_softmax_rows_d(double* z, intp m, intp n) noexcept nogil
    void mlpx_softmax_rows_s(float* z, intp m, intp n) noexcept nogil


cdef inline floating logistic(floating x) noexcept nogil:
    cdef floating e
    if x >= 0:
        return 1 / (1 + <floating>exp(-x))
    e = <floating>exp(x)
    return e / (1 + e)


cdef inline floating softplus(floating x) noexcept nogil:
    if x > 0:
        return x + <floating>log1p(exp(-x))
    return <floating>log1p(exp(x))


cdef void bias_activation(floating* z, intp m, intp n, const floating* b,
                          int act, double slope) noexcept nogil:
    """In place z[i, j] = act(z[i, j] + b[j]) for a row-major m x n block
    (slope: leaky ReLU's for negative inputs)."""
    cdef intp i, j
    cdef floating* row
    cdef floating v
    for i in range(m):
        row = z + i * n
        if act == IDENTITY:
            for j in range(n):
                row[j] = row[j] + b[j]
        elif act == LOGISTIC:
            for j in range(n):
                row[j] = logistic(row[j] + b[j])
        elif act == TANH:
            for j in range(n):
                row[j] = <floating>tanh(row[j] + b[j])
        elif act == RELU:
            for j in range(n):
                v = row[j] + b[j]
                row[j] = v if v > 0 else 0
        elif act == LEAKY_RELU:
            for j in range(n):
                v = row[j] + b[j]
                row[j] = v if v > 0 else <floating>slope * v
        elif act == SOFTPLUS:
            for j in range(n):
                row[j] = softplus(row[j] + b[j])
        elif act == EXP:
            for j in range(n):
                row[j] = <floating>exp(row[j] + b[j])
    if act == SOFTMAX:
        softmax_rows(z, m, n, b)


cdef inline void softmax_rows(floating* z, intp m, intp n, const floating* b) noexcept nogil:
    """In place softmax of each row of z + b (b: NULL when the bias is already added)."""
    cdef intp i, j
    cdef floating* row
    if b != NULL:
        for i in range(m):
            row = z + i * n
            for j in range(n):
                row[j] = row[j] + b[j]
    if floating is float:
        mlpx_softmax_rows_s(z, m, n)
    else:
        mlpx_softmax_rows_d(z, m, n)


cdef void activation_derivative(floating* d, const floating* z, intp count,
                                int act, double slope) noexcept nogil:
    """In place d *= act'(s), where z = act(s) is the layer's output (slope:
    leaky ReLU's for negative inputs; z <= 0 exactly where s <= 0)."""
    cdef intp i
    if act == LOGISTIC:
        for i in range(count):
            d[i] = d[i] * z[i] * (1 - z[i])
    elif act == TANH:
        for i in range(count):
            d[i] = d[i] * (1 - z[i] * z[i])
    elif act == RELU:
        for i in range(count):  # a select, not a branch: the loop vectorises
            d[i] = d[i] if z[i] != 0 else 0
    elif act == LEAKY_RELU:
        for i in range(count):
            if z[i] <= 0:
                d[i] = d[i] * <floating>slope
    elif act == SOFTPLUS:
        # softplus'(s) = sigmoid(s) = 1 - exp(-softplus(s))
        for i in range(count):
            d[i] = d[i] * <floating>(-expm1(-z[i]))


cdef void add_second_derivative_term(
    floating* out,            # OUT out += t * act''(s) * r
    const floating* t, const floating* z, const floating* r, intp count, int act,
) noexcept nogil:
    """The curvature term of the R-operator's delta recursion, from z = act(s)."""
    cdef intp i
    cdef floating d1
    if act == LOGISTIC:
        for i in range(count):
            d1 = z[i] * (1 - z[i])
            out[i] += t[i] * d1 * (1 - 2 * z[i]) * r[i]
    elif act == TANH:
        for i in range(count):
            out[i] += t[i] * (-2 * z[i] * (1 - z[i] * z[i])) * r[i]
    elif act == SOFTPLUS:
        for i in range(count):
            d1 = <floating>(-expm1(-z[i]))  # sigmoid(s)
            out[i] += t[i] * d1 * (1 - d1) * r[i]
    # identity, relu, leaky_relu: act'' = 0 (almost everywhere)


cdef void output_jacobian_times(
    floating* rp,             # IN R{s} of the output layer, OUT R{p}
    const floating* p, intp m, intp k, int out_act,
) noexcept nogil:
    """R{p} = J_out(s) R{s} for the output activation, row by row."""
    cdef intp i, j
    cdef floating dot
    for i in range(m):
        if out_act == LOGISTIC:
            for j in range(k):
                rp[i * k + j] *= p[i * k + j] * (1 - p[i * k + j])
        elif out_act == EXP:
            for j in range(k):
                rp[i * k + j] *= p[i * k + j]
        elif out_act == SOFTMAX:
            dot = 0
            for j in range(k):
                dot += p[i * k + j] * rp[i * k + j]
            for j in range(k):
                rp[i * k + j] = p[i * k + j] * (rp[i * k + j] - dot)


cdef inline void output_jacobian_transpose_times(
    floating* g,              # IN dE/dp of one row, OUT dE/ds
    const floating* p, intp k, int out_act,
) noexcept nogil:
    """g = J_out(s)^T g for one row (J symmetric for these activations)."""
    cdef intp j
    cdef double dot = 0
    if out_act == LOGISTIC:
        for j in range(k):
            g[j] = g[j] * p[j] * (1 - p[j])
    elif out_act == EXP:
        for j in range(k):
            g[j] = g[j] * p[j]
    elif out_act == SOFTMAX:
        for j in range(k):
            dot += <double>p[j] * g[j]
        for j in range(k):
            g[j] = <floating>(p[j] * (g[j] - dot))


cdef double output_loss_and_delta(
    const floating* p,       # IN  m x k network outputs (after the output activation)
    floating* d,             # OUT m x k output deltas dE/ds, times the sample weight
    intp m, intp k,
    const floating* Y,       # IN  targets, rows selected by idx or from row0
    const intp* idx, intp row0,
    const floating* sw,      # IN  sample weights or NULL
    int out_act,
    int loss,                # a Loss code
    bint training,           # a training step's deltas (see below)
    double* sw_sum,          # OUT sum of the weights of these rows
) noexcept nogil:
    """Return the weighted sum over rows of the loss, and fill the deltas.

    The canonical loss of the output activation has the delta (p - y) scaled
    by the sample weight. The squared error is averaged over the k outputs
    (scikit-learn's reported loss), and its delta divided by k is its exact
    gradient; a training step leaves out the division, as scikit-learn's
    update does: it descends the squared error summed over the outputs. The
    squared error on a logistic, softmax or exp output has the delta
    J(s)^T (p - y) (/ k), J the output's Jacobian.
    """
    cdef intp i, j, r
    cdef const floating* y
    cdef const floating* pi
    cdef floating* di
    cdef double w, wk, li, total = 0, wsum = 0
    cdef double pc, yj
    cdef double eps = 1.1920928955078125e-07 if floating is float else 2.220446049250313e-16
    # one loop per loss, each branch-free but for the log terms, which
    # one-hot targets need only once per row
    for i in range(m):
        r = idx[i] if idx != NULL else row0 + i
        y = Y + r * k
        pi = p + i * k
        di = d + i * k
        w = sw[r] if sw != NULL else 1.0
        li = 0
        if out_act == IDENTITY or loss == SQUARED_ERROR:
            wk = w if training else w / k
            for j in range(k):
                li = li + (<double>y[j] - pi[j]) * (<double>y[j] - pi[j])
                di[j] = <floating>(wk * (pi[j] - y[j]))
            li = 0.5 * li / k
            if out_act != IDENTITY:
                output_jacobian_transpose_times(di, pi, k, out_act)
        else:
            for j in range(k):
                di[j] = <floating>(w * (pi[j] - y[j]))
            if out_act == EXP:
                # half Poisson deviance, as scikit-learn's poisson loss
                for j in range(k):
                    yj = y[j]
                    li = li + pi[j] - yj
                    if yj != 0:
                        li = li + yj * log(yj / pi[j])
            else:
                # log-loss on probabilities clipped to [eps, 1 - eps]
                for j in range(k):
                    yj = y[j]
                    if yj == 0 and out_act != LOGISTIC:
                        continue
                    pc = pi[j]  # NaN stays NaN: the caller detects divergence
                    if pc < eps:
                        pc = eps
                    elif pc > 1 - eps:
                        pc = 1 - eps
                    if yj != 0:
                        li = li - yj * log(pc)
                    if out_act == LOGISTIC and yj != 1:
                        li = li - (1 - yj) * log(1 - pc)
        total = total + w * li
        wsum = wsum + w
    sw_sum[0] = wsum
    return total


cdef extern from "_small_gemm.h":
    int small_gemm_d "mlpx_small_gemm_d" (
        char ta, char tb, intp m, intp n, intp k, double alpha, const double* A,
        intp lda, const double* B, intp ldb, double beta, double* C, intp ldc) noexcept nogil
    int small_gemm_s "mlpx_small_gemm_s" (
        char ta, char tb, intp m, intp n, intp k, float alpha, const float* A,
        intp lda, const float* B, intp ldb, float beta, float* C, intp ldc) noexcept nogil
    int gemm_epi_d "mlpx_gemm_epi_d" (
        char ta, char tb, intp m, intp n, intp k, double alpha, const double* A,
        intp lda, const double* B, intp ldb, double beta, double* C, intp ldc,
        const double* bias, const double* Z, intp ldz, int epi) noexcept nogil
    int gemm_epi_s "mlpx_gemm_epi_s" (
        char ta, char tb, intp m, intp n, intp k, float alpha, const float* A,
        intp lda, const float* B, intp ldb, float beta, float* C, intp ldc,
        const float* bias, const float* Z, intp ldz, int epi) noexcept nogil
    bint tiles_take "mlpx_tiles_take" (bint single, char ta, char tb, intp m,
                                        intp n, intp k) noexcept nogil
    int EPI_NONE "MLPX_EPI_NONE"
    int EPI_RELU "MLPX_EPI_RELU"
    int EPI_RELU_GRAD "MLPX_EPI_RELU_GRAD"
    bint small_gemm_available "mlpx_small_gemm_available" () noexcept nogil
    bint tiles_wide "MLPX_WIDE_TILES" () noexcept nogil
    int tiles_narrow "mlpx_tiles_narrow"


def set_narrow_tiles(bint narrow):
    """Run the AVX2 tiles even where the CPU has AVX-512 (tests only); return
    the previous setting."""
    global tiles_narrow
    cdef bint was = tiles_narrow
    tiles_narrow = narrow
    return was


cdef bint tile_grid = False


def set_tile_grid(bint on):
    """Let batches run on the tile grid where plan_uses_grid allows (mlpx._threads
    decides at import); return the previous setting."""
    global tile_grid
    cdef bint was = tile_grid
    tile_grid = on
    return was


def tile_grid_enabled():
    """Whether large batches may run on the tile grid (see set_tile_grid)."""
    return bool(tile_grid)


def wide_tiles_in_use():
    """Whether the engine runs its AVX-512 tiles."""
    return bool(tiles_wide())


cdef void blas_gemm(char ta, char tb, intp m, intp n, intp k, floating alpha,
                    const floating* A, intp lda, const floating* B, intp ldb,
                    floating beta, floating* C, intp ldc) noexcept nogil:
    """C (m x n, row-major) = alpha * op(A) @ op(B) + beta * C, by BLAS.

    ta / tb are 'N' or 'T'. BLAS is column-major, so this computes
    C^T = op(B)^T op(A)^T: the operands swap places, the flags stay.
    """
    cdef int m_ = <int>m, n_ = <int>n, k_ = <int>k
    cdef int lda_ = <int>lda, ldb_ = <int>ldb, ldc_ = <int>ldc
    if floating is float:
        sgemm(&tb, &ta, &n_, &m_, &k_, &alpha, <float*>B, &ldb_, <float*>A, &lda_,
              &beta, C, &ldc_)
    else:
        dgemm(&tb, &ta, &n_, &m_, &k_, &alpha, <double*>B, &ldb_, <double*>A, &lda_,
              &beta, C, &ldc_)


cdef int small_gemm(char ta, char tb, intp m, intp n, intp k, floating alpha,
                    const floating* A, intp lda, const floating* B, intp ldb,
                    floating beta, floating* C, intp ldc) noexcept nogil:
    """As blas_gemm, by the small-product kernels; -1 if they cannot run here."""
    if floating is float:
        return small_gemm_s(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
    return small_gemm_d(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)


cdef int small_gemm_epilogue(
    char tb, intp m, intp n, intp k, const floating* A, intp lda, const floating* B,
    intp ldb, floating* C, intp ldc, const floating* bias, const floating* Z, intp ldz,
    int epi,
) noexcept nogil:
    """C = A @ op(B) (+ bias along the rows) with the epilogue epi (EPI_*) applied
    in the store, by the tile kernels. Return -1, writing nothing, when the
    product is not theirs (tiles_take) or they cannot run here: the caller then
    runs gemm and the epilogue as passes of their own."""
    if not tiles_take(floating is float, c'N', tb, m, n, k):
        return -1
    if floating is float:
        return gemm_epi_s(c'N', tb, m, n, k, 1, A, lda, B, ldb, 0, C, ldc, bias, Z, ldz, epi)
    return gemm_epi_d(c'N', tb, m, n, k, 1, A, lda, B, ldb, 0, C, ldc, bias, Z, ldz, epi)


cdef void gemm(char ta, char tb, intp m, intp n, intp k, floating alpha,
               const floating* A, intp lda, const floating* B, intp ldb,
               floating beta, floating* C, intp ldc) noexcept nogil:
    """C (m x n, row-major) = alpha * op(A) @ op(B) + beta * C."""
    if tiles_take(floating is float, ta, tb, m, n, k):
        if small_gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc) == 0:
            return
    blas_gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)


cdef extern from *:
    """
    /* The tile grid (plan_init): row blocks of about GRID_ROWS rows; regions
       cut into one tile per GRID_TILE_FLOPS, at most GRID_MAX_TILES, none
       narrower than GRID_MIN_COLS columns (one vector of 8 doubles) or, in
       the gradient, GRID_MIN_ROWS rows of W; batches of up to GRID_MAX_ROWS
       rows (larger ones are a full-batch gradient: the chunk plan). */
    #define MLPX_GRID_ROWS 16
    #define MLPX_GRID_MIN_ROWS 8
    #define MLPX_GRID_MIN_COLS 8
    #define MLPX_GRID_MAX_ROWS 512
    #define MLPX_GRID_MAX_TILES 64
    #define MLPX_GRID_TILE_FLOPS 2.0e5
    /* Up to this many threads run the grid on its coarse schedule (grid_work) */
    #define MLPX_GRID_COARSE_THREADS 4

    /* Bounds on the chunks of a batch (see chunk_rows). */
    #define MLPX_MIN_CHUNK_ROWS 64
    #define MLPX_MAX_CHUNKS 16
    /* Fewest rows of W_l in one task: a thinner block makes BLAS repack the
       whole delta matrix for little work. */
    #define MLPX_MIN_TASK_ROWS 128
    /* In training, float32 forward products with weights above this many
       bytes go to BLAS (see forward_rows). */
    #define MLPX_TRAIN_BLAS_WEIGHT_BYTES 200000
    """
    int MIN_CHUNK_ROWS "MLPX_MIN_CHUNK_ROWS"
    intp GRID_ROWS "MLPX_GRID_ROWS"
    intp GRID_MIN_ROWS "MLPX_GRID_MIN_ROWS"
    intp GRID_MIN_COLS "MLPX_GRID_MIN_COLS"
    intp GRID_MAX_ROWS "MLPX_GRID_MAX_ROWS"
    intp GRID_MAX_TILES "MLPX_GRID_MAX_TILES"
    double GRID_TILE_FLOPS "MLPX_GRID_TILE_FLOPS"
    int GRID_COARSE_THREADS "MLPX_GRID_COARSE_THREADS"

    int MAX_CHUNKS "MLPX_MAX_CHUNKS"
    int MIN_TASK_ROWS "MLPX_MIN_TASK_ROWS"
    intp TRAIN_BLAS_WEIGHT_BYTES "MLPX_TRAIN_BLAS_WEIGHT_BYTES"


cdef extern from "_rows.h":
    void gather_rows_d "mlpx_gather_rows_d" (
        double* dst, const double* X, intp ldx, const intp* idx, intp m, intp nf,
        const double* Y, intp k) noexcept nogil
    void gather_rows_s "mlpx_gather_rows_s" (
        float* dst, const float* X, intp ldx, const intp* idx, intp m, intp nf,
        const float* Y, intp k) noexcept nogil
    void column_sums_d "mlpx_column_sums_d" (const double* D, intp m, intp n,
                                             double* out) noexcept nogil
    void column_sums_s "mlpx_column_sums_s" (const float* D, intp m, intp n,
                                             float* out) noexcept nogil


cdef inline int net_init(Net* net, const intp* sizes, int n_sizes, int hidden_act,
                         int out_act, int loss, double leaky_slope) noexcept nogil:
    """Fill net from the layer sizes; return -1 if memory ran out."""
    cdef int L = n_sizes - 1, l
    cdef intp* buf = <intp*>malloc((4 * L + 2) * sizeof(intp))
    if buf == NULL:
        return -1
    net.n_layers = L
    net.hidden_act = hidden_act
    net.out_act = out_act
    net.loss = loss
    net.leaky_slope = leaky_slope
    net.training = False
    net.sizes = buf
    net.w_off = buf + (L + 1)
    net.b_off = buf + (2 * L + 1)
    net.cum_w = buf + (3 * L + 1)
    for l in range(L + 1):
        net.sizes[l] = sizes[l]
    net.n_coef = 0
    net.cum_w[0] = 0
    for l in range(L):
        net.w_off[l] = net.n_coef
        net.n_coef += sizes[l] * sizes[l + 1]
        net.cum_w[l + 1] = net.cum_w[l] + sizes[l + 1]
    net.n_params = net.n_coef
    for l in range(L):
        net.b_off[l] = net.n_params
        net.n_params += sizes[l + 1]
    return 0


cdef inline void net_free(Net* net) noexcept nogil:
    free(net.sizes)
    net.sizes = NULL


cdef intp ceil_div(intp a, intp b) noexcept nogil:
    return (a + b - 1) // b


cdef inline intp layer_blocks(const Net* net, int l, intp cap, bint sparse) noexcept nogil:
    """Number of row blocks (tasks) of W_l's gradient; the shapes decide, not the threads."""
    cdef intp fi = net.sizes[l], fo = net.sizes[l + 1]
    cdef intp n_blocks = <intp>(2.0 * fi * fo * cap / TASK_FLOPS)
    if sparse and l == 0:
        return 1  # the sparse first-layer gradient is one scatter pass over the rows
    if n_blocks > fi // MIN_TASK_ROWS:
        n_blocks = fi // MIN_TASK_ROWS
    if n_blocks > 64:
        n_blocks = 64
    if n_blocks < 1:
        n_blocks = 1
    return n_blocks


cdef inline intp chunk_rows(intp cap, double flops_row) noexcept nogil:
    """Rows per chunk for batches of `cap` rows.

    Equal chunks, a power-of-two count (so 1, 2, 4 or 8 threads share them
    evenly), each with at least MIN_CHUNK_ROWS rows (every chunk repacks the
    weights in BLAS, and thin blocks run below its speed) and CHUNK_FLOPS of
    work (forward + delta recursion is about 2 GEMMs per layer per row). A
    batch of 200 is 2 chunks of 100, not 4 of 50: fewer, larger blocks repack
    the weights less often. The price: the chunks of such a batch feed at most
    2 threads.
    """
    cdef intp n_chunks = 1
    while (n_chunks < MAX_CHUNKS
           and cap >= 2 * n_chunks * MIN_CHUNK_ROWS
           and 2.0 * flops_row * cap >= 2 * n_chunks * CHUNK_FLOPS):
        n_chunks *= 2
    return ceil_div(cap, n_chunks)


cdef intp block_start(intp i, intp total, intp n_blocks) noexcept nogil:
    """First index of block i when `total` items are cut into n_blocks blocks
    whose sizes differ by at most one."""
    return i * total // n_blocks


cdef inline intp clamp(intp v, intp lo, intp hi) noexcept nogil:
    return lo if v < lo else (hi if v > hi else v)


cdef inline intp grid_tiles(double flops) noexcept nogil:
    """Tiles a region of the grid of this many flops is cut into: one per
    GRID_TILE_FLOPS, at most GRID_MAX_TILES."""
    return clamp(<intp>(flops / GRID_TILE_FLOPS), 1, GRID_MAX_TILES)


cdef inline intp grid_columns(double flops, intp n_rb, intp width) noexcept nogil:
    """Column blocks of a region of n_rb row blocks and `width` columns: enough
    for its tiles (grid_tiles), each at least GRID_MIN_COLS wide."""
    return clamp(ceil_div(grid_tiles(flops), n_rb), 1, max(1, width // GRID_MIN_COLS))


cdef bint plan_uses_grid(const Net* net, intp cap, bint sparse,
                         double flops_row) noexcept nogil:
    """Whether batches of `cap` rows run on the tile grid: where it is on
    (set_tile_grid: machines of many cores), for a batch large enough for
    several threads (MIN_PARALLEL_FLOPS), dense input, and every product on
    the engine's AVX-512 tiles, whose result for an element does not depend
    on the tile's shape (so that adjacent tiles may be computed in one call).
    Elsewhere the chunk plan: row chunks, then blocks of weight rows."""
    return (tile_grid and tiles_wide() and not sparse and cap <= GRID_MAX_ROWS
            and flops_row * cap >= MIN_PARALLEL_FLOPS)


cdef int plan_tasks(Plan* plan, const Net* net, intp cap, bint sparse) noexcept nogil:
    """The gradient's tasks: blocks of W_l (rows i0:i1, columns j0:j1), each
    reducing over the whole batch, numbered layer by layer, column block by
    column block. Return -1 if memory ran out."""
    cdef int L = net.n_layers, l
    cdef intp fi, fo, t, n_ib, n_jb, ib, jb, col_end, rows
    cdef intp* n_blocks = <intp*>malloc(2 * L * sizeof(intp))
    if n_blocks == NULL:
        return -1
    plan.n_tasks = 0
    for l in range(L):
        fi = net.sizes[l]
        fo = net.sizes[l + 1]
        if plan.grid:
            n_ib = clamp(grid_tiles(2.0 * fi * fo * cap), 1, max(1, fi // GRID_MIN_ROWS))
            n_jb = clamp(ceil_div(grid_tiles(2.0 * fi * fo * cap), n_ib), 1,
                         max(1, fo // GRID_MIN_COLS))
        else:  # blocks of ceil(fi / n) rows, the last one shorter
            n_ib = ceil_div(fi, ceil_div(fi, layer_blocks(net, l, cap, sparse)))
            n_jb = 1
        n_blocks[2 * l] = n_ib
        n_blocks[2 * l + 1] = n_jb
        plan.n_tasks += n_ib * n_jb
    plan.task_layer = <int*>malloc(2 * plan.n_tasks * sizeof(int))
    plan.task_i0 = <intp*>malloc(5 * plan.n_tasks * sizeof(intp))
    if plan.task_layer == NULL or plan.task_i0 == NULL:
        free(n_blocks)
        return -1
    plan.task_bias = plan.task_layer + plan.n_tasks
    plan.task_i1 = plan.task_i0 + plan.n_tasks
    plan.task_j0 = plan.task_i0 + 2 * plan.n_tasks
    plan.task_j1 = plan.task_i0 + 3 * plan.n_tasks
    plan.task_run_end = plan.task_i0 + 4 * plan.n_tasks
    t = 0
    for l in range(L):
        fi = net.sizes[l]
        fo = net.sizes[l + 1]
        n_ib = n_blocks[2 * l]
        n_jb = n_blocks[2 * l + 1]
        for jb in range(n_jb):
            col_end = t + n_ib
            for ib in range(n_ib):
                plan.task_layer[t] = l
                if plan.grid:
                    plan.task_i0[t] = block_start(ib, fi, n_ib)
                    plan.task_i1[t] = block_start(ib + 1, fi, n_ib)
                else:
                    rows = ceil_div(fi, layer_blocks(net, l, cap, sparse))
                    plan.task_i0[t] = ib * rows
                    plan.task_i1[t] = min((ib + 1) * rows, fi)
                plan.task_j0[t] = block_start(jb, fo, n_jb)
                plan.task_j1[t] = block_start(jb + 1, fo, n_jb)
                plan.task_run_end[t] = col_end
                plan.task_bias[t] = ib == n_ib - 1 and jb == n_jb - 1
                t += 1
    free(n_blocks)
    return 0


cdef int plan_init(Plan* plan, const Net* net, intp cap, bint sparse) noexcept nogil:
    """Cut batches of `cap` rows into tiles: chunks and tasks, or the tile grid.

    Depends only on the network, the batch size and the CPU's kernels, never
    on the thread count. Return -1 if memory ran out.
    """
    cdef int L = net.n_layers, l, p
    cdef intp fi, fo, n_rb, widest = 1, count
    cdef double flops_row = 0
    plan.task_layer = NULL
    plan.task_i0 = NULL
    plan.phase_end = NULL
    for l in range(L):
        flops_row += 2.0 * net.sizes[l] * net.sizes[l + 1]
    plan.cap = cap
    plan.flops_per_row = flops_row
    plan.grid = plan_uses_grid(net, cap, sparse, flops_row)
    if plan.grid:
        n_rb = min(ceil_div(cap, GRID_ROWS), GRID_MAX_TILES)
        plan.chunk_rows = ceil_div(cap, n_rb)
        plan.max_chunks = n_rb
        plan.phase_end = <intp*>malloc((3 * (2 * L + 1) + 2 * L) * sizeof(intp))
        if plan.phase_end == NULL:
            return -1
        plan.phase_kind = plan.phase_end + 2 * L + 1
        plan.phase_layer = plan.phase_kind + 2 * L + 1
        plan.n_cb = plan.phase_layer + 2 * L + 1
        plan.n_cbb = plan.n_cb + L
        for l in range(L):
            fi = net.sizes[l]
            fo = net.sizes[l + 1]
            # the output layer's rows are whole (softmax, loss)
            plan.n_cb[l] = 1 if l == L - 1 else grid_columns(2.0 * cap * fi * fo, n_rb, fo)
            plan.n_cbb[l] = grid_columns(2.0 * cap * fi * fo, n_rb, fi) if l > 0 else 0
    else:
        plan.chunk_rows = chunk_rows(cap, flops_row)
        plan.max_chunks = ceil_div(cap, plan.chunk_rows)
        plan.n_phases = 0
    if plan_tasks(plan, net, cap, sparse) != 0:
        plan_free(plan)
        return -1
    if plan.grid:
        # forward 0 .. L-2; the output layer with its loss and the deltas of
        # layer L-2 (whole rows: one barrier less); backward L-2 .. 1; the
        # gradient tasks, and the gathering of the next batch's rows (no
        # barrier of its own); a batch's rows are gathered by the previous
        # batch, the first's before it (grid_work)
        plan.n_phases = 0
        for l in range(L - 1):
            add_phase(plan, PHASE_FORWARD, l, n_rb * plan.n_cb[l])
        add_phase(plan, PHASE_TAIL, L - 1, n_rb)
        for l in range(L - 2, 0, -1):
            add_phase(plan, PHASE_BACKWARD, l, n_rb * plan.n_cbb[l])
        add_phase(plan, PHASE_TASKS, -1, plan.n_tasks + n_rb)
        plan.coarse_kind[0] = PHASE_ROWS
        plan.coarse_kind[1] = PHASE_TASKS
        plan.coarse_end[0] = n_rb
        plan.coarse_end[1] = n_rb + plan.n_tasks + n_rb
        plan.coarse_layer[0] = -1
        plan.coarse_layer[1] = -1
        for p in range(plan.n_phases):
            count = plan.phase_end[p] - (plan.phase_end[p - 1] if p > 0 else 0)
            widest = max(widest, count)
    else:
        widest = max(plan.max_chunks, plan.n_tasks)
    plan.widest = widest
    return 0


cdef inline void add_phase(Plan* plan, int kind, int layer, intp tiles) noexcept nogil:
    cdef int p = plan.n_phases
    plan.phase_kind[p] = kind
    plan.phase_layer[p] = layer
    plan.phase_end[p] = tiles + (plan.phase_end[p - 1] if p > 0 else 0)
    plan.n_phases = p + 1


cdef void plan_free(Plan* plan) noexcept nogil:
    free(plan.task_layer)
    free(plan.task_i0)
    free(plan.phase_end)
    plan.task_layer = NULL
    plan.task_i0 = NULL
    plan.phase_end = NULL


cdef inline void sparse_times_dense(
    const CSR* sp, const intp* idx, intp row0, intp m,
    const floating* W, intp n,  # IN  W (n_features x n)
    floating* out,              # OUT m x n
) noexcept nogil:
    """out[i] = X[row_i] @ W for CSR rows row_i = idx[i] (or row0 + i)."""
    cdef const floating* data = <const floating*>sp.data
    cdef intp i, j, p, r
    cdef floating x
    cdef floating* o
    cdef const floating* w
    for i in range(m):
        r = idx[i] if idx != NULL else row0 + i
        o = out + i * n
        for j in range(n):
            o[j] = 0
        for p in range(sp.indptr[r], sp.indptr[r + 1]):
            x = data[p]
            w = W + sp.indices[p] * n
            for j in range(n):
                o[j] += x * w[j]


cdef void forward_rows(
    const Net* net,
    const floating* params,   # IN
    const floating* x,        # IN  m x sizes[0], row stride ldx (unused if sp)
    intp ldx, intp m,
    floating* acts,           # OUT layer blocks, capacity cap, rows from r0
    intp cap, intp r0,
    floating* out_last,       # OUT if not NULL, the output layer goes here (m x k)
    const CSR* sp,            # IN  sparse input instead of x, or NULL
    const intp* idx, intp row0,  # rows of sp: idx[i] or row0 + i
) noexcept nogil:
    """Forward pass of m rows: s = x W + b, x' = act(s), layer by layer.

    In training, float32 products with large weights (above
    TRAIN_BLAS_WEIGHT_BYTES) of at least MIN_CHUNK_ROWS rows go to BLAS rather
    than to the tiles: the update has streamed four arrays of the network's
    size through the cache since the weights were last read, and BLAS's packed
    copy of them then beats the tiles' in-place reads. A predict, whose weights
    stay warm from call to call and whose BLAS calls pay the thread cap, keeps
    the tiles.
    """
    cdef int L = net.n_layers, l, act
    cdef bint packed
    cdef intp fi, fo, ld_in = ldx
    cdef const floating* inp = x
    cdef const floating* b
    cdef floating* out
    for l in range(L):
        fi = net.sizes[l]
        fo = net.sizes[l + 1]
        if l == L - 1 and out_last != NULL:
            out = out_last
        else:
            out = acts + cap * net.cum_w[l] + r0 * fo
        act = net.out_act if l == L - 1 else net.hidden_act
        b = params + net.b_off[l]
        packed = (floating is float and net.training and m >= MIN_CHUNK_ROWS
                  and fi * fo * <intp>sizeof(float) > TRAIN_BLAS_WEIGHT_BYTES)
        # small products add the bias (and ReLU) as they store their rows
        if (not packed and (l > 0 or sp == NULL)
                and (act == IDENTITY or act == RELU or act == SOFTMAX)
                and small_gemm_epilogue(c'N', m, fo, fi, inp, ld_in, params + net.w_off[l],
                                        fo, out, fo, b, <floating*>NULL, 0,
                                        EPI_RELU if act == RELU else EPI_NONE) == 0):
            if act == SOFTMAX:
                softmax_rows(out, m, fo, <floating*>NULL)
        else:
            if l == 0 and sp != NULL:
                sparse_times_dense(sp, idx, row0, m, params + net.w_off[0], fo, out)
            elif packed:
                blas_gemm(c'N', c'N', m, fo, fi, <floating>1, inp, ld_in,
                          params + net.w_off[l], fo, <floating>0, out, fo)
            else:
                gemm(c'N', c'N', m, fo, fi, <floating>1, inp, ld_in,
                     params + net.w_off[l], fo, <floating>0, out, fo)
            bias_activation(out, m, fo, b, act, net.leaky_slope)
        inp = out
        ld_in = fo


cdef inline double chunk_forward_backward(
    const Net* net,
    const floating* params,   # IN
    const floating* X,        # IN  data, rows selected by idx or from row0
    intp ldx,
    const floating* Y,        # IN  targets, same rows
    const floating* sw,       # IN  sample weights or NULL
    const intp* idx,          # IN  row indices of this chunk, or NULL (rows row0..)
    intp row0, intp m,
    floating* xbuf,           # OUT gathered input rows (dense X with idx)
    floating* acts,           # OUT activations of this chunk's rows
    floating* deltas,         # OUT deltas of this chunk's rows
    intp cap, intp r0,
    double* sw_sum,           # OUT
    const CSR* sp,            # IN  sparse X instead of X, or NULL
) noexcept nogil:
    """The work of one chunk (forward pass and deltas); return its weighted loss sum."""
    cdef int L = net.n_layers, l
    cdef intp nf = net.sizes[0], fi, fo
    cdef const floating* x0
    cdef floating* d
    cdef const floating* z
    cdef double loss
    if sp != NULL:
        x0 = NULL
    elif idx != NULL:
        if floating is float:
            gather_rows_s(xbuf + r0 * nf, X, ldx, idx, m, nf, Y, net.sizes[L])
        else:
            gather_rows_d(xbuf + r0 * nf, X, ldx, idx, m, nf, Y, net.sizes[L])
        x0 = xbuf + r0 * nf
        ldx = nf
    else:
        x0 = X + row0 * ldx
    forward_rows(net, params, x0, ldx, m, acts, cap, r0, NULL, sp, idx, row0)
    fo = net.sizes[L]
    loss = output_loss_and_delta(
        acts + cap * net.cum_w[L - 1] + r0 * fo,
        deltas + cap * net.cum_w[L - 1] + r0 * fo,
        m, fo, Y, idx, row0, sw, net.out_act, net.loss, net.training, sw_sum)
    # delta^(l-1) = (delta^(l) W_l^T) * act'(s^(l-1))
    for l in range(L - 1, 0, -1):
        fi = net.sizes[l]
        fo = net.sizes[l + 1]
        d = deltas + cap * net.cum_w[l - 1] + r0 * fi
        z = acts + cap * net.cum_w[l - 1] + r0 * fi
        if (net.hidden_act != RELU
                or small_gemm_epilogue(c'T', m, fi, fo, deltas + cap * net.cum_w[l] + r0 * fo,
                                       fo, params + net.w_off[l], fo, d, fi,
                                       <floating*>NULL, z, fi, EPI_RELU_GRAD) != 0):
            gemm(c'N', c'T', m, fi, fo, <floating>1,
                 deltas + cap * net.cum_w[l] + r0 * fo, fo,
                 params + net.w_off[l], fo, <floating>0, d, fi)
            activation_derivative(d, z, m * fi, net.hidden_act, net.leaky_slope)
    return loss


cdef extern from "_simd.h":
    double mlpx_sumsq_double(const double* x, intp n) noexcept nogil
    double mlpx_sumsq_float(const float* x, intp n) noexcept nogil
    double mlpx_sum_double(const double* x, intp n) noexcept nogil
    double mlpx_sum_float(const float* x, intp n) noexcept nogil
    bint mlpx_all_finite_double(const double* x, intp n) noexcept nogil
    bint mlpx_all_finite_float(const float* x, intp n) noexcept nogil


cdef extern from "_update.h":
    void mlpx_decay_step_d(int kind, double* W, double* G, double* s1, double* s2, intp n,
                           double alpha, double n_eff, double lr, double mom, int nesterov,
                           double b1, double b2, double eps, double* sq,
                           double* chk) noexcept nogil
    void mlpx_decay_step_s(int kind, float* W, float* G, float* s1, float* s2, intp n,
                           float alpha, float n_eff, float lr, float mom, int nesterov,
                           float b1, float b2, float eps, double* sq,
                           double* chk) noexcept nogil


cdef inline void decay_step(int kind, floating* W, floating* G, floating* s1, floating* s2,
                            intp n, floating alpha, floating n_eff, const Update* u,
                            double* sq, double* chk) noexcept nogil:
    """Weight decay, gradient scaling and (kind SGD / ADAM) the step, in one pass."""
    if floating is float:
        mlpx_decay_step_s(kind, W, G, s1, s2, n, alpha, n_eff, <float>u.lr,
                          <float>u.momentum, u.nesterov, <float>u.beta_1,
                          <float>u.beta_2, <float>u.epsilon, sq, chk)
    else:
        mlpx_decay_step_d(kind, W, G, s1, s2, n, alpha, n_eff, u.lr, u.momentum,
                          u.nesterov, u.beta_1, u.beta_2, u.epsilon, sq, chk)


cdef inline double sumsq(const floating* x, intp n) noexcept nogil:
    if floating is float:
        return mlpx_sumsq_float(x, n)
    return mlpx_sumsq_double(x, n)


cdef inline double vsum(const floating* x, intp n) noexcept nogil:
    if floating is float:
        return mlpx_sum_float(x, n)
    return mlpx_sum_double(x, n)


cdef bint all_finite(const floating* x, intp n) noexcept nogil:
    if floating is float:
        return mlpx_all_finite_float(x, n)
    return mlpx_all_finite_double(x, n)


cdef inline unsigned long long splitmix64(unsigned long long x) noexcept nogil:
    x += 0x9E3779B97F4A7C15ULL
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL
    return x ^ (x >> 31)


cdef inline double gaussian_noise(unsigned long long seed, unsigned long long step,
                                  unsigned long long index) noexcept nogil:
    """N(0, 1) for one (seed, step, parameter) triple (counter-based, Box-Muller).

    A pure function of its arguments: the noise does not depend on which
    thread updates which parameter, so SGLD stays thread-count invariant.
    """
    cdef unsigned long long a = splitmix64(seed ^ splitmix64(step ^ splitmix64(index)))
    cdef unsigned long long b = splitmix64(a)
    cdef double u1 = ((a >> 11) + 1.0) * (1.0 / 9007199254740993.0)  # in (0, 1]
    cdef double u2 = (b >> 11) * (1.0 / 9007199254740992.0)
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2)


cdef inline void apply_update(floating* p, const floating* g, floating* s1, floating* s2,
                              intp n, const Update* u, intp first) noexcept nogil:
    """One optimizer step on n parameters, with scikit-learn's update rules."""
    cdef intp j
    cdef floating mom = <floating>u.momentum, lr = <floating>u.lr, v
    cdef floating b1 = <floating>u.beta_1, b2 = <floating>u.beta_2
    cdef floating eps = <floating>u.epsilon
    cdef floating adam_step = <floating>u.lr
    if u.kind == SGD:
        for j in range(n):
            v = mom * s1[j] - lr * g[j]
            s1[j] = v
            if u.nesterov:
                p[j] += mom * v - lr * g[j]
            else:
                p[j] += v
    elif u.kind == ADAM:
        # float32 networks step in float32 (vectorisable); float64 as scikit-learn
        for j in range(n):
            s1[j] = b1 * s1[j] + (1 - b1) * g[j]
            s2[j] = b2 * s2[j] + (1 - b2) * (g[j] * g[j])
            if floating is float:
                p[j] += -adam_step * s1[j] / (sqrtf(s2[j]) + eps)
            else:
                p[j] += -adam_step * s1[j] / (sqrt(s2[j]) + eps)
    elif u.kind == SGLD:
        # the SGD step plus Gaussian noise of variance 2 lr temperature
        for j in range(n):
            p[j] += <floating>(-u.lr * g[j]
                               + u.noise_std * gaussian_noise(u.seed, u.step, first + j))


cdef inline void sparse_transpose_times_dense(
    const CSR* sp, const intp* idx, intp row0, intp m,
    const floating* D, intp n,  # IN  m x n
    floating* G, intp size,     # OUT n_features x n (size elements)
) noexcept nogil:
    """G = X[rows]^T @ D by scattering each stored value of X into G's rows."""
    cdef const floating* data = <const floating*>sp.data
    cdef intp i, j, p, r
    cdef floating x
    cdef floating* g
    cdef const floating* d
    for j in range(size):
        G[j] = 0
    for i in range(m):
        r = idx[i] if idx != NULL else row0 + i
        d = D + i * n
        for p in range(sp.indptr[r], sp.indptr[r + 1]):
            x = data[p]
            g = G + sp.indices[p] * n
            for j in range(n):
                g[j] += x * d[j]


cdef inline double task_step(
    const Net* net, const Plan* plan, intp t,
    floating* params,         # IN/OUT (OUT when u.kind != NO_UPDATE)
    floating* grad,           # IN/OUT task t's block of the gradient (rows i0:i1,
                              #   columns j0:j1 of W_l): the data term in, the total out
    const floating* D, intp m,  # IN  the batch's deltas of layer l (m x sizes[l + 1])
    double alpha, double sw_sum,
    const Update* u, floating* s1, floating* s2,
    double* check,            # OUT sum of the updated parameters (NaN/inf detector)
) noexcept nogil:
    """Task t's weight decay, scaling and step (and b_l's gradient and step if
    the task owns it); return the sum of squares of its weights before the step."""
    cdef int l = plan.task_layer[t]
    cdef intp i0 = plan.task_i0[t], i1 = plan.task_i1[t]
    cdef intp j0 = plan.task_j0[t], j1 = plan.task_j1[t]
    cdef intp fo = net.sizes[l + 1], j, n, i, off, n_seg
    cdef floating* W
    cdef floating* G
    cdef floating* gb
    cdef floating a = <floating>alpha, inv = <floating>sw_sum
    cdef double sq = 0, chk = 0, sq_seg, chk_seg
    # one segment when the block spans whole rows of W_l, else one per row
    if j0 == 0 and j1 == fo:
        n = (i1 - i0) * fo
        n_seg = 1
    else:
        n = j1 - j0
        n_seg = i1 - i0
    for i in range(n_seg):
        off = net.w_off[l] + (i0 + i) * fo + j0
        W = params + off
        G = grad + off
        if u.kind == SGLD:
            sq_seg = sumsq(W, n)
            for j in range(n):
                G[j] = (G[j] + a * W[j]) / inv
            apply_update(W, G, s1 + off, s2 + off, n, u, off)
            chk_seg = vsum(W, n)
        else:
            decay_step(u.kind, W, G, s1 + off, s2 + off, n, a, inv, u, &sq_seg, &chk_seg)
        sq += sq_seg
        chk += chk_seg
    if plan.task_bias[t]:
        gb = grad + net.b_off[l]
        if floating is float:
            column_sums_s(D, m, fo, gb)
        else:
            column_sums_d(D, m, fo, gb)
        for j in range(fo):
            gb[j] = gb[j] / inv
        if u.kind != NO_UPDATE:
            apply_update(params + net.b_off[l], gb, s1 + net.b_off[l], s2 + net.b_off[l],
                         fo, u, net.b_off[l])
            chk += vsum(params + net.b_off[l], fo)
    check[0] = chk
    return sq


cdef inline double task_gradient(
    const Net* net, const Plan* plan, intp t,
    floating* params,         # IN/OUT (OUT when u.kind != NO_UPDATE)
    floating* grad,           # OUT this task's block of the gradient
    const floating* x0, intp ldx0,
    const floating* acts, const floating* deltas, intp m,
    double alpha, double sw_sum,
    const Update* u, floating* s1, floating* s2,
    double* check,            # OUT sum of the updated parameters (NaN/inf detector)
    const CSR* sp, const intp* idx, intp row0,  # sparse X and the batch rows
) noexcept nogil:
    """The work of task t of a chunk plan (gradient block of whole rows of W_l,
    and step); return the sum of squares of its weights before the step."""
    cdef int l = plan.task_layer[t]
    cdef intp i0 = plan.task_i0[t], i1 = plan.task_i1[t]
    cdef intp fi = net.sizes[l], fo = net.sizes[l + 1]
    cdef const floating* inp
    cdef intp ld_in
    cdef const floating* D = deltas + plan.cap * net.cum_w[l]
    cdef floating* G = grad + net.w_off[l] + i0 * fo
    if l == 0:
        inp = x0
        ld_in = ldx0
    else:
        inp = acts + plan.cap * net.cum_w[l - 1]
        ld_in = fi
    # dE/dW_l[i0:i1] = x^(l-1)[:, i0:i1]^T delta^(l)
    if l == 0 and sp != NULL:
        sparse_transpose_times_dense(sp, idx, row0, m, D, fo, G, (i1 - i0) * fo)
    else:
        gemm(c'T', c'N', i1 - i0, fo, m, <floating>1, inp + i0, ld_in, D, fo,
             <floating>0, G, fo)
    return task_step(net, plan, t, params, grad, D, m, alpha, sw_sum, u, s1, s2, check)


cdef extern from "_shuffle.h":
    ctypedef struct bitgen_t:
        pass
    void next_order "mlpx_next_order" (bitgen_t* bg, intp* order, intp* perm, intp* tmp,
                                      intp n) noexcept nogil


cdef extern from "_team.h":
    int64_t team_peek "mlpx_team_peek" (mlpx_team* tm) noexcept nogil
    bint team_claim "mlpx_team_claim" (mlpx_team* tm, int64_t t) noexcept nogil
    int team_wait "mlpx_team_wait" (mlpx_team* tm, int64_t target, double* spin) noexcept nogil
    double SPIN_START "MLPX_SPIN_START"
    void team_finish "mlpx_team_finish" (mlpx_team* tm, int64_t phase_end) noexcept nogil
    bint team_claim_run "mlpx_team_claim_run" (mlpx_team* tm, int64_t t,
                                               int64_t r) noexcept nogil
    void team_finish_run "mlpx_team_finish_run" (mlpx_team* tm, int64_t r,
                                                 int64_t phase_end) noexcept nogil


cdef double adam_step_size(double lr_init, double beta_1, double beta_2,
                           unsigned long long t) noexcept nogil:
    """Adam's bias-corrected step size at step t (scikit-learn's)."""
    return lr_init * sqrt(1 - pow(beta_2, <double>t)) / (1 - pow(beta_1, <double>t))


cdef intp workspace_size(const Net* net, intp bs) noexcept nogil:
    """Floats of one epoch's workspace: activations, deltas, gathered rows (two
    batches' on the tile grid), gradient."""
    return 2 * bs * net.cum_w[net.n_layers] + 2 * bs * net.sizes[0] + net.n_params


cdef intp scratch_size(const Plan* plan) noexcept nogil:
    """Doubles of the per-chunk and per-task partial results of two batches."""
    return 2 * (2 * plan.max_chunks + 2 * plan.n_tasks)


cdef void job_init(Job* job, const Net* net, const Plan* plan, floating* params,
                   floating* s1, floating* s2, const floating* X, intp ldx,
                   const floating* Y, const floating* sw, const CSR* sp,
                   const intp* order, intp n, double alpha, const Update* upd,
                   double lr_init, unsigned long long t0, floating* ws,
                   floating* grad, double* scratch) noexcept nogil:
    """Describe n rows in batches of plan.cap; ws holds workspace_size(net, plan.cap)
    floats (the gradient goes to its end unless grad is given)."""
    cdef intp bs = plan.cap, total = net.cum_w[net.n_layers]
    job.net = net[0]
    job.plan = plan
    job.params = params
    job.s1 = s1
    job.s2 = s2
    job.X = X
    job.ldx = ldx
    job.Y = Y
    job.sw = sw
    job.sp = sp
    job.order = order
    job.n = n
    job.n_batches = ceil_div(n, bs) if bs > 0 else 0
    job.chunks_full = ceil_div(bs, plan.chunk_rows) if bs > 0 else 0
    job.acts = ws
    job.deltas = ws + bs * total
    job.xbuf = ws + 2 * bs * total
    job.grad = grad if grad != NULL else ws + 2 * bs * total + 2 * bs * net.sizes[0]
    job.scratch = scratch
    job.alpha = alpha
    job.sw_total = 0
    job.lr_init = lr_init
    job.upd = upd[0]
    job.net.training = upd.kind != NO_UPDATE
    job.t0 = t0
    job.signals = 0


cdef inline int job_threads(const Job* job, int n_threads) noexcept nogil:
    """Threads worth starting: one when a batch is too small to split, never
    more than the tiles of a phase."""
    cdef intp widest = job.plan.widest
    if (n_threads < 2 or widest < 2
            or job.plan.flops_per_row * job.plan.cap < MIN_PARALLEL_FLOPS):
        return 1
    return <int>(n_threads if n_threads < widest else widest)


cdef inline double* batch_scratch(const Job* job, intp b) noexcept nogil:
    """Batch b's partial sums: chunk losses, chunk weights, task sums of
    squares, task checks. Two batches alternate, so that batch b's sums stay
    intact while batch b + 1 runs (batch b is finished by batch b + 1's first
    tile)."""
    return job.scratch + (b & 1) * (2 * job.plan.max_chunks + 2 * job.plan.n_tasks)


cdef inline intp batch_rows(const Job* job, intp b) noexcept nogil:
    cdef intp start = b * job.plan.cap
    return job.plan.cap if start + job.plan.cap <= job.n else job.n - start


cdef inline void run_chunk(Job* job, floating* params, intp b, intp c) noexcept nogil:
    """Chunk tile: forward pass and deltas of chunk c of batch b."""
    cdef const Plan* plan = job.plan
    cdef intp start = b * plan.cap, m = batch_rows(job, b), cr = plan.chunk_rows
    cdef intp r0 = c * cr
    cdef intp mc = cr if r0 + cr <= m else m - r0
    cdef double* s = batch_scratch(job, b)
    s[c] = chunk_forward_backward(
        &job.net, params, <const floating*>job.X, job.ldx, <const floating*>job.Y,
        <const floating*>job.sw, job.order + start + r0 if job.order != NULL else NULL,
        start + r0, mc, <floating*>job.xbuf, <floating*>job.acts, <floating*>job.deltas,
        plan.cap, r0, &s[plan.max_chunks + c], job.sp)


cdef inline double batch_step(const Job* job, intp b, intp n_parts, Update* u) noexcept nogil:
    """Batch b's step: its weight (the sum of its first n_parts partial sums of
    sample weights, or the job's sw_total) returned, and in u the step number
    and Adam's step size."""
    cdef double* s = batch_scratch(job, b)
    cdef double sws = 0
    cdef intp c
    for c in range(n_parts):
        sws += s[job.plan.max_chunks + c]
    if job.sw_total > 0:
        sws = job.sw_total
    u.step = job.t0 + b + 1
    if u.kind == ADAM:
        u.lr = adam_step_size(job.lr_init, u.beta_1, u.beta_2, u.step)
    return sws


cdef inline void run_task(Job* job, floating* params, intp b, intp t) noexcept nogil:
    """Task tile: task t's block of the gradient of batch b, and its step."""
    cdef const Plan* plan = job.plan
    cdef intp start = b * plan.cap, m = batch_rows(job, b)
    cdef double* s = batch_scratch(job, b)
    cdef Update u = job.upd
    cdef double sws = batch_step(job, b, ceil_div(m, plan.chunk_rows), &u)
    cdef const floating* x0
    cdef intp ldx0
    if job.sp != NULL:
        x0 = NULL
        ldx0 = 0
    elif job.order != NULL:
        x0 = <const floating*>job.xbuf
        ldx0 = job.net.sizes[0]
    else:
        x0 = <const floating*>job.X + start * job.ldx
        ldx0 = job.ldx
    s[2 * plan.max_chunks + t] = task_gradient(
        &job.net, plan, t, params, <floating*>job.grad, x0, ldx0,
        <const floating*>job.acts, <const floating*>job.deltas, m, job.alpha, sws, &u,
        <floating*>job.s1, <floating*>job.s2, &s[2 * plan.max_chunks + plan.n_tasks + t],
        job.sp, job.order + start if job.order != NULL else NULL, start)


cdef inline int finish_batch(Job* job, intp b) noexcept nogil:
    """Batch b's loss (data term + L2 term, scikit-learn's scaling) from its
    tiles' partial sums, added in a fixed order; DIVERGED if the loss or
    the updated parameters are not finite."""
    cdef const Plan* plan = job.plan
    cdef intp m = batch_rows(job, b), c, t
    cdef intp n_chunks = plan.max_chunks if plan.grid else ceil_div(m, plan.chunk_rows)
    cdef double* s = batch_scratch(job, b)
    cdef double loss = 0, sws = 0, sq = 0, chk = 0
    for c in range(n_chunks):
        loss += s[c]
        sws += s[plan.max_chunks + c]
    for t in range(plan.n_tasks):
        sq += s[2 * plan.max_chunks + t]
        chk += s[2 * plan.max_chunks + plan.n_tasks + t]
    if job.sw_total > 0:
        sws = job.sw_total
    loss = loss / sws + 0.5 * job.alpha * sq / sws
    job.last_loss = loss
    if (chk - chk) != 0 or not isfinite(loss):
        return DIVERGED
    job.loss_sum += loss * m
    job.batches_done += 1
    return OK


cdef inline void tile_product(char ta, char tb, intp m, intp n, intp k, const floating* A,
                              intp lda, const floating* B, intp ldb, floating* C,
                              intp ldc) noexcept nogil:
    """C = op(A) op(B) on the tile kernels whatever the shape (a grid region:
    merged tiles must round as the tiles do); BLAS only if they cannot run."""
    if small_gemm(ta, tb, m, n, k, <floating>1, A, lda, B, ldb, <floating>0, C, ldc) != 0:
        blas_gemm(ta, tb, m, n, k, <floating>1, A, lda, B, ldb, <floating>0, C, ldc)


cdef inline int tile_epilogue(char tb, intp m, intp n, intp k, const floating* A, intp lda,
                              const floating* B, intp ldb, floating* C, intp ldc,
                              const floating* bias, const floating* Z, intp ldz,
                              int epi) noexcept nogil:
    """As tile_product with the epilogue in the store; -1 if the tiles cannot
    run (the caller then runs the product and its passes)."""
    if floating is float:
        return gemm_epi_s(c'N', tb, m, n, k, 1, A, lda, B, ldb, 0, C, ldc, bias, Z, ldz, epi)
    return gemm_epi_d(c'N', tb, m, n, k, 1, A, lda, B, ldb, 0, C, ldc, bias, Z, ldz, epi)


cdef inline const floating* batch_input(const Job* job, const floating* params, intp b,
                                        intp* ld) noexcept nogil:
    """The dense input rows of batch b (gathered, or in place) and their stride
    (params: the network's type). On the grid, batches gather into two
    buffers in turn (see grid_gather)."""
    if job.order != NULL:
        ld[0] = job.net.sizes[0]
        return <const floating*>job.xbuf + (b & 1) * job.plan.cap * job.net.sizes[0]
    ld[0] = job.ldx
    return <const floating*>job.X + b * job.plan.cap * job.ldx


cdef void grid_forward(Job* job, floating* params, intp b, int l, intp ra, intp rb,
                       intp r0, intp r1, intp j0, intp j1) noexcept nogil:
    """Outputs j0:j1 of layer l for the batch rows r0:r1 (row blocks ra:rb);
    on the output layer (all its columns) also the loss and deltas, per row block."""
    cdef const Net* net = &job.net
    cdef const Plan* plan = job.plan
    cdef int L = net.n_layers, act = net.out_act if l == L - 1 else net.hidden_act
    cdef intp fi = net.sizes[l], fo = net.sizes[l + 1], cap = plan.cap, ld_in, i, rr
    cdef intp mr = r1 - r0, nc = j1 - j0, a0, a1, start = b * cap
    cdef const floating* inp
    cdef floating* out = <floating*>job.acts + cap * net.cum_w[l] + r0 * fo + j0
    cdef const floating* bias = params + net.b_off[l] + j0
    cdef double* s
    if l == 0:
        inp = batch_input(job, params, b, &ld_in)
    else:
        inp = <const floating*>job.acts + cap * net.cum_w[l - 1]
        ld_in = fi
    if mr > 0:
        if ((act == IDENTITY or act == RELU or act == SOFTMAX)
                and tile_epilogue(c'N', mr, nc, fi, inp + r0 * ld_in, ld_in,
                                  params + net.w_off[l] + j0, fo, out, fo, bias,
                                  <floating*>NULL, 0,
                                  EPI_RELU if act == RELU else EPI_NONE) == 0):
            if act == SOFTMAX:
                softmax_rows(out, mr, fo, <floating*>NULL)
        else:
            tile_product(c'N', c'N', mr, nc, fi, inp + r0 * ld_in, ld_in,
                         params + net.w_off[l] + j0, fo, out, fo)
            if nc == fo:
                bias_activation(out, mr, fo, bias, act, net.leaky_slope)
            else:
                for i in range(mr):
                    bias_activation(out + i * fo, 1, nc, bias, act, net.leaky_slope)
    if l < L - 1:
        return
    s = batch_scratch(job, b)
    for rr in range(ra, rb):
        a0 = block_start(rr, cap, plan.max_chunks)
        a1 = min(block_start(rr + 1, cap, plan.max_chunks), batch_rows(job, b))
        s[rr] = 0
        s[plan.max_chunks + rr] = 0
        if a1 > a0:
            s[rr] = output_loss_and_delta(
                <floating*>job.acts + cap * net.cum_w[L - 1] + a0 * fo,
                <floating*>job.deltas + cap * net.cum_w[L - 1] + a0 * fo, a1 - a0, fo,
                <const floating*>job.Y, job.order + start + a0 if job.order != NULL else NULL,
                start + a0, <const floating*>job.sw, net.out_act, net.loss, net.training,
                &s[plan.max_chunks + rr])


cdef void grid_backward(Job* job, floating* params, int l, intp r0, intp r1, intp j0,
                        intp j1) noexcept nogil:
    """Columns j0:j1 of the deltas of layer l - 1 for the batch rows r0:r1:
    (delta^(l) W_l^T) * act'(s^(l-1))."""
    cdef const Net* net = &job.net
    cdef intp fi = net.sizes[l], fo = net.sizes[l + 1], cap = job.plan.cap, i
    cdef intp mr = r1 - r0, nc = j1 - j0
    cdef const floating* dl = <floating*>job.deltas + cap * net.cum_w[l] + r0 * fo
    cdef floating* d = <floating*>job.deltas + cap * net.cum_w[l - 1] + r0 * fi + j0
    cdef const floating* z = <floating*>job.acts + cap * net.cum_w[l - 1] + r0 * fi + j0
    cdef const floating* W = params + net.w_off[l] + j0 * fo
    if mr <= 0:
        return
    if (net.hidden_act != RELU
            or tile_epilogue(c'T', mr, nc, fo, dl, fo, W, fo, d, fi, <floating*>NULL, z, fi,
                             EPI_RELU_GRAD) != 0):
        tile_product(c'N', c'T', mr, nc, fo, dl, fo, W, fo, d, fi)
        for i in range(mr):
            activation_derivative(d + i * fi, z + i * fi, nc, net.hidden_act,
                                  net.leaky_slope)


cdef void grid_tasks(Job* job, floating* params, intp b, intp t0, intp t1) noexcept nogil:
    """Tasks t0:t1 of batch b (one layer, one column block: adjacent blocks of
    rows of W_l): their gradient in one product, then each task's step."""
    cdef const Net* net = &job.net
    cdef const Plan* plan = job.plan
    cdef int l = plan.task_layer[t0]
    cdef intp fi = net.sizes[l], fo = net.sizes[l + 1], cap = plan.cap, ld_in, t
    cdef intp i0 = plan.task_i0[t0], i1 = plan.task_i1[t1 - 1]
    cdef intp j0 = plan.task_j0[t0], j1 = plan.task_j1[t0], m = batch_rows(job, b)
    cdef double* s = batch_scratch(job, b)
    cdef Update u = job.upd
    cdef double sws = batch_step(job, b, plan.max_chunks, &u)  # empty row blocks hold 0
    cdef const floating* inp
    cdef const floating* D = <floating*>job.deltas + cap * net.cum_w[l]
    if l == 0:
        inp = batch_input(job, params, b, &ld_in)
    else:
        inp = <const floating*>job.acts + cap * net.cum_w[l - 1]
        ld_in = fi
    # dE/dW_l[i0:i1, j0:j1] = x^(l-1)[:, i0:i1]^T delta^(l)[:, j0:j1]
    tile_product(c'T', c'N', i1 - i0, j1 - j0, m, inp + i0, ld_in, D + j0, fo,
                 <floating*>job.grad + net.w_off[l] + i0 * fo + j0, fo)
    for t in range(t0, t1):
        s[2 * plan.max_chunks + t] = task_step(
            net, plan, t, params, <floating*>job.grad, D, m, job.alpha, sws, &u,
            <floating*>job.s1, <floating*>job.s2,
            &s[2 * plan.max_chunks + plan.n_tasks + t])


cdef void grid_gather(Job* job, floating* params, intp b, intp ra, intp rb) noexcept nogil:
    """Row blocks ra:rb of batch b into its buffer of gathered rows (when the
    rows come in a shuffled order): batch b's are gathered while batch b - 1
    computes its gradient, into the other buffer."""
    cdef intp cap = job.plan.cap, nf = job.net.sizes[0], k = job.net.sizes[job.net.n_layers]
    cdef intp r0 = block_start(ra, cap, job.plan.max_chunks)
    cdef intp r1 = min(block_start(rb, cap, job.plan.max_chunks), batch_rows(job, b))
    cdef floating* dst = <floating*>job.xbuf + (b & 1) * cap * nf + r0 * nf
    if job.order == NULL or r1 <= r0:
        return
    if floating is float:
        gather_rows_s(dst, <const float*>job.X, job.ldx, job.order + b * cap + r0, r1 - r0,
                      nf, <const float*>job.Y, k)
    else:
        gather_rows_d(dst, <const double*>job.X, job.ldx, job.order + b * cap + r0, r1 - r0,
                      nf, <const double*>job.Y, k)


cdef void grid_rows(Job* job, floating* params, intp b, intp ra, intp rb) noexcept nogil:
    """Row blocks ra:rb of batch b through every layer and back: the work of
    the grid's forward, output and backward phases for these rows, all columns
    at once (the row phase of the coarse schedule)."""
    cdef const Net* net = &job.net
    cdef int L = net.n_layers, l
    cdef intp cap = job.plan.cap, n_rb = job.plan.max_chunks
    cdef intp r0 = block_start(ra, cap, n_rb)
    cdef intp r1 = min(block_start(rb, cap, n_rb), batch_rows(job, b))
    for l in range(L):
        grid_forward(job, params, b, l, ra, rb, r0, r1, 0, net.sizes[l + 1])
    for l in range(L - 1, 0, -1):
        grid_backward(job, params, l, r0, r1, 0, net.sizes[l])


cdef void grid_run(Job* job, floating* params, intp b, int kind, int l, intp q0,
                   intp q1) noexcept nogil:
    """Tiles q0:q1 of a phase (kind, layer l) of batch b, in as few calls as
    their layout allows: tiles are numbered column block by column block, so a
    run is the end of one column block, whole column blocks, and the start of
    the next."""
    cdef const Plan* plan = job.plan
    cdef const Net* net = &job.net
    cdef int L = net.n_layers
    cdef intp n_rb = plan.max_chunks, cap = plan.cap, m = batch_rows(job, b)
    cdef intp q = q0, cb, cb1, ra, rb, r0, r1, width = 1, n_c = 1, nf = net.sizes[0]
    if kind == PHASE_ROWS:
        grid_rows(job, params, b, q0, q1)
        return
    if kind == PHASE_TASKS:
        if q0 < plan.n_tasks:
            grid_tasks(job, params, b, q0, q1)
        elif b + 1 < job.n_batches:
            grid_gather(job, params, b + 1, q0 - plan.n_tasks, q1 - plan.n_tasks)
        return
    if kind == PHASE_FORWARD:
        n_c = plan.n_cb[l]
        width = net.sizes[l + 1]
    elif kind == PHASE_BACKWARD:
        n_c = plan.n_cbb[l]
        width = net.sizes[l]
    while q < q1:
        cb = q // n_rb
        ra = q - cb * n_rb
        if ra == 0 and q + n_rb <= q1:
            cb1 = cb + (q1 - q) // n_rb
            rb = n_rb
            q += (cb1 - cb) * n_rb
        else:
            cb1 = cb + 1
            rb = min(n_rb, ra + q1 - q)
            q += rb - ra
        r0 = block_start(ra, cap, n_rb)
        r1 = min(block_start(rb, cap, n_rb), m)
        if kind == PHASE_FORWARD:
            grid_forward(job, params, b, l, ra, rb, r0, r1, block_start(cb, width, n_c),
                         block_start(cb1, width, n_c))
        elif kind == PHASE_TAIL:
            grid_forward(job, params, b, l, ra, rb, r0, r1, 0, net.sizes[l + 1])
            if l > 0:
                grid_backward(job, params, l, r0, r1, 0, net.sizes[l])
        else:
            grid_backward(job, params, l, r0, r1, block_start(cb, width, n_c),
                          block_start(cb1, width, n_c))


cdef inline bint interrupted(Job* job, int64_t b, int64_t* checked) noexcept nogil:
    """On the calling thread: whether a signal handler raised (checked after
    each batch, or each tile with job.signals == 2); if so, stop the team."""
    cdef int pending
    if not job.signals or (b == checked[0] and job.signals != 2):
        return False
    checked[0] = b
    with gil:
        pending = check_signals()
    if pending:
        team_stop(&job.team, INTERRUPTED)
    return pending != 0


cdef inline void grid_work(Job* job, floating* params, bint caller, int nt) noexcept nogil:
    """One thread's share of a job on the tile grid (see team_work).

    A thread claims a run of adjacent tiles of the current phase: all of it on
    one thread, else about half its share of what is left (guided), at least
    one tile. The tile kernels compute each element by a chain fixed by the
    problem, so a run gives the bits its tiles would, and the thread count
    changes only who computes what.
    """
    cdef const Plan* plan = job.plan
    cdef int p
    cdef int64_t pro = plan.max_chunks  # tickets before batch 0: gathering its rows
    # the fine schedule (every phase of the grid) for many threads; for a few,
    # the coarse one: row blocks through all layers, then the tasks (two
    # barriers a batch, as few as the chunk plan's). Both compute every tile
    # as the grid defines it, so the bits are the same.
    cdef bint fine = nt > GRID_COARSE_THREADS
    cdef const intp* phase_end = plan.phase_end if fine else plan.coarse_end
    cdef const intp* phase_kind = plan.phase_kind if fine else plan.coarse_kind
    cdef const intp* phase_layer = plan.phase_layer if fine else plan.coarse_layer
    cdef int n_phases = plan.n_phases if fine else 2
    cdef int64_t per = phase_end[n_phases - 1]
    cdef int64_t total = pro + job.n_batches * per
    cdef int64_t T, b, first, i, p0, left, r, end, checked = -1
    cdef double spin = SPIN_START
    while True:
        T = team_peek(&job.team)
        if T >= total:
            break
        if T < pro:
            r = pro - T if nt <= 1 else max(1, (pro - T + nt - 1) // nt)
            if not team_claim_run(&job.team, T, r):
                continue
            grid_gather(job, params, 0, T, T + r)
            team_finish_run(&job.team, r, pro)
            continue
        b = (T - pro) // per
        first = pro + b * per
        i = T - first
        p = 0
        while phase_end[p] <= i:
            p += 1
        p0 = phase_end[p - 1] if p > 0 else 0
        # the previous phase done (for batch 0's first: its rows gathered)
        if team_wait(&job.team, first + p0, &spin) != OK:
            break
        left = phase_end[p] - i
        r = left if nt <= 1 else max(1, (left + nt - 1) // nt)
        if phase_kind[p] == PHASE_ROWS:
            # one run per thread: each run reads every weight matrix once
            r = min(left, (plan.max_chunks + nt - 1) // nt)
        elif phase_kind[p] == PHASE_TASKS:
            # tasks of one layer and column block, or gathering rows: a share
            # of what is left of that run of similar tiles
            end = plan.task_run_end[i - p0] if i - p0 < plan.n_tasks else left + (i - p0)
            r = end - (i - p0) if nt <= 1 else max(1, (end - (i - p0) + nt - 1) // nt)
        if not team_claim_run(&job.team, T, r):
            continue
        if i == 0 and b > 0 and finish_batch(job, b - 1) != OK:
            team_stop(&job.team, DIVERGED)
            break
        grid_run(job, params, b, <int>phase_kind[p], <int>phase_layer[p], i - p0,
                 i - p0 + r)
        team_finish_run(&job.team, r, first + phase_end[p])
        if caller and interrupted(job, b, &checked):
            break
    team_wait(&job.team, total, &spin)


cdef inline void team_work(Job* job, floating* params, bint caller) noexcept nogil:
    """One thread's share of a job: claim the next tile once its phase may
    start, run it, count it; until the tiles run out or the team stops.

    Tickets: batch b's chunks, then its tasks, then batch b + 1's. The first
    chunk of batch b + 1 also finishes batch b (its loss and divergence check),
    so batches are finished one after the other, in order. Only the calling
    thread (caller), which holds a Python thread state, checks for signals.
    """
    cdef const Plan* plan = job.plan
    cdef int64_t per = job.chunks_full + plan.n_tasks
    cdef int64_t last_chunks = ceil_div(batch_rows(job, job.n_batches - 1), plan.chunk_rows)
    cdef int64_t total = (job.n_batches - 1) * per + last_chunks + plan.n_tasks
    cdef int64_t T, b, first, i, nc, checked = -1
    cdef double spin = SPIN_START
    while True:
        T = team_peek(&job.team)
        if T >= total:
            break
        b = T // per
        first = b * per
        i = T - first
        nc = job.chunks_full if b < job.n_batches - 1 else last_chunks
        # wait for the previous phase: a chunk needs the last batch's step,
        # a task needs every chunk of its batch
        if team_wait(&job.team, first if i < nc else first + nc, &spin) != OK:
            break
        if not team_claim(&job.team, T):
            continue
        if i < nc:
            if i == 0 and b > 0 and finish_batch(job, b - 1) != OK:
                team_stop(&job.team, DIVERGED)
                break
            run_chunk(job, params, b, i)
            team_finish(&job.team, first + nc)
        else:
            run_task(job, params, b, i - nc)
            team_finish(&job.team, first + nc + plan.n_tasks)
        if caller and interrupted(job, b, &checked):
            break
    # Leave together: a thread that reached the end of the parallel region
    # early would spin there (the OpenMP runtime's wait policy) while others
    # still compute.
    team_wait(&job.team, total, &spin)


cdef int run_job(Job* job, floating* params, int n_threads) noexcept nogil:
    """Run every batch of job on up to n_threads threads (see job_threads);
    params is job.params, typed.

    Returns OK; DIVERGED if a batch's loss or parameters became
    non-finite (job.batches_done batches finished before it; the parameters
    hold the diverged values); INTERRUPTED if a signal handler raised.
    The results do not depend on the number of threads.
    """
    cdef int nt = job_threads(job, n_threads), why
    team_init(&job.team)
    job.loss_sum = 0
    job.batches_done = 0
    job.last_loss = 0
    if job.n_batches == 0:
        return OK
    if job.plan.grid:
        if nt > 1:
            with parallel(num_threads=nt):
                grid_work(job, params, threadid() == 0, nt)
        else:
            grid_work(job, params, True, 1)
    elif nt > 1:
        with parallel(num_threads=nt):
            team_work(job, params, threadid() == 0)
    else:
        team_work(job, params, True)
    why = team_stopped(&job.team)
    if why == OK:
        why = finish_batch(job, job.n_batches - 1)
    return why


cdef int run_seeds(const Job* base, floating* params, floating* s1, floating* s2,
                   intp P, floating* ws, intp ws_size, double* dbuf, intp db_size,
                   intp n_seeds, intp n_epochs, void** generators, intp* orders,
                   intp* shuffle_tmp, const double* lr_per_epoch,
                   const unsigned char* record, floating* snapshots, intp n_records,
                   double* losses, unsigned char* ok, int n_threads) noexcept nogil:
    """Train n_seeds copies of base's network (rows k * P of params, s1, s2) for
    n_epochs epochs each, on up to n_threads threads; return OK or INTERRUPTED.

    Each thread takes the next untrained seed and trains it for every epoch
    (run_job on one thread, the computation of a fit of that seed alone), so
    threads never wait for each other between epochs. Seed k's rows are
    reshuffled before each epoch by generators[k] (numpy bit generators, or
    NULL: no shuffling); each thread has 2 x n intp of shuffle_tmp, ws_size
    floats of ws and db_size doubles of dbuf. After epoch e, if record[e],
    the parameters go to the seed's next row of snapshots (n_records per seed).
    A seed whose loss or parameters become non-finite stops (ok[k] = False).
    """
    cdef mlpx_team team
    cdef int nt = <int>(n_threads if n_threads < n_seeds else n_seeds)
    if nt < 1:
        nt = 1
    team_init(&team)
    if nt > 1:
        with parallel(num_threads=nt):
            seeds_work(base, params, s1, s2, P, ws, ws_size, dbuf, db_size, n_seeds,
                       n_epochs, <bitgen_t**>generators, orders, shuffle_tmp, lr_per_epoch,
                       record, snapshots, n_records, losses, ok, &team, threadid())
    else:  # no parallel region at all (see mlpx._threads on forked processes)
        seeds_work(base, params, s1, s2, P, ws, ws_size, dbuf, db_size, n_seeds, n_epochs,
                   <bitgen_t**>generators, orders, shuffle_tmp, lr_per_epoch, record,
                   snapshots, n_records, losses, ok, &team, 0)
    return team_stopped(&team)


cdef void seeds_work(const Job* base, floating* params, floating* s1, floating* s2,
                     intp P, floating* ws, intp ws_size, double* dbuf, intp db_size,
                     intp n_seeds, intp n_epochs, bitgen_t** gens, intp* orders,
                     intp* shuffle_tmp, const double* lr_per_epoch,
                     const unsigned char* record, floating* snapshots, intp n_records,
                     double* losses, unsigned char* ok, mlpx_team* team,
                     int tid) noexcept nogil:
    """One thread's share of run_seeds: the next untrained seed, until none is left."""
    cdef int64_t k
    cdef double spin = SPIN_START
    while True:
        k = team_peek(team)
        if k >= n_seeds or team_stopped(team) != OK:
            break
        if not team_claim(team, k):
            continue
        train_seed(base, params + k * P, s1 + k * P, s2 + k * P, ws + tid * ws_size,
                   dbuf + tid * db_size, k, tid == 0, n_epochs, gens, orders,
                   shuffle_tmp + 2 * tid * base.n if shuffle_tmp != NULL else NULL,
                   lr_per_epoch, record, snapshots, n_records, losses, ok, team)
        team_finish(team, n_seeds)
    # leave together (see team_work)
    team_wait(team, n_seeds, &spin)


cdef void train_seed(const Job* base, floating* params, floating* s1, floating* s2,
                     floating* ws, double* dbuf, intp k, bint caller, intp n_epochs,
                     bitgen_t** gens, intp* orders, intp* tmp,
                     const double* lr_per_epoch, const unsigned char* record,
                     floating* snapshots, intp n_records, double* losses,
                     unsigned char* ok, mlpx_team* team) noexcept nogil:
    """Every epoch of seed k on the calling thread (the arrays are seed k's)."""
    cdef Job job = base[0]
    cdef intp n = base.n, P = base.net.n_params, e, r = 0, j, n_batches = base.n_batches
    cdef intp* order = orders + k * n if gens != NULL else NULL
    cdef int status, pending
    cdef floating* x
    job.params = params
    job.s1 = s1
    job.s2 = s2
    job.order = order
    job.acts = ws
    job.deltas = ws + (<floating*>base.deltas - <floating*>base.acts)
    job.xbuf = ws + (<floating*>base.xbuf - <floating*>base.acts)
    job.grad = ws + (<floating*>base.grad - <floating*>base.acts)
    job.scratch = dbuf
    for e in range(n_epochs):
        if team_stopped(team) != OK:
            return
        if ok[k]:
            job.upd.lr = lr_per_epoch[e]
            job.t0 = base.t0 + e * n_batches
            if gens != NULL:
                next_order(gens[k], order, tmp, tmp + n, n)
            status = run_job(&job, params, 1)
            losses[k * n_epochs + e] = job.loss_sum / n
            ok[k] = status == OK
        if record[e]:
            x = snapshots + (k * n_records + r) * P
            for j in range(P):
                x[j] = params[j]
            r += 1
        if caller:
            with gil:
                pending = check_signals()
            if pending:
                team_stop(team, INTERRUPTED)


cdef const CSR* csr_of(CSR* sp, const void* data, intp nnz, const intp* indices,
                       const intp* indptr) noexcept nogil:
    """Point sp at the CSR arrays of a sparse X; NULL when X is dense (indptr NULL)."""
    if indptr == NULL:
        return NULL
    sp.data = data if nnz > 0 else NULL
    sp.indices = indices if nnz > 0 else NULL
    sp.indptr = indptr
    return sp


cdef void exp_nonpos(floating* x, intp n) noexcept nogil:
    """x = exp(x) in place, for x <= 0 (or NaN): the softmax's vectorised exp."""
    if floating is float:
        mlpx_exp_nonpos_s(x, n)
    else:
        mlpx_exp_nonpos_d(x, n)


cdef int epilogue_code(str name) except -1:
    """The small kernels' epilogue code of 'none', 'relu' or 'relu_grad'."""
    return {"none": EPI_NONE, "relu": EPI_RELU, "relu_grad": EPI_RELU_GRAD}[name]


cdef double forward_flops_row(const Net* net) noexcept nogil:
    """Flops of the forward pass of one row."""
    cdef double flops_row = 0
    cdef int l
    for l in range(net.n_layers):
        flops_row += 2.0 * net.sizes[l] * net.sizes[l + 1]
    return flops_row


cdef intp forward_chunk_rows(const Net* net, intp n) noexcept nogil:
    """Rows per chunk of a predict: CHUNK_FLOPS of work, 256 to 1024 rows."""
    cdef intp rows = <intp>(CHUNK_FLOPS / forward_flops_row(net)) + 1
    return min(max(rows, 256), 1024, n)


cdef int forward_threads(const Net* net, intp n, intp rows, int n_threads) noexcept nogil:
    """Threads a predict runs its chunks of `rows` rows on: one when the work
    is too small to split or there is a single chunk."""
    cdef intp n_chunks = ceil_div(n, rows)
    if forward_flops_row(net) * n < MIN_PARALLEL_FLOPS or n_chunks < 2:
        return 1
    return <int>max(1, min(n_threads, n_chunks))


cdef bint forward_calls_blas(const Net* net, intp n, bint sparse, bint single) noexcept nogil:
    """Whether a predict of n rows calls BLAS: one of its products is not the
    tile kernels' (tiles_take; single: float32), or they cannot run on this
    CPU. Under a budget of several threads the caller then caps BLAS at one:
    threaded OpenBLAS does not round as one-thread OpenBLAS does."""
    cdef intp rows
    cdef int l
    if n == 0:
        return False
    rows = forward_chunk_rows(net, n)
    for l in range(net.n_layers):
        if l == 0 and sparse:
            continue  # the sparse first layer is our own loop
        if (not small_gemm_available() or not tiles_take(
                single, c'N', c'N', rows, net.sizes[l + 1], net.sizes[l])):
            return True
    return False


cdef class Network:
    """Layer sizes and activation codes of an MLP, and its flat-parameter layout.

    Parameters
    ----------
    sizes : intp array of the layer sizes (inputs, hidden widths, outputs).
    hidden_act, out_act : Activation codes of the hidden and output layers.
    loss : Loss code of the data loss (CANONICAL: the output activation's own).
    """

    def __cinit__(self, const intp[::1] sizes, int hidden_act, int out_act,
                  int loss=CANONICAL, double leaky_slope=0.01):
        self.net.sizes = NULL
        if sizes.shape[0] < 2 or min(sizes) < 1:
            raise ValueError(f"need two or more positive layer sizes, got {list(sizes)}")
        if loss != CANONICAL and loss != SQUARED_ERROR:
            raise ValueError(f"unknown loss code {loss}")
        if not 0 <= leaky_slope <= 1:
            raise ValueError(f"leaky_slope must be in [0, 1], got {leaky_slope}")
        if net_init(&self.net, &sizes[0], <int>sizes.shape[0], hidden_act, out_act,
                     loss, leaky_slope) != 0:
            raise MemoryError("no memory for the network's layout")
        self.n_params = self.net.n_params

    def __dealloc__(self):
        net_free(&self.net)

    @property
    def sizes(self):
        return tuple(self.net.sizes[l] for l in range(self.net.n_layers + 1))

    @property
    def hidden_act(self):
        return self.net.hidden_act

    @property
    def out_act(self):
        return self.net.out_act

    @property
    def loss(self):
        return self.net.loss

    @property
    def leaky_slope(self):
        return self.net.leaky_slope

    def __reduce__(self):
        return Network, (np.asarray(self.sizes, dtype=np.intp), self.net.hidden_act,
                         self.net.out_act, self.net.loss, self.net.leaky_slope)
