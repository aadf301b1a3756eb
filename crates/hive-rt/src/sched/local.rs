//! A worker's own state (`WorkerLocal`): its run queues and LIFO slot, timer wheel,
//! caches and counters. One OS thread at a time holds it (`held`); the loop that runs it
//! is `worker.rs`.

use std::cell::{Cell, RefCell};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use crossbeam_deque::Worker;

use super::ProcRef;
use crate::process::pcb::Pcb;
use crate::runtime::RtInner;
use crate::timer::{self, Wheel};

/// Stack slots kept per worker before spilling to the shared pool.
const STACK_CACHE_MAX: usize = 64;

/// The bit of `WorkerLocal::push_mode` that sends a poll's processes to the shared run
/// queue (`poll.rs`, "Woken processes").
pub(super) const PUSH_SHARED: u32 = 1 << 31;

/// The worker-owned state. Aligned to 128 bytes (two cache lines, the unit the adjacent-
/// line prefetcher pulls in): the workers' states are heap neighbours, and a line shared by
/// two of them would bounce between their threads on every write.
#[repr(align(128))]
pub(crate) struct WorkerLocal {
    pub(crate) index: usize,
    pub(crate) rt: Arc<RtInner>,
    pub(super) queues: [Worker<ProcRef>; 3],
    pub(super) lifo: Cell<Option<ProcRef>>,
    pub(super) lifo_streak: Cell<u32>,
    pub(super) low_skip: Cell<u32>,
    pub(super) tick: Cell<u64>,
    pub(super) searching: Cell<bool>,
    pub(super) rng: Cell<u64>,
    pub(crate) wheel: RefCell<Wheel>,
    /// Free stack slots (their `limit` addresses) of the runtime's default-size pool.
    pub(crate) stack_cache: RefCell<Vec<usize>>,
    /// Free small-message buffers.
    pub(crate) msg_cache: RefCell<crate::mailbox::MsgCache>,
    /// Free user-timer slots.
    pub(crate) timer_slots: RefCell<crate::timer::user::SlotCache>,
    /// Bytes of message buffers this worker handed back to the allocator since it last
    /// bumped the scheduler's `trim_epoch` (see `count_freed`).
    pub(super) freed_bytes: Cell<usize>,
    /// The `trim_epoch` this worker last trimmed at.
    pub(super) trimmed_epoch: Cell<usize>,
    /// This worker bumped `trim_epoch` since it last trimmed: when it trims, it wakes the
    /// sleeping workers so that they trim too.
    pub(super) trim_wakes: Cell<bool>,
    /// Moved to an odd value when a process run begins, to the next even one when it ends
    /// (written by the holding thread only; the monitor reads it, see `held`).
    pub(crate) stamp: AtomicU64,
    /// The process of the current run (valid while `stamp` is odd; the monitor reads it).
    pub(crate) running: std::sync::atomic::AtomicPtr<Pcb>,
    /// Where the holding thread sleeps when the worker is idle (`WorkerShared::unparker`
    /// wakes it).
    pub(super) parker: super::park::Parker,
    /// What the last poll found (processes to wake, active sockets to read), handled once
    /// the worker is pinned again.
    pub(super) io_woken: RefCell<Vec<crate::io::driver::Ready>>,
    /// Active sockets whose last pass left data to deliver (`poll.rs`).
    pub(super) io_more: RefCell<Vec<u64>>,
    /// Where [`WorkerLocal::push_back`] puts processes while the worker wakes what a poll
    /// found (`poll.rs`); 0 the rest of the time. The bits below [`PUSH_SHARED`] count
    /// pushes that go to this worker's queue without waking an idle worker (a worker back
    /// from an idle poll runs the first process it wakes itself); with [`PUSH_SHARED`]
    /// the others go to the shared run queue.
    pub(super) push_mode: Cell<u32>,
    /// This worker's counters in `rt.sched.workers[index]` (read on every run and send:
    /// one load instead of an index and a bounds check).
    stats: *const crate::sched::WorkerStats,
}

impl WorkerLocal {
    /// This worker's counters.
    #[inline(always)]
    pub(crate) fn stats(&self) -> &crate::sched::WorkerStats {
        // SAFETY: `stats` points into `self.rt.sched.workers[self.index]`, which lives as
        // long as the runtime, which `self.rt` keeps alive.
        unsafe { &*self.stats }
    }

    /// Puts a process woken by the process running here into the LIFO slot; the previous
    /// occupant goes to the back of its queue. Always inlined: it is part of every send
    /// that wakes its receiver (`RtInner::wake_on`).
    #[inline(always)]
    pub(crate) fn push_woken(&self, p: ProcRef) {
        if let Some(old) = self.lifo.replace(Some(p)) {
            self.push_back(old);
        }
    }

    /// Whether nothing waits in this worker's queues or LIFO slot.
    pub(super) fn has_nothing_queued(&self) -> bool {
        let l = self.lifo.take();
        let empty = l.is_none();
        self.lifo.set(l);
        empty && self.queues.iter().all(|q| q.is_empty())
    }

    /// Appends a process to this worker's queue of its priority and tells idle workers
    /// (while a poll's processes are woken, as `push_mode` says instead).
    pub(crate) fn push_back(&self, p: ProcRef) {
        let mode = self.push_mode.get();
        if mode != 0 {
            return self.push_polled(p, mode);
        }
        self.queues[p.priority() as usize].push(p);
        self.rt.sched.notify_work();
    }

    /// `push_back` of a process a poll woke (`mode`, the `push_mode`, is not 0): a quiet
    /// push to this worker's queue while quiet pushes are left, else (`mode` is
    /// [`PUSH_SHARED`]) one to the shared run queue, which tells idle workers.
    #[inline(never)]
    fn push_polled(&self, p: ProcRef, mode: u32) {
        if mode & !PUSH_SHARED != 0 {
            self.push_mode.set(mode - 1);
            self.queues[p.priority() as usize].push(p);
        } else {
            self.rt.sched.inject(p);
        }
    }

    /// Takes a stack slot limit from the cache, refilling from the pool.
    pub(crate) fn take_stack(&self) -> std::io::Result<usize> {
        let mut cache = self.stack_cache.borrow_mut();
        if let Some(s) = cache.pop() {
            return Ok(s);
        }
        let mut v = Vec::new();
        self.rt
            .stacks
            .default_pool()
            .alloc_batch(STACK_CACHE_MAX / 2, &mut v)?;
        cache.extend(v.into_iter().map(|s| s.limit_addr()));
        Ok(cache.pop().expect("alloc_batch returns at least one slot"))
    }

    /// Returns a stack slot of the default pool to the cache (spilling half when full).
    pub(crate) fn give_stack(&self, limit: usize) {
        let mut cache = self.stack_cache.borrow_mut();
        if cache.len() >= STACK_CACHE_MAX {
            let pool = self.rt.stacks.default_pool();
            let spill = cache.split_off(STACK_CACHE_MAX / 2);
            pool.free_limits(spill.into_iter());
        }
        cache.push(limit);
    }

    /// A worker's state, before any thread holds it.
    pub(crate) fn new(
        rt: Arc<RtInner>,
        index: usize,
        queues: [Worker<ProcRef>; 3],
        parker: super::park::Parker,
    ) -> Self {
        WorkerLocal {
            index,
            queues,
            lifo: Cell::new(None),
            lifo_streak: Cell::new(0),
            low_skip: Cell::new(0),
            tick: Cell::new(0),
            searching: Cell::new(false),
            rng: Cell::new(0x2545_F491_4F6C_DD1D ^ ((index as u64 + 1) * 0x9E37_79B9)),
            wheel: RefCell::new(Wheel::new(timer::tick_of(rt.now_ns()))),
            stack_cache: RefCell::new(Vec::new()),
            msg_cache: RefCell::new(Default::default()),
            io_woken: RefCell::new(Vec::new()),
            io_more: RefCell::new(Vec::new()),
            push_mode: Cell::new(0),
            stats: &rt.sched.workers[index].stats,
            timer_slots: RefCell::new(Default::default()),
            freed_bytes: Cell::new(0),
            trimmed_epoch: Cell::new(0),
            trim_wakes: Cell::new(false),
            stamp: AtomicU64::new(0),
            running: Default::default(),
            parker,
            rt,
        }
    }

    /// Moves this worker's stamp to the next odd value: a process run begins (see `held`).
    /// (After a takeover the stamp is odd already: the old holder never ended its run.)
    #[inline]
    pub(super) fn stamp_run_begins(&self) {
        let s = &self.stamp;
        let v = s.load(Relaxed);
        s.store((v + 1) | 1, std::sync::atomic::Ordering::Release);
    }

    /// Moves this worker's odd stamp to the next even value: the run ended.
    #[inline]
    pub(super) fn stamp_run_ends(&self) {
        let s = &self.stamp;
        s.store(s.load(Relaxed) + 1, std::sync::atomic::Ordering::Release);
    }
}

/// Counts `bytes` of message buffers freed to the allocator by worker `w`.
///
/// # Safety
/// `w` is the calling thread's live worker.
pub(crate) unsafe fn count_freed(w: *const WorkerLocal, bytes: usize) {
    // SAFETY: the caller guarantees `w` is the calling thread's live worker; `freed_bytes` is
    // a `Cell` only this thread touches.
    let w = unsafe { &*w };
    let total = w.freed_bytes.get() + bytes;
    if total < TRIM_AFTER_FREED_BYTES {
        w.freed_bytes.set(total);
        return;
    }
    w.freed_bytes.set(0);
    let sched = &w.rt.sched;
    // Only when the process grew by as much since the last trim: a stream of large
    // messages frees 64 MiB every few ms while its memory is reused, and has nothing to
    // give back.
    if let Some(rss) = resident_bytes() {
        if rss < sched.trim_rss.load(Relaxed) + TRIM_AFTER_FREED_BYTES as u64 {
            return;
        }
    }
    sched
        .trim_epoch
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // The buffers belong to the heaps of the workers that allocated them (the senders'),
    // which must trim too (with mimalloc each thread returns only its own heap's free
    // pages): this worker wakes the sleeping ones when it trims, that is once it is quiet
    // (`worker.rs`, `park`), not now, while it is still freeing.
    w.trim_wakes.set(true);
}

/// The process's resident memory, bytes (`/proc/self/statm`; None where unreadable).
pub(super) fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(page).ok().map(|p| pages * p)
}

/// Message bytes a worker frees to the allocator before it trims once quiet (`worker.rs`,
/// `park`): a drained queue of 10M messages frees ~1.4 GB, which glibc would otherwise
/// keep.
const TRIM_AFTER_FREED_BYTES: usize = 64 << 20;
