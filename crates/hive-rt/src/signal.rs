//! Links, exit signals, `trap_exit`, `kill` and monitors, with the BEAM's semantics
//! (groups B–G and K of `docs/semantics.md`).
//!
//! ## Signals travel with messages
//! The BEAM's one ordering guarantee is that all signals from one process to another keep
//! their order ([RM-Proc §Delivery of Signals]). Hive gets it by sending every signal — link,
//! unlink, exit, monitor, demonitor, down — through the receiver's mailbox (the outer
//! queue of `mailbox/`), as a message of an internal kind (≥ [`SIG_BASE`]). The receiver
//! handles a signal when its mailbox reaches it, never earlier than the messages sent before
//! it (cases 16–22) and always before it takes any message sent after it:
//!
//! - while it receives (every path that moves messages out of the outer queue goes through
//!   [`settle`], which handles each signal in order and appends converted `Exit`/`Down`
//!   messages to the inner queue);
//! - after every resume from a yield, sleep or reduction check, and before its first
//!   instruction, when its sent count is past the tickets it has handled;
//! - at every reduction check when `HiveCtx::signal_pending` (set by every signal sender,
//!   cleared by `settle`) says one arrived: a process busy computing is killed at its next
//!   reduction check; one blocked in receive is woken by the signal and killed at once.
//!
//! Converted signals (`{'EXIT', From, Reason}`, `{'DOWN', Ref, process, Pid, Reason}`) are
//! then ordinary messages of kinds `Exit` and `Down` (case 50).
//!
//! ## Link and monitor sets
//! Each process keeps its links, the monitors it holds and the monitors held on it in
//! `Pcb::sig` (a mutex, almost never contended: the owner writes its own set, a requester
//! writes the target's only in the fast path below). The set of the receiving side decides:
//! - an exit signal that came over a link is acted on only if the link is still in the
//!   receiver's set (then removed): after `unlink` returns, no exit signal of that link has
//!   any effect (cases 33, 34);
//! - a DOWN is delivered only if the monitor is still in the monitoring process's set (then
//!   removed): after `demonitor` returns, no DOWN arrives (cases 70, 75).
//!
//! ## Link and monitor requests: alive, exiting, dead
//! A request looks the target up and locks its `sig`:
//! - not found, or `closed` (its exit path has taken its links, so it counts as dead):
//!   the target is **dead**: `link` fails with `noproc` for a caller that does not trap
//!   exits, or queues `{'EXIT', Pid, noproc}` (case 26, 27); `monitor` queues a DOWN with
//!   `noproc` (case 57). No link or monitor is created. Except: when the caller's last
//!   `exit/2` went to this target and the caller has taken no message, handled no signal
//!   and armed no timer since ([`LastExit`]), its link request would have reached the
//!   target behind that exit signal, so it is answered as by an exiting target (case 37),
//!   even if the target finished exiting before the caller looked.
//! - `exiting` (it decided to exit, its exit path has not closed yet): the request is
//!   answered with `noproc` as an exiting BEAM process answers it (cases 35–37, 67): the
//!   link is created on the caller's side and at once ended by an exit signal `noproc`;
//!   the monitor fires at once with `noproc`.
//! - alive with no signal pending (published prefix = sent count): the link or monitor is written
//!   into the target's set directly. Nothing sent earlier by the caller can still be
//!   waiting in the target's mailbox, so the order of signals is kept.
//! - alive with signals pending: a LINK or MONITOR signal is queued behind them (under the
//!   lock, so the exit path, which closes under the same lock, sees every such signal).
//!   When the target reaches it alive, it adds the link or monitor; when its exit path
//!   reaches it, it answers `noproc` (case 37: `exit(P, foo), link(P)` gives `noproc`).
//!
//! ## The exit path
//! 1. On the process's own stack (`process::publish_exit`, `process::exit_on_signal`): the
//!    terminate callback runs, before anything is signalled; then the registered name is
//!    released; then the exit is made public (`exiting`): from here `is_alive` is false,
//!    and whoever sees the process dead can no longer find its name (cases 82, 83).
//!    While the callback runs the process is alive and handles signals like any live
//!    process (an exit that came from a signal publishes that signal as handled first):
//!    queries on it answer at once, and an exit signal that would end it ends it at once
//!    with its reason. `exit(P, kill)` runs none of P's code: the callback is dropped
//!    unrun, or abandoned if it runs, and P ends with `killed` (case 51).
//! 2. On the worker (`RtInner::finish_process`): the state word says EXITED, and the name
//!    is released again (a registration that raced step 1).
//! 3. `sig` is closed and its links and monitors taken; the mailbox is drained up to the
//!    tail seen at closing: pending LINK and MONITOR requests are answered with `noproc`,
//!    UNLINK and DEMONITOR remove entries, the rest is freed.
//! 4. Each linked process gets an exit signal with the exit reason, each monitoring process
//!    a DOWN, and each process this one monitored a DEMONITOR (so its `monitored_by` is
//!    cleaned, case 62). All of them are pushed after every message the process sent while
//!    it ran, so none overtakes one (cases 18, 19). Each link or monitor is in exactly one
//!    set, taken once, so it is notified exactly once.
//! 5. The pid stops resolving and the resources are freed.
//!
//! ## Ordered liveness ([`SignalCounts`])
//! A sender takes a ticket (the target's sent count, fetch_add) before pushing a signal and
//! stores it in the signal; the target publishes the contiguous prefix of tickets it has
//! handled (after making its exit public, when a signal killed it without a terminate
//! callback to run; before running the callback otherwise). `is_alive` and
//! `process_info` read the sent count after the caller's own signals went out and wait
//! until the published prefix reaches it (or the target is exiting), so a caller that sent
//! `exit(P, kill)` then sees `P` as dead (case 23). The wait ends as soon as the target
//! runs its signal checks: a process in its terminate callback handles signals as any live
//! process, and a kill never waits for a callback.
//!
//! ## Known differences from the BEAM
//! - The BEAM gives each unlink an id, so that `unlink` racing a `link` from the other side
//!   cannot leave a half link. Hive does not: if A calls `unlink(B)` while B calls
//!   `link(A)`, B may end up linked to A without A being linked to B.
//! - A monitor by registered name (`monitor_name`, cases 58–60) resolves the name once and
//!   monitors the pid; its DOWN names the pid (0 when the name was not registered), not
//!   `{Name, Node}`: the caller knows which name its reference is for.

use std::ptr::NonNull;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use crate::sync::AtomicU32;

use crate::mailbox::{MessageKind, Msg, SIG_BASE};
use crate::pid::Pid;
use crate::process::pcb::{LinkData, Pcb};
use crate::process::{self, runtime_of};
use crate::reason::ExitReason;
use crate::runtime::RtInner;
use crate::sched::worker::WorkerLocal;
use crate::sched::Caller;
use crate::status::Status;

/// A link request: the receiver adds the sender to its links.
pub(crate) const SIG_LINK: u32 = SIG_BASE;
/// An unlink: the receiver removes the sender from its links.
pub(crate) const SIG_UNLINK: u32 = SIG_BASE + 1;
/// `exit/2`: an exit signal not tied to a link.
pub(crate) const SIG_EXIT: u32 = SIG_BASE + 2;
/// The exit signal of a link (sent by a dying process, or `noproc` by an exiting one).
pub(crate) const SIG_EXIT_LINK: u32 = SIG_BASE + 3;
/// A monitor request (reference in the prefix).
pub(crate) const SIG_MONITOR: u32 = SIG_BASE + 4;
/// A demonitor (reference in the prefix).
pub(crate) const SIG_DEMONITOR: u32 = SIG_BASE + 5;
/// A monitor fired (reference and reason in the prefix).
pub(crate) const SIG_DOWN: u32 = SIG_BASE + 6;
/// `hive_shutdown`'s untrappable exit signal: the process exits with `shutdown`.
pub(crate) const SIG_SHUTDOWN: u32 = SIG_BASE + 7;

/// `demonitor` option: remove a DOWN of this monitor already in the mailbox.
pub const DEMONITOR_FLUSH: u32 = 1;
/// `demonitor` option: report whether the monitor was still active.
pub const DEMONITOR_INFO: u32 = 2;

/// Who sends a signal: the pid it carries and the thread's worker (message caches, run
/// queues) and whether it is a running process (then a woken receiver goes to the worker's
/// LIFO slot).
#[derive(Clone, Copy)]
pub(crate) struct Sender {
    pub(crate) pid: Pid,
    pub(crate) worker: *const WorkerLocal,
    pub(crate) lifo: bool,
}

impl Sender {
    pub(crate) fn of(caller: &Caller) -> Sender {
        Sender {
            pid: caller.pid(),
            worker: caller.worker,
            lifo: !caller.pcb.is_null(),
        }
    }
}

/// True when `a` has reached `b` on the wrapping u32 counters.
fn reached(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) >= 0
}

/// The ordered-liveness handshake of a process (module docs, "Ordered liveness").
/// Model-checked in `tests/loom_signals.rs`.
///
/// Every signal carries a **ticket**: the value of `sent` its sender took (fetch_add)
/// before pushing it. The receiver tracks the contiguous prefix of tickets it has handled
/// (`Pcb::sig_seen`: every ticket below it is handled; tickets handled out of order wait in
/// `LinkData::early`) and publishes it in `done` (Release) after handling, and after making
/// its exit public when a signal ended it. A checker reads `sent` after its own push (so
/// its ticket is below the value read) and waits until `done` reaches that value (Acquire):
/// then its own signal, and every signal counted before, has been handled.
#[derive(Debug)]
pub(crate) struct SignalCounts {
    sent: AtomicU32,
    done: AtomicU32,
}

impl SignalCounts {
    pub(crate) fn new() -> SignalCounts {
        SignalCounts {
            sent: AtomicU32::new(0),
            done: AtomicU32::new(0),
        }
    }

    /// Sender, before pushing a signal: its ticket.
    pub(crate) fn ticket(&self) -> u32 {
        self.sent.fetch_add(1, AcqRel)
    }

    /// Tickets taken so far.
    pub(crate) fn sent(&self) -> u32 {
        self.sent.load(Acquire)
    }

    /// Receiver: every ticket below `next` is handled.
    pub(crate) fn publish(&self, next: u32) {
        self.done.store(next, Release);
    }

    /// True once every ticket below `want` has been handled.
    pub(crate) fn handled_up_to(&self, want: u32) -> bool {
        reached(self.done.load(Acquire), want)
    }

    /// True when no signal is waiting to be handled (or being sent).
    pub(crate) fn idle(&self) -> bool {
        self.handled_up_to(self.sent())
    }
}

impl RtInner {
    /// A new monitor reference (never 0, never reused while the runtime lives).
    pub(crate) fn new_ref(&self) -> u64 {
        self.next_ref.fetch_add(1, Relaxed) + 1
    }

    /// Pushes the signal `m` into `pcb`'s mailbox, counts it and wakes the process.
    ///
    /// # Safety
    /// The caller is pinned (or otherwise keeps `pcb` alive) and owns `m`.
    pub(crate) unsafe fn push_signal(&self, pcb: NonNull<Pcb>, m: NonNull<Msg>, from: &Sender) {
        // SAFETY: the caller is pinned (or keeps `pcb` alive otherwise), so the PCB is
        // allocated for this call.
        let p = unsafe { pcb.as_ref() };
        // SAFETY: we own `m`.
        unsafe { Msg::set_ticket(m.as_ptr(), p.sigs.ticket()) };
        p.outer.push(m);
        p.signal_flag().store(1, Release);
        self.wake(pcb, from.worker, from.lifo);
    }

    /// Sends a signal of `kind` to `to` (dropped when `to` is not alive). True if it was
    /// queued.
    pub(crate) fn send_signal(
        &self,
        from: &Sender,
        to: Pid,
        kind: u32,
        mref: u64,
        reason: &ExitReason,
    ) -> bool {
        let Some(_access) = self.access() else {
            return false;
        };
        let Some(pcb) = self.table.lookup(to) else {
            return false;
        };
        let Some(m) = Msg::signal(kind, from.pid, mref, reason, from.worker) else {
            return false;
        };
        // SAFETY: `_access` pins us, so the PCB stays allocated; we own `m`.
        unsafe { self.push_signal(pcb, m, from) };
        true
    }

    /// Waits until `pid` has handled every signal sent to it before this call; returns
    /// whether it is then alive (not exiting). The ordering of `is_alive/1` and
    /// `process_info/2` (case 23). A process caller yields while it waits; another thread
    /// yields its OS time slice. The wait lasts until `pid` next checks for signals (at
    /// once when it is blocked: the signal woke it), also while it runs its terminate
    /// callback. Errors: `ErrShutDown`.
    pub(crate) fn alive_ordered(&self, caller: &Caller, pid: Pid) -> Result<bool, Status> {
        let mut target: Option<u32> = None;
        loop {
            {
                let _access = self.access_as(caller).ok_or(Status::ErrShutDown)?;
                let Some(pcb) = self.table.lookup(pid) else {
                    return Ok(false);
                };
                // SAFETY: `_access` keeps the PCB alive.
                let pcb = unsafe { pcb.as_ref() };
                if pcb.is_exiting() {
                    return Ok(false);
                }
                let want = *target.get_or_insert_with(|| pcb.sigs.sent());
                if pcb.sigs.handled_up_to(want) || std::ptr::eq(pcb, caller.pcb) {
                    return Ok(!pcb.is_exiting());
                }
            }
            if caller.pcb.is_null() {
                std::thread::yield_now();
            } else {
                // SAFETY: the calling process, from its own stack.
                unsafe { process::yield_raw(&*caller.pcb) };
            }
        }
    }
}

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
            let mut s = pcb.sig.lock();
            let d = s.data();
            d.links.insert(from);
            drop(s);
            free()
        }
        SIG_UNLINK => {
            remove_link(pcb, from);
            free()
        }
        SIG_MONITOR => {
            pcb.sig.lock().data().monitored_by.insert(mref, from);
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
                    crate::alias::monitor_ended(runtime_of(pcb), d, mref);
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
        // SAFETY: an envelope taken from our mailbox, ours.
        crate::alias::SIG_ALIAS_MSG => match unsafe { crate::alias::deliver(pcb, m) } {
            Some(m) => Handled::Deliver(m),
            None => Handled::Dropped,
        },
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
fn remove_link(pcb: &Pcb, pid: Pid) -> bool {
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
                    wait_for_link(&mut spins);
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
            Handled::Die(reason) => unsafe { process::exit_on_signal(pcb, reason, false) },
            // SAFETY: as for `Die`: `pcb` is the calling process, outside any match predicate.
            Handled::Kill => unsafe { process::exit_on_signal(pcb, ExitReason::Killed, true) },
        }
    }
    pcb.sigs.publish(pcb.sig_seen.get());
}

/// Waits a moment for a sender that swapped the mailbox tail to link its message (a few
/// instructions, unless the OS preempted it): spins, then yields the thread.
fn wait_for_link(spins: &mut u32) {
    *spins += 1;
    if *spins > 64 {
        std::thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
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

/// Outcome of looking a link or monitor target up.
pub(crate) enum Target {
    /// Not alive (or its exit path has closed it).
    Dead,
    /// It has started to exit.
    Exiting,
    /// The link or monitor is in place, or queued behind the target's pending signals.
    Done,
}

/// Sets up a link or monitor on `to`'s side: directly when it has no pending signal, else
/// by queuing `kind` (see the module docs).
fn request(
    rt: &RtInner,
    from: &Sender,
    to: Pid,
    kind: u32,
    mref: u64,
    direct: impl FnOnce(&mut LinkData),
) -> Result<Target, Status> {
    let _access = rt.access().ok_or(Status::ErrShutDown)?;
    let Some(pcb_ptr) = rt.table.lookup(to) else {
        return Ok(Target::Dead);
    };
    // SAFETY: `_access` pins us: the PCB stays allocated.
    let pcb = unsafe { pcb_ptr.as_ref() };
    Requestee::of(pcb).request(from, kind, mref, direct, || {
        rt.wake(pcb_ptr, from.worker, from.lifo)
    })
}

/// The parts of a PCB that a link or monitor request and the exit path's close share:
/// the protocol of "Link and monitor requests" (module docs) is in [`Requestee::request`]
/// and [`Requestee::close`], which the loom model (`src/tests/loom_signals.rs`) runs as
/// they are.
#[derive(Clone, Copy)]
pub(crate) struct Requestee<'a> {
    /// `Pcb::sig`.
    pub(crate) sig: &'a crate::sync::Mutex<crate::process::pcb::SigState>,
    /// `Pcb::sig_closed`.
    pub(crate) closed: &'a std::sync::atomic::AtomicBool,
    /// `Pcb::sigs`.
    pub(crate) sigs: &'a SignalCounts,
    /// `Pcb::exiting`.
    pub(crate) exiting: &'a crate::sync::AtomicU8,
    /// `Pcb::outer`.
    pub(crate) outer: &'a crate::mailbox::OuterQueue,
    /// `Pcb::signal_flag`.
    pub(crate) signal_flag: &'a std::sync::atomic::AtomicU32,
}

impl<'a> Requestee<'a> {
    /// The shared parts of `pcb`.
    pub(crate) fn of(pcb: &'a Pcb) -> Requestee<'a> {
        Requestee {
            sig: &pcb.sig,
            closed: &pcb.sig_closed,
            sigs: &pcb.sigs,
            exiting: &pcb.exiting,
            outer: &pcb.outer,
            signal_flag: pcb.signal_flag(),
        }
    }

    /// A request from `from` to this process: [`Target::Dead`] if its exit path has
    /// closed it, [`Target::Exiting`] if its exit is public, else [`Target::Done`] after
    /// `direct` wrote the link or monitor into its set (no signal pending) or a signal of
    /// `kind` (reference `mref`) was queued behind the pending ones; `wake` then runs,
    /// after the lock is released. Errors: `ErrNoMemory` (the signal could not be
    /// allocated; nothing changed).
    pub(crate) fn request(
        self,
        from: &Sender,
        kind: u32,
        mref: u64,
        direct: impl FnOnce(&mut LinkData),
        wake: impl FnOnce(),
    ) -> Result<Target, Status> {
        let mut s = self.sig.lock();
        if self.closed.load(Relaxed) {
            return Ok(Target::Dead);
        }
        // `idle` first: a signal that killed the target is published as handled only after
        // its exit was made public, so seeing it handled means seeing `exiting` below. Read
        // the other way round, an `exit(P, kill)` handled between the two loads looked like
        // an alive target with nothing pending, and the monitor was written straight into
        // the dying process's set (case 67 then gave `killed`, not `noproc`: 7–10 runs in 30).
        let idle = self.sigs.idle();
        // `Pcb::is_exiting`.
        if self.exiting.load(Acquire) == crate::process::pcb::EXIT_PUBLIC {
            return Ok(Target::Exiting);
        }
        if idle {
            direct(s.data());
            return Ok(Target::Done);
        }
        let m = Msg::signal(kind, from.pid, mref, &ExitReason::Normal, from.worker)
            .ok_or(Status::ErrNoMemory)?;
        // SAFETY: `Msg::signal` just allocated `m`: we own it and nobody else sees it yet.
        unsafe { Msg::set_ticket(m.as_ptr(), self.sigs.ticket()) };
        self.outer.push(m);
        self.signal_flag.store(1, Release);
        drop(s);
        wake();
        Ok(Target::Done)
    }

    /// Step 3 of the exit path, its start: closes the signal state (under the lock every
    /// request takes, so each request either saw it closed or queued its signal before the
    /// mailbox tail the exit path reads next) and takes the links and monitors.
    pub(crate) fn close(self) -> Option<Box<LinkData>> {
        let mut s = self.sig.lock();
        self.closed.store(true, Relaxed);
        s.data.take()
    }
}

/// Queues a message of kind `Exit` or `Down` (already converted) to the calling process
/// itself.
fn queue_to_self(pcb: &Pcb, kind: MessageKind, from: Pid, mref: u64, reason: &ExitReason) {
    let caller = Caller::get();
    if let Some(m) = Msg::signal(kind as u32, from, mref, reason, caller.worker) {
        pcb.outer.push(m);
        pcb.msgs_in.fetch_add(1, Relaxed);
    }
}

/// `link/1` (cases 24–28, 35–37). See [`crate::process::link`].
pub(crate) fn link(pcb: &Pcb, to: Pid) -> Result<(), Status> {
    if to.is_none() {
        return Err(Status::ErrBadArgument);
    }
    if to == pcb.pid {
        return Ok(()); // case 24: nothing is done
    }
    let rt = runtime_of(pcb);
    {
        let mut s = pcb.sig.lock();
        let d = s.data();
        // Ours first: the target may exit and signal us as soon as its side exists.
        if !d.links.insert(to) {
            return Ok(()); // case 25: links are a set
        }
    }
    let from = Sender::of(&Caller::get());
    let me = pcb.pid;
    match request(rt, &from, to, SIG_LINK, 0, |d| {
        d.links.insert(me);
    }) {
        Ok(Target::Done) => Ok(()),
        Ok(Target::Exiting) => {
            exiting_answer(pcb, to, &from);
            Ok(())
        }
        Ok(Target::Dead)
            if pcb.sig.lock().data.as_deref().and_then(|d| d.last_exit)
                == Some(LastExit::now(pcb, to)) =>
        {
            // We sent `to` an exit signal right before this link: the link, ordered behind
            // it, would have reached an exiting process, which answers `noproc` with an
            // exit signal (case 37), even if `to` finished exiting before we looked.
            exiting_answer(pcb, to, &from);
            Ok(())
        }
        Ok(Target::Dead) | Err(_) => {
            remove_link(pcb, to);
            if pcb.trap_exit.load(Relaxed) {
                // Case 27: `true`, then {'EXIT', Dead, noproc}; no link.
                queue_to_self(pcb, MessageKind::Exit, to, 0, &ExitReason::Noproc);
                Ok(())
            } else {
                // Case 26: the `noproc` error, no link, no signal.
                Err(Status::ErrNoProcess)
            }
        }
    }
}

/// The answer of an exiting process to a link request: an exit signal `noproc` over the
/// new link (case 37): a trapping caller gets {'EXIT', To, noproc}, another is killed.
fn exiting_answer(pcb: &Pcb, to: Pid, from: &Sender) {
    if let Some(m) = Msg::signal(SIG_EXIT_LINK, to, 0, &ExitReason::Noproc, from.worker) {
        // SAFETY: we own `m`.
        unsafe { Msg::set_ticket(m.as_ptr(), pcb.sigs.ticket()) };
        pcb.outer.push(m);
        // SAFETY: the calling process, from its own stack.
        unsafe { settle(pcb, None) };
    }
}

/// `unlink/1` (cases 33, 34). See [`crate::process::unlink`].
pub(crate) fn unlink(pcb: &Pcb, to: Pid) -> Result<(), Status> {
    if to.is_none() {
        return Err(Status::ErrBadArgument);
    }
    if to == pcb.pid {
        return Ok(());
    }
    remove_link(pcb, to);
    let from = Sender::of(&Caller::get());
    runtime_of(pcb).send_signal(&from, to, SIG_UNLINK, 0, &ExitReason::Normal);
    Ok(())
}

/// `monitor(process, Pid)` (cases 56–57, 61–68). See [`crate::process::monitor`].
pub(crate) fn monitor(pcb: &Pcb, to: Pid) -> Result<u64, Status> {
    if to.is_none() {
        return Err(Status::ErrBadArgument);
    }
    let rt = runtime_of(pcb);
    let mref = rt.new_ref();
    if to == pcb.pid {
        return Ok(mref); // case 71: never fires
    }
    pcb.sig.lock().data().monitors.insert(mref, to);
    let from = Sender::of(&Caller::get());
    let me = pcb.pid;
    match request(rt, &from, to, SIG_MONITOR, mref, |d| {
        d.monitored_by.insert(mref, me);
    }) {
        Ok(Target::Done) => {}
        Ok(Target::Exiting) | Ok(Target::Dead) | Err(_) => {
            // Cases 57, 67: an immediate DOWN with `noproc`; the monitor is gone.
            if let Some(d) = pcb.sig.lock().data.as_deref_mut() {
                d.monitors.remove(&mref);
            }
            queue_to_self(pcb, MessageKind::Down, to, mref, &ExitReason::Noproc);
        }
    }
    Ok(mref)
}

/// `monitor(process, Name)` (cases 58–60): the name is resolved once, now; an unregistered
/// name gives an immediate DOWN with `noproc` and sender 0.
pub(crate) fn monitor_name(pcb: &Pcb, name: &[u8]) -> Result<u64, Status> {
    let rt = runtime_of(pcb);
    let pid = rt.whereis(name)?;
    if pid.is_none() {
        let mref = rt.new_ref();
        queue_to_self(pcb, MessageKind::Down, Pid::NONE, mref, &ExitReason::Noproc);
        return Ok(mref);
    }
    monitor(pcb, pid)
}

/// `demonitor/2` (cases 70–78). Returns whether the monitor was still active. A flush from
/// inside a match predicate is refused (`ErrReentrant`) before anything changes.
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn demonitor(pcb: &Pcb, mref: u64, flags: u32) -> Result<bool, Status> {
    if mref == 0 || flags & !(DEMONITOR_FLUSH | DEMONITOR_INFO) != 0 {
        return Err(Status::ErrBadArgument);
    }
    if flags & DEMONITOR_FLUSH != 0 {
        process::outside_match(pcb)?;
    }
    let target = pcb.sig.lock().data.as_deref_mut().and_then(|d| {
        crate::alias::monitor_ended(runtime_of(pcb), d, mref);
        d.monitors.remove(&mref)
    });
    if let Some(to) = target {
        let from = Sender::of(&Caller::get());
        runtime_of(pcb).send_signal(&from, to, SIG_DEMONITOR, mref, &ExitReason::Normal);
    }
    if flags & DEMONITOR_FLUSH != 0 {
        // SAFETY: `demonitor`'s contract: `pcb` is the calling process, outside a match
        // predicate (a flush from inside one was refused by `outside_match` above).
        unsafe { settle_all(pcb) };
        // SAFETY: owner-only field.
        let inner = unsafe { &mut *pcb.inner.get() };
        inner.reset_save();
        let mut budget = i32::MAX;
        while let Some(m) = inner.scan(&mut budget, |m| {
            // SAFETY: the scan passes live messages of our own mailbox.
            unsafe { Msg::kind(m) == MessageKind::Down as u32 && Msg::monitor_ref(m) == mref }
        }) {
            pcb.msgs_out.fetch_add(1, Relaxed);
            // SAFETY: unlinked from the queue: ours.
            unsafe { Msg::free(m.as_ptr()) };
            inner.reset_save();
        }
        inner.reset_save();
    }
    Ok(target.is_some())
}

/// `exit/2` (cases 42–49, 51–55). `from` is the calling process (or none, from another
/// thread). See [`crate::process::exit_pid`].
pub(crate) fn exit_pid(
    rt: &RtInner,
    caller: &Caller,
    to: Pid,
    reason: &ExitReason,
) -> Result<(), Status> {
    if to.is_none() {
        return Err(Status::ErrBadArgument);
    }
    let from = Sender::of(caller);
    if !caller.pcb.is_null() && from.pid == to {
        // SAFETY: the calling process.
        let pcb = unsafe { &*caller.pcb };
        process::outside_match(pcb)?;
        let m = Msg::signal(SIG_EXIT, to, 0, reason, from.worker).ok_or(Status::ErrNoMemory)?;
        // SAFETY: we own `m`.
        unsafe { Msg::set_ticket(m.as_ptr(), pcb.sigs.ticket()) };
        pcb.outer.push(m);
        // To ourselves: handled now (`exit(self(), R)` cannot be caught, case 46).
        // SAFETY: the calling process, from its own stack.
        unsafe { settle(pcb, None) };
        return Ok(());
    }
    let sent = rt.send_signal(&from, to, SIG_EXIT, 0, reason);
    if !caller.pcb.is_null() {
        // SAFETY: the calling process.
        let pcb = unsafe { &*caller.pcb };
        // A target that was not found was dead before this call: a link to it is the
        // plain `noproc` of a dead target (case 26).
        pcb.sig.lock().data().last_exit = sent.then(|| LastExit::now(pcb, to));
    }
    Ok(())
}

/// A process's last `exit/2` to another process, and how far the process had got then:
/// messages taken out of its mailbox, signals handled, receive timeouts and sleeps armed.
///
/// `link(P)` right after `exit(P, R)` reaches `P` behind the exit signal, so on the BEAM
/// it finds `P` exiting (still known, not yet gone), which answers with an exit signal
/// `noproc` (case 37). A Hive target may finish its whole exit before the link looks it
/// up; the link then answers as the exiting target would, but only while all three
/// counts are unchanged. Once the caller has taken a message (such as `P`'s DOWN or
/// `EXIT`, or any news sent after `P` died), handled a signal or waited on a timer, it
/// may know `P` is dead, and a link to a dead `P` is the `noproc` error of case 26 (the
/// BEAM's answer once `P` is gone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LastExit {
    to: Pid,
    taken: u32,
    handled: u32,
    timers: u32,
}

impl LastExit {
    /// The state of the calling process `pcb` now, for an `exit/2` to `to`.
    fn now(pcb: &Pcb, to: Pid) -> LastExit {
        LastExit {
            to,
            taken: pcb.msgs_out.load(Relaxed),
            handled: pcb.sig_seen.get(),
            timers: pcb.timer_seq.load(Relaxed),
        }
    }
}

/// Step 3 and 4 of the exit path: closes the process's signal state, answers the requests
/// still queued, and signals its links and monitors. Returns the exit waiters.
///
/// # Safety
/// `pcb` has stopped running for good and the calling thread runs its exit path; its
/// exit reason is final.
pub(crate) unsafe fn exit_signals(
    rt: &RtInner,
    pcb: &Pcb,
    worker: *const WorkerLocal,
) -> Vec<std::sync::Arc<crate::process::pcb::ExitWaiter>> {
    let data = Requestee::of(pcb).close();
    let mut data = data.map(|b| *b).unwrap_or_default();
    crate::alias::process_exited(rt, &data);
    let from = Sender {
        pid: pcb.pid,
        worker,
        lifo: true,
    };
    // Every LINK/MONITOR request queued before the close is at or before this node.
    let last = pcb.outer.tail_snapshot();
    if last != pcb.outer.stub_addr() {
        let mut spins = 0u32;
        loop {
            // SAFETY: the process no longer runs: we are its mailbox's consumer.
            let Some(m) = (unsafe { (*pcb.inner.get()).take_outer(&pcb.outer) }) else {
                // A sender is linking a node before `last`: wait for it.
                wait_for_link(&mut spins);
                continue;
            };
            let mp = m.as_ptr();
            // SAFETY: a live message we own.
            let fields = unsafe { (Msg::kind(mp), Msg::sender(mp), Msg::monitor_ref(mp)) };
            let (kind, sender, mref) = fields;
            match kind {
                SIG_LINK if !data.links.contains(&sender) => {
                    rt.send_signal(&from, sender, SIG_EXIT_LINK, 0, &ExitReason::Noproc);
                }
                SIG_UNLINK => {
                    data.links.remove(&sender);
                }
                SIG_MONITOR => {
                    rt.send_signal(&from, sender, SIG_DOWN, mref, &ExitReason::Noproc);
                }
                SIG_DEMONITOR => {
                    data.monitored_by.remove(&mref);
                }
                _ => {}
            }
            // SAFETY: we own `m`.
            unsafe { crate::alias::free_queued(mp) };
            if mp == last {
                break;
            }
        }
    }
    // SAFETY: the exit path's contract: the process has stopped running for good, so its
    // exit reason is final and nobody writes it while we read it.
    let reason = unsafe { pcb.exit_reason() };
    for &l in &data.links {
        rt.send_signal(&from, l, SIG_EXIT_LINK, 0, reason);
    }
    for (&mref, &w) in &data.monitored_by {
        rt.send_signal(&from, w, SIG_DOWN, mref, reason);
    }
    for (&mref, &t) in &data.monitors {
        rt.send_signal(&from, t, SIG_DEMONITOR, mref, &ExitReason::Normal);
    }
    // Timers to this process die with it (BEAM case 92).
    let caller = Caller {
        pcb: std::ptr::null(),
        worker,
    };
    for &tref in &data.timers {
        rt.cancel_timer_as(&caller, tref);
    }
    data.waiters
}
