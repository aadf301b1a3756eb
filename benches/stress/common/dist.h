/*
 * dist.h - shared helpers of the distribution benches (dist_ping_pong, dist_throughput,
 * dist_fan_in): two Hive nodes in two OS processes on loopback.
 *
 * main() calls dist_fork() before hive_init: the OS process forks; the child is node B
 * (`benchB_<ppid>@localhost`), the parent node A (`benchA_<pid>@localhost`). A picks a free
 * TCP port P and starts distribution with `epmd_port = P, flags =
 * HIVE_DIST_OWN_PORT_MAPPER`: nothing answers on P, so A starts Hive's own port mapper
 * there. Then A tells B (a pipe) to start: B starts with the same P and
 * HIVE_DIST_NO_START_EPMD (it registers with A's mapper), registers its server process as
 * `bench`, and says it is ready (another pipe). Both listen on 127.0.0.1:0 with a fixed
 * cookie. A's processes reach B's server with hive_send_remote_name(B, "bench", ...) and
 * learn the pids of B's processes from their replies (hive_msg_sender). The child dies
 * with the parent (PR_SET_PDEATHSIG) and the parent reaps it (dist_wait_child): a child
 * that failed a check (exit status != 0) fails the run.
 *
 * Messages are `bmsg` (bench.h), 24 bytes, or bigger buffers that start with one. Raw
 * bytes sent to another node arrive there as an ETF binary (131, 109, len32, bytes):
 * dist_bytes() unwraps it (and passes local, raw messages through).
 *
 * B's server (dist_b_root) serves every workload:
 *   D_HELLO_ECHO {val=K}: spawns an echo process for the sender; it replies D_READY (so the
 *     sender learns its pid), then answers each D_PING by sending the message back to its
 *     sender unchanged (hive_send_msg, no copy), checking the sequence numbers are
 *     0, 1, 2 ...; on D_STOP it replies D_COUNT {val=pings answered} and exits.
 *   D_HELLO_SINK {aux=W, pid=S, val=K}: spawns a sink for S senders of K D_DATA messages
 *     each ({aux=sender index, pid=message length, val=sequence number}); it replies
 *     D_READY, checks every message (length, index, per-sender order), sends D_ACK
 *     {val=n} to the data's sender after every W messages of that sender (n = that
 *     sender's count so far; W=0: none), and D_DONE {val=count, pid=bytes} to the hello's
 *     sender after the S*K-th, then exits. K = 0 is a stream of unknown length: each
 *     sender ends its stream with D_END {aux=index, val=messages sent}, and D_DONE follows
 *     the S-th D_END.
 *   D_CONNECT {val=I}: replied with D_CONNECT {val=I} (dist_connect's round trip); the
 *     server monitors node A first and, on its {nodedown, A}, writes a byte on the ready
 *     pipe, so A knows B has dropped the connection before it connects again.
 *   D_STOP: replies D_BYE and returns (node B then stops).
 *
 * TLS: when the environment variable HIVE_BENCH_TLS_DIR names a directory (the runner
 * makes a throwaway PKI there for the `_tls` workloads), both nodes start with
 * tls_cert_file = DIR/node.pem, tls_key_file = DIR/node.key, tls_ca_file = DIR/ca.pem:
 * mutual TLS, the certificate valid for localhost and 127.0.0.1.
 */
#ifndef HIVE_BENCH_DIST_H
#define HIVE_BENCH_DIST_H

#include "common/bench.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

enum {
    D_HELLO_ECHO = 1,
    D_HELLO_SINK,
    D_READY,
    D_PING,
    D_STOP,
    D_COUNT,
    D_DATA,
    D_ACK,
    D_DONE,
    D_BYE,
    D_END,
    D_CONNECT,
    /* local (node A) messages */
    L_READY = 64,
    L_GO,
    L_DONE,
    L_COUNT,
};

#define DIST_COOKIE "hive-bench-cookie"
#define DIST_SERVER "bench"
/* Every receive on node A is bounded: a lost message or a dead node B fails the run. */
#define DIST_RECV_MS 30000

static struct {
    pid_t child;
    uint16_t epmd_port;
    char node_a[96], node_b[96];
    int go_w, ready_r; /* parent's ends */
    int go_r, ready_w; /* child's ends */
    int tls;           /* HIVE_BENCH_TLS_DIR is set: both nodes use TLS */
    char tls_cert[4096], tls_key[4096], tls_ca[4096];
} dist_g;

#define DIST_TLS_ENV "HIVE_BENCH_TLS_DIR"

/* Reads HIVE_BENCH_TLS_DIR (before the fork): the PEM files of both nodes. */
static inline void dist_tls_setup(void) {
    const char *dir = getenv(DIST_TLS_ENV);
    if (!dir || !*dir) return;
    dist_g.tls = 1;
    snprintf(dist_g.tls_cert, sizeof dist_g.tls_cert, "%s/node.pem", dir);
    snprintf(dist_g.tls_key, sizeof dist_g.tls_key, "%s/node.key", dir);
    snprintf(dist_g.tls_ca, sizeof dist_g.tls_ca, "%s/ca.pem", dir);
    const char *files[3] = {dist_g.tls_cert, dist_g.tls_key, dist_g.tls_ca};
    for (int i = 0; i < 3; i++)
        CHECK(access(files[i], R_OK) == 0, "%s=%s: cannot read %s", DIST_TLS_ENV, dir,
              files[i]);
}

static inline uint16_t dist_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind: %s", strerror(errno));
    socklen_t len = sizeof a;
    CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0, "getsockname");
    close(fd);
    return ntohs(a.sin_port);
}

static inline void dist_start_node(const char *name, uint32_t flags) {
    hive_dist_options o;
    memset(&o, 0, sizeof o);
    o.name = name;
    o.cookie = DIST_COOKIE;
    o.cookie_len = strlen(DIST_COOKIE);
    o.listen = "127.0.0.1:0";
    o.epmd_port = dist_g.epmd_port;
    o.flags = flags;
    /* HIVE_BENCH_LANES: connections per node pair (unset: the runtime's default, 1). */
    const char *lanes = getenv("HIVE_BENCH_LANES");
    if (lanes) o.lanes = (uint32_t)atoi(lanes);
    if (dist_g.tls) {
        o.tls_cert_file = dist_g.tls_cert;
        o.tls_key_file = dist_g.tls_key;
        o.tls_ca_file = dist_g.tls_ca;
    }
    CHECK_OK(hive_dist_start(&o, NULL, NULL));
}

/* Reads one byte from fd within timeout_ms; fails otherwise. */
static inline void dist_read_byte(int fd, int timeout_ms, const char *what) {
    struct pollfd p = {fd, POLLIN, 0};
    int r;
    do {
        r = poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    CHECK(r == 1, "timed out waiting for %s", what);
    char c;
    CHECK(read(fd, &c, 1) == 1, "%s: the other node's process went away", what);
}

static inline void dist_write_byte(int fd) {
    char c = 'R';
    CHECK(write(fd, &c, 1) == 1, "pipe write: %s", strerror(errno));
}

static void dist_b_root(void *arg);

/* Forks node B (which never returns from here) and, in the parent, starts node A on
 * `schedulers` schedulers and waits until B's server is registered. Call it before
 * hive_init, with nothing buffered on stdout. */
static inline void dist_fork(uint32_t schedulers) {
    pid_t parent = getpid();
    dist_tls_setup();
    dist_g.epmd_port = dist_free_port();
    snprintf(dist_g.node_a, sizeof dist_g.node_a, "benchA_%d@localhost", (int)parent);
    snprintf(dist_g.node_b, sizeof dist_g.node_b, "benchB_%d@localhost", (int)parent);
    int go[2], ready[2];
    CHECK(pipe(go) == 0 && pipe(ready) == 0, "pipe: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t child = fork();
    CHECK(child >= 0, "fork: %s", strerror(errno));
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1); /* the parent died before prctl */
        close(go[1]);
        close(ready[0]);
        dist_g.go_r = go[0];
        dist_g.ready_w = ready[1];
        dist_read_byte(dist_g.go_r, 60000, "node A to start");
        bench_init(schedulers);
        dist_start_node(dist_g.node_b, HIVE_DIST_NO_START_EPMD);
        hive_exit_info info;
        CHECK_OK(hive_run(dist_b_root, NULL, 0, NULL, &info));
        CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
        /* The connection to A closes when A stops; leftover processes (none expected) are
         * stopped by the shutdown. */
        hive_dist_stop();
        CHECK_OK(hive_shutdown(NULL));
        _exit(0);
    }
    dist_g.child = child;
    close(go[0]);
    close(ready[1]);
    dist_g.go_w = go[1];
    dist_g.ready_r = ready[0];
    bench_init(schedulers);
    dist_start_node(dist_g.node_a, HIVE_DIST_OWN_PORT_MAPPER);
    dist_write_byte(dist_g.go_w);
    dist_read_byte(dist_g.ready_r, 60000, "node B to register its server");
}

/* Reaps node B (after A's root told it to stop); fails unless it exited with status 0. */
static inline void dist_wait_child(void) {
    int st = 0;
    uint64_t t0 = now_ns();
    for (;;) {
        pid_t r = waitpid(dist_g.child, &st, WNOHANG);
        CHECK(r >= 0, "waitpid: %s", strerror(errno));
        if (r == dist_g.child) break;
        if (seconds_between(t0, now_ns()) > 30) {
            kill(dist_g.child, SIGKILL);
            FAIL("node B (pid %d) did not exit within 30 s of being told to stop",
                 (int)dist_g.child);
        }
        sleep_ns(1000000);
    }
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "node B (pid %d) failed: status %#x",
          (int)dist_g.child, st);
}

/* Node A's end: runs `root` as the root process, stops distribution and the runtime
 * (checking that no process is left), then reaps node B. */
static inline void dist_run_root(hive_entry_fn root, const void *arg, size_t len) {
    hive_exit_info info;
    CHECK_OK(hive_run(root, arg, len, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_OK(hive_dist_stop());
    wait_process_count(0, 60);
    bench_shutdown(0);
    dist_wait_child();
}

/* utime + stime of OS process `pid` in clock ticks (/proc/<pid>/stat fields 14, 15). */
static inline uint64_t dist_cpu_ticks_of(pid_t pid) {
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) FAIL("cannot open %s", path);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) FAIL("cannot parse %s", path);
    p++;
    unsigned long long utime = 0, stime = 0;
    for (int field = 3; field <= 15; field++) {
        while (*p == ' ') p++;
        if (!*p) FAIL("short %s", path);
        if (field == 14) utime = strtoull(p, NULL, 10);
        if (field == 15) stime = strtoull(p, NULL, 10);
        while (*p && *p != ' ') p++;
    }
    return (uint64_t)(utime + stime);
}

/* The bytes of a message: an ETF binary (131, 109, len32 big-endian, bytes), as raw bytes
 * from another Hive node arrive, is unwrapped; anything else (a local message) is returned
 * as it is. */
static inline const uint8_t *dist_bytes(const hive_msg *m, size_t *len) {
    const uint8_t *d = hive_msg_data(m);
    size_t n = hive_msg_len(m);
    if (n >= 6 && d[0] == 131 && d[1] == 109) {
        size_t inner = ((size_t)d[2] << 24) | ((size_t)d[3] << 16) | ((size_t)d[4] << 8) | d[5];
        CHECK(inner + 6 == n, "ETF binary of %zu bytes in a message of %zu", inner, n);
        *len = inner;
        return d + 6;
    }
    *len = n;
    return d;
}

/* The bmsg header of message m (its first 24 bytes); the whole length goes to *len. */
static inline bmsg dist_hdr(const hive_msg *m, size_t *len) {
    size_t n;
    const uint8_t *d = dist_bytes(m, &n);
    CHECK(n >= sizeof(bmsg), "message of %zu bytes, expected at least %zu", n, sizeof(bmsg));
    bmsg b;
    memcpy(&b, d, sizeof b);
    if (len) *len = n;
    return b;
}

/* Receives a bmsg within DIST_RECV_MS (a lost message or a dead node fails the run);
 * the sender goes to *from when from is not NULL. */
static inline bmsg dist_recv(hive_pid *from, const char *who) {
    hive_msg *m;
    hive_status st = hive_receive(DIST_RECV_MS, &m);
    if (st == HIVE_TIMEOUT) FAIL("%s: nothing received within %d ms", who, DIST_RECV_MS);
    CHECK_OK(st);
    size_t n;
    bmsg b = dist_hdr(m, &n);
    CHECK(n == sizeof b, "%s: message of %zu bytes (tag %u), expected %zu", who, n, b.tag,
          sizeof b);
    if (from) *from = hive_msg_sender(m);
    hive_msg_free(m);
    return b;
}

static inline bmsg dist_recv_tag(uint32_t tag, hive_pid *from, const char *who) {
    bmsg b = dist_recv(from, who);
    if (b.tag != tag) FAIL("%s: got tag %u, expected %u", who, b.tag, tag);
    return b;
}

/* Sends a bmsg to a pid (local or remote). */
static inline void dist_send(hive_pid to, uint32_t tag, uint32_t aux, uint64_t pid,
                             int64_t val) {
    bmsg m = {tag, aux, pid, val};
    CHECK_OK(hive_send(to, &m, sizeof m));
}

/* Sends a bmsg to B's server, {bench, B} ! Msg. */
static inline void dist_send_server(uint32_t tag, uint32_t aux, uint64_t pid, int64_t val) {
    bmsg m = {tag, aux, pid, val};
    CHECK_OK(hive_send_remote_name(dist_g.node_b, DIST_SERVER, strlen(DIST_SERVER), &m,
                                   sizeof m));
}

/* Node A's last step: tells B's server to stop and waits for its D_BYE. */
static inline void dist_stop_b(void) {
    dist_send_server(D_STOP, 0, 0, 0);
    dist_recv_tag(D_BYE, NULL, "stop node B");
}

/* ---- node B ------------------------------------------------------------------------ */

struct dist_echo_arg {
    hive_pid peer;
};

static void dist_b_echo(void *arg) {
    struct dist_echo_arg a;
    memcpy(&a, arg, sizeof a);
    dist_send(a.peer, D_READY, 0, 0, 0);
    int64_t answered = 0;
    for (;;) {
        hive_msg *m;
        CHECK_OK(hive_receive(-1, &m));
        bmsg b = dist_hdr(m, NULL);
        if (b.tag == D_PING) {
            if (b.val != answered)
                FAIL("node B echo: ping %lld, expected %lld", (long long)b.val,
                     (long long)answered);
            answered++;
            CHECK_OK(hive_send_msg(hive_msg_sender(m), m)); /* back unchanged */
        } else if (b.tag == D_STOP) {
            hive_msg_free(m);
            dist_send(a.peer, D_COUNT, 0, 0, answered);
            return;
        } else {
            FAIL("node B echo: unexpected tag %u", b.tag);
        }
    }
}

struct dist_sink_arg {
    hive_pid requester;
    uint32_t window;
    uint64_t senders;
    int64_t per_sender;
};

static void dist_b_sink(void *arg) {
    struct dist_sink_arg a;
    memcpy(&a, arg, sizeof a);
    int64_t *next = calloc(a.senders, sizeof *next);
    CHECK(next != NULL, "out of memory");
    dist_send(a.requester, D_READY, 0, 0, 0);
    /* K = 0: a stream, until every sender's D_END. */
    int stream = a.per_sender == 0;
    int64_t total = (int64_t)a.senders * a.per_sender, count = 0;
    uint64_t bytes = 0, ended = 0;
    while (stream ? ended < a.senders : count < total) {
        hive_msg *m;
        CHECK_OK(hive_receive(-1, &m));
        size_t n;
        bmsg b = dist_hdr(m, &n);
        if (stream && b.tag == D_END) {
            if (b.aux >= a.senders || next[b.aux] < 0)
                FAIL("node B sink: end of stream from sender %u twice or out of range", b.aux);
            if (b.val != next[b.aux])
                FAIL("node B sink: sender %u ended after %lld messages, %lld arrived", b.aux,
                     (long long)b.val, (long long)next[b.aux]);
            next[b.aux] = -1;
            ended++;
            hive_msg_free(m);
            continue;
        }
        if (b.tag != D_DATA) FAIL("node B sink: unexpected tag %u", b.tag);
        if (b.pid != n) FAIL("node B sink: a message of %zu bytes says %llu", n,
                             (unsigned long long)b.pid);
        /* Data after the header is the sender's filler, byte i = i * 7 (spot-checked:
         * a frame placed at the wrong offset shifts it), and the data 16-byte aligned. */
        if (n > sizeof(bmsg)) {
            const uint8_t *d = dist_bytes(m, &n);
            size_t mid = n / 2 < sizeof(bmsg) ? sizeof(bmsg) : n / 2;
            if (d[n - 1] != (uint8_t)((n - 1) * 7) || d[mid] != (uint8_t)(mid * 7))
                FAIL("node B sink: the filler of a %zu-byte message differs", n);
        }
        if (((uintptr_t)hive_msg_data(m) & 15) != 0) FAIL("node B sink: data not 16-byte aligned");
        if (b.aux >= a.senders) FAIL("node B sink: sender index %u", b.aux);
        if (b.val != next[b.aux])
            FAIL("node B sink: sender %u sent message %lld, expected %lld", b.aux,
                 (long long)b.val, (long long)next[b.aux]);
        next[b.aux]++;
        count++;
        bytes += n;
        if (a.window && next[b.aux] % a.window == 0)
            dist_send(hive_msg_sender(m), D_ACK, 0, 0, next[b.aux]);
        hive_msg_free(m);
    }
    free(next);
    dist_send(a.requester, D_DONE, 0, bytes, count);
}

/* A {nodedown, Node} message (ETF, a tuple: 131, 104), as hive_monitor_node sends. */
static inline int dist_is_nodedown(const hive_msg *m) {
    const uint8_t *d = hive_msg_data(m);
    return hive_msg_len(m) >= 2 && d[0] == 131 && d[1] == 104;
}

static void dist_b_root(void *arg) {
    (void)arg;
    CHECK_OK(hive_register(DIST_SERVER, strlen(DIST_SERVER), hive_self()));
    dist_write_byte(dist_g.ready_w);
    for (;;) {
        hive_pid from;
        hive_msg *m;
        CHECK_OK(hive_receive(-1, &m));
        if (dist_is_nodedown(m)) {
            /* dist_connect: A dropped the connection; tell it (out of band). */
            hive_msg_free(m);
            dist_write_byte(dist_g.ready_w);
            continue;
        }
        size_t n;
        bmsg b = dist_hdr(m, &n);
        from = hive_msg_sender(m);
        hive_msg_free(m);
        CHECK(n == sizeof b, "node B server: message of %zu bytes", n);
        hive_pid p;
        if (b.tag == D_HELLO_ECHO) {
            struct dist_echo_arg ea = {from};
            CHECK_OK(hive_spawn(dist_b_echo, &ea, sizeof ea, NULL, &p));
        } else if (b.tag == D_HELLO_SINK) {
            struct dist_sink_arg sa = {from, b.aux, b.pid, b.val};
            CHECK_OK(hive_spawn(dist_b_sink, &sa, sizeof sa, NULL, &p));
        } else if (b.tag == D_CONNECT) {
            /* Monitor first: the reply lets A disconnect at once. */
            CHECK_OK(hive_monitor_node(dist_g.node_a, 1));
            dist_send(from, D_CONNECT, 0, 0, b.val);
        } else if (b.tag == D_STOP) {
            /* Say bye, then wait until A closes the connection (its hive_dist_stop), so
             * the bye is not lost in B's own stop. */
            CHECK_OK(hive_monitor_node(dist_g.node_a, 1));
            dist_send(from, D_BYE, 0, 0, 0);
            CHECK(hive_receive(DIST_RECV_MS, &m) == HIVE_OK,
                  "node B: no nodedown from A within %d ms of the bye", DIST_RECV_MS);
            hive_msg_free(m);
            return;
        } else {
            FAIL("node B server: unexpected tag %u", b.tag);
        }
    }
}

/* ---- the timed part ----------------------------------------------------------------- */

/* The wall clock and both nodes' CPU over the timed part of a run. */
typedef struct {
    uint64_t t0, ca0, cb0;
    double seconds, cpu_a_s, cpu_b_s;
} dist_timing;

/* Starts the timed part: both nodes' CPU, then the clock. */
static inline dist_timing dist_timing_start(void) {
    dist_timing t = {0};
    t.ca0 = cpu_ticks();
    t.cb0 = dist_cpu_ticks_of(dist_g.child);
    t.t0 = now_ns();
    return t;
}

/* Ends the timed part: the clock, then both nodes' CPU; sets seconds, cpu_a_s, cpu_b_s. */
static inline void dist_timing_stop(dist_timing *t) {
    uint64_t t1 = now_ns();
    uint64_t ca1 = cpu_ticks(), cb1 = dist_cpu_ticks_of(dist_g.child);
    t->seconds = seconds_between(t->t0, t1);
    t->cpu_a_s = cpu_s_between(t->ca0, ca1);
    t->cpu_b_s = cpu_s_between(t->cb0, cb1);
}

/* The keys cpu_s (both nodes' CPU over the timed part), then cpu_a_s, cpu_b_s and tls
(1 when both nodes ran TLS distribution). */
static inline void dist_result_cpu(const dist_timing *t) {
    result_float("cpu_s", t->cpu_a_s + t->cpu_b_s);
    result_float("cpu_a_s", t->cpu_a_s);
    result_float("cpu_b_s", t->cpu_b_s);
    result_int("tls", dist_g.tls);
}

/* ---- latency percentiles ----------------------------------------------------------- */

static inline int dist_cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile (0 < p <= 100, nearest rank) of n sorted values. */
static inline uint64_t dist_pct(const uint64_t *sorted, size_t n, double p) {
    size_t r = (size_t)ceil(p / 100.0 * (double)n);
    if (r < 1) r = 1;
    if (r > n) r = n;
    return sorted[r - 1];
}

#endif
