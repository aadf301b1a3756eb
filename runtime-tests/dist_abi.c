/* The distribution calls through the C ABI, without a peer: a node started without EPMD
 * on a fixed port, its name, `{Name, Node} ! Msg` to itself, `monitor_node` of a node
 * that cannot be reached (one {nodedown, Node} per call, case 132), disconnecting a node
 * that is not connected, stop, and the bad inputs of every call. The tests against real
 * Erlang nodes and a second Hive node are Rust tests (crates/hive-rt/tests/dist_*.rs). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "free_port.h"

#define BOUND 30000

/* True when the message's bytes contain `needle`. */
static int contains(const hive_msg *m, const char *needle) {
    size_t n = strlen(needle), len = hive_msg_len(m);
    const uint8_t *d = hive_msg_data(m);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(d + i, needle, n) == 0) return 1;
    return 0;
}

static void root(void *arg) {
    (void)arg;
    CHECK_OK(hive_register("me", 2, hive_self()));
    /* {me, ThisNode} ! Msg is delivered locally. */
    CHECK_OK(hive_send_remote_name("cnode@localhost", "me", 2, "hello", 5));
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(BOUND, &m));
    CHECK_EQ(hive_msg_len(m), 5);
    CHECK_EQ(memcmp(hive_msg_data(m), "hello", 5), 0);
    hive_msg_free(m);
    /* Nobody registered there: dropped, no error (case 106). */
    CHECK_OK(hive_send_remote_name("cnode@localhost", "nobody", 6, "x", 1));

    /* Case 132: monitor_node of a node that cannot be reached, twice: two nodedowns. */
    CHECK_OK(hive_monitor_node("nosuch@localhost", 1));
    CHECK_OK(hive_monitor_node("nosuch@localhost", 1));
    for (int i = 0; i < 2; i++) {
        CHECK_OK(hive_receive(BOUND, &m));
        const uint8_t *d = hive_msg_data(m);
        CHECK_GE(hive_msg_len(m), 3);
        CHECK_EQ(d[0], 131); /* an ETF term: {nodedown, 'nosuch@localhost'} */
        CHECK_EQ(d[1], 104);
        CHECK_EQ(d[2], 2);
        CHECK(contains(m, "nodedown"));
        CHECK(contains(m, "nosuch@localhost"));
        hive_msg_free(m);
    }
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);

    /* Case 132: a monitor of {Name, Node} on a node that cannot be reached: DOWN with
     * noconnection, matched by its reference. */
    uint64_t ref = 0;
    CHECK_OK(hive_monitor_remote_name("nosuch@localhost", "srv", 3, &ref));
    CHECK_NE(ref, 0);
    CHECK_OK(hive_receive(BOUND, &m));
    CHECK_EQ(hive_msg_kind(m), HIVE_MSG_DOWN);
    CHECK_EQ(hive_msg_monitor_ref(m), ref);
    CHECK_EQ(hive_msg_reason_kind(m), HIVE_REASON_NOCONNECTION);
    hive_msg_free(m);
    CHECK_EQ(hive_monitor_remote_name("nohost", "srv", 3, &ref), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_monitor_remote_name("nosuch@localhost", "srv", 0, &ref), HIVE_ERR_BAD_ARGUMENT);

    /* Case 155 (Hive's form): spawn_request to a node that cannot be reached answers
     * {spawn_reply, ReqId, error, noconnection}. */
    const uint8_t no_args[] = {131, 106};
    uint64_t req = 0;
    CHECK_OK(hive_spawn_request("nosuch@localhost", "m", "f", no_args, sizeof no_args, HIVE_SPAWN_LINK | HIVE_SPAWN_MONITOR, &req));
    CHECK_NE(req, 0);
    CHECK_OK(hive_receive(BOUND, &m));
    CHECK(contains(m, "spawn_reply"));
    CHECK(contains(m, "error"));
    CHECK(contains(m, "noconnection"));
    hive_msg_free(m);
    const uint8_t not_a_list[] = {131, 97, 1};
    CHECK_EQ(hive_spawn_request("nosuch@localhost", "m", "f", not_a_list, sizeof not_a_list, 0, &req),
             HIVE_ERR_BAD_ARGUMENT);

    char names[64];
    size_t len = 99, count = 99;
    CHECK_OK(hive_dist_nodes(names, sizeof names, &len, &count));
    CHECK_EQ(count, 0);
    CHECK_EQ(len, 0);
    CHECK_EQ(hive_disconnect_node("nosuch@localhost"), HIVE_ERR_NOT_FOUND);

    /* Bad inputs. */
    CHECK_EQ(hive_send_remote_name(NULL, "me", 2, "x", 1), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_send_remote_name("cnode@localhost", NULL, 2, "x", 1), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_send_remote_name("cnode@localhost", "me", 2, NULL, 1), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_send_remote_name("nohost", "me", 2, "x", 1), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_send_remote_name("cnode@localhost", "me", 0, "x", 1), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_send_remote_name("cnode@localhost", "me", 300, "x", 1), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_monitor_node(NULL, 1), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_monitor_node("nohost", 1), HIVE_ERR_BAD_ARGUMENT);
    char longname[400];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK_EQ(hive_monitor_node(longname, 1), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_disconnect_node(NULL), HIVE_ERR_NULL_POINTER);
}

int main(void) {
    hive_dist_options o;
    memset(&o, 0, sizeof o);
    o.name = "cnode@localhost";
    o.cookie = "ccookie";
    o.cookie_len = 7;
    o.flags = HIVE_DIST_NO_EPMD;
    o.epmd_port = hive_test_free_port();
    o.setup_time_ms = 2000;
    uint32_t creation = 0;
    uint16_t port = 0;
    CHECK_EQ(hive_dist_start(&o, &creation, &port), HIVE_ERR_NOT_INITIALIZED);

    hive_config cfg;
    CHECK_OK(hive_config_default(&cfg));
    cfg.schedulers = 2;
    CHECK_OK(hive_init(&cfg));

    /* Bad inputs, before the node runs. */
    char buf[64];
    size_t len = 0;
    CHECK_EQ(hive_node_name(buf, sizeof buf, &len), HIVE_ERR_NOT_DISTRIBUTED);
    CHECK_EQ(hive_dist_stop(), HIVE_ERR_NOT_DISTRIBUTED);
    CHECK_EQ(hive_dist_start(NULL, NULL, NULL), HIVE_ERR_NULL_POINTER);
    hive_dist_options bad = o;
    bad.name = NULL;
    CHECK_EQ(hive_dist_start(&bad, NULL, NULL), HIVE_ERR_NULL_POINTER);
    bad = o;
    bad.name = "x@";
    CHECK_EQ(hive_dist_start(&bad, NULL, NULL), HIVE_ERR_BAD_ARGUMENT);
    bad = o;
    bad.flags = 1u << 20;
    CHECK_EQ(hive_dist_start(&bad, NULL, NULL), HIVE_ERR_BAD_ARGUMENT);
    bad = o;
    bad.epmd_port = 0;
    CHECK_EQ(hive_dist_start(&bad, NULL, NULL), HIVE_ERR_BAD_ARGUMENT);
    bad = o;
    bad.listen = "not an address";
    CHECK_EQ(hive_dist_start(&bad, NULL, NULL), HIVE_ERR_BAD_ARGUMENT);
    bad = o;
    bad.cookie_len = 256;
    CHECK_EQ(hive_dist_start(&bad, NULL, NULL), HIVE_ERR_BAD_LENGTH);
    char longname[400];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    bad = o;
    bad.name = longname;
    CHECK_EQ(hive_dist_start(&bad, NULL, NULL), HIVE_ERR_BAD_LENGTH);
    /* TLS: a certificate path needs the key and CA paths; unusable files are an error. */
    bad = o;
    bad.tls_cert_file = "/nonexistent/cert.pem";
    CHECK_EQ(hive_dist_start(&bad, NULL, NULL), HIVE_ERR_NULL_POINTER);
    bad.tls_key_file = "/nonexistent/key.pem";
    CHECK_EQ(hive_dist_start(&bad, NULL, NULL), HIVE_ERR_NULL_POINTER);
    bad.tls_ca_file = "/nonexistent/ca.pem";
    CHECK_EQ(hive_dist_start(&bad, NULL, NULL), HIVE_ERR_TLS_CONFIG);
    bad.tls_cert_file = "/dev/null"; /* exists, holds no certificate */
    CHECK_EQ(hive_dist_start(&bad, NULL, NULL), HIVE_ERR_TLS_CONFIG);
    char longpath[5000];
    memset(longpath, 'p', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = 0;
    bad.tls_cert_file = longpath;
    CHECK_EQ(hive_dist_start(&bad, NULL, NULL), HIVE_ERR_BAD_LENGTH);
    bad = o;
    bad.lanes = 17;
    CHECK_EQ(hive_dist_start(&bad, NULL, NULL), HIVE_ERR_BAD_ARGUMENT);
    bad = o;
    bad.flags = HIVE_DIST_NO_EPMD | HIVE_DIST_TLS_NO_NAME_CHECK | HIVE_DIST_TLS_OPTIONAL_PEER_CERT | 128;
    CHECK_EQ(hive_dist_start(&bad, NULL, NULL), HIVE_ERR_BAD_ARGUMENT);

    CHECK_OK(hive_dist_start(&o, &creation, &port));
    CHECK_NE(creation, 0);
    CHECK_EQ(port, o.epmd_port);
    CHECK_EQ(hive_dist_start(&o, NULL, NULL), HIVE_ERR_NOT_DISTRIBUTED);

    CHECK_EQ(hive_node_name(buf, 3, &len), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(len, strlen("cnode@localhost"));
    CHECK_OK(hive_node_name(buf, sizeof buf, &len));
    CHECK_EQ(len, strlen("cnode@localhost"));
    CHECK_EQ(memcmp(buf, "cnode@localhost", len), 0);

    hive_exit_info info;
    CHECK_OK(hive_run(root, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    /* Outside a process: calls that need a sender say so. */
    CHECK_EQ(hive_send_remote_name("cnode@localhost", "me", 2, "x", 1), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_monitor_node("nosuch@localhost", 1), HIVE_ERR_NOT_A_PROCESS);

    CHECK_OK(hive_dist_stop());
    CHECK_EQ(hive_dist_stop(), HIVE_ERR_NOT_DISTRIBUTED);
    CHECK_EQ(hive_node_name(buf, sizeof buf, &len), HIVE_ERR_NOT_DISTRIBUTED);
    CHECK_OK(hive_shutdown(NULL));
    printf("dist_abi: %llu checks passed\n", CHECKS_DONE());
    return 0;
}
