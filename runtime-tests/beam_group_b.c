/* BEAM conformance, group B (ordering): cases 14, 15 and 20 of
 * docs/semantics.md (the others of group B need exit signals, links or monitors: they are in
 * crates/hive-rt/tests/group_b_ordering.rs, case 23 also in links_monitors.c). Messages are
 * 64-bit words. */
#define _GNU_SOURCE
#include <string.h>
#include "check.h"

enum { T_SEQ = 1, T_GO, T_DONE, T_N };

/* ---- case 14 ------------------------------------------------------------------------ */
/* "Messages from one sender arrive in send order. Action: another process sends 1..10000
 * to S. S takes the messages in queue order. Expect: exactly lists:seq(1,10000)." */
static void seq_sender(void *arg) {
    uint64_t a[3]; /* target pid, sender id, count */
    memcpy(a, arg, sizeof a);
    for (uint64_t i = 1; i <= a[2]; i++) {
        uint64_t w[3] = {T_SEQ, a[1], i};
        CHECK_OK(hive_send(a[0], w, sizeof w));
    }
}
static void case14_s(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p;
    uint64_t a[3] = {self, 0, 10000};
    CHECK_OK(hive_spawn(seq_sender, a, sizeof a, NULL, &p));
    for (uint64_t i = 1; i <= 10000; i++) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(10000, &m));
        CHECK_EQ(hive_msg_len(m), 24);
        CHECK_EQ(hive_test_word(m, 0), T_SEQ);
        CHECK_EQ(hive_test_word(m, 2), i);
        CHECK_EQ(hive_msg_sender(m), p);
        hive_msg_free(m);
    }
    hive_msg *m = NULL;
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
}
static void case_14(void) {
    hive_exit_info info;
    CHECK_OK(hive_run(case14_s, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
}

/* ---- case 15 ------------------------------------------------------------------------ */
/* "With several senders, each sender's own sequence stays in order; the interleaving is
 * free. Action: 4 senders each send {Id, 1..2000}. Expect: for each Id the subsequence is
 * 1..2000. The merged order is arbitrary." */
static uint64_t g_case15_switches;
static void case15_s(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p[4];
    for (uint64_t id = 0; id < 4; id++) {
        uint64_t a[3] = {self, id, 2000};
        CHECK_OK(hive_spawn(seq_sender, a, sizeof a, NULL, &p[id]));
    }
    uint64_t next[4] = {1, 1, 1, 1}, last_id = 99, switches = 0;
    for (int i = 0; i < 4 * 2000; i++) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(10000, &m));
        CHECK_EQ(hive_test_word(m, 0), T_SEQ);
        uint64_t id = hive_test_word(m, 1);
        CHECK_LT(id, 4);
        CHECK_EQ(hive_msg_sender(m), p[id]);
        CHECK_EQ(hive_test_word(m, 2), next[id]);
        next[id]++;
        if (id != last_id) switches++;
        last_id = id;
        hive_msg_free(m);
    }
    for (int id = 0; id < 4; id++) CHECK_EQ(next[id], 2001);
    hive_msg *m = NULL;
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
    g_case15_switches = switches;
}
static void case_15(void) {
    hive_exit_info info;
    CHECK_OK(hive_run(case15_s, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
}

/* ---- case 20 ------------------------------------------------------------------------ */
/* "Messages survive the death of their sender. Action: C sends {n,1}..{n,100} to S, then
 * does exit(self(), kill). Expect: all 100 messages in order, then
 * {'DOWN',M,process,C,killed}." S is spawned first and waits (selectively) for `go`.
 * C runs as a hive_run root: it sends its 100 messages then hive_exit(HIVE_REASON_KILLED);
 * hive_run returning is the 'DOWN'. Only then does a third process R send `go` to S; S
 * takes the 100 messages (C is dead by then) and reports to R. */
static hive_pid g_c_pid;
static int32_t match_go(void *env, const hive_msg *m) {
    (void)env;
    return hive_msg_len(m) >= 8 && hive_test_word(m, 0) == T_GO;
}
static void case20_s(void *arg) {
    (void)arg;
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_go, NULL, 30000, &m));
    hive_pid r = hive_msg_sender(m);
    CHECK_EQ(hive_test_word(m, 1), g_c_pid);
    hive_msg_free(m);
    CHECK_EQ(hive_is_alive(g_c_pid), 0); /* the sender is dead ... */
    size_t len = 0;
    CHECK_OK(hive_mailbox_len(&len));
    CHECK_EQ(len, 100); /* ... and its messages are all here */
    for (uint64_t i = 1; i <= 100; i++) {
        CHECK_OK(hive_receive(0, &m));
        CHECK_EQ(hive_test_word(m, 0), T_N);
        CHECK_EQ(hive_test_word(m, 1), i);
        CHECK_EQ(hive_msg_sender(m), g_c_pid);
        hive_msg_free(m);
    }
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
    CHECK_OK(hive_test_send_2u64(r, T_DONE, 100));
}
static void case20_c(void *arg) {
    hive_pid s;
    memcpy(&s, arg, sizeof s);
    g_c_pid = hive_self();
    for (uint64_t i = 1; i <= 100; i++) CHECK_OK(hive_test_send_2u64(s, T_N, i));
    hive_exit(HIVE_REASON_KILLED, NULL, 0);
    CHECK(!"hive_exit returned");
}
static void case20_r(void *arg) {
    hive_pid s;
    memcpy(&s, arg, sizeof s);
    CHECK_OK(hive_test_send_2u64(s, T_GO, g_c_pid));
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(10000, &m));
    CHECK_EQ(hive_msg_sender(m), s);
    CHECK_EQ(hive_test_word(m, 0), T_DONE);
    CHECK_EQ(hive_test_word(m, 1), 100);
    hive_msg_free(m);
}
static void case_20(void) {
    for (int round = 0; round < 20; round++) {
        hive_pid s;
        CHECK_OK(hive_spawn(case20_s, NULL, 0, NULL, &s));
        hive_exit_info info;
        memset(&info, 0xAB, sizeof info);
        CHECK_OK(hive_run(case20_c, &s, sizeof s, NULL, &info));
        CHECK_EQ(info.kind, HIVE_REASON_KILLED);
        CHECK_EQ(info.len, 0);
        CHECK_EQ(hive_is_alive(g_c_pid), 0);
        memset(&info, 0xAB, sizeof info);
        CHECK_OK(hive_run(case20_r, &s, sizeof s, NULL, &info));
        CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    }
}

int main(void) {
    CHECK_OK(hive_init(NULL));
    case_14();
    case_15();
    case_20();
    uint64_t stopped = 99;
    CHECK_OK(hive_shutdown(&stopped));
    CHECK_LE(stopped, 20); /* at most the receivers S that were still finishing */
    printf("beam_group_b: cases 14,15,20 ok, %llu checks (case 15: %llu sender switches)\n",
           CHECKS_DONE(), (unsigned long long)g_case15_switches);
    return 0;
}
