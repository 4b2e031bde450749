"""The whole ``mlpx`` command line: --version, defaults in every help, one-line errors.

Every user error -- a bad value for each option that takes one, an unknown
option or command, a missing value, a missing optional dependency -- must print
one line, ``mlpx COMMAND: error: MESSAGE``, on stderr and exit non-zero before
anything is trained (every command prints to stdout before it trains).
"""

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

import mlpx
from mlpx.__main__ import build_parser, main

COMMANDS = ["quickstart", "agreement", "linear", "width"]


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"mlpx {mlpx.__version__}\n"


def parsers():
    parser = build_parser()
    return {"mlpx": parser, **{f"mlpx {name}": parser.commands[name] for name in COMMANDS}}


@pytest.mark.parametrize("prog", ["mlpx", *(f"mlpx {c}" for c in COMMANDS)])
def test_every_help_shows_every_default(prog, capsys):
    parser = parsers()[prog]
    assert main([*prog.split()[1:], "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    options = [a for a in parser._actions if a.option_strings
               and not isinstance(a, (argparse._HelpAction, argparse._VersionAction))]
    assert prog == "mlpx" or options
    for action in options:
        assert action.help, f"{action.option_strings} has no help text"
        assert f"(default: {action.default})" in text, action.option_strings


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"\n    {name} " in out for name in COMMANDS)


def user_errors(tmp_path):
    """{case: (argv, what the message must say)}; nothing here may start training.

    ``tmp_path / "a_file"`` is a file (the test makes it), for bad ``--out`` values.
    """
    a_file = tmp_path / "a_file"
    inside_file = str(a_file / "out")
    never = str(tmp_path / "never")
    cases = {
        # top level
        "unknown command": (["fit"], "invalid choice: 'fit'"),
        "unknown top-level option": (["--fast"], "unrecognized arguments: --fast"),
        # quickstart
        "quickstart --hidden": (["quickstart", "--hidden", "ten"], "--hidden: must be comma"),
        "quickstart --hidden 0": (["quickstart", "--hidden", "0"], "--hidden: must list positive"),
        "quickstart --solver": (["quickstart", "--solver", "rmsprop"], "invalid choice"),
        "quickstart --epochs": (["quickstart", "--epochs", "0"], "--epochs: must be at least 1"),
        "quickstart --epochs x": (["quickstart", "--epochs", "x"], "must be an integer"),
        "quickstart --seed": (["quickstart", "--seed", "-1"], "--seed: must be at least 0"),
        "quickstart --dtype": (["quickstart", "--dtype", "float16"], "invalid choice"),
        "quickstart --repeats": (["quickstart", "--repeats", "0"], "--repeats: must be at least"),
        "quickstart unknown": (["quickstart", "--epoch-count", "3"], "unrecognized arguments"),
        "quickstart missing value": (["quickstart", "--epochs"], "expected one argument"),
    }
    out = ["--out", never]
    agreement = {
        "--dataset": (["--dataset", "mnist"], "Unknown dataset 'mnist'"),
        "--seeds": (["--seeds", "1"], "--seeds: must be at least 2"),
        "--hidden": (["--hidden", "10,x"], "--hidden: must be comma-separated integers"),
        "--epochs": (["--epochs", "0"], "--epochs: must be at least 1"),
        "--solver": (["--solver", "sgld2"], "--solver: invalid choice"),
        "--alpha": (["--alpha", "-1"], "--alpha: must be >= 0"),
        "--alpha nan": (["--alpha", "nan"], "--alpha: must be a finite number"),
        "--batch-size": (["--batch-size", "0"], "--batch-size: must be at least 1"),
        "--learning-rate": (["--learning-rate", "0"], "--learning-rate: must be > 0"),
        "--setups": (["--setups", "hinge"], "--setups: unknown setups ['hinge']"),
        "--tau": (["--tau", "-0.5"], "--tau: must be >= 0"),
        "--until": (["--until", "forever"], "--until: invalid choice"),
        "--record": (["--record", "weights"], "--record: unknown records ['weights']"),
        "--record-every": (["--record-every", "0"], "--record-every: must be at least 1"),
        "--grad-tol": (["--grad-tol", "0"], "--grad-tol: must be > 0"),
        "--init": (["--init", "xavier"], "--init: invalid choice"),
        "--init-scale": (["--init-scale", "0"], "--init-scale: must be > 0"),
        "--task": (["--task", "clustering"], "--task: invalid choice"),
        "--test-size": (["--test-size", "0"], "--test-size: must be in (0, 1)"),
        "--out": (["--out", inside_file], "error"),
        "--n-jobs": (["--n-jobs", "0"], "--n-jobs: must not be 0"),
        "unknown": (["--seed", "3"], "unrecognized arguments: --seed 3"),
    }
    linear = {
        "--dataset": (["--dataset", "nowhere.npz"], "Unknown dataset 'nowhere.npz'"),
        "--n-samples": (["--n-samples", "0"], "--n-samples: must be at least 1"),
        "--n-features": (["--n-features", "0"], "--n-features: must be at least 1"),
        "--n-outputs": (["--n-outputs", "-2"], "--n-outputs: must be at least 1"),
        "--noise": (["--noise", "-1"], "--noise: must be >= 0"),
        "--width": (["--width", "0"], "--width: must be at least 1"),
        "--depths": (["--depths", "1,0"], "--depths: must list positive integers"),
        "--seeds": (["--seeds", "0"], "--seeds: must be at least 1"),
        "--max-iter": (["--max-iter", "0"], "--max-iter: must be at least 1"),
        "--activation": (["--activation", "sine"], "--activation: invalid choice"),
        "--out": (["--out", str(a_file)], "not a directory"),
        "unknown": (["--epochs", "3"], "unrecognized arguments: --epochs 3"),
    }
    width = {
        "--dataset": (["--dataset", "missing.csv"], "Unknown dataset 'missing.csv'"),
        "--widths": (["--widths", "2,-1"], "--widths: must list positive integers"),
        "--depth": (["--depth", "0"], "--depth: must be at least 1"),
        "--seeds": (["--seeds", "1"], "--seeds: must be at least 2"),
        "--epochs": (["--epochs", "-3"], "--epochs: must be at least 1"),
        "--solver": (["--solver", "newton"], "--solver: invalid choice"),
        "--alpha": (["--alpha", "inf"], "--alpha: must be a finite number"),
        "--batch-size": (["--batch-size", "0"], "--batch-size: must be at least 1"),
        "--learning-rate": (["--learning-rate", "-0.001"], "--learning-rate: must be > 0"),
        "--task": (["--task", "ranking"], "--task: invalid choice"),
        "--test-size": (["--test-size", "1.5"], "--test-size: must be in (0, 1)"),
        "--bins": (["--bins", "0"], "--bins: must be at least 1"),
        "--out": (["--out", inside_file], "error"),
        "--n-jobs": (["--n-jobs", "zero"], "--n-jobs: must be an integer"),
        "unknown": (["--hidden", "3"], "unrecognized arguments: --hidden 3"),
    }
    for command, table in (("agreement", agreement), ("linear", linear), ("width", width)):
        for option, (argv, message) in table.items():
            given = {a for a in argv if a.startswith("--")}
            rest = [] if "--out" in given else out
            cases[f"{command} {option}"] = ([command, *argv, *rest], message)
    return cases


CASES = sorted(user_errors(Path("unused")))


def test_the_cases_cover_every_option_that_takes_a_value():
    cases = user_errors(Path("unused")).values()
    for prog, parser in parsers().items():
        for action in parser._actions:
            if action.option_strings and action.nargs != 0:  # not --help, --version
                command, option = prog.split()[1], action.option_strings[0]
                assert any(argv[0] == command and option in argv for argv, _ in cases), (
                    f"no bad value of {option} for {prog}")


@pytest.mark.parametrize("case", CASES)
def test_user_error_is_one_line_and_non_zero(case, tmp_path, capsys):
    (tmp_path / "a_file").write_text("")
    argv, message = user_errors(tmp_path)[case]
    status = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    command = argv[0] if argv[0] in COMMANDS else None
    prefix = f"mlpx {command}: error: " if command else "mlpx: error: "
    assert status != 0
    assert len(lines) == 1 and captured.err.endswith("\n"), captured.err
    assert lines[0].startswith(prefix), lines[0]
    assert message in lines[0]
    assert captured.out == ""  # nothing was trained
    assert not (tmp_path / "never").exists()


def test_a_user_error_in_a_fresh_interpreter():
    res = subprocess.run([sys.executable, "-m", "mlpx", "quickstart", "--epochs", "0"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr == "mlpx quickstart: error: argument --epochs: must be at least 1, got 0\n"


# Without pandas the landscape commands are stubs that say what to install,
# whatever options they are given.
WITHOUT_PANDAS = ("import sys; sys.modules['pandas'] = None; "
                  "from mlpx.__main__ import main; sys.exit(main(sys.argv[1:]))")


@pytest.mark.parametrize("argv", [
    ["agreement"],
    ["agreement", "--out", "x"],
    ["linear", "--depths", "1", "--seeds", "0"],
    ["width", "--no-such-option"],
])
def test_missing_optional_dependency_is_one_clean_hint(argv, tmp_path):
    res = subprocess.run([sys.executable, "-c", WITHOUT_PANDAS, *argv], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode != 0 and res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"mlpx {argv[0]}: error: ")
    assert "pandas is not installed" in lines[0]
    assert lines[0].count('pip install "mlpx[landscape]"') == 1
    assert "unrecognized" not in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_quickstart_still_works_without_pandas(tmp_path):
    res = subprocess.run([sys.executable, "-c", WITHOUT_PANDAS, "quickstart", "--help"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "--repeats" in res.stdout and res.stderr == ""
