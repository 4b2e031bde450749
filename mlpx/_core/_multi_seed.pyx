"""Train K copies of one network (one per seed) in one call, in parallel over seeds.

Each seed runs exactly the computation of `_epoch.run_epoch` (the same batch
plan and kernels, on one thread), so its trajectory is bit-identical to fitting
that seed alone; OpenMP spreads the seeds over the threads instead of splitting
each batch. Used by mlpx.landscape for small networks, where one seed's batch
is too small to split.
"""
from cpython.exc cimport PyErr_CheckSignals
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.math cimport isfinite, pow, sqrt
from libc.stdlib cimport free, malloc

from ._kernels cimport (
    Net, Plan, Update, SGD, ADAM, net_init, net_free, plan_init, plan_free,
    batch_gradient,
)

ctypedef Py_ssize_t intp


cdef double seed_epoch(
    const Net* net, const Plan* plan, floating* params, floating* s1, floating* s2,
    const floating* X, intp ldx, const floating* Y, const floating* sw,
    const intp* order, intp n, intp bs, double alpha, Update upd, long t0,
    double lr_init, floating* ws, double* dbuf, bint* ok,
) noexcept nogil:
    """One epoch of one seed (as run_epoch); return sum of batch_loss * rows."""
    cdef intp start = 0, m, total = net.cum_w[net.n_layers]
    cdef long t = t0
    cdef double loss, loss_sum = 0, sws
    cdef bint finite = True
    cdef floating* grad = ws + 2 * bs * total + bs * net.sizes[0]
    while start < n:
        m = bs if start + bs <= n else n - start
        t += 1
        upd.step = t
        if upd.kind == ADAM:
            upd.lr = (lr_init * sqrt(1 - pow(upd.beta_2, <double>t))
                      / (1 - pow(upd.beta_1, <double>t)))
        loss = batch_gradient(
            net, plan, params, grad, X, ldx, Y, sw,
            order + start if order != NULL else NULL, start, m,
            ws, ws + bs * total, ws + 2 * bs * total,
            dbuf, dbuf + plan.max_chunks, dbuf + 2 * plan.max_chunks,
            dbuf + 2 * plan.max_chunks + plan.n_tasks,
            alpha, &upd, s1, s2, 1, &sws, &finite, NULL)
        if not finite or not isfinite(loss):
            ok[0] = False
            return loss_sum
        loss_sum += loss * m
        start += m
    return loss_sum


def train_seeds_epochs(
    floating[:, ::1] params,        # IN/OUT K x P
    const intp[::1] sizes, int hidden_act, int out_act,
    const floating[:, ::1] X, const floating[:, ::1] Y,
    const floating[::1] sample_weight,
    const intp[:, :, ::1] orders,   # K x E x n row orders, or K x 0 x 0 (no shuffling)
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
    """
    cdef Net net
    cdef Plan plan
    cdef Update upd
    cdef intp K = params.shape[0], E = lr_per_epoch.shape[0], n = Y.shape[0]
    cdef intp bs = min(batch_size, n), k, e, r, j, tid, P = params.shape[1]
    cdef intp n_batches = (n + bs - 1) // bs, ws_size, db_size, total
    cdef long t0 = optimizer.t
    cdef double lr_init = optimizer.learning_rate_init
    cdef floating* ws = NULL
    cdef double* dbuf = NULL
    cdef const floating* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef bint shuffled = orders.shape[1] > 0
    cdef int nt = max(1, min(n_threads, K))
    cdef bint seed_ok
    upd.kind = optimizer.kind
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
        if plan_init(&plan, &net, bs, False) != 0:
            raise MemoryError()
        total = net.cum_w[net.n_layers]
        ws_size = 2 * bs * total + bs * net.sizes[0] + net.n_params
        db_size = 2 * plan.max_chunks + 2 * plan.n_tasks
        ws = <floating*>malloc(nt * ws_size * sizeof(floating))
        dbuf = <double*>malloc(nt * db_size * sizeof(double))
        if ws == NULL or dbuf == NULL:
            raise MemoryError()
        for k in range(K):
            ok[k] = True
        with nogil:
            r = 0
            for e in range(E):
                upd.lr = lr_per_epoch[e]
                for k in prange(K, schedule='static', num_threads=nt):
                    tid = threadid()
                    if ok[k]:
                        seed_ok = True
                        losses[k, e] = seed_epoch(
                            &net, &plan, &params[k, 0], &s1[k, 0], &s2[k, 0],
                            &X[0, 0], X.shape[1], &Y[0, 0], sw,
                            &orders[k, e, 0] if shuffled else NULL, n, bs, alpha,
                            upd, t0 + e * n_batches, lr_init,
                            ws + tid * ws_size, dbuf + tid * db_size, &seed_ok) / n
                        ok[k] = seed_ok
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
        plan_free(&plan)
        net_free(&net)
    optimizer.t = t0 + E * n_batches
    if upd.kind == ADAM:
        optimizer.learning_rate = (lr_init * sqrt(1 - pow(upd.beta_2, <double>optimizer.t))
                                   / (1 - pow(upd.beta_1, <double>optimizer.t)))
