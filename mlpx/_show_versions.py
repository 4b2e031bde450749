"""Versions of mlpx, its dependencies and the thread pools it runs on."""

from __future__ import annotations

import platform
import sys
from importlib.metadata import PackageNotFoundError, version

# Distribution names: the required dependencies, then the optional ones (the
# landscape, plot and scaling-out extras), then Cython, which only builds the
# engine and is usually absent at run time.
DEPENDENCIES = (
    "numpy", "scipy", "scikit-learn", "threadpoolctl", "joblib",
    "pandas", "tqdm", "matplotlib", "dask", "distributed",
    "Cython",
)


def _versions():
    from mlpx._core._openmp import openmp_enabled
    from mlpx._threads import effective_n_threads, tile_grid_in_use
    from mlpx._version import __version__

    deps = {}
    for name in DEPENDENCIES:
        try:
            deps[name] = version(name)
        except PackageNotFoundError:
            deps[name] = "not installed"
    return {
        "mlpx": __version__,
        "python": sys.version.replace("\n", " "),
        "machine": platform.platform(),
        **deps,
        "openmp (built with)": openmp_enabled(),
        "engine threads": effective_n_threads(),
        "engine tile grid": tile_grid_in_use(),
    }


def _thread_pools():
    # Import the engine first so that its OpenMP runtime is loaded and visible.
    from threadpoolctl import threadpool_info

    import mlpx._core._engine  # noqa: F401

    return threadpool_info()


def show_versions() -> None:
    """Print the versions of mlpx, Python and the dependencies, and the thread pools.

    Lists numpy, scipy, scikit-learn, threadpoolctl and joblib, the optional
    pandas, tqdm, matplotlib, dask and distributed, and Cython (a build
    dependency: "not installed" at run time is normal), whether the engine was
    built with OpenMP, and the BLAS and OpenMP runtimes that threadpoolctl sees
    with their thread counts.
    """
    print("\nSystem and dependencies:")
    for key, val in _versions().items():
        print(f"{key:>22}: {val}")
    print("\nThread pools (threadpoolctl):")
    for pool in _thread_pools():
        print(
            f"{pool.get('user_api', '?'):>22}: {pool.get('internal_api')} "
            f"{pool.get('version') or ''}, {pool.get('num_threads')} threads, "
            f"{pool.get('filepath')}"
        )
