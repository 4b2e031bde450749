"""Predict: the network's outputs for many rows, in parallel over row chunks."""
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.stdlib cimport free, malloc

from ._engine cimport (
    CSR, Network, all_finite, check_signals, csr_of, forward_calls_blas, forward_chunk_rows,
    forward_rows, forward_threads, mlpx_team, team_init, team_stop, team_stopped,
)
from ._types cimport INTERRUPTED, OK, intp


cdef int reraise() except -1:
    """Propagate the exception a signal handler left pending."""
    return -1


cdef bint interrupted(mlpx_team* stop, bint caller) noexcept nogil:
    """Whether Ctrl-C was pressed; the calling thread, which holds a Python
    thread state, looks after each chunk, the others learn it from `stop`."""
    cdef int pending
    if caller:
        with gil:
            pending = check_signals()
        if pending:
            team_stop(stop, INTERRUPTED)
    return team_stopped(stop) != OK


def calls_blas(Network network, intp n, bint sparse=False, bint single=False):
    """Whether forward() on n rows calls BLAS (single: float32 parameters)."""
    return forward_calls_blas(&network.net, n, sparse, single)


def forward(Network network, const floating[::1] params, const floating[:, ::1] X,
            floating[:, ::1] out, int n_threads, const floating[::1] x_data=None,
            const intp[::1] x_indices=None, const intp[::1] x_indptr=None,
            bint check_finite=False):
    """Write the network's outputs for the rows of X into out (n x sizes[-1]).

    For sparse input pass X of shape (0, n_features) and the CSR arrays.
    With check_finite, dense X holding NaN or inf is left alone: nothing is
    computed and the call returns False (True otherwise).
    """
    cdef CSR csr
    cdef const CSR* sp = NULL
    cdef intp n = out.shape[0], rows, n_chunks, c, r0, mc, scratch_rows
    cdef const floating* x = &X[0, 0] if X.shape[0] > 0 else NULL
    cdef int nt, tid
    cdef floating* scratch = NULL
    cdef bint finite = True
    cdef mlpx_team stop
    if n == 0:
        return True
    if check_finite and x != NULL:
        with nogil:
            finite = all_finite(x, n * X.shape[1])
        if not finite:
            return False
    if x_indptr is not None and x_indptr.shape[0] > 0:
        sp = csr_of(&csr, &x_data[0] if x_data.shape[0] > 0 else NULL, x_data.shape[0],
                    &x_indices[0] if x_indices.shape[0] > 0 else NULL, &x_indptr[0])
    rows = forward_chunk_rows(&network.net, n)
    n_chunks = (n + rows - 1) // rows
    nt = forward_threads(&network.net, n, rows, n_threads)
    scratch_rows = rows * (network.net.cum_w[network.net.n_layers - 1] + 1)
    scratch = <floating*>malloc(nt * scratch_rows * sizeof(floating))
    if scratch == NULL:
        raise MemoryError("no memory for the forward pass's work buffer")
    team_init(&stop)
    try:
        with nogil:
            if nt > 1:
                for c in prange(n_chunks, schedule='dynamic', num_threads=nt):
                    tid = threadid()
                    if n_chunks > 1 and interrupted(&stop, tid == 0):
                        continue
                    r0 = c * rows
                    mc = rows if r0 + rows <= n else n - r0
                    forward_rows(&network.net, &params[0],
                                 x + r0 * X.shape[1] if x != NULL else NULL,
                                 X.shape[1], mc, scratch + tid * scratch_rows, rows, 0,
                                 &out[r0, 0], sp, NULL, r0)
            else:
                for c in range(n_chunks):
                    if n_chunks > 1 and interrupted(&stop, True):
                        break
                    r0 = c * rows
                    mc = rows if r0 + rows <= n else n - r0
                    forward_rows(&network.net, &params[0],
                                 x + r0 * X.shape[1] if x != NULL else NULL,
                                 X.shape[1], mc, scratch, rows, 0, &out[r0, 0], sp, NULL, r0)
    finally:
        free(scratch)
    if team_stopped(&stop) == INTERRUPTED:
        reraise()
    return True
