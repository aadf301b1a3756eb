/*
 * fairness K: 2*S processes compute forever (S = schedulers) and never receive; meanwhile
 * one ping-pong pair does K round trips, each timed. Issue 5's fairness and latency
 * workload: a process that only sends and receives must not wait long behind processes
 * that only compute, which are preempted by reduction counting alone.
 *
 * "main" is the root process (hive_run) and is the pinger: it spawns the ponger and the
 * 2*S busy processes; each busy process sends main a ready message and then runs
 * burn_reductions() (bench.h) forever: one LCG step per reduction, about the cost of one
 * Erlang function call, with the inline reduction check of docs/abi.md at every
 * iteration. Once all are ready, main does K round trips: t0, send {ping} to the ponger,
 * receive its pong, t1; the ponger answers every ping. Latency = t1 - t0 (CLOCK_MONOTONIC),
 * one per round trip; sorted L[0..K-1]: rt_med_us = L[K/2], rt_p99_us = L[K*99/100],
 * rt_max_us = L[K-1] (as recv_timeout). seconds = the K round trips.
 *
 * Then main reads each busy process's reduction count (hive_get_process_info; each must
 * have run: busy_reds_min > 0), monitors them, kills them (hive_exit_pid, KILL) and checks
 * that each DOWN arrives with reason killed, once per monitor; the ponger is told to stop
 * and returns. bench_run_root then checks that the process count is back at 0 and that
 * shutdown stops nothing.
 *
 * Keys: round_trips busy seconds rt_med_us rt_p99_us rt_max_us, plus busy_reds_min
 * busy_reds_max (reductions spent by the least and the most served busy process).
 * Target (issue 5): rt_p99_us <= the BEAM's (hive_peer_fairness.erl) at 2 schedulers.
 */
#include "common/bench.h"

enum { T_READY = 1, T_PING, T_PONG, T_STOP };

static volatile uint64_t g_sink; /* keeps the busy computation alive */

static void busy(void *arg) {
    hive_pid main_pid;
    memcpy(&main_pid, arg, sizeof main_pid);
    hive_ctx *ctx = hive_current_ctx();
    CHECK(ctx != NULL, "no hive_ctx");
    send_bmsg(main_pid, T_READY, 0, hive_self(), 0);
    uint64_t x = (uint64_t)hive_self();
    for (;;) {
        x = burn_reductions(ctx, x, 1u << 20);
        g_sink = x;
    }
}

/* Answers pings until told to stop (pong_loop, bench.h). */
static void ponger(void *arg) {
    (void)arg;
    pong_loop(T_PING, T_PONG, T_STOP);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static struct {
    int64_t k;
    uint32_t busy;
    uint64_t *lat;
    double seconds;
    uint64_t reds_min, reds_max;
} g;

static void root(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    hive_pid pong;
    CHECK_OK(hive_spawn(ponger, NULL, 0, NULL, &pong));
    hive_pid *busy_pids = malloc(g.busy * sizeof *busy_pids);
    CHECK(busy_pids != NULL, "out of memory");
    for (uint32_t i = 0; i < g.busy; i++)
        CHECK_OK(hive_spawn(busy, &self, sizeof self, NULL, &busy_pids[i]));
    for (uint32_t i = 0; i < g.busy; i++) recv_tag(T_READY);

    uint64_t start = now_ns();
    for (int64_t i = 0; i < g.k; i++) {
        g.lat[i] = ping_round_trip(pong, T_PING, T_PONG, i);
    }
    g.seconds = seconds_between(start, now_ns());

    /* Every busy process got CPU; then kill them all and see each one go. */
    g.reds_min = UINT64_MAX;
    g.reds_max = 0;
    uint64_t *refs = malloc(g.busy * sizeof *refs);
    CHECK(refs != NULL, "out of memory");
    for (uint32_t i = 0; i < g.busy; i++) {
        hive_process_info info;
        CHECK_OK(hive_get_process_info(busy_pids[i], &info));
        if (info.reductions < g.reds_min) g.reds_min = info.reductions;
        if (info.reductions > g.reds_max) g.reds_max = info.reductions;
        CHECK_OK(hive_monitor(busy_pids[i], &refs[i]));
    }
    CHECK(g.reds_min > 0, "a busy process never ran");
    for (uint32_t i = 0; i < g.busy; i++)
        CHECK_OK(hive_exit_pid(busy_pids[i], HIVE_REASON_KILL, NULL, 0));
    for (uint32_t n = 0; n < g.busy; n++) {
        hive_msg *m;
        CHECK_OK(hive_receive(10000, &m));
        CHECK_EQ(hive_msg_kind(m), HIVE_MSG_DOWN);
        CHECK_EQ(hive_msg_reason_kind(m), HIVE_REASON_KILLED);
        uint64_t ref = hive_msg_monitor_ref(m);
        hive_pid who = hive_msg_sender(m);
        hive_msg_free(m);
        uint32_t i = 0;
        while (i < g.busy && refs[i] != ref) i++;
        CHECK(i < g.busy, "a DOWN with an unknown or repeated monitor ref %" PRIu64, ref);
        CHECK_EQ(who, busy_pids[i]);
        refs[i] = 0;
    }
    send_bmsg(pong, T_STOP, 0, 0, 0);
    check_mailbox_empty();
    free(refs);
    free(busy_pids);
}

int main(int argc, char **argv) {
    long long a[1];
    uint32_t s = bench_args(argc, argv, 1, "K", a);
    g.k = a[0];
    CHECK(g.k >= 1, "K must be at least 1");
    g.busy = 2 * s;
    g.lat = malloc((size_t)g.k * sizeof *g.lat);
    CHECK(g.lat != NULL, "out of memory");
    bench_init(s);
    bench_run_root(root, NULL, 0);

    qsort(g.lat, (size_t)g.k, sizeof *g.lat, cmp_u64);
    result_begin("fairness", s);
    result_int("round_trips", g.k);
    result_int("busy", g.busy);
    result_float("seconds", g.seconds);
    result_float("rt_med_us", (double)g.lat[g.k / 2] / 1e3);
    result_float("rt_p99_us", (double)g.lat[(g.k * 99) / 100] / 1e3);
    result_float("rt_max_us", (double)g.lat[g.k - 1] / 1e3);
    result_int("busy_reds_min", (long long)g.reds_min);
    result_int("busy_reds_max", (long long)g.reds_max);
    result_end();
    free(g.lat);
    return 0;
}
