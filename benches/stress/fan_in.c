/*
 * fan_in S K: S senders each send K {msg, I} messages to one receiver (S*K messages).
 * The clock runs from go until the receiver has counted S*K and told main.
 *
 * "main" is the root process (hive_run). Set-up, untimed: main spawns the receiver and
 * the senders; each sends main a ready message before it blocks, so the clock starts
 * with all of them parked (Erlang waits for quiet instead).
 *
 * max_qlen: Erlang's main samples process_info(Receiver, message_queue_len) every 10 ms.
 * Here the receiver samples its own queue length (hive_mailbox_len; another process's is
 * readable too, with hive_get_process_info, as overload.c does) every 1000 messages it
 * takes (and once at the first message) and reports the maximum with its done message.
 * That samples more often than every 10 ms at these rates; both are lower bounds on the
 * true peak.
 *
 * A sender's loop has no receive, so it calls hive_reduction_check() per message, as
 * generated code would at the loop's back-edge.
 *
 * Checks: each sender's messages arrive in order (sender i sends I = 1..K and carries its
 * index, the receiver checks I against a per-sender counter), the sum is S*K*(K+1)/2,
 * every sender got K through, nothing is left in main's mailbox, and the process count
 * is back at 0.
 *
 * Keys: senders k seconds msgs_per_s max_qlen cpu_s.
 */
#include "common/bench.h"

enum { T_READY = 1, T_GO, T_MSG, T_DONE };

struct recv_arg {
    hive_pid main;
    int64_t s, k;
};

struct send_arg {
    hive_pid main, receiver;
    int64_t k;
    uint32_t index;
};

static void receiver(void *arg) {
    struct recv_arg a;
    memcpy(&a, arg, sizeof a);
    int64_t *next = malloc((size_t)a.s * sizeof *next); /* next I expected per sender */
    CHECK(next != NULL, "out of memory");
    for (int64_t i = 0; i < a.s; i++) next[i] = 1;
    send_bmsg(a.main, T_READY, 0, hive_self(), 0);
    int64_t total = a.s * a.k, sum = 0;
    size_t max_q = 0;
    for (int64_t left = total; left > 0; left--) {
        hive_msg *m;
        CHECK_OK(hive_receive(-1, &m));
        bmsg b;
        CHECK_EQ(hive_msg_len(m), sizeof b);
        memcpy(&b, hive_msg_data(m), sizeof b);
        hive_msg_free(m);
        if (b.tag != T_MSG || b.aux >= (uint64_t)a.s)
            FAIL("receiver: unexpected message tag %u from sender %u", b.tag, b.aux);
        if (b.val != next[b.aux])
            FAIL("receiver: sender %u's message %lld arrived when %lld was due", b.aux,
                 (long long)b.val, (long long)next[b.aux]);
        next[b.aux]++;
        sum += b.val;
        if (left % 1000 == 0 || left == total) {
            size_t q;
            CHECK_OK(hive_mailbox_len(&q));
            if (q > max_q) max_q = q;
        }
    }
    for (int64_t i = 0; i < a.s; i++) CHECK_EQ(next[i], a.k + 1);
    free(next);
    check_mailbox_empty();
    send_bmsg(a.main, T_DONE, 0, (hive_pid)max_q, sum);
}

static void sender(void *arg) {
    struct send_arg a;
    memcpy(&a, arg, sizeof a);
    send_bmsg(a.main, T_READY, 0, hive_self(), 0);
    recv_tag(T_GO);
    for (int64_t i = 1; i <= a.k; i++) {
        send_bmsg(a.receiver, T_MSG, a.index, 0, i);
        hive_reduction_check();
    }
}

struct params {
    int64_t s, k;
};

static struct {
    double seconds, cpu_s;
    uint64_t max_q;
} g_res;

static void root(void *arg) {
    struct params p;
    memcpy(&p, arg, sizeof p);
    CHECK(p.s <= UINT32_MAX, "too many senders");
    hive_pid self = hive_self();
    hive_pid *senders = malloc((size_t)p.s * sizeof *senders);
    CHECK(senders != NULL, "out of memory");
    struct recv_arg ra = {self, p.s, p.k};
    hive_pid recv;
    CHECK_OK(hive_spawn(receiver, &ra, sizeof ra, NULL, &recv));
    for (int64_t i = 0; i < p.s; i++) {
        struct send_arg sa = {self, recv, p.k, (uint32_t)i};
        CHECK_OK(hive_spawn(sender, &sa, sizeof sa, NULL, &senders[i]));
        hive_reduction_check();
    }
    for (int64_t i = 0; i < p.s + 1; i++) recv_tag(T_READY);

    uint64_t c0 = cpu_ticks();
    uint64_t t0 = now_ns();
    for (int64_t i = 0; i < p.s; i++) {
        send_bmsg(senders[i], T_GO, 0, 0, 0);
        hive_reduction_check();
    }
    bmsg done = recv_tag(T_DONE);
    uint64_t t1 = now_ns();
    uint64_t c1 = cpu_ticks();
    int64_t expected = p.s * (p.k * (p.k + 1) / 2);
    CHECK_EQ(done.val, expected);
    check_mailbox_empty();
    free(senders);
    g_res.seconds = seconds_between(t0, t1);
    g_res.cpu_s = cpu_s_between(c0, c1);
    g_res.max_q = done.pid;
}

int main(int argc, char **argv) {
    long long a[2];
    uint32_t s = bench_args(argc, argv, 2, "S K", a);
    struct params p = {a[0], a[1]};
    CHECK(p.s >= 1, "S must be positive");
    bench_init(s);
    bench_run_root(root, &p, sizeof p);

    result_begin("fan_in", s);
    result_int("senders", p.s);
    result_int("k", p.k);
    result_float("seconds", g_res.seconds);
    result_rate("msgs_per_s", (double)p.s * (double)p.k, g_res.seconds);
    result_int("max_qlen", (long long)g_res.max_q);
    result_float("cpu_s", g_res.cpu_s);
    result_end();
    return 0;
}
