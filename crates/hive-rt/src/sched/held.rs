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
//!   from process code sets it on entry and clears it on return ([`enter`](super::enter)); the runtime
//!   clears it around the process code it calls itself (the entry function, a terminate
//!   callback).
//! - `Pcb::revoked` (written by the monitor, and reset by the process's old thread):
//!   [`NOT_REVOKED`](super::handshake::NOT_REVOKED), [`TRYING`](super::handshake::TRYING) (the monitor is deciding) or [`REVOKED`](super::handshake::REVOKED) (the thread running
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
//!    code in the same run, it stores `REVOKED`, ends that run on the worker (`release`:
//!    stamp even, `running` null) and hands the worker to a spare thread; otherwise it
//!    stores `NOT_REVOKED` back.
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
//! - A worker's stamp is odd only while the thread holding it runs a process: every
//!   hand-over (a takeover or a blocking hand-off) first ends the run it interrupts. So the
//!   monitor never judges a worker by a run that went on elsewhere, and never takes a
//!   worker from a thread that holds it rightly.
//!
//! Without `membarrier` (Linux < 4.14, or a sandbox that forbids it) no takeover happens:
//! the monitor is not started and held workers behave as before (documented limit).
//!
//! A process's own code between two runtime calls cannot be interrupted: the process keeps
//! its thread; it only leaves the worker. Its next runtime call continues elsewhere.

use std::sync::atomic::Ordering;
use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::sync::Arc;
use std::time::Duration;

use super::handshake::{membarrier, Handshake, NOT_REVOKED, REVOKED};
use super::local::WorkerLocal;
use super::spares::{Monitor, Spare};
use crate::process::pcb::Pcb;
use crate::runtime::RtInner;

/// A process that keeps its worker this long (ns) without returning to the runtime loses
/// the worker to another thread.
pub(crate) const HELD_NS: u64 = 10_000_000;
/// How often (ns) the monitor looks at the workers while any of them is busy.
const MONITOR_PERIOD_NS: u64 = 2_000_000;

// --- the monitor ---------------------------------------------------------------------

impl Monitor {
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

    /// Gives worker `index` to a spare thread, or starts a new thread for it, calling
    /// `release` first (see [`release`]). If no thread can be started the worker waits in
    /// `orphans` for the next spare (a thread that loses its worker) or the monitor's next
    /// round. False, with nothing done, once the runtime is shutting down: the caller keeps
    /// the worker (shutdown joins only the threads it knows of, and frees each worker on the
    /// thread that holds it).
    pub(crate) fn hand_over(
        &self,
        rt: &Arc<RtInner>,
        index: usize,
        release: impl FnOnce(),
    ) -> bool {
        let spare = self.spares.lock().pop();
        if let Some(spare) = spare {
            let mut given = spare.given.lock();
            // Checked under `given`: a spare leaves only after it saw the shutdown under
            // this lock, and then this sees it too, so no worker is given to a spare that
            // has left.
            if rt.is_shut_down() {
                return false;
            }
            release();
            *given = Some(index);
            spare.cv.notify_one();
            return true;
        }
        // Checked under the thread list: shutdown sets the flag, then takes the list to
        // join it, so a thread pushed here is joined.
        let mut threads = rt.threads.lock();
        if rt.is_shut_down() {
            return false;
        }
        release();
        let rt2 = rt.clone();
        let n = self.extra_threads.fetch_add(1, Relaxed);
        let spawned = std::thread::Builder::new()
            .name(format!("hive-worker-x{n}"))
            .spawn(move || super::worker::thread_main(rt2, Some(index)));
        match spawned {
            Ok(h) => threads.push(h),
            Err(_) => self.orphans.lock().push(index),
        }
        true
    }
}

/// Ends the run of the process that held worker `w`, as the monitor sees it, before `w`
/// goes to another thread: the stamp moves to even and `running` to null. The old thread no
/// longer touches `w` (it lost it) and the new one has not started, so nothing else writes
/// them now. Without this the stamp would stay odd and unchanged, naming the old process,
/// until the new thread ran a process on `w`: once that process, moved to another worker,
/// ran its own code again, the monitor would take `w` from the thread holding it now and
/// give it to a second one.
fn release(w: &WorkerLocal) {
    if w.stamp.load(Relaxed) & 1 == 1 {
        w.stamp_run_ends();
    }
    w.running.store(std::ptr::null_mut(), Ordering::Release);
}

/// A blocking call announced by the process itself (`hive_blocking_begin`): the calling
/// process `pcb`, in runtime code on worker `w`, gives `w` to another thread at once
/// instead of holding it until the monitor notices (Go's `entersyscallblock` hand-off). It
/// revokes its own thread's worker — the monitor's step 3 with no race to decide, as the
/// process itself is the one that will next enter the runtime — and hands `w` over as a
/// takeover does. When the process next enters the runtime (`hive_blocking_end`, or any
/// call) it finds its thread revoked and moves to a worker (`Suspend::Migrate`); its old
/// thread becomes a spare. Counted in `RuntimeStats::takeovers`.
pub(crate) fn hand_off_for_blocking(pcb: &Pcb, w: &WorkerLocal) {
    let h = Handshake::of(pcb);
    debug_assert!(h.in_rt(), "hand-off from outside runtime code");
    loop {
        match h
            .revoked
            .compare_exchange(NOT_REVOKED, REVOKED, Ordering::AcqRel, Acquire)
        {
            Ok(_) => break,
            // Revoked already: impossible in runtime code (the entry would have moved the
            // process); leave the worker to the monitor's hand-over.
            Err(REVOKED) => {
                debug_assert!(false, "revoked while in runtime code");
                return;
            }
            // The monitor is deciding: it sees the process in runtime code and declines.
            Err(_) => {
                h.verdict();
            }
        }
    }
    if w.rt.sched.monitor.hand_over(&w.rt, w.index, || release(w)) {
        w.rt.sched.monitor.takeovers.fetch_add(1, Relaxed);
    } else {
        // Shutting down: the process keeps its worker through the section.
        h.revoked.store(NOT_REVOKED, Ordering::Release);
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
            // The monitor stops before shutdown begins: this hands over.
            sched.monitor.hand_over(&rt, i, || {});
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
            // A takeover ends the run (`release`): the next round sees an even stamp.
            if now.saturating_sub(seen[i].1) >= HELD_NS {
                take_over(&rt, i, stamp);
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
    // The monitor stops before shutdown begins: this hands over.
    rt.sched.monitor.hand_over(rt, index, || release(local));
    true
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering::Acquire;

    use crate::{process, Config, Runtime};

    /// After a blocking hand-off the worker shows no run of the process that gave it away:
    /// its stamp is even and `running` does not name that process. (With the stamp left
    /// odd, the monitor took the worker a second time once the process ran its own code on
    /// another worker: two threads then ran one worker's loop.)
    #[test]
    fn a_blocking_hand_off_ends_the_run_on_the_worker() {
        let rt = Runtime::new(Config {
            schedulers: 1,
            ..Config::default()
        })
        .expect("runtime starts");
        let inner = rt.inner.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        rt.spawn(move || {
            let me = crate::sched::current_pcb();
            let seen = process::blocking(|| {
                let local = inner.sched.workers[0].local.load(Acquire);
                // SAFETY: a worker's state lives until shutdown; both fields are atomics.
                unsafe { ((*local).stamp.load(Acquire), (*local).running.load(Acquire)) }
            })
            .unwrap();
            tx.send((seen.0, std::ptr::eq(seen.1.cast_const(), me)))
                .unwrap();
        })
        .unwrap();
        let (stamp, names_me) = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the process reports");
        assert!(rt.stats().takeovers >= 1, "the worker was handed off");
        // Only this process exists: the thread that took the worker is idle.
        assert_eq!(stamp & 1, 0, "the hand-off ended the run on the worker");
        assert!(!names_me, "the worker no longer names the process");
        rt.shutdown();
    }
}
