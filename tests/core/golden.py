"""Golden digests of fitted models: a guard for changes that must not change results.

`fits()` trains a grid of configurations (both estimators, every solver,
float32 and float64, dense and sparse input, early stopping on and off, a
network large enough that the engine splits its batches across threads, and a
multi-seed study on both of its engines) and returns, per configuration, the
SHA-256 of every fitted array: ``coefs_``, ``intercepts_``, ``loss_curve_`` and
the predictions. Equal digests mean bit-identical results.

The digests depend on the machine's arithmetic (BLAS kernels, SIMD paths), so
they are stored with a fingerprint of it and compared only on a matching one.

    python tests/core/golden.py tests/core/data/golden.json    # rewrite the stored digests
"""

import hashlib
import json
import platform
import sys
import warnings

import numpy as np
import scipy
import scipy.sparse as sp
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_info

from mlpx import MLPXClassifier, MLPXRegressor


def _digest(array):
    a = np.ascontiguousarray(array)
    h = hashlib.sha256()
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
    return h.hexdigest()[:32]


def _problems():
    digits = load_digits()
    X = digits.data[:360] / 16.0
    y = digits.target[:360]
    rng = np.random.RandomState(0)
    W = rng.normal(size=(64, 3))
    Y = np.tanh(X @ W / 4.0) + 0.1 * rng.normal(size=(360, 3))
    Xw = rng.normal(size=(600, 300))
    yw = (Xw @ rng.normal(size=(300, 10))).argmax(axis=1)
    Xm = rng.uniform(size=(500, 784))
    ym = (Xm @ rng.normal(size=(784, 10))).argmax(axis=1)
    return X, y, Y, Xw, yw, Xm, ym


def _configs():
    """(name, estimator, data key) of every configuration."""
    base = dict(max_iter=6, random_state=0, tol=0.0, n_iter_no_change=100)
    out = []
    for dtype in ("float64", "float32"):
        for solver, extra in (
            ("adam", {}),
            ("sgd", dict(momentum=0.9, nesterovs_momentum=True)),
            ("sgd", dict(momentum=0.5, nesterovs_momentum=False,
                         learning_rate="invscaling")),
            ("sgld", dict(temperature=1e-4)),
            ("lbfgs", dict(max_iter=15)),
        ):
            tag = f"{solver}{'-' + extra['learning_rate'] if 'learning_rate' in extra else ''}"
            params = {**base, **extra, "solver": solver}
            for sparse in (False, True):
                inp = "sparse" if sparse else "dense"
                out.append((f"clf-{tag}-{dtype}-{inp}",
                            MLPXClassifier(hidden_layer_sizes=(16, 8), activation="relu",
                                           batch_size=50, **params),
                            ("digits", dtype, sparse)))
                out.append((f"reg-{tag}-{dtype}-{inp}",
                            MLPXRegressor(hidden_layer_sizes=(12,), activation="tanh",
                                          batch_size=40, **params),
                            ("multi", dtype, sparse)))
            if solver in ("adam", "sgd") and "learning_rate" not in extra:
                out.append((f"clf-{tag}-{dtype}-early",
                            MLPXClassifier(hidden_layer_sizes=(20,), activation="logistic",
                                           early_stopping=True, batch_size=64,
                                           **{**params, "max_iter": 8}),
                            ("digits", dtype, False)))
        # batches of 200 rows of a 300-256-128-10 network: several chunks and
        # tasks, float32 forward products through BLAS
        out.append((f"clf-wide-adam-{dtype}",
                    MLPXClassifier(hidden_layer_sizes=(256, 128), max_iter=2,
                                   random_state=0, tol=0.0, n_iter_no_change=100),
                    ("wide", dtype, False)))
        # the benchmark networks (benchmarks/compare.py) at batch 200: every
        # large product cut into a grid of tiles, shuffled rows gathered first
        for hidden, epochs in (((100,), 2), ((500, 300), 1)):
            out.append((f"clf-784-{'-'.join(map(str, hidden))}-10-adam-{dtype}",
                        MLPXClassifier(hidden_layer_sizes=hidden, max_iter=epochs,
                                       random_state=0, tol=0.0, n_iter_no_change=100),
                        ("mnist-like", dtype, False)))
    return out


def fits():
    """Digests of every configuration's fitted arrays and predictions."""
    X, y, Y, Xw, yw, Xm, ym = _problems()
    data = {"digits": (X, y), "multi": (X, Y), "wide": (Xw, yw), "mnist-like": (Xm, ym)}
    result = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, est, (key, dtype, sparse) in _configs():
            Xk, yk = data[key]
            Xk = Xk.astype(dtype)
            Xfit = sp.csr_matrix(Xk) if sparse else Xk
            est.fit(Xfit, yk)
            entry = {
                "coefs": [_digest(c) for c in est.coefs_],
                "intercepts": [_digest(b) for b in est.intercepts_],
                "loss_curve": _digest(np.asarray(getattr(est, "loss_curve_", [est.loss_]))),
                "predict": _digest(est.predict(Xfit)),
            }
            if hasattr(est, "predict_proba"):
                entry["predict_proba"] = _digest(est.predict_proba(Xfit))
            result[name] = entry
        result.update(_seed_studies(X, y))
    return result


def _seed_studies(X, y):
    from mlpx.landscape import train_seeds

    out = {}
    for engine in ("compiled", "joblib"):
        study = train_seeds(
            MLPXClassifier(hidden_layer_sizes=(10, 10), max_iter=5, batch_size=32),
            X, y, seeds=[0, 1, 2], record=("loss", "params"), engine=engine,
        )
        setup = study.setups[0]
        out[f"train_seeds-{engine}"] = {
            name: _digest(study.arrays[setup][name])
            for name in ("train_loss", "test_loss", "params")
            if name in study.arrays[setup]
        }
    return out


def fingerprint():
    """What the digests depend on besides mlpx: CPU, BLAS, numerical libraries."""
    blas = sorted(
        f"{i['internal_api']} {i.get('version')} {i.get('architecture')}"
        for i in threadpool_info() if i["user_api"] == "blas"
    )
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    flags = " ".join(sorted(have & {"avx2", "fma", "avx512f"}))
                    break
    except OSError:
        pass
    from mlpx._core._openmp import openmp_enabled, sanitized

    from mlpx._threads import tile_grid_in_use

    return {
        "openmp": openmp_enabled(),  # without it `omp simd` sums run in another order
        "sanitized": sanitized(),  # another optimisation level
        "machine": platform.machine(),
        "system": platform.system(),
        "cpu_flags": flags,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "blas": blas,
        "tile_grid": tile_grid_in_use(),  # the large configurations' plan
    }


if __name__ == "__main__":
    path = sys.argv[1]
    with open(path, "w") as f:
        json.dump({"fingerprint": fingerprint(), "fits": fits()}, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {path}")
