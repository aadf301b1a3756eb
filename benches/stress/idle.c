/*
 * idle N WINDOW_MS: N processes blocked in receive, then the runtime is left alone for
 * WINDOW_MS milliseconds while the CPU time of the whole OS process is measured. Hive's
 * workers sleep when they have nothing to do (no spinning), so this should be ~0.
 *
 * Each process bumps a counter right before it blocks; once the counter reaches N, main
 * waits a further 100 ms for the last ones to finish parking (untimed), then measures.
 * Then hive_shutdown must stop exactly N processes.
 *
 * Keys: n window_s idle_cpu_s idle_cpu_pct.
 */
#include "common/bench.h"

static _Atomic int64_t g_blocked;

static void sleeper(void *arg) {
    (void)arg;
    atomic_fetch_add(&g_blocked, 1);
    hive_msg *m;
    CHECK_OK(hive_receive(-1, &m)); /* never answered: shutdown stops it */
    FAIL("idle: a sleeper received a message");
}

int main(int argc, char **argv) {
    long long a[2];
    uint32_t s = bench_args(argc, argv, 2, "N WINDOW_MS", a);
    int64_t n = a[0];
    long long window_ms = a[1];
    bench_init(s);
    for (int64_t i = 0; i < n; i++) CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, NULL));
    uint64_t start = now_ns();
    while (atomic_load(&g_blocked) < n) {
        if (seconds_between(start, now_ns()) > 120) FAIL("idle: processes did not start");
        sleep_ns(1000000);
    }
    sleep_ns(100000000L);
    uint64_t c0 = cpu_ticks();
    uint64_t t0 = now_ns();
    sleep_ns(window_ms * 1000000L);
    uint64_t t1 = now_ns();
    uint64_t c1 = cpu_ticks();
    CHECK_EQ(process_count(), (uint64_t)n);
    bench_shutdown((uint64_t)n);
    double window = seconds_between(t0, t1), cpu = cpu_s_between(c0, c1);
    result_begin("idle", s);
    result_int("n", n);
    result_float("window_s", window);
    result_float("idle_cpu_s", cpu);
    result_float("idle_cpu_pct", 100.0 * cpu / window);
    result_end();
    return 0;
}
