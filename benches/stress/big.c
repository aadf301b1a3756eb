/*
 * big N R (bencherl-style all-to-all): N processes, R rounds. In each round every
 * process sends {ping, self} to the N-1 others, then collects N-1 pongs while answering
 * the others' pings: 2*N*(N-1)*R messages. The clock runs from go until all N have
 * reported done to main.
 *
 * "main" is the root process (hive_run). Set-up, untimed: main spawns the N processes
 * and fills a shared pid array (read-only from then on; main's go message, sent after
 * the array is complete, publishes it). Each process sends main a ready message before
 * blocking on go, so the clock starts with all of them parked (Erlang waits for quiet).
 *
 * Rounds: a peer may be one round ahead, so its pings for round r+1 can arrive while a
 * process is still in round r. Every ping is answered at once, whatever its round, and
 * pings carry their round number: a process leaves round r once it has its N-1 pongs
 * (pongs only answer the current round's pings) and has received the N-1 pings of round
 * r. (The Erlang peer counts pings of any round towards the current one; every process
 * still answers exactly (N-1)*R pings.) After its last round a process has answered
 * every ping it will ever get, so nobody is left waiting.
 *
 * A process sends its N-1 pings without receiving, so it calls hive_reduction_check()
 * per send, as generated code would at the loop's back-edge.
 *
 * Checks: each process answers exactly (N-1)*R pings and receives (N-1)*R pongs, the
 * per-round ping counts are exact, each pong comes from a peer, main's totals are
 * N*(N-1)*R each, nothing is left in a mailbox, the process count is back at 0.
 *
 * Keys: n r seconds msgs_per_s cpu_s.
 */
#include "common/bench.h"

enum { T_READY = 1, T_GO, T_PING, T_PONG, T_DONE };

static hive_pid *g_peers; /* written by main before go, read-only after */

struct proc_arg {
    hive_pid main;
    int64_t n, r;
};

static void proc(void *arg) {
    struct proc_arg a;
    memcpy(&a, arg, sizeof a);
    hive_pid self = hive_self();
    send_bmsg(a.main, T_READY, 0, self, 0);
    /* Selective: pings from peers that got their go earlier may already be queued. */
    recv_match_tag(T_GO);
    const hive_pid *peers = g_peers;
    int64_t others = a.n - 1;
    /* pings[r]: pings of round r received so far (a peer is at most one round ahead). */
    int64_t *pings = calloc((size_t)a.r + 1, sizeof *pings);
    CHECK(pings != NULL, "out of memory");
    int64_t answered = 0, pongs_total = 0;
    for (int64_t round = 0; round < a.r; round++) {
        for (int64_t i = 0; i < a.n; i++) {
            if (peers[i] != self) send_bmsg(peers[i], T_PING, (uint32_t)round, self, 0);
            hive_reduction_check();
        }
        int64_t pongs = 0;
        while (pongs < others || pings[round] < others) {
            hive_pid from;
            bmsg b = recv_bmsg(&from);
            if (b.tag == T_PING) {
                if (b.aux != round && b.aux != round + 1)
                    FAIL("big: a ping of round %u arrived in round %lld", b.aux,
                         (long long)round);
                pings[b.aux]++;
                send_bmsg(b.pid, T_PONG, 0, self, 0);
                answered++;
            } else if (b.tag == T_PONG) {
                CHECK(from != self && from != 0, "pong from %" PRIx64, from);
                pongs++;
            } else {
                FAIL("big: unexpected tag %u", b.tag);
            }
        }
        CHECK_EQ(pongs, others);
        CHECK_EQ(pings[round], others);
        pongs_total += pongs;
    }
    CHECK_EQ(pings[a.r], 0);
    free(pings);
    CHECK_EQ(answered, others * a.r);
    check_mailbox_empty();
    send_bmsg(a.main, T_DONE, 0, (hive_pid)answered, pongs_total);
}

struct params {
    int64_t n, r;
};

static struct {
    double seconds, cpu_s;
} g_res;

static void root(void *arg) {
    struct params p;
    memcpy(&p, arg, sizeof p);
    hive_pid self = hive_self();
    g_peers = malloc((size_t)p.n * sizeof *g_peers);
    CHECK(g_peers != NULL, "out of memory");
    struct proc_arg pa = {self, p.n, p.r};
    for (int64_t i = 0; i < p.n; i++) {
        CHECK_OK(hive_spawn(proc, &pa, sizeof pa, NULL, &g_peers[i]));
        hive_reduction_check();
    }
    for (int64_t i = 0; i < p.n; i++) recv_tag(T_READY);

    uint64_t c0 = cpu_ticks();
    uint64_t t0 = now_ns();
    for (int64_t i = 0; i < p.n; i++) {
        send_bmsg(g_peers[i], T_GO, 0, 0, 0);
        hive_reduction_check();
    }
    int64_t pongs = 0, answered = 0;
    for (int64_t i = 0; i < p.n; i++) {
        bmsg b = recv_tag(T_DONE);
        pongs += b.val;
        answered += (int64_t)b.pid;
    }
    uint64_t t1 = now_ns();
    uint64_t c1 = cpu_ticks();
    int64_t expected = p.n * (p.n - 1) * p.r;
    CHECK_EQ(pongs, expected);
    CHECK_EQ(answered, expected);
    check_mailbox_empty();
    g_res.seconds = seconds_between(t0, t1);
    g_res.cpu_s = cpu_s_between(c0, c1);
}

int main(int argc, char **argv) {
    long long a[2];
    uint32_t s = bench_args(argc, argv, 2, "N R", a);
    struct params p = {a[0], a[1]};
    CHECK(p.n >= 1 && p.n <= UINT32_MAX && p.r <= UINT32_MAX, "N or R out of range");
    bench_init(s);
    bench_run_root(root, &p, sizeof p);
    free(g_peers);

    result_begin("big", s);
    result_int("n", p.n);
    result_int("r", p.r);
    result_float("seconds", g_res.seconds);
    result_rate("msgs_per_s", 2.0 * (double)p.n * (double)(p.n - 1) * (double)p.r,
                g_res.seconds);
    result_float("cpu_s", g_res.cpu_s);
    result_end();
    return 0;
}
