/* The exit path through the C ABI (issue 14): hive_exit_pid(P, HIVE_REASON_KILL) runs none of
 * P's code, not even its terminate callback, so a callback that would block (in
 * hive_receive, hive_sleep or a loop) cannot keep P alive: the DOWN says `killed` at once
 * (BEAM case 51). A process whose terminate callback of another exit blocks is alive until
 * the callback returns, and hive_is_alive, hive_get_process_info, hive_link, hive_monitor
 * (from processes) and hive_wait (from a thread) answer at once; a kill then ends it at
 * once with `killed`.
 *
 * Receive timeouts (T) and the watchdog are failure bounds only: every wait ends on a
 * message or a DOWN. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

#define T 10000 /* failure bound of every receive that must succeed, ms */
#define WATCHDOG_S 60 /* failure bound of the whole program */

enum { T_READY = 0x300, T_TERM, T_QUERIES, T_AFTER, T_WAITED };
enum { B_RECEIVE, B_SLEEP, B_LOOP, B_COUNT };

static void send_words(hive_pid to, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
    uint64_t w[4] = {a, b, c, d};
    CHECK_OK(hive_send(to, w, sizeof w));
}
static uint64_t word(const hive_msg *m, size_t i) {
    uint64_t v = 0;
    if (hive_msg_len(m) >= (i + 1) * 8) memcpy(&v, hive_msg_data(m) + i * 8, 8);
    return v;
}
static int32_t match_tag(void *env, const hive_msg *m) {
    return hive_msg_kind(m) == HIVE_MSG_DATA && word(m, 0) == *(const uint64_t *)env;
}
static int32_t match_down(void *env, const hive_msg *m) {
    return hive_msg_kind(m) == HIVE_MSG_DOWN && hive_msg_monitor_ref(m) == *(const uint64_t *)env;
}
static int32_t match_exit(void *env, const hive_msg *m) {
    return hive_msg_kind(m) == HIVE_MSG_EXIT && hive_msg_sender(m) == *(const hive_pid *)env;
}
static hive_msg *recv_tag(uint64_t tag) {
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_tag, &tag, T, &m));
    return m;
}
/* The reason kind of monitor `mref`'s DOWN (within the failure bound). */
static int32_t down_kind(uint64_t mref) {
    hive_msg *m = NULL;
    CHECK_OK(hive_receive_match(match_down, &mref, T, &m));
    int32_t k = hive_msg_reason_kind(m);
    hive_msg_free(m);
    return k;
}

/* ---- the victim ------------------------------------------------------------------- */
struct victim_arg { hive_pid root; int how; };
static struct victim_arg g_cb_arg[B_COUNT];

/* Tells the root it runs, with its reason kind, then blocks as `how` says. */
static void blocking_cb(void *arg, int32_t kind, const uint8_t *data, size_t len) {
    (void)data;
    (void)len;
    const struct victim_arg *a = arg;
    send_words(a->root, T_TERM, (uint64_t)(int64_t)kind, 0, 0);
    hive_msg *m = NULL;
    switch (a->how) {
    case B_RECEIVE:
        for (;;)
            if (hive_receive(-1, &m) == HIVE_OK) hive_msg_free(m);
    case B_SLEEP:
        for (;;) hive_sleep(3600000);
    default:
        for (;;) hive_consume_reductions(1);
    }
}
static void victim(void *arg) {
    struct victim_arg a;
    memcpy(&a, arg, sizeof a);
    g_cb_arg[a.how] = a;
    CHECK_OK(hive_set_terminate(blocking_cb, &g_cb_arg[a.how]));
    send_words(a.root, T_READY, 0, 0, 0);
    hive_msg *m = NULL;
    for (;;)
        if (hive_receive(-1, &m) == HIVE_OK) hive_msg_free(m);
}
static hive_pid spawn_victim(int how, uint64_t *mref) {
    struct victim_arg a = {hive_self(), how};
    hive_pid p = 0;
    CHECK_OK(hive_spawn_monitor(victim, &a, sizeof a, NULL, &p, mref));
    hive_msg_free(recv_tag(T_READY));
    return p;
}

/* ---- queries from another process ------------------------------------------------- */
struct query_arg { hive_pid root, target; };
static void querier(void *arg) {
    struct query_arg a;
    memcpy(&a, arg, sizeof a);
    CHECK_OK(hive_trap_exit(1, NULL));
    int32_t alive = hive_is_alive(a.target);
    hive_process_info info;
    hive_status st_info = hive_get_process_info(a.target, &info);
    hive_status st_link = hive_link(a.target);
    uint64_t mref = 0;
    hive_status st_mon = hive_monitor(a.target, &mref);
    send_words(a.root, T_QUERIES, (uint64_t)alive, (uint64_t)(int64_t)st_info,
               (uint64_t)(int64_t)((st_link == HIVE_OK && st_mon == HIVE_OK) ? 0 : -1));
    /* What the new link and monitor deliver once the target ends. */
    hive_msg *d = NULL, *e = NULL;
    CHECK_OK(hive_receive_match(match_down, &mref, -1, &d));
    CHECK_OK(hive_receive_match(match_exit, &a.target, -1, &e));
    send_words(a.root, T_AFTER, (uint64_t)(int64_t)hive_msg_reason_kind(d),
               (uint64_t)(int64_t)hive_msg_reason_kind(e), 0);
    hive_msg_free(d);
    hive_msg_free(e);
}

/* ---- hive_wait from a plain thread ------------------------------------------------ */
struct wait_arg { hive_pid root, target; };
static void *waiter_thread(void *arg) {
    struct wait_arg *a = arg;
    hive_exit_info info;
    hive_status s = hive_wait(a->target, 20, &info);
    CHECK_OK(hive_send(a->root, (uint64_t[4]){T_WAITED, (uint64_t)(int64_t)s, 0, 0}, 32));
    return NULL;
}

static void root(void *arg) {
    (void)arg;
    for (int how = 0; how < B_COUNT; how++) {
        /* 1. kill runs no callback: the DOWN says killed, and nothing else comes. */
        uint64_t m = 0;
        hive_pid p = spawn_victim(how, &m);
        CHECK_OK(hive_exit_pid(p, HIVE_REASON_KILL, NULL, 0));
        CHECK_EQ(down_kind(m), HIVE_REASON_KILLED);
        CHECK_EQ(hive_is_alive(p), 0);
        hive_process_info info;
        CHECK_EQ(hive_get_process_info(p, &info), HIVE_ERR_NO_PROCESS);
        hive_msg *x = NULL;
        CHECK_EQ(hive_receive(0, &x), HIVE_TIMEOUT); /* no T_TERM: the callback never ran */

        /* 2. A callback of another exit that blocks: the process is alive meanwhile and
         * answers every query at once; kill then ends it with killed. */
        p = spawn_victim(how, &m);
        CHECK_OK(hive_exit_pid(p, HIVE_REASON_ERROR, "stop", 4));
        hive_msg *t = recv_tag(T_TERM);
        CHECK_EQ((int64_t)word(t, 1), HIVE_REASON_ERROR);
        hive_msg_free(t);
        struct query_arg qa = {hive_self(), p};
        hive_pid q = 0;
        CHECK_OK(hive_spawn(querier, &qa, sizeof qa, NULL, &q));
        hive_msg *r = recv_tag(T_QUERIES); /* without the fix: never came (is_alive spun) */
        CHECK_EQ(word(r, 1), 1);          /* is_alive */
        CHECK_EQ((int64_t)word(r, 2), HIVE_OK); /* process_info */
        CHECK_EQ((int64_t)word(r, 3), 0);       /* link and monitor */
        hive_msg_free(r);
        CHECK_EQ(hive_is_alive(p), 1); /* from the sender of the exit signal too */
        CHECK_OK(hive_get_process_info(p, &info));
        struct wait_arg wa = {hive_self(), p};
        pthread_t th;
        CHECK_EQ(pthread_create(&th, NULL, waiter_thread, &wa), 0);
        hive_msg *w = recv_tag(T_WAITED);
        CHECK_EQ((int64_t)word(w, 1), HIVE_TIMEOUT);
        hive_msg_free(w);
        CHECK_EQ(pthread_join(th, NULL), 0); /* it has already sent its message */
        CHECK_OK(hive_exit_pid(p, HIVE_REASON_KILL, NULL, 0));
        CHECK_EQ(down_kind(m), HIVE_REASON_KILLED);
        CHECK_EQ(hive_is_alive(p), 0);
        hive_msg *a = recv_tag(T_AFTER);
        CHECK_EQ((int64_t)word(a, 1), HIVE_REASON_KILLED); /* the querier's DOWN */
        CHECK_EQ((int64_t)word(a, 2), HIVE_REASON_KILLED); /* its EXIT */
        hive_msg_free(a);
        CHECK_EQ(hive_receive(0, &x), HIVE_TIMEOUT);
    }
}

static void watchdog(int sig) {
    (void)sig;
    static const char msg[] = "exit_path: did not finish within the watchdog's time (a call never "
                              "returned)\n";
    (void)!write(2, msg, sizeof msg - 1);
    abort();
}

int main(void) {
    signal(SIGALRM, watchdog);
    alarm(WATCHDOG_S);
    hive_config cfg;
    CHECK_OK(hive_config_default(&cfg));
    cfg.schedulers = 2;
    CHECK_OK(hive_init(&cfg));
    hive_exit_info info;
    CHECK_OK(hive_run(root, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_OK(hive_shutdown(NULL));
    printf("exit_path: %llu checks passed\n", (unsigned long long)CHECKS_DONE());
    return 0;
}
