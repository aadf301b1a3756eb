//! Start-up, shutdown and waiting for a process: `hive_config_default`, `hive_init`,
//! `hive_shutdown`, `hive_run`, `hive_wait`.

use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, AtomicU8, Ordering::AcqRel, Ordering::Acquire};
use std::sync::Arc;
use std::time::Duration;

use super::proc::{hive_spawn_opts, spawn_request};
use super::*;
use crate::config::Config;
use crate::process::pcb::ExitWaiter;
use crate::reason::ExitReason;
use crate::sched::{current_pcb, current_worker};

/// Runtime configuration for `hive_init`. Get the defaults with `hive_config_default`,
/// then change fields.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hive_config {
    /// Number of scheduler (worker) threads; 0 = one per core the process may use.
    /// At most 1024.
    pub schedulers: u32,
    /// Microseconds the idle worker holding the event poller keeps polling without
    /// blocking before it sleeps, while sockets are open, every worker is idle and the
    /// previous idle spell was short (the BEAM's `+sbwt` busy wait; docs/io.md, "Busy
    /// wait"). 0 = never; at most 10,000. Default 50.
    pub poll_spin_us: u32,
    /// Default process stack size in bytes (usable, excluding the guard page); rounded up to
    /// a power of two, at least 16 KiB, at most 64 MiB. Default 64 KiB. Only touched pages
    /// use memory.
    pub stack_size: usize,
    /// Most processes alive at once (pid table size); rounded up to a power of two, at most
    /// 2^24 (16,777,216). Default 2^22. Costs 16 bytes of address space per entry.
    pub max_processes: usize,
    /// Bytes of guard below every process stack; an access there ends that process with
    /// reason `stack_overflow`. Rounded up to whole pages (4 KiB); 0 = the default, 4096
    /// (one page); at most 512 KiB. Costs address space only. Code compiled with stack
    /// probes needs no more than one page; without probes a frame larger than the guard can
    /// skip it and write into another process's stack (docs/abi.md, "Stack probes").
    pub guard_size: usize,
}

/// Kind of an exit reason.
pub type hive_reason_kind = i32;
/// `normal`: the entry function returned.
pub const HIVE_REASON_NORMAL: hive_reason_kind = 0;
/// `kill`.
pub const HIVE_REASON_KILL: hive_reason_kind = 1;
/// `killed`.
pub const HIVE_REASON_KILLED: hive_reason_kind = 2;
/// `noproc`.
pub const HIVE_REASON_NOPROC: hive_reason_kind = 3;
/// `noconnection`.
pub const HIVE_REASON_NOCONNECTION: hive_reason_kind = 4;
/// `shutdown`: also what `hive_shutdown` stops processes with.
pub const HIVE_REASON_SHUTDOWN: hive_reason_kind = 5;
/// Any other reason, carried as bytes (`"panic: ..."` for a Rust panic).
pub const HIVE_REASON_ERROR: hive_reason_kind = 6;

/// Bytes of an error reason that `hive_exit_info` carries inline.
pub const HIVE_EXIT_DATA_MAX: usize = 64;

/// How a process ended (filled in by `hive_wait` and `hive_run`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hive_exit_info {
    /// A `HIVE_REASON_*` value.
    pub kind: hive_reason_kind,
    /// Reserved, 0.
    pub reserved: u32,
    /// Full length of the reason's bytes (0 for the standard reasons); may exceed
    /// `HIVE_EXIT_DATA_MAX`, in which case `data` holds the first bytes.
    pub len: usize,
    /// The reason's bytes, truncated to `HIVE_EXIT_DATA_MAX`.
    pub data: [u8; HIVE_EXIT_DATA_MAX],
}

impl hive_exit_info {
    fn from_reason(r: &ExitReason) -> hive_exit_info {
        let bytes = r.data();
        let mut data = [0u8; HIVE_EXIT_DATA_MAX];
        let n = bytes.len().min(HIVE_EXIT_DATA_MAX);
        data[..n].copy_from_slice(&bytes[..n]);
        hive_exit_info {
            kind: r.kind() as i32,
            reserved: 0,
            len: bytes.len(),
            data,
        }
    }
}

const UNINIT: u8 = 0;
const STARTING: u8 = 1;
const RUNNING: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNINIT);
static GLOBAL: AtomicPtr<RtInner> = AtomicPtr::new(std::ptr::null_mut());

/// The global runtime (also after shutdown: callers check `is_shut_down`).
pub(crate) fn global() -> Result<&'static RtInner, Status> {
    if STATE.load(Acquire) != RUNNING {
        return Err(Status::ErrNotInitialized);
    }
    // SAFETY: set once before STATE became RUNNING (Release/Acquire) and never freed: the
    // global runtime is leaked on purpose so no caller can observe it dangling.
    Ok(unsafe { &*GLOBAL.load(Acquire) })
}

/// Fills `*out` with the default configuration.
///
/// Returns `HIVE_OK`, or `HIVE_ERR_NULL_POINTER` when `out` is NULL.
///
/// # Safety
/// `out` is NULL or points to writable memory for one `hive_config`.
#[no_mangle]
pub unsafe extern "C" fn hive_config_default(out: *mut hive_config) -> hive_status {
    guard(|| {
        if out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        let d = Config::default();
        // SAFETY: non-null, and per the contract writable.
        unsafe {
            out.write(hive_config {
                schedulers: d.schedulers as u32,
                poll_spin_us: d.poll_spin_us,
                stack_size: d.stack_size,
                max_processes: d.max_processes,
                guard_size: d.guard_size,
            })
        };
        HIVE_OK
    })
}

/// Starts the global runtime and its worker threads. One runtime per OS process.
///
/// `config`: NULL for the defaults.
/// Returns `HIVE_OK`; `HIVE_ERR_ALREADY_INITIALIZED` (called before), `HIVE_ERR_SHUT_DOWN`
/// (the runtime was already shut down), `HIVE_ERR_BAD_ARGUMENT` (poll_spin_us >
/// 10,000, schedulers > 1024, max_processes 0 or > 2^24), `HIVE_ERR_BAD_LENGTH` (stack_size >
/// 64 MiB, guard_size > 512 KiB), `HIVE_ERR_NO_MEMORY`, `HIVE_ERR_SYSTEM_LIMIT` (threads
/// could not start).
///
/// # Safety
/// `config` is NULL or points to a readable `hive_config`.
#[no_mangle]
pub unsafe extern "C" fn hive_init(config: *const hive_config) -> hive_status {
    guard(|| {
        let cfg = if config.is_null() {
            Config::default()
        } else {
            // SAFETY: non-null and readable per the contract.
            let c = unsafe { config.read() };
            Config {
                schedulers: c.schedulers as usize,
                stack_size: c.stack_size,
                max_processes: c.max_processes,
                guard_size: c.guard_size,
                poll_spin_us: c.poll_spin_us,
            }
        };
        match STATE.compare_exchange(UNINIT, STARTING, AcqRel, Acquire) {
            Ok(_) => {}
            Err(RUNNING) => {
                return if global().is_ok_and(|rt| rt.is_shut_down()) {
                    HIVE_ERR_SHUT_DOWN
                } else {
                    HIVE_ERR_ALREADY_INITIALIZED
                }
            }
            Err(_) => return HIVE_ERR_ALREADY_INITIALIZED,
        }
        match RtInner::start(&cfg) {
            Ok(rt) => {
                GLOBAL.store(
                    Arc::into_raw(rt) as *mut RtInner,
                    std::sync::atomic::Ordering::Release,
                );
                STATE.store(RUNNING, std::sync::atomic::Ordering::Release);
                HIVE_OK
            }
            Err(s) => {
                STATE.store(UNINIT, std::sync::atomic::Ordering::Release);
                code(s)
            }
        }
    })
}

/// Stops the runtime: every process still alive exits with reason `shutdown`, every
/// pending timer is cancelled, the workers are joined, and the memory of stacks and
/// process control blocks is returned. First, processes with a terminate callback
/// (`hive_set_terminate`) get an untrappable exit signal `shutdown` and run their callback
/// as on any exit (new spawns fail meanwhile; the shutdown waits at most 2 s for them, and
/// a callback still running then is abandoned); the others are then stopped without
/// running anything. `stopped_out` (may be NULL) receives how many
/// processes it stopped. Afterwards every call returns `HIVE_ERR_SHUT_DOWN`, including a
/// second `hive_shutdown` (which, from a plain thread, first waits for the first to finish).
///
/// Called from inside a process, it cannot join the caller's own worker: the shutdown is
/// begun on a helper thread and the call returns `HIVE_OK` at once with `*stopped_out` = 0
/// (like `init:stop/0`); the calling process is stopped with the others, and a thread
/// blocked in `hive_run`/`hive_wait` sees its process exit with `shutdown`.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN`,
/// `HIVE_ERR_SYSTEM_LIMIT` (the helper thread could not be started).
///
/// # Safety
/// `stopped_out` is NULL or points to a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_shutdown(stopped_out: *mut u64) -> hive_status {
    guard(|| {
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(s) => return code(s),
        };
        match rt.shutdown() {
            Ok(n) => {
                if !stopped_out.is_null() {
                    // SAFETY: non-null and writable per the contract.
                    unsafe { stopped_out.write(n.unwrap_or(0) as u64) };
                }
                HIVE_OK
            }
            Err(s) => code(s),
        }
    })
}

/// Spawns a process (as `hive_spawn`) and blocks the calling thread until it exits; its
/// exit reason goes to `*info_out` (may be NULL). The way a C `main` runs its root process.
///
/// Returns `HIVE_OK`; the errors of `hive_spawn`; `HIVE_ERR_IN_PROCESS` (called from a
/// process).
///
/// # Safety
/// As `hive_spawn`; `info_out` is NULL or points to a writable `hive_exit_info`.
#[no_mangle]
pub unsafe extern "C" fn hive_run(
    entry: Option<extern "C" fn(arg: *mut c_void)>,
    arg: *const c_void,
    arg_len: usize,
    opts: *const hive_spawn_opts,
    info_out: *mut hive_exit_info,
) -> hive_status {
    guard(|| {
        if !current_pcb().is_null() || !current_worker().is_null() {
            return HIVE_ERR_IN_PROCESS;
        }
        // SAFETY: `spawn_request` needs `arg` NULL or readable for `arg_len` bytes and `opts`
        // NULL or a readable `hive_spawn_opts`: this function's `# Safety` (as `hive_spawn`)
        // requires both of the caller.
        let req = match unsafe { spawn_request(entry, arg, arg_len, opts) } {
            Ok(r) => r,
            Err(s) => return code(s),
        };
        let waiter = Arc::new(ExitWaiter::default());
        if let Err(s) = req.rt.spawn(req.entry, req.arg, req.opts, Some(&waiter)) {
            return code(s);
        }
        match RtInner::block_on(&waiter, None) {
            Ok(reason) => {
                if !info_out.is_null() {
                    // SAFETY: non-null and writable per the contract.
                    unsafe { info_out.write(hive_exit_info::from_reason(&reason)) };
                }
                HIVE_OK
            }
            Err(s) => code(s),
        }
    })
}

/// Blocks the calling thread (not a process) until process `pid` exits, or `timeout_ms`
/// milliseconds pass (negative = no limit). The exit reason goes to `*info_out` (may be NULL).
///
/// A process that has already exited (and is gone) gives `HIVE_OK` at once with reason
/// `HIVE_REASON_NOPROC`, as `monitor/2` on a dead process gives a DOWN with `noproc` (BEAM
/// case 57): a process spawned from a thread may run and exit before its spawner calls
/// `hive_wait`, and that race is not an error. Its real reason is gone by then; `hive_run`
/// (spawn and wait in one call) always gets it.
///
/// Returns `HIVE_OK`; `HIVE_TIMEOUT`; `HIVE_ERR_NO_PROCESS` (this runtime never issued
/// `pid`: a forged pid or another node's); `HIVE_ERR_BAD_ARGUMENT` (pid 0);
/// `HIVE_ERR_IN_PROCESS`; `HIVE_ERR_NOT_INITIALIZED`; `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `info_out` is NULL or points to a writable `hive_exit_info`.
#[no_mangle]
pub unsafe extern "C" fn hive_wait(
    pid: hive_pid,
    timeout_ms: i64,
    info_out: *mut hive_exit_info,
) -> hive_status {
    guard(|| {
        if pid == 0 {
            return HIVE_ERR_BAD_ARGUMENT;
        }
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(s) => return code(s),
        };
        let timeout = (timeout_ms >= 0).then(|| Duration::from_millis(timeout_ms as u64));
        match rt.wait(crate::Pid(pid), timeout) {
            Ok(reason) => {
                if !info_out.is_null() {
                    // SAFETY: non-null and writable per the contract.
                    unsafe { info_out.write(hive_exit_info::from_reason(&reason)) };
                }
                HIVE_OK
            }
            Err(s) => code(s),
        }
    })
}
