//! Timers: one hierarchical timer wheel per worker (`wheel`), driven by the worker's run loop
//! and bounding how long it may park.
//!
//! Time is counted in **ticks** of 2^15 ns (32.768 µs) since the runtime started, so a
//! receive with a 1 ms timeout is late by at most one tick plus the wake-up latency, and
//! never early: deadlines are rounded *up* to the next tick ([`deadline_tick`]).

pub(crate) mod user;
mod wheel;

pub(crate) use wheel::{Fire, TimerKey, Wheel};

/// log2 of the tick length in nanoseconds.
pub(crate) const TICK_SHIFT: u32 = 15;

/// The tick at or after `now_ns + timeout_ms` milliseconds.
pub(crate) fn deadline_tick(now_ns: u64, timeout_ms: u64) -> u64 {
    let deadline_ns = now_ns.saturating_add(timeout_ms.saturating_mul(1_000_000));
    deadline_ns.div_ceil(1 << TICK_SHIFT)
}

/// The tick containing `now_ns`.
pub(crate) fn tick_of(now_ns: u64) -> u64 {
    now_ns >> TICK_SHIFT
}

/// Nanoseconds at the start of `tick`.
pub(crate) fn tick_start_ns(tick: u64) -> u64 {
    tick << TICK_SHIFT
}
