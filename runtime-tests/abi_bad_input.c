/* Every bad-input path of the C ABI: NULL pointers, lengths, enum values, pids, calls made
 * from the wrong kind of thread, receive timeouts out of range, receive inside a predicate.
 * Each call must return its documented status and leave the runtime usable. */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include "check.h"

#define FAKE_PID ((99ull << 24) | 12345ull) /* index 12345, serial 99: never spawned */
#define NODE_BIT (1ull << 52)               /* node field = 1: another node */
#define BIG_TIMEOUT ((int64_t)4294967296ll) /* one more than the largest allowed */

static void nop_entry(void *arg) { (void)arg; }
static int32_t match_any(void *env, const hive_msg *m) { (void)env; (void)m; return 1; }
static int32_t match_none(void *env, const hive_msg *m) { (void)env; (void)m; return 0; }
/* Matches a message whose word 0 equals *(uint64_t *)env. */
static int32_t match_word(void *env, const hive_msg *m) {
    return hive_msg_len(m) >= 8 && hive_test_word(m, 0) == *(uint64_t *)env;
}

/* Calls that need a process, made from a thread that is not one. */
static void not_a_process_checks(void) {
    hive_msg *m = (hive_msg *)0x1;
    size_t len = 77;
    CHECK_EQ(hive_receive(0, &m), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_receive(-1, &m), HIVE_ERR_NOT_A_PROCESS); /* must not block */
    CHECK_EQ(hive_receive(100, &m), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_receive_match(match_any, NULL, 0, &m), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_receive_match(match_any, NULL, -1, &m), HIVE_ERR_NOT_A_PROCESS);
    CHECK(m == (hive_msg *)0x1);
    CHECK_EQ(hive_yield(), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_reduction_check(), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_consume_reductions(10), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_mailbox_len(&len), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(len, 77);
    CHECK_EQ(hive_exit(HIVE_REASON_NORMAL, NULL, 0), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_exit(HIVE_REASON_ERROR, "x", 1), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_self(), 0);
    CHECK(hive_current_ctx() == NULL);
}
static void *plain_thread(void *arg) {
    (void)arg;
    not_a_process_checks();
    return NULL;
}

/* ---- spawn argument checks (shared by main and processes) --------------------------- */
static uint8_t g_big_arg[HIVE_MAX_ARG_LEN + 1];

static void spawn_bad_input_checks(void) {
    hive_pid p = 42;
    hive_spawn_opts o;
    CHECK_EQ(hive_spawn(NULL, NULL, 0, NULL, &p), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_spawn(nop_entry, NULL, 5, NULL, &p), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_spawn(nop_entry, g_big_arg, HIVE_MAX_ARG_LEN + 1, NULL, &p), HIVE_ERR_BAD_LENGTH);
    memset(&o, 0, sizeof o);
    o.priority = 7;
    CHECK_EQ(hive_spawn(nop_entry, NULL, 0, &o, &p), HIVE_ERR_BAD_ARGUMENT);
    o.priority = 3;
    CHECK_EQ(hive_spawn(nop_entry, NULL, 0, &o, &p), HIVE_ERR_BAD_ARGUMENT);
    o.priority = -1;
    CHECK_EQ(hive_spawn(nop_entry, NULL, 0, &o, &p), HIVE_ERR_BAD_ARGUMENT);
    o.priority = HIVE_PRIORITY_NORMAL;
    o.flags = 1;
    CHECK_EQ(hive_spawn(nop_entry, NULL, 0, &o, &p), HIVE_ERR_BAD_ARGUMENT);
    o.flags = 0x80000000u;
    CHECK_EQ(hive_spawn(nop_entry, NULL, 0, &o, &p), HIVE_ERR_BAD_ARGUMENT);
    o.flags = 0;
    o.stack_size = ((size_t)64 << 20) + 1;
    CHECK_EQ(hive_spawn(nop_entry, NULL, 0, &o, &p), HIVE_ERR_BAD_LENGTH);
    o.stack_size = SIZE_MAX;
    CHECK_EQ(hive_spawn(nop_entry, NULL, 0, &o, &p), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(p, 42); /* never written on failure */
    /* The same through hive_run (only from a thread that is not a process). */
    if (hive_self() == 0) {
        hive_exit_info info;
        CHECK_EQ(hive_run(NULL, NULL, 0, NULL, &info), HIVE_ERR_NULL_POINTER);
        CHECK_EQ(hive_run(nop_entry, NULL, 1, NULL, &info), HIVE_ERR_NULL_POINTER);
        CHECK_EQ(hive_run(nop_entry, g_big_arg, HIVE_MAX_ARG_LEN + 1, NULL, &info), HIVE_ERR_BAD_LENGTH);
        memset(&o, 0, sizeof o);
        o.priority = 7;
        CHECK_EQ(hive_run(nop_entry, NULL, 0, &o, &info), HIVE_ERR_BAD_ARGUMENT);
        o.priority = HIVE_PRIORITY_HIGH;
        o.flags = 2;
        CHECK_EQ(hive_run(nop_entry, NULL, 0, &o, &info), HIVE_ERR_BAD_ARGUMENT);
        o.flags = 0;
        o.stack_size = (size_t)1 << 30;
        CHECK_EQ(hive_run(nop_entry, NULL, 0, &o, &info), HIVE_ERR_BAD_LENGTH);
    }
}

/* ---- processes ---------------------------------------------------------------------- */

/* Sends word 0 of its argument (a pid) the value 0xA11CE, or to g_root if arg is NULL. */
static hive_pid g_root;
static void reply_entry(void *arg) {
    hive_pid to = g_root;
    if (arg) memcpy(&to, arg, sizeof to);
    if (to == 0) to = g_root;
    CHECK_OK(hive_test_send_2u64(to, 0xA11CE, hive_self()));
}

/* Waits with the largest allowed timeout; reports 1 if the receive returned OK. */
static void max_timeout_waiter(void *arg) {
    hive_pid root;
    memcpy(&root, arg, sizeof root);
    hive_msg *m = NULL;
    hive_status s = hive_receive(4294967295ll, &m);
    CHECK_OK(hive_test_send_2u64(root, 0xD0E, (uint64_t)(int64_t)s));
    if (s == HIVE_OK) hive_msg_free(m);
}

/* Sends 0x1A7E then 0x1A7E2, each after a 20 ms pause (pacing only). */
static void late_sender(void *arg) {
    hive_pid root;
    memcpy(&root, arg, sizeof root);
    hive_msg *m = NULL;
    CHECK_EQ(hive_receive(20, &m), HIVE_TIMEOUT);
    CHECK_OK(hive_test_send_u64(root, 0x1A7E));
    CHECK_EQ(hive_receive(20, &m), HIVE_TIMEOUT);
    CHECK_OK(hive_test_send_u64(root, 0x1A7E2));
}

/* hive_exit with bad input returns the error and the process continues; then it exits
 * with a reason of exactly HIVE_MAX_REASON_LEN bytes. */
static uint8_t g_reason[HIVE_MAX_REASON_LEN + 1];
static void exit_checks_entry(void *arg) {
    (void)arg;
    CHECK_EQ(hive_exit(99, NULL, 0), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_exit(-1, NULL, 0), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_exit(HIVE_REASON_ERROR + 1, NULL, 0), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_exit(HIVE_REASON_ERROR, NULL, 5), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_exit(HIVE_REASON_ERROR, g_reason, HIVE_MAX_REASON_LEN + 1), HIVE_ERR_BAD_LENGTH);
    CHECK_OK(hive_yield()); /* still a working process */
    hive_exit(HIVE_REASON_ERROR, g_reason, HIVE_MAX_REASON_LEN);
    CHECK(!"hive_exit returned");
}

/* A predicate that calls hive_receive / hive_receive_match: both must fail. */
struct nested { hive_status recv, recv_match, recv_wait; int calls; };
static int32_t nested_pred(void *env, const hive_msg *msg) {
    struct nested *n = env;
    hive_msg *m = NULL;
    n->calls++;
    n->recv = hive_receive(0, &m);
    n->recv_wait = hive_receive(-1, &m);
    n->recv_match = hive_receive_match(match_any, NULL, 0, &m);
    return hive_msg_len(msg) == 8 && hive_test_word(msg, 0) == 2;
}

static void root(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    g_root = self;
    CHECK_NE(self, 0);
    hive_msg *m = NULL;
    size_t len = 0;
    uint64_t cnt = 0;

    /* Calls that must not be made from a process. */
    hive_exit_info info;
    CHECK_EQ(hive_run(nop_entry, NULL, 0, NULL, &info), HIVE_ERR_IN_PROCESS);
    CHECK_EQ(hive_run(nop_entry, NULL, 0, NULL, NULL), HIVE_ERR_IN_PROCESS);
    CHECK_EQ(hive_wait(self, 0, &info), HIVE_ERR_IN_PROCESS);
    CHECK_EQ(hive_wait(FAKE_PID, -1, NULL), HIVE_ERR_IN_PROCESS);
    /* (hive_shutdown from a process begins an asynchronous shutdown: shutdown_in_process.c) */

    /* Spawn input checks from a process, and pid_out NULL is allowed. */
    spawn_bad_input_checks();
    CHECK_OK(hive_spawn(reply_entry, &self, sizeof self, NULL, NULL));
    CHECK_EQ(hive_test_recv_u64(5000), 0xA11CE);
    CHECK_OK(hive_spawn(reply_entry, g_big_arg, HIVE_MAX_ARG_LEN, NULL, NULL)); /* exactly max */
    CHECK_EQ(hive_test_recv_u64(5000), 0xA11CE); /* g_big_arg is all zero: sends to g_root */
    hive_spawn_opts o = {.priority = HIVE_PRIORITY_LOW, .flags = 0, .stack_size = (size_t)64 << 20};
    CHECK_OK(hive_spawn(reply_entry, NULL, 0, &o, NULL)); /* exactly the largest stack */
    CHECK_EQ(hive_test_recv_u64(5000), 0xA11CE);

    /* NULL out pointers. */
    CHECK_EQ(hive_receive(0, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_receive_match(match_any, NULL, 0, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_receive_match(NULL, NULL, 0, &m), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_mailbox_len(NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_process_count(NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_msg_alloc(8, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_config_default(NULL), HIVE_ERR_NULL_POINTER);
    /* ... and with a message queued they consume nothing. */
    CHECK_OK(hive_test_send_u64(self, 1));
    CHECK_EQ(hive_receive(0, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_receive(-1, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_receive_match(match_any, NULL, 0, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_receive_match(NULL, NULL, -1, &m), HIVE_ERR_NULL_POINTER);
    CHECK_OK(hive_mailbox_len(&len));
    CHECK_EQ(len, 1);
    CHECK_EQ(hive_test_recv_u64(0), 1);

    /* hive_send: NULL data, lengths, pid 0, unknown pids, other nodes. */
    CHECK_EQ(hive_send(self, NULL, 5), HIVE_ERR_NULL_POINTER);
    CHECK_OK(hive_send(self, NULL, 0));
    CHECK_OK(hive_receive(0, &m));
    CHECK_EQ(hive_msg_len(m), 0);
    CHECK_EQ(hive_msg_sender(m), self);
    CHECK_EQ(hive_msg_kind(m), HIVE_MSG_DATA);
    hive_msg_free(m);
    uint8_t *huge = malloc((size_t)HIVE_MAX_MESSAGE_LEN + 1); /* never touched */
    CHECK(huge != NULL);
    CHECK_EQ(hive_send(self, huge, (size_t)HIVE_MAX_MESSAGE_LEN + 1), HIVE_ERR_BAD_LENGTH);
    free(huge);
    CHECK_EQ(hive_send(0, "x", 1), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_send(0, NULL, 0), HIVE_ERR_BAD_ARGUMENT);
    CHECK_OK(hive_send(FAKE_PID, "x", 1));
    CHECK_OK(hive_send(FAKE_PID, NULL, 0));
    CHECK_OK(hive_send(self | NODE_BIT, "x", 1)); /* same index and serial, other node */
    CHECK_OK(hive_send((0xFFFull << 52) | FAKE_PID, "x", 1));
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT); /* nothing reached this process */
    CHECK_EQ(hive_is_alive(0), 0);
    CHECK_EQ(hive_is_alive(FAKE_PID), 0);
    CHECK_EQ(hive_is_alive(self), 1);
    CHECK_EQ(hive_is_alive(self | NODE_BIT), HIVE_ERR_BAD_ARGUMENT); /* case 143: badarg */

    /* hive_msg_alloc / hive_send_msg. */
    CHECK_EQ(hive_msg_alloc((size_t)HIVE_MAX_MESSAGE_LEN + 1, &m), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_msg_alloc(SIZE_MAX, &m), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_send_msg(self, NULL), HIVE_ERR_NULL_POINTER);
    for (int i = 0; i < 1000; i++) { /* pid 0 frees the message: no crash, no double free */
        CHECK_OK(hive_msg_alloc(64, &m));
        memset(hive_msg_data(m), 0x5A, 64);
        CHECK_EQ(hive_send_msg(0, m), HIVE_ERR_BAD_ARGUMENT);
    }
    CHECK_OK(hive_msg_alloc(8, &m));
    CHECK_OK(hive_send_msg(FAKE_PID, m));
    CHECK_OK(hive_msg_alloc(8, &m));
    CHECK_OK(hive_send_msg(self | NODE_BIT, m));
    CHECK_OK(hive_msg_alloc(0, &m));
    CHECK_EQ(hive_msg_len(m), 0);
    CHECK_OK(hive_send_msg(self, m));
    CHECK_OK(hive_receive(0, &m));
    CHECK_EQ(hive_msg_len(m), 0);
    hive_msg_free(m);
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);

    /* Exactly HIVE_MAX_MESSAGE_LEN is allowed (only touched pages use memory). */
    CHECK_OK(hive_msg_alloc((size_t)HIVE_MAX_MESSAGE_LEN, &m));
    CHECK_EQ(hive_msg_len(m), HIVE_MAX_MESSAGE_LEN);
    hive_msg_data(m)[0] = 0x11;
    hive_msg_data(m)[HIVE_MAX_MESSAGE_LEN - 1] = 0x22;
    CHECK_OK(hive_send_msg(self, m));
    CHECK_OK(hive_receive(0, &m));
    CHECK_EQ(hive_msg_len(m), HIVE_MAX_MESSAGE_LEN);
    CHECK_EQ(hive_msg_data(m)[0], 0x11);
    CHECK_EQ(hive_msg_data(m)[HIVE_MAX_MESSAGE_LEN - 1], 0x22);
    hive_msg_free(m);

    /* Accessors with NULL. */
    CHECK(hive_msg_data(NULL) == NULL);
    CHECK_EQ(hive_msg_len(NULL), 0);
    CHECK_EQ(hive_msg_sender(NULL), 0);
    CHECK_EQ(hive_msg_kind(NULL), HIVE_ERR_NULL_POINTER);
    hive_msg_free(NULL);

    /* Receive timeouts out of range: an error only when the receive has to wait. */
    CHECK_EQ(hive_receive(BIG_TIMEOUT, &m), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_receive(INT64_MAX, &m), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_receive_match(match_any, NULL, BIG_TIMEOUT, &m), HIVE_ERR_BAD_ARGUMENT);
    CHECK_OK(hive_test_send_u64(self, 12));
    CHECK_OK(hive_receive(BIG_TIMEOUT, &m)); /* BEAM case 12 quirk: queued message wins */
    CHECK_EQ(hive_test_word(m, 0), 12);
    hive_msg_free(m);
    CHECK_OK(hive_test_send_u64(self, 13));
    CHECK_OK(hive_receive_match(match_any, NULL, INT64_MAX, &m));
    CHECK_EQ(hive_test_word(m, 0), 13);
    hive_msg_free(m);
    CHECK_OK(hive_test_send_u64(self, 14)); /* queued but not matching: it has to wait */
    CHECK_EQ(hive_receive_match(match_none, NULL, BIG_TIMEOUT, &m), HIVE_ERR_BAD_ARGUMENT);
    CHECK_OK(hive_mailbox_len(&len));
    CHECK_EQ(len, 1);
    CHECK_EQ(hive_test_recv_u64(0), 14);
    /* 4294967295 is allowed: the waiter keeps waiting until a message comes. */
    hive_pid w;
    CHECK_OK(hive_spawn(max_timeout_waiter, &self, sizeof self, NULL, &w));
    CHECK_EQ(hive_receive(100, &m), HIVE_TIMEOUT); /* failure bound: no early error report */
    CHECK_OK(hive_send(w, "go", 2));
    CHECK_OK(hive_receive(5000, &m));
    CHECK_EQ(hive_test_word(m, 0), 0xD0E);
    CHECK_EQ(hive_test_word(m, 1), HIVE_OK);
    hive_msg_free(m);

    /* Any negative timeout means forever (also INT64_MIN): it waits for a late message. */
    hive_pid late;
    CHECK_OK(hive_spawn(late_sender, &self, sizeof self, NULL, &late));
    CHECK_OK(hive_receive(INT64_MIN, &m));
    CHECK_EQ(hive_test_word(m, 0), 0x1A7E);
    hive_msg_free(m);
    uint64_t late2 = 0x1A7E2;
    CHECK_OK(hive_receive_match(match_word, &late2, -2, &m));
    hive_msg_free(m);

    /* hive_receive* from inside a hive_receive_match predicate. */
    CHECK_OK(hive_test_send_u64(self, 1));
    CHECK_OK(hive_test_send_u64(self, 2));
    struct nested nest = {99, 99, 99, 0};
    CHECK_OK(hive_receive_match(nested_pred, &nest, 1000, &m));
    CHECK_EQ(hive_test_word(m, 0), 2);
    hive_msg_free(m);
    CHECK_EQ(nest.calls, 2);
    CHECK_EQ(nest.recv, HIVE_ERR_REENTRANT);
    CHECK_EQ(nest.recv_wait, HIVE_ERR_REENTRANT);
    CHECK_EQ(nest.recv_match, HIVE_ERR_REENTRANT);
    CHECK_OK(hive_mailbox_len(&len));
    CHECK_EQ(len, 1); /* message 1 is untouched */
    uint64_t one = 1;
    CHECK_OK(hive_receive_match(match_word, &one, 0, &m));
    hive_msg_free(m);

    /* Process count works from a process. */
    CHECK_OK(hive_process_count(&cnt));
    CHECK_GE(cnt, 1);
}

int main(void) {
    hive_config c;
    CHECK_OK(hive_config_default(&c));
    c.schedulers = 2;
    CHECK_OK(hive_init(&c));

    /* From the main thread and from another plain thread: calls that need a process. */
    not_a_process_checks();
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, plain_thread, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);

    /* Input checks from the main thread. */
    spawn_bad_input_checks();
    CHECK_EQ(hive_send(0, "x", 1), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_send(FAKE_PID, NULL, 3), HIVE_ERR_NULL_POINTER);
    CHECK_OK(hive_send(FAKE_PID, NULL, 0));
    CHECK_OK(hive_send(FAKE_PID | NODE_BIT, "x", 1));
    hive_msg *m;
    CHECK_OK(hive_msg_alloc(16, &m));
    CHECK_EQ(hive_send_msg(0, m), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_send_msg(FAKE_PID, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_wait(0, 0, NULL), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_wait(FAKE_PID, -1, NULL), HIVE_ERR_NO_PROCESS);
    CHECK_EQ(hive_is_alive(0), 0);
    CHECK_EQ(hive_process_count(NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_config_default(NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_msg_alloc(1, NULL), HIVE_ERR_NULL_POINTER);
    hive_exit_info info;
    CHECK_OK(hive_run(nop_entry, NULL, 0, NULL, NULL)); /* info_out NULL is allowed */

    /* Everything inside a process. */
    memset(&info, 0xAB, sizeof info);
    CHECK_OK(hive_run(root, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);

    /* hive_exit's bad inputs, then an exit with exactly HIVE_MAX_REASON_LEN bytes. */
    for (size_t i = 0; i < sizeof g_reason; i++) g_reason[i] = (uint8_t)(i ^ (i >> 8));
    memset(&info, 0xAB, sizeof info);
    CHECK_OK(hive_run(exit_checks_entry, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_ERROR);
    CHECK_EQ(info.len, HIVE_MAX_REASON_LEN);
    CHECK(memcmp(info.data, g_reason, HIVE_EXIT_DATA_MAX) == 0);

    uint64_t stopped = 99;
    CHECK_OK(hive_shutdown(&stopped));
    CHECK_EQ(stopped, 0);
    printf("abi_bad_input: %llu checks ok\n", CHECKS_DONE());
    return 0;
}
