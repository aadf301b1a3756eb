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
//! receive timeout, fails with `ErrReentrant` and has no effect: [`receive`] and the
//! selective receives, [`recv_mark`], [`mailbox_len`], [`demonitor`] with `flush`, [`sleep`]
//! for more than 0 ms, and [`exit_pid`] to the caller itself. (On the BEAM a guard cannot
//! call any of them.) Signals that reach the process meanwhile are handled once the
//! predicate has returned. A predicate that panics leaves the mailbox intact and in order
//! (the message it was looking at stays queued); one that ends the process exits it
//! cleanly, and its terminate callback may use the mailbox again.

pub(crate) mod message;
pub(crate) mod pcb;
pub(crate) mod state;
pub(crate) mod table;

use std::ptr::NonNull;
use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::sync::Arc;

pub use crate::alias::{alias, make_ref, monitor_alias, send_alias, unalias};
use message::Message;
pub use pcb::HiveCtx;
use pcb::{ArmedTimer, Entry, Pcb, Suspend};

use crate::config::SpawnOptions;
use crate::mailbox::{Msg, MAX_MESSAGE_LEN, SIG_BASE};
use crate::pid::Pid;
use crate::reason::ExitReason;
use crate::runtime::RtInner;
use crate::sched::{current_pcb, current_worker, Caller};
use crate::status::{Error, Result, Status};
use crate::timer;

/// Messages a selective receive moves from the outer to the inner queue at a time.
const FETCH_BATCH: usize = 64;

/// Largest finite receive timeout, in ms (Erlang's limit, 2^32 − 1; BEAM case 12).
pub const MAX_TIMEOUT_MS: i64 = 0xFFFF_FFFF;

/// `Ok` unless the calling process `pcb` is inside one of its own match predicates, where a
/// call that walks or takes from its mailbox, or re-arms its receive timeout, would corrupt
/// the scan in progress (see the module docs): then `ErrReentrant`. One load of an
/// owner-only flag a few bytes from `msgs_out`, which every receive writes anyway.
#[inline(always)]
pub(crate) fn outside_match(pcb: &Pcb) -> std::result::Result<(), Status> {
    if pcb.matching() {
        Err(Status::ErrReentrant)
    } else {
        Ok(())
    }
}

/// Marks the calling process as running a match predicate (`Pcb::matching`) from
/// [`InMatch::enter`] to [`InMatch::leave`]. If a predicate unwinds (a Rust panic) instead,
/// the drop clears the mark and ends the receive's armed timeout, which the receive can no
/// longer end itself.
struct InMatch<'a> {
    pcb: &'a Pcb,
    armed: bool,
}

impl<'a> InMatch<'a> {
    /// Sets the mark; `armed`: the receive has armed a timeout.
    #[inline(always)]
    fn enter(pcb: &'a Pcb, armed: bool) -> InMatch<'a> {
        pcb.set_matching(true);
        InMatch { pcb, armed }
    }

    /// Clears the mark after the predicates returned normally.
    #[inline(always)]
    fn leave(self) {
        self.pcb.set_matching(false);
        std::mem::forget(self);
    }
}

impl Drop for InMatch<'_> {
    /// Runs only when a predicate unwinds (`leave` forgets the guard).
    fn drop(&mut self) {
        self.pcb.set_matching(false);
        if self.armed {
            disarm_timeout(self.pcb);
        }
    }
}

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

/// Receives the oldest message that `matches` accepts (all of them when None).
///
/// `timeout_ms`: negative = wait forever, 0 = do not wait, otherwise at most
/// [`MAX_TIMEOUT_MS`]. As on the BEAM (case 12), an out-of-range timeout is reported only
/// when the receive would have to wait. `matches` runs with `Pcb::matching` set; called
/// from inside a predicate this fails with `ErrReentrant` and touches nothing.
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn receive_raw(
    pcb: &Pcb,
    timeout_ms: i64,
    mut matches: Option<&mut dyn FnMut(*mut Msg) -> bool>,
    from_mark: u64,
) -> std::result::Result<NonNull<Msg>, Status> {
    outside_match(pcb)?;
    // The accesses to `inner` and `ctx` below: owner-only fields, and we are the owner. No
    // reference to them is held across a suspension. While a predicate runs, every call
    // that would touch `inner` is refused (`outside_match`).
    // SAFETY: `inner` is owner-only and `pcb` is the calling process (the contract); the
    // reference is not held across a suspension, and `outside_match` above refused a call
    // from inside a predicate, whose scan holds another.
    let inner = unsafe { &mut *pcb.inner.get() };
    if matches.is_some() && from_mark != 0 {
        inner.reset_save_to_mark(from_mark);
    } else {
        inner.reset_save();
    }
    let mut armed: Option<u32> = None;
    let result = loop {
        let found = match matches.as_mut() {
            None => match inner.pop() {
                Some(m) => Some(m),
                // SAFETY: the process is its mailbox's consumer.
                None => match unsafe { inner.take_outer(&pcb.outer) } {
                    // SAFETY: a live message we own.
                    Some(m) if unsafe { Msg::kind(m.as_ptr()) } >= SIG_BASE => {
                        // SAFETY: `pcb` is the calling process (may exit here).
                        unsafe { crate::signal::settle(pcb, Some(m)) };
                        continue;
                    }
                    other => other,
                },
            },
            Some(f) => {
                // The scan counts on a copy: the predicate may count reductions or yield
                // (which resets them) through `ctx` itself, so no reference into `ctx` is
                // held while it runs.
                let ctx = pcb.ctx.get();
                // SAFETY: `ctx` is owner-only and `pcb` is the calling process (this function's
                // contract); the raw pointer is read before the scan, with no reference kept.
                let start = unsafe { (*ctx).reductions };
                let mut budget = start;
                let in_match = InMatch::enter(pcb, armed.is_some());
                let found = inner.scan(&mut budget, f);
                in_match.leave();
                // SAFETY: `ctx` is owner-only and `pcb` is the calling process; the predicate has
                // returned, so no other access to `ctx` is live.
                unsafe { (*ctx).reductions = (*ctx).reductions.saturating_sub(start - budget) };
                found
            }
        };
        if let Some(m) = found {
            count_out(pcb);
            break Ok(m);
        }
        // SAFETY: `ctx` is owner-only and `pcb` is the calling process; a plain read, no
        // reference kept.
        if unsafe { (*pcb.ctx.get()).reductions } <= 0 {
            // Long scan: let others run; the save pointer keeps our place.
            // SAFETY: `pcb` is the calling process.
            unsafe { suspend(pcb, Suspend::Yield) };
            continue;
        }
        // SAFETY: the process is its mailbox's consumer.
        if matches.is_some() && unsafe { fetch(pcb, FETCH_BATCH) } {
            continue;
        }
        if let Some(seq) = armed {
            if pcb.timeout_fired.load(Acquire) == seq {
                break Err(Status::Timeout);
            }
        } else if timeout_ms == 0 {
            // A poll that finds nothing costs a reduction, so a process polling in a loop
            // is preempted like any other: otherwise it would keep its worker for good, and
            // the process it had just woken (in that worker's LIFO slot, which is not
            // stolen) would never run. May yield, or exit on a pending signal.
            // SAFETY: `pcb` is the calling process; nothing of `inner` is held across.
            unsafe { consume_raw(pcb, 1) };
            break Err(Status::Timeout);
        } else if timeout_ms > MAX_TIMEOUT_MS {
            break Err(Status::ErrBadArgument);
        } else if timeout_ms > 0 {
            // SAFETY: `pcb` is the calling process.
            match unsafe { arm_timeout(pcb, timeout_ms as u64) } {
                Err(e) => break Err(e),
                Ok(None) => break Err(Status::Timeout),
                Ok(Some(seq)) => armed = Some(seq),
            }
            // Look once more before sleeping: the wheel insert took time.
            continue;
        }
        // SAFETY: `pcb` is the calling process.
        unsafe { suspend(pcb, Suspend::Receive) };
    };
    if armed.is_some() {
        disarm_timeout(pcb);
    }
    result
}

/// Moves up to `limit` messages from the outer to the inner queue; at a signal, handles it
/// and everything behind it (see [`crate::signal::settle`]; the process may exit there).
/// True if anything moved.
///
/// # Safety
/// `pcb` is the calling process.
unsafe fn fetch(pcb: &Pcb, limit: usize) -> bool {
    // SAFETY: owner-only field; not held across the settle (which re-borrows it).
    let inner = unsafe { &mut *pcb.inner.get() };
    let mut n = 0;
    while n < limit {
        // SAFETY: the process is its mailbox's consumer.
        let Some(m) = (unsafe { inner.take_outer(&pcb.outer) }) else {
            break;
        };
        // SAFETY: a live message we own.
        if unsafe { Msg::kind(m.as_ptr()) } >= SIG_BASE {
            // SAFETY: `pcb` is the calling process (this function's contract), and it is not
            // inside a match predicate: `fetch` is only called by `receive_raw`, after
            // `outside_match` and outside the scan; `m` is a signal taken from its outer queue.
            unsafe { crate::signal::settle(pcb, Some(m)) };
            return true;
        }
        inner.push_back(m.as_ptr());
        n += 1;
    }
    n > 0
}

/// Moves everything from the outer to the inner queue, handling signals.
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn fetch_all(pcb: &Pcb) {
    // SAFETY: `pcb` is the calling process (this function's contract, which is `settle`'s)
    // and `settle_all` passes no first message.
    unsafe { crate::signal::settle_all(pcb) }
}

/// Arms a timeout `ms` milliseconds from now for the calling process, on the wheel of the
/// worker it runs on. Returns the timeout's sequence number (it has fired once
/// `pcb.timeout_fired` equals it), or None when the deadline has already passed.
///
/// # Safety
/// `pcb` is the calling process.
unsafe fn arm_timeout(pcb: &Pcb, ms: u64) -> std::result::Result<Option<u32>, Status> {
    let seq = pcb.timer_seq.fetch_add(1, Relaxed).wrapping_add(1);
    let w = current_worker();
    if w.is_null() {
        return Err(Status::ErrNotAProcess);
    }
    // SAFETY: a process runs on a worker thread; the pointer is to that worker.
    let worker = unsafe { &*w };
    let deadline = timer::deadline_tick(runtime_of(pcb).now_ns(), ms);
    let key = worker.wheel.borrow_mut().insert(deadline, pcb.pid, seq);
    Ok(key.map(|key| {
        pcb.timer.set(Some(ArmedTimer {
            worker: worker.index as u32,
            key,
        }));
        seq
    }))
}

/// Ends the calling process's armed timeout: a firing still in flight becomes stale, and
/// the wheel entry is cancelled when it is on this worker (else it fires and is ignored).
fn disarm_timeout(pcb: &Pcb) {
    pcb.timer_seq.fetch_add(1, Relaxed);
    if let Some(t) = pcb.timer.take() {
        let w = current_worker();
        if !w.is_null() {
            // SAFETY: a process runs on a worker thread; the pointer is to that worker.
            let w = unsafe { &*w };
            if w.index == t.worker as usize && std::ptr::eq(Arc::as_ptr(&w.rt), pcb.rt) {
                w.wheel.borrow_mut().cancel(t.key);
            }
        }
    }
}

/// Suspends the calling process for at least `ms` milliseconds without taking any message
/// (`timer:sleep/1`); 0 only yields. Messages arriving meanwhile stay queued. From inside a
/// match predicate, `ms` > 0 fails with `ErrReentrant`.
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn sleep_raw(pcb: &Pcb, ms: u64) -> std::result::Result<(), Status> {
    if ms == 0 {
        // SAFETY: `pcb` is the calling process (this function's contract), `yield_raw`'s
        // contract.
        unsafe { yield_raw(pcb) };
        return Ok(());
    }
    // A sleep inside a predicate would re-arm the receive's timeout: that receive would
    // never time out.
    outside_match(pcb)?;
    // SAFETY: `pcb` is the calling process (this function's contract), as `arm_timeout`
    // requires: the timeout is armed on the worker it runs on.
    if let Some(seq) = unsafe { arm_timeout(pcb, ms)? } {
        while pcb.timeout_fired.load(Acquire) != seq {
            // A message only wakes us to look at the clock again; a signal is handled
            // (an exit signal may end the process here).
            // SAFETY: `pcb` is the calling process (this function's contract), so `suspend`
            // uses the yielder on this stack; `outside_match` above refused a call from inside
            // a match predicate, so `check` may handle signals (and exit) here.
            unsafe {
                suspend(pcb, Suspend::Receive);
                crate::signal::check(pcb);
            }
        }
    }
    disarm_timeout(pcb);
    Ok(())
}

/// Receives the oldest message, waiting as long as it takes: the common `receive` of
/// generated code, kept small because its frames are what a suspended process leaves on
/// its stack, and resuming one of many processes pays a cache miss for every line of them.
/// It cannot panic (so callers need no `catch_unwind` frame around it). Fails only with
/// `ErrReentrant`, from inside a match predicate (see [`outside_match`]).
///
/// # Safety
/// `pcb` is the calling process.
#[inline]
pub(crate) unsafe fn receive_any(pcb: &Pcb) -> std::result::Result<NonNull<Msg>, Status> {
    outside_match(pcb)?;
    // SAFETY: owner-only field; no reference to it is held across the suspension.
    let inner = unsafe { &mut *pcb.inner.get() };
    loop {
        if let Some(m) = inner.pop() {
            count_out(pcb);
            return Ok(m);
        }
        // SAFETY: the process is its mailbox's consumer.
        if let Some(m) = unsafe { inner.take_outer(&pcb.outer) } {
            // SAFETY: a live message we own.
            if unsafe { Msg::kind(m.as_ptr()) } >= SIG_BASE {
                // A signal: handle it and everything behind it (may exit here).
                // SAFETY: `pcb` is the calling process.
                unsafe { crate::signal::settle(pcb, Some(m)) };
                continue;
            }
            count_out(pcb);
            return Ok(m);
        }
        // SAFETY: `pcb` is the calling process.
        unsafe { suspend(pcb, Suspend::Receive) };
    }
}

/// Counts a message taken out of the mailbox (for `process_info`'s mailbox length).
#[inline]
fn count_out(pcb: &Pcb) {
    // Only the owner writes it: a plain load and store.
    let n = pcb.msgs_out.load(Relaxed);
    pcb.msgs_out.store(n.wrapping_add(1), Relaxed);
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

/// The calling process's pid, or [`Pid::NONE`] outside a process (`erlang:self/0`).
pub fn self_pid() -> Pid {
    let _rt = crate::sched::held::enter();
    current_pcb_pid()
}

/// Sends a copy of `data` to `to` (`erlang:send/2`). A dead or unknown pid is not an error
/// (BEAM case 2); messages from one sender arrive in send order (cases 14, 15).
/// Errors: `ErrNotAProcess`, `ErrBadArgument` (pid 0), `ErrBadLength` (over 1 GiB),
/// `ErrNoMemory`, `ErrShutDown`.
pub fn send(to: Pid, data: &[u8]) -> Result<()> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    send_on(runtime_of(pcb), &Caller::get(), to, data)
}

fn timeout_arg(timeout_ms: Option<u32>) -> i64 {
    timeout_ms.map_or(-1, i64::from)
}

/// Receives the oldest message, waiting at most `timeout_ms` milliseconds (None = forever,
/// `Some(0)` = do not wait; a poll that finds nothing costs one reduction, so a polling
/// loop is preempted). A message that arrives as the timeout fires is never lost: it
/// stays in the mailbox for the next receive.
/// Errors: `ErrNotAProcess`, `Timeout`, `ErrReentrant` (called from a match predicate; see
/// the module docs).
pub fn receive(timeout_ms: Option<u32>) -> Result<Message> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    if timeout_ms.is_none() {
        // SAFETY: `pcb` is the calling process; the message returned is ours.
        return unsafe { receive_any(pcb).map(|m| Message::from_raw(m)) }.map_err(Error);
    }
    // SAFETY: `pcb` is the calling process; the message returned is ours.
    unsafe {
        receive_raw(pcb, timeout_arg(timeout_ms), None, 0)
            .map(|m| Message::from_raw(m))
            .map_err(Error)
    }
}

/// Selective receive (BEAM cases 5–8): returns the oldest message for which
/// `matches(sender, data)` is true; the others stay in the mailbox in order. While the
/// receive waits, each message is examined once (save pointer). `matches` must not touch
/// the caller's mailbox (see the module docs, "Match predicates").
/// Errors: `ErrNotAProcess`, `Timeout`, `ErrReentrant` (called from a match predicate).
pub fn receive_match(
    timeout_ms: Option<u32>,
    matches: impl FnMut(Pid, &[u8]) -> bool,
) -> Result<Message> {
    let _rt = crate::sched::held::enter();
    receive_match_impl(0, timeout_ms, matches)
}

/// Selective receive on whole messages: as [`receive_match`], but `matches` sees the
/// [`Message`] (kind, sender, data, reason, monitor reference), e.g. to take the DOWN of
/// one monitor: `receive_select(None, |m| m.monitor_ref() == r)`. The predicate only
/// borrows the message and must not touch the caller's mailbox (see the module docs,
/// "Match predicates": a receive inside it fails with `ErrReentrant`).
/// Errors: `ErrNotAProcess`, `Timeout`, `ErrReentrant` (called from a match predicate).
pub fn receive_select(
    timeout_ms: Option<u32>,
    mut matches: impl FnMut(&Message) -> bool,
) -> Result<Message> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    let mut f = |m: *mut Msg| {
        // SAFETY: the scan passes live messages of our own mailbox (non-null); the borrowed
        // view is never dropped (ManuallyDrop), so the message stays in the mailbox.
        let raw = unsafe { NonNull::new_unchecked(m) };
        // SAFETY: `raw` is a live message of our own mailbox; the view never frees it
        // (ManuallyDrop), so ownership stays with the mailbox.
        let view = std::mem::ManuallyDrop::new(unsafe { Message::from_raw(raw) });
        matches(&view)
    };
    // SAFETY: `pcb` is the calling process.
    unsafe {
        receive_raw(pcb, timeout_arg(timeout_ms), Some(&mut f), 0)
            .map(|m| Message::from_raw(m))
            .map_err(Error)
    }
}

fn receive_match_impl(
    from_mark: u64,
    timeout_ms: Option<u32>,
    mut matches: impl FnMut(Pid, &[u8]) -> bool,
) -> Result<Message> {
    let pcb = current()?;
    let mut f = |m: *mut Msg| {
        // SAFETY: the scan passes live messages of our own mailbox.
        let (sender, data) = unsafe {
            (
                Msg::sender(m),
                std::slice::from_raw_parts(Msg::user_data(m), Msg::user_len(m)),
            )
        };
        matches(sender, data)
    };
    // SAFETY: `pcb` is the calling process.
    unsafe {
        receive_raw(pcb, timeout_arg(timeout_ms), Some(&mut f), from_mark)
            .map(|m| Message::from_raw(m))
            .map_err(Error)
    }
}

/// Sets the calling process's receive mark and returns its id: a later
/// [`receive_match_from`] with that id examines only messages that arrived after this call
/// (the BEAM's receive markers: `Ref = make_ref(), Server ! {Ref, ...}, receive {Ref, R} ->`
/// scans only new messages). One mark per process; a new one replaces the old (the old id
/// then scans from the oldest message, which is correct, only slower).
/// Errors: `ErrNotAProcess`, `ErrReentrant` (called from a match predicate).
pub fn recv_mark() -> Result<u64> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    outside_match(pcb)?;
    // SAFETY: the calling process; then owner-only field (everything is fetched already).
    unsafe {
        fetch_all(pcb);
        Ok((*pcb.inner.get()).mark(&pcb.outer))
    }
}

/// As [`receive_match`], examining only messages that arrived after [`recv_mark`] returned
/// `mark`: the caller guarantees no earlier message can match.
/// Errors: `ErrNotAProcess`, `Timeout`, `ErrReentrant` (called from a match predicate).
pub fn receive_match_from(
    mark: u64,
    timeout_ms: Option<u32>,
    matches: impl FnMut(Pid, &[u8]) -> bool,
) -> Result<Message> {
    let _rt = crate::sched::held::enter();
    receive_match_impl(mark, timeout_ms, matches)
}

/// Suspends the calling process for at least `ms` milliseconds without taking any message
/// (`timer:sleep/1`): no busy waiting, no blocked worker thread. `Some(0)`-like 0 yields.
/// Errors: `ErrNotAProcess`, `ErrReentrant` (`ms` > 0 from a match predicate, whose receive
/// owns the process's timeout).
pub fn sleep(ms: u32) -> Result<()> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    // SAFETY: the calling process.
    unsafe { sleep_raw(pcb, u64::from(ms)) }.map_err(Error)
}

/// Sends a copy of `data` to `dest` in `ms` ms (`erlang:send_after/3`); see
/// [`crate::Runtime::send_after`]. Errors: `ErrNotAProcess` and those of `Runtime::send_after`.
pub fn send_after(dest: crate::TimerDest<'_>, ms: u64, data: &[u8]) -> Result<u64> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    runtime_of(pcb)
        .set_timer(
            &Caller::get(),
            dest.owned(),
            ms,
            data,
            crate::MessageKind::Data,
        )
        .map_err(Error)
}

/// `erlang:start_timer/3`; see [`crate::Runtime::start_timer`].
pub fn start_timer(dest: crate::TimerDest<'_>, ms: u64, data: &[u8]) -> Result<u64> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    runtime_of(pcb)
        .set_timer(
            &Caller::get(),
            dest.owned(),
            ms,
            data,
            crate::MessageKind::Timeout,
        )
        .map_err(Error)
}

/// `erlang:cancel_timer/1`; see [`crate::Runtime::cancel_timer`].
pub fn cancel_timer(tref: u64) -> Result<Option<u64>> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    runtime_of(pcb).cancel_timer(tref).map_err(Error)
}

/// `erlang:read_timer/1`; see [`crate::Runtime::read_timer`].
pub fn read_timer(tref: u64) -> Result<Option<u64>> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    runtime_of(pcb).read_timer(tref).map_err(Error)
}

/// Registers `name` for `pid` (`erlang:register/2`; see [`crate::Runtime::register`]).
/// Errors: `ErrNotAProcess`, and those of `Runtime::register`.
pub fn register(name: &[u8], pid: Pid) -> Result<()> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    runtime_of(pcb).register(name, pid).map_err(Error)
}

/// Removes a registered name (`erlang:unregister/1`).
/// Errors: `ErrNotAProcess`, `ErrBadArgument`, `ErrBadLength`, `ErrNotRegistered`.
pub fn unregister(name: &[u8]) -> Result<()> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    runtime_of(pcb).unregister(name).map_err(Error)
}

/// The pid registered as `name`, or [`Pid::NONE`] (`erlang:whereis/1`).
/// Errors: `ErrNotAProcess`, `ErrBadArgument`, `ErrBadLength`.
pub fn whereis(name: &[u8]) -> Result<Pid> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    runtime_of(pcb).whereis(name).map_err(Error)
}

/// Sends a copy of `data` to the process registered as `name` (`Name ! Msg`).
/// Errors: those of [`send`], plus `ErrNotRegistered` and the name errors.
pub fn send_named(name: &[u8], data: &[u8]) -> Result<()> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    runtime_of(pcb)
        .send_named(&Caller::get(), name, data)
        .map_err(Error)
}

/// Messages in the calling process's mailbox (`process_info(self(), message_queue_len)`).
/// Every signal that has reached the process is handled first, so an `EXIT` or `DOWN`
/// message it turns into is counted. Costs O(1) however long the mailbox is (plus moving
/// at most 4096 queued messages, and whatever stands before a pending signal); a mailbox of
/// 2^31 messages or more is reported short.
/// Errors: `ErrNotAProcess`, `ErrReentrant` (called from a match predicate; the predicate
/// may read `process_info(self_pid())`'s `mailbox_len` instead).
pub fn mailbox_len() -> Result<usize> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    outside_match(pcb)?;
    // Not `fetch_all`: moving every message of a flooded mailbox (10M messages) took 300 ms
    // in one piece, with nothing else running on the worker (`overload`, 1 scheduler).
    // SAFETY: the calling process.
    unsafe { crate::signal::settle(pcb, None) };
    // SAFETY: owner-only field.
    let inner = unsafe { (*pcb.inner.get()).len() };
    Ok(queued(pcb).max(inner))
}

/// Messages in `pcb`'s mailbox as its counters tell: appended (`msgs_in`) minus taken
/// (`msgs_out`, less the signals turned into messages). A sender adds to `msgs_in` just
/// after its push, so a message already taken can be missing from it for a moment: the
/// difference is read as signed and never reported below 0.
pub(crate) fn queued(pcb: &Pcb) -> usize {
    let d = pcb
        .msgs_in
        .load(Relaxed)
        .wrapping_sub(pcb.msgs_out.load(Relaxed)) as i32;
    d.max(0) as usize
}

/// Gives up the rest of the time slice (`erlang:yield/0`). Errors: `ErrNotAProcess`.
pub fn yield_now() -> Result<()> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    // SAFETY: the calling process.
    unsafe { yield_raw(pcb) };
    Ok(())
}

/// Charges `n` reductions (`n` ≥ 0) and yields when the slice (4000) is used up: the call a
/// loop makes to stay preemptible. Errors: `ErrNotAProcess`.
pub fn consume_reductions(n: u32) -> Result<()> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    // SAFETY: the calling process.
    unsafe { consume_raw(pcb, n.min(i32::MAX as u32) as i32) };
    Ok(())
}

/// Ends the calling process with `reason` (`erlang:exit/1`). Values on the process's stack
/// are leaked, not dropped (see the module docs). Returns only with `ErrNotAProcess`.
pub fn exit(reason: ExitReason) -> Error {
    let _rt = crate::sched::held::enter();
    match current() {
        // SAFETY: the calling process.
        Ok(pcb) => unsafe { exit_raw(pcb, reason) },
        Err(e) => Error(e),
    }
}

/// Spawns a process on the calling process's runtime (`erlang:spawn/1`).
/// Errors: `ErrNotAProcess`, `ErrShutDown`, `ErrSystemLimit`, `ErrNoMemory`.
pub fn spawn<F: FnOnce() + Send + 'static>(f: F) -> Result<Pid> {
    let _rt = crate::sched::held::enter();
    spawn_opts(SpawnOptions::default(), f)
}

/// Spawns with options (priority, stack size). Errors as [`spawn`], plus `ErrBadLength`.
pub fn spawn_opts<F: FnOnce() + Send + 'static>(opts: SpawnOptions, f: F) -> Result<Pid> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    runtime_of(pcb)
        .spawn(Entry::rust(f), &[], opts, None)
        .map_err(Error)
}

/// The calling process's [`HiveCtx`] (reduction counter), for code that decrements it
/// inline. Valid until the process exits, on whichever worker it runs.
/// Errors: `ErrNotAProcess`.
pub fn ctx() -> Result<NonNull<HiveCtx>> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    Ok(NonNull::new(pcb.ctx.get()).expect("PCB field"))
}

/// True while `pid` is alive (`erlang:is_process_alive/1`). Ordered after every signal the
/// caller sent to `pid` before: after `exit_pid(p, Kill)` it returns false (BEAM case 23).
/// May yield while `pid` handles pending signals. Errors: `ErrNotAProcess`.
pub fn is_alive(pid: Pid) -> Result<bool> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    runtime_of(pcb).is_alive(pid).map_err(Error)
}

/// A snapshot of `pid` (`erlang:process_info/2`): None when it is dead or exiting. Ordered
/// after the signals the caller sent to `pid` before (case 23; may yield meanwhile).
/// Errors: `ErrNotAProcess`.
pub fn process_info(pid: Pid) -> Result<Option<crate::ProcessInfo>> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    runtime_of(pcb).process_info(pid).map_err(Error)
}

/// Links the calling process to `pid` (`erlang:link/1`, BEAM cases 24–37). Links are
/// bidirectional and form a set (linking again does nothing); linking to oneself does
/// nothing. When either side exits, the other gets an exit signal with the exit reason.
/// A target that is exiting answers with an exit signal `noproc` (cases 35–37); so does a
/// dead one the caller sent [`exit_pid`] just before, with no message taken, signal
/// handled or timer waited on in between (case 37).
/// Errors: `ErrNotAProcess`; `ErrBadArgument` (pid 0); `ErrNoProcess` when `pid` is dead
/// and the caller does not trap exits (case 26; a trapping caller instead gets an `Exit`
/// message with reason `noproc`, case 27).
pub fn link(pid: Pid) -> Result<()> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    crate::signal::link(pcb, pid).map_err(Error)
}

/// Removes the link to `pid` (`erlang:unlink/1`, cases 33–34): once it returns, the link
/// has no effect on the caller; an `Exit` message of that link may already be queued (one
/// receive with timeout 0 flushes it). Succeeds also when there was no link or `pid` is
/// dead. Errors: `ErrNotAProcess`, `ErrBadArgument` (pid 0).
pub fn unlink(pid: Pid) -> Result<()> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    crate::signal::unlink(pcb, pid).map_err(Error)
}

/// Sets the calling process's priority and returns the old one
/// (`process_flag(priority, P)`, case 99). It takes effect the next time the process is
/// queued (at its next yield or wake-up). Not inherited by processes it spawns.
/// Errors: `ErrNotAProcess`.
pub fn set_priority(p: crate::Priority) -> Result<crate::Priority> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    let old = pcb.priority.swap(p as u8, Relaxed);
    Ok(crate::Priority::from_raw(old.into()).unwrap_or_default())
}

/// Sets the calling process's `trap_exit` flag and returns the old value
/// (`process_flag(trap_exit, On)`, cases 40, 48). While set, exit signals other than
/// `exit(P, kill)` arrive as [`MessageKind::Exit`](crate::MessageKind::Exit) messages
/// instead of ending the process. The flag starts false and is not inherited.
/// Errors: `ErrNotAProcess`.
pub fn trap_exit(on: bool) -> Result<bool> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    Ok(pcb.trap_exit.swap(on, Relaxed))
}

/// Sends an exit signal with `reason` to `pid` (`erlang:exit/2`, cases 42–55): `Kill`
/// ends it with `Killed` even if it traps exits, at once and running none of its code (its
/// terminate callback does not run, one that runs is abandoned); a trapping process gets
/// an `Exit` message; `Normal` is ignored by a process that does not trap (but ends the
/// caller itself when `pid` is the caller, case 45); any other reason ends it with that reason.
/// A busy process is stopped at its next yield or reduction check, a waiting one at once.
/// A dead pid is fine. Errors: `ErrNotAProcess`, `ErrBadArgument` (pid 0), `ErrNoMemory`,
/// `ErrReentrant` (`pid` is the caller and it is inside a match predicate: the signal would
/// be handled at once, in the middle of the scan; [`exit`] ends it from there).
pub fn exit_pid(pid: Pid, reason: ExitReason) -> Result<()> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    crate::signal::exit_pid(runtime_of(pcb), &Caller::get(), pid, &reason).map_err(Error)
}

/// Monitors `pid` (`erlang:monitor(process, Pid)`, cases 56–69) and returns the monitor
/// reference. When `pid` exits the caller gets one
/// [`MessageKind::Down`](crate::MessageKind::Down) message with this reference, the pid
/// and the exit reason; at once with `Noproc` if `pid` is dead or exiting. Every call
/// creates an independent monitor. Monitoring oneself returns a reference that never fires.
/// Errors: `ErrNotAProcess`, `ErrBadArgument` (pid 0).
pub fn monitor(pid: Pid) -> Result<u64> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    crate::signal::monitor(pcb, pid).map_err(Error)
}

/// Monitors the process registered as `name` (`erlang:monitor(process, Name)`, cases
/// 58–60): the name is resolved once, now, and the pid is monitored; if no process has
/// the name, a DOWN with `Noproc` and sender [`Pid::NONE`] arrives at once. The DOWN names
/// the pid, not the name (the caller knows which name its reference is for).
/// Errors: `ErrNotAProcess`, `ErrBadArgument` / `ErrBadLength` (invalid name).
pub fn monitor_name(name: &[u8]) -> Result<u64> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    crate::signal::monitor_name(pcb, name).map_err(Error)
}

/// Removes a monitor (`erlang:demonitor/2`, cases 70–78): once it returns, no DOWN of it
/// arrives. `flush`: also remove its DOWN if one is already in the mailbox. Returns true
/// if the monitor was still active (the `info` option); false if it had fired, was
/// removed before, belongs to another process or never existed.
/// Errors: `ErrNotAProcess`, `ErrBadArgument` (reference 0), `ErrReentrant` (`flush` from
/// a match predicate; the monitor is then left as it was).
pub fn demonitor(mref: u64, flush: bool) -> Result<bool> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    let flags = crate::signal::DEMONITOR_INFO
        | if flush {
            crate::signal::DEMONITOR_FLUSH
        } else {
            0
        };
    // SAFETY: the calling process.
    unsafe { crate::signal::demonitor(pcb, mref, flags) }.map_err(Error)
}

/// Spawns a process linked to the caller, atomically (`erlang:spawn_link/1`, case 97):
/// the link exists before the child runs, so the caller always sees its real exit reason.
/// Errors as [`spawn`].
pub fn spawn_link<F: FnOnce() + Send + 'static>(f: F) -> Result<Pid> {
    let _rt = crate::sched::held::enter();
    spawn_opt(SpawnOptions::default(), true, false, f).map(|(p, _)| p)
}

/// Spawns a process monitored by the caller, atomically (`erlang:spawn_monitor/1`,
/// case 65); returns its pid and the monitor reference. Errors as [`spawn`].
pub fn spawn_monitor<F: FnOnce() + Send + 'static>(f: F) -> Result<(Pid, u64)> {
    let _rt = crate::sched::held::enter();
    spawn_opt(SpawnOptions::default(), false, true, f)
}

/// `erlang:spawn_opt/2` with the `link` and `monitor` options (case 98): returns the pid
/// and the monitor reference (0 without `monitor`). Errors as [`spawn_opts`].
pub fn spawn_opt<F: FnOnce() + Send + 'static>(
    opts: SpawnOptions,
    link: bool,
    monitor: bool,
    f: F,
) -> Result<(Pid, u64)> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    runtime_of(pcb)
        .spawn_linked(Entry::rust(f), &[], opts, pcb, link, monitor)
        .map_err(Error)
}

/// Sets the calling process's terminate callback (replacing an earlier one): when the
/// process exits — returning, `exit`, a panic, or an exit signal other than `kill` — `f`
/// runs on its stack, as the process, with the exit reason, before its name is released
/// and its links and monitors are signalled. While `f` runs the process is alive
/// (`is_alive` is true, `process_info` finds it, a link or monitor made meanwhile reports
/// the final reason) and handles signals as any live process: an exit signal that would
/// end it ends it at once with that signal's reason, the rest of `f` not run. `exit_pid(p,
/// Kill)` runs none of the process's code (BEAM case 51): `f` is dropped unrun (the
/// values it captured are dropped then, on the process's stack, before its name is
/// released and its links and monitors are signalled: a `Drop` of one can release what
/// the process held), or abandoned if it runs, and the process ends with `Killed`. Not
/// run when the process dies of a stack overflow (its stack is gone); at shutdown it runs
/// (the process gets an untrappable exit signal `shutdown`; a callback still running
/// after the 2 s grace is abandoned). A panic in `f` is caught and ignored; an `exit`
/// inside `f` ends it and keeps the first reason. Errors: `ErrNotAProcess`.
pub fn set_terminate<F: FnOnce(&ExitReason) + Send + 'static>(f: F) -> Result<()> {
    let _rt = crate::sched::held::enter();
    let pcb = current()?;
    pcb.sig.lock().data().terminate = Some(Box::new(f));
    Ok(())
}
