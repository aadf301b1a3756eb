/*
 * link_cascade N: a chain of N processes, each of which spawns the next with
 * hive_spawn_link (atomic spawn + link) and then blocks in hive_receive forever; nobody
 * traps exits. Main spawns the head with hive_spawn (main is not linked to it); the tail
 * sends main its pid. build_s runs from spawning the head until that message arrives.
 *
 * Then (untimed) main waits until every process of the chain is about to block (each
 * bumps a per-thread counter right before its hive_receive; main polls the sum with
 * hive_yield, as the Erlang peer waits for quiet), and monitors the tail (hive_monitor).
 * The clock runs from hive_exit_pid(head, HIVE_REASON_KILL) until the tail's DOWN
 * arrives. The head dies with reason `killed`, and each link passes `killed` on to the
 * next process (a non-trapping process dies with the reason of the exit signal), so the
 * tail's DOWN reason must be HIVE_REASON_KILLED. ns_per_link = seconds * 1e9 / (N - 1).
 *
 * "main" is the root process (hive_run). Each chain process writes its own pid into a
 * shared array before bumping the counter, so main knows every pid once the counter is
 * complete (the counter's release/acquire orders the writes).
 *
 * Checks, timed pass: every hive_spawn_link succeeded; all N processes started; the tail
 * reported exactly once and its pid is the last in the chain; the DOWN is the only
 * message main gets, of kind HIVE_MSG_DOWN, from the tail, with the monitor's ref and
 * reason HIVE_REASON_KILLED (no reason bytes); then every process of the chain is gone
 * (the process count is back at 1, main alone). No chain process ever returns from its
 * receive (an EXIT delivered as a message to a non-trapping process fails the run).
 *
 * Verification pass (untimed, after the timed one): the same chain is built again, main
 * monitors every one of its N processes, kills the head, and collects N DOWNs: each
 * must carry reason HIVE_REASON_KILLED, and their (ref, pid) pairs must be exactly those
 * hive_monitor returned, each seen once: every process of the chain died, of the
 * cascade, with reason `killed`. The timed pass monitors only the tail, as the Erlang
 * peer does, so the DOWNs of this pass do not weigh on the timed figure.
 *
 * At the end the process count is back at 0 and shutdown stops nothing.
 *
 * Keys: n build_s seconds ns_per_link tail_reason (plus cpu_s).
 */
#include "common/bench.h"

enum { T_TAIL = 1 };

struct link_arg {
    hive_pid main;
    int64_t k; /* position counted from the tail: N is the head, 1 the tail */
};

/* The pids of the chain being built, indexed by k - 1 (the tail at 0). */
static hive_pid *g_pids;

static void link_node(void *arg) {
    struct link_arg a;
    memcpy(&a, arg, sizeof a);
    if (a.k > 1) {
        struct link_arg next = {a.main, a.k - 1};
        CHECK_OK(hive_spawn_link(link_node, &next, sizeof next, NULL, NULL));
    }
    g_pids[a.k - 1] = hive_self();
    tcount_inc(); /* started (and linked to the next one); blocks right after */
    if (a.k == 1) send_bmsg(a.main, T_TAIL, 0, hive_self(), 0);
    hive_msg *m = NULL;
    hive_status st = hive_receive(-1, &m);
    /* Killed by an exit signal while blocked: this receive never returns. */
    FAIL("link_cascade: a chain process's receive returned %d (%s), message kind %d",
         (int)st, bench_status_name(st), st == HIVE_OK ? (int)hive_msg_kind(m) : -1);
}

/* Builds a chain of n processes from main (self): spawns the head, waits for the tail's
 * pid, then until all of them are about to block (the counter reaches `started`).
 * Returns the head; the tail's pid goes to *tail, the build time (head spawned to tail
 * reported) to *build_s. */
static hive_pid build_chain(int64_t n, uint64_t started, hive_pid *tail, double *build_s) {
    struct link_arg a = {hive_self(), n};
    hive_pid head = 0, from = 0;
    uint64_t b0 = now_ns();
    CHECK_OK(hive_spawn(link_node, &a, sizeof a, NULL, &head));
    bmsg b = recv_bmsg(&from);
    uint64_t b1 = now_ns();
    CHECK_EQ(b.tag, T_TAIL);
    CHECK(from == b.pid, "the tail message came from %" PRIx64 ", not the tail %" PRIx64,
          from, b.pid);
    *tail = b.pid;
    *build_s = seconds_between(b0, b1);
    /* "Wait for quiet": every chain process has linked and is about to block. */
    while (tcount_sum() < started) hive_yield();
    CHECK_EQ(tcount_sum(), started);
    CHECK_EQ(g_pids[n - 1], head);
    CHECK_EQ(g_pids[0], *tail);
    CHECK_EQ(process_count(), (uint64_t)n + 1);
    check_mailbox_empty(); /* the tail reported once */
    return head;
}

/* Yields until only main is left (the chain processes have all exited). */
static void wait_chain_gone(int64_t n) {
    uint64_t start = now_ns();
    while (process_count() > 1) {
        if (seconds_between(start, now_ns()) > 60)
            FAIL("link_cascade: %" PRIu64 " processes still alive 60 s after the kill "
                 "(chain of %lld)", process_count() - 1, (long long)n);
        hive_yield();
    }
}

struct pair {
    uint64_t ref;
    hive_pid pid;
};

static int cmp_pair(const void *a, const void *b) {
    const struct pair *x = a, *y = b;
    if (x->ref != y->ref) return (x->ref > y->ref) - (x->ref < y->ref);
    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* The verification pass: see the header comment. */
static void verify_every_link(int64_t n) {
    hive_pid tail;
    double build_s;
    hive_pid head = build_chain(n, 2 * (uint64_t)n, &tail, &build_s);
    struct pair *mons = malloc((size_t)n * sizeof *mons);
    struct pair *downs = malloc((size_t)n * sizeof *downs);
    CHECK(mons != NULL && downs != NULL, "out of memory");
    for (int64_t i = 0; i < n; i++) {
        mons[i].pid = g_pids[i];
        CHECK_OK(hive_monitor(g_pids[i], &mons[i].ref));
        hive_reduction_check();
    }
    CHECK_OK(hive_exit_pid(head, HIVE_REASON_KILL, NULL, 0));
    for (int64_t i = 0; i < n; i++) {
        hive_msg *m;
        CHECK_OK(hive_receive(-1, &m));
        CHECK_EQ(hive_msg_kind(m), HIVE_MSG_DOWN);
        int32_t reason = hive_msg_reason_kind(m);
        CHECK(reason == HIVE_REASON_KILLED,
              "chain process %" PRIx64 " went down with reason kind %d, expected "
              "HIVE_REASON_KILLED", hive_msg_sender(m), (int)reason);
        downs[i].ref = hive_msg_monitor_ref(m);
        downs[i].pid = hive_msg_sender(m);
        hive_msg_free(m);
    }
    qsort(mons, (size_t)n, sizeof *mons, cmp_pair);
    qsort(downs, (size_t)n, sizeof *downs, cmp_pair);
    for (int64_t i = 0; i < n; i++) {
        CHECK(i == 0 || mons[i].ref != mons[i - 1].ref, "hive_monitor returned ref %" PRIu64
              " twice", mons[i].ref);
        CHECK(mons[i].ref == downs[i].ref && mons[i].pid == downs[i].pid,
              "DOWN (ref %" PRIu64 ", pid %" PRIx64 ") does not match monitor (ref %" PRIu64
              ", pid %" PRIx64 ")", downs[i].ref, downs[i].pid, mons[i].ref, mons[i].pid);
    }
    check_mailbox_empty();
    wait_chain_gone(n);
    free(mons);
    free(downs);
}

/* A reason kind as the Erlang atom the peer prints (tail_reason=killed). */
static const char *reason_name(int32_t kind) {
    switch (kind) {
    case HIVE_REASON_NORMAL: return "normal";
    case HIVE_REASON_KILL: return "kill";
    case HIVE_REASON_KILLED: return "killed";
    case HIVE_REASON_NOPROC: return "noproc";
    case HIVE_REASON_NOCONNECTION: return "noconnection";
    case HIVE_REASON_SHUTDOWN: return "shutdown";
    case HIVE_REASON_ERROR: return "error";
    default: return "unknown";
    }
}

static struct {
    double build_s, seconds, cpu_s;
    int32_t tail_reason;
} g_res;

static void root(void *arg) {
    int64_t n;
    memcpy(&n, arg, sizeof n);

    /* Timed pass. */
    hive_pid tail;
    hive_pid head = build_chain(n, (uint64_t)n, &tail, &g_res.build_s);
    uint64_t ref = 0;
    CHECK_OK(hive_monitor(tail, &ref));
    uint64_t c0 = cpu_ticks();
    uint64_t t0 = now_ns();
    CHECK_OK(hive_exit_pid(head, HIVE_REASON_KILL, NULL, 0));
    hive_msg *m;
    CHECK_OK(hive_receive(-1, &m));
    uint64_t t1 = now_ns();
    uint64_t c1 = cpu_ticks();
    CHECK_EQ(hive_msg_kind(m), HIVE_MSG_DOWN);
    CHECK(hive_msg_sender(m) == tail, "DOWN from %" PRIx64 ", expected the tail %" PRIx64,
          hive_msg_sender(m), tail);
    CHECK_EQ(hive_msg_monitor_ref(m), ref);
    g_res.tail_reason = hive_msg_reason_kind(m);
    CHECK(g_res.tail_reason == HIVE_REASON_KILLED,
          "the tail went down with reason kind %d, expected HIVE_REASON_KILLED (%d)",
          (int)g_res.tail_reason, HIVE_REASON_KILLED);
    CHECK_EQ(hive_msg_len(m), 0);
    hive_msg_free(m);
    g_res.seconds = seconds_between(t0, t1);
    g_res.cpu_s = cpu_s_between(c0, c1);
    check_mailbox_empty();
    wait_chain_gone(n);

    /* Untimed: every process of a second chain goes down with reason killed. */
    verify_every_link(n);
}

int main(int argc, char **argv) {
    long long a[1];
    uint32_t s = bench_args(argc, argv, 1, "N", a);
    int64_t n = a[0];
    CHECK(n >= 2, "N must be at least 2");
    g_pids = calloc((size_t)n, sizeof *g_pids);
    CHECK(g_pids != NULL, "out of memory");
    bench_init(s);
    bench_run_root(root, &n, sizeof n);
    free(g_pids);

    result_begin("link_cascade", s);
    result_int("n", n);
    result_float("build_s", g_res.build_s);
    result_float("seconds", g_res.seconds);
    result_float("ns_per_link", g_res.seconds * 1e9 / (double)(n - 1));
    result_append(" tail_reason=%s", reason_name(g_res.tail_reason));
    result_float("cpu_s", g_res.cpu_s);
    result_end();
    return 0;
}
