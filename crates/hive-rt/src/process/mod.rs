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
pub(crate) mod exit;
pub(crate) mod lifecycle;
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
        unsafe { exit::exit_raw(pcb, ExitReason::error("stack_overflow")) }
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
