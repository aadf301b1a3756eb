/* Every bad input of the links / exit signals / monitors ABI, each with its documented
 * status (the doc comments of crates/hive-rt/src/ffi/signal.rs and docs/abi.md): calls
 * from a thread that is not a process, pid 0, unknown, dead and other-node pids, self
 * links, NULL pointers, lengths, reason kinds, references, flag bits, the list getters'
 * buffers, and the message accessors on messages that are not EXIT or DOWN. After each
 * refused call the runtime and the caller keep working and nothing was created (no link,
 * no monitor, no process, out-pointers untouched). BEAM case numbers are given where one
 * applies (docs/semantics.md).
 *
 * Synchronisation is by messages and monitors only; receive timeouts (T) are failure
 * bounds. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

#define T 10000                             /* failure bound of a receive that must succeed, ms */
#define WATCHDOG_S 20                       /* failure bound of one group */
#define FAKE_PID ((99ull << 24) | 12345ull) /* index 12345, serial 99: never spawned */
#define NODE_BIT (1ull << 52)               /* node field = 1: another node */

/* ---- helpers ------------------------------------------------------------------------ */
enum { T_REPORT = 0x300, T_REF, T_PROBE };
#define ERR(s) HIVE_REASON_ERROR, (const void *)(s), (sizeof(s) - 1)
#define STD(k) (k), (const void *)NULL, (size_t)0

static uint64_t word(const hive_msg *m, size_t i) {
    uint64_t v = 0;
    if (hive_msg_len(m) >= (i + 1) * 8) memcpy(&v, hive_msg_data(m) + i * 8, 8);
    return v;
}
static void send_words(hive_pid to, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
    uint64_t w[4] = {a, b, c, d};
    CHECK_OK(hive_send(to, w, sizeof w));
}
struct want { uint64_t tag; hive_pid from; int any_sender; };
static int32_t match_data(void *env, const hive_msg *m) {
    const struct want *w = env;
    return hive_msg_kind(m) == HIVE_MSG_DATA && hive_msg_len(m) >= 8 && word(m, 0) == w->tag &&
           (w->any_sender || hive_msg_sender(m) == w->from);
}
static int32_t match_down(void *env, const hive_msg *m) {
    return hive_msg_kind(m) == HIVE_MSG_DOWN && hive_msg_monitor_ref(m) == *(const uint64_t *)env;
}
static int32_t match_exit(void *env, const hive_msg *m) {
    return hive_msg_kind(m) == HIVE_MSG_EXIT && hive_msg_sender(m) == *(const hive_pid *)env;
}
static hive_msg *recv_data(uint64_t tag, hive_pid from) {
    struct want w = {tag, from, 0};
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_data, &w, T, &m));
    return m;
}
static void check_reason(hive_msg *m, int32_t kind, const void *bytes, size_t len) {
    CHECK_EQ(hive_msg_reason_kind(m), kind);
    CHECK_EQ(hive_msg_len(m), len);
    if (len) CHECK(memcmp(hive_msg_data(m), bytes, len) == 0);
}
static void expect_down(uint64_t mref, hive_pid pid, int32_t kind, const void *bytes, size_t len) {
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_down, &mref, T, &m));
    CHECK_EQ(hive_msg_kind(m), HIVE_MSG_DOWN);
    CHECK_EQ(hive_msg_monitor_ref(m), mref);
    CHECK_EQ(hive_msg_sender(m), pid);
    check_reason(m, kind, bytes, len);
    hive_msg_free(m);
}
static void expect_exit(hive_pid from, int32_t kind, const void *bytes, size_t len) {
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_exit, &from, T, &m));
    CHECK_EQ(hive_msg_kind(m), HIVE_MSG_EXIT);
    CHECK_EQ(hive_msg_sender(m), from);
    CHECK_EQ(hive_msg_monitor_ref(m), 0);
    check_reason(m, kind, bytes, len);
    hive_msg_free(m);
}
static void expect_empty(void) {
    hive_msg *m = NULL;
    hive_status s = hive_receive(0, &m);
    if (s == HIVE_OK) {
        fprintf(stderr, "unexpected message: kind %d sender %llu reason kind %d len %zu\n",
                hive_msg_kind(m), (unsigned long long)hive_msg_sender(m), hive_msg_reason_kind(m),
                hive_msg_len(m));
    }
    CHECK_EQ(s, HIVE_TIMEOUT);
}
static size_t links_of(hive_pid p) {
    size_t n = 999;
    CHECK_OK(hive_get_links(p, NULL, 0, &n));
    return n;
}
static size_t monitors_of(hive_pid p) {
    size_t n = 999;
    CHECK_OK(hive_get_monitors(p, NULL, 0, &n));
    return n;
}
static size_t monitored_by_of(hive_pid p) {
    size_t n = 999;
    CHECK_OK(hive_get_monitored_by(p, NULL, 0, &n));
    return n;
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
/* Nothing was created for the caller: no link, no monitor, no EXIT or DOWN queued. */
static void expect_clean(void) {
    hive_pid self = hive_self();
    CHECK_EQ(links_of(self), 0);
    CHECK_EQ(monitors_of(self), 0);
    expect_empty();
}

static void nop(void *arg) { (void)arg; }
static void sleeper(void *arg) {
    (void)arg;
    for (;;) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(-1, &m));
        hive_msg_free(m);
    }
}
static void term_cb(void *arg, hive_reason_kind kind, const uint8_t *data, size_t len) {
    (void)arg; (void)kind; (void)data; (void)len;
}
static hive_pid spawn_sleeper(void) {
    hive_pid p = 0;
    CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, &p));
    CHECK_NE(p, 0);
    return p;
}
/* Kills `p` (not linked to the caller) and waits for its DOWN. */
static void kill_and_wait(hive_pid p) {
    uint64_t m = monitor(p);
    CHECK_OK(hive_exit_pid(p, STD(HIVE_REASON_KILL)));
    expect_down(m, p, STD(HIVE_REASON_KILLED));
}
/* A pid whose DOWN has been received: dead. */
static hive_pid dead_pid(void) {
    hive_pid p = 0;
    uint64_t m = 0;
    CHECK_OK(hive_spawn_monitor(nop, NULL, 0, NULL, &p, &m));
    expect_down(m, p, STD(HIVE_REASON_NORMAL));
    return p;
}

/* ---- calls that need a process, from threads that are not processes ------------------ */
/* Each is refused with HIVE_ERR_NOT_A_PROCESS and creates nothing; hive_exit_pid and the
 * list getters work from any thread. Run before any process exists (count 0). */
static void not_a_process_checks(void) {
    hive_pid pid = 42;
    uint64_t ref = 43, count = 99;
    int32_t old = 44, info = 45;
    hive_spawn_opts o = {.priority = HIVE_PRIORITY_NORMAL, .flags = 0, .stack_size = 0};
    CHECK_EQ(hive_self(), 0);
    CHECK_EQ(hive_link(FAKE_PID), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_unlink(FAKE_PID), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_trap_exit(1, &old), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_trap_exit(0, NULL), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(old, 44);
    CHECK_EQ(hive_monitor(FAKE_PID, &ref), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(ref, 43);
    CHECK_EQ(hive_demonitor(1, 0, &info), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_demonitor(1, HIVE_DEMONITOR_FLUSH | HIVE_DEMONITOR_INFO, &info), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(info, 45);
    CHECK_EQ(hive_spawn_link(nop, NULL, 0, NULL, &pid), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_spawn_link(nop, "ab", 2, &o, &pid), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_spawn_monitor(nop, NULL, 0, NULL, &pid, &ref), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_spawn_monitor(nop, NULL, 0, &o, &pid, &ref), HIVE_ERR_NOT_A_PROCESS);
    o.flags = HIVE_SPAWN_LINK;
    CHECK_EQ(hive_spawn_opt(nop, NULL, 0, &o, &pid, &ref), HIVE_ERR_NOT_A_PROCESS);
    o.flags = HIVE_SPAWN_MONITOR;
    CHECK_EQ(hive_spawn_opt(nop, NULL, 0, &o, &pid, &ref), HIVE_ERR_NOT_A_PROCESS);
    o.flags = HIVE_SPAWN_LINK | HIVE_SPAWN_MONITOR;
    CHECK_EQ(hive_spawn_opt(nop, NULL, 0, &o, &pid, &ref), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(pid, 42);
    CHECK_EQ(ref, 43);
    CHECK_EQ(hive_set_terminate(term_cb, NULL), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_set_terminate(NULL, NULL), HIVE_ERR_NOT_A_PROCESS);
    CHECK_OK(hive_process_count(&count));
    CHECK_EQ(count, 0); /* nothing was spawned */
    /* hive_exit_pid works from any thread, with the same input checks. */
    CHECK_OK(hive_exit_pid(FAKE_PID, STD(HIVE_REASON_KILL)));
    CHECK_OK(hive_exit_pid(FAKE_PID, ERR("x")));
    CHECK_OK(hive_exit_pid(FAKE_PID | NODE_BIT, STD(HIVE_REASON_NORMAL)));
    CHECK_EQ(hive_exit_pid(0, STD(HIVE_REASON_KILL)), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_exit_pid(FAKE_PID, 7, NULL, 0), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_exit_pid(FAKE_PID, -1, NULL, 0), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_exit_pid(FAKE_PID, HIVE_REASON_ERROR, NULL, 3), HIVE_ERR_NULL_POINTER);
    static uint8_t big[HIVE_MAX_REASON_LEN + 1];
    CHECK_EQ(hive_exit_pid(FAKE_PID, HIVE_REASON_ERROR, big, sizeof big), HIVE_ERR_BAD_LENGTH);
    /* The list getters too. */
    size_t n = 77;
    CHECK_EQ(hive_get_links(FAKE_PID, NULL, 0, &n), HIVE_ERR_NO_PROCESS);
    CHECK_EQ(hive_get_monitors(FAKE_PID, NULL, 0, &n), HIVE_ERR_NO_PROCESS);
    CHECK_EQ(hive_get_monitored_by(FAKE_PID, NULL, 0, &n), HIVE_ERR_NO_PROCESS);
    CHECK_EQ(hive_get_links(0, NULL, 0, &n), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(n, 77);
}
static void *plain_thread(void *arg) {
    (void)arg;
    not_a_process_checks();
    return NULL;
}

/* ---- pid 0 (cases 28, 47, 63) ------------------------------------------------------- */
static void pid_zero(void *arg) {
    (void)arg;
    uint64_t r = 42;
    size_t n = 77;
    hive_pid buf[2] = {5, 5};
    hive_monitor_info mbuf[1] = {{5, 5}};
    CHECK_EQ(hive_link(0), HIVE_ERR_BAD_ARGUMENT);   /* case 28 */
    CHECK_EQ(hive_unlink(0), HIVE_ERR_BAD_ARGUMENT); /* case 28 */
    CHECK_EQ(hive_monitor(0, &r), HIVE_ERR_BAD_ARGUMENT); /* case 63 */
    CHECK_EQ(r, 42);
    CHECK_EQ(hive_exit_pid(0, STD(HIVE_REASON_KILL)), HIVE_ERR_BAD_ARGUMENT); /* case 47 */
    CHECK_EQ(hive_exit_pid(0, STD(HIVE_REASON_NORMAL)), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_exit_pid(0, ERR("foo")), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_get_links(0, buf, 2, &n), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_get_monitors(0, mbuf, 1, &n), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_get_monitored_by(0, buf, 2, &n), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(n, 77);
    CHECK_EQ(buf[0], 5);
    CHECK_EQ(mbuf[0].mref, 5);
    trap(1);
    CHECK_EQ(hive_link(0), HIVE_ERR_BAD_ARGUMENT); /* trapping: still refused, no EXIT */
    trap(0);
    expect_clean();
}

/* ---- unknown, dead and other-node pids (cases 26, 27, 33, 47, 57) -------------------- */
static void dead_pids(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    hive_pid dead = dead_pid();
    hive_pid pids[3] = {dead, FAKE_PID, self | NODE_BIT};
    for (int i = 0; i < 3; i++) {
        hive_pid d = pids[i];
        /* Another node's pid: badarg (case 143). */
        CHECK_EQ(hive_is_alive(d), (d >> 52) ? HIVE_ERR_BAD_ARGUMENT : 0);
        /* Case 26: not trapping: noproc, no link, no signal. */
        CHECK_EQ(hive_link(d), HIVE_ERR_NO_PROCESS);
        CHECK_EQ(links_of(self), 0);
        expect_empty();
        /* Case 33: unlink always succeeds. */
        CHECK_OK(hive_unlink(d));
        /* Case 47: exit/2 to a dead pid is fine. */
        CHECK_OK(hive_exit_pid(d, STD(HIVE_REASON_KILL)));
        CHECK_OK(hive_exit_pid(d, ERR("foo")));
        CHECK_OK(hive_exit_pid(d, STD(HIVE_REASON_NORMAL)));
        /* Case 27: trapping: HIVE_OK, then {'EXIT', Dead, noproc}; no link. */
        CHECK_EQ(trap(1), 0);
        CHECK_OK(hive_link(d));
        expect_exit(d, STD(HIVE_REASON_NOPROC));
        CHECK_EQ(links_of(self), 0);
        CHECK_OK(hive_unlink(d));
        CHECK_EQ(trap(0), 1);
        /* The list getters: not alive. */
        size_t n = 77;
        /* Another node's pid: badarg, as process_info/2 on the BEAM (case 143). */
        hive_status gone = (d >> 52) ? HIVE_ERR_BAD_ARGUMENT : HIVE_ERR_NO_PROCESS;
        CHECK_EQ(hive_get_links(d, NULL, 0, &n), gone);
        CHECK_EQ(hive_get_monitors(d, NULL, 0, &n), gone);
        CHECK_EQ(hive_get_monitored_by(d, NULL, 0, &n), gone);
        CHECK_EQ(n, 77);
        hive_process_info info;
        CHECK_EQ(hive_get_process_info(d, &info), gone);
        expect_empty();
    }
    /* Case 57: a monitor on a dead or unknown pid: HIVE_OK and a DOWN noproc at once. */
    for (int i = 0; i < 2; i++) {
        uint64_t m = monitor(pids[i]);
        expect_down(m, pids[i], STD(HIVE_REASON_NOPROC));
        CHECK_EQ(monitors_of(self), 0);
        CHECK_EQ(demonitor(m, HIVE_DEMONITOR_INFO), 0); /* it fired: removed */
    }
    expect_clean();
}

/* ---- self-link (case 24), self-monitor (case 71) ------------------------------------ */
static void self_link(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    for (int trapping = 0; trapping < 2; trapping++) {
        trap(trapping);
        CHECK_OK(hive_link(self));
        CHECK_EQ(links_of(self), 0);
        hive_process_info info;
        CHECK_OK(hive_get_process_info(self, &info));
        CHECK_EQ(info.links, 0);
        CHECK_OK(hive_unlink(self));
        expect_empty(); /* no EXIT noproc either */
    }
    trap(0);
    uint64_t m = monitor(self); /* case 71: a reference that never fires */
    CHECK_EQ(demonitor(m, HIVE_DEMONITOR_INFO), 0);
    CHECK_EQ(demonitor(m, HIVE_DEMONITOR_INFO), 0);
    expect_clean();
}

/* ---- NULL pointers ------------------------------------------------------------------ */
static void null_pointers(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p = spawn_sleeper();
    /* hive_monitor: ref_out NULL is an error, and no monitor is made. */
    CHECK_EQ(hive_monitor(p, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_monitor(FAKE_PID, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(monitors_of(self), 0);
    CHECK_EQ(monitored_by_of(p), 0);
    /* hive_exit_pid: data NULL with len > 0, whatever the kind; the target is untouched. */
    CHECK_EQ(hive_exit_pid(p, HIVE_REASON_ERROR, NULL, 5), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_exit_pid(p, HIVE_REASON_KILL, NULL, 1), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_exit_pid(self, HIVE_REASON_NORMAL, NULL, 1), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_is_alive(p), 1);
    /* The list getters: n_out NULL, or out NULL with cap > 0. */
    size_t n = 77;
    CHECK_EQ(hive_get_links(p, NULL, 0, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_get_links(p, NULL, 3, &n), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_get_monitors(p, NULL, 0, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_get_monitors(p, NULL, 1, &n), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_get_monitored_by(p, NULL, 0, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_get_monitored_by(p, NULL, 2, &n), HIVE_ERR_NULL_POINTER);
    hive_pid buf[1];
    hive_monitor_info mbuf[1];
    CHECK_EQ(hive_get_links(p, buf, 1, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_get_monitors(p, mbuf, 1, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_get_monitored_by(p, buf, 1, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(n, 77);
    /* ... but out NULL with cap 0 sizes the list. */
    CHECK_OK(hive_link(p));
    CHECK_OK(hive_get_links(p, NULL, 0, &n));
    CHECK_EQ(n, 1);
    CHECK_OK(hive_unlink(p));
    /* Out-pointers documented as optional. */
    CHECK_OK(hive_trap_exit(1, NULL));
    CHECK_EQ(trap(0), 1);
    uint64_t m = monitor(p);
    CHECK_OK(hive_demonitor(m, HIVE_DEMONITOR_INFO, NULL));
    CHECK_EQ(demonitor(m, HIVE_DEMONITOR_INFO), 0); /* it was removed */
    CHECK_OK(hive_spawn_monitor(nop, NULL, 0, NULL, NULL, NULL));
    hive_msg *x = NULL;
    CHECK_OK(hive_receive(T, &x));
    CHECK_EQ(hive_msg_kind(x), HIVE_MSG_DOWN);
    CHECK_NE(hive_msg_monitor_ref(x), 0);
    CHECK_EQ(hive_msg_reason_kind(x), HIVE_REASON_NORMAL);
    hive_msg_free(x);
    trap(1);
    CHECK_OK(hive_spawn_link(nop, NULL, 0, NULL, NULL));
    CHECK_OK(hive_receive(T, &x));
    CHECK_EQ(hive_msg_kind(x), HIVE_MSG_EXIT);
    CHECK_EQ(hive_msg_reason_kind(x), HIVE_REASON_NORMAL);
    hive_msg_free(x);
    trap(0);
    kill_and_wait(p);
    expect_clean();
}

/* ---- lengths and reason kinds ------------------------------------------------------- */
static uint8_t g_reason[HIVE_MAX_REASON_LEN + 1];
static void lengths_and_kinds(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p = spawn_sleeper();
    for (size_t i = 0; i < sizeof g_reason; i++) g_reason[i] = (uint8_t)(i * 13 + (i >> 8));
    CHECK_EQ(hive_exit_pid(p, HIVE_REASON_ERROR, g_reason, HIVE_MAX_REASON_LEN + 1), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_exit_pid(p, HIVE_REASON_ERROR, g_reason, SIZE_MAX), HIVE_ERR_BAD_LENGTH);
    const int32_t bad_kinds[] = {7, 8, 99, -1, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof bad_kinds / sizeof bad_kinds[0]; i++) {
        CHECK_EQ(hive_exit_pid(p, bad_kinds[i], NULL, 0), HIVE_ERR_BAD_ARGUMENT);
        CHECK_EQ(hive_exit_pid(p, bad_kinds[i], "x", 1), HIVE_ERR_BAD_ARGUMENT);
        CHECK_EQ(hive_exit_pid(self, bad_kinds[i], NULL, 0), HIVE_ERR_BAD_ARGUMENT); /* returns */
    }
    CHECK_EQ(hive_exit_pid(self, HIVE_REASON_ERROR, g_reason, HIVE_MAX_REASON_LEN + 1), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_is_alive(p), 1); /* none of them reached it */
    CHECK_EQ(hive_is_alive(self), 1);
    /* The limits themselves are accepted: exactly HIVE_MAX_REASON_LEN bytes, no bytes; a
     * standard reason carries no bytes even when some are passed. */
    trap(1);
    CHECK_OK(hive_exit_pid(self, HIVE_REASON_ERROR, g_reason, HIVE_MAX_REASON_LEN));
    expect_exit(self, HIVE_REASON_ERROR, g_reason, HIVE_MAX_REASON_LEN);
    CHECK_OK(hive_exit_pid(self, HIVE_REASON_ERROR, NULL, 0));
    expect_exit(self, HIVE_REASON_ERROR, NULL, 0);
    CHECK_OK(hive_exit_pid(self, HIVE_REASON_SHUTDOWN, "zz", 2));
    expect_exit(self, STD(HIVE_REASON_SHUTDOWN));
    trap(0);
    uint64_t m = monitor(p);
    CHECK_OK(hive_exit_pid(p, HIVE_REASON_ERROR, g_reason, HIVE_MAX_REASON_LEN));
    expect_down(m, p, HIVE_REASON_ERROR, g_reason, HIVE_MAX_REASON_LEN);
    expect_clean();
}

/* ---- references (cases 71, 74, 76, 77) ---------------------------------------------- */
static void monitor_root(void *arg) {
    hive_pid root;
    memcpy(&root, arg, sizeof root);
    uint64_t m = monitor(root);
    send_words(root, T_REF, m, 0, 0);
    sleeper(NULL);
}
struct probe { uint64_t mref; hive_status st; int32_t info; int calls; };
static int32_t demonitor_in_predicate(void *env, const hive_msg *m) {
    struct probe *pr = env;
    pr->calls++;
    pr->st = hive_demonitor(pr->mref, HIVE_DEMONITOR_FLUSH | HIVE_DEMONITOR_INFO, &pr->info);
    return hive_msg_kind(m) == HIVE_MSG_DATA && word(m, 0) == T_PROBE;
}
static void references(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), p = spawn_sleeper();
    int32_t info = 42;
    /* Case 76: reference 0. */
    CHECK_EQ(hive_demonitor(0, 0, &info), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_demonitor(0, HIVE_DEMONITOR_FLUSH | HIVE_DEMONITOR_INFO, &info), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_demonitor(0, 0, NULL), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(info, 42);
    /* Cases 71, 74: unknown references are no-ops reporting inactive. */
    CHECK_EQ(demonitor(123456789, 0), 0);
    CHECK_EQ(demonitor(UINT64_MAX, HIVE_DEMONITOR_FLUSH | HIVE_DEMONITOR_INFO), 0);
    /* Twice: active, then not. */
    uint64_t m = monitor(p);
    CHECK_EQ(demonitor(m, HIVE_DEMONITOR_INFO), 1);
    CHECK_EQ(demonitor(m, HIVE_DEMONITOR_INFO), 0);
    CHECK_EQ(demonitor(m, HIVE_DEMONITOR_FLUSH), 0);
    CHECK_EQ(monitored_by_of(p), 0);
    /* Case 77: another process's reference: a no-op, its monitor stays. */
    hive_pid q = 0;
    CHECK_OK(hive_spawn(monitor_root, &self, sizeof self, NULL, &q));
    hive_msg *r = recv_data(T_REF, q);
    uint64_t foreign = word(r, 1);
    hive_msg_free(r);
    CHECK_EQ(demonitor(foreign, HIVE_DEMONITOR_INFO), 0);
    CHECK_EQ(demonitor(foreign, HIVE_DEMONITOR_FLUSH | HIVE_DEMONITOR_INFO), 0);
    hive_pid by[2] = {0, 0};
    size_t n = 0;
    CHECK_OK(hive_get_monitored_by(self, by, 2, &n));
    CHECK_EQ(n, 1);
    CHECK_EQ(by[0], q);
    /* A flushing demonitor from inside a hive_receive_match predicate: refused, the monitor
     * stays active (receive_reentry.c covers the rest of the predicate rules). */
    m = monitor(p);
    send_words(self, T_PROBE, 0, 0, 0);
    struct probe pr = {m, 99, 42, 0};
    hive_msg *x = NULL;
    CHECK_OK(hive_receive_match(demonitor_in_predicate, &pr, T, &x));
    hive_msg_free(x);
    CHECK_EQ(pr.calls, 1);
    CHECK_EQ(pr.st, HIVE_ERR_REENTRANT);
    CHECK_EQ(pr.info, 42);
    CHECK_EQ(monitored_by_of(p), 1);
    CHECK_EQ(demonitor(m, HIVE_DEMONITOR_INFO), 1);
    kill_and_wait(q);
    kill_and_wait(p);
    expect_clean();
}

/* ---- unknown flag bits -------------------------------------------------------------- */
static void flag_bits(void *arg) {
    (void)arg;
    hive_pid p = spawn_sleeper();
    uint64_t m = monitor(p);
    int32_t info = 42;
    const uint32_t bad_demon[] = {4, 8, 0x80000000u, HIVE_DEMONITOR_FLUSH | HIVE_DEMONITOR_INFO | 4, ~0u};
    for (size_t i = 0; i < sizeof bad_demon / sizeof bad_demon[0]; i++)
        CHECK_EQ(hive_demonitor(m, bad_demon[i], &info), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(info, 42);
    CHECK_EQ(monitored_by_of(p), 1);
    CHECK_EQ(demonitor(m, HIVE_DEMONITOR_INFO), 1); /* still active after the refusals */
    /* hive_spawn_opt: unknown bits. */
    hive_pid pid = 42;
    uint64_t ref = 43;
    hive_spawn_opts o = {.priority = HIVE_PRIORITY_NORMAL, .flags = 0, .stack_size = 0};
    const uint32_t bad_spawn[] = {4, 8, 0x80000000u, HIVE_SPAWN_LINK | HIVE_SPAWN_MONITOR | 4, ~0u};
    for (size_t i = 0; i < sizeof bad_spawn / sizeof bad_spawn[0]; i++) {
        o.flags = bad_spawn[i];
        CHECK_EQ(hive_spawn_opt(nop, NULL, 0, &o, &pid, &ref), HIVE_ERR_BAD_ARGUMENT);
    }
    /* hive_spawn, hive_spawn_link and hive_spawn_monitor: opts->flags must be 0. */
    o.flags = HIVE_SPAWN_LINK;
    CHECK_EQ(hive_spawn(nop, NULL, 0, &o, &pid), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_spawn_link(nop, NULL, 0, &o, &pid), HIVE_ERR_BAD_ARGUMENT);
    o.flags = HIVE_SPAWN_MONITOR;
    CHECK_EQ(hive_spawn(nop, NULL, 0, &o, &pid), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_spawn_monitor(nop, NULL, 0, &o, &pid, &ref), HIVE_ERR_BAD_ARGUMENT);
    o.flags = 4;
    CHECK_EQ(hive_spawn_link(nop, NULL, 0, &o, &pid), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_spawn_monitor(nop, NULL, 0, &o, &pid, &ref), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(pid, 42);
    CHECK_EQ(ref, 43);
    kill_and_wait(p);
    expect_clean(); /* no link, no monitor, no DOWN or EXIT of a half-made child */
}

/* ---- spawn_link / spawn_monitor / spawn_opt: the input checks of hive_spawn ---------- */
static uint8_t g_big_arg[HIVE_MAX_ARG_LEN + 1];
static void spawn_bad_input(void *arg) {
    (void)arg;
    for (int which = 0; which < 3; which++) {
        hive_pid pid = 42;
        uint64_t ref = 43;
        hive_spawn_opts o = {.priority = HIVE_PRIORITY_NORMAL, .flags = 0, .stack_size = 0};
        hive_spawn_opts *op = &o;
        /* 0: hive_spawn_link; 1: hive_spawn_monitor; 2: hive_spawn_opt with both flags. */
#define SPAWN(entry, a, len) \
    (which == 0 ? hive_spawn_link((entry), (a), (len), op, &pid) \
     : which == 1 ? hive_spawn_monitor((entry), (a), (len), op, &pid, &ref) \
                  : hive_spawn_opt((entry), (a), (len), op, &pid, &ref))
        if (which == 2) o.flags = HIVE_SPAWN_LINK | HIVE_SPAWN_MONITOR;
        CHECK_EQ(SPAWN(NULL, NULL, 0), HIVE_ERR_NULL_POINTER);
        CHECK_EQ(SPAWN(nop, NULL, 5), HIVE_ERR_NULL_POINTER);
        CHECK_EQ(SPAWN(nop, g_big_arg, HIVE_MAX_ARG_LEN + 1), HIVE_ERR_BAD_LENGTH);
        o.priority = 7;
        CHECK_EQ(SPAWN(nop, NULL, 0), HIVE_ERR_BAD_ARGUMENT);
        o.priority = -1;
        CHECK_EQ(SPAWN(nop, NULL, 0), HIVE_ERR_BAD_ARGUMENT);
        o.priority = HIVE_PRIORITY_NORMAL;
        o.stack_size = ((size_t)64 << 20) + 1;
        CHECK_EQ(SPAWN(nop, NULL, 0), HIVE_ERR_BAD_LENGTH);
        o.stack_size = SIZE_MAX;
        CHECK_EQ(SPAWN(nop, NULL, 0), HIVE_ERR_BAD_LENGTH);
#undef SPAWN
        CHECK_EQ(pid, 42);
        CHECK_EQ(ref, 43);
        expect_clean();
    }
}

/* ---- the list getters' buffers ------------------------------------------------------ */
static void list_buffers(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), a = spawn_sleeper(), b = spawn_sleeper();
    const hive_pid S = 0x5E5E;
    CHECK_OK(hive_link(a));
    CHECK_OK(hive_link(b));
    hive_pid out[3] = {S, S, S};
    size_t n = 77;
    CHECK_OK(hive_get_links(self, out, 1, &n)); /* a short buffer: the first items, full count */
    CHECK_EQ(n, 2);
    CHECK(out[0] == a || out[0] == b);
    CHECK_EQ(out[1], S);
    out[0] = S;
    CHECK_OK(hive_get_links(self, out, 0, &n)); /* cap 0: nothing written */
    CHECK_EQ(n, 2);
    CHECK_EQ(out[0], S);
    CHECK_OK(hive_get_links(self, out, 3, &n));
    CHECK_EQ(n, 2);
    CHECK(out[0] != out[1]);
    CHECK(out[0] == a || out[0] == b);
    CHECK(out[1] == a || out[1] == b);
    CHECK_EQ(out[2], S);
    uint64_t m1 = monitor(a), m2 = monitor(a);
    hive_monitor_info mo[3] = {{S, S}, {S, S}, {S, S}};
    CHECK_OK(hive_get_monitors(self, mo, 1, &n));
    CHECK_EQ(n, 2);
    CHECK(mo[0].mref == m1 || mo[0].mref == m2);
    CHECK_EQ(mo[0].pid, a);
    CHECK_EQ(mo[1].mref, S);
    CHECK_EQ(mo[1].pid, S);
    out[0] = out[1] = out[2] = S;
    CHECK_OK(hive_get_monitored_by(a, out, 1, &n));
    CHECK_EQ(n, 2); /* one entry per monitor */
    CHECK_EQ(out[0], self);
    CHECK_EQ(out[1], S);
    CHECK_OK(hive_unlink(a));
    CHECK_OK(hive_unlink(b));
    demonitor(m1, 0);
    demonitor(m2, 0);
    kill_and_wait(a);
    kill_and_wait(b);
    /* Once dead: NO_PROCESS, nothing written. */
    n = 77;
    out[0] = S;
    CHECK_EQ(hive_get_links(a, out, 3, &n), HIVE_ERR_NO_PROCESS);
    CHECK_EQ(hive_get_monitors(a, mo, 3, &n), HIVE_ERR_NO_PROCESS);
    CHECK_EQ(hive_get_monitored_by(b, out, 3, &n), HIVE_ERR_NO_PROCESS);
    CHECK_EQ(n, 77);
    CHECK_EQ(out[0], S);
    expect_clean();
}

/* ---- accessors on messages that are not EXIT or DOWN -------------------------------- */
static void msg_accessors(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    CHECK_EQ(hive_msg_reason_kind(NULL), -1);
    CHECK_EQ(hive_msg_monitor_ref(NULL), 0);
    CHECK_EQ(hive_msg_kind(NULL), HIVE_ERR_NULL_POINTER);
    hive_msg *x = NULL;
    /* A data message. */
    CHECK_OK(hive_send(self, "data", 4));
    CHECK_OK(hive_receive(0, &x));
    CHECK_EQ(hive_msg_kind(x), HIVE_MSG_DATA);
    CHECK_EQ(hive_msg_reason_kind(x), -1);
    CHECK_EQ(hive_msg_monitor_ref(x), 0);
    hive_msg_free(x);
    /* An allocated, never sent message. */
    CHECK_OK(hive_msg_alloc(16, &x));
    CHECK_EQ(hive_msg_reason_kind(x), -1);
    CHECK_EQ(hive_msg_monitor_ref(x), 0);
    hive_msg_free(x);
    /* A timer timeout message. */
    hive_tref t = 0;
    CHECK_OK(hive_start_timer(self, 0, "t", 1, &t));
    CHECK_OK(hive_receive(T, &x));
    CHECK_EQ(hive_msg_kind(x), HIVE_MSG_TIMEOUT);
    CHECK_EQ(hive_msg_timer_ref(x), t);
    CHECK_EQ(hive_msg_reason_kind(x), -1);
    CHECK_EQ(hive_msg_monitor_ref(x), 0);
    hive_msg_free(x);
    /* An EXIT has no monitor reference (and no timer reference). */
    trap(1);
    CHECK_OK(hive_exit_pid(self, ERR("e")));
    CHECK_OK(hive_receive(0, &x));
    CHECK_EQ(hive_msg_kind(x), HIVE_MSG_EXIT);
    CHECK_EQ(hive_msg_monitor_ref(x), 0);
    CHECK_EQ(hive_msg_timer_ref(x), 0);
    CHECK_EQ(hive_msg_reason_kind(x), HIVE_REASON_ERROR);
    hive_msg_free(x);
    trap(0);
    expect_clean();
}

/* ---- hive_exit_pid from a plain thread ---------------------------------------------- */
struct thread_arg { hive_pid root, victim, quiet; };
static void *exit_pid_thread(void *arg) {
    struct thread_arg a = *(struct thread_arg *)arg;
    uint64_t w[8] = {T_REPORT};
    w[1] = (uint64_t)(int64_t)hive_exit_pid(a.root, ERR("plain"));       /* trapping: an EXIT */
    w[2] = (uint64_t)(int64_t)hive_exit_pid(a.root, STD(HIVE_REASON_NORMAL));
    w[3] = (uint64_t)(int64_t)hive_exit_pid(a.victim, ERR("from_thread")); /* not trapping: dies */
    w[4] = (uint64_t)(int64_t)hive_exit_pid(a.quiet, STD(HIVE_REASON_NORMAL)); /* ignored */
    w[5] = (uint64_t)(int64_t)hive_link(a.root);
    size_t n = 77;
    w[6] = (uint64_t)(int64_t)hive_get_links(a.root, NULL, 0, &n); /* any thread: a snapshot */
    w[7] = n;
    CHECK_OK(hive_send(a.root, w, sizeof w));
    return NULL;
}
static void exit_pid_from_thread(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    trap(1);
    struct thread_arg a = {self, spawn_sleeper(), spawn_sleeper()};
    uint64_t mv = monitor(a.victim);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, exit_pid_thread, &a), 0);
    struct want w = {T_REPORT, 0, 0};
    hive_msg *r = NULL;
    CHECK_OK(hive_receive_match(match_data, &w, T, &r)); /* the thread's report, sender 0 */
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(hive_msg_sender(r), 0);
    CHECK_EQ((int64_t)word(r, 1), HIVE_OK);
    CHECK_EQ((int64_t)word(r, 2), HIVE_OK);
    CHECK_EQ((int64_t)word(r, 3), HIVE_OK);
    CHECK_EQ((int64_t)word(r, 4), HIVE_OK);
    CHECK_EQ((int64_t)word(r, 5), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ((int64_t)word(r, 6), HIVE_OK);
    CHECK_EQ(word(r, 7), 0);
    hive_msg_free(r);
    /* The EXITs have sender 0 and arrived in send order, before the report. */
    expect_exit(0, ERR("plain"));
    expect_exit(0, STD(HIVE_REASON_NORMAL));
    expect_down(mv, a.victim, ERR("from_thread"));
    CHECK_EQ(hive_is_alive(a.quiet), 1);
    trap(0);
    kill_and_wait(a.quiet);
    expect_clean();
}

/* ---- main --------------------------------------------------------------------------- */
static const char *volatile g_group = "init";
static void watchdog(int sig) {
    (void)sig;
    static const char a[] = "links_bad_input: group \"", b[] = "\" did not finish within the watchdog's "
        "time (a call never returned)\n";
    (void)!write(2, a, sizeof a - 1);
    (void)!write(2, g_group, strlen(g_group));
    (void)!write(2, b, sizeof b - 1);
    abort();
}

int main(void) {
    signal(SIGALRM, watchdog);
    /* Before hive_init. */
    size_t n = 77;
    CHECK_EQ(hive_exit_pid(FAKE_PID, STD(HIVE_REASON_KILL)), HIVE_ERR_NOT_INITIALIZED);
    CHECK_EQ(hive_get_links(FAKE_PID, NULL, 0, &n), HIVE_ERR_NOT_INITIALIZED);
    CHECK_EQ(hive_get_monitors(FAKE_PID, NULL, 0, &n), HIVE_ERR_NOT_INITIALIZED);
    CHECK_EQ(hive_get_monitored_by(FAKE_PID, NULL, 0, &n), HIVE_ERR_NOT_INITIALIZED);
    CHECK_EQ(n, 77);
    CHECK_EQ(hive_link(FAKE_PID), HIVE_ERR_NOT_A_PROCESS);

    hive_config cfg;
    CHECK_OK(hive_config_default(&cfg));
    cfg.schedulers = 2;
    CHECK_OK(hive_init(&cfg));

    /* From the main thread and from another plain thread, before any process exists. */
    not_a_process_checks();
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, plain_thread, NULL), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);

    struct { const char *name; hive_entry_fn f; } groups[] = {
        {"pid 0", pid_zero}, {"dead pids", dead_pids}, {"self link", self_link},
        {"NULL pointers", null_pointers}, {"lengths and kinds", lengths_and_kinds},
        {"references", references}, {"flag bits", flag_bits}, {"spawn input", spawn_bad_input},
        {"list buffers", list_buffers}, {"msg accessors", msg_accessors},
        {"hive_exit_pid from a plain thread", exit_pid_from_thread},
    };
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        hive_exit_info info;
        memset(&info, 0xAB, sizeof info);
        g_group = groups[i].name;
        alarm(WATCHDOG_S);
        CHECK_OK(hive_run(groups[i].f, NULL, 0, NULL, &info));
        alarm(0);
        if (info.kind != HIVE_REASON_NORMAL)
            fprintf(stderr, "%s: the test process exited with kind %d\n", groups[i].name, info.kind);
        CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    }

    CHECK_OK(hive_shutdown(NULL));
    /* After hive_shutdown. */
    CHECK_EQ(hive_exit_pid(FAKE_PID, STD(HIVE_REASON_KILL)), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(hive_get_links(FAKE_PID, NULL, 0, &n), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(hive_get_monitors(FAKE_PID, NULL, 0, &n), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(hive_get_monitored_by(FAKE_PID, NULL, 0, &n), HIVE_ERR_SHUT_DOWN);
    CHECK_EQ(n, 77);
    CHECK_EQ(hive_link(FAKE_PID), HIVE_ERR_NOT_A_PROCESS);
    printf("links_bad_input: %zu groups ok, %llu checks\n", sizeof groups / sizeof groups[0], CHECKS_DONE());
    return 0;
}
