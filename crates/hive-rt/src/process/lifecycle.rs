//! A process's lifecycle word: where its exit has got to.
//!
//! ```text
//! ALIVE ──transition_to_exiting──▶ EXITING ──transition_to_public──▶ PUBLIC ──transition_to_closed──▶ CLOSED
//!           (the process decided      (reason recorded;       (is_alive false,      (links and monitors
//!            to exit, on its stack)    owner-only news)        name released)        taken by the exit path)
//! ```
//!
//! The phases are those of the exit path (`process/exit.rs`): EXITING while the terminate
//! callback may run (the process is alive to everybody else), PUBLIC once the exit is made
//! public, CLOSED once the exit path has closed the link record. The word only moves
//! forward. The scheduling state (`process/state.rs`, RUNNABLE … EXITED) is a separate
//! word: it is written on every send, this one a few times per process life.
//!
//! Who writes: EXITING and PUBLIC the process itself on its own stack (or the thread that
//! runs its exit path once it stopped for good), CLOSED only the exit path, under the
//! `Pcb::sig` lock that every link and monitor request takes, so a request either sees
//! CLOSED or queued its signal before the exit path looks at the mailbox.
//!
//! Who reads: anybody, through [`Lifecycle::is_exiting`] (Acquire, pairs with the SeqCst
//! store of PUBLIC) and [`Lifecycle::is_closed`] (under the `Pcb::sig` lock).

use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};

use crate::sync::AtomicU8;

/// Alive: not exiting.
const ALIVE: u8 = 0;
/// The process has decided to exit (its reason is recorded); nobody else can tell yet.
const EXITING: u8 = 1;
/// Exiting for everybody: `is_alive` is false, requests to it answer `noproc`.
const PUBLIC: u8 = 2;
/// The exit path has closed the link record: requests find the process dead.
const CLOSED: u8 = 3;

/// The lifecycle word of one process (module docs).
#[derive(Debug)]
pub(crate) struct Lifecycle(AtomicU8);

/// Outcome of [`Lifecycle::transition_to_exiting`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Begin {
    /// This call began the exit: the caller records the reason and runs the exit path.
    Began,
    /// The exit had begun already (an exit from inside the terminate callback).
    AlreadyExiting,
}

impl Lifecycle {
    /// A process that is alive.
    pub(crate) fn new() -> Lifecycle {
        Lifecycle(AtomicU8::new(ALIVE))
    }

    /// ALIVE → EXITING. Only the process itself (on its own stack) or the thread running
    /// its exit path calls it; other threads learn of the exit at PUBLIC.
    pub(crate) fn transition_to_exiting(&self) -> Begin {
        if self.0.load(Relaxed) != ALIVE {
            return Begin::AlreadyExiting;
        }
        self.0.store(EXITING, Relaxed);
        Begin::Began
    }

    /// → PUBLIC (from ALIVE or EXITING; a later phase stays). SeqCst: a thread that
    /// then sees the process gone elsewhere (its name released, a DOWN) sees it exiting.
    pub(crate) fn transition_to_public(&self) {
        if self.0.load(Relaxed) < PUBLIC {
            self.0.store(PUBLIC, SeqCst);
        }
    }

    /// → CLOSED. Only the exit path calls it, holding the `Pcb::sig` lock.
    pub(crate) fn transition_to_closed(&self) {
        self.0.store(CLOSED, Relaxed);
    }

    /// True once the process decided to exit (EXITING or later). Meaningful to the process
    /// itself, which alone moves the word from ALIVE.
    #[inline]
    pub(crate) fn exit_begun(&self) -> bool {
        self.0.load(Relaxed) != ALIVE
    }

    /// True once the exit is public: the process counts as dead for everybody.
    #[inline]
    pub(crate) fn is_exiting(&self) -> bool {
        self.0.load(Acquire) >= PUBLIC
    }

    /// True once the exit path has closed the link record. Meaningful under the
    /// `Pcb::sig` lock (the close happens under it).
    pub(crate) fn is_closed(&self) -> bool {
        self.0.load(Relaxed) == CLOSED
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn phases_only_move_forward() {
        let l = Lifecycle::new();
        assert!(!l.is_exiting() && !l.is_closed());
        assert_eq!(l.transition_to_exiting(), Begin::Began);
        assert_eq!(l.transition_to_exiting(), Begin::AlreadyExiting);
        assert!(!l.is_exiting());
        l.transition_to_public();
        assert!(l.is_exiting() && !l.is_closed());
        l.transition_to_closed();
        assert!(l.is_exiting() && l.is_closed());
        // A late publish (shutdown finishing a process that exited) keeps CLOSED.
        l.transition_to_public();
        assert!(l.is_closed());
        assert_eq!(l.transition_to_exiting(), Begin::AlreadyExiting);
    }
}
