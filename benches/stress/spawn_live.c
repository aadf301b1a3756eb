/*
 * spawn_live N (one round): a spawner process spawns N processes that each block in
 * hive_receive(-1) (Erlang: `receive stop -> ok end`), keeping the pids in an array.
 *
 * - Spawn (timed): from the first spawn until every process has started and blocked.
 *   Each process bumps a per-thread counter right before its hive_receive; the main
 *   thread polls the sum until it is N and then until hive_process_count is N (the
 *   spawner gone). Erlang waits for quiet (all run queues empty) instead.
 * - Memory (untimed): rss_per_proc_b = (rss_live_kb - rss_before_kb) * 1024 / N. It
 *   includes the 8 B per process of the pid array (allocated before rss_before_kb, its
 *   pages touched during the spawn loop), as Erlang's includes its pid list.
 * - Kill (timed): the C ABI has no exit/2 yet, so the processes are killed by
 *   hive_shutdown from the main thread (reason `shutdown`); kills_per_s = N / the time of
 *   hive_shutdown, which also joins the worker threads. rss_after_kill_kb is read after.
 *
 * Checks: every spawn succeeded, all N pids are distinct and alive, each process ran
 * exactly once, the live count is exactly N, and shutdown stopped exactly N processes.
 *
 * Keys: n spawns_per_s rss_before_kb rss_live_kb rss_after_kill_kb rss_per_proc_b
 *       kills_per_s (plus live_s, kill_s).
 */
#include "common/bench.h"

static hive_pid *g_pids;
static _Atomic uint64_t g_t0, g_t1;
static _Atomic uint64_t g_spawned;

static void waiter(void *arg) {
    (void)arg;
    tcount_inc(); /* started; blocks right after */
    hive_msg *m;
    hive_status st = hive_receive(-1, &m);
    /* Nobody sends to these processes: they are stopped by hive_shutdown. */
    FAIL("a waiter's receive returned %d", (int)st);
}

static void spawner(void *arg) {
    uint64_t n;
    memcpy(&n, arg, sizeof n);
    hive_pid *pids = g_pids;
    atomic_store(&g_t0, now_ns());
    for (uint64_t i = 0; i < n; i++) {
        CHECK_OK(hive_spawn(waiter, NULL, 0, NULL, &pids[i]));
        hive_reduction_check();
    }
    atomic_store(&g_t1, now_ns());
    atomic_store(&g_spawned, n);
}

static int cmp_pid(const void *a, const void *b) {
    hive_pid x = *(const hive_pid *)a, y = *(const hive_pid *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    long long a[1];
    uint32_t s = bench_args(argc, argv, 1, "N", a);
    uint64_t n = (uint64_t)a[0];
    CHECK(n > 0, "N must be positive");
    bench_init(s);

    g_pids = malloc(n * sizeof *g_pids); /* lazily committed: touched while spawning */
    CHECK(g_pids != NULL, "out of memory");
    uint64_t base = process_count();
    CHECK_EQ(base, 0);
    long rss_before = rss_kb();

    CHECK_OK(hive_spawn(spawner, &n, sizeof n, NULL, NULL));
    /* Wait until every waiter has started (and is about to block or blocked). */
    uint64_t poll_start = now_ns();
    while (tcount_sum() < n) {
        if (seconds_between(poll_start, now_ns()) > 600) FAIL("waiters did not all start");
        sleep_ns(20000);
    }
    /* Then until the spawner is gone, so the count is exactly the N waiters. */
    uint64_t t1 = wait_process_count(base + n, 600);
    uint64_t t0 = atomic_load(&g_t0);
    CHECK(t0 != 0 && t1 >= t0, "timestamps");
    CHECK_EQ(atomic_load(&g_spawned), n);
    long rss_live = rss_kb();

    /* Untimed checks: each waiter ran once, N live, all pids distinct and alive. */
    CHECK_EQ(tcount_sum(), n);
    CHECK_EQ(process_count(), base + n);
    for (uint64_t i = 0; i < n; i++) CHECK_EQ(hive_is_alive(g_pids[i]), 1);
    hive_pid *sorted = malloc(n * sizeof *sorted);
    CHECK(sorted != NULL, "out of memory");
    memcpy(sorted, g_pids, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_pid);
    for (uint64_t i = 1; i < n; i++)
        CHECK(sorted[i] != sorted[i - 1], "pid %" PRIx64 " issued twice", sorted[i]);
    free(sorted);

    /* Kill (timed): every live process is stopped by shutdown. */
    uint64_t t2 = now_ns();
    uint64_t stopped = UINT64_MAX;
    CHECK_OK(hive_shutdown(&stopped));
    uint64_t t3 = now_ns();
    CHECK_EQ(stopped, n);
    long rss_after = rss_kb();
    free(g_pids);

    result_begin("spawn_live", s);
    result_int("n", (long long)n);
    result_rate("spawns_per_s", (double)n, seconds_between(t0, t1));
    result_int("rss_before_kb", rss_before);
    result_int("rss_live_kb", rss_live);
    result_int("rss_after_kill_kb", rss_after);
    result_float("rss_per_proc_b", (double)(rss_live - rss_before) * 1024.0 / (double)n);
    result_rate("kills_per_s", (double)n, seconds_between(t2, t3));
    result_float("live_s", seconds_between(t0, t1));
    result_float("kill_s", seconds_between(t2, t3));
    result_end();
    return 0;
}
