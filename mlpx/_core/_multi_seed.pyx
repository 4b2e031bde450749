"""Train K copies of one network (one per seed) in one call, in parallel over seeds.

Each seed runs exactly the computation of `_epoch.run_epoch` (the same batch
plan and kernels, on one thread), so its trajectory is bit-identical to fitting
that seed alone; OpenMP spreads the seeds over the threads instead of splitting
each batch. Used by mlpx.landscape for small networks, where one seed's batch
is too small to split.
"""
from cpython.pycapsule cimport PyCapsule_GetPointer
from cython cimport floating
from cython.parallel cimport parallel, threadid
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from ._kernels cimport (
    ADAM, EPOCH_INTERRUPTED, EPOCH_OK, Job, Net, Plan, Update, adam_step_size,
    check_signals, job_init, mlpx_team, net_free, net_init, plan_free, plan_init,
    read_optimizer, run_job, scratch_size, team_claim, team_finish, team_init, team_peek,
    team_stop, team_stopped, team_wait, workspace_size, SPIN_START,
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


cdef int reraise() except -1:
    """Propagate the exception a signal handler left pending."""
    return -1


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


cdef inline void train_seed(const Job* base, floating* params, floating* s1, floating* s2,
                            floating* ws, double* dbuf, intp k, int tid, intp n_epochs,
                            intp n_batches, bitgen_t** gens, intp* orders, intp* tmp,
                            const double* lr_per_epoch, const unsigned char* record,
                            floating* snapshots, intp n_records, double* losses,
                            unsigned char* ok, mlpx_team* stop) noexcept nogil:
    """Every epoch of seed k on the calling thread (arrays are seed k's own)."""
    cdef Job job = base[0]
    cdef intp n = base.n, P = base.net.n_params, e, r = 0, j
    cdef intp* order = orders + k * n if gens != NULL else NULL
    cdef int status
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
        if team_stopped(stop) != EPOCH_OK:
            return
        if ok[k]:
            job.upd.lr = lr_per_epoch[e]
            job.t0 = base.t0 + e * n_batches
            if gens != NULL:
                next_order(gens[k], order, tmp, tmp + n, n)
            status = run_job(&job, params, 1)
            losses[k * n_epochs + e] = job.loss_sum / n
            ok[k] = status == EPOCH_OK
        if record[e]:
            x = snapshots + (k * n_records + r) * P
            for j in range(P):
                x[j] = params[j]
            r += 1
        if tid == 0:
            with gil:
                if check_signals() != 0:
                    team_stop(stop, EPOCH_INTERRUPTED)


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
    Each thread takes the next untrained seed and trains it for every epoch,
    so threads never wait for each other between epochs.
    """
    cdef Net net
    cdef Plan plan
    cdef Update upd
    cdef Job base
    cdef mlpx_team team
    cdef intp K = params.shape[0], E = lr_per_epoch.shape[0], n = Y.shape[0]
    cdef int64_t k
    cdef intp bs = min(batch_size, n), j, P = params.shape[1]
    cdef intp n_batches = (n + bs - 1) // bs, ws_size, db_size
    cdef intp n_records = snapshots.shape[1]
    cdef unsigned long long t0 = optimizer.t, t_end
    cdef double lr_init = optimizer.learning_rate_init
    cdef floating* ws = NULL
    cdef double* dbuf = NULL
    cdef const floating* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef bint shuffled = generators is not None
    cdef bitgen_t** gens = NULL
    cdef intp* orders = NULL    # K x n: each seed's current row order
    cdef intp* scratch = NULL   # per thread: 2 x n
    cdef int nt = max(1, min(n_threads, K)), tid
    cdef double spin
    if K == 0 or E == 0:
        return
    read_optimizer(&upd, optimizer)
    if net_init(&net, &sizes[0], sizes.shape[0], hidden_act, out_act) != 0:
        raise MemoryError()
    net.training = True
    plan.task_layer = NULL
    plan.task_i0 = NULL
    team_init(&team)
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
        job_init(&base, &net, &plan, &params[0, 0], &s1[0, 0], &s2[0, 0], &X[0, 0],
                 X.shape[1], &Y[0, 0], sw, NULL, NULL, n, alpha, &upd,
                 lr_init, t0, ws, <floating*>NULL, dbuf)
        with nogil, parallel(num_threads=nt):
            tid = threadid()
            # each thread takes the next seed and trains it for every epoch
            while True:
                k = team_peek(&team)
                if k >= K or team_stopped(&team) != EPOCH_OK:
                    break
                if not team_claim(&team, k):
                    continue
                train_seed(&base, &params[k, 0], &s1[k, 0], &s2[k, 0], ws + tid * ws_size,
                           dbuf + tid * db_size, k, tid, E, n_batches, gens, orders,
                           scratch + 2 * tid * n if shuffled else NULL, &lr_per_epoch[0],
                           &record[0], &snapshots[0, 0, 0] if n_records > 0 else NULL,
                           n_records, &losses[0, 0], &ok[0], &team)
                team_finish(&team, K)
            # leave together (see team_work in _kernels.pxd)
            spin = SPIN_START
            team_wait(&team, K, &spin)
    finally:
        free(ws)
        free(dbuf)
        free(gens)
        free(orders)
        free(scratch)
        plan_free(&plan)
        net_free(&net)
    if team_stopped(&team) == EPOCH_INTERRUPTED:
        reraise()
    t_end = t0 + E * n_batches
    optimizer.t = t_end
    if upd.kind == ADAM:
        optimizer.learning_rate = adam_step_size(lr_init, upd.beta_1, upd.beta_2, t_end)
