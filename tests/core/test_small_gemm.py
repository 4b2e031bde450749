"""The engine's own kernels for small matrix products, against NumPy and BLAS."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlpx._core._testing import _gemm, narrow_tiles, wide_tiles

TOL = {np.float64: 1e-13, np.float32: 2e-6}
HAVE_AVX2 = _gemm("N", "N", 1.0, np.ones((1, 1)), np.ones((1, 1)), 0.0, np.ones((1, 1)), "small")


@pytest.fixture(autouse=True, params=["wide", "narrow"])
def tile_width(request):
    """Every test here runs on the AVX-512 tiles (where the CPU has them) and on
    the AVX2 ones."""
    if request.param == "wide":
        if not wide_tiles():
            pytest.skip("this CPU has no AVX-512: the narrow run covers its tiles")
        yield request.param
    else:
        with narrow_tiles():
            yield request.param


def _run_small(*args):
    if not HAVE_AVX2:  # the engine uses BLAS for every product on this CPU
        pytest.skip("the small-product kernels need a CPU with AVX2 and FMA")
    assert _gemm(*args, "small")


def _tiles_take(dtype, ta, tb, m, n, k):
    """The engine's rule for which products its tiles compute (mlpx_tiles_take)."""
    single = dtype == np.float32
    plain = ta == "N" and tb == "N"
    return m * n * k <= 300_000 or (single and m <= 256 and plain) or (m <= 16 and plain)


def _operands(rng, dtype, ta, tb, m, n, k):
    A = rng.standard_normal((k, m) if ta == "T" else (m, k)).astype(dtype)
    B = rng.standard_normal((n, k) if tb == "T" else (k, n)).astype(dtype)
    C = rng.standard_normal((m, n)).astype(dtype)
    return A, B, C


def _reference(ta, tb, alpha, A, B, beta, C):
    a = A.T if ta == "T" else A
    b = B.T if tb == "T" else B
    return alpha * (a.astype(np.float64) @ b.astype(np.float64)) + beta * C


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ta,tb", list(itertools.product("NT", "NT")))
@pytest.mark.parametrize(
    "m,n,k",
    # tile edges: 4-row tiles (8-row for a last one-vector column block),
    # 4/8-wide double and 8/16-wide float vectors
    [(1, 1, 1), (4, 8, 3), (5, 9, 2), (3, 17, 7), (200, 10, 64), (64, 10, 200),
     (10, 10, 200), (200, 1, 50), (50, 1, 200), (200, 50, 1), (33, 16, 5), (13, 52, 10)],
)
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (-0.5, 2.0)])
def test_small_kernels_match_numpy(dtype, ta, tb, m, n, k, alpha, beta):
    rng = np.random.default_rng(m * 1000 + n * 10 + k)
    A, B, C0 = _operands(rng, dtype, ta, tb, m, n, k)
    C = C0.copy()
    _run_small(ta, tb, alpha, A, B, beta, C)
    ref = _reference(ta, tb, alpha, A, B, beta, C0)
    scale = np.abs(ref).max() + 1
    np.testing.assert_allclose(C, ref, rtol=0, atol=TOL[dtype] * scale * k)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_beta_zero_ignores_what_c_held(dtype):
    rng = np.random.default_rng(0)
    A, B, _ = _operands(rng, dtype, "N", "N", 7, 5, 3)
    C = np.full((7, 5), np.nan, dtype)
    _run_small("N", "N", 1.0, A, B, 0.0, C)
    assert np.isfinite(C).all()
    np.testing.assert_allclose(C, A.astype(np.float64) @ B, rtol=TOL[dtype] * 10)


@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(1, 40), n=st.integers(1, 40), k=st.integers(1, 40),
    ta=st.sampled_from("NT"), tb=st.sampled_from("NT"),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_small_kernels_agree_with_blas(m, n, k, ta, tb, dtype):
    rng = np.random.default_rng(m + 41 * n + 1681 * k)
    A, B, C0 = _operands(rng, dtype, ta, tb, m, n, k)
    small, blas = C0.copy(), C0.copy()
    _run_small(ta, tb, 1.5, A, B, 0.5, small)
    _gemm(ta, tb, 1.5, A, B, 0.5, blas, "blas")
    scale = np.abs(blas).max() + 1
    np.testing.assert_allclose(small, blas, rtol=0, atol=TOL[dtype] * scale * k)


def test_shape_mismatch_is_an_error():
    A = np.ones((3, 4))
    with pytest.raises(ValueError, match="do not match"):
        _gemm("N", "N", 1.0, A, np.ones((5, 2)), 0.0, np.zeros((3, 2)))


EPILOGUES = [("none", True), ("relu", True), ("relu", False), ("relu_grad", False)]


def _plain_then_epilogue(tb, A, B, bias, Z, epilogue):
    """The separate passes the fused store replaces: product, + bias, then ReLU or ReLU'."""
    C = np.empty((A.shape[0], B.shape[0] if tb == "T" else B.shape[1]), A.dtype)
    _run_small("N", tb, 1.0, A, B, 0.0, C)
    if bias is not None:
        C = C + bias
    if epilogue == "relu":
        C = np.where(C > 0, C, 0).astype(A.dtype)
    elif epilogue == "relu_grad":
        C = np.where(Z != 0, C, 0).astype(A.dtype)
    return C


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("tb", ["N", "T"])
@pytest.mark.parametrize(
    "m,n,k",
    # full and partial column blocks, 4-row tiles with 1-3 rows left, one column,
    # a last one-vector block in 8-row tiles then 4 + 1 rows
    [(200, 10, 64), (7, 10, 10), (5, 24, 3), (6, 13, 9), (9, 1, 20), (1, 50, 10),
     (200, 50, 10), (33, 17, 1), (7, 10, 150), (13, 52, 10)],
)
@pytest.mark.parametrize("epilogue,with_bias", EPILOGUES)
def test_fused_epilogue_equals_separate_passes(dtype, tb, m, n, k, epilogue, with_bias):
    from mlpx._core._testing import _gemm_epilogue

    rng = np.random.default_rng(m * 100 + n + k)
    A, B, _ = _operands(rng, dtype, "N", tb, m, n, k)
    bias = rng.standard_normal(n).astype(dtype) if with_bias else None
    # the ReLU output of the layer: zeros where the unit was off
    Z = np.maximum(rng.standard_normal((m, n)), 0).astype(dtype)
    C = np.full((m, n), np.nan, dtype)
    if not HAVE_AVX2:
        pytest.skip("the small-product kernels need a CPU with AVX2 and FMA")
    assert _gemm_epilogue(tb, A, B, C, bias, Z, epilogue)
    expected = _plain_then_epilogue(tb, A, B, bias, Z, epilogue)
    # the same operations on the same values: equal to the bit
    np.testing.assert_array_equal(C, expected)
    if epilogue == "relu":
        assert (C >= 0).all() and (C == 0).any()


@pytest.mark.parametrize("m,n,k", [(50, 100, 784), (6, 300, 500), (200, 13, 200)])
@pytest.mark.parametrize("epilogue,with_bias", EPILOGUES)
def test_fused_epilogue_of_a_large_product_applies_once_after_the_last_k_block(
        m, n, k, epilogue, with_bias):
    # large products are the tiles' in float32 only
    test_fused_epilogue_equals_separate_passes(np.float32, "N", m, n, k, epilogue,
                                               with_bias)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_relu_maps_nan_to_zero_as_the_separate_pass(dtype):
    from mlpx._core._testing import _gemm_epilogue

    A = np.ones((6, 3), dtype)
    A[2, 1] = np.nan
    B = np.ones((3, 10), dtype)
    C = np.empty((6, 10), dtype)
    if not HAVE_AVX2:
        pytest.skip("the small-product kernels need a CPU with AVX2 and FMA")
    assert _gemm_epilogue("N", A, B, C, np.zeros(10, dtype), None, "relu")
    assert (C[2] == 0).all() and (np.delete(C, 2, axis=0) == 3).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_epilogue_declines_products_the_tiles_do_not_take(dtype):
    from mlpx._core._testing import _gemm_epilogue

    # more rows than a large tile product has, a large product with B
    # transposed, large products of more than 16 rows (the tiles take the
    # last two in float32 only)
    cases = [("N", np.ones((300, 784), dtype), np.ones((784, 100), dtype)),
             ("T", np.ones((200, 784), dtype), np.ones((100, 784), dtype)),
             ("N", np.ones((200, 784), dtype), np.ones((784, 100), dtype)),
             ("N", np.ones((17, 784), dtype), np.ones((784, 100), dtype)),
             ("N", np.ones((200, 784), dtype), np.ones((784, 10), dtype))]
    for tb, A, B in cases:
        n = B.shape[0] if tb == "T" else B.shape[1]
        C = np.full((A.shape[0], n), -1, dtype)
        took = _gemm_epilogue(tb, A, B, C, np.zeros(n, dtype), None, "relu")
        assert took == _tiles_take(dtype, "N", tb, A.shape[0], n, A.shape[1])
        if took:
            assert (C == 784).all()
        else:
            assert (C == -1).all()  # nothing written: the caller runs BLAS and its passes


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ta", ["N", "T"])
@pytest.mark.parametrize(
    "m,n,k",
    # above the small size, k in 96-blocks: a chunk's layer, a gradient task,
    # k one past a block, partial column blocks, 1-3 rows left over
    [(50, 100, 784), (131, 100, 200), (256, 30, 300), (37, 13, 97), (9, 300, 500)],
)
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (-0.5, 2.0)])
def test_large_tile_products_match_numpy_and_are_the_float32_choice(
        dtype, ta, m, n, k, alpha, beta):
    rng = np.random.default_rng(m * 1000 + n * 10 + k)
    A, B, C0 = _operands(rng, dtype, ta, "N", m, n, k)
    C = C0.copy()
    _run_small(ta, "N", alpha, A, B, beta, C)
    ref = _reference(ta, "N", alpha, A, B, beta, C0)
    scale = np.abs(ref).max() + 1
    np.testing.assert_allclose(C, ref, rtol=0, atol=TOL[dtype] * scale * k)
    # the engine's tiles take: products of at most 3e5 multiply-adds; in
    # float32, A @ B of at most 256 rows (A^T @ B, a gradient task, is
    # OpenBLAS's); in both types A @ B of at most 16 rows (a predict on a few rows)
    if _tiles_take(dtype, ta, "N", m, n, k):
        auto = C0.copy()
        _gemm(ta, "N", alpha, A, B, beta, auto)
        np.testing.assert_array_equal(auto, C)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ta", ["N", "T"])
@pytest.mark.parametrize("n,k", [(100, 784), (30, 200), (10, 64), (13, 97)])
@pytest.mark.parametrize("rows", [slice(37, 38), slice(37, 40), slice(37, 77), slice(0, 256)])
def test_a_rows_result_does_not_depend_on_the_other_rows(dtype, ta, n, k, rows):
    # one chain of multiply-adds per element, fixed by k alone: a row comes out
    # the same from a 1-row predict, a chunk of a batch or a gradient task,
    # whether the product is small or large, direct or transposed
    rng = np.random.default_rng(n + k)
    A, B, _ = _operands(rng, dtype, ta, "N", 256, n, k)
    whole = np.empty((256, n), dtype)
    _run_small(ta, "N", 1.0, A, B, 0.0, whole)
    part = np.empty((rows.stop - rows.start, n), dtype)
    _run_small(ta, "N", 1.0, np.ascontiguousarray(A[:, rows] if ta == "T" else A[rows]),
               B, 0.0, part)
    np.testing.assert_array_equal(part, whole[rows])
