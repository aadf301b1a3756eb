//! The state the held-worker monitor (`held.rs`) shares with the workers: its parker,
//! the spare threads waiting for a worker, the takeover counters.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::Arc;

/// State the monitor shares with the workers.
#[derive(Debug, Default)]
pub(crate) struct Monitor {
    /// Parked because no worker was running a process; a worker that starts running
    /// processes after a park wakes it.
    pub(crate) parked: AtomicBool,
    /// The monitor thread's parker and its unparker (taken by the monitor at start).
    pub(super) parker: parking_lot::Mutex<Option<super::park::Parker>>,
    pub(super) unparker: std::sync::OnceLock<super::park::Unparker>,
    /// Workers taken over so far.
    pub(crate) takeovers: AtomicU64,
    /// Spare threads: each waits in [`Monitor::wait_for_worker`] for a worker to hold.
    pub(super) spares: parking_lot::Mutex<Vec<Arc<Spare>>>,
    /// Threads started by takeovers (they join the runtime's thread list).
    pub(crate) extra_threads: AtomicUsize,
    /// Workers taken over for which no thread could be started yet.
    pub(super) orphans: parking_lot::Mutex<Vec<usize>>,
    /// Set by shutdown: the monitor returns.
    pub(crate) stop: AtomicBool,
}

#[derive(Debug)]
pub(super) struct Spare {
    pub(super) given: parking_lot::Mutex<Option<usize>>,
    pub(super) cv: parking_lot::Condvar,
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
        let (p, u) = super::park::Parker::new(None);
        *self.parker.lock() = Some(p);
        let _ = self.unparker.set(u);
    }

    /// Wakes the monitor thread (or makes its next park return at once).
    pub(crate) fn unpark(&self) {
        if let Some(u) = self.unparker.get() {
            u.unpark();
        }
    }

    /// Wakes every spare thread (shutdown).
    pub(crate) fn wake_spares(&self) {
        for s in self.spares.lock().iter() {
            let _g = s.given.lock();
            s.cv.notify_one();
        }
    }
}
