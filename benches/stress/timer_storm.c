/*
 * timer_storm N R (baselines.md workload 10).
 *
 * Storm: R receiver processes; the root process (the setter) sets N hive_send_after
 * timers with delays D pre-generated uniformly in 0..1000 ms (inclusive), round-robin
 * over the receivers. The payload is the ideal deadline in ns (CLOCK_MONOTONIC read just
 * before the set + D ms), so a receiver computes lateness = receipt time - ideal deadline.
 * The set loop is timed (sets_per_s). Then every second timer (in set order) is cancelled
 * with hive_cancel_timer, timed (cancels_per_s); HIVE_OK results are counted (cancel_ok),
 * HIVE_ERR_NO_TIMER means the timer already fired. The storm ends when every timer either
 * was cancelled OK or fired (fired + cancel_ok == N, checked). Lateness percentiles are
 * over the fired timers (per-receiver arrays, merged and sorted at the end).
 *
 * Sleep loop: 1000 x hive_sleep(1), each timed (sleep1_med_us, sleep1_p99_us).
 *
 * Far pass: N timers set 60000..61000 ms ahead to one sink process (far_sets_per_s), then
 * every second one cancelled (far_cancels_per_s; every cancel must return HIVE_OK), then
 * the rest (untimed, also HIVE_OK), and hive_get_runtime_stats().pending_timers must be 0.
 *
 * Setter and cancel loops charge one reduction per call (hive_reduction_check), as the
 * BEAM's send_after / cancel_timer BIFs cost reductions: with 1 scheduler the receivers
 * can then run during the set loop.
 *
 * Percentiles: sorted values L[0..K-1], median L[K/2], p99 L[K*99/100], max L[K-1].
 *
 * Keys: n r sets_per_s cancels_per_s cancel_ok fired late_med_us late_p99_us late_max_us
 * sleep1_med_us sleep1_p99_us far_sets_per_s far_cancels_per_s (and early, the fired
 * timers that arrived before their ideal deadline, which must be 0 by hive_send_after's
 * contract; plus storm_s, the time from the first set until the last timer was accounted
 * for).
 */
#include "common/bench.h"

enum { T_STOP = 1, T_DONE };

#define SLEEP_K 1000
#define FAR_MS 60000

struct recv_arg {
    hive_pid main;
    int64_t *lat; /* this receiver's lateness array (ns), capacity cap */
    int64_t cap;
};

static _Atomic int64_t g_fired;

static void receiver(void *arg) {
    struct recv_arg a;
    memcpy(&a, arg, sizeof a);
    int64_t n = 0, early = 0;
    for (;;) {
        hive_msg *m;
        CHECK_OK(hive_receive(-1, &m));
        uint64_t t = now_ns();
        if (hive_msg_len(m) == sizeof(int64_t)) {
            int64_t ideal;
            memcpy(&ideal, hive_msg_data(m), sizeof ideal);
            hive_msg_free(m);
            CHECK(n < a.cap, "receiver got more than %lld timers", (long long)a.cap);
            int64_t late = (int64_t)t - ideal;
            if (late < 0) early++;
            a.lat[n++] = late;
            atomic_fetch_add_explicit(&g_fired, 1, memory_order_relaxed);
            continue;
        }
        CHECK_EQ(hive_msg_len(m), sizeof(bmsg));
        bmsg b;
        memcpy(&b, hive_msg_data(m), sizeof b);
        hive_msg_free(m);
        CHECK_EQ(b.tag, T_STOP);
        break;
    }
    check_mailbox_empty();
    send_bmsg(a.main, T_DONE, (uint32_t)early, hive_self(), n);
}

static void sink(void *arg) {
    (void)arg;
    recv_tag(T_STOP);
    check_mailbox_empty();
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* xorshift64*: a fixed-seed generator, so every run uses the same delays. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng_next(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

struct params {
    int64_t n, r;
};

static struct {
    double set_s, cancel_s, storm_s, far_set_s, far_cancel_s;
    int64_t cancel_ok, fired, early;
    double late_med_us, late_p99_us, late_max_us, sleep_med_us, sleep_p99_us;
} g_res;

static void root(void *arg) {
    struct params p;
    memcpy(&p, arg, sizeof p);
    hive_pid self = hive_self();
    int64_t cap = (p.n + p.r - 1) / p.r;
    uint16_t *delay = malloc((size_t)p.n * sizeof *delay);
    hive_tref *tref = malloc((size_t)p.n * sizeof *tref);
    int64_t *lat = malloc((size_t)(cap * p.r) * sizeof *lat);
    hive_pid *recv = malloc((size_t)p.r * sizeof *recv);
    int64_t *count = calloc((size_t)p.r, sizeof *count);
    CHECK(delay && tref && lat && recv && count, "out of memory");
    for (int64_t i = 0; i < p.n; i++) delay[i] = (uint16_t)(rng_next() % 1001);
    for (int64_t k = 0; k < p.r; k++) {
        struct recv_arg ra = {self, lat + k * cap, cap};
        CHECK_OK(hive_spawn(receiver, &ra, sizeof ra, NULL, &recv[k]));
    }
    /* Let the receivers start and park. */
    CHECK_OK(hive_sleep(10));

    /* ---- storm: set ---- */
    uint64_t t0 = now_ns();
    for (int64_t i = 0, k = 0; i < p.n; i++) {
        int64_t ideal = (int64_t)now_ns() + (int64_t)delay[i] * 1000000;
        CHECK_OK(hive_send_after(recv[k], delay[i], &ideal, sizeof ideal, &tref[i]));
        if (++k == p.r) k = 0;
        hive_reduction_check();
    }
    uint64_t t1 = now_ns();
    /* ---- storm: cancel every second timer ---- */
    int64_t cancel_ok = 0;
    for (int64_t i = 0; i < p.n; i += 2) {
        hive_status st = hive_cancel_timer(tref[i], NULL);
        if (st == HIVE_OK) cancel_ok++;
        else CHECK(st == HIVE_ERR_NO_TIMER, "hive_cancel_timer returned %d (%s)", st,
                   bench_status_name(st));
        hive_reduction_check();
    }
    uint64_t t2 = now_ns();
    /* Wait until every timer is accounted for: fired + cancel_ok == N. */
    for (;;) {
        int64_t fired = atomic_load(&g_fired);
        if (fired + cancel_ok >= p.n) break;
        CHECK(seconds_between(t1, now_ns()) < 30,
              "storm: only %lld fired + %lld cancelled of %lld after 30 s", (long long)fired,
              (long long)cancel_ok, (long long)p.n);
        CHECK_OK(hive_sleep(1));
    }
    uint64_t t3 = now_ns();
    int64_t fired = 0, early = 0;
    for (int64_t k = 0; k < p.r; k++) send_bmsg(recv[k], T_STOP, 0, 0, 0);
    for (int64_t k = 0; k < p.r; k++) {
        hive_pid from = 0;
        bmsg b = recv_bmsg(&from);
        CHECK_EQ(b.tag, T_DONE);
        int64_t idx = -1;
        for (int64_t j = 0; j < p.r; j++)
            if (recv[j] == b.pid) idx = j;
        CHECK(idx >= 0, "done from an unknown process");
        count[idx] = b.val;
        fired += b.val;
        early += b.aux;
    }
    CHECK_EQ(fired, atomic_load(&g_fired));
    CHECK_EQ(fired + cancel_ok, p.n);
    /* Merge the per-receiver arrays (compact in place) and sort. */
    int64_t m = 0;
    for (int64_t k = 0; k < p.r; k++) {
        memmove(lat + m, lat + k * cap, (size_t)count[k] * sizeof *lat);
        m += count[k];
    }
    CHECK_EQ(m, fired);
    if (m > 0) {
        qsort(lat, (size_t)m, sizeof *lat, cmp_i64);
        g_res.late_med_us = (double)lat[m / 2] / 1e3;
        g_res.late_p99_us = (double)lat[(m * 99) / 100] / 1e3;
        g_res.late_max_us = (double)lat[m - 1] / 1e3;
    }
    hive_runtime_stats stats;
    CHECK_OK(hive_get_runtime_stats(&stats));
    CHECK_EQ(stats.pending_timers, 0);

    /* ---- sleep loop ---- */
    uint64_t sl[SLEEP_K];
    for (int i = 0; i < SLEEP_K; i++) {
        uint64_t s0 = now_ns();
        CHECK_OK(hive_sleep(1));
        sl[i] = now_ns() - s0;
        CHECK(sl[i] >= 1000000, "hive_sleep(1) returned after %" PRIu64 " ns", sl[i]);
    }
    qsort(sl, SLEEP_K, sizeof sl[0], cmp_i64); /* all < 2^63: same order as unsigned */
    g_res.sleep_med_us = (double)sl[SLEEP_K / 2] / 1e3;
    g_res.sleep_p99_us = (double)sl[(SLEEP_K * 99) / 100] / 1e3;

    /* ---- far pass ---- */
    hive_pid sk;
    CHECK_OK(hive_spawn(sink, NULL, 0, NULL, &sk));
    for (int64_t i = 0; i < p.n; i++) delay[i] = (uint16_t)(rng_next() % 1001);
    uint64_t f0 = now_ns();
    for (int64_t i = 0; i < p.n; i++) {
        int64_t ideal = (int64_t)i;
        CHECK_OK(hive_send_after(sk, FAR_MS + delay[i], &ideal, sizeof ideal, &tref[i]));
        hive_reduction_check();
    }
    uint64_t f1 = now_ns();
    for (int64_t i = 0; i < p.n; i += 2) {
        CHECK_OK(hive_cancel_timer(tref[i], NULL));
        hive_reduction_check();
    }
    uint64_t f2 = now_ns();
    for (int64_t i = 1; i < p.n; i += 2) {
        CHECK_OK(hive_cancel_timer(tref[i], NULL));
        hive_reduction_check();
    }
    CHECK_OK(hive_get_runtime_stats(&stats));
    CHECK_EQ(stats.pending_timers, 0);
    send_bmsg(sk, T_STOP, 0, 0, 0);
    check_mailbox_empty();

    g_res.set_s = seconds_between(t0, t1);
    g_res.cancel_s = seconds_between(t1, t2);
    g_res.storm_s = seconds_between(t0, t3);
    g_res.far_set_s = seconds_between(f0, f1);
    g_res.far_cancel_s = seconds_between(f1, f2);
    g_res.cancel_ok = cancel_ok;
    g_res.fired = fired;
    g_res.early = early;
    free(delay);
    free(tref);
    free(lat);
    free(recv);
    free(count);
}

int main(int argc, char **argv) {
    long long a[2];
    uint32_t s = bench_args(argc, argv, 2, "N R", a);
    struct params p = {a[0], a[1]};
    CHECK(p.n >= 1, "N must be positive");
    CHECK(p.r >= 1 && p.r <= 1000000, "R must be 1..1000000");
    bench_init(s);
    bench_run_root(root, &p, sizeof p);

    if (g_res.early > 0)
        fprintf(stderr, "timer_storm: %lld timers arrived before their ideal deadline\n",
                (long long)g_res.early);
    result_begin("timer_storm", s);
    result_int("n", p.n);
    result_int("r", p.r);
    result_rate("sets_per_s", (double)p.n, g_res.set_s);
    result_rate("cancels_per_s", (double)((p.n + 1) / 2), g_res.cancel_s);
    result_int("cancel_ok", g_res.cancel_ok);
    result_int("fired", g_res.fired);
    result_float("late_med_us", g_res.late_med_us);
    result_float("late_p99_us", g_res.late_p99_us);
    result_float("late_max_us", g_res.late_max_us);
    result_float("sleep1_med_us", g_res.sleep_med_us);
    result_float("sleep1_p99_us", g_res.sleep_p99_us);
    result_rate("far_sets_per_s", (double)p.n, g_res.far_set_s);
    result_rate("far_cancels_per_s", (double)((p.n + 1) / 2), g_res.far_cancel_s);
    result_int("early", g_res.early);
    result_float("storm_s", g_res.storm_s);
    result_end();
    return 0;
}
