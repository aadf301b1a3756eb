#!/usr/bin/env bash
# ThreadSanitizer over the scheduler, signal and mailbox test suites (`make tsan`; not part
# of `make test`).
#
# TSan needs a nightly toolchain with `rust-src`: `-Zsanitizer=thread` instruments the
# crate, and `-Zbuild-std` rebuilds std with the same instrumentation (an uninstrumented
# std hides its synchronisation from TSan and gives false reports). Without them this
# script says what to install and exits 0, having checked nothing.
#
# The runtime is built without mimalloc (`--no-default-features`), so every allocation
# goes through the malloc TSan intercepts. Suppressions: scripts/tsan.supp, each entry with
# the reason it is not a bug.
#
# Knobs: TSAN_TOOLCHAIN (default nightly), TSAN_ARGS (extra arguments for the test
# binaries, e.g. a name filter).
set -euo pipefail
cd "$(dirname "$0")/.."

toolchain="${TSAN_TOOLCHAIN:-nightly}"
missing=""
if ! command -v rustup >/dev/null 2>&1; then
    missing="rustup (https://rustup.rs)"
elif ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
    missing="the $toolchain toolchain: rustup toolchain install $toolchain --component rust-src"
elif ! rustup component list --toolchain "$toolchain" --installed 2>/dev/null | grep -q '^rust-src'; then
    missing="rust-src for $toolchain: rustup component add --toolchain $toolchain rust-src"
fi
if [ -n "$missing" ]; then
    echo "make tsan: SKIPPED, nothing was checked: ThreadSanitizer needs $missing"
    exit 0
fi

host="$(rustup run "$toolchain" rustc -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="-Zsanitizer=thread"
export RUSTDOCFLAGS="-Zsanitizer=thread"
export TSAN_OPTIONS="suppressions=$PWD/scripts/tsan.supp halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/tsan"
cargo_test() {
    cargo +"$toolchain" test -Zbuild-std --target "$host" -p hive-rt --no-default-features "$@"
}

echo "make tsan: $toolchain, $host; suppressions in scripts/tsan.supp"
# The mailbox's unit tests (the outer queue under concurrent senders among them).
cargo_test --lib -- mailbox:: ${TSAN_ARGS:-}
# Scheduler (run queues, stealing, parking, wake-ups), signals (links, monitors, exit
# signals, cleanup at exit), ordering of messages and signals between processes.
cargo_test --test scheduler --test links --test monitors --test exit_signals --test cleanup \
    --test group_b_ordering -- ${TSAN_ARGS:-}
echo "make tsan: no data race reported (beyond scripts/tsan.supp)"
