//! The counts behind ordered liveness (`signal` module docs, "Ordered liveness").

use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};

use crate::sync::AtomicU32;

/// True when `a` has reached `b` on the wrapping u32 counters.
pub(crate) fn reached(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) >= 0
}

/// The ordered-liveness handshake of a process (module docs, "Ordered liveness").
/// Model-checked in `tests/loom_signals.rs`.
///
/// Every signal carries a **ticket**: the value of `sent` its sender took (fetch_add)
/// before pushing it. The receiver tracks the contiguous prefix of tickets it has handled
/// (`Pcb::sig_seen`: every ticket below it is handled; tickets handled out of order wait in
/// `LinkData::early`) and publishes it in `done` (Release) after handling, and after making
/// its exit public when a signal ended it. A checker reads `sent` after its own push (so
/// its ticket is below the value read) and waits until `done` reaches that value (Acquire):
/// then its own signal, and every signal counted before, has been handled.
#[derive(Debug)]
pub(crate) struct SignalCounts {
    sent: AtomicU32,
    done: AtomicU32,
}

impl SignalCounts {
    pub(crate) fn new() -> SignalCounts {
        SignalCounts {
            sent: AtomicU32::new(0),
            done: AtomicU32::new(0),
        }
    }

    /// Sender, before pushing a signal: its ticket.
    pub(crate) fn ticket(&self) -> u32 {
        self.sent.fetch_add(1, AcqRel)
    }

    /// Tickets taken so far.
    pub(crate) fn sent(&self) -> u32 {
        self.sent.load(Acquire)
    }

    /// Receiver: every ticket below `next` is handled.
    pub(crate) fn publish(&self, next: u32) {
        self.done.store(next, Release);
    }

    /// True once every ticket below `want` has been handled.
    pub(crate) fn handled_up_to(&self, want: u32) -> bool {
        reached(self.done.load(Acquire), want)
    }

    /// True when no signal is waiting to be handled (or being sent).
    pub(crate) fn idle(&self) -> bool {
        self.handled_up_to(self.sent())
    }
}
