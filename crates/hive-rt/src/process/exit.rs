//! The exit path: everything that happens between a process deciding to exit and its PCB
//! being freed, in order, once per process (BEAM: `erts_do_exit_process` and
//! `erts_continue_exit_process` in `erl_process.c`).
//!
//! A process exits by returning, by `exit/1` ([`exit_raw`]), by a signal it handles
//! ([`exit_on_signal`]), by a stack overflow, or by shutdown. Its lifecycle word
//! (`lifecycle.rs`) moves ALIVE → EXITING → PUBLIC → CLOSED along the phases:
//!
//! On the process's own stack ([`publish`], [`exit_on_signal`]):
//! 1. **terminate** — the terminate callback runs, before anything is signalled. Meanwhile
//!    the process is alive to everybody (EXITING) and handles signals like any live
//!    process: an exit signal that would end it ends it at once with its reason, and
//!    `exit(P, kill)` runs none of its code (the callback is dropped unrun, or abandoned
//!    if it runs; case 51).
//! 2. **name released** — whoever sees the process dead can no longer find its name
//!    (cases 82, 83).
//! 3. **exit made public** (PUBLIC) — `is_alive` is false from here, and link and monitor
//!    requests are answered with `noproc` (cases 35–37, 67).
//!
//! On the worker that ran it last (or the shutdown thread), once it stopped for good
//! ([`finish`]):
//! 4. **exited** — the state word says EXITED (later sends drop their messages), the name
//!    is released again (a registration that raced phase 2).
//! 5. **link record closed** (CLOSED) — under the lock every link and monitor request takes
//!    (`signal::Requestee::close`); the mailbox is drained up to the tail seen at closing:
//!    LINK and MONITOR requests still queued are answered with `noproc`, UNLINK and
//!    DEMONITOR remove their entries (ERTS: `erts_proc_sig_handle_exit`).
//! 6. **links and monitors notified, exactly once** — each linked process gets an exit
//!    signal with the exit reason, each monitoring process a DOWN, each process this one
//!    monitored a DEMONITOR (case 62). All go by the one signal route (`signal::deliver`)
//!    after every message the process sent while it ran, so none overtakes one (cases 18,
//!    19). Each link or monitor is in exactly one set, taken once in phase 5.
//! 7. **timers cancelled** — timers to this process die with it (case 92), and its
//!    pending receive timeout. Then its **sockets**: the socket queue it died waiting in
//!    is left (the next waiter is woken), and every socket it still owns is closed, which
//!    wakes the processes waiting on them (a port closes with its owner, `kill` included).
//! 8. **resources freed** — messages left, pid table entry, stack, spawn argument and
//!    entry, exit waiters completed, then the PCB once no pinned reader can see it.

use std::panic::AssertUnwindSafe;
use std::ptr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use crossbeam_epoch::Guard;

use super::lifecycle::Begin;
use super::pcb::{Entry, ExitWaiter, LinkData, Pcb, Suspend, Terminate};
use crate::mailbox::Msg;
use crate::reason::ExitReason;
use crate::runtime::runtime_of;
use crate::runtime::RtInner;
use crate::sched::local::WorkerLocal;
use crate::sched::Caller;
use crate::signal::route::{deliver, Delivery, Requestee};
use crate::signal::{self, Sender, Signal};

/// Ends the calling process with `reason` (`exit/1`).
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn exit_raw(pcb: &Pcb, reason: ExitReason) -> ! {
    // SAFETY: `pcb` is the calling process (this function's contract), so it may record
    // its own exit reason and leave through `finish_exit`, right after `begin`.
    unsafe {
        let begun = begin(pcb, reason);
        finish_exit(pcb, begun)
    }
}

/// Records `reason` as the calling process's exit reason, unless its exit has already
/// begun (an exit from inside its terminate callback keeps the first reason).
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn begin(pcb: &Pcb, reason: ExitReason) -> Begin {
    let begun = pcb.life.transition_to_exiting();
    if begun == Begin::Began {
        // SAFETY: owner-only field, written by the process itself.
        unsafe { pcb.set_exit(reason) };
    }
    begun
}

/// The calling process's side of the exit path, then leaves it for good: when `begun` is
/// [`Begin::Began`], phases 1–3 ([`publish`]).
///
/// # Safety
/// `pcb` is the calling process, after [`begin`].
pub(crate) unsafe fn finish_exit(pcb: &Pcb, begun: Begin) -> ! {
    if begun == Begin::Began {
        // SAFETY: `pcb` is the calling process whose exit has begun (this function's
        // contract: called after `begin`), as `publish` requires.
        unsafe { publish(pcb) };
    }
    // SAFETY: `pcb` is the calling process with its exit reason recorded by `begin`
    // (this function's contract), as `leave` requires.
    unsafe { leave(pcb) }
}

/// Phases 1–3 on the process's stack: runs the terminate callback, releases the
/// registered name, makes the exit public. (A name registered to it after phase 2, racing
/// its exit, is released in phase 4.)
///
/// # Safety
/// `pcb` is the calling process, whose exit has begun.
pub(crate) unsafe fn publish(pcb: &Pcb) {
    // 1. terminate
    if let Some(f) = take_terminate(pcb) {
        // SAFETY: `pcb` is the calling process, already exiting (this function's
        // contract), as `call_terminate` requires.
        unsafe { call_terminate(pcb, f) };
    }
    release_and_publish(pcb);
}

/// Phases 2 and 3: releases the registered name, then makes the exit public.
fn release_and_publish(pcb: &Pcb) {
    runtime_of(pcb).registry.release(pcb);
    pcb.life.transition_to_public();
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
    // a match predicate (`signal::settle` defers them), so receives in the terminate
    // callback are allowed.
    debug_assert!(!pcb.matching());
    let begun = pcb.life.transition_to_exiting();
    // SAFETY: owner-only field; a running terminate callback has its own copy of the
    // first reason.
    unsafe { pcb.set_exit(reason) };
    match take_terminate(pcb) {
        Some(f) if !kill && begun == Begin::Began => {
            pcb.sigs.publish(pcb.sig_seen.get());
            // SAFETY: the calling process, whose exit has begun.
            unsafe { call_terminate(pcb, f) };
        }
        Some(f) => {
            // Not run (kill): dropped here, where a panic in a destructor of what it
            // captured is caught like one in the callback itself.
            let _ = std::panic::catch_unwind(AssertUnwindSafe(move || drop(f)));
        }
        None => {}
    }
    release_and_publish(pcb);
    // After the exit is public: whoever waits for one of these signals to be handled then
    // sees the process as exiting (case 23).
    pcb.sigs.publish(pcb.sig_seen.get());
    // SAFETY: `pcb` is the calling process (this function's contract) and its exit
    // reason was recorded by `set_exit` above, as `leave` requires.
    unsafe { leave(pcb) }
}

/// Suspends the calling process for good: its worker runs the rest of the exit path
/// ([`finish`]).
///
/// # Safety
/// `pcb` is the calling process, whose exit reason is recorded.
unsafe fn leave(pcb: &Pcb) -> ! {
    // SAFETY: `pcb` is the calling process; it is never resumed after `Exit`.
    unsafe { pcb.suspend(Suspend::Exit) };
    unreachable!("an exited process was resumed")
}

/// Sets the terminate callback of process `pcb` (the calling process), or clears it with
/// None: phase 1 runs it (see the module docs for when it does not).
pub(crate) fn set_terminate(pcb: &Pcb, f: Option<Terminate>) {
    pcb.sig.lock().data().terminate = f;
}

/// Takes the calling process's terminate callback out of its link data (it runs at most
/// once).
fn take_terminate(pcb: &Pcb) -> Option<Terminate> {
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
unsafe fn call_terminate(pcb: &Pcb, f: Terminate) {
    // An exit from inside a match predicate never returns to the scan that called it
    // (the stack is discarded), so the callback may use the mailbox again.
    pcb.set_matching(false);
    // SAFETY: owner-only field.
    let reason = unsafe { pcb.exit_reason() }.clone();
    // Process code: the worker may be taken over while it runs (`sched::held`).
    crate::sched::handshake::leave_for_process_code(pcb);
    let _ = std::panic::catch_unwind(AssertUnwindSafe(move || f(&reason)));
    crate::sched::handshake::back_from_process_code(pcb);
}

/// Phases 4–8, on the worker that ran the process last (or on the shutdown thread),
/// after the process stopped running for good.
///
/// # Safety
/// `pcb_ptr` is a live process of `rt` that will never be resumed again and that no other
/// thread is running or exiting. With `guard` (pinning the calling thread) the PCB is
/// freed once every pinned reader has moved on; without, it is freed at once, which is
/// only sound when no other thread can hold a pointer to it (shutdown, after the workers
/// stopped and every external call drained).
pub(crate) unsafe fn finish(
    rt: &RtInner,
    pcb_ptr: *mut Pcb,
    worker: Option<&WorkerLocal>,
    guard: Option<&Guard>,
) {
    // SAFETY: the caller guarantees `pcb_ptr` is live, will never be resumed, and that no
    // other thread runs or exits it: this thread owns the process now.
    let pcb = unsafe { &*pcb_ptr };
    let worker_ptr = worker.map_or(ptr::null(), |w| w as *const WorkerLocal);
    // 4. exited: the terminate callback ran on the process's stack (`publish`); from
    // here on it counts as dead to `is_alive`, and the reason is final. Its name is
    // released before anything is signalled: nobody who can see that the process is gone
    // (DOWN, EXIT, is_alive, wait) can still find the name (BEAM cases 82, 83).
    pcb.life.transition_to_public();
    pcb.state.transition_to_exited();
    rt.registry.release(pcb);
    // 5. link record closed, queued requests answered.
    let from = Sender {
        pid: pcb.pid,
        worker: worker_ptr,
        lifo: true,
    };
    // SAFETY: the process stopped running for good and this thread runs its exit path
    // (this function's contract), so this thread is its mailbox's consumer.
    let mut data = unsafe { close_link_record(rt, pcb, &from) };
    // 6. links and monitors notified, exactly once.
    // SAFETY: `exit_reason` needs the state word to say EXITED (phase 4, on this thread),
    // after which the reason never changes.
    let reason: &ExitReason = unsafe { pcb.exit_reason() };
    if let Some(d) = data.as_deref() {
        notify(rt, &from, d, reason);
    }
    // 7. timers cancelled.
    cancel_timers(rt, pcb, worker, data.as_deref());
    // 7b. sockets: the queue it died in left, the sockets it owns closed.
    let sockets = data.as_deref().map_or(&[][..], |d| &d.sockets[..]);
    // SAFETY: the process stopped running for good: this thread owns its `extras`.
    if !sockets.is_empty() || unsafe { pcb.io_wait() }.is_some() {
        // SAFETY: the process stopped running for good and this thread runs its exit path.
        unsafe { crate::io::owner::process_exited(rt, pcb, worker, sockets) };
    }
    // 8. resources freed.
    let waiters = data
        .as_deref_mut()
        .map(|d| std::mem::take(&mut d.waiters))
        .unwrap_or_default();
    drop(data);
    // SAFETY: as above: the process no longer runs and this thread owns it; the caller's
    // `guard` contract is passed on.
    unsafe { free_resources(rt, pcb_ptr, worker, guard, waiters) };
}

/// Phase 5: closes the link record (`Requestee::close`), answers the link and monitor
/// requests still queued with `noproc` and applies the unlinks and demonitors queued
/// before the close. Returns the links, monitors, timers, sockets and exit waiters it
/// took (None: the process never had any).
///
/// # Safety
/// `pcb` has stopped running for good and the calling thread runs its exit path.
unsafe fn close_link_record(rt: &RtInner, pcb: &Pcb, from: &Sender) -> Option<Box<LinkData>> {
    // Most processes have no link data: nothing to build, copy or free for them.
    let mut data = Requestee::of(pcb).close();
    if let Some(d) = data.as_deref() {
        crate::alias::table::process_exited(&rt.aliases, d);
    }
    // Every LINK/MONITOR request queued before the close is at or before this node.
    let last = pcb.outer.tail_snapshot();
    if last == pcb.outer.stub_addr() {
        return data;
    }
    let mut spins = 0u32;
    loop {
        // SAFETY: the process no longer runs: this thread is its mailbox's consumer.
        let Some(m) = (unsafe { (*pcb.inner.get()).take_outer(&pcb.outer) }) else {
            // A sender is linking a node before `last`: wait for it.
            crate::sync::wait_for_link(&mut spins);
            continue;
        };
        let mp = m.as_ptr();
        let (kind, sender, mref) =
            // SAFETY: a live message we own (just taken from the queue).
            unsafe { (Msg::kind(mp), Msg::sender(mp), Msg::monitor_ref(mp)) };
        match kind {
            signal::SIG_LINK if !data.as_deref().is_some_and(|d| d.links.contains(&sender)) => {
                let _ = deliver(rt, from, sender, Signal::LinkExit(&ExitReason::Noproc));
            }
            signal::SIG_UNLINK => {
                if let Some(d) = data.as_deref_mut() {
                    d.links.remove(&sender);
                }
            }
            signal::SIG_MONITOR => {
                let _ = deliver(rt, from, sender, Signal::Down(mref, &ExitReason::Noproc));
            }
            signal::SIG_DEMONITOR => {
                if let Some(d) = data.as_deref_mut() {
                    d.monitored_by.remove(&mref);
                }
            }
            _ => {}
        }
        // SAFETY: we own `m` and do not use it again.
        unsafe { crate::alias::envelope::free_queued(mp) };
        if mp == last {
            return data;
        }
    }
}

/// Phase 6: an exit signal with `reason` to each linked process, a DOWN to each
/// monitoring process, a DEMONITOR to each process this one monitored.
fn notify(rt: &RtInner, from: &Sender, data: &LinkData, reason: &ExitReason) {
    // A target that is gone needs nothing; one that is stopping (shutdown) neither.
    let send = |to, sig| {
        let _: Result<Delivery, _> = deliver(rt, from, to, sig);
    };
    for &l in &data.links {
        send(l, Signal::LinkExit(reason));
    }
    for (&mref, &w) in &data.monitored_by {
        send(w, Signal::Down(mref, reason));
    }
    for (&mref, &t) in &data.monitors {
        send(t, Signal::Demonitor(mref));
    }
}

/// Phase 7: the timers recorded in the link record (BEAM case 92) and the pending receive
/// timeout.
fn cancel_timers(rt: &RtInner, pcb: &Pcb, worker: Option<&WorkerLocal>, data: Option<&LinkData>) {
    let caller = Caller {
        pcb: ptr::null(),
        worker: worker.map_or(ptr::null(), |w| w as *const WorkerLocal),
    };
    for &tref in data.map_or(&[][..], |d| &d.timers[..]) {
        rt.cancel_timer_as(&caller, tref);
    }
    if let (Some(t), Some(w)) = (pcb.timer.take(), worker) {
        if t.worker as usize == w.index {
            w.wheel.borrow_mut().cancel(t.key);
        }
    }
}

/// Phase 8: frees the messages left (later sends see EXITED and drop theirs; one racing
/// this point is freed with the PCB), the pid, the stack, the spawn argument and entry;
/// completes the exit waiters; frees the PCB.
///
/// # Safety
/// As [`finish`], after phases 4–7.
unsafe fn free_resources(
    rt: &RtInner,
    pcb_ptr: *mut Pcb,
    worker: Option<&WorkerLocal>,
    guard: Option<&Guard>,
    waiters: Vec<Arc<ExitWaiter>>,
) {
    // SAFETY: `finish`'s contract: live, never resumed, owned by this thread.
    let pcb = unsafe { &*pcb_ptr };
    // SAFETY: owner-only fields and the queue's consumer side; the process no longer runs.
    unsafe {
        let inner = &mut *pcb.inner.get();
        inner.drain_outer(&pcb.outer);
        inner.clear();
    }
    rt.table.remove(pcb.pid);
    match worker {
        Some(w) => w.stats().exited.add(1),
        None => {
            rt.external_stats.exited.fetch_add(1, Relaxed);
        }
    }
    // SAFETY: owner-only field. None: the process never ran (no stack yet).
    if let Some(mut co) = unsafe { (*pcb.coroutine.get()).take() } {
        if !co.done() {
            // C frames have no destructors; the Rust API documents that values live across
            // `exit` are leaked. A coroutine is created right before its first resume,
            // so it is never unstarted here.
            // SAFETY: by the runtime's rule, no value with a destructor lives on a
            // process stack across a suspension point, so nothing is skipped.
            unsafe { co.force_reset() };
        }
        rt.recycle_stack(co.into_stack(), pcb.stack_usable(), worker);
    }
    // SAFETY: owner-only fields.
    unsafe {
        *pcb.entry.get() = Entry::Taken;
        pcb.set_heap_arg(None);
    }
    // SAFETY: the state word says EXITED (phase 4): the reason is final.
    let reason = unsafe { pcb.exit_reason() };
    for w in waiters {
        w.complete(reason);
    }
    // The PCB, once every pinned reader has moved on.
    let addr = pcb_ptr as usize;
    match guard {
        // SAFETY: the PCB is unreachable from the table now; readers that loaded it
        // earlier are pinned, and the closure runs only after all of them unpinned.
        Some(g) => unsafe { g.defer_unchecked(move || drop(Box::from_raw(addr as *mut Pcb))) },
        // SAFETY: without a guard the caller guarantees no other thread can hold a pointer
        // to the PCB (shutdown, workers stopped, external calls drained); it came from `Box`.
        None => drop(unsafe { Box::from_raw(pcb_ptr) }),
    }
}
