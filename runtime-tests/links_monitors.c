/* Links, exit signals, trap_exit, kill and monitors through the C ABI: the normal behaviour
 * of hive_link, hive_unlink, hive_trap_exit, hive_exit_pid, hive_monitor, hive_demonitor,
 * hive_spawn_link, hive_spawn_monitor, hive_spawn_opt, hive_set_terminate, hive_get_links,
 * hive_get_monitors, hive_get_monitored_by, the HIVE_MSG_EXIT / HIVE_MSG_DOWN accessors and
 * the link/monitor counts of hive_process_info. Each check is named after its BEAM case in
 * docs/semantics.md ("case N") where one applies.
 *
 * Synchronisation is by messages and monitors only: a command's acknowledgement, a DOWN
 * (every message and signal a process sent reaches us before its DOWN), or a bounded
 * hive_yield loop on a condition that must become true (cases 30, 62, 72-74, 78, 96; the
 * BEAM cases poll too). Receive timeouts (T) are failure bounds, never a way to wait.
 *
 * A "puppet" process runs commands sent to it (link, unlink, trap_exit, monitor, exit, ...)
 * and acknowledges each with its status; every EXIT or DOWN message it receives is
 * forwarded to its owner as a data record. Exit reasons are passed to it as pointers to
 * static bytes (all processes share the address space). */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

#define T 10000 /* failure bound of every receive that must succeed, ms */
#define WATCHDOG_S 20 /* failure bound of one group (a group normally takes milliseconds) */

/* ---- messages ----------------------------------------------------------------------- */
enum {
    C_PING = 0x100, C_LINK, C_UNLINK, C_TRAP, C_MONITOR, C_EXIT, C_SPAWN_LINK, /* commands */
    R_ACK = 0x200, R_FWD,                                                      /* replies */
    T_READY = 0x300, T_REPORT, T_GO, T_OTHER, T_TERM,
};

/* A reason as (kind, bytes, len) arguments. */
#define ERR(s) HIVE_REASON_ERROR, (const void *)(s), (sizeof(s) - 1)
#define STD(k) (k), (const void *)NULL, (size_t)0

static uint64_t word(const hive_msg *m, size_t i) { /* no CHECK: used inside predicates */
    uint64_t v = 0;
    if (hive_msg_len(m) >= (i + 1) * 8) memcpy(&v, hive_msg_data(m) + i * 8, 8);
    return v;
}
static void send_words(hive_pid to, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
    uint64_t w[4] = {a, b, c, d};
    CHECK_OK(hive_send(to, w, sizeof w));
}

struct want { uint64_t tag; hive_pid from; }; /* from 0: any sender */
static int32_t match_data(void *env, const hive_msg *m) {
    const struct want *w = env;
    return hive_msg_kind(m) == HIVE_MSG_DATA && hive_msg_len(m) >= 8 && word(m, 0) == w->tag &&
           (w->from == 0 || hive_msg_sender(m) == w->from);
}
static int32_t match_down(void *env, const hive_msg *m) {
    return hive_msg_kind(m) == HIVE_MSG_DOWN && hive_msg_monitor_ref(m) == *(const uint64_t *)env;
}
static int32_t match_exit(void *env, const hive_msg *m) {
    return hive_msg_kind(m) == HIVE_MSG_EXIT && hive_msg_sender(m) == *(const hive_pid *)env;
}

/* The first data message tagged `tag` from `from` (0: anyone); the caller frees it. */
static hive_msg *recv_data(uint64_t tag, hive_pid from) {
    struct want w = {tag, from};
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_data, &w, T, &m));
    return m;
}
static void check_reason(hive_msg *m, int32_t kind, const void *bytes, size_t len) {
    CHECK_EQ(hive_msg_reason_kind(m), kind);
    CHECK_EQ(hive_msg_len(m), len);
    if (len) CHECK(memcmp(hive_msg_data(m), bytes, len) == 0);
}
/* Receives the DOWN of monitor `mref` and checks it: sender `pid`, the reason. */
static void expect_down(uint64_t mref, hive_pid pid, int32_t kind, const void *bytes, size_t len) {
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_down, &mref, T, &m));
    CHECK_EQ(hive_msg_kind(m), HIVE_MSG_DOWN);
    CHECK_EQ(hive_msg_monitor_ref(m), mref);
    CHECK_EQ(hive_msg_sender(m), pid);
    CHECK_EQ(hive_msg_timer_ref(m), 0);
    check_reason(m, kind, bytes, len);
    hive_msg_free(m);
}
/* Receives the next EXIT message from `from` and checks its reason. */
static void expect_exit(hive_pid from, int32_t kind, const void *bytes, size_t len) {
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_exit, &from, T, &m));
    CHECK_EQ(hive_msg_kind(m), HIVE_MSG_EXIT);
    CHECK_EQ(hive_msg_sender(m), from);
    CHECK_EQ(hive_msg_monitor_ref(m), 0);
    check_reason(m, kind, bytes, len);
    hive_msg_free(m);
}
/* Nothing is queued (reports what is, if anything). */
static void expect_empty(void) {
    hive_msg *m = NULL;
    hive_status s = hive_receive(0, &m);
    if (s == HIVE_OK) {
        fprintf(stderr, "unexpected message: kind %d sender %llu reason kind %d len %zu word0 %#llx\n",
                hive_msg_kind(m), (unsigned long long)hive_msg_sender(m), hive_msg_reason_kind(m),
                hive_msg_len(m), (unsigned long long)word(m, 0));
    }
    CHECK_EQ(s, HIVE_TIMEOUT);
}

/* Bounded poll for conditions that must become true (a failure bound, not a wait). */
#define POLL_UNTIL(cond) do { \
    uint64_t _end = hive_test_now_ns() + (uint64_t)T * 1000000ull; \
    while (!(cond)) { \
        if (hive_test_now_ns() > _end) { fprintf(stderr, "%s:%d: never became true: %s\n", \
            __FILE__, __LINE__, #cond); abort(); } \
        CHECK_OK(hive_yield()); \
    } \
    CHECK(cond); } while (0)

/* ---- introspection helpers ---------------------------------------------------------- */
static hive_pid g_buf[16];
static hive_monitor_info g_mbuf[16];
static size_t links_of(hive_pid p) {
    size_t n = 999;
    CHECK_OK(hive_get_links(p, g_buf, 16, &n));
    return n;
}
static size_t monitors_of(hive_pid p) {
    size_t n = 999;
    CHECK_OK(hive_get_monitors(p, g_mbuf, 16, &n));
    return n;
}
static size_t monitored_by_of(hive_pid p) {
    size_t n = 999;
    CHECK_OK(hive_get_monitored_by(p, g_buf, 16, &n));
    return n;
}
static hive_process_info info_of(hive_pid p) {
    hive_process_info i;
    memset(&i, 0xAB, sizeof i);
    CHECK_OK(hive_get_process_info(p, &i));
    return i;
}
static int32_t trap(int32_t on) {
    int32_t old = -7;
    CHECK_OK(hive_trap_exit(on, &old));
    return old;
}
static uint64_t monitor(hive_pid p) {
    uint64_t m = 0;
    CHECK_OK(hive_monitor(p, &m));
    CHECK_NE(m, 0);
    return m;
}
static int32_t demonitor(uint64_t mref, uint32_t flags) {
    int32_t info = -7;
    CHECK_OK(hive_demonitor(mref, flags, &info));
    return info;
}

/* ---- processes ---------------------------------------------------------------------- */
static void nop(void *arg) { (void)arg; }
static void sleeper(void *arg) {
    (void)arg;
    for (;;) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(-1, &m));
        hive_msg_free(m);
    }
}
static void exit_boom(void *arg) {
    (void)arg;
    hive_exit(ERR("boom"));
    CHECK(!"hive_exit returned");
}
static void exit_kill(void *arg) {
    (void)arg;
    hive_exit(STD(HIVE_REASON_KILL));
    CHECK(!"hive_exit returned");
}

/* The puppet: runs commands {cmd, a, b, c} and replies {R_ACK, cmd, status, value} to its
 * owner (its spawn argument); forwards every EXIT/DOWN it gets to the owner as
 * {R_FWD, kind, sender, reason kind, monitor ref, len} followed by the reason's bytes. */
static void puppet(void *arg) {
    hive_pid owner;
    memcpy(&owner, arg, sizeof owner);
    for (;;) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(-1, &m));
        int32_t kind = hive_msg_kind(m);
        if (kind != HIVE_MSG_DATA) {
            size_t len = hive_msg_len(m);
            hive_msg *f = NULL;
            CHECK_OK(hive_msg_alloc(48 + len, &f));
            uint64_t h[6] = {R_FWD, (uint64_t)kind, hive_msg_sender(m),
                             (uint64_t)(int64_t)hive_msg_reason_kind(m), hive_msg_monitor_ref(m), len};
            memcpy(hive_msg_data(f), h, sizeof h);
            if (len) memcpy(hive_msg_data(f) + 48, hive_msg_data(m), len);
            hive_msg_free(m);
            CHECK_OK(hive_send_msg(owner, f));
            continue;
        }
        uint64_t c = word(m, 0), a = word(m, 1), b = word(m, 2), d = word(m, 3);
        hive_msg_free(m);
        hive_status s = HIVE_OK;
        uint64_t v = 0;
        switch (c) {
        case C_PING: break;
        case C_LINK: s = hive_link(a); break;
        case C_UNLINK: s = hive_unlink(a); break;
        case C_TRAP: { int32_t old = -7; s = hive_trap_exit((int32_t)a, &old); v = (uint64_t)old; break; }
        case C_MONITOR: s = hive_monitor(a, &v); break;
        case C_EXIT:
            hive_exit((int32_t)a, (const void *)(uintptr_t)b, (size_t)d);
            CHECK(!"hive_exit returned");
            break;
        case C_SPAWN_LINK: { hive_pid p = 0; s = hive_spawn_link(puppet, &owner, sizeof owner, NULL, &p); v = p; break; }
        default: CHECK(!"unknown puppet command");
        }
        uint64_t r[4] = {R_ACK, c, (uint64_t)(int64_t)s, v};
        CHECK_OK(hive_send(owner, r, sizeof r));
    }
}
static hive_pid spawn_puppet(void) {
    hive_pid self = hive_self(), p = 0;
    CHECK_OK(hive_spawn(puppet, &self, sizeof self, NULL, &p));
    CHECK_NE(p, 0);
    return p;
}
/* Runs a command on puppet `p` (owned by the caller); checks its status, returns its value. */
static uint64_t cmd(hive_pid p, uint64_t c, uint64_t a, hive_status expect) {
    send_words(p, c, a, 0, 0);
    hive_msg *m = recv_data(R_ACK, p);
    CHECK_EQ(word(m, 1), c);
    CHECK_EQ((int64_t)word(m, 2), expect);
    uint64_t v = word(m, 3);
    hive_msg_free(m);
    return v;
}
/* Tells puppet `p` to exit with a reason (bytes must be static). */
static void puppet_exit(hive_pid p, int32_t kind, const void *bytes, size_t len) {
    send_words(p, C_EXIT, (uint64_t)kind, (uint64_t)(uintptr_t)bytes, len);
}
/* Receives puppet `p`'s next forwarded EXIT/DOWN record and checks it. */
static void expect_fwd(hive_pid p, int32_t kind, hive_pid sender, uint64_t mref, int32_t rkind,
                       const void *bytes, size_t len) {
    hive_msg *m = recv_data(R_FWD, p);
    CHECK_EQ(word(m, 1), kind);
    CHECK_EQ(word(m, 2), sender);
    CHECK_EQ((int64_t)word(m, 3), rkind);
    CHECK_EQ(word(m, 4), mref);
    CHECK_EQ(word(m, 5), len);
    CHECK_EQ(hive_msg_len(m), 48 + len);
    if (len) CHECK(memcmp(hive_msg_data(m) + 48, bytes, len) == 0);
    hive_msg_free(m);
}
/* Kills `p` (which the caller neither links nor traps for) and waits for its DOWN. */
static void kill_and_wait(hive_pid p) {
    uint64_t m = monitor(p);
    CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_KILL)));
    expect_down(m, p, STD(HIVE_REASON_KILLED));
}

/* ---- case 23 ------------------------------------------------------------------------ */
/* exit(P,kill) then is_process_alive(P), exit(P,R) then process_info(P) (and, as
 * documented, hive_get_links), from the same caller: not alive, every time. */
static void case_23(void *arg) {
    (void)arg;
    for (int i = 0; i < 300; i++) {
        hive_pid p1, p2, p3;
        CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, &p1));
        CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, &p2));
        CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, &p3));
        if (i % 3 == 0) CHECK_OK(hive_yield()); /* sometimes they are blocked in receive */
        CHECK_OK(hive_exit_pid(p1, STD(HIVE_REASON_KILL)));
        CHECK_EQ(hive_is_alive(p1), 0);
        CHECK_OK(hive_exit_pid(p2, ERR("some_reason")));
        hive_process_info info;
        CHECK_EQ(hive_get_process_info(p2, &info), HIVE_ERR_NO_PROCESS);
        CHECK_OK(hive_exit_pid(p3, ERR("some_reason")));
        size_t n = 77;
        CHECK_EQ(hive_get_links(p3, NULL, 0, &n), HIVE_ERR_NO_PROCESS);
        CHECK_EQ(n, 77);
    }
}

/* Case 23 again, after a few signals that need no answer: hive_unlink of a process that
 * is not linked is a no-op for the link sets but sends it an unlink signal. hive_is_alive
 * and hive_get_links must still return at once (1 and 0 links), every time. A hang here
 * is reported by the watchdog in main. */
static void case_23_after_signals(void *arg) {
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        hive_pid p = 0;
        CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, &p));
        for (int k = 0; k < 3; k++) CHECK_OK(hive_unlink(p));
        if (i % 2) {
            CHECK_EQ(hive_is_alive(p), 1);
        } else {
            size_t n = 99;
            CHECK_OK(hive_get_links(p, NULL, 0, &n));
            CHECK_EQ(n, 0);
        }
        CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_KILL)));
        CHECK_EQ(hive_is_alive(p), 0);
    }
}

/* ---- case 24 ------------------------------------------------------------------------ */
/* link is bidirectional, seen from both sides (hive_get_links, process_info.links), made
 * and removed from either side; link(self) does nothing. */
static void case_24(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p = spawn_puppet();
    CHECK_EQ(links_of(self), 0);
    CHECK_EQ(info_of(self).links, 0);
    /* We link, we unlink. */
    CHECK_OK(hive_link(p));
    CHECK_EQ(links_of(self), 1);
    CHECK_EQ(g_buf[0], p);
    CHECK_EQ(links_of(p), 1);
    CHECK_EQ(g_buf[0], self);
    CHECK_EQ(info_of(self).links, 1);
    CHECK_EQ(info_of(p).links, 1);
    CHECK_OK(hive_unlink(p));
    CHECK_EQ(links_of(self), 0);
    CHECK_EQ(links_of(p), 0);
    CHECK_EQ(info_of(p).links, 0);
    /* It links, it unlinks. */
    CHECK_EQ(cmd(p, C_LINK, self, HIVE_OK), 0);
    CHECK_EQ(links_of(self), 1);
    CHECK_EQ(g_buf[0], p);
    CHECK_EQ(links_of(p), 1);
    CHECK_EQ(g_buf[0], self);
    cmd(p, C_UNLINK, self, HIVE_OK);
    CHECK_EQ(links_of(self), 0);
    CHECK_EQ(links_of(p), 0);
    /* It links, we unlink; we link, it unlinks. */
    cmd(p, C_LINK, self, HIVE_OK);
    CHECK_OK(hive_unlink(p));
    CHECK_EQ(links_of(self), 0);
    CHECK_EQ(links_of(p), 0);
    CHECK_OK(hive_link(p));
    cmd(p, C_UNLINK, self, HIVE_OK);
    CHECK_EQ(links_of(self), 0);
    CHECK_EQ(links_of(p), 0);
    /* link(self()) does nothing. */
    CHECK_OK(hive_link(self));
    CHECK_EQ(links_of(self), 0);
    CHECK_EQ(info_of(self).links, 0);
    expect_empty();
    kill_and_wait(p);
}

/* ---- case 25 ------------------------------------------------------------------------ */
/* Links form a set; one unlink removes the link; the peer's death then has no effect. */
static void case_25(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p = spawn_puppet();
    for (int i = 0; i < 3; i++) CHECK_OK(hive_link(p));
    cmd(p, C_LINK, self, HIVE_OK); /* from the other side too */
    CHECK_EQ(links_of(self), 1);
    CHECK_EQ(links_of(p), 1);
    CHECK_OK(hive_unlink(p));
    CHECK_EQ(links_of(self), 0);
    CHECK_EQ(links_of(p), 0);
    uint64_t m = monitor(p);
    puppet_exit(p, ERR("boom"));
    expect_down(m, p, ERR("boom"));
    expect_empty(); /* alive (not trapping), and no EXIT */
}

/* ---- case 29 ------------------------------------------------------------------------ */
/* An abnormal exit kills a non-trapping linked process with the same reason. */
static void case_29(void *arg) {
    (void)arg;
    hive_pid a = spawn_puppet();
    hive_pid b = cmd(a, C_SPAWN_LINK, 0, HIVE_OK);
    CHECK_NE(b, 0);
    CHECK_EQ(links_of(a), 1);
    CHECK_EQ(g_buf[0], b);
    uint64_t ma = monitor(a), mb = monitor(b);
    puppet_exit(b, ERR("boom"));
    expect_down(mb, b, ERR("boom"));
    expect_down(ma, a, ERR("boom"));
    expect_empty();
}

/* ---- case 30 ------------------------------------------------------------------------ */
/* A normal exit does not kill a non-trapping linked process, but the link goes (polled, as
 * in the BEAM case). */
static void case30_a(void *arg) {
    hive_pid root;
    memcpy(&root, arg, sizeof root);
    hive_pid b = 0;
    CHECK_OK(hive_spawn_link(nop, NULL, 0, NULL, &b));
    POLL_UNTIL(links_of(hive_self()) == 0);
    send_words(root, T_REPORT, b, 0, 0);
    sleeper(NULL);
}
static void case_30(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), a = 0;
    uint64_t m = 0;
    CHECK_OK(hive_spawn_monitor(case30_a, &self, sizeof self, NULL, &a, &m));
    hive_msg *r = recv_data(T_REPORT, a);
    hive_msg_free(r);
    CHECK_EQ(hive_is_alive(a), 1);
    CHECK_EQ(info_of(a).links, 0);
    CHECK_OK(hive_exit_pid(a, STD(HIVE_REASON_KILL)));
    expect_down(m, a, STD(HIVE_REASON_KILLED));
}

/* ---- case 31 ------------------------------------------------------------------------ */
/* A trapping process gets {'EXIT', B, normal}; the link is gone afterwards. */
static void case_31(void *arg) {
    (void)arg;
    CHECK_EQ(trap(1), 0);
    hive_pid b = 0;
    CHECK_OK(hive_spawn_link(nop, NULL, 0, NULL, &b));
    CHECK_NE(b, 0);
    expect_exit(b, STD(HIVE_REASON_NORMAL));
    CHECK_EQ(links_of(hive_self()), 0);
    expect_empty();
}

/* ---- case 32 ------------------------------------------------------------------------ */
/* S (trapping) <-> A <-> B; B exits with r: S gets exactly {'EXIT', A, r}, nothing from B. */
static void case_32(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), a = 0;
    trap(1);
    CHECK_OK(hive_spawn_link(puppet, &self, sizeof self, NULL, &a));
    hive_pid b = cmd(a, C_SPAWN_LINK, 0, HIVE_OK);
    uint64_t mb = monitor(b);
    puppet_exit(b, ERR("r"));
    expect_exit(a, ERR("r"));
    expect_down(mb, b, ERR("r")); /* B's last signal to us */
    expect_empty();
    CHECK_EQ(links_of(self), 0);
}

/* ---- case 33 ------------------------------------------------------------------------ */
/* unlink always succeeds; once it returned the old link has no effect (not trapping and
 * trapping). */
static void case_33(void *arg) {
    (void)arg;
    for (int trapping = 0; trapping < 2; trapping++) {
        trap(trapping);
        hive_pid p = spawn_puppet();
        CHECK_OK(hive_unlink(p)); /* never linked */
        CHECK_OK(hive_link(p));
        CHECK_OK(hive_unlink(p));
        CHECK_OK(hive_unlink(p));
        CHECK_EQ(links_of(p), 0);
        uint64_t m = monitor(p);
        puppet_exit(p, ERR("boom"));
        expect_down(m, p, ERR("boom"));
        expect_empty(); /* no EXIT */
    }
}

/* ---- case 34 ------------------------------------------------------------------------ */
/* [RACE] exit(P, bang) then unlink(P): at most one EXIT is already queued, none later. */
static int g_case34_queued;
static void case_34(void *arg) {
    (void)arg;
    trap(1);
    for (int i = 0; i < 300; i++) {
        hive_pid p = 0;
        CHECK_OK(hive_spawn_link(sleeper, NULL, 0, NULL, &p));
        uint64_t m = monitor(p);
        CHECK_OK(hive_exit_pid(p, ERR("bang")));
        if (i % 2) CHECK_OK(hive_yield());
        CHECK_OK(hive_unlink(p));
        hive_msg *x = NULL;
        if (hive_receive_match(match_exit, &p, 0, &x) == HIVE_OK) {
            check_reason(x, ERR("bang"));
            hive_msg_free(x);
            g_case34_queued++;
        }
        expect_down(m, p, ERR("bang")); /* P's link signal, if any, came before */
        expect_empty();
    }
}

/* ---- case 37 ------------------------------------------------------------------------ */
/* exit(P, R) then link(P): the link reaches an exiting process, which answers noproc: a
 * trapping caller gets {'EXIT', P, noproc}, another is killed with noproc. */
static void case37_w(void *arg) {
    int32_t kind;
    memcpy(&kind, arg, sizeof kind);
    hive_pid p = 0;
    CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, &p));
    if (kind == HIVE_REASON_KILL) CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_KILL)));
    else CHECK_OK(hive_exit_pid(p, ERR("foo")));
    CHECK_OK(hive_link(p));
    sleeper(NULL);
}
static void case_37(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    trap(1);
    for (int i = 0; i < 100; i++) {
        hive_pid p = 0;
        CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, &p));
        if (i % 2) CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_KILL)));
        else CHECK_OK(hive_exit_pid(p, ERR("foo")));
        CHECK_OK(hive_link(p));
        expect_exit(p, STD(HIVE_REASON_NOPROC));
        CHECK_EQ(links_of(self), 0);
    }
    trap(0);
    for (int i = 0; i < 100; i++) {
        int32_t kind = i % 2 ? HIVE_REASON_KILL : HIVE_REASON_ERROR;
        hive_pid w = 0;
        uint64_t m = 0;
        CHECK_OK(hive_spawn_monitor(case37_w, &kind, sizeof kind, NULL, &w, &m));
        expect_down(m, w, STD(HIVE_REASON_NOPROC));
    }
    expect_empty();
}

/* ---- case 38 ------------------------------------------------------------------------ */
/* Exit reason shapes over a link: an error with bytes, and the standard reasons. */
static void exit_shutdown(void *arg) { (void)arg; hive_exit(STD(HIVE_REASON_SHUTDOWN)); }
static void exit_noconn(void *arg) { (void)arg; hive_exit(STD(HIVE_REASON_NOCONNECTION)); }
static void exit_empty_error(void *arg) { (void)arg; hive_exit(HIVE_REASON_ERROR, NULL, 0); }
static void case_38(void *arg) {
    (void)arg;
    trap(1);
    hive_pid p = 0;
    CHECK_OK(hive_spawn_link(exit_boom, NULL, 0, NULL, &p));
    expect_exit(p, ERR("boom"));
    CHECK_OK(hive_spawn_link(exit_shutdown, NULL, 0, NULL, &p));
    expect_exit(p, STD(HIVE_REASON_SHUTDOWN));
    CHECK_OK(hive_spawn_link(exit_noconn, NULL, 0, NULL, &p));
    expect_exit(p, STD(HIVE_REASON_NOCONNECTION));
    CHECK_OK(hive_spawn_link(exit_empty_error, NULL, 0, NULL, &p));
    expect_exit(p, HIVE_REASON_ERROR, NULL, 0);
    expect_empty();
}

/* ---- case 40 ------------------------------------------------------------------------ */
/* trap_exit returns the old value; the default is 0; a child does not inherit it. */
static void case40_child(void *arg) {
    hive_pid root;
    memcpy(&root, arg, sizeof root);
    int32_t before = info_of(hive_self()).trap_exit;
    int32_t old = -7;
    CHECK_OK(hive_trap_exit(0, &old));
    send_words(root, T_REPORT, (uint64_t)before, (uint64_t)old, 0);
}
static void case_40(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    CHECK_EQ(info_of(self).trap_exit, 0);
    CHECK_EQ(trap(1), 0);
    CHECK_EQ(trap(1), 1);
    CHECK_EQ(info_of(self).trap_exit, 1);
    hive_pid c = 0;
    CHECK_OK(hive_spawn(case40_child, &self, sizeof self, NULL, &c));
    hive_msg *r = recv_data(T_REPORT, c);
    CHECK_EQ(word(r, 1), 0);
    CHECK_EQ(word(r, 2), 0);
    hive_msg_free(r);
    CHECK_EQ(trap(0), 1);
    CHECK_EQ(info_of(self).trap_exit, 0);
    CHECK_EQ(trap(0), 0);
    CHECK_OK(hive_trap_exit(1, NULL)); /* old_out may be NULL */
    CHECK_EQ(trap(0), 1);
}

/* ---- case 42 ------------------------------------------------------------------------ */
/* exit(P, normal) to another, non-trapping process is ignored. */
static void case_42(void *arg) {
    (void)arg;
    hive_pid p = spawn_puppet();
    CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_NORMAL)));
    CHECK_EQ(hive_is_alive(p), 1); /* ordered after the signal (case 23) */
    cmd(p, C_PING, 0, HIVE_OK);
    CHECK_EQ(hive_is_alive(p), 1);
    expect_empty();
    kill_and_wait(p);
}

/* ---- cases 43, 44 ------------------------------------------------------------------- */
/* exit/2 needs no link: a trapping P gets {'EXIT', Sender, R} (also for normal) and
 * stays alive; a non-trapping Q dies with R. */
static void case_43_44(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p = spawn_puppet();
    CHECK_EQ(cmd(p, C_TRAP, 1, HIVE_OK), 0);
    CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_NORMAL)));
    expect_fwd(p, HIVE_MSG_EXIT, self, 0, STD(HIVE_REASON_NORMAL));
    CHECK_OK(hive_exit_pid(p, ERR("foo")));
    expect_fwd(p, HIVE_MSG_EXIT, self, 0, ERR("foo"));
    CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_SHUTDOWN)));
    expect_fwd(p, HIVE_MSG_EXIT, self, 0, STD(HIVE_REASON_SHUTDOWN));
    CHECK_EQ(hive_is_alive(p), 1);
    CHECK_EQ(links_of(p), 0); /* no link was made */
    hive_pid q = spawn_puppet();
    uint64_t m = monitor(q);
    CHECK_OK(hive_exit_pid(q, ERR("foo")));
    expect_down(m, q, ERR("foo"));
    kill_and_wait(p);
    expect_empty();
}

/* ---- case 45 ------------------------------------------------------------------------ */
/* exit(self(), normal): a non-trapping process dies with normal (it does not return from
 * the call); a trapping one gets messages. */
static void case45_w(void *arg) {
    (void)arg;
    hive_exit_pid(hive_self(), STD(HIVE_REASON_NORMAL));
    CHECK(!"survived exit(self(), normal)");
}
static void case_45(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), w = 0;
    uint64_t m = 0;
    CHECK_OK(hive_spawn_monitor(case45_w, NULL, 0, NULL, &w, &m));
    expect_down(m, w, STD(HIVE_REASON_NORMAL));
    trap(1);
    CHECK_OK(hive_exit_pid(self, STD(HIVE_REASON_NORMAL)));
    CHECK_OK(hive_exit_pid(self, ERR("other")));
    hive_msg *x = NULL;
    CHECK_OK(hive_receive(0, &x)); /* already queued, in order */
    CHECK_EQ(hive_msg_kind(x), HIVE_MSG_EXIT);
    CHECK_EQ(hive_msg_sender(x), self);
    check_reason(x, STD(HIVE_REASON_NORMAL));
    hive_msg_free(x);
    CHECK_OK(hive_receive(0, &x));
    CHECK_EQ(hive_msg_kind(x), HIVE_MSG_EXIT);
    CHECK_EQ(hive_msg_sender(x), self);
    check_reason(x, ERR("other"));
    hive_msg_free(x);
    expect_empty();
}

/* ---- case 46 ------------------------------------------------------------------------ */
/* exit(self(), R) ends the process at once. */
static void case46_w(void *arg) {
    (void)arg;
    hive_exit_pid(hive_self(), ERR("die"));
    CHECK(!"survived exit(self(), die)");
}
static void case_46(void *arg) {
    (void)arg;
    hive_pid w = 0;
    uint64_t m = 0;
    CHECK_OK(hive_spawn_monitor(case46_w, NULL, 0, NULL, &w, &m));
    expect_down(m, w, ERR("die"));
}

/* ---- case 48 ------------------------------------------------------------------------ */
/* Turning trap_exit off leaves queued EXIT messages as messages; later exit signals kill. */
static void case48_w(void *arg) {
    hive_pid root;
    memcpy(&root, arg, sizeof root);
    trap(1);
    send_words(root, T_READY, 0, 0, 0);
    hive_msg_free(recv_data(T_GO, root)); /* everything else stays queued */
    CHECK_EQ(trap(0), 1);
    hive_msg *x = NULL;
    CHECK_OK(hive_receive(0, &x));
    uint64_t n = 1, kind = (uint64_t)hive_msg_kind(x), sender = hive_msg_sender(x);
    int same = hive_msg_reason_kind(x) == HIVE_REASON_ERROR && hive_msg_len(x) == 5 &&
               memcmp(hive_msg_data(x), "first", 5) == 0;
    hive_msg_free(x);
    while (hive_receive(0, &x) == HIVE_OK) { hive_msg_free(x); n++; }
    uint64_t w[5] = {T_REPORT, n, kind, sender, (uint64_t)same};
    CHECK_OK(hive_send(root, w, sizeof w));
    sleeper(NULL);
}
static void case_48(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), w = 0;
    uint64_t m = 0;
    CHECK_OK(hive_spawn_monitor(case48_w, &self, sizeof self, NULL, &w, &m));
    hive_msg_free(recv_data(T_READY, w));
    CHECK_OK(hive_exit_pid(w, ERR("first")));
    send_words(w, T_GO, 0, 0, 0);
    hive_msg *r = recv_data(T_REPORT, w);
    CHECK_EQ(word(r, 1), 1);            /* exactly one queued message ... */
    CHECK_EQ(word(r, 2), HIVE_MSG_EXIT); /* ... {'EXIT', S, first} */
    CHECK_EQ(word(r, 3), self);
    CHECK_EQ(word(r, 4), 1);
    hive_msg_free(r);
    CHECK_OK(hive_exit_pid(w, ERR("second")));
    expect_down(m, w, ERR("second"));
}

/* ---- case 49 ------------------------------------------------------------------------ */
/* Two exit signals from one sender: the first decides the reason. */
static void case_49(void *arg) {
    (void)arg;
    for (int k = 0; k < 2; k++) {
        hive_pid p = 0;
        CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, &p));
        uint64_t m = monitor(p);
        CHECK_OK(hive_exit_pid(p, ERR("first")));
        if (k == 0) CHECK_OK(hive_exit_pid(p, ERR("second")));
        else CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_KILL)));
        expect_down(m, p, ERR("first"));
    }
}

/* ---- case 51 ------------------------------------------------------------------------ */
/* exit(P, kill) kills a trapping process with killed; it never sees an EXIT message. */
static void case_51(void *arg) {
    (void)arg;
    hive_pid p = spawn_puppet();
    cmd(p, C_TRAP, 1, HIVE_OK);
    uint64_t m = monitor(p);
    CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_KILL)));
    expect_down(m, p, STD(HIVE_REASON_KILLED));
    expect_empty(); /* a forwarded EXIT would have come before the DOWN */
}

/* ---- case 52 ------------------------------------------------------------------------ */
/* kill of a non-trapping process, and exit(self(), kill) in a trapping one: killed. */
static void case52_w(void *arg) {
    (void)arg;
    trap(1);
    hive_exit_pid(hive_self(), STD(HIVE_REASON_KILL));
    CHECK(!"survived exit(self(), kill)");
}
static void case_52(void *arg) {
    (void)arg;
    hive_pid p = 0, w = 0;
    CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, &p));
    uint64_t m = monitor(p);
    CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_KILL)));
    expect_down(m, p, STD(HIVE_REASON_KILLED));
    CHECK_OK(hive_spawn_monitor(case52_w, NULL, 0, NULL, &w, &m));
    expect_down(m, w, STD(HIVE_REASON_KILLED));
}

/* ---- case 53 ------------------------------------------------------------------------ */
/* The linked peers of a killed process see killed; trappable over the link. */
static void case_53(void *arg) {
    (void)arg;
    trap(1);
    hive_pid p = 0;
    CHECK_OK(hive_spawn_link(sleeper, NULL, 0, NULL, &p));
    CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_KILL)));
    expect_exit(p, STD(HIVE_REASON_KILLED));
    trap(0);
    hive_pid a = spawn_puppet();
    hive_pid b = cmd(a, C_SPAWN_LINK, 0, HIVE_OK);
    uint64_t m = monitor(a);
    CHECK_OK(hive_exit_pid(b, STD(HIVE_REASON_KILL)));
    expect_down(m, a, STD(HIVE_REASON_KILLED));
    expect_empty();
}

/* ---- case 54 ------------------------------------------------------------------------ */
/* exit(kill) (exit/1): the peers get kill, trappable over a link, not turned into killed. */
static void case_54(void *arg) {
    (void)arg;
    trap(1);
    hive_pid p = 0;
    CHECK_OK(hive_spawn_link(exit_kill, NULL, 0, NULL, &p));
    expect_exit(p, STD(HIVE_REASON_KILL));
    trap(0);
    hive_pid a = spawn_puppet();
    hive_pid b = cmd(a, C_SPAWN_LINK, 0, HIVE_OK);
    uint64_t m = monitor(a);
    puppet_exit(b, STD(HIVE_REASON_KILL));
    expect_down(m, a, STD(HIVE_REASON_KILL));
    expect_empty();
}

/* ---- case 55 ------------------------------------------------------------------------ */
/* Along a chain of links, killed or kill is passed on unchanged. */
static void case_55(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    trap(1);
    for (int how = 0; how < 2; how++) {
        hive_pid first = 0;
        CHECK_OK(hive_spawn_link(puppet, &self, sizeof self, NULL, &first));
        hive_pid end = first;
        for (int i = 0; i < 4; i++) end = cmd(end, C_SPAWN_LINK, 0, HIVE_OK);
        if (how == 0) {
            CHECK_OK(hive_exit_pid(end, STD(HIVE_REASON_KILL)));
            expect_exit(first, STD(HIVE_REASON_KILLED));
        } else {
            puppet_exit(end, STD(HIVE_REASON_KILL));
            expect_exit(first, STD(HIVE_REASON_KILL));
        }
    }
    expect_empty();
}

/* ---- case 56 ------------------------------------------------------------------------ */
/* The DOWN carries the reference, the pid and the full reason (also a long one). */
static uint8_t g_long_reason[HIVE_MAX_REASON_LEN];
static void case_56(void *arg) {
    (void)arg;
    static const char big[] = "{big,[reason,1,<<\"x\">>]}";
    hive_pid p = spawn_puppet();
    uint64_t m = monitor(p);
    puppet_exit(p, ERR(big));
    expect_down(m, p, ERR(big));
    for (size_t i = 0; i < sizeof g_long_reason; i++) g_long_reason[i] = (uint8_t)(i * 7 + (i >> 9));
    p = spawn_puppet();
    m = monitor(p);
    puppet_exit(p, HIVE_REASON_ERROR, g_long_reason, sizeof g_long_reason); /* the largest */
    expect_down(m, p, HIVE_REASON_ERROR, g_long_reason, sizeof g_long_reason);
    expect_empty();
}

/* ---- case 61 ------------------------------------------------------------------------ */
/* Repeated monitors are independent: distinct references, one DOWN each. */
static void case_61(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p = spawn_puppet();
    uint64_t refs[5];
    for (int i = 0; i < 5; i++) {
        refs[i] = monitor(p);
        for (int j = 0; j < i; j++) CHECK_NE(refs[i], refs[j]);
    }
    CHECK_EQ(monitors_of(self), 5);
    for (int i = 0; i < 5; i++) {
        int found = 0;
        for (int j = 0; j < 5; j++) found += g_mbuf[j].mref == refs[i] && g_mbuf[j].pid == p;
        CHECK_EQ(found, 1);
    }
    CHECK_EQ(monitored_by_of(p), 5);
    for (int j = 0; j < 5; j++) CHECK_EQ(g_buf[j], self);
    CHECK_EQ(info_of(self).monitors, 5);
    CHECK_EQ(info_of(p).monitored_by, 5);
    puppet_exit(p, ERR("x"));
    int seen[5] = {0};
    for (int k = 0; k < 5; k++) {
        hive_msg *d = NULL;
        CHECK_OK(hive_receive(T, &d));
        CHECK_EQ(hive_msg_kind(d), HIVE_MSG_DOWN);
        CHECK_EQ(hive_msg_sender(d), p);
        check_reason(d, ERR("x"));
        int idx = -1;
        for (int j = 0; j < 5; j++) if (refs[j] == hive_msg_monitor_ref(d)) idx = j;
        CHECK_GE(idx, 0);
        seen[idx]++;
        hive_msg_free(d);
    }
    for (int j = 0; j < 5; j++) CHECK_EQ(seen[j], 1);
    CHECK_EQ(monitors_of(self), 0);
    expect_empty();
}

/* ---- case 62 ------------------------------------------------------------------------ */
/* Monitors are one-way and never kill; a dead watcher's monitor leaves the target's
 * monitored_by (polled). */
static void case_62(void *arg) {
    (void)arg;
    hive_pid w = spawn_puppet(), t = spawn_puppet(), v = spawn_puppet();
    /* W watches V; V dies with boom; W gets the DOWN and survives. */
    uint64_t wv = cmd(w, C_MONITOR, v, HIVE_OK);
    CHECK_NE(wv, 0);
    uint64_t mv = monitor(v);
    puppet_exit(v, ERR("boom"));
    expect_down(mv, v, ERR("boom"));
    expect_fwd(w, HIVE_MSG_DOWN, v, wv, ERR("boom"));
    cmd(w, C_PING, 0, HIVE_OK);
    CHECK_EQ(hive_is_alive(w), 1);
    /* W watches T; W dies: T is unaffected and its monitored_by empties. */
    uint64_t wt = cmd(w, C_MONITOR, t, HIVE_OK);
    CHECK_EQ(monitored_by_of(t), 1);
    CHECK_EQ(g_buf[0], w);
    CHECK_EQ(monitors_of(w), 1);
    CHECK_EQ(g_mbuf[0].mref, wt);
    CHECK_EQ(g_mbuf[0].pid, t);
    CHECK_EQ(links_of(t), 0);
    kill_and_wait(w);
    POLL_UNTIL(monitored_by_of(t) == 0);
    cmd(t, C_PING, 0, HIVE_OK);
    CHECK_EQ(info_of(t).mailbox_len, 0);
    CHECK_EQ(info_of(t).monitored_by, 0);
    kill_and_wait(t);
    expect_empty(); /* T forwarded nothing */
}

/* ---- case 64 ------------------------------------------------------------------------ */
/* A monitor fires once and is then removed. */
static void case_64(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p = spawn_puppet();
    uint64_t m = monitor(p);
    CHECK_EQ(monitors_of(self), 1);
    CHECK_EQ(g_mbuf[0].mref, m);
    CHECK_EQ(g_mbuf[0].pid, p);
    CHECK_EQ(monitored_by_of(p), 1);
    CHECK_EQ(g_buf[0], self);
    CHECK_EQ(info_of(self).monitors, 1);
    CHECK_EQ(info_of(self).monitored_by, 0);
    CHECK_EQ(info_of(p).monitored_by, 1);
    CHECK_EQ(info_of(p).monitors, 0);
    puppet_exit(p, ERR("once"));
    expect_down(m, p, ERR("once"));
    CHECK_EQ(monitors_of(self), 0);
    CHECK_EQ(info_of(self).monitors, 0);
    CHECK_EQ(demonitor(m, HIVE_DEMONITOR_INFO), 0);
    expect_empty();
}

/* ---- case 65 ------------------------------------------------------------------------ */
/* [RACE] spawn_monitor is atomic: the real reason, never noproc. */
static void case_65(void *arg) {
    (void)arg;
    for (int i = 0; i < 300; i++) {
        hive_pid p = 0;
        uint64_t m = 0;
        CHECK_OK(hive_spawn_monitor(exit_boom, NULL, 0, NULL, &p, &m));
        CHECK_NE(p, 0);
        CHECK_NE(m, 0);
        if (i % 2) CHECK_OK(hive_yield());
        expect_down(m, p, ERR("boom"));
    }
    expect_empty();
}

/* ---- case 67 ------------------------------------------------------------------------ */
/* [RACE] exit(P, foo) then monitor(P) from the same caller: always noproc (also kill). */
static void case_67(void *arg) {
    (void)arg;
    for (int i = 0; i < 300; i++) {
        hive_pid p = 0;
        CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, &p));
        if (i % 3 == 0) CHECK_OK(hive_yield());
        if (i % 2) CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_KILL)));
        else CHECK_OK(hive_exit_pid(p, ERR("foo")));
        uint64_t m = monitor(p);
        expect_down(m, p, STD(HIVE_REASON_NOPROC));
    }
    CHECK_EQ(monitors_of(hive_self()), 0);
    expect_empty();
}

/* ---- cases 69, 98 ------------------------------------------------------------------- */
/* spawn_opt with link and monitor: both EXIT and DOWN arrive; each flag alone; no flags;
 * a non-trapping parent dies with its spawn_linked child's reason. */
static void case98_parent(void *arg) {
    (void)arg;
    static const char crash[] = "child_crash";
    hive_pid self = hive_self(), c = 0;
    CHECK_OK(hive_spawn_link(puppet, &self, sizeof self, NULL, &c));
    puppet_exit(c, ERR(crash));
    sleeper(NULL);
}
static void case98_child(void *arg) { (void)arg; hive_exit(ERR("child_crash")); }
static void case98_parent2(void *arg) {
    (void)arg;
    hive_pid c = 0;
    CHECK_OK(hive_spawn_link(case98_child, NULL, 0, NULL, &c));
    sleeper(NULL);
}
static void case_69_98(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p = 0;
    uint64_t m = 0;
    trap(1);
    hive_spawn_opts o = {.priority = HIVE_PRIORITY_NORMAL, .flags = HIVE_SPAWN_LINK | HIVE_SPAWN_MONITOR,
                         .stack_size = 0};
    CHECK_OK(hive_spawn_opt(exit_boom, NULL, 0, &o, &p, &m));
    CHECK_NE(p, 0);
    CHECK_NE(m, 0);
    expect_exit(p, ERR("boom"));
    expect_down(m, p, ERR("boom"));
    CHECK_EQ(links_of(self), 0);
    CHECK_EQ(monitors_of(self), 0);
    expect_empty();
    /* Both flags on a live process: the link and the monitor both exist. */
    CHECK_OK(hive_spawn_opt(sleeper, NULL, 0, &o, &p, &m));
    CHECK_EQ(links_of(self), 1);
    CHECK_EQ(g_buf[0], p);
    CHECK_EQ(monitors_of(self), 1);
    CHECK_EQ(g_mbuf[0].mref, m);
    CHECK_EQ(g_mbuf[0].pid, p);
    CHECK_EQ(info_of(p).links, 1);
    CHECK_EQ(info_of(p).monitored_by, 1);
    CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_KILL)));
    expect_exit(p, STD(HIVE_REASON_KILLED));
    expect_down(m, p, STD(HIVE_REASON_KILLED));
    /* Link only: ref_out gets 0; the options' priority applies. */
    o.flags = HIVE_SPAWN_LINK;
    o.priority = HIVE_PRIORITY_HIGH;
    m = 0xDEADBEEF;
    CHECK_OK(hive_spawn_opt(sleeper, NULL, 0, &o, &p, &m));
    CHECK_EQ(m, 0);
    CHECK_EQ(links_of(self), 1);
    CHECK_EQ(g_buf[0], p);
    CHECK_EQ(links_of(p), 1);
    CHECK_EQ(g_buf[0], self);
    CHECK_EQ(monitors_of(self), 0);
    CHECK_EQ(info_of(p).priority, HIVE_PRIORITY_HIGH);
    CHECK_EQ(info_of(p).monitored_by, 0);
    CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_KILL)));
    expect_exit(p, STD(HIVE_REASON_KILLED));
    /* Monitor only. */
    o.flags = HIVE_SPAWN_MONITOR;
    o.priority = HIVE_PRIORITY_LOW;
    CHECK_OK(hive_spawn_opt(sleeper, NULL, 0, &o, &p, &m));
    CHECK_NE(m, 0);
    CHECK_EQ(links_of(self), 0);
    CHECK_EQ(monitors_of(self), 1);
    CHECK_EQ(g_mbuf[0].mref, m);
    CHECK_EQ(monitored_by_of(p), 1);
    CHECK_EQ(g_buf[0], self);
    CHECK_EQ(info_of(p).priority, HIVE_PRIORITY_LOW);
    CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_KILL)));
    expect_down(m, p, STD(HIVE_REASON_KILLED));
    expect_empty(); /* no EXIT: no link */
    /* No flags (and NULL opts): a plain spawn, ref_out 0. */
    o.flags = 0;
    m = 0xDEADBEEF;
    CHECK_OK(hive_spawn_opt(sleeper, NULL, 0, &o, &p, &m));
    CHECK_EQ(m, 0);
    CHECK_EQ(links_of(self), 0);
    CHECK_EQ(monitors_of(self), 0);
    kill_and_wait(p);
    m = 0xDEADBEEF;
    CHECK_OK(hive_spawn_opt(sleeper, NULL, 0, NULL, &p, &m));
    CHECK_EQ(m, 0);
    CHECK_EQ(links_of(self), 0);
    kill_and_wait(p);
    /* pid_out and ref_out may be NULL. */
    o.flags = HIVE_SPAWN_LINK | HIVE_SPAWN_MONITOR;
    CHECK_OK(hive_spawn_opt(nop, NULL, 0, &o, NULL, NULL));
    hive_msg *x = NULL;
    CHECK_OK(hive_receive(T, &x)); /* its EXIT and DOWN, in either order */
    CHECK(hive_msg_kind(x) == HIVE_MSG_EXIT || hive_msg_kind(x) == HIVE_MSG_DOWN);
    CHECK_EQ(hive_msg_reason_kind(x), HIVE_REASON_NORMAL);
    hive_pid q = hive_msg_sender(x);
    int32_t first = hive_msg_kind(x);
    hive_msg_free(x);
    CHECK_OK(hive_receive(T, &x));
    CHECK_EQ(hive_msg_kind(x), first == HIVE_MSG_EXIT ? HIVE_MSG_DOWN : HIVE_MSG_EXIT);
    CHECK_EQ(hive_msg_sender(x), q);
    CHECK_EQ(hive_msg_reason_kind(x), HIVE_REASON_NORMAL);
    hive_msg_free(x);
    expect_empty();
    trap(0);
    /* Case 98: a non-trapping parent dies with its linked child's reason. */
    hive_pid par = 0;
    CHECK_OK(hive_spawn_monitor(case98_parent, NULL, 0, NULL, &par, &m));
    expect_down(m, par, ERR("child_crash"));
    CHECK_OK(hive_spawn_monitor(case98_parent2, NULL, 0, NULL, &par, &m));
    expect_down(m, par, ERR("child_crash"));
    expect_empty();
}

/* ---- case 70 ------------------------------------------------------------------------ */
/* demonitor before the exit: no DOWN ever. */
static void case_70(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p = spawn_puppet();
    uint64_t m = monitor(p), m2 = monitor(p);
    CHECK_EQ(info_of(p).monitored_by, 2);
    CHECK_EQ(demonitor(m, 0), 1);
    CHECK_EQ(monitors_of(self), 1);
    CHECK_EQ(g_mbuf[0].mref, m2);
    CHECK_EQ(monitored_by_of(p), 1); /* ordered after our demonitor */
    CHECK_OK(hive_exit_pid(p, ERR("frop")));
    expect_down(m2, p, ERR("frop"));
    expect_empty();
}

/* ---- case 71 ------------------------------------------------------------------------ */
/* monitor(self()) never fires; demonitor of unknown, self and finished references works
 * and reports inactive. */
static void case_71(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p = 0;
    CHECK_EQ(demonitor(123456789, 0), 0);
    uint64_t m = monitor(self);
    CHECK_EQ(demonitor(m, 0), 0);
    CHECK_EQ(demonitor(m, HIVE_DEMONITOR_INFO), 0);
    uint64_t m2 = 0;
    CHECK_OK(hive_spawn_monitor(nop, NULL, 0, NULL, &p, &m2));
    CHECK_NE(m2, m);
    expect_down(m2, p, STD(HIVE_REASON_NORMAL));
    CHECK_EQ(demonitor(m2, 0), 0);
    expect_empty();
}

/* A monitor whose DOWN is already in the mailbox (polled: mailbox_len settles signals). */
static uint64_t queued_down(hive_pid *pid) {
    hive_pid p = 0;
    uint64_t m = 0;
    CHECK_OK(hive_spawn_monitor(nop, NULL, 0, NULL, &p, &m));
    size_t n = 0;
    POLL_UNTIL(hive_mailbox_len(&n) == HIVE_OK && n == 1);
    if (pid) *pid = p;
    return m;
}

/* ---- case 72 ------------------------------------------------------------------------ */
/* demonitor does not remove a DOWN that is already queued. */
static void case_72(void *arg) {
    (void)arg;
    hive_pid p = 0;
    uint64_t m = queued_down(&p);
    CHECK_EQ(demonitor(m, 0), 0);
    hive_msg *d = NULL;
    CHECK_OK(hive_receive(0, &d));
    CHECK_EQ(hive_msg_kind(d), HIVE_MSG_DOWN);
    CHECK_EQ(hive_msg_monitor_ref(d), m);
    CHECK_EQ(hive_msg_sender(d), p);
    check_reason(d, STD(HIVE_REASON_NORMAL));
    hive_msg_free(d);
    expect_empty();
}

/* ---- case 73 ------------------------------------------------------------------------ */
/* demonitor with flush removes the queued DOWN and nothing else. */
static void case_73(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    uint64_t m = queued_down(NULL);
    send_words(self, T_OTHER, 73, 0, 0);
    demonitor(m, HIVE_DEMONITOR_FLUSH);
    hive_msg *x = NULL;
    CHECK_OK(hive_receive(0, &x));
    CHECK_EQ(hive_msg_kind(x), HIVE_MSG_DATA);
    CHECK_EQ(word(x, 0), T_OTHER);
    hive_msg_free(x);
    expect_empty();
}

/* ---- case 74 ------------------------------------------------------------------------ */
/* The info result, with and without flush. */
static void case_74(void *arg) {
    (void)arg;
    hive_pid p = spawn_puppet();
    uint64_t m = monitor(p);
    CHECK_EQ(demonitor(m, HIVE_DEMONITOR_INFO), 1); /* [info] active: true */
    m = monitor(p);
    CHECK_EQ(demonitor(m, HIVE_DEMONITOR_FLUSH | HIVE_DEMONITOR_INFO), 1); /* [flush,info] active */
    m = monitor(p);
    CHECK_OK(hive_demonitor(m, HIVE_DEMONITOR_INFO, NULL)); /* info_out may be NULL */
    CHECK_EQ(demonitor(m, HIVE_DEMONITOR_INFO), 0);
    CHECK_EQ(monitored_by_of(p), 0);
    m = queued_down(NULL);
    CHECK_EQ(demonitor(m, HIVE_DEMONITOR_INFO), 0); /* [info], DOWN queued: false, kept */
    size_t n = 0;
    CHECK_OK(hive_mailbox_len(&n));
    CHECK_EQ(n, 1);
    hive_msg *d = NULL;
    CHECK_OK(hive_receive(0, &d));
    CHECK_EQ(hive_msg_monitor_ref(d), m);
    hive_msg_free(d);
    m = queued_down(NULL);
    CHECK_EQ(demonitor(m, HIVE_DEMONITOR_FLUSH | HIVE_DEMONITOR_INFO), 0); /* false, removed */
    expect_empty();
    CHECK_EQ(demonitor(987654321, 0), 0);
    CHECK_EQ(demonitor(987654321, HIVE_DEMONITOR_INFO), 0);
    kill_and_wait(p);
}

/* ---- case 75 ------------------------------------------------------------------------ */
/* [RACE] exit(P, bang) then demonitor(M): after one poll, no late DOWN. */
static int g_case75_queued;
static void case_75(void *arg) {
    (void)arg;
    for (int i = 0; i < 300; i++) {
        hive_pid p = 0;
        CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, &p));
        uint64_t m = monitor(p), marker = monitor(p);
        CHECK_OK(hive_exit_pid(p, ERR("bang")));
        if (i % 2) CHECK_OK(hive_yield());
        demonitor(m, 0);
        hive_msg *x = NULL;
        if (hive_receive_match(match_down, &m, 0, &x) == HIVE_OK) {
            check_reason(x, ERR("bang"));
            hive_msg_free(x);
            g_case75_queued++;
        }
        expect_down(marker, p, ERR("bang"));
        expect_empty();
    }
}

/* ---- case 78 ------------------------------------------------------------------------ */
/* A flush removes only that monitor's DOWN. */
static void case_78(void *arg) {
    (void)arg;
    hive_pid p = spawn_puppet();
    uint64_t ms[4];
    for (int i = 0; i < 4; i++) ms[i] = monitor(p);
    CHECK_EQ(demonitor(ms[0], HIVE_DEMONITOR_FLUSH), 1);
    CHECK_OK(hive_exit_pid(p, ERR("bang")));
    size_t n = 0;
    POLL_UNTIL(hive_mailbox_len(&n) == HIVE_OK && n >= 3); /* the DOWNs of M2..M4 */
    expect_down(ms[1], p, ERR("bang"));
    CHECK_EQ(demonitor(ms[2], HIVE_DEMONITOR_FLUSH), 0);
    CHECK_EQ(demonitor(ms[3], 0), 0);
    hive_msg *d = NULL;
    CHECK_OK(hive_receive(0, &d));
    CHECK_EQ(hive_msg_kind(d), HIVE_MSG_DOWN);
    CHECK_EQ(hive_msg_monitor_ref(d), ms[3]);
    check_reason(d, ERR("bang"));
    hive_msg_free(d);
    expect_empty();
}

/* ---- case 96 ------------------------------------------------------------------------ */
/* After an exit, its links, monitors, monitored_by entries and name are gone. */
static void case_96(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p = 0;
    trap(1);
    hive_pid q = spawn_puppet();
    CHECK_OK(hive_spawn_link(puppet, &self, sizeof self, NULL, &p));
    uint64_t pq = cmd(p, C_MONITOR, q, HIVE_OK);
    CHECK_NE(pq, 0);
    uint64_t m = monitor(p);
    CHECK_OK(hive_register("case96", 6, p));
    CHECK_EQ(monitored_by_of(q), 1);
    CHECK_EQ(g_buf[0], p);
    CHECK_EQ(info_of(p).links, 1);
    CHECK_EQ(info_of(p).monitors, 1);
    CHECK_EQ(info_of(p).monitored_by, 1);
    CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_KILL)));
    expect_exit(p, STD(HIVE_REASON_KILLED));
    expect_down(m, p, STD(HIVE_REASON_KILLED));
    hive_pid w = 1;
    CHECK_OK(hive_whereis("case96", 6, &w));
    CHECK_EQ(w, 0);
    CHECK_EQ(hive_is_alive(p), 0);
    hive_process_info info;
    CHECK_EQ(hive_get_process_info(p, &info), HIVE_ERR_NO_PROCESS);
    size_t n = 0;
    CHECK_EQ(hive_get_monitors(p, NULL, 0, &n), HIVE_ERR_NO_PROCESS);
    CHECK_EQ(links_of(self), 0);
    CHECK_EQ(monitors_of(self), 0);
    POLL_UNTIL(monitored_by_of(q) == 0);
    kill_and_wait(q);
    expect_empty();
    trap(0);
}

/* ---- case 97 ------------------------------------------------------------------------ */
/* [RACE] spawn_link is atomic: the real reason, never noproc. */
static void case_97(void *arg) {
    (void)arg;
    trap(1);
    for (int i = 0; i < 300; i++) {
        hive_pid p = 0;
        CHECK_OK(hive_spawn_link(exit_boom, NULL, 0, NULL, &p));
        if (i % 2) CHECK_OK(hive_yield());
        expect_exit(p, ERR("boom"));
    }
    CHECK_EQ(links_of(hive_self()), 0);
    expect_empty();
}

/* ---- hive_set_terminate ------------------------------------------------------------- */
/* The callback runs as the exiting process (hive_self), with its reason, before its name
 * is released and before its monitors are signalled: its message arrives before the DOWN.
 * A NULL callback removes it; a second call replaces it; hive_exit inside it keeps the
 * first reason. hive_exit_pid(P, KILL) runs none of P's code: no callback (case 51). */
enum { H_RETURN, H_EXIT, H_WAIT, H_LINKED };
enum { CB_SET, CB_REMOVED, CB_REPLACED, CB_EXIT_INSIDE };
struct term_arg { hive_pid to; uint64_t tag; int exit_inside; };
static struct term_arg g_term[64];
static void term_cb(void *arg, hive_reason_kind kind, const uint8_t *data, size_t len) {
    const struct term_arg *ta = arg;
    char name[32];
    int nl = snprintf(name, sizeof name, "term%llu", (unsigned long long)(ta->tag & ~1ull));
    hive_pid named = 0;
    CHECK_OK(hive_whereis(name, (size_t)nl, &named));
    hive_msg *f = NULL;
    CHECK_OK(hive_msg_alloc(48 + len, &f));
    uint64_t h[6] = {T_TERM, ta->tag, (uint64_t)(int64_t)kind, hive_self(), named, len};
    memcpy(hive_msg_data(f), h, sizeof h);
    if (len) memcpy(hive_msg_data(f) + 48, data, len);
    CHECK_OK(hive_send_msg(ta->to, f));
    if (ta->exit_inside) {
        hive_exit(ERR("again"));
        CHECK(!"hive_exit returned in the terminate callback");
    }
}
struct term_proc_arg { hive_pid root; uint64_t tag; int how, cb; };
static void term_linked_child(void *arg) { (void)arg; hive_exit(ERR("linked")); }
static void term_proc(void *arg) {
    struct term_proc_arg a;
    memcpy(&a, arg, sizeof a);
    char name[32];
    int nl = snprintf(name, sizeof name, "term%llu", (unsigned long long)a.tag);
    CHECK_OK(hive_register(name, (size_t)nl, hive_self()));
    CHECK_OK(hive_set_terminate(term_cb, &g_term[a.tag]));
    if (a.cb == CB_REMOVED) CHECK_OK(hive_set_terminate(NULL, NULL));
    if (a.cb == CB_REPLACED) CHECK_OK(hive_set_terminate(term_cb, &g_term[a.tag + 1]));
    send_words(a.root, T_READY, 0, 0, 0);
    switch (a.how) {
    case H_RETURN: return;
    case H_EXIT: hive_exit(ERR("bye")); CHECK(!"hive_exit returned"); break;
    case H_LINKED: {
        hive_pid c = 0;
        CHECK_OK(hive_spawn_link(term_linked_child, NULL, 0, NULL, &c));
        sleeper(NULL);
        break;
    }
    default: sleeper(NULL);
    }
}
static void term_run(uint64_t tag, int how, int cb, int32_t sig_kind, const void *sig, size_t sig_len,
                     int32_t kind, const void *bytes, size_t len) {
    hive_pid self = hive_self(), p = 0;
    uint64_t m = 0;
    g_term[tag] = (struct term_arg){self, tag, cb == CB_EXIT_INSIDE};
    g_term[tag + 1] = (struct term_arg){self, tag + 1, 0};
    struct term_proc_arg a = {self, tag, how, cb};
    CHECK_OK(hive_spawn_monitor(term_proc, &a, sizeof a, NULL, &p, &m));
    hive_msg_free(recv_data(T_READY, p));
    if (how == H_WAIT) CHECK_OK(hive_exit_pid(p, sig_kind, sig, sig_len));
    hive_msg *x = NULL;
    CHECK_OK(hive_receive(T, &x)); /* the callback's message comes first */
    if (cb == CB_REMOVED || (how == H_WAIT && sig_kind == HIVE_REASON_KILL)) {
        CHECK_EQ(hive_msg_kind(x), HIVE_MSG_DOWN); /* no callback ran */
        CHECK_EQ(hive_msg_monitor_ref(x), m);
        check_reason(x, kind, bytes, len);
        hive_msg_free(x);
        expect_empty();
        return;
    }
    CHECK_EQ(hive_msg_kind(x), HIVE_MSG_DATA);
    CHECK_EQ(word(x, 0), T_TERM);
    CHECK_EQ(word(x, 1), cb == CB_REPLACED ? tag + 1 : tag);
    CHECK_EQ((int64_t)word(x, 2), kind);
    CHECK_EQ(word(x, 3), p); /* runs as the process */
    CHECK_EQ(word(x, 4), p); /* its name is still registered */
    CHECK_EQ(word(x, 5), len);
    CHECK_EQ(hive_msg_len(x), 48 + len);
    if (len) CHECK(memcmp(hive_msg_data(x) + 48, bytes, len) == 0);
    CHECK_EQ(hive_msg_sender(x), p);
    hive_msg_free(x);
    expect_down(m, p, kind, bytes, len);
    expect_empty(); /* it ran once */
}
static void terminate_callback(void *arg) {
    (void)arg;
    term_run(0, H_RETURN, CB_SET, 0, NULL, 0, STD(HIVE_REASON_NORMAL));
    term_run(2, H_EXIT, CB_SET, 0, NULL, 0, ERR("bye"));
    term_run(4, H_WAIT, CB_SET, STD(HIVE_REASON_KILL), STD(HIVE_REASON_KILLED));
    term_run(6, H_WAIT, CB_SET, ERR("sig"), ERR("sig"));
    term_run(8, H_WAIT, CB_SET, STD(HIVE_REASON_SHUTDOWN), STD(HIVE_REASON_SHUTDOWN));
    term_run(10, H_LINKED, CB_SET, 0, NULL, 0, ERR("linked"));
    term_run(12, H_EXIT, CB_REMOVED, 0, NULL, 0, ERR("bye"));
    term_run(14, H_RETURN, CB_REMOVED, 0, NULL, 0, STD(HIVE_REASON_NORMAL));
    term_run(16, H_EXIT, CB_REPLACED, 0, NULL, 0, ERR("bye"));
    term_run(18, H_EXIT, CB_EXIT_INSIDE, 0, NULL, 0, ERR("bye"));
    term_run(20, H_WAIT, CB_EXIT_INSIDE, ERR("sig"), ERR("sig"));
    CHECK_OK(hive_set_terminate(NULL, NULL)); /* removing when none is set */
}

/* ---- HIVE_MSG_EXIT / HIVE_MSG_DOWN accessors ---------------------------------------- */
static void msg_accessors(void *arg) {
    (void)arg;
    hive_pid p = 0;
    uint64_t m = 0;
    trap(1);
    hive_spawn_opts o = {.priority = HIVE_PRIORITY_NORMAL, .flags = HIVE_SPAWN_LINK | HIVE_SPAWN_MONITOR,
                         .stack_size = 0};
    CHECK_OK(hive_spawn_opt(exit_boom, NULL, 0, &o, &p, &m));
    hive_msg *e = NULL, *d = NULL;
    CHECK_OK(hive_receive_match(match_exit, &p, T, &e));
    CHECK_OK(hive_receive_match(match_down, &m, T, &d));
    CHECK_EQ(hive_msg_kind(e), HIVE_MSG_EXIT);
    CHECK_EQ(hive_msg_kind(d), HIVE_MSG_DOWN);
    CHECK_EQ(hive_msg_reason_kind(e), HIVE_REASON_ERROR);
    CHECK_EQ(hive_msg_reason_kind(d), HIVE_REASON_ERROR);
    CHECK_EQ(hive_msg_monitor_ref(e), 0);
    CHECK_EQ(hive_msg_monitor_ref(d), m);
    CHECK_EQ(hive_msg_timer_ref(e), 0);
    CHECK_EQ(hive_msg_timer_ref(d), 0);
    CHECK_EQ(hive_msg_sender(e), p);
    CHECK_EQ(hive_msg_sender(d), p);
    CHECK_EQ(hive_msg_len(e), 4);
    CHECK_EQ(hive_msg_len(d), 4);
    CHECK(memcmp(hive_msg_data(e), "boom", 4) == 0);
    CHECK(memcmp(hive_msg_data(d), "boom", 4) == 0);
    hive_msg_free(e);
    hive_msg_free(d);
    expect_empty();
    trap(0);
}

/* A group that hangs (a call that never returns) fails instead of blocking `make test`. */
static const char *volatile g_group = "init";
static void watchdog(int sig) {
    (void)sig;
    static const char a[] = "links_monitors: group \"", b[] = "\" did not finish within the watchdog's "
        "time (a call never returned)\n";
    (void)!write(2, a, sizeof a - 1);
    (void)!write(2, g_group, strlen(g_group));
    (void)!write(2, b, sizeof b - 1);
    abort();
}

int main(void) {
    signal(SIGALRM, watchdog);
    hive_config cfg;
    CHECK_OK(hive_config_default(&cfg));
    cfg.schedulers = 2;
    CHECK_OK(hive_init(&cfg));
    struct { const char *name; hive_entry_fn f; } cases[] = {
        {"case 23", case_23}, {"case 23 after signals", case_23_after_signals}, {"case 24", case_24}, {"case 25", case_25}, {"case 29", case_29},
        {"case 30", case_30}, {"case 31", case_31}, {"case 32", case_32}, {"case 33", case_33},
        {"case 34", case_34}, {"case 37", case_37}, {"case 38", case_38}, {"case 40", case_40},
        {"case 42", case_42}, {"cases 43,44", case_43_44}, {"case 45", case_45},
        {"case 46", case_46}, {"case 48", case_48}, {"case 49", case_49}, {"case 51", case_51},
        {"case 52", case_52}, {"case 53", case_53}, {"case 54", case_54}, {"case 55", case_55},
        {"case 56", case_56}, {"case 61", case_61}, {"case 62", case_62}, {"case 64", case_64},
        {"case 65", case_65}, {"case 67", case_67}, {"cases 69,98", case_69_98},
        {"case 70", case_70}, {"case 71", case_71}, {"case 72", case_72}, {"case 73", case_73},
        {"case 74", case_74}, {"case 75", case_75}, {"case 78", case_78}, {"case 96", case_96},
        {"case 97", case_97}, {"terminate callback", terminate_callback},
        {"EXIT/DOWN accessors", msg_accessors},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hive_exit_info info;
        memset(&info, 0xAB, sizeof info);
        g_group = cases[i].name;
        alarm(WATCHDOG_S);
        CHECK_OK(hive_run(cases[i].f, NULL, 0, NULL, &info));
        alarm(0);
        if (info.kind != HIVE_REASON_NORMAL)
            fprintf(stderr, "%s: the test process exited with kind %d\n", cases[i].name, info.kind);
        CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    }
    CHECK_OK(hive_shutdown(NULL));
    printf("links_monitors: %zu groups ok, %llu checks (case 34: %d EXIT queued of 300; "
           "case 75: %d DOWN queued of 300)\n",
           sizeof cases / sizeof cases[0], CHECKS_DONE(), g_case34_queued, g_case75_queued);
    return 0;
}
