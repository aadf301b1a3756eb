/*
 * dist_throughput SIZE N: one sender on node A streams N messages of SIZE bytes to one
 * sink on node B (two OS processes, loopback; see common/dist.h). Set-up, untimed: the
 * sender (main) sends {bench, B} a hello; B's server spawns the sink, which replies
 * ready. Flow control: the sink acks every W messages (W = 2 MiB / SIZE, between 1 and
 * 1024) and the sender never has more than 2W messages unacknowledged, so neither
 * mailbox grows without bound. The clock runs from the first send until the sink's done
 * message (after the N-th message) arrives. Each message is SIZE raw bytes (a 24-byte
 * header with the sequence number, then filler) sent with hive_send (a copy, as Erlang's
 * `!`); it crosses as an ETF binary.
 *
 * msgs_per_s = N / seconds; mb_per_s = N * SIZE / 10^6 / seconds (payload bytes, MB of
 * 10^6 bytes); cpu_s is both nodes' CPU over the timed part.
 *
 * Checks: the sink sees every message, in order, with its length (else node B fails);
 * every ack arrives in order; the done message counts N messages and N * SIZE bytes;
 * node B exits 0.
 *
 * Keys: size msgs seconds msgs_per_s mb_per_s cpu_s (+ window cpu_a_s cpu_b_s).
 */
#include "common/dist.h"

struct params {
    int64_t size, n;
};

static struct {
    dist_timing time;
    int64_t window;
} g_res;

static void root(void *arg) {
    struct params p;
    memcpy(&p, arg, sizeof p);
    int64_t w = (2 << 20) / p.size;
    if (w < 1) w = 1;
    if (w > 1024) w = 1024;
    g_res.window = w;
    hive_pid sink = 0;
    dist_send_server(D_HELLO_SINK, (uint32_t)w, 1, p.n);
    dist_recv_tag(D_READY, &sink, "sender hello");
    uint8_t *buf = malloc((size_t)p.size);
    CHECK(buf, "out of memory");
    for (int64_t i = 0; i < p.size; i++) buf[i] = (uint8_t)(i * 7);
    bmsg h = {D_DATA, 0, (uint64_t)p.size, 0};

    g_res.time = dist_timing_start();
    int64_t acked = 0;
    for (int64_t i = 0; i < p.n; i++) {
        if (i - acked >= 2 * w) {
            bmsg a = dist_recv_tag(D_ACK, NULL, "sender ack");
            CHECK_EQ(a.val, acked + w);
            acked = a.val;
        }
        h.val = i;
        memcpy(buf, &h, sizeof h);
        CHECK_OK(hive_send(sink, buf, (size_t)p.size));
    }
    bmsg d;
    for (;;) {
        d = dist_recv(NULL, "sender done");
        if (d.tag == D_DONE) break;
        CHECK(d.tag == D_ACK, "sender: tag %u, expected an ack or done", d.tag);
        CHECK_EQ(d.val, acked + w);
        acked = d.val;
    }
    dist_timing_stop(&g_res.time);
    CHECK_EQ(d.val, p.n);
    CHECK_EQ(d.pid, (uint64_t)(p.n * p.size));
    CHECK_EQ(acked, (p.n / w) * w);
    check_mailbox_empty();
    dist_stop_b();
    free(buf);
}

int main(int argc, char **argv) {
    long long a[2];
    uint32_t s = bench_args(argc, argv, 2, "SIZE N", a);
    struct params p = {a[0], a[1]};
    CHECK(p.size >= (int64_t)sizeof(bmsg), "SIZE must be at least %zu", sizeof(bmsg));
    CHECK(p.n >= 1, "N must be positive");
    dist_fork(s);
    dist_run_root(root, &p, sizeof p);

    result_begin("dist_throughput", s);
    result_int("size", p.size);
    result_int("msgs", p.n);
    double seconds = g_res.time.seconds;
    result_float("seconds", seconds);
    result_rate("msgs_per_s", (double)p.n, seconds);
    result_float("mb_per_s", seconds > 0 ? (double)p.n * (double)p.size / 1e6 / seconds : 0);
    result_int("window", g_res.window);
    dist_result_cpu(&g_res.time);
    result_end();
    return 0;
}
