//! The held-worker takeover handshake (`sched/held.rs`), model-checked.
//!
//! A holder thread alternates process code and runtime code with the real
//! `ThreadSlot::lower` / `ThreadSlot::raise`, and touches "its worker" (a loom `UnsafeCell`,
//! which reports any unsynchronised concurrent access) only when `raise` said it still holds
//! it. The monitor runs the real `ThreadSlot::try_revoke` and, when it revokes, uses the
//! worker as its new holder would. Loom cannot model membarrier: the model gives both sides
//! the SeqCst fence membarrier provides between them (`holder_fence`, and the monitor's
//! `barrier` closure). The model fails on a data race on the worker (both sides using it),
//! or if the holder keeps using the worker after a revocation it was told about.

use loom::cell::UnsafeCell;
use loom::sync::atomic::{fence, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

use super::model;
use crate::sched::held::ThreadSlot;

#[test]
fn loom_a_revoked_worker_is_never_used_by_its_old_holder() {
    model(|| {
        let slot = Arc::new(ThreadSlot::new());
        let worker = Arc::new(UnsafeCell::new(0u32));
        let holder = {
            let slot = slot.clone();
            let worker = worker.clone();
            thread::spawn(move || {
                for _ in 0..2 {
                    // Process code (the worker is not touched)...
                    slot.lower();
                    // ...then a runtime call.
                    if slot.raise() {
                        return; // lost the worker: the process moves elsewhere
                    }
                    // SAFETY (model): the holder uses the worker while it holds it.
                    worker.with_mut(|w| unsafe { *w += 1 });
                }
            })
        };
        let revoked = slot.try_revoke(
            || {
                fence(SeqCst);
                true
            },
            || true,
        );
        if revoked {
            // The new holder uses the worker.
            // SAFETY (model): the revocation gave the monitor the worker.
            worker.with_mut(|w| unsafe { *w += 100 });
        }
        holder.join().unwrap();
    });
}

#[test]
fn loom_a_declined_revocation_leaves_the_holder_in_charge() {
    model(|| {
        let slot = Arc::new(ThreadSlot::new());
        let holder = {
            let slot = slot.clone();
            thread::spawn(move || {
                slot.lower();
                let lost = slot.raise();
                slot.lower();
                lost
            })
        };
        // The holder's run changed meanwhile (`same_run` false): never a revocation, and
        // the holder never reads one.
        let revoked = slot.try_revoke(
            || {
                fence(SeqCst);
                true
            },
            || false,
        );
        assert!(!revoked);
        assert!(!holder.join().unwrap());
    });
}
