//! Links, exit signals and monitors: `hive_link`, `hive_unlink`, `hive_trap_exit`,
//! `hive_exit_pid`, `hive_monitor`, `hive_demonitor`, `hive_spawn_link`,
//! `hive_spawn_monitor`, `hive_spawn_opt`, `hive_set_terminate`, and the lists
//! `hive_get_links`, `hive_get_monitors`, `hive_get_monitored_by`.
//!
//! Semantics are the BEAM's (groups C–G and K of the conformance cases); the protocol is
//! described in `src/signal/mod.rs` and `docs/abi.md`. Exit signals received while trapping
//! exits arrive as messages of kind `HIVE_MSG_EXIT`, monitor notifications as
//! `HIVE_MSG_DOWN` (see `hive_msg_reason_kind`, `hive_msg_monitor_ref`).

use std::ffi::c_void;

use super::proc::{hive_spawn_opts, reason_arg, spawn_request};
use super::*;
use crate::process;
use crate::sched::Caller;
use crate::signal::{DEMONITOR_FLUSH, DEMONITOR_INFO};
use crate::{ExitReason, Pid};

/// `hive_demonitor` flag: also remove this monitor's DOWN message if it is already in the
/// mailbox (`demonitor(Ref, [flush])`).
pub const HIVE_DEMONITOR_FLUSH: u32 = 1;
/// `hive_demonitor` flag: report through `info_out` whether the monitor was still active
/// (`demonitor(Ref, [info])`). `info_out` is filled whenever it is non-NULL; the flag is
/// accepted for symmetry with Erlang.
pub const HIVE_DEMONITOR_INFO: u32 = 2;

const _: () =
    assert!(HIVE_DEMONITOR_FLUSH == DEMONITOR_FLUSH && HIVE_DEMONITOR_INFO == DEMONITOR_INFO);

/// `hive_spawn_opts.flags` for `hive_spawn_opt`: link the new process to the caller.
pub const HIVE_SPAWN_LINK: u32 = 1;
/// `hive_spawn_opts.flags` for `hive_spawn_opt`: the caller monitors the new process.
pub const HIVE_SPAWN_MONITOR: u32 = 2;

/// A terminate callback: runs as the exiting process, on its stack, with its exit reason
/// (`kind` a `HIVE_REASON_*`, `data[0..len]` the reason's bytes, valid during the call).
pub type hive_terminate_fn =
    extern "C" fn(arg: *mut c_void, kind: hive_reason_kind, data: *const u8, len: usize);

/// One monitor a process holds (`hive_get_monitors`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct hive_monitor_info {
    /// The monitor reference.
    pub mref: u64,
    /// The monitored process.
    pub pid: hive_pid,
}

use super::lifecycle::hive_reason_kind;

fn with_process(f: impl FnOnce() -> Result<(), Status>) -> hive_status {
    guard(|| result_code(f()))
}

/// Links the calling process to `pid` (`erlang:link/1`; BEAM cases 24–37). Links are
/// bidirectional and form a set: linking again, or linking to oneself, does nothing. When
/// either side exits, the other gets an exit signal with the exit reason: it exits too
/// with that reason unless the reason is `normal` or it traps exits (then it gets a
/// `HIVE_MSG_EXIT` message). A target that is already exiting answers with an exit signal
/// `noproc` (case 37: a caller that does not trap exits is then killed with `noproc`). So
/// does one that has already finished exiting when the caller sent it a
/// `hive_exit_pid` just before this call (the link would have reached it behind that exit
/// signal), as long as the caller has received no message, handled no signal and waited on
/// no timer in between; after any of those (its DOWN, say) the target is simply dead.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NO_PROCESS` when `pid` is dead (or another node's) and the
/// caller does not trap exits (case 26; no link is made; a trapping caller gets `HIVE_OK`
/// and a `HIVE_MSG_EXIT` message with reason `HIVE_REASON_NOPROC` instead, case 27);
/// `HIVE_ERR_BAD_ARGUMENT` (pid 0); `HIVE_ERR_NOT_A_PROCESS`.
#[no_mangle]
pub extern "C" fn hive_link(pid: hive_pid) -> hive_status {
    with_process(|| process::link(Pid(pid)).map_err(|e| e.0))
}

/// Removes the link between the calling process and `pid` (`erlang:unlink/1`; cases 33,
/// 34). Once it returns, the link has no effect on the caller; a `HIVE_MSG_EXIT` of that
/// link may already be in the mailbox (a `hive_receive` with timeout 0 flushes it). Also
/// `HIVE_OK` when there was no link or `pid` is dead.
///
/// Returns `HIVE_OK`; `HIVE_ERR_BAD_ARGUMENT` (pid 0); `HIVE_ERR_NOT_A_PROCESS`.
#[no_mangle]
pub extern "C" fn hive_unlink(pid: hive_pid) -> hive_status {
    with_process(|| process::unlink(Pid(pid)).map_err(|e| e.0))
}

/// Sets the calling process's `trap_exit` flag (`process_flag(trap_exit, On)`; cases 40,
/// 48): `on` non-zero traps. While set, exit signals (except `hive_exit_pid(…, KILL)`)
/// arrive as `HIVE_MSG_EXIT` messages instead of ending the process. The flag starts at 0
/// and is not inherited by spawned processes. Writes the previous value (0 or 1) to
/// `*old_out` when it is non-NULL.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_A_PROCESS`.
///
/// # Safety
/// `old_out` is NULL or a writable `int32_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_trap_exit(on: i32, old_out: *mut i32) -> hive_status {
    guard(|| match process::trap_exit(on != 0) {
        Ok(old) => {
            if !old_out.is_null() {
                // SAFETY: non-null and writable per the contract.
                unsafe { old_out.write(i32::from(old)) };
            }
            HIVE_OK
        }
        Err(e) => code(e.0),
    })
}

/// Sends an exit signal with the reason (`kind`, `data[0..len]`) to `pid`
/// (`erlang:exit/2`; cases 42–55). From any thread (the signal's sender is 0 outside a
/// process). The target:
/// - `HIVE_REASON_KILL`: exits with `killed`, even if it traps exits (cases 51–53), at once
///   and running none of its code: its terminate callback (`hive_set_terminate`) does not
///   run, and one that is running is abandoned;
/// - traps exits: gets a `HIVE_MSG_EXIT` message `{From, Reason}` (cases 43, 44);
/// - `HIVE_REASON_NORMAL`: ignored (case 42), except by the caller itself, which then exits
///   with `normal` (case 45);
/// - otherwise exits with the reason (case 44).
///
/// A process blocked in a receive is stopped at once; one busy computing at its next
/// `hive_yield` or reduction check. Signals from one sender keep their order with its
/// messages (cases 16, 17); a later `hive_is_alive(pid)` from the same caller already
/// sees the effect (case 23). Sent to the caller itself, the signal takes effect before
/// this returns (case 46). A dead or unknown pid is fine (case 47).
///
/// Returns `HIVE_OK` (not on a self-exit that ends the caller: that does not return);
/// `HIVE_ERR_BAD_ARGUMENT` (pid 0, unknown kind), `HIVE_ERR_NULL_POINTER` (data NULL with
/// len > 0), `HIVE_ERR_BAD_LENGTH` (len > `HIVE_MAX_REASON_LEN`), `HIVE_ERR_NO_MEMORY`,
/// `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN`, `HIVE_ERR_REENTRANT` (to the caller
/// itself from inside a `hive_receive_match` predicate, where the signal cannot be handled
/// at once; `hive_exit` ends the process from there).
///
/// # Safety
/// `data` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn hive_exit_pid(
    pid: hive_pid,
    kind: hive_reason_kind,
    data: *const c_void,
    len: usize,
) -> hive_status {
    // Held across `exit_pid` below, which uses the caller's worker.
    let _rt = crate::sched::enter();
    let prepared = guard_value(Err(HIVE_ERR_INTERNAL), || {
        let caller = Caller::get();
        let rt = runtime_for(&caller).map_err(code)?;
        // SAFETY: `reason_arg` needs `data` NULL or readable for `len` bytes, which this
        // function's own `# Safety` contract requires of the caller.
        let reason = unsafe { reason_arg(kind, data, len) }?;
        if pid == 0 {
            return Err(HIVE_ERR_BAD_ARGUMENT);
        }
        Ok((rt, caller, reason))
    });
    match prepared {
        // Outside `guard`: a self-exit suspends the process for good from in here.
        Ok((rt, caller, reason)) => result_code(crate::signal::request::exit_pid(
            rt,
            &caller,
            Pid(pid),
            &reason,
        )),
        Err(c) => c,
    }
}

/// Monitors `pid` (`erlang:monitor(process, Pid)`; cases 56–69) and writes the monitor
/// reference (never 0, never reused) to `*ref_out`. When `pid` exits, the caller gets one
/// `HIVE_MSG_DOWN` message: sender `pid`, `hive_msg_monitor_ref` the reference,
/// `hive_msg_reason_kind`/data the exit reason. If `pid` is dead or already exiting, the
/// DOWN comes at once with reason `HIVE_REASON_NOPROC` (cases 57, 67). Each call makes an
/// independent monitor (case 61). Monitoring oneself gives a reference that never fires
/// (case 71). Monitors never kill (case 62).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER` (ref_out NULL), `HIVE_ERR_BAD_ARGUMENT`
/// (pid 0), `HIVE_ERR_NOT_A_PROCESS`.
///
/// # Safety
/// `ref_out` is NULL or a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_monitor(pid: hive_pid, ref_out: *mut u64) -> hive_status {
    guard(|| {
        if ref_out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        match process::monitor(Pid(pid)) {
            Ok(r) => {
                // SAFETY: non-null and writable per the contract.
                unsafe { ref_out.write(r) };
                HIVE_OK
            }
            Err(e) => code(e.0),
        }
    })
}

/// Monitors the process registered as `name[0..len]` (`erlang:monitor(process, Name)`;
/// cases 58–60) and writes the reference to `*ref_out`. The name is resolved once, now:
/// the monitor is then on that pid (a later re-registration of the name does not move
/// it), and its DOWN has that pid as sender. If no process has the name, a DOWN with
/// reason `HIVE_REASON_NOPROC` and sender 0 arrives at once (case 59).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER` (name or ref_out NULL),
/// `HIVE_ERR_BAD_LENGTH` (len > `HIVE_MAX_NAME_LEN`), `HIVE_ERR_BAD_ARGUMENT` (empty name or
/// NUL byte), `HIVE_ERR_NOT_A_PROCESS`.
///
/// # Safety
/// `name` is NULL or readable for `len` bytes; `ref_out` is NULL or a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_monitor_name(
    name: *const c_void,
    len: usize,
    ref_out: *mut u64,
) -> hive_status {
    guard(|| {
        if ref_out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        // SAFETY: `name_arg` needs `name` NULL or readable for `len` bytes, which this
        // function's `# Safety` contract requires of the caller.
        let name = match unsafe { super::registry::name_arg(name, len) } {
            Ok(n) => n,
            Err(s) => return code(s),
        };
        match process::monitor_name(name) {
            Ok(r) => {
                // SAFETY: non-null and writable per the contract.
                unsafe { ref_out.write(r) };
                HIVE_OK
            }
            Err(e) => code(e.0),
        }
    })
}

/// Removes the monitor `mref` (`erlang:demonitor/2`; cases 70–78): once it returns, no
/// DOWN of it arrives. `flags`: `HIVE_DEMONITOR_FLUSH` also removes its DOWN if one is
/// already in the mailbox (case 73); `HIVE_DEMONITOR_INFO`. When `info_out` is non-NULL it
/// receives 1 if the monitor was still active and is now removed, 0 if not (it already
/// fired, was removed before, belongs to another process, or never existed: the call is
/// then a no-op, as on OTP 25, cases 71, 77). Demonitoring twice is fine.
///
/// Returns `HIVE_OK`; `HIVE_ERR_BAD_ARGUMENT` (mref 0, unknown flag bits),
/// `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_REENTRANT` (`HIVE_DEMONITOR_FLUSH` from inside a
/// `hive_receive_match` predicate, which cannot take from the mailbox it is scanning; the
/// monitor is left as it was and `*info_out` is not written).
///
/// # Safety
/// `info_out` is NULL or a writable `int32_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_demonitor(mref: u64, flags: u32, info_out: *mut i32) -> hive_status {
    guard(|| {
        let pcb = match process::current() {
            Ok(p) => p,
            Err(s) => return code(s),
        };
        // SAFETY: the calling process.
        match unsafe { crate::signal::request::demonitor(pcb, mref, flags) } {
            Ok(active) => {
                if !info_out.is_null() {
                    // SAFETY: non-null and writable per the contract.
                    unsafe { info_out.write(i32::from(active)) };
                }
                HIVE_OK
            }
            Err(s) => code(s),
        }
    })
}

/// Spawns a process like `hive_spawn`, with `opts->flags` (`HIVE_SPAWN_LINK`,
/// `HIVE_SPAWN_MONITOR`, or both; `erlang:spawn_opt/2` with `link`, `monitor`; case 98).
/// Atomic: the link and the monitor exist before the new process runs its first
/// instruction, so the caller always sees its real exit reason, never `noproc` (cases 65,
/// 97). Writes the pid to `*pid_out` and the monitor reference (0 without
/// `HIVE_SPAWN_MONITOR`) to `*ref_out` when they are non-NULL.
///
/// Returns `HIVE_OK`; the errors of `hive_spawn`, with `HIVE_ERR_BAD_ARGUMENT` for unknown
/// flag bits; `HIVE_ERR_NOT_A_PROCESS` (a link or monitor needs a calling process; with
/// flags 0 any thread may call it, like `hive_spawn`).
///
/// # Safety
/// As `hive_spawn`; `ref_out` is NULL or a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_spawn_opt(
    entry: Option<extern "C" fn(arg: *mut c_void)>,
    arg: *const c_void,
    arg_len: usize,
    opts: *const hive_spawn_opts,
    pid_out: *mut hive_pid,
    ref_out: *mut u64,
) -> hive_status {
    let flags = if opts.is_null() {
        0
    } else {
        // SAFETY: non-null and readable per the contract.
        unsafe { (*opts).flags }
    };
    // SAFETY: `spawn_flags` has the contract of `hive_spawn_opt`, this function's own: the
    // caller guarantees `arg`, `opts`, `pid_out` and `ref_out` as its `# Safety` states.
    unsafe { spawn_flags(entry, arg, arg_len, opts, flags, pid_out, ref_out) }
}

/// `erlang:spawn_link/1` (case 97): as `hive_spawn`, linked to the caller atomically.
/// Returns as `hive_spawn_opt` (`opts->flags` must be 0 here).
///
/// # Safety
/// As `hive_spawn`.
#[no_mangle]
pub unsafe extern "C" fn hive_spawn_link(
    entry: Option<extern "C" fn(arg: *mut c_void)>,
    arg: *const c_void,
    arg_len: usize,
    opts: *const hive_spawn_opts,
    pid_out: *mut hive_pid,
) -> hive_status {
    // SAFETY: `opts` is dereferenced only when non-null, and this function's `# Safety`
    // (as `hive_spawn`) makes a non-null `opts` a readable `hive_spawn_opts`; `spawn_flags`
    // needs the pointers as `hive_spawn` describes them, and `ref_out` NULL is allowed.
    unsafe {
        if !opts.is_null() && (*opts).flags != 0 {
            return HIVE_ERR_BAD_ARGUMENT;
        }
        spawn_flags(
            entry,
            arg,
            arg_len,
            opts,
            HIVE_SPAWN_LINK,
            pid_out,
            std::ptr::null_mut(),
        )
    }
}

/// `erlang:spawn_monitor/1` (case 65): as `hive_spawn`, monitored by the caller
/// atomically; the reference goes to `*ref_out`. Returns as `hive_spawn_opt`
/// (`opts->flags` must be 0 here).
///
/// # Safety
/// As `hive_spawn`; `ref_out` is NULL or a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_spawn_monitor(
    entry: Option<extern "C" fn(arg: *mut c_void)>,
    arg: *const c_void,
    arg_len: usize,
    opts: *const hive_spawn_opts,
    pid_out: *mut hive_pid,
    ref_out: *mut u64,
) -> hive_status {
    // SAFETY: `opts` is dereferenced only when non-null, and this function's `# Safety`
    // makes a non-null `opts` a readable `hive_spawn_opts`; `spawn_flags` needs `arg`, `opts`,
    // `pid_out` and `ref_out` as that contract describes them.
    unsafe {
        if !opts.is_null() && (*opts).flags != 0 {
            return HIVE_ERR_BAD_ARGUMENT;
        }
        spawn_flags(
            entry,
            arg,
            arg_len,
            opts,
            HIVE_SPAWN_MONITOR,
            pid_out,
            ref_out,
        )
    }
}

/// # Safety
/// As `hive_spawn_opt`.
unsafe fn spawn_flags(
    entry: Option<extern "C" fn(arg: *mut c_void)>,
    arg: *const c_void,
    arg_len: usize,
    opts: *const hive_spawn_opts,
    flags: u32,
    pid_out: *mut hive_pid,
    ref_out: *mut u64,
) -> hive_status {
    guard(|| {
        if flags & !(HIVE_SPAWN_LINK | HIVE_SPAWN_MONITOR) != 0 {
            return HIVE_ERR_BAD_ARGUMENT;
        }
        let pcb = match process::current() {
            Ok(p) => Some(p),
            // Without a link or monitor, any thread may spawn (as `hive_spawn`).
            Err(_) if flags == 0 => None,
            Err(s) => return code(s),
        };
        // The flags are checked above; `spawn_request` validates the rest.
        let plain = if opts.is_null() {
            None
        } else {
            // SAFETY: non-null and readable per the contract.
            let mut o = unsafe { opts.read() };
            o.flags = 0;
            Some(o)
        };
        let plain_ptr = plain.as_ref().map_or(std::ptr::null(), |o| o as *const _);
        // SAFETY: `spawn_request` needs `arg` NULL or readable for `arg_len` bytes, which our
        // `# Safety` requires of the caller, and `opts` NULL or readable: `plain_ptr` is NULL or
        // points to `plain`, a local that outlives the call.
        let req = match unsafe { spawn_request(entry, arg, arg_len, plain_ptr) } {
            Ok(r) => r,
            Err(s) => return code(s),
        };
        let spawned = match pcb {
            Some(pcb) => req.rt.spawn_linked(
                req.entry,
                req.arg,
                req.opts,
                pcb,
                flags & HIVE_SPAWN_LINK != 0,
                flags & HIVE_SPAWN_MONITOR != 0,
            ),
            None => req
                .rt
                .spawn(req.entry, req.arg, req.opts, None)
                .map(|p| (p, 0)),
        };
        match spawned {
            Ok((pid, mref)) => {
                // SAFETY: each is NULL or writable per the contract.
                unsafe {
                    if !pid_out.is_null() {
                        pid_out.write(pid.0);
                    }
                    if !ref_out.is_null() {
                        ref_out.write(mref);
                    }
                }
                HIVE_OK
            }
            Err(s) => code(s),
        }
    })
}

/// Raw callback state moved into the terminate closure.
struct CTerminate {
    f: hive_terminate_fn,
    arg: *mut c_void,
}

// SAFETY: the callback and its argument are handed to the runtime by the process that set
// them and used only by that process (on whichever worker it runs).
unsafe impl Send for CTerminate {}

/// Sets the calling process's terminate callback, replacing an earlier one; NULL removes
/// it. When the process exits — returning from its entry, `hive_exit`, an exit signal
/// other than `kill` — `f(arg, kind, data, len)` runs as the process, on its stack, before
/// its registered name is released and before its links and monitors are signalled (the
/// exit path's order). `arg` is the pointer given here; `kind`, `data[0..len]` the exit
/// reason.
///
/// While it runs, the process is alive, as on the BEAM a process is alive while it runs
/// any code: `hive_is_alive` gives 1, `hive_get_process_info` finds it, a link or monitor
/// made meanwhile reports the final reason, and it handles signals as a live process
/// does: trapped exit signals arrive as messages, and an exit signal that would end it
/// ends it at once with that signal's reason (the rest of the callback does not run). It
/// may send, receive and sleep; a `hive_exit` inside it ends the callback and keeps the
/// first reason. A callback that blocks keeps its process alive until it returns, like
/// any blocked process: `hive_exit_pid(p, HIVE_REASON_KILL, …)` ends it.
///
/// Not run on `hive_exit_pid(p, HIVE_REASON_KILL, …)`: a kill runs none of the process's
/// code (BEAM case 51), so the callback is dropped unrun, and one already running is
/// abandoned at once; the process ends with `killed`. Not run either when the process
/// dies of a stack overflow (its stack is gone). `hive_shutdown` stops a process that has
/// one with an untrappable exit signal `shutdown`, so it runs then too; a callback still
/// running when the shutdown's 2 s grace is over is abandoned (the process ends with
/// `shutdown`).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_A_PROCESS`.
#[no_mangle]
pub extern "C" fn hive_set_terminate(
    f: Option<extern "C" fn(arg: *mut c_void, kind: i32, data: *const u8, len: usize)>,
    arg: *mut c_void,
) -> hive_status {
    guard(|| {
        let pcb = match process::current() {
            Ok(p) => p,
            Err(s) => return code(s),
        };
        let cb = f.map(|f| CTerminate { f, arg });
        let callback = cb.map(|cb| {
            Box::new(move |r: &ExitReason| {
                let cb = cb;
                let d = r.data();
                (cb.f)(cb.arg, r.kind() as i32, d.as_ptr(), d.len())
            }) as crate::process::pcb::Terminate
        });
        crate::process::exit::set_terminate(pcb, callback);
        HIVE_OK
    })
}

/// Copies up to `cap` items from `items` to `out` and the full count to `*n_out`.
///
/// # Safety
/// `out` is NULL (then `cap` must be 0) or writable for `cap` items; `n_out` is non-null
/// and writable.
unsafe fn write_list<T: Copy>(items: &[T], out: *mut T, cap: usize, n_out: *mut usize) {
    let n = items.len().min(cap);
    // SAFETY: `n <= cap`, and `out` is written only when `n > 0`, so `out` is non-null
    // (a NULL `out` comes with `cap` 0) and, by this function's `# Safety`, writable for
    // `cap >= n` items; `items` is a separate Rust slice, so the ranges do not overlap; `n_out`
    // is non-null and writable by the same contract.
    unsafe {
        if n > 0 {
            std::ptr::copy_nonoverlapping(items.as_ptr(), out, n);
        }
        n_out.write(items.len());
    }
}

/// Shared checks of the list getters.
fn list_info(
    pid: hive_pid,
    out_null: bool,
    cap: usize,
    n_out_null: bool,
) -> Result<crate::ProcessInfo, hive_status> {
    if n_out_null || (out_null && cap > 0) {
        return Err(HIVE_ERR_NULL_POINTER);
    }
    if pid == 0 {
        return Err(HIVE_ERR_BAD_ARGUMENT);
    }
    match runtime().and_then(|rt| rt.process_info(Pid(pid))) {
        Ok(Some(i)) => Ok(i),
        Ok(None) => Err(HIVE_ERR_NO_PROCESS),
        Err(s) => Err(code(s)),
    }
}

/// The list getters' common body: the checks of [`list_info`], then up to `cap` items of
/// `pick(info)` to `out` and their total number to `*n_out`.
///
/// # Safety
/// `out` is NULL or writable for `cap` items; `n_out` is NULL or a writable `size_t`.
unsafe fn get_list<T: Copy>(
    pid: hive_pid,
    out: *mut T,
    cap: usize,
    n_out: *mut usize,
    pick: impl FnOnce(&crate::ProcessInfo) -> Vec<T>,
) -> hive_status {
    guard(
        || match list_info(pid, out.is_null(), cap, n_out.is_null()) {
            Ok(i) => {
                let v = pick(&i);
                // SAFETY: checked by `list_info` and per the contract.
                unsafe { write_list(&v, out, cap, n_out) };
                HIVE_OK
            }
            Err(c) => c,
        },
    )
}

/// The processes linked to `pid` (`process_info(Pid, links)`): writes up to `cap` pids to
/// `out` and the total number to `*n_out` (call with `cap` 0 to size the array). From a
/// process, ordered after the caller's earlier signals to `pid` (like `hive_is_alive`).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NO_PROCESS` (dead or exiting), `HIVE_ERR_NULL_POINTER`
/// (n_out NULL, or out NULL with cap > 0), `HIVE_ERR_BAD_ARGUMENT` (pid 0, or another
/// node's: case 143),
/// `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `out` is NULL or writable for `cap` pids; `n_out` is NULL or a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_get_links(
    pid: hive_pid,
    out: *mut hive_pid,
    cap: usize,
    n_out: *mut usize,
) -> hive_status {
    // SAFETY: `get_list` needs `out` NULL or writable for `cap` items and `n_out` NULL or a
    // writable `size_t`: this function's `# Safety` requires exactly that of the caller.
    unsafe {
        get_list(pid, out, cap, n_out, |i| {
            i.links.iter().map(|p| p.0).collect()
        })
    }
}

/// The monitors `pid` holds on other processes (`process_info(Pid, monitors)`), as
/// (reference, pid) pairs; otherwise as `hive_get_links`.
///
/// # Safety
/// `out` is NULL or writable for `cap` items; `n_out` is NULL or a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_get_monitors(
    pid: hive_pid,
    out: *mut hive_monitor_info,
    cap: usize,
    n_out: *mut usize,
) -> hive_status {
    // SAFETY: `get_list` needs `out` NULL or writable for `cap` items and `n_out` NULL or a
    // writable `size_t`: this function's `# Safety` requires exactly that of the caller.
    unsafe {
        get_list(pid, out, cap, n_out, |i| {
            i.monitors
                .iter()
                .map(|&(mref, p)| hive_monitor_info { mref, pid: p.0 })
                .collect()
        })
    }
}

/// The processes monitoring `pid` (`process_info(Pid, monitored_by)`; one entry per
/// monitor); otherwise as `hive_get_links`.
///
/// # Safety
/// `out` is NULL or writable for `cap` pids; `n_out` is NULL or a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_get_monitored_by(
    pid: hive_pid,
    out: *mut hive_pid,
    cap: usize,
    n_out: *mut usize,
) -> hive_status {
    // SAFETY: `get_list` needs `out` NULL or writable for `cap` items and `n_out` NULL or a
    // writable `size_t`: this function's `# Safety` requires exactly that of the caller.
    unsafe {
        get_list(pid, out, cap, n_out, |i| {
            i.monitored_by.iter().map(|p| p.0).collect()
        })
    }
}
