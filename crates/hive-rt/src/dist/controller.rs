//! A connection's controller: the process that sets a connection up (connect or accept,
//! then the handshake), writes the entry's output buffer, reads frames, sends ticks, and
//! ends the connection's links and monitors when it goes (`node.rs`, module docs).
//!
//! Controllers are ordinary Hive processes at high priority, so their I/O runs on the
//! poller like any process's: the socket is in active mode with 4-byte framing, and every
//! frame, the flush request of a sender (an internal message), and the tick timer arrive
//! in the controller's mailbox. A tick (an empty frame) goes out when nothing was written
//! for a quarter of `net_ticktime`; a peer from which nothing was read for `net_ticktime`
//! is dropped (`net_tick_timeout`, case 137). A high-priority process runs before every
//! normal one, so saturated workers do not delay ticks past a time slice.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Acquire;
use std::sync::Arc;
use std::time::Instant;

use super::dispatch::Rx;
use super::handshake::{self, Framing, HandshakeError, Local, PeerInfo, Verdict};
use super::lanes;
use super::node::{Discovery, Entry, Node, Phase};
use super::stream::Stream;
use super::ticks::{self, Quarter, Ticks};
use super::tls;
use crate::config::{Priority, SpawnOptions};
use crate::io::api::{self as net, Socket};
use crate::io::frame::batch_frames;
use crate::io::tcp::SockOpt;
use crate::mailbox::MessageKind;
use crate::pid::Pid;
use crate::process::pcb::Entry as ProcEntry;
use crate::reason::ExitReason;
use crate::signal::Signal;
use crate::status::Status;

/// Stack of a controller process, bytes: room for decoding terms nested up to the codec's
/// depth limit.
const STACK: usize = 256 * 1024;
/// Messages an active socket delivers before it must be re-armed.
const ACTIVE_N: i64 = 1 << 30;

fn opts() -> SpawnOptions {
    SpawnOptions {
        priority: Priority::High,
        stack_size: STACK,
    }
}

/// Spawns the controller of a connect attempt to `entry`'s node.
pub(crate) fn spawn_connect(node: &Arc<Node>, entry: &Arc<Entry>) -> Result<Pid, Status> {
    let _rt = crate::sched::enter();
    let rt = node.rt.upgrade().ok_or(Status::ErrShutDown)?;
    let (n, e) = (node.clone(), entry.clone());
    rt.spawn(
        ProcEntry::rust(move || connect_role(n, e)),
        &[],
        opts(),
        None,
    )
}

/// Spawns the controller of an accepted socket; it waits for the socket handle in a
/// message (sent once it owns the socket).
pub(crate) fn spawn_accept(node: &Arc<Node>) -> Result<Pid, Status> {
    let _rt = crate::sched::enter();
    let rt = node.rt.upgrade().ok_or(Status::ErrShutDown)?;
    let n = node.clone();
    rt.spawn(ProcEntry::rust(move || accept_role(n)), &[], opts(), None)
}

fn local(node: &Node) -> Local<'_> {
    Local {
        name: node.me.name.as_str(),
        creation: node.me.creation,
        flags: node.settings.flags,
        cookie: &node.settings.cookie,
    }
}

/// Finds the port of node `name` (`short@host`) and connects to it.
fn dial(node: &Node, name: &str) -> Result<Socket, String> {
    let (short, host) = name.split_once('@').ok_or("node name without a host")?;
    let t = node.settings.setup_ms;
    let ip = super::epmd::resolve(host, t).ok_or_else(|| format!("cannot resolve {host}"))?;
    let port = match node.settings.discovery {
        Discovery::FixedPort(p) => p,
        Discovery::Epmd(ep) => {
            let s = net::tcp_connect(SocketAddr::new(ip, ep), Some(t))
                .map_err(|e| format!("epmd at {ip}:{ep}: {e:?}"))?;
            let mut st = Stream::with_deadline(s, t);
            let r = super::epmd::port_please(&mut st, short);
            let _ = net::close(s);
            match r {
                Ok(Some(info)) => info.port,
                Ok(None) => return Err(format!("{short} not registered at {host}")),
                Err(e) => return Err(format!("epmd: {e:?}")),
            }
        }
    };
    let s = net::tcp_connect(SocketAddr::new(ip, port), Some(t))
        .map_err(|e| format!("connect: {e:?}"))?;
    // Before the handshake: its small messages (and TLS's) must not wait for Nagle's
    // algorithm against the peer's delayed ACKs (about 40 ms per exchange).
    let _ = net::set_option(s, SockOpt::NoDelay, 1);
    Ok(s)
}

/// The initiator's handshakes on a connected socket: TLS first when configured (the
/// acceptor's certificate must be valid for the host part of `name`), then the
/// distribution handshake inside it.
/// `extra` goes after our name in `send_name` (`lanes.rs`); `wanted` says whether this
/// attempt is still the node's (the answer to `alive`).
fn initiate(
    node: &Node,
    st: &mut Stream,
    name: &str,
    extra: &[u8],
    wanted: impl FnOnce() -> bool,
) -> Result<(PeerInfo, Option<tls::Wire>), HandshakeError> {
    let Some(t) = &node.settings.tls else {
        return handshake::initiate_ext(st, &local(node), Framing::Len2, name, extra, wanted)
            .map(|p| (p, None));
    };
    let host = name.split_once('@').map_or("", |(_, h)| h);
    let mut conn = t
        .client(host)
        .map_err(|_| HandshakeError::Protocol("bad host for TLS"))?;
    let mut ts = tls::TlsStream {
        conn: &mut conn,
        io: st,
    };
    ts.handshake().map_err(HandshakeError::Io)?;
    let peer = handshake::initiate_ext(&mut ts, &local(node), Framing::Len4, name, extra, wanted)?;
    Ok((peer, Some(tls::Wire::new(conn))))
}

fn connect_role(node: Arc<Node>, entry: Arc<Entry>) {
    let me = crate::process::self_pid();
    let r = dial(&node, entry.name.as_str()).and_then(|s| {
        // A simultaneous connect from the peer may have taken the entry over meanwhile.
        if entry.state.lock().controller != me {
            let _ = net::close(s);
            return Err(String::new());
        }
        let mut st = Stream::with_deadline(s, node.settings.setup_ms);
        let offer = lanes::offer(node.settings.lanes);
        let wanted = || entry.state.lock().controller == me;
        match initiate(&node, &mut st, entry.name.as_str(), &offer, wanted) {
            Ok((peer, wire)) => Ok((s, peer, wire)),
            Err(e) => {
                let _ = net::close(s);
                Err(match e {
                    HandshakeError::Refused(ref st) if st == "nok" => String::new(),
                    e => format!("{e:?}"),
                })
            }
        }
    });
    match r {
        Ok((s, peer, wire)) => {
            let role = Role {
                lane: 0,
                lanes: lanes::agreed(node.settings.lanes, &peer.extra),
                initiator: true,
            };
            run(&node, &entry, me, s, &peer, wire, role)
        }
        // `nok`: a simultaneous connect that the peer's attempt wins. Its accepting
        // controller takes the entry over (and kills this process) once it arrives; if it
        // never does within the setup time (the peer's attempt failed), this attempt
        // fails, as `dist_util` gives up after `net_setuptime`, and the next send
        // connects anew.
        Err(e) if e.is_empty() => {
            let end =
                Instant::now() + std::time::Duration::from_millis(node.settings.setup_ms.into());
            loop {
                let left = end.saturating_duration_since(Instant::now()).as_millis();
                if left == 0 || entry.state.lock().controller != me {
                    break;
                }
                // Flush requests meanwhile are for whoever takes over: ignored.
                let _ = crate::process::receive(Some(left.min(u128::from(u32::MAX)) as u32));
            }
            down(&node, &entry, me);
        }
        Err(_) => down(&node, &entry, me),
    }
}

/// Which connection of a node pair a controller runs (`lanes.rs`).
#[derive(Debug, Clone, Copy)]
struct Role {
    /// 0: the first connection; 1 …: a further lane.
    lane: usize,
    /// Lanes agreed for the pair (1: just this connection).
    lanes: usize,
    /// This node initiated (and so dials the further lanes).
    initiator: bool,
}

/// Spawns the controller of lane `k` toward `entry`'s node, whose incarnation must stay
/// `creation`, of `n` lanes ([`lane_role`]).
fn spawn_lane(
    node: &Arc<Node>,
    entry: &Arc<Entry>,
    k: usize,
    creation: u32,
    n: usize,
) -> Result<Pid, Status> {
    let _rt = crate::sched::enter();
    let rt = node.rt.upgrade().ok_or(Status::ErrShutDown)?;
    let (nd, e) = (node.clone(), entry.clone());
    rt.spawn(
        ProcEntry::rust(move || lane_role(nd, e, k, creation, n)),
        &[],
        opts(),
        None,
    )
}

/// The controller of lane `k` (≥ 1) of the connection to `entry`'s node, incarnation
/// `creation`, of `n` lanes: dials the node again and runs the whole handshake,
/// introducing itself as lane `k`. If it cannot, the whole connection ends.
fn lane_role(node: Arc<Node>, entry: Arc<Entry>, k: usize, creation: u32, n: usize) {
    let me = crate::process::self_pid();
    let r = dial(&node, entry.name.as_str()).and_then(|s| {
        let mine = entry
            .state
            .lock()
            .lanes
            .get(k - 1)
            .is_some_and(|l| l.controller == me);
        if !mine {
            // The connection ended meanwhile.
            let _ = net::close(s);
            return Err(String::new());
        }
        let mut st = Stream::with_deadline(s, node.settings.setup_ms);
        let wanted = || {
            let st = entry.state.lock();
            st.lanes.get(k - 1).is_some_and(|l| l.controller == me)
        };
        match initiate(
            &node,
            &mut st,
            entry.name.as_str(),
            &lanes::hello(k),
            wanted,
        ) {
            Ok((peer, wire)) if peer.creation == creation => Ok((s, peer, wire)),
            Ok(_) => {
                let _ = net::close(s);
                Err("another incarnation answered".into())
            }
            Err(e) => {
                let _ = net::close(s);
                Err(format!("{e:?}"))
            }
        }
    });
    match r {
        Ok((s, peer, wire)) => {
            let role = Role {
                lane: k,
                lanes: n,
                initiator: true,
            };
            run(&node, &entry, me, s, &peer, wire, role)
        }
        Err(e) if e.is_empty() => {}
        Err(_) => down(&node, &entry, me),
    }
}

/// Gives an accepted connection's handshake slot back when dropped.
struct HandshakeSlot<'a>(&'a Node);

impl Drop for HandshakeSlot<'_> {
    fn drop(&mut self) {
        self.0
            .handshaking
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

fn accept_role(node: Arc<Node>) {
    let slot = HandshakeSlot(&node);
    let me = crate::process::self_pid();
    let Ok(m) = crate::process::receive(Some(10_000)) else {
        return;
    };
    let Ok(raw) = <[u8; 8]>::try_from(m.data()) else {
        return;
    };
    let s = Socket(u64::from_le_bytes(raw));
    let _ = net::set_option(s, SockOpt::NoDelay, 1);
    let mut st = Stream::with_deadline(s, node.settings.setup_ms);
    // With TLS: the TLS handshake first; the peer's certificate then decides whether the
    // node name it announces is allowed.
    let mut conn = None;
    let mut cert = None;
    if let Some(t) = &node.settings.tls {
        let Ok(mut c) = t.server() else {
            let _ = net::close(s);
            return;
        };
        if (tls::TlsStream {
            conn: &mut c,
            io: &mut st,
        })
        .handshake()
        .is_err()
        {
            let _ = net::close(s);
            return;
        }
        cert = c.peer_certificates().and_then(|c| c.first()).cloned();
        conn = Some(c);
    }
    let check_names = node
        .settings
        .tls
        .as_ref()
        .is_some_and(|t| t.check_node_names);
    // What this connection took: the entry (Ok, OkSimultaneous), the entry whose
    // connection it replaces once the handshake completes (Alive: the old one stays until
    // then), or a lane of a connection up already.
    let mut taken: Option<Took> = None;
    let mut role = Role {
        lane: 0,
        lanes: 1,
        initiator: false,
    };
    let decide = |name: &str, creation: u32, extra: &[u8]| {
        let no = (Verdict::NotAllowed, Vec::new());
        let Ok(atom) = super::etf::Atom::new(name) else {
            return no;
        };
        if check_names && !tls::cert_names_node(cert.as_ref(), name) {
            return no;
        }
        if atom == node.me.name || node.stopping.load(std::sync::atomic::Ordering::Relaxed) {
            return no;
        }
        let entry = node.entry(&atom);
        let mut s = entry.state.lock();
        if let lanes::Hello::Lane(k) = lanes::parse(extra) {
            // A further lane: only of the incarnation the lanes were agreed with, and
            // only a free one. Failing later releases the lane, nothing more (so a peer
            // without the cookie cannot end the connection).
            let live = !matches!(s.phase, Phase::Idle) && s.lanes_creation == creation;
            match s.lanes.get_mut(k - 1) {
                Some(l) if live && l.controller.is_none() => {
                    l.controller = me;
                    role.lane = k;
                    role.lanes = s.lanes.len() + 1;
                    taken = Some(Took::Lane(entry.clone()));
                    return (Verdict::Ok, Vec::new());
                }
                _ => return no,
            }
        }
        role.lanes = lanes::agreed(node.settings.lanes, extra);
        let v = match s.phase {
            Phase::Idle => Verdict::Ok,
            // Both nodes connect at once: the node with the greater name keeps its own
            // attempt (`nok` to the other), as `dist_util` decides.
            Phase::Pending if node.me.name.as_str() > name => Verdict::Nok,
            Phase::Pending => Verdict::OkSimultaneous,
            // Connected already: the peer restarted, or lost its side; if it answers
            // `true`, this connection replaces the old one once the handshake is done.
            Phase::Up { .. } => Verdict::Alive,
        };
        match v {
            Verdict::Ok | Verdict::OkSimultaneous => {
                let old = std::mem::replace(&mut s.controller, me);
                s.phase = Phase::Pending;
                s.size_lanes(role.lanes);
                s.lanes_creation = creation;
                drop(s);
                if !old.is_none() {
                    // Our own attempt lost the simultaneous connect: stop it before it
                    // reaches the peer (which, connected by then, would answer `alive`).
                    node.kill(old);
                }
                taken = Some(Took::Main(entry.clone()));
            }
            Verdict::Alive => taken = Some(Took::Replace(entry.clone())),
            _ => {}
        }
        (v, lanes::offer(role.lanes))
    };
    let r = match conn.as_mut() {
        None => handshake::accept_ext(&mut st, &local(&node), Framing::Len2, decide),
        Some(c) => {
            let mut ts = tls::TlsStream {
                conn: c,
                io: &mut st,
            };
            handshake::accept_ext(&mut ts, &local(&node), Framing::Len4, decide)
        }
    };
    let wire = conn.map(tls::Wire::new);
    drop(slot);
    match (r, taken) {
        (Ok(peer), Some(Took::Replace(entry))) => {
            // The old connection may have gone meanwhile (the entry is idle then): this
            // one takes the entry as a first connection would.
            let old = {
                let mut st = entry.state.lock();
                let old = st.controller;
                if old.is_none() {
                    st.controller = me;
                    st.phase = Phase::Pending;
                }
                old
            };
            if !old.is_none() {
                end_connection(&node, &entry, old, me);
            }
            run(&node, &entry, me, s, &peer, wire, role)
        }
        (Ok(peer), Some(Took::Main(entry) | Took::Lane(entry))) => {
            run(&node, &entry, me, s, &peer, wire, role)
        }
        (_, Some(Took::Main(entry))) => {
            let _ = net::close(s);
            down(&node, &entry, me);
        }
        (_, Some(Took::Lane(entry))) => {
            let _ = net::close(s);
            if let Some(l) = entry.state.lock().lanes.get_mut(role.lane - 1) {
                if l.controller == me {
                    l.controller = Pid::NONE;
                }
            }
        }
        (_, _) => {
            let _ = net::close(s);
        }
    }
}

/// What an accepted connection took (see `accept_role`).
enum Took {
    Main(Arc<Entry>),
    Replace(Arc<Entry>),
    Lane(Arc<Entry>),
}

/// Ends the connection of controller `old` at once, on this side, and gives the entry to
/// the controller `next` (a restarted peer's new connection replaces the old one).
fn end_connection(node: &Node, entry: &Entry, old: Pid, next: Pid) {
    end(node, entry, old, next);
    node.poke(old, b"D");
}

/// Marks the connection up (lane 0) or lane `role.lane` up, and switches to lanes once
/// all are. Returns the entry's `ended` count it came up under; None when `me` no longer
/// has the place (the connection ended meanwhile).
fn come_up(
    node: &Arc<Node>,
    entry: &Arc<Entry>,
    me: Pid,
    peer: &PeerInfo,
    role: Role,
) -> Option<u64> {
    let (poke, ended) = {
        let mut st = entry.state.lock();
        if role.lane == 0 {
            if st.controller != me {
                return None;
            }
            st.phase = Phase::Up {
                creation: peer.creation,
                flags: super::flags::negotiate(node.settings.flags, peer.flags),
            };
            st.notified = true;
            st.size_lanes(role.lanes);
            st.lanes_creation = peer.creation;
            if role.initiator {
                // A lane that cannot be spawned stays without a controller, never up: the
                // pair then never switches and stays on lane 0.
                for k in 1..role.lanes {
                    if let Ok(pid) = spawn_lane(node, entry, k, peer.creation, role.lanes) {
                        st.lanes[k - 1].controller = pid;
                    }
                }
            }
        } else {
            match st.lanes.get_mut(role.lane - 1) {
                Some(l) if l.controller == me => {
                    l.up = true;
                    l.notified = true;
                }
                _ => return None,
            }
        }
        let poke = st.switch_lanes_on().then_some(st.controller);
        (poke, entry.ended.load(Acquire))
    };
    if let Some(c) = poke {
        if c != me {
            node.poke(c, b"F");
        }
    }
    Some(ended)
}

/// The connected loop of one connection (`role.lane` of the pair).
fn run(
    node: &Arc<Node>,
    entry: &Arc<Entry>,
    me: Pid,
    s: Socket,
    peer: &PeerInfo,
    mut wire: Option<tls::Wire>,
    role: Role,
) {
    let Some(ended) = come_up(node, entry, me, peer, role) else {
        let _ = net::close(s);
        return;
    };
    // Plain TCP: the socket cuts frames, delivered in batches; TLS: ciphertext arrives
    // raw, `wire` cuts them.
    let _ = match wire {
        Some(_) => net::set_option(s, SockOpt::Packet, 0),
        None => net::set_batched_frames(s, super::dispatch::payload_at),
    };
    let _ = net::set_option(s, SockOpt::Active, ACTIVE_N);
    let t = node.settings.tick_ms;
    let send = |wire: &mut Option<tls::Wire>, b: &[u8]| match wire {
        None => net::send(s, b, Some(t)).map_err(|_| "send failed"),
        Some(w) => w.send(s, b, t),
    };
    let mut rx = Rx {
        lane: role.lane,
        on: role.lane == 0,
        held: lanes::Holdback::default(),
    };
    // Frames the peer sent right behind its handshake, already decrypted.
    if let Some(w) = wire.as_mut() {
        if w.on_bytes(s, &[], t, |f| rx.frame(node, entry, f)).is_err() {
            let _ = net::close(s);
            down(node, entry, me);
            return;
        }
    }
    let Some(mut ticks) = Ticks::start(me, node.settings.tick_ms) else {
        let _ = net::close(s);
        down(node, entry, me);
        return;
    };
    let mut flush = true;
    // The buffer being written; swapped with the entry's so both keep their capacity (a
    // fresh buffer per flush regrew into newly faulted pages, a quarter of the time of
    // 64 KiB messages). One that grew past `KEEP` bytes is let go once written.
    let mut spare: Vec<u8> = Vec::new();
    const KEEP: usize = 4 << 20;
    let reason = loop {
        if flush {
            // The processes queued on this worker run once first (the controller yields at
            // normal priority): what they send joins this write. Writes carry more frames,
            // and the kernel's work is per write (dist_ping_pong/100: 2× the messages/s at
            // a third of the CPU).
            let _ = crate::process::set_priority(Priority::Normal);
            let _ = crate::process::yield_now();
            let _ = crate::process::set_priority(Priority::High);
            flush = false;
            let waiters = {
                let mut st = entry.state.lock();
                if role.lane == 0 {
                    if st.controller != me {
                        break "replaced"; // ended (`end`): what is queued is the next one's
                    }
                    st.notified = false;
                    std::mem::swap(&mut st.out, &mut spare);
                    std::mem::take(&mut st.busy_waiters)
                } else {
                    match st.lanes.get_mut(role.lane - 1) {
                        Some(l) if l.controller == me => {
                            l.notified = false;
                            std::mem::swap(&mut l.out, &mut spare);
                            std::mem::take(&mut l.busy_waiters)
                        }
                        _ => break "lane gone",
                    }
                }
            };
            node.wake_busy(waiters);
            if !spare.is_empty() {
                if let Err(e) = send(&mut wire, &spare) {
                    break e;
                }
                ticks.wrote = true;
                spare.clear();
                if spare.capacity() > KEEP {
                    spare = Vec::new();
                }
            }
        }
        let m = match crate::process::receive(None) {
            Ok(m) => m,
            Err(_) => break "receive failed",
        };
        match m.kind() {
            MessageKind::Tcp => {
                if entry.ended.load(Acquire) != ended {
                    // Ended here (`end`) before its `D` came: what still arrives is lost
                    // with it, as the BEAM drops frames of an old connection id.
                    break "replaced";
                }
                ticks.heard = true;
                // Plain TCP only: under TLS the message is ciphertext.
                let m = match wire {
                    None => match rx.in_place(node, entry, m) {
                        Ok(Ok(())) => continue,
                        Ok(Err(e)) => break e,
                        Err(m) => m,
                    },
                    Some(_) => m,
                };
                let r = match wire.as_mut() {
                    None => batch_frames(m.data())
                        .try_for_each(|f| rx.frame(node, entry, f.ok_or(())?))
                        .map_err(|_| "bad frame"),
                    Some(w) => w.on_bytes(s, m.data(), t, |f| rx.frame(node, entry, f)),
                };
                if let Err(e) = r {
                    break e;
                }
            }
            MessageKind::TcpPassive => {
                let _ = net::set_option(s, SockOpt::Active, ACTIVE_N);
            }
            MessageKind::TcpClosed | MessageKind::TcpError => break "connection_closed",
            MessageKind::Data if m.sender().is_none() => match m.data() {
                b"F" => flush = true,
                ticks::QUARTER => match ticks.end_quarter() {
                    Ok(Quarter::Quiet) => {}
                    Ok(Quarter::Tick) => {
                        if let Err(e) = send(&mut wire, &[0, 0, 0, 0]) {
                            break e;
                        }
                    }
                    Ok(Quarter::Timeout) => break "net_tick_timeout",
                    Err(e) => break e,
                },
                b"D" => break "disconnect",
                // The peer's lane switch was carried out on lane 0: release what this
                // lane held back (the guard does it; only a failure leaves the loop).
                b"E" if !rx.on && rx.release(node, entry).is_err() => break "bad frame",
                _ => {}
            },
            _ => {}
        }
    };
    let _ = reason;
    let _ = net::close(s);
    down(node, entry, me);
}

/// Ends the connection of controller `me` on this side: the entry goes idle, its queued
/// frames are dropped, and each link and monitor across it ends once with `noconnection`
/// (`node.rs`, module docs). Nothing when `me` no longer controls the entry.
pub(crate) fn down(node: &Node, entry: &Entry, me: Pid) {
    end(node, entry, me, Pid::NONE);
}

/// [`down`], leaving the entry to controller `next` (pending) rather than idle when `next`
/// is not `NONE`; under one lock, so no sender starts a connection in between.
fn end(node: &Node, entry: &Entry, me: Pid, next: Pid) {
    let _rt = crate::sched::enter();
    let (links, monitors, held, watchers, spawns, busy, others) = {
        let mut s = entry.state.lock();
        let lane_ctls: Vec<Pid> = s.lanes.iter().map(|l| l.controller).collect();
        if s.controller != me && !lane_ctls.contains(&me) {
            return;
        }
        // Every other connection of the pair ends too (`lanes.rs`, "Loss").
        let mut others: Vec<Pid> = lane_ctls
            .into_iter()
            .filter(|&c| c != me && !c.is_none())
            .collect();
        if s.controller != me && !s.controller.is_none() && s.controller != next {
            others.push(s.controller);
        }
        entry
            .ended
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        s.controller = next;
        s.phase = if next.is_none() {
            Phase::Idle
        } else {
            Phase::Pending
        };
        s.notified = false;
        s.out = Vec::new();
        s.held_refs.clear();
        let mut busy = std::mem::take(&mut s.busy_waiters);
        for l in std::mem::take(&mut s.lanes) {
            busy.extend(l.busy_waiters);
        }
        s.lanes_on = false;
        s.lanes_rx = false;
        (
            std::mem::take(&mut s.links),
            std::mem::take(&mut s.monitors),
            std::mem::take(&mut s.held),
            std::mem::take(&mut s.node_monitors),
            std::mem::take(&mut s.spawns),
            busy,
            others,
        )
    };
    node.wake_busy(busy);
    for c in others {
        node.poke(c, b"D");
    }
    let nc = ExitReason::Noconnection;
    for (local, remote) in links {
        node.deliver_local(remote, local, Signal::LinkExit(&nc));
    }
    for (mref, (local, remote, _)) in monitors {
        node.deliver_local(remote, local, Signal::Down(mref, &nc));
    }
    for (token, h) in held {
        node.deliver_local(h.watcher, h.target, Signal::Demonitor(token));
    }
    // A spawn request without its reply fails with `noconnection` (case 155's reply).
    for (reqid, (requester, ..)) in spawns {
        let msg = super::etf::to_vec(&super::etf::Term::tuple(vec![
            super::etf::Term::atom("spawn_reply"),
            super::etf::Term::Ref(super::ids::ref_to_ext(&node.me, reqid)),
            super::etf::Term::atom("error"),
            super::etf::Term::atom("noconnection"),
        ]));
        node.send_local(Pid::NONE, requester, &msg);
    }
    if !watchers.is_empty() {
        let msg = super::etf::to_vec(&super::etf::Term::tuple(vec![
            super::etf::Term::atom("nodedown"),
            super::etf::Term::Atom(entry.name.clone()),
        ]));
        for w in watchers {
            node.send_local(Pid::NONE, w, &msg);
        }
    }
}
