"""`mlpx surface`, `spectrum`, `margins` and `bayes`: landscape analyses from the command line.

``mlpx surface`` draws the loss on the plane through three trained networks
and on a filter-normalised random plane around one (Garipov et al. 2018, Li
et al. 2018). ``mlpx spectrum`` estimates the Hessian spectrum at the end point
of every seed (top eigenvalues, smallest eigenvalue, stochastic Lanczos
quadrature). ``mlpx margins`` relates spectrally normalised margins and the
margin bound to the test error across seeds (Bartlett et al. 2017), optionally
with networks fit to partly shuffled labels. ``mlpx bayes`` trains two networks
on Gaussian-mixture data whose Bayes-optimal classifier is known and compares
their errors and decision regions with it. Each prints a table and writes CSV
files, a figure and a ``study.json`` manifest to --out, all or nothing, as
``mlpx linear`` and ``mlpx width`` do (:mod:`mlpx.landscape._cli_geometry`).
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from mlpx._cli_tools import (
    MAX_COUNT,
    HelpFormatter,
    check_memory,
    fraction,
    integer,
    network_bytes,
    number,
    positive_ints,
)
from mlpx._engine import HIDDEN_ACTIVATIONS
from mlpx.landscape._cli import UsageError, load_dataset, output_count
from mlpx.landscape._cli_geometry import _run, _save_figure, _table

OUT_HELP = ("output directory, relative to the current directory; a previous result there "
            "is replaced; a folder holding files mlpx did not write is refused")
DATASET_HELP = ("digits, breast_cancer, diabetes, or a .csv file (last column = target) or "
                ".npz file (arrays X, y)")


def seed_list(count):
    """An argparse type: exactly `count` distinct comma-separated seeds >= 0.

    Examples
    --------
    >>> seed_list(3)("0, 1,2")
    (0, 1, 2)
    >>> seed_list(2)("4,4")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must list 2 distinct seeds, got '4,4'
    """

    def parse(text):
        try:
            seeds = tuple(int(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be comma-separated integers, got {text!r}") from None
        if len(seeds) != count or len(set(seeds)) != count:
            raise argparse.ArgumentTypeError(
                f"must list {count} distinct seeds, got {text!r}")
        if min(seeds) < 0 or max(seeds) > 2**32 - 1:
            raise argparse.ArgumentTypeError(f"seeds must be in [0, 2**32 - 1], got {text!r}")
        return seeds

    return parse


def _fit(est, X, y):
    """Fit `est`; a budget reached before convergence is the user's setting."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _estimator(y, args, seed):
    """An unfitted MLPX network for target y from --hidden, --solver, --epochs, --alpha."""
    from mlpx import MLPXClassifier, MLPXRegressor
    from mlpx._engine import is_regression_target

    cls = MLPXRegressor if is_regression_target(y) else MLPXClassifier
    return cls(hidden_layer_sizes=args.hidden, solver=args.solver, alpha=args.alpha,
               max_iter=args.epochs, random_state=seed)


def _add_training(p, *, hidden, solver, epochs):
    """--hidden, --solver, --epochs and --alpha, with this command's defaults."""
    p.add_argument("--hidden", type=positive_ints, default=hidden,
                   help="hidden widths, comma separated")
    p.add_argument("--solver", default=solver, choices=["adam", "sgd", "lbfgs"],
                   help="weight optimisation")
    p.add_argument("--epochs", type=integer(1), default=epochs,
                   help="training epochs (L-BFGS: iterations)")
    p.add_argument("--alpha", type=number(0), default=1e-4, help="L2 penalty of the training")


def _prepare_data(args, what):
    data = load_dataset(args.dataset, args.test_size)
    X_tr, y_tr = data[0], data[2]
    check_memory(network_bytes([X_tr.shape[1], *args.hidden, output_count(y_tr)],
                               len(args.seeds) if isinstance(args.seeds, tuple) else args.seeds),
                 what)
    return data


# -------------------------------------------------------------------- surface
def add_surface_parser(subparsers):
    """Register the `surface` subcommand."""
    p = subparsers.add_parser(
        "surface",
        help="loss surfaces: the plane through three trained seeds and a random plane",
        description=(
            "Train three networks that differ only in their seed and evaluate the "
            "loss (data loss, no penalty) on a grid of two planes of parameter "
            "space: the plane through the three end points (Garipov et al. 2018), "
            "optionally after matching the hidden units of the second and third to "
            "the first's, and a plane of two filter-normalised random directions "
            "around the first (Li et al. 2018). Prints the loss at each network's "
            "point and the extremes of each grid; writes surface_<plane>.csv (one "
            "row per grid point), surface_summary.csv, surface.png and study.json "
            "to --out."
        ),
        formatter_class=HelpFormatter,
    )
    p.add_argument("--dataset", default="digits", help=DATASET_HELP)
    _add_training(p, hidden="16", solver="lbfgs", epochs=100)
    p.add_argument("--seeds", type=seed_list(3), default="0,1,2",
                   help="the three seeds (the first is the random plane's centre)")
    p.add_argument("--plane", default="both", choices=["through", "random", "both"],
                   help="through: the plane through the three end points; random: two "
                        "filter-normalised random directions around the first")
    p.add_argument("--align", default="on", choices=["on", "off"],
                   help="match the hidden units of the second and third network to the "
                        "first's before spanning the plane through them")
    p.add_argument("--resolution", type=integer(2, 1001), default=51,
                   help="grid points along each axis")
    p.add_argument("--random-state", type=integer(0, 2**32 - 1), default=0,
                   help="seed of the random directions")
    p.add_argument("--test-size", type=fraction, default=0.25,
                   help="held-out share of the data (a test surface on the same grid)")
    p.add_argument("--out", default="mlpx-surface", help=OUT_HELP)
    p.set_defaults(func=surface_main)
    return p


class _Surface:
    @staticmethod
    def prepare(args):
        return _prepare_data(args, "three networks")

    @staticmethod
    def compute(data, args):
        from mlpx.landscape._paths import NetworkLoss
        from mlpx.landscape._surfaces import loss_surface, plane_through

        X_tr, X_te, y_tr, y_te, desc = data
        print(f"{desc}; hidden {args.hidden}, {args.solver}, {args.epochs} epochs, seeds "
              f"{list(args.seeds)}, {args.resolution} x {args.resolution} grid", flush=True)
        nets = [_fit(_estimator(y_tr, args, s), X_tr, y_tr) for s in args.seeds]
        planes = {}
        if args.plane in ("through", "both"):
            planes["through"] = plane_through(*nets, align=args.align == "on")
        if args.plane in ("random", "both"):
            planes["random"] = None
        surfaces, rows = {}, []
        train = NetworkLoss(nets[0], X_tr, y_tr, 0.0)
        for name, plane in planes.items():
            t0 = time.perf_counter()
            s = loss_surface(nets[0], X_tr, y_tr, plane, resolution=args.resolution,
                             X_test=X_te, y_test=y_te, random_state=args.random_state)
            seconds = time.perf_counter() - t0
            surfaces[name] = s
            # the losses at the named points themselves, which the grid need not hit
            coords = np.array(list(s.points.values()), dtype=np.float64)
            at = train.network.losses_at(s.origin, s.directions, coords, train.X, train.Y,
                                         0.0)
            labels = {"a": 0, "b": 1, "c": 2, "origin": 0}
            row = {"plane": name}
            for point, loss in zip(s.points, at):
                row[f"loss_seed_{args.seeds[labels[point]]}"] = float(loss)
            row.update(grid_min=float(s.train_loss.min()), grid_max=float(s.train_loss.max()),
                       test_grid_min=float(s.test_loss.min()), seconds=seconds)
            rows.append(row)
        return {"surfaces": surfaces, "rows": rows, "seeds": args.seeds,
                "aligned": args.align == "on"}

    @staticmethod
    def write(report, directory):
        import pandas as pd

        for name, s in report["surfaces"].items():
            s.to_frame().to_csv(directory / f"surface_{name}.csv", index=False)
        pd.DataFrame(report["rows"]).to_csv(directory / "surface_summary.csv", index=False)
        _save_figure(lambda: _surface_figure(report), directory / "surface.png")

    @staticmethod
    def format(report):
        seeds = report["seeds"]
        rows = [[r["plane"], *(f"{r[f'loss_seed_{s}']:.4g}" if f"loss_seed_{s}" in r else "-"
                               for s in seeds),
                 f"{r['grid_min']:.4g}", f"{r['grid_max']:.4g}", f"{r['seconds']:.2f}"]
                for r in report["rows"]]
        head = ["plane", *(f"loss at seed {s}" for s in seeds), "grid min", "grid max",
                "time (s)"]
        align = "aligned units" if report["aligned"] else "raw units"
        return ("\n" + _table(head, rows) + "\n\nTrain data loss (no penalty). through: the "
                f"plane through the three end points ({align}); random: two "
                "filter-normalised random directions around the first, on [-1, 1]^2.")


def _surface_figure(report):
    import matplotlib.pyplot as plt

    from mlpx.landscape._surfaces import plot_loss_surface

    surfaces = report["surfaces"]
    fig, axes = plt.subplots(1, len(surfaces), figsize=(5.2 * len(surfaces), 4.2),
                             layout="constrained", squeeze=False)
    for ax, (name, s) in zip(axes[0], surfaces.items()):
        plot_loss_surface(s, ax)
        ax.set_title(f"{name} plane, train loss")
    return fig


def surface_main(args):
    """Run `mlpx surface` with parsed arguments; return the exit status."""
    return _run("mlpx surface", "surface", args, _Surface)


# ------------------------------------------------------------------- spectrum
def add_spectrum_parser(subparsers):
    """Register the `spectrum` subcommand."""
    p = subparsers.add_parser(
        "spectrum",
        help="Hessian spectrum at the end point of each of K seeds",
        description=(
            "Train K networks that differ only in their seed and estimate the "
            "spectrum of the Hessian of the training loss (with its L2 penalty) at "
            "each end point: the top k eigenvalues and the smallest (Lanczos), the "
            "trace and the share of negative eigenvalues (stochastic Lanczos "
            "quadrature, Ghorbani et al. 2019). Prints the per-seed table; writes "
            "spectra.csv, spectra.png and study.json to --out."
        ),
        formatter_class=HelpFormatter,
    )
    p.add_argument("--dataset", default="digits", help=DATASET_HELP)
    _add_training(p, hidden="12", solver="lbfgs", epochs=200)
    p.add_argument("--seeds", type=integer(1, MAX_COUNT), default=4, help="seeds 0..K-1")
    p.add_argument("--k", type=integer(1, 1000), default=3,
                   help="top eigenvalues per network")
    p.add_argument("--probes", type=integer(1, 10000), default=5,
                   help="random probe vectors of the quadrature")
    p.add_argument("--lanczos", type=integer(2, 10000), default=40,
                   help="Lanczos steps per probe")
    p.add_argument("--test-size", type=fraction, default=0.25,
                   help="held-out share of the data (the spectrum is on the training part)")
    p.add_argument("--out", default="mlpx-spectrum", help=OUT_HELP)
    p.set_defaults(func=spectrum_main)
    return p


class _Spectrum:
    @staticmethod
    def prepare(args):
        return _prepare_data(args, f"{args.seeds} networks")

    @staticmethod
    def compute(data, args):
        from mlpx.landscape._spectrum import seed_spectra

        X_tr, _, y_tr, _, desc = data
        print(f"{desc}; hidden {args.hidden}, {args.solver}, {args.epochs} epochs, "
              f"{args.seeds} seeds; {args.probes} probes x {args.lanczos} Lanczos steps",
              flush=True)
        nets = [_fit(_estimator(y_tr, args, s), X_tr, y_tr) for s in range(args.seeds)]
        table, densities = seed_spectra(nets, X_tr, y_tr, k=args.k, n_probes=args.probes,
                                        n_lanczos=args.lanczos, random_state=0,
                                        return_densities=True)
        return {"table": table, "densities": densities}

    @staticmethod
    def write(report, directory):
        from mlpx.landscape._spectrum import plot_seed_spectra

        report["table"].to_csv(directory / "spectra.csv", index=False)
        _save_figure(lambda: plot_seed_spectra(report["densities"], table=report["table"]),
                     directory / "spectra.png")

    @staticmethod
    def format(report):
        df = report["table"]
        tops = [c for c in df.columns if c.startswith("lambda_") and c != "lambda_min"]
        rows = [[int(r.seed), int(r.n_params), *(f"{getattr(r, c):.4g}" for c in tops),
                 f"{r.lambda_min:+.3g}", f"{r.trace:.4g} ± {r.trace_std_error:.2g}",
                 f"{r.negative_mass:.3f}"]
                for r in df.itertuples()]
        head = ["seed", "params", *(f"λ_{c.split('_')[1]}" for c in tops), "λ_min",
                "trace", "negative mass"]
        return ("\n" + _table(head, rows) + "\n\nHessian of the training loss with its L2 "
                "penalty. λ: Lanczos eigenvalues; trace ± its standard error and the "
                "negative mass (share of eigenvalues below -1e-3 λ_1) from stochastic "
                "Lanczos quadrature.")


def spectrum_main(args):
    """Run `mlpx spectrum` with parsed arguments; return the exit status."""
    return _run("mlpx spectrum", "spectrum", args, _Spectrum)


# -------------------------------------------------------------------- margins
def add_margins_parser(subparsers):
    """Register the `margins` subcommand."""
    p = subparsers.add_parser(
        "margins",
        help="margins, spectral complexity and the margin bound against the test error",
        description=(
            "Train K classifiers that differ only in their seed (with --shuffle q, "
            "K more on labels of which a share q is shuffled, Zhang et al. 2017) "
            "and compute per network the spectral complexity, margin quantiles, "
            "the median normalised margin and the margin bound (Bartlett et al. "
            "2017) beside its train and test errors, then each measure's rank "
            "correlation with the test error across networks. Writes "
            "generalization.csv, correlations.csv, generalization.png and "
            "study.json to --out."
        ),
        formatter_class=HelpFormatter,
    )
    p.add_argument("--dataset", default="digits",
                   help="digits, breast_cancer, or a .csv file (last column = class) or "
                        ".npz file (arrays X, y) of a classification task")
    _add_training(p, hidden="32", solver="adam", epochs=60)
    p.add_argument("--learning-rate", type=number(0, low_open=True), default=0.01,
                   help="learning_rate_init")
    p.add_argument("--seeds", type=integer(3, MAX_COUNT), default=4,
                   help="seeds 0..K-1 per group, K >= 3 (rank correlations)")
    p.add_argument("--shuffle", type=number(0, low_open=True, high=1), default=None,
                   help="also train K networks on labels of which this share is shuffled")
    p.add_argument("--test-size", type=fraction, default=0.25,
                   help="held-out share of the data")
    p.add_argument("--out", default="mlpx-margins", help=OUT_HELP)
    p.set_defaults(func=margins_main)
    return p


class _Margins:
    @staticmethod
    def prepare(args):
        data = _prepare_data(args, f"{args.seeds} networks per group")
        if data[2].dtype.kind == "f":
            raise UsageError(f"{args.dataset}: margins need class labels, not a continuous "
                             "target.")
        return data

    @staticmethod
    def compute(data, args):
        import pandas as pd

        from mlpx.landscape._data import random_labels
        from mlpx.landscape._generalization import (
            generalization_table,
            measure_correlations,
            normalized_margins,
        )

        X_tr, X_te, y_tr, y_te, desc = data
        groups = {"q=0": y_tr}
        if args.shuffle is not None:
            groups[f"q={args.shuffle:g}"] = random_labels(y_tr, args.shuffle, random_state=0)
        print(f"{desc}; hidden {args.hidden}, {args.solver}, {args.epochs} epochs, "
              f"{args.seeds} seeds per group: {', '.join(groups)}", flush=True)
        tables, normalised = [], []
        for name, labels in groups.items():
            nets = {}
            for seed in range(args.seeds):
                est = _estimator(labels, args, seed).set_params(
                    learning_rate_init=args.learning_rate)
                nets[seed] = _fit(est, X_tr, labels)
            t = generalization_table(nets, X_tr, labels, X_te, y_te)
            t.insert(0, "seed", t.index)
            t.insert(0, "group", name)
            tables.append(t.set_index(pd.Index([f"{name} seed {s}" for s in t.index],
                                               name="net")))
            normalised += [normalized_margins(e, X_tr, labels) for e in nets.values()]
        table = pd.concat(tables)
        return {"table": table, "correlations": measure_correlations(table),
                "margins": normalised}

    @staticmethod
    def write(report, directory):
        from mlpx.landscape._generalization import plot_generalization

        report["table"].to_csv(directory / "generalization.csv")
        report["correlations"].rename_axis("measure").to_csv(directory / "correlations.csv")
        _save_figure(lambda: plot_generalization(report["table"], report["margins"]),
                     directory / "generalization.png")

    @staticmethod
    def format(report):
        df, corr = report["table"], report["correlations"]
        rows = [[net, f"{r.spectral_complexity:.4g}", f"{r.margin_q10:.4g}",
                 f"{r.normalized_margin_median:.4g}", f"{r.bound:.4g}",
                 f"{r.train_error:.4f}", f"{r.test_error:.4f}"]
                for net, r in df.iterrows()]
        first = _table(["net", "spectral complexity", "margin q10", "normalised margin",
                        "bound", "train error", "test error"], rows)
        rows = [[m, f"{r.spearman:+.3f}", f"{r.spearman_pvalue:.3g}", f"{r.kendall:+.3f}",
                 f"{r.kendall_pvalue:.3g}"] for m, r in corr.iterrows()]
        second = _table(["measure", "Spearman", "p", "Kendall", "p"], rows)
        return ("\n" + first + "\n\nRank correlation with the test error across the "
                f"{len(df)} networks:\n" + second + "\n\nMargins on the training labels "
                "each network was fit to; normalised margin: margin x n / (spectral "
                "complexity x ||X||_F), its median; bound: the margin bound at the 10 % "
                "margin quantile (Bartlett et al. 2017, up to constants).")


def margins_main(args):
    """Run `mlpx margins` with parsed arguments; return the exit status."""
    return _run("mlpx margins", "margins", args, _Margins)


# ---------------------------------------------------------------------- bayes
def add_bayes_parser(subparsers):
    """Register the `bayes` subcommand."""
    p = subparsers.add_parser(
        "bayes",
        help="two networks against the Bayes-optimal classifier of Gaussian-mixture data",
        description=(
            "Draw 2-D data from a mixture of Gaussians whose Bayes-optimal "
            "classifier and error are known (two classes of two components each), "
            "train two networks that differ only in their seed, and report each "
            "one's training error, its error on a fresh sample of the distribution "
            "and its excess over the Bayes error, and how much of the data's box the "
            "two networks, and each network and the Bayes classifier, label "
            "differently. Writes bayes.csv, bayes.png (decision regions with the "
            "Bayes boundary) and study.json to --out."
        ),
        formatter_class=HelpFormatter,
    )
    p.add_argument("--samples", type=integer(4, 10**7), default=400,
                   help="training samples drawn from the distribution")
    p.add_argument("--seed", type=integer(0, 2**32 - 1), default=0,
                   help="seed of the training sample (the fresh sample uses seed + 1)")
    p.add_argument("--test-samples", type=integer(1, 10**8), default=20000,
                   help="fresh samples on which each network's error is measured")
    p.add_argument("--hidden", type=positive_ints, default="20",
                   help="hidden widths, comma separated")
    p.add_argument("--activation", default="tanh", choices=list(HIDDEN_ACTIVATIONS),
                   help="hidden activation")
    p.add_argument("--alpha", type=number(0), default=1e-4, help="L2 penalty")
    p.add_argument("--epochs", type=integer(1), default=1000, help="L-BFGS iterations")
    p.add_argument("--seeds", type=seed_list(2), default="0,1",
                   help="the two networks' seeds")
    p.add_argument("--resolution", type=integer(2, 5000), default=200,
                   help="grid points per axis of the box where the disagreement is measured")
    p.add_argument("--out", default="mlpx-bayes", help=OUT_HELP)
    p.set_defaults(func=bayes_main)
    return p


class _Bayes:
    @staticmethod
    def prepare(args):
        check_memory(network_bytes([2, *args.hidden, 2], 2) + 8 * 3 * args.test_samples
                     + 8 * 3 * args.resolution**2, "the two networks and the samples")
        return None

    @staticmethod
    def compute(_, args):
        import pandas as pd

        from mlpx import MLPXClassifier
        from mlpx.landscape._boundaries import decision_disagreement
        from mlpx.landscape._data import gaussian_mixture

        data = gaussian_mixture(args.samples, random_state=args.seed)
        print(f"Gaussian mixture: {args.samples} training samples (seed {args.seed}), "
              f"{args.test_samples} fresh ones; hidden {args.hidden}, {args.activation}, "
              f"L-BFGS {args.epochs} iterations, alpha {args.alpha:g}, seeds "
              f"{list(args.seeds)}", flush=True)
        nets = [_fit(MLPXClassifier(hidden_layer_sizes=args.hidden, activation=args.activation,
                                    solver="lbfgs", alpha=args.alpha, max_iter=args.epochs,
                                    random_state=s), data.X, data.y)
                for s in args.seeds]
        X_new, y_new = data.bayes.sample(args.test_samples, random_state=args.seed + 1)
        bayes_new = data.bayes.predict(X_new)
        rows = []
        for seed, net, other in zip(args.seeds, nets, nets[::-1]):
            pred = net.predict(X_new)
            test_error = float((pred != y_new).mean())
            rows.append({
                "classifier": f"seed {seed}",
                "train_error": 1.0 - net.score(data.X, data.y),
                "test_error": test_error,
                "excess_error": test_error - data.bayes_error,
                "differs_from_bayes": float((pred != bayes_new).mean()),
                "box_vs_bayes": decision_disagreement(net, data.bayes, data.X,
                                                      args.resolution),
                "box_vs_other": decision_disagreement(net, other, data.X, args.resolution),
            })
        # the Bayes row's excess is the fresh sample's noise around the exact error
        bayes_test = float((bayes_new != y_new).mean())
        rows.append({"classifier": "Bayes",
                     "train_error": float((data.bayes.predict(data.X) != data.y).mean()),
                     "test_error": bayes_test, "excess_error": bayes_test - data.bayes_error,
                     "differs_from_bayes": 0.0, "box_vs_bayes": 0.0, "box_vs_other": np.nan})
        table = pd.DataFrame(rows)
        table.attrs["bayes_error"] = data.bayes_error
        return {"table": table, "data": data, "nets": nets, "seeds": args.seeds}

    @staticmethod
    def write(report, directory):
        df = report["table"].assign(bayes_error=report["table"].attrs["bayes_error"])
        df.to_csv(directory / "bayes.csv", index=False)
        _save_figure(lambda: _bayes_figure(report), directory / "bayes.png")

    @staticmethod
    def format(report):
        df = report["table"]
        rows = [[r.classifier, f"{r.train_error:.4f}", f"{r.test_error:.4f}",
                 f"{r.excess_error:+.4f}", f"{r.differs_from_bayes:.1%}",
                 f"{r.box_vs_bayes:.1%}"]
                for r in df.itertuples()]
        a, b = report["seeds"]
        return (f"\nBayes error {df.attrs['bayes_error']:.4f} (quadrature)\n"
                + _table(["classifier", "train error", "test error", "excess error",
                          "differs from Bayes", "box vs Bayes"], rows)
                + f"\nThe two networks label {df.box_vs_other.iloc[0]:.1%} of the box "
                f"differently (seeds {a} and {b}).\n\nTest error: on the fresh sample; "
                "excess: test error - Bayes error; differs from Bayes: share of the fresh "
                "sample labelled unlike the Bayes classifier; box: share of a grid over the "
                "training data's bounding box (decision_disagreement).")


def _bayes_figure(report):
    import matplotlib.pyplot as plt

    from mlpx.landscape._boundaries import plot_decision_boundaries

    data, (a, b) = report["data"], report["nets"]
    fig, ax = plt.subplots(figsize=(5.8, 4.8), layout="constrained")
    plot_decision_boundaries(a, b, data.X, data.y, bayes=data.bayes,
                             labels=tuple(f"seed {s}" for s in report["seeds"]), ax=ax)
    ax.set_title(f"Bayes error {data.bayes_error:.3f}")
    return fig


def bayes_main(args):
    """Run `mlpx bayes` with parsed arguments; return the exit status."""
    return _run("mlpx bayes", "bayes", args, _Bayes)
