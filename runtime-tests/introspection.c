/* hive_get_process_info and hive_get_runtime_stats from C, with their bad inputs. */
#include <string.h>
#include "check.h"

static void waiter(void *arg) {
    (void)arg;
    hive_msg *m;
    CHECK_OK(hive_receive(-1, &m)); /* the "go" message */
    hive_msg_free(m);
}

int main(void) {
    hive_process_info info;
    hive_runtime_stats st;
    CHECK_EQ(hive_get_process_info(1, &info), HIVE_ERR_NOT_INITIALIZED);
    CHECK_EQ(hive_get_runtime_stats(&st), HIVE_ERR_NOT_INITIALIZED);
    hive_config cfg;
    CHECK_OK(hive_config_default(&cfg));
    cfg.schedulers = 2;
    CHECK_OK(hive_init(&cfg));
    CHECK_EQ(hive_get_process_info(1, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_get_process_info(0, &info), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_get_runtime_stats(NULL), HIVE_ERR_NULL_POINTER);

    hive_spawn_opts low = {.priority = HIVE_PRIORITY_LOW, .flags = 0, .stack_size = 0};
    hive_pid p;
    CHECK_OK(hive_spawn(waiter, NULL, 0, &low, &p));
    CHECK_OK(hive_register("peek", 4, p));
    /* Until it blocks, status may be runnable or running; then it waits. */
    for (;;) {
        CHECK_OK(hive_get_process_info(p, &info));
        if (info.status == HIVE_STATUS_WAITING) break;
        CHECK(info.status == HIVE_STATUS_RUNNABLE || info.status == HIVE_STATUS_RUNNING);
    }
    CHECK_EQ(info.priority, HIVE_PRIORITY_LOW);
    CHECK_EQ(info.mailbox_len, 0);
    CHECK_EQ(info.trap_exit, 0);
    CHECK_EQ(info.name_len, 4);
    CHECK(memcmp(info.name, "peek", 4) == 0);

    CHECK_OK(hive_get_runtime_stats(&st));
    CHECK_EQ(st.schedulers, 2);
    CHECK_EQ(st.live, 1);
    CHECK(st.spawned >= 1);

    hive_tref t;
    CHECK_OK(hive_send_after(p, 60000, "x", 1, &t));
    CHECK_OK(hive_get_runtime_stats(&st));
    CHECK_EQ(st.pending_timers, 1);
    CHECK_OK(hive_send(p, "go", 2));
    hive_exit_info ex;
    hive_status s = hive_wait(p, 10000, &ex);
    CHECK(s == HIVE_OK || s == HIVE_ERR_NO_PROCESS);
    while (hive_is_alive(p) == 1) { }
    CHECK_EQ(hive_get_process_info(p, &info), HIVE_ERR_NO_PROCESS);
    CHECK_OK(hive_get_runtime_stats(&st));
    CHECK_EQ(st.live, 0);
    CHECK_EQ(st.pending_timers, 0); /* the destination exited: its timer is cancelled */
    CHECK_EQ(hive_read_timer(t, NULL), HIVE_ERR_NO_TIMER);
    CHECK_OK(hive_shutdown(NULL));
    CHECK_EQ(hive_get_runtime_stats(&st), HIVE_ERR_SHUT_DOWN);
    printf("introspection: ok\n");
    return 0;
}
