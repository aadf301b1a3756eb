//! Synchronisation primitives used by the lock-free protocols, swappable for loom's
//! model-checked versions.
//!
//! Every atomic and lock that takes part in a wake-up protocol (the process state word, the
//! mailbox outer queue, the idle-worker counters and sleeper list) goes through this module,
//! so that the loom models in `src/tests/` (built with `RUSTFLAGS="--cfg loom"`, run by
//! `make loom`) exercise the same code the runtime runs. Also here: [`prefetch`], the one
//! cache hint the mailbox and the scheduler use.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    fence, AtomicI32, AtomicI64, AtomicIsize, AtomicPtr, AtomicU32, AtomicU64, AtomicU8,
    AtomicUsize,
};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    fence, AtomicI32, AtomicI64, AtomicIsize, AtomicPtr, AtomicU32, AtomicU64, AtomicU8,
    AtomicUsize,
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

/// Asks the CPU to load the cache line holding `addr`. Never faults and changes nothing
/// (any address is fine, also one no longer mapped); a no-op where there is no intrinsic.
#[inline(always)]
pub(crate) fn prefetch(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` is a hint: it does not access memory architecturally, so it cannot
    // fault or race; SSE is part of the x86_64 baseline.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(addr as *const i8)
    };
    #[cfg(target_arch = "aarch64")]
    // SAFETY: `prfm` is a hint: it cannot fault, and it reads no register but `addr`.
    unsafe {
        std::arch::asm!("prfm pldl1keep, [{0}]", in(reg) addr, options(nostack, preserves_flags, readonly))
    };
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let _ = addr;
}

/// Waits a moment for a sender that swapped the mailbox tail to link its message (a few
/// instructions, unless the OS preempted it): spins, then yields the thread.
pub(crate) fn wait_for_link(spins: &mut u32) {
    *spins += 1;
    if *spins > 64 {
        std::thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}
