/* Life cycle of the runtime through the C ABI: calls before hive_init, bad configurations,
 * hive_init twice, hive_run and exit reasons, hive_wait from the main thread, hive_shutdown
 * (from a process, then from main with processes still alive), and calls after shutdown. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include "check.h"

#define FAKE_PID ((99ull << 24) | 12345ull) /* index 12345, serial 99: never spawned */

static void nop_entry(void *arg) { (void)arg; }

/* ---- root processes for hive_run --------------------------------------------------- */

static hive_pid g_root_pid;
static void root_returns(void *arg) {
    CHECK(arg != NULL);
    CHECK_EQ(*(uint32_t *)arg, 0xC0FFEEu);
    g_root_pid = hive_self();
    CHECK_NE(g_root_pid, 0);
    CHECK_EQ(hive_is_alive(g_root_pid), 1);
}

static void root_exit_error(void *arg) {
    (void)arg;
    hive_exit(HIVE_REASON_ERROR, "boom", 4);
    CHECK(!"hive_exit returned");
}

static uint8_t g_long_reason[200];
static void root_exit_long(void *arg) {
    (void)arg;
    hive_exit(HIVE_REASON_ERROR, g_long_reason, sizeof g_long_reason);
    CHECK(!"hive_exit returned");
}
static void root_exit_64(void *arg) {
    (void)arg;
    hive_exit(HIVE_REASON_ERROR, g_long_reason, HIVE_EXIT_DATA_MAX);
    CHECK(!"hive_exit returned");
}
static void root_exit_error_empty(void *arg) {
    (void)arg;
    hive_exit(HIVE_REASON_ERROR, NULL, 0);
    CHECK(!"hive_exit returned");
}
static void root_exit_shutdown_kind(void *arg) {
    (void)arg;
    hive_exit(HIVE_REASON_SHUTDOWN, NULL, 0);
    CHECK(!"hive_exit returned");
}
static void root_exit_normal_kind(void *arg) {
    (void)arg;
    hive_exit(HIVE_REASON_NORMAL, NULL, 0);
    CHECK(!"hive_exit returned");
}

/* hive_run / hive_wait from inside a process: HIVE_ERR_IN_PROCESS. (hive_shutdown from a
 * process begins an asynchronous shutdown instead: see shutdown_in_process.c.) */
static void root_in_process(void *arg) {
    (void)arg;
    CHECK_EQ(hive_run(nop_entry, NULL, 0, NULL, NULL), HIVE_ERR_IN_PROCESS);
    CHECK_EQ(hive_wait(hive_self(), 0, NULL), HIVE_ERR_IN_PROCESS);
    /* The runtime still works for this process afterwards. */
    CHECK_OK(hive_test_send_u64(hive_self(), 5));
    CHECK_EQ(hive_test_recv_u64(0), 5);
}

/* ---- processes waited for from main ----------------------------------------------- */

/* Blocks until it gets one message, burns a few slices, then ends the way word 0 says. */
static void waitee(void *arg) {
    (void)arg;
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(-1, &m));
    uint64_t how = hive_test_word(m, 0);
    hive_msg_free(m);
    for (int i = 0; i < 3 * HIVE_REDUCTIONS_PER_SLICE; i++) CHECK_OK(hive_reduction_check());
    if (how == 1) hive_exit(HIVE_REASON_ERROR, "waited-for", 10);
}

/* Spawns a waitee, checks hive_wait times out while it is blocked, then releases it and
 * waits for it. hive_wait may legitimately find it already gone (HIVE_OK with reason
 * noproc: it exited before the call), so the release/wait is repeated until one hive_wait
 * observes the exit with its real reason. Returns the number of attempts. */
static int wait_scenario(uint64_t how, int64_t timeout_ms) {
    for (int attempt = 1; attempt <= 500; attempt++) {
        hive_pid p = 0;
        CHECK_OK(hive_spawn(waitee, NULL, 0, NULL, &p));
        CHECK_NE(p, 0);
        CHECK_EQ(hive_is_alive(p), 1);
        hive_exit_info info;
        memset(&info, 0xAB, sizeof info);
        if (attempt == 1) {
            uint64_t t0 = hive_test_now_ns();
            CHECK_EQ(hive_wait(p, 50, &info), HIVE_TIMEOUT);
            CHECK_GE(hive_test_now_ns() - t0, 50ull * 1000000);
            CHECK_EQ(hive_wait(p, 0, &info), HIVE_TIMEOUT);
            CHECK_EQ(hive_is_alive(p), 1);
        }
        CHECK_OK(hive_test_send_u64(p, how));
        hive_status s = hive_wait(p, timeout_ms, &info);
        CHECK_OK(s);
        CHECK_EQ(hive_is_alive(p), 0);
        CHECK_OK(hive_wait(p, 0, NULL)); /* dead pid: at once */
        if (info.kind != HIVE_REASON_NOPROC) {
            CHECK_EQ(info.reserved, 0);
            if (how == 1) {
                CHECK_EQ(info.kind, HIVE_REASON_ERROR);
                CHECK_EQ(info.len, 10);
                CHECK(memcmp(info.data, "waited-for", 10) == 0);
            } else {
                CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
                CHECK_EQ(info.len, 0);
            }
            return attempt;
        }
    }
    CHECK(!"hive_wait never observed the exit of a live process in 500 attempts");
    return -1;
}

/* A root that pings a child 1000 times, then exits with its id (+1000) as reason. */
static void pinger_child(void *arg) {
    hive_pid to;
    memcpy(&to, arg, sizeof to);
    for (;;) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(10000, &m));
        if (hive_msg_len(m) == 0) { hive_msg_free(m); return; }
        CHECK_OK(hive_send_msg(to, m));
    }
}
static void pinger_root(void *arg) {
    uint64_t id;
    memcpy(&id, arg, sizeof id);
    hive_pid self = hive_self(), c;
    CHECK_OK(hive_spawn(pinger_child, &self, sizeof self, NULL, &c));
    for (uint64_t i = 0; i < 1000; i++) {
        CHECK_OK(hive_test_send_2u64(c, id, i));
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(10000, &m));
        CHECK_EQ(hive_test_word(m, 0), id);
        CHECK_EQ(hive_test_word(m, 1), i);
        hive_msg_free(m);
    }
    CHECK_OK(hive_send(c, NULL, 0));
    uint64_t reason = 1000 + id;
    hive_exit(HIVE_REASON_ERROR, &reason, sizeof reason);
}
struct run_arg { uint64_t id; hive_status status; hive_exit_info info; };
static void *run_thread(void *p) {
    struct run_arg *a = p;
    a->status = hive_run(pinger_root, &a->id, sizeof a->id, NULL, &a->info);
    return NULL;
}
static void root_exit_kind(void *arg) {
    int32_t kind;
    memcpy(&kind, arg, sizeof kind);
    hive_exit(kind, NULL, 0);
    CHECK(!"hive_exit returned");
}

/* ---- processes alive at shutdown -------------------------------------------------- */

static int g_blocked_started;  /* atomic */
static int g_spinner_started;  /* atomic */

static void blocked_forever(void *arg) {
    int64_t timeout = arg ? *(int64_t *)arg : -1;
    __atomic_fetch_add(&g_blocked_started, 1, __ATOMIC_SEQ_CST);
    for (;;) { /* takes whatever it is sent; only shutdown ends it */
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(timeout, &m));
        hive_msg_free(m);
    }
}

/* A ring of processes passing tokens as fast as they can while the runtime shuts down.
 * A send may fail with HIVE_ERR_SHUT_DOWN once shutdown has begun (msg freed); a process
 * blocked in receive never gets past it. */
#define RING 200
static hive_pid g_ring[RING];
static int g_ring_started, g_ring_passes; /* atomic */
static void ring_member(void *arg) {
    int i;
    memcpy(&i, arg, sizeof i);
    __atomic_fetch_add(&g_ring_started, 1, __ATOMIC_SEQ_CST);
    for (;;) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(-1, &m));
        hive_pid next = __atomic_load_n(&g_ring[(i + 1) % RING], __ATOMIC_SEQ_CST);
        if (next == 0) { hive_msg_free(m); continue; }
        hive_status s = hive_send_msg(next, m);
        CHECK(s == HIVE_OK || s == HIVE_ERR_SHUT_DOWN);
        __atomic_fetch_add(&g_ring_passes, 1, __ATOMIC_SEQ_CST);
    }
}

static void spinner_forever(void *arg) {
    (void)arg;
    __atomic_store_n(&g_spinner_started, 1, __ATOMIC_SEQ_CST);
    for (;;) hive_reduction_check();
}

struct waiter_arg { hive_pid pid; hive_status status; hive_exit_info info; };
/* hive_run of a root that blocks forever, in progress when hive_shutdown runs. */
static void *blocked_run_thread(void *p) {
    struct waiter_arg *w = p;
    w->status = hive_run(blocked_forever, NULL, 0, NULL, &w->info);
    return NULL;
}
/* Sends to a live process until the runtime is shut down: only OK or SHUT_DOWN allowed. */
static int g_sends_ok; /* atomic */
static void *racing_sender_thread(void *p) {
    struct waiter_arg *w = p;
    for (;;) {
        hive_status s = hive_send(w->pid, "spam", 4);
        if (s == HIVE_OK) { __atomic_fetch_add(&g_sends_ok, 1, __ATOMIC_SEQ_CST); continue; }
        w->status = s;
        return NULL;
    }
}
static void *waiter_thread(void *p) {
    struct waiter_arg *w = p;
    w->status = hive_wait(w->pid, 30000, &w->info);
    return NULL;
}

static void spin_until(int *flag, int value) {
    uint64_t t0 = hive_test_now_ns();
    while (__atomic_load_n(flag, __ATOMIC_SEQ_CST) < value) {
        CHECK_LT(hive_test_now_ns() - t0, 10ull * 1000000000); /* failure bound */
        sched_yield();
    }
}

int main(void) {
    hive_pid me_pid = 1;
    uint64_t n = 12345;
    hive_msg *m = NULL;
    hive_config c;

    /* 1. Before hive_init. */
    CHECK_EQ(hive_send(me_pid, "x", 1), HIVE_ERR_NOT_INITIALIZED);
    CHECK_EQ(hive_send(FAKE_PID, NULL, 0), HIVE_ERR_NOT_INITIALIZED);
    hive_pid p = 42;
    CHECK_EQ(hive_spawn(nop_entry, NULL, 0, NULL, &p), HIVE_ERR_NOT_INITIALIZED);
    CHECK_EQ(p, 42);
    CHECK_EQ(hive_run(nop_entry, NULL, 0, NULL, NULL), HIVE_ERR_NOT_INITIALIZED);
    CHECK_EQ(hive_wait(FAKE_PID, 0, NULL), HIVE_ERR_NOT_INITIALIZED);
    CHECK_EQ(hive_wait(FAKE_PID, -1, NULL), HIVE_ERR_NOT_INITIALIZED);
    CHECK_EQ(hive_shutdown(NULL), HIVE_ERR_NOT_INITIALIZED);
    CHECK_EQ(hive_shutdown(&n), HIVE_ERR_NOT_INITIALIZED);
    CHECK_EQ(n, 12345);
    CHECK_EQ(hive_is_alive(FAKE_PID), HIVE_ERR_NOT_INITIALIZED);
    CHECK_EQ(hive_process_count(&n), HIVE_ERR_NOT_INITIALIZED);
    CHECK_EQ(n, 12345);
    CHECK_EQ(hive_self(), 0);
    CHECK(hive_current_ctx() == NULL);
    CHECK_EQ(hive_receive(0, &m), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_yield(), HIVE_ERR_NOT_A_PROCESS);
    /* hive_msg_alloc does not need the runtime; hive_send_msg takes ownership and fails. */
    CHECK_OK(hive_msg_alloc(16, &m));
    CHECK(m != NULL);
    CHECK_EQ(hive_msg_len(m), 16);
    CHECK_EQ(hive_send_msg(FAKE_PID, m), HIVE_ERR_NOT_INITIALIZED);

    /* 2. hive_config_default. */
    CHECK_EQ(hive_config_default(NULL), HIVE_ERR_NULL_POINTER);
    memset(&c, 0xFF, sizeof c);
    CHECK_OK(hive_config_default(&c));
    CHECK_EQ(c.poll_spin_us, 50);
    CHECK_EQ(c.stack_size, 64 * 1024);
    CHECK_EQ(c.max_processes, 1u << 22);
    CHECK_EQ(c.guard_size, 4096);
    CHECK_LE(c.schedulers, 1024);

    /* 3. Bad configurations: each fails with its documented status and initialises nothing. */
    struct { const char *what; hive_config cfg; hive_status want; } bad[10];
    int nbad = 0;
    CHECK_OK(hive_config_default(&c));
    bad[nbad].what = "poll_spin_us=10001"; bad[nbad].cfg = c; bad[nbad].cfg.poll_spin_us = 10001; bad[nbad++].want = HIVE_ERR_BAD_ARGUMENT;
    bad[nbad].what = "schedulers=5000"; bad[nbad].cfg = c; bad[nbad].cfg.schedulers = 5000; bad[nbad++].want = HIVE_ERR_BAD_ARGUMENT;
    bad[nbad].what = "schedulers=1025"; bad[nbad].cfg = c; bad[nbad].cfg.schedulers = 1025; bad[nbad++].want = HIVE_ERR_BAD_ARGUMENT;
    bad[nbad].what = "max_processes=0"; bad[nbad].cfg = c; bad[nbad].cfg.max_processes = 0; bad[nbad++].want = HIVE_ERR_BAD_ARGUMENT;
    bad[nbad].what = "max_processes=2^24+1"; bad[nbad].cfg = c; bad[nbad].cfg.max_processes = (1u << 24) + 1; bad[nbad++].want = HIVE_ERR_BAD_ARGUMENT;
    bad[nbad].what = "stack_size=1<<30"; bad[nbad].cfg = c; bad[nbad].cfg.stack_size = (size_t)1 << 30; bad[nbad++].want = HIVE_ERR_BAD_LENGTH;
    bad[nbad].what = "stack_size=64MiB+1"; bad[nbad].cfg = c; bad[nbad].cfg.stack_size = ((size_t)64 << 20) + 1; bad[nbad++].want = HIVE_ERR_BAD_LENGTH;
    bad[nbad].what = "guard_size=512KiB+1"; bad[nbad].cfg = c; bad[nbad].cfg.guard_size = ((size_t)512 << 10) + 1; bad[nbad++].want = HIVE_ERR_BAD_LENGTH;
    bad[nbad].what = "guard_size=SIZE_MAX"; bad[nbad].cfg = c; bad[nbad].cfg.guard_size = SIZE_MAX; bad[nbad++].want = HIVE_ERR_BAD_LENGTH;
    for (int i = 0; i < nbad; i++) {
        hive_status s = hive_init(&bad[i].cfg);
        if (s != bad[i].want) fprintf(stderr, "hive_init(%s)\n", bad[i].what);
        CHECK_EQ(s, bad[i].want);
        CHECK_EQ(hive_process_count(&n), HIVE_ERR_NOT_INITIALIZED);
        CHECK_EQ(hive_spawn(nop_entry, NULL, 0, NULL, NULL), HIVE_ERR_NOT_INITIALIZED);
        CHECK_EQ(hive_shutdown(NULL), HIVE_ERR_NOT_INITIALIZED);
    }

    /* 4. A good init, then a second one. */
    CHECK_OK(hive_config_default(&c));
    c.schedulers = 2;
    CHECK_OK(hive_init(&c));
    CHECK_EQ(hive_init(&c), HIVE_ERR_ALREADY_INITIALIZED);
    CHECK_EQ(hive_init(NULL), HIVE_ERR_ALREADY_INITIALIZED);
    CHECK_OK(hive_process_count(&n));
    CHECK_EQ(n, 0);

    /* 5. hive_run and exit information. */
    hive_exit_info info;
    uint32_t magic = 0xC0FFEE;
    memset(&info, 0xAB, sizeof info);
    CHECK_OK(hive_run(root_returns, &magic, sizeof magic, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_EQ(info.reserved, 0);
    CHECK_EQ(info.len, 0);
    CHECK_EQ(hive_is_alive(g_root_pid), 0);
    CHECK_OK(hive_wait(g_root_pid, 0, &info)); /* dead pid: at once, noproc once it is gone */
    CHECK(info.kind == HIVE_REASON_NORMAL || info.kind == HIVE_REASON_NOPROC);
    CHECK_OK(hive_run(root_returns, &magic, sizeof magic, NULL, NULL)); /* info_out NULL */

    memset(&info, 0xAB, sizeof info);
    CHECK_OK(hive_run(root_exit_error, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_ERROR);
    CHECK_EQ(info.reserved, 0);
    CHECK_EQ(info.len, 4);
    CHECK(memcmp(info.data, "boom", 4) == 0);

    for (size_t i = 0; i < sizeof g_long_reason; i++) g_long_reason[i] = (uint8_t)(i * 7 + 3);
    memset(&info, 0xAB, sizeof info);
    CHECK_OK(hive_run(root_exit_long, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_ERROR);
    CHECK_EQ(info.len, sizeof g_long_reason); /* full length */
    CHECK(memcmp(info.data, g_long_reason, HIVE_EXIT_DATA_MAX) == 0); /* first bytes */

    memset(&info, 0xAB, sizeof info);
    CHECK_OK(hive_run(root_exit_64, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_ERROR);
    CHECK_EQ(info.len, HIVE_EXIT_DATA_MAX);
    CHECK(memcmp(info.data, g_long_reason, HIVE_EXIT_DATA_MAX) == 0);

    memset(&info, 0xAB, sizeof info);
    CHECK_OK(hive_run(root_exit_error_empty, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_ERROR);
    CHECK_EQ(info.len, 0);

    memset(&info, 0xAB, sizeof info);
    CHECK_OK(hive_run(root_exit_shutdown_kind, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_SHUTDOWN);
    CHECK_EQ(info.len, 0);

    memset(&info, 0xAB, sizeof info);
    CHECK_OK(hive_run(root_exit_normal_kind, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_EQ(info.len, 0);

    /* 6. hive_wait from main. */
    CHECK_EQ(hive_wait(0, 0, NULL), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_wait(0, -1, &info), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_wait(FAKE_PID, 0, &info), HIVE_ERR_NO_PROCESS);
    CHECK_EQ(hive_wait(FAKE_PID, -1, &info), HIVE_ERR_NO_PROCESS); /* must not block */
    CHECK_EQ(hive_wait(FAKE_PID | (1ull << 52), 100, &info), HIVE_ERR_NO_PROCESS);
    int tries_normal = wait_scenario(0, 10000);
    int tries_error = wait_scenario(1, 10000);
    wait_scenario(0, -1);
    wait_scenario(0, INT64_MIN);  /* any negative value: no limit */
    wait_scenario(1, INT64_MAX);  /* a huge limit must not overflow */
    wait_scenario(0, 4294967296ll * 1000);

    /* 6b. hive_run from several plain threads at once. */
    {
        pthread_t th[4];
        struct run_arg ra[4];
        for (int i = 0; i < 4; i++) {
            ra[i].id = (uint64_t)i;
            CHECK_EQ(pthread_create(&th[i], NULL, run_thread, &ra[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
            CHECK_EQ(pthread_join(th[i], NULL), 0);
            CHECK_OK(ra[i].status);
            CHECK_EQ(ra[i].info.kind, HIVE_REASON_ERROR);
            CHECK_EQ(ra[i].info.len, 8);
            uint64_t got;
            memcpy(&got, ra[i].info.data, 8);
            CHECK_EQ(got, 1000 + ra[i].id);
        }
    }

    /* 6c. Every reason kind through hive_exit. */
    for (int32_t kind = HIVE_REASON_NORMAL; kind <= HIVE_REASON_ERROR; kind++) {
        memset(&info, 0xAB, sizeof info);
        CHECK_OK(hive_run(root_exit_kind, &kind, sizeof kind, NULL, &info));
        CHECK_EQ(info.kind, kind);
        CHECK_EQ(info.reserved, 0);
        CHECK_EQ(info.len, 0);
    }

    /* 7. hive_run / hive_wait from inside a process. */
    memset(&info, 0xAB, sizeof info);
    CHECK_OK(hive_run(root_in_process, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);

    /* 8. hive_shutdown from main with processes still alive: K = 3 blocked forever, 1 blocked
     * with a long timeout, 1 runnable (spinning on reduction checks); plus the root of a
     * hive_run in progress on another thread, and a ring of RING busy processes. */
    /* The pingers' children (6b) may still be returning: let them finish. */
    uint64_t t0 = hive_test_now_ns();
    for (;;) {
        CHECK_OK(hive_process_count(&n));
        if (n == 0) break;
        CHECK_LT(hive_test_now_ns() - t0, 10ull * 1000000000); /* failure bound */
        sched_yield();
    }
    const int K = 5;
    hive_pid alive[5];
    int64_t long_timeout = 60000;
    for (int i = 0; i < 3; i++) CHECK_OK(hive_spawn(blocked_forever, NULL, 0, NULL, &alive[i]));
    CHECK_OK(hive_spawn(blocked_forever, &long_timeout, sizeof long_timeout, NULL, &alive[3]));
    CHECK_OK(hive_spawn(spinner_forever, NULL, 0, NULL, &alive[4]));
    spin_until(&g_blocked_started, 4);
    spin_until(&g_spinner_started, 1);
    CHECK_OK(hive_process_count(&n));
    CHECK_EQ(n, K);
    /* One more: the root of a hive_run in progress on another thread. */
    struct waiter_arg runner = {.pid = 0, .status = 99};
    pthread_t rt;
    CHECK_EQ(pthread_create(&rt, NULL, blocked_run_thread, &runner), 0);
    spin_until(&g_blocked_started, 5);
    CHECK_OK(hive_process_count(&n));
    CHECK_EQ(n, K + 1);
    /* And a thread sending to a blocked process while the runtime shuts down. */
    struct waiter_arg spam = {.pid = alive[1], .status = 99};
    pthread_t st;
    CHECK_EQ(pthread_create(&st, NULL, racing_sender_thread, &spam), 0);
    spin_until(&g_sends_ok, 100);
    /* And a ring of busy processes. */
    for (int i = 0; i < RING; i++) {
        hive_pid rp = 0;
        CHECK_OK(hive_spawn(ring_member, &i, sizeof i, NULL, &rp));
        __atomic_store_n(&g_ring[i], rp, __ATOMIC_SEQ_CST);
    }
    for (int i = 0; i < RING; i += 4) CHECK_OK(hive_send(g_ring[i], "token", 5));
    spin_until(&g_ring_started, RING);
    spin_until(&g_ring_passes, 10 * RING);
    for (int i = 0; i < K; i++) CHECK_EQ(hive_is_alive(alive[i]), 1);
    /* A thread blocked in hive_wait on one of them when shutdown happens must come back:
     * with the `shutdown` reason, or HIVE_ERR_SHUT_DOWN. */
    struct waiter_arg w = {.pid = alive[0], .status = 99};
    pthread_t wt;
    CHECK_EQ(pthread_create(&wt, NULL, waiter_thread, &w), 0);
    uint64_t stopped = 999;
    CHECK_OK(hive_shutdown(&stopped));
    CHECK_EQ(stopped, K + 1 + RING);
    CHECK_EQ(pthread_join(wt, NULL), 0);
    CHECK_EQ(pthread_join(rt, NULL), 0);
    CHECK(runner.status == HIVE_OK || runner.status == HIVE_ERR_SHUT_DOWN);
    if (runner.status == HIVE_OK) CHECK_EQ(runner.info.kind, HIVE_REASON_SHUTDOWN);
    CHECK_EQ(pthread_join(st, NULL), 0);
    CHECK_EQ(spam.status, HIVE_ERR_SHUT_DOWN);
    CHECK(w.status == HIVE_OK || w.status == HIVE_ERR_SHUT_DOWN);
    if (w.status == HIVE_OK) CHECK_EQ(w.info.kind, HIVE_REASON_SHUTDOWN);

    /* 9. After shutdown every call returns HIVE_ERR_SHUT_DOWN. */
    CHECK_EQ(hive_shutdown(&stopped), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(hive_shutdown(NULL), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(hive_init(NULL), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(hive_init(&c), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(hive_send(alive[0], "x", 1), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(hive_send(FAKE_PID, NULL, 0), HIVE_ERR_SHUT_DOWN);
    p = 42;
    CHECK_EQ(hive_spawn(nop_entry, NULL, 0, NULL, &p), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(p, 42);
    CHECK_EQ(hive_run(nop_entry, NULL, 0, NULL, &info), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(hive_wait(alive[1], 0, &info), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(hive_wait(alive[1], -1, &info), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(hive_is_alive(alive[2]), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(hive_is_alive(FAKE_PID), HIVE_ERR_SHUT_DOWN);
    n = 12345;
    CHECK_EQ(hive_process_count(&n), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(n, 12345);
    CHECK_OK(hive_msg_alloc(8, &m));
    CHECK_EQ(hive_send_msg(alive[0], m), HIVE_ERR_SHUT_DOWN); /* msg freed by the runtime */

    printf("abi_lifecycle: %llu checks ok (hive_wait observed exits after %d and %d attempts; "
           "shutdown stopped %llu)\n", CHECKS_DONE(), tries_normal, tries_error,
           (unsigned long long)stopped);
    return 0;
}
