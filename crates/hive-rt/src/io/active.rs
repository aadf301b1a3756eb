//! Active mode (`inet:setopts(S, [{active, once | N}])`): a socket's data, end of stream
//! and errors arrive in its owner's mailbox as messages (`Tcp`, `TcpClosed`, `TcpError`,
//! `TcpPassive`), one frame each (`frame.rs`), instead of being read by a blocked process;
//! a UDP socket's datagrams as `Udp` messages with their senders.
//!
//! - **Who reads.** The worker whose poll found the socket readable ([`deliver`]), and the
//!   owner's own call that turns active mode on (data may be waiting already: readiness
//!   is edge-triggered and the edge may be gone).
//! - **Bounded.** Once delivers one message, N delivers N and then `TcpPassive`; after
//!   that the socket is passive and unread data stays in the kernel, where TCP's flow
//!   control pushes back on the peer: a fast peer cannot flood a mailbox. One pass reads at
//!   most [`PASS_BYTES`]; a socket with more left is handed back to the worker
//!   ([`Pass::More`]), which runs another pass on a later tick, between processes.
//! - Reading and delivering happen under the slot's `rx` lock: two workers (a poll and an
//!   owner's call) never interleave one socket's frames.
//! - **Large frames** ([`Packet::Batch4`], a distribution connection's): a frame of
//!   [`BIG_FRAME`] bytes or more whose head is buffered is read straight into the message
//!   that will carry it ([`Big`]), placed so that the bytes the socket's `locate` names
//!   start 16-byte aligned; each read asks for the rest of that frame and for
//!   [`HEAD_BYTES`] more (the next frame's head, which says where its payload goes). The
//!   controller can then pass the payload on in that message (`Msg::narrow`) instead of
//!   copying it twice. The frames before it are delivered first, those after it later:
//!   the order holds. Only a connected, authenticated peer's socket uses this mode, and a
//!   frame over [`BIG_MAX`] bytes goes the ordinary way, through the buffer.

use std::sync::atomic::Ordering::{Acquire, SeqCst};

use super::frame::{Big, Next, Packet, RxState, BIG_FRAME, BIG_MAX, HEAD_BYTES};
use super::slot::{Handle, Kind, READABLE};
use super::socket::{check_owner, errno, status_of_errno};
use crate::mailbox::{MessageKind, Msg};
use crate::pid::Pid;
use crate::process::pcb::Pcb;
use crate::runtime::{runtime_of, RtInner};
use crate::sched::Caller;
use crate::status::Status;

/// Bytes one pass reads at most. A pass runs on the worker that polled, before the
/// processes in its queue and the other sockets the poll found: with 1 MiB, a ping between
/// two nodes waited behind the passes of the connections streaming 64 KiB messages beside
/// it (`docs/io.md`, "Active mode").
pub(crate) const PASS_BYTES: usize = 128 << 10;
/// Bytes one read asks for once the socket streams ([`RxState::streaming`]).
const READ_CHUNK: usize = 64 << 10;
/// Bytes one read asks for until a read fills them: the buffer an idle socket keeps. The
/// buffer stays allocated between passes (cleared, not freed); with 64 KiB for every
/// socket, each idle connection of an echo server held a resident 4 KiB page of it.
const SMALL_READ: usize = 512;

/// What a pass left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pass {
    /// Nothing more to do until the next readiness (or active mode is off).
    Idle,
    /// The pass used its budget with data left: run another one soon.
    More,
}

/// Sends a socket message of `kind` with `payload` to `owner`.
fn send(rt: &RtInner, caller: &Caller, owner: Pid, h: Handle, kind: MessageKind, payload: &[u8]) {
    if let Some(m) = Msg::alloc_by(payload.len(), Pid(h), kind, caller.worker) {
        // SAFETY: the payload of `m` has exactly `payload.len()` bytes and does not overlap
        // `payload`.
        unsafe {
            std::ptr::copy_nonoverlapping(payload.as_ptr(), Msg::payload(m.as_ptr()), payload.len())
        };
        let _ = rt.send_as(caller, owner, m);
    }
}

/// Delivers what socket `h` has for its owner, within one pass's budget (see the module
/// docs). From a worker (after a poll) or from the owner turning active mode on.
pub(crate) fn deliver(rt: &RtInner, caller: &Caller, h: Handle) -> Pass {
    let Ok(sock) = rt.io.acquire(h) else {
        return Pass::Idle; // closed meanwhile
    };
    let slot = sock.slot;
    let mut rx = slot.rx.lock();
    let owner = Pid(slot.owner.load(Acquire));
    if slot.kind() == Kind::Datagram as u8 {
        return deliver_datagrams(rt, caller, h, &sock, &mut rx, owner);
    }
    let mut read = 0usize;
    loop {
        // Whole frames already buffered go first.
        while rx.active != 0 {
            match rx.next() {
                Next::Frame {
                    start,
                    end,
                    consumed,
                } => {
                    send(rt, caller, owner, h, MessageKind::Tcp, &rx.buf[start..end]);
                    rx.consume(consumed);
                    if rx.count_down() {
                        send(rt, caller, owner, h, MessageKind::TcpPassive, &[]);
                    }
                }
                Next::More => break,
                Next::TooLarge => {
                    fail(
                        rt,
                        caller,
                        owner,
                        h,
                        &mut rx,
                        Status::ErrBadLength,
                        libc::EMSGSIZE,
                    );
                    break;
                }
            }
        }
        if rx.active == 0 || rx.finished {
            slot.active.store(0, SeqCst);
            return Pass::Idle;
        }
        if read >= PASS_BYTES {
            return Pass::More;
        }
        // Forget the edge before reading: one arriving after the read sets it again.
        slot.ready.fetch_and(!READABLE, SeqCst);
        if rx.packet == Packet::Batch4 && rx.big.is_none() {
            rx.big = Big::start(&mut rx, Pid(h), caller.worker);
        }
        let n = read_some(&mut rx, sock.fd());
        if n > 0 {
            read += n as usize;
            if let Some(big) = rx.big.take() {
                match big.finish() {
                    Ok(m) => {
                        let _ = rt.send_as(caller, owner, m);
                        if rx.count_down() {
                            send(rt, caller, owner, h, MessageKind::TcpPassive, &[]);
                        }
                    }
                    Err(big) => rx.big = Some(big),
                }
            }
            continue;
        }
        if n == 0 {
            rx.finished = true;
            send(rt, caller, owner, h, MessageKind::TcpClosed, &[]);
            slot.active.store(0, SeqCst);
            return Pass::Idle;
        }
        match errno() {
            libc::EAGAIN => return Pass::Idle,
            libc::EINTR => continue,
            e => {
                fail(rt, caller, owner, h, &mut rx, status_of_errno(e), e);
                slot.active.store(0, SeqCst);
                return Pass::Idle;
            }
        }
    }
}

/// One read from descriptor `fd`: into the large frame being read, if any, and then (or
/// else) into the buffer; the buffer's head of a large frame is completed first (up to
/// [`HEAD_BYTES`]). Reads ask for [`SMALL_READ`] bytes until one fills them, then for
/// [`READ_CHUNK`]. Returns what `recv`/`readv` returned.
fn read_some(rx: &mut RxState, fd: i32) -> isize {
    let len = rx.buf.len();
    let want = match &rx.big {
        Some(_) => HEAD_BYTES,
        None if rx.packet == Packet::Batch4 && is_big_head(rx.pending()) => {
            HEAD_BYTES - rx.pending().len()
        }
        None if rx.streaming => READ_CHUNK,
        None => SMALL_READ,
    };
    rx.buf.reserve(want);
    let Some(big) = rx.big.as_mut() else {
        // SAFETY: the buffer has room for `want` more bytes after `len`; the caller holds
        // the descriptor open.
        let n = unsafe { libc::recv(fd, rx.buf.as_mut_ptr().add(len).cast(), want, 0) };
        if n > 0 {
            // SAFETY: the kernel wrote `n` bytes after `len`.
            unsafe { rx.buf.set_len(len + n as usize) };
            if n as usize == want {
                rx.streaming = true;
            }
        }
        return n;
    };
    let left = big.total - big.filled;
    // SAFETY: the message's payload has `lead + total` bytes, so `left` bytes from
    // `lead + filled` are inside it; the buffer has room for `want` bytes after `len`.
    let iov = unsafe {
        [
            libc::iovec {
                iov_base: Msg::payload(big.msg.as_ptr())
                    .add(big.lead + big.filled)
                    .cast(),
                iov_len: left,
            },
            libc::iovec {
                iov_base: rx.buf.as_mut_ptr().add(len).cast(),
                iov_len: want,
            },
        ]
    };
    // SAFETY: both vectors are writable for their lengths (above); the caller holds the
    // descriptor open.
    let n = unsafe { libc::readv(fd, iov.as_ptr(), 2) };
    if n > 0 {
        let into_big = (n as usize).min(left);
        big.filled += into_big;
        // SAFETY: the kernel wrote the rest, `n - into_big` bytes, after `len`.
        unsafe { rx.buf.set_len(len + (n as usize - into_big)) };
    }
    n
}

/// True when `pending` starts with the head of a large frame, shorter than
/// [`HEAD_BYTES`]: the next read completes the head only.
fn is_big_head(pending: &[u8]) -> bool {
    match pending.first_chunk::<4>() {
        Some(p) => {
            let len = u32::from_be_bytes(*p) as usize;
            (BIG_FRAME..=BIG_MAX).contains(&len) && pending.len() < HEAD_BYTES
        }
        None => false,
    }
}

/// [`deliver`] for a UDP socket: one `Udp` message per datagram, with its sender
/// (`{udp, S, IP, Port, Data}`), until the active count is spent, the socket would block or
/// the pass's budget is used. A receive error (an ICMP "port unreachable" for an earlier
/// datagram) ends the pass; the socket stays active.
fn deliver_datagrams(
    rt: &RtInner,
    caller: &Caller,
    h: Handle,
    sock: &super::driver::SocketRef<'_>,
    rx: &mut RxState,
    owner: Pid,
) -> Pass {
    let slot = sock.slot;
    let mut read = 0usize;
    rx.buf.resize(65_536, 0);
    loop {
        if rx.active == 0 {
            slot.active.store(0, SeqCst);
            return Pass::Idle;
        }
        if read >= PASS_BYTES {
            return Pass::More;
        }
        slot.ready.fetch_and(!READABLE, SeqCst);
        // SAFETY: an all-zero sockaddr_storage is a valid value to be overwritten.
        let mut from: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: `rx.buf` is writable for its length, `from` for `len` bytes; the descriptor
        // is held open by `sock`.
        let n = unsafe {
            libc::recvfrom(
                sock.fd(),
                rx.buf.as_mut_ptr().cast(),
                rx.buf.len(),
                0,
                (&mut from as *mut libc::sockaddr_storage).cast(),
                &mut len,
            )
        };
        if n < 0 {
            return match errno() {
                libc::EINTR => continue,
                _ => Pass::Idle, // EAGAIN, or an error for an earlier datagram
            };
        }
        // SAFETY: the kernel wrote a valid address of `len` bytes into `from`.
        let addr = unsafe { socket2::SockAddr::new(from, len) }.as_socket();
        if let Some(a) = addr {
            if let Some(m) = Msg::udp(h, a, &rx.buf[..n as usize], caller.worker) {
                let _ = rt.send_as(caller, owner, m);
            }
            if rx.count_down() {
                send(rt, caller, owner, h, MessageKind::TcpPassive, &[]);
            }
        }
        read += (n as usize).max(1);
    }
}

/// Delivers a `TcpError` and ends delivery on the socket.
fn fail(
    rt: &RtInner,
    caller: &Caller,
    owner: Pid,
    h: Handle,
    rx: &mut RxState,
    status: Status,
    errno: i32,
) {
    let mut p = [0u8; 8];
    p[..4].copy_from_slice(&(status as i32).to_le_bytes());
    p[4..].copy_from_slice(&errno.to_le_bytes());
    send(rt, caller, owner, h, MessageKind::TcpError, &p);
    rx.finished = true;
    rx.active = 0;
}

/// Sets active mode on socket `h` for the calling process, its owner: 0 passive, -1 once,
/// n > 0 the next n messages (`{active, false | once | N}`), and delivers what is waiting.
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn set_active(pcb: &Pcb, h: Handle, mode: i64) -> Result<(), Status> {
    if !(-1..=i32::MAX as i64).contains(&mode) {
        return Err(Status::ErrBadArgument);
    }
    let rt = runtime_of(pcb);
    {
        let sock = rt.io.acquire(h)?;
        if sock.slot.kind() == Kind::Listener as u8 {
            return Err(Status::ErrBadArgument);
        }
        check_owner(pcb, &sock)?;
        let mut rx = sock.slot.rx.lock();
        rx.active = mode as i32;
        sock.slot.active.store(u8::from(mode != 0), SeqCst);
    }
    if mode != 0 {
        let caller = Caller::get();
        while deliver(rt, &caller, h) == Pass::More {}
    }
    Ok(())
}

/// The active mode of socket `h` (0, -1 or the messages left).
pub(crate) fn active(pcb: &Pcb, h: Handle) -> Result<i64, Status> {
    let sock = runtime_of(pcb).io.acquire(h)?;
    let rx = sock.slot.rx.lock();
    Ok(rx.active as i64)
}

/// Sets the framing of socket `h` (`{packet, raw | 1 | 2 | 4 | line}`): 0 raw, 1, 2 or 4
/// for a length prefix, -1 line. Applies to active mode.
pub(crate) fn set_packet(pcb: &Pcb, h: Handle, value: i64) -> Result<(), Status> {
    let packet = match value {
        0 => Packet::Raw,
        1 | 2 | 4 => Packet::Len(value as u8),
        -1 => Packet::Line,
        _ => return Err(Status::ErrBadArgument),
    };
    let sock = runtime_of(pcb).io.acquire(h)?;
    if sock.slot.kind() != Kind::Stream as u8 {
        return Err(Status::ErrBadArgument);
    }
    sock.slot.rx.lock().packet = packet;
    Ok(())
}

/// The framing of socket `h`, as [`set_packet`] takes it.
pub(crate) fn packet(pcb: &Pcb, h: Handle) -> Result<i64, Status> {
    let sock = runtime_of(pcb).io.acquire(h)?;
    let p = sock.slot.rx.lock().packet;
    Ok(match p {
        Packet::Raw => 0,
        Packet::Len(n) => n as i64,
        Packet::Line => -1,
        Packet::Batch4 => 4,
    })
}

/// Puts socket `h` in [`Packet::Batch4`] framing (a distribution connection's), with
/// `locate` saying where a large frame's payload starts (`RxState::locate`).
pub(crate) fn set_batched(
    pcb: &Pcb,
    h: Handle,
    locate: super::frame::Locate,
) -> Result<(), Status> {
    let sock = runtime_of(pcb).io.acquire(h)?;
    let mut rx = sock.slot.rx.lock();
    rx.packet = Packet::Batch4;
    rx.locate = Some(locate);
    Ok(())
}
