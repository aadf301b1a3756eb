/* Tiny assertion helpers for the C runtime tests (the way generated code would call Hive). */
#ifndef HIVE_CHECK_H
#define HIVE_CHECK_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hive.h"

/* Number of CHECK* assertions evaluated so far (all threads and processes of the program). */
static unsigned long long hive_check_count __attribute__((unused));
#define HIVE_COUNT_CHECK() ((void)__atomic_fetch_add(&hive_check_count, 1, __ATOMIC_RELAXED))
#define CHECKS_DONE() __atomic_load_n(&hive_check_count, __ATOMIC_RELAXED)

#define CHECK(cond) do { HIVE_COUNT_CHECK(); if (!(cond)) { \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); abort(); } } while (0)
#define CHECK_EQ(a, b) do { HIVE_COUNT_CHECK(); long long _a = (long long)(a), _b = (long long)(b); if (_a != _b) { \
    fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", __FILE__, __LINE__, #a, _a, #b, _b); \
    abort(); } } while (0)
#define CHECK_OK(expr) CHECK_EQ((expr), HIVE_OK)
/* Binary comparisons that print both sides on failure (signed 64-bit comparison). */
#define CHECK_CMP_(a, op, b) do { HIVE_COUNT_CHECK(); long long _a = (long long)(a), _b = (long long)(b); \
    if (!(_a op _b)) { fprintf(stderr, "%s:%d: CHECK failed: %s %s %s (%lld vs %lld)\n", __FILE__, __LINE__, \
    #a, #op, #b, _a, _b); abort(); } } while (0)
#define CHECK_NE(a, b) CHECK_CMP_(a, !=, b)
#define CHECK_GE(a, b) CHECK_CMP_(a, >=, b)
#define CHECK_GT(a, b) CHECK_CMP_(a, >, b)
#define CHECK_LE(a, b) CHECK_CMP_(a, <=, b)
#define CHECK_LT(a, b) CHECK_CMP_(a, <, b)

#ifdef CLOCK_MONOTONIC
/* CLOCK_MONOTONIC in nanoseconds (needs _POSIX_C_SOURCE >= 199309L before the first include). */
static inline uint64_t hive_test_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
#endif

/* Messages made of one or two 64-bit words. */
static inline hive_status hive_test_send_u64(hive_pid to, uint64_t v) { return hive_send(to, &v, sizeof v); }
static inline hive_status hive_test_send_2u64(hive_pid to, uint64_t a, uint64_t b) {
    uint64_t w[2] = {a, b};
    return hive_send(to, w, sizeof w);
}
/* Word `i` of a message's payload (the payload must hold it). */
static inline uint64_t hive_test_word(const hive_msg *m, size_t i) {
    CHECK_GE(hive_msg_len(m), (i + 1) * sizeof(uint64_t));
    uint64_t v;
    memcpy(&v, hive_msg_data(m) + i * sizeof(uint64_t), sizeof v);
    return v;
}
/* Receives one message (must arrive within timeout_ms), returns word 0 and frees it. */
static inline uint64_t hive_test_recv_u64(int64_t timeout_ms) {
    hive_msg *m = NULL;
    CHECK_OK(hive_receive(timeout_ms, &m));
    uint64_t v = hive_test_word(m, 0);
    hive_msg_free(m);
    return v;
}
#endif
