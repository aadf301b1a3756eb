//! Introspection: `hive_get_process_info` (`erlang:process_info/2`) and `hive_get_runtime_stats`
//! (`erlang:statistics/1`). Both read counters without signalling any process, so they are
//! cheap enough to call while benchmarks run; their figures are snapshots (a process
//! caller of `hive_get_process_info` first waits until the target has handled the signals
//! it sent it).

use super::*;
use crate::Pid;

/// `hive_process_info.status`: in a run queue.
pub const HIVE_STATUS_RUNNABLE: i32 = 0;
/// `hive_process_info.status`: running on a worker now.
pub const HIVE_STATUS_RUNNING: i32 = 1;
/// `hive_process_info.status`: blocked in a receive or a sleep.
pub const HIVE_STATUS_WAITING: i32 = 2;
/// `hive_process_info.status`: its exit is being processed. Not reported:
/// `hive_get_process_info` treats an exiting process as gone (`HIVE_ERR_NO_PROCESS`, the
/// BEAM's `undefined`); the value stays reserved.
pub const HIVE_STATUS_EXITING: i32 = 3;

/// Worker run-queue lengths `hive_get_runtime_stats` reports (the first 64 workers).
pub const HIVE_STATS_MAX_WORKERS: usize = 64;

/// A snapshot of one process (`hive_get_process_info`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hive_process_info {
    /// A `HIVE_STATUS_*` value.
    pub status: i32,
    /// A `HIVE_PRIORITY_*` value.
    pub priority: i32,
    /// Messages in its mailbox.
    pub mailbox_len: u64,
    /// Reductions spent so far (updated when it is suspended).
    pub reductions: u64,
    /// 1 when it traps exits.
    pub trap_exit: i32,
    /// Number of processes linked to it (list them with `hive_get_links`).
    pub links: u32,
    /// Number of monitors it holds on others (`hive_get_monitors`).
    pub monitors: u32,
    /// Number of monitors others hold on it (`hive_get_monitored_by`).
    pub monitored_by: u32,
    /// Length of its registered name in bytes, 0 when it has none.
    pub name_len: u32,
    /// Its registered name (`name_len` bytes, not NUL-terminated).
    pub name: [u8; 256],
}

/// Runtime counters and gauges (`hive_get_runtime_stats`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hive_runtime_stats {
    /// Processes alive now.
    pub live: u64,
    /// Processes spawned since start.
    pub spawned: u64,
    /// Processes that exited since start.
    pub exited: u64,
    /// Messages sent since start.
    pub messages_sent: u64,
    /// Reductions spent by all processes since start.
    pub reductions: u64,
    /// Successful steals between workers.
    pub steals: u64,
    /// Times a worker went to sleep for lack of work.
    pub parks: u64,
    /// Timers set and neither fired nor cancelled.
    pub pending_timers: u64,
    /// Processes in the global injector queue.
    pub injector_queue: u64,
    /// Number of workers (schedulers).
    pub schedulers: u32,
    /// Reserved, 0.
    pub reserved: u32,
    /// Processes in each worker's run queues (the first `HIVE_STATS_MAX_WORKERS`).
    pub run_queue: [u64; HIVE_STATS_MAX_WORKERS],
    /// Names registered now (`length(erlang:registered())`).
    pub registered_names: u64,
    /// Times a worker held by one process's own code (a blocking call, a loop that counts
    /// no reductions) for longer than 10 ms was taken over by another thread, which then
    /// ran its timers and run queue (see docs/design.md, "Held workers").
    pub takeovers: u64,
}

/// Fills `*out` with a snapshot of process `pid` (`erlang:process_info/2`): status,
/// priority, mailbox length, reductions, trap_exit, registered name, numbers of links and
/// monitors. Called from a process, it is ordered after the caller's earlier signals to
/// `pid` (BEAM case 23: after `hive_exit_pid(p, …)` that ended `p` it returns
/// `HIVE_ERR_NO_PROCESS`; the caller may yield meanwhile).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NO_PROCESS` (not alive; the BEAM's `undefined`),
/// `HIVE_ERR_NULL_POINTER` (out NULL), `HIVE_ERR_BAD_ARGUMENT` (pid 0, or a pid of another
/// node: `badarg` on the BEAM, case 143), `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `out` is NULL or a writable `hive_process_info`.
#[no_mangle]
pub unsafe extern "C" fn hive_get_process_info(
    pid: hive_pid,
    out: *mut hive_process_info,
) -> hive_status {
    guard(|| {
        if out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        if pid == 0 {
            return HIVE_ERR_BAD_ARGUMENT;
        }
        let info = match runtime().and_then(|rt| rt.process_info(Pid(pid))) {
            Ok(Some(i)) => i,
            Ok(None) => return HIVE_ERR_NO_PROCESS,
            Err(s) => return code(s),
        };
        let mut name = [0u8; 256];
        let n = info.registered_name.as_deref().unwrap_or(&[]);
        name[..n.len()].copy_from_slice(n);
        // SAFETY: non-null and writable per the contract.
        unsafe {
            out.write(hive_process_info {
                status: info.status as i32,
                priority: info.priority as i32,
                mailbox_len: info.mailbox_len,
                reductions: info.reductions,
                trap_exit: i32::from(info.trap_exit),
                links: info.links.len() as u32,
                monitors: info.monitors.len() as u32,
                monitored_by: info.monitored_by.len() as u32,
                name_len: n.len() as u32,
                name,
            })
        };
        HIVE_OK
    })
}

/// Fills `*out` with the runtime's counters and gauges (`erlang:statistics/1`).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_NOT_INITIALIZED`,
/// `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `out` is NULL or a writable `hive_runtime_stats`.
#[no_mangle]
pub unsafe extern "C" fn hive_get_runtime_stats(out: *mut hive_runtime_stats) -> hive_status {
    guard(|| {
        if out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(s) => return code(s),
        };
        let s = rt.stats();
        let mut run_queue = [0u64; HIVE_STATS_MAX_WORKERS];
        for (d, v) in run_queue.iter_mut().zip(&s.run_queue) {
            *d = *v;
        }
        // SAFETY: non-null and writable per the contract.
        unsafe {
            out.write(hive_runtime_stats {
                live: s.live,
                spawned: s.spawned,
                exited: s.exited,
                messages_sent: s.messages_sent,
                reductions: s.reductions,
                steals: s.steals,
                parks: s.parks,
                pending_timers: s.pending_timers,
                injector_queue: s.injector_queue,
                schedulers: s.run_queue.len() as u32,
                reserved: 0,
                run_queue,
                registered_names: s.registered_names,
                takeovers: s.takeovers,
            })
        };
        HIVE_OK
    })
}
