/*
 * dist_ping_bulk S K: ping under bulk traffic, on one node pair (two OS processes,
 * loopback; see common/dist.h). One pinger on node A does K round trips with its echo
 * process on node B (24-byte pings, each round trip timed), while S bulk senders on A
 * stream 64 KiB messages to one sink on B as fast as they are allowed: each keeps at most
 * 2W unacknowledged (W = 2 MiB / 64 KiB = 32; the sink acks every W messages of each
 * sender), and a sender to a node with more than the busy limit queued (512 KiB) is
 * suspended by the runtime until the queue is handed to the socket. The nodes connect
 * over 4 lanes (the runtime's default is one; HIVE_BENCH_LANES=N overrides it): each
 * process's traffic takes the lane its pid picks, so the pinger's pings do not queue
 * behind bulk frames unless it shares a lane with a bulk sender (here it does not: the
 * pids are the same every run, the pinger's on lane 0, the senders' on 1 and 2). The
 * BEAM has one connection.
 *
 * Set-up, untimed: the pinger's hello (B spawns its echo), the sink's hello (a stream
 * sink for S senders), every process ready. The clock runs from the go broadcast (the
 * bulk senders first, then the pinger) until the pinger's done message (`seconds`); then
 * the senders are told to stop, each ends its stream (D_END with its count) and collects
 * its last acks; the bulk figures run until the sink's done message (`bulk_seconds`).
 *
 * Keys: senders k seconds rt_p50_us rt_p99_us bulk_mb_per_s cpu_s (+ rt_max_us
 * bulk_msgs bulk_seconds cpu_a_s cpu_b_s tls). rt_* are nearest-rank percentiles over
 * the K round trips; bulk_mb_per_s = bulk bytes / 10^6 / bulk_seconds (payload).
 *
 * Checks: each reply is the pinger's own ping from its echo, which saw them in order and
 * answered exactly K; the sink sees every bulk message in order per sender with its
 * length, each stream's end count matches, and the done message's count and bytes are
 * the senders' sums; every ack in order; main's mailbox is empty; node B exits 0.
 */
#include "common/dist.h"

#define BULK_SIZE 65536

static _Atomic int g_stop;

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

struct sender_arg {
    hive_pid main, sink;
    uint32_t index;
    int64_t window;
};

/* A bulk sender: 64 KiB messages to the sink until g_stop, at most 2W unacknowledged;
 * then the end of its stream, its last acks, and its count to main (L_COUNT, aux = 1). */
static void bulk_sender(void *arg) {
    struct sender_arg a;
    memcpy(&a, arg, sizeof a);
    uint8_t *buf = malloc(BULK_SIZE);
    CHECK(buf, "out of memory");
    for (int i = 0; i < BULK_SIZE; i++) buf[i] = (uint8_t)(i * 7);
    send_bmsg(a.main, L_READY, 0, hive_self(), 0);
    recv_tag(L_GO);
    bmsg h = {D_DATA, a.index, BULK_SIZE, 0};
    int64_t sent = 0, acked = 0, w = a.window;
    while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
        if (sent - acked >= 2 * w) {
            bmsg k = dist_recv_tag(D_ACK, NULL, "bulk sender ack");
            CHECK_EQ(k.val, acked + w);
            acked = k.val;
            continue;
        }
        h.val = sent;
        memcpy(buf, &h, sizeof h);
        CHECK_OK(hive_send(a.sink, buf, BULK_SIZE));
        sent++;
    }
    dist_send(a.sink, D_END, a.index, 0, sent);
    while (acked < (sent / w) * w) {
        bmsg k = dist_recv_tag(D_ACK, NULL, "bulk sender last acks");
        CHECK_EQ(k.val, acked + w);
        acked = k.val;
    }
    check_mailbox_empty();
    free(buf);
    send_bmsg(a.main, L_COUNT, 1, hive_self(), sent);
}

struct params {
    int64_t s, k;
};

static struct {
    dist_timing time;
    double bulk_seconds;
    int64_t bulk_msgs;
    uint64_t bulk_bytes, p50, p99, max;
} g_res;

static void root(void *arg) {
    struct params p;
    memcpy(&p, arg, sizeof p);
    hive_pid self = hive_self(), sink = 0, ping = 0;
    int64_t w = (2 << 20) / BULK_SIZE;
    uint64_t *samples = calloc((size_t)p.k, sizeof *samples);
    hive_pid *senders = malloc((size_t)p.s * sizeof *senders);
    CHECK(samples && senders, "out of memory");
    dist_send_server(D_HELLO_SINK, (uint32_t)w, (uint64_t)p.s, 0);
    dist_recv_tag(D_READY, &sink, "sink hello");
    for (int64_t i = 0; i < p.s; i++) {
        struct sender_arg sa = {self, sink, (uint32_t)i, w};
        CHECK_OK(hive_spawn(bulk_sender, &sa, sizeof sa, NULL, &senders[i]));
    }
    struct pinger_arg pa = {self, p.k, samples};
    CHECK_OK(hive_spawn(pinger, &pa, sizeof pa, NULL, &ping));
    for (int64_t i = 0; i < p.s + 1; i++) recv_tag(L_READY);

    g_res.time = dist_timing_start();
    for (int64_t i = 0; i < p.s; i++) send_bmsg(senders[i], L_GO, 0, 0, 0);
    send_bmsg(ping, L_GO, 0, 0, 0);
    CHECK_EQ(recv_match_tag(L_DONE).val, p.k);
    dist_timing_stop(&g_res.time);
    atomic_store(&g_stop, 1);
    /* The pinger's echo count and every sender's count, then the sink's done. */
    int64_t sent = 0;
    for (int64_t i = 0; i < p.s + 1; i++) {
        bmsg b = recv_match_tag(L_COUNT);
        if (b.aux == 1)
            sent += b.val;
        else
            CHECK_EQ(b.val, p.k);
    }
    bmsg d;
    for (;;) {
        d = dist_recv(NULL, "sink done");
        if (d.tag == D_DONE) break;
        FAIL("main: tag %u, expected the sink's done", d.tag);
    }
    g_res.bulk_seconds = seconds_between(g_res.time.t0, now_ns());
    CHECK_EQ(d.val, sent);
    CHECK_EQ(d.pid, (uint64_t)sent * BULK_SIZE);
    g_res.bulk_msgs = sent;
    g_res.bulk_bytes = d.pid;
    check_mailbox_empty();
    dist_stop_b();

    qsort(samples, (size_t)p.k, sizeof *samples, dist_cmp_u64);
    g_res.p50 = dist_pct(samples, (size_t)p.k, 50);
    g_res.p99 = dist_pct(samples, (size_t)p.k, 99);
    g_res.max = samples[p.k - 1];
    free(samples);
    free(senders);
}

int main(int argc, char **argv) {
    long long a[2];
    uint32_t s = bench_args(argc, argv, 2, "S K", a);
    struct params p = {a[0], a[1]};
    CHECK(p.s >= 1 && p.k >= 1, "S and K must be positive");
    setenv("HIVE_BENCH_LANES", "4", 0); /* both nodes; the child inherits it */
    dist_fork(s);
    dist_run_root(root, &p, sizeof p);

    result_begin("dist_ping_bulk", s);
    result_int("senders", p.s);
    result_int("k", p.k);
    result_float("seconds", g_res.time.seconds);
    result_float("rt_p50_us", (double)g_res.p50 / 1e3);
    result_float("rt_p99_us", (double)g_res.p99 / 1e3);
    result_float("bulk_mb_per_s",
                 g_res.bulk_seconds > 0 ? (double)g_res.bulk_bytes / 1e6 / g_res.bulk_seconds
                                        : 0);
    result_float("rt_max_us", (double)g_res.max / 1e3);
    result_int("bulk_msgs", g_res.bulk_msgs);
    result_float("bulk_seconds", g_res.bulk_seconds);
    dist_result_cpu(&g_res.time);
    result_end();
    return 0;
}
