//! The process side of the held-worker takeover (`held.rs` has the protocol): a process
//! entering the runtime from its own code ([`enter_pcb`], [`InRuntime`]) and leaving it
//! for its own code, and the two PCB bytes of the handshake ([`Handshake`]), which the
//! loom model `src/tests/loom_held.rs` runs as they are.

use std::sync::atomic::Ordering;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use crate::process::pcb::{Pcb, OWN_IN_RT};
use crate::sync::AtomicU8;

/// `Pcb::revoked`: the process's thread holds its worker.
pub(crate) const NOT_REVOKED: u8 = 0;
/// `Pcb::revoked`: the monitor is deciding whether to take the worker.
pub(crate) const TRYING: u8 = 1;
/// `Pcb::revoked`: the thread running the process lost its worker.
pub(crate) const REVOKED: u8 = 2;

/// The barrier the process's side relies on. In the runtime a compiler fence: the
/// monitor's membarrier executes the full barrier on this CPU. Loom cannot model
/// membarrier, so there both sides get a SeqCst fence, which is what membarrier provides
/// between them.
#[inline(always)]
fn holder_fence() {
    #[cfg(not(loom))]
    std::sync::atomic::compiler_fence(Ordering::SeqCst);
    #[cfg(loom)]
    crate::sync::fence(Ordering::SeqCst);
}

/// The two words of the handshake (see the module docs): `own` (its `OWN_IN_RT` bit) and
/// `revoked` of one PCB. The handshake itself is in these methods, which the loom model
/// (`src/tests/loom_held.rs`) runs as they are.
#[derive(Clone, Copy)]
pub(crate) struct Handshake<'a> {
    pub(crate) own: &'a AtomicU8,
    pub(crate) revoked: &'a AtomicU8,
}

impl<'a> Handshake<'a> {
    /// The handshake words of `pcb`.
    #[inline(always)]
    pub(crate) fn of(pcb: &'a Pcb) -> Handshake<'a> {
        Handshake {
            own: &pcb.own,
            revoked: &pcb.revoked,
        }
    }

    /// Is the process in runtime code?
    #[inline(always)]
    pub(crate) fn in_rt(self) -> bool {
        self.own.load(Relaxed) & OWN_IN_RT != 0
    }

    /// Process side: it enters runtime code from its own code. Returns true if its thread
    /// lost its worker (the worker must not be touched); waits out a `TRYING` verdict.
    #[inline(always)]
    pub(crate) fn raise(self) -> bool {
        self.own.store(self.own.load(Relaxed) | OWN_IN_RT, Relaxed);
        holder_fence();
        self.revoked.load(Relaxed) != NOT_REVOKED && self.verdict()
    }

    /// Process side: back to its own code.
    #[inline(always)]
    pub(crate) fn lower(self) {
        self.own.store(self.own.load(Relaxed) & !OWN_IN_RT, Release);
    }

    /// The monitor's verdict, once `revoked` was seen not `NOT_REVOKED`: true if revoked.
    #[cold]
    #[inline(never)]
    pub(crate) fn verdict(self) -> bool {
        loop {
            match self.revoked.load(Acquire) {
                TRYING => {
                    #[cfg(loom)]
                    loom::thread::yield_now();
                    #[cfg(not(loom))]
                    std::hint::spin_loop();
                }
                REVOKED => return true,
                _ => return false,
            }
        }
    }

    /// Monitor side: revokes the worker of the thread running the process if the process
    /// is in its own code. `barrier` is the membarrier (false: unavailable, nothing done);
    /// `same_run` re-checks, after it, that the same run is still going. True if revoked:
    /// the caller hands the worker to another thread.
    pub(crate) fn try_revoke(
        self,
        barrier: impl FnOnce() -> bool,
        same_run: impl FnOnce() -> bool,
    ) -> bool {
        if self
            .revoked
            .compare_exchange(NOT_REVOKED, TRYING, Ordering::SeqCst, Relaxed)
            .is_err()
        {
            return false;
        }
        if barrier() && self.own.load(Ordering::SeqCst) & OWN_IN_RT == 0 && same_run() {
            self.revoked.store(REVOKED, Release);
            true
        } else {
            self.revoked.store(NOT_REVOKED, Release);
            false
        }
    }
}

/// Proof that the calling process is in runtime code; dropping it returns it to its own
/// code when the call came from there.
#[must_use]
pub(crate) struct InRuntime {
    /// The calling process when the call came from its own code, else null.
    from_process_code: *const Pcb,
}

/// As [`enter`](super::enter), with the calling thread's current process `p` already read (null: not a
/// process, nothing to do).
#[inline]
pub(crate) fn enter_pcb(p: *const Pcb) -> InRuntime {
    if p.is_null() {
        return InRuntime {
            from_process_code: std::ptr::null(),
        };
    }
    // SAFETY: the current process's PCB lives while it runs; the process itself calls.
    let pcb = unsafe { &*p };
    let h = Handshake::of(pcb);
    if h.in_rt() {
        debug_assert!(
            h.revoked.load(Relaxed) != REVOKED,
            "runtime code went on after its thread gave the worker away (a blocking \
             section begun inside runtime code must be `process::blocking`)"
        );
        return InRuntime {
            from_process_code: std::ptr::null(),
        };
    }
    if h.raise() {
        lost_worker(pcb);
    }
    InRuntime {
        from_process_code: p,
    }
}

impl InRuntime {
    /// Did this entry come from the process's own code (the outermost runtime call)?
    #[inline]
    pub(crate) fn is_outermost(&self) -> bool {
        !self.from_process_code.is_null()
    }
}

impl Drop for InRuntime {
    #[inline]
    fn drop(&mut self) {
        if !self.from_process_code.is_null() {
            // SAFETY: the process is returning from its own call: its PCB is live (a PCB is
            // stable, wherever the process runs now).
            Handshake::of(unsafe { &*self.from_process_code }).lower();
        }
    }
}

/// The slow path of [`enter`](super::enter): the thread lost its worker while the calling process ran
/// its own code, so the process moves to another worker.
#[cold]
#[inline(never)]
fn lost_worker(pcb: &Pcb) {
    // SAFETY: `pcb` is the process running on this thread, calling from its own stack; it
    // suspends until a worker resumes it (`Suspend::Migrate`, handled by the old thread
    // without touching the worker it lost).
    unsafe { pcb.suspend(crate::process::pcb::Suspend::Migrate) };
}

/// The runtime is about to call `pcb`'s own code (the entry function, a terminate
/// callback); `pcb` is the calling process.
#[inline]
pub(crate) fn leave_for_process_code(pcb: &Pcb) {
    Handshake::of(pcb).lower();
}

/// `pcb`'s own code called by the runtime returned: back in runtime code (may move the
/// process to another worker, see [`enter`](super::enter)).
#[inline]
pub(crate) fn back_from_process_code(pcb: &Pcb) {
    if Handshake::of(pcb).raise() {
        lost_worker(pcb);
    }
}

/// Did the thread that ran `pcb` lose its worker? The worker loop asks after a process
/// stopped running without a runtime call (a trapped stack overflow); sets `OWN_IN_RT`
/// first. If so, resets `revoked` (the process is handed on).
pub(crate) fn revoked_after_fault(pcb: &Pcb) -> bool {
    let lost = Handshake::of(pcb).raise();
    if lost {
        pcb.revoked.store(NOT_REVOKED, Release);
    }
    lost
}

// --- membarrier ----------------------------------------------------------------------

const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;

/// Registers the OS process for private expedited membarriers (once). False when the
/// kernel does not offer them: then no worker is ever taken over.
pub(crate) fn membarrier_available() -> bool {
    static STATE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0); // 0 unknown, 1 yes, 2 no
    match STATE.load(Acquire) {
        1 => return true,
        2 => return false,
        _ => {}
    }
    // SAFETY: the membarrier system call with a registration command and no pointers.
    let r = unsafe {
        libc::syscall(
            libc::SYS_membarrier,
            MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
            0,
            0,
        )
    };
    let ok = r == 0;
    STATE.store(if ok { 1 } else { 2 }, Release);
    ok
}

/// A full memory barrier on every CPU running a thread of this OS process.
pub(crate) fn membarrier() -> bool {
    // SAFETY: the membarrier system call with a command and no pointers; registration was
    // done by `membarrier_available`.
    let r = unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) };
    r == 0
}
