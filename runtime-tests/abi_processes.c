/* Processes through the C ABI: spawn-argument copying and alignment, stack sizes, hive_yield,
 * reductions, hive_self, pids never reused, hive_mailbox_len, hive_exit from deep
 * recursion, hive_process_count and hive_is_alive, a full pid table (SYSTEM_LIMIT), stale
 * pids and stale timers after slot reuse, concurrent spawns from plain threads.
 * (Priorities: abi_priority.c; preemption on one scheduler: abi_preempt.c.) Runs with
 * max_processes = 3000 (rounded up to 4096) so that pid-table slots are recycled many times
 * by the 100000-process test. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include "check.h"

#define MAX_PROCS 4096
#define INDEX_MASK ((1ull << 24) - 1)
#define NODE_SHIFT 52

static hive_pid g_root; /* written by each root before it spawns anything */

static uint8_t pattern_byte(size_t i, size_t n) { return (uint8_t)(i * 31u + n * 7u + 1u); }

/* ---- spawn argument copying ------------------------------------------------------- */
/* The child checks its copy: NULL for size 0, else 16-byte aligned and equal to the
 * pattern the parent wrote before hive_spawn (the parent overwrites its buffer right after
 * hive_spawn returns). It checks again after yielding and receiving (the copy stays valid
 * until the process exits), then reports {size, 1} to g_root. */
struct argmsg { uint64_t size; uint64_t ok; };
static size_t g_arg_size; /* size the next child must see (children are run one at a time) */
static void arg_child(void *arg) {
    size_t n = g_arg_size;
    if (n == 0) {
        CHECK(arg == NULL);
    } else {
        CHECK(arg != NULL);
        CHECK_EQ((uintptr_t)arg % 16, 0);
        const uint8_t *b = arg;
        for (size_t i = 0; i < n; i++)
            if (b[i] != pattern_byte(i, n)) { fprintf(stderr, "arg byte %zu of %zu\n", i, n); CHECK(0); }
        CHECK_OK(hive_yield());
        hive_msg *m = NULL;
        CHECK_EQ(hive_receive(1, &m), HIVE_TIMEOUT);
        for (size_t i = 0; i < n; i++) CHECK_EQ(b[i], pattern_byte(i, n));
    }
    struct argmsg r = {n, 1};
    CHECK_OK(hive_send(g_root, &r, sizeof r));
}
static uint8_t g_argbuf[HIVE_MAX_ARG_LEN + 64];
static void spawn_with_arg(size_t n, size_t misalign) {
    uint8_t *buf = g_argbuf + misalign; /* the source need not be aligned */
    for (size_t i = 0; i < n; i++) buf[i] = pattern_byte(i, n);
    g_arg_size = n;
    hive_pid p = 0;
    CHECK_OK(hive_spawn(arg_child, n ? buf : NULL, n, NULL, &p));
    memset(buf, 0xEE, n ? n : 1); /* mutate right after the call */
    CHECK_NE(p, 0);
}
static const size_t ARG_SIZES[] = {0, 1, 15, 16, 17, 1024, 1025, 4096, 100000, HIVE_MAX_ARG_LEN};
#define N_ARG_SIZES (sizeof ARG_SIZES / sizeof ARG_SIZES[0])
static void root_args(void *arg) {
    (void)arg;
    g_root = hive_self();
    for (size_t k = 0; k < N_ARG_SIZES; k++) {
        for (size_t mis = 0; mis < 3; mis++) {
            spawn_with_arg(ARG_SIZES[k], mis * 5);
            hive_msg *m = NULL;
            CHECK_OK(hive_receive(10000, &m));
            struct argmsg r;
            CHECK_EQ(hive_msg_len(m), sizeof r);
            memcpy(&r, hive_msg_data(m), sizeof r);
            CHECK_EQ(r.size, ARG_SIZES[k]);
            CHECK_EQ(r.ok, 1);
            hive_msg_free(m);
        }
    }
}
/* The same from the main thread, where the child may start on another worker at once. */
static void root_collect_args(void *arg) {
    (void)arg;
    /* g_root was set by main before spawning children (see main). */
    for (size_t k = 0; k < N_ARG_SIZES; k++) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(10000, &m));
        struct argmsg r;
        memcpy(&r, hive_msg_data(m), sizeof r);
        CHECK_EQ(r.ok, 1);
        hive_msg_free(m);
    }
}

/* ---- stack sizes ---------------------------------------------------------------- */
/* Recursion that touches `frame` bytes of locals per level; returns a checksum. */
#define FRAME 8192
static __attribute__((noinline)) uint64_t deep_locals(int depth, uint64_t seed) {
    volatile uint8_t buf[FRAME];
    for (size_t i = 0; i < FRAME; i += 64) buf[i] = (uint8_t)(seed + i);
    uint64_t s = depth > 1 ? deep_locals(depth - 1, seed + 1) : 0;
    for (size_t i = 0; i < FRAME; i += 64) s += buf[i];
    return s;
}
static uint64_t expected_sum(int depth, uint64_t seed) {
    uint64_t s = 0;
    for (int d = 0; d < depth; d++)
        for (size_t i = 0; i < FRAME; i += 64) s += (uint8_t)(seed + d + i);
    return s;
}
static void stack_child(void *arg) {
    int depth;
    memcpy(&depth, arg, sizeof depth);
    uint64_t s = deep_locals(depth, 3);
    CHECK_EQ(s, expected_sum(depth, 3));
    CHECK_OK(hive_test_send_2u64(g_root, (uint64_t)depth, s));
}
static void run_stack(size_t stack_size, size_t locals) {
    int depth = (int)(locals / FRAME);
    hive_spawn_opts o = {.priority = HIVE_PRIORITY_NORMAL, .flags = 0, .stack_size = stack_size};
    CHECK_OK(hive_spawn(stack_child, &depth, sizeof depth, stack_size ? &o : NULL, NULL));
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(10000, &m));
    CHECK_EQ(hive_test_word(m, 0), (uint64_t)depth);
    CHECK_EQ(hive_test_word(m, 1), expected_sum(depth, 3));
    hive_msg_free(m);
}
static void root_stacks(void *arg) {
    (void)arg;
    g_root = hive_self();
    run_stack(0, 32 * 1024);                 /* default 64 KiB stack, ~32 KiB of locals */
    run_stack(64 * 1024, 40 * 1024);
    run_stack(1 << 20, 512 * 1024);          /* 1 MiB stack, 512 KiB of locals */
    run_stack(100000, 96 * 1024);            /* rounded up to 128 KiB */
    run_stack(16 * 1024, 8 * 1024);          /* the smallest stack */
    /* Below the 16 KiB minimum: refused, not enlarged. */
    hive_spawn_opts tiny = {.priority = HIVE_PRIORITY_NORMAL, .flags = 0, .stack_size = 1};
    CHECK_EQ(hive_spawn(stack_child, NULL, 0, &tiny, NULL), HIVE_ERR_BAD_LENGTH);
    tiny.stack_size = 16 * 1024 - 1;
    CHECK_EQ(hive_spawn(stack_child, NULL, 0, &tiny, NULL), HIVE_ERR_BAD_LENGTH);
    run_stack((size_t)8 << 20, (size_t)6 << 20);
    run_stack((size_t)64 << 20, (size_t)48 << 20); /* the largest stack */
}

/* ---- hive_yield, reductions, ctx -------------------------------------------------- */
static void root_yield(void *arg) {
    (void)arg;
    hive_ctx *ctx = hive_current_ctx();
    CHECK(ctx != NULL);
    CHECK_GT(ctx->reductions, 0);
    CHECK_LE(ctx->reductions, HIVE_REDUCTIONS_PER_SLICE);
    hive_pid self = hive_self();
    for (int i = 0; i < 1000; i++) {
        CHECK_OK(hive_yield());
        CHECK(hive_current_ctx() == ctx); /* stable across resumes, on any worker */
        CHECK_EQ(hive_self(), self);
        CHECK_EQ(ctx->reductions, HIVE_REDUCTIONS_PER_SLICE); /* reset at every resume */
        int32_t r = ctx->reductions;
        CHECK_OK(hive_reduction_check());
        CHECK_EQ(ctx->reductions, r - 1); /* one reduction charged */
        CHECK_OK(hive_consume_reductions(100));
        CHECK_EQ(ctx->reductions, r - 101);
    }
    /* The inline form: decrement and yield at 0, many slices long. */
    for (long i = 0; i < 20L * HIVE_REDUCTIONS_PER_SLICE; i++)
        if (--ctx->reductions <= 0) CHECK_OK(hive_yield());
    for (int i = 0; i < 20 * HIVE_REDUCTIONS_PER_SLICE; i++) CHECK_OK(hive_reduction_check());
    for (int i = 0; i < 100; i++) CHECK_OK(hive_consume_reductions(HIVE_REDUCTIONS_PER_SLICE));
    CHECK_EQ(hive_self(), self);
    CHECK(hive_current_ctx() == ctx);
}

/* ---- hive_self ------------------------------------------------------------------ */
static void self_child(void *arg) {
    (void)arg;
    hive_pid me = hive_self();
    CHECK_NE(me, 0);
    CHECK_EQ(hive_is_alive(me), 1);
    CHECK_OK(hive_test_send_u64(g_root, me));
}
static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}
static void check_pid_shape(hive_pid p) {
    CHECK_NE(p, 0);
    CHECK_EQ(p >> NODE_SHIFT, 0);            /* local node */
    CHECK_LT(p & INDEX_MASK, MAX_PROCS);     /* index inside the pid table */
}
static hive_pid g_self_pids[2][100];
static void root_self(void *arg) {
    (void)arg;
    g_root = hive_self();
    for (int i = 0; i < 100; i++) {
        CHECK_OK(hive_spawn(self_child, NULL, 0, NULL, &g_self_pids[0][i]));
        check_pid_shape(g_self_pids[0][i]);
        CHECK_NE(g_self_pids[0][i], g_root);
    }
    for (int i = 0; i < 100; i++) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(10000, &m));
        hive_pid p = hive_test_word(m, 0);
        CHECK_EQ(hive_msg_sender(m), p); /* sender == the child's own hive_self() */
        hive_msg_free(m);
        g_self_pids[1][i] = p;
    }
    qsort(g_self_pids[0], 100, sizeof(hive_pid), cmp_u64);
    qsort(g_self_pids[1], 100, sizeof(hive_pid), cmp_u64);
    for (int i = 0; i < 100; i++) {
        CHECK_EQ(g_self_pids[0][i], g_self_pids[1][i]); /* same set as spawn returned */
        if (i) CHECK_NE(g_self_pids[0][i], g_self_pids[0][i - 1]);
    }
}

/* ---- pids are never reused -------------------------------------------------------- */
#define N_SEQ 100000
static hive_pid *g_seq_pids;
static void short_child(void *arg) {
    (void)arg;
    CHECK_OK(hive_test_send_u64(g_root, hive_self()));
}
static void root_no_reuse(void *arg) {
    (void)arg;
    g_root = hive_self();
    for (int i = 0; i < N_SEQ; i++) {
        hive_pid p = 0;
        CHECK_OK(hive_spawn(short_child, NULL, 0, NULL, &p));
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(10000, &m));
        CHECK_EQ(hive_test_word(m, 0), p);
        hive_msg_free(m);
        g_seq_pids[i] = p;
    }
    qsort(g_seq_pids, N_SEQ, sizeof(hive_pid), cmp_u64);
    size_t dup = 0;
    for (int i = 0; i < N_SEQ; i++) {
        check_pid_shape(g_seq_pids[i]);
        if (i && g_seq_pids[i] == g_seq_pids[i - 1]) dup++;
    }
    CHECK_EQ(dup, 0);
    CHECK_NE(g_seq_pids[0], g_root);
}

/* ---- hive_mailbox_len ----------------------------------------------------------- */
static void burst_child(void *arg) {
    (void)arg;
    for (uint64_t i = 0; i < 50; i++) CHECK_OK(hive_test_send_u64(g_root, 1000 + i));
    CHECK_OK(hive_test_send_u64(g_root, 9999));
}
static int32_t match_9999(void *env, const hive_msg *m) { (void)env; return hive_test_word(m, 0) == 9999; }
static void root_mailbox_len(void *arg) {
    (void)arg;
    g_root = hive_self();
    size_t len = 99;
    CHECK_OK(hive_mailbox_len(&len));
    CHECK_EQ(len, 0);
    for (uint64_t i = 0; i < 10; i++) {
        CHECK_OK(hive_test_send_u64(g_root, i));
        CHECK_OK(hive_mailbox_len(&len));
        CHECK_EQ(len, i + 1);
    }
    CHECK_OK(hive_spawn(burst_child, NULL, 0, NULL, NULL));
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_9999, NULL, 10000, &m)); /* last of the burst */
    hive_msg_free(m);
    CHECK_OK(hive_mailbox_len(&len));
    CHECK_EQ(len, 60);
    for (uint64_t i = 0; i < 60; i++) {
        CHECK_EQ(hive_test_recv_u64(0), i < 10 ? i : 1000 + (i - 10));
        CHECK_OK(hive_mailbox_len(&len));
        CHECK_EQ(len, 59 - i);
    }
}

/* ---- hive_exit from deep recursion ------------------------------------------------- */
static __attribute__((noinline)) int recurse_then_exit(int depth, volatile int *trail) {
    trail[depth % 16] = depth;
    if (depth == 1000) {
        char reason[32];
        int n = snprintf(reason, sizeof reason, "deep:%d", depth);
        hive_status st = hive_exit(HIVE_REASON_ERROR, reason, (size_t)n);
        fprintf(stderr, "hive_exit returned %d\n", st);
        return -1000000;
    }
    return recurse_then_exit(depth + 1, trail) + 1; /* not a tail call */
}
static void deep_exit_entry(void *arg) {
    (void)arg;
    volatile int trail[16];
    int r = recurse_then_exit(1, trail);
    CHECK_EQ(r, -1); /* never reached: hive_exit does not return */
}

/* ---- process count and is_alive ------------------------------------------------- */
static void nop_entry(void *arg) { (void)arg; }
/* Lives in the full pid table: counts what it is sent (1 = stale, 2 = flush, 3 = exit). */
static uint64_t g_misdelivered, g_flushed; /* atomic */
static void table_child(void *arg) {
    (void)arg;
    for (;;) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(-1, &m));
        uint64_t w = hive_test_word(m, 0);
        hive_msg_free(m);
        if (w == 1) __atomic_fetch_add(&g_misdelivered, 1, __ATOMIC_SEQ_CST);
        else if (w == 2) __atomic_fetch_add(&g_flushed, 1, __ATOMIC_SEQ_CST);
        else { CHECK_EQ(w, 3); return; }
    }
}

/* ---- timers of exited processes do not touch the pids' next owners ---------------- */
#define TIMER_PROCS 4000
static void timer_phase1(void *arg) {
    (void)arg;
    hive_msg *m = NULL;
    hive_status s = hive_receive(40, &m); /* usually woken by root's message, timer pending */
    if (s == HIVE_OK) hive_msg_free(m);
    else CHECK_EQ(s, HIVE_TIMEOUT);
}
static void timer_phase2(void *arg) {
    (void)arg;
    hive_msg *m = NULL;
    uint64_t t0 = hive_test_now_ns();
    CHECK_EQ(hive_receive(300, &m), HIVE_TIMEOUT);
    uint64_t e = hive_test_now_ns() - t0;
    CHECK_OK(hive_test_send_u64(g_root, e));
}
static hive_pid g_timer_pids[TIMER_PROCS];
static uint64_t g_timer_min_ms;
static void root_timers(void *arg) {
    (void)arg;
    g_root = hive_self();
    for (int i = 0; i < TIMER_PROCS; i++) CHECK_OK(hive_spawn(timer_phase1, NULL, 0, NULL, &g_timer_pids[i]));
    for (int i = 0; i < TIMER_PROCS; i++) CHECK_OK(hive_send(g_timer_pids[i], "wake", 4));
    uint64_t n = 0, t0 = hive_test_now_ns();
    for (;;) { /* until every phase-1 process is gone (they only have to return) */
        CHECK_OK(hive_process_count(&n));
        if (n == 1) break;
        CHECK_LT(hive_test_now_ns() - t0, 10ull * 1000000000);
        CHECK_OK(hive_yield());
    }
    for (int i = 0; i < TIMER_PROCS; i++) CHECK_OK(hive_spawn(timer_phase2, NULL, 0, NULL, NULL));
    uint64_t min = UINT64_MAX;
    for (int i = 0; i < TIMER_PROCS; i++) {
        uint64_t e = hive_test_recv_u64(10000);
        CHECK_GE(e, 300ull * 1000000); /* no early wake-up by a stale timer */
        if (e < min) min = e;
    }
    g_timer_min_ms = min / 1000000;
}

/* ---- concurrent spawns from plain threads: all pids distinct ---------------------- */
#define CS_THREADS 4
#define CS_PER 5000
static hive_pid g_cs_spawned[CS_THREADS][CS_PER];
static hive_pid g_cs_reported[CS_THREADS * CS_PER];
static uint64_t g_cs_limit_retries; /* atomic */
static void *spawner_thread(void *arg) {
    hive_pid *out = arg;
    for (int i = 0; i < CS_PER; i++) {
        hive_status s;
        while ((s = hive_spawn(short_child, NULL, 0, NULL, &out[i])) == HIVE_ERR_SYSTEM_LIMIT) {
            __atomic_fetch_add(&g_cs_limit_retries, 1, __ATOMIC_RELAXED); /* table full: retry */
            sched_yield();
        }
        CHECK_OK(s);
    }
    return NULL;
}
static pthread_t g_cs_threads[CS_THREADS];
static void root_concurrent_spawn(void *arg) {
    (void)arg;
    g_root = hive_self();
    for (int t = 0; t < CS_THREADS; t++)
        CHECK_EQ(pthread_create(&g_cs_threads[t], NULL, spawner_thread, g_cs_spawned[t]), 0);
    for (int i = 0; i < CS_THREADS * CS_PER; i++) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(10000, &m));
        g_cs_reported[i] = hive_test_word(m, 0);
        CHECK_EQ(hive_msg_sender(m), g_cs_reported[i]);
        hive_msg_free(m);
    }
}

static void blocked_child(void *arg) {
    (void)arg;
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(-1, &m));
    hive_msg_free(m);
}

int main(void) {
    hive_config c;
    CHECK_OK(hive_config_default(&c));
    c.max_processes = 3000; /* rounded up to MAX_PROCS (4096) */
    CHECK_OK(hive_init(&c));
    hive_exit_info info;
    uint64_t n = 99;
    CHECK_OK(hive_process_count(&n));
    CHECK_EQ(n, 0);

    /* Spawn-argument copying, from a process ... */
    CHECK_OK(hive_run(root_args, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    /* ... and from the main thread (children report to a collector process). The collector
     * is spawned first and receives all reports; spawns here are sequential so g_arg_size
     * is per child: each child is waited for through hive_wait/hive_is_alive. */
    {
        hive_pid coll;
        CHECK_OK(hive_spawn(root_collect_args, NULL, 0, NULL, &coll));
        g_root = coll;
        for (size_t k = 0; k < N_ARG_SIZES; k++) {
            hive_pid p = 0;
            size_t sz = ARG_SIZES[k];
            for (size_t i = 0; i < sz; i++) g_argbuf[i] = pattern_byte(i, sz);
            g_arg_size = sz;
            CHECK_OK(hive_spawn(arg_child, sz ? g_argbuf : NULL, sz, NULL, &p));
            memset(g_argbuf, 0xEE, sz ? sz : 1);
            CHECK_OK(hive_wait(p, 10000, &info)); /* noproc: it already exited */
            CHECK(info.kind == HIVE_REASON_NORMAL || info.kind == HIVE_REASON_NOPROC);
            CHECK_EQ(hive_is_alive(p), 0);
        }
        CHECK_OK(hive_wait(coll, 10000, &info));
        CHECK(info.kind == HIVE_REASON_NORMAL || info.kind == HIVE_REASON_NOPROC);
    }

    /* Stack sizes. */
    CHECK_OK(hive_run(root_stacks, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    hive_spawn_opts big = {.priority = HIVE_PRIORITY_NORMAL, .flags = 0, .stack_size = 1 << 20};
    int depth = 64; /* 512 KiB of locals in the root itself */
    memset(&info, 0xAB, sizeof info);
    CHECK_OK(hive_run(stack_child, &depth, sizeof depth, &big, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);

    /* hive_yield and reductions. */
    CHECK_OK(hive_run(root_yield, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);

    /* hive_self. */
    CHECK_OK(hive_run(root_self, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);

    /* Pids are never reused. */
    g_seq_pids = malloc(N_SEQ * sizeof(hive_pid));
    CHECK(g_seq_pids != NULL);
    uint64_t t0 = hive_test_now_ns();
    CHECK_OK(hive_run(root_no_reuse, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    uint64_t reuse_ms = (hive_test_now_ns() - t0) / 1000000;

    /* hive_mailbox_len. */
    CHECK_OK(hive_run(root_mailbox_len, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);

    /* hive_exit from depth 1000. */
    memset(&info, 0xAB, sizeof info);
    CHECK_OK(hive_run(deep_exit_entry, NULL, 0, &big, &info));
    CHECK_EQ(info.kind, HIVE_REASON_ERROR);
    CHECK_EQ(info.len, 9);
    CHECK(memcmp(info.data, "deep:1000", 9) == 0);

    /* hive_process_count and hive_is_alive. Children that only reported by message (the
     * last of them may still be returning) are waited out first: poll until none is left. */
    hive_pid blocked[10];
    t0 = hive_test_now_ns();
    for (;;) {
        CHECK_OK(hive_process_count(&n));
        if (n == 0) break;
        CHECK_LT(hive_test_now_ns() - t0, 10ull * 1000000000); /* failure bound */
        sched_yield();
    }
    for (int i = 0; i < 10; i++) {
        CHECK_OK(hive_spawn(blocked_child, NULL, 0, NULL, &blocked[i]));
        CHECK_EQ(hive_is_alive(blocked[i]), 1);
        CHECK_OK(hive_process_count(&n));
        CHECK_EQ(n, (uint64_t)i + 1);
    }
    for (int i = 0; i < 10; i++) {
        CHECK_OK(hive_send(blocked[i], "go", 2));
        CHECK_OK(hive_wait(blocked[i], 10000, &info));
        CHECK(info.kind == HIVE_REASON_NORMAL || info.kind == HIVE_REASON_NOPROC);
        CHECK_EQ(hive_is_alive(blocked[i]), 0);
        CHECK_OK(hive_process_count(&n));
        CHECK_EQ(n, 9 - (uint64_t)i);
    }

    /* Timers of exited processes must not wake the next owners of their pid slots. */
    CHECK_OK(hive_run(root_timers, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);

    /* Concurrent spawns from 4 plain threads: every pid distinct, same set as reported. */
    CHECK_OK(hive_run(root_concurrent_spawn, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    for (int t = 0; t < CS_THREADS; t++) CHECK_EQ(pthread_join(g_cs_threads[t], NULL), 0);
    qsort(g_cs_spawned, CS_THREADS * CS_PER, sizeof(hive_pid), cmp_u64);
    qsort(g_cs_reported, CS_THREADS * CS_PER, sizeof(hive_pid), cmp_u64);
    for (int i = 0; i < CS_THREADS * CS_PER; i++) {
        hive_pid p = ((hive_pid *)g_cs_spawned)[i];
        check_pid_shape(p);
        CHECK_EQ(p, g_cs_reported[i]);
        if (i) CHECK_NE(p, ((hive_pid *)g_cs_spawned)[i - 1]);
    }
    t0 = hive_test_now_ns();
    for (;;) {
        CHECK_OK(hive_process_count(&n));
        if (n == 0) break;
        CHECK_LT(hive_test_now_ns() - t0, 10ull * 1000000000); /* failure bound */
        sched_yield();
    }

    /* The pid table holds MAX_PROCS live processes (3000 rounded up to a power of two);
     * one more spawn fails with HIVE_ERR_SYSTEM_LIMIT, until one exits. */
    hive_pid *table = malloc((MAX_PROCS + 1) * sizeof(hive_pid));
    CHECK(table != NULL);
    size_t alive = 0;
    hive_status s;
    for (;;) {
        hive_pid p = 0;
        s = hive_spawn(table_child, NULL, 0, NULL, &p);
        if (s != HIVE_OK) break;
        CHECK_LE(alive, MAX_PROCS);
        table[alive++] = p;
    }
    CHECK_EQ(s, HIVE_ERR_SYSTEM_LIMIT);
    CHECK_EQ(alive, MAX_PROCS);
    CHECK_OK(hive_process_count(&n));
    CHECK_EQ(n, MAX_PROCS);
    CHECK_EQ(hive_run(nop_entry, NULL, 0, NULL, &info), HIVE_ERR_SYSTEM_LIMIT);
    /* Every slot now has a new owner: the old pids (same index, older serial) are dead, and
     * messages sent to them reach nobody. Flushing (same sender, so ordered after the
     * stale messages) shows every owner has seen everything it was sent. */
    for (int i = 0; i < N_SEQ; i++) {
        CHECK_EQ(hive_is_alive(g_seq_pids[i]), 0);
        CHECK_OK(hive_test_send_u64(g_seq_pids[i], 1));
    }
    for (int i = 0; i < TIMER_PROCS; i++) {
        CHECK_EQ(hive_is_alive(g_timer_pids[i]), 0);
        CHECK_OK(hive_test_send_u64(g_timer_pids[i], 1));
    }
    for (size_t i = 0; i < alive; i++) CHECK_OK(hive_test_send_u64(table[i], 2));
    t0 = hive_test_now_ns();
    while (__atomic_load_n(&g_flushed, __ATOMIC_SEQ_CST) < alive) {
        CHECK_LT(hive_test_now_ns() - t0, 10ull * 1000000000); /* failure bound */
        sched_yield();
    }
    CHECK_EQ(__atomic_load_n(&g_misdelivered, __ATOMIC_SEQ_CST), 0);
    CHECK_OK(hive_test_send_u64(table[0], 3));
    CHECK_OK(hive_wait(table[0], 10000, NULL));
    CHECK_OK(hive_spawn(blocked_child, NULL, 0, NULL, &table[0])); /* a slot is free again */
    for (size_t i = 0; i < alive; i++) CHECK_EQ(hive_is_alive(table[i]), 1);
    uint64_t stopped = 99;
    CHECK_OK(hive_shutdown(&stopped));
    CHECK_EQ(stopped, MAX_PROCS);
    free(table);
    free(g_seq_pids);
    printf("abi_processes: %llu checks ok (100000 sequential spawns in %llu ms; shortest 300 ms "
           "timeout %llu ms; %llu SYSTEM_LIMIT retries in concurrent spawns)\n", CHECKS_DONE(),
           (unsigned long long)reuse_ms, (unsigned long long)g_timer_min_ms,
           (unsigned long long)g_cs_limit_retries);
    return 0;
}
