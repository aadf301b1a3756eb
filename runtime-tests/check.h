/* Tiny assertion helpers for the C runtime tests (the way generated code would call Hive). */
#ifndef HIVE_CHECK_H
#define HIVE_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include "hive.h"

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); abort(); } } while (0)
#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); if (_a != _b) { \
    fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", __FILE__, __LINE__, #a, _a, #b, _b); \
    abort(); } } while (0)
#define CHECK_OK(expr) CHECK_EQ((expr), HIVE_OK)
#endif
