"""Thread counts for the engine, and the BLAS cap while OpenMP threads run."""

import functools
import os
import threading
from contextlib import contextmanager

import threadpoolctl
from joblib import cpu_count
from threadpoolctl import ThreadpoolController

from mlpx._core._engine import set_tile_grid
from mlpx._core._openmp import omp_max_threads

_blas = None  # threadpoolctl's controllers of the BLAS libraries loaded
# A pthreads OpenBLAS has one process-wide pool, and threadpoolctl (>= 3.8) lets
# only one "controlling" Python thread change it. Engine calls from several
# Python threads therefore share one cap: set by the first to enter, lifted by
# the last to leave, each taking control of the pool explicitly.
_lock = threading.Lock()
_users = 0
_restore = None
# GNU OpenMP's thread pool does not survive fork(): a child that starts a
# parallel region after its parent ran one waits forever for threads that were
# not copied. A forked child therefore runs the engine on one thread.
_forked_child = False


def _mark_forked_child():
    global _forked_child
    _forked_child = True


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_mark_forked_child)


@functools.cache
def _physical_cores():
    # joblib reads the cgroup CPU quota files on every call; the machine does
    # not change while the process runs.
    return cpu_count(only_physical_cores=True)


# The tile grid feeds 16-32 threads a batch; on fewer cores the chunk plan's
# two barriers a batch hold up better beside other programs (benchmarks/
# contention.py). Either is bit-identical for any thread count on a machine.
GRID_MIN_CORES = 8


def tile_grid_default():
    """Whether the engine runs large batches on its tile grid: MLPX_TILE_GRID
    (0 or 1) if set, else on machines of at least GRID_MIN_CORES physical cores
    (and, in the engine, CPUs with AVX-512)."""
    setting = os.environ.get("MLPX_TILE_GRID", "")
    if setting not in ("", "0", "1"):
        raise ValueError(f"MLPX_TILE_GRID must be 0 or 1, got {setting!r}")
    if setting:
        return setting == "1"
    return _physical_cores() >= GRID_MIN_CORES


def tile_grid_in_use():
    """Whether large batches run on the tile grid on this machine."""
    from mlpx._core._engine import tile_grid_enabled, wide_tiles_in_use

    return tile_grid_enabled() and wide_tiles_in_use()


def effective_n_threads():
    """Threads the engine may use.

    OMP_NUM_THREADS and threadpoolctl's limits on the "openmp" API are honoured
    (both lower omp_get_max_threads()); by default, the physical cores. In a
    process made by fork() (multiprocessing's default start method on Linux),
    one thread.
    """
    if _forked_child:
        return 1
    n = omp_max_threads()
    if not os.environ.get("OMP_NUM_THREADS"):
        n = min(n, _physical_cores())
    return max(1, n)


@contextmanager
def single_threaded_blas():
    """Cap BLAS at one thread: the engine calls it from its own OpenMP threads."""
    global _users, _restore
    with _lock:
        if _users == 0:
            # The libraries' own get/set calls: a threadpoolctl limiter rereads
            # its state each time, and a predict of a few hundred rows pays the cap.
            counts = [(lib, lib.get_num_threads()) for lib in _blas_libraries()]
            _restore = [(lib, n) for lib, n in counts if n is not None and n > 1]
            _set_num_threads([(lib, 1) for lib, _ in _restore])
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                _set_num_threads(_restore)
                _restore = None


def _blas_libraries():
    global _blas
    if _blas is None:
        _blas = ThreadpoolController().select(user_api="blas").lib_controllers
    return _blas


def _set_num_threads(pairs):
    _take_blas_control()
    for lib, n in pairs:
        lib.set_num_threads(n)
    _take_blas_control()  # and hand it back to whoever asks next


def _take_blas_control():
    """Release threadpoolctl's OpenBLAS controlling thread (no-op before 3.8)."""
    clear = getattr(threadpoolctl.OpenBLASController, "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)


set_tile_grid(tile_grid_default())
