/*
 * dist_connect N: connection set-up between two Hive nodes (two OS processes, loopback;
 * see common/dist.h), N times. Each time, node A's main sends D_CONNECT {val=I} to {bench,
 * B} while A is not connected to B: the send starts the connection (port mapper lookup,
 * TCP connect, the distribution handshake, TLS first when HIVE_BENCH_TLS_DIR is set), and
 * B's server answers D_CONNECT {val=I}. One sample is the time from that send until the
 * reply arrives: connect + handshake + one round trip. Then A drops the connection
 * (hive_disconnect_node, untimed) and waits until B has seen it go (B's server monitors
 * node A and, on its nodedown, writes a byte on a pipe to A), so every attempt starts
 * from two nodes that know nothing of each other.
 *
 * Keys: n setup_p50_us setup_p99_us seconds cpu_s (+ setup_min_us setup_max_us
 * cpu_a_s cpu_b_s tls); seconds and cpu_s cover the whole loop (disconnects included),
 * the setup_* percentiles (nearest rank) only the N timed set-ups.
 *
 * Checks: every reply carries its own I and comes from B's server; A is connected to no
 * node after each disconnect, and B saw each one; main's mailbox is empty; node B exits 0.
 */
#include "common/dist.h"

static struct {
    dist_timing time;
    uint64_t p50, p99, min, max;
} g_res;

/* The number of nodes A is connected to. */
static size_t connected_nodes(void) {
    char buf[1024];
    size_t len = 0, count = 0;
    CHECK_OK(hive_dist_nodes(buf, sizeof buf, &len, &count));
    return count;
}

static void root(void *arg) {
    int64_t n;
    memcpy(&n, arg, sizeof n);
    uint64_t *samples = calloc((size_t)n, sizeof *samples);
    CHECK(samples, "out of memory");
    CHECK_EQ(connected_nodes(), (size_t)0);
    hive_pid server = 0;

    g_res.time = dist_timing_start();
    for (int64_t i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        dist_send_server(D_CONNECT, 0, 0, i);
        hive_pid from;
        bmsg b = dist_recv_tag(D_CONNECT, &from, "connect reply");
        samples[i] = now_ns() - t0;
        CHECK_EQ(b.val, i);
        if (i == 0) server = from;
        CHECK(from == server, "reply %lld from %" PRIx64 ", expected B's server %" PRIx64,
              (long long)i, from, server);
        CHECK_OK(hive_disconnect_node(dist_g.node_b));
        CHECK_EQ(connected_nodes(), (size_t)0);
        /* B's byte: it saw the nodedown. A blocking read: tell the runtime. */
        CHECK_OK(hive_blocking_begin());
        dist_read_byte(dist_g.ready_r, DIST_RECV_MS, "node B to see the disconnection");
        CHECK_OK(hive_blocking_end());
    }
    dist_timing_stop(&g_res.time);
    check_mailbox_empty();
    dist_stop_b();

    qsort(samples, (size_t)n, sizeof *samples, dist_cmp_u64);
    g_res.p50 = dist_pct(samples, (size_t)n, 50);
    g_res.p99 = dist_pct(samples, (size_t)n, 99);
    g_res.min = samples[0];
    g_res.max = samples[n - 1];
    free(samples);
}

int main(int argc, char **argv) {
    long long a[1];
    uint32_t s = bench_args(argc, argv, 1, "N", a);
    int64_t n = a[0];
    CHECK(n >= 1, "N must be positive");
    dist_fork(s);
    dist_run_root(root, &n, sizeof n);

    result_begin("dist_connect", s);
    result_int("n", n);
    result_float("setup_p50_us", (double)g_res.p50 / 1e3);
    result_float("setup_p99_us", (double)g_res.p99 / 1e3);
    result_float("seconds", g_res.time.seconds);
    result_float("setup_min_us", (double)g_res.min / 1e3);
    result_float("setup_max_us", (double)g_res.max / 1e3);
    dist_result_cpu(&g_res.time);
    result_end();
    return 0;
}
