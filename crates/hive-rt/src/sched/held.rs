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
//! Every thread that can hold a worker has a [`ThreadSlot`] (a thread-local) with two
//! words:
//! - `in_rt`: 1 while the thread runs runtime code (the worker loop, or a `hive_*` / Rust API
//!   call made by a process), 0 while it runs a process's own code. A call from process code
//!   raises it on entry and lowers it on return ([`enter`]); the runtime lowers it around the
//!   process code it calls itself (the entry function, a terminate callback).
//! - `revoked`: [`NOT_REVOKED`], [`TRYING`] (the monitor is deciding) or [`REVOKED`] (the
//!   thread has lost its worker).
//!
//! The monitor thread ([`monitor_main`]) watches each worker's `stamp` (bumped by the
//! holding thread every time it resumes a process, odd while a process runs). A stamp that
//! stays odd and unchanged for [`HELD_NS`] means one process has had the worker that long.
//! Then the monitor:
//! 1. CASes the holder's `revoked` from `NOT_REVOKED` to `TRYING`;
//! 2. issues `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`: every thread of the OS process
//!    executes a full memory barrier;
//! 3. reads the holder's `in_rt` and the stamp again. If the holder is in process code of
//!    the same run, it stores `REVOKED` and hands the worker to a spare thread; otherwise
//!    it stores `NOT_REVOKED` back.
//!
//! The holder's side of the handshake, on each entry from process code, is: store
//! `in_rt = 1`, a compiler fence, load `revoked`. With the membarrier this is Dekker's
//! protocol with the expensive fence moved to the rare side (asymmetric fences, as in
//! liburcu): **either the monitor sees `in_rt == 1` and backs off, or the entry sees
//! `TRYING`/`REVOKED`**. An entry that sees `TRYING` waits for the monitor's verdict (a few
//! µs); one that sees `REVOKED` touches nothing of the worker: the process suspends with
//! `Suspend::Migrate`, the old thread puts it in the injector (any worker resumes it, inside
//! the same call, which then proceeds on that worker) and the old thread parks as a spare.
//!
//! Invariants:
//! - A thread touches its worker only while its `in_rt` is 1 and its `revoked` is not
//!   `REVOKED` as seen after raising `in_rt`.
//! - `revoked` goes `NOT_REVOKED → TRYING` only by the monitor, and `TRYING → REVOKED` only
//!   when the monitor observed `in_rt == 0` after its membarrier; a thread resets its own
//!   `revoked` to `NOT_REVOKED` only when it is given a worker again.
//! - The monitor hands a revoked worker to exactly one thread, which publishes itself as the
//!   worker's holder (`WorkerShared::holder`) before running the loop.
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

use crate::runtime::RtInner;
use crate::sync::AtomicU32;

/// A process that keeps its worker this long (ns) without returning to the runtime loses
/// the worker to another thread.
pub(crate) const HELD_NS: u64 = 10_000_000;
/// How often (ns) the monitor looks at the workers while any of them is busy.
const MONITOR_PERIOD_NS: u64 = 2_000_000;

/// `ThreadSlot::revoked`: the thread holds its worker (or holds none).
pub(crate) const NOT_REVOKED: u32 = 0;
/// `ThreadSlot::revoked`: the monitor is deciding whether to take the worker.
pub(crate) const TRYING: u32 = 1;
/// `ThreadSlot::revoked`: the thread lost its worker.
pub(crate) const REVOKED: u32 = 2;

/// The two words of the takeover handshake of one thread (see the module docs). The
/// handshake itself is in the methods below, which the loom model
/// (`src/tests/loom_held.rs`) runs as they are.
#[derive(Debug)]
pub(crate) struct ThreadSlot {
    pub(crate) in_rt: AtomicU32,
    pub(crate) revoked: AtomicU32,
}

/// The barrier the holder's side relies on. In the runtime a compiler fence: the monitor's
/// membarrier executes the full barrier on this CPU. Loom cannot model membarrier, so
/// there both sides get a SeqCst fence, which is what membarrier provides between them.
#[inline(always)]
fn holder_fence() {
    #[cfg(not(loom))]
    std::sync::atomic::compiler_fence(Ordering::SeqCst);
    #[cfg(loom)]
    crate::sync::fence(Ordering::SeqCst);
}

impl ThreadSlot {
    #[cfg(loom)]
    pub(crate) fn new() -> ThreadSlot {
        ThreadSlot {
            in_rt: AtomicU32::new(1),
            revoked: AtomicU32::new(NOT_REVOKED),
        }
    }

    /// Holder side: the thread enters runtime code from process code. Returns true if it
    /// lost its worker (it must not touch it); waits out a `TRYING` verdict.
    #[inline]
    pub(crate) fn raise(&self) -> bool {
        self.in_rt.store(1, Relaxed);
        holder_fence();
        self.revoked.load(Relaxed) != NOT_REVOKED && self.verdict()
    }

    /// Holder side: back to process code.
    #[inline]
    pub(crate) fn lower(&self) {
        self.in_rt.store(0, Release);
    }

    /// The monitor's verdict, once `revoked` was seen not `NOT_REVOKED`: true if revoked.
    #[cold]
    pub(crate) fn verdict(&self) -> bool {
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

    /// Monitor side: revokes the holder's worker if the holder is in process code.
    /// `barrier` is the membarrier (false: unavailable, nothing done); `same_run` re-checks,
    /// after it, that the holder still runs the process the monitor judged held. True if
    /// the worker was revoked: the caller hands it to another thread.
    pub(crate) fn try_revoke(
        &self,
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
        if barrier() && self.in_rt.load(Ordering::SeqCst) == 0 && same_run() {
            self.revoked.store(REVOKED, Release);
            true
        } else {
            self.revoked.store(NOT_REVOKED, Release);
            false
        }
    }
}

#[cfg(not(loom))]
thread_local! {
    static SLOT: ThreadSlot = const {
        ThreadSlot { in_rt: AtomicU32::new(1), revoked: AtomicU32::new(NOT_REVOKED) }
    };
}
#[cfg(loom)]
thread_local! {
    static SLOT: ThreadSlot = ThreadSlot::new();
}

/// The calling thread's slot. Out of line, like the other thread-local accessors: a
/// process may resume on another thread, so the address must be looked up after every
/// suspension (see `sched` module docs).
#[inline(never)]
pub(crate) fn slot() -> &'static ThreadSlot {
    // SAFETY: the slot is a const-initialised thread-local without a destructor: its
    // address is valid for the whole life of the thread, and it is only reached through
    // atomics. The 'static reference never leaves the thread except as a raw pointer the
    // monitor reads while the thread is a worker thread of a live runtime (worker threads
    // end only at shutdown, after the monitor).
    SLOT.with(|s| unsafe { &*(s as *const ThreadSlot) })
}

/// Proof that the calling thread is in runtime code; dropping it returns to the state the
/// call was made in (process code, when the call came from there).
#[must_use]
pub(crate) struct InRuntime {
    from_process_code: bool,
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Marks the calling thread as running runtime code, for a call made by process code (or
/// any thread: outside process code this is a load and a compare). If the thread's worker
/// was taken over while the process ran its own code, the process first moves to another
/// worker (it suspends and resumes there), so the call proceeds on a worker this thread
/// holds.
#[inline]
pub(crate) fn enter() -> InRuntime {
    let s = slot();
    if s.in_rt.load(Relaxed) != 0 {
        return InRuntime {
            from_process_code: false,
            _not_send: std::marker::PhantomData,
        };
    }
    if s.raise() {
        lost_worker();
    }
    InRuntime {
        from_process_code: true,
        _not_send: std::marker::PhantomData,
    }
}

impl Drop for InRuntime {
    #[inline]
    fn drop(&mut self) {
        if self.from_process_code {
            // Looked up again: the process may have moved to another thread.
            slot().lower();
        }
    }
}

/// The slow path of [`enter`]: the thread lost its worker while the calling process ran
/// its own code, so the process moves to another worker.
#[cold]
#[inline(never)]
fn lost_worker() {
    let pcb = super::current_pcb();
    if pcb.is_null() {
        return; // not process code: the caller (the worker loop) checks for itself
    }
    // SAFETY: `pcb` is the process running on this thread, calling from its own stack; it
    // suspends until a worker resumes it (`Suspend::Migrate`, handled by the old thread
    // without touching the worker it lost).
    unsafe { crate::process::suspend(&*pcb, crate::process::pcb::Suspend::Migrate) };
}

/// The runtime is about to call process code (the entry function, a terminate callback)
/// on this thread.
#[inline]
pub(crate) fn leave_for_process_code() {
    slot().lower();
}

/// Process code called by the runtime returned: back in runtime code (may move the
/// process to another worker, see [`enter`]).
#[inline]
pub(crate) fn back_from_process_code() {
    if slot().raise() {
        lost_worker();
    }
}

/// Has the calling thread lost its worker? Raises `in_rt` first (the worker loop calls this
/// after a process stopped running without a runtime call: a trapped stack overflow).
pub(crate) fn worker_revoked() -> bool {
    slot().raise()
}

/// A thread was given a worker: clears its revocation and marks it as in runtime code.
pub(crate) fn reset_for_new_worker() {
    let s = slot();
    s.in_rt.store(1, Relaxed);
    s.revoked.store(NOT_REVOKED, Release);
}

/// Debug check for code that touches the worker: it must run with `in_rt` raised.
#[inline]
pub(crate) fn debug_assert_in_runtime() {
    debug_assert!(
        slot().in_rt.load(Relaxed) != 0,
        "runtime code touched its worker without `held::enter` (a missing entry guard)"
    );
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
    pub(crate) thread: std::sync::OnceLock<std::thread::Thread>,
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
            if let Some(t) = self.thread.get() {
                t.unpark();
            }
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
                std::thread::park();
            }
            m.parked.store(false, Relaxed);
        } else {
            std::thread::park_timeout(Duration::from_nanos(MONITOR_PERIOD_NS));
        }
    }
}

/// Takes worker `index` from its holder if the holder still runs process code in the run
/// stamped `stamp` (steps 1–3 of the module docs). True if it did.
fn take_over(rt: &Arc<RtInner>, index: usize, stamp: u64) -> bool {
    let w = &rt.sched.workers[index];
    let holder = w.holder.load(Acquire);
    if holder.is_null() {
        return false;
    }
    // SAFETY: a holder is a worker thread's slot; worker threads end only after the
    // monitor has stopped (shutdown joins the monitor first).
    let slot = unsafe { &*holder };
    // SAFETY: as in `monitor_main`: freed only after the monitor stopped.
    let local = unsafe { &*w.local.load(Acquire) };
    if !slot.try_revoke(membarrier, || local.stamp.load(Acquire) == stamp) {
        return false;
    }
    w.holder.store(std::ptr::null_mut(), Release);
    rt.sched.monitor.takeovers.fetch_add(1, Relaxed);
    rt.sched.monitor.hand_over(rt, index);
    true
}
