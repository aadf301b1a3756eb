/* The term encoder and decoder of the C ABI (hive_term_enc_*, hive_term_decode and its
 * accessors): a term with every kind round-trips, pids and references come back as the
 * same Hive values (named `nonode@nohost` without distribution, the node's name with it),
 * Erlang's own encodings decode (bytes as `term_to_binary` writes them), and hostile or
 * malformed input gives a status, never a crash. */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "free_port.h"

static int has(const uint8_t *d, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(d + i, needle, n) == 0) return 1;
    return 0;
}

/* {hello, 42, -1.5, <<"bin">>, [1, 2], #{pid => Self, ref => Ref}, "" } and back. */
static void round_trip(hive_pid self, uint64_t ref, const char *node) {
    hive_term_enc *e = NULL;
    CHECK_OK(hive_term_enc_new(&e));
    CHECK_OK(hive_term_enc_tuple(e, 7));
    CHECK_OK(hive_term_enc_atom(e, "hello", 5));
    CHECK_OK(hive_term_enc_int(e, 42));
    CHECK_OK(hive_term_enc_float(e, -1.5));
    CHECK_OK(hive_term_enc_binary(e, "bin", 3));
    CHECK_OK(hive_term_enc_list(e, 2));
    CHECK_OK(hive_term_enc_int(e, 1));
    CHECK_OK(hive_term_enc_int(e, INT64_MIN));
    const uint8_t *d;
    size_t len;
    CHECK_EQ(hive_term_enc_bytes(e, &d, &len), HIVE_ERR_BAD_ARGUMENT); /* unfinished */
    CHECK_OK(hive_term_enc_nil(e));
    CHECK_OK(hive_term_enc_map(e, 2));
    CHECK_OK(hive_term_enc_atom(e, "pid", 3));
    CHECK_OK(hive_term_enc_pid(e, self));
    CHECK_OK(hive_term_enc_atom(e, "ref", 3));
    CHECK_OK(hive_term_enc_ref(e, ref));
    CHECK_OK(hive_term_enc_list(e, 0));
    CHECK_OK(hive_term_enc_bytes(e, &d, &len));
    CHECK_EQ(d[0], 131);
    CHECK(has(d, len, node));
    /* A term after the end is refused, and the bytes are unchanged. */
    CHECK_EQ(hive_term_enc_int(e, 1), HIVE_ERR_BAD_ARGUMENT);

    hive_term *root = NULL;
    CHECK_OK(hive_term_decode(d, len, &root));
    CHECK_EQ(hive_term_kind(root), HIVE_TERM_TUPLE);
    size_t n = 0;
    CHECK_OK(hive_term_size(root, &n));
    CHECK_EQ(n, 7);
    const hive_term *t = hive_term_elem(root, 0);
    const uint8_t *p;
    CHECK_EQ(hive_term_kind(t), HIVE_TERM_ATOM);
    CHECK_OK(hive_term_atom(t, &p));
    CHECK_OK(hive_term_size(t, &n));
    CHECK_EQ(n, 5);
    CHECK_EQ(memcmp(p, "hello", 5), 0);
    int64_t i = 0;
    CHECK_OK(hive_term_int(hive_term_elem(root, 1), &i));
    CHECK_EQ(i, 42);
    CHECK_EQ(hive_term_int(t, &i), HIVE_ERR_BAD_ARGUMENT);
    double f = 0;
    CHECK_OK(hive_term_float(hive_term_elem(root, 2), &f));
    CHECK(f == -1.5);
    t = hive_term_elem(root, 3);
    CHECK_EQ(hive_term_kind(t), HIVE_TERM_BINARY);
    CHECK_OK(hive_term_bytes(t, &p));
    CHECK_OK(hive_term_size(t, &n));
    CHECK_EQ(n, 3);
    CHECK_EQ(memcmp(p, "bin", 3), 0);
    t = hive_term_elem(root, 4);
    CHECK_EQ(hive_term_kind(t), HIVE_TERM_LIST);
    CHECK_OK(hive_term_size(t, &n));
    CHECK_EQ(n, 2);
    CHECK_OK(hive_term_int(hive_term_elem(t, 1), &i));
    CHECK(i == INT64_MIN);
    CHECK_EQ(hive_term_kind(hive_term_tail(t)), HIVE_TERM_NIL);
    CHECK(hive_term_elem(t, 2) == NULL);
    t = hive_term_elem(root, 5);
    CHECK_EQ(hive_term_kind(t), HIVE_TERM_MAP);
    hive_pid back = 0;
    CHECK_OK(hive_term_pid(hive_term_map_value(t, 0), &back));
    CHECK_EQ(back, self);
    uint64_t r = 0;
    CHECK_OK(hive_term_ref(hive_term_map_value(t, 1), &r));
    CHECK_EQ(r, ref);
    CHECK(hive_term_map_key(t, 2) == NULL);
    CHECK_EQ(hive_term_kind(hive_term_elem(root, 6)), HIVE_TERM_NIL);
    CHECK(hive_term_elem(root, 7) == NULL);
    hive_term_free(root);
    hive_term_enc_free(e);
}

/* Bytes of term_to_binary({"abc", 1 bsl 70, <<1:3>>, 'élan', [a | b]}) on OTP 25: a
 * string, a big integer, a bitstring, Latin-1 atoms (ATOM_EXT), an improper list. */
static const uint8_t erlang_bytes[] = {
    131, 104, 5, 107, 0, 3, 97, 98, 99, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 77, 0, 0,
    0, 1, 3, 32, 100, 0, 4, 233, 108, 97, 110, 108, 0, 0, 0, 1, 100, 0, 1, 97, 100, 0, 1, 98};

static void erlang_encodings(void) {
    hive_term *root = NULL;
    CHECK_OK(hive_term_decode(erlang_bytes, sizeof erlang_bytes, &root));
    const hive_term *s = hive_term_elem(root, 0);
    CHECK_EQ(hive_term_kind(s), HIVE_TERM_STRING);
    const uint8_t *p;
    size_t n;
    CHECK_OK(hive_term_bytes(s, &p));
    CHECK_OK(hive_term_size(s, &n));
    CHECK_EQ(n, 3);
    CHECK_EQ(memcmp(p, "abc", 3), 0);
    int64_t i;
    CHECK_EQ(hive_term_kind(hive_term_elem(root, 1)), HIVE_TERM_BIG);
    CHECK_EQ(hive_term_int(hive_term_elem(root, 1), &i), HIVE_ERR_SYSTEM_LIMIT);
    CHECK_EQ(hive_term_kind(hive_term_elem(root, 2)), HIVE_TERM_BITSTRING);
    const hive_term *a = hive_term_elem(root, 3);
    CHECK_OK(hive_term_atom(a, &p));
    CHECK_OK(hive_term_size(a, &n));
    CHECK_EQ(n, 5);
    CHECK_EQ(memcmp(p, "\xc3\xa9lan", 5), 0);
    const hive_term *l = hive_term_elem(root, 4);
    CHECK_EQ(hive_term_kind(l), HIVE_TERM_LIST);
    CHECK_EQ(hive_term_kind(hive_term_tail(l)), HIVE_TERM_ATOM);
    hive_term_free(root);
}

static void hostile(void) {
    hive_term *t = NULL;
    const uint8_t huge_list[] = {131, 108, 255, 255, 255, 255};
    CHECK_EQ(hive_term_decode(huge_list, sizeof huge_list, &t), HIVE_ERR_BAD_ARGUMENT);
    const uint8_t huge_bin[] = {131, 109, 255, 255, 255, 255, 1};
    CHECK_EQ(hive_term_decode(huge_bin, sizeof huge_bin, &t), HIVE_ERR_BAD_ARGUMENT);
    const uint8_t trailing[] = {131, 97, 1, 0};
    CHECK_EQ(hive_term_decode(trailing, sizeof trailing, &t), HIVE_ERR_BAD_ARGUMENT);
    const uint8_t unknown[] = {131, 200};
    CHECK_EQ(hive_term_decode(unknown, sizeof unknown, &t), HIVE_ERR_BAD_ARGUMENT);
    const uint8_t no_version[] = {97, 1};
    CHECK_EQ(hive_term_decode(no_version, sizeof no_version, &t), HIVE_ERR_BAD_ARGUMENT);
    /* Every truncation of a valid term is refused. */
    for (size_t k = 0; k < sizeof erlang_bytes; k++)
        CHECK_EQ(hive_term_decode(erlang_bytes, k, &t), HIVE_ERR_BAD_ARGUMENT);
    /* 10,000 nested 1-tuples: too deep. */
    static uint8_t deep[2 + 2 * 10000 + 2];
    size_t k = 0;
    deep[k++] = 131;
    for (int d = 0; d < 10000; d++) {
        deep[k++] = 104;
        deep[k++] = 1;
    }
    deep[k++] = 97;
    deep[k++] = 0;
    CHECK_EQ(hive_term_decode(deep, k, &t), HIVE_ERR_SYSTEM_LIMIT);
    CHECK_EQ(hive_term_decode(NULL, 1, &t), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_term_decode(deep, k, NULL), HIVE_ERR_NULL_POINTER);
    /* Accessors on NULL nodes. */
    CHECK_EQ(hive_term_kind(NULL), HIVE_ERR_NULL_POINTER);
    CHECK(hive_term_elem(NULL, 0) == NULL);
    int64_t i;
    CHECK_EQ(hive_term_int(NULL, &i), HIVE_ERR_NULL_POINTER);
    hive_term_free(NULL);

    hive_term_enc *e = NULL;
    CHECK_EQ(hive_term_enc_new(NULL), HIVE_ERR_NULL_POINTER);
    CHECK_OK(hive_term_enc_new(&e));
    CHECK_EQ(hive_term_enc_float(e, NAN), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_term_enc_float(e, INFINITY), HIVE_ERR_BAD_ARGUMENT);
    char longatom[300];
    memset(longatom, 'a', sizeof longatom);
    CHECK_EQ(hive_term_enc_atom(e, longatom, 256), HIVE_ERR_BAD_LENGTH);
    CHECK_EQ(hive_term_enc_atom(e, "\xff\xfe", 2), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_term_enc_atom(e, NULL, 2), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_term_enc_binary(e, NULL, 2), HIVE_ERR_NULL_POINTER);
    CHECK_EQ(hive_term_enc_pid(e, 0), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_term_enc_ref(e, 0), HIVE_ERR_BAD_ARGUMENT);
    CHECK_EQ(hive_term_enc_int(NULL, 1), HIVE_ERR_NULL_POINTER);
    /* The failed calls left nothing: one 255-character atom completes the term. */
    CHECK_OK(hive_term_enc_atom(e, longatom, 255));
    const uint8_t *d;
    size_t len;
    CHECK_OK(hive_term_enc_bytes(e, &d, &len));
    CHECK_EQ(len, 1 + 2 + 255);
    hive_term_enc_free(e);
    hive_term_enc_free(NULL);
}

static void root_fn(void *arg) {
    const char *node = *(const char *const *)arg;
    uint64_t ref = 0;
    CHECK_OK(hive_make_ref(&ref));
    round_trip(hive_self(), ref, node);
}

int main(void) {
    hive_config cfg;
    CHECK_OK(hive_config_default(&cfg));
    cfg.schedulers = 2;
    CHECK_OK(hive_init(&cfg));
    erlang_encodings();
    hostile();
    hive_exit_info info;
    const char *node = "nonode@nohost";
    CHECK_OK(hive_run(root_fn, &node, sizeof node, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    hive_dist_options o;
    memset(&o, 0, sizeof o);
    o.name = "tnode@localhost";
    o.cookie = "c";
    o.cookie_len = 1;
    o.flags = HIVE_DIST_NO_EPMD;
    o.epmd_port = hive_test_free_port();
    CHECK_OK(hive_dist_start(&o, NULL, NULL));
    node = "tnode@localhost";
    CHECK_OK(hive_run(root_fn, &node, sizeof node, NULL, &info));
    CHECK_EQ(info.kind, HIVE_REASON_NORMAL);
    CHECK_OK(hive_dist_stop());
    CHECK_OK(hive_shutdown(NULL));
    printf("term_abi: %llu checks passed\n", CHECKS_DONE());
    return 0;
}
