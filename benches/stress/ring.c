/*
 * ring N M: N processes in a ring; a token goes M times around (N*M hops). The token is
 * the number of hops left: a node receiving H > 1 sends H-1 to its successor, the node
 * receiving 1 notifies main, which stops the clock. Only the token passing is timed.
 *
 * "main" is the root process (hive_run). Set-up, untimed: main spawns the N nodes and
 * sends each {next, Pid}; each node acknowledges once it knows its successor, so the
 * clock starts with every node parked in its receive (Erlang waits for quiet instead).
 *
 * Checks: the token-1 notification arrives exactly once and from the last node (hop k
 * lands on node (k-1) mod N); each node counts the tokens it received and the counts sum
 * to N*M (each node's count must be exactly M); after all nodes are stopped nothing
 * else is left in main's mailbox, and the process count is back at 0.
 *
 * Keys: n m seconds hops_per_s ns_per_hop cpu_s.
 */
#include "common/bench.h"

enum { T_NEXT = 1, T_READY, T_TOKEN, T_DONE, T_STOP, T_COUNT };

struct node_arg {
    hive_pid main;
};

static void node(void *arg) {
    struct node_arg a;
    memcpy(&a, arg, sizeof a);
    bmsg b = recv_tag(T_NEXT);
    hive_pid next = b.pid;
    send_bmsg(a.main, T_READY, 0, hive_self(), 0);
    int64_t received = 0;
    for (;;) {
        hive_msg *m;
        CHECK_OK(hive_receive(-1, &m));
        CHECK_EQ(hive_msg_len(m), sizeof(bmsg));
        memcpy(&b, hive_msg_data(m), sizeof b);
        hive_msg_free(m);
        if (b.tag == T_TOKEN) {
            received++;
            if (b.val > 1)
                send_bmsg(next, T_TOKEN, 0, 0, b.val - 1);
            else
                send_bmsg(a.main, T_DONE, 0, hive_self(), 0);
        } else if (b.tag == T_STOP) {
            send_bmsg(a.main, T_COUNT, 0, hive_self(), received);
            return;
        } else {
            FAIL("ring node: unexpected tag %u", b.tag);
        }
    }
}

struct params {
    int64_t n, m;
};

static struct {
    double seconds, cpu_s;
} g_res;

static void root(void *arg) {
    struct params p;
    memcpy(&p, arg, sizeof p);
    hive_pid self = hive_self();
    hive_pid *nodes = malloc((size_t)p.n * sizeof *nodes);
    CHECK(nodes != NULL, "out of memory");
    struct node_arg na = {self};
    for (int64_t i = 0; i < p.n; i++) {
        CHECK_OK(hive_spawn(node, &na, sizeof na, NULL, &nodes[i]));
        hive_reduction_check();
    }
    for (int64_t i = 0; i < p.n; i++) {
        send_bmsg(nodes[i], T_NEXT, 0, nodes[(i + 1) % p.n], 0);
        hive_reduction_check();
    }
    for (int64_t i = 0; i < p.n; i++) recv_tag(T_READY);

    int64_t hops = p.n * p.m;
    uint64_t c0 = cpu_ticks();
    uint64_t t0 = now_ns();
    send_bmsg(nodes[0], T_TOKEN, 0, 0, hops);
    hive_pid notifier = 0;
    bmsg b = recv_bmsg(&notifier);
    uint64_t t1 = now_ns();
    uint64_t c1 = cpu_ticks();
    CHECK_EQ(b.tag, T_DONE);
    CHECK(notifier == nodes[p.n - 1] && b.pid == notifier,
          "token 1 reached the wrong node (%" PRIx64 ", last is %" PRIx64 ")", notifier,
          nodes[p.n - 1]);

    /* Stop the nodes and add up the tokens each received. Messages from one sender
     * arrive in order, so a duplicate T_DONE would arrive before its node's T_COUNT. */
    for (int64_t i = 0; i < p.n; i++) {
        send_bmsg(nodes[i], T_STOP, 0, 0, 0);
        hive_reduction_check();
    }
    int64_t total = 0;
    for (int64_t i = 0; i < p.n; i++) {
        b = recv_bmsg(NULL);
        CHECK(b.tag == T_COUNT, "unexpected tag %u while collecting counts (a second "
                                "token-1 notification?)", b.tag);
        CHECK(b.val == p.m, "a node received %lld tokens, expected %lld", (long long)b.val,
              (long long)p.m);
        total += b.val;
    }
    CHECK_EQ(total, hops);
    check_mailbox_empty();
    free(nodes);
    g_res.seconds = seconds_between(t0, t1);
    g_res.cpu_s = cpu_s_between(c0, c1);
}

int main(int argc, char **argv) {
    long long a[2];
    uint32_t s = bench_args(argc, argv, 2, "N M", a);
    struct params p = {a[0], a[1]};
    CHECK(p.n >= 1 && p.m >= 1, "N and M must be positive");
    bench_init(s);
    bench_run_root(root, &p, sizeof p);

    double hops = (double)p.n * (double)p.m;
    result_begin("ring", s);
    result_int("n", p.n);
    result_int("m", p.m);
    result_float("seconds", g_res.seconds);
    result_rate("hops_per_s", hops, g_res.seconds);
    result_float("ns_per_hop", g_res.seconds * 1e9 / hops);
    result_float("cpu_s", g_res.cpu_s);
    result_end();
    return 0;
}
