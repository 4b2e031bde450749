"""One epoch of mini-batch training in C: batches, forward, backward, optimizer step."""
from cpython.exc cimport PyErr_CheckSignals
from cython cimport floating
from libc.math cimport isfinite, pow, sqrt
from libc.stdlib cimport free, malloc

from ._kernels cimport (
    CSR, Net, Plan, Update, SGD, ADAM, net_init, net_free, plan_init, plan_free,
    batch_gradient, csr_or_null,
)

ctypedef Py_ssize_t intp

# Status codes returned to Python.
cdef enum:
    STATUS_OK = 0
    STATUS_DIVERGED = 1

OK = STATUS_OK
DIVERGED = STATUS_DIVERGED


def run_epoch(floating[::1] params, const intp[::1] sizes, int hidden_act, int out_act,
              const floating[:, ::1] X, const floating[:, ::1] Y,
              const floating[::1] sample_weight, const intp[::1] sample_idx,
              intp batch_size, double alpha, object optimizer, int n_threads,
              const floating[::1] x_data=None, const intp[::1] x_indices=None,
              const intp[::1] x_indptr=None):
    """Run one epoch of mini-batch SGD or Adam over (X, Y), updating params in place.

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
    """
    cdef Net net
    cdef Plan plan
    cdef Update upd
    cdef CSR csr
    cdef const CSR* sp = NULL
    cdef const floating* x = &X[0, 0] if X.shape[0] > 0 else NULL
    cdef intp n = Y.shape[0], start, m, total, b = 0
    cdef intp bs = min(batch_size, n)
    cdef floating* ws = NULL
    cdef double* dbuf = NULL
    cdef floating* grad
    cdef floating[::1] s1 = optimizer.s1
    cdef floating[::1] s2 = optimizer.s2 if optimizer.kind == ADAM else optimizer.s1
    cdef long t = optimizer.t
    cdef double lr_init = optimizer.learning_rate_init
    cdef double loss_sum = 0, loss, sws
    cdef bint finite = True
    cdef int status = STATUS_OK
    cdef const floating* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef const intp* idx = &sample_idx[0] if sample_idx.shape[0] > 0 else NULL
    if x_indptr is not None:
        sp = csr_or_null(&csr, x_data, x_indices, x_indptr)
    upd.kind = optimizer.kind
    upd.lr = optimizer.learning_rate
    upd.momentum = optimizer.momentum
    upd.nesterov = optimizer.nesterov
    upd.beta_1 = optimizer.beta_1
    upd.beta_2 = optimizer.beta_2
    upd.epsilon = optimizer.epsilon
    upd.noise_std = optimizer.noise_std
    upd.seed = optimizer.noise_seed
    if net_init(&net, &sizes[0], sizes.shape[0], hidden_act, out_act) != 0:
        raise MemoryError()
    plan.task_layer = NULL
    plan.task_i0 = NULL
    try:
        if plan_init(&plan, &net, bs, sp != NULL) != 0:
            raise MemoryError()
        total = net.cum_w[net.n_layers]
        ws = <floating*>malloc((2 * bs * total + bs * net.sizes[0] + net.n_params)
                               * sizeof(floating))
        dbuf = <double*>malloc((2 * plan.max_chunks + 2 * plan.n_tasks) * sizeof(double))
        if ws == NULL or dbuf == NULL:
            raise MemoryError()
        grad = ws + 2 * bs * total + bs * net.sizes[0]
        with nogil:
            start = 0
            while start < n:
                m = bs if start + bs <= n else n - start
                t += 1
                upd.step = t
                if upd.kind == ADAM:
                    upd.lr = (lr_init * sqrt(1 - pow(upd.beta_2, <double>t))
                              / (1 - pow(upd.beta_1, <double>t)))
                loss = batch_gradient(
                    &net, &plan, &params[0], grad, x, X.shape[1], &Y[0, 0], sw,
                    idx + start if idx != NULL else NULL, start, m,
                    ws, ws + bs * total, ws + 2 * bs * total,
                    dbuf, dbuf + plan.max_chunks, dbuf + 2 * plan.max_chunks,
                    dbuf + 2 * plan.max_chunks + plan.n_tasks,
                    alpha, &upd, &s1[0], &s2[0], n_threads, &sws, &finite, sp)
                if not finite or not isfinite(loss):
                    status = STATUS_DIVERGED
                    break
                loss_sum += loss * m
                b += 1
                start += m
                # Let Ctrl-C through between mini-batches.
                with gil:
                    PyErr_CheckSignals()
    finally:
        free(ws)
        free(dbuf)
        plan_free(&plan)
        net_free(&net)
        optimizer.t = t
        if upd.kind == ADAM:
            optimizer.learning_rate = upd.lr
    return loss_sum, b, status
