//! Processes: `hive_spawn`, `hive_self`, `hive_exit`, `hive_hibernate`, `hive_yield`, reductions,
//! `hive_is_alive`, `hive_process_count`.

use std::ffi::c_void;

use super::*;
use crate::config::{Priority, SpawnOptions, MAX_STACK_SIZE, MIN_STACK_SIZE};
use crate::process::pcb::Entry;
use crate::process::{self, HiveCtx};
use crate::reason::{ExitReason, ReasonKind};
use crate::runtime::RtInner;

/// Entry point of a process: receives the runtime's copy of the spawn argument (NULL when
/// `arg_len` was 0). Returning from it ends the process with reason `normal`.
pub type hive_entry_fn = extern "C" fn(arg: *mut c_void);

/// Priority `low` (`process_flag(priority, low)`).
pub const HIVE_PRIORITY_LOW: i32 = 0;
/// Priority `normal` (the default).
pub const HIVE_PRIORITY_NORMAL: i32 = 1;
/// Priority `high`.
pub const HIVE_PRIORITY_HIGH: i32 = 2;

/// Largest spawn argument, in bytes (1 MiB).
pub const HIVE_MAX_ARG_LEN: usize = 1 << 20;
/// Largest exit-reason payload for `hive_exit`, in bytes (64 KiB).
pub const HIVE_MAX_REASON_LEN: usize = 1 << 16;

/// Options for `hive_spawn` (pass NULL for all defaults; zero-initialised fields other than
/// `priority` mean "default").
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hive_spawn_opts {
    /// `HIVE_PRIORITY_LOW`, `HIVE_PRIORITY_NORMAL` or `HIVE_PRIORITY_HIGH`.
    pub priority: i32,
    /// 0, except for `hive_spawn_opt`: `HIVE_SPAWN_LINK` and/or `HIVE_SPAWN_MONITOR`.
    pub flags: u32,
    /// Stack size in bytes (usable, excluding the guard); 0 = the runtime's default.
    /// Otherwise at least 16 KiB (the 8 KiB every ABI call needs plus the process's own
    /// frames) and at most 64 MiB, else the spawn fails with `HIVE_ERR_BAD_LENGTH`; rounded
    /// up to a power of two.
    pub stack_size: usize,
}

/// A validated spawn request: what `hive_spawn` and `hive_run` hand to the runtime.
pub(crate) struct SpawnRequest<'a> {
    pub(crate) rt: &'static RtInner,
    pub(crate) entry: Entry,
    pub(crate) arg: &'a [u8],
    pub(crate) opts: SpawnOptions,
}

/// Finds the runtime and validates spawn arguments.
///
/// # Safety
/// `arg` is NULL or readable for `arg_len` bytes; `opts` is NULL or readable.
pub(crate) unsafe fn spawn_request<'a>(
    entry: Option<hive_entry_fn>,
    arg: *const c_void,
    arg_len: usize,
    opts: *const hive_spawn_opts,
) -> Result<SpawnRequest<'a>, Status> {
    let rt = runtime()?;
    let f = entry.ok_or(Status::ErrNullPointer)?;
    if arg.is_null() && arg_len != 0 {
        return Err(Status::ErrNullPointer);
    }
    if arg_len > HIVE_MAX_ARG_LEN {
        return Err(Status::ErrBadLength);
    }
    let bytes = if arg_len == 0 {
        &[][..]
    } else {
        // SAFETY: non-null and readable for `arg_len` bytes per the contract.
        unsafe { std::slice::from_raw_parts(arg as *const u8, arg_len) }
    };
    let mut o = SpawnOptions::default();
    if !opts.is_null() {
        // SAFETY: non-null and readable per the contract.
        let c = unsafe { opts.read() };
        o.priority = Priority::from_raw(c.priority).ok_or(Status::ErrBadArgument)?;
        if c.flags != 0 {
            return Err(Status::ErrBadArgument);
        }
        if c.stack_size > MAX_STACK_SIZE || (c.stack_size != 0 && c.stack_size < MIN_STACK_SIZE) {
            return Err(Status::ErrBadLength);
        }
        o.stack_size = c.stack_size;
    }
    Ok(SpawnRequest {
        rt,
        entry: Entry::C {
            f,
            arg: std::ptr::null_mut(),
        },
        arg: bytes,
        opts: o,
    })
}

/// Spawns a process running `entry(copy_of_arg)` (`erlang:spawn/1`). Works from any
/// thread; from a process, the new process goes to the end of the caller's run queue.
///
/// - `arg`, `arg_len`: bytes copied by the runtime (at most `HIVE_MAX_ARG_LEN`); the process
///   receives a pointer to its copy, 16-byte aligned and valid until it exits. NULL/0 for
///   none (the entry then receives NULL).
/// - `opts`: NULL for defaults.
/// - `pid_out`: receives the new pid (may be NULL).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER` (entry NULL, or arg NULL with arg_len > 0),
/// `HIVE_ERR_BAD_LENGTH` (arg_len too large; `opts->stack_size` not 0 and below 16 KiB or
/// above 64 MiB), `HIVE_ERR_BAD_ARGUMENT`
/// (unknown priority, flags ≠ 0: links and monitors need `hive_spawn_opt`),
/// `HIVE_ERR_SYSTEM_LIMIT` (pid table full), `HIVE_ERR_NO_MEMORY` (no stack),
/// `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `arg` is NULL or readable for `arg_len` bytes; `opts` is NULL or a readable
/// `hive_spawn_opts`; `pid_out` is NULL or a writable `hive_pid`.
#[no_mangle]
pub unsafe extern "C" fn hive_spawn(
    entry: Option<extern "C" fn(arg: *mut c_void)>,
    arg: *const c_void,
    arg_len: usize,
    opts: *const hive_spawn_opts,
    pid_out: *mut hive_pid,
) -> hive_status {
    guard(|| {
        // SAFETY: `spawn_request` needs `arg` NULL or readable for `arg_len` bytes and `opts`
        // NULL or a readable `hive_spawn_opts`: this function's `# Safety` requires both of the
        // caller.
        let req = match unsafe { spawn_request(entry, arg, arg_len, opts) } {
            Ok(r) => r,
            Err(s) => return code(s),
        };
        match req.rt.spawn(req.entry, req.arg, req.opts, None) {
            Ok(pid) => {
                if !pid_out.is_null() {
                    // SAFETY: non-null and writable per the contract.
                    unsafe { pid_out.write(pid.0) };
                }
                HIVE_OK
            }
            Err(s) => code(s),
        }
    })
}

/// The calling process's pid (`erlang:self/0`), or 0 when the calling thread is not
/// running a process.
#[no_mangle]
pub extern "C" fn hive_self() -> hive_pid {
    guard_value(0, || process::self_pid().0)
}

/// Ends the calling process (`erlang:exit/1`) with a reason of kind `kind`
/// (`HIVE_REASON_*`) and, for `HIVE_REASON_ERROR`, the bytes `data[0..len]` (copied).
/// Does not return on success. Frames of the process are discarded without unwinding.
///
/// Returns only on error: `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_BAD_ARGUMENT` (unknown
/// kind), `HIVE_ERR_NULL_POINTER` (data NULL with len > 0), `HIVE_ERR_BAD_LENGTH`
/// (len > `HIVE_MAX_REASON_LEN`).
///
/// # Safety
/// `data` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn hive_exit(kind: i32, data: *const c_void, len: usize) -> hive_status {
    // Held across the exit below, which never returns on success.
    let _rt = crate::sched::enter();
    let reason = guard_value(Err(HIVE_ERR_INTERNAL), || {
        let pcb = process::current().map_err(code)?;
        // SAFETY: `reason_arg` needs `data` NULL or readable for `len` bytes, which this
        // function's `# Safety` requires of the caller.
        Ok((pcb, unsafe { reason_arg(kind, data, len) }?))
    });
    match reason {
        // SAFETY: `pcb` is the calling process. Outside `guard`: nothing to unwind here.
        Ok((pcb, r)) => unsafe { process::exit::exit_raw(pcb, r) },
        Err(c) => c,
    }
}

/// Hibernates the calling process (`erlang:hibernate/3`): its stack is given back to the
/// runtime and, once a message is in its mailbox (at once if one is queued already), the
/// process starts again by calling `entry(copy_of_arg)` on a fresh stack, as a new process
/// starts; returning from `entry` ends it with `normal`. Its pid, mailbox, links, monitors,
/// registered name, `trap_exit`, priority and sockets stay. Signals that come meanwhile are
/// handled as in a receive: an exit signal can end it while it hibernates, and a signal
/// that leaves no message (a monitor request, an exit signal it ignores) does not wake
/// `entry`. Frames of the process are discarded without unwinding, as by `hive_exit`.
/// An idle process then holds no stack: a server with many idle clients hibernates their
/// processes (`gen_server`'s `hibernate_after`).
///
/// - `arg`, `arg_len`: bytes copied by the runtime (at most `HIVE_MAX_ARG_LEN`, 1 MiB)
///   before the stack goes; `entry` receives a pointer to the copy, 16-byte aligned and
///   valid until the process exits or hibernates again (that call may copy from it).
///   NULL/0 for none (then NULL). The copy of the spawn argument stays valid until exit.
///
/// Does not return on success. Returns only on error: `HIVE_ERR_NOT_A_PROCESS`,
/// `HIVE_ERR_NULL_POINTER` (entry NULL, or arg NULL with arg_len > 0),
/// `HIVE_ERR_BAD_LENGTH` (arg_len > `HIVE_MAX_ARG_LEN`), `HIVE_ERR_REENTRANT` (from inside
/// a match predicate, or from the process's terminate callback), `HIVE_ERR_NO_MEMORY` (no memory for the argument's copy).
///
/// # Safety
/// `arg` is NULL or readable for `arg_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn hive_hibernate(
    entry: Option<extern "C" fn(arg: *mut c_void)>,
    arg: *const c_void,
    arg_len: usize,
) -> hive_status {
    // Held across the hibernation below, which never returns on success.
    let _rt = crate::sched::enter();
    let req = guard_value(Err(HIVE_ERR_INTERNAL), || {
        let pcb = process::current().map_err(code)?;
        let f = entry.ok_or(HIVE_ERR_NULL_POINTER)?;
        if arg.is_null() && arg_len != 0 {
            return Err(HIVE_ERR_NULL_POINTER);
        }
        if arg_len > HIVE_MAX_ARG_LEN {
            return Err(HIVE_ERR_BAD_LENGTH);
        }
        if arg_len == 0 {
            return Ok((pcb, f, std::ptr::null_mut(), None));
        }
        let mut copy: Vec<u128> = Vec::new();
        copy.try_reserve_exact(arg_len.div_ceil(16))
            .map_err(|_| HIVE_ERR_NO_MEMORY)?;
        copy.resize(arg_len.div_ceil(16), 0);
        let mut copy = copy.into_boxed_slice();
        let dst = copy.as_mut_ptr() as *mut c_void;
        // SAFETY: `arg` is readable for `arg_len` bytes (the contract) and `copy` holds at
        // least `arg_len` bytes; they do not overlap (`copy` is new).
        unsafe { std::ptr::copy_nonoverlapping(arg as *const u8, dst as *mut u8, arg_len) };
        Ok((pcb, f, dst, Some(copy)))
    });
    match req {
        Ok((pcb, f, dst, copy)) => {
            let entry = Entry::C { f, arg: dst };
            // SAFETY: `pcb` is the calling process; the entry's argument points into `copy`.
            // Outside `guard`: nothing to unwind here.
            let refused = unsafe { process::hibernate::hibernate_raw(pcb, entry, copy) };
            code(refused)
        }
        Err(c) => c,
    }
}

/// Validates an exit reason given as (`kind`, `data`, `len`): `HIVE_ERR_BAD_ARGUMENT`
/// (unknown kind), `HIVE_ERR_NULL_POINTER` (data NULL with len > 0),
/// `HIVE_ERR_BAD_LENGTH` (len > `HIVE_MAX_REASON_LEN`).
///
/// # Safety
/// `data` is NULL or readable for `len` bytes.
pub(crate) unsafe fn reason_arg(
    kind: i32,
    data: *const c_void,
    len: usize,
) -> Result<ExitReason, hive_status> {
    let kind = ReasonKind::from_raw(kind).ok_or(HIVE_ERR_BAD_ARGUMENT)?;
    if data.is_null() && len != 0 {
        return Err(HIVE_ERR_NULL_POINTER);
    }
    if len > HIVE_MAX_REASON_LEN {
        return Err(HIVE_ERR_BAD_LENGTH);
    }
    let bytes = if len == 0 {
        &[][..]
    } else {
        // SAFETY: non-null and readable for `len` bytes per the contract.
        unsafe { std::slice::from_raw_parts(data as *const u8, len) }
    };
    Ok(ExitReason::from_kind(kind, bytes))
}

/// Sets the calling process's priority to `priority` (`HIVE_PRIORITY_LOW`, `_NORMAL` or
/// `_HIGH`; `process_flag(priority, P)`, BEAM case 99) and writes the old one to
/// `*old_out` when it is non-NULL. It takes effect the next time the process is queued (its
/// next yield or wake-up); processes it spawns do not inherit it. `max`, reserved by the
/// BEAM for its own processes, is not offered.
///
/// Returns `HIVE_OK`; `HIVE_ERR_BAD_ARGUMENT` (unknown priority), `HIVE_ERR_NOT_A_PROCESS`.
///
/// # Safety
/// `old_out` is NULL or a writable `int32_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_set_priority(priority: i32, old_out: *mut i32) -> hive_status {
    guard(|| {
        let Some(p) = Priority::from_raw(priority) else {
            return HIVE_ERR_BAD_ARGUMENT;
        };
        match process::set_priority(p) {
            Ok(old) => {
                if !old_out.is_null() {
                    // SAFETY: non-null and writable per the contract.
                    unsafe { old_out.write(old as i32) };
                }
                HIVE_OK
            }
            Err(e) => code(e.0),
        }
    })
}

/// Announces a blocking call in the calling process's own code (a blocking system call,
/// file I/O, a C library function): the process's worker — the other processes queued on it
/// and the timers on its wheel — goes to another OS thread at once, rather than after the
/// 10 ms a held worker keeps it. The process keeps its OS thread and may block on it; its
/// next `hive_*` call (normally `hive_blocking_end`) moves it to a worker, on another OS
/// thread. Go's hand-off around a blocking system call (the BEAM uses dirty schedulers).
/// Counted in `hive_runtime_stats.takeovers`.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_A_PROCESS` (not called from a process).
#[no_mangle]
pub extern "C" fn hive_blocking_begin() -> hive_status {
    // `blocking_begin` enters the runtime itself: the hand-off needs it to be the
    // outermost entry.
    guard_entering(|| result_code(process::blocking_begin().map_err(|e| e.0)))
}

/// Ends a blocking section begun by `hive_blocking_begin`: the calling process is back on a
/// worker when this returns (on whichever OS thread runs it). Without a blocking section it
/// does nothing.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_A_PROCESS` (not called from a process).
#[no_mangle]
pub extern "C" fn hive_blocking_end() -> hive_status {
    guard(|| result_code(process::blocking_end().map_err(|e| e.0)))
}

/// Gives up the rest of the time slice (`erlang:yield/0`): the process goes to the back of
/// its run queue. Returns `HIVE_OK` once resumed, or `HIVE_ERR_NOT_A_PROCESS`.
#[no_mangle]
pub extern "C" fn hive_yield() -> hive_status {
    guard(|| match process::current() {
        // SAFETY: the calling process.
        Ok(pcb) => unsafe {
            process::yield_raw(pcb);
            HIVE_OK
        },
        Err(s) => code(s),
    })
}

/// Suspends the calling process for at least `ms` milliseconds (`timer:sleep/1`) without
/// taking any message: it waits on its worker's timer wheel, with no busy waiting and no
/// blocked worker thread. 0 only yields. Messages arriving meanwhile stay queued.
///
/// Returns `HIVE_OK` once the time has passed; `HIVE_ERR_BAD_ARGUMENT` (ms negative or
/// above 4294967295), `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_REENTRANT` (ms > 0 from inside a
/// `hive_receive_match` predicate: the receive owns the process's timeout).
#[no_mangle]
pub extern "C" fn hive_sleep(ms: i64) -> hive_status {
    guard(|| {
        if !(0..=process::MAX_TIMEOUT_MS).contains(&ms) {
            return HIVE_ERR_BAD_ARGUMENT;
        }
        match process::current() {
            // SAFETY: the calling process.
            Ok(pcb) => result_code(unsafe { process::sleep_raw(pcb, ms as u64) }),
            Err(s) => code(s),
        }
    })
}

/// Charges one reduction and yields if the slice is used up: the call a backend inserts at
/// loop back-edges and function entries. Returns `HIVE_OK` or `HIVE_ERR_NOT_A_PROCESS`.
/// The inline alternative: `if (--ctx->reductions <= 0) hive_yield();` with `ctx` from
/// `hive_current_ctx()`.
#[no_mangle]
pub extern "C" fn hive_reduction_check() -> hive_status {
    hive_consume_reductions(1)
}

/// Charges `n` reductions (e.g. for a costly builtin) and yields if the slice is used up.
/// Returns `HIVE_OK` or `HIVE_ERR_NOT_A_PROCESS`.
#[no_mangle]
pub extern "C" fn hive_consume_reductions(n: u32) -> hive_status {
    guard_entering(|| match process::entered() {
        // SAFETY: the calling process.
        Ok((_rt, pcb)) => unsafe {
            process::consume_raw(pcb, n.min(i32::MAX as u32) as i32);
            HIVE_OK
        },
        Err(s) => code(s),
    })
}

/// The calling process's context header, or NULL outside a process. Valid until the
/// process exits, on whichever worker it runs (it lives in the process, not the thread), so
/// generated code may fetch it once at entry and keep it in a register. The scheduler sets
/// `reductions` to `HIVE_REDUCTIONS_PER_SLICE` at every resume.
#[no_mangle]
pub extern "C" fn hive_current_ctx() -> *mut HiveCtx {
    guard_value(std::ptr::null_mut(), || {
        process::ctx().map_or(std::ptr::null_mut(), |p| p.as_ptr())
    })
}

/// Whether `pid` is alive (`erlang:is_process_alive/1`): 1 alive, 0 not alive (dead,
/// exiting, unknown, pid 0), or a negative status: `HIVE_ERR_BAD_ARGUMENT` (a pid of
/// another node: `badarg` on the BEAM, case 143), `HIVE_ERR_NOT_INITIALIZED`,
/// `HIVE_ERR_SHUT_DOWN`. Called from a process, the answer is
/// ordered after every signal the caller sent to `pid` before (BEAM case 23: after
/// `hive_exit_pid(p, HIVE_REASON_KILL, …)` it returns 0); the caller may yield while `pid`
/// handles them. From another thread it is a snapshot.
#[no_mangle]
pub extern "C" fn hive_is_alive(pid: hive_pid) -> i32 {
    guard(|| {
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(s) => return code(s),
        };
        match rt.is_alive(crate::Pid(pid)) {
            Ok(a) => i32::from(a),
            Err(s) => code(s),
        }
    })
}

/// Writes the number of live processes to `*out`.
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_NOT_INITIALIZED`,
/// `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `out` is NULL or a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_process_count(out: *mut u64) -> hive_status {
    guard(|| {
        if out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        match runtime() {
            Ok(rt) => {
                // SAFETY: non-null, writable per the contract.
                unsafe { out.write(rt.table.live() as u64) };
                HIVE_OK
            }
            Err(s) => code(s),
        }
    })
}

/// Threads in the blocking pool at most (calls beyond wait in order).
pub const HIVE_POOL_THREADS: usize = 16;

#[cfg(test)]
#[test]
fn pool_threads_match_the_pool() {
    assert_eq!(HIVE_POOL_THREADS, crate::io::pool::POOL_THREADS);
}

/// Where a blocking function puts its result (see `hive_blocking_call`); valid only while
/// the function runs.
#[repr(C)]
#[derive(Debug)]
pub struct hive_reply {
    _opaque: [u8; 0],
}

/// Runs `f(arg copy, arg_len, reply)` on the blocking pool (`arg` points to the runtime's
/// copy of the argument, valid while `f` runs; `f` may set its result with
/// `hive_reply_set(reply, …)`), a thread that is not a worker,
/// and returns at once with the call's reference in `*ref_out`. When `f` returns, the
/// calling process gets a `HIVE_MSG_REPLY` message: `hive_msg_call_ref` is the reference,
/// the payload what `f` gave `hive_reply_set` (empty if nothing). For file I/O, DNS, C
/// libraries that block (the BEAM's dirty I/O schedulers). At most `HIVE_POOL_THREADS` run
/// at once; more wait in order. `f` must not call other `hive_*` functions (it runs on no
/// process); a reply whose process has exited is dropped.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NULL_POINTER` (`f` or `ref_out`
/// NULL, `arg` NULL with `arg_len` > 0), `HIVE_ERR_BAD_LENGTH` (`arg_len` over
/// `HIVE_MAX_MESSAGE_LEN`), `HIVE_ERR_SHUT_DOWN`, `HIVE_ERR_SYSTEM_LIMIT`.
///
/// # Safety
/// `arg` is NULL or readable for `arg_len` bytes; `ref_out` is NULL or writable; `f` is
/// NULL or a function of this type.
#[no_mangle]
pub unsafe extern "C" fn hive_blocking_call(
    f: Option<extern "C" fn(arg: *mut c_void, arg_len: usize, reply: *mut hive_reply)>,
    arg: *const c_void,
    arg_len: usize,
    ref_out: *mut u64,
) -> hive_status {
    guard(|| {
        let Some(f) = f else {
            return HIVE_ERR_NULL_POINTER;
        };
        if ref_out.is_null() || arg.is_null() && arg_len > 0 {
            return HIVE_ERR_NULL_POINTER;
        }
        if arg_len > crate::mailbox::MAX_MESSAGE_LEN {
            return HIVE_ERR_BAD_LENGTH;
        }
        let mut copy = if arg_len == 0 {
            Vec::new()
        } else {
            // SAFETY: non-null and readable for `arg_len` bytes per the contract.
            unsafe { std::slice::from_raw_parts(arg.cast::<u8>(), arg_len) }.to_vec()
        };
        let job = move || {
            let mut out: Vec<u8> = Vec::new();
            let reply = (&mut out as *mut Vec<u8>).cast::<hive_reply>();
            f(copy.as_mut_ptr().cast(), copy.len(), reply);
            out
        };
        match process::blocking_call(job) {
            Ok(r) => {
                // SAFETY: non-null and writable per the contract.
                unsafe { ref_out.write(r) };
                HIVE_OK
            }
            Err(e) => code(e.0),
        }
    })
}

/// Sets the result of the blocking function `reply` belongs to: a copy of `len` bytes at
/// `data` (a second call replaces the first).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER` (`reply` NULL, `data` NULL with `len` > 0),
/// `HIVE_ERR_BAD_LENGTH` (`len` over `HIVE_MAX_MESSAGE_LEN`).
///
/// # Safety
/// `reply` is NULL or the `reply` argument of a blocking function that is running now, on
/// this thread; `data` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn hive_reply_set(
    reply: *mut hive_reply,
    data: *const c_void,
    len: usize,
) -> hive_status {
    if reply.is_null() || data.is_null() && len > 0 {
        return HIVE_ERR_NULL_POINTER;
    }
    if len > crate::mailbox::MAX_MESSAGE_LEN {
        return HIVE_ERR_BAD_LENGTH;
    }
    // SAFETY: `reply` is the running blocking function's, which points to its result
    // vector (see `hive_blocking_call`), used by this thread only.
    let out = unsafe { &mut *reply.cast::<Vec<u8>>() };
    out.clear();
    if len > 0 {
        // SAFETY: non-null and readable for `len` bytes per the contract.
        out.extend_from_slice(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) });
    }
    HIVE_OK
}
