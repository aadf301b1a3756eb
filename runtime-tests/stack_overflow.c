/* A C process that overflows its stack ends alone with reason "stack_overflow" (an error
 * reason); its neighbours and the runtime keep working. Compiled with stack probes so that
 * every page of a large frame is touched in order (what backends should emit). */
#include <string.h>
#include "check.h"

static volatile unsigned sink;

static volatile unsigned limit = ~0u; /* never reached: hides the recursion from -Winfinite-recursion */

__attribute__((noinline)) static unsigned recurse(unsigned depth) {
    volatile char buf[700];
    buf[depth % sizeof buf] = (char)depth;
    if (depth == limit) return 0;
    return recurse(depth + 1) + buf[3];
}

static void overflow(void *arg) {
    (void)arg;
    sink = recurse(0);
}

static void neighbour(void *arg) {
    (void)arg;
    hive_msg *m;
    CHECK_OK(hive_receive(-1, &m));
    CHECK_OK(hive_send(hive_msg_sender(m), "alive", 5));
    hive_msg_free(m);
}

static void check_neighbour(void *arg) {
    hive_pid n = *(hive_pid *)arg;
    CHECK_OK(hive_send(n, "ping", 4));
    hive_msg *m;
    CHECK_OK(hive_receive(5000, &m));
    CHECK_EQ(hive_msg_len(m), 5);
    CHECK(memcmp(hive_msg_data(m), "alive", 5) == 0);
    hive_msg_free(m);
}

int main(void) {
    CHECK_OK(hive_init(NULL));
    hive_pid n;
    CHECK_OK(hive_spawn(neighbour, NULL, 0, NULL, &n));
    hive_spawn_opts big = { .priority = HIVE_PRIORITY_NORMAL, .flags = 0, .stack_size = 1 << 20 };
    for (int i = 0; i < 4; i++) {
        hive_exit_info info;
        CHECK_OK(hive_run(overflow, NULL, 0, i % 2 ? &big : NULL, &info));
        CHECK_EQ(info.kind, HIVE_REASON_ERROR);
        CHECK_EQ(info.len, strlen("stack_overflow"));
        CHECK(memcmp(info.data, "stack_overflow", info.len) == 0);
    }
    hive_exit_info info;
    CHECK_OK(hive_run(check_neighbour, &n, sizeof n, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_OK(hive_shutdown(NULL));
    printf("stack_overflow: 4 overflows trapped, neighbour alive\n");
    return 0;
}
