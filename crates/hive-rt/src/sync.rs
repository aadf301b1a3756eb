//! Synchronisation primitives used by the lock-free protocols, swappable for loom's
//! model-checked versions.
//!
//! Every atomic and lock that takes part in a wake-up protocol (the process state word, the
//! mailbox outer queue, the idle-worker counters and sleeper list) goes through this module,
//! so that the loom models in `src/tests/` (built with `RUSTFLAGS="--cfg loom"`, run by
//! `make loom`) exercise the same code the runtime runs.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    fence, AtomicI64, AtomicIsize, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize,
};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    fence, AtomicI64, AtomicIsize, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize,
};

/// A mutex with parking_lot's interface (no poisoning).
#[derive(Debug, Default)]
pub(crate) struct Mutex<T>(
    #[cfg(not(loom))] parking_lot::Mutex<T>,
    #[cfg(loom)] loom::sync::Mutex<T>,
);

impl<T> Mutex<T> {
    pub(crate) fn new(v: T) -> Mutex<T> {
        #[cfg(not(loom))]
        return Mutex(parking_lot::Mutex::new(v));
        #[cfg(loom)]
        return Mutex(loom::sync::Mutex::new(v));
    }

    #[cfg(not(loom))]
    pub(crate) fn lock(&self) -> parking_lot::MutexGuard<'_, T> {
        self.0.lock()
    }

    #[cfg(loom)]
    pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
        self.0.lock().expect("loom mutex")
    }
}
