/* Priorities on a single-scheduler runtime: a high-priority process runs before normal ones
 * that were queued earlier. From a root process: spawn 10 normal processes, then 1 high;
 * each sends its id to root; root then blocks in receive. The high one's message must come
 * first, then the normal ones in spawn order (a process spawned from a process goes to the
 * end of the run queue). A low-priority process spawned first must still run (no
 * starvation once the others are done). Repeated for several rounds. */
#define _GNU_SOURCE
#include <string.h>
#include "check.h"

#define ROUNDS 50
#define N_NORMAL 10
#define ID_HIGH 100
#define ID_LOW 200

static hive_pid g_root;

static void reporter(void *arg) {
    uint64_t id;
    memcpy(&id, arg, sizeof id);
    CHECK_OK(hive_test_send_2u64(g_root, id, hive_self()));
}

static void root(void *arg) {
    (void)arg;
    g_root = hive_self();
    hive_spawn_opts normal = {.priority = HIVE_PRIORITY_NORMAL, .flags = 0, .stack_size = 0};
    hive_spawn_opts high = {.priority = HIVE_PRIORITY_HIGH, .flags = 0, .stack_size = 0};
    hive_spawn_opts low = {.priority = HIVE_PRIORITY_LOW, .flags = 0, .stack_size = 0};
    for (int round = 0; round < ROUNDS; round++) {
        hive_pid pids[N_NORMAL + 2];
        uint64_t id;
        int with_low = round % 2;
        if (with_low) {
            id = ID_LOW;
            CHECK_OK(hive_spawn(reporter, &id, sizeof id, &low, &pids[N_NORMAL + 1]));
        }
        for (uint64_t i = 0; i < N_NORMAL; i++) {
            id = i;
            /* alternate NULL opts (default priority normal) and explicit normal */
            CHECK_OK(hive_spawn(reporter, &id, sizeof id, (i % 2) ? &normal : NULL, &pids[i]));
        }
        id = ID_HIGH;
        CHECK_OK(hive_spawn(reporter, &id, sizeof id, &high, &pids[N_NORMAL]));

        hive_msg *m = NULL;
        CHECK_OK(hive_receive(10000, &m)); /* root blocks here */
        CHECK_EQ(hive_test_word(m, 0), ID_HIGH);
        CHECK_EQ(hive_msg_sender(m), pids[N_NORMAL]);
        hive_msg_free(m);
        uint64_t next = 0;
        int low_seen = 0;
        for (int k = 0; k < N_NORMAL + with_low; k++) {
            CHECK_OK(hive_receive(10000, &m));
            uint64_t got = hive_test_word(m, 0);
            if (got == ID_LOW) {
                CHECK(with_low && !low_seen);
                CHECK_EQ(hive_msg_sender(m), pids[N_NORMAL + 1]);
                low_seen = 1;
            } else {
                CHECK_EQ(got, next); /* normal ones in spawn order */
                CHECK_EQ(hive_msg_sender(m), pids[next]);
                next++;
            }
            hive_msg_free(m);
        }
        CHECK_EQ(next, N_NORMAL);
        CHECK_EQ(low_seen, with_low);
        CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
    }
}

/* BEAM case 99 through the ABI: hive_set_priority returns the old level, unknown levels
 * are refused, process_info shows the current level. */
static void priority_flag(void *arg) {
    (void)arg;
    int32_t old = -1;
    hive_process_info pi;
    CHECK_OK(hive_set_priority(HIVE_PRIORITY_HIGH, &old));
    CHECK_EQ(old, HIVE_PRIORITY_NORMAL);
    CHECK_OK(hive_get_process_info(hive_self(), &pi));
    CHECK_EQ(pi.priority, HIVE_PRIORITY_HIGH);
    CHECK_OK(hive_set_priority(HIVE_PRIORITY_LOW, &old));
    CHECK_EQ(old, HIVE_PRIORITY_HIGH);
    CHECK_EQ(hive_set_priority(4711, &old), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_set_priority(-1, NULL), HIVE_ERR_BAD_ARGUMENT);
    CHECK_OK(hive_set_priority(HIVE_PRIORITY_NORMAL, NULL));
    CHECK_OK(hive_get_process_info(hive_self(), &pi));
    CHECK_EQ(pi.priority, HIVE_PRIORITY_NORMAL);
}

int main(void) {
    hive_config c;
    CHECK_OK(hive_config_default(&c));
    c.schedulers = 1;
    CHECK_OK(hive_init(&c));
    hive_exit_info info;
    CHECK_OK(hive_run(root, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    /* A high-priority root works too. */
    hive_spawn_opts high = {.priority = HIVE_PRIORITY_HIGH, .flags = 0, .stack_size = 0};
    CHECK_OK(hive_run(root, NULL, 0, &high, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_OK(hive_run(priority_flag, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    /* Not from a plain thread. */
    CHECK_EQ(hive_set_priority(HIVE_PRIORITY_HIGH, NULL), HIVE_ERR_NOT_A_PROCESS);
    uint64_t stopped = 0;
    CHECK_OK(hive_shutdown(&stopped));
    printf("abi_priority: %d rounds x 2 roots ok, %llu checks\n", ROUNDS, CHECKS_DONE());
    return 0;
}
