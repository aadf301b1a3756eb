//! Idle workers: searching, sleeping, and waking without lost wake-ups.
//!
//! After tokio's `scheduler/multi_thread/idle.rs` and the StoreLoad rule of Go's scheduler
//! and rayon's `sleep/README.md`:
//!
//! - A worker out of local work becomes a **searcher** (at most half the workers search at
//!   once) and tries to steal. The last searcher to find work wakes another worker, since
//!   there may be more.
//! - A worker that found nothing **announces** itself as a sleeper (`num_sleeping += 1`,
//!   its id in `sleepers`), issues a SeqCst fence, and **re-checks** every queue before it
//!   parks.
//! - A producer that makes work visible (`notify_work`) first pushes it, then issues a
//!   SeqCst fence, then reads `num_searching` and `num_sleeping`; it wakes a sleeper only if
//!   nobody is searching.
//!
//! **Why no wake-up is lost.** The two fences are totally ordered. If the producer's fence
//! comes first, the sleeper's re-check (after its own fence) sees the pushed work. If the
//! sleeper's comes first, the producer sees `num_sleeping > 0`, or sees `num_searching > 0`
//! — and a searcher that the producer counted on has not yet passed its own fence, so its
//! re-check sees the work. Parking uses the worker's `park::Parker`, whose token makes an unpark
//! that lands before the park harmless.

use std::sync::atomic::Ordering::SeqCst;

use crate::sync::{AtomicUsize, Mutex};

/// Counters and the list of sleeping workers.
#[derive(Debug)]
pub(crate) struct Idle {
    pub(crate) num_searching: AtomicUsize,
    pub(crate) num_sleeping: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    workers: usize,
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Idle {
        Idle {
            num_searching: AtomicUsize::new(0),
            num_sleeping: AtomicUsize::new(0),
            sleepers: Mutex::new(Vec::with_capacity(workers)),
            workers,
        }
    }

    /// Tries to become a searcher; false when half the workers already search.
    pub(crate) fn start_searching(&self) -> bool {
        let n = self.num_searching.load(SeqCst);
        if 2 * n >= self.workers {
            return false;
        }
        self.num_searching.fetch_add(1, SeqCst);
        true
    }

    /// Stops searching; returns true when this was the last searcher.
    pub(crate) fn stop_searching(&self) -> bool {
        self.num_searching.fetch_sub(1, SeqCst) == 1
    }

    /// The whole sleep sequence of worker `id`: announce, re-check with `has_work`, `park`
    /// (which may return spuriously or on timeout), withdraw. Returns true when a waker
    /// woke us, in which case we now count as a searcher.
    pub(crate) fn sleep(
        &self,
        id: usize,
        has_work: impl Fn() -> bool,
        park: impl FnOnce(),
    ) -> bool {
        self.announce_sleep(id);
        if !has_work() {
            park();
        }
        !self.cancel_sleep(id)
    }

    /// Announces `id` as a sleeper. The caller must re-check the queues afterwards.
    fn announce_sleep(&self, id: usize) {
        self.sleepers.lock().push(id);
        self.num_sleeping.fetch_add(1, SeqCst);
        // StoreLoad: the announcement is visible before the caller re-reads the queues.
        crate::sync::fence(SeqCst);
    }

    /// Withdraws `id` from the sleepers. Returns false when a waker already took it out
    /// (the waker then counted it as a searcher).
    fn cancel_sleep(&self, id: usize) -> bool {
        let mut s = self.sleepers.lock();
        match s.iter().position(|&x| x == id) {
            Some(i) => {
                s.swap_remove(i);
                self.num_sleeping.fetch_sub(1, SeqCst);
                true
            }
            None => false,
        }
    }

    /// Producer side, after making work visible: picks a sleeper to wake, if any and if
    /// nobody is searching. The returned worker is counted as searching.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        // StoreLoad: the caller's push is visible before we read the counters.
        crate::sync::fence(SeqCst);
        if self.num_searching.load(SeqCst) != 0 || self.num_sleeping.load(SeqCst) == 0 {
            return None;
        }
        let mut s = self.sleepers.lock();
        let id = s.pop()?;
        self.num_sleeping.fetch_sub(1, SeqCst);
        self.num_searching.fetch_add(1, SeqCst);
        Some(id)
    }
}
