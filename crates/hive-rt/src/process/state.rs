//! The process state word and the mailbox wake-up handshake.
//!
//! Every process has one `AtomicU32` that says whether it is runnable, running, waiting in
//! `receive`, or exited, plus a NOTIFIED flag. All transitions are read-modify-writes on
//! this one word, so they are totally ordered, and exactly one party schedules a process.
//!
//! ```text
//! bits 0..2  status  RUNNABLE (in a run queue) | RUNNING | WAITING | EXITED
//! bit  2     NOTIFIED: something (a message, a timeout) arrived since the owner last looked
//! ```
//!
//! ## The handshake (`docs/design.md`, *Mailboxes and the wake-up handshake*)
//! ```text
//! sender:    push(msg) completely; then notify():
//!              old = fetch_or(NOTIFIED)      -- the only RMW, Release: publishes the push
//!              old == WAITING (no NOTIFIED)  -> this sender won: it schedules the process
//!              otherwise                     -> nothing more (someone scheduled it, or the
//!                                               owner is running and will look)
//! scheduler: after the process suspended in receive, transition_to_waiting():
//!              CAS RUNNING -> WAITING        -- fails iff NOTIFIED was set
//!              on failure: clear NOTIFIED, resume the process (it rescans)
//! scheduler: before resuming, transition_to_running(): swap to RUNNING (clears NOTIFIED,
//!              Acquire: sees every push notified before this swap)
//! ```
//! So `WAITING|NOTIFIED` means "was waiting, now scheduled by a notifier": it is a runnable
//! state ([`StateWord::status_snapshot`] reports it as RUNNABLE). One RMW per notification,
//! whatever the state (a CAS WAITING→RUNNABLE tried first would cost a busy receiver a
//! failed CAS on every message).
//!
//! **No lost wake-up.** Take a sender's `fetch_or` and the scheduler's `CAS RUNNING→WAITING`.
//! If the `fetch_or` comes first, the CAS sees NOTIFIED and fails, and the process rescans
//! its mailbox after an Acquire that synchronises with the sender's Release, so it sees the
//! message. If the CAS comes first, the `fetch_or` sees WAITING and the sender schedules the
//! process. The process never marks itself WAITING on its own stack: the scheduler does it
//! after the coroutine has suspended, so no second worker can resume a process that is still
//! running (the mesh-rt bug of brief §5).
//!
//! **No double schedule.** Only the `fetch_or` that finds exactly WAITING schedules; it
//! leaves NOTIFIED set, so every later one finds `WAITING|NOTIFIED` until the scheduler
//! runs the process, and the status is WAITING again only after the scheduler itself made
//! it so.

use std::sync::atomic::Ordering::{AcqRel, Acquire};

use crate::sync::AtomicU32;

/// In a run queue (or being put into one).
pub(crate) const RUNNABLE: u32 = 0;
/// Being executed by a worker.
pub(crate) const RUNNING: u32 = 1;
/// Suspended in `receive`; nobody has scheduled it.
pub(crate) const WAITING: u32 = 2;
/// Finished; signals to it are dropped.
pub(crate) const EXITED: u32 = 3;
/// Mask of the status bits.
pub(crate) const STATUS_MASK: u32 = 0b11;
/// A message or timeout arrived while the process was not WAITING.
pub(crate) const NOTIFIED: u32 = 0b100;

/// Outcome of [`StateWord::notify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Notify {
    /// The process was waiting; the caller must now put it in a run queue.
    Schedule,
    /// The process is running or runnable; it will see the news itself.
    Noted,
    /// The process has exited.
    Exited,
}

/// Outcome of [`StateWord::transition_to_waiting`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ToWaiting {
    /// The process is now WAITING; a notifier will schedule it.
    Parked,
    /// News arrived meanwhile; the process is still RUNNING and must rescan.
    Notified,
}

/// The state word of one process.
#[derive(Debug)]
pub(crate) struct StateWord(AtomicU32);

impl StateWord {
    /// A new process: RUNNABLE (it is about to be queued).
    pub(crate) fn new() -> StateWord {
        StateWord(AtomicU32::new(RUNNABLE))
    }

    /// Whether the state is EXITED, read sequentially consistent (the registry's handshake).
    pub(crate) fn is_exited_seqcst(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst) & STATUS_MASK == EXITED
    }

    /// Current status (a snapshot); `WAITING|NOTIFIED` (scheduled) reads as RUNNABLE.
    pub(crate) fn status_snapshot(&self) -> u32 {
        match self.0.load(Acquire) {
            s if s == WAITING | NOTIFIED => RUNNABLE,
            s => s & STATUS_MASK,
        }
    }

    /// Current status (a snapshot); `WAITING|NOTIFIED` (scheduled) reads as RUNNABLE.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn status(&self) -> u32 {
        match self.0.load(Acquire) {
            s if s == WAITING | NOTIFIED => RUNNABLE,
            s => s & STATUS_MASK,
        }
    }

    /// Called after something was added to the process's mailbox (see module docs).
    pub(crate) fn notify(&self) -> Notify {
        // AcqRel: Release publishes the caller's push to whoever runs the process next.
        let old = self.0.fetch_or(NOTIFIED, AcqRel);
        if old == WAITING {
            Notify::Schedule
        } else if old & STATUS_MASK == EXITED {
            Notify::Exited
        } else {
            Notify::Noted
        }
    }

    /// Scheduler, before resuming: RUNNABLE (or WAITING|NOTIFIED) → RUNNING, clearing
    /// NOTIFIED.
    pub(crate) fn transition_to_running(&self) {
        // Acquire: the process's mailbox scan sees every push notified before this swap.
        let old = self.0.swap(RUNNING, AcqRel);
        debug_assert!(
            old != WAITING && old & STATUS_MASK != EXITED,
            "state {old:#x}"
        );
    }

    /// Scheduler, after the process suspended in receive: RUNNING → WAITING unless notified.
    pub(crate) fn transition_to_waiting(&self) -> ToWaiting {
        match self.0.compare_exchange(RUNNING, WAITING, AcqRel, Acquire) {
            Ok(_) => ToWaiting::Parked,
            Err(cur) => {
                debug_assert_eq!(cur, RUNNING | NOTIFIED);
                // Clear NOTIFIED (Acquire: the rescan sees what the notifier published).
                self.0.swap(RUNNING, AcqRel);
                ToWaiting::Notified
            }
        }
    }

    /// Scheduler, after the process yielded: RUNNING → RUNNABLE (it goes back to a queue).
    pub(crate) fn transition_to_runnable(&self) {
        self.0.swap(RUNNABLE, AcqRel);
    }

    /// Exit path: any → EXITED. Later notifiers see `Exited` and do nothing. SeqCst: the
    /// registry's handshake orders it before the exit path reads the `named` flag.
    pub(crate) fn transition_to_exited(&self) {
        self.0.swap(EXITED, std::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn notify_schedules_only_a_waiting_process_once() {
        let s = StateWord::new();
        s.transition_to_running();
        assert_eq!(s.transition_to_waiting(), ToWaiting::Parked);
        assert_eq!(s.notify(), Notify::Schedule);
        assert_eq!(s.notify(), Notify::Noted);
        assert_eq!(s.status(), RUNNABLE);
    }

    #[test]
    fn notify_while_running_makes_the_wait_fail() {
        let s = StateWord::new();
        s.transition_to_running();
        assert_eq!(s.notify(), Notify::Noted);
        assert_eq!(s.transition_to_waiting(), ToWaiting::Notified);
        assert_eq!(s.status(), RUNNING);
        assert_eq!(s.transition_to_waiting(), ToWaiting::Parked);
    }

    #[test]
    fn exited_ignores_notifications() {
        let s = StateWord::new();
        s.transition_to_exited();
        assert_eq!(s.notify(), Notify::Exited);
        assert_eq!(s.status(), EXITED);
    }
}
