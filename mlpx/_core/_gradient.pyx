"""Gradient: the loss of a whole data set and its gradient w.r.t. the flat parameters.

What L-BFGS, the gradient checks and the landscape tools call.
"""
from cython cimport floating
from libc.stdlib cimport free, malloc

from ._engine cimport (
    CSR, Job, Network, Plan, Update, csr_of, job_init, plan_free, plan_init, run_job,
    scratch_size,
)
from ._types cimport INTERRUPTED, NO_UPDATE, intp


cdef int reraise() except -1:
    """Propagate the exception a signal handler left pending."""
    return -1


def loss_gradient(Network network, floating[::1] params, const floating[:, ::1] X,
                  const floating[:, ::1] Y, const floating[::1] sample_weight, double alpha,
                  floating[::1] grad, int n_threads, const floating[::1] x_data=None,
                  const intp[::1] x_indices=None, const intp[::1] x_indptr=None):
    """Loss of the whole data set; its gradient goes to grad (n_params).

    The loss is scikit-learn's: the (weighted) mean data loss plus
    alpha / (2 * sum(sample_weight)) * sum of squared weights. sample_weight
    of length 0 means unweighted. For sparse input pass X of shape
    (0, n_features) and the CSR arrays.
    """
    cdef CSR csr
    cdef Job job
    cdef const CSR* sp = NULL
    cdef const floating* x = &X[0, 0] if X.shape[0] > 0 else NULL
    cdef Plan plan
    cdef Update upd
    cdef intp n = Y.shape[0], total = network.net.cum_w[network.net.n_layers]
    cdef floating* ws = NULL
    cdef double* dbuf = NULL
    cdef const floating* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef int status
    upd.kind = NO_UPDATE
    if x_indptr is not None and x_indptr.shape[0] > 0:
        sp = csr_of(&csr, &x_data[0] if x_data.shape[0] > 0 else NULL, x_data.shape[0],
                    &x_indices[0] if x_indices.shape[0] > 0 else NULL, &x_indptr[0])
    plan.task_layer = NULL
    plan.task_i0 = NULL
    try:
        if plan_init(&plan, &network.net, n, sp != NULL) != 0:
            raise MemoryError("no memory for the gradient's plan")
        ws = <floating*>malloc(2 * n * total * sizeof(floating))
        dbuf = <double*>malloc(scratch_size(&plan) * sizeof(double))
        if ws == NULL or dbuf == NULL:
            raise MemoryError("no memory for the gradient's work buffers")
        # one batch of all rows, in order (no gathered rows: xbuf is not read)
        job_init(&job, &network.net, &plan, &params[0], <floating*>NULL, <floating*>NULL,
                 x, X.shape[1], &Y[0, 0], sw, sp, NULL, n, alpha, &upd, 0, 0, ws,
                 &grad[0], dbuf)
        # one batch of long tiles: Ctrl-C is looked at after each of them
        job.signals = 2
        with nogil:
            status = run_job(&job, &params[0], n_threads)
    finally:
        free(ws)
        free(dbuf)
        plan_free(&plan)
    if status == INTERRUPTED:
        reraise()
    return job.last_loss
