//! One socket's slot in the driver's table: its descriptor, its lifetime word, the
//! readiness the poller saw and the processes waiting on it.
//!
//! ## The lifetime word (`Slot::life`)
//! `generation:32 | CLOSING:1 | refs:31`. A [`Handle`] carries the generation the slot had
//! when the socket was opened; every use of the descriptor first takes a reference
//! ([`Slot::acquire`]), which fails once the generation differs (the socket was closed,
//! maybe reused) or CLOSING is set. Closing sets CLOSING (once: the closer wins a CAS) and
//! takes a reference of its own for the deregistration; whoever drops the last reference
//! of a CLOSING slot (`release` returns true) closes the descriptor and frees the slot,
//! which bumps the generation. So a descriptor is never closed while a system call uses it,
//! and a stale handle never reaches a reused descriptor (Go's `internal/poll` fdMutex and
//! `fdseq`).
//!
//! ## The wake-up handshake (readiness against waiting)
//! A process that got `EAGAIN` joins the direction's wait queue under its lock, then reads
//! `ready`; the poller sets the bit in `ready` (RMW), then takes the same lock and wakes the
//! queue's head. If the poller took the lock first, its bit happens-before the waiter's
//! read; otherwise the waiter is in the queue when the poller looks. Either way the waiter
//! sees the readiness or is woken (a wake that lands before it suspends makes the suspend
//! return at once: the state word's NOTIFIED). Model-checked in `tests/loom_io.rs`.
//!
//! ## Queues
//! Each direction (read/accept, write/connect) has a FIFO of waiting pids: only the head
//! attempts the operation while others wait, so acceptors are served in order and two
//! writers' bytes never interleave. The head that leaves (done, error, timeout, killed)
//! wakes the next one, which may find the readiness it left behind.

use std::collections::VecDeque;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, SeqCst};

use crate::pid::Pid;
use crate::sync::{AtomicI32, AtomicU32, AtomicU64, AtomicU8, Mutex};

/// An open socket's handle: `generation:32 | (slot index + 1):32`; 0 is never a socket.
pub(crate) type Handle = u64;

/// Readiness bits in `Slot::ready`.
pub(crate) const READABLE: u32 = 1;
pub(crate) const WRITABLE: u32 = 2;
/// The peer hung up or the socket has an error: both directions should look.
pub(crate) const HUP: u32 = 4;

const CLOSING: u64 = 1 << 31;
const REFS: u64 = CLOSING - 1;

/// A direction a process waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    /// Readable: receive, accept.
    Read = 0,
    /// Writable: send, connect.
    Write = 1,
}

impl Dir {
    /// The readiness bits that let a waiter in this direction try again.
    pub(crate) fn bits(self) -> u32 {
        match self {
            Dir::Read => READABLE | HUP,
            Dir::Write => WRITABLE | HUP,
        }
    }
}

/// What a socket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    /// A listening TCP socket.
    Listener = 1,
    /// A TCP connection (or one being connected), or a Unix stream socket's.
    Stream = 2,
    /// A UDP socket.
    Datagram = 3,
}

/// One socket slot (see the module docs). Slots are never freed while the driver lives,
/// so a stale handle always reads valid memory.
#[derive(Debug)]
pub(crate) struct Slot {
    life: AtomicU64,
    fd: AtomicI32,
    kind: AtomicU8,
    /// Readiness seen by the poller and not yet consumed (`READABLE`, `WRITABLE`, `HUP`).
    pub(crate) ready: AtomicU32,
    /// The owning process (receives and ownership changes are its alone).
    pub(crate) owner: AtomicU64,
    /// Waiting pids per direction (index: `Dir as usize`).
    queues: [Mutex<VecDeque<Pid>>; 2],
    /// Active mode is on (`rx.active != 0`): readiness to read is delivered as messages
    /// to the owner instead of waking a reader.
    pub(crate) active: AtomicU8,
    /// Active mode's state and partial frame (`frame.rs`).
    pub(crate) rx: Mutex<super::frame::RxState>,
}

/// What a waiter should do after joining its queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// It is the head and the socket is ready (or closing): try again now.
    Retry,
    /// Suspend until woken (by readiness, by the head before it, by close, or by a
    /// message, a signal or a timeout).
    Sleep,
}

impl Default for Slot {
    fn default() -> Slot {
        Slot::new(1)
    }
}

impl Slot {
    /// A free slot whose first socket will have generation `gen` (not 0).
    pub(crate) fn new(gen: u32) -> Slot {
        Slot {
            // A free slot is CLOSING, so no handle can take a reference to it.
            life: AtomicU64::new((u64::from(gen.max(1)) << 32) | CLOSING),
            fd: AtomicI32::new(-1),
            kind: AtomicU8::new(0),
            ready: AtomicU32::new(0),
            owner: AtomicU64::new(0),
            queues: [Mutex::new(VecDeque::new()), Mutex::new(VecDeque::new())],
            active: AtomicU8::new(0),
            rx: Mutex::new(Default::default()),
        }
    }

    /// The generation the slot has now (the next handle's, for a free slot).
    pub(crate) fn generation(&self) -> u32 {
        (self.life.load(Acquire) >> 32) as u32
    }

    /// Makes a free slot an open socket: `fd`, `kind`, owned by `owner`. Returns its
    /// generation. Only the driver calls this, on a slot it took from the free list.
    pub(crate) fn open(&self, fd: i32, kind: Kind, owner: Pid) -> u32 {
        self.fd.store(fd, Relaxed);
        self.kind.store(kind as u8, Relaxed);
        self.ready.store(0, Relaxed);
        self.owner.store(owner.0, Relaxed);
        let gen = self.generation();
        // Release: whoever takes a reference sees the fields above.
        self.life.store(u64::from(gen) << 32, SeqCst);
        gen
    }

    /// Takes a reference for a use of the descriptor by the socket of generation `gen`.
    /// False when that socket is closed (or closing).
    pub(crate) fn acquire(&self, gen: u32) -> bool {
        let mut s = self.life.load(Acquire);
        loop {
            if (s >> 32) as u32 != gen || s & CLOSING != 0 {
                return false;
            }
            debug_assert!(s & REFS < REFS, "socket reference count overflow");
            match self.life.compare_exchange_weak(s, s + 1, AcqRel, Acquire) {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
    }

    /// Drops a reference. True when it was the last one of a closing socket: the caller
    /// must then [`Slot::take_fd`] and free the slot.
    pub(crate) fn release(&self) -> bool {
        let prev = self.life.fetch_sub(1, AcqRel);
        prev & CLOSING != 0 && prev & REFS == 1
    }

    /// Marks the socket of generation `gen` closing and takes a reference for the closer.
    /// False when it is already closed or closing (another close won).
    pub(crate) fn begin_close(&self, gen: u32) -> bool {
        let mut s = self.life.load(Acquire);
        loop {
            if (s >> 32) as u32 != gen || s & CLOSING != 0 {
                return false;
            }
            match self
                .life
                .compare_exchange_weak(s, (s | CLOSING) + 1, AcqRel, Acquire)
            {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
    }

    /// True while the socket of generation `gen` is open (not closing).
    pub(crate) fn is_open(&self, gen: u32) -> bool {
        let s = self.life.load(SeqCst);
        (s >> 32) as u32 == gen && s & CLOSING == 0
    }

    /// The descriptor (valid while the caller holds a reference).
    pub(crate) fn fd(&self) -> i32 {
        self.fd.load(Relaxed)
    }

    pub(crate) fn kind(&self) -> u8 {
        self.kind.load(Relaxed)
    }

    /// After the last reference of a closing socket is gone: takes the descriptor (for the
    /// caller to close), clears the slot and bumps its generation. Returns the pids still
    /// queued (to be woken: they will find the handle closed).
    pub(crate) fn take_fd(&self) -> (i32, Vec<Pid>) {
        let fd = self.fd.swap(-1, Relaxed);
        self.ready.store(0, Relaxed);
        self.active.store(0, Relaxed);
        *self.rx.lock() = Default::default();
        self.owner.store(0, Relaxed);
        let mut left = Vec::new();
        for q in &self.queues {
            left.extend(q.lock().drain(..));
        }
        let gen = self.generation().wrapping_add(1).max(1);
        self.life.store((u64::from(gen) << 32) | CLOSING, SeqCst);
        (fd, left)
    }

    /// Every pid queued in either direction (close wakes them all).
    pub(crate) fn all_waiters(&self) -> Vec<Pid> {
        let mut v = Vec::new();
        for q in &self.queues {
            v.extend(q.lock().iter().copied());
        }
        v
    }

    /// The head of `dir`'s queue.
    pub(crate) fn head(&self, dir: Dir) -> Option<Pid> {
        self.queues[dir as usize].lock().front().copied()
    }

    /// May `me` try an operation in `dir` now? Yes when nobody waits there, or `me` is
    /// the head.
    pub(crate) fn may_try(&self, dir: Dir, me: Pid) -> bool {
        let q = self.queues[dir as usize].lock();
        q.front().is_none_or(|&h| h == me)
    }

    /// Joins `dir`'s queue (if `me` is not in it yet) and says whether to suspend: the
    /// waiter's half of the handshake (module docs). `gen` is the socket's generation.
    pub(crate) fn wait_step(&self, dir: Dir, me: Pid, gen: u32) -> Step {
        let head = {
            let mut q = self.queues[dir as usize].lock();
            if !q.contains(&me) {
                q.push_back(me);
            }
            q.front() == Some(&me)
        };
        if !self.is_open(gen) {
            return Step::Retry;
        }
        if head && self.ready.load(SeqCst) & dir.bits() != 0 {
            return Step::Retry;
        }
        Step::Sleep
    }

    /// Leaves `dir`'s queue; returns the new head if `me` was the head (it should be woken:
    /// the readiness `me` may have left is now its).
    pub(crate) fn leave(&self, dir: Dir, me: Pid) -> Option<Pid> {
        let mut q = self.queues[dir as usize].lock();
        let was_head = q.front() == Some(&me);
        if let Some(i) = q.iter().position(|&p| p == me) {
            q.remove(i);
        }
        if was_head {
            q.front().copied()
        } else {
            None
        }
    }

    /// The poller's half of the handshake: records readiness `bits`, then returns the
    /// heads to wake (at most one per direction the bits concern).
    pub(crate) fn on_ready(&self, bits: u32) -> [Option<Pid>; 2] {
        self.ready.fetch_or(bits, SeqCst);
        let mut out = [None, None];
        for dir in [Dir::Read, Dir::Write] {
            if bits & dir.bits() != 0 {
                out[dir as usize] = self.head(dir);
            }
        }
        out
    }

    /// Is active mode on (readable means: deliver messages)?
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(SeqCst) != 0
    }
}

/// The handle of generation `gen` for slot `index`.
pub(crate) fn handle(index: usize, gen: u32) -> Handle {
    (u64::from(gen) << 32) | (index as u64 + 1)
}

/// A handle's slot index and generation; None for 0 or an index out of range.
pub(crate) fn split(h: Handle) -> Option<(usize, u32)> {
    let low = (h & 0xffff_ffff) as usize;
    if low == 0 {
        return None;
    }
    Some((low - 1, (h >> 32) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_is_refused_after_close_and_after_reuse() {
        let s = Slot::default();
        let g = s.open(7, Kind::Stream, Pid(5));
        assert!(s.acquire(g));
        assert!(s.begin_close(g));
        assert!(!s.begin_close(g), "a second close loses");
        assert!(!s.acquire(g), "closing: no new references");
        assert!(!s.release(), "the closer still holds one");
        assert!(s.release(), "the last reference frees");
        let (fd, _) = s.take_fd();
        assert_eq!(fd, 7);
        let g2 = s.open(8, Kind::Stream, Pid(6));
        assert_ne!(g, g2);
        assert!(!s.acquire(g), "a stale handle never reaches the new socket");
        assert!(s.acquire(g2));
    }

    #[test]
    fn only_the_head_retries_and_leaving_passes_the_turn() {
        let s = Slot::default();
        let g = s.open(3, Kind::Listener, Pid(1));
        assert_eq!(s.wait_step(Dir::Read, Pid(10), g), Step::Sleep);
        assert_eq!(s.wait_step(Dir::Read, Pid(11), g), Step::Sleep);
        assert_eq!(s.on_ready(READABLE), [Some(Pid(10)), None]);
        assert_eq!(
            s.wait_step(Dir::Read, Pid(11), g),
            Step::Sleep,
            "not the head"
        );
        assert_eq!(s.wait_step(Dir::Read, Pid(10), g), Step::Retry);
        assert!(!s.may_try(Dir::Read, Pid(11)));
        assert_eq!(s.leave(Dir::Read, Pid(10)), Some(Pid(11)));
        assert!(s.may_try(Dir::Read, Pid(11)));
        assert_eq!(s.leave(Dir::Read, Pid(11)), None);
        assert!(s.may_try(Dir::Read, Pid(12)));
    }
}
