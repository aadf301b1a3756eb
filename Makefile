# Hive: `make stress` runs the stress benches through the C ABI (the main job);
# `make test` runs every test (Rust unit and integration, loom models, C runtime tests, a small
# run of every stress workload that checks counts). See README.md.

CARGO   ?= cargo
CC      ?= cc
CFLAGS  ?= -O2 -g
# Stack probes are required of code that runs in a Hive process (docs/abi.md, "Stack
# probes"): without them a frame larger than the stack's guard skips it.
CFLAGS  += -std=c11 -Wall -Wextra -Werror -fstack-clash-protection -Iinclude -pthread
LDLIBS  := -lpthread -ldl -lm
LIB     := target/release/libhive_rt.a

RT_SRCS     := $(wildcard runtime-tests/*.c)
RT_BINS     := $(patsubst runtime-tests/%.c,target/runtime-tests/%,$(RT_SRCS))
STRESS_SRCS := $(wildcard benches/stress/*.c)
STRESS_BINS := $(patsubst benches/stress/%.c,target/stress/bin/%,$(STRESS_SRCS))
STRESS_COMMON := $(wildcard benches/stress/common/*.h)

.PHONY: all lib stress stress-bins stress-quick test test-rust test-c header check bench loom clean erl-deps

all: lib

lib:
	$(CARGO) build --release -p hive-rt

# --- the main job -----------------------------------------------------------------------
# Interleaved runs per workload and scheduler count; the tables show medians.
STRESS_RUNS ?= 3

stress: lib stress-bins
	$(CARGO) run --release -q -p hive-bench --bin hive-stress -- --bin-dir target/stress/bin --runs $(STRESS_RUNS) $(STRESS_ARGS)

stress-bins: $(STRESS_BINS)

# --- side by side with the BEAM and Go ------------------------------------------------------
# Every workload on Hive, Erlang/OTP and Go (the 7 it has), interleaved, at 1 and 2
# schedulers; tables on stdout, CSV + SVG in target/compare/. `make scaling`: ring,
# ping_pong, skynet, fan_in at 1..N schedulers (N = cores). Installs nothing: a missing
# erl or go skips its column with the Debian package to install.
COMPARE_RUNS ?= 5
SCALING_RUNS ?= 3
.PHONY: compare scaling

compare: lib stress-bins
	$(CARGO) run --release -q -p hive-bench --bin hive-compare -- --bin-dir target/stress/bin --runs $(COMPARE_RUNS) $(COMPARE_ARGS)

scaling: lib stress-bins
	$(CARGO) run --release -q -p hive-bench --bin hive-compare -- --scaling --bin-dir target/stress/bin --runs $(SCALING_RUNS) $(SCALING_ARGS)

target/stress/bin/%: benches/stress/%.c $(STRESS_COMMON) include/hive.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ibenches/stress -o $@ $< $(LIB) $(LDLIBS)

# --- tests ------------------------------------------------------------------------------
test: erl-deps test-rust loom test-c stress-quick
	@echo "make test: all test suites passed"

# The distribution tests drive real Erlang/OTP nodes (crates/hive-rt/tests/common/erl.rs):
# without erl and epmd they fail, unless HIVE_SKIP_ERL=1 (then they are skipped). This does
# nothing when erl and epmd are on PATH or HIVE_SKIP_ERL=1; else, as root with apt-get (CI),
# installs erlang-nox; else fails saying what to do.
erl-deps:
	@if [ "$(HIVE_SKIP_ERL)" = 1 ]; then \
	  echo "make erl-deps: HIVE_SKIP_ERL=1: the distribution tests will be skipped"; \
	elif command -v erl >/dev/null 2>&1 && command -v epmd >/dev/null 2>&1; then \
	  :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "make erl-deps: erl/epmd not found: installing erlang-nox"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y erlang-nox && \
	  command -v erl >/dev/null && command -v epmd >/dev/null; \
	else \
	  echo "make erl-deps: erl/epmd not found and cannot install them here (needs root and apt-get):" \
	    "install erlang-nox (Erlang/OTP 25 or later), or set HIVE_SKIP_ERL=1 to skip the distribution tests" >&2; \
	  exit 1; \
	fi

test-rust:
	$(CARGO) test --workspace

test-c: lib $(RT_BINS)
	@set -e; pass=0; fail=0; \
	for t in $(RT_BINS); do \
	  if timeout 120 $$t > $$t.log 2>&1; then pass=$$((pass+1)); echo "ok   $$t"; \
	  else fail=$$((fail+1)); echo "FAIL $$t (log follows)"; cat $$t.log; fi; \
	done; \
	echo "C runtime tests: $$pass passed, $$fail failed"; test $$fail -eq 0

target/runtime-tests/%: runtime-tests/%.c $(wildcard runtime-tests/*.h) include/hive.h $(LIB)
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

# Criterion micro-benches (benches/benches/micro.rs, about 1 min plus the build). `make bench`
# compares each with the saved baseline $(BENCH_BASELINE) and prints the change in %; when
# there is none yet it saves this run as that baseline. `make bench-baseline` (re)saves it.
# BENCH_ARGS passes criterion options, e.g. BENCH_ARGS=timer (a name filter).
BENCH_BASELINE ?= main
CRITERION_DIR  := $(or $(CARGO_TARGET_DIR),target)/criterion

.PHONY: bench-baseline
bench:
	@if [ -n "$$(find $(CRITERION_DIR) -mindepth 2 -type d -name $(BENCH_BASELINE) -print -quit 2>/dev/null)" ]; then \
	  echo "make bench: comparing with the saved baseline '$(BENCH_BASELINE)' (make bench-baseline re-saves it)"; \
	  $(CARGO) bench -p hive-bench --bench micro -- --baseline-lenient $(BENCH_BASELINE) $(BENCH_ARGS); \
	else \
	  echo "make bench: no baseline '$(BENCH_BASELINE)' yet: saving this run as it"; \
	  $(CARGO) bench -p hive-bench --bench micro -- --save-baseline $(BENCH_BASELINE) $(BENCH_ARGS); \
	fi

bench-baseline:
	$(CARGO) bench -p hive-bench --bench micro -- --save-baseline $(BENCH_BASELINE) $(BENCH_ARGS)

# Soak with invariants (crates/hive-rt/tests/soak.rs): random trees of processes that link,
# monitor, trap, send, register names, set timers and die with random reasons, for
# SOAK_SECS seconds, every observation checked; prints the totals and PASS/FAIL. `make test`
# runs a 3-second version. Knobs: SOAK_SECS, SOAK_SEED, SOAK_SCHEDULERS.
SOAK_SECS       ?= 300
SOAK_SCHEDULERS ?= 2
.PHONY: soak
soak:
	HIVE_SOAK_SECS=$(SOAK_SECS) HIVE_SOAK_SCHEDULERS=$(SOAK_SCHEDULERS) $(if $(SOAK_SEED),HIVE_SOAK_SEED=$(SOAK_SEED)) \
	  $(CARGO) test --release -p hive-rt --test soak -- --nocapture

# Multi-node soak (crates/hive-rt/tests/dist_soak.rs, docs/distribution.md, "Multi-node
# soak"): this node, a Hive peer in its own OS process and an erl node; workers spawned on
# both, linked, monitored, trapping, numbered messages both ways, random deaths and cuts of
# whole connections; every DOWN, EXIT and message checked, every node back to its process
# count at the end. `make test` runs 4 seconds of it without cuts. Knobs: DIST_SOAK_SECS,
# DIST_SOAK_SEED, DIST_SOAK_CUT (per mille, 5).
DIST_SOAK_SECS ?= 60
DIST_SOAK_CUT ?= 5
.PHONY: soak-dist
soak-dist: erl-deps
	HIVE_DIST_SOAK_SECS=$(DIST_SOAK_SECS) $(if $(DIST_SOAK_SEED),HIVE_DIST_SOAK_SEED=$(DIST_SOAK_SEED)) \
	  HIVE_DIST_SOAK_CUT=$(DIST_SOAK_CUT) \
	  $(CARGO) test --release -p hive-rt --test dist_soak -- --nocapture dist_soak_with_invariants

# Fuzzing of what a hostile peer sends (issue 18; crates/hive-rt/src/dist/fuzz_tests,
# docs/distribution.md, "Fuzzing"): the ETF decoder, distribution frames through the
# dispatcher, the handshake in both roles and framings, EPMD replies and requests.
# FUZZ_ITERS inputs per target in release (about 3 minutes plus 3 of build on 2 cores); one
# line per target: inputs accepted and rejected, panics (must be 0), inputs over the memory
# bound (must be 0), the peak heap against the input's length, the time. FUZZ_SEED picks
# another input stream. `make test` runs a few thousand per target.
FUZZ_ITERS ?= 2000000
.PHONY: fuzz
fuzz:
	HIVE_FUZZ_ITERS=$(FUZZ_ITERS) $(if $(FUZZ_SEED),HIVE_FUZZ_SEED=$(FUZZ_SEED)) \
	  $(CARGO) test --release -p hive-rt --lib fuzz_ -- --nocapture

# Model checking of the lock-free protocols (own target dir: different cfg).
loom:
	CARGO_TARGET_DIR=target/loom RUSTFLAGS="--cfg loom" $(CARGO) test -p hive-rt --release --lib loom_

# Miri (undefined behaviour, leaks, data races) over the unit tests of the pure data
# structures: the timer wheel, pids, the state word (every check on), and the mailbox queues
# and the pid table, whose PCB and queue self-pointers the aliasing models reject (see
# docs/design.md, "Checked by tools"): there the aliasing model is off unless MIRI_STRICT=1.
# Needs a nightly toolchain with the miri component; without it, says so and exits 0.
# Not part of `make test` (a few minutes).
MIRI_TOOLCHAIN ?= nightly
MIRI_RUN = MIRIFLAGS="-Zmiri-permissive-provenance $(1)" $(CARGO) +$(MIRI_TOOLCHAIN) miri test -p hive-rt --no-default-features --lib --
.PHONY: miri tsan
miri:
	@if ! $(CARGO) +$(MIRI_TOOLCHAIN) miri --version >/dev/null 2>&1; then \
	  echo "make miri: SKIPPED, nothing was checked: needs Miri: rustup toolchain install $(MIRI_TOOLCHAIN) --component miri (then: cargo +$(MIRI_TOOLCHAIN) miri setup)"; \
	  exit 0; \
	fi; \
	set -e; \
	echo "make miri: timer wheel, pid, state word (every check)"; \
	$(call MIRI_RUN,) timer::wheel::tests pid::tests process::state::tests; \
	if [ "$(MIRI_STRICT)" = 1 ]; then flags=""; \
	  echo "make miri: mailbox queues, pid table (every check)"; \
	else flags="-Zmiri-disable-stacked-borrows"; \
	  echo "make miri: mailbox queues, pid table (aliasing model off; MIRI_STRICT=1 turns it on)"; fi; \
	$(call MIRI_RUN,$$flags) mailbox::tests process::table::tests

# ThreadSanitizer over the scheduler, signal and mailbox suites (scripts/tsan.sh): needs a
# nightly toolchain with rust-src; without it, says so and exits 0. Not part of `make test`.
tsan:
	scripts/tsan.sh

clean:
	$(CARGO) clean
