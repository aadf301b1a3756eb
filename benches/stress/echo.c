/*
 * echo CONNS SECONDS: a TCP echo server on loopback (process-io.md section 5, "echo-rr"),
 * one Hive process per connection, driven by a closed-loop load generator in its own OS
 * process.
 *
 * Server (this program, `echo <schedulers> CONNS SECONDS`): a listener on 127.0.0.1, port
 * 0; one acceptor process accepts CONNS connections and spawns one handler process per
 * connection, hands it the socket (hive_socket_controlling_process, then a `go` message)
 * and exits after the last accept; a handler loops hive_tcp_recv(64 bytes, min 64) /
 * hive_tcp_send until HIVE_ERR_PEER_CLOSED. Handlers count their round trips (tcount).
 *
 * Load generator (`echo client PORT CONNS SECONDS`, no Hive calls): the main thread spawns
 * it as a separate OS process (/proc/self/exe, posix_spawn) with its stdin and stdout on
 * pipes; the Erlang peer (peers/erlang/hive_peer_echo.erl) runs the very same binary in
 * this mode through open_port, so both servers face the same load generator. It is one
 * thread with one epoll loop (as process-io.md's loadgen): CONNS blocking connects, then
 * non-blocking sockets with TCP_NODELAY; each connection sends a 64-byte request (its
 * index and sequence number plus a pattern), waits for the whole 64-byte echo, checks it
 * byte for byte, and sends the next. Protocol on the pipes (lines):
 *   client -> server  `READY`   every connection has completed at least one round trip
 *   server -> client  `go`      the window starts (the server took its CPU / RSS reading)
 *   client -> server  `DONE`    SECONDS have passed (timerfd); the window is over
 *   client -> server  `IDLE`    the in-flight round trips completed; every connection
 *                               stays open and silent
 *   server -> client  `close`   after IDLE_MS (the server measured its idle CPU)
 *   client -> server  `ECHO window_rt=.. window_s=.. p50_us=.. p99_us=.. max_us=..
 *                      total_rt=.. min_conn_rt=..`  after the in-flight round trips
 *                      completed and every connection was closed.
 * Round trips that complete inside the window are counted and their latencies (send to
 * last byte of the echo, CLOCK_MONOTONIC) kept; percentiles as recv_timeout's (sorted
 * L[0..K-1], p50 = L[K/2], p99 = L[K*99/100]). A failure (short or wrong echo, a closed
 * connection, 60 s without progress) exits 1 with a message on stderr; PR_SET_PDEATHSIG
 * ends the client if its parent dies.
 *
 * Keys: conns duration_s window_s round_trips rps p50_us p99_us cpu_us_per_rt
 * rss_per_conn_b idle_cpu_pct, plus max_us cpu_s rss_before_kb rss_conns_kb. idle_cpu_pct
 * = server CPU over the idle phase (1 s, every connection open, no traffic) in percent of
 * one core: 0 when idle connections cost nothing. tick_late_p50_us / tick_late_p99_us:
 * fairness under I/O, the lateness of a `receive` with a 1 ms timeout repeated by one more
 * process during the window; pp_p99_us: the p99 of a ping-pong pair's round trips during
 * the window (one round trip a millisecond, µs). cpu_us_per_rt = server CPU
 * (getrusage RUSAGE_SELF, utime + stime, µs resolution) over the window / round trips in
 * the window; rss_per_conn_b = (VmRSS with every connection open − VmRSS before
 * listening) / CONNS. Checks: every connection did at least one round trip, every echo
 * matched, the server echoed exactly the client's round trips, the client exited 0, every
 * process is gone afterwards.
 */
#define _GNU_SOURCE
#include "common/bench.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <spawn.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#define PAYLOAD 64
/* Failure bound of every blocking wait (no progress for this long fails the run). */
#define BOUND_MS 60000
/* The idle phase: connections open, no traffic, server CPU measured (ms). */
#define IDLE_MS 1000

extern char **environ;

static void raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* ---- the load generator (no Hive calls) -------------------------------------------- */

typedef struct conn {
    int fd;
    uint32_t got;     /* bytes of the current echo received */
    uint64_t seq;     /* sequence number of the request in flight */
    uint64_t sent_at; /* now_ns() when it was sent */
    uint64_t rts;     /* completed round trips */
    int busy;         /* a request is in flight */
    unsigned char buf[PAYLOAD];
} conn;

static void make_payload(unsigned char *p, uint32_t idx, uint64_t seq) {
    memcpy(p, &idx, sizeof idx);
    memcpy(p + 4, &seq, sizeof seq);
    for (int i = 12; i < PAYLOAD; i++) p[i] = (unsigned char)(idx * 31u + seq * 7u + (unsigned)i);
}

static void client_send(conn *c, uint32_t idx) {
    unsigned char req[PAYLOAD];
    make_payload(req, idx, c->seq);
    c->got = 0;
    c->busy = 1;
    c->sent_at = now_ns();
    ssize_t n = send(c->fd, req, PAYLOAD, MSG_NOSIGNAL);
    /* Nothing else is in flight on the connection: 64 bytes always fit. */
    if (n != PAYLOAD) FAIL("client: send on connection %u returned %zd (errno %d)", idx, n, errno);
}

static int client_main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s client PORT CONNS SECONDS\n", argv[0]);
        return 2;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    long port = strtol(argv[2], NULL, 10);
    long nconns = strtol(argv[3], NULL, 10);
    long secs = strtol(argv[4], NULL, 10);
    if (port < 1 || port > 65535 || nconns < 1 || secs < 1) {
        fprintf(stderr, "client: bad arguments\n");
        return 2;
    }
    uint32_t n = (uint32_t)nconns;
    conn *cs = calloc(n, sizeof *cs);
    CHECK(cs != NULL, "out of memory");
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0, "epoll_create1: errno %d", errno);
    uint64_t tc0 = now_ns();
    for (uint32_t i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0, "client: socket %u: errno %d", i, errno);
        CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0,
              "client: connect %u: errno %d", i, errno);
        int one = 1;
        CHECK(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0, "nodelay");
        CHECK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0, "O_NONBLOCK");
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = i};
        CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0, "epoll_ctl: errno %d", errno);
        cs[i].fd = fd;
    }
    uint64_t tc1 = now_ns();
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    CHECK(tfd >= 0, "timerfd_create");
    const uint64_t STDIN_TAG = UINT64_MAX, TIMER_TAG = UINT64_MAX - 1;
    struct epoll_event ev0 = {.events = EPOLLIN, .data.u64 = STDIN_TAG};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev0) == 0, "epoll_ctl stdin: errno %d", errno);
    struct epoll_event evt = {.events = EPOLLIN, .data.u64 = TIMER_TAG};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &evt) == 0, "epoll_ctl timerfd");

    for (uint32_t i = 0; i < n; i++) client_send(&cs[i], i);

    enum { WARM, WAIT_GO, MEASURING, STOPPING } state = WARM;
    uint32_t warmed = 0, in_flight = n;
    uint64_t window_rt = 0, t0 = 0, t1 = 0;
    size_t cap = 1 << 16, nsamp = 0;
    uint32_t *samp = malloc(cap * sizeof *samp);
    CHECK(samp != NULL, "out of memory");
    char line[64];
    size_t line_len = 0;
    struct epoll_event evs[256];
    while (!(state == STOPPING && in_flight == 0)) {
        int ne = epoll_wait(ep, evs, 256, BOUND_MS);
        if (ne < 0 && errno == EINTR) continue;
        CHECK(ne > 0, "client: no progress for %d ms (state %d, %u in flight)", BOUND_MS,
              (int)state, in_flight);
        for (int e = 0; e < ne; e++) {
            uint64_t tag = evs[e].data.u64;
            if (tag == STDIN_TAG) {
                char ch;
                ssize_t r = read(0, &ch, 1);
                CHECK(r == 1, "client: stdin closed before go");
                if (ch != '\n') {
                    if (line_len < sizeof line - 1) line[line_len++] = ch;
                    continue;
                }
                line[line_len] = 0;
                line_len = 0;
                CHECK(strcmp(line, "go") == 0 && state == WAIT_GO,
                      "client: unexpected %s in state %d", line, (int)state);
                state = MEASURING;
                t0 = now_ns();
                struct itimerspec its = {{0, 0}, {secs, 0}};
                CHECK(timerfd_settime(tfd, 0, &its, NULL) == 0, "timerfd_settime");
                /* Nothing more is read from stdin. */
                CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL) == 0, "epoll_ctl del stdin");
                continue;
            }
            if (tag == TIMER_TAG) {
                uint64_t x;
                CHECK(read(tfd, &x, sizeof x) == (ssize_t)sizeof x, "timerfd read");
                t1 = now_ns();
                state = STOPPING;
                printf("DONE\n");
                fflush(stdout);
                continue;
            }
            uint32_t i = (uint32_t)tag;
            conn *c = &cs[i];
            CHECK(c->busy, "client: data on idle connection %u", i);
            ssize_t r = recv(c->fd, c->buf + c->got, PAYLOAD - c->got, 0);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            CHECK(r > 0, "client: connection %u: recv returned %zd (errno %d) after %" PRIu64
                  " round trips", i, r, errno, c->rts);
            c->got += (uint32_t)r;
            if (c->got < PAYLOAD) continue;
            uint64_t t = now_ns();
            unsigned char want[PAYLOAD];
            make_payload(want, i, c->seq);
            CHECK(memcmp(want, c->buf, PAYLOAD) == 0,
                  "client: connection %u: echo of request %" PRIu64 " differs", i, c->seq);
            c->busy = 0;
            if (c->rts++ == 0 && ++warmed == n && state == WARM) {
                state = WAIT_GO;
                printf("READY\n");
                fflush(stdout);
            }
            if (state == MEASURING) {
                window_rt++;
                if (nsamp == cap) {
                    cap *= 2;
                    samp = realloc(samp, cap * sizeof *samp);
                    CHECK(samp != NULL, "out of memory");
                }
                uint64_t d = t - c->sent_at;
                samp[nsamp++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
            }
            if (state == STOPPING) {
                in_flight--;
            } else {
                c->seq++;
                client_send(c, i);
            }
        }
    }
    /* Idle phase: every connection open and silent until the server says `close`. */
    printf("IDLE\n");
    fflush(stdout);
    {
        struct pollfd pfd = {.fd = 0, .events = POLLIN};
        CHECK(poll(&pfd, 1, BOUND_MS) == 1, "client: no close within %d ms", BOUND_MS);
        char line[64];
        CHECK(fgets(line, sizeof line, stdin) != NULL && strncmp(line, "close", 5) == 0,
              "client: expected close");
    }
    uint64_t total_rt = 0, min_rt = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        total_rt += cs[i].rts;
        if (cs[i].rts < min_rt) min_rt = cs[i].rts;
        close(cs[i].fd);
    }
    CHECK(min_rt >= 1, "client: a connection did no round trip");
    CHECK(nsamp >= 1, "client: no round trip completed in the window");
    qsort(samp, nsamp, sizeof *samp, cmp_u32);
    printf("ECHO window_rt=%" PRIu64 " window_s=%.6f p50_us=%.3f p99_us=%.3f max_us=%.3f "
           "total_rt=%" PRIu64 " min_conn_rt=%" PRIu64 " connect_s=%.6f\n",
           window_rt, seconds_between(t0, t1), samp[nsamp / 2] / 1e3,
           samp[(nsamp * 99) / 100] / 1e3, samp[nsamp - 1] / 1e3, total_rt, min_rt,
           seconds_between(tc0, tc1));
    fflush(stdout);
    free(samp);
    free(cs);
    return 0;
}

/* ---- the Hive server --------------------------------------------------------------- */

struct acceptor_arg {
    int64_t conns;
    int port_fd; /* the port goes to the main thread through this pipe */
};

#ifndef ECHO_ACTIVE
#define ECHO_NAME "echo"
#endif

#ifdef ECHO_ACTIVE
/* echo_active's handler: {active, once}: each chunk of a request arrives as a
 * HIVE_MSG_TCP message; a whole request is echoed, and active once is set again after
 * every message (gen_tcp's `inet:setopts(S, [{active, once}])` idiom). While it waits for
 * the next request it hibernates (hive_hibernate, erlang:hibernate/3, as a gen_server
 * returning `{noreply, State, hibernate}`): an idle connection holds no stack, only its
 * process, its socket and this state. */
struct conn_state {
    hive_socket s;
    size_t have; /* bytes of the request in buf */
    unsigned char buf[PAYLOAD];
};

/* Serves requests; entered again (on a fresh stack) after every hibernation. */
static void serve(void *arg) {
    struct conn_state *c = arg;
    hive_msg *m = NULL;
    for (;;) {
        CHECK_OK(hive_receive(-1, &m));
        int32_t kind = hive_msg_kind(m);
        if (kind == HIVE_MSG_TCP_CLOSED) {
            hive_msg_free(m);
            CHECK_EQ(c->have, 0);
            break;
        }
        CHECK_EQ(kind, HIVE_MSG_TCP);
        size_t n = hive_msg_len(m);
        CHECK(c->have + n <= PAYLOAD, "handler: %zu bytes past a request", c->have + n - PAYLOAD);
        memcpy(c->buf + c->have, hive_msg_data(m), n);
        hive_msg_free(m);
        c->have += n;
        CHECK_OK(hive_socket_setopt(c->s, HIVE_SOCKOPT_ACTIVE, -1));
        if (c->have == PAYLOAD) {
            CHECK_OK(hive_tcp_send(c->s, c->buf, PAYLOAD, BOUND_MS, NULL));
            tcount_inc();
            c->have = 0;
            /* Until the next request: the state is copied, the stack given back. */
            CHECK_OK(hive_hibernate(serve, c, sizeof *c));
        }
    }
    CHECK_OK(hive_socket_close(c->s));
}

/* Made the owner (the acceptor's `go`): active once, then serve. */
static void owned(void *arg) {
    struct conn_state *c = arg;
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(0, &m));
    hive_msg_free(m);
    CHECK_OK(hive_socket_setopt(c->s, HIVE_SOCKOPT_ACTIVE, -1));
    CHECK_OK(hive_hibernate(serve, c, sizeof *c));
}

static void handler(void *arg) {
    struct conn_state c = {*(const hive_socket *)arg, 0, {0}};
    /* Wait to be made the owner without a stack. */
    CHECK_OK(hive_hibernate(owned, &c, sizeof c));
}
#else
static void handler(void *arg) {
    hive_socket s = *(const hive_socket *)arg;
    /* Wait to be made the owner. */
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(BOUND_MS, &m));
    hive_msg_free(m);
    unsigned char buf[PAYLOAD];
    for (;;) {
        size_t got = 0;
        /* Waits as long as it takes, as a server does; a lost wake-up would stall the
         * load generator, whose own no-progress bound then fails the run. */
        hive_status r = hive_tcp_recv(s, buf, PAYLOAD, PAYLOAD, -1, &got);
        if (r == HIVE_ERR_PEER_CLOSED) {
            CHECK_EQ(got, 0);
            break;
        }
        CHECK_OK(r);
        CHECK_EQ(got, PAYLOAD);
        size_t sent = 0;
        CHECK_OK(hive_tcp_send(s, buf, PAYLOAD, BOUND_MS, &sent));
        CHECK_EQ(sent, PAYLOAD);
        tcount_inc();
    }
    CHECK_OK(hive_socket_close(s));
}
#endif

static void acceptor(void *arg) {
    struct acceptor_arg a = *(const struct acceptor_arg *)arg;
    hive_socket l;
    CHECK_OK(hive_tcp_listen("127.0.0.1", 0, 0, 0, &l));
    char ip[HIVE_SOCKET_ADDR_MAX];
    uint16_t port = 0;
    CHECK_OK(hive_socket_addr(l, 0, ip, sizeof ip, &port));
    CHECK(write(a.port_fd, &port, sizeof port) == (ssize_t)sizeof port, "port pipe");
    close(a.port_fd);
    for (int64_t i = 0; i < a.conns; i++) {
        hive_socket s;
        CHECK_OK(hive_tcp_accept(l, BOUND_MS, &s));
        CHECK_OK(hive_socket_setopt(s, HIVE_SOCKOPT_NODELAY, 1));
        hive_pid h;
        CHECK_OK(hive_spawn(handler, &s, sizeof s, NULL, &h));
        CHECK_OK(hive_socket_controlling_process(s, h));
        CHECK_OK(hive_send(h, "go", 2));
    }
    /* Exiting closes the listener. */
}

/* Fairness under I/O: a process that waits in `receive` with a 1 ms timeout, over and
 * over, while the echo runs; its lateness (wake-up minus 1 ms) says whether socket work
 * starves timers. Stops at a `stop` message. */
#define TICKS_MAX 200000
static uint32_t tick_late_us[TICKS_MAX];
static size_t tick_n;

static void ticker(void *arg) {
    (void)arg;
    for (;;) {
        uint64_t t0 = now_ns();
        hive_msg *m = NULL;
        hive_status r = hive_receive(1, &m);
        if (r == HIVE_OK) {
            hive_msg_free(m);
            return;
        }
        CHECK_EQ(r, HIVE_TIMEOUT);
        uint64_t d = now_ns() - t0;
        uint64_t late = d > 1000000 ? (d - 1000000) / 1000 : 0;
        if (tick_n < TICKS_MAX) tick_late_us[tick_n++] = late > UINT32_MAX ? UINT32_MAX : (uint32_t)late;
    }
}

/* Fairness under I/O, second measure: a ping-pong pair doing a round trip every
 * millisecond while the echo runs; the p99 of its round trips. */
static uint32_t pp_us[TICKS_MAX];
static size_t pp_n;

static void ponger(void *arg) {
    (void)arg;
    for (;;) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(-1, &m));
        hive_pid from = hive_msg_sender(m);
        int stop = hive_msg_len(m) == 1 && ((const char *)hive_msg_data(m))[0] == 'x';
        hive_msg_free(m);
        if (stop) return;
        CHECK_OK(hive_send(from, "o", 1));
    }
}

static void pinger(void *arg) {
    hive_pid pong = *(const hive_pid *)arg;
    for (;;) {
        /* One round trip per millisecond, so the pair measures latency without taking
         * CPU from the echo: wait 1 ms (a `stop` ends it), then ping. */
        hive_msg *m = NULL;
        hive_status r = hive_receive(1, &m);
        if (r == HIVE_OK) {
            hive_msg_free(m);
            CHECK_OK(hive_send(pong, "x", 1));
            return;
        }
        CHECK_EQ(r, HIVE_TIMEOUT);
        uint64_t t0 = now_ns();
        CHECK_OK(hive_send(pong, "i", 1));
        CHECK_OK(hive_receive(-1, &m));
        hive_msg_free(m);
        uint64_t d = (now_ns() - t0) / 1000;
        if (pp_n < TICKS_MAX) pp_us[pp_n++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
    }
}

static int cmp_late(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static uint64_t cpu_us(void) {
    struct rusage ru;
    CHECK(getrusage(RUSAGE_SELF, &ru) == 0, "getrusage");
    return (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
           (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
}

/* Reads one line from the client into buf (without the newline); fails on end of file. */
static void read_line(FILE *f, char *buf, size_t cap, const char *what) {
    if (!fgets(buf, (int)cap, f)) FAIL("load generator: its output ended before %s", what);
    size_t l = strlen(buf);
    if (l && buf[l - 1] == '\n') buf[l - 1] = 0;
}

int main(int argc, char **argv) {
    raise_nofile();
    if (argc >= 2 && strcmp(argv[1], "client") == 0) return client_main(argc, argv);
    long long a[2];
    uint32_t s = bench_args(argc, argv, 2, "CONNS SECONDS", a);
    int64_t conns = a[0], secs = a[1];
    CHECK(conns >= 1 && secs >= 1, "CONNS and SECONDS must be at least 1");

    bench_init(s);
    long rss0 = rss_kb();
    int pp[2];
    CHECK(pipe2(pp, O_CLOEXEC) == 0, "pipe2");
    struct acceptor_arg aa = {conns, pp[1]};
    CHECK_OK(hive_spawn(acceptor, &aa, sizeof aa, NULL, NULL));
    uint16_t port = 0;
    CHECK(read(pp[0], &port, sizeof port) == (ssize_t)sizeof port, "no port from the acceptor");
    close(pp[0]);

    /* The load generator: this binary in client mode, stdin and stdout on pipes. */
    int to_child[2], from_child[2];
    CHECK(pipe2(to_child, O_CLOEXEC) == 0 && pipe2(from_child, O_CLOEXEC) == 0, "pipe2");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&fa, from_child[1], 1);
    char port_s[16], conns_s[32], secs_s[32];
    snprintf(port_s, sizeof port_s, "%u", port);
    snprintf(conns_s, sizeof conns_s, "%lld", (long long)conns);
    snprintf(secs_s, sizeof secs_s, "%lld", (long long)secs);
    char *cargv[] = {argv[0], "client", port_s, conns_s, secs_s, NULL};
    pid_t child;
    int err = posix_spawn(&child, "/proc/self/exe", &fa, NULL, cargv, environ);
    CHECK(err == 0, "posix_spawn of the load generator: %s", strerror(err));
    posix_spawn_file_actions_destroy(&fa);
    close(to_child[0]);
    close(from_child[1]);
    FILE *from = fdopen(from_child[0], "r");
    CHECK(from != NULL, "fdopen");

    char line[512];
    read_line(from, line, sizeof line, "READY");
    CHECK(strcmp(line, "READY") == 0, "load generator said %s, expected READY", line);
    long rss_conns = rss_kb();
    hive_pid tick_pid, pong_pid, ping_pid;
    CHECK_OK(hive_spawn(ticker, NULL, 0, NULL, &tick_pid));
    CHECK_OK(hive_spawn(ponger, NULL, 0, NULL, &pong_pid));
    CHECK_OK(hive_spawn(pinger, &pong_pid, sizeof pong_pid, NULL, &ping_pid));
    uint64_t c0 = cpu_us();
    CHECK(write(to_child[1], "go\n", 3) == 3, "writing go");
    read_line(from, line, sizeof line, "DONE");
    uint64_t c1 = cpu_us();
    CHECK_OK(hive_send(tick_pid, "stop", 4));
    hive_exit_info tick_exit;
    CHECK_OK(hive_wait(tick_pid, (int64_t)BOUND_MS, &tick_exit));
    CHECK_OK(hive_send(ping_pid, "s", 1));
    CHECK_OK(hive_wait(ping_pid, (int64_t)BOUND_MS, &tick_exit));
    CHECK(pp_n >= 1, "the ping-pong did no round trip");
    qsort(pp_us, pp_n, sizeof pp_us[0], cmp_late);
    CHECK(tick_n >= 1, "the ticker never woke");
    qsort(tick_late_us, tick_n, sizeof tick_late_us[0], cmp_late);
    CHECK(strcmp(line, "DONE") == 0, "load generator said %s, expected DONE", line);
    /* Idle connections: the server's CPU over IDLE_MS with every connection open and no
     * traffic (its workers wait in the poller). */
    read_line(from, line, sizeof line, "IDLE");
    CHECK(strcmp(line, "IDLE") == 0, "load generator said %s, expected IDLE", line);
    uint64_t i0 = cpu_us();
    uint64_t t_i0 = now_ns();
    usleep(IDLE_MS * 1000);
    uint64_t i1 = cpu_us();
    double idle_s = (double)(now_ns() - t_i0) / 1e9;
    CHECK(write(to_child[1], "close\n", 6) == 6, "writing close");
    read_line(from, line, sizeof line, "its results");
    unsigned long long window_rt = 0, total_rt = 0, min_conn_rt = 0;
    double window_s = 0, p50 = 0, p99 = 0, maxl = 0, connect_s = 0;
    int parsed = sscanf(line,
                        "ECHO window_rt=%llu window_s=%lf p50_us=%lf p99_us=%lf max_us=%lf "
                        "total_rt=%llu min_conn_rt=%llu connect_s=%lf",
                        &window_rt, &window_s, &p50, &p99, &maxl, &total_rt, &min_conn_rt,
                        &connect_s);
    if (parsed != 8) FAIL("cannot parse the load generator's results: %s", line);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "load generator failed (status %d)",
          status);
    fclose(from);
    close(to_child[1]);

    /* Every handler sees end of stream and exits; the acceptor exited after the last
     * accept. */
    wait_process_count(0, 60);
    bench_shutdown(0);
    CHECK(min_conn_rt >= 1, "a connection did no round trip");
    CHECK(window_rt >= 1, "no round trip in the window");
    CHECK_EQ(tcount_sum(), total_rt);

    double cpu_s = (double)(c1 - c0) / 1e6;
    result_begin(ECHO_NAME, s);
    result_int("conns", conns);
    result_int("duration_s", secs);
    result_float("window_s", window_s);
    result_int("round_trips", (long long)window_rt);
    result_rate("rps", (double)window_rt, window_s);
    result_float("p50_us", p50);
    result_float("p99_us", p99);
    result_float("max_us", maxl);
    result_float("cpu_us_per_rt", (double)(c1 - c0) / (double)window_rt);
    result_float("rss_per_conn_b", (double)(rss_conns - rss0) * 1024.0 / (double)conns);
    result_float("cpu_s", cpu_s);
    result_int("rss_before_kb", rss0);
    result_int("rss_conns_kb", rss_conns);
    result_int("total_rt", (long long)total_rt);
    result_float("connect_s", connect_s);
    result_float("idle_cpu_pct", (double)(i1 - i0) / 1e4 / idle_s);
    result_int("tick_late_p50_us", tick_late_us[tick_n / 2]);
    result_int("tick_late_p99_us", tick_late_us[(tick_n * 99) / 100]);
    result_int("pp_p99_us", pp_us[(pp_n * 99) / 100]);
    result_end();
    return 0;
}
