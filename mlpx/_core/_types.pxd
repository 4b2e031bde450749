# Types and codes shared by the compiled engine and Python: Python imports the
# enums from mlpx._core._types instead of copying their numbers.

ctypedef Py_ssize_t intp

# Activation of a layer (hidden layers take the first six).
cpdef enum Activation:
    IDENTITY = 0
    LOGISTIC = 1
    TANH = 2
    RELU = 3
    LEAKY_RELU = 4
    SOFTPLUS = 5
    SOFTMAX = 6
    EXP = 7

# The data loss of the outputs: CANONICAL is the output activation's own
# (squared error, log-loss, binary log-loss, Poisson deviance, whose delta is
# p - y); SQUARED_ERROR is half the squared error on any output activation.
cpdef enum Loss:
    CANONICAL = 0
    SQUARED_ERROR = 1

# The step an optimizer takes after each mini-batch (NO_UPDATE: gradient only).
cpdef enum StepRule:
    NO_UPDATE = 0
    SGD = 1
    ADAM = 2
    SGLD = 3

# How a run of mini-batches ended; also why a team of threads stops.
cpdef enum Status:
    OK = 0
    DIVERGED = 1
    INTERRUPTED = 2   # a signal handler raised; its exception is pending
