"""One epoch of mini-batch training in C: batches, forward, backward, optimizer step."""
from cython cimport floating
from libc.stdlib cimport free, malloc

from ._kernels cimport (
    ADAM, CSR, EPOCH_DIVERGED, EPOCH_INTERRUPTED, EPOCH_OK, Job, Net, Plan, Update,
    adam_step_size, csr_or_null, job_init, net_free, net_init, plan_free, plan_init,
    read_optimizer, run_job, scratch_size, workspace_size,
)

ctypedef Py_ssize_t intp

# Status codes returned to Python.
OK = EPOCH_OK
DIVERGED = EPOCH_DIVERGED


cdef int reraise() except -1:
    """Propagate the exception a signal handler left pending."""
    return -1


def training_plan(const intp[::1] sizes, intp batch_size):
    """How the engine cuts a mini-batch of `batch_size` rows (see plan_init).

    The cut depends on the layer sizes and the batch size only, never on the
    thread count. For benchmarks and tests.

    Returns
    -------
    chunk_rows : rows of each region-1 chunk (forward pass and deltas).
    tasks : list of (layer, i0, i1): the region-2 blocks of rows i0:i1 of W_layer
        whose gradient (and optimizer step) one task computes.
    """
    cdef Net net
    cdef Plan plan
    cdef intp t
    if sizes.shape[0] < 2 or min(sizes) < 1 or batch_size < 1:
        raise ValueError(f"need two or more positive layer sizes and batch_size >= 1, "
                         f"got sizes={list(sizes)}, batch_size={batch_size}")
    if net_init(&net, &sizes[0], sizes.shape[0], 0, 0) != 0:
        raise MemoryError()
    plan.task_layer = NULL
    plan.task_i0 = NULL
    try:
        if plan_init(&plan, &net, batch_size, False) != 0:
            raise MemoryError()
        tasks = [(plan.task_layer[t], plan.task_i0[t], plan.task_i1[t])
                 for t in range(plan.n_tasks)]
        return plan.chunk_rows, tasks
    finally:
        plan_free(&plan)
        net_free(&net)


def run_epoch(floating[::1] params, const intp[::1] sizes, int hidden_act, int out_act,
              const floating[:, ::1] X, const floating[:, ::1] Y,
              const floating[::1] sample_weight, const intp[::1] sample_idx,
              intp batch_size, double alpha, object optimizer, int n_threads,
              const floating[::1] x_data=None, const intp[::1] x_indices=None,
              const intp[::1] x_indptr=None):
    """Run one epoch of mini-batch SGD, Adam or SGLD over (X, Y), updating params in place.

    Parameters
    ----------
    params : the flat parameter vector (IN/OUT).
    sample_weight : length 0 for unweighted data.
    sample_idx : the epoch's order of the rows; length 0 means rows in order
        (no shuffling, and no copy: batches are slices of X).
    optimizer : an mlpx._optimizers optimizer; its state arrays are updated in
        place and its step counter `t` advanced.
    x_data, x_indices, x_indptr : CSR arrays of a sparse X (then X has 0 rows).

    Returns
    -------
    loss_sum : sum over batches of batch_loss * batch_rows (scikit-learn's way).
    n_batches : batches completed.
    status : OK, or DIVERGED if a loss or a parameter became non-finite
        (then params hold the diverged values and must be discarded).
    A signal (Ctrl-C) raises its exception between mini-batches.
    """
    cdef Net net
    cdef Plan plan
    cdef Update upd
    cdef CSR csr
    cdef Job job
    cdef const CSR* sp = NULL
    cdef const floating* x = &X[0, 0] if X.shape[0] > 0 else NULL
    cdef intp n = Y.shape[0], steps
    cdef intp bs = min(batch_size, n)
    cdef floating* ws = NULL
    cdef double* dbuf = NULL
    cdef floating[::1] s1 = optimizer.s1
    cdef floating[::1] s2 = optimizer.s2 if optimizer.kind == ADAM else optimizer.s1
    cdef unsigned long long t0 = optimizer.t
    cdef double lr_init = optimizer.learning_rate_init
    cdef int status = EPOCH_OK
    cdef const floating* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef const intp* idx = &sample_idx[0] if sample_idx.shape[0] > 0 else NULL
    if sample_idx.shape[0] not in (0, n):
        raise ValueError(f"sample_idx has {sample_idx.shape[0]} entries for {n} rows")
    if x_indptr is not None:
        sp = csr_or_null(&csr, x_data, x_indices, x_indptr)
    read_optimizer(&upd, optimizer)
    if net_init(&net, &sizes[0], sizes.shape[0], hidden_act, out_act) != 0:
        raise MemoryError()
    net.training = True
    plan.task_layer = NULL
    plan.task_i0 = NULL
    try:
        if plan_init(&plan, &net, bs, sp != NULL) != 0:
            raise MemoryError()
        ws = <floating*>malloc(workspace_size(&net, bs) * sizeof(floating))
        dbuf = <double*>malloc(scratch_size(&plan) * sizeof(double))
        if ws == NULL or dbuf == NULL:
            raise MemoryError()
        job_init(&job, &net, &plan, &params[0], &s1[0], &s2[0], x, X.shape[1], &Y[0, 0],
                 sw, sp, idx, n, alpha, &upd, lr_init, t0, ws, <floating*>NULL, dbuf)
        job.signals = True
        with nogil:
            status = run_job(&job, &params[0], n_threads)
    finally:
        free(ws)
        free(dbuf)
        plan_free(&plan)
        net_free(&net)
    # steps taken: every batch, or up to the one that diverged
    steps = job.n_batches if status == EPOCH_OK else job.batches_done + 1
    optimizer.t = t0 + steps
    if upd.kind == ADAM:
        optimizer.learning_rate = adam_step_size(job.lr_init, upd.beta_1, upd.beta_2,
                                                 t0 + steps)
    if status == EPOCH_INTERRUPTED:
        reraise()
    return job.loss_sum, job.batches_done, status
