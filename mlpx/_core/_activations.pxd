# Activation functions, their derivatives and the output losses, as fused C loops.
#
# The derivative of every hidden activation is computed from its *output* z
# (as scikit-learn does), so the pre-activations never need to be stored.
from cython cimport floating
from libc.math cimport exp, expm1, log, log1p, tanh

ctypedef Py_ssize_t intp

# Activation codes; mlpx/_network.py maps the names to these numbers.
cdef enum:
    IDENTITY = 0
    LOGISTIC = 1
    TANH = 2
    RELU = 3
    LEAKY_RELU = 4
    SOFTPLUS = 5
    SOFTMAX = 6
    EXP = 7

cdef extern from *:
    """
    #define MLPX_LEAKY_SLOPE 0.01
    """
    double LEAKY_SLOPE "MLPX_LEAKY_SLOPE"


cdef extern from "_vexp.h":
    void mlpx_exp_nonpos_d(double* x, intp n) noexcept nogil
    void mlpx_exp_nonpos_s(float* x, intp n) noexcept nogil
    void mlpx_softmax_rows_d(double* z, intp m, intp n) noexcept nogil
    void mlpx_softmax_rows_s(float* z, intp m, intp n) noexcept nogil


cdef inline floating logistic(floating x) noexcept nogil:
    cdef floating e
    if x >= 0:
        return 1 / (1 + <floating>exp(-x))
    e = <floating>exp(x)
    return e / (1 + e)


cdef inline floating softplus(floating x) noexcept nogil:
    if x > 0:
        return x + <floating>log1p(exp(-x))
    return <floating>log1p(exp(x))


cdef inline void bias_activation(floating* z, intp m, intp n, const floating* b,
                                 int act) noexcept nogil:
    """In place z[i, j] = act(z[i, j] + b[j]) for a row-major m x n block."""
    cdef intp i, j
    cdef floating* row
    cdef floating v
    for i in range(m):
        row = z + i * n
        if act == IDENTITY:
            for j in range(n):
                row[j] = row[j] + b[j]
        elif act == LOGISTIC:
            for j in range(n):
                row[j] = logistic(row[j] + b[j])
        elif act == TANH:
            for j in range(n):
                row[j] = <floating>tanh(row[j] + b[j])
        elif act == RELU:
            for j in range(n):
                v = row[j] + b[j]
                row[j] = v if v > 0 else 0
        elif act == LEAKY_RELU:
            for j in range(n):
                v = row[j] + b[j]
                row[j] = v if v > 0 else <floating>LEAKY_SLOPE * v
        elif act == SOFTPLUS:
            for j in range(n):
                row[j] = softplus(row[j] + b[j])
        elif act == EXP:
            for j in range(n):
                row[j] = <floating>exp(row[j] + b[j])
    if act == SOFTMAX:
        softmax_rows(z, m, n, b)


cdef inline void softmax_rows(floating* z, intp m, intp n, const floating* b) noexcept nogil:
    """In place softmax of each row of z + b (b: NULL when the bias is already added)."""
    cdef intp i, j
    cdef floating* row
    if b != NULL:
        for i in range(m):
            row = z + i * n
            for j in range(n):
                row[j] = row[j] + b[j]
    if floating is float:
        mlpx_softmax_rows_s(z, m, n)
    else:
        mlpx_softmax_rows_d(z, m, n)


cdef inline void activation_derivative(floating* d, const floating* z, intp count,
                                       int act) noexcept nogil:
    """In place d *= act'(s), where z = act(s) is the layer's output."""
    cdef intp i
    if act == LOGISTIC:
        for i in range(count):
            d[i] = d[i] * z[i] * (1 - z[i])
    elif act == TANH:
        for i in range(count):
            d[i] = d[i] * (1 - z[i] * z[i])
    elif act == RELU:
        for i in range(count):  # a select, not a branch: the loop vectorises
            d[i] = d[i] if z[i] != 0 else 0
    elif act == LEAKY_RELU:
        for i in range(count):
            if z[i] <= 0:
                d[i] = d[i] * <floating>LEAKY_SLOPE
    elif act == SOFTPLUS:
        # softplus'(s) = sigmoid(s) = 1 - exp(-softplus(s))
        for i in range(count):
            d[i] = d[i] * <floating>(-expm1(-z[i]))


cdef inline void add_second_derivative_term(
    floating* out,            # OUT out += t * act''(s) * r
    const floating* t, const floating* z, const floating* r, intp count, int act,
) noexcept nogil:
    """The curvature term of the R-operator's delta recursion, from z = act(s)."""
    cdef intp i
    cdef floating d1
    if act == LOGISTIC:
        for i in range(count):
            d1 = z[i] * (1 - z[i])
            out[i] += t[i] * d1 * (1 - 2 * z[i]) * r[i]
    elif act == TANH:
        for i in range(count):
            out[i] += t[i] * (-2 * z[i] * (1 - z[i] * z[i])) * r[i]
    elif act == SOFTPLUS:
        for i in range(count):
            d1 = <floating>(-expm1(-z[i]))  # sigmoid(s)
            out[i] += t[i] * d1 * (1 - d1) * r[i]
    # identity, relu, leaky_relu: act'' = 0 (almost everywhere)


cdef inline void output_jacobian_times(
    floating* rp,             # IN R{s} of the output layer, OUT R{p}
    const floating* p, intp m, intp k, int out_act,
) noexcept nogil:
    """R{p} = J_out(s) R{s} for the output activation, row by row."""
    cdef intp i, j
    cdef floating dot
    for i in range(m):
        if out_act == LOGISTIC:
            for j in range(k):
                rp[i * k + j] *= p[i * k + j] * (1 - p[i * k + j])
        elif out_act == EXP:
            for j in range(k):
                rp[i * k + j] *= p[i * k + j]
        elif out_act == SOFTMAX:
            dot = 0
            for j in range(k):
                dot += p[i * k + j] * rp[i * k + j]
            for j in range(k):
                rp[i * k + j] = p[i * k + j] * (rp[i * k + j] - dot)


cdef inline double output_loss_and_delta(
    const floating* p,       # IN  m x k network outputs (after the output activation)
    floating* d,             # OUT m x k output deltas dE/ds, times the sample weight
    intp m, intp k,
    const floating* Y,       # IN  targets, rows selected by idx or from row0
    const intp* idx, intp row0,
    const floating* sw,      # IN  sample weights or NULL
    int out_act,
    double* sw_sum,          # OUT sum of the weights of these rows
) noexcept nogil:
    """Return the weighted sum over rows of the loss, and fill the deltas.

    The loss matches the output activation (its canonical link), so the delta is
    always (p - y) scaled by the sample weight; for the squared error it is also
    divided by k, because the loss averages over the k outputs.
    """
    cdef intp i, j, r
    cdef const floating* y
    cdef const floating* pi
    cdef floating* di
    cdef double w, li, total = 0, wsum = 0
    cdef double pc, yj
    cdef double eps = 1.1920928955078125e-07 if floating is float else 2.220446049250313e-16
    # one loop per loss, each branch-free but for the log terms, which
    # one-hot targets need only once per row
    for i in range(m):
        r = idx[i] if idx != NULL else row0 + i
        y = Y + r * k
        pi = p + i * k
        di = d + i * k
        w = sw[r] if sw != NULL else 1.0
        li = 0
        if out_act == IDENTITY:
            for j in range(k):
                li = li + (<double>y[j] - pi[j]) * (<double>y[j] - pi[j])
                di[j] = <floating>(w * (pi[j] - y[j]) / k)
            li = 0.5 * li / k
        else:
            for j in range(k):
                di[j] = <floating>(w * (pi[j] - y[j]))
            if out_act == EXP:
                # half Poisson deviance, as scikit-learn's poisson loss
                for j in range(k):
                    yj = y[j]
                    li = li + pi[j] - yj
                    if yj != 0:
                        li = li + yj * log(yj / pi[j])
            else:
                # log-loss on probabilities clipped to [eps, 1 - eps]
                for j in range(k):
                    yj = y[j]
                    if yj == 0 and out_act != LOGISTIC:
                        continue
                    pc = pi[j]  # NaN stays NaN: the caller detects divergence
                    if pc < eps:
                        pc = eps
                    elif pc > 1 - eps:
                        pc = 1 - eps
                    if yj != 0:
                        li = li - yj * log(pc)
                    if out_act == LOGISTIC and yj != 1:
                        li = li - (1 - yj) * log(1 - pc)
        total = total + w * li
        wsum = wsum + w
    sw_sum[0] = wsum
    return total
