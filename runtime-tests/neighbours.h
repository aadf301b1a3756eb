/* Neighbour processes for the stack tests: each keeps a pattern on its stack while it
 * waits in receive, and replies 1 if the pattern survived. A stack that overflows into
 * another process's slot shows up as a 0. Included by stack_probes.c and
 * stack_guard_size.c. */
#ifndef HIVE_NEIGHBOURS_H
#define HIVE_NEIGHBOURS_H
#include <string.h>
#include "check.h"

#define NEIGHBOURS 16
#define CANARY 2048

/* Blocked in receive with a pattern on its stack; replies whether the pattern survived. */
static void neighbour(void *arg) {
    unsigned id;
    memcpy(&id, arg, sizeof id);
    volatile unsigned char canary[CANARY];
    for (size_t i = 0; i < CANARY; i++) canary[i] = (unsigned char)(id * 31 + i);
    hive_msg *m;
    CHECK_OK(hive_receive(-1, &m));
    uint64_t intact = 1;
    for (size_t i = 0; i < CANARY; i++)
        if (canary[i] != (unsigned char)(id * 31 + i)) intact = 0;
    CHECK_OK(hive_test_send_u64(hive_msg_sender(m), intact));
    hive_msg_free(m);
}

static hive_pid g_neighbours[NEIGHBOURS];

/* Run as a process: asks every neighbour and checks each pattern survived. */
static void check_neighbours(void *arg) {
    (void)arg;
    for (int i = 0; i < NEIGHBOURS; i++) {
        CHECK_OK(hive_send(g_neighbours[i], "?", 1));
        CHECK_EQ(hive_test_recv_u64(10000), 1);
    }
}
#endif
