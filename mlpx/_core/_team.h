/* A team of threads working through a sequence of phases of tiles.
 *
 * Tickets number the tiles of all phases in order. A thread claims the next
 * ticket only once every tile of the earlier phases is done, so a thread
 * holds a tile exactly while it computes it: a thread the OS deschedules
 * between tiles holds nothing up, and the others take the tiles it would have
 * taken. A phase is complete when its last tile is counted, whichever thread
 * ran it; threads never wait for each other's arrival.
 *
 * Waiting for a phase spins for a short, bounded time (the next phase usually
 * becomes ready within it on an otherwise idle machine), then sleeps until the
 * phase completes (a futex on Linux, short sleeps elsewhere), so that a core
 * is never kept busy by a thread with nothing to do while the thread that
 * holds the last tile, or another program, could run there.
 */
#ifndef MLPX_TEAM_H
#define MLPX_TEAM_H
#include <stdint.h>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#include <windows.h>
#define MLPX_LOAD64(p) ((int64_t)_InterlockedOr64((volatile __int64*)(p), 0))
#define MLPX_LOAD32(p) ((int32_t)_InterlockedOr((volatile long*)(p), 0))
#define MLPX_ADD64(p, v) ((int64_t)_InterlockedExchangeAdd64((volatile __int64*)(p), (v)))
#define MLPX_ADD32(p, v) ((int32_t)_InterlockedExchangeAdd((volatile long*)(p), (v)))
#define MLPX_STORE32(p, v) ((void)_InterlockedExchange((volatile long*)(p), (v)))
static inline int mlpx_cas64(int64_t* p, int64_t expected, int64_t desired) {
    return _InterlockedCompareExchange64((volatile __int64*)p, desired, expected) == expected;
}
#define MLPX_PAUSE() _mm_pause()
#else
#define MLPX_LOAD64(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define MLPX_LOAD32(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define MLPX_ADD64(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define MLPX_ADD32(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define MLPX_STORE32(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
static inline int mlpx_cas64(int64_t* p, int64_t expected, int64_t desired) {
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}
#if defined(__x86_64__) || defined(__i386__)
#define MLPX_PAUSE() __builtin_ia32_pause()
#elif defined(__aarch64__) || defined(__arm__)
#define MLPX_PAUSE() __asm__ __volatile__("yield")
#else
#define MLPX_PAUSE() ((void)0)
#endif
#endif

#if defined(__linux__)
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef FUTEX_WAIT_PRIVATE
#define FUTEX_WAIT_PRIVATE 128 /* FUTEX_WAIT | FUTEX_PRIVATE_FLAG */
#define FUTEX_WAKE_PRIVATE 129 /* FUTEX_WAKE | FUTEX_PRIVATE_FLAG */
#endif
#elif !defined(_WIN32)
#include <sched.h>
#include <time.h>
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

/* How long a thread with nothing to do spins before it sleeps, in seconds:
 * at first, and the bounds of its adaptation (see mlpx_team_wait). */
#ifndef MLPX_SPIN_START
#define MLPX_SPIN_START 50e-6
#endif
#ifndef MLPX_SPIN_MIN
#define MLPX_SPIN_MIN 5e-6
#endif
#ifndef MLPX_SPIN_MAX
#define MLPX_SPIN_MAX 400e-6
#endif

typedef struct {
    int64_t next;      /* the next ticket to claim */
    char pad0[56];     /* the counters live on separate cache lines */
    int64_t done;      /* tiles finished */
    char pad1[56];
    int32_t seq;       /* bumped when a phase completes or the team stops (futex word) */
    int32_t sleepers;  /* threads asleep, or about to sleep, in mlpx_team_wait */
    int32_t stop;      /* nonzero: every thread leaves (the value says why) */
    int32_t unused;
} mlpx_team;

static inline void mlpx_team_init(mlpx_team* tm) {
    tm->next = 0;
    tm->done = 0;
    tm->seq = 0;
    tm->sleepers = 0;
    tm->stop = 0;
    tm->unused = 0;
}

static inline int64_t mlpx_team_peek(mlpx_team* tm) { return MLPX_LOAD64(&tm->next); }

/* Claim ticket t if nobody has yet. */
static inline int mlpx_team_claim(mlpx_team* tm, int64_t t) {
    return mlpx_cas64(&tm->next, t, t + 1);
}

/* Claim the r tickets t, ..., t + r - 1 if nobody has claimed t yet. */
static inline int mlpx_team_claim_run(mlpx_team* tm, int64_t t, int64_t r) {
    return mlpx_cas64(&tm->next, t, t + r);
}

static inline int mlpx_team_stopped(mlpx_team* tm) { return MLPX_LOAD32(&tm->stop); }

static inline void mlpx_team_wake(mlpx_team* tm) {
    MLPX_ADD32(&tm->seq, 1);
    if (MLPX_LOAD32(&tm->sleepers) > 0) {
#if defined(__linux__)
        syscall(SYS_futex, &tm->seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#elif defined(_WIN32)
        /* sleepers poll (see mlpx_team_sleep) */
#endif
    }
}

/* Count r finished tiles; phase_end is the ticket after their phase's last. */
static inline void mlpx_team_finish_run(mlpx_team* tm, int64_t r, int64_t phase_end) {
    if (MLPX_ADD64(&tm->done, r) + r == phase_end)
        mlpx_team_wake(tm);
}

/* Count one finished tile. */
static inline void mlpx_team_finish(mlpx_team* tm, int64_t phase_end) {
    mlpx_team_finish_run(tm, 1, phase_end);
}

/* Make every thread leave; the first reason given is kept. */
static inline void mlpx_team_stop(mlpx_team* tm, int32_t why) {
#if defined(_MSC_VER) && !defined(__clang__)
    _InterlockedCompareExchange((volatile long*)&tm->stop, why, 0);
#else
    int32_t none = 0;
    __atomic_compare_exchange_n(&tm->stop, &none, why, 0, __ATOMIC_SEQ_CST,
                                __ATOMIC_SEQ_CST);
#endif
    mlpx_team_wake(tm);
}

static inline void mlpx_team_sleep(mlpx_team* tm, int32_t seen) {
#if defined(__linux__)
    syscall(SYS_futex, &tm->seq, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
#elif defined(_WIN32)
    (void)tm; (void)seen;
    Sleep(0);
#else
    struct timespec ts = {0, 20000};
    (void)tm; (void)seen;
    nanosleep(&ts, NULL);
#endif
}

/* Wait until `target` tiles are done; return the stop code (0: go on).
 *
 * *spin (seconds, one per thread) is how long to spin before sleeping; it
 * adapts to what the waits turn out to be. A wait that ends soon after the
 * thread fell asleep would have been cheaper spun through: spin longer. A wait
 * far longer than the spin means the tile being waited for was held by a
 * thread the OS descheduled: spinning then only takes a core from the threads
 * that could run, so spin less. */
static inline int32_t mlpx_team_wait(mlpx_team* tm, int64_t target, double* spin) {
    int32_t why = MLPX_LOAD32(&tm->stop);
    if (why)
        return why;
    if (MLPX_LOAD64(&tm->done) >= target)
        return 0;
#ifdef _OPENMP
    double t0 = omp_get_wtime(), waited;
    int spins = 0;
    for (;;) {
        MLPX_PAUSE();
        why = MLPX_LOAD32(&tm->stop);
        if (why)
            return why;
        if (MLPX_LOAD64(&tm->done) >= target)
            return 0;
        if (++spins < 32)
            continue;
        spins = 0;
        if (omp_get_wtime() - t0 > *spin)
            break;
    }
#endif
    for (;;) {
        int32_t seen = MLPX_LOAD32(&tm->seq);
        MLPX_ADD32(&tm->sleepers, 1);
        /* checked after announcing the sleep: a thread that completes the
           phase after this check sees the sleeper and wakes it */
        why = MLPX_LOAD32(&tm->stop);
        if (why == 0 && MLPX_LOAD64(&tm->done) < target)
            mlpx_team_sleep(tm, seen);
        MLPX_ADD32(&tm->sleepers, -1);
        why = MLPX_LOAD32(&tm->stop);
        if (why || MLPX_LOAD64(&tm->done) >= target)
            break;
    }
#ifdef _OPENMP
    waited = omp_get_wtime() - t0;
    if (waited < 4.0 * *spin)
        *spin = *spin * 2.0 < MLPX_SPIN_MAX ? *spin * 2.0 : MLPX_SPIN_MAX;
    else if (waited > 16.0 * *spin)
        *spin = *spin * 0.5 > MLPX_SPIN_MIN ? *spin * 0.5 : MLPX_SPIN_MIN;
#endif
    return why;
}

#endif
