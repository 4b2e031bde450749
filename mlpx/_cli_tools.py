"""Parts shared by the ``mlpx`` commands: the parser, value types, install hints.

Every user error of the command line is one line on stderr,
``mlpx COMMAND: error: MESSAGE``, and a non-zero exit status: values are
checked by the ``type=`` functions below while the arguments are parsed, so a
bad value stops the command before anything is loaded or trained.
"""

import argparse
import math
import os
import textwrap

# Largest count a user may type for seeds, hidden widths, depths and histogram
# bins: far beyond any study, small enough that parsing never builds a huge list.
MAX_COUNT = 100_000


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Help with every option's default, wrapped at spaces only.

    Breaking at hyphens would split option names and defaults such as
    ``--learning-rate`` or ``mlpx-agreement`` across lines.
    """

    def _split_lines(self, text, width):
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and whose help shows defaults.

    Abbreviated options are refused: ``--seed`` must not silently mean
    ``--seeds`` in the commands that have no ``--seed``. Sub-parsers made with
    ``add_subparsers().add_parser`` are of this class too.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        # argparse would print the whole usage block first; `--help` has it.
        self.exit(2, f"{self.prog}: error: {one_line(message)}\n")


def one_line(text):
    """`text` with its line breaks and runs of spaces folded into single spaces."""
    return " ".join(str(text).split())


def install_hint(extra):
    """The command that installs the optional dependencies of `extra`."""
    return (f'pip install "mlpx[{extra}]" (from a clone of the repository: '
            f'pip install -e ".[{extra}]")')


def integer(low=None, high=None):
    """An argparse type: an integer in [low, high] (either bound may be None)."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, got {value}")
        return value

    return parse


def n_jobs(text):
    """An argparse type: a joblib ``n_jobs``, any integer but 0."""
    value = integer()(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must not be 0 (1 for serial, -1 for all cores)")
    return value


def number(low=None, *, low_open=False, high=None, high_open=False):
    """An argparse type: a finite float in the interval given by its bounds."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        if low is not None and (value <= low if low_open else value < low):
            raise argparse.ArgumentTypeError(
                f"must be {'>' if low_open else '>='} {low:g}, got {text}")
        if high is not None and (value >= high if high_open else value > high):
            raise argparse.ArgumentTypeError(
                f"must be {'<' if high_open else '<='} {high:g}, got {text}")
        return value

    return parse


def fraction(text):
    """An argparse type: a float strictly between 0 and 1."""
    value = number()(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {text}")
    return value


def positive_ints(text):
    """An argparse type: comma-separated integers in [1, MAX_COUNT], as a tuple."""
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"must list positive integers, got {text!r}")
    if len(values) > 1000 or max(values) > MAX_COUNT:
        raise argparse.ArgumentTypeError(
            f"must list at most 1000 integers of at most {MAX_COUNT}, got {text!r}")
    return values


def physical_memory():
    """This machine's physical memory in bytes, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(n_bytes, what, advice="choose fewer seeds or narrower layers"):
    """Raise ValueError, before any work, if `what` needs more than the machine holds."""
    total = physical_memory()
    if total is not None and n_bytes > total:
        raise ValueError(
            f"{what} needs about {n_bytes / 2**30:.3g} GiB, more than this machine's "
            f"{total / 2**30:.3g} GiB of memory: {advice}."
        )


def network_bytes(layer_sizes, copies):
    """Bytes of `copies` float64 networks of the given layer sizes, with the
    optimizer's state, gradient and a snapshot of each (6 arrays per network)."""
    n_params = sum((a + 1) * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
    return 6 * 8 * n_params * copies
