"""Initial parameter vectors of the seed studies: Glorot, He, or a chosen normal scale."""

import numbers

import numpy as np

from mlpx._engine import glorot_uniform, layer_units_for, pack

INIT_SCHEMES = ("default", "he", "normal")


def check_init(init, init_scale, n_seeds):
    """Validate an init scheme; return the per-seed normal scales (None if unused).

    ``init_scale`` is a float, a sequence with one scale per seed, or a callable
    of the seed index i (0, 1, ...) returning the scale, e.g. ``lambda i: i + 2``
    for the growing scales of Cetinsoy, Mazari & Rhouma.
    """
    if init not in INIT_SCHEMES:
        raise ValueError(f"init must be one of {INIT_SCHEMES}, got {init!r}.")
    if init != "normal":
        if init_scale is not None:
            raise ValueError(f"init_scale is only used with init='normal', not {init!r}.")
        return None
    if init_scale is None:
        raise ValueError("init='normal' needs init_scale: a float, a sequence or a callable.")
    if callable(init_scale):
        scales = [init_scale(i) for i in range(n_seeds)]
    elif isinstance(init_scale, numbers.Real):
        scales = [init_scale] * n_seeds
    else:
        scales = list(init_scale)
        if len(scales) != n_seeds:
            raise ValueError(
                f"init_scale has {len(scales)} values for {n_seeds} seeds: give one per seed."
            )
    for s in scales:
        if not (isinstance(s, numbers.Real) and np.isfinite(s) and s > 0):
            raise ValueError(f"init_scale values must be finite and > 0, got {s!r}.")
    return [float(s) for s in scales]


layer_units = layer_units_for


def initial_params(init, scale, seed, units, activation, dtype, random_state=None):
    """A flat initial parameter vector (layout of mlpx._engine).

    'default' draws scikit-learn's Glorot-uniform from ``random_state`` (a
    RandomState, advanced by the draw, as the estimator's fit would); 'he'
    draws W ~ N(0, 2 / fan_in) and 'normal' W ~ N(0, scale^2) from
    ``numpy.random.default_rng(seed)``, with zero biases.
    """
    if init == "default":
        return glorot_uniform(random_state, units, activation, dtype)
    rng = np.random.default_rng(seed)
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        std = np.sqrt(2.0 / fan_in) if init == "he" else scale
        coefs.append(rng.normal(0.0, std, (fan_in, fan_out)))
        intercepts.append(np.zeros(fan_out))
    return pack(coefs, intercepts, dtype)
