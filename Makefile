# Hive: `make stress` runs the stress benches through the C ABI (the main job);
# `make test` runs every test (Rust unit and integration, loom models, C runtime tests, a small
# run of every stress workload that checks counts). See README.md.

CARGO   ?= cargo
CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -Werror -Iinclude -pthread
LDLIBS  := -lpthread -ldl -lm
LIB     := target/release/libhive_rt.a

RT_SRCS     := $(wildcard runtime-tests/*.c)
RT_BINS     := $(patsubst runtime-tests/%.c,target/runtime-tests/%,$(RT_SRCS))
STRESS_SRCS := $(wildcard benches/stress/*.c)
STRESS_BINS := $(patsubst benches/stress/%.c,target/stress/bin/%,$(STRESS_SRCS))
STRESS_COMMON := $(wildcard benches/stress/common/*.h)

.PHONY: all lib stress stress-bins stress-quick test test-rust test-c header check bench loom clean

all: lib

lib:
	$(CARGO) build --release -p hive-rt

# --- the main job -----------------------------------------------------------------------
# Interleaved runs per workload and scheduler count; the tables show medians.
STRESS_RUNS ?= 3

stress: lib stress-bins
	$(CARGO) run --release -q -p hive-bench --bin hive-stress -- --bin-dir target/stress/bin --runs $(STRESS_RUNS) $(STRESS_ARGS)

stress-bins: $(STRESS_BINS)

target/stress/bin/%: benches/stress/%.c $(STRESS_COMMON) include/hive.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ibenches/stress -o $@ $< $(LIB) $(LDLIBS)

# --- tests ------------------------------------------------------------------------------
test: test-rust loom test-c stress-quick
	@echo "make test: all test suites passed"

test-rust:
	$(CARGO) test --workspace

test-c: lib $(RT_BINS)
	@set -e; pass=0; fail=0; \
	for t in $(RT_BINS); do \
	  if timeout 120 $$t > $$t.log 2>&1; then pass=$$((pass+1)); echo "ok   $$t"; \
	  else fail=$$((fail+1)); echo "FAIL $$t (log follows)"; cat $$t.log; fi; \
	done; \
	echo "C runtime tests: $$pass passed, $$fail failed"; test $$fail -eq 0

target/runtime-tests/%: runtime-tests/%.c runtime-tests/check.h include/hive.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iruntime-tests -o $@ $< $(LIB) $(LDLIBS)

# Every stress workload at a small size: checks counts (nothing lost or duplicated), not times.
stress-quick: lib stress-bins
	$(CARGO) run --release -q -p hive-bench --bin hive-stress -- --bin-dir target/stress/bin --quick --no-peers

# Regenerate include/hive.h from src/ffi (commit the result).
header:
	HIVE_UPDATE_HEADER=1 $(CARGO) test -p hive-rt --test header

check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench:
	$(CARGO) bench -p hive-bench

# Model checking of the lock-free protocols (own target dir: different cfg).
loom:
	CARGO_TARGET_DIR=target/loom RUSTFLAGS="--cfg loom" $(CARGO) test -p hive-rt --release --lib loom_

clean:
	$(CARGO) clean
