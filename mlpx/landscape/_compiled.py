"""When a seed study trains all its seeds in one compiled call (mlpx._engine.fit_seeds).

For small networks one seed's mini-batch is too small to split across threads;
running the seeds side by side, one per thread, uses the cores instead. Each
seed computes exactly what a fit of it alone computes, so the results are
bit-identical; only the Python round trip per epoch disappears.
"""

import numpy as np

#: Networks whose batch costs less than this (flops) train all seeds at once.
SMALL_NETWORK_FLOPS = 2e7


def compiled_eligible(estimator, X, batch_flops):
    """Whether the compiled multi-seed path can and should train these seeds."""
    return (
        estimator.solver in ("sgd", "adam")
        and estimator.learning_rate != "adaptive"  # needs a decision per epoch
        and not estimator.early_stopping
        and isinstance(X, np.ndarray)
        and batch_flops < SMALL_NETWORK_FLOPS
    )
