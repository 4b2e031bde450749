"""The command line: `python -m mlpx` and show_versions."""

import subprocess
import sys

import mlpx
from mlpx.__main__ import main


def test_quickstart_prints_both_models(capsys):
    assert main(["quickstart", "--epochs", "3", "--hidden", "8"]) == 0
    out = capsys.readouterr().out
    assert "sklearn MLPClassifier" in out and "mlpx MLPXClassifier" in out
    assert "faster than scikit-learn" in out


def test_python_dash_m_runs_the_quickstart_by_default():
    # Run in a fresh interpreter exactly as the README says (short settings).
    res = subprocess.run([sys.executable, "-m", "mlpx", "quickstart", "--epochs", "2"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "test acc" in res.stdout


def test_bad_arguments_exit_non_zero():
    res = subprocess.run([sys.executable, "-m", "mlpx", "quickstart", "--epochs", "0"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode != 0 and "--epochs" in res.stderr


def test_show_versions_lists_openmp_and_blas(capsys):
    mlpx.show_versions()
    out = capsys.readouterr().out
    assert f"mlpx: {mlpx.__version__}" in out
    assert "scikit-learn" in out and "openmp" in out and "blas" in out
