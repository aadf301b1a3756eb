/* Sockets through the C ABI: an echo server and clients on loopback with ONE scheduler
 * (a process blocked in accept or receive must not hold the worker), several acceptors
 * served in order, a process killed while blocked in receive (its socket closes, the
 * peer reads end of stream), and every call's bad inputs: closed, stale and never-issued
 * handles, not the owner, NULL pointers, zero and huge lengths, bad options, calls from
 * a plain thread. Timeouts are failure bounds only. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "check.h"

#define BOUND 30000
#define CLIENTS 8
#define ROUNDS 50

static uint16_t port_of(hive_socket s) {
    char ip[HIVE_SOCKET_ADDR_MAX];
    uint16_t port = 0;
    CHECK_OK(hive_socket_addr(s, 0, ip, sizeof ip, &port));
    CHECK_EQ(strcmp(ip, "127.0.0.1"), 0);
    return port;
}

/* Serves one connection: echoes 8-byte requests until end of stream. */
static void handler(void *arg) {
    hive_socket s = *(const hive_socket *)arg;
    /* Wait to be made the owner (the acceptor hands the socket over). */
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(BOUND, &m));
    hive_msg_free(m);
    CHECK_OK(hive_socket_setopt(s, HIVE_SOCKOPT_NODELAY, 1));
    for (;;) {
        uint64_t v;
        size_t got = 99;
        hive_status r = hive_tcp_recv(s, &v, sizeof v, sizeof v, BOUND, &got);
        if (r == HIVE_ERR_PEER_CLOSED) {
            CHECK_EQ(got, 0);
            break;
        }
        CHECK_OK(r);
        CHECK_EQ(got, sizeof v);
        size_t sent = 0;
        CHECK_OK(hive_tcp_send(s, &v, sizeof v, BOUND, &sent));
        CHECK_EQ(sent, sizeof v);
    }
    CHECK_OK(hive_socket_close(s));
}

/* Accepts CLIENTS connections and hands each to a handler process. */
static void acceptor(void *arg) {
    hive_socket l = *(const hive_socket *)arg;
    for (int i = 0; i < CLIENTS; i++) {
        hive_socket s;
        CHECK_OK(hive_tcp_accept(l, BOUND, &s));
        hive_pid h;
        CHECK_OK(hive_spawn(handler, &s, sizeof s, NULL, &h));
        CHECK_OK(hive_socket_controlling_process(s, h));
        CHECK_EQ(hive_socket_controlling_process(s, h), HIVE_ERR_NOT_OWNER);
        CHECK_OK(hive_send(h, "go", 2));
    }
}

struct client_arg {
    hive_pid parent;
    uint16_t port;
    uint64_t id;
};

static void client(void *arg) {
    struct client_arg a = *(const struct client_arg *)arg;
    hive_socket c;
    CHECK_OK(hive_tcp_connect("127.0.0.1", a.port, BOUND, &c));
    char ip[HIVE_SOCKET_ADDR_MAX];
    uint16_t port = 0;
    CHECK_OK(hive_socket_addr(c, 1, ip, sizeof ip, &port));
    CHECK_EQ(port, a.port);
    for (uint64_t i = 0; i < ROUNDS; i++) {
        uint64_t v = a.id * 1000 + i, back = 0;
        CHECK_OK(hive_tcp_send(c, &v, sizeof v, BOUND, NULL));
        CHECK_OK(hive_tcp_recv(c, &back, sizeof back, sizeof back, BOUND, NULL));
        CHECK_EQ(back, v);
    }
    CHECK_OK(hive_socket_close(c));
    CHECK_OK(hive_test_send_u64(a.parent, a.id));
}

/* Blocks in receive until killed. */
static void victim(void *arg) {
    uint16_t port = *(const uint16_t *)arg;
    hive_socket c;
    CHECK_OK(hive_tcp_connect("127.0.0.1", port, BOUND, &c));
    char b[4];
    hive_tcp_recv(c, b, sizeof b, 0, -1, NULL);
    CHECK(0); /* never returns: killed */
}

static void wait_until_waiting(hive_pid p) {
    for (int i = 0; i < 1000000; i++) {
        hive_process_info info;
        CHECK_OK(hive_get_process_info(p, &info));
        if (info.status == HIVE_STATUS_WAITING) return;
        CHECK_OK(hive_yield());
    }
    CHECK(0);
}

static void bad_inputs(hive_socket l, uint16_t port) {
    hive_socket s = 0;
    char buf[8];
    size_t n = 7;
    /* NULL pointers. */
    CHECK_EQ(hive_tcp_listen(NULL, 0, 0, 0, &s), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_tcp_listen("127.0.0.1", 0, 0, 0, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_tcp_connect(NULL, port, BOUND, &s), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_tcp_accept(l, 0, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_tcp_recv(l, NULL, 8, 0, 0, &n), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(n, 0);
    CHECK_EQ(hive_tcp_send(l, NULL, 8, 0, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_socket_addr(l, 0, NULL, 8, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_socket_getopt(l, HIVE_SOCKOPT_RCVBUF, NULL), HIVE_ERR_NULL_POINTER);
    /* Bad addresses and arguments. */
    CHECK_EQ(hive_tcp_listen("localhost", 0, 0, 0, &s), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_tcp_listen("1.2.3.4.5", 0, 0, 0, &s), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_tcp_listen("0000000000000000000000000000000000000000000000000000", 0, 0, 0, &s),
             HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_tcp_listen("127.0.0.1", 0, -1, 0, &s), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_tcp_listen("127.0.0.1", 0, 0, 0x100, &s), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_tcp_listen("127.0.0.1", port, 0, 0, &s), HIVE_ERR_ADDR_IN_USE);
    CHECK_EQ(hive_socket_errno(), EADDRINUSE);
    CHECK_EQ(hive_tcp_connect("127.0.0.1", port, 0, &s), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_tcp_accept(l, (int64_t)1 << 40, &s), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_tcp_accept(l, 0, &s), HIVE_TIMEOUT);
    /* Zero and huge lengths. */
    CHECK_EQ(hive_tcp_recv(l, buf, 0, 0, 0, NULL), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_tcp_recv(l, buf, 8, 9, 0, NULL), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_tcp_recv(l, buf, SIZE_MAX, 0, 0, NULL), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_tcp_send(l, buf, SIZE_MAX, 0, NULL), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_socket_addr(l, 0, buf, 4, &port), HIVE_ERR_BAD_LENGTH);
    /* A listener is not a stream, and the other way round. */
    CHECK_EQ(hive_tcp_recv(l, buf, 8, 0, 0, NULL), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_tcp_send(l, buf, 8, 0, NULL), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_tcp_shutdown(l, HIVE_SHUT_BOTH), HIVE_ERR_BAD_ARGUMENT);
    /* Bad options. */
    CHECK_EQ(hive_socket_setopt(l, 99, 1), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_socket_setopt(l, HIVE_SOCKOPT_NODELAY, 2), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_socket_setopt(l, HIVE_SOCKOPT_RCVBUF, 0), HIVE_ERR_BAD_ARGUMENT);
    CHECK_OK(hive_socket_setopt(l, HIVE_SOCKOPT_RCVBUF, 65536));
    int64_t v = 0;
    CHECK_OK(hive_socket_getopt(l, HIVE_SOCKOPT_RCVBUF, &v));
    CHECK_GE(v, 65536);
    /* Closed, stale and never-issued handles. */
    hive_socket c;
    CHECK_OK(hive_tcp_connect("127.0.0.1", port, BOUND, &c));
    CHECK_OK(hive_socket_close(c));
    CHECK_EQ(hive_socket_close(c), HIVE_ERR_CLOSED);
    hive_socket c2;
    CHECK_OK(hive_tcp_connect("127.0.0.1", port, BOUND, &c2)); /* reuses slot and fd */
    CHECK_NE(c2, c);
    CHECK_EQ(hive_tcp_send(c, "x", 1, 0, NULL), HIVE_ERR_CLOSED);
    CHECK_EQ(hive_tcp_recv(c, buf, 8, 0, 0, NULL), HIVE_ERR_CLOSED);
    CHECK_EQ(hive_tcp_shutdown(c, HIVE_SHUT_WRITE), HIVE_ERR_CLOSED);
    CHECK_EQ(hive_socket_setopt(c, HIVE_SOCKOPT_NODELAY, 1), HIVE_ERR_CLOSED);
    CHECK_EQ(hive_socket_controlling_process(c, hive_self()), HIVE_ERR_CLOSED);
    CHECK_EQ(hive_tcp_shutdown(c2, 7), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_socket_controlling_process(c2, 0), HIVE_ERR_NO_PROCESS);
    CHECK_OK(hive_socket_close(c2));
    hive_socket never[] = {0, UINT64_MAX, ((uint64_t)777 << 32) | 3, 1};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        CHECK_EQ(hive_socket_close(never[i]), HIVE_ERR_CLOSED);
        CHECK_EQ(hive_tcp_send(never[i], "x", 1, 0, NULL), HIVE_ERR_CLOSED);
        CHECK_EQ(hive_tcp_accept(never[i], 0, &s), HIVE_ERR_CLOSED);
    }
    /* Drain the two connections made above. */
    for (int i = 0; i < 2; i++) {
        CHECK_OK(hive_tcp_accept(l, BOUND, &s));
        CHECK_OK(hive_socket_close(s));
    }
}

static void root(void *arg) {
    (void)arg;
    hive_pid me = hive_self(), p;
    hive_socket l;
    CHECK_OK(hive_tcp_listen("127.0.0.1", 0, 0, HIVE_TCP_REUSEADDR, &l));
    uint16_t port = port_of(l);
    bad_inputs(l, port);
    /* Echo: one acceptor, CLIENTS clients, handlers owning their sockets. */
    CHECK_OK(hive_spawn(acceptor, &l, sizeof l, NULL, &p));
    for (uint64_t i = 0; i < CLIENTS; i++) {
        struct client_arg a = {me, port, i + 1};
        CHECK_OK(hive_spawn(client, &a, sizeof a, NULL, &p));
    }
    uint64_t seen = 0;
    for (int i = 0; i < CLIENTS; i++) seen |= 1ull << hive_test_recv_u64(BOUND);
    CHECK_EQ(seen, ((1ull << CLIENTS) - 1) << 1);
    /* Kill while blocked in receive: its socket closes, the peer reads end of stream. */
    hive_pid v;
    CHECK_OK(hive_spawn(victim, &port, sizeof port, NULL, &v));
    hive_socket s;
    CHECK_OK(hive_tcp_accept(l, BOUND, &s));
    wait_until_waiting(v);
    uint64_t mref;
    CHECK_OK(hive_monitor(v, &mref));
    CHECK_OK(hive_exit_pid(v, HIVE_REASON_KILL, NULL, 0));
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(BOUND, &m));
    CHECK_EQ(hive_msg_kind(m), HIVE_MSG_DOWN);
    CHECK_EQ(hive_msg_reason_kind(m), HIVE_REASON_KILLED);
    hive_msg_free(m);
    char b[4];
    size_t got = 9;
    CHECK_EQ(hive_tcp_recv(s, b, sizeof b, 0, BOUND, &got), HIVE_ERR_PEER_CLOSED);
    CHECK_EQ(got, 0);
    CHECK_OK(hive_socket_close(s));
    /* Active mode: length-prefixed frames as messages, then passive. */
    hive_socket c;
    CHECK_OK(hive_tcp_connect("127.0.0.1", port, BOUND, &c));
    CHECK_OK(hive_tcp_accept(l, BOUND, &s));
    CHECK_OK(hive_socket_setopt(s, HIVE_SOCKOPT_PACKET, 1));
    CHECK_OK(hive_tcp_send(c, "\002hi\003abc", 7, BOUND, NULL));
    CHECK_OK(hive_socket_setopt(s, HIVE_SOCKOPT_ACTIVE, 2));
    const char *want[] = {"hi", "abc"};
    for (int i = 0; i < 2; i++) {
        CHECK_OK(hive_receive(BOUND, &m));
        CHECK_EQ(hive_msg_kind(m), HIVE_MSG_TCP);
        CHECK_EQ(hive_msg_socket(m), s);
        CHECK_EQ(hive_msg_sender(m), 0);
        CHECK_EQ(hive_msg_len(m), strlen(want[i]));
        CHECK_EQ(memcmp(hive_msg_data(m), want[i], strlen(want[i])), 0);
        hive_msg_free(m);
    }
    CHECK_OK(hive_receive(BOUND, &m));
    CHECK_EQ(hive_msg_kind(m), HIVE_MSG_TCP_PASSIVE);
    hive_msg_free(m);
    int64_t active = 9;
    CHECK_OK(hive_socket_getopt(s, HIVE_SOCKOPT_ACTIVE, &active));
    CHECK_EQ(active, 0);
    CHECK_EQ(hive_socket_setopt(s, HIVE_SOCKOPT_PACKET, 3), HIVE_ERR_BAD_ARGUMENT);
    CHECK_OK(hive_socket_setopt(s, HIVE_SOCKOPT_ACTIVE, -1));
    CHECK_EQ(hive_tcp_recv(s, b, sizeof b, 0, 0, NULL), HIVE_ERR_BAD_ARGUMENT);
    CHECK_OK(hive_socket_close(c));
    CHECK_OK(hive_receive(BOUND, &m));
    CHECK_EQ(hive_msg_kind(m), HIVE_MSG_TCP_CLOSED);
    CHECK_EQ(hive_msg_socket(m), s);
    hive_msg_free(m);
    CHECK_OK(hive_socket_close(s));
    CHECK_OK(hive_socket_close(l));
}

int main(void) {
    hive_config cfg;
    CHECK_OK(hive_config_default(&cfg));
    cfg.schedulers = 1;
    CHECK_OK(hive_init(&cfg));
    /* From a plain thread. */
    hive_socket s;
    char buf[4];
    CHECK_EQ(hive_tcp_listen("127.0.0.1", 0, 0, 0, &s), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_tcp_connect("127.0.0.1", 1, BOUND, &s), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_tcp_recv(1, buf, sizeof buf, 0, 0, NULL), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_tcp_send(1, buf, sizeof buf, 0, NULL), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_socket_close(1), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_socket_errno(), 0);
    hive_exit_info info;
    CHECK_OK(hive_run(root, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_OK(hive_shutdown(NULL));
    printf("socket_abi: %llu checks passed\n", CHECKS_DONE());
    return 0;
}
