"""`mlpx agreement`: the seed-agreement study from the command line."""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from mlpx._cli_tools import (
    MAX_COUNT,
    HelpFormatter,
    check_memory,
    fraction,
    install_hint,
    integer,
    n_jobs,
    network_bytes,
    number,
    one_line,
    positive_ints,
)

BUILTIN_DATASETS = ("digits", "breast_cancer", "diabetes")
FIGURES = {
    "loss_curves.png": "plot_loss_curves",
    "agreement_counts.png": "plot_agreement_counts",
    "agreement_matrix.png": "plot_agreement_matrix",
}


class UsageError(Exception):
    """Bad input found after parsing (a dataset file, --out): one line, exit status 2."""


def _names(text, choices, what, extra=""):
    """Comma-separated names from `choices` as a tuple, or an argparse error."""
    names = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in names if s not in choices]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {unknown or [text]}; choose from {', '.join(choices)}{extra}")
    return names


def _setups(text):
    """An argparse type: 'auto' (None) or comma-separated names from SETUPS."""
    from mlpx.landscape._study import SETUPS

    return None if text.strip() == "auto" else _names(text, SETUPS, "setups", " or auto")


def _record(text):
    """An argparse type: comma-separated names of what to record every epoch."""
    from mlpx.landscape._ensemble import RECORDABLE

    return _names(text, RECORDABLE, "records")


def recorded_bytes(n_runs, n_records, size, n_train, n_test, record):
    """Bytes of the arrays a study records (arrays.npz, about as much in memory)."""
    per_record = 0
    if "loss" in record:
        per_record += 5 * 8
    if "predictions" in record:
        per_record += 8 * (n_train + n_test)
    if "params" in record:
        per_record += 8 * size
    return n_runs * n_records * per_record


def _human(n_bytes):
    for unit in ("bytes", "KB", "MB", "GB"):
        if n_bytes < 1000 or unit == "GB":
            return f"{n_bytes:.0f} {unit}" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000


def _init(args):
    """agreement_study's init and init_scale from --init and --init-scale."""
    if args.init == "paper":
        if args.init_scale is not None:
            raise UsageError("--init-scale goes with --init normal, not --init paper.")
        return {"init": "normal", "init_scale": lambda i: i + 2.0}
    if (args.init == "normal") != (args.init_scale is not None):
        raise UsageError("--init normal needs --init-scale, and --init-scale needs "
                         "--init normal.")
    return {"init": args.init, "init_scale": args.init_scale}


def add_parser(subparsers):
    """Register the `agreement` subcommand."""
    p = subparsers.add_parser(
        "agreement",
        help="train K seeds under three loss setups and compare their labels and weights",
        description=(
            "Train K identical networks that differ only in their seed under each "
            "loss setup (squared error on one-hot targets without softmax; log-loss "
            "with softmax; binary cross-entropy on sigmoid outputs), as in Cetinsoy, "
            "Mazari & Rhouma's test of Kawaguchi (2016). Writes tables (CSV), "
            "figures (PNG) and the saved study to --out, and prints a summary."
        ),
        formatter_class=HelpFormatter,
    )
    p.add_argument("--dataset", default="digits",
                   help="digits, breast_cancer, diabetes, or a .csv file (last column "
                        "= target) or .npz file (arrays X, y)")
    p.add_argument("--seeds", type=integer(2, MAX_COUNT), default=5,
                   help="number of seeds K >= 2; the seeds are 0..K-1")
    p.add_argument("--hidden", type=positive_ints, default="10,10",
                   help="hidden widths, comma separated")
    p.add_argument("--epochs", type=integer(1), default=30, help="training epochs")
    p.add_argument("--solver", default="adam", choices=["adam", "sgd", "lbfgs"],
                   help="weight optimisation")
    p.add_argument("--alpha", type=number(0), default=1e-4, help="L2 penalty")
    p.add_argument("--batch-size", type=integer(1), default=32,
                   help="mini-batch size (32 is the paper's Keras default)")
    p.add_argument("--learning-rate", type=number(0, low_open=True), default=1e-3,
                   help="learning_rate_init")
    p.add_argument("--setups", type=_setups, default="auto",
                   help="comma-separated loss setups; auto: the paper's three "
                        "(mse_no_softmax,mse_softmax,bce_sigmoid) and the reference "
                        "logloss_softmax for class labels, mse_regression for a "
                        "continuous target")
    p.add_argument("--init", default="default", choices=["default", "he", "normal", "paper"],
                   help="initial weights: default (scikit-learn's Glorot uniform), he, "
                        "normal (N(0, s^2) with s = --init-scale), or paper (N(0, (i+2)^2) "
                        "for the i-th seed, as Cetinsoy, Mazari & Rhouma)")
    p.add_argument("--init-scale", type=number(0, low_open=True), default=None,
                   help="standard deviation s of --init normal")
    p.add_argument("--record", type=_record, default=("loss", "predictions", "params"),
                   help="what to record at each recorded epoch, comma separated: loss, "
                        "predictions (agreement over epochs), params (raw weight "
                        "differences over epochs); the final networks are always kept")
    p.add_argument("--record-every", type=integer(1), default=1,
                   help="record every k-th epoch (and the last)")
    p.add_argument("--until", default="budget", choices=["budget", "tolerance"],
                   help="budget: train every run for --epochs; tolerance: also stop a run "
                        "once it is at a critical point (gradient norm <= --grad-tol and "
                        "<= 1e-2 times its initial value), checked after every epoch")
    p.add_argument("--grad-tol", type=number(0, low_open=True), default=1e-3,
                   help="largest full-batch gradient norm of a run at a critical point")
    p.add_argument("--tau", type=number(0), default=0.1,
                   help="weights differing by more than tau are counted")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"],
                   help="how to read the target of a file (auto: regression for a float "
                        "target with non-integer values or more than 20 distinct values, "
                        "else class labels)")
    p.add_argument("--test-size", type=fraction, default=0.25,
                   help="held-out share of the data")
    p.add_argument("--out", default="mlpx-agreement",
                   help="output directory, relative to the current directory; a previous "
                        "result there is replaced; a folder holding files mlpx did not write "
                        "is refused")
    p.add_argument("--n-jobs", type=n_jobs, default=1,
                   help="runs trained in parallel (-1: all cores)")
    p.set_defaults(func=main)
    return p


def _read_file(path):
    """(X, y) from a .csv (last column = target, optional header) or .npz (X, y)."""
    if not path.is_file():
        raise UsageError(
            f"Unknown dataset {str(path)!r}: not one of {', '.join(BUILTIN_DATASETS)} "
            "and no such file."
        )
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                missing = {"X", "y"} - set(z.files)
                if missing:
                    raise UsageError(f"{path} lacks the arrays {sorted(missing)} (needs X and y).")
                X, y = z["X"], z["y"]
        elif suffix == ".csv":
            import pandas as pd

            df = pd.read_csv(path, header=None)
            if pd.to_numeric(df.iloc[0, :-1], errors="coerce").isna().any():
                df = pd.read_csv(path)  # the first row is a header
            if df.shape[1] < 2:
                raise UsageError(f"{path} needs at least two columns (features, target).")
            X = df.iloc[:, :-1].to_numpy(dtype=float)
            y = df.iloc[:, -1].to_numpy()
        else:
            raise UsageError(f"Cannot read {path}: use a .csv or .npz file.")
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is the user's file
        raise UsageError(f"Cannot read dataset {path}: {exc}") from None
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0] or X.shape[0] < 4:
        raise UsageError(
            f"{path}: need X of shape (n_samples, n_features) and y of shape "
            f"(n_samples,) with n_samples >= 4; got X {X.shape}, y {y.shape}."
        )
    if X.dtype.kind not in "biuf":
        raise UsageError(f"{path}: the features must be real numbers, got dtype {X.dtype}.")
    if not np.isfinite(X).all():
        raise UsageError(f"{path}: the features contain NaN or infinite values.")
    return X, y


def _is_regression(y):
    if not np.issubdtype(y.dtype, np.floating):
        return False
    return bool((y != np.round(y)).any() or np.unique(y).size > 20)


def output_count(y):
    """Outputs of a network for target y as load_dataset returns it: 1 for a
    (float) regression target, else the number of classes."""
    return 1 if y.dtype.kind == "f" else int(np.unique(y).size)


def load_dataset(name, test_size, task="auto"):
    """Train/test split of a bundled dataset or a file, scaled for an MLP.

    digits: pixels / 16. Others: features standardised on the training part;
    a regression target is standardised too. Returns (X_tr, X_te, y_tr, y_te,
    description).
    """
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if name in BUILTIN_DATASETS:
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        regression = name == "diabetes"
    else:
        X, y = _read_file(Path(name))
        regression = _is_regression(y) if task == "auto" else task == "regression"
    if regression:
        try:
            y = y.astype(float)
        except ValueError:
            raise UsageError(f"{name}: a regression target must be numeric.") from None
    stratify = None
    if not regression:
        _, counts = np.unique(y, return_counts=True)
        if counts.size < 2:
            raise UsageError(f"{name}: the target has a single class.")
        stratify = y if counts.min() >= 2 else None
    try:
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=test_size, random_state=0, stratify=stratify
        )
    except ValueError as exc:
        raise UsageError(f"{name}: cannot split train/test: {exc}") from None
    if name == "digits":
        X_tr, X_te = X_tr / 16.0, X_te / 16.0
    else:
        scaler = StandardScaler().fit(X_tr)
        X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    if regression:
        mean, std = y_tr.mean(), y_tr.std() or 1.0
        y_tr, y_te = (y_tr - mean) / std, (y_te - mean) / std
    kind = "regression, standardised target" if regression else "classification"
    desc = (f"{Path(name).name}: {X_tr.shape[0]} train / {X_te.shape[0]} test samples, "
            f"{X.shape[1]} features, {kind}")
    return X_tr, X_te, y_tr, y_te, desc


def _pm(mean, std):
    return f"{mean:.4f} ± {std:.4f}"


def format_summary(summary, scores, baseline=None):
    """The summary table as text: mean ± std over seeds, mean over pairs; then,
    if given, the constant predictor's row under each setup."""
    head = ["setup", "train loss", "test loss", "train score", "test score",
            "agree train", "agree test", "at a critical point"]
    rows = []
    for setup, r in summary.iterrows():
        name = "acc" if scores[setup] == "accuracy" else "R2"
        rows.append([
            setup,
            _pm(r.train_loss_mean, r.train_loss_std),
            _pm(r.test_loss_mean, r.test_loss_std),
            f"{name} {_pm(r.train_score_mean, r.train_score_std)}",
            f"{name} {_pm(r.test_score_mean, r.test_score_std)}",
            f"{r.train_agreement_mean:.4f}",
            f"{r.test_agreement_mean:.4f}",
            f"{int(r.n_converged)} (max |grad| {r.grad_norm_max:.2g})"
            if "n_converged" in r else "not recorded",
        ])
        if baseline is not None and setup in baseline.index:
            b = baseline.loc[setup]
            rows.append([
                "  constant", f"{b.train_loss:.4f}",
                f"{b.test_loss:.4f}" if "test_loss" in b else "",
                f"{name} {b.train_score:.4f}",
                f"{name} {b.test_score:.4f}" if "test_score" in b else "", "", "", "",
            ])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)) for row in [head] + rows]
    return "\n".join(lines)


def headless_pyplot():
    """matplotlib.pyplot on the Agg backend, or None (with a message) if missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no figures ({install_hint('plot')}).",
              file=sys.stderr)
        return None
    return plt


def _write_figures(study, directory):
    plt = headless_pyplot()
    if plt is None:
        return
    for filename, method in FIGURES.items():
        fig = getattr(study, method)()
        fig.savefig(directory / filename, dpi=110)
        plt.close(fig)


def _report_convergence(caught, args):
    """One line for the runs that hit their budget (instead of a warning per run
    inside the progress bar); other warnings are shown as usual."""
    stopped = 0
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            stopped += 1
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    if stopped:
        unit = "iterations" if args.solver == "lbfgs" else "epochs"
        print(f"\n{stopped} run(s) stopped at the budget of {args.epochs} {unit} before "
              "meeting scikit-learn's convergence criterion (ConvergenceWarning): "
              f"their end points need not be minima; raise --epochs.")


def main(args):
    """Run `mlpx agreement` with parsed arguments; return the exit status."""
    from mlpx._engine import n_params
    from mlpx.landscape._baseline import constant_baseline
    from mlpx.landscape._report import agreement_report
    from mlpx.landscape._results import atomic_directory
    from mlpx.landscape._study import CLASSIFICATION_SETUPS, agreement_study

    t0 = time.perf_counter()
    prog = "mlpx agreement"
    hidden, setups = args.hidden, args.setups
    try:
        init = _init(args)
        X_tr, X_te, y_tr, y_te, desc = load_dataset(args.dataset, args.test_size, args.task)
        n_out = output_count(y_tr)
        n_runs = args.seeds * len(setups or CLASSIFICATION_SETUPS)
        sizes = [X_tr.shape[1], *hidden, n_out]
        n_records = (1 if args.solver == "lbfgs"
                     else len(range(args.record_every, args.epochs + 1, args.record_every))
                     + (args.epochs % args.record_every != 0))
        size = recorded_bytes(n_runs, n_records, n_params(sizes), len(X_tr), len(X_te),
                              args.record)
        check_memory(network_bytes(sizes, n_runs) + size,
                     f"{args.seeds} seeds of a {X_tr.shape[1]}-{hidden}-{n_out} network "
                     f"and their records")
        out = Path(args.out)
        # Entered before training, so an unwritable --out fails at once.
        with atomic_directory(out, overwrite=True) as tmp:
            budget = (f"at most {args.epochs} iterations" if args.solver == "lbfgs"
                      else f"{args.epochs} epochs, batch {args.batch_size}")
            print(f"{desc}; hidden={hidden}, {args.solver}, {budget}, {args.seeds} seeds, "
                  f"init {args.init}", flush=True)
            print(f"Recording {', '.join(args.record)} at {n_records} epoch(s) of {n_runs} "
                  f"runs: about {_human(size)}"
                  + (" (record less with --record loss,predictions or --record-every)"
                     if size > 100e6 else ""), flush=True)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                study = agreement_study(
                    X_tr, y_tr, X_test=X_te, y_test=y_te, seeds=range(args.seeds),
                    hidden_layer_sizes=hidden, epochs=args.epochs, solver=args.solver,
                    until=args.until, grad_tol=args.grad_tol, record=args.record,
                    record_every=args.record_every,
                    alpha=args.alpha, setups=setups, batch_size=min(args.batch_size, len(X_tr)),
                    learning_rate_init=args.learning_rate, tau=args.tau, **init,
                    n_jobs=args.n_jobs, verbose=True,
                )
            study.write_files(tmp)
            summary = study.summary()
            summary.to_csv(tmp / "summary.csv")
            baseline = constant_baseline(study.setups, y_tr, y_te)
            baseline.to_csv(tmp / "baseline.csv")
            (tmp / "report.md").write_text(agreement_report(
                study, baseline, description=f"{desc}; hidden={hidden}, {args.solver}, "
                f"{budget}, init {args.init}."), encoding="utf-8")
            _write_figures(study, tmp)
            written = sorted(p.name for p in tmp.iterdir())
    except UsageError as exc:
        print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
        return 1
    print()
    print(format_summary(summary, study.meta["scores"], baseline))
    if "aligned_weight_distance_mean" in summary:
        raw = "weight_distance_mean" in summary  # recorded with params
        first = study.estimators[study.setups[0]][0]  # every setup: same architecture
        total = sum(W.size for W in first.coefs_) + sum(b.size for b in first.intercepts_)
        scaled = (" and both put in canonical scaling, so their L2 is on another scale than "
                  "the raw one" if first.activation in ("relu", "leaky_relu") else "")
        print(f"\nWeights of the final networks, mean over pairs (of {total} parameters, "
              f"differing by > tau={args.tau:g}; aligned = matched modulo the "
              f"{first.activation} network's symmetries{scaled}):")
        for setup, r in summary.iterrows():
            print(f"  {setup}: "
                  + (f"raw L2 {r.weight_distance_mean:.3g}, {r.weight_diff_count_mean:.0f} "
                     "differ; " if raw else "")
                  + f"aligned L2 {r.aligned_weight_distance_mean:.3g}, "
                  f"{r.aligned_weight_diff_count_mean:.0f} differ")
    _report_convergence(caught, args)
    if args.until == "tolerance":
        unit = "iterations" if args.solver == "lbfgs" else "epochs"
        print(f"\nTrained until a critical point or {args.epochs} {unit}; what ended each run:")
        for setup in study.setups:
            ended = study.arrays[setup]["stopped_by"]
            counts = {why: int((ended == why).sum()) for why in ("tolerance", "budget", "solver")}
            last = int(study.arrays[setup]["stop_epoch"][ended == "tolerance"].max(initial=0))
            print(f"  {setup}: tolerance {counts['tolerance']}"
                  + (f" (the last after {last} {unit})" if counts["tolerance"] else "")
                  + f", budget {counts['budget']}"
                  + (f", L-BFGS's own criterion {counts['solver']}" if counts["solver"] else ""))
    agreement = ("share of samples two seeds label alike"
                 if "classification" in study.meta["kinds"].values() else
                 "share of samples on which two seeds' predictions differ by at most "
                 "the study's tolerance")
    when = ("End of each L-BFGS fit" if args.solver == "lbfgs"
            else f"Final epoch {int(summary.epoch.iloc[0])}")
    print(f"\n{when}; mean ± std over {args.seeds} seeds; "
          f"agreement = {agreement}, mean over pairs; at a "
          "critical point = seeds whose full-batch gradient norm of the training objective "
          f"is <= {study.meta['grad_tol']:g} and <= {study.meta['grad_rtol']:g} times its "
          "initial value at the end; constant = the best constant "
          "predictor (training class frequencies or mean), the floor to beat.")
    if (summary.n_converged < args.seeds).any():
        print("Runs that did not reach a critical point were compared before convergence: "
              "their agreement says little about minima ("
              + ("raise --epochs, or --until tolerance" if args.solver == "lbfgs"
                 else "raise --epochs, or try --solver lbfgs --until tolerance") + ").")
    print(f"Wrote {out}/: {', '.join(written)}")
    print(f"The paper's claims against this run: {out / 'report.md'}")
    print(f"Wall time: {time.perf_counter() - t0:.1f} s")
    return 0
