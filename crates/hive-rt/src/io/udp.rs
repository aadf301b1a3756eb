//! UDP for processes (`gen_udp` in passive mode): open, send to, receive from. Receiving
//! waits like `receive` (`socket::wait_io`); sending waits only when the socket's send
//! buffer is full.

use std::net::SocketAddr;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::driver::SocketRef;
use super::slot::{Dir, Handle, Kind};
use super::socket::{check_owner, errno, open, os_error, wait_io, Attempt};
use crate::process::context::consume_raw;
use crate::process::pcb::Pcb;
use crate::status::Status;

/// Opens a UDP socket bound to `addr` (port 0: any free port), owned by the calling
/// process (`gen_udp:open/2`).
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn open_udp(pcb: &Pcb, addr: SocketAddr) -> Result<Handle, Status> {
    // SAFETY: the contract.
    unsafe { consume_raw(pcb, 1) };
    let fail = |e: std::io::Error| os_error(pcb, e.raw_os_error().unwrap_or(0));
    let s = Socket::new(
        Domain::for_address(addr),
        Type::DGRAM.nonblocking().cloexec(),
        Some(Protocol::UDP),
    )
    .map_err(fail)?;
    s.bind(&addr.into()).map_err(fail)?;
    open(pcb, s.into(), Kind::Datagram)
}

fn datagram(sock: &SocketRef<'_>) -> Result<(), Status> {
    if sock.slot.kind() == Kind::Datagram as u8 {
        Ok(())
    } else {
        Err(Status::ErrBadArgument)
    }
}

/// Sends `data` as one datagram to `to` (`gen_udp:send/4`); any process may. Waits at most
/// `timeout_ms` for room in the send buffer.
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn send_to(
    pcb: &Pcb,
    h: Handle,
    to: SocketAddr,
    data: &[u8],
    timeout_ms: i64,
) -> Result<(), Status> {
    if data.len() > 65_507 {
        return Err(Status::ErrBadLength);
    }
    // SAFETY: the contract.
    unsafe { consume_raw(pcb, 1) };
    let to = SockAddr::from(to);
    let attempt = |sock: &SocketRef<'_>| {
        if let Err(e) = datagram(sock) {
            return Attempt::Fail(e);
        }
        loop {
            // SAFETY: `data` is readable for its length, `to` a valid address of its
            // length; the descriptor is held open.
            let n = unsafe {
                libc::sendto(
                    sock.fd(),
                    data.as_ptr().cast(),
                    data.len(),
                    libc::MSG_NOSIGNAL,
                    to.as_ptr().cast(),
                    to.len(),
                )
            };
            if n >= 0 {
                return Attempt::Done(());
            }
            match errno() {
                libc::EAGAIN => return Attempt::Again,
                libc::EINTR => continue,
                e => return Attempt::Fail(os_error(pcb, e)),
            }
        }
    };
    // SAFETY: the contract.
    unsafe { wait_io(pcb, h, Dir::Write, timeout_ms, attempt) }
}

/// Receives one datagram into `buf` (a longer one is cut to `buf.len()`, the rest lost, as
/// `recvfrom` does: give 65,507 bytes to never lose any) and its sender's address; only the
/// owner may (`gen_udp:recv/3`).
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn recv_from(
    pcb: &Pcb,
    h: Handle,
    buf: &mut [u8],
    timeout_ms: i64,
) -> Result<(usize, SocketAddr), Status> {
    if buf.is_empty() {
        return Err(Status::ErrBadLength);
    }
    // SAFETY: the contract.
    unsafe { consume_raw(pcb, 1) };
    let attempt = |sock: &SocketRef<'_>| {
        if let Err(e) = datagram(sock).and_then(|()| check_owner(pcb, sock)) {
            return Attempt::Fail(e);
        }
        if sock.slot.is_active() {
            return Attempt::Fail(Status::ErrBadArgument); // datagrams go to the mailbox
        }
        loop {
            // SAFETY: an all-zero sockaddr_storage is a valid value to be overwritten.
            let mut from: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            // SAFETY: `buf` is writable for its length, `from` for `len` bytes; the
            // descriptor is held open.
            let n = unsafe {
                libc::recvfrom(
                    sock.fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    0,
                    (&mut from as *mut libc::sockaddr_storage).cast(),
                    &mut len,
                )
            };
            if n >= 0 {
                // SAFETY: the kernel wrote a valid address of `len` bytes into `from`.
                let a = unsafe { SockAddr::new(from, len) };
                return match a.as_socket() {
                    Some(a) => Attempt::Done((n as usize, a)),
                    None => Attempt::Fail(Status::ErrIo),
                };
            }
            match errno() {
                libc::EAGAIN => return Attempt::Again,
                libc::EINTR => continue,
                e => return Attempt::Fail(os_error(pcb, e)),
            }
        }
    };
    // SAFETY: the contract.
    unsafe { wait_io(pcb, h, Dir::Read, timeout_ms, attempt) }
}
