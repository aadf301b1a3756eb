/* UDP and Unix stream sockets through the C ABI, with ONE scheduler: a datagram
 * round trip between two processes (the receiver waits suspended), the sender's address,
 * truncation to the buffer, a Unix stream echo through the hive_tcp_* stream calls, and
 * the bad inputs of every new call. Timeouts are failure bounds only. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

#define BOUND 30000

static char sock_path[108];

static void udp_peer(void *arg) {
    hive_pid parent = *(const hive_pid *)arg;
    hive_socket b;
    CHECK_OK(hive_udp_open("127.0.0.1", 0, &b));
    char ip[HIVE_SOCKET_ADDR_MAX];
    uint16_t port = 0;
    CHECK_OK(hive_socket_addr(b, 0, ip, sizeof ip, &port));
    CHECK_OK(hive_test_send_u64(parent, port));
    char buf[64];
    size_t got = 0;
    uint16_t from_port = 0;
    CHECK_OK(hive_udp_recv_from(b, buf, sizeof buf, BOUND, &got, ip, sizeof ip, &from_port));
    CHECK_EQ(got, 4);
    CHECK_EQ(memcmp(buf, "ping", 4), 0);
    CHECK_EQ(strcmp(ip, "127.0.0.1"), 0);
    CHECK_OK(hive_udp_send_to(b, ip, from_port, "pong!", 5, BOUND));
    CHECK_OK(hive_socket_close(b));
}

static void unix_client(void *arg) {
    hive_pid parent = *(const hive_pid *)arg;
    hive_socket c;
    CHECK_OK(hive_unix_connect(sock_path, BOUND, &c));
    CHECK_OK(hive_tcp_send(c, "unix", 4, BOUND, NULL));
    char b[4];
    CHECK_OK(hive_tcp_recv(c, b, 4, 4, BOUND, NULL));
    CHECK_EQ(memcmp(b, "unix", 4), 0);
    CHECK_OK(hive_socket_close(c));
    CHECK_OK(hive_test_send_u64(parent, 7));
}

static void root(void *arg) {
    (void)arg;
    hive_pid me = hive_self(), p;
    /* UDP. */
    hive_socket a;
    CHECK_OK(hive_udp_open("127.0.0.1", 0, &a));
    CHECK_OK(hive_spawn(udp_peer, &me, sizeof me, NULL, &p));
    uint16_t port = (uint16_t)hive_test_recv_u64(BOUND);
    CHECK_OK(hive_udp_send_to(a, "127.0.0.1", port, "ping", 4, BOUND));
    char buf[3], ip[HIVE_SOCKET_ADDR_MAX];
    size_t got = 0;
    uint16_t from = 0;
    CHECK_OK(hive_udp_recv_from(a, buf, sizeof buf, BOUND, &got, ip, sizeof ip, &from));
    CHECK_EQ(got, 3); /* cut to the buffer */
    CHECK_EQ(memcmp(buf, "pon", 3), 0);
    CHECK_EQ(from, port);
    /* UDP bad inputs. */
    hive_socket s;
    CHECK_EQ(hive_udp_open(NULL, 0, &s), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_udp_open("127.0.0.1", 0, NULL), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_udp_open("nope", 0, &s), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_udp_send_to(a, "127.0.0.1", port, NULL, 4, 0), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_udp_send_to(a, NULL, port, "x", 1, 0), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_udp_send_to(a, "127.0.0.1", port, buf, 70000, 0), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_udp_recv_from(a, NULL, 8, 0, &got, ip, sizeof ip, &from), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_udp_recv_from(a, buf, 0, 0, &got, ip, sizeof ip, &from), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_udp_recv_from(a, buf, 3, 0, &got, ip, 8, &from), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_udp_recv_from(a, buf, 3, 0, &got, ip, sizeof ip, &from), HIVE_TIMEOUT);
    CHECK_EQ(hive_tcp_recv(a, buf, 3, 0, 0, NULL), HIVE_ERR_BAD_ARGUMENT);
    /* Active mode: each datagram a HIVE_MSG_UDP message with its sender. */
    hive_socket ub;
    CHECK_OK(hive_udp_open("127.0.0.1", 0, &ub));
    uint16_t a_port, b_port;
    CHECK_OK(hive_socket_addr(a, 0, ip, sizeof ip, &a_port));
    CHECK_OK(hive_socket_addr(ub, 0, ip, sizeof ip, &b_port));
    CHECK_OK(hive_socket_setopt(ub, HIVE_SOCKOPT_ACTIVE, -1));
    CHECK_OK(hive_udp_send_to(a, "127.0.0.1", b_port, "dgram", 5, BOUND));
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(BOUND, &m));
    CHECK_EQ(hive_msg_kind(m), HIVE_MSG_UDP);
    CHECK_EQ(hive_msg_socket(m), ub);
    CHECK_EQ(hive_msg_len(m), 5);
    CHECK_EQ(memcmp(hive_msg_data(m), "dgram", 5), 0);
    char from_ip[HIVE_SOCKET_ADDR_MAX];
    uint16_t from_port = 0;
    CHECK_OK(hive_msg_udp_from(m, from_ip, sizeof from_ip, &from_port));
    CHECK_EQ(strcmp(from_ip, "127.0.0.1"), 0);
    CHECK_EQ(from_port, a_port);
    CHECK_EQ(hive_msg_udp_from(m, from_ip, 4, &from_port), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_msg_udp_from(m, NULL, 4, &from_port), HIVE_ERR_NULL_POINTER);
    hive_msg_free(m);
    CHECK_OK(hive_send(hive_self(), "x", 1));
    CHECK_OK(hive_receive(BOUND, &m));
    CHECK_EQ(hive_msg_udp_from(m, from_ip, sizeof from_ip, &from_port), HIVE_ERR_BAD_ARGUMENT);
    hive_msg_free(m);
    CHECK_OK(hive_socket_close(ub));
    CHECK_OK(hive_socket_close(a));
    CHECK_EQ(hive_udp_send_to(a, "127.0.0.1", port, "x", 1, 0), HIVE_ERR_CLOSED);
    /* Unix stream. */
    hive_socket l;
    CHECK_OK(hive_unix_listen(sock_path, 0, &l));
    CHECK_EQ(hive_unix_listen(sock_path, 0, &s), HIVE_ERR_ADDR_IN_USE);
    CHECK_OK(hive_spawn(unix_client, &me, sizeof me, NULL, &p));
    CHECK_OK(hive_tcp_accept(l, BOUND, &s));
    char b[4];
    CHECK_OK(hive_tcp_recv(s, b, 4, 4, BOUND, NULL));
    CHECK_OK(hive_tcp_send(s, b, 4, BOUND, NULL));
    CHECK_EQ(hive_test_recv_u64(BOUND), 7);
    uint16_t pp;
    CHECK_EQ(hive_socket_addr(s, 0, ip, sizeof ip, &pp), HIVE_ERR_BAD_ARGUMENT);
    CHECK_OK(hive_socket_close(s));
    CHECK_OK(hive_socket_close(l));
    CHECK_EQ(hive_unix_connect(sock_path, BOUND, &s), HIVE_ERR_CONN_REFUSED);
    CHECK_EQ(unlink(sock_path), 0);
    CHECK_EQ(hive_unix_connect(sock_path, BOUND, &s), HIVE_ERR_IO);
    CHECK_EQ(hive_socket_errno(), ENOENT);
    CHECK_EQ(hive_unix_listen(NULL, 0, &s), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_unix_listen("", 0, &s), HIVE_ERR_BAD_ARGUMENT);
    char longp[200];
    memset(longp, 'x', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    CHECK_EQ(hive_unix_listen(longp, 0, &s), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_unix_connect(sock_path, 0, &s), HIVE_ERR_BAD_ARGUMENT);
}

int main(void) {
    snprintf(sock_path, sizeof sock_path, "/tmp/hive-c-%d.sock", (int)getpid());
    unlink(sock_path);
    hive_config cfg;
    CHECK_OK(hive_config_default(&cfg));
    cfg.schedulers = 1;
    CHECK_OK(hive_init(&cfg));
    hive_socket s;
    CHECK_EQ(hive_udp_open("127.0.0.1", 0, &s), HIVE_ERR_NOT_A_PROCESS);
    CHECK_EQ(hive_unix_listen(sock_path, 0, &s), HIVE_ERR_NOT_A_PROCESS);
    hive_exit_info info;
    CHECK_OK(hive_run(root, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_OK(hive_shutdown(NULL));
    printf("socket_udp_unix: %llu checks passed\n", CHECKS_DONE());
    return 0;
}
