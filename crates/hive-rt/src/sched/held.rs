//! Held workers: a worker whose thread stays inside one process's own code (a blocking
//! system call, a C library call, a loop that counts no reductions) for longer than
//! [`HELD_NS`] is taken over by another OS thread, so that the timers on its wheel and the
//! processes in its run queues and LIFO slot do not wait for it (Go's sysmon "retake" and
//! handoff of a P; the BEAM has no equivalent for a long NIF).
//!
//! ## Worker contexts and threads
//! A *worker* (`WorkerLocal`: run queues, LIFO slot, timer wheel, caches) is a context, not
//! a thread. At any time exactly one OS thread *holds* a worker and runs its loop; a
//! process running on that thread reaches the worker through the thread's
//! `CURRENT_WORKER`. The runtime starts one thread per worker; takeovers add threads
//! (spares), which are kept parked when they lose their worker and reused.
//!
//! ## The protocol
//! Two bytes of each PCB take part:
//! - `OWN_IN_RT` in `Pcb::own` (written by the process only): set while the process runs
//!   runtime code (and while it is not running), clear while it runs its own code. A call
//!   from process code sets it on entry and clears it on return ([`enter`]); the runtime
//!   clears it around the process code it calls itself (the entry function, a terminate
//!   callback).
//! - `Pcb::revoked` (written by the monitor, and reset by the process's old thread):
//!   [`NOT_REVOKED`], [`TRYING`] (the monitor is deciding) or [`REVOKED`] (the thread running
//!   the process lost its worker).
//!
//! The monitor thread ([`monitor_main`]) watches each worker's `stamp` (moved to an odd
//! value by the holding thread when it resumes a process, to an even one when the process
//! stops) and `running` (that process). A stamp that stays odd and unchanged for
//! [`HELD_NS`] means one process has had the worker that long. Then the monitor:
//! 1. CASes that process's `revoked` from `NOT_REVOKED` to `TRYING`;
//! 2. issues `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`: every thread of the OS process
//!    executes a full memory barrier;
//! 3. reads the process's `OWN_IN_RT` and the stamp again. If the process is in its own
//!    code in the same run, it stores `REVOKED` and hands the worker to a spare thread;
//!    otherwise it stores `NOT_REVOKED` back.
//!
//! The process's side, on each entry from its own code, is: set `OWN_IN_RT`, a compiler
//! fence, load `revoked`. With the membarrier this is Dekker's protocol with the expensive
//! fence moved to the rare side (asymmetric fences, as in liburcu): **either the monitor
//! sees `OWN_IN_RT` and backs off, or the entry sees `TRYING`/`REVOKED`**. An entry that
//! sees `TRYING` waits for the monitor's verdict (a few µs); one that sees `REVOKED`
//! touches nothing of the worker: the process suspends with `Suspend::Migrate`; its old
//! thread resets `revoked`, puts it in the injector (any worker resumes it, inside the same
//! call, which then proceeds on that worker) and parks as a spare.
//!
//! Invariants:
//! - A thread touches its worker only in runtime code: its loop, or a process's call made
//!   with `OWN_IN_RT` set and `revoked` seen not `REVOKED` after setting it.
//! - `revoked` goes `NOT_REVOKED → TRYING` only by the monitor, and `TRYING → REVOKED` only
//!   when the monitor observed `OWN_IN_RT` clear after its membarrier (and the same run);
//!   `REVOKED → NOT_REVOKED` only by the old thread, when the process came back to it.
//! - The monitor hands a revoked worker to exactly one thread.
//!
//! Without `membarrier` (Linux < 4.14, or a sandbox that forbids it) no takeover happens:
//! the monitor is not started and held workers behave as before (documented limit).
//!
//! A process's own code between two runtime calls cannot be interrupted: the process keeps
//! its thread; it only leaves the worker. Its next runtime call continues elsewhere.

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::process::pcb::{Pcb, OWN_IN_RT};
use crate::runtime::RtInner;
use crate::sync::AtomicU8;

/// A process that keeps its worker this long (ns) without returning to the runtime loses
/// the worker to another thread.
pub(crate) const HELD_NS: u64 = 10_000_000;
/// How often (ns) the monitor looks at the workers while any of them is busy.
const MONITOR_PERIOD_NS: u64 = 2_000_000;

/// `Pcb::revoked`: the process's thread holds its worker.
pub(crate) const NOT_REVOKED: u8 = 0;
/// `Pcb::revoked`: the monitor is deciding whether to take the worker.
pub(crate) const TRYING: u8 = 1;
/// `Pcb::revoked`: the thread running the process lost its worker.
pub(crate) const REVOKED: u8 = 2;

/// The barrier the process's side relies on. In the runtime a compiler fence: the
/// monitor's membarrier executes the full barrier on this CPU. Loom cannot model
/// membarrier, so there both sides get a SeqCst fence, which is what membarrier provides
/// between them.
#[inline(always)]
fn holder_fence() {
    #[cfg(not(loom))]
    std::sync::atomic::compiler_fence(Ordering::SeqCst);
    #[cfg(loom)]
    crate::sync::fence(Ordering::SeqCst);
}

/// The two words of the handshake (see the module docs): `own` (its `OWN_IN_RT` bit) and
/// `revoked` of one PCB. The handshake itself is in these methods, which the loom model
/// (`src/tests/loom_held.rs`) runs as they are.
#[derive(Clone, Copy)]
pub(crate) struct Handshake<'a> {
    pub(crate) own: &'a AtomicU8,
    pub(crate) revoked: &'a AtomicU8,
}

impl<'a> Handshake<'a> {
    /// The handshake words of `pcb`.
    #[inline(always)]
    pub(crate) fn of(pcb: &'a Pcb) -> Handshake<'a> {
        Handshake {
            own: &pcb.own,
            revoked: &pcb.revoked,
        }
    }

    /// Is the process in runtime code?
    #[inline(always)]
    pub(crate) fn in_rt(self) -> bool {
        self.own.load(Relaxed) & OWN_IN_RT != 0
    }

    /// Process side: it enters runtime code from its own code. Returns true if its thread
    /// lost its worker (the worker must not be touched); waits out a `TRYING` verdict.
    #[inline(always)]
    pub(crate) fn raise(self) -> bool {
        self.own.store(self.own.load(Relaxed) | OWN_IN_RT, Relaxed);
        holder_fence();
        self.revoked.load(Relaxed) != NOT_REVOKED && self.verdict()
    }

    /// Process side: back to its own code.
    #[inline(always)]
    pub(crate) fn lower(self) {
        self.own.store(self.own.load(Relaxed) & !OWN_IN_RT, Release);
    }

    /// The monitor's verdict, once `revoked` was seen not `NOT_REVOKED`: true if revoked.
    #[cold]
    #[inline(never)]
    pub(crate) fn verdict(self) -> bool {
        loop {
            match self.revoked.load(Acquire) {
                TRYING => {
                    #[cfg(loom)]
                    loom::thread::yield_now();
                    #[cfg(not(loom))]
                    std::hint::spin_loop();
                }
                REVOKED => return true,
                _ => return false,
            }
        }
    }

    /// Monitor side: revokes the worker of the thread running the process if the process
    /// is in its own code. `barrier` is the membarrier (false: unavailable, nothing done);
    /// `same_run` re-checks, after it, that the same run is still going. True if revoked:
    /// the caller hands the worker to another thread.
    pub(crate) fn try_revoke(
        self,
        barrier: impl FnOnce() -> bool,
        same_run: impl FnOnce() -> bool,
    ) -> bool {
        if self
            .revoked
            .compare_exchange(NOT_REVOKED, TRYING, Ordering::SeqCst, Relaxed)
            .is_err()
        {
            return false;
        }
        if barrier() && self.own.load(Ordering::SeqCst) & OWN_IN_RT == 0 && same_run() {
            self.revoked.store(REVOKED, Release);
            true
        } else {
            self.revoked.store(NOT_REVOKED, Release);
            false
        }
    }
}

/// Proof that the calling process is in runtime code; dropping it returns it to its own
/// code when the call came from there.
#[must_use]
pub(crate) struct InRuntime {
    /// The calling process when the call came from its own code, else null.
    from_process_code: *const Pcb,
}

/// Marks the calling process (if any) as running runtime code, for a call made from its
/// own code. If its thread lost the worker to a takeover while the process ran its own
/// code, the process first moves to another worker (it suspends and resumes there), so the
/// call proceeds on a worker its thread holds.
#[inline]
pub(crate) fn enter() -> InRuntime {
    enter_pcb(super::current_pcb())
}

/// As [`enter`], with the calling thread's current process `p` already read (null: not a
/// process, nothing to do).
#[inline]
pub(crate) fn enter_pcb(p: *const Pcb) -> InRuntime {
    if p.is_null() {
        return InRuntime {
            from_process_code: std::ptr::null(),
        };
    }
    // SAFETY: the current process's PCB lives while it runs; the process itself calls.
    let pcb = unsafe { &*p };
    let h = Handshake::of(pcb);
    if h.in_rt() {
        return InRuntime {
            from_process_code: std::ptr::null(),
        };
    }
    if h.raise() {
        lost_worker(pcb);
    }
    InRuntime {
        from_process_code: p,
    }
}

impl Drop for InRuntime {
    #[inline]
    fn drop(&mut self) {
        if !self.from_process_code.is_null() {
            // SAFETY: the process is returning from its own call: its PCB is live (a PCB is
            // stable, wherever the process runs now).
            Handshake::of(unsafe { &*self.from_process_code }).lower();
        }
    }
}

/// The slow path of [`enter`]: the thread lost its worker while the calling process ran
/// its own code, so the process moves to another worker.
#[cold]
#[inline(never)]
fn lost_worker(pcb: &Pcb) {
    // SAFETY: `pcb` is the process running on this thread, calling from its own stack; it
    // suspends until a worker resumes it (`Suspend::Migrate`, handled by the old thread
    // without touching the worker it lost).
    unsafe { pcb.suspend(crate::process::pcb::Suspend::Migrate) };
}

/// The runtime is about to call `pcb`'s own code (the entry function, a terminate
/// callback); `pcb` is the calling process.
#[inline]
pub(crate) fn leave_for_process_code(pcb: &Pcb) {
    Handshake::of(pcb).lower();
}

/// `pcb`'s own code called by the runtime returned: back in runtime code (may move the
/// process to another worker, see [`enter`]).
#[inline]
pub(crate) fn back_from_process_code(pcb: &Pcb) {
    if Handshake::of(pcb).raise() {
        lost_worker(pcb);
    }
}

/// Did the thread that ran `pcb` lose its worker? The worker loop asks after a process
/// stopped running without a runtime call (a trapped stack overflow); sets `OWN_IN_RT`
/// first. If so, resets `revoked` (the process is handed on).
pub(crate) fn revoked_after_fault(pcb: &Pcb) -> bool {
    let lost = Handshake::of(pcb).raise();
    if lost {
        pcb.revoked.store(NOT_REVOKED, Release);
    }
    lost
}

/// Debug check for code that touches the worker: a process calling must have entered the
/// runtime ([`enter`]).
#[inline]
pub(crate) fn debug_assert_in_runtime() {
    let p = super::current_pcb();
    if !p.is_null() {
        // SAFETY: the current process's PCB lives while it runs.
        let pcb = unsafe { &*p };
        debug_assert!(
            pcb.own_flag(OWN_IN_RT),
            "runtime code touched its worker without `held::enter` (a missing entry guard)"
        );
    }
}

// --- membarrier ----------------------------------------------------------------------

const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;

/// Registers the OS process for private expedited membarriers (once). False when the
/// kernel does not offer them: then no worker is ever taken over.
pub(crate) fn membarrier_available() -> bool {
    static STATE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0); // 0 unknown, 1 yes, 2 no
    match STATE.load(Acquire) {
        1 => return true,
        2 => return false,
        _ => {}
    }
    // SAFETY: the membarrier system call with a registration command and no pointers.
    let r = unsafe {
        libc::syscall(
            libc::SYS_membarrier,
            MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
            0,
            0,
        )
    };
    let ok = r == 0;
    STATE.store(if ok { 1 } else { 2 }, Release);
    ok
}

/// A full memory barrier on every CPU running a thread of this OS process.
fn membarrier() -> bool {
    // SAFETY: the membarrier system call with a command and no pointers; registration was
    // done by `membarrier_available`.
    let r = unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) };
    r == 0
}

// --- the monitor ---------------------------------------------------------------------

/// State the monitor shares with the workers.
#[derive(Debug, Default)]
pub(crate) struct Monitor {
    /// Parked because no worker was running a process; a worker that starts running
    /// processes after a park wakes it.
    pub(crate) parked: AtomicBool,
    /// The monitor thread's parker and its unparker (taken by the monitor at start).
    parker: parking_lot::Mutex<Option<super::park::Parker>>,
    unparker: std::sync::OnceLock<super::park::Unparker>,
    /// Workers taken over so far.
    pub(crate) takeovers: AtomicU64,
    /// Spare threads: each waits in [`Monitor::wait_for_worker`] for a worker to hold.
    spares: parking_lot::Mutex<Vec<Arc<Spare>>>,
    /// Threads started by takeovers (they join the runtime's thread list).
    pub(crate) extra_threads: AtomicUsize,
    /// Workers taken over for which no thread could be started yet.
    orphans: parking_lot::Mutex<Vec<usize>>,
    /// Set by shutdown: the monitor returns.
    pub(crate) stop: AtomicBool,
}

#[derive(Debug)]
struct Spare {
    given: parking_lot::Mutex<Option<usize>>,
    cv: parking_lot::Condvar,
}

impl Monitor {
    /// Wakes the monitor if it parked (called by a worker about to run a process after it
    /// slept). One relaxed load when it is awake.
    #[inline]
    pub(crate) fn wake(&self) {
        if self.parked.load(Relaxed) && self.parked.swap(false, Relaxed) {
            self.unpark();
        }
    }

    /// Makes a parker for the monitor thread (before it starts).
    pub(crate) fn prepare(&self) {
        let (p, u) = super::park::Parker::new();
        *self.parker.lock() = Some(p);
        let _ = self.unparker.set(u);
    }

    /// Wakes the monitor thread (or makes its next park return at once).
    pub(crate) fn unpark(&self) {
        if let Some(u) = self.unparker.get() {
            u.unpark();
        }
    }

    /// A thread that lost its worker waits here until it is given another one (`Some`
    /// index) or the runtime shuts down (`None`).
    pub(crate) fn wait_for_worker(&self, rt: &RtInner) -> Option<usize> {
        if let Some(i) = self.orphans.lock().pop() {
            return Some(i);
        }
        let spare = Arc::new(Spare {
            given: parking_lot::Mutex::new(None),
            cv: parking_lot::Condvar::new(),
        });
        self.spares.lock().push(spare.clone());
        let mut given = spare.given.lock();
        loop {
            if let Some(i) = *given {
                return Some(i);
            }
            if rt.is_shut_down() {
                drop(given);
                self.spares.lock().retain(|s| !Arc::ptr_eq(s, &spare));
                // A worker may have been handed over meanwhile.
                return spare.given.lock().take();
            }
            // Timed only as a safety net; handovers and shutdown notify.
            spare.cv.wait_for(&mut given, Duration::from_millis(100));
        }
    }

    /// Wakes every spare thread (shutdown).
    pub(crate) fn wake_spares(&self) {
        for s in self.spares.lock().iter() {
            let _g = s.given.lock();
            s.cv.notify_one();
        }
    }

    /// Gives worker `index` to a spare thread, or starts a new thread for it. If no thread
    /// can be started the worker waits in `orphans` for the next spare (a thread that loses
    /// its worker) or the monitor's next round.
    fn hand_over(&self, rt: &Arc<RtInner>, index: usize) {
        if let Some(spare) = self.spares.lock().pop() {
            *spare.given.lock() = Some(index);
            spare.cv.notify_one();
            return;
        }
        let rt2 = rt.clone();
        let n = self.extra_threads.fetch_add(1, Relaxed);
        let spawned = std::thread::Builder::new()
            .name(format!("hive-worker-x{n}"))
            .spawn(move || super::worker::thread_main(rt2, Some(index)));
        match spawned {
            Ok(h) => rt.threads.lock().push(h),
            Err(_) => self.orphans.lock().push(index),
        }
    }
}

/// Body of the monitor thread: watches the workers' stamps and takes over held workers
/// (see the module docs). Parks while every worker sleeps.
pub(crate) fn monitor_main(rt: Arc<RtInner>) {
    let sched = &rt.sched;
    let n = sched.workers.len();
    // Per worker: the stamp last seen and when it was first seen.
    let mut seen: Vec<(u64, u64)> = vec![(0, 0); n];
    let Some(parker) = sched.monitor.parker.lock().take() else {
        return; // `prepare` was not called: no monitor
    };
    while !sched.monitor.stop.load(Acquire) {
        let orphans = std::mem::take(&mut *sched.monitor.orphans.lock());
        for i in orphans {
            sched.monitor.hand_over(&rt, i);
        }
        let now = rt.now_ns();
        for (i, w) in sched.workers.iter().enumerate() {
            let local = w.local.load(Acquire);
            if local.is_null() {
                continue;
            }
            // SAFETY: a worker's state is freed only at shutdown, after the monitor stopped.
            let stamp = unsafe { (*local).stamp.load(Acquire) };
            if stamp & 1 == 0 || stamp != seen[i].0 {
                seen[i] = (stamp, now);
                continue;
            }
            if now.saturating_sub(seen[i].1) >= HELD_NS && take_over(&rt, i, stamp) {
                seen[i] = (stamp, u64::MAX / 2);
            }
        }
        let m = &sched.monitor;
        if sched.idle.num_sleeping.load(Ordering::SeqCst) == n {
            // Every worker sleeps: nobody can be held. A worker leaving its sleep wakes us
            // (`Monitor::wake`): `parked` is stored before the count is read again, and the
            // count is lowered (SeqCst) before a woken worker reads `parked`.
            m.parked.store(true, Ordering::SeqCst);
            if sched.idle.num_sleeping.load(Ordering::SeqCst) == n && !m.stop.load(Acquire) {
                parker.park(None);
            }
            m.parked.store(false, Relaxed);
        } else {
            parker.park(Some(Duration::from_nanos(MONITOR_PERIOD_NS)));
        }
    }
}

/// Takes worker `index` from its holding thread if the process it runs is still in its own
/// code in the run stamped `stamp` (steps 1–3 of the module docs). True if it did.
fn take_over(rt: &Arc<RtInner>, index: usize, stamp: u64) -> bool {
    // SAFETY: as in `monitor_main`: freed only after the monitor stopped.
    let local = unsafe { &*rt.sched.workers[index].local.load(Acquire) };
    // The process may exit and be freed meanwhile: PCBs are reclaimed through the epoch.
    let _pin = crossbeam_epoch::pin();
    let p = local.running.load(Acquire);
    if p.is_null() {
        return false;
    }
    // SAFETY: pinned (above), so the PCB's memory stays valid; the stamp check below tells
    // whether it is still the process of the run the monitor judged held.
    let pcb = unsafe { &*p };
    if !Handshake::of(pcb).try_revoke(membarrier, || local.stamp.load(Acquire) == stamp) {
        return false;
    }
    rt.sched.monitor.takeovers.fetch_add(1, Relaxed);
    rt.sched.monitor.hand_over(rt, index);
    true
}
