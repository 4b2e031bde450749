"""Optimizer state and schedules; the per-step update runs in the compiled epoch.

The update rules are scikit-learn's (sklearn/neural_network/_stochastic_optimizers.py):
SGD with momentum and Nesterov momentum, and Adam. The state vectors cover the
flat parameter buffer; `kind` tells the engine which rule to apply, and
mlpx._engine.Trainer hands the engine the hyper-parameters as numbers.
"""

import numpy as np

from mlpx._core._types import StepRule


class BaseOptimizer:
    """State shared by the optimizers; the engine reads these attributes."""

    kind = StepRule.NO_UPDATE
    momentum = beta_1 = beta_2 = epsilon = noise_std = 0.0
    nesterov = False
    noise_seed = 0

    def __init__(self, n_params, dtype, learning_rate_init):
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.t = 0  # optimizer steps taken (Adam's bias correction uses it)
        self.s1 = np.zeros(n_params, dtype=dtype)
        self.s2 = self.s1

    def iteration_ends(self, time_step):
        """Hook called at the end of each epoch with the samples seen so far."""

    def trigger_stopping(self, msg, verbose):
        """Return True to stop training after no improvement."""
        if verbose:
            print(msg + " Stopping.")
        return True

    def copy(self):
        """An independent copy (state arrays copied)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.s1 = self.s1.copy()
        new.s2 = new.s1 if self.s2 is self.s1 else self.s2.copy()
        return new


class SGDOptimizer(BaseOptimizer):
    """Mini-batch SGD with (Nesterov) momentum; s1 holds the velocities."""

    kind = StepRule.SGD

    def __init__(self, n_params, dtype, learning_rate_init, lr_schedule, momentum,
                 nesterov, power_t):
        super().__init__(n_params, dtype, learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t

    def iteration_ends(self, time_step):
        if self.lr_schedule == "invscaling":
            self.learning_rate = (
                float(self.learning_rate_init) / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, verbose):
        """With 'adaptive', divide the rate by 5 instead of stopping (until 1e-6)."""
        if self.lr_schedule != "adaptive":
            return super().trigger_stopping(msg, verbose)
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


class AdamOptimizer(BaseOptimizer):
    """Adam (Kingma & Ba 2014); s1 and s2 hold the first and second moments."""

    kind = StepRule.ADAM

    def __init__(self, n_params, dtype, learning_rate_init, beta_1, beta_2, epsilon):
        super().__init__(n_params, dtype, learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.s2 = np.zeros(n_params, dtype=dtype)


class SGLDOptimizer(SGDOptimizer):
    """Stochastic gradient Langevin dynamics (Welling & Teh 2011).

    Each step is the plain SGD step plus Gaussian noise of variance
    2 * learning_rate * temperature (temperature = 1 / beta), drawn by the
    engine from a counter-based stream keyed by (noise_seed, step, parameter).
    The learning-rate schedules are SGD's; there is no momentum.
    """

    kind = StepRule.SGLD

    def __init__(self, n_params, dtype, learning_rate_init, lr_schedule, power_t,
                 temperature, noise_seed):
        super().__init__(n_params, dtype, learning_rate_init, lr_schedule, 0.0, False,
                         power_t)
        self.temperature = temperature
        self.noise_seed = int(noise_seed)

    @property
    def noise_std(self):
        return float(np.sqrt(2.0 * self.learning_rate * self.temperature))


#: Every optimizer an estimator may hold (and pickle).
OPTIMIZERS = (SGDOptimizer, AdamOptimizer, SGLDOptimizer)
