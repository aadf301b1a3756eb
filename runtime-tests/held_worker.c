/* A worker held by a process blocked in a system call (read on a pipe) is taken over by
 * another thread: with ONE scheduler, processes queued behind the holder still run and
 * their timers (hive_sleep, a receive timeout, hive_send_after) still fire while the holder
 * is blocked; afterwards the holder's next hive_* calls work (docs/design.md, "Held
 * workers"). The holder is released only after the others reported through a pipe, so
 * without a takeover this test cannot finish (the poll timeout is only a failure bound). */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include "check.h"

#define SLEEPERS 3

static int done_pipe[2];    /* sleepers -> watcher thread */
static int release_pipe[2]; /* watcher thread -> holder */

static void sleeper(void *arg) {
    (void)arg;
    CHECK_OK(hive_sleep(20));
    hive_msg *m = NULL;
    CHECK_EQ(hive_receive(20, &m), HIVE_TIMEOUT);
    hive_tref t;
    CHECK_OK(hive_send_after(hive_self(), 10, "tick", 4, &t));
    CHECK_OK(hive_receive(60000, &m));
    CHECK_EQ(hive_msg_len(m), 4);
    hive_msg_free(m);
    char b = 's';
    CHECK_EQ(write(done_pipe[1], &b, 1), 1);
}

static void holder(void *arg) {
    hive_pid root = *(const hive_pid *)arg;
    char b;
    /* Blocks this OS thread, outside the runtime, until the watcher releases it. */
    CHECK_EQ(read(release_pipe[0], &b, 1), 1);
    CHECK_OK(hive_sleep(1));
    CHECK_OK(hive_test_send_u64(root, 42));
}

static void root(void *arg) {
    (void)arg;
    hive_pid me = hive_self(), p;
    for (int i = 0; i < SLEEPERS; i++) CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, &p));
    CHECK_OK(hive_spawn(holder, &me, sizeof me, NULL, &p));
    CHECK_EQ(hive_test_recv_u64(60000), 42);
}

static void *watcher(void *arg) {
    (void)arg;
    for (int i = 0; i < SLEEPERS; i++) {
        struct pollfd pfd = {.fd = done_pipe[0], .events = POLLIN};
        CHECK_EQ(poll(&pfd, 1, 30000), 1); /* failure bound: the sleepers never ran */
        char b;
        CHECK_EQ(read(done_pipe[0], &b, 1), 1);
    }
    hive_runtime_stats st;
    CHECK_OK(hive_get_runtime_stats(&st));
    CHECK_GE(st.takeovers, 1);
    char b = 'r';
    CHECK_EQ(write(release_pipe[1], &b, 1), 1);
    return NULL;
}

int main(void) {
    CHECK_EQ(pipe(done_pipe), 0);
    CHECK_EQ(pipe(release_pipe), 0);
    hive_config cfg;
    CHECK_OK(hive_config_default(&cfg));
    cfg.schedulers = 1;
    CHECK_OK(hive_init(&cfg));
    pthread_t w;
    CHECK_EQ(pthread_create(&w, NULL, watcher, NULL), 0);
    hive_exit_info info;
    CHECK_OK(hive_run(root, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_EQ(pthread_join(w, NULL), 0);
    CHECK_OK(hive_shutdown(NULL));
    printf("held_worker: %llu checks passed\n", CHECKS_DONE());
    return 0;
}
