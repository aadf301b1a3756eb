//! EPMD, the Erlang port mapper: the client ([`alive2`], [`port_please`], [`names`]) and
//! Hive's own minimal port mapper ([`PortMapper`]), a fallback for machines without `epmd`.
//!
//! Every request is `[Length:16][Request]`, integers big-endian. A registration
//! (`ALIVE2_REQ`) lives as long as its TCP connection; `PORT_PLEASE2_REQ` and `NAMES_REQ` are
//! answered and the connection closed by the server.
// `names` and the port mapper's accessors are used by the tests only so far.
#![allow(dead_code)]

// Used by the connection layer (dist/conn.rs), in progress.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::handshake::random_u32;

/// The first address of `host` (IPv4 preferred), resolved on the blocking pool.
pub(crate) fn resolve(host: &str, timeout_ms: u32) -> Option<std::net::IpAddr> {
    let addrs = crate::io::api::resolve(host, Some(timeout_ms)).ok()?;
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
}

/// EPMD's well-known TCP port.
pub(crate) const DEFAULT_PORT: u16 = 4369;

const ALIVE2_REQ: u8 = 120;
const ALIVE2_X_RESP: u8 = 118;
const ALIVE2_RESP: u8 = 121;
const PORT_PLEASE2_REQ: u8 = 122;
const PORT2_RESP: u8 = 119;
const NAMES_REQ: u8 = 110;
/// `NodeType` of a normal Erlang node (`'M'`).
const NODE_NORMAL: u8 = 77;
/// `NodeType` of a hidden node (`'H'`).
const NODE_HIDDEN: u8 = 72;
/// `Protocol`: TCP/IPv4.
const PROTO_TCP: u8 = 0;
/// The distribution protocol version Hive speaks (OTP 23+), both highest and lowest.
const DIST_VERSION: u16 = 6;
/// The largest `NAMES_RESP` text we read, in bytes.
const MAX_NAMES: u64 = 1 << 20;

/// The EPMD port, as `erl` picks it: `ERL_EPMD_PORT` if set to a port number, otherwise
/// [`DEFAULT_PORT`].
pub(crate) fn port_from_env() -> u16 {
    std::env::var("ERL_EPMD_PORT")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_PORT)
}

/// Why an EPMD request failed.
#[derive(Debug)]
pub(crate) enum EpmdError {
    /// The connection failed, timed out (with the caller's timeouts) or ended early.
    Io(io::Error),
    /// The reply is malformed, or the request could not be encoded (empty or overlong
    /// name).
    Protocol(&'static str),
    /// EPMD refused the registration with this non-zero result (1 when the name is taken).
    Refused(u8),
}

impl fmt::Display for EpmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EpmdError::Io(e) => write!(f, "EPMD I/O error: {e}"),
            EpmdError::Protocol(what) => write!(f, "EPMD protocol error: {what}"),
            EpmdError::Refused(r) => write!(f, "EPMD refused the registration (result {r})"),
        }
    }
}

impl std::error::Error for EpmdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EpmdError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for EpmdError {
    fn from(e: io::Error) -> Self {
        EpmdError::Io(e)
    }
}

fn short_name_ok(name: &str) -> Result<u16, EpmdError> {
    if name.is_empty() || name.contains('@') {
        return Err(EpmdError::Protocol(
            "EPMD names are short names, without '@'",
        ));
    }
    u16::try_from(name.len()).map_err(|_| EpmdError::Protocol("node name too long"))
}

/// Sends `[Length:16][body]`.
fn request<S: Write>(s: &mut S, body: &[u8]) -> Result<(), EpmdError> {
    let len = u16::try_from(body.len()).map_err(|_| EpmdError::Protocol("request too long"))?;
    let mut buf = Vec::with_capacity(2 + body.len());
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(body);
    s.write_all(&buf)?;
    s.flush()?;
    Ok(())
}

fn read_array<S: Read, const N: usize>(s: &mut S) -> io::Result<[u8; N]> {
    let mut a = [0u8; N];
    s.read_exact(&mut a)?;
    Ok(a)
}

fn read_u8<S: Read>(s: &mut S) -> io::Result<u8> {
    Ok(read_array::<S, 1>(s)?[0])
}

fn read_u16<S: Read>(s: &mut S) -> io::Result<u16> {
    Ok(u16::from_be_bytes(read_array(s)?))
}

fn read_u32<S: Read>(s: &mut S) -> io::Result<u32> {
    Ok(u32::from_be_bytes(read_array(s)?))
}

/// Reads and drops `n` bytes.
fn skip<S: Read>(s: &mut S, n: u16) -> io::Result<()> {
    let copied = io::copy(&mut s.take(u64::from(n)), &mut io::sink())?;
    if copied < u64::from(n) {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// Registers `short_name` (the part before `@`) as listening for distribution on `port`
/// (`ALIVE2_REQ`) and returns the creation EPMD assigned. `hidden` registers node type 72
/// (hidden) instead of 77 (normal; what `erl` registers, even with `-hidden`).
///
/// The registration lives while the caller keeps `s` open: closing it unregisters the name.
/// Both `ALIVE2_X_RESP` (32-bit creation) and the older `ALIVE2_RESP` (16-bit) are accepted.
///
/// # Errors
///
/// [`EpmdError::Refused`] with EPMD's result (the name is taken, or EPMD is out of
/// resources); [`EpmdError::Io`] on connection failure; [`EpmdError::Protocol`] for an
/// invalid name or an unexpected reply.
pub(crate) fn alive2<S: Read + Write>(
    s: &mut S,
    port: u16,
    hidden: bool,
    short_name: &str,
) -> Result<u32, EpmdError> {
    let nlen = short_name_ok(short_name)?;
    let mut body = Vec::with_capacity(13 + short_name.len());
    body.push(ALIVE2_REQ);
    body.extend_from_slice(&port.to_be_bytes());
    body.push(if hidden { NODE_HIDDEN } else { NODE_NORMAL });
    body.push(PROTO_TCP);
    body.extend_from_slice(&DIST_VERSION.to_be_bytes());
    body.extend_from_slice(&DIST_VERSION.to_be_bytes());
    body.extend_from_slice(&nlen.to_be_bytes());
    body.extend_from_slice(short_name.as_bytes());
    body.extend_from_slice(&0u16.to_be_bytes()); // no extra
    request(s, &body)?;
    let tag = read_u8(s)?;
    let result = read_u8(s)?;
    let creation = match tag {
        ALIVE2_X_RESP => read_u32(s)?,
        ALIVE2_RESP => u32::from(read_u16(s)?),
        _ => return Err(EpmdError::Protocol("unexpected reply to ALIVE2_REQ")),
    };
    if result != 0 {
        return Err(EpmdError::Refused(result));
    }
    Ok(creation)
}

/// Where a node listens, from `PORT2_RESP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PortInfo {
    /// The node's distribution TCP port.
    pub(crate) port: u16,
    /// Registered as node type 72 (hidden) rather than 77 (normal).
    pub(crate) hidden: bool,
    /// The highest distribution protocol version the node speaks (6 from OTP 23).
    pub(crate) highest: u16,
    /// The lowest distribution protocol version the node speaks (OTP 25's epmd reports 5).
    pub(crate) lowest: u16,
}

/// Looks up `short_name` (`PORT_PLEASE2_REQ`). EPMD closes the connection after answering,
/// so `s` is good for one request.
///
/// # Errors
///
/// [`EpmdError::Io`] on connection failure or a truncated reply; [`EpmdError::Protocol`]
/// for an invalid name or an unexpected reply. An unknown name is `Ok(None)`.
pub(crate) fn port_please<S: Read + Write>(
    s: &mut S,
    short_name: &str,
) -> Result<Option<PortInfo>, EpmdError> {
    short_name_ok(short_name)?;
    let mut body = Vec::with_capacity(1 + short_name.len());
    body.push(PORT_PLEASE2_REQ);
    body.extend_from_slice(short_name.as_bytes());
    request(s, &body)?;
    if read_u8(s)? != PORT2_RESP {
        return Err(EpmdError::Protocol("unexpected reply to PORT_PLEASE2_REQ"));
    }
    if read_u8(s)? != 0 {
        return Ok(None);
    }
    let port = read_u16(s)?;
    let node_type = read_u8(s)?;
    let _protocol = read_u8(s)?;
    let highest = read_u16(s)?;
    let lowest = read_u16(s)?;
    let nlen = read_u16(s)?;
    skip(s, nlen)?;
    let elen = read_u16(s)?;
    skip(s, elen)?;
    Ok(Some(PortInfo {
        port,
        hidden: node_type == NODE_HIDDEN,
        highest,
        lowest,
    }))
}

/// Lists the registered nodes (`NAMES_REQ`) as `(short name, port)`. EPMD closes the
/// connection after answering.
///
/// # Errors
///
/// [`EpmdError::Io`] on connection failure; [`EpmdError::Protocol`] for a reply over 1 MiB,
/// not UTF-8, or with a line not of the form `name NAME at port PORT`.
pub(crate) fn names<S: Read + Write>(s: &mut S) -> Result<Vec<(String, u16)>, EpmdError> {
    request(s, &[NAMES_REQ])?;
    let _epmd_port = read_u32(s)?;
    let mut text = Vec::new();
    s.take(MAX_NAMES + 1).read_to_end(&mut text)?;
    if text.len() as u64 > MAX_NAMES {
        return Err(EpmdError::Protocol("NAMES reply over 1 MiB"));
    }
    let text = String::from_utf8(text).map_err(|_| EpmdError::Protocol("NAMES reply not UTF-8"))?;
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let rest = line
                .strip_prefix("name ")
                .ok_or(EpmdError::Protocol("NAMES line without 'name '"))?;
            let (name, port) = rest
                .rsplit_once(" at port ")
                .ok_or(EpmdError::Protocol("NAMES line without ' at port '"))?;
            let port = port
                .trim()
                .parse()
                .map_err(|_| EpmdError::Protocol("NAMES line with a bad port"))?;
            Ok((name.to_owned(), port))
        })
        .collect()
}

// ---- Hive's port mapper ---------------------------------------------------------------

/// The most connections the [`PortMapper`] serves at once (each has a thread); more are
/// closed on accept.
const MAX_CONNECTIONS: usize = 1024;
/// How long a [`PortMapper`] connection may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request the [`PortMapper`] reads, in bytes.
const MAX_REQUEST: usize = 4096;

/// One registered node.
#[derive(Debug, Clone, Copy)]
struct Registration {
    port: u16,
    hidden: bool,
    creation: u32,
    highest: u16,
    lowest: u16,
    /// The connection that holds the registration.
    conn: u64,
}

/// Live connections, so [`PortMapperHandle::stop`] can close and join them.
#[derive(Debug, Default)]
struct Conns {
    next_id: u64,
    live: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

/// Hive's minimal EPMD: `ALIVE2_REQ`, `PORT_PLEASE2_REQ` and `NAMES_REQ`, enough for `erl`
/// and Hive nodes on a machine without `epmd`.
///
/// Deliberately simple: one std thread per connection (a registration's thread blocks
/// until its connection closes), at most [`MAX_CONNECTIONS`] at once. Creations are
/// non-zero and distinct per registration (a counter from a random start).
#[derive(Debug)]
pub(crate) struct PortMapper {
    /// Short name → registration.
    regs: Mutex<HashMap<String, Registration>>,
    next_creation: AtomicU32,
    conns: Mutex<Conns>,
    stopping: AtomicBool,
    /// The listening port, reported in `NAMES_RESP`.
    port: u16,
}

/// A running [`PortMapper`]; [`stop`](PortMapperHandle::stop) or drop it to close the
/// listener and every connection and join the threads.
#[derive(Debug)]
pub(crate) struct PortMapperHandle {
    addr: SocketAddr,
    mapper: Arc<PortMapper>,
    listener: TcpListener,
    acceptor: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl PortMapper {
    /// Binds `addr` (port 0 picks a free port) and serves on a new thread.
    ///
    /// # Errors
    ///
    /// Binding the listener, or spawning its thread, failed.
    pub(crate) fn start(addr: SocketAddr) -> io::Result<PortMapperHandle> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let mapper = Arc::new(PortMapper {
            regs: Mutex::new(HashMap::new()),
            next_creation: AtomicU32::new(random_u32()?),
            conns: Mutex::new(Conns::default()),
            stopping: AtomicBool::new(false),
            port: addr.port(),
        });
        let l = listener.try_clone()?;
        let m = Arc::clone(&mapper);
        let acceptor = thread::Builder::new()
            .name("hive-epmd".into())
            .spawn(move || m.accept_loop(&l))?;
        Ok(PortMapperHandle {
            addr,
            mapper,
            listener,
            acceptor: Some(acceptor),
        })
    }

    fn accept_loop(self: &Arc<Self>, listener: &TcpListener) {
        loop {
            let accepted = listener.accept();
            if self.stopping.load(Ordering::Acquire) {
                return;
            }
            let Ok((stream, _)) = accepted else {
                // Out of descriptors and the like: back off rather than spin.
                thread::sleep(Duration::from_millis(10));
                continue;
            };
            let mut conns = lock(&self.conns);
            conns.threads.retain(|t| !t.is_finished());
            if conns.live.len() >= MAX_CONNECTIONS {
                continue; // dropping `stream` closes it
            }
            let Ok(clone) = stream.try_clone() else {
                continue;
            };
            let id = conns.next_id;
            conns.next_id += 1;
            conns.live.insert(id, clone);
            let m = Arc::clone(self);
            let spawned = thread::Builder::new()
                .name("hive-epmd-conn".into())
                .spawn(move || {
                    m.serve(stream, id);
                    lock(&m.conns).live.remove(&id);
                });
            match spawned {
                Ok(t) => conns.threads.push(t),
                Err(_) => {
                    conns.live.remove(&id);
                }
            }
        }
    }

    /// A fresh non-zero creation.
    fn creation(&self) -> u32 {
        loop {
            let c = self.next_creation.fetch_add(1, Ordering::Relaxed);
            if c != 0 {
                return c;
            }
        }
    }

    /// Serves one connection: one request; for a registration, holds it until EOF.
    fn serve(&self, mut s: TcpStream, id: u64) {
        if s.set_read_timeout(Some(REQUEST_TIMEOUT)).is_err()
            || s.set_write_timeout(Some(REQUEST_TIMEOUT)).is_err()
        {
            return;
        }
        let Some(req) = read_request(&mut s) else {
            return;
        };
        match req[0] {
            ALIVE2_REQ => self.serve_alive2(s, &req[1..], id),
            PORT_PLEASE2_REQ => {
                let reply = self.port2_resp(&req[1..]);
                let _ = s.write_all(&reply);
            }
            NAMES_REQ => {
                let mut reply = u32::from(self.port).to_be_bytes().to_vec();
                let regs = lock(&self.regs);
                for (name, r) in regs.iter() {
                    reply.extend_from_slice(format!("name {name} at port {}\n", r.port).as_bytes());
                }
                drop(regs);
                let _ = s.write_all(&reply);
            }
            _ => {}
        }
    }

    fn serve_alive2(&self, mut s: TcpStream, req: &[u8], id: u64) {
        let Some(Alive2 {
            name,
            port,
            hidden,
            highest,
            lowest,
        }) = parse_alive2(req)
        else {
            let _ = s.write_all(&[ALIVE2_X_RESP, 1, 0, 0, 0, 0]);
            return;
        };
        let creation = {
            let mut regs = lock(&self.regs);
            if regs.contains_key(&name) {
                None
            } else {
                let creation = self.creation();
                let reg = Registration {
                    port,
                    hidden,
                    creation,
                    highest,
                    lowest,
                    conn: id,
                };
                regs.insert(name.clone(), reg);
                Some(creation)
            }
        };
        let Some(creation) = creation else {
            let _ = s.write_all(&[ALIVE2_X_RESP, 1, 0, 0, 0, 0]);
            return;
        };
        let mut reply = vec![ALIVE2_X_RESP, 0];
        reply.extend_from_slice(&creation.to_be_bytes());
        if s.write_all(&reply).is_ok() && s.set_read_timeout(None).is_ok() {
            // Hold the registration until the node closes the connection (or stop() shuts
            // it down); anything it sends meanwhile is ignored.
            let _ = io::copy(&mut s, &mut io::sink());
        }
        let mut regs = lock(&self.regs);
        if regs.get(&name).is_some_and(|r| r.conn == id) {
            regs.remove(&name);
        }
    }

    fn port2_resp(&self, name: &[u8]) -> Vec<u8> {
        let found = std::str::from_utf8(name)
            .ok()
            .and_then(|n| lock(&self.regs).get(n).copied());
        let Some(r) = found else {
            return vec![PORT2_RESP, 1];
        };
        let mut reply = vec![PORT2_RESP, 0];
        reply.extend_from_slice(&r.port.to_be_bytes());
        reply.push(if r.hidden { NODE_HIDDEN } else { NODE_NORMAL });
        reply.push(PROTO_TCP);
        reply.extend_from_slice(&r.highest.to_be_bytes());
        reply.extend_from_slice(&r.lowest.to_be_bytes());
        reply.extend_from_slice(&(name.len() as u16).to_be_bytes());
        reply.extend_from_slice(name);
        reply.extend_from_slice(&0u16.to_be_bytes());
        reply
    }
}

/// Reads one request, `[Length:16][Request]`: None when the length is 0 or over
/// [`MAX_REQUEST`], or the stream ends first. The buffer grows with the bytes that arrive,
/// not with what the length field announces.
pub(super) fn read_request<S: Read>(s: &mut S) -> Option<Vec<u8>> {
    let len = usize::from(read_u16(s).ok()?);
    if len == 0 || len > MAX_REQUEST {
        return None;
    }
    let mut req = Vec::new();
    s.take(len as u64).read_to_end(&mut req).ok()?;
    (req.len() == len).then_some(req)
}

/// An `ALIVE2_REQ`'s fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Alive2 {
    pub(super) name: String,
    pub(super) port: u16,
    pub(super) hidden: bool,
    pub(super) highest: u16,
    pub(super) lowest: u16,
}

/// Parses an `ALIVE2_REQ` after its tag: `PortNo:16 NodeType:8 Protocol:8 Highest:16
/// Lowest:16 Nlen:16 Name Elen:16 Extra`. None when malformed or the name is empty, not
/// UTF-8, or has an `@`. What follows the name is not read.
pub(super) fn parse_alive2(req: &[u8]) -> Option<Alive2> {
    let mut r = req;
    let port = read_u16(&mut r).ok()?;
    let node_type = read_u8(&mut r).ok()?;
    let _protocol = read_u8(&mut r).ok()?;
    let highest = read_u16(&mut r).ok()?;
    let lowest = read_u16(&mut r).ok()?;
    let nlen = usize::from(read_u16(&mut r).ok()?);
    let name = std::str::from_utf8(r.get(..nlen)?).ok()?;
    if name.is_empty() || name.contains('@') {
        return None;
    }
    Some(Alive2 {
        name: name.to_owned(),
        port,
        hidden: node_type == NODE_HIDDEN,
        highest,
        lowest,
    })
}

impl PortMapperHandle {
    /// The address the port mapper listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The creation of `short_name` if it is registered.
    pub(crate) fn creation_of(&self, short_name: &str) -> Option<u32> {
        lock(&self.mapper.regs).get(short_name).map(|r| r.creation)
    }

    /// Closes the listener and every connection (dropping all registrations) and joins the
    /// threads.
    pub(crate) fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let Some(acceptor) = self.acceptor.take() else {
            return;
        };
        self.mapper.stopping.store(true, Ordering::Release);
        // Wake the blocked accept: shutting a listening socket down makes accept fail on
        // Linux; a connection to ourselves covers the other systems.
        let _ = socket2::SockRef::from(&self.listener).shutdown(Shutdown::Both);
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        let _ = TcpStream::connect_timeout(&wake, Duration::from_millis(200));
        let _ = acceptor.join();
        let threads = {
            let mut conns = lock(&self.mapper.conns);
            for s in conns.live.values() {
                let _ = s.shutdown(Shutdown::Both);
            }
            std::mem::take(&mut conns.threads)
        };
        for t in threads {
            let _ = t.join();
        }
    }
}

impl Drop for PortMapperHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
#[path = "epmd_tests.rs"]
mod tests;
