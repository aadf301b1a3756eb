//! TCP for processes: listen, accept, connect, receive, send, shutdown, addresses and
//! options. Each call that would block suspends the calling process (`socket::wait_io`),
//! not its worker. Semantics follow `gen_tcp` in passive mode (`{active, false}`), with
//! the differences `docs/io.md` lists.

use std::net::SocketAddr;
use std::os::fd::{FromRawFd, OwnedFd};

use socket2::{Domain, Protocol, SockAddr, SockRef, Socket, Type};

use super::driver::SocketRef;
use super::frame::{Next, Packet};
use super::slot::{Dir, Handle, Kind};
use super::socket::{check_owner, errno, open, os_error, wait_io, Attempt};
use crate::process::context::consume_raw;
use crate::process::pcb::Pcb;
use crate::runtime::runtime_of;
use crate::status::Status;

/// `listen` flag: `SO_REUSEADDR` (`{reuseaddr, true}`).
pub const LISTEN_REUSEADDR: u32 = 1;
/// `listen` flag: `SO_REUSEPORT` (several listeners on one port, the kernel spreads
/// connections; `{reuseport, true}`).
pub const LISTEN_REUSEPORT: u32 = 2;
/// `listen` flag: an IPv6 listener accepts IPv6 only (`{ipv6_v6only, true}`).
pub const LISTEN_IPV6_ONLY: u32 = 4;
const LISTEN_FLAGS: u32 = LISTEN_REUSEADDR | LISTEN_REUSEPORT | LISTEN_IPV6_ONLY;

/// Which half of a connection `shutdown` closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// No more receiving.
    Read,
    /// No more sending (the peer reads end of stream): a half-close.
    Write,
    /// Both.
    Both,
}

/// A socket option (`inet:setopts/2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SockOpt {
    /// `TCP_NODELAY` (0 or 1): send small segments at once (`{nodelay, true}`).
    NoDelay,
    /// `SO_KEEPALIVE` (0 or 1) (`{keepalive, true}`).
    KeepAlive,
    /// `SO_RCVBUF`, bytes (`{recbuf, N}`); reads back what the kernel set (Linux doubles it).
    RecvBuffer,
    /// `SO_SNDBUF`, bytes (`{sndbuf, N}`); as `RecvBuffer`.
    SendBuffer,
    /// Active mode (`{active, false | once | N}`): 0 passive, -1 once, n > 0 the next n
    /// frames, then a `TcpPassive` message. Data, end of stream and errors then arrive
    /// in the owner's mailbox as `Tcp`, `TcpClosed` and `TcpError` messages (a UDP
    /// socket's datagrams as `Udp` messages); receiving is refused meanwhile. Only the
    /// owner may set it; reads back the messages left.
    Active,
    /// Framing (`{packet, raw | 1 | 2 | 4 | line}`): 0 raw (one message per read, a
    /// receive gets what is there), 1, 2 or 4 (a big-endian length prefix, not delivered),
    /// -1 line (up to and including `\n`). In active mode each frame is a message; a
    /// passive receive gets one frame. Frames over 64 MiB are an error (`TcpError`,
    /// `EMSGSIZE`; `ErrBadLength` for a receive).
    Packet,
}

/// A new non-blocking stream socket for `addr`'s family (TCP, or a Unix stream socket).
fn new_socket(pcb: &Pcb, addr: &SockAddr) -> Result<Socket, Status> {
    let (domain, proto) = if addr.is_unix() {
        (Domain::UNIX, None)
    } else {
        (Domain::from(i32::from(addr.family())), Some(Protocol::TCP))
    };
    Socket::new(domain, Type::STREAM.nonblocking().cloexec(), proto)
        .map_err(|e| os_error(pcb, e.raw_os_error().unwrap_or(0)))
}

/// The address of a Unix socket at `path` (`ErrBadLength` when too long for one).
pub(crate) fn unix_addr(path: &std::path::Path) -> Result<SockAddr, Status> {
    SockAddr::unix(path).map_err(|_| Status::ErrBadLength)
}

/// Charges the reduction every socket call costs (at its start, so a yield or a pending
/// exit signal comes before the call has done anything).
///
/// # Safety
/// `pcb` is the calling process.
unsafe fn charge(pcb: &Pcb) {
    // SAFETY: the contract.
    unsafe { consume_raw(pcb, 1) }
}

/// Opens a listening socket on `addr` (port 0: any free port; `local_addr` tells which; or
/// a Unix socket path, as `gen_tcp` with `{ifaddr, {local, Path}}`, with no flags) with
/// `backlog` pending connections at most (0: the system's maximum) and `LISTEN_*` `flags`,
/// owned by the calling process (`gen_tcp:listen/2`).
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn listen(
    pcb: &Pcb,
    addr: SockAddr,
    backlog: i32,
    flags: u32,
) -> Result<Handle, Status> {
    if backlog < 0 || flags & !LISTEN_FLAGS != 0 || addr.is_unix() && flags != 0 {
        return Err(Status::ErrBadArgument);
    }
    // SAFETY: the contract.
    unsafe { charge(pcb) };
    let s = new_socket(pcb, &addr)?;
    let fail = |e: std::io::Error| os_error(pcb, e.raw_os_error().unwrap_or(0));
    if !addr.is_unix() {
        s.set_reuse_address(flags & LISTEN_REUSEADDR != 0)
            .map_err(fail)?;
    }
    if flags & LISTEN_REUSEPORT != 0 {
        s.set_reuse_port(true).map_err(fail)?;
    }
    if addr.is_ipv6() {
        s.set_only_v6(flags & LISTEN_IPV6_ONLY != 0).map_err(fail)?;
    }
    s.bind(&addr).map_err(fail)?;
    s.listen(if backlog == 0 {
        libc::SOMAXCONN
    } else {
        backlog
    })
    .map_err(fail)?;
    open(pcb, s.into(), Kind::Listener)
}

/// Accepts the oldest pending connection on listener `l`, waiting at most `timeout_ms`
/// (< 0 forever, 0 no wait: `Timeout`); the new socket belongs to the caller. Any process
/// may accept on a listener; several acceptors are served in the order they came
/// (`gen_tcp:accept/2`).
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn accept(pcb: &Pcb, l: Handle, timeout_ms: i64) -> Result<Handle, Status> {
    // SAFETY: the contract.
    unsafe { charge(pcb) };
    let attempt = |sock: &SocketRef<'_>| {
        if sock.slot.kind() != Kind::Listener as u8 {
            return Attempt::Fail(Status::ErrBadArgument);
        }
        loop {
            // SAFETY: a valid listening descriptor (we hold a reference); the address
            // is not asked for.
            let r = unsafe {
                libc::accept4(
                    sock.fd(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                )
            };
            if r >= 0 {
                // SAFETY: a descriptor accept4 just gave us.
                return Attempt::Done(unsafe { OwnedFd::from_raw_fd(r) });
            }
            match errno() {
                libc::EAGAIN => return Attempt::Again,
                // A connection reset before we took it: take the next.
                libc::EINTR | libc::ECONNABORTED => continue,
                e => return Attempt::Fail(os_error(pcb, e)),
            }
        }
    };
    // SAFETY: the contract.
    let fd = unsafe { wait_io(pcb, l, Dir::Read, timeout_ms, attempt)? };
    open(pcb, fd, Kind::Stream)
}

/// Connects to `addr` (an IP address, or a Unix socket path), waiting at most `timeout_ms`
/// (< 0 forever; 0 is refused with `ErrBadArgument`: a connection cannot be made without
/// waiting); the socket belongs to the caller (`gen_tcp:connect/4`). A Unix listener whose
/// backlog is full refuses at once (`EAGAIN`, `ErrIo`): the kernel offers no readiness to
/// wait for there.
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn connect(pcb: &Pcb, addr: SockAddr, timeout_ms: i64) -> Result<Handle, Status> {
    if timeout_ms == 0 {
        return Err(Status::ErrBadArgument);
    }
    super::socket::check_timeout(timeout_ms)?;
    // SAFETY: the contract.
    unsafe { charge(pcb) };
    let s = new_socket(pcb, &addr)?;
    let pending = match s.connect(&addr) {
        Ok(()) => false,
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => true,
        Err(e) => return Err(os_error(pcb, e.raw_os_error().unwrap_or(0))),
    };
    let h = open(pcb, s.into(), Kind::Stream)?;
    if pending {
        // SAFETY: the contract.
        let r = unsafe {
            wait_io(pcb, h, Dir::Write, timeout_ms, |sock| {
                with_sock(sock, |s| match s.take_error() {
                    Ok(Some(e)) => Attempt::Fail(os_error(pcb, e.raw_os_error().unwrap_or(0))),
                    Err(e) => Attempt::Fail(os_error(pcb, e.raw_os_error().unwrap_or(0))),
                    Ok(None) => match s.peer_addr() {
                        Ok(_) => Attempt::Done(()),
                        Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => Attempt::Again,
                        Err(e) => Attempt::Fail(os_error(pcb, e.raw_os_error().unwrap_or(0))),
                    },
                })
            })
        };
        if let Err(e) = r {
            let _ = super::socket::close(pcb, h);
            return Err(e);
        }
    }
    Ok(h)
}

/// Runs `f` with socket2's view of the descriptor of `sock`.
fn with_sock<R>(sock: &SocketRef<'_>, f: impl FnOnce(SockRef<'_>) -> R) -> R {
    // SAFETY: the descriptor stays open while the reference `sock` is held, which outlives
    // this call.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(sock.fd()) };
    f(SockRef::from(&fd))
}

/// One whole frame of a socket with a packet mode (`{packet, 1 | 2 | 4 | line}` in passive
/// mode: `gen_tcp:recv(S, 0)`) into `buf`, reading into the slot's buffer until a frame is
/// complete. A frame larger than `buf` is `ErrBadLength` and stays for a receive with a
/// larger buffer; one over `MAX_FRAME` is `ErrBadLength` too.
fn recv_frame(
    pcb: &Pcb,
    sock: &SocketRef<'_>,
    rx: &mut super::frame::RxState,
    buf: &mut [u8],
) -> Attempt<usize> {
    loop {
        match rx.next() {
            Next::Frame {
                start,
                end,
                consumed,
            } => {
                let n = end - start;
                if n > buf.len() {
                    return Attempt::Fail(Status::ErrBadLength);
                }
                buf[..n].copy_from_slice(&rx.buf[start..end]);
                rx.consume(consumed);
                return Attempt::Done(n);
            }
            Next::TooLarge => return Attempt::Fail(Status::ErrBadLength),
            Next::More => {}
        }
        let len = rx.buf.len();
        rx.buf.reserve(FRAME_READ);
        // SAFETY: the buffer has room for FRAME_READ more bytes after `len`; the descriptor
        // is held open by `sock`.
        let n = unsafe {
            libc::recv(
                sock.fd(),
                rx.buf.as_mut_ptr().add(len).cast(),
                FRAME_READ,
                0,
            )
        };
        if n > 0 {
            // SAFETY: the kernel wrote `n` bytes after `len`.
            unsafe { rx.buf.set_len(len + n as usize) };
            continue;
        }
        if n == 0 {
            return Attempt::Fail(Status::ErrPeerClosed);
        }
        match errno() {
            libc::EAGAIN => return Attempt::Again,
            libc::EINTR => continue,
            e => return Attempt::Fail(os_error(pcb, e)),
        }
    }
}

/// Bytes one read asks for while a frame is incomplete.
const FRAME_READ: usize = 16 << 10;

/// Receives into `buf` until at least `min` bytes (0: at least one, whatever is there) or
/// the timeout. Returns the bytes received and the outcome: `Ok`, `Timeout` (with what
/// arrived so far, which is not lost), `ErrPeerClosed` (end of stream first), or an error.
/// With a packet mode set ([`SockOpt::Packet`]) it receives one whole frame and `min` is
/// not used (`gen_tcp:recv(S, 0)`). Only the owner may receive (`gen_tcp:recv/3`).
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn recv(
    pcb: &Pcb,
    h: Handle,
    buf: &mut [u8],
    min: usize,
    timeout_ms: i64,
) -> (usize, Result<(), Status>) {
    if buf.is_empty() || min > buf.len() {
        return (0, Err(Status::ErrBadLength));
    }
    // SAFETY: the contract.
    unsafe { charge(pcb) };
    let want = min.max(1);
    let mut got = 0usize;
    let attempt = |sock: &SocketRef<'_>| {
        if let Err(e) = stream_owned(pcb, sock) {
            return Attempt::Fail(e);
        }
        // Bytes active mode read and did not deliver come first (`frame.rs`); with a
        // packet mode set, the receive is one whole frame.
        {
            let mut rx = sock.slot.rx.lock();
            if rx.packet != Packet::Raw {
                return match recv_frame(pcb, sock, &mut rx, buf) {
                    Attempt::Done(n) => {
                        got = n;
                        Attempt::Done(())
                    }
                    Attempt::Again => Attempt::Again,
                    Attempt::Fail(e) => Attempt::Fail(e),
                };
            }
            if !rx.pending().is_empty() {
                let n = rx.pending().len().min(buf.len() - got);
                buf[got..got + n].copy_from_slice(&rx.pending()[..n]);
                rx.consume(n);
                got += n;
                if got >= want {
                    return Attempt::Done(());
                }
            }
        }
        loop {
            let rest = &mut buf[got..];
            // SAFETY: `rest` is writable for its length; the descriptor is held open.
            let n = unsafe { libc::recv(sock.fd(), rest.as_mut_ptr().cast(), rest.len(), 0) };
            if n > 0 {
                got += n as usize;
                if got >= want {
                    return Attempt::Done(());
                }
                continue;
            }
            if n == 0 {
                return Attempt::Fail(Status::ErrPeerClosed);
            }
            match errno() {
                libc::EAGAIN => return Attempt::Again,
                libc::EINTR => continue,
                e => return Attempt::Fail(os_error(pcb, e)),
            }
        }
    };
    // SAFETY: the contract.
    let r = unsafe { wait_io(pcb, h, Dir::Read, timeout_ms, attempt) };
    (got, r)
}

/// Sends all of `data`, waiting at most `timeout_ms` for room (`Timeout`: the count says
/// how much went). Any process may send on a connection (`gen_tcp:send/2`, with
/// `{send_timeout, T}`). Never raises `SIGPIPE`: a closed connection is `ErrConnReset`.
///
/// # Safety
/// `pcb` is the calling process.
pub(crate) unsafe fn send(
    pcb: &Pcb,
    h: Handle,
    data: &[u8],
    timeout_ms: i64,
) -> (usize, Result<(), Status>) {
    // SAFETY: the contract.
    unsafe { charge(pcb) };
    let mut sent = 0usize;
    let attempt = |sock: &SocketRef<'_>| {
        if sock.slot.kind() != Kind::Stream as u8 {
            return Attempt::Fail(Status::ErrBadArgument);
        }
        while sent < data.len() {
            let rest = &data[sent..];
            // SAFETY: `rest` is readable for its length; the descriptor is held open.
            let n = unsafe {
                libc::send(
                    sock.fd(),
                    rest.as_ptr().cast(),
                    rest.len(),
                    libc::MSG_NOSIGNAL,
                )
            };
            if n >= 0 {
                sent += n as usize;
                continue;
            }
            match errno() {
                libc::EAGAIN => return Attempt::Again,
                libc::EINTR => continue,
                e => return Attempt::Fail(os_error(pcb, e)),
            }
        }
        Attempt::Done(())
    };
    // SAFETY: the contract.
    let r = unsafe { wait_io(pcb, h, Dir::Write, timeout_ms, attempt) };
    (sent, r)
}

/// A passive stream the caller owns (receive and the like).
fn stream_owned(pcb: &Pcb, sock: &SocketRef<'_>) -> Result<(), Status> {
    if sock.slot.kind() != Kind::Stream as u8 || sock.slot.is_active() {
        return Err(Status::ErrBadArgument);
    }
    check_owner(pcb, sock)
}

/// Closes one or both directions of connection `h` (`gen_tcp:shutdown/2`). Any process.
pub(crate) fn shutdown(pcb: &Pcb, h: Handle, how: Shutdown) -> Result<(), Status> {
    let sock = runtime_of(pcb).io.acquire(h)?;
    if sock.slot.kind() != Kind::Stream as u8 {
        return Err(Status::ErrBadArgument);
    }
    let how = match how {
        Shutdown::Read => std::net::Shutdown::Read,
        Shutdown::Write => std::net::Shutdown::Write,
        Shutdown::Both => std::net::Shutdown::Both,
    };
    with_sock(&sock, |s| s.shutdown(how)).map_err(|e| os_error(pcb, e.raw_os_error().unwrap_or(0)))
}

/// The local (`peer` false) or remote address of socket `h` (`inet:sockname/1`,
/// `inet:peername/1`); `ErrBadArgument` for a Unix socket (it has no IP address).
pub(crate) fn address(pcb: &Pcb, h: Handle, peer: bool) -> Result<SocketAddr, Status> {
    let sock = runtime_of(pcb).io.acquire(h)?;
    let a: std::io::Result<SockAddr> =
        with_sock(&sock, |s| if peer { s.peer_addr() } else { s.local_addr() });
    a.map_err(|e| os_error(pcb, e.raw_os_error().unwrap_or(0)))?
        .as_socket()
        .ok_or(Status::ErrBadArgument)
}

/// Sets option `opt` of socket `h` to `value` (see [`SockOpt`]). Any process.
pub(crate) fn set_option(pcb: &Pcb, h: Handle, opt: SockOpt, value: i64) -> Result<(), Status> {
    match opt {
        // SAFETY: `pcb` is the calling process (it calls this).
        SockOpt::Active => return unsafe { super::active::set_active(pcb, h, value) },
        SockOpt::Packet => return super::active::set_packet(pcb, h, value),
        _ => {}
    }
    let sock = runtime_of(pcb).io.acquire(h)?;
    let fail = |e: std::io::Error| os_error(pcb, e.raw_os_error().unwrap_or(0));
    with_sock(&sock, |s| match opt {
        SockOpt::NoDelay | SockOpt::KeepAlive if !(0..=1).contains(&value) => {
            Err(Status::ErrBadArgument)
        }
        SockOpt::RecvBuffer | SockOpt::SendBuffer if !(1..=i32::MAX as i64).contains(&value) => {
            Err(Status::ErrBadArgument)
        }
        SockOpt::NoDelay => s.set_nodelay(value == 1).map_err(fail),
        SockOpt::KeepAlive => s.set_keepalive(value == 1).map_err(fail),
        SockOpt::RecvBuffer => s.set_recv_buffer_size(value as usize).map_err(fail),
        SockOpt::SendBuffer => s.set_send_buffer_size(value as usize).map_err(fail),
        SockOpt::Active | SockOpt::Packet => unreachable!("handled above"),
    })
}

/// Reads option `opt` of socket `h`.
pub(crate) fn get_option(pcb: &Pcb, h: Handle, opt: SockOpt) -> Result<i64, Status> {
    match opt {
        SockOpt::Active => return super::active::active(pcb, h),
        SockOpt::Packet => return super::active::packet(pcb, h),
        _ => {}
    }
    let sock = runtime_of(pcb).io.acquire(h)?;
    let fail = |e: std::io::Error| os_error(pcb, e.raw_os_error().unwrap_or(0));
    with_sock(&sock, |s| {
        Ok(match opt {
            SockOpt::NoDelay => i64::from(s.nodelay().map_err(fail)?),
            SockOpt::KeepAlive => i64::from(s.keepalive().map_err(fail)?),
            SockOpt::RecvBuffer => s.recv_buffer_size().map_err(fail)? as i64,
            SockOpt::SendBuffer => s.send_buffer_size().map_err(fail)? as i64,
            SockOpt::Active | SockOpt::Packet => unreachable!("handled above"),
        })
    })
}
