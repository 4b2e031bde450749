"""Hooks into the compiled engine for tests and benchmarks (not used by mlpx itself)."""
from cpython.pycapsule cimport PyCapsule_GetPointer
from cython cimport floating

from contextlib import contextmanager

import numpy as np

from ._engine import set_narrow_tiles, set_tile_grid, wide_tiles_in_use
from ._engine cimport (
    PHASE_BACKWARD, PHASE_FORWARD, PHASE_TAIL, Network, Plan, blas_gemm, block_start,
    epilogue_code, exp_nonpos, gemm, plan_free, plan_init,
    small_gemm, small_gemm_epilogue,
)
from ._types cimport intp

cdef extern from "_shuffle.h":
    ctypedef struct bitgen_t:
        pass
    void next_order "mlpx_next_order" (bitgen_t* bg, intp* order, intp* perm, intp* tmp,
                                      intp n) noexcept nogil


def wide_tiles():
    """Whether the engine runs its AVX-512 tiles on this CPU (see _small_gemm.h)."""
    return wide_tiles_in_use()


@contextmanager
def narrow_tiles():
    """Run the engine's AVX2 tiles inside the block, even on a CPU with AVX-512."""
    was_narrow = set_narrow_tiles(True)
    try:
        yield
    finally:
        set_narrow_tiles(was_narrow)


@contextmanager
def tile_grid(bint on=True):
    """Run large batches on the tile grid inside the block (or not: on=False)."""
    was = set_tile_grid(on)
    try:
        yield
    finally:
        set_tile_grid(was)


def training_plan(Network network, intp batch_size):
    """How the engine cuts a mini-batch of `batch_size` rows (see plan_init).

    Returns
    -------
    dict with
    grid : whether batches run on the tile grid (else chunks, then tasks).
    chunk_rows : rows of each chunk, or at most, of each row block of the grid.
    tasks : list of (layer, i0, i1, j0, j1): the blocks W_layer[i0:i1, j0:j1]
        whose gradient (and optimizer step) one task computes.
    regions : list of (name, flops): the parallel regions of a batch and the
        multiply-add flops of each of their tiles (grid: the forward phases of
        the hidden layers, the output layer's phase with the deltas before it,
        the backward phases, the gradient of each layer; chunk plan: the
        chunks, the gradient of each layer).
    """
    cdef Plan plan
    cdef intp t, rb, cb, n_rb, cap = batch_size, rows, cols, width, k, n_c
    cdef int l, p, kind, L = network.net.n_layers
    cdef const intp* sizes = network.net.sizes
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    plan.task_layer = NULL
    plan.task_i0 = NULL
    plan.phase_end = NULL
    try:
        if plan_init(&plan, &network.net, batch_size, False) != 0:
            raise MemoryError("no memory for the plan")
        tasks = [(plan.task_layer[t], plan.task_i0[t], plan.task_i1[t], plan.task_j0[t],
                  plan.task_j1[t]) for t in range(plan.n_tasks)]
        regions = []
        n_rb = plan.max_chunks
        if plan.grid:
            for p in range(plan.n_phases):
                kind = plan.phase_kind[p]
                l = plan.phase_layer[p]
                tiles = []
                if kind == PHASE_FORWARD or kind == PHASE_BACKWARD:
                    width = sizes[l + 1] if kind == PHASE_FORWARD else sizes[l]
                    k = sizes[l] if kind == PHASE_FORWARD else sizes[l + 1]
                    n_c = plan.n_cb[l] if kind == PHASE_FORWARD else plan.n_cbb[l]
                    for cb in range(n_c):
                        cols = block_start(cb + 1, width, n_c) - block_start(cb, width, n_c)
                        for rb in range(n_rb):
                            rows = block_start(rb + 1, cap, n_rb) - block_start(rb, cap, n_rb)
                            tiles.append(2.0 * rows * cols * k)
                    name = f"{'forward' if kind == PHASE_FORWARD else 'backward'} {l}"
                elif kind == PHASE_TAIL:  # the output layer, and the deltas before it
                    for rb in range(n_rb):
                        rows = block_start(rb + 1, cap, n_rb) - block_start(rb, cap, n_rb)
                        tiles.append(2.0 * rows * sizes[l] * sizes[l + 1] * (2 if l > 0 else 1))
                    name = f"output {l}"
                else:
                    continue
                regions.append((name, tiles))
        else:
            regions.append(("chunks", [
                2.0 * plan.flops_per_row * min(plan.chunk_rows, cap - r0)
                for r0 in range(0, cap, plan.chunk_rows)]))
        for l in range(L):
            regions.append((f"gradient {l}", [2.0 * (i1 - i0) * (j1 - j0) * cap
                                              for k, i0, i1, j0, j1 in tasks if k == l]))
        return {"grid": bool(plan.grid), "chunk_rows": plan.chunk_rows, "tasks": tasks,
                "regions": regions}
    finally:
        plan_free(&plan)


def epoch_orders(object random_state, intp n, intp n_epochs):
    """The row orders of n_epochs shuffled epochs of n rows, drawn as the
    multi-seed trainer draws them."""
    cdef bitgen_t* bg = <bitgen_t*>PyCapsule_GetPointer(
        random_state._bit_generator.capsule, "BitGenerator")
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


def _gemm(str trans_a, str trans_b, double alpha_, const floating[:, ::1] A,
          const floating[:, ::1] B, double beta_, floating[:, ::1] C, str path="auto"):
    """C = alpha op(A) op(B) + beta C through the engine's GEMM (for tests and
    benchmarks). path: 'auto' (the engine's choice), 'small' or 'blas'.
    Return False if 'small' was asked for and the CPU lacks AVX2/FMA."""
    cdef char ta = ord(trans_a), tb = ord(trans_b)
    cdef floating alpha = <floating>alpha_, beta = <floating>beta_
    cdef intp m = C.shape[0], n = C.shape[1]
    cdef intp k = A.shape[0] if ta == c'T' else A.shape[1]
    cdef intp kb = B.shape[1] if tb == c'T' else B.shape[0]
    if ((A.shape[1] if ta == c'T' else A.shape[0]) != m
            or (B.shape[0] if tb == c'T' else B.shape[1]) != n or kb != k):
        raise ValueError("shapes of A, B and C do not match")
    if m == 0 or n == 0 or k == 0 or A.shape[1] == 0 or B.shape[1] == 0:
        raise ValueError("empty matrices are not supported here")
    cdef int which = 1 if path == "small" else 2 if path == "blas" else 0
    cdef int status = 0
    with nogil:
        if which == 1:
            status = small_gemm(ta, tb, m, n, k, alpha, &A[0, 0], A.shape[1], &B[0, 0],
                                B.shape[1], beta, &C[0, 0], n)
        elif which == 2:
            blas_gemm(ta, tb, m, n, k, alpha, &A[0, 0], A.shape[1], &B[0, 0],
                      B.shape[1], beta, &C[0, 0], n)
        else:
            gemm(ta, tb, m, n, k, alpha, &A[0, 0], A.shape[1], &B[0, 0],
                 B.shape[1], beta, &C[0, 0], n)
    return status == 0


def _gemm_epilogue(str trans_b, const floating[:, ::1] A, const floating[:, ::1] B,
                   floating[:, ::1] C, const floating[::1] bias=None,
                   const floating[:, ::1] Z=None, str epilogue="none"):
    """C = A op(B) (+ bias) with the epilogue 'none', 'relu' (max(., 0)) or
    'relu_grad' (0 where Z == 0) applied in the small kernels' store (for
    tests). Return False if the kernels did not run (no AVX2/FMA, too large)."""
    cdef char tb = ord(trans_b)
    cdef intp m = C.shape[0], n = C.shape[1], k = A.shape[1]
    if (A.shape[0] != m or (B.shape[1] if tb == c'T' else B.shape[0]) != k
            or (B.shape[0] if tb == c'T' else B.shape[1]) != n):
        raise ValueError("shapes of A, B and C do not match")
    if m == 0 or n == 0 or k == 0:
        raise ValueError("empty matrices are not supported here")
    if bias is not None and bias.shape[0] != n:
        raise ValueError("bias must have one value per column of C")
    cdef int epi = epilogue_code(epilogue)
    if epilogue == "relu_grad" and (Z is None or Z.shape[0] != m or Z.shape[1] != n):
        raise ValueError("relu_grad needs Z of C's shape")
    cdef const floating* b = &bias[0] if bias is not None else NULL
    cdef const floating* z = &Z[0, 0] if Z is not None else NULL
    cdef int status
    with nogil:
        status = small_gemm_epilogue(tb, m, n, k, &A[0, 0], A.shape[1], &B[0, 0],
                                     B.shape[1], &C[0, 0], n, b, z, n, epi)
    return status == 0


def _exp_nonpos(floating[::1] x):
    """x = exp(x) in place by the softmax's vectorised exp (x <= 0 or NaN; for tests)."""
    if x.shape[0] == 0:
        return
    with nogil:
        exp_nonpos(&x[0], x.shape[0])
