/* hive_wait from a plain thread on a process that thread just spawned. The spawn goes to a
 * worker through the injector, and the process can run, exit and leave the pid table before
 * the spawner's hive_wait looks it up. That is not an error: hive_wait then returns HIVE_OK
 * with reason noproc at once, as monitor/2 on a dead process gives a DOWN noproc (BEAM case
 * 57). HIVE_ERR_NO_PROCESS is kept for pids this runtime never issued. */
#define _POSIX_C_SOURCE 199309L
#include <pthread.h>
#include <sched.h>
#include "check.h"

#define ROUNDS 20000
#define THREADS 2
#define FAKE_PID ((99ull << 24) | 12345ull) /* index 12345, serial 99: never issued */

static void quick(void *arg) { (void)arg; }

static void quick_error(void *arg) {
    (void)arg;
    hive_exit(HIVE_REASON_ERROR, "boom", 4);
}

/* Spins until no process is in the pid table (failure bound 10 s). */
static void until_no_process(void) {
    uint64_t t0 = hive_test_now_ns();
    for (;;) {
        uint64_t n = 99;
        CHECK_OK(hive_process_count(&n));
        if (n == 0) return;
        CHECK_LT(hive_test_now_ns() - t0, 10ull * 1000000000ull);
        sched_yield();
    }
}

/* Deterministic: the process is gone (not in the table) before hive_wait is called. */
static void wait_after_exit(void) {
    for (int i = 0; i < 50; i++) {
        hive_pid p = 0;
        CHECK_OK(hive_spawn(i % 2 ? quick_error : quick, NULL, 0, NULL, &p));
        until_no_process();
        CHECK_EQ(hive_is_alive(p), 0);
        hive_exit_info info;
        memset(&info, 0xAB, sizeof info);
        CHECK_OK(hive_wait(p, 10000, &info));
        CHECK_EQ(info.kind, HIVE_REASON_NOPROC);
        CHECK_EQ(info.len, 0);
        CHECK_EQ(info.reserved, 0);
        CHECK_OK(hive_wait(p, 0, NULL)); /* again, and with no timeout to spare */
    }
    CHECK_EQ(hive_wait(FAKE_PID, 0, NULL), HIVE_ERR_NO_PROCESS);
}

static int g_noproc[THREADS];

/* Spawn + hive_wait in a loop: whichever side wins, hive_wait returns HIVE_OK. */
static void *spawn_wait_loop(void *arg) {
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < ROUNDS; i++) {
        int err = (i % 3 == 0);
        hive_pid p = 0;
        CHECK_OK(hive_spawn(err ? quick_error : quick, NULL, 0, NULL, &p));
        hive_exit_info info;
        memset(&info, 0xAB, sizeof info);
        hive_status s = hive_wait(p, 10000, &info);
        if (s != HIVE_OK)
            fprintf(stderr, "wait_race: thread %d round %d: hive_wait returned %d\n", t, i, s);
        CHECK_OK(s);
        if (info.kind == HIVE_REASON_NOPROC) {
            CHECK_EQ(info.len, 0);
            g_noproc[t]++;
        } else if (err) {
            CHECK_EQ(info.kind, HIVE_REASON_ERROR);
            CHECK_EQ(info.len, 4);
            CHECK(memcmp(info.data, "boom", 4) == 0);
        } else {
            CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
            CHECK_EQ(info.len, 0);
        }
    }
    return NULL;
}

int main(void) {
    hive_config c;
    CHECK_OK(hive_config_default(&c));
    c.schedulers = 2;
    CHECK_OK(hive_init(&c));

    wait_after_exit();

    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        CHECK_EQ(pthread_create(&th[t], NULL, spawn_wait_loop, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++) CHECK_EQ(pthread_join(th[t], NULL), 0);

    CHECK_OK(hive_shutdown(NULL));
    printf("wait_race: %d spawn+wait rounds on %d threads (%d found the process gone: noproc); "
           "%llu checks passed\n",
           ROUNDS * THREADS, THREADS, g_noproc[0] + g_noproc[1], CHECKS_DONE());
    return 0;
}
