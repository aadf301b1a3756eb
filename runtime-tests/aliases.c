/* References and process aliases through the C ABI (OTP 24, EEP 53): hive_make_ref,
 * hive_alias, hive_unalias, hive_monitor_alias, hive_send_alias, hive_send_msg_alias, and
 * the gen_server-style call with a timeout of docs/call-pattern.md.
 *
 * "Nothing arrives" is checked without sleeps: a message through an alias and a marker the
 * same sender sends right after it to the owner's pid keep their order, so once the marker
 * is received the alias message was delivered or dropped. Receive timeouts (T) are failure
 * bounds, except the call's own timeout, which is what is being tested. */
#define _GNU_SOURCE
#include <sched.h>
#include <string.h>
#include "check.h"

#define T 10000 /* failure bound of every receive that must succeed, ms */

enum { OP_CALL = 1, OP_CALL_TWICE, OP_HOLD, OP_RELEASE, OP_DIE, MARKER = 0x4d41524b };

static uint64_t word(const hive_msg *m, size_t i) { /* no CHECK: used inside predicates */
    uint64_t v = 0;
    if (hive_msg_len(m) >= (i + 1) * 8) memcpy(&v, hive_msg_data(m) + i * 8, 8);
    return v;
}
static void send3(hive_pid to, uint64_t a, uint64_t b, uint64_t c) {
    uint64_t w[3] = {a, b, c};
    CHECK_OK(hive_send(to, w, sizeof w));
}
static void send_alias2(hive_ref alias, uint64_t a, uint64_t b) {
    uint64_t w[2] = {a, b};
    CHECK_OK(hive_send_alias(alias, w, sizeof w));
}

/* ---- a server --------------------------------------------------------------------------
 * Requests are [op, ref, arg] from the caller's pid; replies go through the alias `ref`
 * as [ref, result]. */
static void server(void *arg) {
    (void)arg;
    hive_ref held = 0;
    hive_pid held_from = 0;
    for (;;) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(-1, &m));
        uint64_t op = word(m, 0), ref = word(m, 1), x = word(m, 2);
        hive_pid from = hive_msg_sender(m);
        hive_msg_free(m);
        switch (op) {
        case OP_CALL: send_alias2(ref, ref, x * 2); break;
        case OP_CALL_TWICE:
            send_alias2(ref, ref, x * 2);
            send_alias2(ref, ref, x * 3);
            hive_test_send_u64(from, MARKER);
            break;
        case OP_HOLD: held = ref; held_from = from; break; /* answers only on OP_RELEASE */
        case OP_RELEASE:
            send_alias2(held, held, 42); /* the late reply */
            CHECK_OK(hive_test_send_u64(held_from, MARKER));
            break;
        case OP_DIE: return;
        default: CHECK(0);
        }
    }
}

/* ---- the call pattern (docs/call-pattern.md) --------------------------------------------- */
struct reply_or_down { hive_ref ref; };
static int32_t match_reply_or_down(void *env, const hive_msg *m) {
    hive_ref ref = ((const struct reply_or_down *)env)->ref;
    if (hive_msg_kind(m) == HIVE_MSG_DATA) return hive_msg_len(m) == 16 && word(m, 0) == ref;
    return hive_msg_kind(m) == HIVE_MSG_DOWN && hive_msg_monitor_ref(m) == ref;
}
/* Calls `server` with `op`/`x`: HIVE_OK and *result, HIVE_TIMEOUT, or HIVE_ERR_NO_PROCESS
 * (the server died before answering; *reason_kind its exit reason). */
static hive_status call(hive_pid server_pid, uint64_t op, uint64_t x, int64_t timeout_ms,
                        uint64_t *result, int32_t *reason_kind) {
    hive_ref ref;
    CHECK_OK(hive_monitor_alias(server_pid, HIVE_ALIAS_REPLY_DEMONITOR, &ref));
    send3(server_pid, op, ref, x);
    struct reply_or_down env = {ref};
    hive_msg *m = NULL;
    hive_status s = hive_receive_match(match_reply_or_down, &env, timeout_ms, &m);
    if (s == HIVE_TIMEOUT) {
        /* Removes the monitor, a DOWN already queued, and (reply_demonitor) the alias. */
        CHECK_OK(hive_demonitor(ref, HIVE_DEMONITOR_FLUSH, NULL));
        return HIVE_TIMEOUT;
    }
    CHECK_OK(s);
    if (hive_msg_kind(m) == HIVE_MSG_DOWN) {
        if (reason_kind) *reason_kind = hive_msg_reason_kind(m);
        hive_msg_free(m);
        return HIVE_ERR_NO_PROCESS;
    }
    *result = word(m, 1); /* the reply removed the monitor and the alias */
    hive_msg_free(m);
    return HIVE_OK;
}

/* ---- helpers ------------------------------------------------------------------------------ */
static int32_t match_marker(void *env, const hive_msg *m) {
    (void)env;
    return hive_msg_kind(m) == HIVE_MSG_DATA && hive_msg_len(m) == 8 && word(m, 0) == MARKER;
}
static void expect_marker(void) {
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_marker, NULL, T, &m));
    hive_msg_free(m);
}
static void expect_empty(void) {
    hive_msg *m = NULL;
    hive_status s = hive_receive(0, &m);
    if (s == HIVE_OK) {
        fprintf(stderr, "unexpected message: kind %d sender %llu len %zu word0 %#llx\n", hive_msg_kind(m),
                (unsigned long long)hive_msg_sender(m), hive_msg_len(m), (unsigned long long)word(m, 0));
    }
    CHECK_EQ(s, HIVE_TIMEOUT);
}
static int32_t match_down(void *env, const hive_msg *m) {
    return hive_msg_kind(m) == HIVE_MSG_DOWN && hive_msg_monitor_ref(m) == *(const hive_ref *)env;
}
static int32_t expect_down(hive_ref ref) {
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_down, &ref, T, &m));
    int32_t k = hive_msg_reason_kind(m);
    hive_msg_free(m);
    return k;
}
/* A process that sends arg = [alias, owner] a message through the alias, then MARKER. */
static void send_then_mark(void *arg) {
    uint64_t w[2];
    memcpy(w, arg, sizeof w);
    CHECK_OK(hive_send_alias(w[0], "late", 4));
    CHECK_OK(hive_test_send_u64(w[1], MARKER));
}
static void spawn_send_then_mark(hive_ref alias) {
    uint64_t w[2] = {alias, hive_self()};
    CHECK_OK(hive_spawn(send_then_mark, w, sizeof w, NULL, NULL));
}

/* ---- make_ref ----------------------------------------------------------------------------- */
#define REFS 1000
#define MAKERS 4
static void make_refs(void *arg) {
    hive_pid to;
    memcpy(&to, arg, sizeof to);
    hive_ref *v = malloc(REFS * sizeof *v);
    CHECK(v != NULL);
    for (int i = 0; i < REFS; i++) CHECK_OK(hive_make_ref(&v[i]));
    CHECK_OK(hive_send(to, v, REFS * sizeof *v));
    free(v);
}
static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}
static hive_ref g_thread_refs[REFS];
static void make_ref_unique(void) {
    static hive_ref all[(MAKERS + 2) * REFS];
    size_t n = 0;
    hive_pid me = hive_self();
    for (int i = 0; i < MAKERS; i++) CHECK_OK(hive_spawn(make_refs, &me, sizeof me, NULL, NULL));
    for (int i = 0; i < REFS; i++) CHECK_OK(hive_make_ref(&all[n++]));
    for (int i = 0; i < MAKERS; i++) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(T, &m));
        CHECK_EQ(hive_msg_len(m), REFS * sizeof(hive_ref));
        memcpy(&all[n], hive_msg_data(m), REFS * sizeof(hive_ref));
        n += REFS;
        hive_msg_free(m);
    }
    memcpy(&all[n], g_thread_refs, sizeof g_thread_refs); /* made by main before the root ran */
    n += REFS;
    qsort(all, n, sizeof all[0], cmp_u64);
    CHECK_NE(all[0], 0);
    for (size_t i = 1; i < n; i++) CHECK_NE(all[i], all[i - 1]);
    CHECK_EQ(all[n - 1] >> 52, 0); /* node 0: made here */
}

/* ---- aliases ------------------------------------------------------------------------------ */
static void active_alias_and_unalias(void) {
    hive_ref a = 0;
    int32_t was = -1;
    CHECK_OK(hive_alias(HIVE_ALIAS_EXPLICIT_UNALIAS, &a));
    CHECK_NE(a, 0);
    /* Copied, to oneself. */
    CHECK_OK(hive_send_alias(a, "hello", 5));
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(T, &m));
    CHECK_EQ(hive_msg_kind(m), HIVE_MSG_DATA);
    CHECK_EQ(hive_msg_sender(m), hive_self());
    CHECK_EQ(hive_msg_len(m), 5);
    CHECK(memcmp(hive_msg_data(m), "hello", 5) == 0);
    hive_msg_free(m);
    /* Zero-copy: the same buffer arrives. */
    hive_msg *z = NULL;
    CHECK_OK(hive_msg_alloc(4096, &z));
    memset(hive_msg_data(z), 0xab, 4096);
    uint8_t *data = hive_msg_data(z);
    CHECK_OK(hive_send_msg_alias(a, z));
    CHECK_OK(hive_receive(T, &m));
    CHECK(hive_msg_data(m) == data);
    CHECK_EQ(hive_msg_len(m), 4096);
    CHECK_EQ(hive_msg_data(m)[4095], 0xab);
    hive_msg_free(m);
    /* From another process. */
    spawn_send_then_mark(a);
    CHECK_OK(hive_receive(T, &m));
    CHECK_EQ(hive_msg_len(m), 4); /* "late", before the marker */
    hive_msg_free(m);
    expect_marker();
    /* unalias: 1, then 0; later sends, and one still in flight, are dropped. */
    CHECK_OK(hive_send_alias(a, "in flight", 9));
    CHECK_OK(hive_unalias(a, &was));
    CHECK_EQ(was, 1);
    CHECK_OK(hive_unalias(a, &was));
    CHECK_EQ(was, 0);
    CHECK_OK(hive_unalias(a, NULL));
    spawn_send_then_mark(a);
    expect_marker();
    expect_empty();
}

static void reply_alias(void) {
    hive_ref a = 0;
    int32_t was = -1;
    CHECK_OK(hive_alias(HIVE_ALIAS_REPLY, &a));
    CHECK_OK(hive_send_alias(a, "one", 3));
    CHECK_OK(hive_send_alias(a, "two", 3));
    CHECK_OK(hive_test_send_u64(hive_self(), MARKER));
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(T, &m));
    CHECK(memcmp(hive_msg_data(m), "one", 3) == 0);
    hive_msg_free(m);
    expect_marker();
    expect_empty();
    CHECK_OK(hive_unalias(a, &was));
    CHECK_EQ(was, 0);
}

static void reply_demonitor(void) {
    hive_pid s;
    CHECK_OK(hive_spawn(server, NULL, 0, NULL, &s));
    hive_ref ref = 0, m2 = 0;
    CHECK_OK(hive_monitor_alias(s, HIVE_ALIAS_REPLY_DEMONITOR, &ref));
    send3(s, OP_CALL_TWICE, ref, 5);
    hive_msg *m = NULL;
    struct reply_or_down env = {ref};
    CHECK_OK(hive_receive_match(match_reply_or_down, &env, T, &m));
    CHECK_EQ(hive_msg_kind(m), HIVE_MSG_DATA);
    CHECK_EQ(word(m, 1), 10);
    CHECK_EQ(hive_msg_sender(m), s);
    hive_msg_free(m);
    expect_marker();
    expect_empty(); /* the second reply (15) was dropped */
    hive_monitor_info mons[4];
    size_t n = 99;
    CHECK_OK(hive_get_monitors(hive_self(), mons, 4, &n));
    CHECK_EQ(n, 0); /* the reply removed the monitor */
    /* The server dies: no DOWN of `ref`; a later monitor's DOWN comes. */
    CHECK_OK(hive_monitor(s, &m2));
    send3(s, OP_DIE, 0, 0);
    CHECK_EQ(expect_down(m2), HIVE_REASON_NORMAL);
    expect_empty();
}

static void server_dies_before_reply(void) {
    hive_pid s;
    CHECK_OK(hive_spawn(server, NULL, 0, NULL, &s));
    hive_ref ref = 0;
    int32_t was = -1;
    CHECK_OK(hive_monitor_alias(s, HIVE_ALIAS_DEMONITOR, &ref));
    send3(s, OP_DIE, ref, 0);
    CHECK_EQ(expect_down(ref), HIVE_REASON_NORMAL);
    spawn_send_then_mark(ref);
    expect_marker();
    expect_empty();
    CHECK_OK(hive_unalias(ref, &was));
    CHECK_EQ(was, 0);
    /* Through the call pattern: the DOWN answers the call. */
    CHECK_OK(hive_spawn(server, NULL, 0, NULL, &s));
    uint64_t r = 0;
    int32_t kind = -1;
    CHECK_EQ(call(s, OP_DIE, 0, T, &r, &kind), HIVE_ERR_NO_PROCESS);
    CHECK_EQ(kind, HIVE_REASON_NORMAL);
    /* A dead server: the DOWN comes at once (noproc). */
    CHECK_EQ(call(s, OP_CALL, 1, T, &r, &kind), HIVE_ERR_NO_PROCESS);
    CHECK_EQ(kind, HIVE_REASON_NOPROC);
    expect_empty();
}

static void call_with_timeout_drops_the_late_reply(void) {
    hive_pid s;
    CHECK_OK(hive_spawn(server, NULL, 0, NULL, &s));
    uint64_t r = 0;
    CHECK_OK(call(s, OP_CALL, 21, T, &r, NULL));
    CHECK_EQ(r, 42);
    /* The server holds the request: the call times out (50 ms is the timeout under test). */
    CHECK_EQ(call(s, OP_HOLD, 0, 50, &r, NULL), HIVE_TIMEOUT);
    /* Now the late reply is sent, then a marker: the reply is dropped, not queued forever. */
    send3(s, OP_RELEASE, 0, 0);
    expect_marker();
    expect_empty();
    CHECK_OK(call(s, OP_CALL, 2, T, &r, NULL));
    CHECK_EQ(r, 4);
    hive_monitor_info mons[4];
    size_t n = 99;
    CHECK_OK(hive_get_monitors(hive_self(), mons, 4, &n));
    CHECK_EQ(n, 0); /* no monitor left behind by any call */
    send3(s, OP_DIE, 0, 0);
}

static void alias_of_dead_process(void *arg) {
    (void)arg;
    hive_ref a = 0;
    CHECK_OK(hive_alias(HIVE_ALIAS_EXPLICIT_UNALIAS, &a));
    hive_pid parent;
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(T, &m));
    parent = hive_msg_sender(m);
    hive_msg_free(m);
    CHECK_OK(hive_test_send_u64(parent, a));
}
static void dead_alias(void) {
    hive_pid p;
    hive_ref mref;
    CHECK_OK(hive_spawn_monitor(alias_of_dead_process, NULL, 0, NULL, &p, &mref));
    CHECK_OK(hive_test_send_u64(p, 0));
    hive_ref a = hive_test_recv_u64(T);
    CHECK_EQ(expect_down(mref), HIVE_REASON_NORMAL);
    for (int i = 0; i < 100; i++) CHECK_OK(hive_send_alias(a, "x", 1));
    hive_msg *z = NULL;
    CHECK_OK(hive_msg_alloc(8, &z));
    CHECK_OK(hive_send_msg_alias(a, z));
    hive_ref plain;
    CHECK_OK(hive_make_ref(&plain));
    CHECK_OK(hive_send_alias(plain, "x", 1)); /* no alias: dropped */
    CHECK_OK(hive_send_alias(7ull << 52, "x", 1)); /* another node's: dropped */
}

static void unaliaser(void *arg) {
    uint64_t w[2];
    memcpy(w, arg, sizeof w);
    int32_t was = -1;
    CHECK_OK(hive_unalias(w[0], &was));
    CHECK_OK(hive_test_send_u64(w[1], (uint64_t)was));
    CHECK_OK(hive_send_alias(w[0], "still", 5));
}
static void unalias_by_non_owner(void) {
    hive_ref a = 0;
    int32_t was = -1;
    CHECK_OK(hive_alias(HIVE_ALIAS_EXPLICIT_UNALIAS, &a));
    uint64_t w[2] = {a, hive_self()};
    CHECK_OK(hive_spawn(unaliaser, w, sizeof w, NULL, NULL));
    CHECK_EQ(hive_test_recv_u64(T), 0); /* not the owner: 0, no effect */
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(T, &m));
    CHECK(hive_msg_len(m) == 5 && memcmp(hive_msg_data(m), "still", 5) == 0);
    hive_msg_free(m);
    CHECK_OK(hive_unalias(a, &was));
    CHECK_EQ(was, 1);
}

static void bad_input_in_process(void) {
    hive_ref r = 0;
    hive_pid me = hive_self();
    CHECK_EQ(hive_make_ref(NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_alias(HIVE_ALIAS_EXPLICIT_UNALIAS, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_alias(HIVE_ALIAS_DEMONITOR, &r), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_alias(HIVE_ALIAS_REPLY_DEMONITOR, &r), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_alias(4, &r), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_alias(-1, &r), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_unalias(0, NULL), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_monitor_alias(0, HIVE_ALIAS_DEMONITOR, &r), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_monitor_alias(me, HIVE_ALIAS_REPLY, &r), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_monitor_alias(me, 99, &r), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_monitor_alias(me, HIVE_ALIAS_DEMONITOR, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_send_alias(0, "x", 1), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_send_alias(1, NULL, 1), HIVE_ERR_NULL_POINTER);
    CHECK_OK(hive_send_alias(1, NULL, 0));
    CHECK_EQ(hive_send_alias(1, "x", HIVE_MAX_MESSAGE_LEN + 1), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_send_msg_alias(1, NULL), HIVE_ERR_NULL_POINTER);
    hive_msg *z = NULL;
    CHECK_OK(hive_msg_alloc(8, &z));
    CHECK_EQ(hive_send_msg_alias(0, z), HIVE_ERR_BAD_ARGUMENT); /* z freed */
    expect_empty();
}

static void root(void *arg) {
    (void)arg;
    make_ref_unique();
    active_alias_and_unalias();
    reply_alias();
    reply_demonitor();
    server_dies_before_reply();
    call_with_timeout_drops_the_late_reply();
    dead_alias();
    unalias_by_non_owner();
    bad_input_in_process();
}

/* From a thread that is not a process. */
static void outside_checks(hive_status not_running) {
    hive_ref r = 0;
    int32_t was = 0;
    hive_msg *z = NULL;
    CHECK_EQ(hive_make_ref(NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_send_msg_alias(1, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_alias(HIVE_ALIAS_EXPLICIT_UNALIAS, &r), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_unalias(1, &was), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_monitor_alias(1, HIVE_ALIAS_DEMONITOR, &r), HIVE_ERR_NOT_A_PROCESS);
    if (not_running == HIVE_OK) {
        CHECK_OK(hive_make_ref(&r));
        CHECK_NE(r, 0);
        CHECK_OK(hive_send_alias(r, "x", 1));
        CHECK_EQ(hive_send_alias(0, "x", 1), HIVE_ERR_BAD_ARGUMENT);
        CHECK_OK(hive_msg_alloc(1, &z));
        CHECK_OK(hive_send_msg_alias(r, z));
    } else {
        CHECK_EQ(hive_make_ref(&r), not_running);
        CHECK_EQ(hive_send_alias(1, "x", 1), not_running);
        CHECK_OK(hive_msg_alloc(1, &z));
        CHECK_EQ(hive_send_msg_alias(1, z), not_running); /* z freed */
    }
}

int main(void) {
    outside_checks(HIVE_ERR_NOT_INITIALIZED);
    hive_config c;
    CHECK_OK(hive_config_default(&c));
    c.schedulers = 2;
    CHECK_OK(hive_init(&c));
    outside_checks(HIVE_OK);
    for (int i = 0; i < REFS; i++) CHECK_OK(hive_make_ref(&g_thread_refs[i]));
    hive_exit_info info;
    CHECK_OK(hive_run(root, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    uint64_t t0 = hive_test_now_ns(), n = 99;
    for (;;) { /* the servers told to die */
        CHECK_OK(hive_process_count(&n));
        if (n == 0) break;
        CHECK_LT(hive_test_now_ns() - t0, 30ull * 1000000000ull);
        sched_yield();
    }
    CHECK_OK(hive_shutdown(NULL));
    outside_checks(HIVE_ERR_SHUT_DOWN);
    printf("aliases: make_ref, alias, unalias, monitor_alias modes, call pattern with a dropped late "
           "reply, bad inputs ok, %llu checks\n",
           CHECKS_DONE());
    return 0;
}
