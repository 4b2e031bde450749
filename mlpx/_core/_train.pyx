"""Train: epochs of mini-batch SGD, Adam or SGLD, for one network or K seeds at once."""
from cpython.pycapsule cimport PyCapsule_GetPointer
from cython cimport floating
from libc.math cimport sqrt
from libc.stdlib cimport free, malloc

from ._engine cimport (
    CSR, Job, Network, Plan, Update, adam_step_size, csr_of, job_init, plan_free,
    plan_init, run_job, run_seeds, scratch_size, workspace_size,
)
from ._types cimport ADAM, INTERRUPTED, OK, SGLD, intp


cdef int reraise() except -1:
    """Propagate the exception a signal handler left pending."""
    return -1


def adam_step(double learning_rate_init, double beta_1, double beta_2,
              unsigned long long steps):
    """Adam's bias-corrected step size after `steps` steps, as the engine takes it."""
    return adam_step_size(learning_rate_init, beta_1, beta_2, steps)


cdef void* bit_generator(object random_state) except NULL:
    """The C bit generator under a numpy RandomState (its draws advance it)."""
    return PyCapsule_GetPointer(random_state._bit_generator.capsule, "BitGenerator")


cdef class Trainer:
    """How a network trains: its mini-batches, L2 strength and step rule.

    Parameters
    ----------
    network : Network
    batch_size : rows of a mini-batch (the last one of an epoch may be smaller).
    alpha : L2 strength (scikit-learn's: divided by the batch's weight).
    rule : StepRule (SGD, ADAM or SGLD) and its hyper-parameters;
        temperature and noise_seed are SGLD's.
    """
    cdef Network network
    cdef Update rule
    cdef readonly intp batch_size
    cdef readonly double alpha, learning_rate_init, temperature

    def __init__(self, Network network, intp batch_size, double alpha, int rule,
                 double learning_rate_init, double momentum=0.0, bint nesterov=False,
                 double beta_1=0.0, double beta_2=0.0, double epsilon=0.0,
                 double temperature=0.0, unsigned long long noise_seed=0):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.network = network
        self.batch_size = batch_size
        self.alpha = alpha
        self.learning_rate_init = learning_rate_init
        self.temperature = temperature
        self.rule.kind = rule
        self.rule.lr = learning_rate_init
        self.rule.momentum = momentum
        self.rule.nesterov = nesterov
        self.rule.beta_1 = beta_1
        self.rule.beta_2 = beta_2
        self.rule.epsilon = epsilon
        self.rule.noise_std = 0.0
        self.rule.seed = noise_seed
        self.rule.step = 0

    cdef Update rule_at(self, double learning_rate):
        """The step rule with the learning rate of an epoch (SGD's schedules)."""
        cdef Update u = self.rule
        u.lr = learning_rate
        if u.kind == SGLD:
            u.noise_std = sqrt(2.0 * learning_rate * self.temperature)
        return u

    def epoch(self, floating[::1] params, floating[::1] s1, floating[::1] s2,
              unsigned long long steps, double learning_rate,
              const floating[:, ::1] X, const floating[:, ::1] Y,
              const floating[::1] sample_weight, const intp[::1] order, int n_threads,
              const floating[::1] x_data=None, const intp[::1] x_indices=None,
              const intp[::1] x_indptr=None):
        """One epoch over (X, Y), updating params and the state s1, s2 in place.

        Parameters
        ----------
        s1, s2 : the optimizer's state (velocities; Adam's moments); s2 is
            read only by Adam.
        steps : optimizer steps taken so far.
        learning_rate : the epoch's SGD step size (Adam computes its own).
        sample_weight : length 0 for unweighted data.
        order : the epoch's order of the rows; length 0 means rows in order
            (no shuffling, and no copy: batches are slices of X).
        x_data, x_indices, x_indptr : CSR arrays of a sparse X (then X has 0 rows).

        Returns
        -------
        loss_sum : sum over batches of batch loss * batch rows (scikit-learn's way).
        n_batches : batches completed.
        status : OK, or DIVERGED if a loss or a parameter became non-finite
            (then params hold the diverged values and must be discarded).
        steps : optimizer steps taken after the epoch (the diverged one included).
        A signal (Ctrl-C) raises its exception between mini-batches.
        """
        cdef Plan plan
        cdef Update upd = self.rule_at(learning_rate)
        cdef CSR csr
        cdef Job job
        cdef const CSR* sp = NULL
        cdef const floating* x = &X[0, 0] if X.shape[0] > 0 else NULL
        cdef intp n = Y.shape[0]
        cdef intp bs = min(self.batch_size, n)
        cdef floating* ws = NULL
        cdef double* dbuf = NULL
        cdef int status = OK
        cdef const floating* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
        cdef const intp* idx = &order[0] if order.shape[0] > 0 else NULL
        if order.shape[0] not in (0, n):
            raise ValueError(f"order has {order.shape[0]} entries for {n} rows")
        if params.shape[0] != self.network.n_params or s1.shape[0] != params.shape[0] \
                or s2.shape[0] != params.shape[0]:
            raise ValueError("params, s1 and s2 must have one value per parameter")
        if x_indptr is not None and x_indptr.shape[0] > 0:
            sp = csr_of(&csr, &x_data[0] if x_data.shape[0] > 0 else NULL,
                        x_data.shape[0], &x_indices[0] if x_indices.shape[0] > 0 else NULL,
                        &x_indptr[0])
        plan.task_layer = NULL
        plan.task_i0 = NULL
        try:
            if plan_init(&plan, &self.network.net, bs, sp != NULL) != 0:
                raise MemoryError("no memory for the epoch's plan")
            ws = <floating*>malloc(workspace_size(&self.network.net, bs) * sizeof(floating))
            dbuf = <double*>malloc(scratch_size(&plan) * sizeof(double))
            if ws == NULL or dbuf == NULL:
                raise MemoryError("no memory for the epoch's work buffers")
            job_init(&job, &self.network.net, &plan, &params[0], &s1[0], &s2[0], x,
                     X.shape[1], &Y[0, 0], sw, sp, idx, n, self.alpha, &upd,
                     self.learning_rate_init, steps, ws, <floating*>NULL, dbuf)
            job.signals = 1
            with nogil:
                status = run_job(&job, &params[0], n_threads)
        finally:
            free(ws)
            free(dbuf)
            plan_free(&plan)
        if status == INTERRUPTED:
            reraise()
        steps += job.n_batches if status == OK else job.batches_done + 1
        return job.loss_sum, job.batches_done, status, steps

    def seeds(self, floating[:, ::1] params, floating[:, ::1] s1, floating[:, ::1] s2,
              unsigned long long steps, const floating[:, ::1] X,
              const floating[:, ::1] Y, const floating[::1] sample_weight,
              list generators, const double[::1] lr_per_epoch,
              const unsigned char[::1] record, floating[:, :, ::1] snapshots,
              double[:, ::1] losses, unsigned char[::1] ok, int n_threads):
        """Train K seeds (rows of params, s1, s2) for E epochs each.

        Each seed computes exactly what epoch() computes for it alone, on one
        thread; the seeds are spread over n_threads threads.

        Parameters
        ----------
        steps : optimizer steps taken before (the same for every seed).
        generators : K numpy RandomStates that reshuffle each seed's rows
            before each epoch, with the draws of its fit, or None (no
            shuffling). The caller holds their locks.
        lr_per_epoch : E SGD step sizes (the schedule).
        record : E flags: snapshot the parameters after this epoch?
        snapshots : OUT K x (recorded epochs) x P.
        losses : OUT K x E mean loss of each epoch.
        ok : OUT K: False if the seed diverged (it then stops training).
        """
        cdef Plan plan
        cdef Update upd = self.rule_at(self.learning_rate_init)
        cdef Job base
        cdef intp K = params.shape[0], E = lr_per_epoch.shape[0], n = Y.shape[0]
        cdef intp bs = min(self.batch_size, n), k, j, P = params.shape[1]
        cdef intp ws_size, db_size, n_records = snapshots.shape[1]
        cdef int nt = max(1, min(n_threads, K)), status
        cdef floating* ws = NULL
        cdef double* dbuf = NULL
        cdef const floating* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
        cdef void** gens = NULL
        cdef intp* orders = NULL    # K x n: each seed's current row order
        cdef intp* scratch = NULL   # per thread: 2 x n
        if K == 0 or E == 0:
            return
        if P != self.network.n_params or record.shape[0] != E or losses.shape[0] != K \
                or losses.shape[1] != E or ok.shape[0] != K or snapshots.shape[0] != K:
            raise ValueError("the arrays' shapes do not match K seeds and E epochs")
        plan.task_layer = NULL
        plan.task_i0 = NULL
        try:
            if plan_init(&plan, &self.network.net, bs, False) != 0:
                raise MemoryError("no memory for the seeds' plan")
            ws_size = workspace_size(&self.network.net, bs)
            db_size = scratch_size(&plan)
            ws = <floating*>malloc(nt * ws_size * sizeof(floating))
            dbuf = <double*>malloc(nt * db_size * sizeof(double))
            if ws == NULL or dbuf == NULL:
                raise MemoryError("no memory for the seeds' work buffers")
            if generators is not None:
                if len(generators) != K:
                    raise ValueError("one generator per seed is needed")
                gens = <void**>malloc(K * sizeof(void*))
                orders = <intp*>malloc(K * n * sizeof(intp))
                scratch = <intp*>malloc(nt * 2 * n * sizeof(intp))
                if gens == NULL or orders == NULL or scratch == NULL:
                    raise MemoryError("no memory for the seeds' row orders")
                for k in range(K):
                    gens[k] = bit_generator(generators[k])
                    for j in range(n):
                        orders[k * n + j] = j
            for k in range(K):
                ok[k] = True
            job_init(&base, &self.network.net, &plan, &params[0, 0], &s1[0, 0], &s2[0, 0],
                     &X[0, 0], X.shape[1], &Y[0, 0], sw, NULL, NULL, n, self.alpha, &upd,
                     self.learning_rate_init, steps, ws, <floating*>NULL, dbuf)
            with nogil:
                status = run_seeds(&base, &params[0, 0], &s1[0, 0], &s2[0, 0], P, ws,
                                   ws_size, dbuf, db_size, K, E, gens, orders, scratch,
                                   &lr_per_epoch[0], &record[0],
                                   &snapshots[0, 0, 0] if n_records > 0 else NULL,
                                   n_records, &losses[0, 0], &ok[0], nt)
        finally:
            free(ws)
            free(dbuf)
            free(gens)
            free(orders)
            free(scratch)
            plan_free(&plan)
        if status == INTERRUPTED:
            reraise()
