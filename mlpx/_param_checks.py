"""Validation of hyper-parameters, with scikit-learn's style of error message."""

import numbers
from numbers import Integral, Real

import numpy as np


class InvalidParameterError(ValueError, TypeError):
    """A hyper-parameter has a wrong type or value (a ValueError, as in scikit-learn)."""


def _is_int(v):
    return isinstance(v, Integral) and not isinstance(v, bool)


def _is_real(v):
    return isinstance(v, Real) and not isinstance(v, bool)


def interval(kind, low, high, closed):
    """A check that v is an int/float within [low, high] with the given closure."""
    left = "[" if closed in ("left", "both") else "("
    right = "]" if closed in ("right", "both") else ")"
    what = "an int" if kind == "int" else "a float"
    desc = f"{what} in the range {left}{low}, {high}{right}"

    def check(v):
        if not (_is_int(v) if kind == "int" else _is_real(v)):
            return False
        if np.isnan(v):
            return False
        if v < low or (v == low and left == "("):
            return False
        return not (v > high or (v == high and right == ")"))

    return check, desc


def options(*values):
    return (lambda v: isinstance(v, str) and v in values), (
        "a str among " + str(sorted(values))
    )


def boolean():
    return (lambda v: isinstance(v, (bool, np.bool_))), "an instance of 'bool'"


def verbose():
    return (lambda v: isinstance(v, (bool, np.bool_)) or (_is_int(v) and v >= 0)), (
        "a bool or an int >= 0")


def random_state():
    return (
        lambda v: v is None or _is_int(v) or isinstance(v, np.random.RandomState)
    ), "an int, a numpy.random.RandomState instance or None"


def inf():
    return (lambda v: _is_real(v) and v == np.inf), "inf"


def class_weight():
    def check(v):
        if v is None or (isinstance(v, str) and v == "balanced"):
            return True
        return isinstance(v, dict) and all(
            isinstance(w, numbers.Real) and not isinstance(w, bool) and np.isfinite(w)
            and w >= 0 for w in v.values())

    return check, "a dict of finite weights >= 0, 'balanced' or None"


def hidden_layer_sizes():
    def check(v):
        if _is_int(v):
            return v >= 1
        try:
            sizes = list(v)
        except TypeError:
            return False
        return all(_is_int(s) and s >= 1 for s in sizes)

    return check, "an int >= 1 or a sequence of ints >= 1"


def validate(estimator, constraints):
    """Raise InvalidParameterError unless every parameter meets one of its checks."""
    for name, checks in constraints.items():
        # what get_params reads, without its signature inspection (costly per fit)
        value = getattr(estimator, name)
        if any(check(value) for check, _ in checks):
            continue
        descs = [desc for _, desc in checks]
        expected = descs[0] if len(descs) == 1 else " or ".join(descs)
        raise InvalidParameterError(
            f"The {name!r} parameter of {type(estimator).__name__} must be "
            f"{expected}. Got {value!r} instead."
        )
