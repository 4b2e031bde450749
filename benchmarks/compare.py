"""mlpx against scikit-learn and PyTorch, with the project's performance targets.

One run measures, on the same machine and under the same thread budget:

* **overhead**: time per epoch on small problems, where per-batch overhead
  dominates: digits (``load_digits``, X/16, classifier, hidden (10, 10), float64
  and float32; and hidden (100,), batch 200 only), diabetes (``load_diabetes``,
  X and y standardised, regressor, hidden (50,)) and a 20-feature regression
  (``make_regression(n_samples=2000, n_features=20, noise=1, random_state=0)``,
  y standardised, hidden (50,)); 30 epochs, batch 200 and batch 32. Targets:
  sklearn/mlpx >= 8 at batch 200, >= 12 at batch 32; mlpx on 2 threads not
  slower than on 1 thread.
* **compute**: time per epoch on a synthetic 60000 x 784, 10-class problem
  (uniform features, labels = argmax of a random linear map), hidden (100,)
  (2 epochs) and (500, 300) (1 epoch), float64 and float32, batch 200. Targets:
  mlpx >= 75 % of the GEMM ceiling; sklearn/mlpx >= 2 on 2 threads; faster than
  PyTorch; mlpx on 2 threads >= 1.7x its 1 thread; mlpx float32 >= 1.7x float64.
* **predict**: ``predict`` and ``predict_proba`` of a fitted digits 64-10-10-10
  and a fitted 784-100-10 model, on 1, 10, 100, 1000 and 10000 rows (median of
  as many calls as fit in ~0.2 s). Targets: sklearn/mlpx >= 1 at every size,
  >= 10 for 1-100 rows.
* **memory**: peak memory increase of ``fit`` (2 epochs) on the 60000 x 784
  float64 problem, hidden (100,), each library in a fresh subprocess. Target:
  mlpx <= sklearn.

Training is timed with identical settings for every library: solver="adam",
learning_rate_init=1e-3, alpha=1e-4, shuffle=True, random_state=r (the repeat
index), tol=0, n_iter_no_change=epochs+1, early_stopping=False, so that every
one of the ``max_iter`` epochs runs; time per epoch = wall time of ``fit`` /
``n_iter_``. PyTorch (only when ``import torch`` works: it is an optional extra)
runs the equivalent eager loop: ``nn.Sequential`` of Linear+ReLU in the data's
dtype, ``Adam(lr=1e-3, weight_decay=1e-4)``, CrossEntropyLoss (classifiers) or
MSELoss (regressors), a ``torch.randperm`` shuffle per epoch and mini-batches
by indexing the tensors; its time per epoch is the loop's time / epochs. (The
weight decay applies alpha per step where sklearn scales it by 1/batch and skips
biases: the same work, which is what is timed.) Every
cell is the median over the repeats. Within a repeat every dtype and thread
budget of a case runs in turn, each with every library, so that the ratios
between libraries, between thread budgets (1t/2t) and between dtypes (f64/f32)
compare fits timed side by side.

The thread budget t is ``threadpoolctl.threadpool_limits(limits=t)`` on all APIs
(BLAS threads for scikit-learn, OpenMP threads for mlpx), plus
``torch.set_num_threads(t)`` for PyTorch.

"mlpx par. eff." is mlpx's parallel efficiency: its time on 1 thread / (t x its
time on t threads), 1 for perfect scaling; ``--threads 1,2,4,8,16`` runs every
budget on any machine (more threads than cores measure oversubscription).

mlpx GFLOP/s counts the flops an epoch really does (see ``epoch_flops``). The
GEMM ceiling, measured in the same run for each dtype and thread count t, is the
best of (a) one ``np.matmul`` (200 x 784) @ (784 x 100) with t BLAS threads and
(b) t Python threads each running that product concurrently with BLAS on one
thread; "% ceil" is mlpx GFLOP/s over that ceiling. The ceiling table at the
top is measured once, at the start; a compute-bound row's ceiling is measured
again after each of its repeats, interleaved with the fits like the libraries
(this VM's speed drifts by 20-40 % within minutes, so a ceiling taken minutes
earlier would skew the share either way), and "ceil GFLOP/s" shows the median
that row's "% ceil" uses.

Run from the repository root:

    python benchmarks/compare.py                    # full run, several minutes
    python benchmarks/compare.py --quick            # smoke run, under a minute
    python benchmarks/compare.py --only overhead,predict --threads 1
    python benchmarks/compare.py --json results.json

``--quick`` is a smoke run (under a minute on an idle 2-core machine): 1 repeat,
3 epochs on the small problems, 6000 synthetic rows for 1 epoch, predict
batches up to 1000 rows, 0.1 s per ceiling. Its numbers are not meaningful.
"""

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import jax_peer  # this script's directory
import numpy as np
import sklearn
import threadpoolctl
from harness import (  # this script's directory
    ALPHA,
    LEARNING_RATE,
    epoch_flops,
    fit_ms_per_epoch,
    fit_params,
    forward_flops,
    gemm_ceiling,
    make_synthetic,
    thread_budget,
)
from sklearn.datasets import load_diabetes, load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from threadpoolctl import threadpool_limits

import mlpx
from mlpx import MLPXClassifier, MLPXRegressor
from mlpx._threads import tile_grid_in_use

try:  # Unix only; the memory benchmark falls back to it where /proc is missing
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None

GROUPS = ("overhead", "compute", "predict", "memory")
LIBRARIES = ("mlpx", "sklearn", "torch", "jax")
ESTIMATORS = {
    ("mlpx", True): MLPXClassifier,
    ("mlpx", False): MLPXRegressor,
    ("sklearn", True): MLPClassifier,
    ("sklearn", False): MLPRegressor,
}
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "compare.json"

# Targets.
OVERHEAD_MIN_SPEEDUP = {200: 8.0, 32: 12.0}  # sklearn/mlpx, by batch size
CEILING_MIN_PCT = 75.0
COMPUTE_MIN_SPEEDUP_2T = 2.0  # sklearn/mlpx on 2 threads
THREAD_MIN_SCALING = 1.7  # mlpx time(1 thread) / time(2 threads), compute cases
FLOAT32_MIN_SPEEDUP = 1.7  # mlpx time(float64) / time(float32), compute cases
PREDICT_MIN_SPEEDUP_SMALL = 10.0  # sklearn/mlpx for <= 100 rows
PREDICT_MIN_SPEEDUP = 1.0  # sklearn/mlpx at every size
PREDICT_SMALL_ROWS = 100


# --------------------------------------------------------------------------- flops


# --------------------------------------------------------------------------- data


def _standardise(a):
    return (a - a.mean(axis=0)) / a.std(axis=0)


@dataclasses.dataclass
class Case:
    """One training problem: data, network and what it is run with."""

    name: str
    X: np.ndarray
    y: np.ndarray
    hidden: tuple
    classifier: bool
    epochs: int
    dtypes: tuple
    batches: tuple

    def layer_sizes(self):
        n_out = len(np.unique(self.y)) if self.classifier else 1
        if self.classifier and n_out == 2:
            n_out = 1
        return (self.X.shape[1], *self.hidden, n_out)


def overhead_cases(epochs, batches, names=None):
    """The small, overhead-bound problems."""
    X_dig, y_dig = load_digits(return_X_y=True)
    X_dia, y_dia = load_diabetes(return_X_y=True)
    X_reg, y_reg = make_regression(n_samples=2000, n_features=20, noise=1, random_state=0)
    cases = [
        Case("digits", X_dig / 16.0, y_dig, (10, 10), True, epochs,
             ("float64", "float32"), batches),
        Case("digits", X_dig / 16.0, y_dig, (100,), True, epochs,
             ("float64", "float32"), batches[:1]),
        Case("diabetes", _standardise(X_dia), _standardise(y_dia), (50,), False, epochs,
             ("float64",), batches),
        Case("regression20", X_reg, _standardise(y_reg), (50,), False, epochs,
             ("float64",), batches),
    ]
    return [c for c in cases if names is None or c.name in names]


def compute_cases(n_rows, hidden_epochs, data=None):
    """The synthetic n_rows x 784 problem with each (hidden, epochs) of the config."""
    X, y = data if data is not None else make_synthetic(n_rows)
    return [
        Case(f"synthetic {len(X)}x784", X, y, tuple(hidden), True, epochs,
             ("float64", "float32"), (200,))
        for hidden, epochs in hidden_epochs
    ]


# --------------------------------------------------------------------------- config


@dataclasses.dataclass
class Config:
    """What a run measures, and how long it spends doing so."""

    groups: tuple = GROUPS
    threads: tuple = (1, 2)
    libraries: tuple = LIBRARIES  # torch and jax are dropped when they cannot be imported
    repeats: int = 5
    overhead_epochs: int = 30
    overhead_batches: tuple = (200, 32)
    overhead_names: tuple = None  # None: all overhead cases
    compute_rows: int = 60000
    compute_hidden_epochs: tuple = (((100,), 2), ((500, 300), 1))
    predict_sizes: tuple = (1, 10, 100, 1000, 10000)
    predict_seconds: float = 0.2
    predict_min_calls: int = 3
    memory_rows: int = 60000
    memory_epochs: int = 2
    ceiling_seconds: float = 0.3

    @classmethod
    def quick(cls, **overrides):
        """Tiny sizes, epochs and repeats: a smoke run of under a minute."""
        settings = dict(repeats=1, overhead_epochs=3, compute_rows=6000,
                        compute_hidden_epochs=(((100,), 1), ((500, 300), 1)),
                        predict_sizes=(1, 10, 100, 1000), predict_seconds=0.02,
                        predict_min_calls=2, memory_rows=6000, ceiling_seconds=0.1)
        settings.update(overrides)
        return cls(**settings)

    def as_json(self):
        return json.loads(json.dumps(dataclasses.asdict(self)))


# --------------------------------------------------------------------------- torch


def import_torch():
    """The torch module, or None when it is not installed (or fails to load)."""
    try:
        import torch
    except Exception:  # ImportError, or a broken install (OSError on its libraries)
        return None
    return torch


def _torch_dtype(torch, dtype):
    return {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[
        np.dtype(dtype)]


def torch_model(torch, layer_sizes, dtype):
    """nn.Sequential of Linear layers with ReLU between them, in ``dtype``."""
    nn = torch.nn
    layers = []
    pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    for i, (a, b) in enumerate(pairs):
        layers.append(nn.Linear(a, b, dtype=_torch_dtype(torch, dtype)))
        if i < len(pairs) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def torch_ms_per_epoch(torch, X, y, hidden, classifier, epochs, batch_size, seed=0):
    """Train the equivalent PyTorch network eagerly; return ms per epoch."""
    torch.manual_seed(seed)
    Xt = torch.from_numpy(np.ascontiguousarray(X))
    if classifier:
        classes, codes = np.unique(y, return_inverse=True)
        yt = torch.from_numpy(codes.astype(np.int64))
        n_out = len(classes)
        loss_fn = torch.nn.CrossEntropyLoss()
    else:
        yt = torch.from_numpy(np.ascontiguousarray(y, dtype=X.dtype).reshape(len(y), -1))
        n_out = yt.shape[1]
        loss_fn = torch.nn.MSELoss()
    model = torch_model(torch, (X.shape[1], *hidden, n_out), X.dtype)
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, weight_decay=ALPHA)
    n = len(Xt)
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n)
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    return 1000.0 * (time.perf_counter() - t0) / epochs


def torch_from_fitted(torch, est):
    """A torch model holding the weights of a fitted mlpx/sklearn estimator."""
    coefs = est.coefs_
    sizes = [coefs[0].shape[0]] + [c.shape[1] for c in coefs]
    model = torch_model(torch, sizes, coefs[0].dtype)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for lin, W, b in zip(linears, coefs, est.intercepts_):
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            lin.bias.copy_(torch.from_numpy(np.ascontiguousarray(b)))
    model.eval()
    return model


# --------------------------------------------------------------------------- GEMM ceiling


# --------------------------------------------------------------------------- training


def time_training(case, variants, batch_size, repeats, libraries, torch=None,
                  ceiling_seconds=None):
    """Median ms/epoch of each library on ``case`` in each (dtype, threads) variant.

    Within a repeat every variant runs, and within a variant every library,
    so that the ratios between libraries, thread budgets and dtypes are taken
    side by side and share any drift of the machine's speed. Returns
    {(dtype, threads): {library: {"median": ms, "runs": [ms, ...]}}}. With
    ``ceiling_seconds`` the GEMM ceiling of each variant is measured after its
    fits in each repeat too, under key "ceiling" (GFLOP/s).
    """
    data = {dtype: (np.ascontiguousarray(case.X, dtype=dtype),
                    case.y if case.classifier else case.y.astype(dtype))
            for dtype in {dtype for dtype, _ in variants}}
    in_process = tuple(lib for lib in libraries if lib != "jax")
    runs = {v: {lib: [] for lib in libraries} for v in variants}
    torch_mod = torch if "torch" in libraries else None

    def one(lib, X_, y_, epochs, seed):
        if lib == "torch":
            return torch_ms_per_epoch(torch, X_, y_, case.hidden, case.classifier,
                                      epochs, batch_size, seed)
        cls = ESTIMATORS[lib, case.classifier]
        ms, est = fit_ms_per_epoch(cls, X_, y_, fit_params(case.hidden, epochs,
                                                            batch_size, seed))
        if est.coefs_[0].dtype != X_.dtype:
            raise RuntimeError(f"{lib} trained in {est.coefs_[0].dtype}, not {X_.dtype}")
        return ms

    for dtype, threads in variants:  # untimed warm-up (2 batches of 200): first-call costs
        X, y = data[dtype]
        n_warm = min(len(X), 400)
        with thread_budget(threads, torch_mod):
            for lib in in_process:
                one(lib, X[:n_warm], y[:n_warm], 1, 0)
        if ceiling_seconds is not None:
            runs[dtype, threads]["ceiling"] = []
    for r in range(repeats):
        for dtype, threads in variants:
            X, y = data[dtype]
            with thread_budget(threads, torch_mod):
                for lib in in_process:
                    runs[dtype, threads][lib].append(one(lib, X, y, case.epochs, r))
                if ceiling_seconds is not None:
                    runs[dtype, threads]["ceiling"].append(
                        gemm_ceiling(dtype, threads, ceiling_seconds)["gflops"])
    if "jax" in libraries:  # its own interpreter per budget (see jax_peer.py)
        for dtype, threads in variants:
            X, y = data[dtype]
            res = jax_peer.run_child(X, y, case.hidden, case.classifier, case.epochs,
                                     batch_size, threads, repeats)
            runs[dtype, threads]["jax"] = res["runs"]
            runs[dtype, threads]["jax_compile_s"] = [res["compile_s"]]
    return {v: {lib: {"median": statistics.median(t), "runs": t}
                for lib, t in res.items()} for v, res in runs.items()}


# --------------------------------------------------------------------------- predict


def median_call_ms(fn, seconds, min_calls=3, max_calls=100000):
    """Median wall ms of ``fn()`` over as many calls as fit in ``seconds``."""
    fn()  # warm-up
    times = []
    deadline = time.perf_counter() + seconds
    while len(times) < min_calls or (time.perf_counter() < deadline
                                     and len(times) < max_calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000.0 * statistics.median(times)


def predict_models(case, libraries, torch=None):
    """Fit mlpx and sklearn on ``case`` (float64, batch 200); torch gets mlpx's weights."""
    X = np.ascontiguousarray(case.X, dtype=np.float64)
    models = {}
    for lib in ("mlpx", "sklearn"):
        if lib in libraries:
            params = fit_params(case.hidden, case.epochs, 200, 0)
            _, models[lib] = fit_ms_per_epoch(ESTIMATORS[lib, True], X, case.y, params)
    if "torch" in libraries and torch is not None:
        source = models["mlpx"] if "mlpx" in models else models["sklearn"]
        models["torch"] = (torch_from_fitted(torch, source), source.classes_)
    return X, models


def _predict_fn(lib, model, method, X, torch=None):
    if lib != "torch":
        return lambda: getattr(model, method)(X)
    net, classes = model

    def run():
        with torch.no_grad():
            out = net(torch.from_numpy(X))
            if method == "predict":
                return classes[out.argmax(dim=1).numpy()]
            return torch.softmax(out, dim=1).numpy()

    return run


# --------------------------------------------------------------------------- memory


def current_rss_bytes():
    """Resident set size now: /proc/self/statm, else ru_maxrss."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return ru_maxrss_bytes()


def ru_maxrss_bytes():
    if resource is None:  # pragma: no cover - Windows
        return 0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else 1024 * rss  # bytes on macOS, else KiB


def peak_rss_bytes():
    """Peak RSS of this process: VmHWM on Linux, else ru_maxrss.

    On Linux the child of a vfork/exec (how subprocess starts it) inherits the
    parent's ru_maxrss, so ru_maxrss would report the benchmark driver's peak;
    VmHWM belongs to the child's own address space.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return 1024 * int(line.split()[1]), "VmHWM"
    except (OSError, ValueError, IndexError):
        pass
    return ru_maxrss_bytes(), "ru_maxrss"


def reset_peak_rss():
    """Reset VmHWM to the current RSS where Linux allows it (writing 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def memory_child(lib, n_rows, threads, epochs=2):
    """In a fresh process: peak memory increase of one fit; returns a dict."""
    X, y = make_synthetic(n_rows)
    cls = ESTIMATORS[lib, True]  # both estimators are imported at module import
    before = current_rss_bytes()
    was_reset = reset_peak_rss()
    params = fit_params((100,), epochs, 200, 0)
    with threadpool_limits(limits=threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cls(**params).fit(X, y)
    peak, source = peak_rss_bytes()
    mb = 1024.0 * 1024.0
    return dict(lib=lib, n_rows=n_rows, threads=threads, epochs=epochs,
                rss_before_mb=before / mb, peak_mb=peak / mb,
                increase_mb=max(peak - before, 0) / mb, peak_source=source,
                peak_reset=was_reset)


def measure_memory(lib, n_rows, threads, epochs=2, timeout=600):
    """Run ``memory_child`` in a fresh interpreter (this script, hidden flag)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-child", lib,
           "--memory-rows", str(n_rows), "--memory-threads", str(threads),
           "--memory-epochs", str(epochs)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"memory child for {lib} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- checks


def check(what, value, op, threshold, target=None, **where):
    """One target: ``value op threshold``; value None (not measured) is not counted."""
    if value is None:
        met = None
    elif op == ">=":
        met = value >= threshold
    elif op == ">":
        met = value > threshold
    elif op == "<=":
        met = value <= threshold
    else:
        raise ValueError(op)
    return dict(what=what, value=value, op=op, threshold=threshold, met=met,
                target=target or f"{what} {op} {threshold:g}", **where)


def _ratio(a, b):
    return a / b if a is not None and b else None


def _row(group, case, dtype, threads, batch, unit, times, checks, **extra):
    mlpx_t, sk_t, torch_t, jax_t = (times.get(lib) for lib in LIBRARIES)
    counted = [c for c in checks if c["met"] is not None]
    met = None if not counted else all(c["met"] for c in counted)
    return dict(group=group, case=case, dtype=dtype, threads=threads, batch=batch,
                unit=unit, mlpx=mlpx_t, sklearn=sk_t, torch=torch_t, jax=jax_t,
                gflops=extra.pop("gflops", None), pct_ceiling=extra.pop("pct_ceiling", None),
                ceiling_gflops=extra.pop("ceiling_gflops", None),
                sklearn_over_mlpx=_ratio(sk_t, mlpx_t), torch_over_mlpx=_ratio(torch_t, mlpx_t),
                jax_over_mlpx=_ratio(jax_t, mlpx_t),
                target="; ".join(c["target"] for c in counted) or "-",
                met=met, checks=checks, **extra)


# --------------------------------------------------------------------------- run


def run(config, torch=None, on_row=None):
    """Run the benchmark groups of ``config``; return the results as a dict.

    ``torch`` is the torch module (None: PyTorch columns stay empty);
    ``on_row(row)`` is called as each row of the main table is ready (progress).
    """
    t_start = time.perf_counter()
    libraries = tuple(lib for lib in config.libraries
                      if (lib != "torch" or torch is not None)
                      and (lib != "jax" or jax_peer.available()))
    rows, derived = [], []

    def emit(row):
        rows.append(row)
        if on_row is not None:
            on_row(row)

    ceilings = []
    if {"overhead", "compute", "predict"} & set(config.groups):
        for dtype in ("float64", "float32"):
            for t in config.threads:
                ceilings.append(gemm_ceiling(dtype, t, config.ceiling_seconds))
    ceiling = {(c["dtype"], c["threads"]): c["gflops"] for c in ceilings}

    synthetic = None
    if {"compute", "predict"} & set(config.groups):
        synthetic = make_synthetic(config.compute_rows)

    def training_group(group, cases):
        medians = {}
        for case in cases:
            sizes = case.layer_sizes()
            flops = epoch_flops(sizes, len(case.X))
            variants = [(dtype, t) for dtype in case.dtypes for t in config.threads]
            for batch in case.batches:
                results = time_training(
                    case, variants, batch, config.repeats, libraries, torch,
                    config.ceiling_seconds if group == "compute" else None)
                for dtype, t in variants:
                    res = results[dtype, t]
                    measured = res.pop("ceiling", None)
                    ceil = measured["median"] if measured else ceiling[dtype, t]
                    compile_s = res.pop("jax_compile_s", None)
                    times = {lib: r["median"] for lib, r in res.items()}
                    medians[case.name, case.hidden, dtype, batch, t] = times["mlpx"]
                    one = medians.get((case.name, case.hidden, dtype, batch, 1))
                    # parallel efficiency: time on 1 thread / (t x time on t threads)
                    efficiency = one / (t * times["mlpx"]) if one else None
                    gflops = flops / (times["mlpx"] / 1000.0) / 1e9
                    pct = 100.0 * gflops / ceil
                    sk_ratio = _ratio(times.get("sklearn"), times["mlpx"])
                    torch_ratio = _ratio(times.get("torch"), times["mlpx"])
                    where = dict(group=group, case=case.name, dtype=dtype,
                                 threads=t, batch=batch)
                    if group == "overhead":
                        checks = [check("sklearn/mlpx", sk_ratio, ">=",
                                        OVERHEAD_MIN_SPEEDUP.get(batch, 8.0), **where)]
                    else:
                        checks = [check("% ceiling", pct, ">=", CEILING_MIN_PCT, **where)]
                        if t == 2:
                            checks.append(check("sklearn/mlpx", sk_ratio, ">=",
                                                COMPUTE_MIN_SPEEDUP_2T, **where))
                        checks.append(check("torch/mlpx", torch_ratio, ">", 1.0, **where))
                        checks.append(check("jax/mlpx", _ratio(times.get("jax"), times["mlpx"]),
                                            ">", 1.0, **where))
                    name = f"{case.name} {'-'.join(map(str, sizes))}"
                    emit(_row(group, name, dtype, t, batch, "ms/epoch", times, checks,
                              gflops=gflops, pct_ceiling=pct, ceiling_gflops=ceil,
                              efficiency=efficiency,
                              jax_compile_s=compile_s["median"] if compile_s else None,
                              epochs=case.epochs,
                              repeats=config.repeats, n_rows=len(case.X),
                              layer_sizes=list(sizes), epoch_flops=flops,
                              runs={lib: r["runs"] for lib, r in res.items()},
                              ceiling_runs=measured["runs"] if measured else None))
        return medians

    def thread_scaling(group, medians, minimum):
        for (name, hidden, dtype, batch, t), ms in medians.items():
            if t == 1 and (name, hidden, dtype, batch, 2) in medians:
                value = ms / medians[name, hidden, dtype, batch, 2]
                derived.append(check("mlpx time 1t/2t", value, ">=", minimum, group=group,
                                     case=f"{name} {hidden}", dtype=dtype, threads="1->2",
                                     batch=batch))

    if "overhead" in config.groups:
        cases = overhead_cases(config.overhead_epochs, tuple(config.overhead_batches),
                               config.overhead_names)
        thread_scaling("overhead", training_group("overhead", cases), 1.0)

    if "compute" in config.groups:
        cases = compute_cases(config.compute_rows, config.compute_hidden_epochs, synthetic)
        medians = training_group("compute", cases)
        thread_scaling("compute", medians, THREAD_MIN_SCALING)
        for (name, hidden, dtype, batch, t), ms in medians.items():
            if dtype == "float64" and (name, hidden, "float32", batch, t) in medians:
                value = ms / medians[name, hidden, "float32", batch, t]
                derived.append(check("mlpx time f64/f32", value, ">=", FLOAT32_MIN_SPEEDUP,
                                     group="compute", case=f"{name} {hidden}",
                                     dtype="64->32", threads=t, batch=batch))

    if "predict" in config.groups:
        X_dig, y_dig = load_digits(return_X_y=True)
        pcases = [
            Case("digits", X_dig / 16.0, y_dig, (10, 10), True, config.overhead_epochs,
                 ("float64",), (200,)),
            Case(f"synthetic {config.compute_rows}x784", synthetic[0], synthetic[1],
                 (100,), True, 1, ("float64",), (200,)),
        ]
        for case in pcases:
            X, models = predict_models(case, libraries, torch)
            sizes = case.layer_sizes()
            label = f"{case.name} {'-'.join(map(str, sizes))}"
            for method in ("predict", "predict_proba"):
                for n in config.predict_sizes:
                    Xb = np.ascontiguousarray(X[np.arange(n) % len(X)])
                    for t in config.threads:
                        with thread_budget(t, torch if "torch" in models else None):
                            times = {lib: median_call_ms(
                                _predict_fn(lib, model, method, Xb, torch),
                                config.predict_seconds, config.predict_min_calls)
                                for lib, model in models.items()}
                        gflops = forward_flops(sizes, n) / (times["mlpx"] / 1000.0) / 1e9
                        minimum = (PREDICT_MIN_SPEEDUP_SMALL if n <= PREDICT_SMALL_ROWS
                                   else PREDICT_MIN_SPEEDUP)
                        where = dict(group="predict", case=f"{label} {method}",
                                     dtype="float64", threads=t, batch=n)
                        checks = [check("sklearn/mlpx", _ratio(times.get("sklearn"),
                                                               times["mlpx"]),
                                        ">=", minimum, **where)]
                        emit(_row("predict", f"{label} {method}", "float64", t, n,
                                  "ms/call", times, checks, gflops=gflops,
                                  pct_ceiling=100.0 * gflops / ceiling["float64", t],
                                  ceiling_gflops=ceiling["float64", t]))

    if "memory" in config.groups:
        for t in config.threads:
            res = {lib: measure_memory(lib, config.memory_rows, t, config.memory_epochs)
                   for lib in ("mlpx", "sklearn") if lib in libraries}
            times = {lib: r["increase_mb"] for lib, r in res.items()}
            name = f"memory: fit {config.memory_epochs} epochs, {config.memory_rows}x784-100-10"
            where = dict(group="memory", case=name, dtype="float64", threads=t, batch=200)
            mlpx_mb, sk_mb = times.get("mlpx"), times.get("sklearn")
            value = None if mlpx_mb is None or sk_mb is None else mlpx_mb - sk_mb
            checks = [check("mlpx MB - sklearn MB", value, "<=", 0.0,
                            target="mlpx MB <= sklearn MB", **where)]
            emit(_row("memory", name, "float64", t, 200, "MB peak", times, checks,
                      details=res))

    all_checks = [c for r in rows for c in r["checks"]] + derived
    counted = [c for c in all_checks if c["met"] is not None]
    return dict(
        machine=machine_info(torch),
        config=config.as_json(),
        libraries=list(libraries),
        ceilings=ceilings,
        rows=rows,
        derived=derived,
        targets=dict(met=sum(bool(c["met"]) for c in counted), total=len(counted)),
        elapsed_s=time.perf_counter() - t_start,
    )


# --------------------------------------------------------------------------- output


def machine_info(torch=None):
    return dict(
        platform=platform.platform(),
        machine=platform.machine(),
        processor=platform.processor(),
        python=platform.python_version(),
        cpu_count=os.cpu_count(),
        load_average=list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        versions=dict(numpy=np.__version__, sklearn=sklearn.__version__,
                      torch=getattr(torch, "__version__", None), mlpx=mlpx.__version__,
                      threadpoolctl=threadpoolctl.__version__),
        threadpool_info=threadpoolctl.threadpool_info(),
    )


def _fmt(value):
    """Table cell: None -> "-", bools -> yes/no, floats with 3 significant digits."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not np.isfinite(value):
            return str(value)
        if abs(value) >= 100:
            return f"{value:.0f}"
        return f"{value:.3g}"
    return str(value)


def markdown_table(header, rows):
    """A pipe-separated markdown table; cells are formatted with ``_fmt``."""
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for r in cells:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    return "\n".join(lines)


MAIN_HEADER = ("case", "dtype", "threads", "batch", "unit", "mlpx", "sklearn", "torch",
               "jax", "mlpx GFLOP/s", "ceil GFLOP/s", "% ceil", "mlpx par. eff.",
               "sklearn/mlpx", "torch/mlpx", "jax/mlpx", "target", "met")


def main_row_cells(row):
    return (row["case"], row["dtype"], row["threads"], row["batch"], row["unit"],
            row["mlpx"], row["sklearn"], row["torch"], row.get("jax"), row["gflops"],
            row["ceiling_gflops"], row["pct_ceiling"], row.get("efficiency"),
            row["sklearn_over_mlpx"], row["torch_over_mlpx"], row.get("jax_over_mlpx"),
            row["target"], row["met"])


def format_ceilings(ceilings):
    return markdown_table(
        ("GEMM ceiling", "dtype", "threads", "1 matmul, t BLAS threads",
         "t threads x 1-thread matmul", "ceiling GFLOP/s"),
        [(f"{c['shape'][0]}x{c['shape'][1]} @ {c['shape'][1]}x{c['shape'][2]}", c["dtype"],
          c["threads"], c["single"], c["concurrent"], c["gflops"]) for c in ceilings])


def format_derived(derived):
    return markdown_table(
        ("derived", "group", "case", "dtype", "threads", "batch", "value", "target", "met"),
        [(d["what"], d["group"], d["case"], d["dtype"], d["threads"], d["batch"], d["value"],
          f"{d['op']} {d['threshold']:g}", d["met"]) for d in derived])


def format_report(result):
    """The full text report: ceilings, main table, derived table, targets line."""
    parts = [format_ceilings(result["ceilings"]) if result["ceilings"] else "",
             markdown_table(MAIN_HEADER, [main_row_cells(r) for r in result["rows"]])]
    if result["derived"]:
        parts.append(format_derived(result["derived"]))
    t = result["targets"]
    parts.append(f"targets met: {t['met']} of {t['total']}")
    return "\n\n".join(p for p in parts if p)


def write_json(result, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=2, default=str)
    return path


def header(torch):
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"machine: {platform.platform()}, {platform.machine()}, "
        f"os.cpu_count()={os.cpu_count()}, Python {platform.python_version()}, "
        f"load average {load} (other work on the machine skews the timings)\n"
        f"versions: mlpx {mlpx.__version__}, scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}, torch {getattr(torch, '__version__', 'not installed')}\n"
        f"engine: tile grid {'on' if tile_grid_in_use() else 'off'} (MLPX_TILE_GRID=0/1 "
        "overrides; on by default with AVX-512 and 8 or more physical cores)"
    )


# --------------------------------------------------------------------------- CLI


def _comma_list(text, convert=str):
    return [convert(part) for part in text.split(",") if part.strip()]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: tiny sizes, epochs and repeats (< 60 s); "
                             "its numbers are not meaningful")
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats per cell, medians reported (default 5; 1 with --quick)")
    parser.add_argument("--only", action="append", default=None, metavar="GROUP",
                        help="run only these groups: overhead, compute, predict, memory "
                             "(repeatable, or a comma list)")
    parser.add_argument("--threads", default="1,2",
                        help="comma list of thread budgets (default 1,2)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--no-jax", action="store_true", help="leave JAX out")
    parser.add_argument("--json", metavar="PATH", default=str(DEFAULT_JSON),
                        help="write the results as JSON here (default %(default)s)")
    # Hidden: the memory benchmark re-runs this script in a fresh process.
    parser.add_argument("--memory-child", choices=("mlpx", "sklearn"), help=argparse.SUPPRESS)
    parser.add_argument("--memory-rows", type=int, default=60000, help=argparse.SUPPRESS)
    parser.add_argument("--memory-threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--memory-epochs", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    groups = GROUPS
    if args.only:
        groups = [g for item in args.only for g in _comma_list(item)]
        unknown = sorted(set(groups) - set(GROUPS))
        if unknown:
            parser.error(f"unknown --only group(s) {unknown}; choose from {list(GROUPS)}")
        groups = tuple(g for g in GROUPS if g in groups)
    try:
        threads = tuple(_comma_list(args.threads, int))
    except ValueError:
        parser.error("--threads takes a comma list of integers, e.g. 1,2")
    if not threads or min(threads) < 1:
        parser.error("--threads takes positive integers")
    args.groups, args.thread_list = groups, threads
    return args


def config_from_args(args):
    overrides = dict(groups=args.groups, threads=args.thread_list)
    if args.repeats is not None:
        overrides["repeats"] = args.repeats
    overrides["libraries"] = tuple(lib for lib in LIBRARIES
                                   if not (lib == "torch" and args.no_torch)
                                   and not (lib == "jax" and args.no_jax))
    return Config.quick(**overrides) if args.quick else Config(**overrides)


def main(argv=None):
    args = parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child, args.memory_rows,
                                      args.memory_threads, args.memory_epochs)))
        return 0

    config = config_from_args(args)
    torch = None if "torch" not in config.libraries else import_torch()
    print(header(torch))
    quick = "; QUICK run: the numbers are not meaningful" if args.quick else ""
    print(f"groups: {', '.join(config.groups)}; threads: {config.threads}; "
          f"repeats: {config.repeats}{quick}")
    print("training: solver=adam, every epoch runs, time per epoch in ms; predict: ms per "
          "call; memory: peak MB over the state before fit; ratios > 1 favour mlpx\n",
          flush=True)

    def progress(row):
        print(f"  done: {row['group']} | {row['case']} | {row['dtype']} | "
              f"{row['threads']} thread(s) | batch {row['batch']}", file=sys.stderr, flush=True)

    result = run(config, torch=torch, on_row=progress)
    print(format_report(result))
    print(f"total time: {result['elapsed_s']:.0f} s")
    print(f"wrote {write_json(result, args.json)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
