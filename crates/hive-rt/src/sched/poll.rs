//! The workers' side of the event poller (`io/driver.rs`): who polls, when, and where the
//! processes it wakes go.
//!
//! - **An idle worker** about to sleep takes the poller if sockets are open and no other
//!   worker has it, and waits in it with its own next timer deadline (armed on the
//!   poller's timerfd, so a 1 ms receive timeout keeps its precision); otherwise it sleeps
//!   on its thread parker as before. An unpark reaches it either way (`park.rs`).
//! - **A busy worker** polls without waiting every 64 ticks (on the run loop's epoch-flush
//!   branch, so a tick pays nothing for it) when sockets are open and nobody polled for
//!   [`POLL_AGE_NS`], so sockets (waiting processes, active
//!   sockets) are not starved while every worker has work (Go's `sysmon`/`findRunnable`,
//!   tokio's maintenance tick).
//! - **Woken processes** go to the back of the polling worker's queue (FIFO: readiness is
//!   not a message from the process running here), and `notify_work` lets an idle worker
//!   steal them.
//!
//! With no socket open nobody takes the poller and the busy check is one relaxed load per
//! interval: the scheduler behaves as without I/O.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use super::local::WorkerLocal;
use crate::io::active::{deliver, Pass};
use crate::io::driver::Ready;
use crate::io::owner::wake_pid;
use crate::sched::Caller;

/// A busy worker polls only if nobody did for this long (ns).
const POLL_AGE_NS: u64 = 100_000;

/// How an idle worker may sleep.
#[derive(Clone, Copy, Debug)]
pub(super) enum Sleep {
    /// Not at all (work to do on the timer wheel).
    No,
    /// Until woken, or at most this long (None: no limit).
    For(Option<Duration>),
}

impl WorkerLocal {
    /// Sleeps in the event poller if sockets are open and it is free; false if the caller
    /// must sleep on its thread parker instead. The processes it found ready are woken by
    /// [`WorkerLocal::wake_polled`], which the caller runs once pinned.
    pub(super) fn sleep_in_poller(&self, sleep: Sleep) -> bool {
        let io = &self.rt.io;
        if io.open.load(Relaxed) == 0 {
            return false;
        }
        let Some(mut poller) = io.try_poller() else {
            return false;
        };
        let timeout = match sleep {
            Sleep::No => Some(Duration::ZERO),
            Sleep::For(t) => t,
        };
        let mut woken = self.io_woken.borrow_mut();
        self.parker.park_in_driver(|block| {
            let t = if block { timeout } else { Some(Duration::ZERO) };
            io.poll(&mut poller, t, |p| woken.push(p));
        });
        io.last_poll_ns.store(self.rt.now_ns(), Relaxed);
        true
    }

    /// A busy worker's look at the poller (see the module docs); the worker is pinned.
    pub(super) fn poll_if_due(&self) {
        let io = &self.rt.io;
        if io.open.load(Relaxed) == 0 {
            return;
        }
        let now = self.rt.now_ns();
        if now.saturating_sub(io.last_poll_ns.load(Relaxed)) < POLL_AGE_NS {
            return;
        }
        let Some(mut poller) = io.try_poller() else {
            return;
        };
        {
            let mut woken = self.io_woken.borrow_mut();
            io.poll(&mut poller, Some(Duration::ZERO), |p| woken.push(p));
        }
        io.last_poll_ns.store(now, Relaxed);
        drop(poller);
        self.wake_polled();
    }

    /// Wakes the processes the last poll found ready and reads the active sockets it
    /// found readable (the worker is pinned).
    pub(super) fn wake_polled(&self) {
        let woken = std::mem::take(&mut *self.io_woken.borrow_mut());
        if woken.is_empty() {
            return;
        }
        let caller = Caller {
            pcb: std::ptr::null(),
            worker: self,
        };
        for &r in &woken {
            match r {
                Ready::Wake(p) => wake_pid(&self.rt, &caller, p),
                Ready::Active(h) => {
                    if deliver(&self.rt, &caller, h) == Pass::More {
                        self.io_more.borrow_mut().push(h);
                    }
                }
            }
        }
        // Keep the buffer's capacity.
        let mut buf = self.io_woken.borrow_mut();
        if buf.is_empty() {
            *buf = woken;
            buf.clear();
        }
    }
}

impl WorkerLocal {
    /// Whether active sockets wait for another pass.
    pub(super) fn has_more_io(&self) -> bool {
        !self.io_more.borrow().is_empty()
    }

    /// One more pass for each active socket whose last pass used its budget (a flood is
    /// read a pass every 64 ticks while the worker has other work, and at once when it
    /// has none). Cheap when there are none.
    pub(super) fn deliver_more(&self) {
        if !self.has_more_io() {
            return;
        }
        let more = std::mem::take(&mut *self.io_more.borrow_mut());
        let caller = Caller {
            pcb: std::ptr::null(),
            worker: self,
        };
        for h in more {
            if deliver(&self.rt, &caller, h) == Pass::More {
                self.io_more.borrow_mut().push(h);
            }
        }
    }
}
