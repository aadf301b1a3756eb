//! The one route of a signal to a pid.
//!
//! [`deliver`] takes a [`Signal`] from a sender to a pid: it finds the target, and queues
//! the signal in its mailbox ([`Requestee::enqueue`]: take a ticket, push, raise the signal flag),
//! then wakes it. Every signal a process or the runtime sends goes this way (links and
//! exits, monitors and DOWNs, the exit path's notifications, shutdown), and so do the
//! envelopes of messages sent to an alias ([`deliver_queued`]). A process's signals to
//! itself take [`deliver_to_self`], which queues without a lookup or a wake.
//!
//! A link or monitor request is a signal the target handles like any other, whether the
//! target is local (here) or, once nodes exist, behind a node connection. A local target
//! with nothing pending handles the request on arrival: [`Requestee::request`] records it
//! with the target's own handler (`LinkData::record_request`) under the target's lock, which
//! is what the target would do first on its next look (module docs of `signal`, "Link and
//! monitor requests").

use std::ptr::NonNull;
use std::sync::atomic::Ordering::Release;

use super::counts::SignalCounts;
use super::{Sender, Signal};
use crate::mailbox::{Msg, OuterQueue};
use crate::pid::Pid;
use crate::process::lifecycle::Lifecycle;
use crate::process::pcb::{LinkData, Pcb, SigState};
use crate::runtime::RtInner;
use crate::sched::Caller;
use crate::status::Status;
use crate::sync::Mutex;

/// Where a signal went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// The target has it: queued in its mailbox, or (a link or monitor request to a
    /// target with nothing pending) already recorded in its link record.
    Delivered,
    /// The target is exiting: it answers a link or monitor request with `noproc` (cases
    /// 35–37, 67). Only for requests; other signals to an exiting target are queued (its
    /// exit path drops them).
    Exiting,
    /// No such process (never existed, exited, or its exit path has closed its link
    /// record): the signal was dropped.
    Dead,
}

/// Delivers `sig` from `from` to `to`. Errors: `ErrShutDown` (the runtime is stopping;
/// nothing was sent), `ErrNoMemory` (the signal could not be allocated; nothing was sent).
pub(crate) fn deliver(
    rt: &RtInner,
    from: &Sender,
    to: Pid,
    sig: Signal<'_>,
) -> Result<Delivery, Status> {
    if to.node() != 0 {
        return deliver_remote(rt, from, to, sig);
    }
    let _access = rt.access().ok_or(Status::ErrShutDown)?;
    let Some(pcb_ptr) = rt.table.lookup(to) else {
        return Ok(Delivery::Dead);
    };
    // SAFETY: `_access` pins us: the PCB stays allocated while we use it.
    let pcb = unsafe { pcb_ptr.as_ref() };
    let wake = || rt.wake(pcb_ptr, from.worker, from.lifo);
    if sig.is_request() {
        return Requestee::of(pcb).request(from, sig, wake);
    }
    let m = sig
        .encode(from.pid, from.worker)
        .ok_or(Status::ErrNoMemory)?;
    Requestee::of(pcb).enqueue(m);
    wake();
    Ok(Delivery::Delivered)
}

/// [`deliver`] to a process of another node: handed to the running node
/// (`dist::hook::Remote`), which queues it on the node's connection. A link or monitor
/// request is always `Delivered`: a dead remote process answers it with an exit signal or
/// a DOWN `noproc` (cases 117, 127), a lost connection with `noconnection`. Without a
/// running node the pid cannot be reached: `Dead`.
#[cold]
fn deliver_remote(
    rt: &RtInner,
    from: &Sender,
    to: Pid,
    sig: Signal<'_>,
) -> Result<Delivery, Status> {
    use crate::dist::hook::RemoteSignal as R;
    let Some(node) = rt.remote() else {
        return Ok(Delivery::Dead);
    };
    let rs = match sig {
        Signal::Link => R::Link,
        Signal::Unlink => R::Unlink,
        Signal::Exit(r) => R::Exit(r),
        Signal::LinkExit(r) => R::LinkExit(r),
        Signal::Monitor(m) => R::Monitor(m),
        Signal::Demonitor(m) => R::Demonitor(m),
        Signal::Down(m, r) => R::Down(m, r),
        // `hive_shutdown` stops this node's processes only.
        Signal::Shutdown => return Ok(Delivery::Dead),
    };
    node.signal(from.pid, to, rs)?;
    Ok(Delivery::Delivered)
}

/// As [`deliver`] for a signal already made into a mailbox message `m` (an alias
/// envelope), to the process `pcb`. Ownership of `m` passes to the mailbox.
///
/// # Safety
/// The caller is pinned (or otherwise keeps `pcb` alive), `pcb` came from the runtime's
/// table, and the caller owns `m`, a live signal with a prefix (`Msg::signal`,
/// `Msg::alloc_kind` with a signal kind).
pub(crate) unsafe fn deliver_queued(
    rt: &RtInner,
    pcb: NonNull<Pcb>,
    m: NonNull<Msg>,
    from: &Sender,
) {
    // SAFETY: the caller keeps the PCB alive for this call.
    Requestee::of(unsafe { pcb.as_ref() }).enqueue(m);
    rt.wake(pcb, from.worker, from.lifo);
}

/// Queues `sig` to the calling process `pcb` itself, from `from` (the pid it carries),
/// ordered like any signal; the caller handles it next (`handle::settle`). Errors:
/// `ErrNoMemory` (nothing was queued).
pub(crate) fn deliver_to_self(pcb: &Pcb, from: Pid, sig: Signal<'_>) -> Result<(), Status> {
    let m = sig
        .encode(from, Caller::get().worker)
        .ok_or(Status::ErrNoMemory)?;
    Requestee::of(pcb).enqueue(m);
    Ok(())
}

/// The parts of a PCB that a signal's delivery, a link or monitor request and the exit
/// path's close share: the protocol of "Link and monitor requests" (module docs of
/// `signal`) is in [`Requestee::request`] and [`Requestee::close`], which the loom model
/// (`src/tests/loom_signals.rs`) runs as they are.
#[derive(Clone, Copy)]
pub(crate) struct Requestee<'a> {
    /// `Pcb::sig`.
    pub(crate) sig: &'a Mutex<SigState>,
    /// `Pcb::life`.
    pub(crate) life: &'a Lifecycle,
    /// `Pcb::sigs`.
    pub(crate) sigs: &'a SignalCounts,
    /// `Pcb::outer`.
    pub(crate) outer: &'a OuterQueue,
    /// `Pcb::signal_flag`.
    pub(crate) signal_flag: &'a std::sync::atomic::AtomicU32,
}

impl<'a> Requestee<'a> {
    /// The shared parts of `pcb`.
    pub(crate) fn of(pcb: &'a Pcb) -> Requestee<'a> {
        Requestee {
            sig: &pcb.sig,
            life: &pcb.life,
            sigs: &pcb.sigs,
            outer: &pcb.outer,
            signal_flag: pcb.signal_flag(),
        }
    }

    /// Queues the signal `m` (owned by the caller, ownership passes to the mailbox): takes
    /// its ticket (`SignalCounts`), pushes it, raises the signal flag the process's
    /// reduction checks read. The caller wakes the process if it may be waiting.
    pub(crate) fn enqueue(self, m: NonNull<Msg>) {
        // SAFETY: the caller owns `m`, a live signal with a prefix (every signal is made
        // by `Msg::signal` or `Msg::alloc_kind` with room for the prefix).
        unsafe { Msg::set_ticket(m.as_ptr(), self.sigs.ticket()) };
        self.outer.push(m);
        self.signal_flag.store(1, Release);
    }

    /// The link or monitor request `sig` from `from` to this process:
    /// [`Delivery::Dead`] if its exit path has closed it, [`Delivery::Exiting`] if its exit
    /// is public, else [`Delivery::Delivered`] after the request was recorded in its link
    /// record (no signal pending: handled on arrival by `LinkData::record_request`) or queued
    /// behind the pending ones; `wake` then runs, after the lock is released. Errors:
    /// `ErrNoMemory` (the signal could not be allocated; nothing changed).
    pub(crate) fn request(
        self,
        from: &Sender,
        sig: Signal<'_>,
        wake: impl FnOnce(),
    ) -> Result<Delivery, Status> {
        debug_assert!(sig.is_request());
        let mut s = self.sig.lock();
        if self.life.is_closed() {
            return Ok(Delivery::Dead);
        }
        // `idle` first: a signal that killed the target is published as handled only after
        // its exit was made public, so seeing it handled means seeing it exiting below.
        // Read the other way round, an `exit(P, kill)` handled between the two loads looks
        // like an alive target with nothing pending, and the monitor would be written
        // into the dying process's set (case 67 would give `killed`, not `noproc`).
        let idle = self.sigs.idle();
        if self.life.is_exiting() {
            return Ok(Delivery::Exiting);
        }
        if idle {
            s.data().record_request(from.pid, sig.monitor_ref());
            return Ok(Delivery::Delivered);
        }
        let m = sig
            .encode(from.pid, from.worker)
            .ok_or(Status::ErrNoMemory)?;
        self.enqueue(m);
        drop(s);
        wake();
        Ok(Delivery::Delivered)
    }

    /// The exit path's close of the link record: under the lock every request takes, so
    /// each request either saw it closed or queued its signal before the mailbox tail the
    /// exit path reads next; takes the links and monitors.
    pub(crate) fn close(self) -> Option<Box<LinkData>> {
        let mut s = self.sig.lock();
        self.life.transition_to_closed();
        s.data.take()
    }
}
