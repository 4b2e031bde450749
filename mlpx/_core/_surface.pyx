"""Surface: the loss at many points of a low-dimensional slice of parameter space.

Point i is theta_i = origin + sum_j coords[i, j] * directions[j]; each thread
takes whole points (its own parameter vector and activations), so the loss of
a point never depends on the number of threads. Used for loss surfaces on a
plane (mlpx.landscape's loss_surface).
"""
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.stdlib cimport free, malloc

from ._engine cimport Net, Network, forward_rows, output_loss_and_delta
from ._types cimport intp


cdef extern from "Python.h":
    int check_signals "PyErr_CheckSignals" () noexcept  # needs the GIL


cdef extern from *:
    """
    /* Rows of a chunk: about this many activations (all layers), so that one
       chunk's activations stay in a core's cache while its rows go through
       the network, within [MIN, MAX] rows. */
    #define MLPX_SURFACE_CHUNK_ACTS 16384
    #define MLPX_SURFACE_MIN_ROWS 32
    #define MLPX_SURFACE_MAX_ROWS 1024
    /* A flag the calling thread raises on Ctrl-C and every thread reads. */
    #if defined(_MSC_VER) && !defined(__clang__)
    #include <intrin.h>
    #define mlpx_surface_get(p) ((int)_InterlockedOr((volatile long*)(p), 0))
    #define mlpx_surface_set(p) ((void)_InterlockedExchange((volatile long*)(p), 1))
    #else
    #define mlpx_surface_get(p) __atomic_load_n((p), __ATOMIC_RELAXED)
    #define mlpx_surface_set(p) __atomic_store_n((p), 1, __ATOMIC_RELAXED)
    #endif
    """
    intp CHUNK_ACTS "MLPX_SURFACE_CHUNK_ACTS"
    intp MIN_ROWS "MLPX_SURFACE_MIN_ROWS"
    intp MAX_ROWS "MLPX_SURFACE_MAX_ROWS"
    int flag_get "mlpx_surface_get" (int* p) noexcept nogil
    void flag_set "mlpx_surface_set" (int* p) noexcept nogil


cdef int reraise() except -1:
    """Propagate the exception a signal handler left pending."""
    return -1


cdef bint interrupted(int* stop, bint caller) noexcept nogil:
    """Whether Ctrl-C was pressed: the calling thread, which holds a Python
    thread state, asks the interpreter; the others read `stop`."""
    cdef int pending
    if caller:
        with gil:
            pending = check_signals()
        if pending:
            flag_set(stop)
    return flag_get(stop) != 0


def chunk_rows(Network network, intp n):
    """Rows per chunk of an n-row data set (fixed by the network and n alone)."""
    cdef intp acts = network.net.cum_w[network.net.n_layers]
    cdef intp rows = CHUNK_ACTS // acts
    rows = min(max(rows, MIN_ROWS), MAX_ROWS)
    return max(1, min(rows, n))


cdef double point_loss(
    const Net* net,
    const floating* theta,    # IN  the point's parameters
    const floating* X, intp ldx, const floating* Y, intp n, intp rows,
    floating* acts,           # workspace: rows x cum_w[L]
    floating* deltas,         # workspace: rows x sizes[L]
    double alpha,
    int* stop, bint caller,
) noexcept nogil:
    """Mean data loss over the n rows plus alpha / (2 n) ||W||^2, chunk by chunk
    (partial sums added in chunk order); 0 if interrupted (then discarded)."""
    cdef int L = net.n_layers
    cdef intp k = net.sizes[L], r0, m, j
    cdef double total = 0, sws, wsum = 0, sq = 0
    r0 = 0
    while r0 < n:
        if interrupted(stop, caller):
            return 0.0
        m = rows if r0 + rows <= n else n - r0
        forward_rows(net, theta, X + r0 * ldx, ldx, m, acts, rows, 0, NULL, NULL, NULL, 0)
        total += output_loss_and_delta(acts + rows * net.cum_w[L - 1], deltas, m, k,
                                       Y, NULL, r0, NULL, net.out_act, net.loss, False,
                                       &sws)
        wsum += sws
        r0 += m
    for j in range(net.n_coef):
        sq += <double>theta[j] * theta[j]
    return total / wsum + 0.5 * alpha * sq / wsum


cdef void make_point(floating* theta, const floating* origin, const double* dirs,
                     const double* c, intp D, intp P) noexcept nogil:
    """theta = origin + sum_j c[j] dirs[j], summed in double from the origin."""
    cdef intp p, j
    cdef double t
    for p in range(P):
        t = origin[p]
        for j in range(D):
            t = t + c[j] * dirs[j * P + p]
        theta[p] = <floating>t


def losses_at(Network network, const floating[::1] origin, const double[:, ::1] directions,
              const double[:, ::1] coords, const floating[:, ::1] X,
              const floating[:, ::1] Y, double alpha, double[::1] out, int n_threads):
    """Write into out[i] the loss at origin + coords[i] @ directions.

    The loss is _gradient.loss_gradient's (unweighted): the mean data loss
    plus alpha / (2 n) * sum of squared weights. The caller checks shapes and
    finiteness (at least one direction and one row), and caps BLAS at one
    thread when n_threads > 1.
    """
    cdef const Net* net = &network.net
    cdef intp P = network.net.n_params, D = directions.shape[0], n_pts = coords.shape[0]
    cdef intp n = X.shape[0], ldx = X.shape[1], k = network.net.sizes[network.net.n_layers]
    cdef intp rows, per_thread, i
    cdef int nt, tid
    cdef int stop = 0
    cdef floating* buf = NULL
    cdef floating* mine
    cdef const double* dirs = &directions[0, 0]
    if n_pts == 0:
        return
    rows = chunk_rows(network, n)
    nt = <int>max(1, min(n_threads, n_pts))
    per_thread = P + rows * network.net.cum_w[network.net.n_layers] + rows * k
    buf = <floating*>malloc(nt * per_thread * sizeof(floating))
    if buf == NULL:
        raise MemoryError("no memory for the surface's work buffers")
    try:
        with nogil:
            if nt > 1:
                for i in prange(n_pts, schedule='dynamic', chunksize=1, num_threads=nt):
                    tid = threadid()
                    if flag_get(&stop):
                        continue
                    mine = buf + tid * per_thread
                    make_point(mine, &origin[0], dirs, &coords[i, 0], D, P)
                    out[i] = point_loss(net, mine, &X[0, 0], ldx, &Y[0, 0], n, rows,
                                        mine + P, mine + P + rows * net.cum_w[net.n_layers],
                                        alpha, &stop, tid == 0)
            else:
                for i in range(n_pts):
                    make_point(buf, &origin[0], dirs, &coords[i, 0], D, P)
                    out[i] = point_loss(net, buf, &X[0, 0], ldx, &Y[0, 0], n, rows,
                                        buf + P, buf + P + rows * net.cum_w[net.n_layers],
                                        alpha, &stop, True)
                    if flag_get(&stop):
                        break
    finally:
        free(buf)
    if stop:
        reraise()
