//! The C ABI: every `hive_*` function, declared in the generated `include/hive.h`.
//!
//! This layer is thin: it validates arguments, converts between C and Rust shapes, catches
//! panics (a panic never crosses the ABI; it becomes `HIVE_ERR_INTERNAL`) and calls the
//! runtime. One file per area: [`lifecycle`], [`proc`], [`message`], [`registry`],
//! [`timer`], [`info`], [`signal`], [`alias`], [`socket`].
//!
//! **Which runtime.** A call made from inside a process acts on that process's runtime. A
//! call from any other thread acts on the global runtime created by `hive_init`; before
//! it, such calls return `HIVE_ERR_NOT_INITIALIZED`, and after `hive_shutdown`,
//! `HIVE_ERR_SHUT_DOWN`.
//!
//! See `docs/abi.md` for the reference with examples.
#![allow(non_camel_case_types)]

pub mod alias;
pub mod dist;
pub mod info;
pub mod lifecycle;
pub mod message;
pub mod proc;
pub mod registry;
pub mod signal;
pub mod socket;
pub mod term;
pub mod timer;

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::runtime::RtInner;
use crate::status::Status;

/// A process identifier: `[node:12 | serial:28 | index:24]`; 0 is never a valid pid.
pub type hive_pid = u64;

/// Result code of every `hive_*` function (see the `HIVE_OK` / `HIVE_ERR_*` constants).
pub type hive_status = i32;

/// Success.
pub const HIVE_OK: hive_status = 0;
/// A receive or wait reached its timeout (not an error).
pub const HIVE_TIMEOUT: hive_status = 1;
/// `hive_init` has not been called.
pub const HIVE_ERR_NOT_INITIALIZED: hive_status = -1;
/// `hive_init` was already called.
pub const HIVE_ERR_ALREADY_INITIALIZED: hive_status = -2;
/// The runtime was shut down; it cannot be used or started again in this OS process.
pub const HIVE_ERR_SHUT_DOWN: hive_status = -3;
/// A required pointer was NULL (or NULL with a non-zero length).
pub const HIVE_ERR_NULL_POINTER: hive_status = -4;
/// A length or size is out of range.
pub const HIVE_ERR_BAD_LENGTH: hive_status = -5;
/// An argument has an invalid value (pid 0, unknown enum value, timeout out of range).
pub const HIVE_ERR_BAD_ARGUMENT: hive_status = -6;
/// Must be called from inside a process.
pub const HIVE_ERR_NOT_A_PROCESS: hive_status = -7;
/// No live process has this pid.
pub const HIVE_ERR_NO_PROCESS: hive_status = -8;
/// A system limit was reached (process table full).
pub const HIVE_ERR_SYSTEM_LIMIT: hive_status = -9;
/// Out of memory or stack address space.
pub const HIVE_ERR_NO_MEMORY: hive_status = -10;
/// May not be called from inside a process (it would block or join its own worker).
pub const HIVE_ERR_IN_PROCESS: hive_status = -11;
/// A panic was caught inside the runtime; the call had no reliable effect.
pub const HIVE_ERR_INTERNAL: hive_status = -12;
/// The registered name is in use by another process.
pub const HIVE_ERR_NAME_TAKEN: hive_status = -13;
/// The process already has a registered name (a process holds at most one).
pub const HIVE_ERR_ALREADY_NAMED: hive_status = -14;
/// No process is registered under this name.
pub const HIVE_ERR_NOT_REGISTERED: hive_status = -15;
/// No such timer: it fired, was cancelled, its destination exited, or it never existed.
pub const HIVE_ERR_NO_TIMER: hive_status = -16;
/// Called from inside a `hive_receive_match` predicate, and the call would walk or take from
/// the caller's own mailbox or re-arm its receive timeout; refused with no effect.
pub const HIVE_ERR_REENTRANT: hive_status = -17;
/// The socket handle names no open socket (closed, by a call, its owner's exit or shutdown,
/// or never a socket); a stale handle never reaches a reused descriptor.
pub const HIVE_ERR_CLOSED: hive_status = -18;
/// Only the socket's owner (controlling process) may do this.
pub const HIVE_ERR_NOT_OWNER: hive_status = -19;
/// The peer closed the connection (end of stream) before the data asked for arrived.
pub const HIVE_ERR_PEER_CLOSED: hive_status = -20;
/// Nobody listens at the address (`ECONNREFUSED`).
pub const HIVE_ERR_CONN_REFUSED: hive_status = -21;
/// The connection was reset, or sending found it closed (`ECONNRESET`, `EPIPE`; no
/// `SIGPIPE`).
pub const HIVE_ERR_CONN_RESET: hive_status = -22;
/// The address is in use (`EADDRINUSE`).
pub const HIVE_ERR_ADDR_IN_USE: hive_status = -23;
/// Another OS error; `hive_socket_errno` gives its `errno`.
pub const HIVE_ERR_IO: hive_status = -24;
/// Name resolution found no address for the host.
pub const HIVE_ERR_NOT_FOUND: hive_status = -25;
/// Distribution is not running on this runtime (`hive_dist_start` was not called, or
/// `hive_dist_stop` was), or `hive_dist_start` was called twice.
pub const HIVE_ERR_NOT_DISTRIBUTED: hive_status = -26;
/// The TLS files given to `hive_dist_start` are unusable: missing, unreadable, without a
/// certificate or key, or a key that does not match the certificate.
pub const HIVE_ERR_TLS_CONFIG: hive_status = -27;

/// Reductions in one time slice (the BEAM's `CONTEXT_REDS`).
pub const HIVE_REDUCTIONS_PER_SLICE: i32 = 4000;

pub(crate) fn code(s: Status) -> hive_status {
    s as i32
}

pub(crate) fn result_code(r: Result<(), Status>) -> hive_status {
    match r {
        Ok(()) => HIVE_OK,
        Err(s) => code(s),
    }
}

/// Runs an ABI body, turning a panic into `HIVE_ERR_INTERNAL`. The body runs as runtime
/// code (`sched::enter`: a process whose worker was taken over while it ran its own
/// code moves to another worker first).
pub(crate) fn guard(f: impl FnOnce() -> hive_status) -> hive_status {
    let _rt = crate::sched::enter();
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(HIVE_ERR_INTERNAL)
}

/// As [`guard`] for a body that enters the runtime itself (`Caller::entered`,
/// `process::entered`: one read of the current process instead of two on the hottest
/// calls).
#[inline(always)]
pub(crate) fn guard_entering(f: impl FnOnce() -> hive_status) -> hive_status {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(HIVE_ERR_INTERNAL)
}

/// Like [`guard`] for functions returning a value: `on_panic` on a panic.
pub(crate) fn guard_value<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    let _rt = crate::sched::enter();
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(on_panic)
}

/// The runtime a call acts on: the calling process's, else the global one.
pub(crate) fn runtime() -> Result<&'static RtInner, Status> {
    runtime_for(&crate::sched::Caller::get())
}

/// As [`runtime`], for a caller already looked up.
pub(crate) fn runtime_for(caller: &crate::sched::Caller) -> Result<&'static RtInner, Status> {
    if !caller.pcb.is_null() {
        let pcb = crate::process::checked(caller.pcb);
        // A runtime outlives its processes; the reference is used only during this call,
        // made by the process itself.
        return Ok(crate::runtime::runtime_of(pcb));
    }
    let rt = lifecycle::global()?;
    if rt.is_shut_down() {
        return Err(Status::ErrShutDown);
    }
    Ok(rt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_constants_match_the_enum() {
        let all = [
            (HIVE_OK, Status::Ok),
            (HIVE_TIMEOUT, Status::Timeout),
            (HIVE_ERR_NOT_INITIALIZED, Status::ErrNotInitialized),
            (HIVE_ERR_ALREADY_INITIALIZED, Status::ErrAlreadyInitialized),
            (HIVE_ERR_SHUT_DOWN, Status::ErrShutDown),
            (HIVE_ERR_NULL_POINTER, Status::ErrNullPointer),
            (HIVE_ERR_BAD_LENGTH, Status::ErrBadLength),
            (HIVE_ERR_BAD_ARGUMENT, Status::ErrBadArgument),
            (HIVE_ERR_NOT_A_PROCESS, Status::ErrNotAProcess),
            (HIVE_ERR_NO_PROCESS, Status::ErrNoProcess),
            (HIVE_ERR_SYSTEM_LIMIT, Status::ErrSystemLimit),
            (HIVE_ERR_NO_MEMORY, Status::ErrNoMemory),
            (HIVE_ERR_IN_PROCESS, Status::ErrInProcess),
            (HIVE_ERR_INTERNAL, Status::ErrInternal),
            (HIVE_ERR_NAME_TAKEN, Status::ErrNameTaken),
            (HIVE_ERR_ALREADY_NAMED, Status::ErrAlreadyNamed),
            (HIVE_ERR_NOT_REGISTERED, Status::ErrNotRegistered),
            (HIVE_ERR_NO_TIMER, Status::ErrNoTimer),
            (HIVE_ERR_REENTRANT, Status::ErrReentrant),
            (HIVE_ERR_CLOSED, Status::ErrClosed),
            (HIVE_ERR_NOT_OWNER, Status::ErrNotOwner),
            (HIVE_ERR_PEER_CLOSED, Status::ErrPeerClosed),
            (HIVE_ERR_CONN_REFUSED, Status::ErrConnRefused),
            (HIVE_ERR_CONN_RESET, Status::ErrConnReset),
            (HIVE_ERR_ADDR_IN_USE, Status::ErrAddrInUse),
            (HIVE_ERR_IO, Status::ErrIo),
            (HIVE_ERR_NOT_FOUND, Status::ErrNotFound),
            (HIVE_ERR_NOT_DISTRIBUTED, Status::ErrNotDistributed),
            (HIVE_ERR_TLS_CONFIG, Status::ErrTlsConfig),
        ];
        for (c, s) in all {
            assert_eq!(c, s as i32, "{}", s.name());
        }
        assert_eq!(HIVE_REDUCTIONS_PER_SLICE, crate::REDUCTIONS_PER_SLICE);
        assert_eq!(registry::HIVE_MAX_NAME_LEN, crate::MAX_NAME_LEN);
        assert_eq!(timer::HIVE_MAX_TIMER_MS, crate::MAX_TIMER_MS);
        assert_eq!(
            info::HIVE_STATUS_EXITING,
            crate::ProcessStatus::Exiting as i32
        );
        assert_eq!(
            info::HIVE_STATUS_WAITING,
            crate::ProcessStatus::Waiting as i32
        );
        assert_eq!(
            message::HIVE_MSG_TIMEOUT,
            crate::MessageKind::Timeout as i32
        );
        assert_eq!(
            message::HIVE_MAX_MESSAGE_LEN,
            crate::mailbox::MAX_MESSAGE_LEN
        );
        assert_eq!(
            message::HIVE_MSG_TCP_PASSIVE,
            crate::mailbox::MessageKind::TcpPassive as i32
        );
        assert_eq!(
            message::HIVE_MSG_TCP,
            crate::mailbox::MessageKind::Tcp as i32
        );
        assert_eq!(
            message::HIVE_MSG_REPLY,
            crate::mailbox::MessageKind::Reply as i32
        );
        assert_eq!(
            message::HIVE_MSG_DATA,
            crate::mailbox::MessageKind::Data as i32
        );
        assert_eq!(
            lifecycle::HIVE_REASON_ERROR,
            crate::reason::ReasonKind::Error as i32
        );
        assert_eq!(proc::HIVE_PRIORITY_HIGH, crate::Priority::High as i32);
    }
}
