"""The mlpx command line.

``python -m mlpx`` (or ``mlpx quickstart``) fits mlpx and scikit-learn's MLP on
the bundled digits data with identical settings and prints accuracy and time
side by side.
"""

import importlib
import sys
import time
import warnings

from mlpx._cli_tools import Parser, install_hint, integer, one_line, positive_ints


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
    hidden = args.hidden
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


def build_parser():
    """The ``mlpx`` parser, with one sub-parser per command."""
    from mlpx._version import __version__

    parser = Parser(
        prog="mlpx",
        description="mlpx: a fast compiled multilayer perceptron for scikit-learn, "
        "and multi-seed studies of its loss landscape. Without a command, runs the "
        "quickstart.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", title="commands",
                                help="`mlpx COMMAND --help` describes its options")
    q = sub.add_parser(
        "quickstart",
        help="fit mlpx and scikit-learn's MLP on the bundled digits data (the default)",
        description=quickstart.__doc__,
    )
    q.add_argument("--hidden", type=positive_ints, default="100",
                   help="hidden widths, comma separated")
    q.add_argument("--solver", default="adam", choices=["adam", "sgd", "lbfgs"],
                   help="weight optimisation of both models")
    q.add_argument("--epochs", type=integer(1), default=50, help="training epochs")
    q.add_argument("--seed", type=integer(0, 2**32 - 1), default=0,
                   help="random_state of both models")
    q.add_argument("--dtype", default="float64", choices=["float64", "float32"],
                   help="floating-point type of the data and the networks")
    q.add_argument("--repeats", type=integer(1), default=3,
                   help="timed fits of each model (the median is shown)")
    q.set_defaults(func=quickstart)
    _add_landscape_command(sub, "agreement", "seed-agreement study",
                           "mlpx.landscape._cli", "add_parser")
    _add_landscape_command(sub, "linear", "deep linear networks vs the closed-form optimum",
                           "mlpx.landscape._cli_geometry", "add_linear_parser")
    _add_landscape_command(sub, "width", "spread of the minima reached, per hidden width",
                           "mlpx.landscape._cli_geometry", "add_width_parser")
    _add_landscape_command(sub, "surface", "loss surfaces on planes through trained seeds",
                           "mlpx.landscape._cli_analysis", "add_surface_parser")
    _add_landscape_command(sub, "spectrum", "Hessian spectrum at each seed's end point",
                           "mlpx.landscape._cli_analysis", "add_spectrum_parser")
    _add_landscape_command(sub, "margins", "margins and the margin bound vs the test error",
                           "mlpx.landscape._cli_analysis", "add_margins_parser")
    _add_landscape_command(sub, "bayes", "two networks vs the Bayes-optimal classifier",
                           "mlpx.landscape._cli_analysis", "add_bayes_parser")
    parser.commands = sub.choices
    return parser


def _add_landscape_command(sub, name, help_text, module, function):
    """A landscape subcommand, or a stub that says what to install."""
    try:
        add_parser = getattr(importlib.import_module(module), function)
    except ImportError as exc:
        message = _missing_dependency(exc)

        def unavailable(args):
            print(f"mlpx {name}: error: {message}", file=sys.stderr)
            return 1

        stub = sub.add_parser(name, help=f"{help_text} (needs the landscape extra)",
                              description=f"Unavailable: {message}")
        stub.set_defaults(func=unavailable, unavailable=True)
        return
    add_parser(sub)


def _missing_dependency(exc):
    """One line on what the landscape commands lack and how to install it."""
    cause = exc
    while cause.__cause__ is not None and getattr(cause, "name", None) is None:
        cause = cause.__cause__
    missing = getattr(cause, "name", None)
    what = f"{missing} is not installed" if missing else f"cannot import it ({one_line(exc)})"
    return (f"this command needs the landscape extra and {what}; "
            f"{install_hint('landscape')}")


def main(argv=None):
    """Run the ``mlpx`` command line; return the exit status."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args, extra = parser.parse_known_args(argv or ["quickstart"])
        if extra and not getattr(args, "unavailable", False):
            # Report unknown options under the command they were given to.
            command = parser.commands.get(args.command, parser)
            command.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help, --version and parse errors
        return 0 if exc.code is None else exc.code
    try:
        return args.func(args)
    except KeyboardInterrupt:
        # the output folder of an interrupted study is never half-written
        print(f"\nmlpx {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
