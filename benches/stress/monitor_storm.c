/*
 * monitor_storm N: N processes parked in hive_receive (Erlang: `receive stop -> ok
 * end`). Main monitors them all with hive_monitor (timed separately: monitor_s), then
 * sends each one `stop` and collects the N DOWN messages; the clock runs from the first
 * `stop` to the Nth DOWN. Each process returns (reason `normal`) on its `stop`.
 * downs_per_s = N / seconds.
 *
 * "main" is the root process (hive_run). Set-up, untimed: main spawns the N processes
 * and waits until each is about to block (each bumps a per-thread counter right before
 * its hive_receive; main polls the sum with hive_yield, as the Erlang peer waits for
 * quiet).
 *
 * Checks: every spawn, monitor and send succeeded; each process got exactly one message,
 * `stop` (it fails the run on anything else); every DOWN is of kind HIVE_MSG_DOWN with
 * reason HIVE_REASON_NORMAL and no reason bytes (checked as it arrives); exactly N DOWNs
 * arrive, and their (ref, pid) pairs are exactly those hive_monitor returned, each ref
 * seen once, with its own pid (sorted and compared after the clock stops); main's mailbox
 * is then empty; the process count is back at 0 and shutdown stops nothing.
 *
 * Keys: n monitor_s seconds downs_per_s (plus monitors_per_s, send_s, cpu_s).
 */
#include "common/bench.h"

enum { T_STOP = 1 };

static void waiter(void *arg) {
    (void)arg;
    tcount_inc(); /* started; blocks right after */
    bmsg b = recv_bmsg(NULL);
    if (b.tag != T_STOP) FAIL("monitor_storm: a waiter got tag %u, expected stop", b.tag);
    /* Returning ends the process with reason normal. */
}

struct pair {
    uint64_t ref;
    hive_pid pid;
};

static int cmp_pair(const void *a, const void *b) {
    const struct pair *x = a, *y = b;
    if (x->ref != y->ref) return (x->ref > y->ref) - (x->ref < y->ref);
    return (x->pid > y->pid) - (x->pid < y->pid);
}

static struct {
    double monitor_s, send_s, seconds, cpu_s;
} g_res;

static void root(void *arg) {
    int64_t n;
    memcpy(&n, arg, sizeof n);
    hive_pid *pids = malloc((size_t)n * sizeof *pids);
    struct pair *mons = malloc((size_t)n * sizeof *mons);
    struct pair *downs = malloc((size_t)n * sizeof *downs);
    CHECK(pids != NULL && mons != NULL && downs != NULL, "out of memory");

    for (int64_t i = 0; i < n; i++) {
        CHECK_OK(hive_spawn(waiter, NULL, 0, NULL, &pids[i]));
        hive_reduction_check();
    }
    while (tcount_sum() < (uint64_t)n) hive_yield();
    CHECK_EQ(tcount_sum(), n);
    CHECK_EQ(process_count(), (uint64_t)n + 1);

    /* Monitors (timed on their own). */
    uint64_t m0 = now_ns();
    for (int64_t i = 0; i < n; i++) {
        CHECK_OK(hive_monitor(pids[i], &mons[i].ref));
        hive_reduction_check();
    }
    uint64_t m1 = now_ns();
    for (int64_t i = 0; i < n; i++) mons[i].pid = pids[i];

    /* The storm: N stops, then N DOWNs. */
    uint64_t c0 = cpu_ticks();
    uint64_t t0 = now_ns();
    for (int64_t i = 0; i < n; i++) {
        send_bmsg(pids[i], T_STOP, 0, 0, 0);
        hive_reduction_check();
    }
    uint64_t t1 = now_ns();
    for (int64_t i = 0; i < n; i++) {
        hive_msg *m;
        CHECK_OK(hive_receive(-1, &m));
        if (hive_msg_kind(m) != HIVE_MSG_DOWN || hive_msg_reason_kind(m) != HIVE_REASON_NORMAL ||
            hive_msg_len(m) != 0)
            FAIL("monitor_storm: message %lld of %lld: kind %d, reason kind %d, %zu bytes, from "
                 "%" PRIx64 "; expected a DOWN with reason normal",
                 (long long)i + 1, (long long)n, (int)hive_msg_kind(m),
                 (int)hive_msg_reason_kind(m), hive_msg_len(m), hive_msg_sender(m));
        downs[i].ref = hive_msg_monitor_ref(m);
        downs[i].pid = hive_msg_sender(m);
        hive_msg_free(m);
    }
    uint64_t t2 = now_ns();
    uint64_t c1 = cpu_ticks();

    /* Untimed: each monitor fired exactly once, for its own process. */
    qsort(mons, (size_t)n, sizeof *mons, cmp_pair);
    qsort(downs, (size_t)n, sizeof *downs, cmp_pair);
    for (int64_t i = 0; i < n; i++) {
        CHECK(i == 0 || mons[i].ref != mons[i - 1].ref,
              "hive_monitor returned ref %" PRIu64 " twice", mons[i].ref);
        CHECK(downs[i].ref != 0, "a DOWN with monitor ref 0");
        CHECK(mons[i].ref == downs[i].ref && mons[i].pid == downs[i].pid,
              "DOWN (ref %" PRIu64 ", pid %" PRIx64 ") does not match monitor (ref %" PRIu64
              ", pid %" PRIx64 "): a ref missing, repeated or with the wrong pid",
              downs[i].ref, downs[i].pid, mons[i].ref, mons[i].pid);
    }
    check_mailbox_empty();
    free(pids);
    free(mons);
    free(downs);
    g_res.monitor_s = seconds_between(m0, m1);
    g_res.send_s = seconds_between(t0, t1);
    g_res.seconds = seconds_between(t0, t2);
    g_res.cpu_s = cpu_s_between(c0, c1);
}

int main(int argc, char **argv) {
    long long a[1];
    uint32_t s = bench_args(argc, argv, 1, "N", a);
    int64_t n = a[0];
    CHECK(n >= 1, "N must be positive");
    bench_init(s);
    bench_run_root(root, &n, sizeof n); /* then: process count back at 0, shutdown stops 0 */

    result_begin("monitor_storm", s);
    result_int("n", n);
    result_float("monitor_s", g_res.monitor_s);
    result_float("seconds", g_res.seconds);
    result_rate("downs_per_s", (double)n, g_res.seconds);
    result_rate("monitors_per_s", (double)n, g_res.monitor_s);
    result_float("send_s", g_res.send_s);
    result_float("cpu_s", g_res.cpu_s);
    result_end();
    return 0;
}
