"""`mlpx surface`, `spectrum`, `margins` and `bayes` (mlpx/landscape/_cli_analysis.py).

Each command's files are checked against the Python API run again on networks
trained with the same settings and seeds, and against references that do not
go through the code under test (scikit-learn's log-loss and scores, dense
eigenvalues, scipy's rank correlations).
"""

import argparse
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss

from mlpx import MLPXClassifier
from mlpx.__main__ import build_parser
from mlpx.__main__ import main as run
from mlpx.landscape import (
    decision_disagreement,
    dense_hessian,
    gaussian_mixture,
    generalization_table,
    loss_surface,
    measure_correlations,
    plane_through,
    random_labels,
    seed_spectra,
)
from mlpx.landscape._cli import load_dataset

COMMANDS = ["surface", "spectrum", "margins", "bayes"]


def digits():
    X_tr, X_te, y_tr, y_te, _ = load_dataset("digits", 0.25)
    return X_tr, X_te, y_tr, y_te


def fit(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPXClassifier(**params).fit(X, y)


def manifest(out, kind):
    m = json.loads((out / "study.json").read_text())
    assert m["format"] == f"mlpx-{kind}-study" and m["command"] == f"mlpx {kind}"
    return m["settings"]


def test_surface_writes_both_planes_that_the_api_reproduces(tmp_path, capsys):
    out = tmp_path / "s"
    assert run(["surface", "--hidden", "6", "--epochs", "30", "--seeds", "3,1,4",
                "--resolution", "9", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        ".mlpx-files", "study.json", "surface.png", "surface_random.csv",
        "surface_summary.csv", "surface_through.csv"]
    settings = manifest(out, "surface")
    assert settings["resolution"] == 9 and settings["plane"] == "both"
    assert settings["align"] == "on"

    X_tr, X_te, y_tr, y_te = digits()
    nets = [fit(X_tr, y_tr, hidden_layer_sizes=(6,), solver="lbfgs", max_iter=30,
                random_state=s) for s in (3, 1, 4)]
    summary = pd.read_csv(out / "surface_summary.csv", index_col="plane")
    for name, plane in [("through", plane_through(*nets, align=True)), ("random", None)]:
        csv = pd.read_csv(out / f"surface_{name}.csv")
        s = loss_surface(nets[0], X_tr, y_tr, plane, resolution=9, X_test=X_te, y_test=y_te,
                         random_state=0)
        expected = s.to_frame()
        assert list(csv.columns) == ["x", "y", "train_loss", "test_loss"] and len(csv) == 81
        np.testing.assert_allclose(csv.to_numpy(), expected.to_numpy(), rtol=1e-12)
        row = summary.loc[name]
        assert row.grid_min == pytest.approx(csv.train_loss.min(), rel=1e-12)
        assert row.grid_max == pytest.approx(csv.train_loss.max(), rel=1e-12)
        assert row.test_grid_min == pytest.approx(csv.test_loss.min(), rel=1e-12)
        assert f"{row.grid_max:.4g}" in text
    # each network's point is that network (an aligned copy computes the same
    # function): its loss is the network's own log-loss
    own = [log_loss(y_tr, net.predict_proba(X_tr), labels=net.classes_) for net in nets]
    for seed, loss in zip((3, 1, 4), own):
        assert summary.loc["through", f"loss_seed_{seed}"] == pytest.approx(loss, rel=1e-7)
    assert summary.loc["random", "loss_seed_3"] == pytest.approx(own[0], rel=1e-7)
    assert summary.loc["random", ["loss_seed_1", "loss_seed_4"]].isna().all()
    through_line = next(line for line in text.splitlines() if line.startswith("through"))
    assert through_line.split()[1:4] == [f"{v:.4g}" for v in own]


def test_surface_random_plane_only_and_raw_units(tmp_path, capsys):
    out = tmp_path / "r"
    assert run(["surface", "--hidden", "4", "--epochs", "10", "--plane", "random",
                "--resolution", "5", "--random-state", "7", "--out", str(out)]) == 0
    assert "random" in capsys.readouterr().out
    assert not (out / "surface_through.csv").exists()
    X_tr, X_te, y_tr, y_te = digits()
    net = fit(X_tr, y_tr, hidden_layer_sizes=(4,), solver="lbfgs", max_iter=10, random_state=0)
    expected = loss_surface(net, X_tr, y_tr, resolution=5, random_state=7, X_test=X_te,
                            y_test=y_te).to_frame()
    np.testing.assert_allclose(pd.read_csv(out / "surface_random.csv").to_numpy(),
                               expected.to_numpy(), rtol=1e-12)

    out = tmp_path / "t"
    assert run(["surface", "--hidden", "4", "--epochs", "10", "--plane", "through",
                "--align", "off", "--resolution", "4", "--out", str(out)]) == 0
    nets = [fit(X_tr, y_tr, hidden_layer_sizes=(4,), solver="lbfgs", max_iter=10,
                random_state=s) for s in (0, 1, 2)]
    raw = loss_surface(nets[0], X_tr, y_tr, plane_through(*nets), resolution=4)
    np.testing.assert_allclose(pd.read_csv(out / "surface_through.csv").train_loss,
                               raw.train_loss.ravel(), rtol=1e-12)
    assert not (out / "surface_random.csv").exists()


def test_spectrum_matches_seed_spectra_and_dense_eigenvalues(tmp_path, capsys):
    out = tmp_path / "sp"
    assert run(["spectrum", "--hidden", "4", "--epochs", "60", "--seeds", "2", "--k", "2",
                "--probes", "3", "--lanczos", "20", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        ".mlpx-files", "spectra.csv", "spectra.png", "study.json"]
    assert manifest(out, "spectrum")["lanczos"] == 20
    df = pd.read_csv(out / "spectra.csv")
    X_tr, _, y_tr, _ = digits()
    nets = [fit(X_tr, y_tr, hidden_layer_sizes=(4,), solver="lbfgs", max_iter=60,
                alpha=1e-4, random_state=s) for s in (0, 1)]
    expected = seed_spectra(nets, X_tr, y_tr, k=2, n_probes=3, n_lanczos=20, random_state=0)
    pd.testing.assert_frame_equal(df, expected, check_dtype=False, rtol=1e-9)
    for net, row in zip(nets, df.itertuples()):
        eig = np.linalg.eigvalsh(dense_hessian(net, X_tr, y_tr))
        assert row.n_params == eig.size == 64 * 4 + 4 + 4 * 10 + 10
        assert [row.lambda_1, row.lambda_2] == pytest.approx(eig[::-1][:2], rel=1e-6)
        assert row.lambda_min == pytest.approx(eig[0], abs=1e-6 * eig[-1])
        line = next(line for line in text.splitlines() if line.startswith(f"{row.seed} "))
        assert line.split()[2:4] == [f"{row.lambda_1:.4g}", f"{row.lambda_2:.4g}"]


def test_margins_with_shuffled_labels(tmp_path, capsys):
    out = tmp_path / "m"
    assert run(["margins", "--hidden", "8", "--epochs", "15", "--seeds", "3",
                "--shuffle", "0.5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        ".mlpx-files", "correlations.csv", "generalization.csv", "generalization.png",
        "study.json"]
    assert manifest(out, "margins")["shuffle"] == 0.5
    table = pd.read_csv(out / "generalization.csv", index_col="net")
    assert list(table.index) == [f"q={q} seed {s}" for q in ("0", "0.5") for s in range(3)]
    corr = pd.read_csv(out / "correlations.csv", index_col="measure")
    pd.testing.assert_frame_equal(corr, measure_correlations(table), check_names=False)
    rho = spearmanr(table.bound, table.test_error).statistic
    assert corr.loc["bound", "spearman"] == pytest.approx(rho)
    assert f"{corr.loc['bound', 'spearman']:+.3f}" in text

    X_tr, X_te, y_tr, y_te = digits()
    shuffled = random_labels(y_tr, 0.5, random_state=0)
    for q, labels in (("0", y_tr), ("0.5", shuffled)):
        nets = {s: fit(X_tr, labels, hidden_layer_sizes=(8,), max_iter=15,
                       learning_rate_init=0.01, random_state=s) for s in range(3)}
        expected = generalization_table(nets, X_tr, labels, X_te, y_te)
        got = table[table.group == f"q={q}"].drop(columns=["group", "seed"])
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9)
        # the errors by scikit-learn's scorer: train on the labels fit, test on true ones
        assert list(got.test_error) == pytest.approx(
            [1 - n.score(X_te, y_te) for n in nets.values()])
        assert list(got.train_error) == pytest.approx(
            [1 - n.score(X_tr, labels) for n in nets.values()])
    line = next(line for line in text.splitlines() if line.startswith("q=0.5 seed 2"))
    assert line.split()[-1] == f"{table.test_error.iloc[-1]:.4f}"


def test_margins_refuses_a_regression_target(tmp_path, capsys):
    assert run(["margins", "--dataset", "diabetes", "--out", str(tmp_path / "x")]) == 2
    assert "margins need class labels" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_bayes_errors_and_disagreements(tmp_path, capsys):
    out = tmp_path / "b"
    assert run(["bayes", "--samples", "150", "--seed", "2", "--test-samples", "4000",
                "--hidden", "8", "--epochs", "200", "--resolution", "40",
                "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        ".mlpx-files", "bayes.csv", "bayes.png", "study.json"]
    assert manifest(out, "bayes")["samples"] == 150
    df = pd.read_csv(out / "bayes.csv", index_col="classifier")
    data = gaussian_mixture(150, random_state=2)
    assert (df.bayes_error == data.bayes_error).all()
    assert f"Bayes error {data.bayes_error:.4f}" in text
    X_new, y_new = data.bayes.sample(4000, random_state=3)
    nets = [fit(data.X, data.y, hidden_layer_sizes=(8,), activation="tanh", solver="lbfgs",
                alpha=1e-4, max_iter=200, random_state=s) for s in (0, 1)]
    for name, net, other in (("seed 0", *nets), ("seed 1", *nets[::-1])):
        pred = net.predict(X_new)
        row = df.loc[name]
        assert row.train_error == pytest.approx(np.mean(net.predict(data.X) != data.y))
        assert row.test_error == pytest.approx(np.mean(pred != y_new))
        assert row.excess_error == pytest.approx(row.test_error - data.bayes_error)
        assert row.differs_from_bayes == pytest.approx(
            np.mean(pred != data.bayes.predict(X_new)))
        assert row.box_vs_bayes == pytest.approx(
            decision_disagreement(net, data.bayes, data.X, 40))
        assert row.box_vs_other == pytest.approx(decision_disagreement(net, other, data.X, 40))
        assert f"{row.excess_error:+.4f}" in text
    assert df.loc["seed 0", "box_vs_other"] == df.loc["seed 1", "box_vs_other"]
    assert df.loc["Bayes", "test_error"] == pytest.approx(
        np.mean(data.bayes.predict(X_new) != y_new))
    assert f"label {df.loc['seed 0', 'box_vs_other']:.1%} of the box differently" in text


BAD = {
    "surface": {
        "--dataset": (["--dataset", "nowhere.npz"], "Unknown dataset 'nowhere.npz'"),
        "--hidden": (["--hidden", "4,x"], "--hidden: must be comma-separated integers"),
        "--solver": (["--solver", "newton"], "--solver: invalid choice"),
        "--epochs": (["--epochs", "0"], "--epochs: must be at least 1"),
        "--alpha": (["--alpha", "-1"], "--alpha: must be >= 0"),
        "--seeds": (["--seeds", "0,1"], "--seeds: must list 3 distinct seeds"),
        "--seeds repeated": (["--seeds", "0,1,1"], "--seeds: must list 3 distinct seeds"),
        "--seeds negative": (["--seeds", "0,1,-2"], "--seeds: seeds must be in"),
        "--plane": (["--plane", "diagonal"], "--plane: invalid choice"),
        "--align": (["--align", "yes"], "--align: invalid choice"),
        "--resolution": (["--resolution", "1"], "--resolution: must be at least 2"),
        "--random-state": (["--random-state", "-1"], "--random-state: must be at least 0"),
        "--test-size": (["--test-size", "1"], "--test-size: must be in (0, 1)"),
        "--out": (["--out", "{a_file}"], "not a directory"),
    },
    "spectrum": {
        "--dataset": (["--dataset", "mnist"], "Unknown dataset 'mnist'"),
        "--hidden": (["--hidden", "0"], "--hidden: must list positive integers"),
        "--solver": (["--solver", "rmsprop"], "--solver: invalid choice"),
        "--epochs": (["--epochs", "x"], "--epochs: must be an integer"),
        "--alpha": (["--alpha", "nan"], "--alpha: must be a finite number"),
        "--seeds": (["--seeds", "0"], "--seeds: must be at least 1"),
        "--k": (["--k", "0"], "--k: must be at least 1"),
        "--probes": (["--probes", "0"], "--probes: must be at least 1"),
        "--lanczos": (["--lanczos", "1"], "--lanczos: must be at least 2"),
        "--test-size": (["--test-size", "0"], "--test-size: must be in (0, 1)"),
        "--out": (["--out", "{a_file}/out"], "error"),
    },
    "margins": {
        "--dataset": (["--dataset", "missing.csv"], "Unknown dataset 'missing.csv'"),
        "--hidden": (["--hidden", ""], "--hidden: must list positive integers"),
        "--solver": (["--solver", "sgld"], "--solver: invalid choice"),
        "--epochs": (["--epochs", "-3"], "--epochs: must be at least 1"),
        "--alpha": (["--alpha", "inf"], "--alpha: must be a finite number"),
        "--learning-rate": (["--learning-rate", "0"], "--learning-rate: must be > 0"),
        "--seeds": (["--seeds", "2"], "--seeds: must be at least 3"),
        "--shuffle": (["--shuffle", "0"], "--shuffle: must be > 0"),
        "--shuffle above 1": (["--shuffle", "1.5"], "--shuffle: must be <= 1"),
        "--test-size": (["--test-size", "-0.1"], "--test-size: must be in (0, 1)"),
        "--out": (["--out", "{a_file}"], "not a directory"),
    },
    "bayes": {
        "--samples": (["--samples", "3"], "--samples: must be at least 4"),
        "--seed": (["--seed", "-1"], "--seed: must be at least 0"),
        "--test-samples": (["--test-samples", "0"], "--test-samples: must be at least 1"),
        "--hidden": (["--hidden", "-4"], "--hidden: must list positive integers"),
        "--activation": (["--activation", "sine"], "--activation: invalid choice"),
        "--alpha": (["--alpha", "-0.5"], "--alpha: must be >= 0"),
        "--epochs": (["--epochs", "0"], "--epochs: must be at least 1"),
        "--seeds": (["--seeds", "5"], "--seeds: must list 2 distinct seeds"),
        "--resolution": (["--resolution", "1"], "--resolution: must be at least 2"),
        "--out": (["--out", "{a_file}"], "not a directory"),
        "unknown": (["--dataset", "digits"], "unrecognized arguments: --dataset digits"),
    },
}
CASES = [(c, k) for c, table in BAD.items() for k in table]


@pytest.mark.parametrize("command, case", CASES)
def test_bad_input_exits_non_zero_with_one_line_and_writes_nothing(command, case, tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    argv, message = BAD[command][case]
    argv = [a.format(a_file=a_file) for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "never")]
    # an unusable --out is found when the folder is made: status 1, as for mlpx width
    assert run([command, *argv]) == (1 if case == "--out" else 2)
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before anything was trained
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"mlpx {command}: error: "), captured.err
    assert message in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_every_option_default_and_every_option_has_a_bad_case(command, capsys):
    parser = build_parser().commands[command]
    assert run([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert f"usage: mlpx {command}" in text
    options = [a for a in parser._actions if a.option_strings
               and not isinstance(a, argparse._HelpAction)]
    assert options
    for action in options:
        assert action.help and f"(default: {action.default})" in text, action.option_strings
        assert any(action.option_strings[0] in argv for argv, _ in BAD[command].values()), (
            f"no bad value of {action.option_strings[0]} for mlpx {command}")


def test_the_commands_are_listed(capsys):
    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"\n    {name} " in out for name in COMMANDS)
