//! The calling process: finding it ([`current`], [`entered`]), its runtime
//! ([`runtime_of`](crate::runtime::runtime_of)), and what it does to its own run: suspend, yield, spend reductions.
//! Everything here runs on the process's own stack, except [`runtime_of`](crate::runtime::runtime_of).

use super::pcb::{Pcb, Suspend};
use crate::mailbox::{Msg, MAX_MESSAGE_LEN};
use crate::pid::Pid;
use crate::reason::ExitReason;
use crate::runtime::RtInner;
use crate::sched::{current_pcb, Caller};
use crate::status::{Error, Result, Status};

/// Largest finite receive timeout, in ms (Erlang's limit, 2^32 − 1; BEAM case 12).
pub const MAX_TIMEOUT_MS: i64 = 0xFFFF_FFFF;

/// The calling process's PCB, having entered the runtime (`sched::enter`; one read of
/// the current process), or `ErrNotAProcess`.
#[inline]
pub(crate) fn entered(
) -> std::result::Result<(crate::sched::handshake::InRuntime, &'static Pcb), Status> {
    let p = current_pcb();
    if p.is_null() {
        return Err(Status::ErrNotAProcess);
    }
    let rt = crate::sched::handshake::enter_pcb(p);
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
        unsafe { super::exit::exit_raw(pcb, ExitReason::error("stack_overflow")) }
    }
    pcb
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
    if to.node() != 0 {
        // To another node: the bytes go straight into the connection's buffer.
        return rt.send_remote_bytes(caller, to, data).map_err(Error);
    }
    let m = Msg::with_data(data, caller.pid(), caller.worker).ok_or(Error(Status::ErrNoMemory))?;
    rt.send_as(caller, to, m).map_err(Error)
}

pub(crate) fn current_pcb_pid() -> Pid {
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
        pcb.suspend(Suspend::Yield);
        crate::signal::handle::check(pcb);
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
        unsafe { crate::signal::handle::check(pcb) }
    }
}
