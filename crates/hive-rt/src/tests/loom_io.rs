//! Process I/O's wake-ups, model-checked.
//!
//! **Readiness against waiting** (`io/slot.rs`): a process runs the loop of
//! `io::socket::wait_io` on the real [`Slot`] — forget the edge, try the operation (a flag
//! standing for the kernel's receive buffer), join the queue and read the readiness
//! (`wait_step`), suspend — while the poller makes data arrive and runs the real
//! `on_ready` (set the bit, wake the head). Suspending is the state word's semantics: a
//! wake that lands before the suspend makes it return at once. A lost wake-up leaves the
//! process suspended with the data there: loom reports the deadlock.
//!
//! **The parker's poller state** (`sched/park.rs`): a worker that found no work waits in
//! the poller through the real `Parker::park_in_driver` (EMPTY → IN_DRIVER, poll, back),
//! while a producer makes work visible and runs the real `Unparker::unpark` (NOTIFIED;
//! the poller's waker when it found IN_DRIVER). The poll blocks until its eventfd stand-in
//! is written; a lost wake-up spins forever and loom fails the model. (The model's own
//! flags use CAS, not `swap`: loom 0.7 let a `swap` read a value older than one that
//! happens-before it, a false deadlock; see `loom_idle.rs`.)

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

use super::model;

use crate::io::slot::{Dir, Kind, Slot, Step, READABLE};
use crate::pid::Pid;
use crate::sched::park::Parker;

#[test]
fn loom_a_process_waiting_for_readiness_is_always_woken() {
    model(|| {
        let slot = Arc::new(Slot::default());
        let gen = slot.open(3, Kind::Stream, Pid(1));
        let data = Arc::new(AtomicBool::new(false));
        // The waiter's state word, reduced to its NOTIFIED bit.
        let notified = Arc::new(AtomicUsize::new(0));
        let me = Pid(7);
        let waiter = {
            let (slot, data, notified) = (slot.clone(), data.clone(), notified.clone());
            thread::spawn(move || loop {
                slot.ready.fetch_and(!READABLE, SeqCst);
                if data.compare_exchange(true, false, SeqCst, SeqCst).is_ok() {
                    slot.leave(Dir::Read, me);
                    return;
                }
                if slot.wait_step(Dir::Read, me, gen) == Step::Retry {
                    continue;
                }
                // Suspend: returns at once if a wake came first.
                while notified.compare_exchange(1, 0, SeqCst, SeqCst).is_err() {
                    thread::park();
                }
            })
        };
        data.store(true, SeqCst);
        if let [Some(p), _] = slot.on_ready(READABLE) {
            assert_eq!(p, me);
            notified.store(1, SeqCst);
            waiter.thread().unpark();
        }
        waiter.join().unwrap();
        assert!(!data.load(SeqCst), "the waiter took the data");
    });
}

#[test]
fn loom_a_worker_waiting_in_the_poller_is_woken_by_new_work() {
    model(|| {
        let eventfd = Arc::new(AtomicBool::new(false));
        let waker = {
            let e = eventfd.clone();
            std::sync::Arc::new(move || e.store(true, SeqCst)) as crate::sched::park::Waker
        };
        let (parker, unparker) = Parker::new(Some(waker));
        let work = Arc::new(AtomicBool::new(false));
        let worker = {
            let (work, eventfd) = (work.clone(), eventfd.clone());
            thread::spawn(move || {
                // The idle loop: look for work, else wait in the poller.
                while !work.load(SeqCst) {
                    parker.park_in_driver(|block| {
                        if block {
                            while eventfd
                                .compare_exchange(true, false, SeqCst, SeqCst)
                                .is_err()
                            {
                                thread::yield_now();
                            }
                        }
                    });
                }
            })
        };
        work.store(true, SeqCst);
        unparker.unpark();
        worker.join().unwrap();
    });
}
