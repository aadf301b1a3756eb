//! The process side of a socket: waiting for readiness the way `receive` waits for a
//! message, ownership (the owner's exit closes it), close, and OS errors as status codes.

use std::os::fd::OwnedFd;
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};

use super::driver::{Driver, SocketRef};
use super::owner::{leave_queue, wake_pid};
use super::slot::{self, Dir, Handle, Kind, Step};
use crate::pid::Pid;
use crate::process::context::MAX_TIMEOUT_MS;
use crate::process::pcb::{Pcb, Suspend};
use crate::process::receive::{arm_timeout, disarm_timeout, outside_match};
use crate::runtime::runtime_of;
use crate::sched::Caller;
use crate::status::Status;

/// What one try of an operation gave.
pub(crate) enum Attempt<T> {
    /// Finished.
    Done(T),
    /// Would block: wait for readiness and try again.
    Again,
    /// Failed (the error is final).
    Fail(Status),
}

/// The status for OS error `errno` (see `Status`); `ErrIo` for those without their own.
pub(crate) fn status_of_errno(errno: i32) -> Status {
    match errno {
        libc::ECONNREFUSED => Status::ErrConnRefused,
        libc::ECONNRESET | libc::EPIPE | libc::ECONNABORTED => Status::ErrConnReset,
        libc::EADDRINUSE => Status::ErrAddrInUse,
        libc::EMFILE | libc::ENFILE => Status::ErrSystemLimit,
        libc::ENOMEM | libc::ENOBUFS => Status::ErrNoMemory,
        _ => Status::ErrIo,
    }
}

/// The calling process (`ErrNotAProcess` from any other thread).
pub(crate) fn caller() -> Result<&'static Pcb, Status> {
    crate::process::context::current()
}

/// Records `errno` for `hive_socket_errno` and returns its status.
pub(crate) fn os_error(pcb: &Pcb, errno: i32) -> Status {
    // SAFETY: `pcb` is the calling process.
    unsafe { pcb.set_last_errno(errno) };
    status_of_errno(errno)
}

/// The last OS `errno` of a failed socket call of the calling process (0: none yet).
pub(crate) fn last_errno(pcb: &Pcb) -> i32 {
    // SAFETY: `pcb` is the calling process.
    unsafe { pcb.last_errno() }
}

/// `errno` of the calling thread.
pub(crate) fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Checks a timeout argument in ms (< 0: forever; 0: do not wait).
pub(crate) fn check_timeout(ms: i64) -> Result<(), Status> {
    if ms > MAX_TIMEOUT_MS {
        Err(Status::ErrBadArgument)
    } else {
        Ok(())
    }
}

/// Registers `fd` as a socket owned by the calling process `pcb`, recorded in its link
/// data so its exit closes it. On failure the descriptor is closed.
pub(crate) fn open(pcb: &Pcb, fd: OwnedFd, kind: Kind) -> Result<Handle, Status> {
    let rt = runtime_of(pcb);
    let h = rt.io.open(fd, kind, pcb.pid).map_err(|(s, _fd)| s)?;
    record_owned(pcb, h);
    Ok(h)
}

/// Adds `h` to the sockets `pcb` owns (its own link data: the caller is `pcb`, or holds
/// its lock for the transfer), dropping handles closed since when the list grows.
fn push_owned(driver: &Driver, list: &mut Vec<Handle>, h: Handle) {
    if list.len() >= 64 && list.len().is_power_of_two() {
        list.retain(|&o| driver.lookup(o).is_some_and(|(s, gen)| s.is_open(gen)));
    }
    list.push(h);
}

fn record_owned(pcb: &Pcb, h: Handle) {
    let rt = runtime_of(pcb);
    let mut sig = pcb.sig.lock();
    push_owned(&rt.io, &mut sig.data().sockets, h);
}

fn forget_owned(pcb: &Pcb, h: Handle) {
    let mut sig = pcb.sig.lock();
    if let Some(d) = sig.data.as_deref_mut() {
        if let Some(i) = d.sockets.iter().position(|&o| o == h) {
            d.sockets.swap_remove(i);
        }
    }
}

/// Closes socket `h` for the calling process (any process may close a socket, as with
/// `gen_tcp:close/1`), waking every process waiting on it.
pub(crate) fn close(pcb: &Pcb, h: Handle) -> Result<(), Status> {
    let rt = runtime_of(pcb);
    let owner = rt.io.lookup(h).map(|(s, _)| Pid(s.owner.load(Relaxed)));
    let waiters = rt.io.close(h)?;
    let caller = Caller::get();
    for p in waiters {
        wake_pid(rt, &caller, p);
    }
    if owner == Some(pcb.pid) {
        forget_owned(pcb, h);
    }
    Ok(())
}

/// Makes `to` the owner of socket `h` (`gen_tcp:controlling_process/2`). Only the owner may;
/// `to` must be alive (`ErrNoProcess`). The socket is then closed by `to`'s exit.
pub(crate) fn transfer(pcb: &Pcb, h: Handle, to: Pid) -> Result<(), Status> {
    let rt = runtime_of(pcb);
    let sock = rt.io.acquire(h)?;
    if sock.slot.owner.load(Acquire) != pcb.pid.0 {
        return Err(Status::ErrNotOwner);
    }
    if to == pcb.pid {
        return Ok(());
    }
    let caller = Caller::get();
    let access = rt.access_as(&caller).ok_or(Status::ErrShutDown)?;
    let target = rt.table.lookup(to).ok_or(Status::ErrNoProcess)?;
    // SAFETY: we are pinned (`access`): a PCB found in the table stays allocated.
    let target = unsafe { target.as_ref() };
    {
        // Under the target's lock, where its exit path takes the list (phase 5): either
        // the target is still alive and its exit will see the socket, or we refuse.
        let mut sig = target.sig.lock();
        if target.life.is_exiting() || target.life.is_closed() {
            return Err(Status::ErrNoProcess);
        }
        sock.slot.owner.store(to.0, SeqCst);
        push_owned(&rt.io, &mut sig.data().sockets, h);
    }
    drop(access);
    forget_owned(pcb, h);
    Ok(())
}

/// Checks that the calling process owns the socket `sock`.
pub(crate) fn check_owner(pcb: &Pcb, sock: &SocketRef<'_>) -> Result<(), Status> {
    if sock.slot.owner.load(Relaxed) == pcb.pid.0 {
        Ok(())
    } else {
        Err(Status::ErrNotOwner)
    }
}

/// Runs `attempt` on socket `h` until it is done or fails, waiting for readiness in `dir`
/// between tries like a `receive` (BEAM: a process in `gen_tcp:recv` is suspended, not its
/// scheduler). `timeout_ms`: < 0 forever, 0 one try, else at most that long (`Timeout`).
/// Messages arriving meanwhile stay queued; signals are handled (an exit signal ends the
/// process here, and its exit path leaves the socket's queue).
///
/// # Safety
/// `pcb` is the calling process, not inside a match predicate.
pub(crate) unsafe fn wait_io<T>(
    pcb: &Pcb,
    h: Handle,
    dir: Dir,
    timeout_ms: i64,
    mut attempt: impl FnMut(&SocketRef<'_>) -> Attempt<T>,
) -> Result<T, Status> {
    outside_match(pcb)?;
    check_timeout(timeout_ms)?;
    let rt = runtime_of(pcb);
    let drv = &rt.io;
    let me = pcb.pid;
    let gen = (h >> 32) as u32;
    let (slot, _) = drv.lookup(h).ok_or(Status::ErrClosed)?;
    let own_bit = match dir {
        Dir::Read => slot::READABLE,
        Dir::Write => slot::WRITABLE,
    };
    let mut queued = false;
    let mut armed: Option<u32> = None;
    let result = loop {
        {
            let sock = match drv.acquire(h) {
                Ok(s) => s,
                Err(e) => break Err(e),
            };
            if sock.slot.may_try(dir, me) {
                // Forget the edge we are about to consume: one arriving after the try
                // sets the bit again (and finds us queued, or we see it below).
                sock.slot.ready.fetch_and(!own_bit, SeqCst);
                match attempt(&sock) {
                    Attempt::Done(v) => break Ok(v),
                    Attempt::Fail(e) => break Err(e),
                    Attempt::Again => {}
                }
            }
        }
        if let Some(seq) = armed {
            if pcb.timeout_fired.load(Acquire) == seq {
                break Err(Status::Timeout);
            }
        } else if timeout_ms == 0 {
            break Err(Status::Timeout);
        } else if timeout_ms > 0 {
            // SAFETY: `pcb` is the calling process.
            match unsafe { arm_timeout(pcb, timeout_ms as u64) } {
                Err(e) => break Err(e),
                Ok(None) => break Err(Status::Timeout),
                Ok(Some(seq)) => armed = Some(seq),
            }
        }
        if !queued {
            queued = true;
            // SAFETY: `pcb` is the calling process.
            unsafe { pcb.set_io_wait(Some((h, dir as u8))) };
        }
        if slot.wait_step(dir, me, gen) == Step::Retry {
            continue;
        }
        // SAFETY: `pcb` is the calling process, outside a match predicate (checked above).
        unsafe {
            pcb.suspend(Suspend::Receive);
            crate::signal::handle::check(pcb);
        }
    };
    if queued {
        leave_queue(rt, &Caller::get(), slot, dir, me);
        // SAFETY: `pcb` is the calling process.
        unsafe { pcb.set_io_wait(None) };
    }
    if armed.is_some() {
        disarm_timeout(pcb);
    }
    result
}
