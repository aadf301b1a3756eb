//! Stopping a runtime (`hive_shutdown`, `Runtime::shutdown`): processes with a terminate
//! callback get a grace period, then every worker stops and every process left is ended
//! (its exit path run from here) and its memory given back.

use std::ptr;
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use crossbeam_epoch as epoch;

use super::RtInner;
use crate::pid::Pid;
use crate::reason::ExitReason;
use crate::sched::current_worker;
use crate::status::Status;

impl RtInner {
    /// Stops everything (see [`Runtime::shutdown`](crate::Runtime::shutdown)).
    ///
    /// Called from a worker thread (a process), shutdown cannot join the caller's own
    /// worker: it is begun on a helper thread and this returns `Ok(None)` at once, like
    /// `init:stop/0`; the calling process is stopped with the others. From any other thread
    /// it completes before returning `Ok(Some(stopped))`. A second request gets
    /// `ErrShutDown` (after the first has completed, when made from a plain thread).
    pub(crate) fn shutdown(&self) -> std::result::Result<Option<usize>, Status> {
        if !current_worker().is_null() {
            if self.shutdown_begun.swap(true, SeqCst) {
                return Err(Status::ErrShutDown);
            }
            let rt = self
                .self_ref
                .get()
                .and_then(std::sync::Weak::upgrade)
                .ok_or(Status::ErrShutDown)?;
            std::thread::Builder::new()
                .name("hive-shutdown".into())
                .spawn(move || {
                    let _ = rt.shutdown_now();
                })
                .map_err(|_| Status::ErrSystemLimit)?;
            return Ok(None);
        }
        if self.shutdown_begun.swap(true, SeqCst) {
            // Wait for a shutdown in progress to finish, so "returned" means "stopped".
            let _done = self.stopped.lock();
            return Err(Status::ErrShutDown);
        }
        self.shutdown_now().map(Some)
    }

    fn shutdown_now(&self) -> std::result::Result<usize, Status> {
        let mut stopped = self.stopped.lock();
        if stopped.is_some() {
            return Err(Status::ErrShutDown);
        }
        self.pool.close();
        // The node's processes stop with the others; new remote signals are dropped.
        drop(self.remote.write().take());
        let graceful = self.stop_with_terminate();
        // The monitor stops first: it reads the worker threads' takeover slots.
        self.sched.monitor.stop.store(true, SeqCst);
        if let Some(h) = self.monitor_thread.lock().take() {
            self.sched.monitor.unpark();
            let _ = h.join();
        }
        self.shut_down.store(true, SeqCst);
        self.sched.unpark_all();
        self.sched.monitor.wake_spares();
        let threads = std::mem::take(&mut *self.threads.lock());
        for h in threads {
            let _ = h.join();
        }
        // Calls from other threads that started before the flag was set may still hold PCB
        // pointers; new ones see the flag (see `access`). Wait for the former.
        while self.external.load(SeqCst) != 0 {
            std::thread::yield_now();
        }
        let live = self.table.drain_live();
        for pcb in &live {
            // Every worker has stopped and no external call is in progress, so no process runs
            // or exits concurrently and no other thread holds a PCB pointer.
            // SAFETY: each PCB still in the table is live and exited by nobody else (above).
            unsafe {
                (*pcb.as_ptr()).set_exit(ExitReason::Shutdown);
                crate::process::exit::finish(self, pcb.as_ptr(), None, None);
            }
        }
        // Pending timers go with their messages (the workers dropped their wheel entries).
        self.timers.clear();
        epoch::pin().flush();
        // Give the memory back: every stack slot is free now, and the heap can shrink.
        // SAFETY: no process exists any more, so no stack is in use.
        unsafe { self.stacks.decommit_all() };
        #[cfg(target_env = "gnu")]
        // SAFETY: malloc_trim only releases free heap memory to the OS.
        unsafe {
            libc::malloc_trim(0);
        }
        *stopped = Some(live.len() + graceful);
        Ok(live.len() + graceful)
    }
}

/// How long `hive_shutdown` lets processes with a terminate callback run it before it stops
/// the rest without running theirs (a callback still running is abandoned: its process is
/// stopped with `shutdown` like any other).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

impl RtInner {
    /// Shutdown's first phase: every process with a terminate callback gets an untrappable
    /// exit signal `shutdown`, and the workers keep running until they have all exited (at
    /// most [`SHUTDOWN_GRACE`]), so their callbacks run as on any exit. New spawns fail
    /// meanwhile (`shutdown_begun`). Returns how many of them exited.
    fn stop_with_terminate(&self) -> usize {
        let from = crate::signal::Sender {
            pid: Pid::NONE,
            worker: ptr::null(),
            lifo: false,
        };
        let mut targets = Vec::new();
        {
            let Some(_access) = self.access() else {
                return 0;
            };
            for p in self.table.drain_live() {
                // SAFETY: `_access` pins us: a PCB found in the table stays allocated.
                let pcb = unsafe { p.as_ref() };
                let has = pcb
                    .sig
                    .lock()
                    .data
                    .as_deref()
                    .is_some_and(|d| d.terminate.is_some());
                if has {
                    targets.push(pcb.pid);
                }
            }
        }
        let mut sent = Vec::with_capacity(targets.len());
        for pid in targets {
            if crate::signal::route::deliver(self, &from, pid, crate::signal::Signal::Shutdown)
                == Ok(crate::signal::route::Delivery::Delivered)
            {
                sent.push(pid);
            }
        }
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        let mut exited = 0;
        for pid in sent {
            // A plain thread waiting: polls at 1 ms (this is shutdown, not a hot path).
            while self.alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            if !self.alive(pid) {
                exited += 1;
            }
        }
        exited
    }
}
