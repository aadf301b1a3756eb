//! A fault-injecting TCP proxy for the distribution fault tests (`tests/dist_faults.rs`).
//!
//! [`FaultProxy::start`] listens on `127.0.0.1:0` and forwards every connection it accepts
//! to a target address (one upstream connection per accepted one, two forwarding threads
//! per connection, plain `std::net`). While it runs the test can tell it to:
//!
//! - **delay**: wait a fixed time before forwarding each chunk read (latency per chunk; a
//!   direction stays in order, since one thread forwards it);
//! - **stall**: stop forwarding in one or both directions while keeping every socket open
//!   (what was read is held, nothing is dropped; the senders' buffers fill up), until
//!   [`FaultProxy::resume`] or, with [`FaultProxy::stall_for`], until a deadline;
//! - **cut**: shut down both sides of every current connection (the nodes see the
//!   connection close), dropping what a stall held, and optionally **refuse** new
//!   connections (accepted and closed at once) until told otherwise.
//!
//! Directions are named from the dialing node's side: [`Dir::ToTarget`] carries what the
//! node that connected to the proxy writes, [`Dir::ToClient`] what the target answers.
//!
//! Counters ([`Stats`]) and [`FaultProxy::wait_for`] let a test synchronise on what the proxy
//! saw (connections accepted, bytes forwarded, chunks held) instead of on time. Every
//! thread is joined in `Drop`, which cuts whatever is still open.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bytes read (and forwarded) at most per chunk.
const CHUNK: usize = 64 * 1024;

/// A direction of a proxied connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    /// From the node that dialed the proxy to the target.
    ToTarget,
    /// From the target back to the node that dialed the proxy.
    ToClient,
    /// Both directions.
    Both,
}

impl Dir {
    /// Whether this selection includes direction index `d` (0 = to target, 1 = to client).
    fn has(self, d: usize) -> bool {
        matches!(
            (self, d),
            (Dir::Both, _) | (Dir::ToTarget, 0) | (Dir::ToClient, 1)
        )
    }
}

/// What the proxy has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    /// Connections accepted and forwarded (the upstream connection was made).
    pub(crate) accepted: u64,
    /// Connections closed at once because the proxy was refusing.
    pub(crate) refused: u64,
    /// Connections closed at once because the target did not accept.
    pub(crate) failed: u64,
    /// Connections open now.
    pub(crate) live: u64,
    /// Bytes forwarded, `[to target, to client]`.
    pub(crate) bytes: [u64; 2],
    /// Chunks that a stall held back (each counted once), `[to target, to client]`.
    pub(crate) held: [u64; 2],
    /// Connections cut by [`FaultProxy::cut`].
    pub(crate) cut: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stall {
    Off,
    On,
    Until(Instant),
}

/// One proxied connection.
struct Conn {
    id: u64,
    client: TcpStream,
    server: TcpStream,
    /// Set when the connection is over (cut, or one side closed): its forwarders stop and
    /// drop what they hold.
    dead: Arc<AtomicBool>,
}

impl Conn {
    fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
    }
}

struct State {
    target: SocketAddr,
    delay: Duration,
    stall: [Stall; 2],
    refusing: bool,
    closing: bool,
    next_id: u64,
    conns: Vec<Conn>,
    stats: Stats,
    threads: Vec<JoinHandle<()>>,
}

struct Inner {
    st: Mutex<State>,
    /// Signalled on every change of `st` (stall lifted, counters moved, connection gone).
    cv: Condvar,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The proxy (module docs). Stops, cutting everything, in `Drop`.
pub(crate) struct FaultProxy {
    port: u16,
    inner: Arc<Inner>,
    acceptor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FaultProxy(:{} -> {})",
            self.port,
            self.inner.lock().target
        )
    }
}

/// A TCP port of 127.0.0.1 that was free when asked (a node told to listen there retries
/// on another one if it was taken meanwhile).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("binds 127.0.0.1:0")
        .port()
}

impl FaultProxy {
    /// Listens on `127.0.0.1:0`, forwarding to `target`, with no fault.
    pub(crate) fn start(target: SocketAddr) -> FaultProxy {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("proxy binds 127.0.0.1:0");
        let port = l.local_addr().expect("local addr").port();
        let inner = Arc::new(Inner {
            st: Mutex::new(State {
                target,
                delay: Duration::ZERO,
                stall: [Stall::Off; 2],
                refusing: false,
                closing: false,
                next_id: 0,
                conns: Vec::new(),
                stats: Stats::default(),
                threads: Vec::new(),
            }),
            cv: Condvar::new(),
        });
        let i2 = inner.clone();
        let acceptor = std::thread::Builder::new()
            .name(format!("proxy:{port}"))
            .spawn(move || accept_loop(&i2, &l))
            .expect("spawn the proxy's acceptor");
        FaultProxy {
            port,
            inner,
            acceptor: Some(acceptor),
        }
    }

    /// The port it listens on (127.0.0.1).
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Forwards new connections to `target` from now on (current ones are left alone).
    pub(crate) fn set_target(&self, target: SocketAddr) {
        self.inner.lock().target = target;
    }

    /// Adds `d` of latency before each chunk is forwarded, both directions (`ZERO`: none).
    pub(crate) fn delay(&self, d: Duration) {
        self.inner.lock().delay = d;
        self.inner.cv.notify_all();
    }

    /// Stops forwarding in `dir` (every connection, current and new) until [`resume`].
    ///
    /// [`resume`]: FaultProxy::resume
    pub(crate) fn stall(&self, dir: Dir) {
        self.set_stall(dir, Stall::On);
    }

    /// Stops forwarding in `dir` for `d` from now; forwarding resumes by itself.
    pub(crate) fn stall_for(&self, dir: Dir, d: Duration) {
        self.set_stall(dir, Stall::Until(Instant::now() + d));
    }

    fn set_stall(&self, dir: Dir, s: Stall) {
        let mut st = self.inner.lock();
        for d in 0..2 {
            if dir.has(d) {
                st.stall[d] = s;
            }
        }
        drop(st);
        self.inner.cv.notify_all();
    }

    /// Lifts every stall and the delay: what was held is forwarded, in order.
    pub(crate) fn resume(&self) {
        let mut st = self.inner.lock();
        st.stall = [Stall::Off; 2];
        st.delay = Duration::ZERO;
        drop(st);
        self.inner.cv.notify_all();
    }

    /// Whether some direction is stalled now (a [`stall_for`] past its deadline is not).
    ///
    /// [`stall_for`]: FaultProxy::stall_for
    pub(crate) fn stalled(&self) -> bool {
        let now = Instant::now();
        self.inner.lock().stall.iter().any(|s| match s {
            Stall::Off => false,
            Stall::On => true,
            Stall::Until(t) => now < *t,
        })
    }

    /// Waits until no direction is stalled (a [`stall_for`] has run out, or [`resume`]),
    /// at most `timeout`; whether that happened.
    ///
    /// [`stall_for`]: FaultProxy::stall_for
    /// [`resume`]: FaultProxy::resume
    pub(crate) fn wait_unstalled(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        let mut st = self.inner.lock();
        loop {
            let now = Instant::now();
            // The earliest moment something may change by itself: a deadline, or the bound.
            let mut next = end;
            let mut stalled = false;
            for s in st.stall {
                match s {
                    Stall::Off => {}
                    Stall::On => stalled = true,
                    Stall::Until(t) if now < t => {
                        stalled = true;
                        next = next.min(t);
                    }
                    Stall::Until(_) => {}
                }
            }
            if !stalled {
                return true;
            }
            if now >= end {
                return false;
            }
            st = self
                .inner
                .cv
                .wait_timeout(st, next - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Closes both sides of every current connection (what a stall held is dropped).
    /// Returns how many were cut.
    pub(crate) fn cut(&self) -> usize {
        let mut st = self.inner.lock();
        let n = st.conns.len();
        for c in &st.conns {
            c.kill();
        }
        st.stats.cut += n as u64;
        drop(st);
        self.inner.cv.notify_all();
        n
    }

    /// While `on`, every new connection is accepted and closed at once (the dialing node's
    /// handshake fails); current connections are left alone.
    pub(crate) fn refuse(&self, on: bool) {
        self.inner.lock().refusing = on;
        self.inner.cv.notify_all();
    }

    /// [`cut`] and [`refuse`]`(true)` at once: no connection survives and none is made
    /// until `refuse(false)`. Returns how many were cut.
    ///
    /// [`cut`]: FaultProxy::cut
    /// [`refuse`]: FaultProxy::refuse
    pub(crate) fn cut_and_refuse(&self) -> usize {
        self.inner.lock().refusing = true;
        self.cut()
    }

    /// The counters now.
    pub(crate) fn stats(&self) -> Stats {
        self.inner.lock().stats
    }

    /// Waits until `pred` holds for the counters, at most `timeout`; the counters then (or
    /// at the timeout, for the failure message) and whether it held.
    pub(crate) fn wait_for(
        &self,
        timeout: Duration,
        pred: impl Fn(&Stats) -> bool,
    ) -> (bool, Stats) {
        let end = Instant::now() + timeout;
        let mut st = self.inner.lock();
        loop {
            if pred(&st.stats) {
                return (true, st.stats);
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return (false, st.stats);
            }
            st = self
                .inner
                .cv
                .wait_timeout(st, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        {
            let mut st = self.inner.lock();
            st.closing = true;
            st.stall = [Stall::Off; 2];
            for c in &st.conns {
                c.kill();
            }
        }
        self.inner.cv.notify_all();
        // Wakes the acceptor from `accept`; it sees `closing` and returns.
        let _ = TcpStream::connect_timeout(
            &SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)),
            Duration::from_secs(2),
        );
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        let threads = std::mem::take(&mut self.inner.lock().threads);
        for t in threads {
            let _ = t.join();
        }
    }
}

fn accept_loop(inner: &Arc<Inner>, l: &TcpListener) {
    for client in l.incoming() {
        let Ok(client) = client else { continue };
        let (target, refusing, closing) = {
            let st = inner.lock();
            (st.target, st.refusing, st.closing)
        };
        if closing {
            return;
        }
        if refusing {
            let _ = client.shutdown(Shutdown::Both);
            drop(client);
            inner.lock().stats.refused += 1;
            inner.cv.notify_all();
            continue;
        }
        let server = match TcpStream::connect_timeout(&target, Duration::from_secs(2)) {
            Ok(s) => s,
            Err(_) => {
                let _ = client.shutdown(Shutdown::Both);
                inner.lock().stats.failed += 1;
                inner.cv.notify_all();
                continue;
            }
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let dead = Arc::new(AtomicBool::new(false));
        let mut st = inner.lock();
        if st.closing {
            return;
        }
        let id = st.next_id;
        st.next_id += 1;
        let pumps = [
            (0, client.try_clone(), server.try_clone()),
            (1, server.try_clone(), client.try_clone()),
        ];
        let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
            continue;
        };
        st.conns.push(Conn {
            id,
            client: c2,
            server: s2,
            dead: dead.clone(),
        });
        st.stats.accepted += 1;
        st.stats.live += 1;
        for (d, from, to) in pumps {
            let (Ok(from), Ok(to)) = (from, to) else {
                // Could not duplicate a socket: end this connection at once.
                dead.store(true, Ordering::SeqCst);
                let _ = client.shutdown(Shutdown::Both);
                let _ = server.shutdown(Shutdown::Both);
                continue;
            };
            let (i2, dead2) = (inner.clone(), dead.clone());
            let t = std::thread::Builder::new()
                .name(format!("proxy-conn{id}-{d}"))
                .spawn(move || pump(&i2, id, d, from, to, &dead2))
                .expect("spawn a forwarder");
            st.threads.push(t);
        }
        drop(st);
        inner.cv.notify_all();
    }
}

/// Forwards direction `d` of connection `id` from `from` to `to` until either side ends or
/// the connection is cut; then ends the whole connection.
fn pump(
    inner: &Inner,
    id: u64,
    d: usize,
    mut from: TcpStream,
    mut to: TcpStream,
    dead: &AtomicBool,
) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        // The gate: a stall holds the chunk here (the socket stays open, unread data piles
        // up in the kernel's buffers), a cut drops it.
        let delay = {
            let mut st = inner.lock();
            let mut counted = false;
            loop {
                if dead.load(Ordering::SeqCst) || st.closing {
                    break;
                }
                let wait = match st.stall[d] {
                    Stall::Off => break,
                    Stall::On => None,
                    Stall::Until(t) => {
                        let left = t.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            st.stall[d] = Stall::Off;
                            inner.cv.notify_all();
                            break;
                        }
                        Some(left)
                    }
                };
                if !counted {
                    counted = true;
                    st.stats.held[d] += 1;
                    inner.cv.notify_all();
                }
                st = match wait {
                    None => inner.cv.wait(st).unwrap_or_else(|e| e.into_inner()),
                    Some(left) => {
                        inner
                            .cv
                            .wait_timeout(st, left)
                            .unwrap_or_else(|e| e.into_inner())
                            .0
                    }
                };
            }
            if dead.load(Ordering::SeqCst) || st.closing {
                break;
            }
            st.delay
        };
        if !delay.is_zero() {
            std::thread::sleep(delay); // the injected latency: a fault, bound by `delay`
        }
        if dead.load(Ordering::SeqCst) || to.write_all(&buf[..n]).is_err() {
            break;
        }
        inner.lock().stats.bytes[d] += n as u64;
        inner.cv.notify_all();
    }
    // One side ended (or the connection was cut): end both, once.
    dead.store(true, Ordering::SeqCst);
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
    let mut st = inner.lock();
    if let Some(i) = st.conns.iter().position(|c| c.id == id) {
        st.conns.swap_remove(i);
        st.stats.live -= 1;
    }
    drop(st);
    inner.cv.notify_all();
}
