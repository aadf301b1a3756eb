/*
 * ping_pong P K: P pairs each do K round trips concurrently (2*P*K messages). The
 * pinger sends {ping, self} and waits for pong. The clock runs from the go broadcast
 * until all P done messages have arrived at main.
 *
 * "main" is the root process (hive_run). Set-up, untimed: main spawns the pairs; every
 * ponger and pinger sends main a ready message before it blocks, so the clock starts
 * with all 2P processes parked (Erlang waits for quiet instead).
 *
 * Checks: each pong answers the pinger's own ping (sequence number echoed, sender is
 * its ponger); done messages sum to P*K round trips; each ponger answered exactly K
 * pings; nothing is left in main's mailbox; the process count is back at 0.
 *
 * Keys: pairs k seconds msgs_per_s cpu_s.
 */
#include "common/bench.h"

enum { T_READY = 1, T_GO, T_PING, T_PONG, T_DONE, T_STOP, T_COUNT };

struct pinger_arg {
    hive_pid main, ponger;
    int64_t k;
};

static void ponger(void *arg) {
    hive_pid main;
    memcpy(&main, arg, sizeof main);
    send_bmsg(main, T_READY, 0, hive_self(), 0);
    int64_t answered = 0;
    for (;;) {
        bmsg b = recv_bmsg(NULL);
        if (b.tag == T_PING) {
            send_bmsg(b.pid, T_PONG, 0, 0, b.val); /* From ! pong (echoing the number) */
            answered++;
        } else if (b.tag == T_STOP) {
            send_bmsg(main, T_COUNT, 0, hive_self(), answered);
            return;
        } else {
            FAIL("ponger: unexpected tag %u", b.tag);
        }
    }
}

static void pinger(void *arg) {
    struct pinger_arg a;
    memcpy(&a, arg, sizeof a);
    hive_pid self = hive_self();
    send_bmsg(a.main, T_READY, 0, self, 0);
    recv_tag(T_GO);
    int64_t trips = 0;
    for (int64_t i = 0; i < a.k; i++) {
        send_bmsg(a.ponger, T_PING, 0, self, i);
        hive_pid from;
        bmsg b = recv_bmsg(&from);
        if (b.tag != T_PONG || b.val != i || from != a.ponger)
            FAIL("pinger: expected pong %lld from %" PRIx64 ", got tag %u val %lld from "
                 "%" PRIx64, (long long)i, a.ponger, b.tag, (long long)b.val, from);
        trips++;
    }
    send_bmsg(a.main, T_DONE, 0, self, trips);
}

struct params {
    int64_t p, k;
};

static struct {
    double seconds, cpu_s;
} g_res;

static void root(void *arg) {
    struct params p;
    memcpy(&p, arg, sizeof p);
    hive_pid self = hive_self();
    hive_pid *pingers = malloc((size_t)p.p * sizeof *pingers);
    hive_pid *pongers = malloc((size_t)p.p * sizeof *pongers);
    CHECK(pingers && pongers, "out of memory");
    for (int64_t i = 0; i < p.p; i++) {
        CHECK_OK(hive_spawn(ponger, &self, sizeof self, NULL, &pongers[i]));
        struct pinger_arg pa = {self, pongers[i], p.k};
        CHECK_OK(hive_spawn(pinger, &pa, sizeof pa, NULL, &pingers[i]));
        hive_reduction_check();
    }
    for (int64_t i = 0; i < 2 * p.p; i++) recv_tag(T_READY);

    uint64_t c0 = cpu_ticks();
    uint64_t t0 = now_ns();
    for (int64_t i = 0; i < p.p; i++) {
        send_bmsg(pingers[i], T_GO, 0, 0, 0);
        hive_reduction_check();
    }
    int64_t trips = 0;
    for (int64_t i = 0; i < p.p; i++) trips += recv_tag(T_DONE).val;
    uint64_t t1 = now_ns();
    uint64_t c1 = cpu_ticks();
    CHECK_EQ(trips, p.p * p.k);

    for (int64_t i = 0; i < p.p; i++) send_bmsg(pongers[i], T_STOP, 0, 0, 0);
    int64_t answered = 0;
    for (int64_t i = 0; i < p.p; i++) {
        bmsg b = recv_tag(T_COUNT);
        CHECK_EQ(b.val, p.k);
        answered += b.val;
    }
    CHECK_EQ(answered, p.p * p.k);
    check_mailbox_empty();
    free(pingers);
    free(pongers);
    g_res.seconds = seconds_between(t0, t1);
    g_res.cpu_s = cpu_s_between(c0, c1);
}

int main(int argc, char **argv) {
    long long a[2];
    uint32_t s = bench_args(argc, argv, 2, "P K", a);
    struct params p = {a[0], a[1]};
    CHECK(p.p >= 1, "P must be positive");
    bench_init(s);
    bench_run_root(root, &p, sizeof p);

    result_begin("ping_pong", s);
    result_int("pairs", p.p);
    result_int("k", p.k);
    result_float("seconds", g_res.seconds);
    result_rate("msgs_per_s", 2.0 * (double)p.p * (double)p.k, g_res.seconds);
    result_float("cpu_s", g_res.cpu_s);
    result_end();
    return 0;
}
