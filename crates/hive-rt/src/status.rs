//! The one status-code enum shared by the whole C ABI, and its Rust error twin.

use std::fmt;

/// Result code of every `hive_*` function. `HIVE_OK` (0) is success; positive values are
/// non-error outcomes; negative values are errors. No function returns a code not listed
/// in its own documentation.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Success.
    Ok = 0,
    /// A `receive` or `wait` reached its timeout without a result (not an error).
    Timeout = 1,
    /// `hive_init` has not been called yet.
    ErrNotInitialized = -1,
    /// `hive_init` was called twice.
    ErrAlreadyInitialized = -2,
    /// The runtime has been shut down (`hive_shutdown`); it cannot be used or restarted.
    ErrShutDown = -3,
    /// A required pointer argument was NULL (or NULL with a non-zero length).
    ErrNullPointer = -4,
    /// A length or size argument is out of range (zero where data is required, larger than
    /// the documented maximum, or overflowing).
    ErrBadLength = -5,
    /// An argument has an invalid value (pid 0, unknown enum value, timeout out of range).
    ErrBadArgument = -6,
    /// The function must be called from inside a process, and the calling thread is not
    /// running one.
    ErrNotAProcess = -7,
    /// No live process has this pid (it exited, or never existed).
    ErrNoProcess = -8,
    /// A system limit was reached (process table full, pid serials exhausted).
    ErrSystemLimit = -9,
    /// Memory (or address space for stacks) could not be obtained.
    ErrNoMemory = -10,
    /// The function may not be called from inside a process (it would block a worker).
    ErrInProcess = -11,
    /// An internal error: a panic was caught at the ABI boundary. The call had no effect
    /// that can be relied on; the runtime keeps working.
    ErrInternal = -12,
    /// The registered name is in use by another process (BEAM case 80).
    ErrNameTaken = -13,
    /// The process already has a registered name; a process holds at most one (case 80).
    ErrAlreadyNamed = -14,
    /// No process is registered under this name (case 80: sending to it is `badarg`).
    ErrNotRegistered = -15,
    /// No such timer: it fired, was cancelled, its destination process exited, or the
    /// reference never named a timer (`cancel_timer`/`read_timer` give `false`, case 87).
    ErrNoTimer = -16,
    /// Called from inside a match predicate of the calling process's own selective
    /// receive, and the call would walk or take from its mailbox (a receive, a receive
    /// mark, the mailbox length, a flushing demonitor, an exit signal to itself) or re-arm
    /// its receive timeout (a sleep). The scan that called the predicate holds its place in
    /// the mailbox; the call is refused with no effect. On the BEAM a guard cannot receive
    /// at all. Also a hibernation from the process's terminate callback (its exit is under
    /// way: there is nothing to wake).
    ErrReentrant = -17,
    /// The socket handle names no open socket: it was closed (by a call, by its owner's
    /// exit, by shutdown) or never named one. Descriptors are reused, handles are not: a
    /// stale handle always gets this, never another socket.
    ErrClosed = -18,
    /// Only the socket's owner (its controlling process) may do this (`{error, not_owner}`
    /// of `gen_tcp`).
    ErrNotOwner = -19,
    /// The peer closed the connection (end of stream) before the data asked for arrived
    /// (`{error, closed}` of `gen_tcp:recv`).
    ErrPeerClosed = -20,
    /// Nobody listens at the address connected to (`ECONNREFUSED`).
    ErrConnRefused = -21,
    /// The connection was reset by the peer, or sending found it closed (`ECONNRESET`,
    /// `EPIPE`; no `SIGPIPE` is raised).
    ErrConnReset = -22,
    /// The address is in use (`EADDRINUSE`).
    ErrAddrInUse = -23,
    /// Another OS error; `hive_socket_errno` gives its `errno`.
    ErrIo = -24,
    /// Name resolution found no address for the host (`{error, nxdomain}` of
    /// `inet:getaddrs/2`).
    ErrNotFound = -25,
    /// Distribution is not running on this runtime (`erlang:is_alive/0` is false), or was
    /// already started (for a second start).
    ErrNotDistributed = -26,
    /// The TLS distribution options are unusable: a PEM file missing, unreadable or
    /// holding no certificate or key, a CA file with no usable certificate, or a key that
    /// does not match the certificate.
    ErrTlsConfig = -27,
}

impl Status {
    /// The C name of this status, as in `hive.h`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "HIVE_OK",
            Status::Timeout => "HIVE_TIMEOUT",
            Status::ErrNotInitialized => "HIVE_ERR_NOT_INITIALIZED",
            Status::ErrAlreadyInitialized => "HIVE_ERR_ALREADY_INITIALIZED",
            Status::ErrShutDown => "HIVE_ERR_SHUT_DOWN",
            Status::ErrNullPointer => "HIVE_ERR_NULL_POINTER",
            Status::ErrBadLength => "HIVE_ERR_BAD_LENGTH",
            Status::ErrBadArgument => "HIVE_ERR_BAD_ARGUMENT",
            Status::ErrNotAProcess => "HIVE_ERR_NOT_A_PROCESS",
            Status::ErrNoProcess => "HIVE_ERR_NO_PROCESS",
            Status::ErrSystemLimit => "HIVE_ERR_SYSTEM_LIMIT",
            Status::ErrNoMemory => "HIVE_ERR_NO_MEMORY",
            Status::ErrInProcess => "HIVE_ERR_IN_PROCESS",
            Status::ErrInternal => "HIVE_ERR_INTERNAL",
            Status::ErrNameTaken => "HIVE_ERR_NAME_TAKEN",
            Status::ErrAlreadyNamed => "HIVE_ERR_ALREADY_NAMED",
            Status::ErrNotRegistered => "HIVE_ERR_NOT_REGISTERED",
            Status::ErrNoTimer => "HIVE_ERR_NO_TIMER",
            Status::ErrReentrant => "HIVE_ERR_REENTRANT",
            Status::ErrClosed => "HIVE_ERR_CLOSED",
            Status::ErrNotOwner => "HIVE_ERR_NOT_OWNER",
            Status::ErrPeerClosed => "HIVE_ERR_PEER_CLOSED",
            Status::ErrConnRefused => "HIVE_ERR_CONN_REFUSED",
            Status::ErrConnReset => "HIVE_ERR_CONN_RESET",
            Status::ErrAddrInUse => "HIVE_ERR_ADDR_IN_USE",
            Status::ErrIo => "HIVE_ERR_IO",
            Status::ErrNotFound => "HIVE_ERR_NOT_FOUND",
            Status::ErrNotDistributed => "HIVE_ERR_NOT_DISTRIBUTED",
            Status::ErrTlsConfig => "HIVE_ERR_TLS_CONFIG",
        }
    }
}

/// Error of the Rust API: every error is one of the ABI's negative [`Status`] codes
/// (or [`Status::Timeout`] where a timeout is reported as an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Error(pub Status);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

impl std::error::Error for Error {}

impl From<Status> for Error {
    fn from(s: Status) -> Self {
        Error(s)
    }
}

/// Shorthand for results of the Rust API.
pub type Result<T> = std::result::Result<T, Error>;
