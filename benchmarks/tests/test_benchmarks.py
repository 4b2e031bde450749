"""The benchmark scripts (compare.py, batch_accounting.py, contention.py) and the asv suite.

Their machinery runs here on tiny problems (1 epoch, 1 repeat, a few hundred
rows), so these tests take seconds and say nothing about speed. The benchmarks
are not part of the installed package: the tests skip when the source tree's
benchmarks/ folder is absent (as in the wheel builders' test runs).
"""

import ctypes
import gc
import importlib.util
import json
import math
import statistics
import sys
from pathlib import Path

import numpy as np
import pytest
import threadpoolctl

ROOT = Path(__file__).resolve().parents[2]
COMPARE = ROOT / "benchmarks" / "compare.py"
ACCOUNTING = ROOT / "benchmarks" / "batch_accounting.py"
ASV_DIR = ROOT / "benchmarks" / "asv"
ASV_MLP = ASV_DIR / "benchmarks" / "mlp.py"


def _load(name, path):
    if not path.exists():
        pytest.skip(f"{path} is not there (the benchmarks are not installed)")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


@pytest.fixture(scope="module", autouse=True)
def _scripts_directory():
    # the scripts import harness.py from their own directory, as when run directly
    sys.path.insert(0, str(COMPARE.parent))
    yield
    sys.path.remove(str(COMPARE.parent))


def _script_fixture(name, path):
    @pytest.fixture(scope="module", name=name)
    def fixture():
        return _load(f"_mlpx_benchmarks_{name}", path)
    return fixture


compare = _script_fixture("compare", COMPARE)
harness = _script_fixture("harness", ROOT / "benchmarks" / "harness.py")
accounting = _script_fixture("accounting", ACCOUNTING)
contention = _script_fixture("contention", ROOT / "benchmarks" / "contention.py")
asv_mlp = _script_fixture("asv_mlp", ASV_MLP)


def tiny_config(compare, **overrides):
    """Every size at its smallest: 1 epoch, 1 repeat, 256 synthetic rows."""
    settings = dict(
        groups=("overhead",), threads=(1,), libraries=("mlpx", "sklearn"), repeats=1,
        overhead_epochs=1, overhead_batches=(200,), overhead_names=("digits",),
        compute_rows=256, compute_hidden_epochs=(((100,), 1),), predict_sizes=(1, 10),
        predict_seconds=0.002, predict_min_calls=2, memory_rows=300, memory_epochs=1,
        ceiling_seconds=0.01,
    )
    settings.update(overrides)
    return compare.Config(**settings)


# ----------------------------------------------------------------------------- flops


def test_epoch_flops_hand_computed(compare):
    # sizes 3-4-2, 5 rows: products 3*4 = 12 and 4*2 = 8.
    # forward 2*5*(12+8) = 200, weight gradients 200, deltas only above the
    # first layer: 2*5*8 = 80.
    assert compare.epoch_flops((3, 4, 2), 5) == 480
    assert compare.forward_flops((3, 4, 2), 5) == 200
    # One layer: no delta to propagate, forward + weight gradients only.
    assert compare.epoch_flops((4, 3), 2) == 2 * 2 * 12 * 2
    # digits 64-10-10-10: products 640, 100, 100 -> 2N(2*840 + 200).
    assert compare.epoch_flops([64, 10, 10, 10], 1797) == 2 * 1797 * 1880
    assert compare.epoch_flops((784, 100, 10), 10) == 10 * compare.epoch_flops(
        (784, 100, 10), 1)
    with pytest.raises(ValueError):
        compare.epoch_flops((5,), 10)


def test_synthetic_data_matches_unblocked_labels(compare):
    X, y = compare.make_synthetic(5000, n_features=20, seed=3)
    rng = np.random.default_rng(3)
    X_ref = rng.random((5000, 20))
    W = rng.standard_normal((20, 10))
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, np.argmax((X_ref - 0.5) @ W, axis=1))


# ----------------------------------------------------------------------------- runs


def _assert_time(value):
    assert isinstance(value, float) and math.isfinite(value) and value > 0


def test_tiny_run_training_rows_summary_and_json(compare, tmp_path):
    config = tiny_config(compare, groups=("overhead", "compute"), threads=(1, 2),
                         overhead_names=("digits", "diabetes"))
    result = compare.run(config)

    ceilings = {(c["dtype"], c["threads"]): c for c in result["ceilings"]}
    assert set(ceilings) == {(d, t) for d in ("float64", "float32") for t in (1, 2)}
    for c in ceilings.values():
        _assert_time(c["gflops"])
        assert c["gflops"] == max(c["single"], c["concurrent"])

    rows = result["rows"]
    # digits (10, 10) and (100,): 2 dtypes each, diabetes: float64; compute: 2 dtypes;
    # each at 1 and 2 threads.
    assert [r["group"] for r in rows].count("overhead") == 10
    assert [r["group"] for r in rows].count("compute") == 4
    for r in rows:
        assert r["unit"] == "ms/epoch"
        _assert_time(r["mlpx"])
        _assert_time(r["sklearn"])
        assert r["torch"] is None and r["torch_over_mlpx"] is None
        assert r["sklearn_over_mlpx"] == pytest.approx(r["sklearn"] / r["mlpx"])
        flops = compare.epoch_flops(r["layer_sizes"], r["n_rows"])
        assert r["gflops"] == pytest.approx(flops / (r["mlpx"] / 1000) / 1e9)
        if r["group"] == "compute":  # its own ceiling, measured after each repeat
            assert len(r["runs"]) == 2 and len(r["ceiling_runs"]) == config.repeats
            assert r["ceiling_gflops"] == statistics.median(r["ceiling_runs"])
            _assert_time(r["ceiling_gflops"])
        else:
            assert r["ceiling_gflops"] == ceilings[r["dtype"], r["threads"]]["gflops"]
        assert r["pct_ceiling"] == pytest.approx(100 * r["gflops"] / r["ceiling_gflops"])
        assert isinstance(r["met"], bool)
        assert r["met"] == all(c["met"] for c in r["checks"] if c["met"] is not None)
        one = next(o for o in rows if (o["case"], o["dtype"], o["batch"], o["threads"])
                   == (r["case"], r["dtype"], r["batch"], 1))
        assert r["efficiency"] == pytest.approx(one["mlpx"] / (r["threads"] * r["mlpx"]))
    digits = next(r for r in rows if r["case"].startswith("digits"))
    assert digits["layer_sizes"] == [64, 10, 10, 10]
    assert digits["target"] == "sklearn/mlpx >= 8"
    diabetes = next(r for r in rows if r["case"].startswith("diabetes"))
    assert diabetes["layer_sizes"] == [10, 50, 1]
    compute_2t = next(r for r in rows if r["group"] == "compute" and r["threads"] == 2)
    assert "% ceiling >= 75" in compute_2t["target"]
    assert "sklearn/mlpx >= 2" in compute_2t["target"]

    derived = result["derived"]
    # 1t/2t for each overhead (case, dtype) and compute dtype; f64/f32 per thread count
    assert len(derived) == 5 + 2 + 2
    keys = {(d["what"], d["group"], d["dtype"], d["threads"]) for d in derived}
    assert ("mlpx time 1t/2t", "overhead", "float32", "1->2") in keys
    assert ("mlpx time 1t/2t", "compute", "float64", "1->2") in keys
    assert ("mlpx time f64/f32", "compute", "64->32", 2) in keys
    for d in derived:
        _assert_time(d["value"])
        assert d["met"] == (d["value"] >= d["threshold"])
    checks = [c for r in rows for c in r["checks"]] + result["derived"]
    counted = [c for c in checks if c["met"] is not None]
    assert result["targets"] == dict(met=sum(c["met"] for c in counted), total=len(counted))

    report = compare.format_report(result)
    table_lines = [line for line in report.splitlines() if line.startswith("| ")]
    assert len(table_lines) == len(ceilings) + len(rows) + len(derived) + 3  # 3 headers
    assert report.splitlines()[-1] == (
        f"targets met: {result['targets']['met']} of {result['targets']['total']}")

    path = compare.write_json(result, tmp_path / "results" / "out.json")
    loaded = json.loads(path.read_text())
    assert loaded["targets"] == result["targets"]
    assert len(loaded["rows"]) == len(rows)
    machine = loaded["machine"]
    assert {"platform", "cpu_count", "versions", "threadpool_info"} <= set(machine)
    assert machine["versions"]["mlpx"] and machine["versions"]["sklearn"]
    assert isinstance(machine["threadpool_info"], list)


def test_training_interleaves_dtypes_and_thread_budgets_within_each_repeat(
        compare, monkeypatch):
    # The 1t/2t and f64/f32 ratios compare variants timed side by side: each
    # repeat runs every (dtype, threads) variant, each with every library.
    calls = []

    def fake_fit(cls, X, y, params):
        lib = "mlpx" if cls.__module__.startswith("mlpx") else "sklearn"
        blas = next(p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas")
        calls.append((lib, X.dtype.name, blas["num_threads"], len(X)))
        est = cls(**params)
        est.coefs_ = [np.zeros((1, 1), X.dtype)]
        return 1.0 + len(calls), est

    monkeypatch.setattr(compare, "fit_ms_per_epoch", fake_fit)
    case = compare.overhead_cases(1, (200,), ("digits",))[0]
    variants = [("float64", 1), ("float64", 2), ("float32", 1), ("float32", 2)]
    res = compare.time_training(case, variants, 200, 2, ("mlpx", "sklearn"))
    n = len(case.X)
    timed = [c for c in calls if c[3] == n]
    assert len(calls) - len(timed) == 2 * len(variants)  # one warm-up fit each
    order = [(dtype, threads, lib) for dtype, threads in variants
             for lib in ("mlpx", "sklearn")]
    assert [(d, t, lib) for lib, d, t, _ in timed] == order * 2
    assert set(res) == set(variants)
    first = 2 * len(variants)  # ms of the first timed call, then one more per call
    for i, (dtype, threads, lib) in enumerate(order * 2):
        assert res[dtype, threads][lib]["runs"][i // len(order)] == 1.0 + first + i + 1


def test_tiny_run_predict_rows(compare):
    result = compare.run(tiny_config(compare, groups=("predict",)))
    rows = result["rows"]
    # 2 models x (predict, predict_proba) x 2 sizes x 1 thread budget
    assert len(rows) == 8
    for r in rows:
        assert r["unit"] == "ms/call" and r["batch"] in (1, 10)
        _assert_time(r["mlpx"])
        _assert_time(r["sklearn"])
        assert r["target"] == "sklearn/mlpx >= 10"  # 10x for up to 100 rows
    assert {r["case"].rsplit(" ", 1)[1] for r in rows} == {"predict", "predict_proba"}


def test_memory_is_measured_in_a_fresh_process(compare):
    res = compare.measure_memory("mlpx", 300, 1, epochs=1)
    assert res["lib"] == "mlpx" and res["n_rows"] == 300 and res["threads"] == 1
    assert res["rss_before_mb"] > 0
    assert res["peak_mb"] >= res["increase_mb"] >= 0
    if sys.platform.startswith("linux"):
        # the child's own peak, not the ru_maxrss it inherits from this process
        assert res["peak_source"] == "VmHWM"
        assert res["peak_mb"] < compare.current_rss_bytes() / 2**20 + 2048


def test_command_line(compare):
    args = compare.parse_args(["--only", "overhead,predict", "--only", "memory",
                               "--threads", "1,2", "--quick", "--json", "x.json"])
    config = compare.config_from_args(args)
    assert config.groups == ("overhead", "predict", "memory")
    assert config.threads == (1, 2)
    assert config.repeats == 1 and config.compute_rows == 6000
    full = compare.config_from_args(compare.parse_args(["--repeats", "3", "--no-torch"]))
    assert full.groups == compare.GROUPS and full.repeats == 3
    assert full.compute_rows == 60000 and "torch" not in full.libraries
    assert compare.config_from_args(compare.parse_args([])).repeats == 5
    assert Path(compare.parse_args([]).json) == ROOT / "benchmarks" / "results" / "compare.json"
    for bad in (["--only", "speed"], ["--repeats", "0"], ["--threads", "0"],
                ["--threads", "a"]):
        with pytest.raises(SystemExit):
            compare.parse_args(bad)


# ----------------------------------------------------------------------------- torch


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_torch_loop_and_predict_weights(compare):
    torch = pytest.importorskip("torch")
    from mlpx import MLPXClassifier

    rng = np.random.default_rng(0)
    X = rng.random((150, 6))
    y = rng.integers(0, 3, 150)
    for dtype in (np.float64, np.float32):
        _assert_time(compare.torch_ms_per_epoch(torch, X.astype(dtype), y, (5,), True, 2, 32))
        _assert_time(compare.torch_ms_per_epoch(torch, X.astype(dtype), X[:, 0], (5, 4),
                                                False, 1, 64))
    est = MLPXClassifier(hidden_layer_sizes=(7,), max_iter=3, random_state=0).fit(X, y)
    net = compare.torch_from_fitted(torch, est)
    with torch.no_grad():
        proba = torch.softmax(net(torch.from_numpy(X)), dim=1).numpy()
    np.testing.assert_allclose(proba, est.predict_proba(X), rtol=1e-6, atol=1e-9)

    config = tiny_config(compare, libraries=("mlpx", "sklearn", "torch"))
    rows = compare.run(config, torch=torch)["rows"]
    assert len(rows) == 4  # both digits networks, float64 and float32, 1 thread
    for r in rows:
        _assert_time(r["torch"])
        assert r["torch_over_mlpx"] == pytest.approx(r["torch"] / r["mlpx"])


# ----------------------------------------------------------------------------- asv


def test_asv_config():
    conf_path = ASV_DIR / "asv.conf.json"
    if not conf_path.exists():
        pytest.skip("benchmarks/asv is not there")
    conf = json.loads(conf_path.read_text())
    assert conf["version"] == 1 and conf["project"] == "mlpx"
    assert (conf_path.parent / conf["repo"]).resolve() == ROOT
    assert (conf_path.parent / conf["benchmark_dir"] / "mlp.py").exists()


def test_asv_suite_smallest_params(asv_mlp):
    cls = asv_mlp.MLPXClassifierSuite
    assert len(cls.params) == len(cls.param_names)
    assert cls.param_names == ["dtype", "threads", "hidden_layer_sizes"]
    smallest = [values[0] for values in cls.params]
    assert smallest == ["float64", 1, (10, 10)]
    bench = cls()
    bench.setup(*smallest)
    assert bench.fitted.n_iter_ == asv_mlp.EPOCHS[10, 10]
    assert bench.fitted.coefs_[0].dtype == np.float64
    assert bench.time_fit(*smallest) is None
    assert bench.peakmem_fit(*smallest) is None
    assert bench.time_predict(*smallest) is None
    score = bench.track_score(*smallest)
    assert isinstance(score, float) and 0.5 < score <= 1.0  # ~0.85, chance is 0.1
    assert cls.track_score.unit == "accuracy"
    names = [n for n in dir(cls) if n.split("_")[0] in ("time", "peakmem", "track")]
    assert sorted(names) == ["peakmem_fit", "time_fit", "time_predict", "track_score"]


# ----------------------------------------------------------------------------- accounting

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_accounting_products_compute_the_layer_every_way(accounting, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((150, 40)).astype(dtype)
    W = rng.standard_normal((40, 30)).astype(dtype)
    delta = rng.standard_normal((150, 30)).astype(dtype)
    tasks = [(0, 0, 13), (0, 13, 40), (1, 0, 30)]  # layer 1's task is not timed
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for name in ("forward, one call", "forward, 3 chunks", "gradient, one call",
                 "gradient, 2 tasks"):
        out = np.full((150, 30), np.nan, dtype)
        grad = np.full((40, 30), np.nan, dtype)
        ways = accounting.product_calls(dtype, x, W, delta, out, grad, 64, tasks)
        # the calls' arguments must outlive product_calls: reuse freed memory first
        gc.collect()
        scratch = [ctypes.c_double(0.0) for _ in range(2000)]  # noqa: F841
        for call in ways[name]:
            call()
        if name.startswith("forward"):
            np.testing.assert_allclose(out, x.astype(float) @ W, rtol=rtol, atol=rtol)
        else:
            np.testing.assert_allclose(grad, x.T.astype(float) @ delta, rtol=rtol,
                                       atol=rtol)


@pytest.mark.parametrize("threads", [1, 2])
def test_accounting_tiny_run_reports_the_split(accounting, compare, capsys, threads):
    X, y = compare.make_synthetic(500)
    accounting.account("float64", 16, 400, 1, X, y, threads)
    report = capsys.readouterr().out
    assert f"784-16-10, batch 200, {threads} thread(s)" in report
    assert "chunks of 100 rows" in report
    assert "% of ceiling" in report and "the rest" in report
    if accounting.cpu_jiffies() is not None:
        assert "stolen by the hypervisor" in report


def test_accounting_cpu_jiffies_count_forward(accounting):
    # reads /proc/stat where it exists; elsewhere the report leaves the line out
    before = accounting.cpu_jiffies()
    sum(i * i for i in range(200000))
    after = accounting.cpu_jiffies()
    if before is None:
        assert not Path("/proc/stat").exists()
        return
    assert 0 <= before[0] <= before[1]
    assert after[0] >= before[0] and after[1] >= before[1]


def test_concurrent_seconds_runs_every_call_on_its_thread(harness):
    ran = []
    lists = [[lambda: ran.append("a0"), lambda: ran.append("a1")], [lambda: ran.append("b")]]
    assert harness.concurrent_seconds(lists, 3) > 0
    assert sorted(ran) == sorted(["a0", "a1"] * 3 + ["b"] * 3)
    ran.clear()
    harness.concurrent_seconds(lists[:1], 2)
    assert ran == ["a0", "a1", "a0", "a1"]


def test_contention_report_marks_each_row_against_the_target(contention):
    rows = {"a": {"one": 1.0, "default": 1.0 / 0.95}, "b": {"one": 1.0, "default": 2.0}}
    after = {"rows": {"c": {"alone": 1.0, "after_sklearn": 1.05, "after_numpy": 1.5}},
             "default_threads": 2}
    table, ok = contention.report({"busy": {"rows": rows, "default_threads": 2},
                                   "busy, OMP_NUM_THREADS=8": {"rows": {}, "default_threads": 8},
                                   "after BLAS": after})
    lines = table.splitlines()
    assert any("| busy | a |" in line and "| 0.95 |" in line and line.endswith("| yes |")
               for line in lines)
    assert any("| busy | b |" in line and "| 0.50 |" in line and line.endswith("| no |")
               for line in lines)
    assert any("after a scikit-learn fit | c" in line and line.endswith("| yes |")
               for line in lines)
    assert any("after a numpy product | c" in line and line.endswith("| no |")
               for line in lines)
    assert ok is False


def test_jax_peer_times_a_compiled_epoch(harness):
    pytest.importorskip("jax")
    pytest.importorskip("optax")
    peer = _load("_mlpx_benchmarks_jax_peer", ROOT / "benchmarks" / "jax_peer.py")
    assert peer.available()
    rng = np.random.default_rng(0)
    X = rng.random((64, 5))
    for y, classifier in ((rng.integers(0, 3, 64), True), (rng.random(64), False)):
        res = peer.run_child(X, y, (4,), classifier, epochs=2, batch_size=16, threads=1,
                             repeats=2)
        assert len(res["runs"]) == 2 and all(r > 0 for r in res["runs"])
        assert res["ms_per_epoch"] == statistics.median(res["runs"])
        assert res["compile_s"] > 0


def test_seeds_on_dask_smoke_run(capsys):
    pytest.importorskip("distributed")
    script = _load("_mlpx_benchmarks_seeds_on_dask", ROOT / "benchmarks" / "seeds_on_dask.py")
    assert script.main(["--seeds", "4", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "tables identical on every path" in out
    assert "compiled blocks of seeds" in out and "one seed per task" in out
