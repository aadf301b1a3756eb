/*
 * dist_fan_in S K: S senders on node A each send K messages to one receiver (a sink) on
 * node B (two OS processes, loopback; see common/dist.h); S*K messages in all, no flow
 * control (as fan_in). Set-up, untimed: main sends {bench, B} a hello; B's server spawns
 * the sink, which replies ready (main learns its pid); main spawns the senders, each of
 * which says it is ready. The clock runs from the go broadcast until the sink's done
 * message (after the S*K-th message) arrives at main. A message is 24 raw bytes (a bmsg:
 * sender index, sequence number), crossing as an ETF binary.
 *
 * msgs_per_s = S*K / seconds; cpu_s is both nodes' CPU over the timed part.
 *
 * Checks: the sink sees every sender's K messages in order, nothing else (else node B
 * fails); its done message counts S*K; every sender reports K sent; main's mailbox is
 * empty; node B exits 0.
 *
 * Keys: senders k seconds msgs_per_s cpu_s (+ cpu_a_s cpu_b_s).
 */
#include "common/dist.h"

struct sender_arg {
    hive_pid main, sink;
    uint32_t index;
    int64_t k;
};

static void sender(void *arg) {
    struct sender_arg a;
    memcpy(&a, arg, sizeof a);
    send_bmsg(a.main, L_READY, 0, hive_self(), 0);
    recv_tag(L_GO);
    bmsg m = {D_DATA, a.index, sizeof(bmsg), 0};
    for (int64_t i = 0; i < a.k; i++) {
        m.val = i;
        CHECK_OK(hive_send(a.sink, &m, sizeof m));
    }
    send_bmsg(a.main, L_DONE, 0, hive_self(), a.k);
}

struct params {
    int64_t s, k;
};

static dist_timing g_res;

static void root(void *arg) {
    struct params p;
    memcpy(&p, arg, sizeof p);
    hive_pid self = hive_self(), sink = 0;
    dist_send_server(D_HELLO_SINK, 0, (uint64_t)p.s, p.k);
    dist_recv_tag(D_READY, &sink, "main hello");
    hive_pid *senders = malloc((size_t)p.s * sizeof *senders);
    CHECK(senders, "out of memory");
    for (int64_t i = 0; i < p.s; i++) {
        struct sender_arg sa = {self, sink, (uint32_t)i, p.k};
        CHECK_OK(hive_spawn(sender, &sa, sizeof sa, NULL, &senders[i]));
    }
    for (int64_t i = 0; i < p.s; i++) recv_tag(L_READY);

    g_res = dist_timing_start();
    for (int64_t i = 0; i < p.s; i++) send_bmsg(senders[i], L_GO, 0, 0, 0);
    int64_t sent = 0, dones = 0;
    bmsg d = {0, 0, 0, 0};
    int done = 0;
    while (!done || dones < p.s) {
        bmsg b = dist_recv(NULL, "main");
        if (b.tag == D_DONE) {
            CHECK(!done, "two done messages from the sink");
            dist_timing_stop(&g_res);
            done = 1;
            d = b;
        } else if (b.tag == L_DONE) {
            sent += b.val;
            dones++;
        } else {
            FAIL("main: unexpected tag %u", b.tag);
        }
    }
    CHECK_EQ(sent, p.s * p.k);
    CHECK_EQ(d.val, p.s * p.k);
    check_mailbox_empty();
    dist_stop_b();
    free(senders);
}

int main(int argc, char **argv) {
    long long a[2];
    uint32_t s = bench_args(argc, argv, 2, "S K", a);
    struct params p = {a[0], a[1]};
    CHECK(p.s >= 1 && p.k >= 1, "S and K must be positive");
    dist_fork(s);
    dist_run_root(root, &p, sizeof p);

    result_begin("dist_fan_in", s);
    result_int("senders", p.s);
    result_int("k", p.k);
    result_float("seconds", g_res.seconds);
    result_rate("msgs_per_s", (double)p.s * (double)p.k, g_res.seconds);
    dist_result_cpu(&g_res);
    result_end();
    return 0;
}
