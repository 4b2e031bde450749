"""`mlpx linear` and `mlpx width`: landscape geometry from the command line.

``mlpx linear`` trains deep linear networks of a few depths from K seeds with
L-BFGS, compares the losses they reach with the closed-form global minimum L*
(Baldi & Hornik 1989, Kawaguchi 2016) and classifies every end point (global
minimum or saddle, Hessian, rank condition); with --activation, the same for
nonlinear networks, as far as the theorem allows. ``mlpx width`` trains K
seeds per hidden width and reports how the final losses spread (Choromanska
et al. 2015). Both print a table and write CSV files, a figure and a ``study.json``
manifest to --out, all or nothing.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from mlpx._cli_tools import (
    MAX_COUNT,
    HelpFormatter,
    check_memory,
    fraction,
    integer,
    n_jobs,
    network_bytes,
    number,
    one_line,
    positive_ints,
)
from mlpx._engine import HIDDEN_ACTIVATIONS
from mlpx.landscape._cli import UsageError, headless_pyplot, load_dataset, output_count

LINEAR_DATASETS = ("random", "linnerud")


def _manifest(kind, args):
    from mlpx import __version__

    settings = {k: v for k, v in vars(args).items() if k not in ("func",)}
    return {"format": f"mlpx-{kind}-study", "format_version": 1, "mlpx_version": __version__,
            "command": f"mlpx {kind}", "settings": settings}


def _run(prog, kind, args, work):
    """Run `work(tmp)` inside an atomic --out directory; map errors to exit codes."""
    from mlpx.landscape._results import MANIFEST, atomic_directory

    t0 = time.perf_counter()
    try:
        prepared = work.prepare(args)
        out = Path(args.out)
        with atomic_directory(out, overwrite=True) as tmp:
            report = work.compute(prepared, args)
            work.write(report, tmp)
            (tmp / MANIFEST).write_text(json.dumps(_manifest(kind, args), indent=2,
                                                   default=str))
            written = sorted(p.name for p in tmp.iterdir())
    except UsageError as exc:
        print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
        return 1
    print(work.format(report))
    print(f"Wrote {out}/: {', '.join(written)}")
    print(f"Wall time: {time.perf_counter() - t0:.1f} s")
    return 0


def _save_figure(fig_fn, path):
    plt = headless_pyplot()
    if plt is None:
        return
    fig = fig_fn()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _table(head, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    return "\n".join("  ".join(str(x).ljust(w) for x, w in zip(row, widths))
                     for row in [head] + rows)


# --------------------------------------------------------------------- linear
def add_linear_parser(subparsers):
    """Register the `linear` subcommand."""
    p = subparsers.add_parser(
        "linear",
        help="deep linear networks: the losses K seeds reach against the closed-form optimum",
        description=(
            "Train deep linear networks (identity activations, squared loss, no "
            "penalty, L-BFGS) of several depths from K seeds, every hidden layer "
            "of width p, and compare the losses they reach with the global minimum "
            "L* of Baldi & Hornik (1989) and Kawaguchi (2016): every local minimum "
            "of such a network is global. Each run's end point is classified: at a "
            "critical point or not (gradient-norm test), smallest Hessian "
            "eigenvalue, rank condition rank(W_H...W_2) = p, global minimum or "
            "saddle. With a nonlinear --activation the theorem does not apply: the "
            "data hypotheses, gradient and Hessian are still checked, and an end "
            "point above L* is reported as not global. Writes linear.csv, "
            "linear.png and study.json to --out."
        ),
        formatter_class=HelpFormatter,
    )
    p.add_argument("--dataset", default="random",
                   help="random (Gaussian data), linnerud, or a .npz file with arrays X "
                        "(n, d_x) and Y (n, d_y); X and Y are standardised")
    p.add_argument("--n-samples", type=integer(1, 10**8), default=100,
                   help="random data: samples")
    p.add_argument("--n-features", type=integer(1, MAX_COUNT), default=8,
                   help="random data: d_x")
    p.add_argument("--n-outputs", type=integer(1, MAX_COUNT), default=5,
                   help="random data: d_y")
    p.add_argument("--noise", type=number(0), default=0.5,
                   help="random data: noise added to Y = X A")
    p.add_argument("--width", type=integer(1, MAX_COUNT), default=2,
                   help="width p of every hidden layer (p < d_y makes the rank constraint "
                        "bind)")
    p.add_argument("--depths", type=positive_ints, default="1,2,3",
                   help="numbers of hidden layers, comma separated")
    p.add_argument("--seeds", type=integer(1, MAX_COUNT), default=5,
                   help="seeds 0..K-1 per depth")
    p.add_argument("--max-iter", type=integer(1), default=20000, help="L-BFGS iterations")
    p.add_argument("--activation", default="identity", choices=list(HIDDEN_ACTIVATIONS),
                   help="hidden activation; identity is the deep linear network of the "
                        "theorem, any other is checked only as far as it applies")
    p.add_argument("--out", default="mlpx-linear",
                   help="output directory, relative to the current directory; a previous "
                        "result there is replaced; a folder holding files mlpx did not write "
                        "is refused")
    p.set_defaults(func=linear_main)
    return p


def _linear_data(args):
    from sklearn.preprocessing import StandardScaler

    if args.dataset == "random":
        check_memory(3 * 8 * args.n_samples * (args.n_features + 2 * args.n_outputs)
                     + 8 * args.n_features * args.n_outputs,
                     f"random data of {args.n_samples} x {args.n_features} features and "
                     f"{args.n_outputs} outputs", "choose fewer samples or features")
        rng = np.random.default_rng(0)
        X = rng.normal(size=(args.n_samples, args.n_features))
        Y = X @ rng.normal(size=(args.n_features, args.n_outputs))
        Y += args.noise * rng.normal(size=Y.shape)
        desc = (f"random: {args.n_samples} samples, d_x={args.n_features}, "
                f"d_y={args.n_outputs}, noise {args.noise}")
    elif args.dataset == "linnerud":
        from sklearn.datasets import load_linnerud

        X, Y = load_linnerud(return_X_y=True)
        desc = "linnerud: 20 samples, d_x=3, d_y=3"
    else:
        X, Y, desc = _read_npz(Path(args.dataset))
    X = StandardScaler().fit_transform(np.asarray(X, dtype=float))
    Y = StandardScaler().fit_transform(np.asarray(Y, dtype=float).reshape(len(Y), -1))
    return X, Y, desc


def _read_npz(path):
    if path.suffix.lower() != ".npz" or not path.is_file():
        raise UsageError(
            f"Unknown dataset {str(path)!r}: not one of {', '.join(LINEAR_DATASETS)} and no "
            ".npz file of that name."
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            key = "Y" if "Y" in z.files else "y"
            if "X" not in z.files or key not in z.files:
                raise UsageError(f"{path} needs arrays X and Y.")
            X, Y = z["X"], z[key]
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is the user's file
        raise UsageError(f"Cannot read dataset {path}: {exc}") from None
    if X.ndim != 2 or Y.ndim not in (1, 2) or len(X) != len(Y) or len(X) < 3:
        raise UsageError(f"{path}: need X (n, d_x) and Y (n, d_y) with n >= 3; got "
                         f"{X.shape} and {Y.shape}.")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise UsageError(f"{path}: X or Y holds NaN or infinite values.")
    d_y = Y.reshape(len(Y), -1).shape[1]
    return X, Y, f"{path.name}: {len(X)} samples, d_x={X.shape[1]}, d_y={d_y}"


MAX_SEED_ROWS = 60  # longer studies print per-depth counts; linear.csv has every seed
DENSE_HESSIAN_PARAMS = 2000


class _Linear:
    @staticmethod
    def prepare(args):
        depths = list(args.depths)
        X, Y, desc = _linear_data(args)
        for depth in depths:
            sizes = [X.shape[1], *(args.width,) * depth, Y.shape[1]]
            n_params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
            check_memory(network_bytes(sizes, 1) + 8 * X.shape[1] * args.width
                         + 8 * min(n_params, DENSE_HESSIAN_PARAMS) ** 2,
                         f"a network of depth {depth} and width {args.width} with its Hessian")
        return X, Y, desc, depths

    @staticmethod
    def compute(prepared, args):
        import pandas as pd

        from mlpx import MLPXRegressor
        from mlpx.landscape._linear import (
            check_linear_assumptions,
            linear_network_optimum,
            trained_critical_points,
        )

        X, Y, desc, depths = prepared
        checks = check_linear_assumptions(X, Y)
        optimum = linear_network_optimum(X, Y, args.width)
        y = Y[:, 0] if Y.shape[1] == 1 else Y
        print(f"{desc}; {args.activation} activations, hidden width {args.width}, depths "
              f"{depths}, {args.seeds} seeds", flush=True)
        tables = []
        for depth in depths:
            hidden = (args.width,) * depth
            est = MLPXRegressor(hidden_layer_sizes=hidden, activation=args.activation,
                                solver="lbfgs", alpha=0.0, tol=1e-15, max_iter=args.max_iter,
                                max_fun=2 * args.max_iter)
            t = trained_critical_points(est, X, y, range(args.seeds),
                                        max_params=DENSE_HESSIAN_PARAMS)
            tables.append(t.assign(depth=depth, hidden=str(hidden)))
        table = pd.concat(tables, ignore_index=True).rename(
            columns={"solver_converged": "converged"})
        front = ["depth", "hidden", "seed", "loss", "optimum"]
        table = table[front + [c for c in table.columns if c not in front]]
        table.insert(5, "least_squares", optimum.least_squares_loss)
        return {"table": table, "optimum": optimum, "checks": checks, "width": args.width,
                "linear": args.activation == "identity", "activation": args.activation}

    @staticmethod
    def write(report, directory):
        report["table"].to_csv(directory / "linear.csv", index=False)
        _save_figure(lambda: _linear_figure(report), directory / "linear.png")

    @staticmethod
    def format(report):
        import pandas as pd

        from mlpx.landscape._linear import critical_point_summary

        opt, checks, df = report["optimum"], report["checks"], report["table"]
        hypotheses = (
            f"Hypotheses (Kawaguchi 2016, centred data): rank XX^T = {checks.rank_xx}/"
            f"{checks.d_x}, rank XY^T = {checks.rank_xy}, d_y <= d_x: {checks.dy_le_dx}, "
            f"distinct eigenvalues of Σ: {checks.distinct} -> "
            f"{'satisfied' if checks.satisfied else 'NOT satisfied'}"
        )
        optimum = (
            f"Global minimum L* (width {report['width']}, keeps {opt.rank} of "
            f"{opt.n_outputs} directions) = {opt.loss:.10g}; least squares = "
            f"{opt.least_squares_loss:.10g}"
        )
        lines = [hypotheses, optimum, ""]
        if not report["linear"]:
            lines[1:1] = [
                f"The theorem covers identity activations, not {report['activation']}: its "
                "nonlinear version assumes independent Bernoulli path activations, which a "
                "trained network does not have. Checked here: the data hypotheses, the "
                "gradient, the Hessian, and the loss against L*, an upper bound of the "
                "network's global minimum (an end point above L* is not global)."]
        if len(df) <= MAX_SEED_ROWS:
            rows = [[r.depth, r.hidden, r.seed, f"{r.relative_gap:.1e}",
                     f"{r.grad_norm:.1e}", "yes" if r.at_critical_point else "no",
                     f"{r.min_eigenvalue:+.1e}",
                     "-" if pd.isna(r.middle_rank) else f"{int(r.middle_rank)}/{report['width']}",
                     r.kind]
                    for r in df.itertuples()]
            lines.append(_table(["depth", "hidden", "seed", "(loss - L*)/L*", "|grad|",
                                 "critical", "λ_min(H)", "rank W_H..W_2", "kind"], rows))
        else:
            rows = []
            for depth, g in df.groupby("depth"):
                kinds = g.kind.value_counts()
                rows.append([depth, g.hidden.iloc[0], len(g), f"{g.relative_gap.min():.1e}",
                             f"{g.relative_gap.max():.1e}", f"{g.grad_norm.max():.1e}",
                             ", ".join(f"{c} {k}" for k, c in kinds.items())])
            lines.append(_table(["depth", "hidden", "seeds", "min (loss - L*)/L*",
                                 "max (loss - L*)/L*", "max |grad|", "end points"], rows))
        lines.append("")
        for depth, g in df.groupby("depth"):
            lines.append(f"depth {depth}: {critical_point_summary(g)}")
        lines.append(f"All: {critical_point_summary(df)}")
        lines.append(
            "\nCritical: gradient norm <= 1e-3 and <= 1e-2 times its initial value. "
            "λ_min(H): smallest\neigenvalue of the exact Hessian; below -10 |grad| it "
            "counts as negative curvature\n(the flat symmetry directions of a nearly "
            "critical point reach about |grad|).")
        return "\n".join(lines)


def _linear_figure(report):
    import matplotlib.pyplot as plt

    opt, df = report["optimum"], report["table"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    k = np.arange(1, opt.eigenvalues.size + 1)
    left.bar(k, opt.eigenvalues, color=["C0" if i < opt.rank else "0.7" for i in range(k.size)])
    left.set_xlabel("eigenvalue of Σ (decreasing)")
    left.set_ylabel("λ")
    left.set_title(f"kept by the optimum: the top {opt.rank} (blue)")
    markers = {"global minimum": "*", "no negative curvature": "o", "saddle": "v",
               "degenerate saddle": "s", "undetermined": "D", "not critical": "x"}
    n_kinds = df.kind.nunique()
    for i, (kind, g) in enumerate(df.groupby("kind")):
        jitter = (i - (n_kinds - 1) / 2) * 0.06
        right.scatter(g.depth + jitter, g.relative_gap, marker=markers.get(kind, "o"),
                      label=kind)
    # symmetric log: trained linear networks end 1e-9..1e-6 above L*, nonlinear
    # ones may end below it
    right.set_yscale("symlog", linthresh=1e-10)
    gaps = df.relative_gap.to_numpy()
    decades = 10.0 ** np.arange(-9, 3, 3)
    right.set_yticks([0.0] + [t for t in decades if gaps.max() >= t / 1000]
                     + [-t for t in decades if gaps.min() <= -t / 1000])
    right.axhline(0, color="k", lw=0.8)
    right.set_xticks(sorted(df.depth.unique()))
    right.set_xlabel("hidden layers")
    right.set_ylabel("(loss - L*) / L*")
    right.set_title(f"end point of each seed ({report['activation']})")
    right.grid(alpha=0.3)
    right.legend(fontsize="small")
    return fig


def linear_main(args):
    """Run `mlpx linear` with parsed arguments; return the exit status."""
    return _run("mlpx linear", "linear", args, _Linear)


# ---------------------------------------------------------------------- width
def add_width_parser(subparsers):
    """Register the `width` subcommand."""
    p = subparsers.add_parser(
        "width",
        help="train K seeds per hidden width and compare the spread of their final losses",
        description=(
            "Train K networks per hidden width that differ only in their seed and "
            "report the distribution of their final train and test losses (data "
            "loss, no penalty): mean, std, quantiles, histogram. Choromanska et al. "
            "(2015) predict the spread shrinks as the network grows. Writes "
            "width_study.csv, per_seed.csv, histograms.csv, width_study.png and "
            "study.json to --out."
        ),
        formatter_class=HelpFormatter,
    )
    p.add_argument("--dataset", default="digits",
                   help="digits, breast_cancer, diabetes, or a .csv file (last column = "
                        "target) or .npz file (arrays X, y)")
    p.add_argument("--widths", type=positive_ints, default="2,4,8,16,32",
                   help="hidden widths, comma separated")
    p.add_argument("--depth", type=integer(1, 1000), default=1,
                   help="hidden layers, all of the same width")
    p.add_argument("--seeds", type=integer(2, MAX_COUNT), default=5,
                   help="seeds 0..K-1, K >= 2")
    p.add_argument("--epochs", type=integer(1), default=30, help="training epochs")
    p.add_argument("--solver", default="adam", choices=["adam", "sgd", "lbfgs"],
                   help="weight optimisation")
    p.add_argument("--alpha", type=number(0), default=1e-4, help="L2 penalty")
    p.add_argument("--batch-size", type=integer(1), default=32, help="mini-batch size")
    p.add_argument("--learning-rate", type=number(0, low_open=True), default=1e-3,
                   help="learning_rate_init")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"],
                   help="how to read the target of a file (auto: as mlpx agreement does)")
    p.add_argument("--test-size", type=fraction, default=0.25,
                   help="held-out share of the data")
    p.add_argument("--bins", type=integer(1, MAX_COUNT), default=10, help="histogram bins")
    p.add_argument("--out", default="mlpx-width",
                   help="output directory, relative to the current directory; a previous "
                        "result there is replaced; a folder holding files mlpx did not write "
                        "is refused")
    p.add_argument("--n-jobs", type=n_jobs, default=1,
                   help="seeds trained in parallel (-1: all cores)")
    p.set_defaults(func=width_main)
    return p


class _Width:
    @staticmethod
    def prepare(args):
        widths = list(args.widths)
        data = load_dataset(args.dataset, args.test_size, args.task)
        X_tr, y_tr = data[0], data[2]
        n_out = output_count(y_tr)
        check_memory(sum(network_bytes([X_tr.shape[1], *(w,) * args.depth, n_out], args.seeds)
                         for w in widths),
                     f"{args.seeds} seeds of widths {widths}")
        return widths, data

    @staticmethod
    def compute(prepared, args):
        from mlpx import MLPXClassifier, MLPXRegressor
        from mlpx._engine import is_regression_target
        from mlpx.landscape._width import width_study

        widths, (X_tr, X_te, y_tr, y_te, desc) = prepared
        cls = MLPXRegressor if is_regression_target(y_tr) else MLPXClassifier
        est = cls(hidden_layer_sizes=(1,) * args.depth, solver=args.solver, alpha=args.alpha,
                  max_iter=args.epochs, batch_size=min(args.batch_size, len(X_tr)),
                  learning_rate_init=args.learning_rate)
        print(f"{desc}; {cls.__name__}, widths {widths} x {args.depth} layer(s), "
              f"{args.solver}, {args.epochs} epochs, {args.seeds} seeds", flush=True)
        table = width_study(est, X_tr, y_tr, widths, range(args.seeds), X_test=X_te,
                            y_test=y_te, bins=args.bins, n_jobs=args.n_jobs, verbose=True)
        return table

    @staticmethod
    def write(table, directory):
        import pandas as pd

        from mlpx.landscape._width import plot_width_study

        arrays = [c for c in table.columns if c.endswith(("_hist", "_losses"))]
        table.drop(columns=arrays).assign(
            hidden_layer_sizes=[str(h) for h in table.hidden_layer_sizes]
        ).to_csv(directory / "width_study.csv")
        seeds = table.attrs["seeds"]
        per_seed = pd.DataFrame([
            {"width": w, "seed": s, "train_loss": row.train_losses[i],
             "test_loss": row.test_losses[i]}
            for w, row in table.iterrows() for i, s in enumerate(seeds)
        ])
        per_seed.to_csv(directory / "per_seed.csv", index=False)
        hist = pd.DataFrame([
            {"width": w, "split": split, "bin_low": lo, "bin_high": hi, "count": int(c)}
            for split in ("train", "test")
            for w, row in table.iterrows()
            for lo, hi, c in zip(table.attrs[f"{split}_bins"][:-1],
                                 table.attrs[f"{split}_bins"][1:], row[f"{split}_hist"])
        ])
        hist.to_csv(directory / "histograms.csv", index=False)
        _save_figure(lambda: plot_width_study(table), directory / "width_study.png")

    @staticmethod
    def format(table):
        k = len(table.attrs["seeds"])
        rows = [[w, r.n_params, f"{r.train_mean:.4f} ± {r.train_std:.4f}",
                 f"{r.train_rel_std:.3f}", f"{r.test_mean:.4f} ± {r.test_std:.4f}",
                 f"{r.test_rel_std:.3f}",
                 f"{int(r.n_converged)}/{k} (max |grad| {r.grad_norm_max:.2g})"]
                for w, r in table.iterrows()]
        text = "\n" + _table(["width", "params", "train loss", "train std/mean", "test loss",
                              "test std/mean", "at a critical point"], rows) + (
            f"\n\nFinal data losses (no penalty), mean ± std over {k} seeds; at a critical "
            "point: full-batch gradient norm <= 1e-3 and <= 1e-2 times its initial value.")
        if (table.n_converged < k).any():
            text += ("\nWidths with runs away from a critical point compare losses after a "
                     "budget, not at minima: their spread depends on --epochs (raise it, or "
                     "use --solver lbfgs).")
        return text


def width_main(args):
    """Run `mlpx width` with parsed arguments; return the exit status."""
    return _run("mlpx width", "width", args, _Width)
