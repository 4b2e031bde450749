"""The AVX-512 tiles give the AVX2 tiles' results bit for bit (see _small_gemm.h)."""

import itertools

import numpy as np
import pytest
from mlpx._core._testing import _gemm, _gemm_epilogue, narrow_tiles, wide_tiles

pytestmark = pytest.mark.skipif(not wide_tiles(), reason="this CPU has no AVX-512 tiles")


def _both_widths(run):
    wide = run()
    with narrow_tiles():
        assert not wide_tiles()
        narrow = run()
    assert wide_tiles()  # restored after the block
    return wide, narrow


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ta,tb", list(itertools.product("NT", "NT")))
@pytest.mark.parametrize(
    "m,n,k",
    # a chunk's first layer (k past a 96-block), a gradient task, 8-row tiles
    # with 1-7 rows left, partial column blocks of each width, below the
    # packing threshold of 16 rows, one column
    [(200, 100, 784), (131, 100, 200), (37, 13, 97), (9, 300, 500), (256, 30, 300),
     (15, 48, 96), (16, 50, 97), (23, 24, 5), (8, 1, 5)],
)
def test_wide_and_narrow_tiles_give_identical_bits(dtype, ta, tb, m, n, k):
    rng = np.random.default_rng(m + 7 * n + 31 * k)
    A = rng.standard_normal((k, m) if ta == "T" else (m, k)).astype(dtype)
    B = rng.standard_normal((n, k) if tb == "T" else (k, n)).astype(dtype)
    C0 = rng.standard_normal((m, n)).astype(dtype)

    def run():
        C = C0.copy()
        assert _gemm(ta, tb, -0.5, A, B, 2.0, C, "small")
        return C

    wide, narrow = _both_widths(run)
    np.testing.assert_array_equal(wide, narrow)
    ref = -0.5 * (A.T if ta == "T" else A).astype(np.float64) @ (
        B.T if tb == "T" else B) + 2.0 * C0
    tol = {np.float64: 1e-13, np.float32: 2e-6}[dtype]
    np.testing.assert_allclose(wide, ref, rtol=0, atol=tol * k * (np.abs(ref).max() + 1))


@pytest.mark.parametrize(
    "dtype,m,n,k",
    # products both widths take (the AVX2 tiles: at most 3e5 multiply-adds, or
    # float32 layers of at most 256 rows)
    [(dtype, *shape) for dtype in (np.float64, np.float32)
     for shape in [(37, 100, 80), (16, 300, 60), (9, 24, 10), (13, 50, 400)]]
    + [(np.float32, 200, 100, 784)])
@pytest.mark.parametrize("epilogue", ["none", "relu", "relu_grad"])
def test_fused_epilogues_give_identical_bits_at_both_widths(dtype, m, n, k, epilogue):
    rng = np.random.default_rng(m + n + k)
    A = rng.standard_normal((m, k)).astype(dtype)
    B = rng.standard_normal((k, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    Z = np.maximum(rng.standard_normal((m, n)), 0).astype(dtype)

    def run():
        C = np.full((m, n), np.nan, dtype)
        assert _gemm_epilogue("N", A, B, C, bias, Z if epilogue == "relu_grad" else None,
                              epilogue)
        return C

    wide, narrow = _both_widths(run)
    np.testing.assert_array_equal(wide, narrow)
    assert np.isfinite(wide).all()


@pytest.mark.parametrize("dtype,hidden", [(np.float64, 24), (np.float32, 32)])
def test_a_fit_gives_the_same_weights_at_both_widths(dtype, hidden):
    # batches of 100 rows of 64 features: every product of the fit is small, so
    # both widths run it on the tiles (a larger float64 product would be
    # OpenBLAS's under the AVX2 policy), and the hidden layer fills the wide
    # vectors, so the AVX-512 tiles compute its products
    from mlpx import MLPXClassifier

    rng = np.random.default_rng(0)
    X = rng.random((400, 64)).astype(dtype)
    y = rng.integers(0, 10, 400)

    def run():
        return MLPXClassifier((hidden,), batch_size=100, max_iter=3,
                              random_state=0).fit(X, y).coefs_

    wide, narrow = _both_widths(run)
    for a, b in zip(wide, narrow):
        np.testing.assert_array_equal(a, b)
