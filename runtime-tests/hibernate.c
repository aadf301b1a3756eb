/* hive_hibernate (erlang:hibernate/3) through the C ABI: the argument copy the new entry
 * receives (contents, 16-byte alignment, small and 100 KiB, made from the current copy
 * when hibernating again), the message that wakes it taken first, a message queued before
 * the call restarting it at once, a link kept across it, and every bad input: NULL entry,
 * NULL arg with a length, a length over HIVE_MAX_ARG_LEN, a call from a thread that is
 * not a process, a call from inside a match predicate.
 *
 * Receive timeouts (T) are failure bounds only: every wait ends on a message. */
#include <stdint.h>
#include <string.h>
#include "check.h"

#define T 10000 /* failure bound of every receive that must succeed, ms */
#define BIG (100 * 1024)
#define ROUNDS 50

enum { T_READY = 0x500, T_WOKE, T_DONE };

static void sleeper(void *arg);

struct state {
    hive_pid root;
    uint32_t round;
    uint32_t len; /* bytes of filler after this header */
};

static uint8_t filler(uint32_t round, size_t i) { return (uint8_t)(i * 31 + round); }

static void check_state(const void *arg, uint32_t round) {
    CHECK(arg != NULL);
    CHECK_EQ((uintptr_t)arg & 15, 0);
    const struct state *s = arg;
    CHECK_EQ(s->round, round);
    const uint8_t *f = (const uint8_t *)(s + 1);
    for (size_t i = 0; i < s->len; i += 97) CHECK_EQ(f[i], filler(round, i));
    if (s->len) CHECK_EQ(f[s->len - 1], filler(round, s->len - 1));
}

/* Where the next argument is built (one sleeper runs at a time). */
static uint8_t g_next[sizeof(struct state) + BIG];

/* Builds round `round`'s argument in g_next and hibernates into `sleeper` with it. */
static void hibernate_into(hive_pid root, uint32_t round) {
    /* Odd rounds carry 100 KiB of filler (a heap copy), even ones only the header. */
    struct state s = {root, round, (round & 1) ? BIG : 0};
    memcpy(g_next, &s, sizeof s);
    for (size_t i = 0; i < s.len; i++) g_next[sizeof s + i] = filler(round, i);
    hive_hibernate(sleeper, g_next, sizeof s + s.len);
    CHECK(0); /* hive_hibernate does not return on success */
}

/* Entered again after each hibernation: checks its argument and the message that woke
 * it (word 0 = the round), answers, and hibernates into the next round; after ROUNDS it
 * returns (reason normal). */
static void sleeper(void *arg) {
    const struct state *s = arg;
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(0, &m)); /* the message that woke it is there */
    CHECK_EQ(hive_test_word(m, 0), s->round);
    hive_msg_free(m);
    check_state(arg, s->round);
    /* The runtime's copy is ours: scribbling on it harms nobody. */
    memset((uint8_t *)arg + sizeof *s, 0xee, s->len);
    CHECK_OK(hive_test_send_2u64(s->root, T_WOKE, s->round));
    if (s->round < ROUNDS) hibernate_into(s->root, s->round + 1);
}

/* The first entry: reports ready and hibernates into round 1 (no message queued). */
static void first(void *arg) {
    hive_pid root = *(hive_pid *)arg;
    CHECK_OK(hive_test_send_2u64(root, T_READY, 0));
    hibernate_into(root, 1);
}

static int32_t any_msg(void *env, const hive_msg *m) {
    (void)m;
    hive_status *out = env;
    /* Inside a predicate: refused, nothing happens. */
    *out = hive_hibernate(sleeper, NULL, 0);
    return 1;
}

/* Restarted at once: the oldest message, left behind by a selective receive. */
static void restarted(void *arg) {
    (void)arg;
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(0, &m));
    hive_pid root = hive_msg_sender(m);
    CHECK_EQ(hive_test_word(m, 0), 1);
    hive_msg_free(m);
    CHECK_OK(hive_test_send_2u64(root, T_DONE, 1));
}
static int32_t match_two(void *env, const hive_msg *m) {
    (void)env;
    return hive_msg_len(m) >= 8 && hive_test_word(m, 0) == 2;
}
static void queued(void *arg) {
    (void)arg;
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_two, NULL, T, &m));
    hive_msg_free(m);
    hive_hibernate(restarted, NULL, 0);
    CHECK(0);
}

/* The spawn argument's copy outlives hibernation: a 200-byte spawn argument (a heap
 * copy), then two hibernations with 200-byte arguments of other bytes (which the
 * allocator would place in a freed spawn copy). */
#define KEEP_LEN 200
static const uint8_t *g_spawn_copy;
static void kept_check(uint8_t fill) {
    for (size_t i = 0; i < KEEP_LEN; i++) CHECK_EQ(g_spawn_copy[i], 0xaa);
    (void)fill;
}
static void keeper_last(void *arg) {
    const uint8_t *a = arg;
    CHECK_EQ(a[0], 0xcc);
    kept_check(0xcc);
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(0, &m));
    hive_pid root = hive_msg_sender(m);
    hive_msg_free(m);
    CHECK_OK(hive_test_send_2u64(root, T_DONE, 2));
}
static void keeper_mid(void *arg) {
    const uint8_t *a = arg;
    CHECK_EQ(a[KEEP_LEN - 1], 0xbb);
    kept_check(0xbb);
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(0, &m));
    hive_msg_free(m);
    uint8_t next[KEEP_LEN];
    memset(next, 0xcc, sizeof next);
    hive_hibernate(keeper_last, next, sizeof next);
    CHECK(0);
}
static void keeper(void *arg) {
    g_spawn_copy = arg;
    uint8_t next[KEEP_LEN];
    memset(next, 0xbb, sizeof next);
    hive_hibernate(keeper_mid, next, sizeof next);
    CHECK(0);
}

static void bad_input(void) {
    uint8_t b[16] = {0};
    CHECK_EQ(hive_hibernate(NULL, b, sizeof b), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_hibernate(sleeper, NULL, 8), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_hibernate(sleeper, b, (size_t)HIVE_MAX_ARG_LEN + 1), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_hibernate(sleeper, b, SIZE_MAX), HIVE_ERR_BAD_LENGTH);
}

static void root(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    bad_input();

    /* A predicate's call is refused. */
    CHECK_OK(hive_test_send_u64(self, 7));
    hive_status inside = 0;
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(any_msg, &inside, T, &m));
    hive_msg_free(m);
    CHECK_EQ(inside, HIVE_ERR_REENTRANT);

    /* ROUNDS hibernations, linked: the link outlives them all. */
    CHECK_OK(hive_trap_exit(1, NULL));
    hive_pid p = 0;
    hive_spawn_opts o = {HIVE_PRIORITY_NORMAL, HIVE_SPAWN_LINK, 0};
    CHECK_OK(hive_spawn_opt(first, &self, sizeof self, &o, &p, NULL));
    hive_msg *r = NULL;
    CHECK_OK(hive_receive(T, &r));
    CHECK_EQ(hive_test_word(r, 0), T_READY);
    hive_msg_free(r);
    for (uint64_t round = 1; round <= ROUNDS; round++) {
        CHECK_OK(hive_test_send_u64(p, round));
        CHECK_OK(hive_receive(T, &r));
        CHECK_EQ(hive_msg_sender(r), p);
        CHECK_EQ(hive_test_word(r, 0), T_WOKE);
        CHECK_EQ(hive_test_word(r, 1), round);
        hive_msg_free(r);
    }
    CHECK_OK(hive_receive(T, &r));
    CHECK_EQ(hive_msg_kind(r), HIVE_MSG_EXIT);
    CHECK_EQ(hive_msg_sender(r), p);
    CHECK_EQ(hive_msg_reason_kind(r), HIVE_REASON_NORMAL);
    hive_msg_free(r);

    /* A message queued before the call: restarted at once. */
    hive_pid q = 0;
    CHECK_OK(hive_spawn(queued, NULL, 0, NULL, &q));
    CHECK_OK(hive_test_send_u64(q, 1));
    CHECK_OK(hive_test_send_u64(q, 2));
    CHECK_OK(hive_receive(T, &r));
    CHECK_EQ(hive_test_word(r, 0), T_DONE);
    CHECK_EQ(hive_msg_sender(r), q);
    hive_msg_free(r);

    /* The spawn argument's copy stays valid across hibernations. */
    uint8_t spawn_arg[KEEP_LEN];
    memset(spawn_arg, 0xaa, sizeof spawn_arg);
    hive_pid k = 0;
    CHECK_OK(hive_spawn(keeper, spawn_arg, sizeof spawn_arg, NULL, &k));
    CHECK_OK(hive_test_send_u64(k, 1));
    CHECK_OK(hive_test_send_u64(k, 2));
    CHECK_OK(hive_receive(T, &r));
    CHECK_EQ(hive_test_word(r, 0), T_DONE);
    CHECK_EQ(hive_test_word(r, 1), 2);
    CHECK_EQ(hive_msg_sender(r), k);
    hive_msg_free(r);

    /* Left hibernating: shutdown stops it. */
    CHECK_OK(hive_spawn(first, &self, sizeof self, NULL, &p));
    CHECK_OK(hive_receive(T, &r));
    CHECK_EQ(hive_test_word(r, 0), T_READY);
    hive_msg_free(r);
}

int main(void) {
    CHECK_OK(hive_init(NULL));
    /* From a thread that is not a process. */
    CHECK_EQ(hive_hibernate(sleeper, NULL, 0), HIVE_ERR_NOT_A_PROCESS);
    hive_exit_info info;
    CHECK_OK(hive_run(root, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    uint64_t stopped = 0;
    CHECK_OK(hive_shutdown(&stopped));
    CHECK_EQ(stopped, 1); /* the hibernating process */
    printf("hibernate: %d hibernations, bad input refused, %llu checks ok\n", ROUNDS,
           (unsigned long long)CHECKS_DONE());
    return 0;
}
