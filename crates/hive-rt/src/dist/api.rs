//! Starting and stopping a node, and the calls that name nodes rather than pids (the Rust
//! API; `ffi/dist.rs` is the C face). Sends, links, monitors and exit signals to remote
//! pids need nothing new: the ordinary calls (`process::send`, `link`, `monitor`,
//! `exit_pid` …) take remote pids.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use parking_lot::Mutex;

use super::control::{op, Payload};
use super::etf::{Atom, ExtPid, Term};
use super::ids::Me;
use super::node::{Discovery, Node, Phase, Settings};
use crate::config::{Priority, SpawnOptions};
use crate::io::api::{self as net, Socket};
use crate::pid::Pid;
use crate::process::pcb::Entry as ProcEntry;
use crate::reason::ExitReason;
use crate::runtime::RtInner;
use crate::status::{Error, Result, Status};

/// How to start a node ([`crate::Runtime::dist_start`], `hive_dist_start`), as `erl`'s
/// `-sname`/`-name`, `-setcookie`, `-hidden` and `-kernel net_ticktime` flags.
#[derive(Clone, Debug)]
pub struct Options {
    /// The node name: `name` (the host is added: this machine's short host name, or its
    /// full one with `long_names`) or `name@host`. At most 255 characters in all.
    pub name: String,
    /// Long names (`-name`) rather than short ones (`-sname`): only decides the host part
    /// added to a name without one.
    pub long_names: bool,
    /// The cookie; None reads `$HOME/.erlang.cookie`, creating it with a random cookie
    /// (mode 0400) when missing, as `erl` does.
    pub cookie: Option<Vec<u8>>,
    /// Address and port to listen on for other nodes (port 0: any free port). Default
    /// `0.0.0.0:0`, as `erl`.
    pub listen: SocketAddr,
    /// How other nodes' ports are found. Default: EPMD on port `ERL_EPMD_PORT` or 4369.
    pub discovery: Discovery,
    /// With EPMD discovery and no EPMD answering on this host: start the system `epmd`
    /// (`epmd -daemon`, which outlives the node, as with `erl`) when installed, else
    /// Hive's own minimal port mapper (threads of this runtime, stopped with the node).
    /// Default true.
    pub start_epmd: bool,
    /// With `start_epmd`: start Hive's own port mapper even when the system `epmd` is
    /// installed (nothing outlives the node; for tests and benches). Default false.
    pub own_port_mapper: bool,
    /// A hidden node (the default, as C nodes): not in other nodes' `nodes()`, no
    /// `global` or transitive connections. False publishes the node; Hive then answers
    /// nothing `global` or `rex` send (see `docs/distribution.md`).
    pub hidden: bool,
    /// `net_ticktime`, ms: ticks go out every quarter of it, and a peer silent for four
    /// quarters in a row is dropped (after 3/4 to 5/4 of it, as the BEAM). Default 60,000
    /// (OTP's default); at least 400; must match the peer's within ±25%.
    pub tick_time_ms: u32,
    /// Connect and handshake timeout, ms (`net_setuptime`): the whole handshake, TLS
    /// included, must end within it. Default 7,000.
    pub setup_time_ms: u32,
    /// TLS distribution (`-proto_dist inet_tls`): every connection, in both directions,
    /// runs inside mutual TLS; None (the default) is plain TCP (`inet_tcp_dist`). A TLS
    /// node and a plain one cannot connect to each other.
    pub tls: Option<super::TlsOptions>,
    /// Bytes queued to one node beyond which a process sending a message there is
    /// suspended until the queue has been handed to the socket (the BEAM's busy
    /// distribution port, `+zdbbl`, `erlang:system_info(dist_buf_busy_limit)`), so a
    /// sender faster than the connection cannot grow memory without bound. Default
    /// 512 KiB, half the BEAM's: the buffer stays in cache while it is filled and
    /// written, and writes alternate with the filling sooner (`docs/distribution.md`,
    /// "Back-pressure").
    pub busy_limit_bytes: usize,
    /// Accepted connections that may be in their handshake at once (not yet
    /// authenticated); a connection beyond it is closed at once. Each is bounded by
    /// `setup_time_ms`, so peers that connect and stall (slowloris) hold at most this many
    /// sockets for at most that long. Default 64.
    pub max_handshakes: usize,
    /// Connections per Hive peer (1 to 16): each local process sends all its signals to
    /// that node on one of them, chosen by its pid, so one process streaming bulk data
    /// does not delay the others' messages on its connection (`docs/distribution.md`,
    /// "Lanes"). Both nodes must offer more than one; a BEAM peer always gets one
    /// connection. Default 1, as the BEAM (several cost throughput on many small round
    /// trips; see the measurements there).
    pub lanes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            name: "hive".into(),
            long_names: false,
            cookie: None,
            listen: SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0),
            discovery: Discovery::Epmd(super::epmd::port_from_env()),
            start_epmd: true,
            own_port_mapper: false,
            hidden: true,
            tick_time_ms: 60_000,
            setup_time_ms: 7_000,
            tls: None,
            busy_limit_bytes: 512 << 10,
            max_handshakes: 64,
            lanes: 1,
        }
    }
}

/// A running node's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    /// The full node name, `name@host`.
    pub name: String,
    /// The creation (from EPMD, or random without it); pids of this incarnation carry it.
    pub creation: u32,
    /// The port it listens on.
    pub port: u16,
}

fn host_name(long: bool) -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is writable for its length; gethostname writes at most that many bytes.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let h = if r == 0 {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "localhost".into()
    };
    if long {
        h
    } else {
        h.split('.').next().unwrap_or("localhost").to_owned()
    }
}

/// The cookie in `$HOME/.erlang.cookie`, made as `erl` makes it when missing.
fn default_cookie() -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let home = std::env::var_os("HOME").ok_or(std::io::ErrorKind::NotFound)?;
    let path = std::path::Path::new(&home).join(".erlang.cookie");
    match std::fs::read(&path) {
        Ok(b) => Ok(b.trim_ascii().to_vec()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let c: Vec<u8> = (0..20).map(|_| b'A' + (random_u32() % 26) as u8).collect();
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o400)
                .open(&path)?;
            f.write_all(&c)?;
            Ok(c)
        }
        Err(e) => Err(e),
    }
}

pub(crate) fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    // SAFETY: `b` is writable for its 4 bytes.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), 4, 0) };
    if n != 4 {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos() ^ d.as_secs() as u32);
        return t.rotate_left(7) ^ std::process::id();
    }
    u32::from_ne_bytes(b)
}

/// What the acceptor reports once it listens and is registered.
struct Ready {
    port: u16,
    creation: u32,
}

/// Registers with the EPMD on `port` of this host; on no answer and `start`, starts one
/// (the system `epmd`, else Hive's own port mapper, kept in `mapper`) and retries.
fn register(
    port: u16,
    listen_port: u16,
    short: &str,
    hidden: bool,
    start: bool,
    own: bool,
    mapper: &Mutex<Option<super::epmd::PortMapperHandle>>,
) -> std::result::Result<(Socket, u32), Status> {
    let addr = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port);
    let try_once = || -> std::result::Result<(Socket, u32), Status> {
        let s = net::tcp_connect(addr, Some(2_000)).map_err(|e| e.0)?;
        let mut st = super::stream::Stream::with_deadline(s, 5_000);
        match super::epmd::alive2(&mut st, listen_port, hidden, short) {
            Ok(c) => Ok((s, c)),
            Err(_) => {
                let _ = net::close(s);
                Err(Status::ErrNameTaken)
            }
        }
    };
    match try_once() {
        Err(Status::ErrConnRefused) if start => {}
        r => return r,
    }
    let started = !own
        && crate::process::blocking(|| {
            std::process::Command::new("epmd")
                .args(["-daemon", "-port", &port.to_string()])
                .status()
                .is_ok_and(|s| s.success())
        })
        .unwrap_or(false);
    if started {
        for _ in 0..50 {
            match try_once() {
                Err(Status::ErrConnRefused) => {
                    let _ = crate::process::sleep(20);
                }
                r => return r,
            }
        }
    }
    let h = super::epmd::PortMapper::start(addr).map_err(|_| Status::ErrAddrInUse)?;
    *mapper.lock() = Some(h);
    try_once()
}

/// Starts distribution on `rt` (see [`crate::Runtime::dist_start`]).
pub(crate) fn start(rt: &RtInner, opts: Options) -> Result<NodeInfo> {
    let rt = &rt.weak().upgrade().ok_or(Error(Status::ErrShutDown))?;
    let mut opts = opts;
    if let Discovery::FixedPort(p) = opts.discovery {
        if opts.listen.port() == 0 {
            opts.listen.set_port(p);
        }
    }
    if rt.remote.read().is_some() {
        return Err(Error(Status::ErrNotDistributed));
    }
    let full = if opts.name.contains('@') {
        opts.name.clone()
    } else {
        format!("{}@{}", opts.name, host_name(opts.long_names))
    };
    let (short, _host) = full.split_once('@').unwrap_or((&full, ""));
    if short.is_empty() || _host.is_empty() {
        return Err(Error(Status::ErrBadArgument));
    }
    let atom = Atom::new(&full).map_err(|_| Error(Status::ErrBadLength))?;
    let cookie = match opts.cookie.clone() {
        Some(c) => c,
        None => default_cookie().map_err(|_| Error(Status::ErrIo))?,
    };
    let tls = match &opts.tls {
        Some(o) => Some(super::tls::load(o).map_err(|_| Error(Status::ErrTlsConfig))?),
        None => None,
    };
    let (tx, rx) = crossbeam_channel::bounded::<std::result::Result<Ready, Status>>(1);
    let slot: Arc<Mutex<Option<Arc<Node>>>> = Arc::default();
    let mapper: Arc<Mutex<Option<super::epmd::PortMapperHandle>>> = Arc::default();
    let (slot2, mapper2, o2, short2) =
        (slot.clone(), mapper.clone(), opts.clone(), short.to_owned());
    let acceptor = move || {
        let l = match net::tcp_listen(o2.listen, 128, crate::io::tcp::LISTEN_REUSEADDR) {
            Ok(l) => l,
            Err(e) => return drop(tx.send(Err(e.0))),
        };
        let port = net::local_addr(l).map(|a| a.port()).unwrap_or(0);
        let creation = match o2.discovery {
            Discovery::Epmd(ep) => {
                match register(
                    ep,
                    port,
                    &short2,
                    o2.hidden,
                    o2.start_epmd,
                    o2.own_port_mapper,
                    &mapper2,
                ) {
                    // The registration lives as long as this process keeps `_s` open.
                    Ok((_s, c)) => c,
                    Err(e) => return drop(tx.send(Err(e))),
                }
            }
            Discovery::FixedPort(_) => random_u32().max(1),
        };
        if tx.send(Ok(Ready { port, creation })).is_err() {
            return;
        }
        if crate::process::receive(None).is_err() {
            return;
        }
        let Some(node) = slot2.lock().clone() else {
            return;
        };
        drop(slot2);
        accept_loop(&node, l);
    };
    let aopts = SpawnOptions {
        priority: Priority::High,
        ..Default::default()
    };
    let apid = rt
        .spawn(ProcEntry::rust(acceptor), &[], aopts, None)
        .map_err(Error)?;
    let wait = || {
        rx.recv_timeout(std::time::Duration::from_millis(
            u64::from(opts.setup_time_ms) * 2,
        ))
    };
    let ready = if crate::process::self_pid().is_none() {
        wait()
    } else {
        crate::process::blocking(wait)?
    };
    let ready = match ready {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Err(Error(e)),
        Err(_) => {
            let _ = crate::signal::request::exit_pid(
                rt,
                &crate::sched::Caller::get(),
                apid,
                &ExitReason::Kill,
            );
            return Err(Error(Status::Timeout));
        }
    };
    let mut flags = super::flags::ADVERTISED;
    if !opts.hidden {
        flags |= super::flags::PUBLISHED;
    }
    let node = Arc::new(Node::new(
        Arc::downgrade(rt),
        Me {
            name: atom,
            creation: ready.creation,
        },
        Settings {
            cookie,
            discovery: opts.discovery.clone(),
            tick_ms: opts.tick_time_ms.max(400),
            setup_ms: opts.setup_time_ms.max(100),
            flags,
            busy_limit: opts.busy_limit_bytes,
            max_handshakes: opts.max_handshakes.max(1),
            lanes: opts.lanes.clamp(1, super::lanes::MAX_LANES),
            tls,
            _mapper: mapper.lock().take(),
        },
    ));
    *node.acceptor.lock() = apid;
    *slot.lock() = Some(node.clone());
    {
        let mut r = rt.remote.write();
        if r.is_some() {
            return Err(Error(Status::ErrNotDistributed));
        }
        *r = Some(Arc::new(node.clone()));
    }
    node.poke(apid, b"G");
    Ok(NodeInfo {
        name: full,
        creation: ready.creation,
        port: ready.port,
    })
}

/// The acceptor's loop: each connection gets its own controller, up to
/// `max_handshakes` of them still in their handshake.
fn accept_loop(node: &Arc<Node>, l: Socket) {
    use std::sync::atomic::Ordering::SeqCst;
    loop {
        let Ok(s) = net::tcp_accept(l, None) else {
            return;
        };
        if node.handshaking.fetch_add(1, SeqCst) >= node.settings.max_handshakes {
            node.handshaking.fetch_sub(1, SeqCst);
            let _ = net::close(s);
            continue;
        }
        let Ok(pid) = super::controller::spawn_accept(node) else {
            node.handshaking.fetch_sub(1, SeqCst);
            let _ = net::close(s);
            continue;
        };
        // From here the controller gives its handshake slot back, whatever happens.
        if net::controlling_process(s, pid).is_err() {
            let _ = net::close(s);
            continue;
        }
        if crate::process::send(pid, &s.0.to_le_bytes()).is_err() {
            let _ = net::close(s);
        }
    }
}

/// Stops distribution on `rt`: no new connections, every connection closed (its links and
/// monitors end with `noconnection`), the EPMD registration dropped. Errors:
/// `ErrNotDistributed`.
pub(crate) fn stop(rt: &RtInner) -> Result<()> {
    let Some(node) = rt.remote.write().take() else {
        return Err(Error(Status::ErrNotDistributed));
    };
    let Some(node) = node.as_any().downcast_ref::<Arc<Node>>().cloned() else {
        return Err(Error(Status::ErrInternal));
    };
    node.stopping
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let apid = *node.acceptor.lock();
    let caller = crate::sched::Caller::get();
    let _ = crate::signal::request::exit_pid(rt, &caller, apid, &ExitReason::Kill);
    let entries: Vec<_> = node.entries.read().values().cloned().collect();
    let mut closing = vec![apid];
    for e in entries {
        let (c, lanes) = controllers(&e);
        if !c.is_none() {
            super::controller::down(&node, &e, c);
            // Killed, not asked: one still connecting would finish its connect first.
            for p in std::iter::once(c).chain(lanes) {
                let _ = crate::signal::request::exit_pid(rt, &caller, p, &ExitReason::Kill);
                closing.push(p);
            }
        }
    }
    // Return once the sockets are closed: EPMD has dropped the name (a new start may
    // register it at once) and peers see the connections go.
    for c in closing {
        wait_closed(rt, c);
    }
    Ok(())
}

/// The running node of the calling process's runtime.
fn running() -> std::result::Result<Arc<Node>, Status> {
    let pcb = crate::process::current()?;
    node_of(crate::runtime::runtime_of(pcb)).ok_or(Status::ErrNotDistributed)
}

/// The running node of `rt`.
pub(crate) fn node_of(rt: &RtInner) -> Option<Arc<Node>> {
    rt.remote()?.as_any().downcast_ref::<Arc<Node>>().cloned()
}

/// This node's full name (`node/0`), None when distribution is not running. Errors:
/// `ErrNotAProcess`.
pub fn node_name() -> Result<Option<String>> {
    let _rt = crate::sched::enter();
    match running() {
        Ok(n) => Ok(Some(n.me.name.as_str().to_owned())),
        Err(Status::ErrNotDistributed) => Ok(None),
        Err(e) => Err(Error(e)),
    }
}

/// The nodes connected now (`nodes(connected)`), by full name. Errors: `ErrNotAProcess`,
/// `ErrNotDistributed`.
pub fn nodes() -> Result<Vec<String>> {
    let _rt = crate::sched::enter();
    let node = running().map_err(Error)?;
    Ok(nodes_on(&node))
}

/// [`nodes`] of `node`.
pub(crate) fn nodes_on(node: &Node) -> Vec<String> {
    let mut v: Vec<String> = node
        .entries
        .read()
        .values()
        .filter(|e| matches!(e.state.lock().phase, Phase::Up { .. }))
        .map(|e| e.name.as_str().to_owned())
        .collect();
    v.sort();
    v
}

fn node_atom(name: &str) -> std::result::Result<Atom, Status> {
    if !name.contains('@') {
        return Err(Status::ErrBadArgument);
    }
    Atom::new(name).map_err(|_| Status::ErrBadLength)
}

/// `{Name, Node} ! Data` (`REG_SEND`): the process registered as `name` on `node` when the
/// message arrives gets it (case 102); nobody there, or an unreachable node, drops it
/// (cases 106, 107). Never waits for the connection (case 108). `node` may be this node.
/// Errors: `ErrNotAProcess`, `ErrNotDistributed`, `ErrBadArgument` (a node name without
/// `@`, an empty name), `ErrBadLength` (a name over 255 characters).
pub fn send_name(node_name: &str, name: &str, data: &[u8]) -> Result<()> {
    let _rt = crate::sched::enter();
    let node = running().map_err(Error)?;
    let target = node_atom(node_name).map_err(Error)?;
    let to = Atom::new(name).map_err(|_| Error(Status::ErrBadLength))?;
    if name.is_empty() {
        return Err(Error(Status::ErrBadArgument));
    }
    if target == node.me.name {
        return match crate::process::whereis(name.as_bytes()) {
            Ok(p) if !p.is_none() => crate::process::send(p, data),
            _ => Ok(()),
        };
    }
    let me = crate::process::self_pid();
    let Some(from) = node.pid_term(me) else {
        return Err(Error(Status::ErrNotAProcess));
    };
    let ctl = Term::tuple(vec![
        Term::Int(op::REG_SEND),
        from,
        Term::atom(""),
        Term::Atom(to),
    ]);
    let entry = node.entry(&target);
    node.queue_message(&entry, None, me, &ctl, data);
    Ok(())
}

/// `monitor(process, {Name, Node})`: monitors whichever process is registered as `name`
/// on `node` when the request arrives (the name is resolved once, there; case 126).
/// Returns the monitor reference. The DOWN (`MessageKind::Down`) carries the reason:
/// `noproc` when nobody had the name (case 127), `noconnection` when the node cannot be
/// reached or goes (case 132); its sender is a placeholder pid of `node` (index and serial
/// 0), not the process, so match DOWNs by reference. `demonitor` works as for pids. `node`
/// may be this node (then as [`crate::process::monitor_name`]). Errors: `ErrNotAProcess`,
/// `ErrNotDistributed`, `ErrBadArgument` (a node name without `@`, an empty name),
/// `ErrBadLength`, `ErrSystemLimit` (too many node incarnations).
pub fn monitor_name(node_name: &str, name: &str) -> Result<u64> {
    let _rt = crate::sched::enter();
    let node = running().map_err(Error)?;
    let target = node_atom(node_name).map_err(Error)?;
    if name.is_empty() {
        return Err(Error(Status::ErrBadArgument));
    }
    let to = Atom::new(name).map_err(|_| Error(Status::ErrBadLength))?;
    if target == node.me.name {
        return crate::process::monitor_name(name.as_bytes());
    }
    let pcb = crate::process::current().map_err(Error)?;
    let rt = crate::runtime::runtime_of(pcb);
    let placeholder = node
        .name_placeholder(&target)
        .ok_or(Error(Status::ErrSystemLimit))?;
    let me = pcb.pid;
    let Some(from) = node.pid_term(me) else {
        return Err(Error(Status::ErrNotAProcess));
    };
    let mref = rt.new_ref();
    pcb.sig.lock().data().monitors.insert(mref, placeholder);
    let ctl = Term::tuple(vec![
        Term::Int(op::MONITOR_P),
        from,
        Term::Atom(to.clone()),
        Term::Ref(super::ids::ref_to_ext(&node.me, mref)),
    ]);
    let entry = node.entry(&target);
    if !node.queue(&entry, None, me, &ctl, None, |s| {
        s.monitors.insert(mref, (me, placeholder, Some(to)));
    }) {
        node.deliver_local(
            placeholder,
            me,
            crate::signal::Signal::Down(mref, &ExitReason::Noconnection),
        );
    }
    Ok(mref)
}

/// Registers the entry point `module:function` of this node for `spawn_request` from other
/// nodes (`dist/spawn.rs`): a request for it spawns a process that runs `f` with the ETF
/// bytes of the argument list. A later registration of the same pair replaces it. Errors:
/// `ErrNotAProcess`, `ErrNotDistributed`, `ErrBadArgument` (an empty name), `ErrBadLength`
/// (a name over 255 characters).
pub fn register_entry(
    module: &str,
    function: &str,
    f: impl Fn(Vec<u8>) + Send + Sync + 'static,
) -> Result<()> {
    let _rt = crate::sched::enter();
    let node = running().map_err(Error)?;
    register_entry_on(
        &node,
        module,
        function,
        super::spawn::EntryFn::Rust(Arc::new(f)),
    )
    .map_err(Error)
}

/// [`register_entry`] on `node`.
pub(crate) fn register_entry_on(
    node: &Node,
    module: &str,
    function: &str,
    f: super::spawn::EntryFn,
) -> std::result::Result<(), Status> {
    if module.is_empty() || function.is_empty() {
        return Err(Status::ErrBadArgument);
    }
    Atom::new(module).map_err(|_| Status::ErrBadLength)?;
    Atom::new(function).map_err(|_| Status::ErrBadLength)?;
    node.spawn_entries
        .write()
        .insert((module.to_owned(), function.to_owned()), f);
    Ok(())
}

/// `erlang:spawn_request(Node, Module, Function, Args, Opts)`: asks `node` to spawn
/// `module:function` with `args` (the ETF bytes of a proper list; a BEAM node runs the
/// Erlang function, a Hive node the entry point registered under that name). Returns the
/// request reference at once; the reply comes as the message `{spawn_reply, ReqId, ok,
/// Pid}` or `{spawn_reply, ReqId, error, Reason}` (ETF; `noconnection` when the node
/// cannot be reached, case 155). With `link`, the caller is linked to the new process
/// before it runs (case 153); with `monitor`, it monitors it under the request's reference
/// (its DOWN carries `ReqId`, case 154). Errors: `ErrNotAProcess`, `ErrNotDistributed`,
/// `ErrBadArgument` (args not a proper list, an empty name, a node name without `@`),
/// `ErrBadLength`.
pub fn spawn_request(
    node_name: &str,
    module: &str,
    function: &str,
    args: &[u8],
    link: bool,
    monitor: bool,
) -> Result<u64> {
    let _rt = crate::sched::enter();
    let node = running().map_err(Error)?;
    let target = node_atom(node_name).map_err(Error)?;
    if module.is_empty() || function.is_empty() {
        return Err(Error(Status::ErrBadArgument));
    }
    let m = Atom::new(module).map_err(|_| Error(Status::ErrBadLength))?;
    let f = Atom::new(function).map_err(|_| Error(Status::ErrBadLength))?;
    let arity = match super::etf::decode(args) {
        Ok(Term::Nil) => 0,
        Ok(Term::String(b)) => b.len(),
        Ok(Term::List(v, tail)) if *tail == Term::Nil => v.len(),
        _ => return Err(Error(Status::ErrBadArgument)),
    };
    let pcb = crate::process::current().map_err(Error)?;
    let me = pcb.pid;
    let Some(from) = node.pid_term(me) else {
        return Err(Error(Status::ErrNotAProcess));
    };
    let reqid = crate::runtime::runtime_of(pcb).new_ref();
    let mut opts = Vec::new();
    if link {
        opts.push(Term::atom("link"));
    }
    if monitor {
        opts.push(Term::atom("monitor"));
    }
    let opts = Term::list(opts);
    let ctl = Term::tuple(vec![
        Term::Int(op::SPAWN_REQUEST),
        Term::Ref(super::ids::ref_to_ext(&node.me, reqid)),
        from.clone(),
        from,
        super::spawn::mfa(&m, &f, arity),
        opts,
    ]);
    let entry = node.entry(&target);
    let queued = target != node.me.name
        && node.queue(&entry, None, me, &ctl, Some(Payload::data(args)), |s| {
            s.spawns.insert(reqid, (me, link, monitor));
        });
    if !queued {
        let msg = super::etf::to_vec(&Term::tuple(vec![
            Term::atom("spawn_reply"),
            Term::Ref(super::ids::ref_to_ext(&node.me, reqid)),
            Term::atom("error"),
            Term::atom(if target == node.me.name {
                "badarg"
            } else {
                "noconnection"
            }),
        ]));
        crate::process::send(me, &msg)?;
    }
    Ok(reqid)
}

/// `monitor_node(Node, true)`: one `{nodedown, Node}` message (ETF) per call when the
/// connection goes or cannot be made (cases 131, 132); connects if not connected.
/// `monitor_node(Node, false)` (`on` false) removes one. Errors: `ErrNotAProcess`,
/// `ErrNotDistributed`, `ErrBadArgument`, `ErrBadLength`.
pub fn monitor_node(node_name: &str, on: bool) -> Result<()> {
    let _rt = crate::sched::enter();
    let node = running().map_err(Error)?;
    let target = node_atom(node_name).map_err(Error)?;
    let me = crate::process::self_pid();
    let entry = node.entry(&target);
    if on {
        if !node.connect(&entry, |s| s.node_monitors.push(me)) {
            let msg = super::etf::to_vec(&Term::tuple(vec![
                Term::atom("nodedown"),
                Term::Atom(target),
            ]));
            crate::process::send(me, &msg)?;
        }
    } else {
        let mut s = entry.state.lock();
        if let Some(i) = s.node_monitors.iter().position(|&p| p == me) {
            s.node_monitors.remove(i);
        }
    }
    Ok(())
}

/// `erlang:disconnect_node/1`: closes the connection to `node`; links and monitors across
/// it end with `noconnection` (case 134). Returns false when it was not connected.
/// Errors: `ErrNotAProcess`, `ErrNotDistributed`, `ErrBadArgument`, `ErrBadLength`.
pub fn disconnect(node_name: &str) -> Result<bool> {
    let _rt = crate::sched::enter();
    let node = running().map_err(Error)?;
    disconnect_on(&node, node_name).map_err(Error)
}

/// [`disconnect`] on `node`.
pub(crate) fn disconnect_on(node: &Node, node_name: &str) -> std::result::Result<bool, Status> {
    let target = node_atom(node_name)?;
    let Some(entry) = node.entries.read().get(&target).cloned() else {
        return Ok(false);
    };
    let (c, lanes) = controllers(&entry);
    if c.is_none() {
        return Ok(false);
    }
    super::controller::down(node, &entry, c);
    node.poke(c, b"D");
    if let Some(rt) = node.rt.upgrade() {
        for p in std::iter::once(c).chain(lanes) {
            wait_closed(&rt, p);
        }
    }
    Ok(true)
}

/// The controller of `entry`'s connection and those of its further lanes.
fn controllers(entry: &super::node::Entry) -> (Pid, Vec<Pid>) {
    let st = entry.state.lock();
    let lanes = st
        .lanes
        .iter()
        .map(|l| l.controller)
        .filter(|p| !p.is_none())
        .collect();
    (st.controller, lanes)
}

/// Waits (at most 5 s) until the process `c` (a controller, the acceptor) has exited, so
/// its sockets are closed when `disconnect` or `stop` returns: the peer does not take the
/// next connection for the old one (case 138), EPMD has dropped the name.
fn wait_closed(rt: &RtInner, c: Pid) {
    let bound = std::time::Duration::from_secs(5);
    if crate::process::self_pid().is_none() {
        // From a thread that is not a process (a worker cannot block here: `wait` refuses).
        let _ = rt.wait(c, Some(bound));
        return;
    }
    let Ok(mref) = crate::process::monitor(c) else {
        return;
    };
    let down = crate::process::receive_select(Some(bound.as_millis() as u32), |m| {
        m.kind() == crate::MessageKind::Down && m.monitor_ref() == mref
    });
    if down.is_err() {
        let _ = crate::process::demonitor(mref, true);
    }
}

/// The Hive pid of a pid term decoded from a message (`etf::ExtPid`), to send to, link or
/// monitor; None when it cannot be named (see `docs/distribution.md`, "Identity").
/// Errors: `ErrNotAProcess`, `ErrNotDistributed`.
pub fn pid_of(p: &ExtPid) -> Result<Option<Pid>> {
    let _rt = crate::sched::enter();
    let node = running().map_err(Error)?;
    Ok(super::ids::ext_to_pid(&node.me, &node.inc, p))
}

/// The pid term of a Hive pid (local or remote), to put inside a message; None for
/// `Pid::NONE` or a pid of no known node. Errors: `ErrNotAProcess`, `ErrNotDistributed`.
pub fn pid_term(pid: Pid) -> Result<Option<ExtPid>> {
    let _rt = crate::sched::enter();
    let node = running().map_err(Error)?;
    Ok(super::ids::pid_to_ext(&node.me, &node.inc, pid))
}
