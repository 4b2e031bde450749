"""Fitted models stay bit-identical to the stored digests (see tests/core/golden.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from tests.core.golden import fingerprint, fits

ROOT = Path(__file__).parents[2]
STORED = json.loads((Path(__file__).parent / "data" / "golden.json").read_text())


@pytest.mark.parametrize("threads", [1, 2, 3, 4, 8, 16])
def test_fits_are_bit_identical_to_the_stored_digests(threads):
    if fingerprint() != STORED["fingerprint"]:
        pytest.skip("the digests were recorded with other CPU features or BLAS kernels: "
                    f"{STORED['fingerprint']}")
    with threadpool_limits(threads, user_api="openmp"):
        got = fits()
    assert got.keys() == STORED["fits"].keys()
    differ = sorted(name for name in got if got[name] != STORED["fits"][name])
    assert not differ, f"results changed: {differ}"


def test_fits_on_the_tile_grid_are_bit_identical_for_any_thread_count():
    # the grid's fine schedule (more than 4 threads) and coarse one (up to 4)
    # compute the same tiles: every configuration, the 784-100-10 and
    # 784-500-300-10 networks in float32 and float64 among them, gives the
    # same bits at 1, 2, 3, 4, 8 and 16 threads
    from mlpx._core._testing import tile_grid, wide_tiles

    if not wide_tiles():
        pytest.skip("the tile grid runs on the AVX-512 tiles only")
    runs = {}
    with tile_grid():
        for threads in (1, 2, 3, 4, 8, 16):
            with threadpool_limits(threads, user_api="openmp"):
                runs[threads] = fits()
    for threads, got in runs.items():
        differ = sorted(name for name in got if got[name] != runs[1][name])
        assert not differ, f"{threads} threads: {differ}"
    # the grid ran: the large configurations' results differ from the chunk plan's
    with tile_grid(False), threadpool_limits(1, user_api="openmp"):
        chunked = fits()
    assert runs[1]["clf-784-500-300-10-adam-float32"] != chunked["clf-784-500-300-10-adam-float32"]


@pytest.mark.parametrize("env", [
    {"OMP_WAIT_POLICY": "passive", "OMP_NUM_THREADS": "4"},
    {"OMP_WAIT_POLICY": "active", "OMP_NUM_THREADS": "3"},
    {"GOMP_SPINCOUNT": "0", "OMP_NUM_THREADS": "2"},
])
def test_fits_do_not_depend_on_how_openmp_threads_wait(env):
    code = "import json; from tests.core.golden import fits; print(json.dumps(fits()))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **env},
                         capture_output=True, text=True, check=True, timeout=300).stdout
    with threadpool_limits(1, user_api="openmp"):
        assert json.loads(out) == fits()
