/* hive_blocking_begin / hive_blocking_end: a process about to block in a system call gives
 * its worker away at once. With ONE scheduler, processes queued behind it run and their
 * timers fire while it is blocked in read(); after hive_blocking_end it is back on a worker,
 * on another OS thread, and its hive_* calls work. A section with nothing in it moves the
 * process too (the monitor's 10 ms takeover never would). Outside a process both calls
 * return HIVE_ERR_NOT_A_PROCESS. The poll timeout is only a failure bound. */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

#define SLEEPERS 3

static int done_pipe[2];    /* sleepers -> watcher thread */
static int release_pipe[2]; /* watcher thread -> blocker */

static void sleeper(void *arg) {
    (void)arg;
    CHECK_OK(hive_sleep(5));
    hive_msg *m = NULL;
    CHECK_EQ(hive_receive(5, &m), HIVE_TIMEOUT);
    char b = 's';
    CHECK_EQ(write(done_pipe[1], &b, 1), 1);
}

static void blocker(void *arg) {
    hive_pid root = *(const hive_pid *)arg;
    /* An empty section: the process still ends up on another OS thread. (The thread id
     * comes from gettid: glibc declares pthread_self const, so the compiler may reuse the
     * first value across the calls.) */
    long t0 = syscall(SYS_gettid);
    CHECK_OK(hive_blocking_begin());
    CHECK_OK(hive_blocking_end());
    CHECK(syscall(SYS_gettid) != t0); /* an empty section moved the process */
    /* A real one: blocked in read() until the watcher saw the sleepers finish. */
    CHECK_OK(hive_blocking_begin());
    char b;
    CHECK_EQ(read(release_pipe[0], &b, 1), 1);
    CHECK_OK(hive_blocking_end());
    CHECK_OK(hive_sleep(1));
    CHECK_OK(hive_test_send_u64(root, 42));
}

static void root(void *arg) {
    (void)arg;
    hive_pid me = hive_self(), p;
    CHECK_OK(hive_spawn(blocker, &me, sizeof me, NULL, &p));
    for (int i = 0; i < SLEEPERS; i++) CHECK_OK(hive_spawn(sleeper, NULL, 0, NULL, &p));
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
    CHECK_GE(st.takeovers, 2); /* two sections, each a hand-off */
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
    CHECK_EQ(hive_blocking_begin(), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_blocking_end(), HIVE_ERR_NOT_A_PROCESS);
    pthread_t w;
    CHECK_EQ(pthread_create(&w, NULL, watcher, NULL), 0);
    hive_exit_info info;
    CHECK_OK(hive_run(root, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_EQ(pthread_join(w, NULL), 0);
    CHECK_OK(hive_shutdown(NULL));
    printf("blocking_section: %llu checks passed\n", CHECKS_DONE());
    return 0;
}
