"""Hessian: exact Hessian-vector products of the loss (Pearlmutter's R-operator).

For a direction v over the flat parameters, Hv is computed in one forward and
one backward pass, differentiating every quantity of backprop along v:
R{s_l} = R{x_(l-1)} W_l + x_(l-1) V_l + c_l,  R{x_l} = act'(s_l) R{s_l},
R{delta_(l-1)} = (R{delta_l} W_l^T + delta_l V_l^T) act'(s_(l-1))
                 + (delta_l W_l^T) act''(s_(l-1)) R{s_(l-1)},
Hv_W_l = (R{x_(l-1)}^T delta_l + x_(l-1)^T R{delta_l} + alpha V_l) / sum(w).
The loss is the one _gradient.loss_gradient computes (same weights, same penalty).
"""
from cython cimport floating
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from ._engine cimport (
    Net, Network, activation_derivative, add_second_derivative_term, bias_activation,
    forward_rows, gemm, output_jacobian_times, output_loss_and_delta,
)
from ._types cimport IDENTITY, LOGISTIC, SOFTMAX, SQUARED_ERROR, intp


cdef void squared_error_output_r(
    floating* rd,             # OUT R{delta} of the output layer, n x k
    const floating* p,        # IN  outputs
    const floating* rp,       # IN  R{p}
    const floating* Y, const floating* sw, intp n, intp k, int out_act,
) noexcept nogil:
    """R{delta} for half the squared error on a logistic, softmax or exp output.

    delta = J^T g with g = w (p - y) / k, so R{delta} = R{J}^T g + J^T R{g},
    R{g} = w R{p} / k.
    """
    cdef intp i, j
    cdef double w, g, rg, c, rc
    for i in range(n):
        w = (sw[i] if sw != NULL else 1.0) / k
        if out_act == SOFTMAX:
            # delta_j = p_j (g_j - c), c = sum_l p_l g_l
            c = 0
            rc = 0
            for j in range(k):
                g = w * (p[i * k + j] - Y[i * k + j])
                c += p[i * k + j] * g
                rc += rp[i * k + j] * g + p[i * k + j] * w * rp[i * k + j]
            for j in range(k):
                g = w * (p[i * k + j] - Y[i * k + j])
                rd[i * k + j] = <floating>(rp[i * k + j] * (g - c)
                                           + p[i * k + j] * (w * rp[i * k + j] - rc))
        else:
            for j in range(k):
                g = w * (p[i * k + j] - Y[i * k + j])
                rg = w * rp[i * k + j]
                if out_act == LOGISTIC:
                    rd[i * k + j] = <floating>(
                        rg * p[i * k + j] * (1 - p[i * k + j])
                        + g * (1 - 2 * p[i * k + j]) * rp[i * k + j])
                else:  # exp
                    rd[i * k + j] = <floating>(rg * p[i * k + j] + g * rp[i * k + j])


def hessian_vector(Network network, const floating[::1] params, const floating[::1] v,
                   const floating[:, ::1] X, const floating[:, ::1] Y,
                   const floating[::1] sample_weight, double alpha, floating[::1] hv):
    """Write H v into hv, H the Hessian of loss_gradient's loss at params."""
    cdef const Net* net = &network.net
    cdef int hidden_act = net.hidden_act, out_act = net.out_act
    cdef intp n = X.shape[0], total, l, fi, fo, i, j, K, maxw = 0
    cdef int L
    cdef floating* buf = NULL
    cdef floating* A
    cdef floating* RS
    cdef floating* RA
    cdef floating* D
    cdef floating* RD
    cdef floating* T
    cdef const floating* inp
    cdef const floating* rinp
    cdef const floating* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef const floating* P = &params[0]
    cdef const floating* V = &v[0]
    cdef floating* H = &hv[0]
    cdef double S, w, kappa
    cdef floating a = <floating>alpha, inv
    try:
        L = net.n_layers
        total = net.cum_w[L]
        for l in range(L + 1):
            maxw = max(maxw, net.sizes[l])
        buf = <floating*>malloc((5 * n * total + n * maxw) * sizeof(floating))
        if buf == NULL:
            raise MemoryError("no memory for the Hessian-vector product's buffers")
        A, RS, RA = buf, buf + n * total, buf + 2 * n * total
        D, RD, T = buf + 3 * n * total, buf + 4 * n * total, buf + 5 * n * total
        with nogil:
            forward_rows(net, P, &X[0, 0], X.shape[1], n, A, n, 0, NULL, NULL, NULL, 0)
            # R-forward
            for l in range(L):
                fi = net.sizes[l]
                fo = net.sizes[l + 1]
                inp = &X[0, 0] if l == 0 else A + n * net.cum_w[l - 1]
                gemm(c'N', c'N', n, fo, fi, <floating>1, inp, fi, V + net.w_off[l], fo,
                     <floating>0, RS + n * net.cum_w[l], fo)
                bias_activation(RS + n * net.cum_w[l], n, fo, V + net.b_off[l], IDENTITY, 0)
                if l > 0:
                    rinp = RA + n * net.cum_w[l - 1]
                    gemm(c'N', c'N', n, fo, fi, <floating>1, rinp, fi, P + net.w_off[l],
                         fo, <floating>1, RS + n * net.cum_w[l], fo)
                memcpy(RA + n * net.cum_w[l], RS + n * net.cum_w[l],
                       n * fo * sizeof(floating))
                if l < L - 1:
                    activation_derivative(RA + n * net.cum_w[l], A + n * net.cum_w[l],
                                          n * fo, hidden_act, net.leaky_slope)
                else:
                    output_jacobian_times(RA + n * net.cum_w[l], A + n * net.cum_w[l],
                                          n, fo, out_act)
            # output deltas and their R
            K = net.sizes[L]
            output_loss_and_delta(A + n * net.cum_w[L - 1], D + n * net.cum_w[L - 1], n, K,
                                  &Y[0, 0], NULL, 0, sw, out_act, net.loss, False, &S)
            if net.loss == SQUARED_ERROR and out_act != IDENTITY:
                squared_error_output_r(RD + n * net.cum_w[L - 1], A + n * net.cum_w[L - 1],
                                       RA + n * net.cum_w[L - 1], &Y[0, 0], sw, n, K,
                                       out_act)
            else:
                kappa = K if out_act == IDENTITY else 1.0
                for i in range(n):
                    w = sw[i] if sw != NULL else 1.0
                    for j in range(K):
                        RD[n * net.cum_w[L - 1] + i * K + j] = <floating>(
                            w * RA[n * net.cum_w[L - 1] + i * K + j] / kappa)
            # backward
            for l in range(L - 1, 0, -1):
                fi = net.sizes[l]
                fo = net.sizes[l + 1]
                gemm(c'N', c'T', n, fi, fo, <floating>1, D + n * net.cum_w[l], fo,
                     P + net.w_off[l], fo, <floating>0, T, fi)
                memcpy(D + n * net.cum_w[l - 1], T, n * fi * sizeof(floating))
                activation_derivative(D + n * net.cum_w[l - 1], A + n * net.cum_w[l - 1],
                                      n * fi, hidden_act, net.leaky_slope)
                gemm(c'N', c'T', n, fi, fo, <floating>1, RD + n * net.cum_w[l], fo,
                     P + net.w_off[l], fo, <floating>0, RD + n * net.cum_w[l - 1], fi)
                gemm(c'N', c'T', n, fi, fo, <floating>1, D + n * net.cum_w[l], fo,
                     V + net.w_off[l], fo, <floating>1, RD + n * net.cum_w[l - 1], fi)
                activation_derivative(RD + n * net.cum_w[l - 1], A + n * net.cum_w[l - 1],
                                      n * fi, hidden_act, net.leaky_slope)
                add_second_derivative_term(RD + n * net.cum_w[l - 1], T,
                                           A + n * net.cum_w[l - 1],
                                           RS + n * net.cum_w[l - 1], n * fi, hidden_act)
            # H v, layer by layer
            inv = <floating>S
            for l in range(L):
                fi = net.sizes[l]
                fo = net.sizes[l + 1]
                inp = &X[0, 0] if l == 0 else A + n * net.cum_w[l - 1]
                gemm(c'T', c'N', fi, fo, n, <floating>1, inp, fi, RD + n * net.cum_w[l],
                     fo, <floating>0, H + net.w_off[l], fo)
                if l > 0:
                    gemm(c'T', c'N', fi, fo, n, <floating>1, RA + n * net.cum_w[l - 1], fi,
                         D + n * net.cum_w[l], fo, <floating>1, H + net.w_off[l], fo)
                for j in range(fi * fo):
                    H[net.w_off[l] + j] = (H[net.w_off[l] + j] + a * V[net.w_off[l] + j]) / inv
                for j in range(fo):
                    H[net.b_off[l] + j] = 0
                for i in range(n):
                    for j in range(fo):
                        H[net.b_off[l] + j] += RD[n * net.cum_w[l] + i * fo + j]
                for j in range(fo):
                    H[net.b_off[l] + j] = H[net.b_off[l] + j] / inv
    finally:
        free(buf)
