"""The compiled input check: max |x| in one pass, NaN / inf included."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from mlpx._core._checks import abs_max


def reference(x):
    """What abs_max must return, from NumPy."""
    if x.size == 0:
        return 0.0
    if np.isnan(x).any():
        return np.nan
    return float(np.max(np.abs(x)))


def same(got, want):
    return (np.isnan(got) and np.isnan(want)) or got == want


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dtype: hnp.arrays(dtype, st.integers(0, 300),
                             elements=st.floats(width=np.dtype(dtype).itemsize * 8))))
def test_abs_max_equals_numpys(x):
    # any float: signed zeros, subnormals, the largest finite values, inf, NaN
    assert same(abs_max(x, 1), reference(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [(1 << 16) - 1, 1 << 16, (1 << 20) + 5, 3 << 20])
def test_abs_max_blocks_and_threads(dtype, n):
    # sizes around the parallel block (65536) and the parallel threshold (2^20);
    # the answer is the same on any number of threads, wherever the extreme
    # value or the NaN sits
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(dtype)
    for where in (0, n // 2, n - 1):
        y = x.copy()
        y[where] = -1e30
        for value in (-1e30, np.inf, -np.inf, np.nan):
            y[where] = value
            want = reference(y)
            for n_threads in (1, 2, 3):
                assert same(abs_max(y, n_threads), want), (where, value, n_threads)
    # a NaN in a late block and an inf in an earlier one: NaN wins
    y = x.copy()
    y[1] = np.inf
    y[n - 1] = np.nan
    assert np.isnan(abs_max(y, 2))


def test_abs_max_takes_read_only_arrays():
    x = np.arange(-5.0, 3.0)
    x.flags.writeable = False
    assert abs_max(x) == 5.0
