//! The process API: what code running *inside* a process calls (Rust side; the C side is
//! in [`crate::ffi`] and calls the same internals).
//!
//! Every function here finds the calling process through the thread's current-process
//! pointer and fails with `ErrNotAProcess` on a thread that is not running one.
//!
//! **Rust values across suspension points.** A process may be stopped for good while it is
//! suspended (by [`exit`](fn@exit), and later by `kill`), and [`hibernate`] discards its
//! stack; the stack is then dropped without unwinding, so values owned by the stack at that
//! moment are leaked, not dropped (and must not be borrowed by anything that outlives it,
//! such as a `std::thread::scope`). Prefer returning from the process function to calling
//! [`exit`](fn@exit) with live values, and move into the closure given to [`hibernate`]
//! what it needs.
//!
//! **Match predicates.** The predicate of a selective receive ([`receive_match`],
//! [`receive_select`], [`receive_match_from`], and `hive_receive_match*` in C) runs while the
//! receive's scan holds its place in the caller's mailbox. A predicate may send, spawn, link,
//! monitor, demonitor without flushing, register names, set timers, read `self_pid`,
//! `is_alive`, `process_info`, count reductions and yield, and end the process ([`exit`](fn@exit), a
//! panic). Every call that would walk or take from the caller's own mailbox, or re-arm its
//! receive timeout, fails with `ErrReentrant` and has no effect: [`receive`](fn@receive)
//! and the selective receives, [`recv_mark`], [`mailbox_len`], [`demonitor`] with `flush`,
//! [`sleep`] for more than 0 ms, and [`exit_pid`] to the caller itself. (On the BEAM a guard cannot
//! call any of them.) Signals that reach the process meanwhile are handled once the
//! predicate has returned. A predicate that panics leaves the mailbox intact and in order
//! (the message it was looking at stays queued); one that ends the process exits it
//! cleanly, and its terminate callback may use the mailbox again.

mod api;
pub(crate) mod context;
pub(crate) mod exit;
pub(crate) mod hibernate;
pub(crate) mod lifecycle;
pub(crate) mod message;
pub(crate) mod pcb;
pub(crate) mod receive;
pub(crate) mod state;
pub(crate) mod table;

pub use crate::alias::{alias, make_ref, monitor_alias, send_alias, unalias};
pub use api::*;
pub use context::MAX_TIMEOUT_MS;
pub(crate) use context::{
    checked, consume_raw, current, current_pcb_pid, entered, send_on, yield_raw,
};
pub use pcb::HiveCtx;
pub(crate) use receive::{outside_match, receive_any, receive_raw, sleep_raw};
