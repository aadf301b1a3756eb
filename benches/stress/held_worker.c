/*
 * held_worker HOLD_MS ROUNDS: one process holds its worker in a blocking system call
 * (nanosleep, HOLD_MS ms at a time, outside the runtime) until four sleepers, spawned onto the
 * same worker, have each done ROUNDS hive_sleep(50) calls; each sleep's lateness (time
 * taken - 50 ms) is recorded. A worker held for more than 10 ms is taken over by another
 * thread (docs/design.md, "Held workers"), so the sleepers' timers fire on time; without
 * it they would wait for the whole hold.
 * The BEAM peer's holder is an Erlang loop (the BEAM preempts Erlang code; only a NIF can
 * hold a scheduler the way a C call holds a Hive worker), so its column is a reference
 * for the lateness of a sleep next to a busy process.
 *
 * Keys: hold_ms rounds sleepers sleep_ms sleeps late_med_ms late_p99_ms late_max_ms takeovers.
 */
#include "common/bench.h"

#include <stdatomic.h>

#define SLEEPERS 4
#define SLEEP_MS 50

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int64_t g_hold_ms, g_rounds;
static uint64_t *g_late; /* ns, SLEEPERS * g_rounds */
static _Atomic int g_sleepers_left = SLEEPERS;

static void sleeper(void *arg) {
    int64_t id = *(const int64_t *)arg;
    for (int64_t r = 0; r < g_rounds; r++) {
        uint64_t t0 = now_ns();
        CHECK_OK(hive_sleep(SLEEP_MS));
        uint64_t t1 = now_ns();
        CHECK(t1 - t0 >= (uint64_t)SLEEP_MS * 1000000, "held_worker: woke early");
        g_late[id * g_rounds + r] = t1 - t0 - (uint64_t)SLEEP_MS * 1000000;
    }
    atomic_fetch_sub(&g_sleepers_left, 1);
}

static void holder(void *arg) {
    (void)arg;
    /* Holds its worker HOLD_MS at a time until the sleepers are done; between holds it
     * yields, which is where it notices that its worker was taken and moves on. */
    while (atomic_load(&g_sleepers_left) > 0) {
        sleep_ns((long)(g_hold_ms * 1000000)); /* nanosleep: a blocking system call */
        CHECK_OK(hive_yield());
    }
}

static void root(void *arg) {
    (void)arg;
    /* Sleepers first (they start on this worker), then the holder, which takes this
     * worker as soon as the root returns. */
    for (int64_t i = 0; i < SLEEPERS; i++) {
        hive_pid p;
        CHECK_OK(hive_spawn(sleeper, &i, sizeof i, NULL, &p));
    }
    hive_pid h;
    CHECK_OK(hive_spawn(holder, NULL, 0, NULL, &h));
}

int main(int argc, char **argv) {
    long long a[2];
    uint32_t s = bench_args(argc, argv, 2, "HOLD_MS ROUNDS", a);
    g_hold_ms = a[0];
    g_rounds = a[1];
    CHECK(g_hold_ms >= 1 && g_rounds >= 1, "HOLD_MS and ROUNDS must be at least 1");
    size_t n = (size_t)(SLEEPERS * g_rounds);
    g_late = calloc(n, sizeof *g_late);
    CHECK(g_late != NULL, "out of memory");
    bench_init(s);
    hive_exit_info info;
    CHECK_OK(hive_run(root, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    wait_process_count(0, 120); /* the sleepers and the holder */
    hive_runtime_stats st;
    CHECK_OK(hive_get_runtime_stats(&st));
    bench_shutdown(0);
    qsort(g_late, n, sizeof *g_late, cmp_u64);
    result_begin("held_worker", s);
    result_int("hold_ms", g_hold_ms);
    result_int("rounds", g_rounds);
    result_int("sleepers", SLEEPERS);
    result_int("sleep_ms", SLEEP_MS);
    result_int("sleeps", (long long)n);
    result_float("late_med_ms", g_late[n / 2] / 1e6);
    result_float("late_p99_ms", g_late[(n * 99) / 100] / 1e6);
    result_float("late_max_ms", g_late[n - 1] / 1e6);
    result_int("takeovers", (long long)st.takeovers);
    result_end();
    free(g_late);
    return 0;
}
