# The compiled engine: what the entry modules (_predict, _gradient, _train,
# _hessian, _testing) use of it. The bodies are in _engine.pyx.
#
# Layout. A network of L weight layers has sizes[0..L] (inputs, hidden widths,
# outputs). All parameters live in one flat buffer: W_0, ..., W_{L-1} (row-major,
# sizes[l] x sizes[l+1]) then b_0, ..., b_{L-1}, the order scikit-learn packs
# them for L-BFGS. Activations and deltas of a batch of at most `cap` rows live
# in one buffer each: layer l's block (m x sizes[l+1], row-major) starts at
# cap * cum_w[l].
from cython cimport floating
from libc.stdint cimport int64_t

from ._types cimport intp

cdef extern from *:
    """
    /* Forward flops below which a batch or a predict runs on one thread.
       Such a batch takes about a millisecond: on a quiet machine two threads
       gain at most a third on it, while beside another busy program a thread
       descheduled as it holds a tile stalls the batch for a time slice (the
       64-256-10 row of benchmarks/contention.py). */
    #define MLPX_MIN_PARALLEL_FLOPS 1.5e7
    /* Target work of one chunk (forward and deltas of some rows) and of one
       task (a block of a layer's weight gradient), in flops. */
    #define MLPX_CHUNK_FLOPS 2.0e6
    #define MLPX_TASK_FLOPS 4.0e6
    /* Kinds of the phases of a batch on the tile grid (Plan.phase_kind) */
    enum { MLPX_PHASE_FORWARD, MLPX_PHASE_TAIL, MLPX_PHASE_BACKWARD, MLPX_PHASE_TASKS,
           MLPX_PHASE_ROWS };
    """
    double MIN_PARALLEL_FLOPS "MLPX_MIN_PARALLEL_FLOPS"
    double CHUNK_FLOPS "MLPX_CHUNK_FLOPS"
    double TASK_FLOPS "MLPX_TASK_FLOPS"
    int PHASE_FORWARD "MLPX_PHASE_FORWARD"
    int PHASE_TAIL "MLPX_PHASE_TAIL"
    int PHASE_BACKWARD "MLPX_PHASE_BACKWARD"
    int PHASE_TASKS "MLPX_PHASE_TASKS"
    int PHASE_ROWS "MLPX_PHASE_ROWS"

cdef extern from "_team.h":
    ctypedef struct mlpx_team:
        pass
    void team_init "mlpx_team_init" (mlpx_team* tm) noexcept nogil
    void team_stop "mlpx_team_stop" (mlpx_team* tm, int why) noexcept nogil
    int team_stopped "mlpx_team_stopped" (mlpx_team* tm) noexcept nogil

cdef extern from "Python.h":
    int check_signals "PyErr_CheckSignals" () noexcept  # needs the GIL


cdef struct Net:
    int n_layers
    int hidden_act
    int out_act
    int loss        # a Loss code
    double leaky_slope  # leaky ReLU's slope for negative inputs
    intp* sizes     # n_layers + 1
    intp* w_off     # n_layers: offset of W_l in the flat buffer
    intp* b_off     # n_layers: offset of b_l
    intp* cum_w     # n_layers + 1: cum_w[l] = sizes[1] + ... + sizes[l]
    intp n_params
    intp n_coef     # number of weights (the penalised parameters)
    bint training   # in a training run (see forward_rows)


cdef struct Plan:
    # How batches of at most `cap` rows are cut: chunks of rows (forward pass
    # and deltas), then tasks (blocks of rows of a weight matrix: gradient and
    # step). Fixed by the network and the batch size, never by the threads.
    intp cap
    intp chunk_rows
    intp max_chunks
    intp n_tasks
    int* task_layer
    intp* task_i0
    intp* task_i1
    intp* task_j0       # columns j0:j1 of W_l (all of them in a chunk plan)
    intp* task_j1
    intp* task_run_end  # tasks of one layer and column block end before this one
    int* task_bias      # the task that also owns b_l (the last block of layer l)
    double flops_per_row
    # The tile grid (grid true; see plan_init): a batch is n_phases phases of
    # tiles (phase_kind: PHASE_*, of layer phase_layer). Its rows are
    # max_chunks row blocks; the forward phase of layer l cuts its outputs into
    # n_cb[l] column blocks, the backward phase of layer l (the deltas of layer
    # l - 1) into n_cbb[l]; tiles are numbered column block by column block.
    bint grid
    int n_phases
    intp* phase_end     # tickets of a batch up to the end of each phase
    intp* phase_kind
    intp* phase_layer
    intp* n_cb
    intp* n_cbb
    # the coarse schedule of the same tiles for a few threads (see grid_work):
    # row blocks through every layer (PHASE_ROWS), then the tasks
    intp coarse_end[2]
    intp coarse_kind[2]
    intp coarse_layer[2]
    intp widest         # tiles of the largest phase (or chunks / tasks)


cdef struct Update:
    int kind            # a StepRule
    double lr           # SGD: current learning rate; Adam: bias-corrected step size
    double momentum
    bint nesterov
    double beta_1
    double beta_2
    double epsilon
    double noise_std    # SGLD: sqrt(2 lr temperature)
    unsigned long long seed  # SGLD: noise stream of this fit
    unsigned long long step  # optimizer steps taken, this one included


cdef struct CSR:
    # A sparse input matrix in CSR form; `data` points to float or double
    # values matching the network's type.
    const void* data
    const intp* indices
    const intp* indptr


cdef struct Job:
    # A run of mini-batches of plan.cap rows: gradient and (unless
    # upd.kind == NO_UPDATE) one optimizer step each. Each batch is phases of
    # tiles (chunk plan: its chunks, then its tasks; grid: see Plan); a team of
    # threads runs the tiles of all batches in order (see run_job).
    Net net                 # the network (net.training set for training runs)
    const Plan* plan
    void* params            # IN/OUT the flat parameters
    void* grad              # OUT gradient of the last batch
    void* s1                # IN/OUT optimizer state (NULL without update)
    void* s2
    const void* X           # IN  dense rows, row stride ldx (unused with sp)
    intp ldx
    const void* Y           # IN  targets
    const void* sw          # IN  sample weights or NULL
    const CSR* sp           # IN  sparse X, or NULL
    const intp* order       # IN  the rows in the order they are batched, or NULL
    intp n                  # rows
    intp n_batches
    intp chunks_full        # chunks of a batch of plan.cap rows
    void* acts              # workspace (see workspace_size)
    void* deltas
    void* xbuf              # gathered rows (used with order; two batches' on the grid)
    double* scratch         # scratch_size(plan) doubles
    double alpha
    double sw_total         # weight that scales a batch's loss and gradient;
                            # 0: the batch's own (see loss_gradient's row blocks)
    double lr_init
    Update upd              # the step and Adam's step size are set per batch
    unsigned long long t0   # optimizer steps taken before the first batch
    int signals             # let Ctrl-C through: 0 never, 1 after each batch,
                            # 2 after each tile (the calling thread checks)
    double loss_sum         # OUT sum of batch loss * batch rows (scikit-learn's way)
    intp batches_done       # OUT batches finished with finite loss and parameters
    double last_loss        # OUT loss of the last batch finished
    mlpx_team team


cdef class Network:
    # Layer sizes, activation codes and the flat-parameter layout of an MLP.
    cdef Net net
    cdef readonly intp n_params


# Layout and cut
cdef int plan_init(Plan* plan, const Net* net, intp cap, bint sparse) noexcept nogil
cdef void plan_free(Plan* plan) noexcept nogil
cdef intp ceil_div(intp a, intp b) noexcept nogil
cdef intp block_start(intp i, intp total, intp n_blocks) noexcept nogil
cdef intp workspace_size(const Net* net, intp bs) noexcept nogil
cdef intp scratch_size(const Plan* plan) noexcept nogil
cdef const CSR* csr_of(CSR* sp, const void* data, intp nnz, const intp* indices,
                       const intp* indptr) noexcept nogil

# Products
cdef void gemm(char ta, char tb, intp m, intp n, intp k, floating alpha,
               const floating* A, intp lda, const floating* B, intp ldb,
               floating beta, floating* C, intp ldc) noexcept nogil
cdef void blas_gemm(char ta, char tb, intp m, intp n, intp k, floating alpha,
                    const floating* A, intp lda, const floating* B, intp ldb,
                    floating beta, floating* C, intp ldc) noexcept nogil
cdef int small_gemm(char ta, char tb, intp m, intp n, intp k, floating alpha,
                    const floating* A, intp lda, const floating* B, intp ldb,
                    floating beta, floating* C, intp ldc) noexcept nogil
cdef int small_gemm_epilogue(
    char tb, intp m, intp n, intp k, const floating* A, intp lda, const floating* B,
    intp ldb, floating* C, intp ldc, const floating* bias, const floating* Z, intp ldz,
    int epi) noexcept nogil
cdef int epilogue_code(str name) except -1
cdef bint forward_calls_blas(const Net* net, intp n, bint sparse, bint single) noexcept nogil
cdef intp forward_chunk_rows(const Net* net, intp n) noexcept nogil
cdef int forward_threads(const Net* net, intp n, intp rows, int n_threads) noexcept nogil

# Activations and losses
cdef void bias_activation(floating* z, intp m, intp n, const floating* b,
                          int act, double slope) noexcept nogil
cdef void activation_derivative(floating* d, const floating* z, intp count,
                                int act, double slope) noexcept nogil
cdef void add_second_derivative_term(floating* out, const floating* t, const floating* z,
                                     const floating* r, intp count, int act) noexcept nogil
cdef void output_jacobian_times(floating* rp, const floating* p, intp m, intp k,
                                int out_act) noexcept nogil
cdef double output_loss_and_delta(const floating* p, floating* d, intp m, intp k,
                                  const floating* Y, const intp* idx, intp row0,
                                  const floating* sw, int out_act, int loss,
                                  bint training, double* sw_sum) noexcept nogil
cdef void exp_nonpos(floating* x, intp n) noexcept nogil
cdef bint all_finite(const floating* x, intp n) noexcept nogil

# Passes
cdef void forward_rows(const Net* net, const floating* params, const floating* x,
                       intp ldx, intp m, floating* acts, intp cap, intp r0,
                       floating* out_last, const CSR* sp, const intp* idx,
                       intp row0) noexcept nogil
cdef double adam_step_size(double lr_init, double beta_1, double beta_2,
                           unsigned long long t) noexcept nogil
cdef void job_init(Job* job, const Net* net, const Plan* plan, floating* params,
                   floating* s1, floating* s2, const floating* X, intp ldx,
                   const floating* Y, const floating* sw, const CSR* sp,
                   const intp* order, intp n, double alpha, const Update* upd,
                   double lr_init, unsigned long long t0, floating* ws,
                   floating* grad, double* scratch) noexcept nogil
cdef int run_job(Job* job, floating* params, int n_threads) noexcept nogil
cdef int run_seeds(const Job* base, floating* params, floating* s1, floating* s2,
                   intp P, floating* ws, intp ws_size, double* dbuf, intp db_size,
                   intp n_seeds, intp n_epochs, void** generators, intp* orders,
                   intp* shuffle_tmp, const double* lr_per_epoch,
                   const unsigned char* record, floating* snapshots, intp n_records,
                   double* losses, unsigned char* ok, int n_threads) noexcept nogil
