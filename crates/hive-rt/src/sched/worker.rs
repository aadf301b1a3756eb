//! One worker: its run loop, local queues, LIFO slot, timer wheel and stack cache.
//!
//! Everything in [`WorkerLocal`] belongs to the thread that holds the worker: one at a time,
//! normally the same one for the runtime's life, another after a takeover (`held`).
//! Processes running on the worker reach it through [`super::current_worker`] (they run on
//! the same thread, inside `resume`, while the loop holds no borrow of it).
//!
//! Each **tick** of the loop: re-pin the epoch (a quiescent point: PCBs freed before it may
//! now be reclaimed), fire due timers, pick one process and run it until it suspends.

use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::sync::Arc;
use std::time::Duration;

use corosensei::CoroutineResult;
use crossbeam_deque::Steal;
use crossbeam_epoch::{self as epoch, Guard};

use super::local::WorkerLocal;
use super::poll::Sleep;
use super::{set_current_pcb, set_current_worker, ProcRef};
use crate::process::pcb::Ending;
use crate::process::pcb::{Pcb, Suspend};
use crate::process::state::{Notify, ToWaiting};
use crate::runtime::RtInner;
use crate::sched::Caller;
use crate::timer::{self, Fire, Wheel};

/// Every this many ticks the injector is checked first, even with local work.
const INJECTOR_INTERVAL: u64 = 61;
/// At most this many LIFO-slot runs in a row (tokio's `MAX_LIFO_POLLS_PER_TICK`).
const MAX_LIFO_STREAK: u32 = 3;
/// A worker sweeps cancelled timers off its wheel once there are at least this many (and
/// they are at least half of its items).
const SWEEP_MIN: usize = 4096;
/// Wheel items one sweep step looks at (each a read of its entry, likely a cache miss:
/// tens of µs).
const SWEEP_STEP: usize = 512;

/// A low-priority process runs at least once per this many normal runs (`RESCHEDULE_LOW`).
const LOW_SKIP: u32 = 8;
/// Ticks between epoch re-pins (quiescent points).
const REPIN_INTERVAL: u64 = 8;
/// Ticks between epoch flushes (hand deferred frees to the collector).
const FLUSH_INTERVAL: u64 = 64;
/// How long a worker sleeps without work before it trims the allocator (ns): a drained
/// flood leaves its workers asleep for longer, a stream of large messages seldom does.
const TRIM_QUIET_NS: u64 = 1_000_000;

impl WorkerLocal {
    /// Next process to run from local sources (no stealing).
    fn next_local(&self) -> Option<ProcRef> {
        let tick = self.tick.get();
        if tick.is_multiple_of(INJECTOR_INTERVAL) {
            if let Some(p) = self.pop_injector() {
                return Some(p);
            }
        }
        if let Some(p) = self.queues[2].pop() {
            return Some(p);
        }
        if let Some(p) = self.lifo.take() {
            let streak = self.lifo_streak.get();
            // The cap keeps the LIFO slot from starving the queues; with nothing queued
            // there is nobody to starve, and moving the process to the queue would only
            // invite a sleeping worker to steal it (a token passed around a ring would then
            // cross cores every few hops).
            if streak < MAX_LIFO_STREAK || self.queues.iter().all(|q| q.is_empty()) {
                self.lifo_streak.set(streak + 1);
                return Some(p);
            }
            self.queues[p.priority() as usize].push(p);
        }
        self.lifo_streak.set(0);
        let low_ready = !self.queues[0].is_empty();
        if low_ready && self.low_skip.get() >= LOW_SKIP {
            self.low_skip.set(0);
            return self.queues[0].pop();
        }
        if let Some(p) = self.queues[1].pop() {
            if low_ready {
                self.low_skip.set(self.low_skip.get() + 1);
            }
            return Some(p);
        }
        if let Some(p) = self.queues[0].pop() {
            self.low_skip.set(0);
            return Some(p);
        }
        self.pop_injector()
    }

    fn pop_injector(&self) -> Option<ProcRef> {
        for prio in [2, 1, 0] {
            loop {
                match self.rt.sched.injector[prio].steal_batch_and_pop(&self.queues[prio]) {
                    Steal::Success(p) => return Some(p),
                    Steal::Empty => break,
                    Steal::Retry => continue,
                }
            }
        }
        None
    }

    /// Steals from other workers (and the injector). Handles the searching protocol.
    fn search(&self) -> Option<ProcRef> {
        let sched = &self.rt.sched;
        let n = sched.workers.len();
        if n == 1 {
            return self.pop_injector();
        }
        if !self.searching.get() {
            if !sched.idle.start_searching() {
                return self.pop_injector();
            }
            self.searching.set(true);
        }
        self.steal_round()
    }

    /// Leaves the searching state after finding work (by any path: a worker woken by
    /// `notify_work` is counted as a searcher even if it then finds work locally).
    fn stop_searching(&self) {
        if self.searching.replace(false) && self.rt.sched.idle.stop_searching() {
            // The last searcher found work: there may be more; let another look.
            self.rt.sched.notify_work();
        }
    }

    fn steal_round(&self) -> Option<ProcRef> {
        let sched = &self.rt.sched;
        let n = sched.workers.len();
        // xorshift for the victim order.
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        let start = (x % n as u64) as usize;
        for i in 0..n {
            let v = (start + i) % n;
            if v == self.index {
                continue;
            }
            for prio in [2, 1, 0] {
                loop {
                    match sched.workers[v].stealers[prio].steal_batch_and_pop(&self.queues[prio]) {
                        Steal::Success(p) => {
                            self.stats().steals.add(1);
                            return Some(p);
                        }
                        Steal::Empty => break,
                        Steal::Retry => continue,
                    }
                }
            }
        }
        self.pop_injector()
    }

    /// Fires due timers. Cheap when the wheel is empty.
    fn poll_timers(&self) {
        let mut wheel = self.wheel.borrow_mut();
        if wheel.len() == 0 {
            return;
        }
        // Garbage on the wheel: user timers cancelled lazily (far from their deadline or
        // from another thread) and tombstones of cancelled entries.
        let dead = self.rt.timers.lazily_cancelled(self.index).max(0) as usize + wheel.tombstones();
        if wheel.sweeping() || (dead >= SWEEP_MIN && 2 * dead >= wheel.items()) {
            // At least half of the wheel's items are garbage: drop them, a bounded step at
            // a time (the `due` of each lazily cancelled timer uncounts it).
            let timers = &self.rt.timers;
            let mut cache = self.timer_slots.borrow_mut();
            wheel.sweep_step(
                SWEEP_STEP,
                |what| matches!(what, Fire::User { index, gen } if timers.is_cancelled(index, gen)),
                |what| {
                    if let Fire::User { index, gen } = what {
                        let _ =
                            timers.due(index, gen, Some(&mut cache), self as *const WorkerLocal);
                    }
                },
            );
        }
        let now = timer::tick_of(self.rt.now_ns());
        if wheel.next_expiry().is_some_and(|t| t <= now) {
            self.fire_due(&mut wheel, now);
        }
        // Move the slots time reaches next down ahead of time, a bounded step per round,
        // so that reaching them is no stall (an idle worker does not park while some are
        // left; see `park`).
        if wheel.precascade_pending() {
            wheel.precascade_step();
        }
    }

    /// Fires the entries of `wheel` (this worker's) due at `now` (ticks).
    fn fire_due(&self, wheel: &mut Wheel, now: u64) {
        let rt = &*self.rt;
        let caller = Caller {
            pcb: std::ptr::null(),
            worker: self,
        };
        let ahead = |what| {
            if let Fire::User { index, .. } = what {
                rt.timers.prefetch_slot(index);
            }
        };
        wheel.advance_ahead(now, ahead, |what| match what {
            Fire::Receive { pid, seq } => {
                // The worker is pinned: a PCB found in the table stays valid here.
                let Some(pcb) = rt.table.lookup(pid) else {
                    return; // the process exited: its timer is stale
                };
                // SAFETY: pinned, see above.
                let pcb = unsafe { pcb.as_ref() };
                if pcb.timer_seq.load(Acquire) != seq {
                    return; // that receive already ended
                }
                pcb.timeout_fired
                    .store(seq, std::sync::atomic::Ordering::Release);
                if pcb.state.notify() == Notify::Schedule {
                    let p = ProcRef(std::ptr::NonNull::from(pcb));
                    self.queues[p.priority() as usize].push(p);
                    rt.sched.notify_work();
                }
            }
            Fire::User { index, gen } => rt.fire_user_timer(index, gen, &caller, self),
        });
    }

    /// Worker 0 takes the timers armed by threads that are not workers onto its wheel.
    fn take_timer_inbox(&self) {
        let rt = &*self.rt;
        if self.index != 0 || rt.timers.inbox_len.load(Relaxed) == 0 {
            return;
        }
        let timers = std::mem::take(&mut *rt.timers.inbox.lock());
        rt.timers
            .inbox_len
            .fetch_sub(timers.len(), std::sync::atomic::Ordering::SeqCst);
        let caller = Caller {
            pcb: std::ptr::null(),
            worker: self,
        };
        for t in timers {
            let deadline =
                timer::tick_of(t.deadline_ns.saturating_add((1 << timer::TICK_SHIFT) - 1));
            let what = Fire::User {
                index: t.index,
                gen: t.gen,
            };
            let key = self.wheel.borrow_mut().insert_fire(deadline, what);
            match key {
                Some(key) => rt.timers.set_home(t.index, self.index, key),
                // Already due: deliver now.
                None => rt.fire_user_timer(t.index, t.gen, &caller, self),
            }
        }
    }

    /// Runs one process until it suspends or exits. False if this thread lost the worker
    /// meanwhile (`held`): it must not touch it again.
    fn run(&self, p: ProcRef, guard: &Guard) -> bool {
        let pcb_ptr = p.0.as_ptr();
        // SAFETY: `p` came from a run queue, so this worker has the exclusive right to run the
        // process, and the PCB is live (only this worker could exit it).
        let pcb: &Pcb = unsafe { &*pcb_ptr };
        // SAFETY: only the running worker touches `ctx` and `coroutine` outside the process.
        unsafe {
            (*pcb.ctx.get()).reductions = crate::REDUCTIONS_PER_SLICE;
            if (*pcb.coroutine.get()).as_ref().is_some_and(|c| c.done()) {
                // Its coroutine ended on a thread that had lost its worker (a stack overflow
                // trapped after a takeover, see below): only the exit path is left.
                crate::process::exit::finish(&self.rt, pcb_ptr, Some(self), Some(guard));
                return true;
            }
            if (*pcb.coroutine.get()).is_none() && self.rt.start_process(pcb_ptr, self).is_err() {
                // No stack could be had: the process ends before running (the BEAM's
                // spawn would have failed with system_limit).
                pcb.set_exit(crate::ExitReason::error("system_limit: no stack"));
                crate::process::exit::finish(&self.rt, pcb_ptr, Some(self), Some(guard));
                return true;
            }
        }
        // The runtime outlives this call (`thread_main` holds it); the worker may not: a
        // process that comes back revoked (`Suspend::Migrate`) lost it to another thread.
        let rt: &RtInner = &self.rt;
        loop {
            pcb.state.transition_to_running();
            // SAFETY: this worker took `p` from a run queue and so has the exclusive right to run
            // it; only the running worker touches `ctx` outside the process, which is not running now.
            let slice_start = unsafe { (*pcb.ctx.get()).reductions };
            set_current_pcb(pcb_ptr);
            self.running
                .store(pcb_ptr, std::sync::atomic::Ordering::Relaxed);
            self.stamp_run_begins();
            // SAFETY: the coroutine is only touched by the worker that owns the process; it
            // is Some until the exit path takes it.
            let result = unsafe {
                (*pcb.coroutine.get())
                    .as_mut()
                    .expect("runnable process has a coroutine")
                    .resume(())
            };
            set_current_pcb(std::ptr::null());
            match result {
                CoroutineResult::Yield(Suspend::Migrate) => {
                    // The process found, on entering the runtime, that this thread lost the
                    // worker while it ran its own code: hand it to any worker, touching
                    // nothing of this one.
                    pcb.revoked.store(
                        super::handshake::NOT_REVOKED,
                        std::sync::atomic::Ordering::Release,
                    );
                    pcb.state.transition_to_runnable();
                    rt.sched.inject(p);
                    return false;
                }
                CoroutineResult::Return(Ending::StackOverflow)
                    if super::handshake::revoked_after_fault(pcb) =>
                {
                    // SAFETY: the trapped coroutine is done; owner-only field, and the
                    // process is still ours to hand on.
                    unsafe { pcb.set_exit(crate::ExitReason::error("stack_overflow")) };
                    pcb.state.transition_to_runnable();
                    rt.sched.inject(p);
                    return false;
                }
                _ => {}
            }
            self.stamp_run_ends();
            // Reductions spent in this run (the counter went down from where it started).
            // SAFETY: only the running worker touches `ctx` outside the process itself.
            let left = unsafe { (*pcb.ctx.get()).reductions };
            let spent = (slice_start - left).max(0) as u64;
            pcb.reductions
                .store(pcb.reductions.load(Relaxed) + spent, Relaxed);
            self.stats().reductions.add(spent);
            match result {
                CoroutineResult::Yield(Suspend::Yield) => {
                    pcb.state.transition_to_runnable();
                    self.queues[p.priority() as usize].push(p);
                    return true;
                }
                CoroutineResult::Yield(Suspend::Receive) => match pcb.state.transition_to_waiting()
                {
                    ToWaiting::Parked => return true,
                    ToWaiting::Notified => continue,
                },
                CoroutineResult::Yield(Suspend::Migrate) => unreachable!("handled above"),
                CoroutineResult::Yield(why @ (Suspend::Hibernate | Suspend::Restart)) => {
                    // SAFETY: it suspended hibernating, here, and is still ours.
                    unsafe { self.hibernated(p, why) };
                    return true;
                }
                CoroutineResult::Return(Ending::StackOverflow) => {
                    // SAFETY: the trapped coroutine is done; owner-only field.
                    unsafe {
                        pcb.set_exit(crate::ExitReason::error("stack_overflow"));
                        crate::process::exit::finish(&self.rt, pcb_ptr, Some(self), Some(guard));
                    }
                    return true;
                }
                CoroutineResult::Yield(Suspend::Exit)
                | CoroutineResult::Return(Ending::Returned) => {
                    // SAFETY: the process has stopped running for good and is owned by us.
                    unsafe {
                        crate::process::exit::finish(&self.rt, pcb_ptr, Some(self), Some(guard))
                    };
                    return true;
                }
            }
        }
    }

    /// After `p` suspended with `why`, `Suspend::Hibernate` or `Suspend::Restart`
    /// (`process/hibernate.rs`): discards its stack, then parks it as WAITING or, with a
    /// message queued (or one that came meanwhile), puts it at the back of its run queue,
    /// as a yield: it gets a new stack when it runs next ([`WorkerLocal::run`]), and a
    /// process that hibernates again and again with a message queued takes turns with the
    /// others instead of keeping the worker.
    ///
    /// # Safety
    /// `p` is the process this worker has just run, suspended with `why`.
    #[cold]
    #[inline(never)]
    unsafe fn hibernated(&self, p: ProcRef, why: Suspend) {
        // SAFETY: the contract: the process is live and ours.
        let pcb = unsafe { p.0.as_ref() };
        // SAFETY: it suspended hibernating, here, and is still ours.
        unsafe { self.rt.discard_stack(pcb, self) };
        if why == Suspend::Hibernate
            && matches!(pcb.state.transition_to_waiting(), ToWaiting::Parked)
        {
            return;
        }
        pcb.state.transition_to_runnable();
        self.queues[p.priority() as usize].push(p);
    }

    /// Parks until woken, or until the next timer is due. After some worker freed many
    /// message buffers (a drained flood), each worker has the allocator give its free
    /// memory back to the kernel once it has slept [`TRIM_QUIET_NS`] without work.
    fn park(&self) {
        let sched = &self.rt.sched;
        if self.searching.replace(false) && sched.idle.stop_searching() && sched.has_visible_work()
        {
            sched.notify_work();
        }
        let rt = &*self.rt;
        self.stats().parks.add(1);
        // A trim waits for a quiet worker: this sleep lasts at most `TRIM_QUIET_NS`, and the
        // trim follows if it ended without work. Trimming at every park, workers streaming
        // 64 KiB messages between two nodes trimmed every 25 ms and stalled what waited
        // for them (`docs/design.md`, "Memory after the flood").
        let epoch = sched.trim_epoch.load(std::sync::atomic::Ordering::Relaxed);
        let trim_from = (epoch != self.trimmed_epoch.get()).then(|| rt.now_ns());
        // Free process stacks that nobody took for a while give their pages back
        // (`stack.rs`, "Decay"); the next look bounds the sleep while any are left.
        let decay = rt
            .stacks
            .decay_if_due(|| rt.now_ns())
            .map(Duration::from_nanos);
        let woken = sched.idle.sleep(
            self.index,
            || sched.has_visible_work() || rt.is_shut_down(),
            || {
                let sleep = match self.wheel.borrow().next_expiry() {
                    // Items to move down ahead of time: no sleeping until they are.
                    Some(_) if self.wheel.borrow().precascade_pending() => Sleep::No,
                    Some(t) => {
                        let now = rt.now_ns();
                        let at = timer::tick_start_ns(t);
                        if at > now {
                            Sleep::For(Some(Duration::from_nanos(at - now)))
                        } else {
                            Sleep::No
                        }
                    }
                    None => Sleep::For(None),
                };
                let quiet = trim_from.map(|_| Duration::from_nanos(TRIM_QUIET_NS));
                let bound = decay.into_iter().chain(quiet).min();
                let sleep = match (sleep, bound) {
                    (Sleep::For(None), Some(d)) => Sleep::For(Some(d)),
                    (Sleep::For(Some(t)), Some(d)) => Sleep::For(Some(t.min(d))),
                    (s, _) => s,
                };
                if !self.sleep_in_poller(sleep) {
                    if let Sleep::For(t) = sleep {
                        self.parker.park(t);
                    }
                }
            },
        );
        if woken {
            self.searching.set(true); // the waker counted us as a searcher
        } else if let Some(from) = trim_from {
            // Quiet: nobody woke this worker for work, the poller found nothing, and the
            // sleep lasted the whole quiet time.
            if self.io_woken.borrow().is_empty()
                && !sched.has_visible_work()
                && rt.now_ns().saturating_sub(from) >= TRIM_QUIET_NS
            {
                self.trimmed_epoch.set(epoch);
                trim_allocator();
                if let Some(rss) = super::local::resident_bytes() {
                    sched
                        .trim_rss
                        .store(rss, std::sync::atomic::Ordering::Relaxed);
                }
                if self.trim_wakes.replace(false) {
                    // The sleeping workers trim their heaps too, each once quiet.
                    sched.unpark_all();
                }
            }
        }
        // Not asleep any more: the monitor may have parked meanwhile (`held::monitor_main`).
        sched.monitor.wake();
    }
}

/// Body of a worker thread: holds worker `index` (`None`: none yet) and runs its loop; if
/// the worker is taken over (`held`), waits as a spare until it is given another one.
pub(crate) fn thread_main(rt: Arc<RtInner>, mut index: Option<usize>) {
    crate::overflow::ensure_altstack();
    // Precise timeouts: without this, the kernel may delay our timed park by up to 50 µs.
    // SAFETY: prctl(PR_SET_TIMERSLACK) only changes this thread's timer slack.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
    while let Some(i) = index {
        let shared = &rt.sched.workers[i];

        let local = shared.local.load(Acquire);
        if local.is_null() {
            // Never: a worker is given to one thread at a time (`held::hand_over`) and freed
            // only by the thread holding it at shutdown. Checked, as a freed worker would
            // be run or freed twice.
            debug_assert!(false, "worker {i} handed over after it was freed");
            return;
        }
        // SAFETY: the worker's state lives until the thread holding it at shutdown frees it
        // (below); this thread holds it now (the monitor handed it over, or it is ours from
        // the start), and the previous holder touches it no more (`held` invariants).
        let w = unsafe { &*local };
        set_current_worker(w);
        let kept = w.run_loop();
        set_current_worker(std::ptr::null());
        if kept {
            // Shutdown: this thread holds the worker; free it.
            w.finish();
            shared
                .local
                .store(std::ptr::null_mut(), std::sync::atomic::Ordering::Release);
            // SAFETY: allocated by `RtInner::start` with Box::into_raw; no other thread
            // holds the worker, and the runtime's workers have stopped running processes.
            drop(unsafe { Box::from_raw(local) });
            return;
        }
        index = rt.sched.monitor.wait_for_worker(&rt);
    }
}

impl WorkerLocal {
    /// The worker loop. Returns true at shutdown, false when the thread lost the worker to
    /// a takeover (then it must not touch it again).
    fn run_loop(&self) -> bool {
        let mut guard = epoch::pin();
        loop {
            if self.rt.is_shut_down() {
                return true;
            }
            let tick = self.tick.get().wrapping_add(1);
            self.tick.set(tick);
            // A quiescent point: PCBs freed before it may be reclaimed once every worker
            // passed one. Every few ticks is enough (reclamation only waits a little longer).
            if tick.is_multiple_of(REPIN_INTERVAL) {
                guard.repin();
            }
            // A busy worker's look at the poller (`poll.rs`): without sockets one relaxed
            // load, with sockets a clock read.
            self.poll_if_due();
            if tick.is_multiple_of(FLUSH_INTERVAL) {
                guard.flush();
                // The next pass over active sockets with data left (`poll.rs`).
                self.deliver_more();
                // Free stacks decay while every worker is busy too (`stack.rs`,
                // "Decay"); with nothing waiting to decay one relaxed load.
                let rt = &*self.rt;
                rt.stacks.decay_if_due(|| rt.now_ns());
            }
            self.take_timer_inbox();
            self.poll_timers();
            if let Some(p) = self.next_local().or_else(|| self.search()) {
                self.stop_searching();
                if !self.run(p, &guard) {
                    return false;
                }
                continue;
            }
            // Active sockets with data left come before sleeping.
            if self.has_more_io() {
                self.deliver_more();
                continue;
            }
            // Nothing to do: unpin (so reclamation can proceed) and sleep.
            drop(guard);
            self.park();
            guard = epoch::pin();
            self.wake_polled(true);
        }
    }

    /// Shutdown, on the thread holding the worker: drops the pending user timers on its
    /// wheel with their messages and returns its cached stacks.
    fn finish(&self) {
        for what in self.wheel.borrow_mut().drain() {
            if let Fire::User { index, gen } = what {
                let mut cache = self.timer_slots.borrow_mut();
                if let crate::timer::user::Due::Deliver(m, _) =
                    self.rt
                        .timers
                        .due(index, gen, Some(&mut cache), self as *const WorkerLocal)
                {
                    // SAFETY: the timer handed its unsent message to us.
                    unsafe { crate::mailbox::Msg::free(m.as_ptr()) };
                }
            }
        }
        let cache = std::mem::take(&mut *self.stack_cache.borrow_mut());
        self.rt.stacks.default_pool().free_limits(cache.into_iter());
    }
}

/// Asks the allocator to return its free memory to the kernel, when a worker goes idle
/// after some worker freed at least `TRIM_AFTER_FREED_BYTES` (`local.rs`) (it walks the heap:
/// milliseconds for a GB).
/// - mimalloc (the `mimalloc` feature, the default): `mi_collect(true)` frees this
///   thread's empty pages and purges them; pages freed by other threads are collected by
///   their owner, hence every worker trims.
/// - glibc malloc (`--no-default-features`): it keeps memory freed below the top of a heap
///   (a drained mailbox's buffers) in its arenas for good; `malloc_trim(0)` releases the
///   free pages of every arena (`madvise(MADV_DONTNEED)`).
fn trim_allocator() {
    #[cfg(feature = "mimalloc")]
    // SAFETY: `mi_collect` has no preconditions; it works on the calling thread's heap.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    #[cfg(all(not(feature = "mimalloc"), target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` has no preconditions; it only takes the arenas' locks.
    unsafe {
        libc::malloc_trim(0);
    }
}
