"""Train K copies of one network (one per seed) in one call, in parallel over seeds.

Each seed runs exactly the computation of `_epoch.run_epoch` (the same batch
plan and kernels, on one thread), so its trajectory is bit-identical to fitting
that seed alone; OpenMP spreads the seeds over the threads instead of splitting
each batch. Used by mlpx.landscape for small networks, where one seed's batch
is too small to split.
"""
from cpython.exc cimport PyErr_CheckSignals
from cpython.pycapsule cimport PyCapsule_GetPointer
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.math cimport pow, sqrt
from libc.stdlib cimport free, malloc

from ._kernels cimport (
    ADAM, EPOCH_OK, Net, Plan, Update, net_free, net_init, plan_free, plan_init,
    read_optimizer, scratch_size, train_epoch, workspace_size,
)

ctypedef Py_ssize_t intp

cdef extern from "_shuffle.h":
    ctypedef struct bitgen_t:
        pass
    void next_order "mlpx_next_order" (bitgen_t* bg, intp* order, intp* perm, intp* tmp,
                                      intp n) noexcept nogil


cdef bitgen_t* _bitgen(object random_state) except NULL:
    """The C bit generator under a numpy RandomState (its draws advance it)."""
    return <bitgen_t*>PyCapsule_GetPointer(random_state._bit_generator.capsule,
                                           "BitGenerator")


def _epoch_orders(object random_state, intp n, intp n_epochs):
    """The row orders of n_epochs shuffled epochs of n rows, drawn as
    train_seeds_epochs draws them (for tests)."""
    import numpy as np
    cdef bitgen_t* bg = _bitgen(random_state)
    cdef intp[:, ::1] out = np.empty((n_epochs, n), dtype=np.intp)
    cdef intp[::1] order = np.arange(n, dtype=np.intp)
    cdef intp[::1] perm = np.empty(n, dtype=np.intp)
    cdef intp[::1] tmp = np.empty(n, dtype=np.intp)
    cdef intp e
    if n == 0:
        return np.asarray(out)
    with random_state._bit_generator.lock, nogil:
        for e in range(n_epochs):
            next_order(bg, &order[0], &perm[0], &tmp[0], n)
            out[e, :] = order
    return np.asarray(out)


def train_seeds_epochs(
    floating[:, ::1] params,        # IN/OUT K x P
    const intp[::1] sizes, int hidden_act, int out_act,
    const floating[:, ::1] X, const floating[:, ::1] Y,
    const floating[::1] sample_weight,
    list generators,                # K numpy RandomStates that shuffle each epoch, or None
    intp batch_size, double alpha, object optimizer,
    floating[:, ::1] s1, floating[:, ::1] s2,   # IN/OUT K x P optimizer states
    const double[::1] lr_per_epoch,  # SGD step size of each epoch (schedules)
    const unsigned char[::1] record,  # E flags: snapshot after this epoch?
    floating[:, :, ::1] snapshots,  # OUT K x (number of recorded epochs) x P
    double[:, ::1] losses,          # OUT K x E mean loss of each epoch
    unsigned char[::1] ok,          # OUT K: False if the seed diverged
    int n_threads,
):
    """Train K seeds for E epochs; see the module docstring.

    optimizer supplies kind, learning_rate_init, momentum, nesterov, beta_1,
    beta_2, epsilon and t (the steps already taken, shared by the seeds).
    Seed k's rows are reshuffled before each epoch by generators[k], with the
    draws of its fit (RandomState.shuffle); the caller holds their locks.
    """
    cdef Net net
    cdef Plan plan
    cdef Update upd, u
    cdef intp K = params.shape[0], E = lr_per_epoch.shape[0], n = Y.shape[0]
    cdef intp bs = min(batch_size, n), k, e, r, j, tid, P = params.shape[1], done
    cdef intp n_batches = (n + bs - 1) // bs, ws_size, db_size
    cdef long t0 = optimizer.t, tk
    cdef double loss_k
    cdef int status
    cdef double lr_init = optimizer.learning_rate_init
    cdef floating* ws = NULL
    cdef double* dbuf = NULL
    cdef const floating* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef bint shuffled = generators is not None
    cdef bitgen_t** gens = NULL
    cdef intp* orders = NULL    # K x n: each seed's current row order
    cdef intp* scratch = NULL   # per thread: 2 x n
    cdef int nt = max(1, min(n_threads, K))
    read_optimizer(&upd, optimizer)
    if net_init(&net, &sizes[0], sizes.shape[0], hidden_act, out_act) != 0:
        raise MemoryError()
    net.training = True
    plan.task_layer = NULL
    plan.task_i0 = NULL
    try:
        if plan_init(&plan, &net, bs, False) != 0:
            raise MemoryError()
        ws_size = workspace_size(&net, bs)
        db_size = scratch_size(&plan)
        ws = <floating*>malloc(nt * ws_size * sizeof(floating))
        dbuf = <double*>malloc(nt * db_size * sizeof(double))
        if ws == NULL or dbuf == NULL:
            raise MemoryError()
        if shuffled:
            if len(generators) != K:
                raise ValueError("one generator per seed is needed")
            gens = <bitgen_t**>malloc(K * sizeof(bitgen_t*))
            orders = <intp*>malloc(K * n * sizeof(intp))
            scratch = <intp*>malloc(nt * 2 * n * sizeof(intp))
            if gens == NULL or orders == NULL or scratch == NULL:
                raise MemoryError()
            for k in range(K):
                gens[k] = _bitgen(generators[k])
                for j in range(n):
                    orders[k * n + j] = j
        for k in range(K):
            ok[k] = True
        with nogil:
            r = 0
            for e in range(E):
                upd.lr = lr_per_epoch[e]
                for k in prange(K, schedule='static', num_threads=nt):
                    tid = threadid()
                    if ok[k]:
                        # Assigned here so that Cython makes them thread-private:
                        u = upd  # each seed steps its own copy (Adam's step size)
                        tk = t0 + e * n_batches
                        loss_k = 0
                        done = 0
                        if shuffled:
                            next_order(gens[k], orders + k * n, scratch + 2 * tid * n,
                                       scratch + (2 * tid + 1) * n, n)
                        status = train_epoch(
                            &net, &plan, &params[k, 0], &s1[k, 0], &s2[k, 0],
                            &X[0, 0], X.shape[1], &Y[0, 0], sw, NULL,
                            orders + k * n if shuffled else NULL, n, &u, &tk, lr_init,
                            alpha, ws + tid * ws_size, dbuf + tid * db_size, 1, False,
                            &loss_k, &done)
                        losses[k, e] = loss_k / n
                        ok[k] = status == EPOCH_OK
                if record[e]:
                    for k in range(K):
                        for j in range(P):
                            snapshots[k, r, j] = params[k, j]
                    r += 1
                with gil:
                    PyErr_CheckSignals()
    finally:
        free(ws)
        free(dbuf)
        free(gens)
        free(orders)
        free(scratch)
        plan_free(&plan)
        net_free(&net)
    optimizer.t = t0 + E * n_batches
    if upd.kind == ADAM:
        optimizer.learning_rate = (lr_init * sqrt(1 - pow(upd.beta_2, <double>optimizer.t))
                                   / (1 - pow(upd.beta_1, <double>optimizer.t)))
