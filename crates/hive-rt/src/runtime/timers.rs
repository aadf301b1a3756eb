//! User timers: `send_after`, `start_timer`, `cancel_timer`, `read_timer` and their delivery.

use std::sync::atomic::Ordering::SeqCst;

use super::RtInner;
use crate::mailbox::Msg;
use crate::pid::Pid;
use crate::sched::local::WorkerLocal;
use crate::sched::Caller;
use crate::status::Status;

impl RtInner {
    /// Sets a timer that sends a copy of `data` to `dest` in `ms` milliseconds
    /// (`erlang:send_after/3` with `kind` Data, `erlang:start_timer/3` with kind Timeout).
    /// Returns the timer reference.
    pub(crate) fn set_timer(
        &self,
        caller: &Caller,
        dest: crate::timer::user::Dest,
        ms: u64,
        data: &[u8],
        kind: crate::mailbox::MessageKind,
    ) -> std::result::Result<u64, Status> {
        let r = self.set_timer_inner(caller, dest, ms, data, kind);
        charge_timer_op(caller);
        r
    }

    fn set_timer_inner(
        &self,
        caller: &Caller,
        dest: crate::timer::user::Dest,
        ms: u64,
        data: &[u8],
        kind: crate::mailbox::MessageKind,
    ) -> std::result::Result<u64, Status> {
        use crate::timer::user::Dest;
        if ms > crate::timer::user::MAX_TIMER_MS {
            return Err(Status::ErrBadArgument);
        }
        if data.len() > crate::mailbox::MAX_MESSAGE_LEN {
            return Err(Status::ErrBadLength);
        }
        match &dest {
            // Timers cannot target a process of another node (case 113).
            Dest::Pid(p) if p.is_none() || p.node() != 0 => return Err(Status::ErrBadArgument),
            Dest::Name(n) => crate::registry::validate(n)?,
            _ => {}
        }
        let access = self.access_as(caller).ok_or(Status::ErrShutDown)?;
        let worker = access.worker;
        let now = self.now_ns();
        let deadline_ns = now.saturating_add(ms * 1_000_000);
        let dest_pid = match &dest {
            Dest::Pid(p) => Some(*p),
            Dest::Name(_) => None,
        };
        let t = match worker {
            Some(w) => {
                let mut cache = w.timer_slots.borrow_mut();
                self.timers.create(
                    Some(&mut cache),
                    deadline_ns,
                    dest,
                    data,
                    kind,
                    caller.worker,
                )?
            }
            None => self
                .timers
                .create(None, deadline_ns, dest, data, kind, caller.worker)?,
        };
        if let Some(p) = dest_pid {
            // The destination's exit cancels its timers: record this one in its link
            // record; if the record is closed (or the process is gone) it is dead, and the
            // timer is cancelled at once (BEAM case 92). A short timer to a live process
            // is not recorded: if the process dies first, the timer is dropped when it
            // fires (within `UNRECORDED_TIMER_MS`), and `read_timer`/`cancel_timer` already
            // report it gone (they check the destination).
            let recorded = self.table.lookup(p).is_some_and(|pcb| {
                // SAFETY: `access` keeps the PCB alive.
                let pcb = unsafe { pcb.as_ref() };
                if ms <= UNRECORDED_TIMER_MS {
                    return !pcb.is_exiting();
                }
                let mut s = pcb.sig.lock();
                if pcb.life.is_closed() {
                    return false;
                }
                let list = &mut s.data().timers;
                if list.len() >= 64 && list.len().is_power_of_two() {
                    list.retain(|&r| self.timers.is_active(r));
                }
                list.push(t.tref);
                true
            });
            if !recorded {
                self.timers.cancel(t.tref, now, |_| false, None);
                // Not on any wheel yet: free it here, as its home would.
                let mut cache = worker.map(|w| w.timer_slots.borrow_mut());
                let _ = self
                    .timers
                    .due(t.index, t.gen, cache.as_deref_mut(), caller.worker);
                return Ok(t.tref);
            }
        }
        let deadline = crate::timer::deadline_tick(now, ms);
        let what = crate::timer::Fire::User {
            index: t.index,
            gen: t.gen,
        };
        match worker {
            Some(w) => {
                let key = w.wheel.borrow_mut().insert_fire(deadline, what);
                match key {
                    Some(key) => self.timers.set_home(t.index, w.index, key),
                    // Already due (0 ms): deliver now.
                    None => self.fire_user_timer(t.index, t.gen, caller, w),
                }
            }
            None => {
                self.timers.inbox.lock().push(crate::timer::user::Inboxed {
                    index: t.index,
                    gen: t.gen,
                    deadline_ns,
                });
                self.timers.inbox_len.fetch_add(1, SeqCst);
                self.sched.unpark(0);
            }
        }
        Ok(t.tref)
    }

    /// Delivers a user timer that came due on worker `w`'s wheel (if it is still active).
    pub(crate) fn fire_user_timer(&self, index: u32, gen: u32, caller: &Caller, w: &WorkerLocal) {
        use crate::timer::user::{Dest, Due};
        let due = {
            let mut cache = w.timer_slots.borrow_mut();
            self.timers
                .due(index, gen, Some(&mut cache), w as *const WorkerLocal)
        };
        let Due::Deliver(m, dest) = due else {
            return; // cancelled
        };
        let to = match dest {
            Dest::Pid(p) => Some(p),
            // Names are looked up when the timer fires (BEAM case 91).
            Dest::Name(n) => self.registry.whereis(&n),
        };
        match to {
            // A dead destination drops the message, as any send to a dead pid does.
            Some(p) => {
                let _ = self.send_as(caller, p, m);
            }
            // SAFETY: we own the message; nobody is registered under the name.
            None => unsafe { Msg::free_by(m.as_ptr(), caller.worker) },
        }
    }

    /// Cancels timer `tref` on behalf of a thread (see
    /// [`crate::timer::user::Timers::cancel`]; on the timer's home worker a near timer's
    /// wheel entry and slot go at once).
    pub(crate) fn cancel_timer_as(&self, caller: &Caller, tref: u64) -> Option<u64> {
        let now = self.now_ns();
        match self.worker_of(caller) {
            Some(w) => match (w.wheel.try_borrow_mut(), w.timer_slots.try_borrow_mut()) {
                (Ok(mut wheel), Ok(mut cache)) => self.timers.cancel(
                    tref,
                    now,
                    |p| self.timer_dest_alive(p),
                    Some((w.index, &mut wheel, &mut cache)),
                ),
                _ => self
                    .timers
                    .cancel(tref, now, |p| self.timer_dest_alive(p), None),
            },
            None => self
                .timers
                .cancel(tref, now, |p| self.timer_dest_alive(p), None),
        }
    }

    /// Whether a timer's destination still counts as alive for `read_timer`/`cancel_timer`:
    /// in the table and not exiting. Its exit path cancels its long timers only after its
    /// DOWNs are out, so a monitor that just saw the DOWN must already find them gone
    /// (case 92; found by the soak). The caller holds `access`.
    fn timer_dest_alive(&self, p: Pid) -> bool {
        self.table
            .lookup(p)
            // SAFETY: the caller's `access` keeps the PCB alive.
            .is_some_and(|pcb| !unsafe { pcb.as_ref() }.is_exiting())
    }

    /// Cancels a timer: the ms that were left, or None (fired, cancelled, unknown, or its
    /// destination process is gone) (`erlang:cancel_timer/1`).
    pub(crate) fn cancel_timer(&self, tref: u64) -> std::result::Result<Option<u64>, Status> {
        let caller = Caller::get();
        let r = {
            let _access = self.access_as(&caller).ok_or(Status::ErrShutDown)?;
            self.cancel_timer_as(&caller, tref)
        };
        charge_timer_op(&caller);
        Ok(r)
    }

    /// The ms left of a timer, or None (`erlang:read_timer/1`).
    pub(crate) fn read_timer(&self, tref: u64) -> std::result::Result<Option<u64>, Status> {
        let _access = self.access().ok_or(Status::ErrShutDown)?;
        Ok(self
            .timers
            .read(tref, self.now_ns(), |p| self.timer_dest_alive(p)))
    }
}

/// Reductions a timer operation costs the calling process (the BEAM charges its timer BIFs
/// too). Without a cost, a process setting timers in a loop kept its worker for a whole
/// slice of 4000 reduction checks, and the worker's timer wheel waited that long to fire.
const TIMER_OP_REDUCTIONS: u32 = 10;

/// Timers to a pid this short (ms) are not recorded in the destination's link record (see
/// `set_timer_inner`): recording every one cost the timer storm a lock and a list push
/// per timer, for timers that would be gone within a second anyway.
const UNRECORDED_TIMER_MS: u64 = 2000;

/// Charges a timer operation to the calling process, if there is one (may yield).
fn charge_timer_op(caller: &Caller) {
    if !caller.pcb.is_null() {
        // SAFETY: the current process, calling from its own stack.
        unsafe { crate::process::consume_raw(&*caller.pcb, TIMER_OP_REDUCTIONS as i32) };
    }
}

/// Where a timer's message goes (`send_after`, `start_timer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerDest<'a> {
    /// A process: the timer is cancelled when it exits (BEAM case 92).
    Pid(Pid),
    /// A registered name, looked up when the timer fires; not cancelled (case 91).
    Name(&'a [u8]),
}

impl TimerDest<'_> {
    pub(crate) fn owned(self) -> crate::timer::user::Dest {
        match self {
            TimerDest::Pid(p) => crate::timer::user::Dest::Pid(p),
            TimerDest::Name(n) => crate::timer::user::Dest::Name(n.into()),
        }
    }
}
