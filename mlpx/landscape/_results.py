"""SeedStudy: the fitted models, recorded arrays and tidy tables of a seed study."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Sequence
from contextlib import contextmanager
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from mlpx._cli_tools import install_hint

try:
    import pandas as pd
except ImportError as exc:  # pragma: no cover - exercised only without pandas
    raise ImportError(
        f"mlpx.landscape needs pandas, which is not installed: {install_hint('landscape')}",
        name="pandas",
    ) from exc

from mlpx import __version__
from mlpx.landscape._agreement import agreement_matrix

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORMAT = "mlpx-seed-study"
FORMAT_VERSION = 1
MANIFEST = "study.json"
_PER_RUN_SCALARS = ("train_loss", "test_loss", "penalty", "train_score", "test_score")
_PER_RUN_ARRAYS = ("train_pred", "test_pred", "params")
#: A run counts as having reached a critical point when its final full-batch
#: gradient norm is at most GRAD_TOL and at most GRAD_RTOL times the norm at its
#: initial weights: the relative test keeps a plateau, where the gradient is
#: small from the start (squared error on softmax outputs), from passing.
GRAD_TOL = 1e-3
GRAD_RTOL = 1e-2


def at_critical_point(grad_norm, start_norm, tol=GRAD_TOL, rtol=GRAD_RTOL):
    """Whether runs with these final and initial gradient norms count as at a
    critical point (elementwise on arrays)."""
    return (np.asarray(grad_norm) <= tol) & (np.asarray(grad_norm) <= rtol * np.asarray(start_norm))
# pandas < 3 parses floats exactly only when asked; pandas 3 always does (and
# deprecates the option).
_EXACT_FLOATS = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (tuple, set, np.ndarray)):
        return list(obj)
    return repr(obj)


def _jsonable(obj):
    """`obj` as it reads back from JSON (tuples become lists, NumPy scalars Python)."""
    return json.loads(json.dumps(obj, default=_json_default))


WRITTEN = ".mlpx-files"  # the names mlpx wrote into an output directory, one per line


def _check_replaceable(target):
    """Refuse to replace `target` unless every entry in it is one mlpx wrote there."""
    here = Path.cwd().resolve()
    if target.resolve() in (here, *here.parents):
        raise FileExistsError(
            f"{target} is the current directory or one above it: choose a new "
            "directory for the output (e.g. --out results)."
        )
    try:
        ours = set((target / WRITTEN).read_text().split("\n")) | {WRITTEN}
    except FileNotFoundError:
        ours = {WRITTEN}
    foreign = sorted(p.name for p in target.iterdir() if p.name not in ours)
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise FileExistsError(
            f"{target} holds files mlpx did not write ({shown}): refusing to replace "
            "it. Choose another directory."
        )


@contextmanager
def atomic_directory(target, *, overwrite=False):
    """Yield a temporary directory that replaces `target` only if the block succeeds.

    The temporary directory is a sibling of `target`, so the final rename is
    atomic on POSIX; on error it is removed and `target` is left untouched. An
    existing non-empty `target` is replaced only with ``overwrite=True`` and
    only if everything in it was written there by mlpx (listed in its
    ``.mlpx-files``): a user's own files are never deleted.
    """
    target = Path(target)
    if target.exists() or target.is_symlink():
        if not target.is_dir() or target.is_symlink():
            raise FileExistsError(f"{target} exists and is not a directory.")
        if any(target.iterdir()):
            if not overwrite:
                raise FileExistsError(
                    f"{target} already exists; pass overwrite=True to replace it."
                )
            _check_replaceable(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        os.chmod(tmp, 0o755)
        yield tmp
        names = sorted(p.name for p in tmp.iterdir())
        (tmp / WRITTEN).write_text("\n".join(names))
        if target.exists():
            _check_replaceable(target)  # nothing of the user's appeared meanwhile
            old = tmp.with_suffix(".old")
            os.rename(target, old)
            os.rename(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class SeedStudy:
    """The outcome of training K seeds of one or more setups.

    Built by :func:`train_seeds` and :func:`agreement_study`; saved and loaded
    with :meth:`save` / :meth:`load`.

    Attributes
    ----------
    estimators : dict of str to list of estimator
        The K fitted estimators of each setup, in seed order.
    arrays : dict of str to dict of str to ndarray
        Per setup: ``epochs`` (n_epochs,), the recorded ``train_loss``,
        ``test_loss`` (both the data loss of the weights at the end of the
        epoch, without penalty), ``penalty`` (the L2 term alpha/(2n)||W||^2),
        ``train_score``, ``test_score`` (K, n_epochs), ``grad_norm`` (K,),
        the aligned distances of the final pairs,
        ``train_pred``, ``test_pred`` (K, n_epochs, n_samples[, n_outputs]) and
        ``params`` (K, n_epochs, n_params), as far as they were recorded.
    per_seed : pandas.DataFrame
        One row per setup x seed x recorded epoch: ``train_loss``,
        ``test_loss``, ``penalty``, ``train_score``, ``test_score`` (accuracy for
        classification, R^2 for regression; see ``meta['scores']``).
    pairs : pandas.DataFrame
        One row per setup x pair of seeds (``seed_a < seed_b`` in seed order) x
        epoch: ``train_agreement`` (fraction of samples labelled identically),
        ``train_agree_count``, ``train_disagree_count``, the same for ``test``,
        ``train_rms_gap`` / ``test_rms_gap`` for regression, and with recorded
        parameters ``weight_diff_count`` (parameters differing by more than
        ``meta['tau']``) and ``weight_distance`` (Euclidean).
    meta : dict
        JSON-compatible description: seeds, setups, kinds, settings, versions.
    """

    def __init__(self, estimators, arrays, per_seed, pairs, meta):
        self.estimators = estimators
        self.arrays = arrays
        self.per_seed = per_seed
        self.pairs = pairs
        self.meta = meta

    def __repr__(self):
        return (
            f"SeedStudy(setups={self.setups}, seeds={self.seeds}, "
            f"epochs={len(self.arrays[self.setups[0]]['epochs'])})"
        )

    @property
    def setups(self) -> list[str]:
        """The setup names, in order."""
        return list(self.meta["setups"])

    @property
    def seeds(self) -> list[int]:
        """The seeds, in order: seed ``seeds[i]`` is model i."""
        return list(self.meta["seeds"])

    def _check_setup(self, setup):
        if setup is None:
            if len(self.setups) != 1:
                raise ValueError(f"This study has several setups {self.setups}: pass setup=.")
            return self.setups[0]
        if setup not in self.setups:
            raise ValueError(f"Unknown setup {setup!r}; this study has {self.setups}.")
        return setup

    # ----------------------------------------------------------------- build
    @classmethod
    def from_runs(
        cls,
        runs_by_setup: dict[str, list[dict[str, Any]]],
        *,
        seeds: Sequence[int],
        kinds: dict[str, Literal["classification", "regression"]],
        record: Sequence[str],
        tau: float,
        regression_tol: dict[str, float | None],
        grad_tol: float = GRAD_TOL,
        grad_rtol: float = GRAD_RTOL,
        **meta: Any,
    ) -> SeedStudy:
        """Assemble a study from the per-seed outputs of the training workers.

        Parameters
        ----------
        runs_by_setup : dict of str to list of dict
            Per setup, one dict per seed as returned by the training worker.
        seeds : list of int
        kinds : dict of str to {'classification', 'regression'}
        record : tuple of str
        tau : float
            Threshold of the weight-difference counts.
        regression_tol : dict of str to float or None
            Absolute agreement tolerance of each regression setup.
        grad_tol, grad_rtol : float, default=GRAD_TOL, GRAD_RTOL
            A run is at a critical point when its final gradient norm is at
            most grad_tol and at most grad_rtol times its initial one.
        **meta
            More JSON-compatible description to keep.
        """
        estimators, arrays = {}, {}
        for setup, runs in runs_by_setup.items():
            if "/" in setup:
                raise ValueError(f"Setup names cannot contain '/': {setup!r}.")
            estimators[setup] = [r["estimator"] for r in runs]
            arr = {"epochs": np.asarray(runs[0]["epochs"], dtype=np.int64)}
            for key in _PER_RUN_SCALARS:
                if runs[0][key]:
                    arr[key] = np.array([r[key] for r in runs], dtype=float)
            for key in _PER_RUN_ARRAYS:
                if runs[0][key]:
                    arr[key] = np.stack([np.stack(r[key]) for r in runs])
            if "grad_norm" in runs[0]:
                arr["grad_norm"] = np.array([r["grad_norm"] for r in runs], dtype=float)
                arr["grad_norm_start"] = np.array([r["grad_norm_start"] for r in runs],
                                                  dtype=float)
            if "stopped_by" in runs[0]:
                arr["stopped_by"] = np.array([r["stopped_by"] for r in runs], dtype=str)
                arr["stop_epoch"] = np.array([r["stop_epoch"] for r in runs], dtype=np.int64)
            arr.update(_aligned_distances(estimators[setup], tau))
            arrays[setup] = arr
        meta = _jsonable(dict(
            format=FORMAT,
            format_version=FORMAT_VERSION,
            mlpx_version=__version__,
            setups=list(runs_by_setup),
            seeds=list(seeds),
            kinds=kinds,
            scores={s: "accuracy" if k == "classification" else "r2"
                    for s, k in kinds.items()},
            record=list(record),
            tau=tau,
            regression_tol_abs=regression_tol,
            grad_tol=grad_tol,
            grad_rtol=grad_rtol,
            estimators={
                s: {"class": type(e[0]).__name__, "params": e[0].get_params()}
                for s, e in estimators.items()
            },
            **meta,
        ))
        per_seed = _per_seed_table(arrays, meta)
        pairs = _pairs_table(arrays, meta)
        return cls(estimators, arrays, per_seed, pairs, meta)

    # --------------------------------------------------------------- queries
    def summary(self) -> pd.DataFrame:
        """Per setup, at the last recorded epoch: mean and std over seeds.

        Returns
        -------
        summary : pandas.DataFrame
            Indexed by setup: ``{train,test}_{loss,score}_{mean,std}`` (std with
            ddof=1), and the mean over pairs of ``train_agreement``,
            ``test_agreement``, ``weight_diff_count`` and ``weight_distance``
            (raw) and of ``aligned_weight_diff_count`` and
            ``aligned_weight_distance`` (final networks matched modulo the
            activation's symmetries, see :func:`align`), as recorded; the
            largest final full-batch gradient norm of the training objective
            over the seeds (``grad_norm_max``) and how many seeds ended at a
            critical point, gradient norm <= ``meta["grad_tol"]`` and <=
            ``meta["grad_rtol"]`` times its initial value (``n_converged``,
            see :func:`at_critical_point`); where recorded, how many seeds' training ended
            because they met that tolerance (``n_stopped_at_tol``) and the
            last epoch any seed trained (``stop_epoch_max``).
        """
        rows = []
        for setup in self.setups:
            last = self.arrays[setup]["epochs"][-1]
            seeds = self.per_seed[(self.per_seed.setup == setup)
                                  & (self.per_seed.epoch == last)]
            pairs = self.pairs[(self.pairs.setup == setup) & (self.pairs.epoch == last)]
            row = {"setup": setup, "epoch": int(last)}
            for col in _PER_RUN_SCALARS:
                if col in seeds:
                    row[f"{col}_mean"] = seeds[col].mean()
                    row[f"{col}_std"] = seeds[col].std()
            for col in ("train_agreement", "test_agreement", "weight_diff_count",
                        "weight_distance", "aligned_weight_diff_count",
                        "aligned_weight_distance"):
                if col in pairs:
                    row[f"{col}_mean"] = pairs[col].mean()
            grad = self.arrays[setup].get("grad_norm")
            if grad is not None:
                row["grad_norm_max"] = float(grad.max())
                row["n_converged"] = int(np.count_nonzero(self.converged(setup)))
            stopped = self.arrays[setup].get("stopped_by")
            if stopped is not None:
                row["n_stopped_at_tol"] = int(np.count_nonzero(stopped == "tolerance"))
                row["stop_epoch_max"] = int(self.arrays[setup]["stop_epoch"].max())
            rows.append(row)
        return pd.DataFrame(rows).set_index("setup")

    def converged(self, setup: str | None = None) -> np.ndarray:
        """Per seed, whether the run ended at a critical point (see
        :func:`at_critical_point` and ``meta['grad_tol']``, ``meta['grad_rtol']``).

        Parameters
        ----------
        setup : str, default=None
            None for the study's only setup.

        Returns
        -------
        converged : ndarray of bool, shape (n_seeds,)
        """
        arr = self.arrays[self._check_setup(setup)]
        if "grad_norm" not in arr:
            raise ValueError("This study recorded no gradient norms (saved by an older mlpx).")
        return at_critical_point(arr["grad_norm"], arr.get("grad_norm_start", np.inf),
                                 self.meta["grad_tol"], self.meta.get("grad_rtol", np.inf))

    def agreement_matrix(
        self,
        setup: str | None = None,
        *,
        epoch: int | None = None,
        split: Literal["train", "test"] = "train",
    ) -> NDArray[np.float64]:
        """K x K agreement fractions at a recorded epoch (default the last).

        Parameters
        ----------
        setup : str, default=None
            The setup (None when there is only one).
        epoch : int, default=None
            A recorded epoch number; None for the last.
        split : {'train', 'test'}, default='train'

        Returns
        -------
        M : ndarray of shape (K, K)
        """
        setup = self._check_setup(setup)
        arr = self.arrays[setup]
        key = f"{split}_pred"
        if key not in arr:
            raise ValueError(f"No {split} predictions were recorded for {setup!r}.")
        epochs = list(arr["epochs"])
        if epoch is None:
            e = len(epochs) - 1
        elif epoch in epochs:
            e = epochs.index(epoch)
        else:
            raise ValueError(f"Epoch {epoch} was not recorded; recorded: {epochs}.")
        kind = self.meta["kinds"][setup]
        return agreement_matrix(arr[key][:, e], kind=kind,
                                tol=self.meta["regression_tol_abs"][setup])

    # -------------------------------------------------------------- figures
    def plot_loss_curves(self, **kwargs: Any) -> Figure:
        """Loss per seed over epochs; see :func:`mlpx.landscape.plot_loss_curves`."""
        from mlpx.landscape._plotting import plot_loss_curves

        return plot_loss_curves(self, **kwargs)

    def plot_agreement_counts(self, **kwargs: Any) -> Figure:
        """Identically / differently labelled samples per pair over epochs."""
        from mlpx.landscape._plotting import plot_agreement_counts

        return plot_agreement_counts(self, **kwargs)

    def plot_agreement_matrix(self, **kwargs: Any) -> Figure:
        """Heat-map of pairwise agreement at one epoch."""
        from mlpx.landscape._plotting import plot_agreement_matrix

        return plot_agreement_matrix(self, **kwargs)

    # ---------------------------------------------------------------- files
    def save(self, directory: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the study to `directory`, all or nothing.

        Files: ``study.json`` (metadata), ``per_seed.csv`` and ``pairs.csv``
        (tables), ``arrays.npz`` (recorded arrays), ``estimators.pkl`` (the
        fitted estimators, pickled). Everything is written to a temporary
        sibling directory renamed into place at the end.

        Parameters
        ----------
        directory : str or path
            Target directory; created if missing.
        overwrite : bool, default=False
            Replace an existing saved study at `directory`. A directory
            holding anything mlpx did not write there (listed in its
            ``.mlpx-files``), or the current directory, is never replaced.

        Returns
        -------
        directory : Path
        """
        with atomic_directory(directory, overwrite=overwrite) as tmp:
            self.write_files(tmp)
        return Path(directory)

    def write_files(self, directory: str | os.PathLike[str]) -> list[str]:
        """Write the study's files into an existing directory (not atomic)."""
        d = Path(directory)
        npz = {f"{s}/{k}": a for s, arr in self.arrays.items() for k, a in arr.items()}
        manifest = {"meta": self.meta, "arrays": sorted(npz)}
        (d / MANIFEST).write_text(json.dumps(manifest, indent=2, allow_nan=True))
        self.per_seed.to_csv(d / "per_seed.csv", index=False)
        self.pairs.to_csv(d / "pairs.csv", index=False)
        np.savez(d / "arrays.npz", **npz)
        with open(d / "estimators.pkl", "wb") as f:
            pickle.dump(self.estimators, f, protocol=pickle.HIGHEST_PROTOCOL)
        return sorted(p.name for p in d.iterdir())

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> SeedStudy:
        """Read a study written by :meth:`save`.

        The estimators are unpickled: load only directories you trust.

        Parameters
        ----------
        directory : str or path

        Returns
        -------
        study : SeedStudy
        """
        d = Path(directory)
        try:
            manifest = json.loads((d / MANIFEST).read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"{d} holds no saved study ({MANIFEST} missing).") from None
        meta = manifest.get("meta", {})
        if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{d / MANIFEST} is not an mlpx seed study (format 1).")
        per_seed = pd.read_csv(d / "per_seed.csv", **_EXACT_FLOATS)
        pairs = pd.read_csv(d / "pairs.csv", **_EXACT_FLOATS)
        arrays = {s: {} for s in meta["setups"]}
        with np.load(d / "arrays.npz", allow_pickle=False) as z:
            for key in manifest["arrays"]:
                setup, name = key.split("/", 1)
                arrays[setup][name] = z[key]
        with open(d / "estimators.pkl", "rb") as f:
            estimators = pickle.load(f)
        return cls(estimators, arrays, per_seed, pairs, meta)


def _per_seed_table(arrays, meta):
    seeds = np.asarray(meta["seeds"], dtype=np.int64)
    frames = []
    for setup, arr in arrays.items():
        K, E = len(seeds), len(arr["epochs"])
        cols = {
            "setup": [setup] * (K * E),
            "seed": np.repeat(seeds, E),
            "epoch": np.tile(arr["epochs"], K),
        }
        for key in _PER_RUN_SCALARS:
            if key in arr:
                cols[key] = arr[key].ravel()
        frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)


def _aligned_distances(estimators, tau):
    """Per pair of final networks (i < j): L2 distance and count of weights
    differing by more than tau once matched modulo the activation's symmetries."""
    from mlpx._engine import network_of, params_of
    from mlpx.landscape._alignment import aligned_vectors

    sizes = network_of(estimators[0]).layer_units
    activation = estimators[0].activation
    thetas = [params_of(e) for e in estimators]
    dist, count = [], []
    for i, j in combinations(range(len(thetas)), 2):
        a, b = aligned_vectors(thetas[i], thetas[j], sizes, activation)
        dist.append(float(np.linalg.norm(a - b)))
        count.append(int(np.count_nonzero(np.abs(a - b) > tau)))
    return {"aligned_weight_distance": np.array(dist),
            "aligned_weight_diff_count": np.array(count, dtype=np.int64)}


#: Bytes of one block of pair comparisons: the pairs table is computed a block
#: of pairs x epochs at a time, so its temporaries stay this size (a few times
#: over) whatever the number of seeds, samples or parameters.
_BLOCK_BYTES = 1 << 22


def _pair_blocks(n_seeds, n_epochs, row_bytes):
    """Blocks of the pairs x epochs grid, each within `_BLOCK_BYTES`.

    Yields ``(i, js, es, ps)``: seed i against the seeds of the slice ``js``
    (all above i) at the epochs of the slice ``es``; ``ps`` is the slice of
    those pairs in ``combinations(range(n_seeds), 2)`` order.
    """
    rows = max(1, _BLOCK_BYTES // max(1, row_bytes))
    n_e = min(n_epochs, rows)
    n_j = rows // n_epochs if n_e == n_epochs else 1
    first = 0  # index of the pair (i, i + 1)
    for i in range(n_seeds - 1):
        for j0 in range(i + 1, n_seeds, n_j):
            j1 = min(j0 + n_j, n_seeds)
            for e0 in range(0, n_epochs, n_e):
                yield (i, slice(j0, j1), slice(e0, min(e0 + n_e, n_epochs)),
                       slice(first + j0 - i - 1, first + j1 - i - 1))
        first += n_seeds - 1 - i


def _prediction_columns(pred, kind, tol):
    """Per pair x epoch of pred (n_seeds, n_epochs, n_samples[, n_outputs]):
    samples agreeing (as ``_agree_mask``) and, for regression, the RMS gap."""
    K, E, n = pred.shape[:3]
    agree = np.empty((K * (K - 1) // 2, E), dtype=np.int64)
    gap = np.empty(agree.shape) if kind == "regression" else None
    for i, js, es, ps in _pair_blocks(K, E, pred[0, 0].size * max(8, pred.itemsize)):
        a, b = pred[i, es], pred[js, es]
        if kind == "classification":
            same = a == b
        else:
            same = np.abs(a.astype(float) - b.astype(float)) <= tol
            # in the predictions' own dtype, as np.mean((a - b) ** 2) of one pair
            sq = (a - b) ** 2
            gap[ps, es] = np.sqrt(np.mean(sq.reshape(*sq.shape[:2], -1), axis=2))
        if same.ndim > 3:  # a multi-output sample agrees when all its outputs do
            same = same.reshape(*same.shape[:3], -1).all(axis=3)
        agree[ps, es] = same.sum(axis=2)
    return agree.ravel(), None if gap is None else gap.ravel()


def _weight_columns(params, tau):
    """Per pair x epoch of params (n_seeds, n_epochs, n_params): parameters
    differing by more than tau, and the Euclidean distance."""
    K, E, n = params.shape
    count = np.empty((K * (K - 1) // 2, E), dtype=np.int64)
    dist = np.empty(count.shape)
    for i, js, es, ps in _pair_blocks(K, E, n * 8):
        diff = params[i, es].astype(float) - params[js, es]
        # Each row's dot with itself by matmul's vector @ vector kernel: the
        # BLAS dot np.linalg.norm(row) takes, so the distances are the same
        # to the bit (a reduction such as norm(axis=) sums in another order).
        rows = diff.reshape(-1, 1, n)
        dist[ps, es] = np.sqrt(rows @ rows.transpose(0, 2, 1)).reshape(diff.shape[:2])
        count[ps, es] = (np.abs(diff, out=diff) > tau).sum(axis=2)
    return count.ravel(), dist.ravel()


def _pairs_table(arrays, meta):
    """The table ``SeedStudy.pairs``: per setup, pairs in combinations order,
    epochs inner; computed a block of pairs x epochs at a time."""
    seeds = np.asarray(meta["seeds"], dtype=np.int64)
    K = len(seeds)
    first, second = np.triu_indices(K, k=1)  # the order of combinations(range(K), 2)
    frames = []
    for setup, arr in arrays.items():
        kind, tol = meta["kinds"][setup], meta["regression_tol_abs"][setup]
        epochs = np.asarray(arr["epochs"], dtype=np.int64)
        E = len(epochs)
        cols = {
            "setup": [setup] * (first.size * E),
            "seed_a": np.repeat(seeds[first], E),
            "seed_b": np.repeat(seeds[second], E),
            "epoch": np.tile(epochs, first.size),
        }
        for split in ("train", "test"):
            if f"{split}_pred" not in arr:
                continue
            pred = arr[f"{split}_pred"]
            agree, gap = _prediction_columns(pred, kind, tol)
            cols[f"{split}_agreement"] = agree / pred.shape[2]
            cols[f"{split}_agree_count"] = agree
            cols[f"{split}_disagree_count"] = pred.shape[2] - agree
            if gap is not None:
                cols[f"{split}_rms_gap"] = gap
        if "params" in arr:
            cols["weight_diff_count"], cols["weight_distance"] = _weight_columns(
                arr["params"], meta["tau"])
        if "aligned_weight_distance" in arr:  # final networks only: NaN before
            dist = np.full((first.size, E), np.nan)
            dist[:, -1] = arr["aligned_weight_distance"]
            count = np.asarray(arr["aligned_weight_diff_count"], dtype=np.int64)
            if E > 1:
                count = np.column_stack([np.full((first.size, E - 1), np.nan), count])
            cols["aligned_weight_distance"] = dist.ravel()
            cols["aligned_weight_diff_count"] = count.ravel()
        frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True)
