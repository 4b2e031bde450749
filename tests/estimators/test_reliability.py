"""Reliability: interruption, threads, memory, and awkward but valid inputs."""

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from mlpx import DivergenceError, MLPXClassifier, MLPXRegressor
from mlpx._threads import effective_n_threads
from tests.estimators.test_estimators import assert_same_state, state


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


CHILD = textwrap.dedent("""
    import signal, sys, time, warnings
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if inherited ignored
    import numpy as np
    from mlpx import MLPXClassifier
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.random((20000, 100)); y = rng.integers(0, 5, 20000)
    clf = MLPXClassifier(hidden_layer_sizes=(256, 256), max_iter=2, random_state=0)
    clf.fit(X[:500], y[:500])
    before = [c.copy() for c in clf.coefs_]
    n_iter = clf.n_iter_
    clf.set_params(max_iter=10000, n_iter_no_change=10**6)
    print("ready", flush=True)
    try:
        clf.fit(X, y)
        print("finished", flush=True)
    except KeyboardInterrupt:
        same = all(np.array_equal(a, b) for a, b in zip(before, clf.coefs_))
        print("interrupted", same and clf.n_iter_ == n_iter, flush=True)
""")


def _readline(proc, timeout=120):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, f"no line from the child within {timeout} s"
    return proc.stdout.readline().strip()


def _interrupt(code, delay):
    """Run code in a child; SIGINT it `delay` s after it prints 'ready'; return
    its next line and how long after the signal it came."""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert _readline(proc) == "ready"
        time.sleep(delay)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        line = _readline(proc)
        reaction = time.perf_counter() - sent
    finally:
        proc.kill()
        proc.wait()
    return line, reaction


def test_ctrl_c_stops_a_long_fit_quickly_and_keeps_the_previous_model():
    line, reaction = _interrupt(CHILD, 1.5)  # well inside the (long) fit
    assert line == "interrupted True"
    # The engine checks for signals between mini-batches (a few ms each here).
    assert reaction < 1.0, reaction


LONG_CALLS = textwrap.dedent("""
    import signal, sys, warnings
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import numpy as np
    from mlpx import MLPXClassifier
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    what = sys.argv[1]
    if what == "lbfgs":
        # one loss evaluation of the whole set takes seconds; "ready" once the
        # first one starts (SciPy's own set-up before it, which old SciPy
        # releases spend seconds on for 1.8M parameters, is not the engine's)
        from mlpx import _engine
        X, y = rng.random((40000, 784)), rng.integers(0, 10, 40000)
        clf = MLPXClassifier(hidden_layer_sizes=(1000, 1000), solver="lbfgs", max_iter=50)
        evaluate = _engine.Network.loss_gradient
        def announce(self, *args, **kwargs):
            if not announce.done:
                announce.done = print("ready", flush=True) or True
            return evaluate(self, *args, **kwargs)
        announce.done = False
        _engine.Network.loss_gradient = announce
        call = lambda: clf.fit(X, y)
    else:
        X, y = rng.random((200000, 100)), rng.integers(0, 5, 200000)
        clf = MLPXClassifier(hidden_layer_sizes=(1024, 1024), max_iter=1).fit(X[:500], y[:500])
        print("ready", flush=True)
        call = lambda: [clf.predict(X) for _ in range(20)]
    try:
        call()
        print("finished", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
""")


@pytest.mark.parametrize("what", ["lbfgs", "predict"])
def test_ctrl_c_reaches_long_compiled_calls_outside_training(what):
    line, reaction = _interrupt(LONG_CALLS.replace("sys.argv[1]", repr(what)), 1.0)
    assert line == "interrupted"
    # one loss evaluation and one predict take seconds here; the engine looks
    # for Ctrl-C after each chunk of rows of them
    assert reaction < 1.0, reaction


def test_predict_from_eight_threads_matches_serial():
    X, y = make_classification(4000, 30, n_informative=10, n_classes=4, random_state=0)
    clf = MLPXClassifier(hidden_layer_sizes=(128,), max_iter=5, random_state=0).fit(X, y)
    chunks = np.array_split(X, 16)
    serial = [clf.predict_proba(c) for c in chunks]
    with ThreadPoolExecutor(8) as pool:
        for _ in range(3):
            parallel = list(pool.map(clf.predict_proba, chunks))
            for a, b in zip(serial, parallel):
                np.testing.assert_array_equal(a, b)


def test_fits_in_parallel_threads_do_not_interfere():
    X, y = make_classification(1500, 20, random_state=0)
    params = [dict(hidden_layer_sizes=(32,), random_state=s, max_iter=5) for s in range(4)]
    serial = [MLPXClassifier(**p).fit(X, y) for p in params]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda p: MLPXClassifier(**p).fit(X, y), params))
    for a, b in zip(serial, threaded):
        for ca, cb in zip(a.coefs_, b.coefs_):
            np.testing.assert_array_equal(ca, cb)


def _threads_seen_in_worker(estimator, X, y):
    from threadpoolctl import threadpool_info

    # Scorer run in the worker process: report the engine's thread count and
    # the largest BLAS/OpenMP pool it sees there.
    pools = max(p["num_threads"] for p in threadpool_info())
    return effective_n_threads() * 100 + pools


def test_grid_search_workers_do_not_oversubscribe():
    X, y = make_classification(300, 10, random_state=0)
    search = GridSearchCV(MLPXClassifier(max_iter=3, random_state=0),
                          {"alpha": [1e-4, 1e-2]}, cv=2, n_jobs=2,
                          scoring=_threads_seen_in_worker).fit(X, y)
    seen = search.cv_results_["mean_test_score"]
    # 2 cores shared by 2 workers: one engine thread and one-thread pools in each.
    n_cores = os.cpu_count()
    expected_threads = max(1, n_cores // 2)
    assert np.all(seen // 100 == expected_threads), seen
    assert np.all(seen % 100 <= expected_threads), seen


def _rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_repeated_fit_and_predict_do_not_grow_memory():
    X, y = make_classification(400, 20, random_state=0)
    clf = MLPXClassifier(hidden_layer_sizes=(64, 32), max_iter=3, random_state=0)
    for _ in range(30):  # warm up allocator pools and caches
        clf.fit(X, y).predict_proba(X)
    start = _rss_mb()
    for _ in range(200):
        clf.fit(X, y).predict_proba(X)
    # Each fit allocates a few hundred kB of workspace; a leak would add up to
    # tens of MB over 200 fits.
    assert _rss_mb() - start < 8, (start, _rss_mb())


# ------------------------------------------------------- awkward, valid inputs
def _layouts(X):
    ro = X.copy()
    ro.setflags(write=False)
    wide = np.repeat(X, 2, axis=1)
    return {
        "fortran": np.asfortranarray(X),
        "non-contiguous": wide[:, ::2],
        "read-only": ro,
    }


@pytest.mark.parametrize("cls", [MLPXClassifier, MLPXRegressor])
def test_layouts_give_the_same_model(cls, tmp_path):
    X, y = make_classification(120, 6, random_state=0)
    if cls is MLPXRegressor:
        y = y.astype(float)
    ref = cls(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(X, y)
    path = tmp_path / "X.npy"
    np.save(path, X)
    layouts = dict(_layouts(X), memmap=np.load(path, mmap_mode="r"))
    for name, Xl in layouts.items():
        est = cls(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(Xl, y)
        np.testing.assert_array_equal(est.coefs_[0], ref.coefs_[0], err_msg=name)
        np.testing.assert_array_equal(est.predict(Xl), ref.predict(X), err_msg=name)


def test_pandas_frames_and_feature_names():
    X, y = make_classification(100, 4, random_state=0)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = MLPXClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(df, y)
    assert list(clf.feature_names_in_) == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(clf.predict(df), clf.predict(X))
    before = state(clf)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(df.rename(columns={"a": "z"}))
    assert_same_state(before, state(clf))
    plain = MLPXClassifier(hidden_layer_sizes=(4,), max_iter=3).fit(pd.DataFrame(X), y)
    assert not hasattr(plain, "feature_names_in_")


def test_mixed_label_types_and_single_class():
    X, _ = make_classification(20, 4, n_informative=2, random_state=0)
    with pytest.raises(ValueError, match="Mix of label input types"):
        MLPXClassifier().fit(X, np.array([1, "a"] * 10, dtype=object))
    one = MLPXClassifier(hidden_layer_sizes=(3,), max_iter=5).fit(X, ["only"] * 20)
    assert set(one.predict(X)) == {"only"}


def test_values_beyond_float32_are_refused_for_a_float32_model():
    X, y = make_classification(50, 4, n_informative=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = MLPXRegressor(hidden_layer_sizes=(3,), max_iter=2).fit(X.astype(np.float32), y)
    before = state(reg)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the error alone: no overflow or scale warning first
        with pytest.raises(ValueError, match="float32 range"):
            reg.predict(X * 1e39)
        with pytest.raises(ValueError, match="float32 range"):
            reg.partial_fit(X * 1e39, y)
    assert_same_state(before, state(reg))


def test_float32_on_badly_scaled_data_warns_with_advice():
    X, y = make_classification(50, 4, n_informative=2, random_state=0)
    with pytest.warns(UserWarning, match="Scale your data"):
        MLPXRegressor(max_iter=2).fit((X * 1e6).astype(np.float32), y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPXRegressor(max_iter=2).fit(X.astype(np.float32), y)  # scaled: no warning


def test_partial_fit_divergence_keeps_the_previous_weights():
    X, y = make_classification(100, 5, random_state=0)
    X = (X * 1e3).astype(np.float32)
    reg = MLPXRegressor(hidden_layer_sizes=(16,), solver="sgd", random_state=0,
                        learning_rate_init=1e3)
    before = state(reg)
    with pytest.raises(DivergenceError, match="learning_rate_init"):
        for _ in range(20):
            reg.partial_fit(X, y.astype(float))
            before = state(reg)  # the last good state
    assert_same_state(before, state(reg))
    if hasattr(reg, "_params"):
        assert np.isfinite(reg._params).all()


FORK_CHILD = textwrap.dedent("""
    import multiprocessing as mp, warnings
    import numpy as np
    from mlpx import MLPXClassifier

    def fit(seed):
        warnings.simplefilter("ignore")
        rng = np.random.default_rng(seed)
        X, y = rng.random((1000, 300)), rng.integers(0, 5, 1000)
        # big enough that the engine runs its batches on a team of threads
        return MLPXClassifier(hidden_layer_sizes=(256,), max_iter=2).fit(X, y).n_iter_

    if __name__ == "__main__":
        fit(0)  # the parent has run parallel regions before it forks
        with mp.get_context("fork").Pool(2) as pool:
            print(pool.map_async(fit, [1, 2]).get(timeout=60))
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() exists on POSIX only")
def test_a_forked_child_fits_after_the_parent_ran_parallel_regions(tmp_path):
    script = tmp_path / "fork_child.py"
    script.write_text(FORK_CHILD)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[2, 2]"
