//! Hibernation (`erlang:hibernate/3`): a process waiting for its next message gives its
//! stack back, and when a message comes it starts again at an entry it named, on a fresh
//! stack, with an argument it gave.
//!
//! The BEAM's `hibernate(M, F, A)` "puts the calling process into a wait state where its
//! memory allocation has been reduced as much as possible": the call stack is discarded,
//! and the process "is awakened when a message is sent to it, and control resumes in
//! `M:F` with the arguments given by `A` with the call stack emptied"; if a message is
//! already queued, the process is awakened at once. Links, monitors, a registered name,
//! `trap_exit`, the priority and the mailbox stay as they were. Servers with many idle
//! clients use it (`proc_lib:hibernate/3`, `gen_server`'s `hibernate_after`) so that an
//! idle connection costs little more than its process control block.
//!
//! How: the process records its new entry ([`Pcb::set_hibernation`]), looks for a message
//! (handling the signals it meets, so an exit signal can end it there), and suspends with
//! `Suspend::Hibernate` (none: wait) or `Suspend::Restart` (one is queued). Its worker then
//! drops the coroutine without unwinding, returns the stack to its cache, installs the new
//! entry, and either parks the process as WAITING, exactly as a receive does, or (a
//! message queued, or pushed meanwhile: notified) puts it at the back of its run queue as
//! a yield, so one that hibernates again and again cannot keep its worker. A
//! process without a coroutine gets a stack the next time a worker runs it, as a newly
//! spawned process does. When it starts again, it first looks for a message: woken by a
//! signal that left none (a monitor request, an ignored exit signal), it hibernates again
//! without running its entry.
//!
//! As with `exit`, values on the discarded stack are leaked, not dropped (`process` module
//! docs): a Rust process hands everything it keeps to the closure it hibernates into.

use super::pcb::{Entry, Pcb, Suspend, OWN_HIBERNATED};
use super::receive::outside_match;
use crate::mailbox::{Msg, SIG_BASE};
use crate::status::Status;

/// Hibernates the calling process into `entry` (whose argument, if any, is the heap copy
/// `arg`). Returns only with `ErrReentrant`: from inside a match predicate, or from its
/// terminate callback (its exit is under way).
///
/// # Safety
/// `pcb` is the calling process; `entry`'s argument pointer points into `arg` (or is null).
pub(crate) unsafe fn hibernate_raw(pcb: &Pcb, entry: Entry, arg: Option<Box<[u128]>>) -> Status {
    if let Err(s) = outside_match(pcb) {
        return s;
    }
    if pcb.life.exit_begun() {
        return Status::ErrReentrant;
    }
    // SAFETY: `pcb` is the calling process (this function's contract).
    unsafe {
        pcb.set_hibernation(entry, arg);
        let why = if has_message(pcb) {
            Suspend::Restart
        } else {
            Suspend::Hibernate
        };
        pcb.suspend(why);
    }
    // The worker discards this coroutine at either suspension: nothing resumes it here.
    unreachable!("a hibernated process resumed on its old stack")
}

/// Run by a process that starts again after hibernating, before its entry: returns once a
/// message is queued; with none, hibernates again (and does not return).
///
/// # Safety
/// `pcb` is the calling process, hibernated (its `OWN_HIBERNATED` flag set).
pub(crate) unsafe fn await_message(pcb: &Pcb) {
    // SAFETY: `pcb` is the calling process (this function's contract).
    unsafe {
        if has_message(pcb) {
            pcb.set_own_flag(OWN_HIBERNATED, false);
            return;
        }
        pcb.suspend(Suspend::Hibernate);
    }
    unreachable!("a hibernated process resumed on its old stack")
}

/// Whether a message is queued for the calling process; signals met on the way are handled
/// (an exit signal may end the process here).
///
/// # Safety
/// `pcb` is the calling process, outside a match predicate.
unsafe fn has_message(pcb: &Pcb) -> bool {
    loop {
        // SAFETY: owner-only field, and `pcb` is the calling process; the reference is not
        // held across `settle`, which takes its own.
        let inner = unsafe { &mut *pcb.inner.get() };
        if inner.len() > 0 {
            return true;
        }
        // SAFETY: the process is its mailbox's consumer.
        match unsafe { inner.take_outer(&pcb.outer) } {
            None => return false,
            // SAFETY: a live message we own.
            Some(m) if unsafe { Msg::kind(m.as_ptr()) } >= SIG_BASE => {
                // A signal: handle it and everything behind it (may exit here).
                // SAFETY: `pcb` is the calling process, outside a match predicate (the
                // contract); `m` was taken from its outer queue.
                unsafe { crate::signal::handle::settle(pcb, Some(m)) };
            }
            Some(m) => {
                // The oldest message, back at the head of the (empty) inner queue, where
                // the next receive takes it.
                inner.push_back(m.as_ptr());
                return true;
            }
        }
    }
}
