"""Fitted models stay bit-identical to the stored digests (see tests/golden.py)."""

import json
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from tests.golden import fingerprint, fits

STORED = json.loads((Path(__file__).parent / "data" / "golden.json").read_text())


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_fits_are_bit_identical_to_the_stored_digests(threads):
    if fingerprint() != STORED["fingerprint"]:
        pytest.skip("the digests were recorded with other CPU features or BLAS kernels: "
                    f"{STORED['fingerprint']}")
    with threadpool_limits(threads, user_api="openmp"):
        got = fits()
    assert got.keys() == STORED["fits"].keys()
    differ = sorted(name for name in got if got[name] != STORED["fits"][name])
    assert not differ, f"results changed: {differ}"
