"""mlpx's default threads against one thread when the machine is not idle.

Three scenarios, each in a fresh interpreter:

* **busy**: one busy process (``while True: pass``) per core but one runs
  beside the fits; each case is timed on one thread and on the default
  threads, alternately. Target: the default threads at least 0.9x as fast as
  one thread.
* **busy, OMP_NUM_THREADS=8**: the same with more threads than cores.
* **after BLAS**: no busy process; a fit started right after a scikit-learn fit
  or a large numpy product (whose OpenBLAS threads keep spinning for a while)
  against the same fit started after a second of quiet. Target: at least 0.9x
  as fast.

Cases: 20000 x 784, hidden (100,), 3 epochs, float64 and float32; digits
64-10-10-10 (30 epochs), 64-256-10 (30 epochs) and 64-768-10 (10 epochs);
``train_seeds`` of 16 seeds of the digits network (30
epochs, the compiled multi-seed engine). Every cell is the median over the
repeats.

    python benchmarks/contention.py                  # about two minutes on 2 cores
    python benchmarks/contention.py --repeats 3 --quick
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

TARGET = 0.9


def _cases(quick):
    import numpy as np
    from sklearn.datasets import load_digits

    from mlpx import MLPXClassifier
    from mlpx.landscape import train_seeds

    rng = np.random.RandomState(0)
    n = 4000 if quick else 20000
    X = rng.rand(n, 784)
    y = (X @ rng.normal(size=(784, 10))).argmax(axis=1)
    digits = load_digits()
    Xd, yd = digits.data / 16.0, digits.target
    epochs = 5 if quick else 30

    def fit(X_, y_, hidden, max_iter):
        def run():
            MLPXClassifier(hidden_layer_sizes=hidden, max_iter=max_iter, random_state=0,
                           tol=0.0, n_iter_no_change=max_iter + 1).fit(X_, y_)
        return run

    def seeds():
        est = MLPXClassifier(hidden_layer_sizes=(10, 10), max_iter=epochs)
        train_seeds(est, Xd, yd, seeds=range(16), engine="compiled")

    return {
        f"{n}x784-100-10 float64": fit(X, y, (100,), 3),
        f"{n}x784-100-10 float32": fit(X.astype(np.float32), y, (100,), 3),
        "digits 64-10-10-10": fit(Xd, yd, (10, 10), epochs),
        # batches of 4-23 MFLOP forward, about a millisecond each: a thread
        # descheduled while it holds a tile stalls the batch for a time slice
        "digits 64-256-10": fit(Xd, yd, (256,), epochs),
        "digits 64-768-10": fit(Xd, yd, (768,), max(2, epochs // 3)),
        "train_seeds 16 x digits": seeds,
    }


def _timed(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def worker_threads(repeats, quick):
    """Each case on one thread and on the default threads, alternately."""
    from threadpoolctl import threadpool_limits

    from mlpx._threads import effective_n_threads

    cases = _cases(quick)
    out = {"default_threads": effective_n_threads(), "rows": {}}
    for name, run in cases.items():
        run()  # warm-up: imports, first allocations
        one, default = [], []
        for _ in range(repeats):
            with threadpool_limits(limits=1):
                one.append(_timed(run))
            default.append(_timed(run))
        out["rows"][name] = {"one": statistics.median(one),
                             "default": statistics.median(default)}
    return out


def worker_after_blas(repeats, quick):
    """A fit right after BLAS work against the same fit after a quiet second."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    from mlpx._threads import effective_n_threads

    cases = {k: v for k, v in _cases(quick).items() if "784" in k}
    digits = load_digits()
    A = np.random.RandomState(1).rand(1500, 1500)

    def sklearn_fit():
        MLPClassifier(hidden_layer_sizes=(100,), max_iter=5).fit(digits.data / 16.0,
                                                                 digits.target)

    def numpy_product():
        A @ A

    out = {"default_threads": effective_n_threads(), "rows": {}}
    for name, run in cases.items():
        run()
        alone, after_sklearn, after_numpy = [], [], []
        for _ in range(repeats):
            time.sleep(1.0)
            alone.append(_timed(run))
            sklearn_fit()
            after_sklearn.append(_timed(run))
            numpy_product()
            after_numpy.append(_timed(run))
        out["rows"][name] = {"alone": statistics.median(alone),
                             "after_sklearn": statistics.median(after_sklearn),
                             "after_numpy": statistics.median(after_numpy)}
    return out


def run_worker(kind, repeats, quick, env=None, busy=0):
    """Run a worker in a fresh interpreter beside `busy` busy processes."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(busy)]
    try:
        cmd = [sys.executable, __file__, "--worker", kind, "--repeats", str(repeats)]
        if quick:
            cmd.append("--quick")
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(results):
    lines = [
        "| scenario | case | default threads | 1 thread (s) | default (s) "
        "| speed vs 1 thread | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ok = True
    for scenario in ("busy", "busy, OMP_NUM_THREADS=8"):
        res = results[scenario]
        for name, row in res["rows"].items():
            ratio = row["one"] / row["default"]
            met = ratio >= TARGET
            ok &= met
            lines.append(f"| {scenario} | {name} | {res['default_threads']} | "
                         f"{row['one']:.3f} | {row['default']:.3f} | {ratio:.2f} | "
                         f">= {TARGET} | {'yes' if met else 'no'} |")
    lines += [
        "",
        "| after BLAS | case | default threads | alone (s) | after (s) "
        "| speed vs alone | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    res = results["after BLAS"]
    for name, row in res["rows"].items():
        for what, label in (("after_sklearn", "after a scikit-learn fit"),
                            ("after_numpy", "after a numpy product")):
            ratio = row["alone"] / row[what]
            met = ratio >= TARGET
            ok &= met
            lines.append(f"| {label} | {name} | {res['default_threads']} | "
                         f"{row['alone']:.3f} | {row[what]:.3f} | {ratio:.2f} | "
                         f">= {TARGET} | {'yes' if met else 'no'} |")
    return "\n".join(lines), ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed fits per cell")
    parser.add_argument("--quick", action="store_true", help="smaller problems (smoke run)")
    parser.add_argument("--busy", type=int, default=None,
                        help="busy processes (default: cores - 1, at least 1)")
    parser.add_argument("--json", metavar="PATH", help="also write the results here")
    parser.add_argument("--worker", choices=("threads", "after_blas"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.worker:
        fn = worker_threads if args.worker == "threads" else worker_after_blas
        print(json.dumps(fn(args.repeats, args.quick)))
        return 0
    busy = args.busy if args.busy is not None else max(1, (os.cpu_count() or 2) - 1)
    env8 = dict(os.environ, OMP_NUM_THREADS="8")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    results = {
        "busy": run_worker("threads", args.repeats, args.quick, env=env, busy=busy),
        "busy, OMP_NUM_THREADS=8": run_worker("threads", args.repeats, args.quick,
                                              env=env8, busy=busy),
        "after BLAS": run_worker("after_blas", args.repeats, args.quick, env=env),
    }
    table, ok = report(results)
    print(f"{os.cpu_count()} logical CPUs, {busy} busy process(es) in the busy scenarios, "
          f"median of {args.repeats} repeats\n")
    print(table)
    print(f"\nevery target met: {'yes' if ok else 'no'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"busy_processes": busy, "repeats": args.repeats, "results": results},
                      f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
