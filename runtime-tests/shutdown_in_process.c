/* hive_shutdown called from inside a process (issue 4: "safe to call from any thread,
 * including from inside a process"): it begins the shutdown asynchronously, like the BEAM's
 * init:stop/0, returns HIVE_OK with *stopped = 0, and the caller is stopped with the other
 * processes; the thread blocked in hive_run sees the root exit with reason `shutdown`.
 * Pending timers are cancelled. Afterwards every call says HIVE_ERR_SHUT_DOWN. */
#include "check.h"

enum { K = 50 };

static void sleeper(void *arg) {
    (void)arg;
    hive_msg *m;
    CHECK_OK(hive_receive(-1, &m));
    CHECK(!"a sleeper got a message");
}

static void root(void *arg) {
    (void)arg;
    for (int i = 0; i < K; i++) CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, NULL));
    hive_tref t;
    CHECK_OK(hive_send_after(hive_self(), 60000, "late", 4, &t));
    uint64_t stopped = 777;
    CHECK_OK(hive_shutdown(&stopped));
    CHECK_EQ(stopped, 0);
    /* A second request is refused: one is in progress. */
    CHECK_EQ(hive_shutdown(NULL), HIVE_ERR_SHUT_DOWN);
    /* Sends from a process during shutdown still succeed (the BEAM's send never fails). */
    CHECK_OK(hive_send(hive_self(), "x", 1));
    /* Wait to be stopped. */
    for (;;) {
        hive_msg *m;
        if (hive_receive(-1, &m) == HIVE_OK) hive_msg_free(m);
    }
}

int main(void) {
    CHECK_OK(hive_init(NULL));
    hive_exit_info info;
    CHECK_OK(hive_run(root, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_SHUTDOWN);
    /* From this thread: waits for the shutdown in progress, then reports it. */
    uint64_t n = 123;
    CHECK_EQ(hive_shutdown(&n), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(n, 123);
    uint64_t count;
    CHECK_EQ(hive_process_count(&count), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(hive_send(1, "x", 1), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(hive_init(NULL), HIVE_ERR_SHUT_DOWN);
    printf("shutdown_in_process: %d processes stopped by a shutdown begun in a process\n", K + 1);
    return 0;
}
