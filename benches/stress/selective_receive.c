/*
 * selective_receive Q K (baselines.md workload 12): a process P (the root process) does
 * round trips with a server process, which answers each {req, From, Ref} with {Ref, reply}.
 * Each round trip: mark = hive_recv_mark(); Ref = a fresh counter value; send the request;
 * receive the reply whose ref is Ref. Three variants, each timed on its own, reported in
 * µs per round trip:
 *
 *   (a) empty_us_per_rt: an empty mailbox, K round trips with the marker
 *       (hive_recv_mark + hive_receive_match_from);
 *   (b) opt_us_per_rt: Q {junk, I} messages queued in P's own mailbox first (sent by P to
 *       itself, untimed), then K round trips with the marker: the receive examines only
 *       what arrived after the mark, as the BEAM's recv_marker_reserve/bind/use;
 *   (c) unopt_us_per_rt: with the same Q still queued, round trips WITHOUT the marker
 *       (hive_receive_match): each receive scans the whole queue before the reply. This is
 *       Q·K predicate calls (10^8 at full size, about a second here), so it does all K
 *       round trips; `unopt_k` reports how many it did.
 *
 * Checks: every reply carries the ref of its request (the predicate matches on it and the
 * received message is checked again); the server counts the requests; the mailbox holds
 * exactly Q messages after (b) and after (c) (hive_mailbox_len); the junk is then drained
 * in order {junk, 0} .. {junk, Q-1} and the mailbox is empty.
 *
 * Keys: queued k empty_us_per_rt opt_us_per_rt (and unopt_us_per_rt, unopt_k).
 */
#include "common/bench.h"

enum { T_REQ = 1, T_REPLY, T_JUNK, T_STOP, T_COUNT };

struct params {
    int64_t q, k;
};

static struct {
    double empty_us, opt_us, unopt_us;
    int64_t unopt_k;
} g_res;

static void server(void *arg) {
    (void)arg;
    int64_t served = 0;
    for (;;) {
        bmsg b = recv_bmsg(NULL);
        if (b.tag == T_STOP) {
            send_bmsg(b.pid, T_COUNT, 0, 0, served);
            return;
        }
        if (b.tag != T_REQ) FAIL("server got tag %u", b.tag);
        send_bmsg(b.pid, T_REPLY, 0, 0, b.val);
        served++;
    }
}

struct want {
    int64_t ref;
};

static int32_t match_reply(void *env, const hive_msg *m) {
    bmsg b;
    if (hive_msg_len(m) != sizeof b) return 0;
    memcpy(&b, hive_msg_data(m), sizeof b);
    return b.tag == T_REPLY && b.val == ((const struct want *)env)->ref;
}

static void check_reply(hive_msg *m, int64_t ref) {
    bmsg b;
    CHECK_EQ(hive_msg_len(m), sizeof b);
    memcpy(&b, hive_msg_data(m), sizeof b);
    hive_msg_free(m);
    CHECK_EQ(b.tag, T_REPLY);
    CHECK_EQ(b.val, ref);
}

/* n round trips; with the marker (hive_recv_mark + hive_receive_match_from) or without
 * (hive_receive_match, scanning the whole queue). Returns µs per round trip. */
static double round_trips(hive_pid srv, hive_pid self, int64_t n, int64_t *next_ref,
                          int use_marker) {
    uint64_t t0 = now_ns();
    for (int64_t i = 0; i < n; i++) {
        hive_msg *m;
        uint64_t mark = 0;
        if (use_marker) CHECK_OK(hive_recv_mark(&mark));
        struct want w = {(*next_ref)++};
        send_bmsg(srv, T_REQ, 0, self, w.ref);
        if (use_marker)
            CHECK_OK(hive_receive_match_from(mark, match_reply, &w, -1, &m));
        else
            CHECK_OK(hive_receive_match(match_reply, &w, -1, &m));
        check_reply(m, w.ref);
    }
    uint64_t t1 = now_ns();
    return n > 0 ? seconds_between(t0, t1) * 1e6 / (double)n : 0.0;
}

static void check_len(int64_t want) {
    size_t n = 0;
    CHECK_OK(hive_mailbox_len(&n));
    CHECK_EQ(n, want);
}

static void root(void *arg) {
    struct params p;
    memcpy(&p, arg, sizeof p);
    hive_pid self = hive_self(), srv;
    CHECK_OK(hive_spawn(server, NULL, 0, NULL, &srv));
    int64_t ref = 1;

    /* (a) empty mailbox, with the marker */
    check_mailbox_empty();
    g_res.empty_us = round_trips(srv, self, p.k, &ref, 1);
    check_mailbox_empty();

    /* Q junk messages in P's own mailbox (untimed) */
    for (int64_t i = 0; i < p.q; i++) {
        send_bmsg(self, T_JUNK, 0, 0, i);
        hive_reduction_check();
    }
    check_len(p.q);

    /* (b) Q queued, with the marker */
    g_res.opt_us = round_trips(srv, self, p.k, &ref, 1);
    check_len(p.q);

    /* (c) Q queued, without the marker: every receive scans the Q junk messages */
    g_res.unopt_k = p.k;
    g_res.unopt_us = round_trips(srv, self, g_res.unopt_k, &ref, 0);
    check_len(p.q);

    /* The junk is intact and in order. */
    for (int64_t i = 0; i < p.q; i++) {
        bmsg b = recv_bmsg(NULL);
        CHECK_EQ(b.tag, T_JUNK);
        CHECK_EQ(b.val, i);
        hive_reduction_check();
    }
    check_mailbox_empty();
    send_bmsg(srv, T_STOP, 0, self, 0);
    CHECK_EQ(recv_tag(T_COUNT).val, 2 * p.k + g_res.unopt_k);
    CHECK_EQ(ref - 1, 2 * p.k + g_res.unopt_k);
    check_mailbox_empty();
}

int main(int argc, char **argv) {
    long long a[2];
    uint32_t s = bench_args(argc, argv, 2, "Q K", a);
    struct params p = {a[0], a[1]};
    CHECK(p.k >= 1, "K must be positive");
    bench_init(s);
    bench_run_root(root, &p, sizeof p);

    result_begin("selective_receive", s);
    result_int("queued", p.q);
    result_int("k", p.k);
    result_float("empty_us_per_rt", g_res.empty_us);
    result_float("opt_us_per_rt", g_res.opt_us);
    result_float("unopt_us_per_rt", g_res.unopt_us);
    result_int("unopt_k", g_res.unopt_k);
    result_end();
    return 0;
}
