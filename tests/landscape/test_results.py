"""mlpx.landscape._results: SeedStudy tables, summary, save / load."""

import warnings
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from mlpx import MLPXClassifier, MLPXRegressor
from mlpx.landscape import SeedStudy, _results, agreement_over_epochs, agreement_study, train_seeds
from mlpx.landscape._agreement import _agree_mask
from mlpx.landscape._losses import data_loss


@pytest.fixture(scope="module")
def study():
    X, y = load_digits(return_X_y=True)
    X = X / 16
    return agreement_study(X[:200], y[:200], X_test=X[200:300], y_test=y[200:300],
                           seeds=[0, 1, 2], hidden_layer_sizes=(8,), epochs=3)


@pytest.fixture(scope="module")
def regression_study():
    X, y = load_digits(return_X_y=True)
    est = MLPXRegressor(hidden_layer_sizes=(8,), max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return train_seeds(est, X[:200] / 16, (y[:200] - 4.5) / 3, [0, 1],
                           record=("loss", "predictions", "params"), name="reg")


def assert_same_study(a, b):
    pd.testing.assert_frame_equal(a.per_seed, b.per_seed, check_exact=True)
    pd.testing.assert_frame_equal(a.pairs, b.pairs, check_exact=True)
    assert a.meta == b.meta
    assert a.arrays.keys() == b.arrays.keys()
    for setup in a.arrays:
        assert a.arrays[setup].keys() == b.arrays[setup].keys()
        for key, value in a.arrays[setup].items():
            assert value.dtype == b.arrays[setup][key].dtype
            np.testing.assert_array_equal(value, b.arrays[setup][key])
        for ea, eb in zip(a.estimators[setup], b.estimators[setup], strict=True):
            assert type(ea) is type(eb) and ea.get_params() == eb.get_params()
            np.testing.assert_array_equal(ea._params, eb._params)


def test_per_seed_table_has_one_row_per_setup_seed_epoch(study):
    df = study.per_seed
    assert len(df) == 4 * 3 * 3  # 4 setups x 3 seeds x 3 epochs
    assert list(df.columns) == ["setup", "seed", "epoch", "train_loss", "test_loss",
                                "penalty", "train_score", "test_score"]
    assert not df.duplicated(["setup", "seed", "epoch"]).any()
    row = df[(df.setup == "logloss_softmax") & (df.seed == 2) & (df.epoch == 3)].iloc[0]
    # train and test losses are the same quantity: the data loss at the epoch's end
    final = study.estimators["logloss_softmax"][2]
    X, y = load_digits(return_X_y=True)
    assert row.train_loss == data_loss(final, X[:200] / 16, y[:200])
    assert row.test_loss == data_loss(final, X[200:300] / 16, y[200:300])


def test_pairs_table_matches_the_agreement_functions(study):
    df = study.pairs
    assert len(df) == 4 * 3 * 3  # 4 setups x 3 pairs x 3 epochs
    D = agreement_over_epochs(study, setup="bce_sigmoid", normalize=False)
    sub = df[df.setup == "bce_sigmoid"]
    for _, r in sub.iterrows():
        i, j, e = study.seeds.index(r.seed_a), study.seeds.index(r.seed_b), r.epoch - 1
        assert r.train_agree_count == D[e, i, j]
        assert r.train_agree_count + r.train_disagree_count == 200
        assert r.test_agree_count + r.test_disagree_count == 100
    assert (df.weight_diff_count > 0).all() and (df.weight_distance > 0).all()


def test_summary_is_the_last_epoch_mean_and_std(study):
    s = study.summary()
    assert list(s.index) == ["mse_no_softmax", "mse_softmax", "bce_sigmoid", "logloss_softmax"]
    last = study.per_seed[(study.per_seed.epoch == 3)
                          & (study.per_seed.setup == "bce_sigmoid")]
    assert s.loc["bce_sigmoid", "test_loss_mean"] == last.test_loss.mean()
    assert s.loc["bce_sigmoid", "test_loss_std"] == last.test_loss.std()
    pairs = study.pairs[(study.pairs.epoch == 3) & (study.pairs.setup == "bce_sigmoid")]
    assert s.loc["bce_sigmoid", "train_agreement_mean"] == pairs.train_agreement.mean()


def test_agreement_matrix_method(study):
    M = study.agreement_matrix("mse_no_softmax", epoch=2, split="test")
    pairs = study.pairs[(study.pairs.setup == "mse_no_softmax") & (study.pairs.epoch == 2)]
    assert M[0, 2] == pairs[(pairs.seed_a == 0) & (pairs.seed_b == 2)].test_agreement.iloc[0]
    with pytest.raises(ValueError, match="not recorded"):
        study.agreement_matrix("mse_no_softmax", epoch=7)
    with pytest.raises(ValueError, match="several setups"):
        study.agreement_matrix()
    with pytest.raises(ValueError, match="Unknown setup"):
        study.agreement_matrix("nope")


def test_save_load_round_trips_exactly(study, tmp_path):
    out = study.save(tmp_path / "study")
    assert sorted(p.name for p in out.iterdir()) == [
        ".mlpx-files", "arrays.npz", "estimators.pkl", "pairs.csv", "per_seed.csv",
        "study.json"]
    loaded = SeedStudy.load(out)
    assert_same_study(study, loaded)
    assert loaded.summary().equals(study.summary())


def test_regression_study_round_trips_and_compares_within_tolerance(regression_study,
                                                                     tmp_path):
    s = regression_study
    assert {"train_rms_gap", "train_agreement"} <= set(s.pairs.columns)
    assert s.meta["kinds"] == {"reg": "regression"}
    assert s.meta["regression_tol_abs"]["reg"] > 0
    assert_same_study(s, SeedStudy.load(s.save(tmp_path / "reg")))


def test_save_refuses_to_overwrite_unless_asked(study, tmp_path):
    target = study.save(tmp_path / "s")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        study.save(target)
    (target / "per_seed.csv").write_text("stale")
    study.save(target, overwrite=True)
    assert_same_study(study, SeedStudy.load(target))


def test_save_never_replaces_a_directory_that_holds_no_study(study, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="refusing"):
        study.save(tmp_path / "mine", overwrite=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_overwrite_never_deletes_a_users_files_beside_a_study(study, tmp_path):
    # a saved study, and files of the user's put into its directory afterwards
    target = study.save(tmp_path / "s")
    (target / "notes.txt").write_text("keep me")
    (target / "sub").mkdir()
    (target / "sub" / "data.bin").write_bytes(b"\x00\x01")
    with pytest.raises(FileExistsError, match="did not write.*notes.txt"):
        study.save(target, overwrite=True)
    assert (target / "notes.txt").read_text() == "keep me"
    assert (target / "sub" / "data.bin").read_bytes() == b"\x00\x01"
    assert_same_study(study, SeedStudy.load(target))


def test_the_current_directory_is_never_replaced(study, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study.save(tmp_path / "s")
    monkeypatch.chdir(tmp_path / "s")
    for target in (".", ".."):
        with pytest.raises(FileExistsError, match="current directory"):
            study.save(target, overwrite=True)
    assert_same_study(study, SeedStudy.load(tmp_path / "s"))


def test_a_failed_save_writes_nothing(study, tmp_path, monkeypatch):
    def fail_half_way(self, directory):
        (directory / "per_seed.csv").write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(SeedStudy, "write_files", fail_half_way)
    with pytest.raises(OSError, match="disk full"):
        study.save(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_overwrite_keeps_the_previous_study(study, tmp_path, monkeypatch):
    target = study.save(tmp_path / "out")
    monkeypatch.setattr(SeedStudy, "write_files", lambda self, d: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        study.save(target, overwrite=True)
    monkeypatch.undo()
    assert_same_study(study, SeedStudy.load(target))
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_load_rejects_a_directory_without_a_study(tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved study"):
        SeedStudy.load(tmp_path)
    (tmp_path / "study.json").write_text('{"meta": {"format": "other"}}')
    with pytest.raises(ValueError, match="not an mlpx seed study"):
        SeedStudy.load(tmp_path)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_pairs_report_raw_and_aligned_weight_distances_of_the_final_networks(activation):
    from mlpx.landscape import weight_distance

    X, y = load_digits(return_X_y=True)
    s = agreement_study(X[:200] / 16, y[:200], seeds=[0, 1, 2], hidden_layer_sizes=(8, 6),
                        epochs=3, activation=activation, setups=["logloss_softmax"])
    last = s.pairs[s.pairs.epoch == s.pairs.epoch.max()]
    assert len(last) == 3 and last.aligned_weight_distance.notna().all()
    assert s.pairs[s.pairs.epoch < s.pairs.epoch.max()].aligned_weight_distance.isna().all()
    ests = s.estimators["logloss_softmax"]
    for (i, j), (_, row) in zip([(0, 1), (0, 2), (1, 2)], last.iterrows()):
        d = weight_distance(ests[i], ests[j], aligned=True, tau=s.meta["tau"])
        assert row.aligned_weight_distance == pytest.approx(d.l2, rel=1e-9)
        assert row.aligned_weight_diff_count == d.diff_count
        if activation == "tanh":  # same space as the raw distance: matching never hurts
            assert row.aligned_weight_distance <= row.weight_distance + 1e-12
    summary = s.summary().loc["logloss_softmax"]
    assert summary.aligned_weight_distance_mean == pytest.approx(
        last.aligned_weight_distance.mean())


# ------------------------------------------------ the pairs table, vectorised
def pairs_table_reference(arrays, meta):
    """The pairs table row by row, as mlpx built it before it was vectorised."""
    seeds = meta["seeds"]
    frames = []
    for setup, arr in arrays.items():
        kind, tau = meta["kinds"][setup], meta["tau"]
        tol = meta["regression_tol_abs"][setup]
        rows = []
        last = len(arr["epochs"]) - 1
        for p, (i, j) in enumerate(combinations(range(len(seeds)), 2)):
            for e, epoch in enumerate(arr["epochs"]):
                row = {"setup": setup, "seed_a": seeds[i], "seed_b": seeds[j],
                       "epoch": int(epoch)}
                for split in ("train", "test"):
                    if f"{split}_pred" not in arr:
                        continue
                    a, b = arr[f"{split}_pred"][i, e], arr[f"{split}_pred"][j, e]
                    agree = int(_agree_mask(a, b, kind, tol).sum())
                    row[f"{split}_agreement"] = agree / a.shape[0]
                    row[f"{split}_agree_count"] = agree
                    row[f"{split}_disagree_count"] = a.shape[0] - agree
                    if kind == "regression":
                        row[f"{split}_rms_gap"] = float(np.sqrt(np.mean((a - b) ** 2)))
                if "params" in arr:
                    diff = arr["params"][i, e].astype(float) - arr["params"][j, e]
                    row["weight_diff_count"] = int(np.count_nonzero(np.abs(diff) > tau))
                    row["weight_distance"] = float(np.linalg.norm(diff))
                if e == last and "aligned_weight_distance" in arr:
                    row["aligned_weight_distance"] = float(arr["aligned_weight_distance"][p])
                    row["aligned_weight_diff_count"] = int(
                        arr["aligned_weight_diff_count"][p])
                rows.append(row)
        frames.append(pd.DataFrame(rows))
    return pd.concat(frames, ignore_index=True)


# Block sizes in bytes: one pair at one epoch per block; a few pair-epochs
# (blocks that split the epochs of a pair); tens (several pairs, splitting the
# pairs of one seed); the default.
BLOCKS = [1, 3000, 50_000, _results._BLOCK_BYTES]


def assert_pairs_match_the_reference(study, monkeypatch):
    expected = pairs_table_reference(study.arrays, study.meta)
    pd.testing.assert_frame_equal(study.pairs, expected, check_exact=True)
    for block in BLOCKS:
        monkeypatch.setattr(_results, "_BLOCK_BYTES", block)
        got = _results._pairs_table(study.arrays, study.meta)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


def _digits(n=120):
    X, y = load_digits(return_X_y=True)
    return X[:n] / 16, y[:n], X[n:n + 60] / 16, y[n:n + 60]


@pytest.mark.parametrize("n_seeds", [2, 7])
@pytest.mark.parametrize("record", [("loss", "predictions", "params"), ("loss", "predictions"),
                                    ("loss", "params"), "loss"])
def test_pairs_table_of_a_classification_study_matches_the_reference(n_seeds, record,
                                                                     monkeypatch):
    X, y, X_test, y_test = _digits()
    s = agreement_study(X, y, X_test=X_test, y_test=y_test, seeds=range(10, 10 + n_seeds),
                        hidden_layer_sizes=(5,), epochs=3, record=record)
    assert "aligned_weight_distance" in s.pairs
    assert ("weight_distance" in s.pairs) == ("params" in record)
    assert ("test_agree_count" in s.pairs) == ("predictions" in record)
    assert_pairs_match_the_reference(s, monkeypatch)


@pytest.mark.parametrize("n_seeds", [2, 7])
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pairs_table_of_a_regression_study_matches_the_reference(n_seeds, n_outputs, dtype,
                                                                 monkeypatch):
    X, y, X_test, y_test = _digits()
    Y = np.column_stack([y, y ** 2 / 9, X[:, 20]])[:, :n_outputs]
    Y_test = np.column_stack([y_test, y_test ** 2 / 9, X_test[:, 20]])[:, :n_outputs]
    est = MLPXRegressor(hidden_layer_sizes=(4,), max_iter=3, learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        s = train_seeds(est, X.astype(dtype), Y.squeeze(), list(range(n_seeds)),
                        X_test=X_test.astype(dtype), y_test=Y_test.squeeze(),
                        record=("loss", "predictions", "params"), regression_tol=0.5)
    assert s.arrays["MLPXRegressor"]["train_pred"].dtype == dtype
    assert s.arrays["MLPXRegressor"]["params"].dtype == dtype
    assert s.arrays["MLPXRegressor"]["train_pred"].ndim == (3 if n_outputs == 1 else 4)
    # some pairs agree on some samples and not on others: the tolerance is tested
    counts = s.pairs.train_agree_count
    assert ((counts > 0) & (counts < len(X))).any()
    assert_pairs_match_the_reference(s, monkeypatch)


def test_pairs_table_of_multilabel_and_string_label_studies_matches_the_reference(
        monkeypatch):
    X, y, X_test, y_test = _digits()
    Y = np.eye(10, dtype=int)[y][:, :4]  # multi-output labels (multilabel indicator)
    est = MLPXClassifier(hidden_layer_sizes=(5,), max_iter=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        multilabel = train_seeds(est, X, Y, range(7), record=("predictions", "params"))
        words = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                          "eight", "nine"])
        strings = train_seeds(est, X, words[y], range(7), X_test=X_test,
                              y_test=words[y_test], record="predictions")
    assert multilabel.arrays["MLPXClassifier"]["train_pred"].shape == (7, 4, len(X), 4)
    assert strings.arrays["MLPXClassifier"]["train_pred"].dtype.kind == "U"
    for s in (multilabel, strings):
        assert_pairs_match_the_reference(s, monkeypatch)


def test_pairs_table_with_a_single_recorded_epoch_matches_the_reference(monkeypatch):
    # the aligned distances are on every row: their count column stays integer
    X, y, _, _ = _digits()
    est = MLPXClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        s = train_seeds(est, X, y, range(7), record=("predictions", "params"))
    assert len(s.arrays["MLPXClassifier"]["epochs"]) == 1
    assert s.pairs.aligned_weight_diff_count.dtype == np.int64
    assert_pairs_match_the_reference(s, monkeypatch)


def test_pairs_table_of_synthetic_arrays_matches_the_reference(monkeypatch):
    # Several setups of different kinds, shapes and dtypes in one table, with
    # ties, NaN and values exactly at the tolerance; recorded epochs not 1..E.
    rng = np.random.default_rng(0)
    K, E, n, n_params = 9, 5, 40, 300
    tol = 0.25
    grid = rng.integers(-4, 5, size=(K, E, n, 2)) * tol  # differences at the tolerance
    labels = rng.integers(0, 3, size=(K, E, n))
    labels[:, :, :10] = 1  # samples every pair agrees on
    floats = rng.standard_normal((K, E, n)).astype(np.float32)
    floats[2, 1, 5] = np.nan
    params = rng.standard_normal((K, E, n_params)) * rng.uniform(0.01, 1, (K, 1, 1))
    params[3] = params[4]  # a pair with identical weights
    n_pairs = K * (K - 1) // 2
    aligned = {"aligned_weight_distance": rng.uniform(0, 3, n_pairs),
               "aligned_weight_diff_count": rng.integers(0, n_params, n_pairs)}
    epochs = np.array([2, 4, 6, 8, 9])
    arrays = {
        "labels": {"epochs": epochs, "train_pred": labels, "test_pred": labels[:, :, ::-1],
                   "params": params, **aligned},
        "grid": {"epochs": epochs, "train_pred": grid, "params": params.astype(np.float32)},
        "floats": {"epochs": epochs, "train_pred": floats, "test_pred": floats.astype(float),
                   **aligned},
    }
    meta = {"seeds": [5, 3, 11, 0, 7, 1, 2, 40, 9], "tau": 0.1,
            "kinds": {"labels": "classification", "grid": "regression",
                      "floats": "regression"},
            "regression_tol_abs": {"labels": None, "grid": tol, "floats": 0.5}}
    expected = pairs_table_reference(arrays, meta)
    for block in BLOCKS:
        monkeypatch.setattr(_results, "_BLOCK_BYTES", block)
        got = _results._pairs_table(arrays, meta)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # the data exercise what they are meant to
    grid_rows = expected[expected.setup == "grid"]
    assert ((grid_rows.train_agree_count > 0) & (grid_rows.train_agree_count < n)).any()
    assert (expected[expected.setup == "labels"].train_agree_count >= 10).all()
    assert expected[expected.setup == "floats"].train_rms_gap.isna().any()
    same = expected[(expected.seed_a == 0) & (expected.seed_b == 7)
                    & (expected.setup != "floats")]  # seeds 3 and 4: identical params
    assert len(same) == 2 * E and (same.weight_distance == 0).all()
