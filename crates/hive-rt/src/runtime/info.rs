//! Introspection: `process_info/2`, `is_process_alive/1` and runtime statistics.

use super::RtInner;
use crate::pid::Pid;
use crate::sched::Caller;
use crate::status::Status;

/// Runtime-wide counters and gauges (`erlang:statistics/1`, `erlang:system_info/1`), a
/// snapshot: each figure is read without stopping anything, so they need not add up
/// exactly while processes run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeStats {
    /// Processes alive now.
    pub live: u64,
    /// Processes spawned since start.
    pub spawned: u64,
    /// Processes that have exited since start.
    pub exited: u64,
    /// Messages sent (to live or dead processes) since start.
    pub messages_sent: u64,
    /// Reductions spent by all processes since start.
    pub reductions: u64,
    /// Successful steals of work from other workers.
    pub steals: u64,
    /// Times a worker went to sleep for lack of work.
    pub parks: u64,
    /// Timers set and neither fired nor cancelled.
    pub pending_timers: u64,
    /// Processes waiting in each worker's run queues (all priorities), by worker.
    pub run_queue: Vec<u64>,
    /// Processes waiting in the global injector (spawned or woken by plain threads).
    pub injector_queue: u64,
    /// Names registered now (`length(erlang:registered())`).
    pub registered_names: u64,
    /// Times a worker held by one process's own code for longer than 10 ms was taken over
    /// by another thread (see `docs/design.md`, "Held workers").
    pub takeovers: u64,
}

/// Status of a process (`process_info(P, status)`).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessStatus {
    /// In a run queue, ready to run.
    Runnable = 0,
    /// Running on a worker now.
    Running = 1,
    /// Blocked in `receive` (or `sleep`).
    Waiting = 2,
    /// Exiting: its exit is being processed. Not reported by `process_info`, which treats
    /// an exiting process as gone, like the BEAM's `undefined` (kept for ABI stability).
    Exiting = 3,
}

/// What `process_info/2` tells about a process (a snapshot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Scheduling status.
    pub status: ProcessStatus,
    /// Messages in its mailbox.
    pub mailbox_len: u64,
    /// Reductions spent so far (updated when it is suspended).
    pub reductions: u64,
    /// Its priority.
    pub priority: crate::Priority,
    /// Whether it traps exits (`process_flag(trap_exit)`).
    pub trap_exit: bool,
    /// Its registered name, if any.
    pub registered_name: Option<Vec<u8>>,
    /// Processes linked to it (`process_info(P, links)`).
    pub links: Vec<Pid>,
    /// Monitors it holds: (reference, monitored pid) (`process_info(P, monitors)`).
    pub monitors: Vec<(u64, Pid)>,
    /// Processes monitoring it (`process_info(P, monitored_by)`; one entry per monitor).
    pub monitored_by: Vec<Pid>,
}

impl RtInner {
    /// A snapshot of a live process (`erlang:process_info/2`), or None when it is dead or
    /// exiting. Called from a process, it is ordered after the signals that process sent
    /// to `pid` before (case 23; it may yield while `pid` handles them); from another
    /// thread it is a plain snapshot.
    pub(crate) fn process_info(
        &self,
        pid: Pid,
    ) -> std::result::Result<Option<ProcessInfo>, Status> {
        use std::sync::atomic::Ordering::Relaxed;
        if pid.node() != 0 {
            // `process_info/2` of a remote pid raises `badarg` (case 143).
            return Err(Status::ErrBadArgument);
        }
        let caller = Caller::get();
        if !caller.pcb.is_null() && !crate::signal::request::alive_ordered(self, &caller, pid)? {
            return Ok(None);
        }
        let _access = self.access().ok_or(Status::ErrShutDown)?;
        let Some(pcb) = self.table.lookup(pid) else {
            return Ok(None);
        };
        // SAFETY: `_access` keeps the PCB alive.
        let pcb = unsafe { pcb.as_ref() };
        if pcb.is_exiting() {
            return Ok(None);
        }
        let status = match pcb.state.status_snapshot() {
            crate::process::state::RUNNING => ProcessStatus::Running,
            crate::process::state::WAITING => ProcessStatus::Waiting,
            crate::process::state::EXITED => ProcessStatus::Exiting,
            _ => ProcessStatus::Runnable,
        };
        let queued = crate::process::queued(pcb);
        let (mut links, mut monitors, mut monitored_by) = match pcb.sig.lock().data.as_deref() {
            Some(d) => (
                d.links.iter().copied().collect::<Vec<_>>(),
                d.monitors.iter().map(|(&r, &p)| (r, p)).collect::<Vec<_>>(),
                d.monitored_by.values().copied().collect::<Vec<_>>(),
            ),
            None => Default::default(),
        };
        links.sort_unstable();
        monitors.sort_unstable();
        monitored_by.sort_unstable();
        Ok(Some(ProcessInfo {
            status,
            mailbox_len: queued as u64,
            reductions: pcb.reductions.load(Relaxed),
            priority: pcb.priority(),
            trap_exit: pcb.trap_exit.load(Relaxed),
            registered_name: self.registry.name_of(pid).map(Vec::from),
            links,
            monitors,
            monitored_by,
        }))
    }

    /// `is_alive/1`: ordered after the caller's earlier signals when called from a
    /// process (case 23), else a snapshot. An exiting process is not alive.
    pub(crate) fn is_alive(&self, pid: Pid) -> std::result::Result<bool, Status> {
        if pid.node() != 0 {
            // `is_process_alive/1` of a remote pid raises `badarg` (case 143).
            return Err(Status::ErrBadArgument);
        }
        let caller = Caller::get();
        if !caller.pcb.is_null() {
            return crate::signal::request::alive_ordered(self, &caller, pid);
        }
        let _access = self.access().ok_or(Status::ErrShutDown)?;
        Ok(self
            .table
            .lookup(pid)
            // SAFETY: `_access` keeps the PCB alive.
            .is_some_and(|p| !unsafe { p.as_ref() }.is_exiting()))
    }

    /// Runtime counters and gauges (see [`RuntimeStats`]).
    pub(crate) fn stats(&self) -> RuntimeStats {
        use std::sync::atomic::Ordering::Relaxed;
        let ext = &self.external_stats;
        let mut s = RuntimeStats {
            live: self.table.live() as u64,
            spawned: ext.spawned.load(Relaxed),
            exited: ext.exited.load(Relaxed),
            messages_sent: ext.sent.load(Relaxed),
            pending_timers: self.timers.pending() as u64,
            registered_names: self.registry.len() as u64,
            injector_queue: self.sched.injector.iter().map(|q| q.len() as u64).sum(),
            takeovers: self.sched.monitor.takeovers.load(Relaxed),
            ..RuntimeStats::default()
        };
        for w in self.sched.workers.iter() {
            let st = &w.stats;
            s.spawned += st.spawned.get();
            s.exited += st.exited.get();
            s.messages_sent += st.sent.get();
            s.reductions += st.reductions.get();
            s.steals += st.steals.get();
            s.parks += st.parks.get();
            s.run_queue
                .push(w.stealers.iter().map(|q| q.len() as u64).sum());
        }
        s
    }
}
