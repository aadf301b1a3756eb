//! Cross-worker timer cancellation (`timer/user.rs`), model-checked.
//!
//! Interleavings explored: a timer set on its home worker (this thread) is cancelled from
//! another thread while the home's wheel finds it due and fires it. The real `cancel` reads
//! the slot, then CASes ACTIVE → CANCELED; the real `due` CASes ACTIVE → FIRED, takes or
//! frees the payload and returns the slot to the free list. Loom runs every interleaving of
//! those atomics. The model fails unless exactly one side wins (a delivered message or a
//! successful cancel, never both, never neither), the pending count returns to zero, and a
//! cancel with the stale reference afterwards does nothing, also once the slot has been
//! reused by a new timer.

use loom::sync::Arc;
use loom::thread;

use super::model;

use crate::mailbox::{MessageKind, Msg};
use crate::pid::Pid;
use crate::timer::user::{Dest, Due, SlotCache, Timers};

#[test]
fn loom_cancel_from_another_worker_and_firing_exclude_each_other() {
    model(|| {
        let ts = Arc::new(Timers::with_capacity(2, 4));
        let mut cache = SlotCache::default();
        let t = ts
            .create(
                Some(&mut cache),
                5_000_000_000,
                Dest::Pid(Pid(7)),
                b"x",
                MessageKind::Data,
                std::ptr::null(),
            )
            .unwrap();
        let canceller = {
            let ts = ts.clone();
            let tref = t.tref;
            thread::spawn(move || ts.cancel(tref, 0, |_| true, None))
        };
        // The home worker: the timer came due.
        let delivered = match ts.due(t.index, t.gen, Some(&mut cache), std::ptr::null()) {
            Due::Deliver(m, _) => {
                // SAFETY: the firing handed us the message.
                unsafe { Msg::free(m.as_ptr()) };
                true
            }
            Due::Nothing => false,
        };
        let cancelled = canceller.join().unwrap().is_some();
        assert!(
            delivered != cancelled,
            "delivered {delivered}, cancelled {cancelled}"
        );
        assert_eq!(ts.pending(), 0);
        // The slot is free again; a new timer may take it; the old reference stays dead.
        let t2 = ts
            .create(
                Some(&mut cache),
                5_000_000_000,
                Dest::Pid(Pid(7)),
                b"y",
                MessageKind::Data,
                std::ptr::null(),
            )
            .unwrap();
        assert_eq!(
            ts.cancel(t.tref, 0, |_| true, None),
            None,
            "stale reference"
        );
        assert_eq!(ts.cancel(t2.tref, 0, |_| true, None), Some(5000));
    });
}
