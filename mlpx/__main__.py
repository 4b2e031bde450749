"""The mlpx command line.

``python -m mlpx`` (or ``mlpx quickstart``) fits mlpx and scikit-learn's MLP on
the bundled digits data with identical settings and prints accuracy and time
side by side.
"""

import argparse
import importlib
import sys
import time
import warnings


def quickstart(args):
    """Fit MLPXClassifier and sklearn's MLPClassifier on digits; print a table.

    Both are timed under the same thread budget (OpenMP threads for mlpx, BLAS
    threads for scikit-learn), after one warm-up fit each, as the median of
    ``--repeats`` fits taken in turn.
    """
    import statistics

    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    from mlpx import MLPXClassifier
    from mlpx._threads import effective_n_threads

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(args.dtype)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
    hidden = tuple(int(h) for h in args.hidden.split(",") if h)
    params = dict(
        hidden_layer_sizes=hidden,
        solver=args.solver,
        max_iter=args.epochs,
        random_state=args.seed,
        n_iter_no_change=args.epochs + 1,  # run every epoch: equal work for both
    )
    budget = effective_n_threads()
    print(
        f"digits: {X_tr.shape[0]} train / {X_te.shape[0]} test samples, "
        f"{X.shape[1]} features, hidden={hidden}, solver={args.solver}, "
        f"{args.epochs} epochs, {args.dtype}"
    )
    print(f"both on {budget} thread(s); fit time: median of {args.repeats} fits "
          "after a warm-up fit")
    models = {"sklearn MLPClassifier": MLPClassifier, "mlpx MLPXClassifier": MLPXClassifier}
    times = {name: [] for name in models}
    fitted = {}
    with warnings.catch_warnings(), threadpool_limits(limits=budget):
        warnings.simplefilter("ignore", ConvergenceWarning)
        for cls in models.values():
            cls(**params).fit(X_tr, y_tr)
        for _ in range(args.repeats):
            for name, cls in models.items():
                clf = cls(**params)
                t0 = time.perf_counter()
                clf.fit(X_tr, y_tr)
                times[name].append(time.perf_counter() - t0)
                fitted[name] = clf
    print(f"{'model':<28}{'train acc':>10}{'test acc':>10}{'fit time (s)':>14}")
    median = {name: statistics.median(t) for name, t in times.items()}
    for name, clf in fitted.items():
        print(f"{name:<28}{clf.score(X_tr, y_tr):>10.4f}{clf.score(X_te, y_te):>10.4f}"
              f"{median[name]:>14.3f}")
    ratio = median["sklearn MLPClassifier"] / median["mlpx MLPXClassifier"]
    print(f"mlpx is {ratio:.1f}x faster than scikit-learn on this fit "
          f"({budget} thread(s) each).")
    return 0


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(
        prog="mlpx",
        description="mlpx: a fast compiled multilayer perceptron for scikit-learn, "
        "and multi-seed studies of its loss landscape.",
    )
    sub = parser.add_subparsers(dest="command")
    q = sub.add_parser(
        "quickstart",
        help="fit mlpx and scikit-learn's MLP on the bundled digits data (default)",
        description=quickstart.__doc__,
    )
    q.add_argument("--hidden", default="100", help="hidden widths, comma separated")
    q.add_argument("--solver", default="adam", choices=["adam", "sgd", "lbfgs"])
    q.add_argument("--epochs", type=_positive_int, default=50, help="training epochs")
    q.add_argument("--seed", type=int, default=0, help="random_state of both models")
    q.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    q.add_argument("--repeats", type=_positive_int, default=3,
                   help="timed fits of each model (the median is shown)")
    q.set_defaults(func=quickstart)
    _add_landscape_command(sub, "agreement", "seed-agreement study",
                           "mlpx.landscape._cli", "add_parser")
    _add_landscape_command(sub, "linear", "deep linear networks vs the closed-form optimum",
                           "mlpx.landscape._cli_geometry", "add_linear_parser")
    _add_landscape_command(sub, "width", "spread of the minima reached, per hidden width",
                           "mlpx.landscape._cli_geometry", "add_width_parser")
    return parser


def _add_landscape_command(sub, name, help_text, module, function):
    """A landscape subcommand, or a stub that says what to install."""
    try:
        add_parser = getattr(importlib.import_module(module), function)
    except ImportError as exc:
        missing = str(exc)

        def unavailable(args):
            print(f"mlpx {name}: error: {missing} (pip install mlpx[landscape,plot])",
                  file=sys.stderr)
            return 1

        stub = sub.add_parser(name, help=f"{help_text} (pip install mlpx[landscape])")
        stub.set_defaults(func=unavailable)
        return
    add_parser(sub)


def main(argv=None):
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv or ["quickstart"])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
