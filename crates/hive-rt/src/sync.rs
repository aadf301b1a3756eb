//! Atomics used by the lock-free protocols, swappable for loom's model-checked versions.
//!
//! Every atomic that takes part in a wake-up protocol (the process state word, the mailbox
//! outer queue, the idle-worker counters) goes through this module, so that the loom
//! models in `src/tests/` (built with `RUSTFLAGS="--cfg loom"`) exercise the same code.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicUsize};
