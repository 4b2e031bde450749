"""Hypothesis fuzzing of the estimators, in a child process (see fuzz_estimators.py)."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")


def test_random_inputs_end_in_finite_outputs_or_a_clear_error():
    script = Path(__file__).with_name("fuzz_estimators.py")
    proc = subprocess.run([sys.executable, str(script), "300"], capture_output=True,
                          text=True, timeout=600)
    # a negative return code is a signal: the child crashed
    assert proc.returncode == 0, (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    assert proc.stdout.strip().endswith("ok")
