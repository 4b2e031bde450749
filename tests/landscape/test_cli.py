"""`mlpx agreement`: the seed-agreement study on the command line."""

import select
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

import mlpx.__main__ as cli
from mlpx.landscape import SeedStudy

SMALL = ["--seeds", "2", "--epochs", "2", "--hidden", "6"]


def run(argv):
    return cli.main(["agreement", *argv])


def test_end_to_end_in_a_subprocess(tmp_path):
    out = tmp_path / "run"
    res = subprocess.run(
        [sys.executable, "-m", "mlpx", "agreement", *SMALL, "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stderr
    wrote = next(line for line in res.stdout.splitlines() if line.startswith("Wrote"))
    files = wrote.split(": ", 1)[1].split(", ")
    # and the hidden record of the files mlpx wrote (so that a rerun may replace them)
    assert set(files) | {".mlpx-files"} == {p.name for p in out.iterdir()}
    assert {"loss_curves.png", "agreement_counts.png", "agreement_matrix.png",
            "summary.csv", "per_seed.csv", "pairs.csv", "report.md"} <= set(files)
    assert "## The paper's claims against this run" in (out / "report.md").read_text()
    assert all((out / f).stat().st_size > 0 for f in files)
    for setup in ("mse_no_softmax", "mse_softmax", "bce_sigmoid", "logloss_softmax"):
        assert setup in res.stdout
    assert "Wall time" in res.stdout
    study = SeedStudy.load(out)
    assert len(study.per_seed) == 4 * 2 * 2  # setups x seeds x epochs
    summary = pd.read_csv(out / "summary.csv", index_col="setup")
    assert summary.loc["bce_sigmoid", "train_agreement_mean"] == pytest.approx(
        study.summary().loc["bce_sigmoid", "train_agreement_mean"])


def test_python_dash_m_without_arguments_still_runs_the_quickstart(monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "quickstart", lambda args: calls.append(args.command) or 0)
    assert cli.main([]) == 0 and calls == ["quickstart"]


def test_rerun_replaces_the_previous_result(tmp_path, capsys):
    out = tmp_path / "out"
    assert run([*SMALL, "--out", str(out), "--setups", "mse_no_softmax"]) == 0
    assert run([*SMALL, "--out", str(out), "--setups", "bce_sigmoid"]) == 0
    assert SeedStudy.load(out).setups == ["bce_sigmoid"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_rerun_keeps_a_users_files_and_says_so_before_training(tmp_path, capsys,
                                                                monkeypatch):
    out = tmp_path / "out"
    assert run([*SMALL, "--out", str(out), "--setups", "bce_sigmoid"]) == 0
    (out / "notes.txt").write_text("keep me")
    (out / "sub").mkdir()
    (out / "sub" / "data.bin").write_bytes(b"1")
    capsys.readouterr()
    import mlpx.landscape._study as study_module

    monkeypatch.setattr(study_module, "agreement_study",
                        lambda *a, **k: pytest.fail("trained before refusing --out"))
    assert run([*SMALL, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "did not write" in err and "notes.txt" in err and len(err.splitlines()) == 1
    assert (out / "notes.txt").read_text() == "keep me"
    assert (out / "sub" / "data.bin").read_bytes() == b"1"
    monkeypatch.chdir(out)
    assert run([*SMALL, "--out", "."]) == 1
    assert "current directory" in capsys.readouterr().err


def test_ctrl_c_ends_a_study_with_one_line_and_no_output_folder(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-c", "import signal, sys; "
         "signal.signal(signal.SIGINT, signal.default_int_handler); "  # even if inherited ignored
         "import mlpx.__main__ as m; sys.exit(m.main(sys.argv[1:]))",
         "agreement", "--seeds", "2000", "--epochs", "200", "--record", "loss", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, "the study printed nothing"
        proc.stdout.readline()  # the settings line: training starts
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "mlpx agreement: interrupted"
    assert list(tmp_path.iterdir()) == []


def test_csv_with_header_and_regression_dataset(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(label=(X[:, 0] > 0).astype(int))
    df.to_csv(tmp_path / "data.csv", index=False)
    assert run([*SMALL, "--dataset", str(tmp_path / "data.csv"),
                "--out", str(tmp_path / "csv")]) == 0
    assert "45 train / 15 test samples, 3 features" in capsys.readouterr().out
    assert run([*SMALL, "--dataset", "diabetes", "--out", str(tmp_path / "reg")]) == 0
    out = capsys.readouterr().out
    assert "mse_regression" in out and "R2" in out


def test_npz_dataset(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 4))
    np.savez(tmp_path / "d.npz", X=X, y=np.arange(40) % 3)
    assert run([*SMALL, "--dataset", str(tmp_path / "d.npz"), "--setups", "logloss_softmax",
                "--out", str(tmp_path / "o")]) == 0
    assert SeedStudy.load(tmp_path / "o").meta["classes"] == [0, 1, 2]


def bad_input_cases(tmp_path):
    (tmp_path / "garbage.npz").write_bytes(b"not a zip file")
    np.savez(tmp_path / "no_y.npz", X=np.zeros((10, 2)))
    (tmp_path / "text.csv").write_text("a,b\nx,1\ny,2\nz,1\nw,2\n")
    (tmp_path / "data.txt").write_text("1,2\n")
    (tmp_path / "a_file").write_text("")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.txt").write_text("keep")
    good_out = str(tmp_path / "out")
    return {
        "one seed": (["--seeds", "1", "--out", good_out], "at least 2"),
        "unknown dataset": (["--dataset", "mnist", "--out", good_out], "Unknown dataset"),
        "unreadable npz": (["--dataset", str(tmp_path / "garbage.npz"), "--out", good_out],
                           "Cannot read dataset"),
        "npz without y": (["--dataset", str(tmp_path / "no_y.npz"), "--out", good_out],
                          "lacks the arrays ['y']"),
        "non-numeric csv": (["--dataset", str(tmp_path / "text.csv"), "--out", good_out],
                            "Cannot read dataset"),
        "unknown suffix": (["--dataset", str(tmp_path / "data.txt"), "--out", good_out],
                           ".csv or .npz"),
        "out under a file": (["--out", str(tmp_path / "a_file" / "out")], "error"),
        "out is a file": (["--out", str(tmp_path / "a_file")], "not a directory"),
        "out holds other files": (["--out", str(tmp_path / "busy")], "refusing"),
        "bad hidden": (["--hidden", "ten", "--out", good_out], "--hidden"),
        "bad setup": (["--setups", "hinge", "--out", good_out], "unknown setups ['hinge']"),
    }


CASE_IDS = ["one seed", "unknown dataset", "unreadable npz", "npz without y",
            "non-numeric csv", "unknown suffix", "out under a file", "out is a file",
            "out holds other files", "bad hidden", "bad setup"]


@pytest.mark.parametrize("case", CASE_IDS)
def test_bad_input_is_a_clear_error_and_writes_nothing(case, tmp_path, capsys):
    argv, message = bad_input_cases(tmp_path)[case]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    status = run([*SMALL, *argv])
    err = capsys.readouterr().err
    assert status != 0
    assert message in err and "mlpx agreement: error:" in err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_epochs_below_one_is_refused_by_the_parser(capsys):
    assert run(["--epochs", "0"]) == 2
    err = capsys.readouterr().err
    assert err == "mlpx agreement: error: argument --epochs: must be at least 1, got 0\n"


@pytest.mark.parametrize("argv, message", [
    (["agreement", "--seeds", "1000000000"], "--seeds: must be at most 100000"),
    (["agreement", "--hidden", "1000000000000"], "--hidden: must list at most"),
    (["agreement", "--hidden", "100000,100000"], "GiB of memory"),
    (["linear", "--width", "1000000000"], "--width: must be at most 100000"),
    (["linear", "--width", "100000"], "GiB of memory"),
    (["linear", "--n-samples", "100000000", "--n-features", "100000"], "GiB of memory"),
    (["width", "--widths", "1000000000000"], "--widths: must list at most"),
    (["width", "--widths", "100000", "--seeds", "1000"], "GiB of memory"),
    (["width", "--bins", "1000000000000"], "--bins: must be at most 100000"),
])
def test_sizes_beyond_the_machine_are_refused_in_one_line_before_any_work(
        argv, message, tmp_path, capsys):
    assert cli.main([*argv, "--out", str(tmp_path / "o")]) in (1, 2)
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("X", [
    np.array([["a", "b"]] * 20),
    np.ones((20, 2)) * (1 + 1j),
    np.array(["2020-01-01"] * 40, dtype="datetime64[D]").reshape(20, 2),
], ids=["strings", "complex", "datetime64"])
def test_a_dataset_file_of_non_real_features_is_refused_in_one_line(X, tmp_path, capsys):
    path = tmp_path / "data.npz"
    np.savez(path, X=X, y=np.arange(20) % 2)
    assert run([*SMALL, "--dataset", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "must be real numbers" in err and len(err.strip().splitlines()) == 1


def test_init_paper_gives_the_ith_seed_weights_of_scale_i_plus_2(tmp_path, capsys):
    out = tmp_path / "o"
    assert run([*SMALL, "--seeds", "3", "--init", "paper", "--setups", "bce_sigmoid",
                "--out", str(out)]) == 0
    study = SeedStudy.load(out)
    assert study.meta["init"] == {"scheme": "normal", "scales": [2.0, 3.0, 4.0]}
    assert "init paper" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["--init", "normal"], ["--init-scale", "2"], ["--init", "paper", "--init-scale", "2"]])
def test_init_scale_goes_with_init_normal_only(argv, tmp_path, capsys):
    assert run([*SMALL, *argv, "--out", str(tmp_path / "o")]) == 2
    assert "--init" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_lbfgs_runs_that_hit_their_budget_are_counted_in_one_line(tmp_path, capsys):
    assert run([*SMALL, "--solver", "lbfgs", "--setups", "bce_sigmoid",
                "--out", str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    first = captured.out.splitlines()[0]
    assert "lbfgs, at most 2 iterations" in first and "batch" not in first
    assert "2 run(s) stopped at the budget of 2 iterations" in captured.out
    assert "ConvergenceWarning:" not in captured.err


def test_the_study_says_how_many_runs_reached_a_critical_point(tmp_path, capsys):
    out = tmp_path / "o"
    assert run([*SMALL, "--setups", "bce_sigmoid", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    study = SeedStudy.load(out)
    grad = study.arrays["bce_sigmoid"]["grad_norm"]
    assert grad.shape == (2,) and (grad > 0).all()
    summary = study.summary()
    assert summary.loc["bce_sigmoid", "n_converged"] == (grad <= study.meta["grad_tol"]).sum()
    assert summary.loc["bce_sigmoid", "grad_norm_max"] == grad.max()
    # 2 epochs of adam are far from a critical point, and the study says so
    assert summary.loc["bce_sigmoid", "n_converged"] == 0
    assert "compared before convergence" in text


def test_each_setup_is_shown_beside_the_best_constant_predictor(tmp_path, capsys):
    from mlpx.landscape._baseline import constant_baseline
    from mlpx.landscape._cli import load_dataset

    out = tmp_path / "o"
    assert run([*SMALL, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    _, _, y_tr, y_te, _ = load_dataset("digits", 0.25)
    expected = constant_baseline(SeedStudy.load(out).setups, y_tr, y_te)
    saved = pd.read_csv(out / "baseline.csv", index_col="setup")
    pd.testing.assert_frame_equal(saved, expected, check_exact=False, rtol=1e-12)
    assert text.count("  constant ") == 4  # one per setup
    assert f"{expected.loc['mse_no_softmax', 'train_loss']:.4f}" in text


def test_raw_and_aligned_weight_differences_are_printed(tmp_path, capsys):
    assert run([*SMALL, "--setups", "bce_sigmoid", "--out", str(tmp_path / "o")]) == 0
    text = capsys.readouterr().out
    summary = SeedStudy.load(tmp_path / "o").summary().loc["bce_sigmoid"]
    line = next(x for x in text.splitlines() if x.startswith("  bce_sigmoid: raw L2"))
    assert f"aligned L2 {summary.aligned_weight_distance_mean:.3g}" in line
    assert "canonical scaling" in text  # the default activation is relu


def test_until_tolerance_says_what_ended_each_run(tmp_path, capsys):
    out = tmp_path / "t"
    assert run(["--seeds", "2", "--epochs", "150", "--hidden", "6", "--setups",
                "mse_no_softmax", "--learning-rate", "0.05", "--until", "tolerance",
                "--out", str(out)]) == 0
    text = capsys.readouterr().out
    study = SeedStudy.load(out)
    ended = study.arrays["mse_no_softmax"]["stopped_by"]
    n_tol = int((ended == "tolerance").sum())
    assert f"mse_no_softmax: tolerance {n_tol}" in text
    assert f"budget {int((ended == 'budget').sum())}" in text
    assert study.meta["until"] == "tolerance"
    report = (out / "report.md").read_text()
    assert f"mse_no_softmax: {n_tol} of 2 at the tolerance" in report


@pytest.mark.parametrize("record", ["loss,predictions,params", "loss,predictions"])
def test_record_chooses_what_is_kept_and_the_size_is_estimated_first(tmp_path, capsys,
                                                                     record):
    out = tmp_path / "r"
    assert run([*SMALL, "--record", record, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    line = next(x for x in text.splitlines() if x.startswith("Recording"))
    value, unit = line.split("about ")[1].split()[:2]
    estimate = float(value) * {"bytes": 1, "KB": 1e3, "MB": 1e6}[unit]
    actual = (out / "arrays.npz").stat().st_size
    assert 0.9 * actual < estimate < 1.1 * actual
    study = SeedStudy.load(out)
    assert ("params" in study.arrays["mse_no_softmax"]) == record.endswith("params")
    assert ("raw L2" in text) == record.endswith("params")
    assert "aligned L2" in text  # the final networks are always compared
