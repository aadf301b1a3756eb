//! The receiving side of signals: a process handles the signals in its mailbox in order
//! ([`settle`], [`check`]), each as [`handle`] says (module docs of `signal`, "Signals
//! travel with messages").

use std::ptr::NonNull;
use std::sync::atomic::Ordering::Relaxed;

use super::counts::reached;
use super::{
    SIG_DEMONITOR, SIG_DOWN, SIG_EXIT, SIG_EXIT_LINK, SIG_LINK, SIG_MONITOR, SIG_SHUTDOWN,
    SIG_UNLINK,
};
use crate::mailbox::{MessageKind, Msg, SIG_BASE};
use crate::pid::Pid;
use crate::process::exit;
use crate::process::pcb::Pcb;
use crate::reason::ExitReason;
use crate::runtime::runtime_of;

/// What handling one signal gave.
enum Handled {
    /// Deliver this (converted) message.
    Deliver(NonNull<Msg>),
    /// Nothing to deliver (the signal was consumed).
    Dropped,
    /// The process must exit with this reason.
    Die(ExitReason),
    /// `exit(P, kill)`: the process must exit with `killed` at once, running none of its
    /// code (not its terminate callback either).
    Kill,
}

/// Handles signal `m` in the living process `pcb` (its owner).
///
/// # Safety
/// `pcb` is the calling process; `m` a signal taken from its mailbox.
unsafe fn handle(pcb: &Pcb, m: NonNull<Msg>) -> Handled {
    let mp = m.as_ptr();
    // SAFETY: `m` is a live signal we own.
    let (kind, from, mref) = unsafe { (Msg::kind(mp), Msg::sender(mp), Msg::monitor_ref(mp)) };
    let free = || {
        // SAFETY: we own `m` and do not use it afterwards.
        unsafe { Msg::free(mp) };
        Handled::Dropped
    };
    let trap = pcb.trap_exit.load(Relaxed);
    match kind {
        SIG_LINK => {
            pcb.sig.lock().data().record_request(from, None);
            free()
        }
        SIG_UNLINK => {
            remove_link(pcb, from);
            free()
        }
        SIG_MONITOR => {
            pcb.sig.lock().data().record_request(from, Some(mref));
            free()
        }
        SIG_DEMONITOR => {
            if let Some(d) = pcb.sig.lock().data.as_deref_mut() {
                d.monitored_by.remove(&mref);
            }
            free()
        }
        SIG_DOWN => {
            let active = pcb.sig.lock().data.as_deref_mut().is_some_and(|d| {
                let active = d.monitors.remove(&mref).is_some();
                if active {
                    crate::alias::table::monitor_ended(&runtime_of(pcb).aliases, d, mref);
                }
                active
            });
            if active {
                // SAFETY: we own `m`.
                unsafe { Msg::set_kind(mp, MessageKind::Down as u32) };
                Handled::Deliver(m)
            } else {
                free()
            }
        }
        SIG_SHUTDOWN => {
            free();
            Handled::Die(ExitReason::Shutdown)
        }
        crate::alias::envelope::SIG_ALIAS_MSG => {
            // SAFETY: `pcb` is the calling process (this function's contract) and `m` an
            // envelope taken from its mailbox, ours, not used again.
            match unsafe { crate::alias::envelope::deliver(pcb, m) } {
                Some(m) => Handled::Deliver(m),
                None => Handled::Dropped,
            }
        }
        SIG_EXIT | SIG_EXIT_LINK => {
            if kind == SIG_EXIT_LINK && !remove_link(pcb, from) {
                // The link was removed (unlink) before this signal arrived: no effect.
                return free();
            }
            // SAFETY: a live signal.
            let reason = unsafe { Msg::reason(mp) }.unwrap_or(ExitReason::Normal);
            if kind == SIG_EXIT && reason == ExitReason::Kill {
                // `exit(P, kill)`: untrappable, the process exits with `killed` (case 51).
                free();
                return Handled::Kill;
            }
            if trap {
                // SAFETY: we own `m`.
                unsafe { Msg::set_kind(mp, MessageKind::Exit as u32) };
                return Handled::Deliver(m);
            }
            free();
            if !reason.is_normal() {
                // Over a link, `kill` stays `kill` (case 54).
                Handled::Die(reason)
            } else if kind == SIG_EXIT && from == pcb.pid {
                // `exit(self(), normal)` kills a process that does not trap (case 45).
                Handled::Die(ExitReason::Normal)
            } else {
                Handled::Dropped
            }
        }
        _ => {
            debug_assert!(false, "unknown signal kind {kind}");
            free()
        }
    }
}

/// Removes `pid` from `pcb`'s links; true if it was there.
pub(crate) fn remove_link(pcb: &Pcb, pid: Pid) -> bool {
    let mut s = pcb.sig.lock();
    let Some(d) = s.data.as_deref_mut() else {
        return false;
    };
    d.links.remove(&pid)
}

/// Moves every message of the calling process's outer queue to its inner queue, handling
/// the signals among them in order (`first`, already taken, comes first). Signals that
/// become messages are appended in their place. If a signal ends the process, it exits
/// from here (storing its handled count once it counts as exiting), leaving the rest of the outer
/// queue to its exit path. Inside one of the process's match predicates it only sets
/// `signal_pending`, so the signals are handled once the predicate has returned.
///
/// # Safety
/// `pcb` is the calling process; `first` is None inside a match predicate.
pub(crate) unsafe fn settle(pcb: &Pcb, first: Option<NonNull<Msg>>) {
    // SAFETY: `settle_within` has `settle`'s contract, which our caller keeps: `pcb` is
    // the calling process, `first` is None inside a match predicate.
    unsafe { settle_within(pcb, first, SETTLE_BUDGET) }
}

/// As [`settle`], moving every message there is (`mailbox_len`, receive marks, flushes).
///
/// # Safety
/// As [`settle`].
pub(crate) unsafe fn settle_all(pcb: &Pcb) {
    // SAFETY: `settle_all` has `settle`'s contract: `pcb` is the calling process, and
    // `first` is None.
    unsafe { settle_within(pcb, None, u32::MAX) }
}

/// As [`settle`]; once every counted signal is handled, stops after moving `budget`
/// messages.
///
/// # Safety
/// As [`settle`].
unsafe fn settle_within(pcb: &Pcb, first: Option<NonNull<Msg>>, budget: u32) {
    if pcb.matching() {
        // Inside a match predicate the scan holds its place in the inner queue: the
        // signals wait until the predicate has returned (`first` is None on the paths
        // that can get here: `exit_pid` to itself is refused there, and a link's `noproc`
        // answer is asynchronous on the BEAM too). The flag makes the next reduction
        // check after the predicate look.
        debug_assert!(first.is_none());
        pcb.signal_flag().store(1, Relaxed);
        return;
    }
    // Cleared before looking: a signal pushed after this sets it again.
    pcb.signal_flag().store(0, Relaxed);
    let n = pcb.sigs.sent();
    let mut pending = first;
    let mut spins = 0u32;
    let mut moved = 0u32;
    loop {
        let m = match pending.take() {
            Some(m) => m,
            // SAFETY: owner-only field; the process is its mailbox's consumer. The
            // reference is not held across a suspension (the loop suspends only to exit).
            None => match unsafe { (*pcb.inner.get()).take_outer(&pcb.outer) } {
                Some(m) => m,
                None => {
                    if reached(pcb.sig_seen.get(), n) || pcb.outer.is_quiet() {
                        break;
                    }
                    // A signal counted in `n` is behind a message whose sender is still
                    // linking it: wait for the link (a few instructions).
                    crate::sync::wait_for_link(&mut spins);
                    continue;
                }
            },
        };
        // SAFETY: a live message we own.
        if unsafe { Msg::kind(m.as_ptr()) } < SIG_BASE {
            // SAFETY: owner-only field.
            unsafe { (*pcb.inner.get()).push_back(m.as_ptr()) };
            moved += 1;
            if moved >= budget && reached(pcb.sig_seen.get(), n) {
                // A flood of messages: the signals counted are handled; the rest can wait
                // for the receive that takes them.
                break;
            }
            continue;
        }
        // SAFETY: a live signal we own.
        seen_ticket(pcb, unsafe { Msg::ticket(m.as_ptr()) });
        // SAFETY: `settle`'s contract: `pcb` is the calling process; `m` was taken from its
        // mailbox above, so we own it.
        match unsafe { handle(pcb, m) } {
            Handled::Dropped => {}
            Handled::Deliver(m) => {
                // One more message in the mailbox: counted on the owner's side (the
                // length is msgs_in - msgs_out) rather than with an RMW on the line every
                // sender writes.
                pcb.msgs_out
                    .store(pcb.msgs_out.load(Relaxed).wrapping_sub(1), Relaxed);
                // SAFETY: owner-only field.
                unsafe { (*pcb.inner.get()).push_back(m.as_ptr()) };
            }
            // SAFETY: the calling process, outside any match predicate (per the contract).
            Handled::Die(reason) => unsafe { exit::exit_on_signal(pcb, reason, false) },
            // SAFETY: as for `Die`: `pcb` is the calling process, outside any match predicate.
            Handled::Kill => unsafe { exit::exit_on_signal(pcb, ExitReason::Killed, true) },
        }
    }
    pcb.sigs.publish(pcb.sig_seen.get());
}

/// Messages `settle` moves at most past the last counted signal before it returns.
const SETTLE_BUDGET: u32 = 4096;

/// Records that the signal with `ticket` was handled: advances the contiguous prefix
/// `sig_seen` (tickets handled ahead of an earlier one wait in `LinkData::early`).
fn seen_ticket(pcb: &Pcb, ticket: u32) {
    let next = pcb.sig_seen.get();
    if ticket != next {
        pcb.sig.lock().data().early.push(ticket);
        pcb.set_early(true);
        return;
    }
    let mut next = next.wrapping_add(1);
    if pcb.early() {
        if let Some(d) = pcb.sig.lock().data.as_deref_mut() {
            while let Some(i) = d.early.iter().position(|&t| t == next) {
                d.early.swap_remove(i);
                next = next.wrapping_add(1);
            }
            pcb.set_early(!d.early.is_empty());
        }
    }
    pcb.sig_seen.set(next);
}

/// Handles pending signals if any arrived (the check made after every resume).
///
/// # Safety
/// `pcb` is the calling process, not inside a match predicate.
#[inline]
pub(crate) unsafe fn check(pcb: &Pcb) {
    if pcb.sigs.sent() != pcb.sig_seen.get() && !pcb.matching() {
        // SAFETY: `check`'s contract: `pcb` is the calling process, and `matching()` was
        // just read false, so it is not inside a match predicate.
        unsafe { settle(pcb, None) }
    }
}
