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


def test_show_versions_lists_the_optional_dependencies_and_cython(capsys, monkeypatch):
    from importlib.metadata import PackageNotFoundError, version

    from mlpx import _show_versions

    mlpx.show_versions()
    out = capsys.readouterr().out
    for name in ("pandas", "matplotlib", "tqdm", "dask", "Cython"):
        try:
            expected = version(name)
        except PackageNotFoundError:
            expected = "not installed"
        assert f"{name}: {expected}\n" in out

    def without_cython(name):
        if name == "Cython":
            raise PackageNotFoundError(name)
        return version(name)

    monkeypatch.setattr(_show_versions, "version", without_cython)
    mlpx.show_versions()
    assert "Cython: not installed\n" in capsys.readouterr().out
