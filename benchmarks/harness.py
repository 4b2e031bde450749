"""What the benchmark scripts share: the synthetic data, flop counts, fit settings,
the thread budget and the GEMM ceiling. Run the scripts from the repository root;
they import this module from their own directory."""

import contextlib
import statistics
import threading
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

LEARNING_RATE = 1e-3
ALPHA = 1e-4
CEILING_SHAPE = (200, 784, 100)  # (m, k, n) of the reference product


def epoch_flops(layer_sizes, n_samples):
    """Floating-point operations that one training epoch of a dense MLP does.

    ``layer_sizes`` is (n_0, ..., n_L): inputs, hidden layers, outputs. A
    multiply-add counts as 2 flops; only the three matrix products per layer
    are counted (activations, biases, loss and optimizer updates are O(N * sum
    n_l) or O(parameters), negligible next to them):

    * forward pass:           2 N sum_{l=0}^{L-1} n_l n_{l+1}
    * weight gradients:       2 N sum_{l=0}^{L-1} n_l n_{l+1}
    * delta back-propagation: 2 N sum_{l=1}^{L-1} n_l n_{l+1}  (no delta is
      needed for the input layer, so the first product is skipped)

    Example: sizes (3, 4, 2) and N = 5 give 2*5*(12+8) * 2 + 2*5*8 = 480.
    """
    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2:
        raise ValueError("layer_sizes needs at least an input and an output size")
    products = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return 2 * int(n_samples) * (2 * sum(products) + sum(products[1:]))


def forward_flops(layer_sizes, n_samples):
    """Flops of one forward pass (prediction): 2 N sum_l n_l n_{l+1}."""
    sizes = [int(s) for s in layer_sizes]
    return 2 * int(n_samples) * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def make_synthetic(n_samples, n_features=784, n_classes=10, seed=0):
    """Uniform features; labels from the argmax of a random linear map.

    The labels are computed in blocks so that making the data needs no
    temporary as large as X (the memory benchmark measures from the state right
    after this).
    """
    rng = np.random.default_rng(seed)
    X = rng.random((n_samples, n_features))
    W = rng.standard_normal((n_features, n_classes))
    y = np.empty(n_samples, dtype=np.intp)
    block = 4096
    for start in range(0, n_samples, block):
        y[start:start + block] = np.argmax((X[start:start + block] - 0.5) @ W, axis=1)
    return X, y


@contextlib.contextmanager
def thread_budget(threads, torch=None):
    """threadpool_limits(limits=threads) on all APIs, and torch.set_num_threads."""
    old = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(limits=threads):
        if torch is not None:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(old)


def _rate(run, flops_per_round_call, seconds):
    """Median GFLOP/s of ``run(k)`` (k calls per worker, returns wall seconds).

    k is calibrated so that a round takes about seconds/5; rounds are repeated
    for ``seconds`` (at least 3 rounds).
    """
    k, dt = 1, run(1)
    while dt < seconds / 50 and k < (1 << 16):
        k *= 4
        dt = run(k)
    k = max(1, round(k * (seconds / 5) / max(dt, 1e-9)))
    rates = []
    deadline = time.perf_counter() + seconds
    while len(rates) < 3 or time.perf_counter() < deadline:
        rates.append(k * flops_per_round_call / run(k) / 1e9)
    return statistics.median(rates)


def concurrent_seconds(call_lists, repeats):
    """Wall seconds of running each list of calls ``repeats`` times, each list on its
    own thread, all started together at a barrier (a single list runs on this thread).
    """
    if len(call_lists) == 1:
        t0 = time.perf_counter()
        for _ in range(repeats):
            for call in call_lists[0]:
                call()
        return time.perf_counter() - t0
    barrier = threading.Barrier(len(call_lists) + 1)

    def work(calls):
        barrier.wait()
        for _ in range(repeats):
            for call in calls:
                call()

    workers = [threading.Thread(target=work, args=(calls,)) for calls in call_lists]
    for worker in workers:
        worker.start()
    barrier.wait()
    t0 = time.perf_counter()
    for worker in workers:
        worker.join()
    return time.perf_counter() - t0


def gemm_ceiling(dtype, threads, seconds=0.3):
    """GFLOP/s ceiling of the reference product for ``dtype`` and ``threads``.

    Returns a dict: ``single`` = one np.matmul with BLAS on ``threads`` threads,
    ``concurrent`` = ``threads`` Python threads each running np.matmul with BLAS
    on 1 thread (numpy releases the GIL), ``gflops`` = the better of the two.
    """
    m, k, n = CEILING_SHAPE
    flops = 2 * m * k * n
    rng = np.random.default_rng(0)
    operands = [(rng.random((m, k)).astype(dtype), rng.random((k, n)).astype(dtype),
                 np.empty((m, n), dtype=dtype)) for _ in range(threads)]

    products = [[lambda A=A, B=B, C=C: np.matmul(A, B, out=C)] for A, B, C in operands]

    def single(calls):
        return concurrent_seconds(products[:1], calls)

    def concurrent(calls):
        return concurrent_seconds(products, calls)

    with threadpool_limits(limits=threads, user_api="blas"):
        single_rate = _rate(single, flops, seconds)
    with threadpool_limits(limits=1, user_api="blas"):
        concurrent_rate = _rate(concurrent, threads * flops, seconds)
    return dict(dtype=str(np.dtype(dtype)), threads=threads,
                shape=list(CEILING_SHAPE), single=single_rate,
                concurrent=concurrent_rate, gflops=max(single_rate, concurrent_rate))


def fit_params(hidden, epochs, batch_size, seed):
    return dict(
        hidden_layer_sizes=hidden, solver="adam", batch_size=batch_size,
        learning_rate_init=LEARNING_RATE, alpha=ALPHA, max_iter=epochs, tol=0.0,
        n_iter_no_change=epochs + 1, early_stopping=False, shuffle=True,
        random_state=seed,
    )


def fit_ms_per_epoch(cls, X, y, params):
    """Fit once; return (wall ms per epoch, fitted estimator)."""
    est = cls(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        est.fit(X, y)
        elapsed = time.perf_counter() - t0
    if est.n_iter_ != params["max_iter"]:
        raise RuntimeError(f"{cls.__name__} ran {est.n_iter_} of {params['max_iter']} "
                           "epochs: the libraries would not do the same work")
    return 1000.0 * elapsed / est.n_iter_, est
