# The engine's kernels: forward pass, output deltas, the delta recursion and the
# gradient of one mini-batch, with an optional fused optimizer step.
#
# Layout. A network of L weight layers has sizes[0..L] (inputs, hidden widths,
# outputs). All parameters live in one flat buffer: W_0, ..., W_{L-1} (row-major,
# sizes[l] x sizes[l+1]) then b_0, ..., b_{L-1}, the order scikit-learn packs
# them for L-BFGS. Activations and deltas of a batch of at most `cap` rows live
# in one buffer each: layer l's block (m x sizes[l+1], row-major) starts at
# cap * cum_w[l].
#
# Parallelism, and why results do not depend on the thread count:
#   region 1: the batch rows are cut into chunks of `chunk_rows` rows (a number
#     fixed by the batch size and the network, never by the threads); each
#     chunk runs the forward pass, the output deltas and the delta recursion
#     for its rows. Rows are independent, so no reduction is needed; the
#     per-chunk losses are added in chunk order.
#   region 2: the weight gradient of layer l, x^(l-1)^T delta^(l), is cut into
#     fixed blocks of rows of W_l ("tasks"); each task computes its block over
#     the whole batch with one GEMM, adds the weight decay and, when training,
#     applies the optimizer step to exactly those parameters. Each parameter is
#     written by one task, so there is nothing to reduce.
# BLAS must run single-threaded while these regions run (the caller limits it
# with threadpoolctl), so the OpenMP and BLAS pools never multiply.
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport cos, isfinite, log, pow, sqrt, sqrtf
from libc.stdlib cimport free, malloc

from ._activations cimport (
    IDENTITY, RELU, SOFTMAX, activation_derivative, bias_activation, output_loss_and_delta,
    softmax_rows,
)
from ._blas cimport (
    EPI_NONE, EPI_RELU, EPI_RELU_GRAD, blas_gemm, gemm, small_gemm_epilogue,
)

ctypedef Py_ssize_t intp

# Optimizer codes (mlpx/_optimizers.py mirrors them).
cdef enum:
    NO_UPDATE = 0
    SGD = 1
    ADAM = 2
    SGLD = 3

cdef extern from *:
    """
    /* Work below which a region runs on one thread: splitting costs more than it saves. */
    #define MLPX_MIN_PARALLEL_FLOPS 4.0e6
    /* Target work of one region-1 chunk and of one region-2 task, in flops. */
    #define MLPX_CHUNK_FLOPS 2.0e6
    #define MLPX_TASK_FLOPS 4.0e6
    /* Bounds on the region-1 chunks of a batch (see chunk_rows). */
    #define MLPX_MIN_CHUNK_ROWS 64
    #define MLPX_MAX_CHUNKS 16
    /* Fewest rows of W_l in one region-2 task: a thinner block makes BLAS
       repack the whole delta matrix for little work. */
    #define MLPX_MIN_TASK_ROWS 128
    /* In training, float32 forward products with weights above this many
       bytes go to BLAS (see forward_rows). */
    #define MLPX_TRAIN_BLAS_WEIGHT_BYTES 200000
    """
    double MIN_PARALLEL_FLOPS "MLPX_MIN_PARALLEL_FLOPS"
    double CHUNK_FLOPS "MLPX_CHUNK_FLOPS"
    double TASK_FLOPS "MLPX_TASK_FLOPS"
    int MIN_CHUNK_ROWS "MLPX_MIN_CHUNK_ROWS"
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


cdef struct Net:
    int n_layers
    int hidden_act
    int out_act
    intp* sizes     # n_layers + 1
    intp* w_off     # n_layers: offset of W_l in the flat buffer
    intp* b_off     # n_layers: offset of b_l
    intp* cum_w     # n_layers + 1: cum_w[l] = sizes[1] + ... + sizes[l]
    intp n_params
    intp n_coef     # number of weights (the penalised parameters)
    bint training   # set by the training loops (see forward_rows)


cdef struct Plan:
    intp cap            # most rows in a batch
    intp chunk_rows     # rows per region-1 chunk
    intp max_chunks
    intp n_tasks
    int* task_layer
    intp* task_i0
    intp* task_i1
    int* task_bias      # the task that also owns b_l (the last block of layer l)
    double flops_per_row


cdef struct Update:
    int kind
    double lr           # SGD: current learning rate; Adam: bias-corrected step size
    double momentum
    bint nesterov
    double beta_1
    double beta_2
    double epsilon
    double noise_std    # SGLD: sqrt(2 lr temperature)
    unsigned long long seed  # SGLD: noise stream of this fit
    unsigned long long step  # SGLD: optimizer steps taken, this one included


cdef struct CSR:
    # A sparse input matrix in CSR form; `data` points to float or double
    # values matching the network's type.
    const void* data
    const intp* indices
    const intp* indptr


cdef inline int net_init(Net* net, const intp* sizes, int n_sizes, int hidden_act,
                         int out_act) noexcept nogil:
    """Fill net from the layer sizes; return -1 if memory ran out."""
    cdef int L = n_sizes - 1, l
    cdef intp* buf = <intp*>malloc((4 * L + 2) * sizeof(intp))
    if buf == NULL:
        return -1
    net.n_layers = L
    net.hidden_act = hidden_act
    net.out_act = out_act
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


cdef inline intp ceil_div(intp a, intp b) noexcept nogil:
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
    """Rows per region-1 chunk for batches of `cap` rows.

    Equal chunks, a power-of-two count (so 1, 2, 4 or 8 threads share them
    evenly), each with at least MIN_CHUNK_ROWS rows (every chunk repacks the
    weights in BLAS, and thin blocks run below its speed) and CHUNK_FLOPS of
    work (forward + delta recursion is about 2 GEMMs per layer per row). A
    batch of 200 is 2 chunks of 100: against 4 of 50, epochs of 784-100-10
    and 784-500-300-10 were 2-15 % faster on one and two threads (Zen 3). The
    price: region 1 of such a batch runs on at most 2 threads.
    """
    cdef intp n_chunks = 1
    while (n_chunks < MAX_CHUNKS
           and cap >= 2 * n_chunks * MIN_CHUNK_ROWS
           and 2.0 * flops_row * cap >= 2 * n_chunks * CHUNK_FLOPS):
        n_chunks *= 2
    return ceil_div(cap, n_chunks)


cdef inline int plan_init(Plan* plan, const Net* net, intp cap, bint sparse) noexcept nogil:
    """Cut batches of `cap` rows into chunks and the gradient into tasks.

    Depends only on the network and the batch size, never on the thread count.
    Return -1 if memory ran out.
    """
    cdef int L = net.n_layers, l
    cdef intp fi, rows, t, i0
    cdef double flops_row = 0
    for l in range(L):
        flops_row += 2.0 * net.sizes[l] * net.sizes[l + 1]
    plan.cap = cap
    plan.flops_per_row = flops_row
    plan.chunk_rows = chunk_rows(cap, flops_row)
    plan.max_chunks = ceil_div(cap, plan.chunk_rows)
    plan.n_tasks = 0
    for l in range(L):
        plan.n_tasks += layer_blocks(net, l, cap, sparse)
    plan.task_layer = <int*>malloc(2 * plan.n_tasks * sizeof(int))
    plan.task_i0 = <intp*>malloc(2 * plan.n_tasks * sizeof(intp))
    if plan.task_layer == NULL or plan.task_i0 == NULL:
        free(plan.task_layer)
        free(plan.task_i0)
        plan.task_layer = NULL
        plan.task_i0 = NULL
        return -1
    plan.task_bias = plan.task_layer + plan.n_tasks
    plan.task_i1 = plan.task_i0 + plan.n_tasks
    t = 0
    for l in range(L):
        fi = net.sizes[l]
        rows = ceil_div(fi, layer_blocks(net, l, cap, sparse))
        i0 = 0
        while i0 < fi:
            plan.task_layer[t] = l
            plan.task_i0[t] = i0
            plan.task_i1[t] = i0 + rows if i0 + rows < fi else fi
            plan.task_bias[t] = plan.task_i1[t] == fi
            i0 += rows
            t += 1
    plan.n_tasks = t
    return 0


cdef inline void plan_free(Plan* plan) noexcept nogil:
    free(plan.task_layer)
    free(plan.task_i0)
    plan.task_layer = NULL
    plan.task_i0 = NULL


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


cdef inline void forward_rows(
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
    copy of them then beats the tiles' in-place reads (epochs alternated in
    one process, Zen 3: 784-100-10 4-8 % and 784-500-300-10 6-10 % faster, on
    one and two threads). A predict, whose weights stay warm from call to call
    and whose BLAS calls pay the thread cap, keeps the tiles.
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
            bias_activation(out, m, fo, b, act)
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
    """Region-1 work of one chunk; return the chunk's weighted loss sum."""
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
        m, fo, Y, idx, row0, sw, net.out_act, sw_sum)
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
            activation_derivative(d, z, m * fi, net.hidden_act)
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


cdef inline bint all_finite(const floating* x, intp n) noexcept nogil:
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
    """Region-2 work of task t; return the sum of squares of its weights (before the step)."""
    cdef int l = plan.task_layer[t]
    cdef intp i0 = plan.task_i0[t], i1 = plan.task_i1[t]
    cdef intp fi = net.sizes[l], fo = net.sizes[l + 1], j, n
    cdef const floating* inp
    cdef intp ld_in
    cdef const floating* D = deltas + plan.cap * net.cum_w[l]
    cdef floating* G = grad + net.w_off[l] + i0 * fo
    cdef floating* W = params + net.w_off[l] + i0 * fo
    cdef floating* gb
    cdef floating a = <floating>alpha, inv = <floating>sw_sum
    cdef double sq = 0, chk = 0
    if l == 0:
        inp = x0
        ld_in = ldx0
    else:
        inp = acts + plan.cap * net.cum_w[l - 1]
        ld_in = fi
    n = (i1 - i0) * fo
    # dE/dW_l[i0:i1] = x^(l-1)[:, i0:i1]^T delta^(l)
    if l == 0 and sp != NULL:
        sparse_transpose_times_dense(sp, idx, row0, m, D, fo, G, n)
    else:
        gemm(c'T', c'N', i1 - i0, fo, m, <floating>1, inp + i0, ld_in, D, fo,
             <floating>0, G, fo)
    if u.kind == SGLD:
        sq = sumsq(W, n)
        for j in range(n):
            G[j] = (G[j] + a * W[j]) / inv
        apply_update(W, G, s1 + net.w_off[l] + i0 * fo, s2 + net.w_off[l] + i0 * fo, n, u,
                     net.w_off[l] + i0 * fo)
        chk = vsum(W, n)
    else:
        decay_step(u.kind, W, G, s1 + net.w_off[l] + i0 * fo, s2 + net.w_off[l] + i0 * fo,
                   n, a, inv, u, &sq, &chk)
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


cdef inline double batch_gradient(
    const Net* net, const Plan* plan,
    floating* params,         # IN/OUT
    floating* grad,           # OUT gradient of the batch loss (n_params)
    const floating* X, intp ldx, const floating* Y, const floating* sw,
    const intp* idx,          # row indices of the batch, or NULL for rows row0..row0+m
    intp row0, intp m,
    floating* acts, floating* deltas, floating* xbuf,
    double* chunk_loss, double* chunk_sw, double* task_sq, double* task_chk,
    double alpha, const Update* u, floating* s1, floating* s2,
    int n_threads,
    double* sw_total,         # OUT sum of sample weights in the batch
    bint* finite,             # OUT whether the updated parameters are all finite
    const CSR* sp,            # IN  sparse X (then X is unused), or NULL
) noexcept nogil:
    """Loss of one batch (data term + L2 term, scikit-learn's scaling), its
    gradient and, if u.kind != NO_UPDATE, one optimizer step."""
    cdef intp cr = plan.chunk_rows, n_chunks = ceil_div(m, cr), c, t, r0, mc
    cdef int nt1 = n_threads, nt2 = n_threads
    cdef double loss = 0, sq = 0, sws = 0, chk = 0
    cdef const floating* x0
    cdef intp ldx0
    cdef double work = plan.flops_per_row * m
    if work < MIN_PARALLEL_FLOPS or n_chunks < 2:
        nt1 = 1
    if work < MIN_PARALLEL_FLOPS or plan.n_tasks < 2:
        nt2 = 1
    if nt1 > 1:
        for c in prange(n_chunks, nogil=True, schedule='dynamic', num_threads=nt1):
            r0 = c * cr
            mc = cr if r0 + cr <= m else m - r0
            chunk_loss[c] = chunk_forward_backward(
                net, params, X, ldx, Y, sw, idx + r0 if idx != NULL else NULL,
                row0 + r0, mc, xbuf, acts, deltas, plan.cap, r0, &chunk_sw[c], sp)
    else:
        for c in range(n_chunks):
            r0 = c * cr
            mc = cr if r0 + cr <= m else m - r0
            chunk_loss[c] = chunk_forward_backward(
                net, params, X, ldx, Y, sw, idx + r0 if idx != NULL else NULL,
                row0 + r0, mc, xbuf, acts, deltas, plan.cap, r0, &chunk_sw[c], sp)
    for c in range(n_chunks):
        loss += chunk_loss[c]
        sws += chunk_sw[c]
    if sp != NULL:
        x0 = NULL
        ldx0 = 0
    elif idx != NULL:
        x0 = xbuf
        ldx0 = net.sizes[0]
    else:
        x0 = X + row0 * ldx
        ldx0 = ldx
    if nt2 > 1:
        for t in prange(plan.n_tasks, nogil=True, schedule='dynamic', num_threads=nt2):
            task_sq[t] = task_gradient(net, plan, t, params, grad, x0, ldx0, acts,
                                       deltas, m, alpha, sws, u, s1, s2, &task_chk[t],
                                       sp, idx, row0)
    else:
        for t in range(plan.n_tasks):
            task_sq[t] = task_gradient(net, plan, t, params, grad, x0, ldx0, acts,
                                       deltas, m, alpha, sws, u, s1, s2, &task_chk[t],
                                       sp, idx, row0)
    for t in range(plan.n_tasks):
        sq += task_sq[t]
        chk += task_chk[t]
    sw_total[0] = sws
    finite[0] = (chk - chk) == 0
    return loss / sws + 0.5 * alpha * sq / sws


cdef inline const CSR* csr_or_null(CSR* sp, const floating[::1] data,
                                   const intp[::1] indices,
                                   const intp[::1] indptr) noexcept:
    """Point sp at the CSR arrays, or return NULL when the input is dense (indptr empty)."""
    if indptr.shape[0] == 0:
        return NULL
    sp.data = &data[0] if data.shape[0] > 0 else NULL
    sp.indices = &indices[0] if indices.shape[0] > 0 else NULL
    sp.indptr = &indptr[0]
    return sp


# Outcome of train_epoch.
cdef enum:
    EPOCH_OK = 0
    EPOCH_DIVERGED = 1
    EPOCH_INTERRUPTED = 2   # a signal handler raised; the exception is pending

cdef extern from "Python.h":
    int check_signals "PyErr_CheckSignals" () noexcept  # needs the GIL


cdef inline void read_optimizer(Update* upd, object optimizer):
    """Copy an mlpx._optimizers optimizer's hyper-parameters into upd."""
    upd.kind = optimizer.kind
    upd.lr = optimizer.learning_rate
    upd.momentum = optimizer.momentum
    upd.nesterov = optimizer.nesterov
    upd.beta_1 = optimizer.beta_1
    upd.beta_2 = optimizer.beta_2
    upd.epsilon = optimizer.epsilon
    upd.noise_std = optimizer.noise_std
    upd.seed = optimizer.noise_seed


cdef inline intp workspace_size(const Net* net, intp bs) noexcept nogil:
    """Floats of one epoch's workspace: activations, deltas, gathered rows, gradient."""
    return 2 * bs * net.cum_w[net.n_layers] + bs * net.sizes[0] + net.n_params


cdef inline intp scratch_size(const Plan* plan) noexcept nogil:
    """Doubles of the per-chunk and per-task partial results."""
    return 2 * plan.max_chunks + 2 * plan.n_tasks


cdef inline int train_epoch(
    const Net* net, const Plan* plan,
    floating* params, floating* s1, floating* s2,  # IN/OUT parameters, optimizer state
    const floating* X, intp ldx, const floating* Y, const floating* sw, const CSR* sp,
    const intp* order,        # the epoch's row order, or NULL (rows in order)
    intp n,
    Update* upd,              # IN/OUT (Adam's step size, the step counter)
    long* t,                  # IN/OUT optimizer steps taken
    double lr_init, double alpha,
    floating* ws,             # workspace_size(net, plan.cap) floats
    double* dbuf,             # scratch_size(plan) doubles
    int n_threads, bint signals,
    double* loss_sum,         # OUT sum of batch_loss * batch rows (scikit-learn's way)
    intp* n_batches,          # OUT mini-batches completed
) noexcept nogil:
    """One epoch of mini-batches of plan.cap rows: gradient and optimizer step each."""
    cdef intp bs = plan.cap, start = 0, m, total = net.cum_w[net.n_layers]
    cdef double loss, sws
    cdef bint finite = True
    cdef int pending
    cdef floating* grad = ws + 2 * bs * total + bs * net.sizes[0]
    loss_sum[0] = 0
    n_batches[0] = 0
    while start < n:
        m = bs if start + bs <= n else n - start
        t[0] += 1
        upd.step = t[0]
        if upd.kind == ADAM:
            upd.lr = (lr_init * sqrt(1 - pow(upd.beta_2, <double>t[0]))
                      / (1 - pow(upd.beta_1, <double>t[0])))
        loss = batch_gradient(
            net, plan, params, grad, X, ldx, Y, sw,
            order + start if order != NULL else NULL, start, m,
            ws, ws + bs * total, ws + 2 * bs * total,
            dbuf, dbuf + plan.max_chunks, dbuf + 2 * plan.max_chunks,
            dbuf + 2 * plan.max_chunks + plan.n_tasks,
            alpha, upd, s1, s2, n_threads, &sws, &finite, sp)
        if not finite or not isfinite(loss):
            return EPOCH_DIVERGED
        loss_sum[0] += loss * m
        n_batches[0] += 1
        start += m
        if signals:  # let Ctrl-C through between mini-batches
            with gil:
                pending = check_signals()
            if pending:
                return EPOCH_INTERRUPTED
    return EPOCH_OK
