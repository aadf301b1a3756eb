/* BEAM conformance, group A (spawn / send / receive): the cases of
 * docs/semantics.md that apply to this C ABI. Each case runs in a fresh
 * root process (hive_run from main), so every case starts with an empty mailbox.
 * Case 3 (send to an unregistered name) is in registry.c, with the other registry cases.
 * Messages are 64-bit words: word 0 is a tag (below), word 1 a value. */
#define _GNU_SOURCE
#include <string.h>
#include "check.h"

enum { T_GO = 1, T_A, T_B, T_C, T_N, T_X, T_Y, T_NEVER, T_WANTED, T_JUNK, T_STOP, T_STOPPED,
       T_HIT, T_HIT2, T_HERE, T_BUSY, T_SEQ, T_DONE, T_PING, T_M, T_HELLO };

static uint64_t tag_of(const hive_msg *m) { return hive_test_word(m, 0); }
static uint64_t val_of(const hive_msg *m) { return hive_test_word(m, 1); }
static void send_tag(hive_pid to, uint64_t tag, uint64_t val) { CHECK_OK(hive_test_send_2u64(to, tag, val)); }

/* Predicate: the message's tag is one of the tags in the zero-terminated list `env`. */
static int32_t match_tags(void *env, const hive_msg *m) {
    for (const uint64_t *t = env; *t; t++)
        if (tag_of(m) == *t) return 1;
    return 0;
}
/* Receives (selectively) a message with tag `tag`; returns its value. */
static uint64_t recv_tag(uint64_t tag, int64_t timeout_ms) {
    uint64_t tags[2] = {tag, 0};
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_tags, tags, timeout_ms, &m));
    CHECK_EQ(tag_of(m), tag);
    uint64_t v = val_of(m);
    hive_msg_free(m);
    return v;
}
/* Takes the whole mailbox with timeout-0 receives and checks it equals tags[0..n). */
static void expect_queue(const uint64_t *tags, const uint64_t *vals, size_t n) {
    size_t len = 99;
    CHECK_OK(hive_mailbox_len(&len));
    CHECK_EQ(len, n);
    for (size_t i = 0; i < n; i++) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(0, &m));
        CHECK_EQ(tag_of(m), tags[i]);
        if (vals) CHECK_EQ(val_of(m), vals[i]);
        hive_msg_free(m);
    }
    hive_msg *m = NULL;
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
}
static uint64_t ms_since(uint64_t t0) { return (hive_test_now_ns() - t0) / 1000000; }

/* ---- case 1 ------------------------------------------------------------------------- */
/* "spawn returns a live pid; returning from the initial function means exit reason normal.
 * Expect: is_pid(P); is_process_alive(P) =:= true; then {'DOWN',M,process,P,normal};
 * afterwards is_process_alive(P) =:= false." P is the root of hive_run (the exit info
 * plays 'DOWN'); a helper checks P is alive while it is blocked, then sends `go`. */
static hive_pid g_case1_pid;
static void case1_helper(void *arg) {
    hive_pid p;
    memcpy(&p, arg, sizeof p);
    CHECK_EQ(hive_is_alive(p), 1);
    send_tag(p, T_GO, 0);
}
static void case1_p(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    g_case1_pid = self;
    CHECK_NE(self, 0);
    CHECK_EQ(hive_is_alive(self), 1);
    hive_pid h = 0;
    CHECK_OK(hive_spawn(case1_helper, &self, sizeof self, NULL, &h));
    CHECK_NE(h, 0);
    CHECK_NE(h, self);
    recv_tag(T_GO, 5000); /* receive go -> ok end */
}
static void case_1(void) {
    hive_exit_info info;
    memset(&info, 0xAB, sizeof info);
    CHECK_OK(hive_run(case1_p, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_EQ(info.len, 0);
    CHECK_EQ(hive_is_alive(g_case1_pid), 0);
    CHECK_OK(hive_wait(g_case1_pid, 0, &info)); /* dead pid: at once, noproc once it is gone */
    CHECK(info.kind == HIVE_REASON_NORMAL || info.kind == HIVE_REASON_NOPROC);
}

/* ---- case 2 ------------------------------------------------------------------------- */
/* "Pid ! Msg returns Msg and never fails, even when the pid is dead. Action: D ! hello,
 * then erlang:send(D, {x,1}) with a dead pid D, then self() ! m. Expect: no exception;
 * m arrives at S." D is made dead by running it to completion with hive_run. */
static hive_pid g_dead;
static void record_pid(void *arg) { (void)arg; g_dead = hive_self(); }
static void case2_s(void *arg) {
    (void)arg;
    CHECK_EQ(hive_is_alive(g_dead), 0);
    CHECK_OK(hive_send(g_dead, "hello", 5));
    uint64_t x1[2] = {T_X, 1};
    CHECK_OK(hive_send(g_dead, x1, sizeof x1));
    hive_msg *m;
    CHECK_OK(hive_msg_alloc(8, &m));
    memset(hive_msg_data(m), 0, 8);
    CHECK_OK(hive_send_msg(g_dead, m));
    send_tag(hive_self(), T_M, 0);
    uint64_t tags[1] = {T_M};
    expect_queue(tags, NULL, 1);
}
static void case_2(void) {
    CHECK_OK(hive_run(record_pid, NULL, 0, NULL, NULL));
    CHECK_NE(g_dead, 0);
    CHECK_OK(hive_send(g_dead, "hello", 5)); /* also from a thread that is not a process */
    hive_exit_info info;
    CHECK_OK(hive_run(case2_s, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
}

/* ---- case 4 ------------------------------------------------------------------------- */
/* "A message sent to self() is seen by the very next receive ... after 0. Expect: visible
 * every time" (1000 repetitions), with both plain and selective receive. */
static void case4_s(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    for (uint64_t i = 0; i < 1000; i++) {
        send_tag(self, T_PING, i);
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(0, &m));
        CHECK_EQ(tag_of(m), T_PING);
        CHECK_EQ(val_of(m), i);
        CHECK_EQ(hive_msg_sender(m), self);
        hive_msg_free(m);
        send_tag(self, T_PING, i + 1000000);
        CHECK_EQ(recv_tag(T_PING, 0), i + 1000000);
    }
}
static void case_4(void) { CHECK_OK(hive_run(case4_s, NULL, 0, NULL, NULL)); }

/* ---- case 5 ------------------------------------------------------------------------- */
/* "Selective receive takes the first matching message; the rest stay in queue order.
 * Setup: the queue is [a,b,c]. Action: receive c -> c end. Expect: c, queue [a,b]." */
static void case5_s(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    send_tag(self, T_A, 0);
    send_tag(self, T_B, 0);
    send_tag(self, T_C, 0);
    recv_tag(T_C, -1);
    uint64_t rest[2] = {T_A, T_B};
    expect_queue(rest, NULL, 2);
    /* With duplicates, the first (oldest) matching one is taken. */
    send_tag(self, T_A, 1);
    send_tag(self, T_C, 2);
    send_tag(self, T_B, 3);
    send_tag(self, T_C, 4);
    CHECK_EQ(recv_tag(T_C, 0), 2);
    uint64_t rest2[3] = {T_A, T_B, T_C}, vals2[3] = {1, 3, 4};
    expect_queue(rest2, vals2, 3);
}
static void case_5(void) { CHECK_OK(hive_run(case5_s, NULL, 0, NULL, NULL)); }

/* ---- case 6 ------------------------------------------------------------------------- */
/* "Queue order decides, not clause order. Setup: the queue is [b,a]. Action:
 * receive a -> got_a; b -> got_b end. Expect: got_b, and the queue is [a]." */
static void case6_s(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    send_tag(self, T_B, 0);
    send_tag(self, T_A, 0);
    uint64_t a_or_b[3] = {T_A, T_B, 0};
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_tags, a_or_b, 1000, &m));
    CHECK_EQ(tag_of(m), T_B);
    hive_msg_free(m);
    uint64_t rest[1] = {T_A};
    expect_queue(rest, NULL, 1);
}
static void case_6(void) { CHECK_OK(hive_run(case6_s, NULL, 0, NULL, NULL)); }

/* ---- case 7 ------------------------------------------------------------------------- */
/* "Guards take part in matching. Setup: the queue is [{n,1},{n,5},{n,7}]. Action:
 * receive {n,X} when X > 3 -> X end. Expect: 5, and the queue is [{n,1},{n,7}]." */
static int32_t match_n_gt3(void *env, const hive_msg *m) {
    (void)env;
    return tag_of(m) == T_N && val_of(m) > 3;
}
static void case7_s(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    send_tag(self, T_N, 1);
    send_tag(self, T_N, 5);
    send_tag(self, T_N, 7);
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_n_gt3, NULL, 1000, &m));
    CHECK_EQ(val_of(m), 5);
    hive_msg_free(m);
    uint64_t tags[2] = {T_N, T_N}, vals[2] = {1, 7};
    expect_queue(tags, vals, 2);
}
static void case_7(void) { CHECK_OK(hive_run(case7_s, NULL, 0, NULL, NULL)); }

/* ---- case 8 ------------------------------------------------------------------------- */
/* "after 0 times out at once; a receive with no clauses consumes nothing. Action:
 * receive _ -> msg after 0 -> timeout end on an empty queue. Then, with x queued,
 * receive y -> y after 0 -> timeout end. Then receive after 20 -> ok end. Expect: timeout,
 * then timeout with x still queued, then x still queued. A later receive x -> x after 0
 * returns x." */
static int32_t match_nothing(void *env, const hive_msg *m) { (void)env; (void)m; return 0; }
static void case8_s(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    hive_msg *m = NULL;
    uint64_t t0 = hive_test_now_ns();
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
    CHECK_LT(ms_since(t0), 1000); /* at once (generous failure bound) */
    send_tag(self, T_X, 0);
    uint64_t y[2] = {T_Y, 0};
    CHECK_EQ(hive_receive_match(match_tags, y, 0, &m), HIVE_TIMEOUT);
    size_t len = 0;
    CHECK_OK(hive_mailbox_len(&len));
    CHECK_EQ(len, 1);
    CHECK_EQ(hive_receive_match(match_nothing, NULL, 20, &m), HIVE_TIMEOUT);
    CHECK_OK(hive_mailbox_len(&len));
    CHECK_EQ(len, 1);
    CHECK_EQ(recv_tag(T_X, 0), 0);
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
}
static void case_8(void) { CHECK_OK(hive_run(case8_s, NULL, 0, NULL, NULL)); }

/* ---- case 9 ------------------------------------------------------------------------- */
/* "receive ... after T waits at least T ms. Action: receive never -> no after 100 ->
 * timeout end. Expect: timeout, after at least 100 ms." (< 1000 ms as a sanity bound.) */
static uint64_t g_case9_ms[2];
static void case9_s(void *arg) {
    (void)arg;
    uint64_t never[2] = {T_NEVER, 0};
    hive_msg *m = NULL;
    uint64_t t0 = hive_test_now_ns();
    CHECK_EQ(hive_receive_match(match_tags, never, 100, &m), HIVE_TIMEOUT);
    uint64_t e = hive_test_now_ns() - t0;
    CHECK_GE(e, 100ull * 1000000);
    CHECK_LT(e, 1000ull * 1000000);
    g_case9_ms[0] = e / 1000000;
    t0 = hive_test_now_ns();
    CHECK_EQ(hive_receive(100, &m), HIVE_TIMEOUT);
    e = hive_test_now_ns() - t0;
    CHECK_GE(e, 100ull * 1000000);
    CHECK_LT(e, 1000ull * 1000000);
    g_case9_ms[1] = e / 1000000;
}
static void case_9(void) { CHECK_OK(hive_run(case9_s, NULL, 0, NULL, NULL)); }

/* ---- case 10 ------------------------------------------------------------------------ */
/* "Non-matching messages that arrive during the wait do not restart or end the timeout.
 * Setup: a helper sends junk to S every 10 ms. Action: receive wanted -> got after 200 ->
 * timeout end. Expect: timeout after E with 200 <= E < 1000 ms. All the junk messages
 * (>= 5 required) are still queued." The helper sends junk every time it is resumed,
 * pacing itself with a 10 ms receive; on `stop` it reports how many it sent. */
static void junk_sender(void *arg) {
    hive_pid s;
    memcpy(&s, arg, sizeof s);
    uint64_t seq = 0;
    uint64_t stop[2] = {T_STOP, 0};
    for (;;) {
        send_tag(s, T_JUNK, ++seq);
        hive_msg *m = NULL;
        hive_status st = hive_receive_match(match_tags, stop, 10, &m);
        if (st == HIVE_OK) {
            hive_msg_free(m);
            send_tag(s, T_STOPPED, seq);
            return;
        }
        CHECK_EQ(st, HIVE_TIMEOUT);
    }
}
static uint64_t g_case10_junk, g_case10_ms;
struct counting { uint64_t tag; uint64_t calls; };
static int32_t match_counting(void *env, const hive_msg *m) {
    struct counting *c = env;
    c->calls++;
    return tag_of(m) == c->tag;
}
static void case10_s(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), j;
    CHECK_OK(hive_spawn(junk_sender, &self, sizeof self, NULL, &j));
    struct counting c = {T_WANTED, 0};
    hive_msg *m = NULL;
    uint64_t t0 = hive_test_now_ns();
    CHECK_EQ(hive_receive_match(match_counting, &c, 200, &m), HIVE_TIMEOUT);
    uint64_t e = ms_since(t0);
    CHECK_GE(e, 200);
    CHECK_LT(e, 1000);
    size_t queued = 0;
    CHECK_OK(hive_mailbox_len(&queued));
    CHECK_GE(queued, 5);
    /* hive_receive_match: "While it waits, each message is examined once". */
    CHECK_LE(c.calls, queued);
    CHECK_GE(c.calls, 1);
    g_case10_junk = queued;
    g_case10_ms = e;
    send_tag(j, T_STOP, 0);
    /* Every junk message is still there, in order, followed by `stopped`. */
    for (uint64_t expect = 1;; expect++) {
        CHECK_OK(hive_receive(5000, &m));
        CHECK_EQ(hive_msg_sender(m), j);
        if (tag_of(m) == T_STOPPED) {
            CHECK_EQ(val_of(m), expect - 1); /* all sent junk was received */
            CHECK_GE(expect - 1, queued);
            hive_msg_free(m);
            break;
        }
        CHECK_EQ(tag_of(m), T_JUNK);
        CHECK_EQ(val_of(m), expect);
        hive_msg_free(m);
    }
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
}
static void case_10(void) { CHECK_OK(hive_run(case10_s, NULL, 0, NULL, NULL)); }

/* ---- case 11 ------------------------------------------------------------------------ */
/* "A matching message that arrives during the wait ends it, also with after infinity.
 * Action: a helper sends hit after 50 ms, and S does receive hit -> hit after 5000 ->
 * timeout end. The same is repeated with T = infinity. Expect: hit well before 5000 ms,
 * then hit2." The helper paces itself with a 50 ms receive timeout and also sends junk
 * first, which must not end the wait. */
static void hit_sender(void *arg) {
    hive_pid s;
    memcpy(&s, arg, sizeof s);
    hive_msg *m = NULL;
    for (uint64_t tag = T_HIT; tag <= T_HIT2; tag++) {
        CHECK_EQ(hive_receive(50, &m), HIVE_TIMEOUT);
        send_tag(s, T_JUNK, tag);
        CHECK_EQ(hive_receive(20, &m), HIVE_TIMEOUT);
        send_tag(s, tag, 0);
    }
}
static uint64_t g_case11_ms[2];
static void case11_s(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), h;
    CHECK_OK(hive_spawn(hit_sender, &self, sizeof self, NULL, &h));
    uint64_t t0 = hive_test_now_ns();
    recv_tag(T_HIT, 5000);
    g_case11_ms[0] = ms_since(t0);
    CHECK_LT(g_case11_ms[0], 2500); /* well before 5000 */
    volatile int64_t infinity = -1; /* computed at run time */
    t0 = hive_test_now_ns();
    recv_tag(T_HIT2, infinity);
    g_case11_ms[1] = ms_since(t0);
    uint64_t junk[2] = {T_JUNK, T_JUNK}, vals[2] = {T_HIT, T_HIT2};
    expect_queue(junk, vals, 2);
}
static void case_11(void) { CHECK_OK(hive_run(case11_s, NULL, 0, NULL, NULL)); }

/* ---- case 12 ------------------------------------------------------------------------ */
/* "Invalid timeout values raise timeout_value; 16#FFFFFFFF is the largest allowed. ...
 * Then a process does receive after 16#FFFFFFFF -> ok end. ... The process with
 * 16#FFFFFFFF keeps waiting and does not crash. Quirk: when a matching message is already
 * queued, the invalid timeout is never checked, and the receive returns got." In the ABI:
 * HIVE_ERR_BAD_ARGUMENT for > 4294967295 when the receive has to wait. */
static void max_waiter(void *arg) {
    hive_pid s;
    memcpy(&s, arg, sizeof s);
    uint64_t here[2] = {T_GO, 0};
    hive_msg *m = NULL;
    hive_status st = hive_receive_match(match_tags, here, 4294967295ll, &m);
    send_tag(s, T_DONE, (uint64_t)(int64_t)st);
    if (st == HIVE_OK) hive_msg_free(m);
}
static void case12_s(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    hive_msg *m = NULL;
    const int64_t bad[3] = {4294967296ll, 4294967296ll * 1000, INT64_MAX};
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(hive_receive(bad[i], &m), HIVE_ERR_BAD_ARGUMENT);
        CHECK_EQ(hive_receive_match(match_nothing, NULL, bad[i], &m), HIVE_ERR_BAD_ARGUMENT);
    }
    /* 4294967295 is accepted: the waiter keeps waiting (no error within 100 ms), then gets go. */
    hive_pid w;
    CHECK_OK(hive_spawn(max_waiter, &self, sizeof self, NULL, &w));
    uint64_t done[2] = {T_DONE, 0};
    CHECK_EQ(hive_receive_match(match_tags, done, 100, &m), HIVE_TIMEOUT);
    CHECK_EQ(hive_is_alive(w), 1);
    send_tag(w, T_GO, 0);
    CHECK_EQ(recv_tag(T_DONE, 5000), HIVE_OK);
    /* Quirk: with `here` queued, the invalid timeout is not checked. */
    send_tag(self, T_HERE, 1);
    uint64_t here[2] = {T_HERE, 0};
    CHECK_OK(hive_receive_match(match_tags, here, 4294967296ll, &m));
    CHECK_EQ(val_of(m), 1);
    hive_msg_free(m);
    send_tag(self, T_HERE, 2);
    CHECK_OK(hive_receive(INT64_MAX, &m));
    CHECK_EQ(val_of(m), 2);
    hive_msg_free(m);
    /* Queued but not matching: the receive has to wait, so the timeout is checked. */
    send_tag(self, T_X, 3);
    CHECK_EQ(hive_receive_match(match_tags, here, 4294967296ll, &m), HIVE_ERR_BAD_ARGUMENT);
    uint64_t rest[1] = {T_X};
    expect_queue(rest, NULL, 1);
}
static void case_12(void) { CHECK_OK(hive_run(case12_s, NULL, 0, NULL, NULL)); }

/* ---- case 13 ------------------------------------------------------------------------ */
/* "Messages sent to a busy process are queued: none is lost, all stay in order. Action:
 * the receiver busy-loops for 100 ms, while S sends it 1..1000. The receiver then takes
 * 1000 messages and returns them. Expect: lists:seq(1,1000)." The receiver spins calling
 * only hive_reduction_check (and hive_mailbox_len) until all 1000 are queued and at least
 * 100 ms have passed, then takes them with timeout-0 receives. */
static void busy_receiver(void *arg) {
    hive_pid s;
    memcpy(&s, arg, sizeof s);
    uint64_t t0 = hive_test_now_ns();
    send_tag(s, T_BUSY, 0);
    size_t len = 0;
    uint64_t spins = 0;
    for (;;) {
        CHECK_OK(hive_reduction_check());
        if (++spins % 64 == 0) {
            CHECK_OK(hive_mailbox_len(&len));
            if (len >= 1000 && hive_test_now_ns() - t0 >= 100ull * 1000000) break;
            CHECK_LT(hive_test_now_ns() - t0, 10ull * 1000000000); /* failure bound */
        }
    }
    CHECK_EQ(len, 1000);
    for (uint64_t i = 1; i <= 1000; i++) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(0, &m));
        CHECK_EQ(tag_of(m), T_SEQ);
        CHECK_EQ(val_of(m), i);
        CHECK_EQ(hive_msg_sender(m), s);
        hive_msg_free(m);
    }
    hive_msg *m = NULL;
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
    send_tag(s, T_DONE, 1000);
}
static void case13_s(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), r;
    CHECK_OK(hive_spawn(busy_receiver, &self, sizeof self, NULL, &r));
    recv_tag(T_BUSY, 5000);
    for (uint64_t i = 1; i <= 1000; i++) send_tag(r, T_SEQ, i);
    CHECK_EQ(recv_tag(T_DONE, 10000), 1000);
}
static void case_13(void) { CHECK_OK(hive_run(case13_s, NULL, 0, NULL, NULL)); }

int main(void) {
    CHECK_OK(hive_init(NULL));
    case_1();
    case_2();
    case_4();
    case_5();
    case_6();
    case_7();
    case_8();
    case_9();
    case_10();
    case_11();
    case_12();
    case_13();
    uint64_t stopped = 99;
    CHECK_OK(hive_shutdown(&stopped));
    CHECK_LE(stopped, 5); /* at most the helpers that were still finishing */
    printf("beam_group_a: cases 1,2,4-13 ok, %llu checks (case 9: %llu/%llu ms, case 10: %llu junk "
           "in %llu ms, case 11: %llu/%llu ms)\n", CHECKS_DONE(),
           (unsigned long long)g_case9_ms[0], (unsigned long long)g_case9_ms[1],
           (unsigned long long)g_case10_junk, (unsigned long long)g_case10_ms,
           (unsigned long long)g_case11_ms[0], (unsigned long long)g_case11_ms[1]);
    return 0;
}
