/*
 * skynet SIZE: a 10-ary tree with SIZE leaves (SIZE a power of 10). Each inner node
 * spawns 10 children, passing (parent, num, size) as the spawn argument bytes, and sums
 * their {sum, S} messages; each leaf sends its own number. The clock runs from spawning
 * the root node until its sum arrives at main; the sum must be SIZE*(SIZE-1)/2.
 *
 * "main" is the root process (hive_run). rss_delta_kb = VmRSS after - before the timed
 * part; procs = SIZE + SIZE/10 + ... + 1 (1,111,111 for 1M).
 *
 * Extra keys (not in the baselines): rss_peak_delta_kb = VmHWM after - VmRSS before (Hive
 * keeps freed stack pages resident in its pool, so rss_delta_kb is close to the peak;
 * Erlang's allocators may return freed memory before the end), and max_live = the most
 * processes alive at once, from hive_process_count sampled every 1 ms by a plain thread.
 *
 * Checks: the sum; every hive_spawn succeeded; every node of the tree ran exactly once
 * (per-thread counters summed to procs, read once the process count is back at 0); each
 * node got exactly 10 sum messages and nothing else; the process count is back at 0.
 *
 * Keys: size sum seconds procs_per_s rss_delta_kb cpu_s.
 */
#include "common/bench.h"

#include <pthread.h>

#define DIV 10

enum { T_SUM = 1 };

struct node_arg {
    hive_pid parent;
    int64_t num, size;
};

static void skynet(void *arg) {
    struct node_arg a;
    memcpy(&a, arg, sizeof a);
    tcount_inc();
    if (a.size == 1) {
        send_bmsg(a.parent, T_SUM, 0, 0, a.num);
        return;
    }
    int64_t child = a.size / DIV;
    struct node_arg c = {hive_self(), 0, child};
    for (int i = DIV; i >= 1; i--) { /* the order of the Erlang peer's spawn_children */
        c.num = a.num + (i - 1) * child;
        CHECK_OK(hive_spawn(skynet, &c, sizeof c, NULL, NULL));
    }
    int64_t sum = 0;
    for (int i = 0; i < DIV; i++) sum += recv_tag(T_SUM).val;
    send_bmsg(a.parent, T_SUM, 0, 0, sum);
}

static struct {
    int64_t sum;
    double seconds, cpu_s;
    long rss_delta_kb, rss_peak_delta_kb;
} g_res;

static _Atomic int g_sampling = 1;
static uint64_t g_max_live;

/* A plain thread (not a worker): samples the live process count every 1 ms. */
static void *sampler(void *arg) {
    (void)arg;
    while (atomic_load(&g_sampling)) {
        uint64_t n = process_count();
        if (n > g_max_live) g_max_live = n;
        sleep_ns(1000000);
    }
    return NULL;
}

static void root(void *arg) {
    int64_t size;
    memcpy(&size, arg, sizeof size);
    long rss0 = rss_kb();
    uint64_t c0 = cpu_ticks();
    uint64_t t0 = now_ns();
    struct node_arg a = {hive_self(), 0, size};
    CHECK_OK(hive_spawn(skynet, &a, sizeof a, NULL, NULL));
    int64_t sum = recv_tag(T_SUM).val;
    uint64_t t1 = now_ns();
    uint64_t c1 = cpu_ticks();
    long rss1 = rss_kb();
    long hwm = rss_hwm_kb();
    check_mailbox_empty();
    g_res.rss_peak_delta_kb = hwm - rss0;
    g_res.sum = sum;
    g_res.seconds = seconds_between(t0, t1);
    g_res.cpu_s = cpu_s_between(c0, c1);
    g_res.rss_delta_kb = rss1 - rss0;
}

int main(int argc, char **argv) {
    long long a[1];
    uint32_t s = bench_args(argc, argv, 1, "SIZE", a);
    int64_t size = a[0];
    int64_t procs = 0;
    for (int64_t x = size;; x /= DIV) {
        procs += x;
        if (x == 1) break;
        if (x % DIV != 0) FAIL("skynet: size %lld is not a power of %d", (long long)size, DIV);
    }
    bench_init(s);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, sampler, NULL) == 0, "pthread_create");
    hive_exit_info info;
    CHECK_OK(hive_run(root, &size, sizeof size, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    atomic_store(&g_sampling, 0);
    CHECK(pthread_join(th, NULL) == 0, "pthread_join");
    wait_process_count(0, 60);
    int64_t expected = size * (size - 1) / 2;
    CHECK_EQ(g_res.sum, expected);
    CHECK_EQ(tcount_sum(), procs);
    bench_shutdown(0);

    result_begin("skynet", s);
    result_int("size", size);
    result_int("sum", g_res.sum);
    result_float("seconds", g_res.seconds);
    result_rate("procs_per_s", (double)procs, g_res.seconds);
    result_int("rss_delta_kb", g_res.rss_delta_kb);
    result_float("cpu_s", g_res.cpu_s);
    result_int("rss_peak_delta_kb", g_res.rss_peak_delta_kb);
    result_int("max_live", (long long)g_max_live);
    result_end();
    return 0;
}
