/*
 * overload S MSGS: issue 6's overload check. S senders flood one receiver with MSGS
 * messages in all (fan_in style; sender i sends MSGS/S, the first MSGS mod S one more),
 * and the receiver consumes more slowly than they produce: it does WORK_REDS reductions
 * of computation per message (burn_reductions() from bench.h, each about one Erlang
 * function call). Meanwhile a ping-pong pair (as in fairness.c) does round trips back to
 * back, each timed, to show that the runtime keeps serving other processes; and main
 * samples the receiver's queue length and the RSS. Mailboxes are unbounded (as on the
 * BEAM), so the queue and the memory grow with the backlog; once drained and exited,
 * the memory should be given back.
 *
 * "main" is the root process (hive_run). Set-up, untimed: main spawns the receiver, the
 * ponger, the pinger and the senders, which report ready and wait for go. Then rss_before,
 * and go. The clock (seconds) runs from go until the receiver has taken all MSGS; flood_s
 * is go until the last sender has sent its last message (the flood proper). While waiting,
 * main samples every 10 ms (hive_receive with a 10 ms timeout): the receiver's queue
 * length with hive_get_process_info (the BEAM's process_info(R, message_queue_len)) and
 * VmRSS; every 250 ms it prints a progress line on stderr with those and the round-trip
 * latencies of the last 250 ms. The receiver also reads its own queue length
 * (hive_mailbox_len, the BEAM's process_info(self(), message_queue_len)) every 1024
 * messages; max_qlen is the largest length either saw (both are lower bounds on the true
 * peak).
 *
 * Round trips: rt_med_us, rt_p99_us, rt_max_us and round_trips are over the round trips
 * that started during the flood (while a sender was still sending); drain_rt_p99_us,
 * drain_rt_max_us and drain_round_trips over those that started later, while the
 * receiver drained its queue. Percentiles as in recv_timeout.c (sorted L: L[n/2],
 * L[n*99/100], L[n-1]). These count every round trip once, so a stretch in which the pair
 * has a worker to itself (millions of sub-microsecond round trips) outweighs one in which
 * it queues behind the senders (a few dozen round trips of tens of ms). rt_tw_med_us and
 * rt_tw_p99_us weigh each round trip by its duration instead: the latency of the round
 * trip in progress at a random instant of the flood, i.e. what a request arriving at a
 * random time waits. rt_tw_p99_us is the main figure.
 *
 * Memory (VmRSS, kB): rss_before_kb just before go (the latency histograms are static,
 * about 120 kB in all); rss_peak_kb = VmHWM (the exact peak) at the end; rss_after_kb once the
 * receiver has drained its queue, every other process has exited (the runtime still up) and
 * RSS has stopped falling while main sleeps (an idle worker that freed many message buffers
 * has glibc return free memory with malloc_trim; see docs/design.md); b_per_queued_msg = (rss_peak - rss_before) * 1024 / max_qlen. rss_after_trim_kb is
 * read after malloc_trim(0): Hive allocates message buffers with the system allocator
 * (glibc malloc here; 128 bytes for payloads of up to 96 bytes, recycled through small
 * per-worker caches and a depot of at most 64 Ki buffers, crates/hive-rt/src/mailbox.rs),
 * and glibc may keep freed memory in its arenas instead of returning it to the kernel;
 * the trimmed reading shows how much of rss_after_kb is that (none, since the runtime trims
 * when a worker goes idle). rss_kept_pct = 100 * (rss_after - rss_before) /
 * (rss_peak - rss_before): the share of the growth not given back (without our trim).
 *
 * Checks: the receiver takes exactly MSGS messages, each sender's in order (I = 1..n_i),
 * with the right sum; its mailbox is then empty; every round trip gets its own pong; the
 * process count is back at 1 (main) before rss_after, and at 0 at the end.
 *
 * Keys: senders msgs seconds max_qlen rss_before_kb rss_peak_kb rss_after_kb
 * b_per_queued_msg rss_kept_pct rt_med_us rt_p99_us rt_max_us round_trips rt_tw_med_us
 * rt_tw_p99_us, plus flood_s cpu_s self_max_qlen rss_after_trim_kb drain_rt_p99_us
 * drain_rt_max_us drain_round_trips work_reds.
 */
#include "common/bench.h"

#include <malloc.h>

enum { T_READY = 1, T_GO, T_MSG, T_DONE, T_PING, T_PONG, T_STOP };

/* Reductions of work the receiver does per message. */
#define WORK_REDS 100
#define PROGRESS_NS 250000000ull

/* Round-trip latencies go into log-linear histograms, not arrays: the pair does round
 * trips back to back for the whole run, millions of them when it has a worker to itself.
 * Bucket i < 128 holds exactly i ns; above, each power of two is split in 64 buckets, so a
 * percentile is within 1/64 (1.6%) of the exact one (reported as the bucket's midpoint);
 * maxima are exact. */
#define HSUB 64
#define HBUCKETS (HSUB * 58 + 2 * HSUB)

static unsigned hbucket(uint64_t v) {
    if (v < 2 * HSUB) return (unsigned)v;
    unsigned shift = (unsigned)(63 - __builtin_clzll(v)) - 6; /* v >> shift in [64, 128) */
    return HSUB * shift + (unsigned)(v >> shift);
}

/* The midpoint of bucket i, in ns. */
static double hvalue(unsigned i) {
    if (i < 2 * HSUB) return (double)i;
    unsigned shift = i / HSUB - 1;
    uint64_t lower = (uint64_t)(i - HSUB * shift) << shift;
    return (double)lower + (double)(1ull << shift) / 2.0;
}

/* The value at rank (0-based) `rank` of the n samples counted in h, in us: as L[rank] of
 * the sorted samples, up to the bucket width. */
static double hrank_us(const uint64_t *h, uint64_t rank) {
    uint64_t seen = 0;
    for (unsigned i = 0; i < HBUCKETS; i++) {
        seen += h[i];
        if (seen > rank) return hvalue(i) / 1e3;
    }
    return 0;
}

/* Time-weighted quantile q of histogram w, where w[i] is the sum of the latencies (ns) in
 * bucket i and total their sum: the latency of the round trip in progress at a uniformly
 * random instant, in us. */
static double hweighted_us(const uint64_t *w, uint64_t total, double q) {
    double seen = 0, target = q * (double)total;
    for (unsigned i = 0; i < HBUCKETS; i++) {
        seen += (double)w[i];
        if (w[i] && seen > target) return hvalue(i) / 1e3;
    }
    return 0;
}

/* Median, p99 (ranks n/2 and n*99/100, as recv_timeout.c) of a histogram of n samples. */
static void hpercentiles(const uint64_t *h, uint64_t n, double out[2]) {
    out[0] = n ? hrank_us(h, n / 2) : 0;
    out[1] = n ? hrank_us(h, n * 99 / 100) : 0;
}

static volatile uint64_t g_sink;

static struct {
    int64_t s, msgs;
    uint64_t go_ns;
    /* Every round trip, read by main for the progress lines (written by the pinger
     * only). */
    _Atomic uint64_t hall[HBUCKETS];
    /* Round trips that started during the flood / the drain, and their maxima (ns);
     * read once the pinger is done. */
    uint64_t hflood[HBUCKETS], hdrain[HBUCKETS], nflood, ndrain, maxflood, maxdrain;
    /* The same, weighted by latency (sum of ns per bucket), and the total. */
    uint64_t wflood[HBUCKETS], tflood;
    _Atomic int stop;
    _Atomic int64_t senders_left;
    _Atomic uint64_t flood_end_ns;
} g;

static int64_t share(int64_t i) { return g.msgs / g.s + (i < g.msgs % g.s ? 1 : 0); }

static void receiver(void *arg) {
    hive_pid main_pid;
    memcpy(&main_pid, arg, sizeof main_pid);
    hive_ctx *ctx = hive_current_ctx();
    int64_t *next = malloc((size_t)g.s * sizeof *next); /* next I expected per sender */
    CHECK(next != NULL, "out of memory");
    for (int64_t i = 0; i < g.s; i++) next[i] = 1;
    send_bmsg(main_pid, T_READY, 0, hive_self(), 0);
    int64_t sum = 0;
    size_t max_q = 0;
    uint64_t x = 1;
    for (int64_t taken = 0; taken < g.msgs; taken++) {
        if ((taken & 1023) == 0) {
            size_t q;
            CHECK_OK(hive_mailbox_len(&q));
            if (q > max_q) max_q = q;
        }
        bmsg b = recv_bmsg(NULL);
        if (b.tag != T_MSG || b.aux >= (uint64_t)g.s)
            FAIL("receiver: unexpected message tag %u from sender %u", b.tag, b.aux);
        if (b.val != next[b.aux])
            FAIL("receiver: sender %u's message %lld arrived when %lld was due", b.aux,
                 (long long)b.val, (long long)next[b.aux]);
        next[b.aux]++;
        sum += b.val;
        x = burn_reductions(ctx, x, WORK_REDS);
    }
    g_sink = x;
    for (int64_t i = 0; i < g.s; i++) CHECK_EQ(next[i], share(i) + 1);
    free(next);
    check_mailbox_empty();
    send_bmsg(main_pid, T_DONE, 0, (hive_pid)max_q, sum);
}

struct send_arg {
    hive_pid main, receiver;
    uint32_t index;
};

static void sender(void *arg) {
    struct send_arg a;
    memcpy(&a, arg, sizeof a);
    int64_t n = share(a.index);
    send_bmsg(a.main, T_READY, 0, hive_self(), 0);
    recv_tag(T_GO);
    for (int64_t i = 1; i <= n; i++) {
        send_bmsg(a.receiver, T_MSG, a.index, 0, i);
        hive_reduction_check();
    }
    if (atomic_fetch_sub(&g.senders_left, 1) == 1) atomic_store(&g.flood_end_ns, now_ns());
}

/* Answers pings until told to stop (pong_loop, bench.h). */
static void ponger(void *arg) {
    (void)arg;
    pong_loop(T_PING, T_PONG, T_STOP);
}

static void pinger(void *arg) {
    hive_pid a[2]; /* main, ponger */
    memcpy(a, arg, sizeof a);
    send_bmsg(a[0], T_READY, 0, hive_self(), 0);
    recv_tag(T_GO);
    int64_t i = 0;
    while (!atomic_load_explicit(&g.stop, memory_order_relaxed)) {
        int flooding = atomic_load_explicit(&g.senders_left, memory_order_relaxed) > 0;
        uint64_t lat = ping_round_trip(a[1], T_PING, T_PONG, i);
        i++;
        unsigned bi = hbucket(lat);
        uint64_t c = atomic_load_explicit(&g.hall[bi], memory_order_relaxed);
        atomic_store_explicit(&g.hall[bi], c + 1, memory_order_relaxed);
        if (flooding) {
            g.hflood[bi]++;
            g.nflood++;
            g.wflood[bi] += lat;
            g.tflood += lat;
            if (lat > g.maxflood) g.maxflood = lat;
        } else {
            g.hdrain[bi]++;
            g.ndrain++;
            if (lat > g.maxdrain) g.maxdrain = lat;
        }
    }
    send_bmsg(a[1], T_STOP, 0, 0, 0);
    send_bmsg(a[0], T_DONE, 1, 0, i);
}

static struct {
    double seconds, flood_s, cpu_s;
    uint64_t max_q, self_max_q, rts_total;
    long rss_before, rss_peak, rss_after, rss_after_trim;
} g_res;

static void root(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    hive_pid recv, pong, ping;
    CHECK_OK(hive_spawn(receiver, &self, sizeof self, NULL, &recv));
    CHECK_OK(hive_spawn(ponger, NULL, 0, NULL, &pong));
    hive_pid pa[2] = {self, pong};
    CHECK_OK(hive_spawn(pinger, pa, sizeof pa, NULL, &ping));
    hive_pid *senders = malloc((size_t)g.s * sizeof *senders);
    CHECK(senders != NULL, "out of memory");
    for (int64_t i = 0; i < g.s; i++) {
        struct send_arg sa = {self, recv, (uint32_t)i};
        CHECK_OK(hive_spawn(sender, &sa, sizeof sa, NULL, &senders[i]));
        hive_reduction_check();
    }
    for (int64_t i = 0; i < g.s + 2; i++) recv_tag(T_READY);
    atomic_store(&g.senders_left, g.s);

    g_res.rss_before = rss_kb();
    uint64_t c0 = cpu_ticks();
    g.go_ns = now_ns();
    send_bmsg(ping, T_GO, 0, 0, 0);
    for (int64_t i = 0; i < g.s; i++) {
        send_bmsg(senders[i], T_GO, 0, 0, 0);
        hive_reduction_check();
    }

    /* Sample until the receiver reports done. */
    static uint64_t shown[HBUCKETS], window[HBUCKETS]; /* main's only */
    uint64_t next_progress = g.go_ns + PROGRESS_NS, t1;
    long rss_max = 0;
    size_t q_max = 0;
    bmsg done;
    for (;;) {
        hive_msg *m;
        hive_status st = hive_receive(10, &m);
        if (st == HIVE_OK) {
            t1 = now_ns();
            CHECK_EQ(hive_msg_len(m), sizeof done);
            memcpy(&done, hive_msg_data(m), sizeof done);
            hive_msg_free(m);
            CHECK_EQ(done.tag, T_DONE);
            CHECK_EQ(done.aux, 0);
            break;
        }
        CHECK_EQ(st, HIVE_TIMEOUT);
        hive_process_info info = {0};
        st = hive_get_process_info(recv, &info);
        CHECK(st == HIVE_OK || st == HIVE_ERR_NO_PROCESS, "hive_get_process_info: %d", st);
        if (st == HIVE_OK && info.mailbox_len > q_max) q_max = info.mailbox_len;
        long rss = rss_kb();
        if (rss > rss_max) rss_max = rss;
        uint64_t now = now_ns();
        if (now >= next_progress) {
            next_progress = now + PROGRESS_NS;
            uint64_t n = 0;
            unsigned top = 0;
            for (unsigned i = 0; i < HBUCKETS; i++) {
                uint64_t c = atomic_load_explicit(&g.hall[i], memory_order_relaxed);
                window[i] = c - shown[i];
                shown[i] = c;
                n += window[i];
                if (window[i]) top = i;
            }
            double p[2];
            hpercentiles(window, n, p);
            fprintf(stderr,
                    "overload: t=%.2fs %s qlen=%" PRIu64 " rss=%ld MB; round trips since last "
                    "line: %" PRIu64 ", med %.1f us, p99 %.1f us, max ~%.1f us\n",
                    seconds_between(g.go_ns, now),
                    atomic_load(&g.senders_left) > 0 ? "flooding" : "draining",
                    st == HIVE_OK ? info.mailbox_len : 0, rss / 1024, n, p[0], p[1],
                    n ? hvalue(top) / 1e3 : 0.0);
        }
        if (seconds_between(g.go_ns, now) > 150) FAIL("overload: not drained after 150 s");
    }
    uint64_t c1 = cpu_ticks();
    int64_t expected = 0;
    for (int64_t i = 0; i < g.s; i++) expected += share(i) * (share(i) + 1) / 2;
    CHECK_EQ(done.val, expected);
    CHECK_EQ(atomic_load(&g.senders_left), 0);

    atomic_store(&g.stop, 1);
    bmsg pd = recv_tag(T_DONE);
    CHECK_EQ(pd.aux, 1);
    g_res.rts_total = (uint64_t)pd.val;
    /* Wait until every other process has exited (main is the only one left). */
    for (int i = 0; process_count() > 1; i++) {
        CHECK(i < 60000, "overload: processes still alive after 60 s");
        CHECK_OK(hive_sleep(1));
    }
    check_mailbox_empty();
    free(senders);
    /* The flood is over: let the workers go idle, as a system does after a burst (an idle
     * worker that freed many message buffers has the allocator return them to the kernel,
     * which takes a while for a GB), and read RSS once it has stopped falling (10 ms
     * apart, at most 5 s). */
    {
        long prev = rss_kb(), now;
        for (int i = 0; i < 500; i++) {
            CHECK_OK(hive_sleep(10));
            now = rss_kb();
            if (now == prev && i >= 2) break;
            prev = now;
        }
    }

    g_res.rss_after = rss_kb();
    g_res.rss_peak = rss_hwm_kb();
    if (rss_max > g_res.rss_peak) g_res.rss_peak = rss_max;
    malloc_trim(0);
    g_res.rss_after_trim = rss_kb();
    g_res.seconds = seconds_between(g.go_ns, t1);
    g_res.flood_s = seconds_between(g.go_ns, atomic_load(&g.flood_end_ns));
    g_res.cpu_s = cpu_s_between(c0, c1);
    g_res.self_max_q = done.pid;
    g_res.max_q = q_max > done.pid ? q_max : done.pid;
}

int main(int argc, char **argv) {
    long long a[2];
    uint32_t s = bench_args(argc, argv, 2, "S MSGS", a);
    g.s = a[0];
    g.msgs = a[1];
    CHECK(g.s >= 1 && g.s <= UINT32_MAX, "S must be 1..2^32-1");
    CHECK(g.msgs >= 1, "MSGS must be positive");
    bench_init(s);
    bench_run_root(root, NULL, 0);

    uint64_t all = 0;
    for (unsigned i = 0; i < HBUCKETS; i++) all += atomic_load(&g.hall[i]);
    CHECK_EQ(all, g_res.rts_total);
    CHECK_EQ(g.nflood + g.ndrain, g_res.rts_total);
    CHECK(g.nflood >= 1, "overload: no round trip started during the flood");
    double pf[2], pd[2];
    hpercentiles(g.hflood, g.nflood, pf);
    hpercentiles(g.hdrain, g.ndrain, pd);
    /* A bucket's midpoint may lie above the exact maximum. */
    for (int i = 0; i < 2; i++) {
        if (pf[i] > (double)g.maxflood / 1e3) pf[i] = (double)g.maxflood / 1e3;
        if (pd[i] > (double)g.maxdrain / 1e3) pd[i] = (double)g.maxdrain / 1e3;
    }

    long grown = g_res.rss_peak - g_res.rss_before;
    result_begin("overload", s);
    result_int("senders", g.s);
    result_int("msgs", g.msgs);
    result_float("seconds", g_res.seconds);
    result_float("flood_s", g_res.flood_s);
    result_float("cpu_s", g_res.cpu_s);
    result_int("max_qlen", (long long)g_res.max_q);
    result_int("self_max_qlen", (long long)g_res.self_max_q);
    result_int("rss_before_kb", g_res.rss_before);
    result_int("rss_peak_kb", g_res.rss_peak);
    result_int("rss_after_kb", g_res.rss_after);
    result_int("rss_after_trim_kb", g_res.rss_after_trim);
    result_float("b_per_queued_msg",
                 g_res.max_q > 0 ? (double)grown * 1024.0 / (double)g_res.max_q : 0);
    result_float("rss_kept_pct",
                 grown > 0 ? 100.0 * (double)(g_res.rss_after - g_res.rss_before) / (double)grown
                           : 0);
    result_float("rt_med_us", pf[0]);
    result_float("rt_p99_us", pf[1]);
    result_float("rt_max_us", (double)g.maxflood / 1e3);
    result_int("round_trips", (long long)g.nflood);
    double tw_med = hweighted_us(g.wflood, g.tflood, 0.5);
    double tw_p99 = hweighted_us(g.wflood, g.tflood, 0.99);
    result_float("rt_tw_med_us", tw_med < (double)g.maxflood / 1e3 ? tw_med : (double)g.maxflood / 1e3);
    result_float("rt_tw_p99_us", tw_p99 < (double)g.maxflood / 1e3 ? tw_p99 : (double)g.maxflood / 1e3);
    result_float("drain_rt_p99_us", pd[1]);
    result_float("drain_rt_max_us", (double)g.maxdrain / 1e3);
    result_int("drain_round_trips", (long long)g.ndrain);
    result_int("work_reds", WORK_REDS);
    result_end();
    return 0;
}
