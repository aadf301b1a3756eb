//! Runtime and spawn configuration.

/// Runtime configuration (the Rust twin of `hive_config`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Number of scheduler (worker) threads. 0 = the number of cores the OS lets this
    /// process use (`std::thread::available_parallelism`).
    pub schedulers: usize,
    /// Default stack size of a process, in bytes (usable bytes, excluding the guard page).
    /// Rounded up to a power of two between [`MIN_STACK_SIZE`] and [`MAX_STACK_SIZE`].
    /// Only the pages a process touches are resident.
    pub stack_size: usize,
    /// Capacity of the pid table: the most processes that can be alive at once.
    /// Rounded up to a power of two, at most 2^24. The table reserves 8 bytes of address
    /// space per entry; untouched parts cost no memory.
    pub max_processes: usize,
    /// Bytes of guard below every process stack: an access there ends the process with
    /// `stack_overflow` (`docs/design.md`, "Stack overflow"). Rounded up to whole pages
    /// (4 KiB); 0 = [`DEFAULT_GUARD_SIZE`] (one page); at most [`MAX_GUARD_SIZE`] (512 KiB).
    /// A guard costs address space only (no memory, no extra VMA). Code compiled with stack
    /// probes never needs more than one page; without probes, a function whose frame is
    /// larger than the guard can skip it and write into the stack below (`docs/abi.md`,
    /// "Stack probes").
    pub guard_size: usize,
    /// Microseconds the idle worker holding the event poller keeps polling without
    /// blocking before it sleeps, when sockets are open, every worker is idle and the
    /// previous idle spell was short (`docs/io.md`, "Busy wait"; the BEAM's scheduler busy
    /// wait, `erl +sbwt`, and Go's spinning threads). A message over a socket then finds a
    /// worker awake instead of waking a sleeping thread (tens of µs in a virtual machine).
    /// 0 = never; at most [`MAX_POLL_SPIN_US`]. Default [`DEFAULT_POLL_SPIN_US`].
    pub poll_spin_us: u32,
}

/// Smallest accepted stack size, in bytes.
pub const MIN_STACK_SIZE: usize = 16 * 1024;
/// Largest accepted stack size, in bytes.
pub const MAX_STACK_SIZE: usize = 64 * 1024 * 1024;
/// Default process stack size, in bytes (usable, excluding the guard page).
pub const DEFAULT_STACK_SIZE: usize = 64 * 1024;
/// Default capacity of the pid table.
pub const DEFAULT_MAX_PROCESSES: usize = 1 << 22;
/// Upper bound of [`Config::max_processes`] (the 24 index bits of a pid).
pub const MAX_PROCESSES_LIMIT: usize = 1 << 24;
/// Upper bound of [`Config::schedulers`].
pub const MAX_SCHEDULERS: usize = 1024;
/// Default guard below each process stack, in bytes (one page).
pub const DEFAULT_GUARD_SIZE: usize = crate::stack::GUARD_UNIT;
/// Default [`Config::poll_spin_us`], µs.
pub const DEFAULT_POLL_SPIN_US: u32 = 50;
/// Largest accepted [`Config::poll_spin_us`], µs (10 ms).
pub const MAX_POLL_SPIN_US: u32 = 10_000;
/// Largest accepted [`Config::guard_size`], in bytes (512 KiB).
pub const MAX_GUARD_SIZE: usize = crate::stack::MAX_GUARD;

impl Default for Config {
    fn default() -> Self {
        Config {
            schedulers: 0,
            stack_size: DEFAULT_STACK_SIZE,
            max_processes: DEFAULT_MAX_PROCESSES,
            guard_size: DEFAULT_GUARD_SIZE,
            poll_spin_us: DEFAULT_POLL_SPIN_US,
        }
    }
}

impl Config {
    /// Checks ranges and fills in defaults: returns the effective configuration.
    pub(crate) fn resolve(&self) -> Result<Config, crate::Status> {
        use crate::Status;
        let schedulers = if self.schedulers == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.schedulers
        };
        if schedulers > MAX_SCHEDULERS {
            return Err(Status::ErrBadArgument);
        }
        let stack_size = stack_class(self.stack_size).ok_or(Status::ErrBadLength)?;
        if self.max_processes == 0 || self.max_processes > MAX_PROCESSES_LIMIT {
            return Err(Status::ErrBadArgument);
        }
        let guard_size = match self.guard_size {
            0 => DEFAULT_GUARD_SIZE,
            g if g > MAX_GUARD_SIZE => return Err(Status::ErrBadLength),
            g => g.next_multiple_of(crate::stack::GUARD_UNIT),
        };
        if self.poll_spin_us > MAX_POLL_SPIN_US {
            return Err(Status::ErrBadArgument);
        }
        Ok(Config {
            schedulers,
            stack_size,
            max_processes: self.max_processes.next_power_of_two(),
            guard_size,
            poll_spin_us: self.poll_spin_us,
        })
    }
}

/// Rounds a requested stack size (bytes) up to its size class, or None when out of range.
/// (`hive_init` rounds a small default up to [`MIN_STACK_SIZE`]; a spawn that asks for less
/// than [`MIN_STACK_SIZE`] is refused before this, see `RtInner::spawn_with`.)
pub(crate) fn stack_class(size: usize) -> Option<usize> {
    if size > MAX_STACK_SIZE {
        return None;
    }
    Some(size.max(MIN_STACK_SIZE).next_power_of_two())
}

/// Scheduling priority of a process (BEAM `process_flag(priority, _)`, case 99; `max`,
/// which the BEAM reserves for its own system processes, is not offered). High-priority processes run before any normal or low one; a low-priority
/// process runs when no normal one is ready, and at least once every 8 normal runs
/// (the BEAM's `RESCHEDULE_LOW`), so it is never starved.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Priority {
    /// Runs when nothing normal is ready, or once every 8 normal runs.
    Low = 0,
    /// The default.
    #[default]
    Normal = 1,
    /// Runs before every normal and low process.
    High = 2,
}

impl Priority {
    pub(crate) fn from_raw(v: i32) -> Option<Priority> {
        match v {
            0 => Some(Priority::Low),
            1 => Some(Priority::Normal),
            2 => Some(Priority::High),
            _ => None,
        }
    }
}

/// Options of one spawn (the Rust twin of `hive_spawn_opts`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpawnOptions {
    /// Scheduling priority.
    pub priority: Priority,
    /// Stack size in bytes (usable, excluding the guard); 0 = the runtime's default
    /// ([`Config::stack_size`]). Otherwise at least [`MIN_STACK_SIZE`] (16 KiB: the 8 KiB
    /// every ABI call needs, `overflow::ABI_HEADROOM`, plus room for the process's own
    /// frames) and at most [`MAX_STACK_SIZE`]; a spawn outside that range fails with
    /// `ErrBadLength`. Rounded up to a power of two.
    pub stack_size: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_size_defaults_rounds_to_pages_and_is_bounded() {
        let guard = |g| {
            Config {
                guard_size: g,
                schedulers: 1,
                ..Config::default()
            }
            .resolve()
            .map(|c| c.guard_size)
        };
        assert_eq!(Config::default().guard_size, 4096);
        assert_eq!(guard(0), Ok(4096));
        assert_eq!(guard(1), Ok(4096));
        assert_eq!(guard(5000), Ok(8192));
        assert_eq!(guard(128 * 1024), Ok(128 * 1024));
        assert_eq!(guard(MAX_GUARD_SIZE), Ok(512 * 1024));
        assert_eq!(guard(MAX_GUARD_SIZE + 1), Err(crate::Status::ErrBadLength));
        assert_eq!(guard(usize::MAX), Err(crate::Status::ErrBadLength));
    }
}
