//! The calling side of links, monitors and exit signals: `link/1`, `unlink/1`,
//! `monitor/2`, `demonitor/2`, `exit/2`. Each sends its signal by the one route
//! (`route::deliver`) and turns the answer into the BEAM's result.

use std::sync::atomic::Ordering::Relaxed;

use super::handle::{remove_link, settle, settle_all};
use super::route::{deliver, deliver_to_self, Delivery};
use super::{Sender, Signal, DEMONITOR_FLUSH, DEMONITOR_INFO};
use crate::mailbox::{MessageKind, Msg};
use crate::pid::Pid;
use crate::process::pcb::{LastExit, Pcb};
use crate::reason::ExitReason;
use crate::runtime::runtime_of;
use crate::runtime::RtInner;
use crate::sched::Caller;
use crate::status::Status;

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
    match deliver(rt, &from, to, Signal::Link) {
        Ok(Delivery::Delivered) => Ok(()),
        Ok(Delivery::Exiting) => {
            exiting_answer(pcb, to);
            Ok(())
        }
        Ok(Delivery::Dead)
            if pcb.sig.lock().data.as_deref().and_then(|d| d.last_exit)
                == Some(LastExit::now(pcb, to)) =>
        {
            // We sent `to` an exit signal right before this link: the link, ordered behind
            // it, would have reached an exiting process, which answers `noproc` with an
            // exit signal (case 37), even if `to` finished exiting before we looked.
            exiting_answer(pcb, to);
            Ok(())
        }
        Ok(Delivery::Dead) | Err(_) => {
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
fn exiting_answer(pcb: &Pcb, to: Pid) {
    if deliver_to_self(pcb, to, Signal::LinkExit(&ExitReason::Noproc)).is_ok() {
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
    let _ = deliver(runtime_of(pcb), &from, to, Signal::Unlink);
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
    match deliver(rt, &from, to, Signal::Monitor(mref)) {
        Ok(Delivery::Delivered) => {}
        Ok(Delivery::Exiting) | Ok(Delivery::Dead) | Err(_) => {
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
        crate::process::receive::outside_match(pcb)?;
    }
    let target = pcb.sig.lock().data.as_deref_mut().and_then(|d| {
        crate::alias::table::monitor_ended(&runtime_of(pcb).aliases, d, mref);
        d.monitors.remove(&mref)
    });
    if let Some(to) = target {
        let from = Sender::of(&Caller::get());
        let _ = deliver(runtime_of(pcb), &from, to, Signal::Demonitor(mref));
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
        crate::process::receive::outside_match(pcb)?;
        deliver_to_self(pcb, to, Signal::Exit(reason))?;
        // To ourselves: handled now (`exit(self(), R)` cannot be caught, case 46).
        // SAFETY: the calling process, from its own stack.
        unsafe { settle(pcb, None) };
        return Ok(());
    }
    let sent = deliver(rt, &from, to, Signal::Exit(reason)) == Ok(Delivery::Delivered);
    if !caller.pcb.is_null() {
        // SAFETY: the calling process.
        let pcb = unsafe { &*caller.pcb };
        // A target that was not found was dead before this call: a link to it is the
        // plain `noproc` of a dead target (case 26).
        pcb.sig.lock().data().last_exit = sent.then(|| LastExit::now(pcb, to));
    }
    Ok(())
}

/// Waits until `pid` has handled every signal sent to it before this call; returns
/// whether it is then alive (not exiting). The ordering of `is_alive/1` and
/// `process_info/2` (case 23). A process caller yields while it waits; another thread
/// yields its OS time slice. The wait lasts until `pid` next checks for signals (at
/// once when it is blocked: the signal woke it), also while it runs its terminate
/// callback. Errors: `ErrShutDown`.
pub(crate) fn alive_ordered(rt: &RtInner, caller: &Caller, pid: Pid) -> Result<bool, Status> {
    let mut target: Option<u32> = None;
    loop {
        {
            let _access = rt.access_as(caller).ok_or(Status::ErrShutDown)?;
            let Some(pcb) = rt.table.lookup(pid) else {
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
            unsafe { crate::process::context::yield_raw(&*caller.pcb) };
        }
    }
}
