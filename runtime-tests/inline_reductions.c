/* The inline forms from hive.h that generated code uses instead of calls:
 * hive_signal_pending(ctx) (a relaxed atomic load of ctx->signal_pending) and
 * hive_reduction_check_inline(ctx) (count a reduction, call the runtime only when the
 * slice is used up or a signal is pending). docs/abi.md, "Counting reductions in
 * generated code".
 *
 * 1. A process spins on hive_signal_pending(ctx) alone (no call, no reduction); an exit
 *    signal from the main thread must become visible to the loop, and the next
 *    hive_reduction_check_inline(ctx) must handle it: the process exits with the signal's
 *    reason. (A plain read of the field may be hoisted out of the loop: then it spins
 *    forever and hive_wait reports HIVE_TIMEOUT.)
 * 2. More busy processes than schedulers, each counting with hive_reduction_check_inline
 *    only: all of them run (they are preempted), and an exit signal stops each. */
#define _POSIX_C_SOURCE 199309L
#include <sched.h>
#include <string.h>
#include "check.h"

#define BUSY 5

static int g_started; /* set by the spinner once it spins (atomic builtins) */

static void spinner(void *arg) {
    (void)arg;
    hive_ctx *ctx = hive_current_ctx();
    CHECK(ctx != NULL);
    CHECK_EQ(hive_signal_pending(ctx), 0);
    __atomic_store_n(&g_started, 1, __ATOMIC_RELEASE);
    while (!hive_signal_pending(ctx)) {
    }
    for (;;) CHECK_OK(hive_reduction_check_inline(ctx)); /* the exit signal ends it here */
}

static uint64_t g_count[BUSY];

static void busy(void *arg) {
    unsigned i;
    memcpy(&i, arg, sizeof i);
    hive_ctx *ctx = hive_current_ctx();
    for (;;) {
        __atomic_fetch_add(&g_count[i], 1, __ATOMIC_RELAXED);
        CHECK_OK(hive_reduction_check_inline(ctx));
        CHECK_LE(ctx->reductions, HIVE_REDUCTIONS_PER_SLICE);
    }
}

int main(void) {
    hive_config c;
    CHECK_OK(hive_config_default(&c));
    c.schedulers = 2;
    CHECK_OK(hive_init(&c));
    CHECK(hive_current_ctx() == NULL); /* not a process */

    /* 1. */
    for (int round = 0; round < 20; round++) {
        __atomic_store_n(&g_started, 0, __ATOMIC_RELAXED);
        hive_pid p;
        CHECK_OK(hive_spawn(spinner, NULL, 0, NULL, &p));
        uint64_t t0 = hive_test_now_ns();
        while (!__atomic_load_n(&g_started, __ATOMIC_ACQUIRE)) {
            CHECK_LT(hive_test_now_ns() - t0, 10ull * 1000000000ull); /* failure bound */
            sched_yield();
        }
        CHECK_OK(hive_exit_pid(p, HIVE_REASON_ERROR, "stop", 4));
        hive_exit_info info;
        CHECK_OK(hive_wait(p, 10000, &info)); /* HIVE_TIMEOUT if it never saw the signal */
        CHECK(info.kind == HIVE_REASON_ERROR || info.kind == HIVE_REASON_NOPROC);
        if (info.kind == HIVE_REASON_ERROR) {
            CHECK_EQ(info.len, 4);
            CHECK(memcmp(info.data, "stop", 4) == 0);
        }
    }

    /* 2. */
    hive_pid b[BUSY];
    for (unsigned i = 0; i < BUSY; i++) CHECK_OK(hive_spawn(busy, &i, sizeof i, NULL, &b[i]));
    uint64_t t0 = hive_test_now_ns();
    for (unsigned i = 0; i < BUSY; i++) {
        while (__atomic_load_n(&g_count[i], __ATOMIC_RELAXED) < 3 * HIVE_REDUCTIONS_PER_SLICE) {
            CHECK_LT(hive_test_now_ns() - t0, 30ull * 1000000000ull); /* failure bound */
            sched_yield();
        }
    }
    for (unsigned i = 0; i < BUSY; i++) CHECK_OK(hive_exit_pid(b[i], HIVE_REASON_KILL, NULL, 0));
    for (unsigned i = 0; i < BUSY; i++) {
        hive_exit_info info;
        CHECK_OK(hive_wait(b[i], 10000, &info));
        CHECK(info.kind == HIVE_REASON_KILLED || info.kind == HIVE_REASON_NOPROC);
    }
    uint64_t n = 1;
    CHECK_OK(hive_process_count(&n));
    CHECK_EQ(n, 0);
    CHECK_OK(hive_shutdown(NULL));
    printf("inline_reductions: 20 spinners stopped through hive_signal_pending, %d busy processes "
           "preempted by hive_reduction_check_inline; %llu checks\n", BUSY, CHECKS_DONE());
    return 0;
}
