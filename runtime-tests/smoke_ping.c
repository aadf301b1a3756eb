/* A root process pings an echo process N times; checks payloads and ordering. */
#include <string.h>
#include "check.h"

static void echo(void *arg) {
    (void)arg;
    for (;;) {
        hive_msg *m;
        CHECK_OK(hive_receive(-1, &m));
        size_t len = hive_msg_len(m);
        if (len == 0) { hive_msg_free(m); return; }
        hive_pid from = hive_msg_sender(m);
        CHECK_OK(hive_send_msg(from, m)); /* zero-copy echo */
    }
}

static void root(void *arg) {
    int n = *(int *)arg;
    hive_pid e;
    CHECK_OK(hive_spawn(echo, NULL, 0, NULL, &e));
    for (int i = 0; i < n; i++) {
        CHECK_OK(hive_send(e, &i, sizeof i));
        hive_msg *m;
        CHECK_OK(hive_receive(5000, &m));
        CHECK_EQ(hive_msg_len(m), sizeof i);
        int v; memcpy(&v, hive_msg_data(m), sizeof v);
        CHECK_EQ(v, i);
        CHECK_EQ(hive_msg_sender(m), e);
        hive_msg_free(m);
    }
    CHECK_OK(hive_send(e, NULL, 0));
}

int main(void) {
    CHECK_OK(hive_init(NULL));
    int n = 100000;
    hive_exit_info info;
    CHECK_OK(hive_run(root, &n, sizeof n, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    uint64_t stopped = 99;
    CHECK_OK(hive_shutdown(&stopped));
    printf("smoke_ping: %d round trips ok, %llu stopped at shutdown\n", n, (unsigned long long)stopped);
    return 0;
}
