"""Hooks into the compiled engine for tests and benchmarks (not used by mlpx itself)."""
from cpython.pycapsule cimport PyCapsule_GetPointer
from cython cimport floating

import numpy as np

from ._engine cimport (
    Network, Plan, blas_gemm, epilogue_code, exp_nonpos, gemm, plan_free, plan_init,
    small_gemm, small_gemm_epilogue,
)
from ._types cimport intp

cdef extern from "_shuffle.h":
    ctypedef struct bitgen_t:
        pass
    void next_order "mlpx_next_order" (bitgen_t* bg, intp* order, intp* perm, intp* tmp,
                                      intp n) noexcept nogil


def training_plan(Network network, intp batch_size):
    """How the engine cuts a mini-batch of `batch_size` rows (see plan_init).

    Returns
    -------
    chunk_rows : rows of each chunk (forward pass and deltas).
    tasks : list of (layer, i0, i1): the blocks of rows i0:i1 of W_layer whose
        gradient (and optimizer step) one task computes.
    """
    cdef Plan plan
    cdef intp t
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    plan.task_layer = NULL
    plan.task_i0 = NULL
    try:
        if plan_init(&plan, &network.net, batch_size, False) != 0:
            raise MemoryError("no memory for the plan")
        tasks = [(plan.task_layer[t], plan.task_i0[t], plan.task_i1[t])
                 for t in range(plan.n_tasks)]
        return plan.chunk_rows, tasks
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
