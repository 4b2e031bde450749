"""`mlpx linear` and `mlpx width` (mlpx/landscape/_cli_geometry.py)."""

import json

import numpy as np
import pandas as pd
import pytest

from mlpx.__main__ import main as run
from mlpx.landscape import critical_point_summary, linear_network_optimum


def test_linear_reaches_the_optimum_and_writes_its_files(tmp_path, capsys):
    out = tmp_path / "lin"
    assert run(["linear", "--n-samples", "30", "--n-features", "4", "--n-outputs", "3",
                "--depths", "1,2", "--seeds", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Global minimum L*" in text and "satisfied" in text
    assert sorted(p.name for p in out.iterdir()) == [
        ".mlpx-files", "linear.csv", "linear.png", "study.json"]
    df = pd.read_csv(out / "linear.csv")
    assert list(df.depth) == [1, 1, 2, 2]
    assert list(df.seed) == [0, 1, 0, 1]
    assert (df.relative_gap.abs() < 1e-6).all()
    assert (df.grad_norm < 1e-4).all()
    assert df.at_critical_point.all() and (df.middle_rank == 2).all()
    assert list(df.kind) == ["global minimum"] * 4
    # the per-seed table: one line per run, with its kind
    assert sum(line.rstrip().endswith("global minimum") for line in text.splitlines()) == 4
    assert "depth 1: 2 of 2 runs reached a critical point; all of them global minima." in text
    assert "All: 4 of 4 runs reached a critical point; all of them global minima." in text
    assert json.loads((out / "study.json").read_text())["format"] == "mlpx-linear-study"


def test_linear_with_relu_checks_only_what_applies(tmp_path, capsys):
    out = tmp_path / "relu"
    assert run(["linear", "--activation", "relu", "--depths", "2", "--seeds", "6",
                "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "The theorem covers identity activations, not relu" in text
    df = pd.read_csv(out / "linear.csv")
    assert df.middle_rank.isna().all()
    assert set(df.kind) <= {"no negative curvature", "saddle", "not critical"}
    assert (df.not_global == (df.loss > df.optimum * (1 + 1e-6))).all()
    critical = df[df.kind != "not critical"]
    assert (f"All: {len(critical)} of 6 runs reached a critical point: "
            f"{(df.kind == 'no negative curvature').sum()} without negative curvature") in text
    assert f"{int(critical.not_global.sum())} of these {len(critical)} end above L*" in text
    assert "all of them global minima" not in text


def test_linear_with_many_seeds_prints_counts_per_depth(tmp_path, capsys):
    out = tmp_path / "many"
    assert run(["linear", "--n-samples", "30", "--n-features", "4", "--n-outputs", "3",
                "--depths", "1,2", "--seeds", "31", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    df = pd.read_csv(out / "linear.csv")
    assert len(df) == 62 and sorted(df.depth.unique()) == [1, 2]
    # every run reaches the closed-form optimum; how many pass the gradient-norm
    # test near its threshold depends on the arithmetic, so the printout is
    # checked against the table rather than against fixed counts
    assert df.relative_gap.abs().max() < 1e-5
    assert "end points" in text
    for depth in (1, 2):
        rows = df[df.depth == depth]
        assert f"depth {depth}: {critical_point_summary(rows)}" in text
        for kind, count in rows.kind.value_counts().items():
            assert f"{count} {kind}" in text
    assert f"All: {critical_point_summary(df)}" in text


def test_linear_reads_an_npz_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(25, 3))
    Y = X @ rng.normal(size=(3, 2)) + 0.1 * rng.normal(size=(25, 2))
    np.savez(tmp_path / "d.npz", X=X, Y=Y)
    out = tmp_path / "o"
    assert run(["linear", "--dataset", str(tmp_path / "d.npz"), "--width", "1",
                "--depths", "1", "--seeds", "2", "--out", str(out)]) == 0
    df = pd.read_csv(out / "linear.csv")
    Xs, Ys = (X - X.mean(0)) / X.std(0), (Y - Y.mean(0)) / Y.std(0)
    assert df.optimum.iloc[0] == pytest.approx(linear_network_optimum(Xs, Ys, 1).loss)


@pytest.mark.parametrize("argv, message", [
    (["--depths", "1,x"], "argument --depths: must be comma-separated integers"),
    (["--depths", "0"], "argument --depths: must list positive"),
    (["--width", "0"], "argument --width: must be at least 1"),
    (["--dataset", "nowhere.npz"], "Unknown dataset"),
    (["--noise", "-1"], "argument --noise: must be >= 0"),
    (["--activation", "sine"], "argument --activation: invalid choice"),
])
def test_linear_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "never"
    assert run(["linear", *argv, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_width_study_writes_tables_and_replaces_a_previous_run(tmp_path, capsys):
    out = tmp_path / "w"
    argv = ["width", "--widths", "2,6", "--seeds", "2", "--epochs", "2", "--out", str(out)]
    assert run(argv) == 0
    assert run(argv[:-4] + ["--widths", "3", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "train std/mean" in text
    assert sorted(p.name for p in out.iterdir()) == [
        ".mlpx-files", "histograms.csv", "per_seed.csv", "study.json", "width_study.csv",
        "width_study.png"]
    summary = pd.read_csv(out / "width_study.csv", index_col="width")
    per_seed = pd.read_csv(out / "per_seed.csv")
    assert list(summary.index) == [3] and len(per_seed) == 2
    assert summary.loc[3, "train_mean"] == pytest.approx(per_seed.train_loss.mean())
    hist = pd.read_csv(out / "histograms.csv")
    assert hist.groupby("split")["count"].sum().to_dict() == {"test": 2, "train": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["w"]


@pytest.mark.parametrize("argv, message", [
    (["--widths", "2,-1"], "argument --widths: must list positive"),
    (["--seeds", "1"], "argument --seeds: must be at least 2"),
    (["--test-size", "1.5"], "argument --test-size: must be in (0, 1)"),
    (["--dataset", "missing.csv"], "Unknown dataset"),
])
def test_width_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, argv, message):
    out = tmp_path / "never"
    assert run(["width", *argv, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_width_refuses_to_replace_a_foreign_directory(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert run(["width", "--widths", "2", "--seeds", "2", "--epochs", "1",
                "--out", str(out)]) == 1
    assert "refusing to replace" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]
