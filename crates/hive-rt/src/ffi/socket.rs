//! Sockets: `hive_tcp_*` and `hive_socket_*` (see `hive_rt::net` and `docs/io.md`).
//!
//! A call that would block suspends the calling process, not its worker, like
//! `hive_receive`. Timeouts are `int64_t` ms: negative waits as long as it takes, 0 does
//! not wait (`HIVE_TIMEOUT` if the call would block), at most `HIVE_MAX_TIMEOUT_MS`.
//! Every call must come from a process (`HIVE_ERR_NOT_A_PROCESS` from any other thread).
//! Addresses are numeric IPv4 or IPv6 text (`"127.0.0.1"`, `"::1"`), NUL-terminated.

use std::ffi::{c_char, c_void, CStr};
use std::net::{IpAddr, SocketAddr};

use super::{code, guard, hive_pid, hive_status, result_code, HIVE_ERR_NULL_POINTER, HIVE_OK};
use crate::io::api::{self as net, Shutdown, SockOpt, Socket};
use crate::pid::Pid;
use crate::status::Status;

/// A socket handle (opaque, never 0; a closed socket's handle is never reused).
pub type hive_socket = u64;

/// `hive_tcp_listen` flag: `SO_REUSEADDR`.
pub const HIVE_TCP_REUSEADDR: u32 = 1;
/// `hive_tcp_listen` flag: `SO_REUSEPORT`.
pub const HIVE_TCP_REUSEPORT: u32 = 2;
/// `hive_tcp_listen` flag: an IPv6 listener takes IPv6 connections only.
pub const HIVE_TCP_IPV6_ONLY: u32 = 4;

/// `hive_tcp_shutdown`: no more receiving.
pub const HIVE_SHUT_READ: i32 = 0;
/// `hive_tcp_shutdown`: no more sending (half-close: the peer reads end of stream).
pub const HIVE_SHUT_WRITE: i32 = 1;
/// `hive_tcp_shutdown`: both.
pub const HIVE_SHUT_BOTH: i32 = 2;

/// Socket option `TCP_NODELAY` (0 or 1).
pub const HIVE_SOCKOPT_NODELAY: i32 = 1;
/// Socket option `SO_KEEPALIVE` (0 or 1).
pub const HIVE_SOCKOPT_KEEPALIVE: i32 = 2;
/// Socket option `SO_RCVBUF`, bytes.
pub const HIVE_SOCKOPT_RCVBUF: i32 = 3;
/// Socket option `SO_SNDBUF`, bytes.
pub const HIVE_SOCKOPT_SNDBUF: i32 = 4;
/// Socket option: active mode (`{active, …}`): 0 passive, -1 once, n > 0 the next n
/// messages; streams and UDP sockets; owner only (see `docs/io.md`, *Active mode*).
pub const HIVE_SOCKOPT_ACTIVE: i32 = 5;
/// Socket option: active mode's framing (`{packet, …}`): 0 raw, 1/2/4 length prefix, -1
/// line.
pub const HIVE_SOCKOPT_PACKET: i32 = 6;

/// Bytes an address buffer of `hive_socket_addr` needs at most (an IPv6 text and its NUL).
pub const HIVE_SOCKET_ADDR_MAX: usize = 46;

/// Reads the address `ip` and `port`.
///
/// # Safety
/// `ip` is NULL or a NUL-terminated string.
unsafe fn addr_arg(ip: *const c_char, port: u16) -> Result<SocketAddr, Status> {
    if ip.is_null() {
        return Err(Status::ErrNullPointer);
    }
    // SAFETY: non-null and NUL-terminated per the contract.
    let s = unsafe { CStr::from_ptr(ip) };
    if s.to_bytes().len() >= HIVE_SOCKET_ADDR_MAX {
        return Err(Status::ErrBadLength);
    }
    let ip: IpAddr = s
        .to_str()
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or(Status::ErrBadArgument)?;
    Ok(SocketAddr::new(ip, port))
}

/// A timeout argument in ms as the Rust API takes it.
fn timeout_arg(ms: i64) -> Result<Option<u32>, Status> {
    if ms < 0 {
        Ok(None)
    } else if ms > crate::process::context::MAX_TIMEOUT_MS {
        Err(Status::ErrBadArgument)
    } else {
        Ok(Some(ms as u32))
    }
}

/// The status of a call that opens a socket, writing its handle to `out` on success.
///
/// # Safety
/// `out` is non-null and writable.
unsafe fn socket_out(out: *mut hive_socket, r: Result<Socket, Status>) -> hive_status {
    match r {
        Ok(s) => {
            // SAFETY: non-null and writable per the contract.
            unsafe { out.write(s.0) };
            HIVE_OK
        }
        Err(e) => code(e),
    }
}

/// A connect's timeout argument: as [`timeout_arg`], and 0 is refused (connecting always
/// waits).
fn connect_timeout_arg(ms: i64) -> Result<Option<u32>, Status> {
    match timeout_arg(ms)? {
        Some(0) => Err(Status::ErrBadArgument),
        t => Ok(t),
    }
}

/// Writes `v` to `out` when `out` is not NULL.
///
/// # Safety
/// `out` is NULL or writable.
unsafe fn put<T>(out: *mut T, v: T) {
    if !out.is_null() {
        // SAFETY: non-null and writable per the contract.
        unsafe { out.write(v) };
    }
}

/// Opens a TCP listening socket on `ip`:`port` (port 0: any free port, see
/// `hive_socket_addr`) with at most `backlog` pending connections (0: the system's
/// maximum) and `HIVE_TCP_*` `flags`; owned by the calling process, which closes it by
/// exiting (`gen_tcp:listen/2`). Writes the handle to `*out`.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NULL_POINTER` (`ip` or `out`),
/// `HIVE_ERR_BAD_LENGTH` (`ip` longer than an address), `HIVE_ERR_BAD_ARGUMENT` (not a
/// numeric address, negative backlog, unknown flag), `HIVE_ERR_ADDR_IN_USE`,
/// `HIVE_ERR_SYSTEM_LIMIT` (out of descriptors), `HIVE_ERR_NO_MEMORY`, `HIVE_ERR_IO`.
///
/// # Safety
/// `ip` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_tcp_listen(
    ip: *const c_char,
    port: u16,
    backlog: i32,
    flags: u32,
    out: *mut hive_socket,
) -> hive_status {
    guard(|| {
        if out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        // SAFETY: the contract.
        let addr = match unsafe { addr_arg(ip, port) } {
            Ok(a) => a,
            Err(s) => return code(s),
        };
        // SAFETY: `out` checked non-null; writable per the contract.
        unsafe { socket_out(out, net::tcp_listen(addr, backlog, flags).map_err(|e| e.0)) }
    })
}

/// Accepts the oldest pending connection on `listener`, waiting at most `timeout_ms`;
/// the new socket is owned by the caller and written to `*out`. Any process may accept on
/// a listener; several acceptors are served in the order they began waiting
/// (`gen_tcp:accept/2`).
///
/// Returns `HIVE_OK`; `HIVE_TIMEOUT`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NULL_POINTER`,
/// `HIVE_ERR_REENTRANT` (inside a match predicate), `HIVE_ERR_CLOSED` (also when closed
/// while waiting), `HIVE_ERR_BAD_ARGUMENT` (not a listener, timeout too large),
/// `HIVE_ERR_SYSTEM_LIMIT` (out of descriptors; the connection stays pending),
/// `HIVE_ERR_NO_MEMORY`, `HIVE_ERR_IO`.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_tcp_accept(
    listener: hive_socket,
    timeout_ms: i64,
    out: *mut hive_socket,
) -> hive_status {
    guard(|| {
        if out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        let r = timeout_arg(timeout_ms)
            .and_then(|t| net::tcp_accept(Socket(listener), t).map_err(|e| e.0));
        // SAFETY: `out` checked non-null; writable per the contract.
        unsafe { socket_out(out, r) }
    })
}

/// Connects to `ip`:`port`, waiting at most `timeout_ms` (0 is refused: connecting always
/// waits); the socket is owned by the caller and written to `*out` (`gen_tcp:connect/4`).
///
/// Returns `HIVE_OK`; `HIVE_TIMEOUT`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NULL_POINTER`,
/// `HIVE_ERR_BAD_LENGTH`, `HIVE_ERR_BAD_ARGUMENT`, `HIVE_ERR_REENTRANT`,
/// `HIVE_ERR_CONN_REFUSED`, `HIVE_ERR_SYSTEM_LIMIT`, `HIVE_ERR_NO_MEMORY`, `HIVE_ERR_IO`
/// (unreachable and the like: see `hive_socket_errno`).
///
/// # Safety
/// `ip` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_tcp_connect(
    ip: *const c_char,
    port: u16,
    timeout_ms: i64,
    out: *mut hive_socket,
) -> hive_status {
    guard(|| {
        if out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        // SAFETY: the contract.
        let r = unsafe { addr_arg(ip, port) }.and_then(|a| {
            let t = connect_timeout_arg(timeout_ms)?;
            net::tcp_connect(a, t).map_err(|e| e.0)
        });
        // SAFETY: `out` checked non-null; writable per the contract.
        unsafe { socket_out(out, r) }
    })
}

/// Receives into `buf` at least `min_len` bytes (0: at least one, whatever has arrived)
/// and at most `cap` (with a packet mode, `HIVE_SOCKOPT_PACKET`: one whole frame, and
/// `min_len` is not used; a frame over `cap` is `HIVE_ERR_BAD_LENGTH` and stays), waiting
/// at most `timeout_ms`; writes the count to `*got` (when not
/// NULL) in every case, so bytes that arrived before a timeout or end of stream are not
/// lost. Only the socket's owner may receive (`gen_tcp:recv/3`).
///
/// Returns `HIVE_OK`; `HIVE_TIMEOUT`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NULL_POINTER`
/// (`buf`), `HIVE_ERR_BAD_LENGTH` (`cap` 0, `min_len` > `cap`), `HIVE_ERR_REENTRANT`,
/// `HIVE_ERR_CLOSED`, `HIVE_ERR_NOT_OWNER`, `HIVE_ERR_BAD_ARGUMENT` (a listener, timeout
/// too large), `HIVE_ERR_PEER_CLOSED` (end of stream first), `HIVE_ERR_CONN_RESET`,
/// `HIVE_ERR_IO`.
///
/// # Safety
/// `buf` is NULL or writable for `cap` bytes; `got` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_tcp_recv(
    s: hive_socket,
    buf: *mut c_void,
    cap: usize,
    min_len: usize,
    timeout_ms: i64,
    got: *mut usize,
) -> hive_status {
    guard(|| {
        // SAFETY: the contract.
        unsafe { put(got, 0) };
        if buf.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        if cap == 0 || min_len > cap || cap > isize::MAX as usize {
            return code(Status::ErrBadLength);
        }
        let t = match timeout_arg(timeout_ms) {
            Ok(t) => t,
            Err(s) => return code(s),
        };
        // SAFETY: non-null and writable for `cap` bytes per the contract; used only during
        // this call.
        let b = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), cap) };
        let (n, r) = net::recv_partial(Socket(s), b, min_len, t);
        // SAFETY: the contract.
        unsafe { put(got, n) };
        result_code(r.map_err(|e| e.0))
    })
}

/// Sends the `len` bytes at `buf`, waiting at most `timeout_ms` for room; writes the count
/// sent to `*sent` (when not NULL) in every case. Any process may send on a connection
/// (`gen_tcp:send/2`). Never raises `SIGPIPE`.
///
/// Returns `HIVE_OK`; `HIVE_TIMEOUT`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NULL_POINTER`
/// (`buf` NULL with `len` > 0), `HIVE_ERR_BAD_LENGTH` (`len` > `PTRDIFF_MAX`),
/// `HIVE_ERR_REENTRANT`, `HIVE_ERR_CLOSED`, `HIVE_ERR_BAD_ARGUMENT` (a listener, timeout
/// too large), `HIVE_ERR_CONN_RESET` (the peer is gone), `HIVE_ERR_IO`.
///
/// # Safety
/// `buf` is NULL or readable for `len` bytes; `sent` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_tcp_send(
    s: hive_socket,
    buf: *const c_void,
    len: usize,
    timeout_ms: i64,
    sent: *mut usize,
) -> hive_status {
    guard(|| {
        // SAFETY: the contract.
        unsafe { put(sent, 0) };
        if buf.is_null() && len > 0 {
            return HIVE_ERR_NULL_POINTER;
        }
        if len > isize::MAX as usize {
            return code(Status::ErrBadLength);
        }
        let t = match timeout_arg(timeout_ms) {
            Ok(t) => t,
            Err(s) => return code(s),
        };
        let data: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: non-null and readable for `len` bytes per the contract.
            unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) }
        };
        let (n, r) = net::send_partial(Socket(s), data, t);
        // SAFETY: the contract.
        unsafe { put(sent, n) };
        result_code(r.map_err(|e| e.0))
    })
}

/// Closes one or both directions of a connection: `HIVE_SHUT_READ`, `HIVE_SHUT_WRITE`
/// (half-close) or `HIVE_SHUT_BOTH` (`gen_tcp:shutdown/2`).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_CLOSED`, `HIVE_ERR_BAD_ARGUMENT`
/// (unknown `how`, a listener), `HIVE_ERR_IO` (not connected).
#[no_mangle]
pub extern "C" fn hive_tcp_shutdown(s: hive_socket, how: i32) -> hive_status {
    guard(|| {
        let how = match how {
            HIVE_SHUT_READ => Shutdown::Read,
            HIVE_SHUT_WRITE => Shutdown::Write,
            HIVE_SHUT_BOTH => Shutdown::Both,
            _ => return code(Status::ErrBadArgument),
        };
        result_code(net::shutdown(Socket(s), how).map_err(|e| e.0))
    })
}

/// Closes a socket (`gen_tcp:close/1`; any process may). Processes waiting on it return
/// `HIVE_ERR_CLOSED`; the descriptor is closed once calls in progress on it return.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_CLOSED` (already closed, or never
/// a socket).
#[no_mangle]
pub extern "C" fn hive_socket_close(s: hive_socket) -> hive_status {
    guard(|| result_code(net::close(Socket(s)).map_err(|e| e.0)))
}

/// Writes the local (`peer` 0) or remote (`peer` 1) address of a socket: the IP as
/// NUL-terminated text into `ip_buf` (`ip_cap` ≥ `HIVE_SOCKET_ADDR_MAX` always suffices)
/// and the port to `*port` (`inet:sockname/1`, `inet:peername/1`).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NULL_POINTER` (`ip_buf` or
/// `port`), `HIVE_ERR_BAD_LENGTH` (`ip_cap` too small for this address),
/// `HIVE_ERR_BAD_ARGUMENT` (`peer` not 0 or 1), `HIVE_ERR_CLOSED`, `HIVE_ERR_IO` (not
/// connected).
///
/// # Safety
/// `ip_buf` is NULL or writable for `ip_cap` bytes; `port` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_socket_addr(
    s: hive_socket,
    peer: i32,
    ip_buf: *mut c_char,
    ip_cap: usize,
    port: *mut u16,
) -> hive_status {
    guard(|| {
        if ip_buf.is_null() || port.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        let a = match peer {
            0 => net::local_addr(Socket(s)),
            1 => net::peer_addr(Socket(s)),
            _ => return code(Status::ErrBadArgument),
        };
        let a = match a {
            Ok(a) => a,
            Err(e) => return code(e.0),
        };
        let text = a.ip().to_string();
        if text.len() + 1 > ip_cap {
            return code(Status::ErrBadLength);
        }
        // SAFETY: `ip_buf` is writable for `ip_cap` ≥ len + 1 bytes; `port` writable (the
        // contract, both non-null).
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), ip_buf.cast::<u8>(), text.len());
            *ip_buf.add(text.len()) = 0;
            *port = a.port();
        }
        HIVE_OK
    })
}

fn opt_arg(opt: i32) -> Result<SockOpt, Status> {
    Ok(match opt {
        HIVE_SOCKOPT_NODELAY => SockOpt::NoDelay,
        HIVE_SOCKOPT_KEEPALIVE => SockOpt::KeepAlive,
        HIVE_SOCKOPT_RCVBUF => SockOpt::RecvBuffer,
        HIVE_SOCKOPT_SNDBUF => SockOpt::SendBuffer,
        HIVE_SOCKOPT_ACTIVE => SockOpt::Active,
        HIVE_SOCKOPT_PACKET => SockOpt::Packet,
        _ => return Err(Status::ErrBadArgument),
    })
}

/// Reads a Unix socket path argument.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
unsafe fn path_arg<'a>(path: *const c_char) -> Result<&'a std::path::Path, Status> {
    if path.is_null() {
        return Err(Status::ErrNullPointer);
    }
    // SAFETY: non-null and NUL-terminated per the contract; used only during the call.
    let b = unsafe { CStr::from_ptr(path) }.to_bytes();
    if b.is_empty() {
        return Err(Status::ErrBadArgument);
    }
    Ok(std::path::Path::new(
        <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b),
    ))
}

/// Opens a Unix stream listening socket at `path` (the file must not exist; the caller
/// removes it when done) with at most `backlog` pending connections (0: the system's
/// maximum); owned by the caller (`gen_tcp:listen/2` with `{ifaddr, {local, Path}}`). The
/// stream calls (`hive_tcp_accept`, `_recv`, `_send`, `_shutdown`, `hive_socket_close`)
/// work on it and its connections as on TCP ones.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NULL_POINTER`,
/// `HIVE_ERR_BAD_LENGTH` (path too long for a socket address), `HIVE_ERR_BAD_ARGUMENT`
/// (empty path, negative backlog), `HIVE_ERR_ADDR_IN_USE` (the file exists),
/// `HIVE_ERR_SYSTEM_LIMIT`, `HIVE_ERR_NO_MEMORY`, `HIVE_ERR_IO`.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_unix_listen(
    path: *const c_char,
    backlog: i32,
    out: *mut hive_socket,
) -> hive_status {
    guard(|| {
        if out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        // SAFETY: the contract.
        let r =
            unsafe { path_arg(path) }.and_then(|p| net::unix_listen(p, backlog).map_err(|e| e.0));
        // SAFETY: `out` checked non-null; writable per the contract.
        unsafe { socket_out(out, r) }
    })
}

/// Connects to the Unix stream socket at `path`, waiting at most `timeout_ms` (0 refused).
///
/// Returns `HIVE_OK`; `HIVE_TIMEOUT`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NULL_POINTER`,
/// `HIVE_ERR_BAD_LENGTH`, `HIVE_ERR_BAD_ARGUMENT`, `HIVE_ERR_REENTRANT`,
/// `HIVE_ERR_CONN_REFUSED` (nobody listens there), `HIVE_ERR_SYSTEM_LIMIT`,
/// `HIVE_ERR_NO_MEMORY`, `HIVE_ERR_IO` (no such file: `ENOENT`; backlog full: `EAGAIN`).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_unix_connect(
    path: *const c_char,
    timeout_ms: i64,
    out: *mut hive_socket,
) -> hive_status {
    guard(|| {
        if out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        // SAFETY: the contract.
        let r = unsafe { path_arg(path) }.and_then(|p| {
            let t = connect_timeout_arg(timeout_ms)?;
            net::unix_connect(p, t).map_err(|e| e.0)
        });
        // SAFETY: `out` checked non-null; writable per the contract.
        unsafe { socket_out(out, r) }
    })
}

/// Opens a UDP socket bound to `ip`:`port` (port 0: any free port), owned by the caller
/// (`gen_udp:open/2`).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NULL_POINTER`,
/// `HIVE_ERR_BAD_LENGTH`, `HIVE_ERR_BAD_ARGUMENT`, `HIVE_ERR_ADDR_IN_USE`,
/// `HIVE_ERR_SYSTEM_LIMIT`, `HIVE_ERR_NO_MEMORY`, `HIVE_ERR_IO`.
///
/// # Safety
/// `ip` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_udp_open(
    ip: *const c_char,
    port: u16,
    out: *mut hive_socket,
) -> hive_status {
    guard(|| {
        if out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        // SAFETY: the contract.
        let r = unsafe { addr_arg(ip, port) }.and_then(|a| net::udp_open(a).map_err(|e| e.0));
        // SAFETY: `out` checked non-null; writable per the contract.
        unsafe { socket_out(out, r) }
    })
}

/// Sends the `len` bytes at `buf` as one datagram to `ip`:`port` (`gen_udp:send/4`); any
/// process may. Waits at most `timeout_ms` for room in the send buffer.
///
/// Returns `HIVE_OK`; `HIVE_TIMEOUT`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NULL_POINTER`,
/// `HIVE_ERR_BAD_LENGTH` (`len` > 65,507, or `ip` too long), `HIVE_ERR_BAD_ARGUMENT` (not a
/// UDP socket, bad address, timeout too large), `HIVE_ERR_REENTRANT`, `HIVE_ERR_CLOSED`,
/// `HIVE_ERR_CONN_REFUSED` (an earlier datagram was refused), `HIVE_ERR_IO`.
///
/// # Safety
/// `ip` is NULL or a NUL-terminated string; `buf` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn hive_udp_send_to(
    s: hive_socket,
    ip: *const c_char,
    port: u16,
    buf: *const c_void,
    len: usize,
    timeout_ms: i64,
) -> hive_status {
    guard(|| {
        if buf.is_null() && len > 0 {
            return HIVE_ERR_NULL_POINTER;
        }
        if len > 65_507 {
            return code(Status::ErrBadLength);
        }
        // SAFETY: the contract.
        let to = match unsafe { addr_arg(ip, port) } {
            Ok(a) => a,
            Err(s) => return code(s),
        };
        let t = match timeout_arg(timeout_ms) {
            Ok(t) => t,
            Err(s) => return code(s),
        };
        let data: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: non-null and readable for `len` bytes per the contract.
            unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) }
        };
        result_code(net::udp_send_to(Socket(s), to, data, t).map_err(|e| e.0))
    })
}

/// Receives one datagram into `buf` (cut to `cap` bytes if longer; 65,507 always
/// suffice), its length to `*got`, its sender's IP as text to `ip_buf` and port to `*port`
/// (`gen_udp:recv/3`); only the owner may.
///
/// Returns `HIVE_OK`; `HIVE_TIMEOUT`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NULL_POINTER`
/// (`buf`, `got`, `ip_buf` or `port`), `HIVE_ERR_BAD_LENGTH` (`cap` 0, `ip_cap` below
/// `HIVE_SOCKET_ADDR_MAX`), `HIVE_ERR_BAD_ARGUMENT` (not a UDP socket, timeout too large),
/// `HIVE_ERR_REENTRANT`, `HIVE_ERR_CLOSED`, `HIVE_ERR_NOT_OWNER`, `HIVE_ERR_IO`.
///
/// # Safety
/// `buf` is NULL or writable for `cap` bytes, `ip_buf` NULL or writable for `ip_cap`
/// bytes, `got` and `port` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_udp_recv_from(
    s: hive_socket,
    buf: *mut c_void,
    cap: usize,
    timeout_ms: i64,
    got: *mut usize,
    ip_buf: *mut c_char,
    ip_cap: usize,
    port: *mut u16,
) -> hive_status {
    guard(|| {
        if buf.is_null() || got.is_null() || ip_buf.is_null() || port.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        if cap == 0 || cap > isize::MAX as usize || ip_cap < HIVE_SOCKET_ADDR_MAX {
            return code(Status::ErrBadLength);
        }
        let t = match timeout_arg(timeout_ms) {
            Ok(t) => t,
            Err(s) => return code(s),
        };
        // SAFETY: non-null and writable for `cap` bytes per the contract.
        let b = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), cap) };
        match net::udp_recv_from(Socket(s), b, t) {
            Ok((n, from)) => {
                let text = from.ip().to_string();
                // SAFETY: all non-null and writable per the contract; `ip_cap` ≥ 46 holds
                // any IP text and its NUL.
                unsafe {
                    *got = n;
                    std::ptr::copy_nonoverlapping(text.as_ptr(), ip_buf.cast::<u8>(), text.len());
                    *ip_buf.add(text.len()) = 0;
                    *port = from.port();
                }
                HIVE_OK
            }
            Err(e) => code(e.0),
        }
    })
}

/// Sets socket option `opt` (`HIVE_SOCKOPT_*`) to `value` (`inet:setopts/2`).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_CLOSED`, `HIVE_ERR_BAD_ARGUMENT`
/// (unknown option, value out of range: flags take 0 or 1, buffer sizes 1..`INT32_MAX`,
/// active -1..`INT32_MAX`, packet 0, 1, 2, 4 or -1; active on a listener, packet on a
/// socket that is not a stream), `HIVE_ERR_NOT_OWNER` (active mode, not the owner), `HIVE_ERR_IO`.
#[no_mangle]
pub extern "C" fn hive_socket_setopt(s: hive_socket, opt: i32, value: i64) -> hive_status {
    guard(|| {
        let r = opt_arg(opt).and_then(|o| net::set_option(Socket(s), o, value).map_err(|e| e.0));
        result_code(r)
    })
}

/// Reads socket option `opt` into `*value` (`inet:getopts/2`; buffer sizes as the kernel
/// set them, which on Linux is twice what was asked).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_CLOSED`,
/// `HIVE_ERR_BAD_ARGUMENT` (unknown option), `HIVE_ERR_IO`.
///
/// # Safety
/// `value` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_socket_getopt(
    s: hive_socket,
    opt: i32,
    value: *mut i64,
) -> hive_status {
    guard(|| {
        if value.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        match opt_arg(opt).and_then(|o| net::option(Socket(s), o).map_err(|e| e.0)) {
            Ok(v) => {
                // SAFETY: non-null and writable per the contract.
                unsafe { put(value, v) };
                HIVE_OK
            }
            Err(s) => code(s),
        }
    })
}

/// Makes process `pid` the socket's owner (`gen_tcp:controlling_process/2`): its exit
/// closes the socket and only it may receive. Only the current owner may call this.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_CLOSED`, `HIVE_ERR_NOT_OWNER`,
/// `HIVE_ERR_NO_PROCESS` (`pid` not alive), `HIVE_ERR_SHUT_DOWN`.
#[no_mangle]
pub extern "C" fn hive_socket_controlling_process(s: hive_socket, pid: hive_pid) -> hive_status {
    guard(|| result_code(net::controlling_process(Socket(s), Pid(pid)).map_err(|e| e.0)))
}

/// Looks up the addresses of `host` (a name, or an address in text) with the system's
/// resolver on the blocking pool, while the calling process waits at most `timeout_ms`
/// (`inet:getaddrs/2`). Writes up to `max` addresses as NUL-terminated text into `out`
/// (`max` buffers of `HIVE_SOCKET_ADDR_MAX` bytes) and how many were found to `*count` (it
/// may exceed `max`). IPv4 and IPv6, in the resolver's order, without duplicates.
///
/// Returns `HIVE_OK`; `HIVE_TIMEOUT`; `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NULL_POINTER`
/// (`host`, `count`, or `out` with `max` > 0), `HIVE_ERR_BAD_ARGUMENT` (empty host, not
/// UTF-8, timeout too large), `HIVE_ERR_BAD_LENGTH` (host over 253 bytes),
/// `HIVE_ERR_REENTRANT`, `HIVE_ERR_NOT_FOUND`, `HIVE_ERR_SHUT_DOWN`, `HIVE_ERR_SYSTEM_LIMIT`.
///
/// # Safety
/// `host` is NULL or a NUL-terminated string; `out` NULL or writable for `max` ×
/// `HIVE_SOCKET_ADDR_MAX` bytes; `count` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_resolve(
    host: *const c_char,
    timeout_ms: i64,
    out: *mut [c_char; HIVE_SOCKET_ADDR_MAX],
    max: usize,
    count: *mut usize,
) -> hive_status {
    guard(|| {
        if host.is_null() || count.is_null() || out.is_null() && max > 0 {
            return HIVE_ERR_NULL_POINTER;
        }
        // SAFETY: non-null and NUL-terminated per the contract.
        let h = unsafe { CStr::from_ptr(host) };
        if h.to_bytes().len() > 253 {
            return code(Status::ErrBadLength);
        }
        let Ok(h) = h.to_str() else {
            return code(Status::ErrBadArgument);
        };
        let t = match timeout_arg(timeout_ms) {
            Ok(t) => t,
            Err(s) => return code(s),
        };
        match net::resolve(h, t) {
            Ok(ips) => {
                for (i, ip) in ips.iter().take(max).enumerate() {
                    let text = ip.to_string();
                    // SAFETY: `out` is writable for `max` entries of 46 bytes (the
                    // contract); `i < max`; an IP's text and NUL fit in 46.
                    unsafe {
                        let dst = (*out.add(i)).as_mut_ptr().cast::<u8>();
                        std::ptr::copy_nonoverlapping(text.as_ptr(), dst, text.len());
                        *dst.add(text.len()) = 0;
                    }
                }
                // SAFETY: non-null and writable per the contract.
                unsafe { count.write(ips.len()) };
                HIVE_OK
            }
            Err(e) => code(e.0),
        }
    })
}

/// The OS `errno` of the calling process's last failed socket call (0: none yet), for the
/// errors `HIVE_ERR_IO` and the like report. A plain thread gets 0.
#[no_mangle]
pub extern "C" fn hive_socket_errno() -> i32 {
    super::guard_value(0, || net::last_errno().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_flags_match_the_rust_api() {
        assert_eq!(HIVE_TCP_REUSEADDR, net::LISTEN_REUSEADDR);
        assert_eq!(HIVE_TCP_REUSEPORT, net::LISTEN_REUSEPORT);
        assert_eq!(HIVE_TCP_IPV6_ONLY, net::LISTEN_IPV6_ONLY);
    }
}
