//! The process API: what code running *inside* a process calls (Rust side; the C side is
//! in [`crate::ffi`] and calls the same internals).
//!
//! Every function here finds the calling process through the thread's current-process
//! pointer and fails with `ErrNotAProcess` on a thread that is not running one.
//!
//! **Rust values across suspension points.** A process may be stopped for good while it is
//! suspended (by [`exit`], and later by `kill`); its stack is then discarded without
//! unwinding, so values owned by the stack at that moment are leaked, not dropped. Prefer
//! returning from the process function to calling [`exit`] with live values.
//!
//! **Match predicates.** The predicate of a selective receive ([`receive_match`],
//! [`receive_select`], [`receive_match_from`], and `hive_receive_match*` in C) runs while the
//! receive's scan holds its place in the caller's mailbox. A predicate may send, spawn, link,
//! monitor, demonitor without flushing, register names, set timers, read `self_pid`,
//! `is_alive`, `process_info`, count reductions and yield, and end the process ([`exit`], a
//! panic). Every call that would walk or take from the caller's own mailbox, or re-arm its
//! receive timeout, fails with `ErrReentrant` and has no effect: [`receive`](fn@receive)
//! and the selective receives, [`recv_mark`], [`mailbox_len`], [`demonitor`] with `flush`,
//! [`sleep`] for more than 0 ms, and [`exit_pid`] to the caller itself. (On the BEAM a guard cannot
//! call any of them.) Signals that reach the process meanwhile are handled once the
//! predicate has returned. A predicate that panics leaves the mailbox intact and in order
//! (the message it was looking at stays queued); one that ends the process exits it
//! cleanly, and its terminate callback may use the mailbox again.

mod api;
pub(crate) mod pcb;
mod receive;
pub(crate) mod state;
pub(crate) mod table;

use std::sync::atomic::Ordering::Relaxed;

pub use crate::alias::{alias, make_ref, monitor_alias, send_alias, unalias};
pub use api::*;
pub use pcb::HiveCtx;
use pcb::{Pcb, Suspend};
pub(crate) use receive::{outside_match, receive_any, receive_raw, sleep_raw};

use crate::mailbox::{Msg, MAX_MESSAGE_LEN};
use crate::pid::Pid;
use crate::reason::ExitReason;
use crate::runtime::RtInner;
use crate::sched::{current_pcb, Caller};
use crate::status::{Error, Result, Status};

/// Largest finite receive timeout, in ms (Erlang's limit, 2^32 − 1; BEAM case 12).
pub const MAX_TIMEOUT_MS: i64 = 0xFFFF_FFFF;

/// The calling process's PCB, having entered the runtime (`sched::held::enter`; one read of
/// the current process), or `ErrNotAProcess`.
#[inline]
pub(crate) fn entered() -> std::result::Result<(crate::sched::held::InRuntime, &'static Pcb), Status>
{
    let p = current_pcb();
    if p.is_null() {
        return Err(Status::ErrNotAProcess);
    }
    let rt = crate::sched::held::enter_pcb(p);
    Ok((rt, checked(p)))
}

/// The calling process's PCB, or `ErrNotAProcess`.
pub(crate) fn current() -> std::result::Result<&'static Pcb, Status> {
    let p = current_pcb();
    if p.is_null() {
        return Err(Status::ErrNotAProcess);
    }
    Ok(checked(p))
}

/// The calling process's PCB `p` (non-null, from the thread's current-process pointer),
/// after checking it has stack enough for the runtime's frames.
pub(crate) fn checked(p: *const Pcb) -> &'static Pcb {
    // The 'static lifetime never escapes a call made by the process itself.
    // SAFETY: CURRENT_PROC is set only while that process runs on this thread, and the PCB
    // lives until after the process stopped running.
    let pcb = unsafe { &*p };
    if crate::overflow::low_on_stack(pcb) {
        // Not enough stack for the runtime's own frames: exit cleanly now rather than
        // overflowing inside the runtime (possibly holding a lock).
        // SAFETY: `pcb` is the calling process.
        unsafe { exit_raw(pcb, ExitReason::error("stack_overflow")) }
    }
    pcb
}

/// The runtime of the calling process.
pub(crate) fn runtime_of(pcb: &Pcb) -> &RtInner {
    // SAFETY: a runtime outlives all of its processes.
    unsafe { &*pcb.rt }
}

/// Suspends the calling process.
///
/// # Safety
/// `pcb` is the calling process (so its yielder is the one on this stack).
pub(crate) unsafe fn suspend(pcb: &Pcb, why: Suspend) {
    if why == Suspend::Receive {
        // For whoever wakes it (see `Pcb::prefetch_for_resume`).
        pcb.park_sp.store(crate::overflow::approx_sp(), Relaxed);
    }
    // SAFETY: `yielder` was set by `process_main` on this process's stack and stays valid
    // while the coroutine lives.
    unsafe { (*pcb.yielder.get()).suspend(why) }
}

/// Copies `data` into a new message and sends it (see [`crate::Runtime::send`]).
#[inline]
pub(crate) fn send_on(rt: &RtInner, caller: &Caller, to: Pid, data: &[u8]) -> Result<()> {
    if to.is_none() {
        return Err(Error(Status::ErrBadArgument));
    }
    if data.len() > MAX_MESSAGE_LEN {
        return Err(Error(Status::ErrBadLength));
    }
    let m = Msg::with_data(data, caller.pid(), caller.worker).ok_or(Error(Status::ErrNoMemory))?;
    rt.send_as(caller, to, m).map_err(Error)
}

fn current_pcb_pid() -> Pid {
    let p = current_pcb();
    if p.is_null() {
        Pid::NONE
    } else {
        // SAFETY: see `current`.
        unsafe { (*p).pid }
    }
}

/// Ends the calling process with `reason`.
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn exit_raw(pcb: &Pcb, reason: ExitReason) -> ! {
    // SAFETY: `pcb` is the calling process (this function's contract), so it may record
    // its own exit reason and leave through `finish_exit`, right after `begin_exit`.
    unsafe {
        let started = begin_exit(pcb, reason);
        finish_exit(pcb, started)
    }
}

/// Records `reason` as the calling process's exit reason, unless its exit has already
/// begun (an exit from inside its terminate callback keeps the first reason). True if this
/// call began the exit.
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn begin_exit(pcb: &Pcb, reason: ExitReason) -> bool {
    if pcb.exiting.load(Relaxed) != pcb::EXIT_NONE {
        return false;
    }
    // SAFETY: owner-only field.
    unsafe { pcb.set_exit(reason) };
    pcb.exiting.store(pcb::EXIT_BEGUN, Relaxed);
    true
}

/// The calling process's side of the exit path, then leaves it for good: when `started`,
/// runs the terminate callback and releases the registered name, then makes the exit
/// public (`is_alive` is false from here on; see [`publish_exit`]).
///
/// # Safety
/// `pcb` is the calling process, after [`begin_exit`].
pub(crate) unsafe fn finish_exit(pcb: &Pcb, started: bool) -> ! {
    if started {
        // SAFETY: `pcb` is the calling process whose exit has begun (this function's
        // contract: called after `begin_exit`), as `publish_exit` requires.
        unsafe { publish_exit(pcb) };
    }
    // SAFETY: `pcb` is the calling process with its exit reason recorded by
    // `begin_exit` (this function's contract), as `leave` requires.
    unsafe { leave(pcb) }
}

/// Ends the calling process because a signal it has just handled says so (every signal
/// ticket below `pcb.sig_seen` is handled). Three cases:
/// - `kill` (`exit(P, kill)`, BEAM case 51): the process ends at once with `reason`
///   (`killed`) and runs none of its code: its terminate callback is dropped without
///   being called, and one that is running is abandoned (its stack is discarded).
/// - The exit has not begun: the signal is published as handled, so that `is_alive`,
///   `process_info`, `link` and `monitor` answer at once while the terminate callback
///   runs: the process is alive until the callback returns, handling signals as any live
///   process does (a `kill` or another exit signal can end it meanwhile). Then as
///   [`exit_raw`].
/// - The exit has begun (the signal reached the process inside its terminate callback):
///   the callback is abandoned and the process ends with the signal's reason, as a live
///   process hit by an exit signal does.
///
/// # Safety
/// `pcb` is the calling process, outside any match predicate (a receive it is called
/// from is abandoned).
pub(crate) unsafe fn exit_on_signal(pcb: &Pcb, reason: ExitReason, kill: bool) -> ! {
    // The receive this may be called from never returns; signals are never handled inside
    // a match predicate (`signal::settle_within` defers them), so receives in the terminate
    // callback are allowed.
    debug_assert!(!pcb.matching());
    let begun = pcb.exiting.load(Relaxed) != pcb::EXIT_NONE;
    // SAFETY: owner-only field; a running terminate callback has its own copy of the
    // first reason.
    unsafe { pcb.set_exit(reason) };
    pcb.exiting.store(pcb::EXIT_BEGUN, Relaxed);
    let callback = take_terminate(pcb);
    match callback {
        Some(f) if !kill && !begun => {
            pcb.sigs.publish(pcb.sig_seen.get());
            // SAFETY: the calling process, whose exit has begun.
            unsafe { call_terminate(pcb, f) };
        }
        Some(f) => {
            // Not run (kill): dropped here, where a panic in a destructor of what it
            // captured is caught like one in the callback itself.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(f)));
        }
        None => {}
    }
    runtime_of(pcb).registry.release(pcb);
    pcb.exiting
        .store(pcb::EXIT_PUBLIC, std::sync::atomic::Ordering::SeqCst);
    // After the exit is public: whoever waits for one of these signals to be handled then
    // sees the process as exiting (case 23).
    pcb.sigs.publish(pcb.sig_seen.get());
    // SAFETY: `pcb` is the calling process (this function's contract) and its exit
    // reason was recorded by `set_exit` above, as `leave` requires.
    unsafe { leave(pcb) }
}

/// Suspends the calling process for good: its worker runs the rest of the exit path.
///
/// # Safety
/// `pcb` is the calling process, whose exit reason is recorded.
unsafe fn leave(pcb: &Pcb) -> ! {
    // SAFETY: `pcb` is the calling process; it is never resumed after `Exit`.
    unsafe { suspend(pcb, Suspend::Exit) };
    unreachable!("an exited process was resumed")
}

/// Runs the terminate callback, releases the registered name, then marks the process as
/// exiting for everybody: whoever sees it dead can no longer find its name (cases 82, 83).
/// (A name registered to it after this point, racing its exit, is released by the exit
/// path.)
///
/// # Safety
/// `pcb` is the calling process, whose exit has begun.
pub(crate) unsafe fn publish_exit(pcb: &Pcb) {
    // SAFETY: `pcb` is the calling process whose exit has begun (this function's
    // contract), as `run_terminate` requires.
    unsafe { run_terminate(pcb) };
    runtime_of(pcb).registry.release(pcb);
    pcb.exiting
        .store(pcb::EXIT_PUBLIC, std::sync::atomic::Ordering::SeqCst);
}

/// Runs the calling process's terminate callback, if one is set, with its exit reason
/// (on its own stack, as the process; a panic in it is caught and ignored).
///
/// # Safety
/// `pcb` is the calling process, already exiting.
pub(crate) unsafe fn run_terminate(pcb: &Pcb) {
    if let Some(f) = take_terminate(pcb) {
        // SAFETY: `pcb` is the calling process, already exiting (this function's
        // contract), as `call_terminate` requires.
        unsafe { call_terminate(pcb, f) };
    }
}

/// Takes the calling process's terminate callback out of its link data (it runs at most
/// once).
fn take_terminate(pcb: &Pcb) -> Option<pcb::Terminate> {
    pcb.sig
        .lock()
        .data
        .as_deref_mut()
        .and_then(|d| d.terminate.take())
}

/// Calls terminate callback `f` with the calling process's exit reason (a copy: an exit
/// signal that ends the process during the call changes the recorded reason, see
/// [`exit_on_signal`]); a panic in it is caught and ignored.
///
/// # Safety
/// `pcb` is the calling process, already exiting.
unsafe fn call_terminate(pcb: &Pcb, f: pcb::Terminate) {
    // An exit from inside a match predicate never returns to the scan that called it
    // (the stack is discarded), so the callback may use the mailbox again.
    pcb.set_matching(false);
    // SAFETY: owner-only field.
    let reason = unsafe { pcb.exit_reason() }.clone();
    // Process code: the worker may be taken over while it runs (`sched::held`).
    crate::sched::held::leave_for_process_code(pcb);
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || f(&reason)));
    crate::sched::held::back_from_process_code(pcb);
}

/// Yields the rest of the time slice (`erlang:yield/0`): the process goes to the back of
/// its run queue.
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn yield_raw(pcb: &Pcb) {
    // SAFETY: `pcb` is the calling process (this function's contract), so `suspend`
    // uses the yielder on this stack; `check` handles signals only when `matching()` is
    // false, so a yield from inside a match predicate defers them.
    unsafe {
        suspend(pcb, Suspend::Yield);
        crate::signal::check(pcb);
    }
}

/// Charges `n` reductions; yields when the slice is used up.
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn consume_raw(pcb: &Pcb, n: i32) {
    // SAFETY: owner-only field.
    let left = unsafe {
        let r = &mut (*pcb.ctx.get()).reductions;
        *r = r.saturating_sub(n);
        *r
    };
    if left <= 0 {
        // SAFETY: `pcb` is the calling process (this function's contract), `yield_raw`'s
        // contract.
        unsafe { yield_raw(pcb) }
    } else if pcb.signal_flag().load(std::sync::atomic::Ordering::Relaxed) != 0 {
        // A signal arrived: handle it now (an exit signal stops a busy process at its next
        // reduction check, not only at the end of its slice).
        // SAFETY: `pcb` is the calling process (this function's contract); `check` handles
        // the signals only when `matching()` is false.
        unsafe { crate::signal::check(pcb) }
    }
}
