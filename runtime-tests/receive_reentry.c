/* Re-entry into the mailbox from a hive_receive_match predicate (issue 14, defect 3).
 * A predicate runs while its receive's scan holds a place in the caller's mailbox: every call
 * that walks or takes from that mailbox, or re-arms the receive's timeout, returns
 * HIVE_ERR_REENTRANT and changes nothing; everything else works. Afterwards the messages are
 * received complete and in order. A predicate that calls hive_exit ends its process cleanly
 * (its terminate callback may receive again); signals that arrive while a predicate runs are
 * handled once it has returned. */
#include "check.h"

#define T 10000 /* failure bound for waits that end at once (ms) */

static int32_t match_any(void *env, const hive_msg *m) { (void)env; (void)m; return 1; }
static uint64_t word0(const hive_msg *m) { /* no CHECK: used inside predicates */
    uint64_t v = 0;
    if (hive_msg_len(m) >= sizeof v) memcpy(&v, hive_msg_data((hive_msg *)m), sizeof v);
    return v;
}
static int32_t match_word(void *env, const hive_msg *m) {
    return hive_msg_kind(m) == HIVE_MSG_DATA && word0(m) == *(uint64_t *)env;
}
static void send_self(uint64_t from, uint64_t to) {
    for (uint64_t v = from; v <= to; v++) CHECK_OK(hive_test_send_u64(hive_self(), v));
}
/* Takes every queued message without waiting; checks their words are want[0..n). */
static void expect_queue(const uint64_t *want, size_t n) {
    for (size_t i = 0; i < n; i++) CHECK_EQ(hive_test_recv_u64(0), want[i]);
    hive_msg *m = NULL;
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
    size_t len = 99;
    CHECK_OK(hive_mailbox_len(&len));
    CHECK_EQ(len, 0);
}
static void sleeper(void *arg) {
    (void)arg;
    hive_msg *m = NULL;
    hive_receive(-1, &m);
    hive_msg_free(m);
}

/* ---- what a predicate may and may not call ------------------------------------------ */
enum { N_REFUSED = 15 };
struct probe {
    hive_pid self;
    uint64_t mark, kept, dropped;
    hive_status refused[N_REFUSED];
    hive_msg *outs[6];    /* out-pointers of the refused receives: never written */
    uint64_t new_mark;    /* not written by the refused hive_recv_mark */
    size_t len;           /* not written by the refused hive_mailbox_len */
    int32_t info_refused; /* not written by the refused demonitor */
    int32_t info_dropped, alive;
    hive_status allowed[8];
    uint64_t info_len;
    int calls, examined_twice;
    uint64_t seen[8];
};
static int32_t probing_pred(void *env, const hive_msg *msg) {
    struct probe *p = env;
    uint64_t v = word0(msg);
    for (int i = 0; i < p->calls; i++) p->examined_twice |= p->seen[i] == v;
    if (p->calls < 8) p->seen[p->calls] = v;
    p->calls++;
    if (v != 1) return v == 3;
    int k = 0;
    /* Refused: each would walk or take from this mailbox, or re-arm the receive's timeout. */
    p->refused[k++] = hive_receive(0, &p->outs[0]);
    p->refused[k++] = hive_receive(-1, &p->outs[1]);
    p->refused[k++] = hive_receive(5, &p->outs[2]);
    p->refused[k++] = hive_receive_match(match_any, NULL, 0, &p->outs[3]);
    p->refused[k++] = hive_receive_match(match_any, NULL, -1, &p->outs[4]);
    p->refused[k++] = hive_receive_match_from(p->mark, match_any, NULL, 0, &p->outs[5]);
    p->refused[k++] = hive_recv_mark(&p->new_mark);
    p->refused[k++] = hive_mailbox_len(&p->len);
    p->refused[k++] = hive_demonitor(p->kept, HIVE_DEMONITOR_FLUSH, &p->info_refused);
    p->refused[k++] = hive_demonitor(p->kept, HIVE_DEMONITOR_FLUSH | HIVE_DEMONITOR_INFO, &p->info_refused);
    p->refused[k++] = hive_sleep(1);
    p->refused[k++] = hive_exit_pid(p->self, HIVE_REASON_NORMAL, NULL, 0);
    p->refused[k++] = hive_exit_pid(p->self, HIVE_REASON_KILL, NULL, 0);
    p->refused[k++] = hive_exit_pid(p->self, HIVE_REASON_ERROR, "x", 1);
    p->refused[k++] = hive_exit_pid(p->self, HIVE_REASON_SHUTDOWN, NULL, 0);
    /* Allowed: none of these touches the mailbox being scanned. */
    int a = 0;
    p->allowed[a++] = hive_test_send_u64(p->self, 7);
    p->allowed[a++] = hive_sleep(0);
    p->allowed[a++] = hive_yield();
    p->allowed[a++] = hive_reduction_check();
    p->allowed[a++] = hive_consume_reductions(HIVE_REDUCTIONS_PER_SLICE + 1);
    p->allowed[a++] = hive_demonitor(p->dropped, HIVE_DEMONITOR_INFO, &p->info_dropped);
    struct hive_process_info info;
    p->allowed[a++] = hive_get_process_info(p->self, &info);
    p->info_len = info.mailbox_len;
    p->allowed[a++] = hive_self() == p->self ? HIVE_OK : HIVE_ERR_INTERNAL;
    p->alive = hive_is_alive(p->self);
    return 0;
}
static void predicate_rules(void) {
    hive_pid self = hive_self(), s = 0;
    CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, &s));
    struct probe p;
    memset(&p, 0, sizeof p);
    p.self = self;
    p.new_mark = 0x5EED;
    p.len = 0x5EED;
    p.info_refused = 42;
    p.info_dropped = 42;
    CHECK_OK(hive_monitor(s, &p.kept));
    CHECK_OK(hive_monitor(s, &p.dropped));
    send_self(1, 2);
    CHECK_OK(hive_recv_mark(&p.mark));
    send_self(3, 6);
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(probing_pred, &p, T, &m));
    CHECK_EQ(hive_test_word(m, 0), 3);
    hive_msg_free(m);
    CHECK_EQ(p.calls, 3);
    CHECK_EQ(p.examined_twice, 0);
    for (int i = 0; i < N_REFUSED; i++) {
        if (p.refused[i] != HIVE_ERR_REENTRANT) fprintf(stderr, "refused[%d] = %d\n", i, p.refused[i]);
        CHECK_EQ(p.refused[i], HIVE_ERR_REENTRANT);
    }
    for (int i = 0; i < 6; i++) CHECK(p.outs[i] == NULL);
    CHECK_EQ(p.new_mark, 0x5EED);
    CHECK_EQ(p.len, 0x5EED);
    CHECK_EQ(p.info_refused, 42);
    for (int i = 0; i < 8; i++) {
        if (p.allowed[i] != HIVE_OK) fprintf(stderr, "allowed[%d] = %d\n", i, p.allowed[i]);
        CHECK_OK(p.allowed[i]);
    }
    CHECK_EQ(p.info_dropped, 1);
    CHECK_EQ(p.info_len, 7); /* 1..6 and the 7 the predicate sent */
    CHECK_EQ(p.alive, 1);
    /* The refused calls changed nothing: the mark is the old one (a scan from it sees 4,
     * not 1), the monitor is active, the process alive, every message queued in order. */
    CHECK_OK(hive_receive_match_from(p.mark, match_any, NULL, 0, &m));
    CHECK_EQ(hive_test_word(m, 0), 4);
    hive_msg_free(m);
    int32_t info = 0;
    CHECK_OK(hive_demonitor(p.kept, HIVE_DEMONITOR_FLUSH | HIVE_DEMONITOR_INFO, &info));
    CHECK_EQ(info, 1);
    const uint64_t rest[] = {1, 2, 5, 6, 7};
    expect_queue(rest, 5);
    CHECK_OK(hive_exit_pid(s, HIVE_REASON_KILL, NULL, 0));
}

/* ---- a predicate inside a predicate --------------------------------------------------- */
static int inner_calls;
static int32_t counting_pred(void *env, const hive_msg *m) { (void)env; (void)m; inner_calls++; return 1; }
static int32_t nesting_pred(void *env, const hive_msg *m) {
    hive_msg *out = NULL;
    hive_status *st = env;
    *st = hive_receive_match(counting_pred, NULL, 0, &out);
    return word0(m) == 2;
}
static void nested_predicates(void) {
    send_self(1, 3);
    hive_status st = 99;
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(nesting_pred, &st, T, &m));
    CHECK_EQ(hive_test_word(m, 0), 2);
    hive_msg_free(m);
    CHECK_EQ(st, HIVE_ERR_REENTRANT);
    CHECK_EQ(inner_calls, 0);
    const uint64_t rest[] = {1, 3};
    expect_queue(rest, 2);
}

/* ---- hive_exit from a predicate ----------------------------------------------------- */
static hive_status g_exit_inner = 99;
/* The terminate callback runs on top of the abandoned scan: it may receive again. It
 * reports [status of the refused receive, number of messages, their words...]. */
static void drain_on_terminate(void *arg, int32_t kind, const uint8_t *data, size_t len) {
    (void)kind; (void)data; (void)len;
    hive_pid root;
    memcpy(&root, arg, sizeof root);
    uint64_t report[8] = {(uint64_t)(int64_t)g_exit_inner, 0};
    hive_msg *m = NULL;
    while (report[1] < 6 && hive_receive(0, &m) == HIVE_OK) {
        report[2 + report[1]++] = word0(m);
        hive_msg_free(m);
    }
    hive_send(root, report, sizeof report);
}
static int32_t exiting_pred(void *env, const hive_msg *m) {
    (void)env;
    if (word0(m) == 2) {
        hive_msg *out = NULL;
        g_exit_inner = hive_receive(0, &out);
        hive_exit(HIVE_REASON_ERROR, "pred", 4);
    }
    return 0;
}
static void exiting_child(void *arg) {
    CHECK_OK(hive_set_terminate(drain_on_terminate, arg));
    send_self(1, 3);
    hive_msg *m = NULL;
    hive_receive_match(exiting_pred, NULL, -1, &m);
    CHECK(!"the predicate's hive_exit returned");
}
static int32_t match_down(void *env, const hive_msg *m) {
    return hive_msg_kind(m) == HIVE_MSG_DOWN && hive_msg_monitor_ref(m) == *(uint64_t *)env;
}
static int32_t match_data_from(void *env, const hive_msg *m) {
    return hive_msg_kind(m) == HIVE_MSG_DATA && hive_msg_sender(m) == *(hive_pid *)env;
}
static void exit_from_a_predicate(void) {
    hive_pid self = hive_self(), c = 0;
    uint64_t mref = 0;
    CHECK_OK(hive_spawn_monitor(exiting_child, &self, sizeof self, NULL, &c, &mref));
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_data_from, &c, T, &m));
    CHECK_EQ((int64_t)hive_test_word(m, 0), HIVE_ERR_REENTRANT);
    CHECK_EQ(hive_test_word(m, 1), 3); /* the whole mailbox, in order */
    CHECK_EQ(hive_test_word(m, 2), 1);
    CHECK_EQ(hive_test_word(m, 3), 2);
    CHECK_EQ(hive_test_word(m, 4), 3);
    hive_msg_free(m);
    CHECK_OK(hive_receive_match(match_down, &mref, T, &m));
    CHECK_EQ(hive_msg_sender(m), c);
    CHECK_EQ(hive_msg_reason_kind(m), HIVE_REASON_ERROR);
    CHECK_EQ(hive_msg_len(m), 4);
    CHECK(memcmp(hive_msg_data(m), "pred", 4) == 0);
    hive_msg_free(m);
    CHECK_EQ(hive_is_alive(c), 0);
}

/* ---- a signal that arrives while a predicate runs ------------------------------------ */
static int g_pred_returned;
/* Tells the root it is inside the predicate, then yields until the root's exit signal has
 * arrived (signal_pending), and returns: the signal is handled after that. */
static int32_t waiting_pred(void *env, const hive_msg *m) {
    (void)m;
    hive_ctx *ctx = hive_current_ctx();
    hive_test_send_u64(*(hive_pid *)env, 0x1A);
    while (__atomic_load_n(&ctx->signal_pending, __ATOMIC_ACQUIRE) == 0) hive_yield();
    __atomic_store_n(&g_pred_returned, 1, __ATOMIC_RELEASE);
    return 0;
}
static void signalled_child(void *arg) {
    hive_pid root;
    memcpy(&root, arg, sizeof root);
    CHECK_OK(hive_test_send_u64(hive_self(), 1));
    hive_msg *m = NULL;
    hive_receive_match(waiting_pred, &root, -1, &m);
    CHECK(!"the receive returned");
}
static void signal_during_a_predicate(void) {
    hive_pid self = hive_self(), c = 0;
    uint64_t mref = 0, tag = 0x1A;
    CHECK_OK(hive_spawn_monitor(signalled_child, &self, sizeof self, NULL, &c, &mref));
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_word, &tag, T, &m));
    hive_msg_free(m);
    CHECK_OK(hive_exit_pid(c, HIVE_REASON_KILL, NULL, 0));
    CHECK_OK(hive_receive_match(match_down, &mref, T, &m));
    CHECK_EQ(hive_msg_reason_kind(m), HIVE_REASON_KILLED);
    hive_msg_free(m);
    CHECK_EQ(__atomic_load_n(&g_pred_returned, __ATOMIC_ACQUIRE), 1);
}

static int g_done;
static void root(void *arg) {
    (void)arg;
    predicate_rules();
    nested_predicates();
    exit_from_a_predicate();
    signal_during_a_predicate();
    g_done = 1;
}

int main(void) {
    hive_config c;
    CHECK_OK(hive_config_default(&c));
    c.schedulers = 2;
    CHECK_OK(hive_init(&c));
    hive_exit_info info;
    CHECK_OK(hive_run(root, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_EQ(g_done, 1); /* the root returned, it was not ended by a signal to itself */
    CHECK_OK(hive_shutdown(NULL));
    printf("receive_reentry: %llu checks passed\n", CHECKS_DONE());
    return 0;
}
