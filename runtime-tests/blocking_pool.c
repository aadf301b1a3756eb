/* hive_blocking_call / hive_reply_set / hive_resolve: with ONE scheduler, a function
 * blocked in read() on the pool holds no worker (another process runs and releases it),
 * its result arrives as a HIVE_MSG_REPLY with the call's reference; more calls than pool
 * threads all complete; names resolve; bad inputs. Timeouts are failure bounds only. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

#define BOUND 30000

static int release_pipe[2];

static void blocked_fn(void *arg, size_t len, hive_reply *reply) {
    CHECK_EQ(len, 5);
    CHECK_EQ(memcmp(arg, "hello", 5), 0);
    char b;
    CHECK_EQ(read(release_pipe[0], &b, 1), 1); /* blocks this pool thread only */
    CHECK_OK(hive_reply_set(reply, "first", 5));
    CHECK_OK(hive_reply_set(reply, "world", 5)); /* replaces */
    CHECK_EQ(hive_reply_set(NULL, "x", 1), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_reply_set(reply, NULL, 1), HIVE_ERR_NULL_POINTER);
}

static void square_fn(void *arg, size_t len, hive_reply *reply) {
    CHECK_EQ(len, sizeof(uint64_t));
    uint64_t v;
    memcpy(&v, arg, sizeof v);
    v *= v;
    CHECK_OK(hive_reply_set(reply, &v, sizeof v));
}

static void releaser(void *arg) {
    hive_pid parent = *(const hive_pid *)arg;
    char b = 'r';
    CHECK_EQ(write(release_pipe[1], &b, 1), 1);
    CHECK_OK(hive_test_send_u64(parent, 1));
}

/* The reply with reference `ref`, dropping the releaser's note (the only other message
 * at that point). */
static hive_msg *reply_for(uint64_t ref) {
    for (;;) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(BOUND, &m));
        if (hive_msg_kind(m) == HIVE_MSG_REPLY) {
            CHECK_EQ(hive_msg_call_ref(m), ref);
            return m;
        }
        hive_msg_free(m);
    }
}

static void root(void *arg) {
    (void)arg;
    hive_pid me = hive_self(), p;
    uint64_t ref = 0;
    CHECK_OK(hive_blocking_call(blocked_fn, "hello", 5, &ref));
    CHECK_NE(ref, 0);
    CHECK_OK(hive_spawn(releaser, &me, sizeof me, NULL, &p));
    hive_msg *m = reply_for(ref);
    CHECK_EQ(hive_msg_len(m), 5);
    CHECK_EQ(memcmp(hive_msg_data(m), "world", 5), 0);
    CHECK_EQ(hive_msg_sender(m), 0);
    hive_msg_free(m);
    /* More calls than pool threads. */
    uint64_t refs[3 * HIVE_POOL_THREADS];
    for (uint64_t i = 0; i < 3 * HIVE_POOL_THREADS; i++) CHECK_OK(hive_blocking_call(square_fn, &i, sizeof i, &refs[i]));
    /* Pool threads run in parallel: the replies come in any order. */
    int seen[3 * HIVE_POOL_THREADS] = {0};
    for (uint64_t k = 0; k < 3 * HIVE_POOL_THREADS; k++) {
        CHECK_OK(hive_receive(BOUND, &m));
        CHECK_EQ(hive_msg_kind(m), HIVE_MSG_REPLY);
        uint64_t i = 0;
        while (i < 3 * HIVE_POOL_THREADS && refs[i] != hive_msg_call_ref(m)) i++;
        CHECK(i < 3 * HIVE_POOL_THREADS);
        CHECK(!seen[i]);
        seen[i] = 1;
        uint64_t v;
        memcpy(&v, hive_msg_data(m), sizeof v);
        CHECK_EQ(v, i * i);
        hive_msg_free(m);
    }
    /* Bad inputs. */
    CHECK_EQ(hive_blocking_call(NULL, NULL, 0, &ref), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_blocking_call(square_fn, NULL, 8, &ref), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_blocking_call(square_fn, NULL, 0, NULL), HIVE_ERR_NULL_POINTER);
    /* Name resolution. */
    char addrs[4][HIVE_SOCKET_ADDR_MAX];
    size_t n = 0;
    CHECK_OK(hive_resolve("localhost", BOUND, addrs, 4, &n));
    CHECK_GE(n, 1);
    int loop4 = 0;
    for (size_t i = 0; i < n && i < 4; i++) loop4 |= strcmp(addrs[i], "127.0.0.1") == 0 || strcmp(addrs[i], "::1") == 0;
    CHECK(loop4);
    CHECK_OK(hive_resolve("10.1.2.3", BOUND, addrs, 4, &n));
    CHECK_EQ(n, 1);
    CHECK_EQ(strcmp(addrs[0], "10.1.2.3"), 0);
    CHECK_OK(hive_resolve("10.1.2.3", BOUND, NULL, 0, &n)); /* count only */
    CHECK_EQ(n, 1);
    CHECK_EQ(hive_resolve("no-such-host.invalid", BOUND, addrs, 4, &n), HIVE_ERR_NOT_FOUND);
    CHECK_EQ(hive_resolve(NULL, BOUND, addrs, 4, &n), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_resolve("localhost", BOUND, addrs, 4, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_resolve("localhost", BOUND, NULL, 4, &n), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_resolve("", BOUND, addrs, 4, &n), HIVE_ERR_BAD_ARGUMENT);
}

int main(void) {
    CHECK_EQ(pipe(release_pipe), 0);
    hive_config cfg;
    CHECK_OK(hive_config_default(&cfg));
    cfg.schedulers = 1;
    CHECK_OK(hive_init(&cfg));
    uint64_t ref;
    size_t n;
    CHECK_EQ(hive_blocking_call(square_fn, NULL, 0, &ref), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_resolve("localhost", BOUND, NULL, 0, &n), HIVE_ERR_NOT_A_PROCESS);
    hive_exit_info info;
    CHECK_OK(hive_run(root, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_OK(hive_shutdown(NULL));
    printf("blocking_pool: %llu checks passed\n", CHECKS_DONE());
    return 0;
}
