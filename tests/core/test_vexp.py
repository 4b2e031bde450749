"""The softmax's vectorised exp against NumPy's, over its whole domain."""

import numpy as np
import pytest
from mlpx._core._testing import _exp_nonpos

# smallest normal results the kernel produces; below them it returns 0
FLOOR = {np.float64: -708.0, np.float32: -87.0}


@pytest.mark.parametrize("dtype,ulps", [(np.float64, 2), (np.float32, 2)])
def test_matches_numpy_to_a_few_ulps(dtype, ulps):
    rng = np.random.default_rng(0)
    x = np.concatenate([
        -rng.exponential(1.0, 5000), -rng.uniform(0, -FLOOR[dtype], 5000),
        -np.linspace(0, 1, 1001), [0.0, -0.0, -1e-300, -5e-324, FLOOR[dtype]],
    ]).astype(dtype)
    got = x.copy()
    _exp_nonpos(got)
    want = np.exp(x.astype(np.float64))
    err = np.abs(got - want) / np.spacing(want.astype(dtype)).astype(np.float64)
    assert err.max() <= ulps, (err.max(), x[np.argmax(err)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_edges(dtype):
    x = np.array([FLOOR[dtype] - 1, -1000.0, -np.inf, np.nan, 0.0], dtype=dtype)
    # lengths that exercise the vector loop's remainder
    for n in range(1, len(x) + 1):
        got = x[:n].copy()
        _exp_nonpos(got)
        want = np.array([0.0, 0.0, 0.0, np.nan, 1.0], dtype=dtype)[:n]
        np.testing.assert_array_equal(got, want)
