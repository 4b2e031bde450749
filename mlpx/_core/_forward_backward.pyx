"""Full-batch entry points of the engine: prediction and loss + gradient.

`loss_gradient` works on the flat parameter vector directly; it is what L-BFGS,
the gradient checks and the landscape tools call.
"""
from cython cimport floating
from cython.parallel cimport prange, threadid

from ._activations cimport mlpx_exp_nonpos_d, mlpx_exp_nonpos_s
from ._blas cimport (
    EPI_NONE, EPI_RELU, EPI_RELU_GRAD, blas_gemm, gemm, small_gemm,
    small_gemm_available, small_gemm_epilogue, tiles_take,
)
from libc.stdlib cimport free, malloc

from ._kernels cimport (
    CSR, Job, Net, Plan, Update, NO_UPDATE, net_init, net_free, plan_init, plan_free,
    forward_rows, run_job, job_init, scratch_size, ceil_div, all_finite, csr_or_null,
    MIN_PARALLEL_FLOPS, CHUNK_FLOPS,
)

ctypedef Py_ssize_t intp


cdef double forward_flops_row(const Net* net) noexcept nogil:
    """Flops of the forward pass of one row."""
    cdef double flops_row = 0
    cdef int l
    for l in range(net.n_layers):
        flops_row += 2.0 * net.sizes[l] * net.sizes[l + 1]
    return flops_row


cdef intp forward_chunk_rows(const Net* net, intp n) noexcept nogil:
    """Rows per chunk of forward(): CHUNK_FLOPS of work, 256 to 1024 rows."""
    cdef intp rows = <intp>(CHUNK_FLOPS / forward_flops_row(net)) + 1
    return min(max(rows, 256), 1024, n)


cdef int forward_threads(const Net* net, intp n, intp rows, int n_threads) noexcept nogil:
    """Threads forward() runs its chunks of `rows` rows on: one when the work
    is too small to split or there is a single chunk."""
    cdef intp n_chunks = ceil_div(n, rows)
    if forward_flops_row(net) * n < MIN_PARALLEL_FLOPS or n_chunks < 2:
        return 1
    return <int>max(1, min(n_threads, n_chunks))


def forward_calls_blas(const intp[::1] sizes, intp n, bint sparse=False,
                       bint single=False):
    """Whether forward() on n rows calls BLAS: one of its products is not the
    tile kernels' (tiles_take; single: float32), or they cannot run on this
    CPU. Under a budget of several threads the caller then caps BLAS at one:
    threaded OpenBLAS does not round as one-thread OpenBLAS does (a 784-500
    layer on 17-256 rows differed by an ulp)."""
    cdef Net net
    cdef intp rows
    cdef int l
    cdef bint blas = False
    if n == 0:
        return False
    if net_init(&net, &sizes[0], sizes.shape[0], 0, 0) != 0:
        raise MemoryError()
    rows = forward_chunk_rows(&net, n)
    for l in range(net.n_layers):
        if l == 0 and sparse:
            continue  # the sparse first layer is our own loop
        if (not small_gemm_available() or not tiles_take(
                single, c'N', c'N', rows, net.sizes[l + 1], net.sizes[l])):
            blas = True
    net_free(&net)
    return blas


def forward(const floating[::1] params, const intp[::1] sizes, int hidden_act,
            int out_act, const floating[:, ::1] X, floating[:, ::1] out,
            int n_threads, const floating[::1] x_data=None,
            const intp[::1] x_indices=None, const intp[::1] x_indptr=None,
            bint check_finite=False):
    """Write the network's outputs for the rows of X into out (n x sizes[-1]).

    For sparse input pass X of shape (0, n_features) and the CSR arrays.
    With check_finite, dense X holding NaN or inf is left alone: nothing is
    computed and the call returns False (True otherwise).
    """
    cdef Net net
    cdef CSR csr
    cdef const CSR* sp = NULL
    cdef intp n = out.shape[0], rows, n_chunks, c, r0, mc, scratch_rows
    cdef const floating* x = &X[0, 0] if X.shape[0] > 0 else NULL
    cdef int nt, tid
    cdef floating* scratch = NULL
    cdef bint finite = True
    if n == 0:
        return True
    if check_finite and x != NULL:
        with nogil:
            finite = all_finite(x, n * X.shape[1])
        if not finite:
            return False
    if x_indptr is not None:
        sp = csr_or_null(&csr, x_data, x_indices, x_indptr)
    if net_init(&net, &sizes[0], sizes.shape[0], hidden_act, out_act) != 0:
        raise MemoryError()
    try:
        # never under 256 rows a chunk: a BLAS call on a thinner block repacks
        # the weights for too little work
        rows = forward_chunk_rows(&net, n)
        n_chunks = ceil_div(n, rows)
        nt = forward_threads(&net, n, rows, n_threads)
        scratch_rows = rows * (net.cum_w[net.n_layers - 1] + 1)
        scratch = <floating*>malloc(nt * scratch_rows * sizeof(floating))
        if scratch == NULL:
            raise MemoryError()
        with nogil:
            if nt > 1:
                for c in prange(n_chunks, schedule='dynamic', num_threads=nt):
                    r0 = c * rows
                    mc = rows if r0 + rows <= n else n - r0
                    tid = threadid()
                    forward_rows(&net, &params[0], x + r0 * X.shape[1] if x != NULL else NULL,
                                 X.shape[1], mc, scratch + tid * scratch_rows, rows, 0,
                                 &out[r0, 0], sp, NULL, r0)
            else:
                for c in range(n_chunks):
                    r0 = c * rows
                    mc = rows if r0 + rows <= n else n - r0
                    forward_rows(&net, &params[0], x + r0 * X.shape[1] if x != NULL else NULL,
                                 X.shape[1], mc, scratch, rows, 0, &out[r0, 0], sp, NULL, r0)
    finally:
        free(scratch)
        net_free(&net)
    return True


def loss_gradient(floating[::1] params, const intp[::1] sizes, int hidden_act,
                  int out_act, const floating[:, ::1] X, const floating[:, ::1] Y,
                  const floating[::1] sample_weight, double alpha,
                  floating[::1] grad, int n_threads, const floating[::1] x_data=None,
                  const intp[::1] x_indices=None, const intp[::1] x_indptr=None):
    """Loss of the whole data set and its gradient w.r.t. the flat parameters.

    The loss is scikit-learn's: the (weighted) mean data loss plus
    alpha / (2 * sum(sample_weight)) * sum of squared weights. sample_weight
    of length 0 means unweighted. grad (n_params) is overwritten. For sparse
    input pass X of shape (0, n_features) and the CSR arrays.
    """
    cdef Net net
    cdef CSR csr
    cdef Job job
    cdef const CSR* sp = NULL
    cdef const floating* x = &X[0, 0] if X.shape[0] > 0 else NULL
    cdef Plan plan
    cdef Update upd
    cdef intp n = Y.shape[0], total
    cdef floating* ws = NULL
    cdef double* dbuf = NULL
    cdef int status
    cdef const floating* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    upd.kind = NO_UPDATE
    if x_indptr is not None:
        sp = csr_or_null(&csr, x_data, x_indices, x_indptr)
    if net_init(&net, &sizes[0], sizes.shape[0], hidden_act, out_act) != 0:
        raise MemoryError()
    plan.task_layer = NULL
    plan.task_i0 = NULL
    try:
        if plan_init(&plan, &net, n, sp != NULL) != 0:
            raise MemoryError()
        total = net.cum_w[net.n_layers]
        ws = <floating*>malloc(2 * n * total * sizeof(floating))
        dbuf = <double*>malloc(scratch_size(&plan) * sizeof(double))
        if ws == NULL or dbuf == NULL:
            raise MemoryError()
        # one batch of all rows, in order (no gathered rows: xbuf is not read)
        job_init(&job, &net, &plan, &params[0], <floating*>NULL, <floating*>NULL, x,
                 X.shape[1], &Y[0, 0], sw, sp, NULL, n, alpha, &upd, 0, 0, ws, &grad[0],
                 dbuf)
        with nogil:
            status = run_job(&job, &params[0], n_threads)
    finally:
        free(ws)
        free(dbuf)
        plan_free(&plan)
        net_free(&net)
    return job.last_loss


def _gemm(str trans_a, str trans_b, double alpha_, const floating[:, ::1] A,
          const floating[:, ::1] B, double beta_, floating[:, ::1] C, str path="auto"):
    """C = alpha op(A) op(B) + beta C through the engine's GEMM (for tests and
    benchmarks). path: 'auto' (the engine's choice), 'small' or 'blas'.
    Return False if 'small' was asked for and the CPU lacks AVX2/FMA."""
    cdef char ta = ord(trans_a), tb = ord(trans_b)
    cdef floating alpha = <floating>alpha_, beta = <floating>beta_
    cdef intp m = C.shape[0], n = C.shape[1]
    cdef intp k = A.shape[0] if ta == c'T' else A.shape[1]
    cdef intp kb = B.shape[1] if tb == c'T' else B.shape[0]
    if ((A.shape[1] if ta == c'T' else A.shape[0]) != m
            or (B.shape[0] if tb == c'T' else B.shape[1]) != n or kb != k):
        raise ValueError("shapes of A, B and C do not match")
    if m == 0 or n == 0 or k == 0 or A.shape[1] == 0 or B.shape[1] == 0:
        raise ValueError("empty matrices are not supported here")
    cdef int which = 1 if path == "small" else 2 if path == "blas" else 0
    cdef int status = 0
    with nogil:
        if which == 1:
            status = small_gemm(ta, tb, m, n, k, alpha, &A[0, 0], A.shape[1], &B[0, 0],
                                B.shape[1], beta, &C[0, 0], n)
        elif which == 2:
            blas_gemm(ta, tb, m, n, k, alpha, &A[0, 0], A.shape[1], &B[0, 0],
                      B.shape[1], beta, &C[0, 0], n)
        else:
            gemm(ta, tb, m, n, k, alpha, &A[0, 0], A.shape[1], &B[0, 0],
                 B.shape[1], beta, &C[0, 0], n)
    return status == 0


def _gemm_epilogue(str trans_b, const floating[:, ::1] A, const floating[:, ::1] B,
                   floating[:, ::1] C, const floating[::1] bias=None,
                   const floating[:, ::1] Z=None, str epilogue="none"):
    """C = A op(B) (+ bias) with the epilogue 'none', 'relu' (max(., 0)) or
    'relu_grad' (0 where Z == 0) applied in the small kernels' store (for
    tests). Return False if the kernels did not run (no AVX2/FMA, too large)."""
    cdef char tb = ord(trans_b)
    cdef intp m = C.shape[0], n = C.shape[1], k = A.shape[1]
    if (A.shape[0] != m or (B.shape[1] if tb == c'T' else B.shape[0]) != k
            or (B.shape[0] if tb == c'T' else B.shape[1]) != n):
        raise ValueError("shapes of A, B and C do not match")
    if m == 0 or n == 0 or k == 0:
        raise ValueError("empty matrices are not supported here")
    if bias is not None and bias.shape[0] != n:
        raise ValueError("bias must have one value per column of C")
    cdef int epi = {"none": EPI_NONE, "relu": EPI_RELU, "relu_grad": EPI_RELU_GRAD}[epilogue]
    if epi == EPI_RELU_GRAD and (Z is None or Z.shape[0] != m or Z.shape[1] != n):
        raise ValueError("relu_grad needs Z of C's shape")
    cdef const floating* b = &bias[0] if bias is not None else NULL
    cdef const floating* z = &Z[0, 0] if Z is not None else NULL
    cdef int status
    with nogil:
        status = small_gemm_epilogue(tb, m, n, k, &A[0, 0], A.shape[1], &B[0, 0],
                                     B.shape[1], &C[0, 0], n, b, z, n, epi)
    return status == 0


def _exp_nonpos(floating[::1] x):
    """x = exp(x) in place by the softmax's vectorised exp (x <= 0 or NaN; for tests)."""
    if x.shape[0] == 0:
        return
    with nogil:
        if floating is float:
            mlpx_exp_nonpos_s(&x[0], x.shape[0])
        else:
            mlpx_exp_nonpos_d(&x[0], x.shape[0])
