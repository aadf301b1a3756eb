//! Spawning: creating a process, linking or monitoring it atomically, and giving it its
//! stack when it first runs.

use std::panic::{self, AssertUnwindSafe};

use crate::process::pcb::Ending;
use crate::reason::ExitReason;
use std::ffi::c_void;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use corosensei::{Coroutine, Yielder};

use super::RtInner;
use crate::config::{stack_class, SpawnOptions};
use crate::pid::Pid;
use crate::process::pcb::{Entry, ExitWaiter, Pcb, Suspend};
use crate::sched::local::WorkerLocal;
use crate::sched::ProcRef;
use crate::status::Status;

/// Spawn arguments up to this many bytes are copied into the PCB (no allocation); larger
/// ones go to the heap.
const INLINE_ARG: usize = crate::process::pcb::INLINE_ARG_BYTES;

impl RtInner {
    /// Creates a process. `arg` is copied; a C entry receives a pointer to the copy (or
    /// NULL when `arg` is empty). A `waiter` is registered before the process can run.
    pub(crate) fn spawn(
        &self,
        entry: Entry,
        arg: &[u8],
        opts: SpawnOptions,
        waiter: Option<&Arc<ExitWaiter>>,
    ) -> std::result::Result<Pid, Status> {
        self.spawn_with(entry, arg, opts, waiter, None, None)
            .map(|(pid, _)| pid)
    }

    /// `spawn_link` / `spawn_monitor` / `spawn_opt(F, [link, monitor])` (cases 65, 97, 98):
    /// the calling process `parent` is linked to, and/or monitors, the new process before
    /// it can run its first instruction. Returns the pid and the monitor reference (0
    /// without `monitor`).
    pub(crate) fn spawn_linked(
        &self,
        entry: Entry,
        arg: &[u8],
        opts: SpawnOptions,
        parent: &Pcb,
        link: bool,
        monitor: bool,
    ) -> std::result::Result<(Pid, u64), Status> {
        let mref = if monitor { self.new_ref() } else { 0 };
        self.spawn_with(entry, arg, opts, None, Some((parent, link, mref)), None)
    }

    /// A process spawned for a process of another node (`spawn_request` with `link` and
    /// `{monitor, _}` options): `parent` (a remote pid) is in its links and, with
    /// `monitor` (a token ≠ 0), its monitors before it can run, so an immediate exit is
    /// reported with its real reason (cases 153, 154). The remote side records its own half.
    pub(crate) fn spawn_for_remote(
        &self,
        entry: Entry,
        arg: &[u8],
        opts: SpawnOptions,
        parent: Pid,
        link: bool,
        monitor: u64,
    ) -> std::result::Result<Pid, Status> {
        self.spawn_with(entry, arg, opts, None, None, Some((parent, link, monitor)))
            .map(|(pid, _)| pid)
    }

    fn spawn_with(
        &self,
        entry: Entry,
        arg: &[u8],
        opts: SpawnOptions,
        waiter: Option<&Arc<ExitWaiter>>,
        parent: Option<(&Pcb, bool, u64)>,
        remote_parent: Option<(Pid, bool, u64)>,
    ) -> std::result::Result<(Pid, u64), Status> {
        if self.is_shut_down()
            || self
                .shutdown_begun
                .load(std::sync::atomic::Ordering::Relaxed)
        {
            return Err(Status::ErrShutDown);
        }
        let default = self.stacks.default_usable();
        let usable = if opts.stack_size == 0 {
            default
        } else if opts.stack_size < crate::config::MIN_STACK_SIZE {
            // Too small for the ABI's headroom plus any frame of the process's own: refused
            // rather than silently enlarged, so a backend that computed a stack size learns
            // that it is below the minimum (`SpawnOptions::stack_size`).
            return Err(Status::ErrBadLength);
        } else {
            stack_class(opts.stack_size).ok_or(Status::ErrBadLength)?
        };
        let worker = self.local_worker();
        let pcb = Box::into_raw(Pcb::new(
            opts.priority,
            entry,
            (self as *const RtInner).cast(),
        ));
        // The argument copy lives in the PCB (inline when small), which never moves, so the
        // pointer stays valid for the life of the process.
        // SAFETY: the PCB is not yet published; we are its only user.
        unsafe {
            (*pcb).stack_shift.set(usable.trailing_zeros() as u8);
            if !arg.is_empty() {
                let dst = if arg.len() <= INLINE_ARG {
                    (*(*pcb).inline_arg.get()).as_mut_ptr() as *mut u8
                } else {
                    let mut b = vec![0u128; arg.len().div_ceil(16)].into_boxed_slice();
                    let p = b.as_mut_ptr() as *mut u8;
                    (*pcb).set_heap_arg(Some(b));
                    p
                };
                ptr::copy_nonoverlapping(arg.as_ptr(), dst, arg.len());
                if let Entry::C { arg: arg_ptr, .. } = &mut *(*pcb).entry.get() {
                    *arg_ptr = dst as *mut c_void;
                }
            }
            if let Some(w) = waiter {
                (*pcb).sig.lock().data().waiters.push(w.clone());
            }
            let child_side = parent
                .map(|(p, link, mref)| (p.pid, link, mref))
                .or(remote_parent);
            if let Some((parent, link, mref)) = child_side {
                let mut s = (*pcb).sig.lock();
                let d = s.data();
                if link {
                    d.links.insert(parent);
                }
                if mref != 0 {
                    d.monitored_by.insert(mref, parent);
                }
            }
        }
        // SAFETY: the PCB is not yet published, so this thread is its only user; `init` writes
        // the pid before the table publishes the PCB.
        let pid = match self.table.insert(pcb, |pid| unsafe { (*pcb).pid = pid }) {
            Ok(pid) => pid,
            Err(e) => {
                // SAFETY: never published, never run, no stack yet.
                drop(unsafe { Box::from_raw(pcb) });
                return Err(e);
            }
        };
        if let Some((parent, link, mref)) = parent {
            // The parent's side, before the child can run (and exit, and signal it).
            let mut s = parent.sig.lock();
            let d = s.data();
            if link {
                d.links.insert(pid);
            }
            if mref != 0 {
                d.monitors.insert(mref, pid);
            }
        }
        // SAFETY: `pcb` is a valid, live allocation.
        let p = ProcRef(unsafe { NonNull::new_unchecked(pcb) });
        match worker {
            Some(w) => {
                w.stats().spawned.add(1);
                w.push_back(p)
            }
            None => {
                self.external_stats
                    .spawned
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.sched.inject(p)
            }
        }
        Ok((pid, parent.map_or(0, |(_, _, mref)| mref)))
    }

    /// Gives a process its stack and coroutine, on the worker about to run it for the
    /// first time (stacks are allocated lazily: a spawned process that has not run yet holds
    /// no stack, which keeps spawn-heavy workloads such as skynet small).
    ///
    /// # Safety
    /// `pcb` is a process that has not started, owned by the calling worker.
    pub(crate) unsafe fn start_process(
        &self,
        pcb_ptr: *mut Pcb,
        worker: &WorkerLocal,
    ) -> std::io::Result<()> {
        // SAFETY: the caller guarantees `pcb_ptr` is a live process that has not started, owned
        // by the calling worker, so no other thread touches it while this reference lives.
        let pcb = unsafe { &*pcb_ptr };
        let usable = pcb.stack_usable();
        let stack = if usable == self.stacks.default_usable() {
            worker
                .take_stack()
                .map(|limit| self.stacks.default_pool().slot_at(limit))?
        } else {
            self.stacks.pool(usable).alloc()?
        };
        let stack_guard = stack.usable_bottom();
        let pcb_addr = pcb_ptr as usize;
        let co = Coroutine::with_stack(stack, move |y: &Yielder<(), Suspend>, ()| {
            // SAFETY: the PCB outlives its coroutine (freed only after the exit path took the
            // coroutine out), and this closure runs only as that process.
            unsafe { process_main(pcb_addr as *const Pcb, y) }
        });
        pcb.trap.set(Some(co.trap_handler()));
        pcb.stack_guard.set(stack_guard);
        // SAFETY: owner-only field, per the contract.
        unsafe { *pcb.coroutine.get() = Some(co) };
        Ok(())
    }

    /// Discards the stack of a process that has just hibernated (`process/hibernate.rs`):
    /// its coroutine is dropped without unwinding, the stack goes back to the worker's
    /// cache, and the entry it hibernated into replaces the old one. The next run gives it
    /// a stack as to a process that never ran ([`RtInner::start_process`]).
    ///
    /// # Safety
    /// `pcb` suspended with `Suspend::Hibernate` or `Suspend::Restart` on the calling
    /// worker, which still owns it (it is neither WAITING nor queued).
    pub(crate) unsafe fn discard_stack(&self, pcb: &Pcb, worker: &WorkerLocal) {
        // SAFETY: owner-only field; the process is suspended and ours (the contract).
        if let Some(mut co) = unsafe { (*pcb.coroutine.get()).take() } {
            // Values on its stack are leaked, not dropped, as the `process` module docs say
            // of `hibernate` and `exit`; the runtime keeps none of its own there.
            // SAFETY: the coroutine is suspended and never resumed again (see above).
            unsafe { co.force_reset() };
            self.recycle_stack(co.into_stack(), pcb.stack_usable(), Some(worker));
        }
        // SAFETY: the process is suspended and owned by the calling worker.
        unsafe { pcb.install_hibernation() };
    }

    pub(crate) fn recycle_stack(
        &self,
        stack: crate::stack::ArenaStack,
        usable: usize,
        worker: Option<&WorkerLocal>,
    ) {
        match worker {
            Some(w) if usable == self.stacks.default_usable() => w.give_stack(stack.limit_addr()),
            _ => self.stacks.pool(usable).free(stack),
        }
    }
}

/// Body of every process coroutine.
///
/// # Safety
/// `pcb` is the live PCB of the process this coroutine belongs to.
unsafe fn process_main(pcb: *const Pcb, y: &Yielder<(), Suspend>) -> Ending {
    // SAFETY: the caller guarantees `pcb` is the live PCB of this coroutine's process; the
    // process owns these fields while it runs.
    let pcb = unsafe { &*pcb };
    pcb.yielder.set(y);
    // Signals that arrived before the first instruction (an exit signal ends it here).
    // SAFETY: the calling process.
    unsafe { crate::signal::handle::check(pcb) };
    // Started again after hibernating: its entry runs once a message is queued.
    if pcb.own_flag(crate::process::pcb::OWN_HIBERNATED) {
        // SAFETY: the calling process, hibernated.
        unsafe { crate::process::hibernate::await_message(pcb) };
    }
    // A Rust entry stays in the PCB while it runs (see `Entry::rust`): the exit path frees
    // it even if the process never comes back here.
    // SAFETY: `pcb.entry` belongs to this running process; nothing else touches it until the
    // exit path, which runs after this coroutine has stopped for good.
    let rust_entry = match unsafe { &mut *pcb.entry.get() } {
        Entry::Rust(f) => Some(&mut **f as *mut (dyn FnMut() + Send)),
        _ => None,
    };
    let entry = match rust_entry {
        Some(_) => Entry::Taken,
        // SAFETY: `pcb.entry` belongs to this running process, and the reference taken above
        // is no longer used (`rust_entry` is None on this arm).
        None => unsafe { std::mem::replace(&mut *pcb.entry.get(), Entry::Taken) },
    };
    let mut reason = ExitReason::Normal;
    match (entry, rust_entry) {
        (Entry::C { f, arg }, _) => {
            // Process code: the worker may be taken over while it runs (`sched::held`).
            crate::sched::handshake::leave_for_process_code(pcb);
            f(arg);
            crate::sched::handshake::back_from_process_code(pcb);
        }
        (_, Some(f)) => {
            // SAFETY: `f` points into the box in `pcb.entry`, which stays put until the exit
            // path (above); it is called once, by this process only.
            let call = || unsafe { (*f)() };
            crate::sched::handshake::leave_for_process_code(pcb);
            let result = panic::catch_unwind(AssertUnwindSafe(call));
            crate::sched::handshake::back_from_process_code(pcb);
            // SAFETY: owner-only field; the closure has returned (or unwound).
            unsafe { *pcb.entry.get() = Entry::Taken };
            if let Err(payload) = result {
                let text = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string payload".into());
                reason = ExitReason::error(format!("panic: {text}"));
            }
        }
        _ => {}
    }
    // SAFETY: the calling process; `normal` unless a panic gave the reason.
    if unsafe { crate::process::exit::begin(pcb, reason) }
        == crate::process::lifecycle::Begin::Began
    {
        // SAFETY: `pcb` is the calling process, whose exit has just begun.
        unsafe { crate::process::exit::publish(pcb) };
    }
    Ending::Returned
}
