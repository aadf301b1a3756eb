/* Messages through the C ABI: zero-copy hive_msg_alloc + hive_send_msg, forwarding a
 * received message, 0-byte and 10 MB messages, sends from plain pthreads (sender 0, one and
 * four threads, per-thread order), a 1 ms receive timeout, and messages racing 1 ms
 * timeouts (nothing lost, nothing duplicated, order kept). */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include "check.h"

static uint8_t pat(size_t i, uint64_t seed) { return (uint8_t)((i * 2654435761u) >> 13) ^ (uint8_t)seed; }
static void fill(uint8_t *p, size_t n, uint64_t seed) { for (size_t i = 0; i < n; i++) p[i] = pat(i, seed); }
static int same(const uint8_t *p, size_t n, uint64_t seed) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != pat(i, seed)) return 0;
    return 1;
}
static int aligned16(const void *p) { return ((uintptr_t)p & 15) == 0; }

/* ---- zero copy and forwarding ------------------------------------------------------ */
/* The relay checks a message from root, then forwards the very same message back. */
static void relay(void *arg) {
    hive_pid root;
    memcpy(&root, arg, sizeof root);
    for (;;) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(10000, &m));
        CHECK_EQ(hive_msg_sender(m), root);
        CHECK_EQ(hive_msg_kind(m), HIVE_MSG_DATA);
        size_t n = hive_msg_len(m);
        if (n == 1) { hive_msg_free(m); return; } /* stop */
        uint8_t *d = hive_msg_data(m);
        CHECK(n == 0 || d != NULL);
        if (n) {
            CHECK(aligned16(d));
            uint64_t seed = d[n - 1] ^ pat(n - 1, 0); /* recover the seed from the last byte */
            CHECK(same(d, n, seed));
            d[0] ^= 0xFF; /* writable: a received message belongs to the receiver */
        }
        CHECK_OK(hive_send_msg(root, m)); /* forward without copying */
    }
}
static int32_t match_sender(void *env, const hive_msg *m) { return hive_msg_sender(m) == *(hive_pid *)env; }
static void root_zero_copy(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), r;
    CHECK_OK(hive_spawn(relay, &self, sizeof self, NULL, &r));
    const size_t sizes[] = {0, 2, 3, 16, 255, 4096, 65537, (size_t)10 << 20};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        uint64_t seed = 17 + k;
        hive_msg *m = NULL;
        CHECK_OK(hive_msg_alloc(n, &m));
        CHECK(m != NULL);
        CHECK_EQ(hive_msg_len(m), n);
        uint8_t *d = hive_msg_data(m);
        CHECK(d != NULL || n == 0);
        if (n) CHECK(aligned16(d));
        fill(d, n, seed);
        CHECK_OK(hive_send_msg(r, m));
        hive_msg *back = NULL;
        CHECK_OK(hive_receive(10000, &back));
        CHECK_EQ(hive_msg_sender(back), r); /* the forwarder is the sender now */
        CHECK_EQ(hive_msg_len(back), n);
        uint8_t *bd = hive_msg_data(back);
        if (n) {
            CHECK(bd == d); /* the payload was never copied */
            CHECK_EQ(bd[0], (uint8_t)(pat(0, seed) ^ 0xFF));
            for (size_t i = 1; i < n; i++) if (bd[i] != pat(i, seed)) CHECK(0);
        }
        hive_msg_free(back);
    }
    /* Copying sends: 0 bytes (NULL and non-NULL data) and 10 MB. */
    size_t big = (size_t)10 << 20;
    uint8_t *buf = malloc(big);
    CHECK(buf != NULL);
    fill(buf, big, 99);
    CHECK_OK(hive_send(self, buf, big));
    memset(buf, 0, big); /* the message is a copy */
    CHECK_OK(hive_send(self, NULL, 0));
    CHECK_OK(hive_send(self, buf, 0));
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(0, &m));
    CHECK_EQ(hive_msg_len(m), big);
    CHECK(aligned16(hive_msg_data(m)));
    CHECK(same(hive_msg_data(m), big, 99));
    CHECK_EQ(hive_msg_sender(m), self);
    CHECK_OK(hive_send_msg(r, m)); /* a 10 MB message through the relay and back */
    CHECK_OK(hive_receive_match(match_sender, &r, 10000, &m)); /* the 0-byte ones stay */
    CHECK_EQ(hive_msg_len(m), big);
    uint8_t *d = hive_msg_data(m);
    CHECK_EQ(d[0], (uint8_t)(pat(0, 99) ^ 0xFF));
    d[0] ^= 0xFF;
    CHECK(same(d, big, 99));
    hive_msg_free(m);
    for (int i = 0; i < 2; i++) {
        CHECK_OK(hive_receive(0, &m));
        CHECK_EQ(hive_msg_len(m), 0);
        CHECK_EQ(hive_msg_sender(m), self);
        hive_msg_free(m);
    }
    free(buf);
    /* A message allocated and freed without being sent; one sent to oneself. */
    for (int i = 0; i < 1000; i++) {
        CHECK_OK(hive_msg_alloc((size_t)i * 33, &m));
        memset(hive_msg_data(m), i, (size_t)i * 33);
        hive_msg_free(m);
    }
    CHECK_OK(hive_msg_alloc(32, &m));
    fill(hive_msg_data(m), 32, 5);
    uint8_t *p32 = hive_msg_data(m);
    CHECK_OK(hive_send_msg(self, m));
    CHECK_OK(hive_receive(0, &m)); /* seen by the very next receive */
    CHECK(hive_msg_data(m) == p32);
    CHECK_EQ(hive_msg_sender(m), self);
    CHECK_EQ(hive_msg_kind(m), HIVE_MSG_DATA);
    CHECK(same(hive_msg_data(m), 32, 5));
    hive_msg_free(m);
    CHECK_OK(hive_send(r, "x", 1)); /* stop the relay */
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
}

/* ---- sends from plain pthreads ------------------------------------------------------- */
#define N_THREADS 4
#define PER_THREAD 10000
struct tmsg { uint32_t thread; uint32_t seq; };
struct targ { hive_pid to; uint32_t id; uint32_t count; int use_alloc; };
static void *sender_thread(void *p) {
    struct targ *a = p;
    CHECK_EQ(hive_self(), 0);
    for (uint32_t i = 0; i < a->count; i++) {
        struct tmsg t = {a->id, i};
        if (a->use_alloc && (i % 2)) {
            hive_msg *m = NULL;
            CHECK_OK(hive_msg_alloc(sizeof t, &m));
            memcpy(hive_msg_data(m), &t, sizeof t);
            CHECK_OK(hive_send_msg(a->to, m));
        } else {
            CHECK_OK(hive_send(a->to, &t, sizeof t));
        }
    }
    return NULL;
}
static pthread_t g_threads[N_THREADS + 1];
static struct targ g_targs[N_THREADS + 1];
static void take_thread_messages(uint32_t first_id, uint32_t nthreads, uint32_t count) {
    uint32_t next[N_THREADS + 1] = {0};
    for (uint64_t k = 0; k < (uint64_t)nthreads * count; k++) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(10000, &m));
        CHECK_EQ(hive_msg_sender(m), 0); /* not sent by a process */
        struct tmsg t;
        CHECK_EQ(hive_msg_len(m), sizeof t);
        memcpy(&t, hive_msg_data(m), sizeof t);
        CHECK_GE(t.thread, first_id);
        CHECK_LT(t.thread, first_id + nthreads);
        CHECK_EQ(t.seq, next[t.thread]); /* per-thread order */
        next[t.thread]++;
        hive_msg_free(m);
    }
    for (uint32_t i = first_id; i < first_id + nthreads; i++) CHECK_EQ(next[i], count);
    hive_msg *m = NULL;
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
}
static void root_threads(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    /* One thread, then four concurrently. Threads are joined by main after hive_run. */
    g_targs[0] = (struct targ){self, 0, 1000, 1};
    CHECK_EQ(pthread_create(&g_threads[0], NULL, sender_thread, &g_targs[0]), 0);
    take_thread_messages(0, 1, 1000);
    for (uint32_t i = 1; i <= N_THREADS; i++) {
        g_targs[i] = (struct targ){self, i, PER_THREAD, (int)(i % 2)};
        CHECK_EQ(pthread_create(&g_threads[i], NULL, sender_thread, &g_targs[i]), 0);
    }
    take_thread_messages(1, N_THREADS, PER_THREAD);
}

static int32_t match_all(void *env, const hive_msg *m) { (void)env; (void)m; return 1; }

/* ---- 1 ms timeout --------------------------------------------------------------- */
static void root_1ms(void *arg) {
    (void)arg;
    for (int i = 0; i < 20; i++) {
        hive_msg *m = NULL;
        uint64_t t0 = hive_test_now_ns();
        CHECK_EQ(hive_receive(1, &m), HIVE_TIMEOUT);
        CHECK_GE(hive_test_now_ns() - t0, 1000000ull);
        t0 = hive_test_now_ns();
        CHECK_EQ(hive_receive_match(match_all, NULL, 1, &m), HIVE_TIMEOUT);
        CHECK_GE(hive_test_now_ns() - t0, 1000000ull);
    }
}

/* ---- selective receive against a sender that is still sending ------------------------ */
/* The sender sends 1..N as fast as it can; the receiver takes N first (waiting for it while
 * the others arrive), then N-1, ..., 1: every selective receive must scan from the oldest
 * message again, whatever an earlier receive (with another predicate) had already scanned.
 * Then the same with odd numbers first, then even ones. */
#define SEL_N 2000
static void seq_sender(void *arg) {
    hive_pid to;
    memcpy(&to, arg, sizeof to);
    for (uint64_t i = 1; i <= SEL_N; i++) CHECK_OK(hive_test_send_u64(to, i));
}
static int32_t match_value(void *env, const hive_msg *m) { return hive_test_word(m, 0) == *(uint64_t *)env; }
static void root_selective(void *arg) {
    (void)arg;
    hive_pid self = hive_self();
    hive_msg *m = NULL;
    CHECK_OK(hive_spawn(seq_sender, &self, sizeof self, NULL, NULL));
    for (uint64_t want = SEL_N; want >= 1; want--) {
        CHECK_OK(hive_receive_match(match_value, &want, 10000, &m));
        CHECK_EQ(hive_test_word(m, 0), want);
        hive_msg_free(m);
    }
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
    CHECK_OK(hive_spawn(seq_sender, &self, sizeof self, NULL, NULL));
    for (uint64_t k = 0; k < SEL_N; k++) {
        uint64_t want = k < SEL_N / 2 ? 2 * k + 1 : 2 * (k - SEL_N / 2) + 2;
        CHECK_OK(hive_receive_match(match_value, &want, 10000, &m));
        CHECK_EQ(hive_test_word(m, 0), want);
        hive_msg_free(m);
    }
    CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
}

/* ---- many timers at once ---------------------------------------------------------- */
#define N_TIMED 1000
#define N_LONG 100
static hive_pid g_timer_root;
static void timed(void *arg) {
    uint64_t t;
    memcpy(&t, arg, sizeof t);
    hive_msg *m = NULL;
    uint64_t t0 = hive_test_now_ns();
    hive_status s = hive_receive((int64_t)t, &m);
    uint64_t e = hive_test_now_ns() - t0;
    if (t >= 10000) { /* long ones are woken by root's message */
        CHECK_OK(s);
        CHECK_EQ(hive_test_word(m, 0), 0x11);
        hive_msg_free(m);
        CHECK_EQ(hive_receive(0, &m), HIVE_TIMEOUT);
    } else {
        CHECK_EQ(s, HIVE_TIMEOUT);
        CHECK_GE(e, t * 1000000);
    }
    CHECK_OK(hive_test_send_2u64(g_timer_root, t, e));
}
static void root_many_timers(void *arg) {
    (void)arg;
    g_timer_root = hive_self();
    hive_pid longs[N_LONG];
    for (int i = 0; i < N_LONG; i++) {
        uint64_t t = 10000 + (uint64_t)i;
        CHECK_OK(hive_spawn(timed, &t, sizeof t, NULL, &longs[i]));
    }
    for (int i = 0; i < N_TIMED; i++) {
        uint64_t t = 1 + (uint64_t)(i * 7 % 50);
        CHECK_OK(hive_spawn(timed, &t, sizeof t, NULL, NULL));
    }
    for (int i = 0; i < N_TIMED; i++) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(10000, &m));
        uint64_t t = hive_test_word(m, 0), e = hive_test_word(m, 1);
        CHECK_LT(t, 51);
        CHECK_GE(e, t * 1000000);
        CHECK_LT(e, t * 1000000 + 5000000000ull); /* failure bound */
        hive_msg_free(m);
    }
    for (int i = 0; i < N_LONG; i++) CHECK_OK(hive_test_send_u64(longs[i], 0x11));
    for (int i = 0; i < N_LONG; i++) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(9000, &m)); /* well before their 10 s timeouts */
        CHECK_GE(hive_test_word(m, 0), 10000);
        hive_msg_free(m);
    }
}

/* ---- messages racing 1 ms timeouts ------------------------------------------------- */
#define RACE_ITERS 2000
enum { R_DATA = 1, R_DONE };
/* Sends numbered messages to the receiver at random moments (busy pauses of 0-2 ms, made
 * of reduction checks), until told to stop; then reports how many it sent. */
static void race_sender(void *arg) {
    hive_pid to;
    memcpy(&to, arg, sizeof to);
    unsigned seed = (unsigned)hive_test_now_ns();
    uint64_t sent = 0;
    for (;;) {
        hive_msg *m = NULL;
        if (hive_receive(0, &m) == HIVE_OK) { /* stop */
            hive_msg_free(m);
            break;
        }
        uint64_t pause_ns = (uint64_t)(rand_r(&seed) % 2000) * 1000;
        uint64_t t0 = hive_test_now_ns();
        while (hive_test_now_ns() - t0 < pause_ns) CHECK_OK(hive_reduction_check());
        CHECK_OK(hive_test_send_2u64(to, R_DATA, ++sent));
    }
    CHECK_OK(hive_test_send_2u64(to, R_DONE, sent));
}
static uint64_t g_race_sent, g_race_in_loop, g_race_timeouts;
static void root_race(void *arg) {
    (void)arg;
    hive_pid self = hive_self(), s;
    CHECK_OK(hive_spawn(race_sender, &self, sizeof self, NULL, &s));
    uint64_t got = 0, timeouts = 0;
    for (int i = 0; i < RACE_ITERS; i++) {
        hive_msg *m = NULL;
        hive_status st = (i % 2) ? hive_receive(1, &m) : hive_receive_match(match_all, NULL, 1, &m);
        if (st == HIVE_TIMEOUT) { timeouts++; continue; }
        CHECK_OK(st);
        CHECK_EQ(hive_test_word(m, 0), R_DATA);
        CHECK_EQ(hive_test_word(m, 1), got + 1); /* none lost, none duplicated, in order */
        got++;
        hive_msg_free(m);
    }
    g_race_in_loop = got;
    CHECK_OK(hive_send(s, "stop", 4));
    for (;;) {
        hive_msg *m = NULL;
        CHECK_OK(hive_receive(10000, &m));
        uint64_t tag = hive_test_word(m, 0), v = hive_test_word(m, 1);
        hive_msg_free(m);
        if (tag == R_DONE) {
            CHECK_EQ(v, got); /* total received == total sent */
            g_race_sent = v;
            break;
        }
        CHECK_EQ(tag, R_DATA);
        CHECK_EQ(v, got + 1);
        got++;
    }
    g_race_timeouts = timeouts;
    CHECK_GT(timeouts, 0);
    CHECK_GT(g_race_in_loop, 0);
}

int main(void) {
    CHECK_OK(hive_init(NULL));
    hive_exit_info info;
    CHECK_OK(hive_run(root_zero_copy, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_OK(hive_run(root_threads, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    for (int i = 0; i <= N_THREADS; i++) CHECK_EQ(pthread_join(g_threads[i], NULL), 0);
    CHECK_OK(hive_run(root_1ms, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_OK(hive_run(root_selective, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_OK(hive_run(root_many_timers, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_OK(hive_run(root_race, NULL, 0, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    uint64_t stopped = 99;
    CHECK_OK(hive_shutdown(&stopped));
    CHECK_LE(stopped, 4 + N_TIMED + N_LONG); /* helpers that were still returning, at most */
    printf("abi_messages: %llu checks ok (race: %llu sent, %llu received during %d receives with "
           "1 ms timeout, %llu timeouts)\n", CHECKS_DONE(), (unsigned long long)g_race_sent,
           (unsigned long long)g_race_in_loop, RACE_ITERS, (unsigned long long)g_race_timeouts);
    return 0;
}
