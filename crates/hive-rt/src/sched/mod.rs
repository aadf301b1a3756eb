//! The M:N scheduler.
//!
//! One worker thread per scheduler, each with three crossbeam-deque FIFO run queues (high,
//! normal, low priority) and a **LIFO slot** holding the process most recently woken by the
//! process running on it (Go's `runnext`, tokio's `lifo_slot`), which keeps a ping-pong pair
//! on one core. Work from threads that are not workers, and processes woken by socket
//! readiness (`poll.rs`), go to a global `Injector` per priority, which every worker checks
//! when idle and every 61 ticks even when busy. Idle workers steal half of a victim's queue
//! (`steal_batch_and_pop`), then sleep (`idle.rs`).
//!
//! ## Migration and thread-locals
//! A suspended process may be resumed by any worker (after a steal, or woken into another
//! worker's LIFO slot). That is sound because of one rule, which the runtime and generated
//! code keep: **nothing on a process stack refers to thread-local state across a suspension
//! point.** Concretely:
//! - process state is reached through the PCB (a stable heap pointer), never through TLS;
//! - the two thread-locals (`CURRENT_PROC`, `CURRENT_WORKER`) are read only through the
//!   `#[inline(never)]` accessors below, so the compiler cannot cache a TLS address across a
//!   suspension inside one function (rust-lang/rust#33368); every hive function re-reads
//!   them after it resumes;
//! - values owned by a suspended process are `Send` (raw bytes and PCB pointers).

pub(crate) mod handshake;
pub(crate) mod held;
mod idle;
pub(crate) mod local;
pub(crate) mod park;
mod poll;
pub(crate) mod spares;
pub(crate) mod worker;

use std::cell::Cell;
use std::ptr::{self, NonNull};
use std::sync::atomic::AtomicPtr;

use crossbeam_deque::{Injector, Stealer};

use crate::config::Priority;
use crate::process::pcb::Pcb;
pub(crate) use idle::Idle;
use local::WorkerLocal;

/// A process in a run queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ProcRef(pub(crate) NonNull<Pcb>);

// SAFETY: a `ProcRef` in a run queue is the unique right to run that process (the state word
// gives it to exactly one queue at a time), and a process may run on any worker thread
// because of the migration rule in the module docs.
unsafe impl Send for ProcRef {}

impl ProcRef {
    pub(crate) fn priority(self) -> Priority {
        // SAFETY: a queued process is live (it exits only after being run).
        unsafe { self.0.as_ref().priority() }
    }
}

/// The parts of a worker other threads use.
#[derive(Debug)]
pub(crate) struct WorkerShared {
    pub(crate) stealers: [Stealer<ProcRef>; 3],
    /// Wakes the worker (whichever thread holds it, see `held`): the only way to.
    pub(crate) unparker: park::Unparker,
    /// The worker's own state, allocated at start and freed by the thread holding it when
    /// the runtime shuts down.
    pub(crate) local: AtomicPtr<WorkerLocal>,
    /// Counters for `statistics`, written only by this worker's thread (Relaxed).
    pub(crate) stats: WorkerStats,
}

/// Per-worker counters (`erlang:statistics/1`-style), each written by one thread only.
#[derive(Debug, Default)]
pub(crate) struct WorkerStats {
    pub(crate) spawned: CounterU64,
    pub(crate) exited: CounterU64,
    pub(crate) sent: CounterU64,
    pub(crate) reductions: CounterU64,
    pub(crate) steals: CounterU64,
    pub(crate) parks: CounterU64,
}

/// A counter with a single writer: a plain load and store, no RMW.
#[derive(Debug, Default)]
pub(crate) struct CounterU64(std::sync::atomic::AtomicU64);

impl CounterU64 {
    /// Adds `n` (only the owning thread calls this).
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// The current value (any thread; a snapshot).
    pub(crate) fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Queues, idle state and worker handles of one runtime.
#[derive(Debug)]
pub(crate) struct Scheduler {
    pub(crate) workers: Box<[WorkerShared]>,
    pub(crate) injector: [Injector<ProcRef>; 3],
    pub(crate) idle: Idle,
    /// Watches for held workers and hands them to other threads.
    pub(crate) monitor: spares::Monitor,
    /// Bumped when a worker has freed another `TRIM_AFTER_FREED_BYTES` of message buffers
    /// and the process grew by as much since the last trim: every worker then has the
    /// allocator return free memory once it is quiet (`worker::WorkerLocal::park`).
    pub(crate) trim_epoch: std::sync::atomic::AtomicUsize,
    /// Resident bytes after the last trim (`local::count_freed` bumps `trim_epoch` only
    /// when the process grew past it).
    pub(crate) trim_rss: std::sync::atomic::AtomicU64,
}

impl Scheduler {
    /// Wakes a sleeping worker if work was pushed and nobody is searching for it.
    pub(crate) fn notify_work(&self) {
        if let Some(id) = self.idle.worker_to_notify() {
            self.unpark(id);
        }
    }

    /// Is any work visible to a worker that is about to sleep?
    pub(crate) fn has_visible_work(&self) -> bool {
        self.injector.iter().any(|q| !q.is_empty())
            || self
                .workers
                .iter()
                .any(|w| w.stealers.iter().any(|s| !s.is_empty()))
    }

    /// Queues a process from a thread that is not one of this runtime's workers.
    pub(crate) fn inject(&self, p: ProcRef) {
        self.injector[p.priority() as usize].push(p);
        self.notify_work();
    }

    /// Wakes worker `id` (whichever thread holds it).
    pub(crate) fn unpark(&self, id: usize) {
        self.workers[id].unparker.unpark();
    }

    /// Unparks every worker (shutdown).
    pub(crate) fn unpark_all(&self) {
        for id in 0..self.workers.len() {
            self.unpark(id);
        }
    }
}

thread_local! {
    static CURRENT_PROC: Cell<*const Pcb> = const { Cell::new(ptr::null()) };
    static CURRENT_WORKER: Cell<*const WorkerLocal> = const { Cell::new(ptr::null()) };
}

/// The process running on this thread, or null.
#[inline(never)]
pub(crate) fn current_pcb() -> *const Pcb {
    CURRENT_PROC.with(|c| c.get())
}

#[inline(never)]
pub(crate) fn set_current_pcb(p: *const Pcb) {
    CURRENT_PROC.with(|c| c.set(p))
}

/// Who is calling into the runtime: the thread's current process and worker, looked up
/// once per call (each lookup is an out-of-line thread-local read, see the module docs).
/// Valid only for the duration of that call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Caller {
    pub(crate) pcb: *const Pcb,
    pub(crate) worker: *const WorkerLocal,
}

impl Caller {
    /// Reads the thread-locals.
    pub(crate) fn get() -> Caller {
        Caller {
            pcb: current_pcb(),
            worker: current_worker(),
        }
    }

    /// Enters the runtime (`sched::enter`) and reads the thread-locals, with one read of the
    /// current process: for the hottest calls, which would otherwise read it twice. The
    /// worker is read after the entry (which may move the process to another worker).
    #[inline]
    pub(crate) fn entered() -> (handshake::InRuntime, Caller) {
        let pcb = current_pcb();
        let rt = handshake::enter_pcb(pcb);
        (
            rt,
            Caller {
                pcb,
                worker: current_worker(),
            },
        )
    }

    /// The calling process's pid, or `Pid::NONE`.
    pub(crate) fn pid(&self) -> crate::Pid {
        if self.pcb.is_null() {
            crate::Pid::NONE
        } else {
            // SAFETY: a non-null current process is live for the duration of its own call.
            unsafe { (*self.pcb).pid }
        }
    }
}

/// A worker as the mailbox's source of message buffers: the pointer is the calling thread's
/// worker ([`current_worker`], `Caller::worker`), or null when the thread runs none (then
/// buffers come from and go to the allocator).
impl crate::mailbox::CacheSource for *const WorkerLocal {
    /// Runs `f` on the message cache of worker `self` and its runtime's depot; None when
    /// `self` is null or the cache is in use.
    fn with_cache<R>(
        self,
        f: impl FnOnce(&mut crate::mailbox::MsgCache, &crate::mailbox::MsgDepot) -> R,
    ) -> Option<R> {
        if self.is_null() {
            return None;
        }
        // SAFETY: a non-null CURRENT_WORKER points to this thread's live WorkerLocal; the cache
        // is borrowed only here, never across a call that could re-enter.
        let w = unsafe { &*self };
        let mut c = w.msg_cache.try_borrow_mut().ok()?;
        Some(f(&mut c, &w.rt.msg_depot))
    }

    /// Adds `bytes` to worker `self`'s count of freed buffer bytes
    /// ([`local::count_freed`]); nothing when `self` is null.
    fn count_freed(self, bytes: usize) {
        if !self.is_null() {
            // SAFETY: a non-null worker source is the calling thread's live worker (see the
            // impl's docs).
            unsafe { local::count_freed(self, bytes) };
        }
    }
}

/// The worker this thread runs, or null. Process code must have entered the runtime
/// (`sched::enter`) before using it.
#[inline(never)]
pub(crate) fn current_worker() -> *const WorkerLocal {
    let w = CURRENT_WORKER.with(|c| c.get());
    if cfg!(debug_assertions) && !w.is_null() {
        debug_assert_in_runtime();
    }
    w
}

pub(crate) fn set_current_worker(w: *const WorkerLocal) {
    CURRENT_WORKER.with(|c| c.set(w))
}

/// Marks the calling process (if any) as running runtime code, for a call made from its
/// own code. If its thread lost the worker to a takeover while the process ran its own
/// code, the process first moves to another worker (it suspends and resumes there), so the
/// call proceeds on a worker its thread holds.
#[inline]
pub(crate) fn enter() -> handshake::InRuntime {
    handshake::enter_pcb(current_pcb())
}

/// Debug check for code that touches the worker: a process calling must have entered the
/// runtime ([`enter`]).
#[inline]
pub(crate) fn debug_assert_in_runtime() {
    let p = current_pcb();
    if !p.is_null() {
        // SAFETY: the current process's PCB lives while it runs.
        let pcb = unsafe { &*p };
        debug_assert!(
            pcb.own_flag(crate::process::pcb::OWN_IN_RT),
            "runtime code touched its worker without `sched::enter` (a missing entry guard)"
        );
    }
}
