//! Threads that are not processes waiting for a process: `Runtime::wait`, `block_on`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::RtInner;
use crate::pid::Pid;
use crate::process::pcb::ExitWaiter;
use crate::reason::ExitReason;
use crate::sched::{current_pcb, current_worker};
use crate::status::Status;

impl RtInner {
    /// Blocks the calling thread (not a process) until `pid` exits; returns its reason, or
    /// `noproc` when it has exited already (see [`Runtime::wait`](crate::Runtime::wait)).
    pub(crate) fn wait(
        &self,
        pid: Pid,
        timeout: Option<Duration>,
    ) -> std::result::Result<ExitReason, Status> {
        if !current_pcb().is_null() || !current_worker().is_null() {
            return Err(Status::ErrInProcess);
        }
        let waiter = Arc::new(ExitWaiter::default());
        {
            let _access = self.access().ok_or(Status::ErrShutDown)?;
            let Some(pcb) = self.table.lookup(pid) else {
                // Gone already (a process spawned from a thread can run and exit before
                // its spawner calls this), or never issued. As `monitor/2` on a process
                // that has exited (BEAM case 57), the wait ends at once with `noproc`.
                return if self.table.was_issued(pid) {
                    Ok(ExitReason::Noproc)
                } else {
                    Err(Status::ErrNoProcess)
                };
            };
            // SAFETY: `_access` keeps the PCB alive.
            let pcb = unsafe { pcb.as_ref() };
            let mut w = pcb.sig.lock();
            if pcb.life.is_closed() {
                // SAFETY: the exit path closed the list under this lock after the reason
                // became final; it never changes afterwards.
                let reason = unsafe { pcb.exit_reason() }.clone();
                drop(w);
                drop(_access);
                // Its exit path is past the point where waiters are taken but still sending
                // its exit signals: return only once it is done (the pid stops resolving),
                // as a registered waiter would, so whatever the caller does next comes after
                // every signal of the exit.
                while self.alive(pid) {
                    std::thread::yield_now();
                }
                return Ok(reason);
            }
            w.data().waiters.push(waiter.clone());
        }
        Self::block_on(&waiter, timeout)
    }

    pub(crate) fn block_on(
        waiter: &ExitWaiter,
        timeout: Option<Duration>,
    ) -> std::result::Result<ExitReason, Status> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut r = waiter.reason.lock();
        loop {
            if let Some(x) = r.take() {
                return Ok(x);
            }
            match deadline {
                None => waiter.cond.wait(&mut r),
                Some(d) => {
                    if waiter.cond.wait_until(&mut r, d).timed_out() && r.is_none() {
                        return Err(Status::Timeout);
                    }
                }
            }
        }
    }
}
