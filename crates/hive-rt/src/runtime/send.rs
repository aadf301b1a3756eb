//! Delivering messages to pids and waking their receivers.

use std::ptr::NonNull;

use super::RtInner;
use crate::mailbox::Msg;
use crate::pid::Pid;
use crate::process::pcb::Pcb;
use crate::process::state::Notify;
use crate::sched::local::WorkerLocal;
use crate::sched::{Caller, ProcRef};
use crate::status::Status;

impl RtInner {
    /// Delivers a message (ownership passes to the runtime in every case). A message to a
    /// pid that is not alive is dropped silently, as in Erlang (BEAM case 2).
    pub(crate) fn send(&self, to: Pid, m: NonNull<Msg>) -> std::result::Result<(), Status> {
        self.send_as(&Caller::get(), to, m)
    }

    /// As [`RtInner::send`], for a caller already looked up.
    pub(crate) fn send_as(
        &self,
        caller: &Caller,
        to: Pid,
        m: NonNull<Msg>,
    ) -> std::result::Result<(), Status> {
        let access = self.access_as(caller);
        let worker = access.as_ref().and_then(|a| a.worker);
        if access.is_none() || self.is_shut_down() {
            // SAFETY: we own `m`.
            unsafe { Msg::free_by(m.as_ptr(), caller.worker) };
            // A process still running while shutdown stops everything is about to be
            // stopped itself: its send succeeds and is dropped, as a send to a process that
            // is going away would be (a BEAM send never fails). Other threads are told.
            return if caller.pcb.is_null() {
                Err(Status::ErrShutDown)
            } else {
                Ok(())
            };
        }
        if to.node() != 0 {
            return self.send_remote(caller, to, m);
        }
        let Some(pcb) = self.table.lookup(to) else {
            // SAFETY: we own `m`.
            unsafe { Msg::free_by(m.as_ptr(), caller.worker) };
            return Ok(());
        };
        // SAFETY: we are pinned, so the PCB found in the table is not freed under us.
        let pcb_ref = unsafe { pcb.as_ref() };
        // No check for an exited process first: reading the state word would fetch the line
        // shared, and the push right after would need it exclusive. A message appended to a
        // process that has exited is freed with its PCB (see `mailbox/mod.rs`).
        pcb_ref.outer.push(m);
        pcb_ref
            .msgs_in
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match worker {
            Some(w) => w.stats().sent.add(1),
            None => {
                self.external_stats
                    .sent
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        // SAFETY: a non-null caller PCB is the calling process, alive while it calls.
        if let Some(me) = unsafe { caller.pcb.as_ref() } {
            me.note_sent_to(pcb_ref);
        }
        self.wake_on(pcb, worker, !caller.pcb.is_null());
        Ok(())
    }

    /// [`RtInner::send_as`] to a pid of another node: the payload goes to the running node
    /// (`dist::hook::Remote::send`), which queues it on the connection; without one the
    /// message is dropped, as a send to an unreachable node is (case 107).
    #[cold]
    fn send_remote(
        &self,
        caller: &Caller,
        to: Pid,
        m: NonNull<Msg>,
    ) -> std::result::Result<(), Status> {
        // SAFETY: we own `m`, a live message: its payload has `user_len` bytes.
        let data = unsafe {
            std::slice::from_raw_parts(Msg::user_data(m.as_ptr()), Msg::user_len(m.as_ptr()))
        };
        let r = self.send_remote_bytes(caller, to, data);
        // SAFETY: we own `m` and do not use it again.
        unsafe { Msg::free_by(m.as_ptr(), caller.worker) };
        r
    }

    /// Sends `data` from the caller to the pid `to` of another node through the running
    /// node (`dist::hook::Remote::send`); without one the message is dropped (case 107).
    pub(crate) fn send_remote_bytes(
        &self,
        caller: &Caller,
        to: Pid,
        data: &[u8],
    ) -> std::result::Result<(), Status> {
        if self.is_shut_down() {
            return if caller.pcb.is_null() {
                Err(Status::ErrShutDown)
            } else {
                Ok(())
            };
        }
        match self.remote() {
            Some(node) => node.send(caller.pid(), to, data),
            None => Ok(()),
        }
    }

    /// Tells the process `pcb` that something arrived in its mailbox, and schedules it if
    /// it was waiting: on `worker`'s LIFO slot when `lifo` (woken by the process running
    /// there), at the back of `worker`'s queue, or through the injector from another thread.
    pub(crate) fn wake(&self, pcb: NonNull<Pcb>, worker: *const WorkerLocal, lifo: bool) {
        let caller = Caller {
            pcb: std::ptr::null(),
            worker,
        };
        self.wake_on(pcb, self.worker_of(&caller), lifo)
    }

    /// As [`RtInner::wake`], with the worker already resolved. Always inlined: it is most
    /// of a send's work after the push, and `send_as` is the hottest path there is.
    #[inline(always)]
    fn wake_on(&self, pcb: NonNull<Pcb>, worker: Option<&WorkerLocal>, lifo: bool) {
        // SAFETY: the caller keeps the PCB alive (pinned).
        let pcb_ref = unsafe { pcb.as_ref() };
        if pcb_ref.state.notify() == Notify::Schedule {
            // It will run on this thread's worker (or be stolen): start loading its state.
            pcb_ref.prefetch_for_resume();
            let p = ProcRef(pcb);
            match worker {
                Some(w) if lifo => w.push_woken(p),
                Some(w) => w.push_back(p),
                None => self.sched.inject(p),
            }
        }
    }
}
