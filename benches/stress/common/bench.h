/*
 * bench.h - shared helpers of Hive's stress programs (benches/stress/<workload>.c).
 *
 * Contract with the runner (benches/src/bin/hive-stress.rs):
 *   target/stress/bin/<workload> <schedulers> <args...>
 * prints exactly one line on stdout,
 *   RESULT lang=hive name=<workload> schedulers=<S> key=value ...
 * with the keys of /work/shared/bench/baselines.md; everything else goes to stderr.
 * Exit status 0 on success, 1 when a check fails, 2 on bad usage.
 *
 * Method (as the Erlang peers in benches/peers/erlang/):
 *   - time with clock_gettime(CLOCK_MONOTONIC);
 *   - cpu_s = utime + stime of the whole OS process (fields 14 and 15 of /proc/self/stat)
 *     over the timed part, in seconds (10 ms resolution);
 *   - rss = VmRSS from /proc/self/status, in kB;
 *   - numbers are formatted as hive_peer_util:fmt/1 formats them (integers as they are,
 *     floats with about 4 significant digits, floats >= 1000 rounded to integers).
 *
 * Include this header first: it sets _POSIX_C_SOURCE for clock_gettime and nanosleep.
 */
#ifndef HIVE_BENCH_H
#define HIVE_BENCH_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hive.h"

/* ---- checks ------------------------------------------------------------------------ */

/* Reports a failed check on stderr and ends the OS process with status 1. Safe to call
 * from a process (worker thread): it does not run atexit handlers or join anything. */
static inline void bench_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
static inline void bench_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s:%d: CHECK failed: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    fflush(stdout);
    _Exit(1);
}

#define FAIL(...) bench_fail(__FILE__, __LINE__, __VA_ARGS__)

/* CHECK(cond, "fmt", args...): fail with a message unless cond holds. */
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) bench_fail(__FILE__, __LINE__, "(" #cond ") " __VA_ARGS__);           \
    } while (0)

/* CHECK_OK(call): the hive_* call must return HIVE_OK. */
#define CHECK_OK(call)                                                                     \
    do {                                                                                   \
        hive_status check_ok_s_ = (call);                                                  \
        if (check_ok_s_ != HIVE_OK)                                                        \
            bench_fail(__FILE__, __LINE__, "%s returned %d (%s)", #call, (int)check_ok_s_, \
                       bench_status_name(check_ok_s_));                                    \
    } while (0)

/* CHECK_EQ(a, b): both sides are compared (and printed) as signed 64-bit integers. */
#define CHECK_EQ(a, b)                                                                     \
    do {                                                                                   \
        long long check_eq_a_ = (long long)(a), check_eq_b_ = (long long)(b);              \
        if (check_eq_a_ != check_eq_b_)                                                    \
            bench_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, check_eq_a_,  \
                       check_eq_b_);                                                       \
    } while (0)

static inline const char *bench_status_name(hive_status s) {
    switch (s) {
    case HIVE_OK: return "HIVE_OK";
    case HIVE_TIMEOUT: return "HIVE_TIMEOUT";
    case HIVE_ERR_NOT_INITIALIZED: return "HIVE_ERR_NOT_INITIALIZED";
    case HIVE_ERR_ALREADY_INITIALIZED: return "HIVE_ERR_ALREADY_INITIALIZED";
    case HIVE_ERR_SHUT_DOWN: return "HIVE_ERR_SHUT_DOWN";
    case HIVE_ERR_NULL_POINTER: return "HIVE_ERR_NULL_POINTER";
    case HIVE_ERR_BAD_LENGTH: return "HIVE_ERR_BAD_LENGTH";
    case HIVE_ERR_BAD_ARGUMENT: return "HIVE_ERR_BAD_ARGUMENT";
    case HIVE_ERR_NOT_A_PROCESS: return "HIVE_ERR_NOT_A_PROCESS";
    case HIVE_ERR_NO_PROCESS: return "HIVE_ERR_NO_PROCESS";
    case HIVE_ERR_SYSTEM_LIMIT: return "HIVE_ERR_SYSTEM_LIMIT";
    case HIVE_ERR_NO_MEMORY: return "HIVE_ERR_NO_MEMORY";
    case HIVE_ERR_IN_PROCESS: return "HIVE_ERR_IN_PROCESS";
    case HIVE_ERR_INTERNAL: return "HIVE_ERR_INTERNAL";
    case HIVE_ERR_NAME_TAKEN: return "HIVE_ERR_NAME_TAKEN";
    case HIVE_ERR_ALREADY_NAMED: return "HIVE_ERR_ALREADY_NAMED";
    case HIVE_ERR_NOT_REGISTERED: return "HIVE_ERR_NOT_REGISTERED";
    case HIVE_ERR_NO_TIMER: return "HIVE_ERR_NO_TIMER";
    default: return "unknown status";
    }
}

/* ---- time, CPU, memory ------------------------------------------------------------- */

/* Monotonic time in nanoseconds. */
static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Seconds between two now_ns() readings. */
static inline double seconds_between(uint64_t t0, uint64_t t1) {
    return (double)(t1 - t0) / 1e9;
}

static inline void sleep_ns(long ns) {
    struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* utime + stime of this OS process in clock ticks (fields 14 and 15 of /proc/self/stat). */
static inline uint64_t cpu_ticks(void) {
    char buf[2048];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f) FAIL("cannot open /proc/self/stat");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* Field 2 (comm) is in parentheses and may contain spaces: start after the last ')',
     * where field 3 begins. */
    char *p = strrchr(buf, ')');
    if (!p) FAIL("cannot parse /proc/self/stat");
    p++;
    unsigned long long utime = 0, stime = 0;
    for (int field = 3; field <= 15; field++) {
        while (*p == ' ') p++;
        if (!*p) FAIL("short /proc/self/stat");
        if (field == 14) utime = strtoull(p, NULL, 10);
        if (field == 15) stime = strtoull(p, NULL, 10);
        while (*p && *p != ' ') p++;
    }
    return (uint64_t)(utime + stime);
}

/* CPU seconds between two cpu_ticks() readings. */
static inline double cpu_s_between(uint64_t c0, uint64_t c1) {
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0) hz = 100;
    return (double)(c1 - c0) / (double)hz;
}

/* VmRSS of this OS process in kB (/proc/self/status). */
static inline long rss_kb(void) {
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) FAIL("cannot open /proc/self/status");
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    if (kb < 0) FAIL("no VmRSS in /proc/self/status");
    return kb;
}

/* Peak VmRSS of this OS process so far (VmHWM), in kB. */
static inline long rss_hwm_kb(void) {
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) FAIL("cannot open /proc/self/status");
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    if (kb < 0) FAIL("no VmHWM in /proc/self/status");
    return kb;
}

/* ---- arguments and start-up -------------------------------------------------------- */

/* Parses `<schedulers> <arg>...`: exactly `nargs` non-negative integers after the
 * scheduler count. Exits with status 2 (usage) otherwise. */
static inline uint32_t bench_args(int argc, char **argv, int nargs, const char *usage,
                                  long long *out) {
    if (argc != nargs + 2) {
        fprintf(stderr, "usage: %s <schedulers> %s\n", argv[0], usage);
        exit(2);
    }
    long long v[64];
    for (int i = 1; i < argc && i < 65; i++) {
        char *end;
        errno = 0;
        v[i - 1] = strtoll(argv[i], &end, 10);
        if (errno || end == argv[i] || *end || v[i - 1] < 0) {
            fprintf(stderr, "%s: argument %d (%s) is not a non-negative integer\nusage: %s "
                            "<schedulers> %s\n",
                    argv[0], i, argv[i], argv[0], usage);
            exit(2);
        }
    }
    if (v[0] < 1 || v[0] > 1024) {
        fprintf(stderr, "%s: schedulers must be 1..1024\n", argv[0]);
        exit(2);
    }
    for (int i = 0; i < nargs; i++) out[i] = v[i + 1];
    return (uint32_t)v[0];
}

/* hive_init with `schedulers` workers and otherwise the default configuration. */
static inline void bench_init(uint32_t schedulers) {
    hive_config cfg;
    CHECK_OK(hive_config_default(&cfg));
    cfg.schedulers = schedulers;
    CHECK_OK(hive_init(&cfg));
}

static inline uint64_t process_count(void) {
    uint64_t n = 0;
    CHECK_OK(hive_process_count(&n));
    return n;
}

/* Polls hive_process_count from a non-process thread, with a short sleep between polls,
 * until it is at most `target`; fails after `timeout_s` seconds. Returns the time at
 * which the count was seen at target (now_ns()). */
static inline uint64_t wait_process_count(uint64_t target, double timeout_s) {
    uint64_t start = now_ns();
    for (;;) {
        uint64_t n = process_count();
        uint64_t t = now_ns();
        if (n <= target) return t;
        if (seconds_between(start, t) > timeout_s)
            FAIL("process count still %" PRIu64 " after %.0f s, expected %" PRIu64, n,
                 timeout_s, target);
        sleep_ns(20000); /* 20 us; the kernel rounds it up to ~60-80 us */
    }
}

/* Shuts the runtime down from the main thread and checks that it stopped exactly
 * `expected` processes. */
static inline void bench_shutdown(uint64_t expected) {
    uint64_t stopped = UINT64_MAX;
    CHECK_OK(hive_shutdown(&stopped));
    CHECK_EQ(stopped, expected);
}

/* Runs `root(copy of arg)` as the root process and waits for it (hive_run), checks it
 * returned normally, waits until every other process has exited too, and shuts the
 * runtime down (which must then stop nothing). */
static inline void bench_run_root(hive_entry_fn root, const void *arg, size_t len) {
    hive_exit_info info;
    CHECK_OK(hive_run(root, arg, len, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    wait_process_count(0, 60);
    bench_shutdown(0);
}

/* ---- the RESULT line --------------------------------------------------------------- */

static char bench_result_buf[4096];
static size_t bench_result_len;

static inline void result_append(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void result_append(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(bench_result_buf + bench_result_len,
                      sizeof bench_result_buf - bench_result_len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof bench_result_buf - bench_result_len)
        FAIL("RESULT line too long");
    bench_result_len += (size_t)n;
}

/* Starts the line: RESULT lang=hive name=<name> schedulers=<s>. */
static inline void result_begin(const char *name, uint32_t schedulers) {
    bench_result_len = 0;
    result_append("RESULT lang=hive name=%s schedulers=%u", name, schedulers);
}

static inline void result_int(const char *key, long long v) {
    result_append(" %s=%lld", key, v);
}

/* A float, formatted as hive_peer_util:fmt/1: 0 -> "0"; |v| >= 1000 -> rounded integer;
 * otherwise max(0, 3 - floor(log10|v|)) decimals with trailing zeros trimmed (one kept). */
static inline void result_float(const char *key, double v) {
    if (v == 0.0 || !isfinite(v)) {
        result_append(" %s=0", key);
        return;
    }
    if (fabs(v) >= 1000.0) {
        result_append(" %s=%lld", key, (long long)llround(v));
        return;
    }
    int digits = 3 - (int)floor(log10(fabs(v)));
    if (digits < 0) digits = 0;
    char s[64];
    snprintf(s, sizeof s, "%.*f", digits, v);
    char *dot = strchr(s, '.');
    if (dot) {
        char *e = s + strlen(s) - 1;
        while (e > dot + 1 && *e == '0') *e-- = 0;
    }
    result_append(" %s=%s", key, s);
}

/* count / seconds rounded to an integer (0 when seconds is 0), as hive_peer_util:rate/2. */
static inline void result_rate(const char *key, double count, double seconds) {
    result_int(key, seconds > 0 ? llround(count / seconds) : 0);
}

/* Prints the line on stdout (the only stdout output of a program). */
static inline void result_end(void) {
    fprintf(stdout, "%s\n", bench_result_buf);
    fflush(stdout);
}

/* ---- per-thread event counters ----------------------------------------------------- */

/* Counts events (e.g. "a spawned process ran") without a contended atomic: each worker
 * thread increments its own cache-line-sized slot, and a reader sums the slots. Only the
 * owning thread writes a slot (relaxed load + store), so no read-modify-write is needed.
 * Call tcount_inc() only between suspension points of a process (no hive_receive /
 * hive_yield between fetching and using the thread-local slot), which holds for a plain
 * function call. */
#define TCOUNT_SLOTS 1100
struct tcount_slot {
    _Atomic uint64_t v;
    char pad[64 - sizeof(uint64_t)];
};
static struct tcount_slot tcount_slots[TCOUNT_SLOTS];
static _Atomic int tcount_used;
static _Thread_local int tcount_mine = -1;

static inline void tcount_inc(void) {
    int i = tcount_mine;
    if (i < 0) {
        i = atomic_fetch_add(&tcount_used, 1);
        if (i >= TCOUNT_SLOTS) FAIL("too many threads for tcount");
        tcount_mine = i;
    }
    uint64_t v = atomic_load_explicit(&tcount_slots[i].v, memory_order_relaxed);
    atomic_store_explicit(&tcount_slots[i].v, v + 1, memory_order_release);
}

static inline uint64_t tcount_sum(void) {
    int used = atomic_load(&tcount_used);
    if (used > TCOUNT_SLOTS) used = TCOUNT_SLOTS;
    uint64_t s = 0;
    for (int i = 0; i < used; i++)
        s += atomic_load_explicit(&tcount_slots[i].v, memory_order_acquire);
    return s;
}

/* ---- messages ---------------------------------------------------------------------- */

/* Every workload's message: a tag, a small integer, a pid and a 64-bit value (the Erlang
 * tuples {tag, Pid}, {tag, I} and bare integers all fit). 24 bytes, copied in and out
 * with memcpy. */
typedef struct bmsg {
    uint32_t tag;
    uint32_t aux;
    hive_pid pid;
    int64_t val;
} bmsg;

/* Sends {tag, aux, pid, val} (a copy, like Erlang's `!`). */
static inline void send_bmsg(hive_pid to, uint32_t tag, uint32_t aux, hive_pid pid,
                             int64_t val) {
    bmsg m = {tag, aux, pid, val};
    CHECK_OK(hive_send(to, &m, sizeof m));
}

/* Receives the next message (blocking forever), copies it out and frees it; the sender
 * goes to *from when from is not NULL. */
static inline bmsg recv_bmsg(hive_pid *from) {
    hive_msg *m;
    CHECK_OK(hive_receive(-1, &m));
    if (hive_msg_len(m) != sizeof(bmsg))
        FAIL("message of %zu bytes, expected %zu", hive_msg_len(m), sizeof(bmsg));
    bmsg b;
    memcpy(&b, hive_msg_data(m), sizeof b);
    if (from) *from = hive_msg_sender(m);
    hive_msg_free(m);
    return b;
}

/* Receives the next message and checks its tag. */
static inline bmsg recv_tag(uint32_t tag) {
    bmsg b = recv_bmsg(NULL);
    if (b.tag != tag) FAIL("got a message with tag %u, expected tag %u", b.tag, tag);
    return b;
}

static inline int32_t bench_match_tag(void *env, const hive_msg *m) {
    uint32_t tag;
    if (hive_msg_len(m) != sizeof(bmsg)) return 0;
    memcpy(&tag, hive_msg_data(m), sizeof tag);
    return tag == *(const uint32_t *)env;
}

/* Selective receive (Erlang `receive tag -> ... end` with other messages left queued):
 * the oldest message with this tag. */
static inline bmsg recv_match_tag(uint32_t tag) {
    hive_msg *m;
    CHECK_OK(hive_receive_match(bench_match_tag, &tag, -1, &m));
    bmsg b;
    memcpy(&b, hive_msg_data(m), sizeof b);
    hive_msg_free(m);
    if (b.tag != tag) FAIL("selective receive of tag %u returned tag %u", tag, b.tag);
    return b;
}

/* From a process: checks that its mailbox is empty (nothing duplicated or stray). */
static inline void check_mailbox_empty(void) {
    size_t n = 99;
    CHECK_OK(hive_mailbox_len(&n));
    if (n != 0) {
        hive_msg *m;
        CHECK_OK(hive_receive(0, &m));
        bmsg b = {0, 0, 0, 0};
        if (hive_msg_len(m) == sizeof b) memcpy(&b, hive_msg_data(m), sizeof b);
        FAIL("%zu unexpected message(s) left in the mailbox; the first: %zu bytes, tag %u, "
             "val %lld",
             n, hive_msg_len(m), b.tag, (long long)b.val);
    }
}

/* ---- ping-pong latency (fairness, overload) ---------------------------------------- */

/* The pinger's receive: a lost ping or pong fails the run within 60 s instead of hanging
 * until the runner's timeout. */
static inline bmsg recv_pong(void) {
    hive_msg *m;
    hive_status st = hive_receive(60000, &m);
    if (st == HIVE_TIMEOUT) FAIL("pinger: no pong within 60 s (a lost message?)");
    CHECK_OK(st);
    CHECK_EQ(hive_msg_len(m), sizeof(bmsg));
    bmsg b;
    memcpy(&b, hive_msg_data(m), sizeof b);
    hive_msg_free(m);
    return b;
}

/* The ponger's body: answers every {ping, I} with {pong, I} to its sender until a stop
 * message, then checks that its mailbox is empty. */
static inline void pong_loop(uint32_t ping, uint32_t pong, uint32_t stop) {
    for (;;) {
        hive_pid from;
        bmsg b = recv_bmsg(&from);
        if (b.tag == stop) break;
        if (b.tag != ping) FAIL("ponger: unexpected tag %u", b.tag);
        send_bmsg(from, pong, 0, 0, b.val);
    }
    check_mailbox_empty();
}

/* One timed round trip from the pinger: t0, send {ping, i} to the ponger, receive its pong
 * (recv_pong), t1; checks that it is {pong, i}. Returns t1 - t0 in ns (CLOCK_MONOTONIC). */
static inline uint64_t ping_round_trip(hive_pid ponger, uint32_t ping, uint32_t pong, int64_t i) {
    uint64_t t0 = now_ns();
    send_bmsg(ponger, ping, 0, 0, i);
    bmsg b = recv_pong();
    uint64_t t1 = now_ns();
    if (b.tag != pong || b.val != i)
        FAIL("pinger: got tag %u val %lld, expected pong %lld", b.tag, (long long)b.val,
             (long long)i);
    return t1 - t0;
}

/* ---- computing with reduction checks (fairness, overload) -------------------------- */

/* One reduction of pure computation, about as costly as one Erlang function call, with the
 * reduction check generated code would place at a loop back-edge (the inline form of
 * docs/abi.md, which also lets a pending exit signal stop the process at once).
 *
 * The work is one step of a 64-bit LCG followed by a rotate: a dependent chain of about
 * five cycles. The Erlang peers' busy loop, `loop(N) -> loop(N + 1).`, is one call and one
 * reduction per iteration and ran at 1.40 ns per iteration (OTP 25 JIT, 2-vCPU dev VM);
 * this loop ran at 1.37 ns per reduction on the same VM (the bare check alone: 0.58 ns; a
 * hive_reduction_check() call per reduction: 6.35 ns). So a 4000-reduction slice lasts
 * about as long on either side (~5.5 us), and neither side gets shorter slices for free.
 * Returns the new state; callers keep it live (e.g. store it to a volatile sink). */
static inline uint64_t burn_reductions(hive_ctx *ctx, uint64_t x, uint64_t n) {
    for (uint64_t i = 0; i < n; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        x = (x << 7) | (x >> 57);
        if (--ctx->reductions <= 0 || ctx->signal_pending) hive_reduction_check();
    }
    return x;
}

#endif /* HIVE_BENCH_H */
