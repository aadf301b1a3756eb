//! The workers' side of the event poller (`io/driver.rs`): who polls, when, and where the
//! processes it wakes go.
//!
//! - **An idle worker** about to sleep takes the poller if sockets are open and no other
//!   worker has it, and waits in it with its own next timer deadline (armed on the
//!   poller's timerfd, so a 1 ms receive timeout keeps its precision); otherwise it sleeps
//!   on its thread parker as before. An unpark reaches it either way (`park.rs`).
//! - **A busy worker** polls without waiting when sockets are open and nobody polled for
//!   [`POLL_AGE_NS`]; it looks every tick (without sockets the look is one relaxed load,
//!   with sockets a clock read), so sockets (waiting processes, active sockets) are not
//!   starved while every worker has work (Go's `sysmon`/`findRunnable`, tokio's
//!   maintenance tick). Looking every 64 ticks, then every 8, was too seldom where slices
//!   are long: a ping between two nodes streaming 64 KiB messages waited for it
//!   (`docs/io.md`, "Busy workers poll").
//! - **Processes woken by readiness** (waiting in accept, connect, receive or send) go to
//!   the shared run queue, the injector, in the order the poll found them, and
//!   `notify_work` wakes an idle worker for them — except the first one an idle worker
//!   back from the poller finds, which it runs itself (`wake_polled`). So every waiting
//!   connection is served from one FIFO, whichever worker polled it; in the polling
//!   worker's own queue, the connections it found waited behind that queue while the
//!   others were served at once, which spread a server's latencies (`docs/io.md`, "Woken
//!   processes"; Go's netpoller feeds its global run queue too). With one worker they go
//!   to its own queue. Processes woken by the messages of an active socket's pass go
//!   there too when the poll found at least twice as many sockets as there are workers;
//!   after a poll that found fewer, they go to the polling worker's queue (the data it
//!   just read is in its cache, and a distribution connection's controller runs sooner
//!   there, `docs/io.md`).
//! - **Busy wait**: the idle worker that holds the poller polls without blocking for up
//!   to `Config::poll_spin_us` before it sleeps, when every worker is idle and its
//!   previous spell there was short (`spin_for`). In a virtual machine, waking a sleeping
//!   thread costs tens of µs (the host must run the halted vCPU again): a busy wait of
//!   50 µs took a ping-pong between two nodes from 70 µs to 15 µs per round trip
//!   (`docs/io.md`, "Busy wait").
//!
//! With no socket open nobody takes the poller and the busy check is one relaxed load per
//! tick: the scheduler behaves as without I/O.

use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::time::Duration;

use super::local::{WorkerLocal, PUSH_SHARED};
use crate::io::active::{deliver, Pass};
use crate::io::driver::Ready;
use crate::io::owner::wake_pid;
use crate::sched::Caller;

/// A busy worker polls only if nobody did for this long (ns).
const POLL_AGE_NS: u64 = 100_000;
/// An idle worker busy-waits in the poller only if the previous idle spell there lasted
/// less than this many spins.
const SPIN_WINDOW: u64 = 20;

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
        let start = self.rt.now_ns();
        let spin = self.spin_for(poller.last_spell_ns, timeout);
        self.parker.park_in_driver(|block| {
            let mut t = if block { timeout } else { Some(Duration::ZERO) };
            if let (true, Some(limit)) = (block, spin) {
                // Busy wait first: poll without blocking until something is ready, an
                // unpark comes, or the spin's time is up.
                loop {
                    io.poll(&mut poller, Some(Duration::ZERO), |p| woken.push(p));
                    let spun = Duration::from_nanos(self.rt.now_ns() - start);
                    if !woken.is_empty() || self.parker.is_notified() {
                        return;
                    }
                    if spun >= limit {
                        t = timeout.map(|d| d.saturating_sub(spun));
                        break;
                    }
                    // Let a thread waiting for this core (another node's, a load
                    // generator's) have it.
                    std::thread::yield_now();
                }
            }
            io.poll(&mut poller, t, |p| woken.push(p));
        });
        let now = self.rt.now_ns();
        poller.last_spell_ns = now - start;
        io.last_poll_ns.store(now, Relaxed);
        true
    }

    /// How long to busy-wait in the poller before blocking (`Config::poll_spin_us`): only
    /// when every worker is idle (another awake worker would take the work anyway) and the
    /// previous idle spell, `last_spell_ns`, was short — under [`SPIN_WINDOW`] spins — so a
    /// quiet node sleeps at once and an idle one costs no CPU. At most until `timeout`.
    fn spin_for(&self, last_spell_ns: u64, timeout: Option<Duration>) -> Option<Duration> {
        let spin = Duration::from_micros(u64::from(self.rt.config.poll_spin_us));
        let sched = &self.rt.sched;
        if spin.is_zero()
            || last_spell_ns >= SPIN_WINDOW * spin.as_nanos() as u64
            || sched.idle.num_sleeping.load(SeqCst) < sched.workers.len()
        {
            return None;
        }
        Some(timeout.map_or(spin, |t| t.min(spin)))
    }

    /// A busy worker's look at the poller, every tick (see the module docs); the worker is
    /// pinned.
    #[inline]
    pub(super) fn poll_if_due(&self) {
        if self.rt.io.open.load(Relaxed) != 0 {
            self.poll_busy();
        }
    }

    /// [`Self::poll_if_due`] with sockets open.
    #[inline(never)]
    fn poll_busy(&self) {
        let io = &self.rt.io;
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
        self.wake_polled(false);
    }

    /// Wakes the processes the last poll found ready and reads the active sockets it
    /// found readable (the worker is pinned), each to the queue the module docs say.
    /// `idle`: the worker comes back from sleeping in the poller; if it has nothing
    /// queued, the first process woken here is one it
    /// runs next itself, and only the others wake idle workers (Go's `findRunnable` keeps
    /// one of the goroutines `netpoll` returns and starts idle Ps for the rest). Waking a
    /// sleeping worker for the first would cost a futex wake-up per socket event, most
    /// often to find nothing left to steal.
    pub(super) fn wake_polled(&self, idle: bool) {
        let woken = std::mem::take(&mut *self.io_woken.borrow_mut());
        if woken.is_empty() {
            return;
        }
        if idle && self.has_nothing_queued() {
            self.push_mode.set(1);
        }
        let workers = self.rt.sched.workers.len();
        let shared = workers > 1;
        // An active socket's receivers are spread too when the poll found many sockets.
        let spread = shared && woken.len() >= 2 * workers;
        let caller = Caller {
            pcb: std::ptr::null(),
            worker: self,
        };
        for &r in &woken {
            // The quiet push, if still unused, comes first either way (`push_polled`).
            let to_shared = match r {
                Ready::Wake(_) => shared,
                Ready::Active(_) => spread,
            };
            let quiet = self.push_mode.get() & !PUSH_SHARED;
            self.push_mode.set(if to_shared {
                quiet | PUSH_SHARED
            } else {
                quiet
            });
            match r {
                Ready::Wake(p) => wake_pid(&self.rt, &caller, p),
                Ready::Active(h) => {
                    if deliver(&self.rt, &caller, h) == Pass::More {
                        self.io_more.borrow_mut().push(h);
                    }
                }
            }
        }
        self.push_mode.set(0);
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
