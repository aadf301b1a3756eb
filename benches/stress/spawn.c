/*
 * spawn N: one spawner process issues N spawns of a process that returns at once
 * (Erlang: spawn(fun nop/0)). The clock runs from the first spawn until
 * hive_process_count is back at its starting value, polled from the main thread
 * (Erlang: system_info(process_count), polled with yield). spawn_loop_s is the time the
 * spawner took to issue the N spawns.
 *
 * Checks: every hive_spawn succeeded, every spawned process ran exactly once (per-thread
 * counters summed to N), the process count is back at baseline, and shutdown stops
 * nothing.
 *
 * Keys: n seconds spawns_per_s spawn_loop_s cpu_s.
 */
#include "common/bench.h"

static _Atomic uint64_t g_t0, g_t1; /* set by the spawner: first spawn, end of loop */
static _Atomic uint64_t g_spawned;

static void nop(void *arg) {
    (void)arg;
    tcount_inc(); /* "I ran": a thread-local counter, no contended atomic */
}

static void spawner(void *arg) {
    uint64_t n;
    memcpy(&n, arg, sizeof n);
    uint64_t ok = 0;
    atomic_store(&g_t0, now_ns());
    for (uint64_t i = 0; i < n; i++) {
        CHECK_OK(hive_spawn(nop, NULL, 0, NULL, NULL));
        ok++;
        hive_reduction_check();
    }
    atomic_store(&g_t1, now_ns());
    atomic_store(&g_spawned, ok);
}

int main(int argc, char **argv) {
    long long a[1];
    uint32_t s = bench_args(argc, argv, 1, "N", a);
    uint64_t n = (uint64_t)a[0];
    bench_init(s);

    uint64_t base = process_count();
    CHECK_EQ(base, 0);
    uint64_t c0 = cpu_ticks();
    CHECK_OK(hive_spawn(spawner, &n, sizeof n, NULL, NULL));
    /* The spawner is counted from here on, so the count is back at base only once it and
     * every process it spawned have exited. */
    uint64_t t2 = wait_process_count(base, 600);
    uint64_t c1 = cpu_ticks();

    uint64_t t0 = atomic_load(&g_t0), t1 = atomic_load(&g_t1);
    CHECK(t0 != 0 && t1 >= t0 && t2 >= t1, "spawner timestamps t0=%" PRIu64 " t1=%" PRIu64
                                           " t2=%" PRIu64, t0, t1, t2);
    CHECK_EQ(atomic_load(&g_spawned), n);
    /* Every nop ran exactly once. The counters are written before each process exits, so
     * they are complete once the count is back; allow a moment for visibility anyway. */
    uint64_t ran = tcount_sum();
    for (int i = 0; i < 1000 && ran != n; i++) {
        sleep_ns(1000000);
        ran = tcount_sum();
    }
    CHECK_EQ(ran, n);
    CHECK_EQ(process_count(), base);
    bench_shutdown(0);

    double secs = seconds_between(t0, t2);
    result_begin("spawn", s);
    result_int("n", (long long)n);
    result_float("seconds", secs);
    result_rate("spawns_per_s", (double)n, secs);
    result_float("spawn_loop_s", seconds_between(t0, t1));
    result_float("cpu_s", cpu_s_between(c0, c1));
    result_end();
    return 0;
}
