//! Idle workers going to sleep while work is pushed (`sched/idle.rs`), model-checked.
//!
//! Interleavings explored: a producer pushes one unit of work (a SeqCst store standing for
//! a run-queue push) and calls `worker_to_notify`, racing a worker that finds no work and
//! runs the real `Idle::sleep` sequence (announce, SeqCst fence, re-check, park, withdraw)
//! with loom's park. The model fails if the worker sleeps forever while the work is
//! visible (a lost wake-up: loom reports the deadlock), or if the searching/sleeping
//! counters do not return to zero (the leak that once stopped all work stealing).

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

use super::model;

use crate::sched::Idle;

#[test]
fn loom_sleeping_worker_is_always_woken_for_new_work() {
    model(|| {
        let idle = Arc::new(Idle::new(2));
        let work = Arc::new(AtomicUsize::new(0));
        let worker = {
            let idle = idle.clone();
            let work = work.clone();
            thread::spawn(move || {
                let mut searching = false;
                loop {
                    // (A CAS rather than `swap`: loom 0.7 let a `swap` here read a value older
                    // than one that happens-before it, a false deadlock.)
                    if work.compare_exchange(1, 0, SeqCst, SeqCst).is_ok() {
                        // Found work: leave the searching state (as the run loop does).
                        if searching {
                            idle.stop_searching();
                        }
                        return;
                    }
                    if idle.sleep(0, || work.load(SeqCst) == 1, thread::park) {
                        searching = true;
                    }
                }
            })
        };
        work.store(1, SeqCst);
        if idle.worker_to_notify().is_some() {
            worker.thread().unpark();
        }
        worker.join().unwrap();
        assert_eq!(idle.num_searching.load(SeqCst), 0);
        assert_eq!(idle.num_sleeping.load(SeqCst), 0);
    });
}
