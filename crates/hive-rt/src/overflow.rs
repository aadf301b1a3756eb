//! Stack overflow: a fault in a process's guard page ends that process alone.
//!
//! Every stack slot has a guard at its low end (`stack.rs`; one page unless
//! `Config::guard_size` says more). A process that runs into it raises `SIGSEGV`. The
//! handler installed here (once per OS process, on an alternate signal stack that every
//! worker thread sets up) checks whether the faulting address lies in the guard of the
//! process running on this thread, with that thread's stack pointer inside the same slot. If so, it uses corosensei's trap API
//! (`CoroutineTrapHandler::setup_trap_handler`) to make the coroutine return
//! [`Ending::StackOverflow`](crate::process::pcb::Ending::StackOverflow) as soon as the handler returns; the worker then runs the
//! normal exit path with the reason `stack_overflow` (an `Error` reason). Links, waiters and
//! (later) monitors see that reason; every other process keeps running.
//!
//! The handler allocates nothing, takes no lock and reads only the thread's current-process
//! pointer and that PCB's trap data, all async-signal-safe. Any other fault is passed to the
//! handler that was installed before ours (e.g. Rust's own stack-overflow reporter), or to
//! the default action, which ends the OS process.
//!
//! **Limits** (also in `docs/design.md`): the overflowing process's half-done writes are
//! lost and its stack is discarded without unwinding (the trap contract); if it overflowed
//! while inside libc or the runtime holding a lock, that lock stays held. ABI functions
//! therefore refuse to start with less than [`ABI_HEADROOM`] bytes of stack left and exit
//! the process with `stack_overflow` instead. A frame larger than the guard can jump over
//! it: generated code must probe its stack (`-fstack-clash-protection`, LLVM's
//! `"probe-stack"="inline-asm"`, Cranelift's inline probestack; `docs/abi.md`, "Stack
//! probes"), and a larger `Config::guard_size` catches larger frames of code without.
//!
//! Implemented for Linux on x86_64 and aarch64; elsewhere an overflow ends the OS process
//! (SIGSEGV), which still never corrupts another process's stack.

use crate::process::pcb::Pcb;

/// Bytes of stack an ABI function needs; a call with less left exits the process with
/// `stack_overflow` before doing anything.
pub(crate) const ABI_HEADROOM: usize = 8 * 1024;

/// True when the calling process has less than [`ABI_HEADROOM`] bytes of stack left.
pub(crate) fn low_on_stack(pcb: &Pcb) -> bool {
    crate::stack::approx_sp() < pcb.stack_guard.get() + ABI_HEADROOM
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod imp {
    use std::mem::MaybeUninit;
    use std::sync::Once;

    use crate::process::pcb::Ending;
    use crate::sched::current_pcb;

    const PAGE: usize = 4096;
    /// Size of each worker thread's alternate signal stack.
    const ALTSTACK: usize = 64 * 1024;

    static INSTALL: Once = Once::new();
    static mut PREV_SEGV: MaybeUninit<libc::sigaction> = MaybeUninit::uninit();
    static mut PREV_BUS: MaybeUninit<libc::sigaction> = MaybeUninit::uninit();

    /// Installs the SIGSEGV/SIGBUS handler (once per OS process).
    pub(crate) fn install_handler() {
        INSTALL.call_once(|| {
            // The previous actions are saved before our handler can run (it runs only after
            // sigaction returns), and are never written again.
            // SAFETY: plain sigaction calls with a zeroed, then filled, action.
            unsafe {
                let mut act: libc::sigaction = std::mem::zeroed();
                act.sa_sigaction = handler as *const () as usize;
                act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut act.sa_mask);
                libc::sigaction(
                    libc::SIGSEGV,
                    &act,
                    (&raw mut PREV_SEGV).cast::<libc::sigaction>(),
                );
                libc::sigaction(
                    libc::SIGBUS,
                    &act,
                    (&raw mut PREV_BUS).cast::<libc::sigaction>(),
                );
            }
        });
    }

    /// Gives the calling (worker) thread an alternate signal stack if it has none.
    /// The stack is leaked when the thread ends (one per worker thread).
    pub(crate) fn ensure_altstack() {
        // SAFETY: querying and setting this thread's signal stack with valid pointers; the
        // new stack is a fresh private mapping that is never unmapped.
        unsafe {
            let mut old: libc::stack_t = std::mem::zeroed();
            if libc::sigaltstack(std::ptr::null(), &mut old) == 0
                && old.ss_flags & libc::SS_DISABLE == 0
                && old.ss_size >= ALTSTACK / 4
            {
                return; // already has one (Rust's runtime gives std threads one)
            }
            let p = libc::mmap(
                std::ptr::null_mut(),
                ALTSTACK + PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if p == libc::MAP_FAILED {
                return;
            }
            // A guard below the signal stack too.
            libc::mprotect(p, PAGE, libc::PROT_NONE);
            let st = libc::stack_t {
                ss_sp: (p as usize + PAGE) as *mut libc::c_void,
                ss_flags: 0,
                ss_size: ALTSTACK,
            };
            libc::sigaltstack(&st, std::ptr::null_mut());
        }
    }

    /// The interrupted stack pointer in the signal context `uc`.
    ///
    /// # Safety
    /// `uc` is the `ucontext_t` the kernel passed to this SA_SIGINFO handler invocation.
    #[cfg(target_arch = "x86_64")]
    unsafe fn sp_of(uc: *mut libc::ucontext_t) -> usize {
        // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO handler.
        unsafe { (*uc).uc_mcontext.gregs[libc::REG_RSP as usize] as usize }
    }

    /// The interrupted stack pointer in the signal context `uc`.
    ///
    /// # Safety
    /// `uc` is the `ucontext_t` the kernel passed to this SA_SIGINFO handler invocation.
    #[cfg(target_arch = "aarch64")]
    unsafe fn sp_of(uc: *mut libc::ucontext_t) -> usize {
        // SAFETY: `uc` is the ucontext the kernel passed to this SA_SIGINFO handler, valid for
        // the handler's duration.
        unsafe { (*uc).uc_mcontext.sp as usize }
    }

    /// Rewrites the interrupted context `uc` so that returning from the handler resumes at
    /// the trap handler's registers `r` (corosensei's trap API).
    ///
    /// # Safety
    /// `uc` is the `ucontext_t` the kernel passed to this SA_SIGINFO handler invocation, and
    /// `r` comes from `setup_trap_handler` for the coroutine running on this thread.
    #[cfg(target_arch = "x86_64")]
    unsafe fn redirect(uc: *mut libc::ucontext_t, r: corosensei::trap::TrapHandlerRegs) {
        // SAFETY: `uc` is the ucontext the kernel passed to this SA_SIGINFO handler, valid and
        // writable for the handler's duration; we rewrite the interrupted context with the
        // registers `corosensei::trap` gave us, as its trap API requires.
        unsafe {
            let g = &mut (*uc).uc_mcontext.gregs;
            g[libc::REG_RIP as usize] = r.rip as i64;
            g[libc::REG_RSP as usize] = r.rsp as i64;
            g[libc::REG_RBP as usize] = r.rbp as i64;
            g[libc::REG_RDI as usize] = r.rdi as i64;
            g[libc::REG_RSI as usize] = r.rsi as i64;
        }
    }

    /// Rewrites the interrupted context `uc` so that returning from the handler resumes at
    /// the trap handler's registers `r` (corosensei's trap API).
    ///
    /// # Safety
    /// `uc` is the `ucontext_t` the kernel passed to this SA_SIGINFO handler invocation, and
    /// `r` comes from `setup_trap_handler` for the coroutine running on this thread.
    #[cfg(target_arch = "aarch64")]
    unsafe fn redirect(uc: *mut libc::ucontext_t, r: corosensei::trap::TrapHandlerRegs) {
        // SAFETY: `uc` is the ucontext the kernel passed to this SA_SIGINFO handler, valid and
        // writable for the handler's duration; we rewrite the interrupted context with the
        // registers `corosensei::trap` gave us, as its trap API requires.
        unsafe {
            let m = &mut (*uc).uc_mcontext;
            m.pc = r.pc;
            m.sp = r.sp;
            m.regs[0] = r.x0;
            m.regs[1] = r.x1;
            m.regs[29] = r.x29;
            m.regs[30] = r.lr;
        }
    }

    extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
        let uc = uc as *mut libc::ucontext_t;
        let pcb = current_pcb();
        if !pcb.is_null() {
            // SAFETY: CURRENT_PROC points to the live PCB of the process this thread is
            // running; `si_addr` and the ucontext come from the kernel.
            unsafe {
                let pcb = &*pcb;
                let fault = (*info).si_addr() as usize;
                let usable_bottom = pcb.stack_guard.get();
                if let Some(trap) = pcb.trap.get() {
                    // In the slot (guard included) but below its usable part: the guard.
                    if usable_bottom != 0
                        && fault < usable_bottom
                        && trap.stack_ptr_in_bounds(fault)
                        && trap.stack_ptr_in_bounds(sp_of(uc))
                    {
                        // The coroutine's code only touched its own stack and runtime
                        // state the exit path rebuilds; the closure returns a plain value.
                        let regs = trap.setup_trap_handler(|| Ending::StackOverflow);
                        redirect(uc, regs);
                        return;
                    }
                }
            }
        }
        // Not an overflow of ours: hand over to the previous disposition.
        // SAFETY: the saved actions were written once before this handler was installed.
        unsafe {
            let prev = if sig == libc::SIGBUS {
                *(&raw const PREV_BUS).cast::<libc::sigaction>()
            } else {
                *(&raw const PREV_SEGV).cast::<libc::sigaction>()
            };
            let h = prev.sa_sigaction;
            if h == libc::SIG_DFL || h == libc::SIG_IGN {
                // Restore the default and return: the access faults again and the OS
                // process ends with the signal, as it would have without us.
                libc::signal(sig, libc::SIG_DFL);
            } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    std::mem::transmute(h);
                f(sig, info, uc as *mut libc::c_void);
            } else {
                let f: extern "C" fn(libc::c_int) = std::mem::transmute(h);
                f(sig);
            }
        }
    }
}

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
mod imp {
    pub(crate) fn install_handler() {}
    pub(crate) fn ensure_altstack() {}
}

pub(crate) use imp::{ensure_altstack, install_handler};
