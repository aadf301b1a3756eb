/* hive_config.guard_size: a larger guard catches a write far below the stack, which is what
 * a function with a large frame and no stack probes does (its prologue moves the stack
 * pointer down past the guard, then writes). With a 256 KiB guard, a write 160 KiB below
 * the bottom of a 64 KiB stack faults in the guard and ends that process alone with
 * "stack_overflow"; with the default one-page guard the same write lands in another
 * process's stack slot. Also: the bounds of guard_size, and the 16 KiB minimum stack of a
 * spawn. docs/abi.md, "Stack probes". */
#include <string.h>
#include "check.h"
#include "neighbours.h"

#define GUARD (256 * 1024)
#define BELOW (160 * 1024) /* below the usable bottom: inside the guard */

/* Writes one byte `below` bytes under the bottom of a 64 KiB stack, as the first store of an
 * unprobed frame of about 64 KiB + `below` would. */
__attribute__((noinline)) static void far_write(size_t below) {
    volatile char here = 0;
    volatile char *p = (volatile char *)((uintptr_t)&here - (64 * 1024) - below);
    *p = 1;
}

static void unprobed(void *arg) {
    (void)arg;
    far_write(BELOW);
}

static void nop(void *arg) { (void)arg; }

int main(void) {
    hive_config c;
    CHECK_OK(hive_config_default(&c));
    CHECK_EQ(c.guard_size, 4096);
    c.schedulers = 2;
    c.guard_size = ((size_t)512 << 10) + 1;
    CHECK_EQ(hive_init(&c), HIVE_ERR_BAD_LENGTH);
    c.guard_size = GUARD;
    CHECK_OK(hive_init(&c));

    /* The minimum stack of a spawn: 16 KiB (0 = the default). */
    hive_spawn_opts o = {.priority = HIVE_PRIORITY_NORMAL, .flags = 0, .stack_size = 16 * 1024 - 1};
    CHECK_EQ(hive_spawn(nop, NULL, 0, &o, NULL), HIVE_ERR_BAD_LENGTH);
    o.stack_size = 4096;
    CHECK_EQ(hive_spawn(nop, NULL, 0, &o, NULL), HIVE_ERR_BAD_LENGTH);
    o.stack_size = 16 * 1024;
    hive_exit_info info;
    CHECK_OK(hive_run(nop, NULL, 0, &o, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);

    for (unsigned i = 0; i < NEIGHBOURS; i++)
        CHECK_OK(hive_spawn(neighbour, &i, sizeof i, NULL, &g_neighbours[i]));
    for (int round = 0; round < 8; round++) {
        memset(&info, 0xAB, sizeof info);
        CHECK_OK(hive_run(unprobed, NULL, 0, NULL, &info));
        if (info.kind != HIVE_REASON_ERROR)
            fprintf(stderr, "stack_guard_size: round %d: exit kind %d, not stack_overflow\n",
                    round, info.kind);
        CHECK_EQ(info.kind, HIVE_REASON_ERROR);
        CHECK_EQ(info.len, strlen("stack_overflow"));
        CHECK(memcmp(info.data, "stack_overflow", info.len) == 0);
    }
    CHECK_OK(hive_run(check_neighbours, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_OK(hive_shutdown(NULL));
    printf("stack_guard_size: 8 writes %d KiB below the stack trapped by a %d KiB guard, %d "
           "neighbours intact; %llu checks\n", BELOW / 1024, GUARD / 1024, NEIGHBOURS, CHECKS_DONE());
    return 0;
}
