/*
 * registry OPS WORKERS (baselines.md workload 11): first 10,000 background names are
 * registered to idle processes (blocked in receive); then WORKERS worker processes each
 * cycle over their own pool of 1000 names calling hive_register(name, self),
 * hive_whereis(name) and hive_unregister(name). Each call is one operation; OPS operations
 * in total, split over the workers (the first OPS % WORKERS workers do one more). The
 * clock runs from the go broadcast until every worker has reported done.
 *
 * "main" is the root process (hive_run). Set-up, untimed: main spawns the idle processes
 * and registers a name for each ("bg_<i>"), and spawns the workers, which build their
 * pools ("w<k>_<j>", the pre-created atoms of the Erlang peer); every idle process and
 * worker sends main a ready message before it blocks, so the clock starts with all of
 * them parked (Erlang waits for quiet instead). A worker whose share is not a multiple of
 * 3 ends inside a cycle; it then unregisters its last name after the counted calls.
 * Workers charge one reduction per call (the inline check of hive.h), as BIFs cost
 * reductions on the BEAM.
 *
 * Checks: every call returns HIVE_OK and whereis returns the worker itself; the done
 * messages sum to OPS; afterwards every background name still maps to its process and
 * every pool name is free; the idle processes are told to stop, and the process count is
 * back at 0.
 *
 * Keys: ops workers seconds ops_per_s ns_per_op (and bg_names, pool, cpu_s).
 */
#include "common/bench.h"

enum { T_READY = 1, T_GO, T_DONE, T_STOP };

#define BG_NAMES 10000
#define POOL 1000
#define NAME_MAX_BYTES 24

struct worker_arg {
    hive_pid main;
    int64_t id, ops;
};

static size_t bg_name(char *buf, int64_t i) {
    return (size_t)snprintf(buf, NAME_MAX_BYTES, "bg_%lld", (long long)i);
}
static size_t pool_name(char *buf, int64_t worker, int64_t j) {
    return (size_t)snprintf(buf, NAME_MAX_BYTES, "w%lld_%lld", (long long)worker, (long long)j);
}

static void idle(void *arg) {
    hive_pid main;
    memcpy(&main, arg, sizeof main);
    send_bmsg(main, T_READY, 0, hive_self(), 0);
    recv_tag(T_STOP);
}

static inline void charge(hive_ctx *ctx) {
    if (--ctx->reductions <= 0) hive_yield();
}

static void worker(void *arg) {
    struct worker_arg a;
    memcpy(&a, arg, sizeof a);
    hive_pid self = hive_self();
    /* The pool, built before the clock starts. */
    char(*names)[NAME_MAX_BYTES] = malloc(POOL * sizeof *names);
    size_t *lens = malloc(POOL * sizeof *lens);
    CHECK(names && lens, "out of memory");
    for (int64_t j = 0; j < POOL; j++) lens[j] = pool_name(names[j], a.id, j);
    send_bmsg(a.main, T_READY, 1, self, 0);
    recv_tag(T_GO);

    hive_ctx *ctx = hive_current_ctx();
    int64_t cycles = a.ops / 3, rest = a.ops % 3, j = 0;
    for (int64_t c = 0; c < cycles; c++) {
        hive_pid found = 0;
        CHECK_OK(hive_register(names[j], lens[j], self));
        charge(ctx);
        CHECK_OK(hive_whereis(names[j], lens[j], &found));
        CHECK_EQ(found, self);
        charge(ctx);
        CHECK_OK(hive_unregister(names[j], lens[j]));
        charge(ctx);
        if (++j == POOL) j = 0;
    }
    if (rest >= 1) { /* a last, partial cycle */
        CHECK_OK(hive_register(names[j], lens[j], self));
        if (rest >= 2) {
            hive_pid found = 0;
            CHECK_OK(hive_whereis(names[j], lens[j], &found));
            CHECK_EQ(found, self);
        }
    }
    send_bmsg(a.main, T_DONE, 0, self, a.ops);
    if (rest >= 1) CHECK_OK(hive_unregister(names[j], lens[j])); /* not counted */
    free(names);
    free(lens);
}

struct params {
    int64_t ops, workers;
};

static struct {
    double seconds, cpu_s;
} g_res;

static void root(void *arg) {
    struct params p;
    memcpy(&p, arg, sizeof p);
    hive_pid self = hive_self();
    hive_pid *bg = malloc(BG_NAMES * sizeof *bg);
    hive_pid *workers = malloc((size_t)p.workers * sizeof *workers);
    CHECK(bg && workers, "out of memory");
    char name[NAME_MAX_BYTES];
    for (int64_t i = 0; i < BG_NAMES; i++) {
        CHECK_OK(hive_spawn(idle, &self, sizeof self, NULL, &bg[i]));
        CHECK_OK(hive_register(name, bg_name(name, i), bg[i]));
        hive_reduction_check();
    }
    for (int64_t k = 0; k < p.workers; k++) {
        struct worker_arg wa = {self, k, p.ops / p.workers + (k < p.ops % p.workers ? 1 : 0)};
        CHECK_OK(hive_spawn(worker, &wa, sizeof wa, NULL, &workers[k]));
    }
    int64_t ready_bg = 0, ready_workers = 0;
    for (int64_t i = 0; i < BG_NAMES + p.workers; i++) {
        bmsg b = recv_tag(T_READY);
        if (b.aux) ready_workers++;
        else ready_bg++;
    }
    CHECK_EQ(ready_bg, BG_NAMES);
    CHECK_EQ(ready_workers, p.workers);

    uint64_t c0 = cpu_ticks();
    uint64_t t0 = now_ns();
    for (int64_t k = 0; k < p.workers; k++) send_bmsg(workers[k], T_GO, 0, 0, 0);
    int64_t ops = 0;
    for (int64_t k = 0; k < p.workers; k++) ops += recv_tag(T_DONE).val;
    uint64_t t1 = now_ns();
    uint64_t c1 = cpu_ticks();
    CHECK_EQ(ops, p.ops);

    /* The background names are intact. The pool names are free once each worker has
     * unregistered its last partial-cycle name (after its done message): poll for that. */
    for (int64_t i = 0; i < BG_NAMES; i++) {
        hive_pid found = 0;
        CHECK_OK(hive_whereis(name, bg_name(name, i), &found));
        CHECK_EQ(found, bg[i]);
    }
    for (int64_t k = 0; k < p.workers; k++)
        for (int64_t j = 0; j < POOL; j++) {
            size_t len = pool_name(name, k, j);
            uint64_t start = now_ns();
            for (;;) {
                hive_pid found = 1;
                CHECK_OK(hive_whereis(name, len, &found));
                if (found == 0) break;
                CHECK(found == workers[k], "pool name %s held by %" PRIx64, name, found);
                if (seconds_between(start, now_ns()) > 10) FAIL("pool name %s never freed", name);
                CHECK_OK(hive_yield());
            }
        }
    for (int64_t i = 0; i < BG_NAMES; i++) {
        send_bmsg(bg[i], T_STOP, 0, 0, 0);
        hive_reduction_check();
    }
    check_mailbox_empty();
    free(bg);
    free(workers);
    g_res.seconds = seconds_between(t0, t1);
    g_res.cpu_s = cpu_s_between(c0, c1);
}

int main(int argc, char **argv) {
    long long a[2];
    uint32_t s = bench_args(argc, argv, 2, "OPS WORKERS", a);
    struct params p = {a[0], a[1]};
    CHECK(p.ops >= 1, "OPS must be positive");
    CHECK(p.workers >= 1 && p.workers <= 100000, "WORKERS must be 1..100000");
    bench_init(s);
    bench_run_root(root, &p, sizeof p);

    result_begin("registry", s);
    result_int("ops", p.ops);
    result_int("workers", p.workers);
    result_float("seconds", g_res.seconds);
    result_rate("ops_per_s", (double)p.ops, g_res.seconds);
    result_float("ns_per_op", g_res.seconds * 1e9 / (double)p.ops);
    result_int("bg_names", BG_NAMES);
    result_int("pool", POOL);
    result_float("cpu_s", g_res.cpu_s);
    result_end();
    return 0;
}
