//! The runtime object: start-up, access, wait, the exit path and shutdown.
//!
//! [`RtInner`] is shared (`Arc`) by the [`Runtime`](api::Runtime) handle and the worker threads. The C ABI
//! keeps one global runtime (`ffi::lifecycle`); the Rust API may create several (each test
//! does).
//!
//! The other operations are split by concept into submodules, each with its own
//! `impl RtInner` block: `spawn` (creating processes, their stacks), `send` (delivering
//! messages, waking receivers), `names` (registered names), `timers` (user timers), `info`
//! (`process_info`, `is_alive`, statistics) and `api` (the public [`Runtime`](api::Runtime) handle).

use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_epoch::{self as epoch, Guard};
use parking_lot::Mutex;

use crate::config::Config;
use crate::pid::Pid;
use crate::process::pcb::Pcb;
use crate::process::table::PidTable;
use crate::sched::local::WorkerLocal;
use crate::sched::{Caller, Scheduler};
use crate::stack::Stacks;

pub(crate) mod api;
pub(crate) mod info;
mod names;
mod send;
mod shutdown;
mod spawn;
mod start;
pub(crate) mod timers;
mod wait;

/// The runtime of the calling process.
pub(crate) fn runtime_of(pcb: &Pcb) -> &RtInner {
    // SAFETY: a runtime outlives all of its processes.
    unsafe { &*pcb.rt.cast::<RtInner>() }
}

/// Counters for work done outside the workers (spawns and sends from plain threads, exits
/// run by shutdown).
#[derive(Debug, Default)]
pub(crate) struct ExternalStats {
    pub(super) spawned: std::sync::atomic::AtomicU64,
    pub(crate) exited: std::sync::atomic::AtomicU64,
    pub(super) sent: std::sync::atomic::AtomicU64,
}

/// Shared state of one runtime.
pub(crate) struct RtInner {
    pub(crate) config: Config,
    pub(crate) table: PidTable,
    pub(crate) stacks: Stacks,
    pub(crate) sched: Scheduler,
    /// Registered names.
    pub(crate) registry: crate::registry::Registry,
    /// User timers (`send_after`, `start_timer`).
    pub(crate) timers: crate::timer::user::Timers,
    /// Counters of work done by threads that are not workers (any thread may add).
    pub(crate) external_stats: ExternalStats,
    /// Free small-message buffers shared between the workers' caches.
    pub(crate) msg_depot: crate::mailbox::MsgDepot,
    start: Instant,
    shut_down: AtomicBool,
    /// Worker threads, the first ones and those started by takeovers (`sched::held`).
    pub(crate) threads: Mutex<Vec<JoinHandle<()>>>,
    /// The held-worker monitor thread, if it runs (`sched::held`).
    monitor_thread: Mutex<Option<JoinHandle<()>>>,
    /// Serialises shutdown; holds the number of processes it stopped once done.
    stopped: Mutex<Option<usize>>,
    /// Calls in progress from threads that are not this runtime's workers and may hold a PCB
    /// pointer (see [`RtInner::access`]); shutdown waits for them before freeing PCBs.
    external: std::sync::atomic::AtomicUsize,
    /// Set by the first shutdown request (also one made from a process, which runs it on a
    /// helper thread).
    shutdown_begun: AtomicBool,
    /// This runtime's own `Arc` (for the helper thread of an asynchronous shutdown).
    self_ref: std::sync::OnceLock<std::sync::Weak<RtInner>>,
    /// The last monitor reference handed out.
    pub(crate) next_ref: std::sync::atomic::AtomicU64,
    /// Active aliases → their owners (see `alias/`).
    pub(crate) aliases: crate::alias::table::AliasTable,
    /// The event poller and the sockets (see `io/`).
    pub(crate) io: crate::io::driver::Driver,
    /// Threads for blocking calls, whose results come back as messages (`io/pool.rs`).
    pub(crate) pool: crate::io::pool::Pool,
    /// The running distribution node, if any (`dist/`): sends and signals to remote pids
    /// go there. Set by `dist::start`, taken by `dist::stop` and by shutdown.
    pub(crate) remote: parking_lot::RwLock<Option<Arc<dyn crate::dist::hook::Remote>>>,
}

/// Permission to look PCBs up and use them until dropped (see [`RtInner::access`]).
pub(crate) struct Access<'a> {
    rt: &'a RtInner,
    pin: Option<Guard>,
    /// This runtime's worker, when the calling thread is one.
    worker: Option<&'a WorkerLocal>,
}

impl Drop for Access<'_> {
    fn drop(&mut self) {
        if self.pin.take().is_some() {
            self.rt.external.fetch_sub(1, SeqCst);
        }
    }
}

impl std::fmt::Debug for RtInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtInner")
            .field("config", &self.config)
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl RtInner {
    /// The running distribution node, if any.
    pub(crate) fn remote(&self) -> Option<Arc<dyn crate::dist::hook::Remote>> {
        self.remote.read().clone()
    }

    /// A new monitor reference (never 0, never reused while the runtime lives).
    pub(crate) fn new_ref(&self) -> u64 {
        self.next_ref
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1
    }

    /// A weak reference to this runtime (for threads that must not keep it alive).
    pub(crate) fn weak(&self) -> std::sync::Weak<RtInner> {
        self.self_ref.get().cloned().unwrap_or_default()
    }

    /// Nanoseconds since the runtime started (monotonic).
    pub(crate) fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.load(SeqCst)
    }

    /// Makes PCB lookups safe on this thread until the returned value is dropped.
    ///
    /// This runtime's workers are pinned (epoch) for as long as they run processes, so they
    /// need nothing. Any other thread pins and is counted in `external`; shutdown sets its
    /// flag, then waits for `external` to drop to zero before it frees PCBs directly. The
    /// counter is raised *before* the flag is read (both SeqCst), so either this call sees
    /// the flag and returns None, or shutdown sees the call and waits for it.
    pub(crate) fn access(&self) -> Option<Access<'_>> {
        self.access_as(&Caller::get())
    }

    /// As [`RtInner::access`], for a caller already looked up.
    pub(crate) fn access_as(&self, caller: &Caller) -> Option<Access<'_>> {
        if let Some(w) = self.worker_of(caller) {
            return Some(Access {
                rt: self,
                pin: None,
                worker: Some(w),
            });
        }
        self.external.fetch_add(1, SeqCst);
        let access = Access {
            rt: self,
            pin: Some(epoch::pin()),
            worker: None,
        };
        if self.is_shut_down() {
            return None; // dropping `access` lowers the counter again
        }
        Some(access)
    }

    /// The worker this thread runs, if it is one of *this* runtime's workers.
    pub(crate) fn local_worker(&self) -> Option<&WorkerLocal> {
        self.worker_of(&Caller::get())
    }

    /// The caller's worker, if it is one of *this* runtime's workers.
    pub(crate) fn worker_of(&self, caller: &Caller) -> Option<&WorkerLocal> {
        let w = caller.worker;
        if w.is_null() {
            return None;
        }
        // SAFETY: a non-null CURRENT_WORKER points to the WorkerLocal this thread holds (set
        // by `thread_main` while it runs the worker's loop); a worker's state is freed only
        // at shutdown, by the thread holding it, after its loop ended.
        let w = unsafe { &*w };
        ptr::eq(Arc::as_ptr(&w.rt), self).then_some(w)
    }

    pub(crate) fn alive(&self, p: Pid) -> bool {
        self.table.lookup(p).is_some()
    }
}
