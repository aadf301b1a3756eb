//! The mailbox wake-up handshake (`process/state.rs`) with the outer queue
//! (`mailbox/outer.rs`), model-checked.
//!
//! Interleavings explored: two senders each append one message (Vyukov queue: tail swap,
//! then link) and call `notify`, racing the owner's cycle "transition_to_running → take
//! messages (a half-linked message reads as empty) →
//! transition_to_waiting → (if Parked) wait to be scheduled". Loom runs every ordering of
//! those atomic operations (and every value the Acquire/Release orderings allow each load
//! to see). The model fails if the owner waits forever with a message queued (a lost
//! wake-up: loom reports the deadlock), if a message is lost or duplicated, or if a
//! process is scheduled twice.

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

use super::model;

use crate::mailbox::{InnerQueue, Msg, OuterQueue};
use crate::pid::Pid;
use crate::process::state::{Notify, StateWord, ToWaiting};

struct Proc {
    outer: OuterQueue,
    state: StateWord,
    /// How many notifiers won the right to schedule the process.
    schedules: AtomicUsize,
}

#[test]
fn loom_wake_handshake_never_loses_a_message() {
    model(|| {
        let mut p = Arc::new(Proc {
            outer: OuterQueue::new(),
            state: StateWord::new(),
            schedules: AtomicUsize::new(0),
        });
        Arc::get_mut(&mut p).unwrap().outer.init();
        let owner = thread::current();
        let senders: Vec<_> = (0..2u8)
            .map(|i| {
                let p = p.clone();
                let owner = owner.clone();
                thread::spawn(move || {
                    let m = Msg::with_data(&[i], Pid::NONE, std::ptr::null()).unwrap();
                    p.outer.push(m);
                    if p.state.notify() == Notify::Schedule {
                        p.schedules.fetch_add(1, SeqCst);
                        owner.unpark();
                    }
                })
            })
            .collect();

        let mut inner = Box::new(InnerQueue::new());
        inner.init(&p.outer);
        let mut got = Vec::new();
        let mut seen_schedules = 0;
        p.state.transition_to_running();
        loop {
            // SAFETY: this thread is the queue's single consumer.
            unsafe { inner.fetch(&p.outer, usize::MAX) };
            while let Some(m) = inner.pop() {
                // SAFETY: one-byte messages we now own.
                got.push(unsafe { *Msg::payload(m.as_ptr()) });
                // SAFETY: `m` was popped from the queue by its single consumer, so this thread owns it
                // and does not use it again.
                unsafe { Msg::free(m.as_ptr()) };
            }
            if got.len() == 2 {
                break;
            }
            match p.state.transition_to_waiting() {
                ToWaiting::Notified => continue,
                ToWaiting::Parked => {
                    // Wait until a notifier schedules us (loom flags a deadlock if none does).
                    while p.schedules.load(SeqCst) == seen_schedules {
                        thread::park();
                    }
                    seen_schedules += 1;
                    p.state.transition_to_running();
                }
            }
        }
        for s in senders {
            s.join().unwrap();
        }
        got.sort();
        assert_eq!(got, vec![0, 1], "each message received exactly once");
        // Every schedule corresponds to one WAITING period of ours: never two per wait.
        assert_eq!(p.schedules.load(SeqCst), seen_schedules);
        inner.clear();
    });
}
