/*
 * dist_ping_pong P K: P pairs across two Hive nodes (two OS processes, loopback; see
 * common/dist.h), each doing K round trips concurrently. The pinger is on node A, its
 * ponger (an echo process) on node B. Set-up, untimed: each pinger sends {bench, B} a
 * hello; B's server spawns an echo process, which replies ready (the pinger learns its
 * pid); every pinger tells main it is ready. The clock runs from the go broadcast until
 * all P done messages have arrived at main. A ping is 24 bytes (a bmsg carrying the
 * sequence number), sent as raw bytes: it crosses as an ETF binary, and the echo sends
 * the received message back unchanged.
 *
 * Every round trip is timed (send to reply) by its pinger: rt_p50_us and rt_p99_us are
 * over all P*K of them. msgs_per_s counts both directions: 2*P*K / seconds. cpu_s is
 * both nodes' CPU over the timed part (cpu_a_s + cpu_b_s).
 *
 * Checks: each reply is the pinger's own ping (sequence number, sender is its echo); B's
 * echo sees the pings in order and answered exactly K (D_COUNT); P*K round trips in all;
 * main's mailbox is empty; node B exits 0.
 *
 * Keys: pairs k seconds msgs_per_s rt_p50_us rt_p99_us cpu_s (+ rt_max_us cpu_a_s cpu_b_s).
 */
#include "common/dist.h"

struct pinger_arg {
    hive_pid main;
    int64_t k;
    uint64_t *samples; /* K round-trip times, ns */
};

static void pinger(void *arg) {
    struct pinger_arg a;
    memcpy(&a, arg, sizeof a);
    hive_pid self = hive_self(), echo = 0;
    dist_send_server(D_HELLO_ECHO, 0, 0, a.k);
    dist_recv_tag(D_READY, &echo, "pinger hello");
    send_bmsg(a.main, L_READY, 0, self, 0);
    recv_tag(L_GO);
    bmsg ping = {D_PING, 0, 0, 0};
    for (int64_t i = 0; i < a.k; i++) {
        ping.val = i;
        uint64_t t0 = now_ns();
        CHECK_OK(hive_send(echo, &ping, sizeof ping));
        hive_pid from;
        bmsg b = dist_recv(&from, "pinger");
        a.samples[i] = now_ns() - t0;
        if (b.tag != D_PING || b.val != i || from != echo)
            FAIL("pinger: expected ping %lld back from %" PRIx64 ", got tag %u val %lld from "
                 "%" PRIx64, (long long)i, echo, b.tag, (long long)b.val, from);
    }
    send_bmsg(a.main, L_DONE, 0, self, a.k);
    dist_send(echo, D_STOP, 0, 0, 0);
    bmsg c = dist_recv_tag(D_COUNT, NULL, "pinger count");
    send_bmsg(a.main, L_COUNT, 0, self, c.val);
}

struct params {
    int64_t p, k;
};

static struct {
    dist_timing time;
    uint64_t p50, p99, max;
} g_res;

static void root(void *arg) {
    struct params p;
    memcpy(&p, arg, sizeof p);
    hive_pid self = hive_self();
    size_t n = (size_t)(p.p * p.k);
    uint64_t *samples = calloc(n, sizeof *samples);
    hive_pid *pingers = malloc((size_t)p.p * sizeof *pingers);
    CHECK(samples && pingers, "out of memory");
    for (int64_t i = 0; i < p.p; i++) {
        struct pinger_arg pa = {self, p.k, samples + i * p.k};
        CHECK_OK(hive_spawn(pinger, &pa, sizeof pa, NULL, &pingers[i]));
    }
    for (int64_t i = 0; i < p.p; i++) recv_tag(L_READY);

    g_res.time = dist_timing_start();
    for (int64_t i = 0; i < p.p; i++) send_bmsg(pingers[i], L_GO, 0, 0, 0);
    int64_t trips = 0;
    for (int64_t i = 0; i < p.p; i++) trips += recv_match_tag(L_DONE).val;
    dist_timing_stop(&g_res.time);
    CHECK_EQ(trips, p.p * p.k);
    int64_t answered = 0;
    for (int64_t i = 0; i < p.p; i++) {
        bmsg b = recv_match_tag(L_COUNT);
        CHECK_EQ(b.val, p.k);
        answered += b.val;
    }
    CHECK_EQ(answered, p.p * p.k);
    check_mailbox_empty();
    dist_stop_b();

    qsort(samples, n, sizeof *samples, dist_cmp_u64);
    g_res.p50 = dist_pct(samples, n, 50);
    g_res.p99 = dist_pct(samples, n, 99);
    g_res.max = samples[n - 1];
    free(samples);
    free(pingers);
}

int main(int argc, char **argv) {
    long long a[2];
    uint32_t s = bench_args(argc, argv, 2, "P K", a);
    struct params p = {a[0], a[1]};
    CHECK(p.p >= 1 && p.k >= 1, "P and K must be positive");
    dist_fork(s);
    dist_run_root(root, &p, sizeof p);

    result_begin("dist_ping_pong", s);
    result_int("pairs", p.p);
    result_int("k", p.k);
    result_float("seconds", g_res.time.seconds);
    result_rate("msgs_per_s", 2.0 * (double)p.p * (double)p.k, g_res.time.seconds);
    result_float("rt_p50_us", (double)g_res.p50 / 1e3);
    result_float("rt_p99_us", (double)g_res.p99 / 1e3);
    result_float("rt_max_us", (double)g_res.max / 1e3);
    dist_result_cpu(&g_res.time);
    result_end();
    return 0;
}
