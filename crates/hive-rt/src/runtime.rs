//! The runtime object: start-up, spawn, send, wait, the exit path and shutdown.
//!
//! [`RtInner`] is shared (`Arc`) by the [`Runtime`] handle and the worker threads. The C ABI
//! keeps one global runtime (`ffi::lifecycle`); the Rust API may create several (each test
//! does).

use std::ffi::c_void;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use corosensei::{Coroutine, Yielder};
use crossbeam_deque::Worker;
use crossbeam_epoch::{self as epoch, Guard};
use parking_lot::Mutex;

use crate::config::{stack_class, Config, SpawnOptions};
use crate::mailbox::Msg;
use crate::overflow::{self, Ending};
use crate::pid::Pid;
use crate::process::pcb::{Entry, ExitWaiter, Pcb, Suspend};
use crate::process::state::Notify;
use crate::process::table::PidTable;
use crate::reason::ExitReason;
use crate::sched::held;
use crate::sched::worker::{thread_main, WorkerLocal};
use crate::sched::{current_pcb, current_worker, Caller, Idle, ProcRef, Scheduler, WorkerShared};
use crate::stack::Stacks;
use crate::status::{Error, Result, Status};

/// Spawn arguments up to this many bytes are copied into the PCB (no allocation); larger
/// ones go to the heap.
const INLINE_ARG: usize = crate::process::pcb::INLINE_ARG_BYTES;

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
    external_stats: ExternalStats,
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

/// Counters for work done outside the workers (spawns and sends from plain threads, exits
/// run by shutdown).
#[derive(Debug, Default)]
struct ExternalStats {
    spawned: std::sync::atomic::AtomicU64,
    exited: std::sync::atomic::AtomicU64,
    sent: std::sync::atomic::AtomicU64,
}

/// Runtime-wide counters and gauges (`erlang:statistics/1`, `erlang:system_info/1`), a
/// snapshot: each figure is read without stopping anything, so they need not add up
/// exactly while processes run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeStats {
    /// Processes alive now.
    pub live: u64,
    /// Processes spawned since start.
    pub spawned: u64,
    /// Processes that have exited since start.
    pub exited: u64,
    /// Messages sent (to live or dead processes) since start.
    pub messages_sent: u64,
    /// Reductions spent by all processes since start.
    pub reductions: u64,
    /// Successful steals of work from other workers.
    pub steals: u64,
    /// Times a worker went to sleep for lack of work.
    pub parks: u64,
    /// Timers set and neither fired nor cancelled.
    pub pending_timers: u64,
    /// Processes waiting in each worker's run queues (all priorities), by worker.
    pub run_queue: Vec<u64>,
    /// Processes waiting in the global injector (spawned or woken by plain threads).
    pub injector_queue: u64,
    /// Names registered now (`length(erlang:registered())`).
    pub registered_names: u64,
    /// Times a worker held by one process's own code for longer than 10 ms was taken over
    /// by another thread (see `docs/design.md`, "Held workers").
    pub takeovers: u64,
}

/// Status of a process (`process_info(P, status)`).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessStatus {
    /// In a run queue, ready to run.
    Runnable = 0,
    /// Running on a worker now.
    Running = 1,
    /// Blocked in `receive` (or `sleep`).
    Waiting = 2,
    /// Exiting: its exit is being processed. Not reported by `process_info`, which treats
    /// an exiting process as gone, like the BEAM's `undefined` (kept for ABI stability).
    Exiting = 3,
}

/// What `process_info/2` tells about a process (a snapshot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Scheduling status.
    pub status: ProcessStatus,
    /// Messages in its mailbox.
    pub mailbox_len: u64,
    /// Reductions spent so far (updated when it is suspended).
    pub reductions: u64,
    /// Its priority.
    pub priority: crate::Priority,
    /// Whether it traps exits (`process_flag(trap_exit)`).
    pub trap_exit: bool,
    /// Its registered name, if any.
    pub registered_name: Option<Vec<u8>>,
    /// Processes linked to it (`process_info(P, links)`).
    pub links: Vec<Pid>,
    /// Monitors it holds: (reference, monitored pid) (`process_info(P, monitors)`).
    pub monitors: Vec<(u64, Pid)>,
    /// Processes monitoring it (`process_info(P, monitored_by)`; one entry per monitor).
    pub monitored_by: Vec<Pid>,
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

    /// Creates a process. `arg` is copied; a C entry receives a pointer to the copy (or
    /// NULL when `arg` is empty). A `waiter` is registered before the process can run.
    pub(crate) fn spawn(
        &self,
        entry: Entry,
        arg: &[u8],
        opts: SpawnOptions,
        waiter: Option<&Arc<ExitWaiter>>,
    ) -> std::result::Result<Pid, Status> {
        self.spawn_with(entry, arg, opts, waiter, None)
            .map(|(pid, _)| pid)
    }

    /// `spawn_link` / `spawn_monitor` / `spawn_opt(F, [link, monitor])` (cases 65, 97, 98):
    /// the calling process `parent` is linked to, and/or monitors, the new process before
    /// it can run its first instruction. Returns the pid and the monitor reference (0
    /// without `monitor`).
    pub(crate) fn spawn_linked(
        &self,
        entry: Entry,
        arg: &[u8],
        opts: SpawnOptions,
        parent: &Pcb,
        link: bool,
        monitor: bool,
    ) -> std::result::Result<(Pid, u64), Status> {
        let mref = if monitor { self.new_ref() } else { 0 };
        self.spawn_with(entry, arg, opts, None, Some((parent, link, mref)))
    }

    fn spawn_with(
        &self,
        entry: Entry,
        arg: &[u8],
        opts: SpawnOptions,
        waiter: Option<&Arc<ExitWaiter>>,
        parent: Option<(&Pcb, bool, u64)>,
    ) -> std::result::Result<(Pid, u64), Status> {
        if self.is_shut_down()
            || self
                .shutdown_begun
                .load(std::sync::atomic::Ordering::Relaxed)
        {
            return Err(Status::ErrShutDown);
        }
        let default = self.stacks.default_usable();
        let usable = if opts.stack_size == 0 {
            default
        } else if opts.stack_size < crate::config::MIN_STACK_SIZE {
            // Too small for the ABI's headroom plus any frame of the process's own: refused
            // rather than silently enlarged, so a backend that computed a stack size learns
            // that it is below the minimum (`SpawnOptions::stack_size`).
            return Err(Status::ErrBadLength);
        } else {
            stack_class(opts.stack_size).ok_or(Status::ErrBadLength)?
        };
        let worker = self.local_worker();
        let pcb = Box::into_raw(Pcb::new(opts.priority, entry, self));
        // The argument copy lives in the PCB (inline when small), which never moves, so the
        // pointer stays valid for the life of the process.
        // SAFETY: the PCB is not yet published; we are its only user.
        unsafe {
            (*pcb).stack_shift.set(usable.trailing_zeros() as u8);
            if !arg.is_empty() {
                let dst = if arg.len() <= INLINE_ARG {
                    (*(*pcb).inline_arg.get()).as_mut_ptr() as *mut u8
                } else {
                    let mut b = vec![0u128; arg.len().div_ceil(16)].into_boxed_slice();
                    let p = b.as_mut_ptr() as *mut u8;
                    (*pcb).set_heap_arg(Some(b));
                    p
                };
                ptr::copy_nonoverlapping(arg.as_ptr(), dst, arg.len());
                if let Entry::C { arg: arg_ptr, .. } = &mut *(*pcb).entry.get() {
                    *arg_ptr = dst as *mut c_void;
                }
            }
            if let Some(w) = waiter {
                (*pcb).sig.lock().data().waiters.push(w.clone());
            }
            if let Some((parent, link, mref)) = parent {
                let mut s = (*pcb).sig.lock();
                let d = s.data();
                if link {
                    d.links.insert(parent.pid);
                }
                if mref != 0 {
                    d.monitored_by.insert(mref, parent.pid);
                }
            }
        }
        // SAFETY: the PCB is not yet published, so this thread is its only user; `init` writes
        // the pid before the table publishes the PCB.
        let pid = match self.table.insert(pcb, |pid| unsafe { (*pcb).pid = pid }) {
            Ok(pid) => pid,
            Err(e) => {
                // SAFETY: never published, never run, no stack yet.
                drop(unsafe { Box::from_raw(pcb) });
                return Err(e);
            }
        };
        if let Some((parent, link, mref)) = parent {
            // The parent's side, before the child can run (and exit, and signal it).
            let mut s = parent.sig.lock();
            let d = s.data();
            if link {
                d.links.insert(pid);
            }
            if mref != 0 {
                d.monitors.insert(mref, pid);
            }
        }
        // SAFETY: `pcb` is a valid, live allocation.
        let p = ProcRef(unsafe { NonNull::new_unchecked(pcb) });
        match worker {
            Some(w) => {
                w.stats().spawned.add(1);
                w.push_back(p)
            }
            None => {
                self.external_stats
                    .spawned
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.sched.inject(p)
            }
        }
        Ok((pid, parent.map_or(0, |(_, _, mref)| mref)))
    }

    /// Gives a process its stack and coroutine, on the worker about to run it for the
    /// first time (stacks are allocated lazily: a spawned process that has not run yet holds
    /// no stack, which keeps spawn-heavy workloads such as skynet small).
    ///
    /// # Safety
    /// `pcb` is a process that has not started, owned by the calling worker.
    pub(crate) unsafe fn start_process(
        &self,
        pcb_ptr: *mut Pcb,
        worker: &WorkerLocal,
    ) -> std::io::Result<()> {
        // SAFETY: the caller guarantees `pcb_ptr` is a live process that has not started, owned
        // by the calling worker, so no other thread touches it while this reference lives.
        let pcb = unsafe { &*pcb_ptr };
        let usable = pcb.stack_usable();
        let stack = if usable == self.stacks.default_usable() {
            worker
                .take_stack()
                .map(|limit| self.stacks.default_pool().slot_at(limit))?
        } else {
            self.stacks.pool(usable).alloc()?
        };
        let stack_guard = stack.usable_bottom();
        let pcb_addr = pcb_ptr as usize;
        let co = Coroutine::with_stack(stack, move |y: &Yielder<(), Suspend>, ()| {
            // SAFETY: the PCB outlives its coroutine (freed only after the exit path took the
            // coroutine out), and this closure runs only as that process.
            unsafe { process_main(pcb_addr as *const Pcb, y) }
        });
        pcb.trap.set(Some(co.trap_handler()));
        pcb.stack_guard.set(stack_guard);
        // SAFETY: owner-only field, per the contract.
        unsafe { *pcb.coroutine.get() = Some(co) };
        Ok(())
    }

    fn recycle_stack(
        &self,
        stack: crate::stack::ArenaStack,
        usable: usize,
        worker: Option<&WorkerLocal>,
    ) {
        match worker {
            Some(w) if usable == self.stacks.default_usable() => w.give_stack(stack.limit_addr()),
            _ => self.stacks.pool(usable).free(stack),
        }
    }

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

    /// As [`RtInner::wake`], with the worker already resolved.
    #[inline]
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

    /// Registers `name` for `pid` (BEAM `register/2`).
    pub(crate) fn register(&self, name: &[u8], pid: Pid) -> std::result::Result<(), Status> {
        crate::registry::validate(name)?;
        if pid.is_none() {
            return Err(Status::ErrBadArgument);
        }
        let _access = self.access().ok_or(Status::ErrShutDown)?;
        let pcb = self.table.lookup(pid).ok_or(Status::ErrNoProcess)?;
        // SAFETY: `_access` keeps the PCB alive.
        self.registry.register(name, unsafe { pcb.as_ref() })
    }

    /// Removes a registered name (BEAM `unregister/1`).
    pub(crate) fn unregister(&self, name: &[u8]) -> std::result::Result<(), Status> {
        crate::registry::validate(name)?;
        self.registry.unregister(name)
    }

    /// The pid registered under `name`, or `Pid::NONE` (BEAM `whereis/1`).
    pub(crate) fn whereis(&self, name: &[u8]) -> std::result::Result<Pid, Status> {
        crate::registry::validate(name)?;
        Ok(self.registry.whereis(name).unwrap_or(Pid::NONE))
    }

    /// Sends a copy of `data` to the process registered as `name` (BEAM `Name ! Msg`).
    /// An unregistered name is `ErrNotRegistered` (the BEAM's `badarg`, case 80).
    pub(crate) fn send_named(
        &self,
        caller: &Caller,
        name: &[u8],
        data: &[u8],
    ) -> std::result::Result<(), Status> {
        crate::registry::validate(name)?;
        let pid = self
            .registry
            .whereis(name)
            .ok_or(Status::ErrNotRegistered)?;
        crate::process::send_on(self, caller, pid, data).map_err(|e| e.0)
    }

    /// Sets a timer that sends a copy of `data` to `dest` in `ms` milliseconds
    /// (`erlang:send_after/3` with `kind` Data, `erlang:start_timer/3` with kind Timeout).
    /// Returns the timer reference.
    pub(crate) fn set_timer(
        &self,
        caller: &Caller,
        dest: crate::timer::user::Dest,
        ms: u64,
        data: &[u8],
        kind: crate::mailbox::MessageKind,
    ) -> std::result::Result<u64, Status> {
        let r = self.set_timer_inner(caller, dest, ms, data, kind);
        charge_timer_op(caller);
        r
    }

    fn set_timer_inner(
        &self,
        caller: &Caller,
        dest: crate::timer::user::Dest,
        ms: u64,
        data: &[u8],
        kind: crate::mailbox::MessageKind,
    ) -> std::result::Result<u64, Status> {
        use crate::timer::user::Dest;
        if ms > crate::timer::MAX_TIMER_MS {
            return Err(Status::ErrBadArgument);
        }
        if data.len() > crate::mailbox::MAX_MESSAGE_LEN {
            return Err(Status::ErrBadLength);
        }
        match &dest {
            Dest::Pid(p) if p.is_none() => return Err(Status::ErrBadArgument),
            Dest::Name(n) => crate::registry::validate(n)?,
            _ => {}
        }
        let access = self.access_as(caller).ok_or(Status::ErrShutDown)?;
        let worker = access.worker;
        let now = self.now_ns();
        let deadline_ns = now.saturating_add(ms * 1_000_000);
        let dest_pid = match &dest {
            Dest::Pid(p) => Some(*p),
            Dest::Name(_) => None,
        };
        let t = match worker {
            Some(w) => {
                let mut cache = w.timer_slots.borrow_mut();
                self.timers.create(
                    Some(&mut cache),
                    deadline_ns,
                    dest,
                    data,
                    kind,
                    caller.worker,
                )?
            }
            None => self
                .timers
                .create(None, deadline_ns, dest, data, kind, caller.worker)?,
        };
        if let Some(p) = dest_pid {
            // The destination's exit cancels its timers: record this one in its link
            // record; if the record is closed (or the process is gone) it is dead, and the
            // timer is cancelled at once (BEAM case 92). A short timer to a live process
            // is not recorded: if the process dies first, the timer is dropped when it
            // fires (within `UNRECORDED_TIMER_MS`), and `read_timer`/`cancel_timer` already
            // report it gone (they check the destination).
            let recorded = self.table.lookup(p).is_some_and(|pcb| {
                // SAFETY: `access` keeps the PCB alive.
                let pcb = unsafe { pcb.as_ref() };
                if ms <= UNRECORDED_TIMER_MS {
                    return !pcb.is_exiting();
                }
                let mut s = pcb.sig.lock();
                if pcb.sig_closed.load(std::sync::atomic::Ordering::Relaxed) {
                    return false;
                }
                let list = &mut s.data().timers;
                if list.len() >= 64 && list.len().is_power_of_two() {
                    list.retain(|&r| self.timers.is_active(r));
                }
                list.push(t.tref);
                true
            });
            if !recorded {
                self.timers.cancel(t.tref, now, |_| false, None);
                // Not on any wheel yet: free it here, as its home would.
                let mut cache = worker.map(|w| w.timer_slots.borrow_mut());
                let _ = self
                    .timers
                    .due(t.index, t.gen, cache.as_deref_mut(), caller.worker);
                return Ok(t.tref);
            }
        }
        let deadline = crate::timer::deadline_tick(now, ms);
        let what = crate::timer::Fire::User {
            index: t.index,
            gen: t.gen,
        };
        match worker {
            Some(w) => {
                let key = w.wheel.borrow_mut().insert_fire(deadline, what);
                match key {
                    Some(key) => self.timers.set_home(t.index, w.index, key),
                    // Already due (0 ms): deliver now.
                    None => self.fire_user_timer(t.index, t.gen, caller, w),
                }
            }
            None => {
                self.timers.inbox.lock().push(crate::timer::user::Inboxed {
                    index: t.index,
                    gen: t.gen,
                    deadline_ns,
                });
                self.timers.inbox_len.fetch_add(1, SeqCst);
                self.sched.unpark(0);
            }
        }
        Ok(t.tref)
    }

    /// Delivers a user timer that came due on worker `w`'s wheel (if it is still active).
    pub(crate) fn fire_user_timer(&self, index: u32, gen: u32, caller: &Caller, w: &WorkerLocal) {
        use crate::timer::user::{Dest, Due};
        let due = {
            let mut cache = w.timer_slots.borrow_mut();
            self.timers.due(index, gen, Some(&mut cache), w)
        };
        let Due::Deliver(m, dest) = due else {
            return; // cancelled
        };
        let to = match dest {
            Dest::Pid(p) => Some(p),
            // Names are looked up when the timer fires (BEAM case 91).
            Dest::Name(n) => self.registry.whereis(&n),
        };
        match to {
            // A dead destination drops the message, as any send to a dead pid does.
            Some(p) => {
                let _ = self.send_as(caller, p, m);
            }
            // SAFETY: we own the message; nobody is registered under the name.
            None => unsafe { Msg::free_by(m.as_ptr(), caller.worker) },
        }
    }

    /// Cancels timer `tref` on behalf of a thread (see
    /// [`crate::timer::user::Timers::cancel`]; on the timer's home worker a near timer's
    /// wheel entry and slot go at once).
    pub(crate) fn cancel_timer_as(&self, caller: &Caller, tref: u64) -> Option<u64> {
        let now = self.now_ns();
        match self.worker_of(caller) {
            Some(w) => match (w.wheel.try_borrow_mut(), w.timer_slots.try_borrow_mut()) {
                (Ok(mut wheel), Ok(mut cache)) => self.timers.cancel(
                    tref,
                    now,
                    |p| self.timer_dest_alive(p),
                    Some((w.index, &mut wheel, &mut cache)),
                ),
                _ => self
                    .timers
                    .cancel(tref, now, |p| self.timer_dest_alive(p), None),
            },
            None => self
                .timers
                .cancel(tref, now, |p| self.timer_dest_alive(p), None),
        }
    }

    fn alive(&self, p: Pid) -> bool {
        self.table.lookup(p).is_some()
    }

    /// Whether a timer's destination still counts as alive for `read_timer`/`cancel_timer`:
    /// in the table and not exiting. Its exit path cancels its long timers only after its
    /// DOWNs are out, so a monitor that just saw the DOWN must already find them gone
    /// (case 92; found by the soak). The caller holds `access`.
    fn timer_dest_alive(&self, p: Pid) -> bool {
        self.table
            .lookup(p)
            // SAFETY: the caller's `access` keeps the PCB alive.
            .is_some_and(|pcb| !unsafe { pcb.as_ref() }.is_exiting())
    }

    /// Cancels a timer: the ms that were left, or None (fired, cancelled, unknown, or its
    /// destination process is gone) (`erlang:cancel_timer/1`).
    pub(crate) fn cancel_timer(&self, tref: u64) -> std::result::Result<Option<u64>, Status> {
        let caller = Caller::get();
        let r = {
            let _access = self.access_as(&caller).ok_or(Status::ErrShutDown)?;
            self.cancel_timer_as(&caller, tref)
        };
        charge_timer_op(&caller);
        Ok(r)
    }

    /// The ms left of a timer, or None (`erlang:read_timer/1`).
    pub(crate) fn read_timer(&self, tref: u64) -> std::result::Result<Option<u64>, Status> {
        let _access = self.access().ok_or(Status::ErrShutDown)?;
        Ok(self
            .timers
            .read(tref, self.now_ns(), |p| self.timer_dest_alive(p)))
    }

    /// A snapshot of a live process (`erlang:process_info/2`), or None when it is dead or
    /// exiting. Called from a process, it is ordered after the signals that process sent
    /// to `pid` before (case 23; it may yield while `pid` handles them); from another
    /// thread it is a plain snapshot.
    pub(crate) fn process_info(
        &self,
        pid: Pid,
    ) -> std::result::Result<Option<ProcessInfo>, Status> {
        use std::sync::atomic::Ordering::Relaxed;
        let caller = Caller::get();
        if !caller.pcb.is_null() && !self.alive_ordered(&caller, pid)? {
            return Ok(None);
        }
        let _access = self.access().ok_or(Status::ErrShutDown)?;
        let Some(pcb) = self.table.lookup(pid) else {
            return Ok(None);
        };
        // SAFETY: `_access` keeps the PCB alive.
        let pcb = unsafe { pcb.as_ref() };
        if pcb.is_exiting() {
            return Ok(None);
        }
        let status = match pcb.state.status_snapshot() {
            crate::process::state::RUNNING => ProcessStatus::Running,
            crate::process::state::WAITING => ProcessStatus::Waiting,
            crate::process::state::EXITED => ProcessStatus::Exiting,
            _ => ProcessStatus::Runnable,
        };
        let queued = crate::process::queued(pcb);
        let (mut links, mut monitors, mut monitored_by) = match pcb.sig.lock().data.as_deref() {
            Some(d) => (
                d.links.iter().copied().collect::<Vec<_>>(),
                d.monitors.iter().map(|(&r, &p)| (r, p)).collect::<Vec<_>>(),
                d.monitored_by.values().copied().collect::<Vec<_>>(),
            ),
            None => Default::default(),
        };
        links.sort_unstable();
        monitors.sort_unstable();
        monitored_by.sort_unstable();
        Ok(Some(ProcessInfo {
            status,
            mailbox_len: queued as u64,
            reductions: pcb.reductions.load(Relaxed),
            priority: pcb.priority(),
            trap_exit: pcb.trap_exit.load(Relaxed),
            registered_name: self.registry.name_of(pid).map(Vec::from),
            links,
            monitors,
            monitored_by,
        }))
    }

    /// `is_alive/1`: ordered after the caller's earlier signals when called from a
    /// process (case 23), else a snapshot. An exiting process is not alive.
    pub(crate) fn is_alive(&self, pid: Pid) -> std::result::Result<bool, Status> {
        let caller = Caller::get();
        if !caller.pcb.is_null() {
            return self.alive_ordered(&caller, pid);
        }
        let _access = self.access().ok_or(Status::ErrShutDown)?;
        Ok(self
            .table
            .lookup(pid)
            // SAFETY: `_access` keeps the PCB alive.
            .is_some_and(|p| !unsafe { p.as_ref() }.is_exiting()))
    }

    /// Runtime counters and gauges (see [`RuntimeStats`]).
    pub(crate) fn stats(&self) -> RuntimeStats {
        use std::sync::atomic::Ordering::Relaxed;
        let ext = &self.external_stats;
        let mut s = RuntimeStats {
            live: self.table.live() as u64,
            spawned: ext.spawned.load(Relaxed),
            exited: ext.exited.load(Relaxed),
            messages_sent: ext.sent.load(Relaxed),
            pending_timers: self.timers.pending() as u64,
            registered_names: self.registry.len() as u64,
            injector_queue: self.sched.injector.iter().map(|q| q.len() as u64).sum(),
            takeovers: self.sched.monitor.takeovers.load(Relaxed),
            ..RuntimeStats::default()
        };
        for w in self.sched.workers.iter() {
            let st = &w.stats;
            s.spawned += st.spawned.get();
            s.exited += st.exited.get();
            s.messages_sent += st.sent.get();
            s.reductions += st.reductions.get();
            s.steals += st.steals.get();
            s.parks += st.parks.get();
            s.run_queue
                .push(w.stealers.iter().map(|q| q.len() as u64).sum());
        }
        s
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
            if pcb.sig_closed.load(std::sync::atomic::Ordering::Relaxed) {
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

    /// The exit path: runs once per process, on the worker that ran it last (or on the
    /// shutdown thread), after the process stopped running for good.
    ///
    /// # Safety
    /// `pcb` is a live process that will never be resumed again and that no other thread
    /// is running or exiting. With `guard` (pinning the calling thread) the PCB is freed
    /// once every pinned reader has moved on; without, it is freed at once, which is only
    /// sound when no other thread can hold a pointer to it (shutdown, after the workers
    /// stopped and every external call drained).
    pub(crate) unsafe fn finish_process(
        &self,
        pcb_ptr: *mut Pcb,
        worker: Option<&WorkerLocal>,
        guard: Option<&Guard>,
    ) {
        // SAFETY: the caller guarantees `pcb_ptr` is live, will never be resumed, and that no
        // other thread runs or exits it: this thread owns the process now.
        let pcb = unsafe { &*pcb_ptr };
        // 1. The terminate callback ran on the process's stack (`exit_raw`, `process_main`);
        // from here on it counts as dead to `is_alive`, and the reason is final.
        pcb.exiting.store(crate::process::pcb::EXIT_PUBLIC, SeqCst);
        pcb.state.transition_to_exited();
        // SAFETY: `exit_reason` needs the state word to say EXITED, after which the reason
        // never changes: `transition_to_exited` just above set it on this thread.
        let reason: &ExitReason = unsafe { pcb.exit_reason() };
        // 2. Its registered name is released before anything is signalled: nobody who can
        // see that the process is gone (DOWN, EXIT, is_alive, wait) can still find the
        // name (BEAM cases 82, 83).
        self.registry.release(pcb);
        // 3, 4. Links and monitors: pending requests answered, then each link and monitor
        // notified once (see `signal.rs`). Then the messages left are freed (later sends
        // see EXITED and drop theirs; one racing this point is freed with the PCB).
        let worker_ptr = worker.map_or(ptr::null(), |w| w as *const WorkerLocal);
        // SAFETY: `exit_signals` needs a process that stopped running for good, whose exit path
        // this thread runs, with a final reason: this function's `# Safety` and step 1 above.
        let waiters = unsafe { crate::signal::exit_signals(self, pcb, worker_ptr) };
        // SAFETY: owner-only fields and the queue's consumer side; the process no longer runs.
        unsafe {
            let inner = &mut *pcb.inner.get();
            inner.drain_outer(&pcb.outer);
            inner.clear();
        }
        self.table.remove(pcb.pid);
        match worker {
            Some(w) => w.stats().exited.add(1),
            None => {
                self.external_stats
                    .exited
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        // 3. Resources: pending timer, stack, spawn argument, unstarted entry.
        if let (Some(t), Some(w)) = (pcb.timer.take(), worker) {
            if t.worker as usize == w.index {
                w.wheel.borrow_mut().cancel(t.key);
            }
        }
        // SAFETY: owner-only field. None: the process never ran (no stack yet).
        if let Some(mut co) = unsafe { (*pcb.coroutine.get()).take() } {
            if !co.done() {
                // C frames have no destructors; the Rust API documents that values live across
                // `exit` are leaked. A coroutine is created right before its first resume,
                // so it is never unstarted here.
                // SAFETY: by the runtime's rule, no value with a destructor lives on a
                // process stack across a suspension point, so nothing is skipped.
                unsafe { co.force_reset() };
            }
            self.recycle_stack(co.into_stack(), pcb.stack_usable(), worker);
        }
        // SAFETY: owner-only fields.
        unsafe {
            *pcb.entry.get() = Entry::Taken;
            pcb.set_heap_arg(None);
        }
        // Threads waiting in `wait`.
        for w in waiters {
            w.complete(reason);
        }
        // 5. Free the PCB once every pinned reader has moved on.
        let addr = pcb_ptr as usize;
        match guard {
            // SAFETY: the PCB is unreachable from the table now; readers that loaded it
            // earlier are pinned, and the closure runs only after all of them unpinned.
            Some(g) => unsafe { g.defer_unchecked(move || drop(Box::from_raw(addr as *mut Pcb))) },
            // SAFETY: without a guard the caller guarantees no other thread can hold a pointer to
            // the PCB (shutdown, workers stopped, external calls drained); it came from `Box`.
            None => drop(unsafe { Box::from_raw(pcb_ptr) }),
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
                self.finish_process(pcb.as_ptr(), None, None);
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
            if self.send_signal(
                &from,
                pid,
                crate::signal::SIG_SHUTDOWN,
                0,
                &ExitReason::Shutdown,
            ) {
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

/// Reductions a timer operation costs the calling process (the BEAM charges its timer BIFs
/// too). Without a cost, a process setting timers in a loop kept its worker for a whole
/// slice of 4000 reduction checks, and the worker's timer wheel waited that long to fire.
const TIMER_OP_REDUCTIONS: u32 = 10;

/// Timers to a pid this short (ms) are not recorded in the destination's link record (see
/// `set_timer_inner`): recording every one cost the timer storm a lock and a list push
/// per timer, for timers that would be gone within a second anyway.
const UNRECORDED_TIMER_MS: u64 = 2000;

/// Charges a timer operation to the calling process, if there is one (may yield).
fn charge_timer_op(caller: &Caller) {
    if !caller.pcb.is_null() {
        // SAFETY: the current process, calling from its own stack.
        unsafe { crate::process::consume_raw(&*caller.pcb, TIMER_OP_REDUCTIONS as i32) };
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
    let mut started = false;
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
                // SAFETY: the calling process.
                started = unsafe {
                    crate::process::begin_exit(pcb, ExitReason::error(format!("panic: {text}")))
                };
            }
        }
        _ => {}
    }
    // SAFETY: the calling process; `normal` unless a panic set the reason.
    started |= unsafe { crate::process::begin_exit(pcb, ExitReason::Normal) };
    if started {
        // SAFETY: `pcb` is the calling process, and `started` says its exit has begun.
        unsafe { crate::process::publish_exit(pcb) };
    }
    Ending::Returned
}

/// Where a timer's message goes (`send_after`, `start_timer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerDest<'a> {
    /// A process: the timer is cancelled when it exits (BEAM case 92).
    Pid(Pid),
    /// A registered name, looked up when the timer fires; not cancelled (case 91).
    Name(&'a [u8]),
}

impl TimerDest<'_> {
    pub(crate) fn owned(self) -> crate::timer::user::Dest {
        match self {
            TimerDest::Pid(p) => crate::timer::user::Dest::Pid(p),
            TimerDest::Name(n) => crate::timer::user::Dest::Name(n.into()),
        }
    }
}

/// A Hive runtime: its workers run until [`Runtime::shutdown`] (or drop).
///
/// ```
/// use hive_rt::{process, Config, Runtime};
/// let rt = Runtime::new(Config { schedulers: 2, ..Default::default() }).unwrap();
/// // `run` spawns a process and waits for its exit reason.
/// assert!(rt.run(|| { process::yield_now().unwrap(); }).unwrap().is_normal());
/// // A process still blocked at shutdown is stopped with reason `shutdown`.
/// let pid = rt.spawn(|| { process::receive(None).unwrap(); }).unwrap();
/// assert!(rt.is_alive(pid));
/// assert_eq!(rt.shutdown(), 1);
/// assert!(!rt.is_alive(pid));
/// ```
#[derive(Debug)]
pub struct Runtime {
    pub(crate) inner: Arc<RtInner>,
}

impl Runtime {
    /// Starts a runtime with its worker threads.
    ///
    /// Errors: `ErrBadArgument` (scheduler count above 1024, `max_processes` 0 or above
    /// 2^24), `ErrBadLength` (stack size above 64 MiB), `ErrNoMemory` (pid table),
    /// `ErrSystemLimit` (a worker thread could not be started).
    pub fn new(config: Config) -> Result<Runtime> {
        let _rt = crate::sched::held::enter();
        Ok(Runtime {
            inner: RtInner::start(&config).map_err(Error)?,
        })
    }

    /// The effective configuration (defaults filled in, sizes rounded).
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Spawns a process running `f` with default options. Works from any thread.
    ///
    /// A panic in `f` ends the process with an `Error` reason `"panic: <message>"`.
    /// Errors: `ErrShutDown`, `ErrSystemLimit` (pid table full), `ErrNoMemory` (stacks).
    pub fn spawn<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<Pid> {
        let _rt = crate::sched::held::enter();
        self.spawn_opts(SpawnOptions::default(), f)
    }

    /// Spawns a process with options. Errors as [`Runtime::spawn`], plus `ErrBadLength`
    /// for a stack size above 64 MiB.
    pub fn spawn_opts<F: FnOnce() + Send + 'static>(
        &self,
        opts: SpawnOptions,
        f: F,
    ) -> Result<Pid> {
        let _rt = crate::sched::held::enter();
        self.inner
            .spawn(Entry::rust(f), &[], opts, None)
            .map_err(Error)
    }

    /// Spawns `f` and blocks the calling thread until it exits; returns its exit reason.
    /// Errors as [`Runtime::spawn`], plus `ErrInProcess` when called from a process.
    pub fn run<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<ExitReason> {
        let _rt = crate::sched::held::enter();
        self.run_opts(SpawnOptions::default(), f)
    }

    /// As [`Runtime::run`], with spawn options.
    pub fn run_opts<F: FnOnce() + Send + 'static>(
        &self,
        opts: SpawnOptions,
        f: F,
    ) -> Result<ExitReason> {
        let _rt = crate::sched::held::enter();
        if !current_pcb().is_null() || !current_worker().is_null() {
            return Err(Error(Status::ErrInProcess));
        }
        let waiter = Arc::new(ExitWaiter::default());
        self.inner
            .spawn(Entry::rust(f), &[], opts, Some(&waiter))
            .map_err(Error)?;
        RtInner::block_on(&waiter, None).map_err(Error)
    }

    /// Sends a copy of `data` to `to` from any thread (the sender pid of the message is
    /// [`Pid::NONE`] outside a process). A dead or unknown pid is not an error (BEAM case 2).
    /// Errors: `ErrBadArgument` (pid 0), `ErrBadLength` (over 1 GiB), `ErrNoMemory`,
    /// `ErrShutDown`.
    pub fn send(&self, to: Pid, data: &[u8]) -> Result<()> {
        let _rt = crate::sched::held::enter();
        crate::process::send_on(&self.inner, &Caller::get(), to, data)
    }

    /// Blocks until `pid` exits and returns its exit reason. A process that has already
    /// exited gives `ExitReason::Noproc` at once, as `monitor/2` on a dead process does
    /// (BEAM case 57): a process spawned from a thread may run and exit before its spawner
    /// calls this, and that is not an error (use [`Runtime::run`] to get the real reason
    /// whatever the timing).
    /// Errors: `ErrNoProcess` (this runtime never issued `pid`), `ErrInProcess` (called from
    /// a process: use a monitor there), `ErrShutDown`.
    pub fn wait(&self, pid: Pid) -> Result<ExitReason> {
        let _rt = crate::sched::held::enter();
        self.inner.wait(pid, None).map_err(Error)
    }

    /// As [`Runtime::wait`], giving up after `timeout` with `Status::Timeout`.
    pub fn wait_timeout(&self, pid: Pid, timeout: Duration) -> Result<ExitReason> {
        let _rt = crate::sched::held::enter();
        self.inner.wait(pid, Some(timeout)).map_err(Error)
    }

    /// Registers `name` (1 to 255 bytes, no NUL) for `pid` (`erlang:register/2`, BEAM cases
    /// 79–80): a name maps to one process and a process holds at most one name; the name is
    /// released when the process exits, before the exit is signalled (cases 82–83).
    /// Errors: `ErrBadArgument` (empty name, NUL byte, pid 0), `ErrBadLength` (over 255
    /// bytes), `ErrNameTaken`, `ErrAlreadyNamed`, `ErrNoProcess` (not alive), `ErrShutDown`.
    pub fn register(&self, name: &[u8], pid: Pid) -> Result<()> {
        let _rt = crate::sched::held::enter();
        self.inner.register(name, pid).map_err(Error)
    }

    /// Removes a registered name (`erlang:unregister/1`, case 81).
    /// Errors: `ErrBadArgument`, `ErrBadLength`, `ErrNotRegistered`.
    pub fn unregister(&self, name: &[u8]) -> Result<()> {
        let _rt = crate::sched::held::enter();
        self.inner.unregister(name).map_err(Error)
    }

    /// The pid registered as `name`, or [`Pid::NONE`] (`erlang:whereis/1`).
    /// Errors: `ErrBadArgument`, `ErrBadLength`.
    pub fn whereis(&self, name: &[u8]) -> Result<Pid> {
        let _rt = crate::sched::held::enter();
        self.inner.whereis(name).map_err(Error)
    }

    /// The registered name of `pid`, if any (`process_info(P, registered_name)`).
    pub fn registered_name(&self, pid: Pid) -> Option<Vec<u8>> {
        let _rt = crate::sched::held::enter();
        self.inner.registry.name_of(pid).map(Vec::from)
    }

    /// Sends a copy of `data` to the process registered as `name` (`Name ! Msg`).
    /// Errors: those of [`Runtime::send`], plus `ErrNotRegistered` and the name errors.
    pub fn send_named(&self, name: &[u8], data: &[u8]) -> Result<()> {
        let _rt = crate::sched::held::enter();
        self.inner
            .send_named(&Caller::get(), name, data)
            .map_err(Error)
    }

    /// Sends a copy of `data` to `dest` in `ms` milliseconds (`erlang:send_after/3`, BEAM
    /// cases 85, 90–95); returns the timer reference. Works from any thread.
    /// Errors: `ErrBadArgument` (ms > `MAX_TIMER_MS`, pid 0, bad name), `ErrBadLength`,
    /// `ErrNoMemory`, `ErrSystemLimit` (2^26 timers pending), `ErrShutDown`.
    pub fn send_after(&self, dest: TimerDest<'_>, ms: u64, data: &[u8]) -> Result<u64> {
        let _rt = crate::sched::held::enter();
        self.inner
            .set_timer(
                &Caller::get(),
                dest.owned(),
                ms,
                data,
                crate::MessageKind::Data,
            )
            .map_err(Error)
    }

    /// As [`Runtime::send_after`], delivering a [`crate::MessageKind::Timeout`] message that
    /// carries the timer reference (`erlang:start_timer/3`, case 86).
    pub fn start_timer(&self, dest: TimerDest<'_>, ms: u64, data: &[u8]) -> Result<u64> {
        let _rt = crate::sched::held::enter();
        self.inner
            .set_timer(
                &Caller::get(),
                dest.owned(),
                ms,
                data,
                crate::MessageKind::Timeout,
            )
            .map_err(Error)
    }

    /// Cancels a timer: `Some(ms left)`, or None when it fired, was cancelled, its
    /// destination exited or it never existed (`erlang:cancel_timer/1`, cases 87, 93, 94).
    pub fn cancel_timer(&self, tref: u64) -> Result<Option<u64>> {
        let _rt = crate::sched::held::enter();
        self.inner.cancel_timer(tref).map_err(Error)
    }

    /// The ms left of a timer, or None (`erlang:read_timer/1`, case 88).
    pub fn read_timer(&self, tref: u64) -> Result<Option<u64>> {
        let _rt = crate::sched::held::enter();
        self.inner.read_timer(tref).map_err(Error)
    }

    /// A snapshot of process `pid` (`erlang:process_info/2`), or None when it is not alive.
    /// Cheap: no signal to the process, no lock but the registry shard of its name.
    /// Errors: `ErrShutDown`.
    pub fn process_info(&self, pid: Pid) -> Result<Option<ProcessInfo>> {
        let _rt = crate::sched::held::enter();
        self.inner.process_info(pid).map_err(Error)
    }

    /// Runtime counters and gauges (`erlang:statistics/1`), cheap enough to poll while
    /// benchmarks run.
    pub fn stats(&self) -> RuntimeStats {
        let _rt = crate::sched::held::enter();
        self.inner.stats()
    }

    /// Timers set and not yet fired or cancelled.
    pub fn pending_timers(&self) -> usize {
        let _rt = crate::sched::held::enter();
        self.inner.timers.pending()
    }

    /// Live processes.
    pub fn process_count(&self) -> usize {
        let _rt = crate::sched::held::enter();
        self.inner.table.live()
    }

    /// True while `pid` is alive and not exiting (`erlang:is_process_alive/1`). From a
    /// process of this runtime it is ordered after the signals the caller sent to `pid`
    /// (BEAM case 23; it may yield meanwhile); from another thread it is a snapshot.
    pub fn is_alive(&self, pid: Pid) -> bool {
        let _rt = crate::sched::held::enter();
        self.inner.is_alive(pid).unwrap_or(false)
    }

    /// Sends an exit signal with `reason` to `pid` from this thread (`erlang:exit/2`; the
    /// sender pid is none). See [`crate::process::exit_pid`] for the semantics.
    /// Errors: `ErrBadArgument` (pid 0), `ErrNoMemory`.
    pub fn exit_pid(&self, pid: Pid, reason: ExitReason) -> Result<()> {
        let _rt = crate::sched::held::enter();
        crate::signal::exit_pid(&self.inner, &Caller::get(), pid, &reason).map_err(Error)
    }

    /// Stops every process (exit reason `shutdown`), cancels every timer, joins the workers
    /// and returns how many processes were stopped. Later calls return 0. Processes with a
    /// terminate callback are first sent an untrappable exit signal `shutdown` and run it
    /// (waiting at most 2 s for them, then abandoning a callback still running; spawns fail
    /// meanwhile). Called from
    /// inside a process it begins the shutdown on a helper thread and returns 0 at once
    /// (like `init:stop/0`); the calling process is stopped with the others.
    pub fn shutdown(&self) -> usize {
        let _rt = crate::sched::held::enter();
        self.inner.shutdown().ok().flatten().unwrap_or(0)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // The C ABI's global runtime is never dropped; a Rust runtime stops with its handle.
        let _ = self.inner.shutdown();
    }
}
