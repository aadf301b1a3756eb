//! The receive machinery: taking messages from the calling process's mailbox (plain and
//! selective receive, with or without a timeout), the receive timeout on the worker's timer
//! wheel, `sleep`, and the guard that refuses mailbox calls from inside a match predicate.

use std::ptr::NonNull;
use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::sync::Arc;

use super::context::{consume_raw, yield_raw, MAX_TIMEOUT_MS};
use super::pcb::{ArmedTimer, Pcb, Suspend};
use crate::mailbox::{Msg, SIG_BASE};
use crate::runtime::runtime_of;
use crate::sched::current_worker;
use crate::status::Status;
use crate::timer;

/// Messages a selective receive moves from the outer to the inner queue at a time.
const FETCH_BATCH: usize = 64;

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
                        unsafe { crate::signal::handle::settle(pcb, Some(m)) };
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
            unsafe { pcb.suspend(Suspend::Yield) };
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
        unsafe { pcb.suspend(Suspend::Receive) };
    };
    if armed.is_some() {
        disarm_timeout(pcb);
    }
    result
}

/// Moves up to `limit` messages from the outer to the inner queue; at a signal, handles it
/// and everything behind it (see [`crate::signal::handle::settle`]; the process may exit there).
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
            unsafe { crate::signal::handle::settle(pcb, Some(m)) };
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
    unsafe { crate::signal::handle::settle_all(pcb) }
}

/// Arms a timeout `ms` milliseconds from now for the calling process, on the wheel of the
/// worker it runs on. Returns the timeout's sequence number (it has fired once
/// `pcb.timeout_fired` equals it), or None when the deadline has already passed.
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn arm_timeout(pcb: &Pcb, ms: u64) -> std::result::Result<Option<u32>, Status> {
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
pub(crate) fn disarm_timeout(pcb: &Pcb) {
    pcb.timer_seq.fetch_add(1, Relaxed);
    if let Some(t) = pcb.timer.take() {
        let w = current_worker();
        if !w.is_null() {
            // SAFETY: a process runs on a worker thread; the pointer is to that worker.
            let w = unsafe { &*w };
            if w.index == t.worker as usize && std::ptr::eq(Arc::as_ptr(&w.rt).cast(), pcb.rt) {
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
                pcb.suspend(Suspend::Receive);
                crate::signal::handle::check(pcb);
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
/// `ErrReentrant`, from inside a match predicate (see [`outside_match`]). Always inlined
/// into its callers (`hive_receive`, `process::receive`): one frame less on every
/// suspended stack, and no call on the hottest path.
///
/// # Safety
/// `pcb` is the calling process.
#[inline(always)]
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
                unsafe { crate::signal::handle::settle(pcb, Some(m)) };
                continue;
            }
            count_out(pcb);
            return Ok(m);
        }
        // SAFETY: `pcb` is the calling process.
        unsafe { pcb.suspend(Suspend::Receive) };
    }
}

/// Counts a message taken out of the mailbox (for `process_info`'s mailbox length).
#[inline]
fn count_out(pcb: &Pcb) {
    // Only the owner writes it: a plain load and store.
    let n = pcb.msgs_out.load(Relaxed);
    pcb.msgs_out.store(n.wrapping_add(1), Relaxed);
}
