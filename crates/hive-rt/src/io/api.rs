//! Sockets for processes (`hive_rt::net`): TCP calls that suspend the calling process,
//! not its worker, while they wait (as `gen_tcp` in passive mode suspends an Erlang
//! process, not its scheduler). The C ABI's `hive_tcp_*` / `hive_socket_*` calls are the
//! same functions.
//!
//! - A [`Socket`] is an opaque handle with a generation: once closed, every call on it
//!   fails with `ErrClosed`, even after the OS reuses its descriptor for another socket.
//! - A socket belongs to the process that opened or accepted it, its **owner**; the owner's
//!   exit closes it, whatever the reason (`kill` included), which wakes every process
//!   waiting on it. [`controlling_process`] hands it to another process.
//! - Timeouts are in ms: `None` waits as long as it takes, `Some(0)` does not wait (a
//!   would-block is `Timeout`). A process waiting in a call is suspended like one in
//!   `receive`: messages arriving meanwhile stay queued; an exit signal ends it at once.
//! - Every call must come from a process (`ErrNotAProcess` otherwise) and outside a match
//!   predicate (`ErrReentrant`). OS errors map to status codes ([`crate::Status`]); the `errno`
//!   of the calling process's last failed call is [`last_errno`].
//!
//! ```
//! use hive_rt::{net, Config, Runtime};
//! let rt = Runtime::new(Config::default()).unwrap();
//! rt.run(|| {
//!     let l = net::tcp_listen("127.0.0.1:0".parse().unwrap(), 0, net::LISTEN_REUSEADDR).unwrap();
//!     let addr = net::local_addr(l).unwrap();
//!     let me = hive_rt::process::self_pid();
//!     hive_rt::process::spawn(move || {
//!         let c = net::tcp_connect(addr, Some(5_000)).unwrap();
//!         net::send(c, b"ping", None).unwrap();
//!         let _ = hive_rt::process::send(me, b"sent");
//!     }).unwrap();
//!     let s = net::tcp_accept(l, Some(5_000)).unwrap();
//!     let mut buf = [0u8; 4];
//!     assert_eq!(net::recv(s, &mut buf, 4, Some(5_000)).unwrap(), 4);
//!     assert_eq!(&buf, b"ping");
//! }).unwrap();
//! rt.shutdown();
//! ```

use std::net::SocketAddr;

pub use super::tcp::{Shutdown, SockOpt, LISTEN_IPV6_ONLY, LISTEN_REUSEADDR, LISTEN_REUSEPORT};
use super::{socket, tcp};
use crate::pid::Pid;
use crate::status::{Error, Result};

/// A socket handle: `generation:32 | slot:32`, never 0, never reused for another socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Socket(pub u64);

fn ms(timeout_ms: Option<u32>) -> i64 {
    timeout_ms.map_or(-1, i64::from)
}

/// Runs `f` for the calling process, having entered the runtime.
fn with_caller<T>(f: impl FnOnce(&crate::process::pcb::Pcb) -> Result<T>) -> Result<T> {
    let _rt = crate::sched::enter();
    let pcb = socket::caller()?;
    f(pcb)
}

/// Opens a TCP listening socket on `addr` (IPv4 or IPv6; port 0 picks a free port, see
/// [`local_addr`]), with at most `backlog` connections pending (0: the system's maximum,
/// `SOMAXCONN`), and `LISTEN_*` `flags` (`gen_tcp:listen/2` with `reuseaddr`, `reuseport`,
/// `ipv6_v6only`). Owned by the caller.
///
/// Errors: `ErrNotAProcess`, `ErrBadArgument` (negative backlog, unknown flag),
/// `ErrAddrInUse`, `ErrSystemLimit` (out of descriptors), `ErrNoMemory`, `ErrIo`.
pub fn tcp_listen(addr: SocketAddr, backlog: i32, flags: u32) -> Result<Socket> {
    with_caller(|pcb| {
        // SAFETY: `pcb` is the calling process (`with_caller`).
        unsafe { tcp::listen(pcb, addr.into(), backlog, flags) }
            .map(Socket)
            .map_err(Error)
    })
}

/// Accepts the oldest pending connection on `listener`; the new socket is owned by the
/// caller. Several processes may accept on one listener: they are served in the order
/// they started waiting (`gen_tcp:accept/2`).
///
/// Errors: `ErrNotAProcess`, `ErrReentrant`, `ErrClosed` (the listener is closed, also while
/// waiting), `ErrBadArgument` (not a listener, or timeout over `MAX_TIMEOUT_MS`), `Timeout`,
/// `ErrSystemLimit` (out of descriptors: the pending connection stays queued), `ErrNoMemory`,
/// `ErrIo`.
pub fn tcp_accept(listener: Socket, timeout_ms: Option<u32>) -> Result<Socket> {
    with_caller(|pcb| {
        // SAFETY: `pcb` is the calling process (`with_caller`).
        unsafe { tcp::accept(pcb, listener.0, ms(timeout_ms)) }
            .map(Socket)
            .map_err(Error)
    })
}

/// Connects to `addr`, waiting at most `timeout_ms` (`Some(0)` is refused: connecting
/// always waits); owned by the caller (`gen_tcp:connect/4`).
///
/// Errors: `ErrNotAProcess`, `ErrReentrant`, `ErrBadArgument`, `Timeout`, `ErrConnRefused`,
/// `ErrSystemLimit`, `ErrNoMemory`, `ErrIo` (unreachable network and the like; see
/// [`last_errno`]).
pub fn tcp_connect(addr: SocketAddr, timeout_ms: Option<u32>) -> Result<Socket> {
    with_caller(|pcb| {
        // SAFETY: `pcb` is the calling process (`with_caller`).
        unsafe { tcp::connect(pcb, addr.into(), ms(timeout_ms)) }
            .map(Socket)
            .map_err(Error)
    })
}

/// Opens a Unix stream listening socket at `path` (the file must not exist; the caller
/// removes it when done), as `gen_tcp:listen(0, [{ifaddr, {local, Path}}])`. The stream calls
/// ([`tcp_accept`], [`recv`], [`send`], [`shutdown`], [`close`]) work on it and on its
/// connections as on TCP ones.
///
/// Errors: `ErrNotAProcess`, `ErrBadLength` (path too long for a socket address),
/// `ErrBadArgument` (negative backlog), `ErrAddrInUse` (the file exists), `ErrSystemLimit`,
/// `ErrNoMemory`, `ErrIo` (see [`last_errno`]).
pub fn unix_listen(path: &std::path::Path, backlog: i32) -> Result<Socket> {
    with_caller(|pcb| {
        {
            let a = tcp::unix_addr(path)?;
            // SAFETY: `pcb` is the calling process (`with_caller`).
            unsafe { tcp::listen(pcb, a, backlog, 0) }
        }
        .map(Socket)
        .map_err(Error)
    })
}

/// Connects to the Unix stream socket at `path` (`gen_tcp:connect({local, Path}, 0, …)`).
///
/// Errors: `ErrNotAProcess`, `ErrReentrant`, `ErrBadLength`, `ErrBadArgument` (timeout 0),
/// `Timeout`, `ErrConnRefused` (nobody listens there), `ErrSystemLimit`, `ErrNoMemory`,
/// `ErrIo` (no such file: `ENOENT`; backlog full: `EAGAIN`; see [`last_errno`]).
pub fn unix_connect(path: &std::path::Path, timeout_ms: Option<u32>) -> Result<Socket> {
    with_caller(|pcb| {
        {
            let a = tcp::unix_addr(path)?;
            // SAFETY: `pcb` is the calling process (`with_caller`).
            unsafe { tcp::connect(pcb, a, ms(timeout_ms)) }
        }
        .map(Socket)
        .map_err(Error)
    })
}

/// Opens a UDP socket bound to `addr` (port 0: any free port; see [`local_addr`]), owned
/// by the caller (`gen_udp:open/2`).
///
/// Errors: `ErrNotAProcess`, `ErrAddrInUse`, `ErrSystemLimit`, `ErrNoMemory`, `ErrIo`.
pub fn udp_open(addr: SocketAddr) -> Result<Socket> {
    with_caller(|pcb| {
        // SAFETY: `pcb` is the calling process (`with_caller`).
        unsafe { super::udp::open_udp(pcb, addr) }
            .map(Socket)
            .map_err(Error)
    })
}

/// Sends `data` as one datagram to `to` (`gen_udp:send/4`); any process may. Waits at
/// most `timeout_ms` for room in the send buffer.
///
/// Errors: `ErrNotAProcess`, `ErrReentrant`, `ErrBadLength` (over 65,507 bytes), `ErrClosed`,
/// `ErrBadArgument` (not a UDP socket), `Timeout`, `ErrConnRefused` (an earlier datagram was
/// refused by the peer's host), `ErrIo`.
pub fn udp_send_to(s: Socket, to: SocketAddr, data: &[u8], timeout_ms: Option<u32>) -> Result<()> {
    with_caller(|pcb| {
        // SAFETY: `pcb` is the calling process (`with_caller`).
        unsafe { super::udp::send_to(pcb, s.0, to, data, ms(timeout_ms)) }.map_err(Error)
    })
}

/// Receives one datagram into `buf` and returns its length and sender (`gen_udp:recv/3`);
/// only the owner may. A datagram longer than `buf` is cut to its length (the rest is
/// lost, as with `recvfrom`: 65,507 bytes always suffice).
///
/// Errors: `ErrNotAProcess`, `ErrReentrant`, `ErrBadLength` (empty `buf`), `ErrClosed`,
/// `ErrNotOwner`, `ErrBadArgument` (not a UDP socket), `Timeout`, `ErrIo`.
pub fn udp_recv_from(
    s: Socket,
    buf: &mut [u8],
    timeout_ms: Option<u32>,
) -> Result<(usize, SocketAddr)> {
    with_caller(|pcb| {
        // SAFETY: `pcb` is the calling process (`with_caller`).
        unsafe { super::udp::recv_from(pcb, s.0, buf, ms(timeout_ms)) }.map_err(Error)
    })
}

/// Receives into `buf` at least `min` bytes (0: at least one, whatever has arrived) and at
/// most `buf.len()`; returns how many. With a packet mode ([`SockOpt::Packet`]) it receives
/// one whole frame (`min` unused; a frame longer than `buf` is `ErrBadLength` and stays).
/// Only the owner may receive (`gen_tcp:recv/3`).
///
/// Errors: `ErrNotAProcess`, `ErrReentrant`, `ErrBadLength` (empty `buf`, `min` above its
/// length), `ErrClosed`, `ErrNotOwner`, `ErrBadArgument` (a listener), `ErrPeerClosed` (end
/// of stream first), `ErrConnReset`, `Timeout`, `ErrIo`. On `Timeout` and `ErrPeerClosed`
/// the bytes that did arrive are in `buf` but their count is lost: use [`recv_partial`]
/// when that matters.
pub fn recv(s: Socket, buf: &mut [u8], min: usize, timeout_ms: Option<u32>) -> Result<usize> {
    let (n, r) = recv_partial(s, buf, min, timeout_ms);
    r.map(|()| n)
}

/// As [`recv`], returning the count of bytes received in every case.
pub fn recv_partial(
    s: Socket,
    buf: &mut [u8],
    min: usize,
    timeout_ms: Option<u32>,
) -> (usize, Result<()>) {
    let _rt = crate::sched::enter();
    let pcb = match socket::caller() {
        Ok(p) => p,
        Err(e) => return (0, Err(Error(e))),
    };
    // SAFETY: `pcb` is the calling process.
    let (n, r) = unsafe { tcp::recv(pcb, s.0, buf, min, ms(timeout_ms)) };
    (n, r.map_err(Error))
}

/// Sends all of `data` (`gen_tcp:send/2`); any process may send on a connection. Never
/// raises `SIGPIPE`.
///
/// Errors: `ErrNotAProcess`, `ErrReentrant`, `ErrClosed`, `ErrBadArgument` (a listener),
/// `ErrConnReset` (the peer is gone), `Timeout` (see [`send_partial`] for the count sent),
/// `ErrIo`.
pub fn send(s: Socket, data: &[u8], timeout_ms: Option<u32>) -> Result<()> {
    send_partial(s, data, timeout_ms).1
}

/// As [`send`], returning the count of bytes sent in every case.
pub fn send_partial(s: Socket, data: &[u8], timeout_ms: Option<u32>) -> (usize, Result<()>) {
    let _rt = crate::sched::enter();
    let pcb = match socket::caller() {
        Ok(p) => p,
        Err(e) => return (0, Err(Error(e))),
    };
    // SAFETY: `pcb` is the calling process.
    let (n, r) = unsafe { tcp::send(pcb, s.0, data, ms(timeout_ms)) };
    (n, r.map_err(Error))
}

/// Closes one or both directions of a connection (`gen_tcp:shutdown/2`).
///
/// Errors: `ErrNotAProcess`, `ErrClosed`, `ErrBadArgument` (a listener), `ErrIo` (not
/// connected).
pub fn shutdown(s: Socket, how: Shutdown) -> Result<()> {
    with_caller(|pcb| tcp::shutdown(pcb, s.0, how).map_err(Error))
}

/// Closes a socket (`gen_tcp:close/1`; any process may). Processes waiting on it get
/// `ErrClosed`; the descriptor is closed once calls in progress on it return.
///
/// Errors: `ErrNotAProcess`, `ErrClosed` (already closed, or not a socket).
pub fn close(s: Socket) -> Result<()> {
    with_caller(|pcb| socket::close(pcb, s.0).map_err(Error))
}

/// The socket's local address (`inet:sockname/1`).
///
/// Errors: `ErrNotAProcess`, `ErrClosed`, `ErrIo`.
pub fn local_addr(s: Socket) -> Result<SocketAddr> {
    with_caller(|pcb| tcp::address(pcb, s.0, false).map_err(Error))
}

/// The connection's remote address (`inet:peername/1`).
///
/// Errors: `ErrNotAProcess`, `ErrClosed`, `ErrIo` (not connected).
pub fn peer_addr(s: Socket) -> Result<SocketAddr> {
    with_caller(|pcb| tcp::address(pcb, s.0, true).map_err(Error))
}

/// Sets a socket option (`inet:setopts/2`); see [`SockOpt`] for values.
///
/// Errors: `ErrNotAProcess`, `ErrClosed`, `ErrBadArgument` (value out of range), `ErrIo`.
pub fn set_option(s: Socket, opt: SockOpt, value: i64) -> Result<()> {
    with_caller(|pcb| tcp::set_option(pcb, s.0, opt, value).map_err(Error))
}

/// Frames of 4-byte length prefixes, delivered in active mode as batches of whole frames
/// (prefixes included; split them with `io::frame::batch_frames`), a large frame alone in
/// a message with the bytes at `locate(head)` 16-byte aligned: the framing of a
/// distribution connection. Errors: as [`set_option`]'s.
pub(crate) fn set_batched_frames(s: Socket, locate: super::frame::Locate) -> Result<()> {
    with_caller(|pcb| super::active::set_batched(pcb, s.0, locate).map_err(Error))
}

/// Reads a socket option (`inet:getopts/2`).
///
/// Errors: `ErrNotAProcess`, `ErrClosed`, `ErrIo`.
pub fn option(s: Socket, opt: SockOpt) -> Result<i64> {
    with_caller(|pcb| tcp::get_option(pcb, s.0, opt).map_err(Error))
}

/// Makes `pid` the socket's owner (`gen_tcp:controlling_process/2`): its exit will close
/// the socket, and only it may receive. Only the owner may call this.
///
/// Errors: `ErrNotAProcess`, `ErrClosed`, `ErrNotOwner`, `ErrNoProcess` (`pid` is not
/// alive), `ErrShutDown`.
pub fn controlling_process(s: Socket, pid: Pid) -> Result<()> {
    with_caller(|pcb| socket::transfer(pcb, s.0, pid).map_err(Error))
}

/// The OS `errno` of the calling process's last failed socket call (0: none yet), for
/// errors reported as `ErrIo` and the like.
///
/// Errors: `ErrNotAProcess`.
pub fn last_errno() -> Result<i32> {
    with_caller(|pcb| Ok(socket::last_errno(pcb)))
}

/// The addresses of `host` (a name, or an address in text), looked up with the system's
/// resolver (`getaddrinfo`) on the blocking pool while the calling process waits in a
/// receive for at most `timeout_ms` (`inet:getaddrs/2`); IPv4 and IPv6, in the resolver's
/// order, without duplicates. A reply that comes after the timeout is dropped.
///
/// Errors: `ErrNotAProcess`, `ErrReentrant`, `ErrBadArgument` (empty host or one with a NUL
/// byte), `Timeout`, `ErrNotFound` (no address), `ErrShutDown`, `ErrSystemLimit`.
pub fn resolve(host: &str, timeout_ms: Option<u32>) -> Result<Vec<std::net::IpAddr>> {
    use std::net::ToSocketAddrs;
    if host.is_empty() || host.contains('\0') {
        return Err(Error(crate::Status::ErrBadArgument));
    }
    let name = host.to_owned();
    let job = Box::new(move || -> Vec<u8> {
        let mut out = Vec::new();
        if let Ok(addrs) = (name.as_str(), 0).to_socket_addrs() {
            let mut seen = Vec::new();
            for a in addrs {
                let ip = a.ip();
                if seen.contains(&ip) {
                    continue;
                }
                seen.push(ip);
                match ip {
                    std::net::IpAddr::V4(v4) => {
                        out.push(4);
                        out.extend_from_slice(&v4.octets());
                    }
                    std::net::IpAddr::V6(v6) => {
                        out.push(6);
                        out.extend_from_slice(&v6.octets());
                    }
                }
            }
        }
        out
    });
    let (r, ticket) = with_caller(|pcb| super::pool::call(pcb, job).map_err(Error))?;
    let is_reply = move |m: &crate::Message| m.call_ref() == r;
    let reply = match crate::process::receive_select(timeout_ms, is_reply) {
        Err(e) if e.0 == crate::Status::Timeout && !ticket.abandon() => {
            // Delivered (or being delivered) as we gave up: take it after all.
            crate::process::receive_select(None, is_reply)?
        }
        other => other?,
    };
    let mut ips = Vec::new();
    let mut b = reply.data();
    while let Some((&fam, rest)) = b.split_first() {
        let n = if fam == 4 { 4 } else { 16 };
        if rest.len() < n {
            break;
        }
        ips.push(if n == 4 {
            std::net::IpAddr::from(<[u8; 4]>::try_from(&rest[..4]).expect("4 bytes"))
        } else {
            std::net::IpAddr::from(<[u8; 16]>::try_from(&rest[..16]).expect("16 bytes"))
        });
        b = &rest[n..];
    }
    if ips.is_empty() {
        return Err(Error(crate::Status::ErrNotFound));
    }
    Ok(ips)
}

/// The number of sockets open in the calling process's runtime (for leak checks).
///
/// Errors: `ErrNotAProcess`.
pub fn open_sockets() -> Result<usize> {
    with_caller(|pcb| {
        Ok(crate::runtime::runtime_of(pcb)
            .io
            .open
            .load(std::sync::atomic::Ordering::SeqCst))
    })
}
