//! Envelopes: a message sent to an alias travels in the owner's mailbox inside a signal
//! (module docs of `alias`), which the owner opens when its signal handling reaches it.

use std::ptr::NonNull;

use super::mode::AliasMode;
use super::table::ref_node;
use crate::mailbox::{Msg, SIG_BASE, SIG_PREFIX};
use crate::process::pcb::Pcb;
use crate::reason::ExitReason;
use crate::runtime::{runtime_of, RtInner};
use crate::sched::Caller;
use crate::signal::Sender;
use crate::status::Status;

/// An alias message in the mailbox: the signal prefix (alias in the reference slot, the
/// ticket), then a pointer to the data message it carries. Chosen far above the other
/// signal kinds of `signal/mod.rs`, which may grow.
pub(crate) const SIG_ALIAS_MSG: u32 = SIG_BASE + 16;

/// Offset in an envelope's payload of the pointer to the carried message.
const CARRIED: usize = SIG_PREFIX;

/// Sends the data message `m` (owned by the caller, sender set) through `alias`: see the
/// module docs. Ownership of `m` passes in every case.
pub(crate) fn send_alias_msg(
    rt: &RtInner,
    caller: &Caller,
    alias: u64,
    m: NonNull<Msg>,
) -> std::result::Result<(), Status> {
    let free = || {
        // SAFETY: the caller handed us `m`, which it owned.
        unsafe { Msg::free_by(m.as_ptr(), caller.worker) };
    };
    if alias == 0 {
        free();
        return Err(Status::ErrBadArgument);
    }
    let access = rt.access_as(caller);
    if access.is_none() || rt.is_shut_down() {
        free();
        // As `RtInner::send_as`: a process is being stopped too, and a send never fails.
        return if caller.pcb.is_null() {
            Err(Status::ErrShutDown)
        } else {
            Ok(())
        };
    }
    // Another node's alias: dropped until distribution exists (as a send to its pid is).
    let owner = (ref_node(alias) == 0)
        .then(|| rt.aliases.owner(alias))
        .flatten();
    let Some(pcb) = owner.and_then(|p| rt.table.lookup(p)) else {
        free();
        return Ok(());
    };
    let Some(env) = Msg::alloc_kind(SIG_PREFIX + 8, caller.pid(), SIG_ALIAS_MSG, caller.worker)
    else {
        free();
        return Err(Status::ErrNoMemory);
    };
    // SAFETY: `env` is ours, with SIG_PREFIX + 8 payload bytes, 16-byte aligned.
    unsafe {
        let p = Msg::payload(env.as_ptr());
        (p as *mut u64).write(alias);
        (p.add(8) as *mut u32).write(ExitReason::Normal.kind() as u32);
        (p.add(12) as *mut u32).write(0);
        (p.add(CARRIED) as *mut *mut Msg).write(m.as_ptr());
    }
    // SAFETY: `access` pins us, so the PCB stays allocated; we own `env` (and, through it,
    // `m`): the mailbox takes both.
    unsafe { crate::signal::route::deliver_queued(rt, pcb, env, &Sender::of(caller)) };
    drop(access);
    Ok(())
}

/// Takes the carried message out of envelope `env` and frees the envelope.
///
/// # Safety
/// `env` is a live envelope ([`SIG_ALIAS_MSG`]) the caller owns; it is not used again.
unsafe fn unwrap(env: NonNull<Msg>) -> NonNull<Msg> {
    // SAFETY: the caller guarantees `env` is a live `SIG_ALIAS_MSG` envelope, whose payload
    // holds at `CARRIED` the pointer written by `send_alias_msg`: a live message owned by the
    // envelope.
    let carried = unsafe { (Msg::payload(env.as_ptr()).add(CARRIED) as *const *mut Msg).read() };
    // SAFETY: the caller owns `env`, which came from `Msg::alloc`, and does not use it
    // again; the carried message was read out above.
    unsafe { Msg::free(env.as_ptr()) };
    // SAFETY: written from a `NonNull` by `send_alias_msg`.
    unsafe { NonNull::new_unchecked(carried) }
}

/// Frees a message taken from an outer queue and not handled (exit path, PCB destructor):
/// an envelope with the message it carries, anything else as [`Msg::free`].
///
/// # Safety
/// `m` is a live message the caller owns; it is not used again.
pub(crate) unsafe fn free_queued(m: *mut Msg) {
    // SAFETY: the caller guarantees `m` is a live message it owns and does not use again:
    // `kind` needs it live; an envelope is handed to `unwrap` with that ownership and its
    // carried message, now ours, is freed; any other message is freed directly.
    unsafe {
        if Msg::kind(m) == SIG_ALIAS_MSG {
            let carried = unwrap(NonNull::new_unchecked(m));
            Msg::free(carried.as_ptr());
        } else {
            Msg::free(m);
        }
    }
}

/// The owner `pcb` handles the envelope `env` (from `signal::settle`): the carried message
/// to deliver if the alias is active, else None (both freed). A `reply` or
/// `reply_demonitor` alias is deactivated by it, and the monitor of the latter removed as
/// `demonitor` would.
///
/// # Safety
/// `pcb` is the calling process; `env` an envelope taken from its mailbox, owned by the
/// caller and not used again.
pub(crate) unsafe fn deliver(pcb: &Pcb, env: NonNull<Msg>) -> Option<NonNull<Msg>> {
    // SAFETY: a live envelope: it has the signal prefix.
    let alias = unsafe { Msg::monitor_ref(env.as_ptr()) };
    // SAFETY: the caller guarantees `env` is a live envelope taken from the mailbox, owned
    // by it and not used again, which is what `unwrap` needs.
    let m = unsafe { unwrap(env) };
    let rt = runtime_of(pcb);
    let mut s = pcb.sig.lock();
    let mode = s
        .data
        .as_deref()
        .and_then(|d| d.aliases.get(&alias).copied());
    let Some(mode) = mode else {
        drop(s);
        // SAFETY: ours, undelivered.
        unsafe { Msg::free(m.as_ptr()) };
        return None;
    };
    if !mode.on_reply() {
        return Some(m);
    }
    let d = s.data();
    d.aliases.remove(&alias);
    let target = if mode == AliasMode::ReplyDemonitor {
        d.monitors.remove(&alias)
    } else {
        None
    };
    drop(s);
    rt.aliases.remove(alias);
    if let Some(to) = target {
        let from = Sender::of(&Caller::get());
        let _ =
            crate::signal::route::deliver(rt, &from, to, crate::signal::Signal::Demonitor(alias));
    }
    Some(m)
}
