//! The held-worker takeover handshake (`sched/held.rs`), model-checked.
//!
//! A process thread alternates its own code and runtime code with the real
//! `Handshake::lower` / `Handshake::raise`, and touches "its worker" (a loom `UnsafeCell`,
//! which reports any unsynchronised concurrent access) only when `raise` said its thread
//! still holds it. The monitor runs the real `Handshake::try_revoke` and, when it revokes,
//! uses the worker as its new holder would. Loom cannot model membarrier: the model gives
//! both sides the SeqCst fence membarrier provides between them (`holder_fence`, and the
//! monitor's `barrier` closure). The model fails on a data race on the worker (both sides
//! using it), or if the process's thread keeps using the worker after a revocation it was
//! told about.

use loom::cell::UnsafeCell;
use loom::sync::atomic::{fence, AtomicU8, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

use super::model;
use crate::process::pcb::OWN_IN_RT;
use crate::sched::handshake::{Handshake, NOT_REVOKED};

/// The two handshake bytes of one PCB.
struct Words {
    own: AtomicU8,
    revoked: AtomicU8,
}

impl Words {
    fn new() -> Words {
        Words {
            own: AtomicU8::new(OWN_IN_RT),
            revoked: AtomicU8::new(NOT_REVOKED),
        }
    }

    fn h(&self) -> Handshake<'_> {
        Handshake {
            own: &self.own,
            revoked: &self.revoked,
        }
    }
}

fn barrier() -> bool {
    fence(SeqCst);
    true
}

#[test]
fn loom_a_revoked_worker_is_never_used_by_its_old_holder() {
    model(|| {
        let words = Arc::new(Words::new());
        let worker = Arc::new(UnsafeCell::new(0u32));
        let holder = {
            let words = words.clone();
            let worker = worker.clone();
            thread::spawn(move || {
                for _ in 0..2 {
                    // The process's own code (the worker is not touched)...
                    words.h().lower();
                    // ...then a runtime call.
                    if words.h().raise() {
                        return; // lost the worker: the process moves elsewhere
                    }
                    // SAFETY (model): the thread uses the worker while it holds it.
                    worker.with_mut(|w| unsafe { *w += 1 });
                }
            })
        };
        if words.h().try_revoke(barrier, || true) {
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
        let words = Arc::new(Words::new());
        let holder = {
            let words = words.clone();
            thread::spawn(move || {
                words.h().lower();
                let lost = words.h().raise();
                words.h().lower();
                lost
            })
        };
        // The run changed meanwhile (`same_run` false): never a revocation, and the process
        // never reads one.
        assert!(!words.h().try_revoke(barrier, || false));
        assert!(!holder.join().unwrap());
    });
}
