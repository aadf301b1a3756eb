//! The exit path's part of process I/O (phase 7 of `process/exit.rs`), and waking a
//! process that waits on a socket: the parts of `io/` the exit path and the workers use,
//! below the process-side calls of `socket.rs`.

use std::sync::atomic::Ordering::Acquire;

use super::slot::{self, Dir, Handle};
use crate::pid::Pid;
use crate::process::pcb::Pcb;
use crate::runtime::RtInner;
use crate::sched::local::WorkerLocal;
use crate::sched::Caller;

/// Wakes `pid` if it waits (a socket it waits on changed); from a worker or any thread.
pub(crate) fn wake_pid(rt: &RtInner, caller: &Caller, pid: Pid) {
    let Some(_access) = rt.access_as(caller) else {
        return;
    };
    if let Some(pcb) = rt.table.lookup(pid) {
        rt.wake(pcb, caller.worker, false);
    }
}

/// `me` leaves `dir`'s queue on `slot`; the next in line is woken.
pub(crate) fn leave_queue(rt: &RtInner, caller: &Caller, slot: &slot::Slot, dir: Dir, me: Pid) {
    if let Some(next) = slot.leave(dir, me) {
        wake_pid(rt, caller, next);
    }
}

/// The exit path's part (between timers cancelled and resources freed): leaves the
/// socket queue the process died in, and closes the sockets it still owns (BEAM: a port
/// linked to its owner closes when the owner exits, `kill` included).
///
/// # Safety
/// `pcb` has stopped running for good and the calling thread runs its exit path.
pub(crate) unsafe fn process_exited(
    rt: &RtInner,
    pcb: &Pcb,
    worker: Option<&WorkerLocal>,
    owned: &[Handle],
) {
    let caller = Caller {
        pcb: std::ptr::null(),
        worker: worker.map_or(std::ptr::null(), |w| w as *const WorkerLocal),
    };
    // SAFETY: the exit path owns the PCB now (the contract).
    if let Some((h, d)) = unsafe { pcb.io_wait() } {
        if let Some((slot, _)) = rt.io.lookup(h) {
            let dir = if d == Dir::Read as u8 {
                Dir::Read
            } else {
                Dir::Write
            };
            leave_queue(rt, &caller, slot, dir, pcb.pid);
        }
        // SAFETY: as above.
        unsafe { pcb.set_io_wait(None) };
    }
    for &h in owned {
        let Some((slot, gen)) = rt.io.lookup(h) else {
            continue;
        };
        if slot.owner.load(Acquire) != pcb.pid.0 || !slot.is_open(gen) {
            continue; // given away or closed since
        }
        if let Ok(waiters) = rt.io.close(h) {
            for p in waiters {
                wake_pid(rt, &caller, p);
            }
        }
    }
}
