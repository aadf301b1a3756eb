/* A function with a 256 KiB frame in a process with the default 64 KiB stack and the default
 * one-page guard. Compiled with -fstack-clash-protection (the Makefile's CFLAGS), the
 * prologue probes each page of the frame in order, the first probe below the stack hits the
 * guard, and the process alone ends with reason "stack_overflow". Without probes the frame
 * jumps over the guard and its writes land in other processes' stack slots or unmapped
 * memory: this test then fails (the OS process crashes, or the process exits normal and
 * its neighbours find their stacks overwritten). docs/abi.md, "Stack probes". */
#include <string.h>
#include "check.h"
#include "neighbours.h"

#define BIG (256 * 1024)

static volatile unsigned g_sink;

/* A 256 KiB local array, every cache line of it touched. */
__attribute__((noinline)) static unsigned big_frame(unsigned seed) {
    volatile unsigned char buf[BIG];
    for (size_t i = 0; i < BIG; i += 64) buf[i] = (unsigned char)(seed + i / 64);
    unsigned s = 0;
    for (size_t i = 0; i < BIG; i += 64) s += buf[i];
    return s;
}

static unsigned expected(unsigned seed) {
    unsigned s = 0;
    for (size_t i = 0; i < BIG; i += 64) s += (unsigned char)(seed + i / 64);
    return s;
}

static void big(void *arg) {
    unsigned seed;
    memcpy(&seed, arg, sizeof seed);
    g_sink = big_frame(seed);
}

int main(void) {
    hive_config c;
    CHECK_OK(hive_config_default(&c));
    CHECK_EQ(c.guard_size, 4096); /* the default: one page is enough with probes */
    c.schedulers = 2;
    CHECK_OK(hive_init(&c));
    for (unsigned i = 0; i < NEIGHBOURS; i++)
        CHECK_OK(hive_spawn(neighbour, &i, sizeof i, NULL, &g_neighbours[i]));

    /* With a stack large enough, the same frame runs normally. */
    hive_spawn_opts mib = {.priority = HIVE_PRIORITY_NORMAL, .flags = 0, .stack_size = 1 << 20};
    unsigned seed = 7;
    hive_exit_info info;
    CHECK_OK(hive_run(big, &seed, sizeof seed, &mib, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_EQ(g_sink, expected(seed));

    /* In the default 64 KiB stack: stack_overflow, for that process alone. */
    for (int round = 0; round < 8; round++) {
        seed = (unsigned)round;
        memset(&info, 0xAB, sizeof info);
        CHECK_OK(hive_run(big, &seed, sizeof seed, NULL, &info));
        if (info.kind != HIVE_REASON_ERROR)
            fprintf(stderr, "stack_probes: round %d: exit kind %d, not stack_overflow\n", round,
                    info.kind);
        CHECK_EQ(info.kind, HIVE_REASON_ERROR);
        CHECK_EQ(info.len, strlen("stack_overflow"));
        CHECK(memcmp(info.data, "stack_overflow", info.len) == 0);
    }

    CHECK_OK(hive_run(check_neighbours, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    uint64_t n = 0;
    CHECK_OK(hive_process_count(&n));
    CHECK_EQ(n, 0);
    CHECK_OK(hive_shutdown(NULL));
    printf("stack_probes: 8 frames of 256 KiB trapped as stack_overflow, %d neighbours intact; "
           "%llu checks\n", NEIGHBOURS, CHECKS_DONE());
    return 0;
}
