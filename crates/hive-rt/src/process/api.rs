//! The public Rust process API (re-exported from [`crate::process`]): what code running
//! inside a process calls. See the module docs of [`crate::process`].

use std::ptr::NonNull;
use std::sync::atomic::Ordering::Relaxed;

use super::message::Message;
use super::pcb::{Entry, HiveCtx, Pcb};
use super::receive::fetch_all;
use super::{
    consume_raw, current, current_pcb_pid, outside_match, receive_any, receive_raw, send_on,
    sleep_raw, yield_raw,
};
use crate::config::SpawnOptions;
use crate::mailbox::Msg;
use crate::pid::Pid;
use crate::reason::ExitReason;
use crate::runtime::runtime_of;
use crate::sched::Caller;
use crate::status::{Error, Result};

/// The calling process's pid, or [`Pid::NONE`] outside a process (`erlang:self/0`).
pub fn self_pid() -> Pid {
    let _rt = crate::sched::enter();
    current_pcb_pid()
}

/// Sends a copy of `data` to `to` (`erlang:send/2`). A dead or unknown pid is not an error
/// (BEAM case 2); messages from one sender arrive in send order (cases 14, 15).
/// Errors: `ErrNotAProcess`, `ErrBadArgument` (pid 0), `ErrBadLength` (over 1 GiB),
/// `ErrNoMemory`, `ErrShutDown`.
pub fn send(to: Pid, data: &[u8]) -> Result<()> {
    let _rt = crate::sched::enter();
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
    let _rt = crate::sched::enter();
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
    let _rt = crate::sched::enter();
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
    let _rt = crate::sched::enter();
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
    let _rt = crate::sched::enter();
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
    let _rt = crate::sched::enter();
    receive_match_impl(mark, timeout_ms, matches)
}

/// Suspends the calling process for at least `ms` milliseconds without taking any message
/// (`timer:sleep/1`): no busy waiting, no blocked worker thread. `Some(0)`-like 0 yields.
/// Errors: `ErrNotAProcess`, `ErrReentrant` (`ms` > 0 from a match predicate, whose receive
/// owns the process's timeout).
pub fn sleep(ms: u32) -> Result<()> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    // SAFETY: the calling process.
    unsafe { sleep_raw(pcb, u64::from(ms)) }.map_err(Error)
}

/// Sends a copy of `data` to `dest` in `ms` ms (`erlang:send_after/3`); see
/// [`crate::Runtime::send_after`]. Errors: `ErrNotAProcess` and those of `Runtime::send_after`.
pub fn send_after(dest: crate::TimerDest<'_>, ms: u64, data: &[u8]) -> Result<u64> {
    let _rt = crate::sched::enter();
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
    let _rt = crate::sched::enter();
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
    let _rt = crate::sched::enter();
    let pcb = current()?;
    runtime_of(pcb).cancel_timer(tref).map_err(Error)
}

/// `erlang:read_timer/1`; see [`crate::Runtime::read_timer`].
pub fn read_timer(tref: u64) -> Result<Option<u64>> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    runtime_of(pcb).read_timer(tref).map_err(Error)
}

/// Registers `name` for `pid` (`erlang:register/2`; see [`crate::Runtime::register`]).
/// Errors: `ErrNotAProcess`, and those of `Runtime::register`.
pub fn register(name: &[u8], pid: Pid) -> Result<()> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    runtime_of(pcb).register(name, pid).map_err(Error)
}

/// Removes a registered name (`erlang:unregister/1`).
/// Errors: `ErrNotAProcess`, `ErrBadArgument`, `ErrBadLength`, `ErrNotRegistered`.
pub fn unregister(name: &[u8]) -> Result<()> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    runtime_of(pcb).unregister(name).map_err(Error)
}

/// The pid registered as `name`, or [`Pid::NONE`] (`erlang:whereis/1`).
/// Errors: `ErrNotAProcess`, `ErrBadArgument`, `ErrBadLength`.
pub fn whereis(name: &[u8]) -> Result<Pid> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    runtime_of(pcb).whereis(name).map_err(Error)
}

/// Sends a copy of `data` to the process registered as `name` (`Name ! Msg`).
/// Errors: those of [`send`], plus `ErrNotRegistered` and the name errors.
pub fn send_named(name: &[u8], data: &[u8]) -> Result<()> {
    let _rt = crate::sched::enter();
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
    let _rt = crate::sched::enter();
    let pcb = current()?;
    outside_match(pcb)?;
    // Not `fetch_all`: moving every message of a flooded mailbox (10M messages) took 300 ms
    // in one piece, with nothing else running on the worker (`overload`, 1 scheduler).
    // SAFETY: the calling process.
    unsafe { crate::signal::handle::settle(pcb, None) };
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
    let _rt = crate::sched::enter();
    let pcb = current()?;
    // SAFETY: the calling process.
    unsafe { yield_raw(pcb) };
    Ok(())
}

/// Charges `n` reductions (`n` ≥ 0) and yields when the slice (4000) is used up: the call a
/// loop makes to stay preemptible. Errors: `ErrNotAProcess`.
pub fn consume_reductions(n: u32) -> Result<()> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    // SAFETY: the calling process.
    unsafe { consume_raw(pcb, n.min(i32::MAX as u32) as i32) };
    Ok(())
}

/// Ends the calling process with `reason` (`erlang:exit/1`). Values on the process's stack
/// are leaked, not dropped (see the module docs). Returns only with `ErrNotAProcess`.
pub fn exit(reason: ExitReason) -> Error {
    let _rt = crate::sched::enter();
    match current() {
        // SAFETY: the calling process.
        Ok(pcb) => unsafe { super::exit::exit_raw(pcb, reason) },
        Err(e) => Error(e),
    }
}

/// Hibernates the calling process (`erlang:hibernate/3`): its stack is given back and,
/// once a message is in its mailbox (at once if one is queued already), it starts again by
/// running `f` on a fresh stack; returning from `f` ends it with `normal`. The mailbox,
/// links, monitors, registered name, `trap_exit` and priority stay; signals that come
/// meanwhile are handled as in a receive (an exit signal can end it while it hibernates),
/// and one that leaves no message does not wake `f`. Values on the process's stack are
/// leaked, not dropped (see the module docs): move what `f` needs into it. Does not return
/// on success; returns `ErrNotAProcess`, or `ErrReentrant` from inside a match predicate or
/// from the terminate callback.
/// See `process/hibernate.rs` and `docs/semantics.md`, "Hibernation".
pub fn hibernate<F: FnOnce() + Send + 'static>(f: F) -> Error {
    let _rt = crate::sched::enter();
    match current() {
        // SAFETY: the calling process; a Rust entry has no argument copy.
        Ok(pcb) => Error(unsafe { super::hibernate::hibernate_raw(pcb, Entry::rust(f), None) }),
        Err(e) => Error(e),
    }
}

/// Spawns a process on the calling process's runtime (`erlang:spawn/1`).
/// Errors: `ErrNotAProcess`, `ErrShutDown`, `ErrSystemLimit`, `ErrNoMemory`.
pub fn spawn<F: FnOnce() + Send + 'static>(f: F) -> Result<Pid> {
    let _rt = crate::sched::enter();
    spawn_opts(SpawnOptions::default(), f)
}

/// Spawns with options (priority, stack size). Errors as [`spawn`], plus `ErrBadLength`.
pub fn spawn_opts<F: FnOnce() + Send + 'static>(opts: SpawnOptions, f: F) -> Result<Pid> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    runtime_of(pcb)
        .spawn(Entry::rust(f), &[], opts, None)
        .map_err(Error)
}

/// The calling process's [`HiveCtx`] (reduction counter), for code that decrements it
/// inline. Valid until the process exits, on whichever worker it runs.
/// Errors: `ErrNotAProcess`.
pub fn ctx() -> Result<NonNull<HiveCtx>> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    Ok(NonNull::new(pcb.ctx.get()).expect("PCB field"))
}

/// True while `pid` is alive (`erlang:is_process_alive/1`). Ordered after every signal the
/// caller sent to `pid` before: after `exit_pid(p, Kill)` it returns false (BEAM case 23).
/// May yield while `pid` handles pending signals. Errors: `ErrNotAProcess`,
/// `ErrBadArgument` (a pid of another node, case 143).
pub fn is_alive(pid: Pid) -> Result<bool> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    runtime_of(pcb).is_alive(pid).map_err(Error)
}

/// A snapshot of `pid` (`erlang:process_info/2`): None when it is dead or exiting. Ordered
/// after the signals the caller sent to `pid` before (case 23; may yield meanwhile).
/// Errors: `ErrNotAProcess`, `ErrBadArgument` (a pid of another node, case 143).
pub fn process_info(pid: Pid) -> Result<Option<crate::ProcessInfo>> {
    let _rt = crate::sched::enter();
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
    let _rt = crate::sched::enter();
    let pcb = current()?;
    crate::signal::request::link(pcb, pid).map_err(Error)
}

/// Removes the link to `pid` (`erlang:unlink/1`, cases 33–34): once it returns, the link
/// has no effect on the caller; an `Exit` message of that link may already be queued (one
/// receive with timeout 0 flushes it). Succeeds also when there was no link or `pid` is
/// dead. Errors: `ErrNotAProcess`, `ErrBadArgument` (pid 0).
pub fn unlink(pid: Pid) -> Result<()> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    crate::signal::request::unlink(pcb, pid).map_err(Error)
}

/// Sets the calling process's priority and returns the old one
/// (`process_flag(priority, P)`, case 99). It takes effect the next time the process is
/// queued (at its next yield or wake-up). Not inherited by processes it spawns.
/// Errors: `ErrNotAProcess`.
pub fn set_priority(p: crate::Priority) -> Result<crate::Priority> {
    let _rt = crate::sched::enter();
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
    let _rt = crate::sched::enter();
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
    let _rt = crate::sched::enter();
    let pcb = current()?;
    crate::signal::request::exit_pid(runtime_of(pcb), &Caller::get(), pid, &reason).map_err(Error)
}

/// Monitors `pid` (`erlang:monitor(process, Pid)`, cases 56–69) and returns the monitor
/// reference. When `pid` exits the caller gets one
/// [`MessageKind::Down`](crate::MessageKind::Down) message with this reference, the pid
/// and the exit reason; at once with `Noproc` if `pid` is dead or exiting. Every call
/// creates an independent monitor. Monitoring oneself returns a reference that never fires.
/// Errors: `ErrNotAProcess`, `ErrBadArgument` (pid 0).
pub fn monitor(pid: Pid) -> Result<u64> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    crate::signal::request::monitor(pcb, pid).map_err(Error)
}

/// Monitors the process registered as `name` (`erlang:monitor(process, Name)`, cases
/// 58–60): the name is resolved once, now, and the pid is monitored; if no process has
/// the name, a DOWN with `Noproc` and sender [`Pid::NONE`] arrives at once. The DOWN names
/// the pid, not the name (the caller knows which name its reference is for).
/// Errors: `ErrNotAProcess`, `ErrBadArgument` / `ErrBadLength` (invalid name).
pub fn monitor_name(name: &[u8]) -> Result<u64> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    crate::signal::request::monitor_name(pcb, name).map_err(Error)
}

/// Removes a monitor (`erlang:demonitor/2`, cases 70–78): once it returns, no DOWN of it
/// arrives. `flush`: also remove its DOWN if one is already in the mailbox. Returns true
/// if the monitor was still active (the `info` option); false if it had fired, was
/// removed before, belongs to another process or never existed.
/// Errors: `ErrNotAProcess`, `ErrBadArgument` (reference 0), `ErrReentrant` (`flush` from
/// a match predicate; the monitor is then left as it was).
pub fn demonitor(mref: u64, flush: bool) -> Result<bool> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    let flags = crate::signal::DEMONITOR_INFO
        | if flush {
            crate::signal::DEMONITOR_FLUSH
        } else {
            0
        };
    // SAFETY: the calling process.
    unsafe { crate::signal::request::demonitor(pcb, mref, flags) }.map_err(Error)
}

/// Spawns a process linked to the caller, atomically (`erlang:spawn_link/1`, case 97):
/// the link exists before the child runs, so the caller always sees its real exit reason.
/// Errors as [`spawn`].
pub fn spawn_link<F: FnOnce() + Send + 'static>(f: F) -> Result<Pid> {
    let _rt = crate::sched::enter();
    spawn_opt(SpawnOptions::default(), true, false, f).map(|(p, _)| p)
}

/// Spawns a process monitored by the caller, atomically (`erlang:spawn_monitor/1`,
/// case 65); returns its pid and the monitor reference. Errors as [`spawn`].
pub fn spawn_monitor<F: FnOnce() + Send + 'static>(f: F) -> Result<(Pid, u64)> {
    let _rt = crate::sched::enter();
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
    let _rt = crate::sched::enter();
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
    let _rt = crate::sched::enter();
    let pcb = current()?;
    super::exit::set_terminate(pcb, Some(Box::new(f)));
    Ok(())
}

/// Announces that the calling process is about to block its OS thread in code of its own (a
/// blocking system call, file I/O, a C library): its worker — the other processes queued
/// there and the timers on its wheel — goes to another thread at once, instead of after the
/// 10 ms a held worker is allowed (`docs/design.md`, *Held workers*). The process keeps its
/// thread and blocks on it; its next runtime call ([`blocking_end`], or any other) moves it
/// to a worker. Go's hand-off around a blocking system call; the BEAM runs such work on
/// dirty schedulers instead. Counted in `RuntimeStats::takeovers`. Use [`blocking`] to wrap
/// a closure.
///
/// Errors: `ErrNotAProcess`.
pub fn blocking_begin() -> Result<()> {
    let rt = crate::sched::enter();
    let pcb = current()?;
    // Only from the process's own code: runtime code that called this would go on using
    // the worker it gave away (the runtime's own blocking waits use [`blocking`]).
    if rt.is_outermost() {
        hand_off(pcb);
    }
    Ok(())
}

/// Gives the calling process's worker to another thread for a blocking section (`pcb`
/// is the calling process, in runtime code; nothing when it runs on no worker of its
/// runtime).
fn hand_off(pcb: &Pcb) {
    if let Some(w) = runtime_of(pcb).local_worker() {
        crate::sched::held::hand_off_for_blocking(pcb, w);
    }
}

/// Ends a blocking section begun by [`blocking_begin`]: the calling process comes back to a
/// worker (any one; it continues on that worker's thread) and may use the runtime as
/// before. Without a blocking section it does nothing.
///
/// Errors: `ErrNotAProcess`.
pub fn blocking_end() -> Result<()> {
    let _rt = crate::sched::enter();
    current()?;
    Ok(())
}

/// Runs `f` in a blocking section ([`blocking_begin`] … [`blocking_end`]) and returns its
/// value. `f` must not call the runtime (a call would end the section early, which is safe
/// but keeps the rest of `f` on a worker). A panic in `f` propagates once the process is back
/// on a worker.
///
/// Errors: `ErrNotAProcess` (then `f` is not run).
pub fn blocking<R>(f: impl FnOnce() -> R) -> Result<R> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    hand_off(pcb);
    // `f` runs as the process's own code, holding no worker, also when this call comes
    // from runtime code (distribution start waits for its acceptor so); coming back moves
    // the process to a worker before that code goes on.
    crate::sched::handshake::leave_for_process_code(pcb);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    crate::sched::handshake::back_from_process_code(pcb);
    match r {
        Ok(v) => Ok(v),
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// Runs `f` on the blocking pool (a thread of its own, not a worker) and returns at once
/// with a reference; when `f` returns, its bytes arrive in the calling process's mailbox as
/// a [`crate::MessageKind::Reply`] message whose [`Message::call_ref`] is that reference
/// (the BEAM's dirty I/O schedulers; take it with
/// `receive_select(t, |m| m.call_ref() == r)`). For file I/O, DNS lookups, C libraries
/// that block. At most `POOL_THREADS` (16) run at once; more wait in order. A panic in
/// `f` gives an empty reply. A reply whose process has exited is dropped.
///
/// Errors: `ErrNotAProcess`, `ErrShutDown`, `ErrSystemLimit` (no pool thread could be
/// started).
pub fn blocking_call(f: impl FnOnce() -> Vec<u8> + Send + 'static) -> Result<u64> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    crate::io::pool::call(pcb, Box::new(f))
        .map(|(r, _)| r)
        .map_err(Error)
}
