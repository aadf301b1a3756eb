//! The runtime object: start-up, access, wait, the exit path and shutdown.
//!
//! [`RtInner`] is shared (`Arc`) by the [`Runtime`] handle and the worker threads. The C ABI
//! keeps one global runtime (`ffi::lifecycle`); the Rust API may create several (each test
//! does).
//!
//! The other operations are split by concept into submodules, each with its own
//! `impl RtInner` block: `spawn` (creating processes, their stacks), `send` (delivering
//! messages, waking receivers), `names` (registered names), `timers` (user timers), `info`
//! (`process_info`, `is_alive`, statistics) and `api` (the public [`Runtime`] handle).

use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use corosensei::Yielder;
use crossbeam_deque::Worker;
use crossbeam_epoch::{self as epoch, Guard};
use parking_lot::Mutex;

use crate::config::Config;
use crate::overflow;
use crate::pid::Pid;
use crate::process::pcb::Ending;
use crate::process::pcb::{Entry, ExitWaiter, Pcb, Suspend};
use crate::process::table::PidTable;
use crate::reason::ExitReason;
use crate::sched::held;
use crate::sched::worker::{thread_main, WorkerLocal};
use crate::sched::{current_pcb, current_worker, Caller, Idle, Scheduler, WorkerShared};
use crate::stack::Stacks;
use crate::status::Status;

mod api;
pub(crate) mod info;
mod names;
mod send;
mod spawn;
mod timers;

pub use api::Runtime;
use info::ExternalStats;
pub use info::{ProcessInfo, ProcessStatus, RuntimeStats};
pub use timers::TimerDest;

/// The runtime of the calling process.
pub(crate) fn runtime_of(pcb: &Pcb) -> &RtInner {
    // SAFETY: a runtime outlives all of its processes.
    unsafe { &*pcb.rt }
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
    /// Active aliases → their owners (see `alias.rs`).
    pub(crate) aliases: crate::alias::AliasTable,
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
    /// Builds a runtime and starts its workers.
    pub(crate) fn start(config: &Config) -> std::result::Result<Arc<RtInner>, Status> {
        let config = config.resolve()?;
        overflow::install_handler();
        let n = config.schedulers;
        let table = PidTable::new(config.max_processes)?;
        let mut queues = Vec::with_capacity(n);
        let mut shared = Vec::with_capacity(n);
        for _ in 0..n {
            let q = [Worker::new_fifo(), Worker::new_fifo(), Worker::new_fifo()];
            let (parker, unparker) = crate::sched::park::Parker::new();
            shared.push(WorkerShared {
                stealers: [q[0].stealer(), q[1].stealer(), q[2].stealer()],
                unparker,
                local: Default::default(),
                stats: Default::default(),
            });
            queues.push((q, parker));
        }
        let rt = Arc::new(RtInner {
            stacks: Stacks::new(config.stack_size, config.guard_size),
            table,
            sched: Scheduler {
                workers: shared.into_boxed_slice(),
                injector: [Default::default(), Default::default(), Default::default()],
                idle: Idle::new(n),
                monitor: Default::default(),
                trim_epoch: Default::default(),
            },
            registry: crate::registry::Registry::new(),
            timers: crate::timer::user::Timers::new(n),
            msg_depot: Default::default(),
            external_stats: Default::default(),
            start: Instant::now(),
            shut_down: AtomicBool::new(false),
            threads: Mutex::new(Vec::with_capacity(n)),
            monitor_thread: Mutex::new(None),
            stopped: Mutex::new(None),
            external: std::sync::atomic::AtomicUsize::new(0),
            shutdown_begun: AtomicBool::new(false),
            self_ref: std::sync::OnceLock::new(),
            next_ref: std::sync::atomic::AtomicU64::new(0),
            aliases: crate::alias::AliasTable::new(),
            config,
        });
        let _ = rt.self_ref.set(Arc::downgrade(&rt));
        for (index, (q, parker)) in queues.into_iter().enumerate() {
            let local = Box::new(WorkerLocal::new(rt.clone(), index, q, parker));
            rt.sched.workers[index]
                .local
                .store(Box::into_raw(local), SeqCst);
        }
        // Every worker registers its thread handle before `start` returns, so shutdown can
        // always unpark it.
        let ready = Arc::new(Barrier::new(n + 1));
        for index in 0..n {
            let rt2 = rt.clone();
            let ready2 = ready.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("hive-worker-{index}"))
                .spawn(move || {
                    ready2.wait();
                    thread_main(rt2, Some(index))
                });
            match spawned {
                Ok(h) => rt.threads.lock().push(h),
                Err(_) => {
                    // Let the started workers pass the barrier and stop.
                    rt.shut_down.store(true, SeqCst);
                    for _ in index..n {
                        ready.wait();
                    }
                    rt.sched.unpark_all();
                    for h in rt.threads.lock().drain(..) {
                        let _ = h.join();
                    }
                    // The workers that got no thread: free them here (each holds an Arc).
                    for w in &rt.sched.workers[index..] {
                        let p = w.local.swap(ptr::null_mut(), SeqCst);
                        if !p.is_null() {
                            // SAFETY: allocated above by Box::into_raw and never run.
                            drop(unsafe { Box::from_raw(p) });
                        }
                    }
                    return Err(Status::ErrSystemLimit);
                }
            }
        }
        ready.wait();
        if n > 0 && crate::sched::held::membarrier_available() {
            rt.sched.monitor.prepare();
            let rt2 = rt.clone();
            if let Ok(h) = std::thread::Builder::new()
                .name("hive-monitor".into())
                .spawn(move || crate::sched::held::monitor_main(rt2))
            {
                *rt.monitor_thread.lock() = Some(h);
            }
        }
        Ok(rt)
    }

    /// A new monitor reference (never 0, never reused while the runtime lives).
    pub(crate) fn new_ref(&self) -> u64 {
        self.next_ref
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1
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

    fn alive(&self, p: Pid) -> bool {
        self.table.lookup(p).is_some()
    }

    /// Blocks the calling thread (not a process) until `pid` exits; returns its reason, or
    /// `noproc` when it has exited already (see [`Runtime::wait`]).
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

    /// Stops everything (see [`Runtime::shutdown`]).
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
            if crate::signal::deliver(self, &from, pid, crate::signal::Signal::Shutdown)
                == Ok(crate::signal::Delivery::Delivered)
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

/// Body of every process coroutine.
///
/// # Safety
/// `pcb` is the live PCB of the process this coroutine belongs to.
unsafe fn process_main(pcb: *const Pcb, y: &Yielder<(), Suspend>) -> Ending {
    // SAFETY: the caller guarantees `pcb` is the live PCB of this coroutine's process; the
    // process owns these fields while it runs.
    let pcb = unsafe { &*pcb };
    pcb.yielder.set(y);
    // Signals that arrived before the first instruction (an exit signal ends it here).
    // SAFETY: the calling process.
    unsafe { crate::signal::check(pcb) };
    // A Rust entry stays in the PCB while it runs (see `Entry::rust`): the exit path frees
    // it even if the process never comes back here.
    // SAFETY: `pcb.entry` belongs to this running process; nothing else touches it until the
    // exit path, which runs after this coroutine has stopped for good.
    let rust_entry = match unsafe { &mut *pcb.entry.get() } {
        Entry::Rust(f) => Some(&mut **f as *mut (dyn FnMut() + Send)),
        _ => None,
    };
    let entry = match rust_entry {
        Some(_) => Entry::Taken,
        // SAFETY: `pcb.entry` belongs to this running process, and the reference taken above
        // is no longer used (`rust_entry` is None on this arm).
        None => unsafe { std::mem::replace(&mut *pcb.entry.get(), Entry::Taken) },
    };
    let mut reason = ExitReason::Normal;
    match (entry, rust_entry) {
        (Entry::C { f, arg }, _) => {
            // Process code: the worker may be taken over while it runs (`sched::held`).
            held::leave_for_process_code(pcb);
            f(arg);
            held::back_from_process_code(pcb);
        }
        (_, Some(f)) => {
            // SAFETY: `f` points into the box in `pcb.entry`, which stays put until the exit
            // path (above); it is called once, by this process only.
            let call = || unsafe { (*f)() };
            held::leave_for_process_code(pcb);
            let result = panic::catch_unwind(AssertUnwindSafe(call));
            held::back_from_process_code(pcb);
            // SAFETY: owner-only field; the closure has returned (or unwound).
            unsafe { *pcb.entry.get() = Entry::Taken };
            if let Err(payload) = result {
                let text = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string payload".into());
                reason = ExitReason::error(format!("panic: {text}"));
            }
        }
        _ => {}
    }
    // SAFETY: the calling process; `normal` unless a panic gave the reason.
    if unsafe { crate::process::exit::begin(pcb, reason) }
        == crate::process::lifecycle::Begin::Began
    {
        // SAFETY: `pcb` is the calling process, whose exit has just begun.
        unsafe { crate::process::exit::publish(pcb) };
    }
    Ending::Returned
}
