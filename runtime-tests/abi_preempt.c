/* Preemption on a single-scheduler runtime: processes that loop forever calling only
 * hive_reduction_check (or the inline `if (--ctx->reductions <= 0) hive_yield();`, or
 * hive_consume_reductions) must not prevent other processes from running, sending messages
 * and timing out. Also hive_yield puts the caller at the back of the run queue: two
 * yielding processes alternate strictly. The spinners never end: hive_shutdown stops them. */
#define _GNU_SOURCE
#include <string.h>
#include "check.h"

static hive_pid g_root;
#define SCAN_N 100000

/* ---- hive_yield alternation ----------------------------------------------------- */
#define YIELD_ROUNDS 200
static char g_log[2 * YIELD_ROUNDS + 1];
static int g_log_len;
static void yielder(void *arg) {
    char id = *(const char *)arg;
    for (int i = 0; i < YIELD_ROUNDS; i++) {
        g_log[g_log_len++] = id; /* one scheduler: no data race */
        CHECK_OK(hive_yield());
    }
    CHECK_OK(hive_test_send_u64(g_root, (uint64_t)id));
}

/* ---- spinners ----------------------------------------------------------------- */
static uint64_t g_spins[3]; /* progress counters, read by other processes */
static void spin_check(void *arg) {
    (void)arg;
    for (;;) {
        __atomic_fetch_add(&g_spins[0], 1, __ATOMIC_RELAXED);
        hive_reduction_check();
    }
}
static void spin_inline(void *arg) {
    (void)arg;
    hive_ctx *ctx = hive_current_ctx();
    CHECK(ctx != NULL);
    for (;;) {
        __atomic_fetch_add(&g_spins[1], 1, __ATOMIC_RELAXED);
        if (--ctx->reductions <= 0) hive_yield();
    }
}
static void spin_consume(void *arg) {
    (void)arg;
    for (;;) {
        __atomic_fetch_add(&g_spins[2], 1, __ATOMIC_RELAXED);
        hive_consume_reductions(1000);
    }
}
/* Sends 10 non-matching messages, each after a 2 ms pause, then the matching one. */
static void late_match_sender(void *arg) {
    hive_pid to;
    memcpy(&to, arg, sizeof to);
    hive_msg *m = NULL;
    for (uint64_t i = 0; i < 10; i++) {
        CHECK_EQ(hive_receive(2, &m), HIVE_TIMEOUT);
        CHECK_OK(hive_test_send_u64(to, SCAN_N + 1 + i));
    }
    CHECK_OK(hive_test_send_u64(to, SCAN_N));
}

/* Spawned after a spinner: reports the spinner's progress counter to root. */
static void hello(void *arg) {
    int which;
    memcpy(&which, arg, sizeof which);
    CHECK_OK(hive_test_send_2u64(g_root, 0x4E110, __atomic_load_n(&g_spins[which], __ATOMIC_RELAXED)));
}

/* ---- hive_consume_reductions: yields exactly when the slice is used up ----------- */
static int g_flag;
static void set_flag(void *arg) { (void)arg; g_flag = 1; }
/* With one scheduler: `flag_setter` is queued behind the caller; it has run iff the caller
 * yielded during `op`. */
static int yielded_during(hive_status (*op)(uint32_t), uint32_t n) {
    CHECK_OK(hive_yield()); /* a fresh slice; earlier set_flag processes have run */
    __atomic_store_n(&g_flag, 0, __ATOMIC_SEQ_CST);
    CHECK_OK(hive_spawn(set_flag, NULL, 0, NULL, NULL));
    CHECK_OK(op(n));
    return __atomic_load_n(&g_flag, __ATOMIC_SEQ_CST);
}
static hive_status op_check(uint32_t n) { (void)n; return hive_reduction_check(); }
static hive_status op_check_after_inline(uint32_t n) {
    hive_current_ctx()->reductions = (int32_t)n; /* generated code may leave it at/below 0 */
    return hive_reduction_check();
}
static int32_t match_word(void *env, const hive_msg *m) { return hive_test_word(m, 0) == *(uint64_t *)env; }
static void root_consume(void *arg) {
    (void)arg;
    CHECK_EQ(yielded_during(hive_consume_reductions, 1), 0);
    CHECK_EQ(yielded_during(hive_consume_reductions, HIVE_REDUCTIONS_PER_SLICE - 1), 0);
    CHECK_EQ(yielded_during(hive_consume_reductions, HIVE_REDUCTIONS_PER_SLICE), 1);
    CHECK_EQ(yielded_during(hive_consume_reductions, HIVE_REDUCTIONS_PER_SLICE + 1), 1);
    CHECK_EQ(yielded_during(hive_consume_reductions, 0x7FFFFFFFu), 1);
    CHECK_EQ(yielded_during(hive_consume_reductions, 0x80000000u), 1);
    CHECK_EQ(yielded_during(hive_consume_reductions, 0xFFFFFFFFu), 1);
    CHECK_EQ(yielded_during(op_check, 0), 0);
    CHECK_EQ(yielded_during(op_check_after_inline, 1), 1);
    CHECK_EQ(yielded_during(op_check_after_inline, 0), 1);
    CHECK_EQ(yielded_during(op_check_after_inline, (uint32_t)-100), 1);
    CHECK_EQ(yielded_during(op_check_after_inline, 2), 0);
    /* hive_receive_match: "each examination costs one reduction". */
    hive_pid self = hive_self();
    for (uint64_t i = 0; i < 11; i++) CHECK_OK(hive_test_send_u64(self, i));
    uint64_t ten = 10;
    CHECK_OK(hive_yield());
    int32_t before = hive_current_ctx()->reductions;
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_word, &ten, 0, &m));
    CHECK_LE(hive_current_ctx()->reductions, before - 11);
    hive_msg_free(m);
    for (uint64_t i = 0; i < 10; i++) CHECK_EQ(hive_test_recv_u64(0), i);
    /* After any of them, the next resume starts a full slice. */
    CHECK_OK(hive_consume_reductions(0xFFFFFFFFu));
    CHECK_EQ(hive_current_ctx()->reductions, HIVE_REDUCTIONS_PER_SLICE);
}

/* ---- a long selective-receive scan is preempted, and examines each message once ---- */
struct scan { uint64_t calls; uint64_t spins_first, spins_last; };
static int32_t scan_pred(void *env, const hive_msg *m) {
    struct scan *sc = env;
    uint64_t spins = __atomic_load_n(&g_spins[0], __ATOMIC_RELAXED);
    if (sc->calls++ == 0) sc->spins_first = spins;
    sc->spins_last = spins;
    return hive_test_word(m, 0) == SCAN_N;
}
static void root_scan(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    for (uint64_t i = 0; i < SCAN_N; i++) CHECK_OK(hive_test_send_u64(self, i));
    CHECK_OK(hive_test_send_u64(self, SCAN_N));
    struct scan sc = {0, 0, 0};
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(scan_pred, &sc, 10000, &m));
    CHECK_EQ(hive_test_word(m, 0), SCAN_N);
    hive_msg_free(m);
    CHECK_EQ(sc.calls, SCAN_N + 1);          /* each message examined exactly once */
    CHECK_GT(sc.spins_last, sc.spins_first); /* the spinner ran during the scan */
    size_t len = 0;
    CHECK_OK(hive_mailbox_len(&len));
    CHECK_EQ(len, SCAN_N);
    /* A second scan that waits: the save pointer keeps its place across wake-ups. */
    sc = (struct scan){0, 0, 0};
    hive_pid h;
    CHECK_OK(hive_spawn(late_match_sender, &self, sizeof self, NULL, &h));
    CHECK_OK(hive_receive_match(scan_pred, &sc, 10000, &m));
    CHECK_EQ(hive_msg_sender(m), h);
    hive_msg_free(m);
    CHECK_EQ(sc.calls, SCAN_N + 10 + 1);
    for (uint64_t i = 0; i < SCAN_N; i++) CHECK_EQ(hive_test_recv_u64(0), i);
    for (uint64_t i = 0; i < 10; i++) CHECK_EQ(hive_test_recv_u64(0), SCAN_N + 1 + i);
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
}

static uint64_t g_seen[3];
static void root(void *arg) {
    (void)arg;
    g_root = hive_self();
    hive_msg *m = NULL;

    /* hive_yield: A and B alternate strictly. */
    char a = 'A', b = 'B';
    CHECK_OK(hive_spawn(yielder, &a, 1, NULL, NULL));
    CHECK_OK(hive_spawn(yielder, &b, 1, NULL, NULL));
    uint64_t done1 = hive_test_recv_u64(10000), done2 = hive_test_recv_u64(10000);
    CHECK_EQ(done1 + done2, 'A' + 'B');
    CHECK_EQ(g_log_len, 2 * YIELD_ROUNDS);
    for (int i = 0; i < 2 * YIELD_ROUNDS; i++) CHECK_EQ(g_log[i], (i % 2) ? 'B' : 'A');

    /* Each spinner form in turn: spawn it, then a process that reports to root. */
    void (*spinners[3])(void *) = {spin_check, spin_inline, spin_consume};
    for (int k = 0; k < 3; k++) {
        CHECK_OK(hive_spawn(spinners[k], NULL, 0, NULL, NULL));
        CHECK_OK(hive_spawn(hello, &k, sizeof k, NULL, NULL));
        CHECK_OK(hive_receive(10000, &m));
        CHECK_EQ(hive_test_word(m, 0), 0x4E110);
        g_seen[k] = hive_test_word(m, 1);
        CHECK_GT(g_seen[k], 0); /* the spinner ran first (FIFO), and was preempted */
        hive_msg_free(m);
    }

    /* With all three spinning, root's own timeouts still fire and every spinner advances. */
    uint64_t before[3];
    for (int k = 0; k < 3; k++) before[k] = __atomic_load_n(&g_spins[k], __ATOMIC_RELAXED);
    uint64_t t0 = hive_test_now_ns();
    CHECK_EQ(hive_receive(50, &m), HIVE_TIMEOUT);
    uint64_t e = hive_test_now_ns() - t0;
    CHECK_GE(e, 50ull * 1000000);
    CHECK_LT(e, 2000ull * 1000000);
    for (int k = 0; k < 3; k++) CHECK_GT(__atomic_load_n(&g_spins[k], __ATOMIC_RELAXED), before[k]);

    /* Ping-pong with another process while the spinners run. */
    int k = 0;
    for (int i = 0; i < 20; i++) {
        CHECK_OK(hive_spawn(hello, &k, sizeof k, NULL, NULL));
        CHECK_OK(hive_receive(10000, &m));
        CHECK_EQ(hive_test_word(m, 0), 0x4E110);
        hive_msg_free(m);
    }
}

int main(void) {
    hive_config c;
    CHECK_OK(hive_config_default(&c));
    c.schedulers = 1;
    CHECK_OK(hive_init(&c));
    hive_exit_info info;
    CHECK_OK(hive_run(root_consume, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_OK(hive_run(root, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_OK(hive_run(root_scan, NULL, 0, NULL, &info)); /* with the spinners running */
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    uint64_t stopped = 0;
    CHECK_OK(hive_shutdown(&stopped));
    CHECK_GE(stopped, 3);  /* the three spinners */
    CHECK_LE(stopped, 3 + 40); /* + short-lived helpers still finishing, at most */
    printf("abi_preempt: %llu checks ok (spinners seen at %llu/%llu/%llu iterations; stopped %llu)\n",
           CHECKS_DONE(), (unsigned long long)g_seen[0], (unsigned long long)g_seen[1],
           (unsigned long long)g_seen[2], (unsigned long long)stopped);
    return 0;
}
