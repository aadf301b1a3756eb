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
//!   [`settle`](handle::settle), which handles each signal in order and appends
//!   converted `Exit`/`Down` messages to the inner queue);
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
//! `Pcb::sig` (a mutex, almost never contended: the owner writes its own set; a request
//! handled on arrival, below, writes the target's). The set of the receiving side decides:
//! - an exit signal that came over a link is acted on only if the link is still in the
//!   receiver's set (then removed): after `unlink` returns, no exit signal of that link has
//!   any effect (cases 33, 34);
//! - a DOWN is delivered only if the monitor is still in the monitoring process's set (then
//!   removed): after `demonitor` returns, no DOWN arrives (cases 70, 75).
//!
//! ## One route
//! Every signal is a [`Signal`] and goes to its pid by one function,
//! [`deliver`](route::deliver) (`route.rs`): it finds the target and queues the signal in its mailbox (take a ticket,
//! push, raise the signal flag: `Requestee::enqueue`), then wakes it. The receiver's side
//! is `handle.rs`; the callers' side (`link`, `monitor`, `exit/2` …) is `request.rs`; the
//! exit path, which sends the last signals of a process, is `process/exit.rs`.
//!
//! ## Link and monitor requests: alive, exiting, dead
//! A link or monitor request is a signal the target handles; the route answers whether
//! the target is alive, exiting or dead ([`Delivery`](route::Delivery)), looking under the
//! target's `sig` lock:
//! - not found, or its link record CLOSED (its exit path has taken its links, so it
//!   counts as dead): **dead**: `link` fails with `noproc` for a caller that does not trap
//!   exits, or queues `{'EXIT', Pid, noproc}` (case 26, 27); `monitor` queues a DOWN with
//!   `noproc` (case 57). No link or monitor is created. Except: when the caller's last
//!   `exit/2` went to this target and the caller has taken no message, handled no signal
//!   and armed no timer since (`LastExit` in `process/pcb.rs`), its link request would
//!   have reached the target behind that exit signal, so it is answered as by an exiting target (case 37),
//!   even if the target finished exiting before the caller looked.
//! - PUBLIC (it decided to exit, its exit path has not closed yet): **exiting**: the
//!   request is answered with `noproc` as an exiting BEAM process answers it (cases 35–37,
//!   67): the link is created on the caller's side and at once ended by an exit signal
//!   `noproc`; the monitor fires at once with `noproc`.
//! - alive with no signal pending (published prefix = sent count): the target handles the
//!   request on arrival: the route runs the target's own handler
//!   (`LinkData::record_request`) under its lock. Nothing sent earlier by the caller can still be waiting in the
//!   target's mailbox, so the order of signals is kept.
//! - alive with signals pending: the LINK or MONITOR signal is queued behind them (under
//!   the lock, so the exit path, which closes under the same lock, sees every such signal).
//!   When the target reaches it alive, it records the link or monitor; when its exit path
//!   reaches it, it answers `noproc` (case 37: `exit(P, foo), link(P)` gives `noproc`;
//!   ERTS answers pending requests the same way in `erts_proc_sig_handle_exit`).
//!
//! ## The exit path
//! `process/exit.rs`, in phases: terminate callback, name released, exit made public (on
//! the process's stack); state EXITED, link record closed and queued requests answered,
//! links and monitors notified exactly once, timers cancelled, resources freed (on the
//! worker). While its terminate callback runs the process is alive and handles signals
//! like any live process; `exit(P, kill)` runs none of P's code (case 51).
//!
//! ## Ordered liveness ([`SignalCounts`](counts::SignalCounts))
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

pub(crate) mod counts;
pub(crate) mod handle;
pub(crate) mod request;
pub(crate) mod route;

use std::ptr::NonNull;

use crate::mailbox::{Msg, SIG_BASE};
use crate::pid::Pid;
use crate::reason::ExitReason;
use crate::sched::local::WorkerLocal;
use crate::sched::Caller;

/// A signal: what a process (or the runtime) tells another besides messages
/// ([RM-Proc §Signals]). Sent by [`deliver`](route::deliver) (or
/// [`route::deliver_to_self`]), queued in the receiver's mailbox in order with its
/// messages, handled by the receiver (`handle.rs`). The reason of an exit or a DOWN is borrowed: delivery copies it into the
/// signal.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Signal<'a> {
    /// `link/1`: the receiver adds the sender to its links (cases 24–28).
    Link,
    /// `unlink/1`: the receiver removes the sender from its links (cases 33, 34).
    Unlink,
    /// `exit/2` with this reason: an exit signal not tied to a link (cases 42–55).
    Exit(&'a ExitReason),
    /// The exit signal of a link, with the exit reason of the process at its other end
    /// (or `noproc` from an exiting one, case 37).
    LinkExit(&'a ExitReason),
    /// `monitor(process, Pid)` with this reference: the receiver records the monitor.
    Monitor(u64),
    /// `demonitor/1` of this reference: the receiver forgets the monitor (case 62).
    Demonitor(u64),
    /// The monitor with this reference fired with this reason (case 56).
    Down(u64, &'a ExitReason),
    /// `hive_shutdown`'s untrappable exit signal: the receiver exits with `shutdown`.
    Shutdown,
}

impl Signal<'_> {
    /// The mailbox kind of the signal (`SIG_*`).
    fn kind(&self) -> u32 {
        match self {
            Signal::Link => SIG_LINK,
            Signal::Unlink => SIG_UNLINK,
            Signal::Exit(_) => SIG_EXIT,
            Signal::LinkExit(_) => SIG_EXIT_LINK,
            Signal::Monitor(_) => SIG_MONITOR,
            Signal::Demonitor(_) => SIG_DEMONITOR,
            Signal::Down(..) => SIG_DOWN,
            Signal::Shutdown => SIG_SHUTDOWN,
        }
    }

    /// A link or monitor request: the answer depends on whether the receiver is alive,
    /// exiting or dead (module docs, "Link and monitor requests").
    fn is_request(&self) -> bool {
        matches!(self, Signal::Link | Signal::Monitor(_))
    }

    /// The reference of a monitor request, None for a link request (see
    /// `LinkData::record_request`).
    fn monitor_ref(&self) -> Option<u64> {
        match self {
            Signal::Monitor(mref) => Some(*mref),
            _ => None,
        }
    }

    /// The signal as a mailbox message from `from`, allocated from `worker`'s message
    /// cache (null: the global allocator). None when out of memory.
    fn encode(&self, from: Pid, worker: *const WorkerLocal) -> Option<NonNull<Msg>> {
        let (mref, reason) = match *self {
            Signal::Exit(r) | Signal::LinkExit(r) => (0, r),
            Signal::Monitor(m) | Signal::Demonitor(m) => (m, &ExitReason::Normal),
            Signal::Down(m, r) => (m, r),
            Signal::Shutdown => (0, &ExitReason::Shutdown),
            Signal::Link | Signal::Unlink => (0, &ExitReason::Normal),
        };
        Msg::signal(self.kind(), from, mref, reason, worker)
    }
}

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
