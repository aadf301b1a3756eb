//! The public [`Runtime`] handle (the Rust API used from threads that are not processes).

use std::sync::Arc;
use std::time::Duration;

use super::info::{ProcessInfo, RuntimeStats};
use super::timers::TimerDest;
use super::RtInner;
use crate::config::{Config, SpawnOptions};
use crate::pid::Pid;
use crate::process::pcb::{Entry, ExitWaiter};
use crate::reason::ExitReason;
use crate::sched::{current_pcb, current_worker, Caller};
use crate::status::{Error, Result, Status};

/// A Hive runtime: its workers run until [`Runtime::shutdown`] (or drop).
///
/// ```
/// use hive_rt::{process, Config, Runtime};
/// let rt = Runtime::new(Config { schedulers: 2, ..Default::default() }).unwrap();
/// // `run` spawns a process and waits for its exit reason.
/// assert!(rt.run(|| { process::yield_now().unwrap(); }).unwrap().is_normal());
/// // A process still blocked at shutdown is stopped with reason `shutdown`.
/// let pid = rt.spawn(|| { process::receive(None).unwrap(); }).unwrap();
/// assert!(rt.is_alive(pid));
/// assert_eq!(rt.shutdown(), 1);
/// assert!(!rt.is_alive(pid));
/// ```
#[derive(Debug)]
pub struct Runtime {
    pub(crate) inner: Arc<RtInner>,
}

impl Runtime {
    /// Starts a runtime with its worker threads.
    ///
    /// Errors: `ErrBadArgument` (scheduler count above 1024, `max_processes` 0 or above
    /// 2^24), `ErrBadLength` (stack size above 64 MiB), `ErrNoMemory` (pid table),
    /// `ErrSystemLimit` (a worker thread could not be started).
    pub fn new(config: Config) -> Result<Runtime> {
        let _rt = crate::sched::enter();
        Ok(Runtime {
            inner: RtInner::start(&config).map_err(Error)?,
        })
    }

    /// The effective configuration (defaults filled in, sizes rounded).
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Spawns a process running `f` with default options. Works from any thread.
    ///
    /// A panic in `f` ends the process with an `Error` reason `"panic: <message>"`.
    /// Errors: `ErrShutDown`, `ErrSystemLimit` (pid table full), `ErrNoMemory` (stacks).
    pub fn spawn<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<Pid> {
        let _rt = crate::sched::enter();
        self.spawn_opts(SpawnOptions::default(), f)
    }

    /// Spawns a process with options. Errors as [`Runtime::spawn`], plus `ErrBadLength`
    /// for a stack size above 64 MiB.
    pub fn spawn_opts<F: FnOnce() + Send + 'static>(
        &self,
        opts: SpawnOptions,
        f: F,
    ) -> Result<Pid> {
        let _rt = crate::sched::enter();
        self.inner
            .spawn(Entry::rust(f), &[], opts, None)
            .map_err(Error)
    }

    /// Spawns `f` and blocks the calling thread until it exits; returns its exit reason.
    /// Errors as [`Runtime::spawn`], plus `ErrInProcess` when called from a process.
    pub fn run<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<ExitReason> {
        let _rt = crate::sched::enter();
        self.run_opts(SpawnOptions::default(), f)
    }

    /// As [`Runtime::run`], with spawn options.
    pub fn run_opts<F: FnOnce() + Send + 'static>(
        &self,
        opts: SpawnOptions,
        f: F,
    ) -> Result<ExitReason> {
        let _rt = crate::sched::enter();
        if !current_pcb().is_null() || !current_worker().is_null() {
            return Err(Error(Status::ErrInProcess));
        }
        let waiter = Arc::new(ExitWaiter::default());
        self.inner
            .spawn(Entry::rust(f), &[], opts, Some(&waiter))
            .map_err(Error)?;
        RtInner::block_on(&waiter, None).map_err(Error)
    }

    /// Sends a copy of `data` to `to` from any thread (the sender pid of the message is
    /// [`Pid::NONE`] outside a process). A dead or unknown pid is not an error (BEAM case 2).
    /// Errors: `ErrBadArgument` (pid 0), `ErrBadLength` (over 1 GiB), `ErrNoMemory`,
    /// `ErrShutDown`.
    pub fn send(&self, to: Pid, data: &[u8]) -> Result<()> {
        let _rt = crate::sched::enter();
        crate::process::send_on(&self.inner, &Caller::get(), to, data)
    }

    /// Blocks until `pid` exits and returns its exit reason. A process that has already
    /// exited gives `ExitReason::Noproc` at once, as `monitor/2` on a dead process does
    /// (BEAM case 57): a process spawned from a thread may run and exit before its spawner
    /// calls this, and that is not an error (use [`Runtime::run`] to get the real reason
    /// whatever the timing).
    /// Errors: `ErrNoProcess` (this runtime never issued `pid`), `ErrInProcess` (called from
    /// a process: use a monitor there), `ErrShutDown`.
    pub fn wait(&self, pid: Pid) -> Result<ExitReason> {
        let _rt = crate::sched::enter();
        self.inner.wait(pid, None).map_err(Error)
    }

    /// As [`Runtime::wait`], giving up after `timeout` with `Status::Timeout`.
    pub fn wait_timeout(&self, pid: Pid, timeout: Duration) -> Result<ExitReason> {
        let _rt = crate::sched::enter();
        self.inner.wait(pid, Some(timeout)).map_err(Error)
    }

    /// Registers `name` (1 to 255 bytes, no NUL) for `pid` (`erlang:register/2`, BEAM cases
    /// 79–80): a name maps to one process and a process holds at most one name; the name is
    /// released when the process exits, before the exit is signalled (cases 82–83).
    /// Errors: `ErrBadArgument` (empty name, NUL byte, pid 0, a pid of another node: case
    /// 103), `ErrBadLength` (over 255
    /// bytes), `ErrNameTaken`, `ErrAlreadyNamed`, `ErrNoProcess` (not alive), `ErrShutDown`.
    pub fn register(&self, name: &[u8], pid: Pid) -> Result<()> {
        let _rt = crate::sched::enter();
        self.inner.register(name, pid).map_err(Error)
    }

    /// Removes a registered name (`erlang:unregister/1`, case 81).
    /// Errors: `ErrBadArgument`, `ErrBadLength`, `ErrNotRegistered`.
    pub fn unregister(&self, name: &[u8]) -> Result<()> {
        let _rt = crate::sched::enter();
        self.inner.unregister(name).map_err(Error)
    }

    /// The pid registered as `name`, or [`Pid::NONE`] (`erlang:whereis/1`).
    /// Errors: `ErrBadArgument`, `ErrBadLength`.
    pub fn whereis(&self, name: &[u8]) -> Result<Pid> {
        let _rt = crate::sched::enter();
        self.inner.whereis(name).map_err(Error)
    }

    /// The registered name of `pid`, if any (`process_info(P, registered_name)`).
    pub fn registered_name(&self, pid: Pid) -> Option<Vec<u8>> {
        let _rt = crate::sched::enter();
        self.inner.registry.name_of(pid).map(Vec::from)
    }

    /// Sends a copy of `data` to the process registered as `name` (`Name ! Msg`).
    /// Errors: those of [`Runtime::send`], plus `ErrNotRegistered` and the name errors.
    pub fn send_named(&self, name: &[u8], data: &[u8]) -> Result<()> {
        let _rt = crate::sched::enter();
        self.inner
            .send_named(&Caller::get(), name, data)
            .map_err(Error)
    }

    /// Sends a copy of `data` to `dest` in `ms` milliseconds (`erlang:send_after/3`, BEAM
    /// cases 85, 90–95); returns the timer reference. Works from any thread.
    /// Errors: `ErrBadArgument` (ms > `MAX_TIMER_MS`, pid 0, a pid of another node: case
    /// 113, bad name), `ErrBadLength`,
    /// `ErrNoMemory`, `ErrSystemLimit` (2^26 timers pending), `ErrShutDown`.
    pub fn send_after(&self, dest: TimerDest<'_>, ms: u64, data: &[u8]) -> Result<u64> {
        let _rt = crate::sched::enter();
        self.inner
            .set_timer(
                &Caller::get(),
                dest.owned(),
                ms,
                data,
                crate::MessageKind::Data,
            )
            .map_err(Error)
    }

    /// As [`Runtime::send_after`], delivering a [`crate::MessageKind::Timeout`] message that
    /// carries the timer reference (`erlang:start_timer/3`, case 86).
    pub fn start_timer(&self, dest: TimerDest<'_>, ms: u64, data: &[u8]) -> Result<u64> {
        let _rt = crate::sched::enter();
        self.inner
            .set_timer(
                &Caller::get(),
                dest.owned(),
                ms,
                data,
                crate::MessageKind::Timeout,
            )
            .map_err(Error)
    }

    /// Cancels a timer: `Some(ms left)`, or None when it fired, was cancelled, its
    /// destination exited or it never existed (`erlang:cancel_timer/1`, cases 87, 93, 94).
    pub fn cancel_timer(&self, tref: u64) -> Result<Option<u64>> {
        let _rt = crate::sched::enter();
        self.inner.cancel_timer(tref).map_err(Error)
    }

    /// The ms left of a timer, or None (`erlang:read_timer/1`, case 88).
    pub fn read_timer(&self, tref: u64) -> Result<Option<u64>> {
        let _rt = crate::sched::enter();
        self.inner.read_timer(tref).map_err(Error)
    }

    /// A snapshot of process `pid` (`erlang:process_info/2`), or None when it is not alive.
    /// Cheap: no signal to the process, no lock but the registry shard of its name.
    /// Errors: `ErrShutDown`.
    pub fn process_info(&self, pid: Pid) -> Result<Option<ProcessInfo>> {
        let _rt = crate::sched::enter();
        self.inner.process_info(pid).map_err(Error)
    }

    /// Runtime counters and gauges (`erlang:statistics/1`), cheap enough to poll while
    /// benchmarks run.
    pub fn stats(&self) -> RuntimeStats {
        let _rt = crate::sched::enter();
        self.inner.stats()
    }

    /// Timers set and not yet fired or cancelled.
    pub fn pending_timers(&self) -> usize {
        let _rt = crate::sched::enter();
        self.inner.timers.pending()
    }

    /// Live processes.
    pub fn process_count(&self) -> usize {
        let _rt = crate::sched::enter();
        self.inner.table.live()
    }

    /// True while `pid` is alive and not exiting (`erlang:is_process_alive/1`). From a
    /// process of this runtime it is ordered after the signals the caller sent to `pid`
    /// (BEAM case 23; it may yield meanwhile); from another thread it is a snapshot.
    pub fn is_alive(&self, pid: Pid) -> bool {
        let _rt = crate::sched::enter();
        self.inner.is_alive(pid).unwrap_or(false)
    }

    /// Sends an exit signal with `reason` to `pid` from this thread (`erlang:exit/2`; the
    /// sender pid is none). See [`crate::process::exit_pid`] for the semantics.
    /// Errors: `ErrBadArgument` (pid 0), `ErrNoMemory`.
    pub fn exit_pid(&self, pid: Pid, reason: ExitReason) -> Result<()> {
        let _rt = crate::sched::enter();
        crate::signal::request::exit_pid(&self.inner, &Caller::get(), pid, &reason).map_err(Error)
    }

    /// Starts distribution: this runtime becomes the node `opts.name`, listens for other
    /// nodes, registers with EPMD (see [`crate::dist::Options`] for each setting and its
    /// default), and from then on sends, links, monitors and exit signals reach pids of
    /// other nodes (`docs/distribution.md`). Returns the node's name, creation and port.
    /// May be called from a process or from another thread; waits at most twice
    /// `setup_time_ms`.
    /// Errors: `ErrNotDistributed` (already started), `ErrBadArgument` (a name with an
    /// empty part), `ErrBadLength` (a name over 255 characters), `ErrIo` (the cookie file
    /// could not be read or made), `ErrAddrInUse` (the listen address, or EPMD's port for
    /// Hive's own port mapper), `ErrNameTaken` (EPMD refused the name: a node of that name
    /// runs), `ErrTlsConfig` (the TLS options' files are unusable), `Timeout`,
    /// `ErrShutDown`, `ErrSystemLimit`.
    pub fn dist_start(&self, opts: crate::dist::Options) -> Result<crate::dist::NodeInfo> {
        let _rt = crate::sched::enter();
        crate::dist::start(&self.inner, opts)
    }

    /// Stops distribution: every connection is closed (links and monitors across them end
    /// with `noconnection` on this node), the node leaves EPMD. Errors:
    /// `ErrNotDistributed`.
    pub fn dist_stop(&self) -> Result<()> {
        let _rt = crate::sched::enter();
        crate::dist::stop(&self.inner)
    }

    /// Stops every process (exit reason `shutdown`), cancels every timer, joins the workers
    /// and returns how many processes were stopped. Later calls return 0. Processes with a
    /// terminate callback are first sent an untrappable exit signal `shutdown` and run it
    /// (waiting at most 2 s for them, then abandoning a callback still running; spawns fail
    /// meanwhile). Called from
    /// inside a process it begins the shutdown on a helper thread and returns 0 at once
    /// (like `init:stop/0`); the calling process is stopped with the others.
    pub fn shutdown(&self) -> usize {
        let _rt = crate::sched::enter();
        self.inner.shutdown().ok().flatten().unwrap_or(0)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // The C ABI's global runtime is never dropped; a Rust runtime stops with its handle.
        let _ = self.inner.shutdown();
    }
}
