"""Gradient: the loss of a whole data set and its gradient w.r.t. the flat parameters.

What L-BFGS, the gradient checks and the landscape tools call.
"""
from cython cimport floating
from libc.stdlib cimport calloc, free, malloc

from ._engine cimport (
    CSR, Job, Net, Network, Plan, Update, csr_of, job_init, plan_free, plan_init, run_job,
    scratch_size,
)
from ._types cimport INTERRUPTED, NO_UPDATE, intp


cdef int reraise() except -1:
    """Propagate the exception a signal handler left pending."""
    return -1


cdef extern from *:
    """
    /* Rows per block of a data set: about this much forward work, within
       [MIN, MAX] rows. Enough rows for full BLAS blocks and a tile per thread
       on many cores; few enough that a block's activations stay in cache and
       each of its tiles is short (Ctrl-C is looked at between tiles). */
    #define MLPX_BLOCK_FLOPS 1.0e9
    #define MLPX_MIN_BLOCK_ROWS 2048
    #define MLPX_MAX_BLOCK_ROWS 8192
    """
    double BLOCK_FLOPS "MLPX_BLOCK_FLOPS"
    intp MIN_BLOCK_ROWS "MLPX_MIN_BLOCK_ROWS"
    intp MAX_BLOCK_ROWS "MLPX_MAX_BLOCK_ROWS"


cdef intp block_rows(const Net* net, intp n) noexcept nogil:
    """Rows per block of an n-row data set (n itself when one block will do)."""
    cdef double flops_row = 0, rows
    cdef int l
    for l in range(net.n_layers):
        flops_row += 2.0 * net.sizes[l] * net.sizes[l + 1]
    rows = BLOCK_FLOPS / flops_row
    if rows < MIN_BLOCK_ROWS:
        rows = MIN_BLOCK_ROWS
    if rows > MAX_BLOCK_ROWS:
        rows = MAX_BLOCK_ROWS
    return n if rows >= n else <intp>rows


def loss_gradient(Network network, floating[::1] params, const floating[:, ::1] X,
                  const floating[:, ::1] Y, const floating[::1] sample_weight, double alpha,
                  floating[::1] grad, int n_threads, const floating[::1] x_data=None,
                  const intp[::1] x_indices=None, const intp[::1] x_indptr=None,
                  intp block=0):
    """Loss of the whole data set; its gradient goes to grad (n_params).

    The loss is scikit-learn's: the (weighted) mean data loss plus
    alpha / (2 * sum(sample_weight)) * sum of squared weights. sample_weight
    of length 0 means unweighted. For sparse input pass X of shape
    (0, n_features) and the CSR arrays.

    A large data set is processed in blocks of rows (`block` rows each; 0
    chooses, see block_rows), each scaled by the total weight; their losses
    and gradients are summed in block order, so the result does not depend
    on the number of threads.
    """
    cdef CSR csr, block_csr
    cdef Job job
    cdef const CSR* sp = NULL
    cdef const CSR* block_sp = NULL
    cdef const floating* x = &X[0, 0] if X.shape[0] > 0 else NULL
    cdef Plan plan
    cdef Update upd
    cdef intp n = Y.shape[0], total = network.net.cum_w[network.net.n_layers]
    cdef intp n_out = Y.shape[1], P = network.net.n_params, rows, r0, m, j
    cdef floating* ws = NULL
    cdef floating* block_grad = NULL
    cdef double* acc = NULL
    cdef double* dbuf = NULL
    cdef const floating* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef double sw_total = 0, loss = 0
    cdef int status = 0
    upd.kind = NO_UPDATE
    if x_indptr is not None and x_indptr.shape[0] > 0:
        sp = csr_of(&csr, &x_data[0] if x_data.shape[0] > 0 else NULL, x_data.shape[0],
                    &x_indices[0] if x_indices.shape[0] > 0 else NULL, &x_indptr[0])
    if block < 0:
        raise ValueError(f"block must be >= 0, got {block}")
    rows = block_rows(&network.net, n) if block == 0 or block >= n else block
    plan.task_layer = NULL
    plan.task_i0 = NULL
    try:
        if plan_init(&plan, &network.net, rows, sp != NULL) != 0:
            raise MemoryError("no memory for the gradient's plan")
        ws = <floating*>malloc(2 * rows * total * sizeof(floating))
        dbuf = <double*>malloc(scratch_size(&plan) * sizeof(double))
        if ws == NULL or dbuf == NULL:
            raise MemoryError("no memory for the gradient's work buffers")
        if rows == n:
            # one batch of all rows, in order (no gathered rows: xbuf is not read)
            job_init(&job, &network.net, &plan, &params[0], <floating*>NULL, <floating*>NULL,
                     x, X.shape[1], &Y[0, 0], sw, sp, NULL, n, alpha, &upd, 0, 0, ws,
                     &grad[0], dbuf)
            # one batch of long tiles: Ctrl-C is looked at after each of them
            job.signals = 2
            with nogil:
                status = run_job(&job, &params[0], n_threads)
            loss = job.last_loss
        else:
            block_grad = <floating*>malloc(P * sizeof(floating))
            acc = <double*>calloc(P, sizeof(double))
            if block_grad == NULL or acc == NULL:
                raise MemoryError("no memory for the gradient's work buffers")
            with nogil:
                if sw == NULL:
                    sw_total = n
                else:
                    for j in range(n):
                        sw_total += sw[j]
                r0 = 0
                while r0 < n and status != INTERRUPTED:
                    m = rows if r0 + rows <= n else n - r0
                    if sp != NULL:
                        # indptr holds absolute offsets: a shifted pointer is block's CSR
                        block_csr.data = sp.data
                        block_csr.indices = sp.indices
                        block_csr.indptr = sp.indptr + r0
                        block_sp = &block_csr
                    # the penalty term goes with the first block only
                    job_init(&job, &network.net, &plan, &params[0], <floating*>NULL,
                             <floating*>NULL, x + r0 * X.shape[1] if x != NULL else NULL,
                             X.shape[1], &Y[0, 0] + r0 * n_out,
                             sw + r0 if sw != NULL else NULL, block_sp, NULL, m,
                             alpha if r0 == 0 else 0.0, &upd, 0, 0, ws, block_grad, dbuf)
                    job.sw_total = sw_total
                    job.signals = 2
                    status = run_job(&job, &params[0], n_threads)
                    # a non-finite block loss makes the sum non-finite, as one batch would
                    loss += job.last_loss
                    for j in range(P):
                        acc[j] += block_grad[j]
                    r0 += m
                for j in range(P):
                    grad[j] = <floating>acc[j]
    finally:
        free(ws)
        free(dbuf)
        free(block_grad)
        free(acc)
        plan_free(&plan)
    if status == INTERRUPTED:
        reraise()
    return loss
