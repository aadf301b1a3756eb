/* Registered names and hive_sleep through the C ABI: BEAM group H (cases 79-81, and the
 * part of 82/83 that needs no monitors or links: a name is free again once the exit of
 * its process has been observed, here through hive_wait), bad inputs from the main thread
 * and from a process, two concurrency invariants, and hive_sleep.
 *
 * Names are byte strings given as pointer + length (no NUL terminator needed); these
 * tests use C strings and pass strlen. Messages are 64-bit words: word 0 a tag, word 1 a
 * value, word 2 (when present) a pid to reply to. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include "check.h"

#define FAKE_PID ((99ull << 24) | 12345ull) /* index 12345, serial 99: never spawned */
#define NODE_BIT (1ull << 52)               /* node field = 1: another node */

enum { T_STOP = 1, T_HI, T_ACK, T_JUNK, T_GO, T_PING, T_DONE, T_SELF };

/* ---- helpers ------------------------------------------------------------------------ */

static hive_status reg(const char *name, hive_pid p) { return hive_register(name, strlen(name), p); }
static hive_status unreg(const char *name) { return hive_unregister(name, strlen(name)); }
static hive_status send_named_words(const char *name, uint64_t a, uint64_t b, uint64_t c) {
    uint64_t w[3] = {a, b, c};
    return hive_send_named(name, strlen(name), w, sizeof w);
}
/* whereis that must succeed; the out value is pre-set to garbage so a 0 is really written. */
static hive_pid whereis(const char *name) {
    hive_pid p = 0xDEADBEEFull;
    CHECK_OK(hive_whereis(name, strlen(name), &p));
    return p;
}
static void send_words(hive_pid to, uint64_t a, uint64_t b, uint64_t c) {
    uint64_t w[3] = {a, b, c};
    CHECK_OK(hive_send(to, w, sizeof w));
}
static int32_t match_tag(void *env, const hive_msg *m) {
    return hive_msg_len(m) >= 8 && hive_test_word(m, 0) == *(const uint64_t *)env;
}
/* Selective receive of a message tagged `tag`; returns word 1, the sender to *from. */
static uint64_t recv_tag(uint64_t tag, int64_t timeout_ms, hive_pid *from) {
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_tag, &tag, timeout_ms, &m));
    uint64_t v = hive_test_word(m, 1);
    if (from) *from = hive_msg_sender(m);
    hive_msg_free(m);
    return v;
}
static void expect_empty_mailbox(void) {
    size_t n = 99;
    CHECK_OK(hive_mailbox_len(&n));
    CHECK_EQ(n, 0);
}
/* Spins (yielding the OS thread) until *flag is non-zero; fails after 30 s. For plain
 * threads only: it polls shared memory, the timing does not decide any outcome. */
static void spin_until(_Atomic uint64_t *flag) {
    uint64_t t0 = hive_test_now_ns();
    while (atomic_load(flag) == 0) {
        CHECK_LT(hive_test_now_ns() - t0, 30ull * 1000000000ull);
        sched_yield();
    }
}

/* A process that serves until told to stop: {hi, V, ReplyTo} -> ReplyTo ! {ack, V};
 * messages shorter than one word (empty ones from the bad-input checks) are counted. */
static _Atomic uint64_t g_helper_short_msgs;
static void helper(void *arg) {
    (void)arg;
    for (;;) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(-1, &m));
        if (hive_msg_len(m) < 8) {
            atomic_fetch_add(&g_helper_short_msgs, 1);
            hive_msg_free(m);
            continue;
        }
        uint64_t tag = hive_test_word(m, 0);
        if (tag == T_STOP) {
            hive_msg_free(m);
            return;
        }
        CHECK_EQ(tag, T_HI);
        uint64_t v = hive_test_word(m, 1), to = hive_test_word(m, 2);
        hive_msg_free(m);
        if (to) send_words(to, T_ACK, v, 0);
    }
}
static hive_pid spawn_helper(void) {
    hive_pid p = 0;
    CHECK_OK(hive_spawn(helper, NULL, 0, NULL, &p));
    CHECK_NE(p, 0);
    return p;
}
static void stop(hive_pid p) { send_words(p, T_STOP, 0, 0); }

/* A pid that is certainly dead: a root process run to completion. */
static hive_pid g_dead;
static void record_pid(void *arg) { (void)arg; g_dead = hive_self(); }

/* ---- case 79 ------------------------------------------------------------------------ */
/* "register(Name,P) returns true; any process may register another. whereis(Name) =:= P.
 * Name ! hi returns hi and delivers it. whereis(Unknown) =:= undefined. register(Me,self())
 * works." (registered()/registered_name have no ABI counterpart.) */
static void case79_s(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p = spawn_helper(), from = 0;
    CHECK_OK(reg("c79_p", p)); /* S registers another process */
    CHECK_EQ(whereis("c79_p"), p);
    CHECK_OK(reg("c79_me", self));
    CHECK_EQ(whereis("c79_me"), self);
    CHECK_EQ(whereis("c79_unknown"), 0);
    /* Name ! hi delivers it (P answers to the pid in the message). */
    CHECK_OK(send_named_words("c79_p", T_HI, 79, self));
    CHECK_EQ(recv_tag(T_ACK, 5000, &from), 79);
    CHECK_EQ(from, p);
    /* Sending to one's own name. */
    CHECK_OK(send_named_words("c79_me", T_SELF, 7, 0));
    CHECK_EQ(recv_tag(T_SELF, 0, &from), 7);
    CHECK_EQ(from, self);
    /* Names are bytes: a prefix or a longer name is another name. */
    CHECK_OK(hive_whereis("c79_pX", 5, &from));
    CHECK_EQ(from, p);
    CHECK_EQ(whereis("c79_"), 0);
    CHECK_EQ(whereis("c79_pp"), 0);
    CHECK_EQ(whereis("C79_P"), 0);
    /* Any byte but NUL may appear in a name. */
    const char odd[] = {'\x01', '\xff', ' ', '\n', '\x7f'};
    CHECK_EQ(hive_register(odd, sizeof odd, p), HIVE_ERR_ALREADY_NAMED); /* P has c79_p */
    hive_pid q = spawn_helper();
    CHECK_OK(hive_register(odd, sizeof odd, q));
    hive_pid got = 0;
    CHECK_OK(hive_whereis(odd, sizeof odd, &got));
    CHECK_EQ(got, q);
    CHECK_OK(hive_unregister(odd, sizeof odd));
    stop(p);
    stop(q);
    expect_empty_mailbox();
}
/* A plain thread may register a process too, and look it up and send to it by name. */
static void case_79(void) {
    CHECK_OK(hive_run(case79_s, NULL, 0, NULL, NULL));
    /* S has exited (hive_run returned): its name is free. */
    CHECK_EQ(whereis("c79_me"), 0);
    CHECK_EQ(send_named_words("c79_me", T_HI, 1, 0), HIVE_ERR_NOT_REGISTERED);
    hive_pid p = spawn_helper();
    CHECK_OK(reg("c79_main", p));
    CHECK_EQ(whereis("c79_main"), p);
    CHECK_OK(send_named_words("c79_main", T_HI, 1, 0)); /* sender 0: P answers nobody */
    CHECK_OK(unreg("c79_main"));
    CHECK_EQ(whereis("c79_main"), 0);
    stop(p);
}

/* ---- case 80 ------------------------------------------------------------------------ */
/* "register badarg cases: a name already in use; a process that already has a name; the
 * same pair registered again; a dead pid; [not a pid]; and sending to the name that failed
 * to register also raises badarg." */
static hive_status g_same_pair_status;
static void case80_s(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p = spawn_helper(), q = spawn_helper(), from = 0;
    CHECK_OK(reg("c80_a", p));
    /* The name is in use. */
    CHECK_EQ(reg("c80_a", q), HIVE_ERR_NAME_TAKEN);
    CHECK_EQ(reg("c80_a", self), HIVE_ERR_NAME_TAKEN);
    /* P already has a name. */
    CHECK_EQ(reg("c80_b", p), HIVE_ERR_ALREADY_NAMED);
    /* The same pair again: hive.h says ALREADY_NAMED covers "the process has a name,
     * possibly this one", but the name is checked first, so it may be NAME_TAKEN. Either
     * is an error; which one is recorded and printed. */
    g_same_pair_status = reg("c80_a", p);
    CHECK(g_same_pair_status == HIVE_ERR_NAME_TAKEN || g_same_pair_status == HIVE_ERR_ALREADY_NAMED);
    /* A dead pid, a pid never used, another node's pid, pid 0. */
    CHECK_EQ(hive_is_alive(g_dead), 0);
    CHECK_EQ(reg("c80_d", g_dead), HIVE_ERR_NO_PROCESS);
    CHECK_EQ(reg("c80_d", FAKE_PID), HIVE_ERR_NO_PROCESS);
    CHECK_EQ(reg("c80_d", self | NODE_BIT), HIVE_ERR_BAD_ARGUMENT); /* names are per node: case 103 */
    CHECK_EQ(reg("c80_d", 0), HIVE_ERR_BAD_ARGUMENT);
    /* None of the failures changed anything. */
    CHECK_EQ(whereis("c80_a"), p);
    CHECK_EQ(whereis("c80_b"), 0);
    CHECK_EQ(whereis("c80_d"), 0);
    /* Sending to a name that failed to register. */
    CHECK_EQ(send_named_words("c80_b", T_HI, 1, self), HIVE_ERR_NOT_REGISTERED);
    CHECK_EQ(send_named_words("c80_d", T_HI, 1, self), HIVE_ERR_NOT_REGISTERED);
    /* Q, refused above, is still free to take a name; P still answers to its own. */
    CHECK_OK(reg("c80_q", q));
    CHECK_EQ(whereis("c80_q"), q);
    CHECK_OK(send_named_words("c80_a", T_HI, 80, self));
    CHECK_EQ(recv_tag(T_ACK, 5000, &from), 80);
    CHECK_EQ(from, p);
    stop(p);
    stop(q);
    expect_empty_mailbox();
}
static void case_80(void) {
    CHECK_OK(hive_run(case80_s, NULL, 0, NULL, NULL));
    /* The same failures from a plain thread. */
    hive_pid p = spawn_helper(), q = spawn_helper();
    CHECK_OK(reg("c80_main", p));
    CHECK_EQ(reg("c80_main", q), HIVE_ERR_NAME_TAKEN);
    CHECK_EQ(reg("c80_main2", p), HIVE_ERR_ALREADY_NAMED);
    hive_status s = reg("c80_main", p);
    CHECK_EQ(s, g_same_pair_status);
    CHECK_EQ(reg("c80_main3", g_dead), HIVE_ERR_NO_PROCESS);
    CHECK_EQ(reg("c80_main3", 0), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(send_named_words("c80_main2", T_HI, 1, 0), HIVE_ERR_NOT_REGISTERED);
    CHECK_EQ(whereis("c80_main"), p);
    CHECK_OK(unreg("c80_main"));
    stop(p);
    stop(q);
}

/* ---- case 81 ------------------------------------------------------------------------ */
/* "unregister(N) returns true. After it, whereis(N) =:= undefined. unregister(N) again, or
 * on a name never used, raises badarg. P may then register a new name, and N may go to
 * another process." */
static void case81_s(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p = spawn_helper(), q = spawn_helper(), from = 0;
    CHECK_OK(reg("c81_n", p));
    CHECK_OK(unreg("c81_n"));
    CHECK_EQ(whereis("c81_n"), 0);
    CHECK_EQ(unreg("c81_n"), HIVE_ERR_NOT_REGISTERED);
    CHECK_EQ(unreg("c81_never"), HIVE_ERR_NOT_REGISTERED);
    CHECK_EQ(send_named_words("c81_n", T_HI, 1, self), HIVE_ERR_NOT_REGISTERED);
    /* P may register a new name. */
    CHECK_OK(reg("c81_m", p));
    CHECK_EQ(whereis("c81_m"), p);
    /* N may go to another process, and messages to N then reach it. */
    CHECK_OK(reg("c81_n", q));
    CHECK_EQ(whereis("c81_n"), q);
    CHECK_OK(send_named_words("c81_n", T_HI, 81, self));
    CHECK_EQ(recv_tag(T_ACK, 5000, &from), 81);
    CHECK_EQ(from, q);
    /* N may even go back to P once P dropped its other name. */
    CHECK_OK(unreg("c81_n"));
    CHECK_EQ(reg("c81_n", p), HIVE_ERR_ALREADY_NAMED);
    CHECK_OK(unreg("c81_m"));
    CHECK_OK(reg("c81_n", p));
    CHECK_EQ(whereis("c81_n"), p);
    CHECK_EQ(whereis("c81_m"), 0);
    /* The same for a process naming itself, many times over. */
    for (int i = 0; i < 1000; i++) {
        const char *n = (i & 1) ? "c81_s1" : "c81_s2";
        CHECK_OK(reg(n, self));
        CHECK_EQ(whereis(n), self);
        CHECK_OK(unreg(n));
        CHECK_EQ(whereis(n), 0);
    }
    /* Another process may unregister P's name (unregister/1 takes any name). */
    CHECK_OK(unreg("c81_n"));
    CHECK_OK(reg("c81_q", q));
    stop(p);
    stop(q);
    expect_empty_mailbox();
}
static void case_81(void) {
    CHECK_OK(hive_run(case81_s, NULL, 0, NULL, NULL));
    /* From a plain thread. */
    hive_pid p = spawn_helper(), q = spawn_helper();
    CHECK_OK(reg("c81_main", p));
    CHECK_OK(unreg("c81_main"));
    CHECK_EQ(unreg("c81_main"), HIVE_ERR_NOT_REGISTERED);
    CHECK_OK(reg("c81_main", q));
    CHECK_OK(reg("c81_main2", p));
    CHECK_EQ(whereis("c81_main"), q);
    CHECK_EQ(whereis("c81_main2"), p);
    CHECK_OK(unreg("c81_main"));
    CHECK_OK(unreg("c81_main2"));
    stop(p);
    stop(q);
}

/* ---- name release on exit (cases 82/83 without monitors) ---------------------------- */
/* "The name is freed before the exit is observed: after the DOWN/EXIT, whereis(N) is
 * undefined and register(N, self()) succeeds." Here the observer is hive_wait in the main
 * thread. A waitee blocks until it gets stop (selectively, leaving any junk queued), burns
 * a few time slices, and returns. */
static void waitee(void *arg) {
    (void)arg;
    recv_tag(T_STOP, -1, NULL);
    for (int i = 0; i < 3 * HIVE_REDUCTIONS_PER_SLICE; i++) CHECK_OK(hive_reduction_check());
}
static hive_pid spawn_waitee(void) {
    hive_pid p = 0;
    CHECK_OK(hive_spawn(waitee, NULL, 0, NULL, &p));
    return p;
}

/* After the exit of the process that held `name` was observed: the name is free,
 * sending to it fails, and another process can take it. */
static void check_released(const char *name, hive_pid dead, hive_pid other) {
    CHECK_EQ(whereis(name), 0);
    CHECK_EQ(hive_is_alive(dead), 0);
    CHECK_EQ(send_named_words(name, T_HI, 0, 0), HIVE_ERR_NOT_REGISTERED);
    CHECK_EQ(unreg(name), HIVE_ERR_NOT_REGISTERED);
    CHECK_OK(reg(name, other));
    CHECK_EQ(whereis(name), other);
    CHECK_OK(unreg(name));
    CHECK_EQ(reg(name, dead), HIVE_ERR_NO_PROCESS);
}

/* Mode 1: send stop, then a blocking hive_wait. Mode 2: the waitee has `junk` messages
 * queued (so its exit takes a while to free them), and main polls with hive_wait(P, 1)
 * from the moment it sends stop, so that a poll lands inside the exit path as often as
 * possible (a hive_wait that returned HIVE_OK there, before the exit path had released
 * the name, was a bug). Either way, the first hive_wait that reports the exit must find
 * the name gone. Returns how many rounds observed the exit with hive_wait (the others found the
 * process already gone: HIVE_OK with reason noproc; there the name must still be released
 * soon, which is polled for). */
static int release_rounds(int rounds, int mode, int junk, hive_pid other) {
    int observed = 0;
    for (int i = 0; i < rounds; i++) {
        const char *name = "release_me";
        hive_pid p = spawn_waitee();
        CHECK_OK(reg(name, p)); /* from a plain thread */
        CHECK_EQ(whereis(name), p);
        for (int j = 0; j < junk; j++) send_words(p, T_JUNK, (uint64_t)j, 0);
        hive_exit_info info;
        hive_status s;
        if (mode == 1) {
            send_words(p, T_STOP, 0, 0);
            s = hive_wait(p, 30000, &info);
        } else {
            CHECK_EQ(hive_wait(p, 0, &info), HIVE_TIMEOUT);
            send_words(p, T_STOP, 0, 0);
            uint64_t t0 = hive_test_now_ns();
            do {
                s = hive_wait(p, 1, &info);
                CHECK_LT(hive_test_now_ns() - t0, 30ull * 1000000000ull);
            } while (s == HIVE_TIMEOUT);
        }
        CHECK_OK(s);
        if (info.kind != HIVE_REASON_NOPROC) {
            hive_pid now = whereis(name); /* first thing after the exit was observed */
            if (now != 0)
                fprintf(stderr, "registry: round %d (mode %d): hive_wait(P) returned HIVE_OK "
                                "but whereis(\"%s\") still gives P\n", i, mode, name);
            CHECK_EQ(now, 0);
            CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
            observed++;
        } else {
            uint64_t t0 = hive_test_now_ns();
            while (whereis(name) != 0) {
                CHECK_LT(hive_test_now_ns() - t0, 30ull * 1000000000ull);
                sched_yield();
            }
        }
        check_released(name, p, other);
    }
    return observed;
}

static int g_release_observed[2];
static void release_on_exit(void) {
    hive_pid other = spawn_helper();
    g_release_observed[0] = release_rounds(200, 1, 0, other);
    g_release_observed[1] = release_rounds(200, 2, 2000, other);
    CHECK_GE(g_release_observed[0], 1);
    CHECK_GE(g_release_observed[1], 1);
    stop(other);
}
/* A root process (hive_run) holding a name: hive_run always observes the exit. */
static void named_root(void *arg) {
    (void)arg;
    CHECK_OK(reg("release_root", hive_self()));
    for (int i = 0; i < 3 * HIVE_REDUCTIONS_PER_SLICE; i++) CHECK_OK(hive_reduction_check());
}
static void release_root(void) {
    hive_pid other = spawn_helper();
    for (int i = 0; i < 200; i++) {
        CHECK_OK(hive_run(named_root, NULL, 0, NULL, NULL));
        CHECK_EQ(whereis("release_root"), 0);
        CHECK_OK(reg("release_root", other));
        CHECK_OK(unreg("release_root"));
    }
    stop(other);
}

/* ---- bad inputs --------------------------------------------------------------------- */
/* The same checks from the main thread and from a process. `live` is a live process
 * without a name; `self` is the calling process or 0. */
static uint8_t g_long_name[300];
static void bad_inputs(hive_pid live, hive_pid self) {
    hive_pid out = 0xDEADBEEFull;
    const char nul[] = {'a', '\0', 'b'};
    const char lead_nul[] = {'\0', 'a'};
    uint64_t word = T_HI;
    /* NULL name (also with len 0: the pointer is checked first). */
    CHECK_EQ(hive_register(NULL, 3, live), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_register(NULL, 0, live), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_unregister(NULL, 3), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_whereis(NULL, 3, &out), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_send_named(NULL, 3, &word, sizeof word), HIVE_ERR_NULL_POINTER);
    /* Length 0. */
    CHECK_EQ(hive_register("x", 0, live), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_unregister("x", 0), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_whereis("x", 0, &out), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_send_named("x", 0, &word, sizeof word), HIVE_ERR_BAD_ARGUMENT);
    /* A NUL byte inside, or first. */
    CHECK_EQ(hive_register(nul, sizeof nul, live), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_register(lead_nul, sizeof lead_nul, live), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_register("bad\0", 4, live), HIVE_ERR_BAD_ARGUMENT); /* trailing NUL counted */
    CHECK_EQ(hive_unregister(nul, sizeof nul), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_whereis(nul, sizeof nul, &out), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_send_named(nul, sizeof nul, &word, sizeof word), HIVE_ERR_BAD_ARGUMENT);
    /* 256 bytes: too long; 255: fine. */
    CHECK_EQ(hive_register(g_long_name, HIVE_MAX_NAME_LEN + 1, live), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_register(g_long_name, SIZE_MAX, live), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_unregister(g_long_name, HIVE_MAX_NAME_LEN + 1), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_whereis(g_long_name, HIVE_MAX_NAME_LEN + 1, &out), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_send_named(g_long_name, HIVE_MAX_NAME_LEN + 1, &word, sizeof word),
             HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_whereis(g_long_name, HIVE_MAX_NAME_LEN, &out), HIVE_OK);
    CHECK_EQ(out, 0);
    CHECK_OK(hive_register(g_long_name, HIVE_MAX_NAME_LEN, live));
    out = 0;
    CHECK_OK(hive_whereis(g_long_name, HIVE_MAX_NAME_LEN, &out));
    CHECK_EQ(out, live);
    CHECK_OK(hive_whereis(g_long_name, HIVE_MAX_NAME_LEN - 1, &out)); /* a prefix: another name */
    CHECK_EQ(out, 0);
    /* NULL pid_out. */
    CHECK_EQ(hive_whereis(g_long_name, HIVE_MAX_NAME_LEN, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_whereis("x", 1, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_whereis(NULL, 0, NULL), HIVE_ERR_NULL_POINTER);
    /* hive_send_named data checks, to a registered name: NULL with len > 0; too long. */
    CHECK_EQ(hive_send_named(g_long_name, HIVE_MAX_NAME_LEN, NULL, 8), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_send_named(g_long_name, HIVE_MAX_NAME_LEN, NULL, 1), HIVE_ERR_NULL_POINTER);
    uint8_t *huge = malloc((size_t)HIVE_MAX_MESSAGE_LEN + 1); /* never touched */
    CHECK(huge != NULL);
    CHECK_EQ(hive_send_named(g_long_name, HIVE_MAX_NAME_LEN, huge, (size_t)HIVE_MAX_MESSAGE_LEN + 1),
             HIVE_ERR_BAD_LENGTH);
    free(huge);
    /* NULL with len 0 is an empty message (as hive_send); `live` counts it. */
    uint64_t short0 = atomic_load(&g_helper_short_msgs);
    CHECK_OK(hive_send_named(g_long_name, HIVE_MAX_NAME_LEN, NULL, 0));
    CHECK_OK(hive_unregister(g_long_name, HIVE_MAX_NAME_LEN));
    /* pid 0 and unknown names. */
    CHECK_EQ(hive_register("x", 1, 0), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_unregister("bad_input_never", 15), HIVE_ERR_NOT_REGISTERED);
    CHECK_EQ(hive_send_named("bad_input_never", 15, &word, sizeof word), HIVE_ERR_NOT_REGISTERED);
    CHECK_EQ(hive_send_named("bad_input_never", 15, NULL, 0), HIVE_ERR_NOT_REGISTERED);
    /* Nothing above registered anything (the 255-byte name was removed). */
    CHECK_EQ(whereis("x"), 0);
    CHECK_EQ(whereis("a"), 0);
    CHECK_OK(hive_register("x", 1, live)); /* `live` had no name left */
    CHECK_OK(hive_unregister("x", 1));
    if (self) {
        /* A process may send an empty message to its own name. */
        CHECK_OK(hive_register("bad_input_self", 14, self));
        CHECK_OK(hive_send_named("bad_input_self", 14, NULL, 0));
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(5000, &m));
        CHECK_EQ(hive_msg_len(m), 0);
        CHECK_EQ(hive_msg_sender(m), self);
        hive_msg_free(m);
        CHECK_OK(hive_unregister("bad_input_self", 14));
    }
    /* The empty message reached `live` (it is counted; wait for the count from a process
     * with a receive timeout, from a thread by spinning). */
    uint64_t t0 = hive_test_now_ns();
    while (atomic_load(&g_helper_short_msgs) == short0) {
        CHECK_LT(hive_test_now_ns() - t0, 30ull * 1000000000ull);
        if (self) {
            hive_msg *m = NULL;
            CHECK_EQ(hive_receive(1, &m), HIVE_TIMEOUT);
        } else {
            sched_yield();
        }
    }
}
static void bad_inputs_s(void *arg) {
    hive_pid live;
    memcpy(&live, arg, sizeof live);
    bad_inputs(live, hive_self());
    expect_empty_mailbox();
}
static void bad_input_checks(void) {
    memset(g_long_name, 'n', sizeof g_long_name);
    g_long_name[0] = 0xC3; /* bytes, not necessarily text */
    hive_pid live = spawn_helper();
    bad_inputs(live, 0);
    CHECK_OK(hive_run(bad_inputs_s, &live, sizeof live, NULL, NULL));
    stop(live);
}

/* ---- concurrency: own pools, one shared name ---------------------------------------- */
/* 4 processes and 2 plain threads each loop ITERS times over their own pool of names:
 * register(name, me) / whereis == me / unregister / whereis == 0, with now and then a
 * second register for the same process (ALREADY_NAMED). Each also tries one name they all
 * share: whoever gets it finds itself there until it unregisters it (mutual exclusion),
 * the others get NAME_TAKEN. "me" is the process itself, or for a thread a helper process
 * it owns. */
#define CONC_PROCS 4
#define CONC_THREADS 2
#define CONC_ITERS 20000
#define CONC_POOL 50
static _Atomic uint64_t g_conc_go;
static _Atomic uint64_t g_shared_wins, g_shared_taken;

static void conc_loop(int id, hive_pid me, int in_process) {
    char names[CONC_POOL][32];
    for (int j = 0; j < CONC_POOL; j++) snprintf(names[j], sizeof names[j], "pool%d_%d", id, j);
    uint64_t wins = 0, taken = 0;
    for (int i = 0; i < CONC_ITERS; i++) {
        const char *n = names[i % CONC_POOL];
        CHECK_OK(reg(n, me));
        CHECK_EQ(whereis(n), me);
        if (i % 64 == 0) {
            CHECK_EQ(reg(names[(i + 1) % CONC_POOL], me), HIVE_ERR_ALREADY_NAMED);
            CHECK_EQ(reg(n, me), g_same_pair_status); /* the same pair again (case 80) */
        }
        CHECK_OK(unreg(n));
        CHECK_EQ(whereis(n), 0);
        hive_status s = reg("conc_shared", me);
        if (s == HIVE_OK) {
            CHECK_EQ(whereis("conc_shared"), me);
            CHECK_OK(unreg("conc_shared"));
            wins++;
        } else {
            CHECK_EQ(s, HIVE_ERR_NAME_TAKEN);
            taken++;
        }
        if (in_process) CHECK_OK(hive_reduction_check());
    }
    atomic_fetch_add(&g_shared_wins, wins);
    atomic_fetch_add(&g_shared_taken, taken);
}
static void conc_proc(void *arg) {
    uint64_t a[2]; /* id, parent */
    memcpy(a, arg, sizeof a);
    conc_loop((int)a[0], hive_self(), 1);
    send_words(a[1], T_DONE, a[0], 0);
}
static void *conc_thread(void *arg) {
    int id = (int)(intptr_t)arg;
    hive_pid me = spawn_helper();
    spin_until(&g_conc_go);
    conc_loop(id, me, 0);
    stop(me);
    return NULL;
}
static void conc_root(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    for (uint64_t i = 0; i < CONC_PROCS; i++) {
        uint64_t a[2] = {i, self};
        CHECK_OK(hive_spawn(conc_proc, a, sizeof a, NULL, NULL));
    }
    atomic_store(&g_conc_go, 1);
    uint64_t seen = 0;
    for (int i = 0; i < CONC_PROCS; i++) seen |= 1ull << recv_tag(T_DONE, 60000, NULL);
    CHECK_EQ(seen, (1ull << CONC_PROCS) - 1);
}
static void concurrency_own_pools(void) {
    pthread_t t[CONC_THREADS];
    for (int i = 0; i < CONC_THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, conc_thread, (void *)(intptr_t)(CONC_PROCS + i)), 0);
    CHECK_OK(hive_run(conc_root, NULL, 0, NULL, NULL));
    for (int i = 0; i < CONC_THREADS; i++) CHECK_EQ(pthread_join(t[i], NULL), 0);
    CHECK_EQ(atomic_load(&g_shared_wins) + atomic_load(&g_shared_taken),
             (uint64_t)(CONC_PROCS + CONC_THREADS) * CONC_ITERS);
    CHECK_GE(atomic_load(&g_shared_wins), 1);
    CHECK_EQ(whereis("conc_shared"), 0);
    for (int id = 0; id < CONC_PROCS + CONC_THREADS; id++)
        for (int j = 0; j < CONC_POOL; j++) {
            char n[32];
            snprintf(n, sizeof n, "pool%d_%d", id, j);
            CHECK_EQ(whereis(n), 0);
        }
}

/* ---- concurrency: a name never resolves to a process whose exit was observed --------- */
/* Each round: main registers a fresh name for a waitee P; a watcher process W calls
 * whereis on it in a loop and must only ever see P, then (once P's name is gone) 0, never
 * P again; once it has seen 0 for a while it takes the name itself. Main stops P and, when
 * its hive_wait(P) reports the exit, whereis must not give P (it gives 0, or W). */
#define RACE_ROUNDS 200
static struct race_slot {
    _Atomic uint64_t pid;      /* P */
    _Atomic uint64_t seen_p;   /* W saw P registered */
    _Atomic uint64_t done;     /* W finished */
} g_race[RACE_ROUNDS];
static _Atomic uint64_t g_race_done, g_race_lookups;

static void race_watcher(void *arg) {
    uint64_t i;
    memcpy(&i, arg, sizeof i);
    char name[32];
    snprintf(name, sizeof name, "exit_race_%llu", (unsigned long long)i);
    hive_pid p = atomic_load(&g_race[i].pid), self = hive_self();
    uint64_t zeros = 0, lookups = 0;
    while (zeros < 50) {
        hive_pid now = whereis(name);
        lookups++;
        if (now == p) {
            CHECK_EQ(zeros, 0); /* never P again once it was gone */
            atomic_store(&g_race[i].seen_p, 1);
        } else {
            CHECK_EQ(now, 0);
            zeros++;
        }
        CHECK_OK(hive_reduction_check());
    }
    CHECK_EQ(atomic_load(&g_race[i].seen_p), 1);
    CHECK_OK(reg(name, self));
    CHECK_EQ(whereis(name), self);
    atomic_fetch_add(&g_race_lookups, lookups);
    atomic_store(&g_race[i].done, 1);
    atomic_fetch_add(&g_race_done, 1);
}
static int g_race_observed;
static void exit_race(void) {
    for (uint64_t i = 0; i < RACE_ROUNDS; i++) {
        char name[32];
        snprintf(name, sizeof name, "exit_race_%llu", (unsigned long long)i);
        hive_pid p = spawn_waitee();
        CHECK_OK(reg(name, p));
        atomic_store(&g_race[i].pid, p);
        CHECK_OK(hive_spawn(race_watcher, &i, sizeof i, NULL, NULL));
        spin_until(&g_race[i].seen_p);
        send_words(p, T_STOP, 0, 0);
        hive_exit_info info;
        CHECK_OK(hive_wait(p, 30000, &info));
        CHECK_NE(whereis(name), p);
        if (info.kind != HIVE_REASON_NOPROC) g_race_observed++;
    }
    uint64_t t0 = hive_test_now_ns();
    while (atomic_load(&g_race_done) < RACE_ROUNDS) {
        CHECK_LT(hive_test_now_ns() - t0, 30ull * 1000000000ull);
        sched_yield();
    }
    CHECK_GE(g_race_observed, 1);
}

/* ---- hive_sleep --------------------------------------------------------------------- */
/* timer:sleep/1: at least the time asked; 0 only yields; messages that arrive meanwhile
 * neither end it nor get lost; bad arguments; not from a plain thread. */
static uint64_t g_sleep_ms[3];
static _Atomic uint64_t g_ping_during_sleep;
static void pinger(void *arg) {
    hive_pid s;
    memcpy(&s, arg, sizeof s);
    recv_tag(T_GO, 5000, NULL);
    CHECK_OK(hive_sleep(10));
    send_words(s, T_PING, hive_test_now_ns(), 0);
}
static void many_sleeper(void *arg) {
    hive_pid parent;
    memcpy(&parent, arg, sizeof parent);
    uint64_t t0 = hive_test_now_ns();
    CHECK_OK(hive_sleep(20));
    uint64_t e = hive_test_now_ns() - t0;
    CHECK_GE(e, 20ull * 1000000);
    send_words(parent, T_DONE, e, 0);
}
static void sleep_s(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    /* 10 ms and 50 ms (and 1 ms): at least that long (< 2 s as a sanity bound). */
    const int64_t asks[3] = {10, 50, 1};
    for (int i = 0; i < 3; i++) {
        uint64_t t0 = hive_test_now_ns();
        CHECK_OK(hive_sleep(asks[i]));
        uint64_t e = hive_test_now_ns() - t0;
        CHECK_GE(e, (uint64_t)asks[i] * 1000000);
        CHECK_LT(e, 2000ull * 1000000);
        g_sleep_ms[i] = e / 1000;
    }
    /* 0: returns at once (only yields), many times over. */
    uint64_t t0 = hive_test_now_ns();
    for (int i = 0; i < 1000; i++) CHECK_OK(hive_sleep(0));
    CHECK_LT(hive_test_now_ns() - t0, 2000ull * 1000000);
    /* A message sent during the sleep does not end it, and stays queued. */
    hive_pid pg = 0;
    CHECK_OK(hive_spawn(pinger, &self, sizeof self, NULL, &pg));
    send_words(pg, T_GO, 0, 0);
    t0 = hive_test_now_ns();
    CHECK_OK(hive_sleep(200));
    uint64_t t1 = hive_test_now_ns();
    CHECK_GE(t1 - t0, 200ull * 1000000);
    size_t n = 0;
    CHECK_OK(hive_mailbox_len(&n));
    CHECK_EQ(n, 1);
    hive_pid from = 0;
    uint64_t sent_at = recv_tag(T_PING, 0, &from);
    CHECK_EQ(from, pg);
    if (sent_at > t0 && sent_at < t1) atomic_store(&g_ping_during_sleep, 1);
    /* A message already queued does not cut a sleep short either, and is kept. */
    send_words(self, T_SELF, 1, 0);
    t0 = hive_test_now_ns();
    CHECK_OK(hive_sleep(20));
    CHECK_GE(hive_test_now_ns() - t0, 20ull * 1000000);
    CHECK_OK(hive_mailbox_len(&n));
    CHECK_EQ(n, 1);
    CHECK_EQ(recv_tag(T_SELF, 0, NULL), 1);
    /* After a sleep, receive timeouts still work. */
    hive_msg *m = NULL;
    t0 = hive_test_now_ns();
    CHECK_EQ(hive_receive(20, &m), HIVE_TIMEOUT);
    CHECK_GE(hive_test_now_ns() - t0, 20ull * 1000000);
    /* Bad arguments. */
    CHECK_EQ(hive_sleep(-1), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_sleep(INT64_MIN), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_sleep(4294967296ll), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_sleep(INT64_MAX), HIVE_ERR_BAD_ARGUMENT);
    /* 100 processes sleeping at once each sleep at least their time. */
    for (int i = 0; i < 100; i++) CHECK_OK(hive_spawn(many_sleeper, &self, sizeof self, NULL, NULL));
    for (int i = 0; i < 100; i++) CHECK_GE(recv_tag(T_DONE, 10000, NULL), 20ull * 1000000);
    expect_empty_mailbox();
}
static void sleep_checks(void) {
    CHECK_EQ(hive_sleep(10), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_sleep(0), HIVE_ERR_NOT_A_PROCESS);
    hive_status s = hive_sleep(-1); /* both are wrong; either code will do */
    CHECK(s == HIVE_ERR_BAD_ARGUMENT || s == HIVE_ERR_NOT_A_PROCESS);
    CHECK_OK(hive_run(sleep_s, NULL, 0, NULL, NULL));
}

/* ---- before init, after shutdown ---------------------------------------------------- */
static void not_running_checks(hive_status want) {
    hive_pid out = 0;
    CHECK_EQ(hive_register("x", 1, FAKE_PID), want);
    CHECK_EQ(hive_unregister("x", 1), want);
    CHECK_EQ(hive_whereis("x", 1, &out), want);
    CHECK_EQ(hive_send_named("x", 1, "y", 1), want);
}

int main(void) {
    not_running_checks(HIVE_ERR_NOT_INITIALIZED);
    CHECK_EQ(hive_sleep(1), HIVE_ERR_NOT_A_PROCESS);
    hive_config c;
    CHECK_OK(hive_config_default(&c));
    c.schedulers = 2;
    CHECK_OK(hive_init(&c));
    CHECK_OK(hive_run(record_pid, NULL, 0, NULL, NULL));
    CHECK_NE(g_dead, 0);

    case_79();
    case_80();
    case_81();
    release_on_exit();
    release_root();
    bad_input_checks();
    concurrency_own_pools();
    exit_race();
    sleep_checks();

    /* Let the helpers told to stop finish, then shut down. */
    uint64_t t0 = hive_test_now_ns(), n = 99;
    for (;;) {
        CHECK_OK(hive_process_count(&n));
        if (n == 0) break;
        CHECK_LT(hive_test_now_ns() - t0, 30ull * 1000000000ull);
        sched_yield();
    }
    uint64_t stopped = 99;
    CHECK_OK(hive_shutdown(&stopped));
    CHECK_EQ(stopped, 0);
    not_running_checks(HIVE_ERR_SHUT_DOWN);

    printf("registry: cases 79,80,81 + name release + bad inputs + concurrency + sleep ok, "
           "%llu checks (same pair again -> %d; exits observed by hive_wait: %d/200 blocking, "
           "%d/200 polling, %d/%d exit races; %llu whereis in races; sleeps 10/50/1 ms took "
           "%llu/%llu/%llu us; ping arrived during the sleep: %s; shared name won %llu of %llu)\n",
           CHECKS_DONE(), (int)g_same_pair_status, g_release_observed[0], g_release_observed[1],
           g_race_observed, RACE_ROUNDS, (unsigned long long)atomic_load(&g_race_lookups),
           (unsigned long long)g_sleep_ms[0], (unsigned long long)g_sleep_ms[1],
           (unsigned long long)g_sleep_ms[2], atomic_load(&g_ping_during_sleep) ? "yes" : "no",
           (unsigned long long)atomic_load(&g_shared_wins),
           (unsigned long long)(CONC_PROCS + CONC_THREADS) * CONC_ITERS);
    return 0;
}
