//! A second Hive node in its own OS process, for the Hive ↔ Hive distribution tests
//! (`tests/dist_hive.rs`): [`HivePeer`] re-executes the test binary with
//! `--exact hive_peer_main` and [`NODE_VAR`] set; that test calls [`peer_main`], which
//! starts a Hive runtime as node `NAME@localhost` on the given EPMD port with the given
//! cookie, registers an [`agent`] process as `agent`, prints a ready line on stdout and
//! serves requests from stdin until stdin closes (then the process exits: no orphan when
//! the test process dies).
//!
//! ## The agent and its workers (ETF commands)
//! Every command is a tuple `{Name, ReplyTo, Args…}`; `ReplyTo` is a pid or the atom
//! `none` (no reply). Replies are `{'$r', Name, Value}` sent to `ReplyTo`.
//!
//! Agent (registered `agent`): `{ping, R}` → node name; `{spawn, R, NameOrUndefined}` →
//! the pid of a new [`worker`] (registered under the name if given); `{nodes, R}` →
//! `dist::nodes()` as atoms; `{disconnect, R, Node}` → bool; `{sockets, R}` → open
//! sockets of the runtime; `{ping_node, R, Node}` → `pong` when `{agent, Node}` answers a
//! ping, `pang` on `{nodedown, Node}`; `{burst, R, Node, Name, N, AtMicros}` → `ok` at
//! once, then a new process spins until the Unix time `AtMicros` (µs) and sends
//! `{b, 1..N}` to `{Name, Node}`; `{forward, R, Pid, Cmd}` → `Cmd`, with `R` as its
//! `ReplyTo`, to worker `Pid`; `{wait_exit, R, Pid}` → `{ok, Reason}` once the local
//! `Pid` has finished its exit path (everything it sent while exiting is queued before
//! the reply), in the peer process only; `{stream_send, R, Pid}` → the pid of a new
//! [`super::streams::sender`] to `Pid`; `{stream_recv, R}` → the pid of a new
//! [`super::streams::collector`]; `{procs, R}` → the peer runtime's process count (-1
//! outside the peer process). `spawn_request` of `hive_peer:worker` starts a worker.
//!
//! Worker: a message `{'$w', Cmd}` is a command; every other message, exit signal
//! (trapped) and DOWN is recorded as `{msg, From, Term}`, `{'EXIT', From, Reason}` or
//! `{'DOWN', RefInt, From, Reason}` (`From` = `undefined` for no sender). Commands:
//! `sync` → self; `{die, R, Reason}` (no reply); `{link|unlink|monitor, R, Pid}`;
//! `{demonitor, R, RefInt, Flush}` → bool (whether it was active); `{trap_exit, R, Bool}`
//! → old; `{exit, R, Pid, Reason}`; `{send, R, Pid, Msg}`; `{send_name, R, Node, Name,
//! Msg}`; `{send_seq, R, Pid, N}` (`{seq, 1..N}`); `{send_range, R, Pid, A, B}`
//! (`{seq, Self, K}` for K in A..=B); `{register, R, Name}`;
//! `{monitor_node, R, Node, Bool}`; `{info, R}` → `{Links, [{RefInt, Pid}], MonitoredBy}`;
//! `{await, R, N, TimeoutMs}` → the recorded items (and forgets them) once there are at
//! least `N`, or when the timeout passes.
//!
//! ## Stdin protocol
//! A line `ID HEX` (HEX: an agent command in ETF, with any `ReplyTo`) is sent to the agent
//! by a fresh process of the peer, which replaces `ReplyTo` by itself; the reply comes
//! back as `@@HIVE_NODE@@ ID HEX`. The first line is `@@HIVE_NODE@@ 0 NAME CREATION PORT`.
//! Talking over stdin creates no connection.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use hive_rt::dist::etf::{self, Term};
use hive_rt::dist::{self, Discovery, Options};
use hive_rt::{process, ExitReason, Message, MessageKind, Pid, Runtime};

/// The environment variable that makes [`peer_main`] run a peer node (its short name).
pub(crate) const NODE_VAR: &str = "HIVE_PEER_NODE";
const EPMD_VAR: &str = "HIVE_PEER_EPMD";
const COOKIE_VAR: &str = "HIVE_PEER_COOKIE";
/// TLS distribution for the peer: `DIR:NAME`, the PEM files `DIR/ca.pem`, `DIR/NAME.pem`
/// and `DIR/NAME.key` (`common/tls.rs`).
pub(crate) const TLS_VAR: &str = "HIVE_PEER_TLS";
/// Connections the peer offers a Hive node (`Options::lanes`; the default when unset).
pub(crate) const LANES_VAR: &str = "HIVE_PEER_LANES";
/// With [`PeerNet::Fixed`]: the port the peer listens on, and the one it dials.
const LISTEN_VAR: &str = "HIVE_PEER_LISTEN";
const DIAL_VAR: &str = "HIVE_PEER_DIAL";
/// The peer's tick time, ms ([`TICK_MS`] when unset).
const TICK_VAR: &str = "HIVE_PEER_TICK";
/// The test (in the test binary) whose body is `common::hive_peer::peer_main()`.
pub(crate) const PEER_TEST: &str = "hive_peer_main";
const MARKER: &str = "@@HIVE_NODE@@";
/// Bound of every wait for a reply, ms.
pub(crate) const REPLY_MS: u32 = 20_000;
/// The tick time both sides use, ms.
pub(crate) const TICK_MS: u32 = 4_000;

/// How a peer node finds the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PeerNet {
    /// Registered with the EPMD on this port, listening on any loopback port.
    Epmd(u16),
    /// No EPMD (`Discovery::FixedPort`): listens on 127.0.0.1:`listen` and dials every
    /// node at port `dial` (a fault proxy in front of the other node, `common/fault_proxy.rs`).
    Fixed { listen: u16, dial: u16 },
}

/// The peer's runtime, for `wait_exit`.
static PEER_RT: OnceLock<Runtime> = OnceLock::new();

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------- terms

/// The atom `s`.
pub(crate) fn atom(s: &str) -> Term {
    Term::atom(s)
}

/// The tuple of `v`.
pub(crate) fn tup(v: Vec<Term>) -> Term {
    Term::tuple(v)
}

/// The elements of a proper list term (empty for anything else).
pub(crate) fn items(t: &Term) -> Vec<Term> {
    match t {
        Term::List(v, _) => v.clone(),
        Term::String(b) => b.iter().map(|&c| Term::Int(i64::from(c))).collect(),
        _ => Vec::new(),
    }
}

/// `pid` as a term (`undefined` for none); call from a process of a distributed runtime.
pub(crate) fn pid_t(pid: Pid) -> Term {
    match dist::pid_term(pid).expect("pid_term") {
        Some(p) if !pid.is_none() => Term::Pid(p),
        _ => atom("undefined"),
    }
}

/// The calling process as a term.
pub(crate) fn me_t() -> Term {
    pid_t(process::self_pid())
}

/// The Hive pid of a pid term; panics on anything else.
pub(crate) fn to_pid(t: &Term) -> Pid {
    match t {
        Term::Pid(p) => dist::pid_of(p)
            .expect("pid_of")
            .unwrap_or_else(|| panic!("cannot name {t}")),
        _ => panic!("not a pid: {t}"),
    }
}

/// An exit reason as a term: the standard kinds as atoms, an `Error` reason's ETF bytes
/// as that term (other bytes as a binary).
pub(crate) fn reason_term(r: &ExitReason) -> Term {
    match r {
        ExitReason::Normal => atom("normal"),
        ExitReason::Kill => atom("kill"),
        ExitReason::Killed => atom("killed"),
        ExitReason::Noproc => atom("noproc"),
        ExitReason::Noconnection => atom("noconnection"),
        ExitReason::Shutdown => atom("shutdown"),
        ExitReason::Error(b) => etf::decode(b).unwrap_or_else(|_| Term::Binary(b.to_vec())),
    }
}

/// The exit reason a term stands for (inverse of [`reason_term`]).
pub(crate) fn term_reason(t: &Term) -> ExitReason {
    match t.as_atom() {
        Some("normal") => ExitReason::Normal,
        Some("kill") => ExitReason::Kill,
        Some("killed") => ExitReason::Killed,
        Some("noproc") => ExitReason::Noproc,
        Some("noconnection") => ExitReason::Noconnection,
        Some("shutdown") => ExitReason::Shutdown,
        _ => ExitReason::error(etf::to_vec(t)),
    }
}

/// A reason as Erlang text, e.g. `noconnection`, `{shutdown,boom}`.
pub(crate) fn reason_str(r: &ExitReason) -> String {
    reason_term(r).to_string()
}

fn bool_t(b: bool) -> Term {
    atom(if b { "true" } else { "false" })
}

/// The reply tuple `{'$r', Name, Value}`.
fn reply_t(name: &str, v: Term) -> Vec<u8> {
    etf::to_vec(&tup(vec![atom("$r"), atom(name), v]))
}

fn reply(to: &Term, name: &str, v: Term) {
    if let Term::Pid(_) = to {
        let _ = process::send(to_pid(to), &reply_t(name, v));
    }
}

/// The value of a reply `{'$r', name, V}` in `m`, if it is one.
pub(crate) fn reply_of(m: &Message, name: &str) -> Option<Term> {
    if m.kind() != MessageKind::Data {
        return None;
    }
    let t = etf::decode(m.data()).ok()?;
    match t.as_tuple() {
        Some([r, n, v]) if r.as_atom() == Some("$r") && n.as_atom() == Some(name) => {
            Some(v.clone())
        }
        _ => None,
    }
}

/// Waits (at most [`REPLY_MS`]) for the reply `name` and returns its value; other
/// messages stay in the mailbox.
pub(crate) fn await_reply(name: &str) -> Term {
    let m = process::receive_select(Some(REPLY_MS), |m| reply_of(m, name).is_some())
        .unwrap_or_else(|e| panic!("no reply `{name}` within {REPLY_MS} ms: {e:?}"));
    reply_of(&m, name).expect("a reply")
}

/// Sends agent command `{cmd, self(), args…}` to `{agent, node}` and waits for its reply.
pub(crate) fn agent_call(node: &str, cmd: &str, args: Vec<Term>) -> Term {
    let mut v = vec![atom(cmd), me_t()];
    v.extend(args);
    dist::send_name(node, "agent", &etf::to_vec(&tup(v))).expect("send_name");
    await_reply(cmd)
}

/// Sends worker command `{'$w', {cmd, self(), args…}}` to `w` and waits for its reply.
pub(crate) fn wcall(w: Pid, cmd: &str, args: Vec<Term>) -> Term {
    wsend_as(w, cmd, me_t(), args);
    await_reply(cmd)
}

/// Sends worker command `{'$w', {cmd, none, args…}}` to `w` (no reply).
pub(crate) fn wsend(w: Pid, cmd: &str, args: Vec<Term>) {
    wsend_as(w, cmd, atom("none"), args);
}

fn wsend_as(w: Pid, cmd: &str, r: Term, args: Vec<Term>) {
    let mut v = vec![atom(cmd), r];
    v.extend(args);
    let m = tup(vec![atom("$w"), tup(v)]);
    process::send(w, &etf::to_vec(&m)).expect("send");
}

/// Unix time, µs.
pub(crate) fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Yields until the Unix time `at` (µs).
pub(crate) fn spin_until(at: i64) {
    while now_micros() < at {
        process::yield_now().expect("yield");
    }
}

// ---------------------------------------------------------------- agent and worker

/// Spawns the agent on `rt` and registers it as `agent`.
pub(crate) fn spawn_agent(rt: &Runtime) -> Pid {
    let pid = rt.spawn(agent).expect("spawn agent");
    rt.register(b"agent", pid).expect("register agent");
    pid
}

/// The agent's loop (module docs).
pub(crate) fn agent() {
    loop {
        let m = process::receive(None).expect("receive");
        if m.kind() != MessageKind::Data {
            continue;
        }
        let Ok(t) = etf::decode(m.data()) else {
            continue;
        };
        let Some(v) = t.as_tuple() else { continue };
        let (Some(cmd), Some(r)) = (v.first().and_then(Term::as_atom), v.get(1)) else {
            continue;
        };
        let arg = |i: usize| v.get(i + 2).cloned().unwrap_or(Term::Nil);
        match cmd {
            "ping" => {
                let n = dist::node_name().ok().flatten().unwrap_or_default();
                reply(r, "ping", atom(&n));
            }
            "spawn" => {
                let w = process::spawn(worker).expect("spawn worker");
                if let Some(name) = arg(0).as_atom().filter(|n| *n != "undefined") {
                    process::register(name.as_bytes(), w).expect("register");
                }
                reply(r, "spawn", pid_t(w));
            }
            "nodes" => {
                let ns = dist::nodes().expect("nodes");
                reply(r, "nodes", Term::list(ns.iter().map(|n| atom(n)).collect()));
            }
            "disconnect" => {
                let n = arg(0);
                let b = dist::disconnect(n.as_atom().unwrap_or("")).expect("disconnect");
                reply(r, "disconnect", bool_t(b));
            }
            "sockets" => {
                let n = hive_rt::net::open_sockets().expect("open_sockets");
                reply(r, "sockets", Term::Int(n as i64));
            }
            "procs" => {
                let n = PEER_RT.get().map_or(-1, |rt| rt.process_count() as i64);
                reply(r, "procs", Term::Int(n));
            }
            "ping_node" => {
                let (r, node) = (r.clone(), arg(0));
                process::spawn(move || {
                    let node = node.as_atom().unwrap_or("").to_owned();
                    dist::monitor_node(&node, true).expect("monitor_node");
                    let ping = tup(vec![atom("ping"), me_t()]);
                    dist::send_name(&node, "agent", &etf::to_vec(&ping)).expect("send_name");
                    let m = process::receive_select(Some(REPLY_MS), |m| {
                        reply_of(m, "ping").is_some() || is_nodedown(m)
                    });
                    let v = match m {
                        Ok(m) if reply_of(&m, "ping").is_some() => {
                            dist::monitor_node(&node, false).expect("monitor_node");
                            "pong"
                        }
                        Ok(_) => "pang",
                        Err(_) => "timeout",
                    };
                    reply(&r, "ping_node", atom(v));
                })
                .expect("spawn");
            }
            "burst" => {
                let (node, name, n, at) = (arg(0), arg(1), arg(2), arg(3));
                process::spawn(move || {
                    spin_until(at.as_int().unwrap_or(0));
                    let node = node.as_atom().unwrap_or("");
                    let name = name.as_atom().unwrap_or("");
                    for k in 1..=n.as_int().unwrap_or(0) {
                        let b = etf::to_vec(&tup(vec![atom("b"), Term::Int(k)]));
                        dist::send_name(node, name, &b).expect("send_name");
                    }
                })
                .expect("spawn");
                reply(r, "burst", atom("ok"));
            }
            "forward" => {
                let to = to_pid(&arg(0));
                let inner = arg(1);
                let mut c = inner.as_tuple().map(<[Term]>::to_vec).unwrap_or_default();
                if c.len() >= 2 {
                    c[1] = r.clone();
                }
                let m = tup(vec![atom("$w"), tup(c)]);
                process::send(to, &etf::to_vec(&m)).expect("send");
            }
            "stream_send" => {
                let to = to_pid(&arg(0));
                let p = process::spawn(move || super::streams::sender(to)).expect("spawn");
                reply(r, "stream_send", pid_t(p));
            }
            "stream_recv" => {
                let p = process::spawn(super::streams::collector).expect("spawn");
                reply(r, "stream_recv", pid_t(p));
            }
            "wait_exit" => {
                let (r, p) = (r.clone(), to_pid(&arg(0)));
                process::spawn(move || {
                    let v = match PEER_RT.get() {
                        Some(rt) => {
                            let call = process::blocking_call(move || {
                                let why = rt.wait(p).map(|r| reason_str(&r));
                                why.unwrap_or_else(|e| format!("error {e:?}")).into_bytes()
                            })
                            .expect("blocking_call");
                            let m = process::receive_select(Some(REPLY_MS), |m| {
                                m.kind() == MessageKind::Reply && m.call_ref() == call
                            })
                            .expect("wait reply");
                            tup(vec![atom("ok"), Term::Binary(m.data().to_vec())])
                        }
                        None => atom("unsupported"),
                    };
                    reply(&r, "wait_exit", v);
                })
                .expect("spawn");
            }
            _ => {}
        }
    }
}

/// Whether `m` is a `{nodedown, _}` message.
pub(crate) fn is_nodedown(m: &Message) -> bool {
    m.kind() == MessageKind::Data
        && etf::decode(m.data()).is_ok_and(|t| {
            t.as_tuple().and_then(|v| v.first()).and_then(Term::as_atom) == Some("nodedown")
        })
}

/// What a worker records of a message that is not a command.
fn record(m: &Message) -> Option<Term> {
    let from = pid_t(m.sender());
    Some(match m.kind() {
        MessageKind::Data => {
            let t = etf::decode(m.data()).unwrap_or_else(|_| Term::Binary(m.data().to_vec()));
            tup(vec![atom("msg"), from, t])
        }
        MessageKind::Exit => tup(vec![
            atom("EXIT"),
            from,
            reason_term(&m.reason().expect("reason")),
        ]),
        MessageKind::Down => tup(vec![
            atom("DOWN"),
            Term::Int(m.monitor_ref() as i64),
            from,
            reason_term(&m.reason().expect("reason")),
        ]),
        _ => return None,
    })
}

/// A worker's loop (module docs).
pub(crate) fn worker() {
    let mut got: Vec<Term> = Vec::new();
    let mut waiting: Option<(usize, Term, Instant)> = None;
    loop {
        let timeout = waiting
            .as_ref()
            .map(|(_, _, end)| end.saturating_duration_since(Instant::now()).as_millis() as u32);
        match process::receive(timeout) {
            Ok(m) => {
                let cmd = (m.kind() == MessageKind::Data)
                    .then(|| etf::decode(m.data()).ok())
                    .flatten()
                    .and_then(|t| match t.as_tuple() {
                        Some([w, c]) if w.as_atom() == Some("$w") => Some(c.clone()),
                        _ => None,
                    });
                match cmd {
                    Some(c) => {
                        if !command(&c, &mut waiting) {
                            return;
                        }
                    }
                    None => got.extend(record(&m)),
                }
            }
            Err(_) => {
                if let Some((_, r, _)) = waiting.take() {
                    reply(&r, "await", Term::list(std::mem::take(&mut got)));
                }
            }
        }
        if waiting.as_ref().is_some_and(|(n, _, _)| got.len() >= *n) {
            let (_, r, _) = waiting.take().expect("waiting");
            reply(&r, "await", Term::list(std::mem::take(&mut got)));
        }
    }
}

/// Carries out a worker command; false to end the worker normally.
fn command(c: &Term, waiting: &mut Option<(usize, Term, Instant)>) -> bool {
    let Some(v) = c.as_tuple() else { return true };
    let (Some(cmd), Some(r)) = (v.first().and_then(Term::as_atom), v.get(1)) else {
        return true;
    };
    let arg = |i: usize| v.get(i + 2).cloned().unwrap_or(Term::Nil);
    let ok = |res: hive_rt::status::Result<()>| match res {
        Ok(()) => atom("ok"),
        Err(e) => tup(vec![
            atom("error"),
            Term::Binary(format!("{e:?}").into_bytes()),
        ]),
    };
    match cmd {
        "sync" => reply(r, "sync", me_t()),
        "die" => match term_reason(&arg(0)) {
            ExitReason::Normal => return false,
            why => {
                let _ = process::exit(why);
            }
        },
        "link" => reply(r, "link", ok(process::link(to_pid(&arg(0))))),
        "unlink" => reply(r, "unlink", ok(process::unlink(to_pid(&arg(0))))),
        "monitor" => {
            let m = process::monitor(to_pid(&arg(0))).expect("monitor");
            reply(r, "monitor", Term::Int(m as i64));
        }
        "demonitor" => {
            let mref = arg(0).as_int().unwrap_or(0) as u64;
            let flush = arg(1).as_atom() == Some("true");
            let b = process::demonitor(mref, flush).expect("demonitor");
            reply(r, "demonitor", bool_t(b));
        }
        "trap_exit" => {
            let old = process::trap_exit(arg(0).as_atom() == Some("true")).expect("trap");
            reply(r, "trap_exit", bool_t(old));
        }
        "exit" => {
            let res = process::exit_pid(to_pid(&arg(0)), term_reason(&arg(1)));
            reply(r, "exit", ok(res));
        }
        "send" => {
            let res = process::send(to_pid(&arg(0)), &etf::to_vec(&arg(1)));
            reply(r, "send", ok(res));
        }
        "send_name" => {
            let (node, name) = (arg(0), arg(1));
            let res = dist::send_name(
                node.as_atom().unwrap_or(""),
                name.as_atom().unwrap_or(""),
                &etf::to_vec(&arg(2)),
            );
            reply(r, "send_name", ok(res));
        }
        "send_range" => {
            let (to, me) = (to_pid(&arg(0)), me_t());
            for k in arg(1).as_int().unwrap_or(1)..=arg(2).as_int().unwrap_or(0) {
                let m = etf::to_vec(&tup(vec![atom("seq"), me.clone(), Term::Int(k)]));
                process::send(to, &m).expect("send");
            }
            reply(r, "send_range", atom("ok"));
        }
        "send_seq" => {
            let to = to_pid(&arg(0));
            for k in 1..=arg(1).as_int().unwrap_or(0) {
                let m = etf::to_vec(&tup(vec![atom("seq"), Term::Int(k)]));
                process::send(to, &m).expect("send");
            }
            reply(r, "send_seq", atom("ok"));
        }
        "register" => {
            let n = arg(0);
            let res = process::register(n.as_atom().unwrap_or("").as_bytes(), process::self_pid());
            reply(r, "register", ok(res));
        }
        "monitor_node" => {
            let n = arg(0);
            let on = arg(1).as_atom() == Some("true");
            reply(
                r,
                "monitor_node",
                ok(dist::monitor_node(n.as_atom().unwrap_or(""), on)),
            );
        }
        "info" => {
            let i = process::process_info(process::self_pid())
                .expect("process_info")
                .expect("alive");
            let links = Term::list(i.links.iter().map(|&p| pid_t(p)).collect());
            let mons = Term::list(
                i.monitors
                    .iter()
                    .map(|&(m, p)| tup(vec![Term::Int(m as i64), pid_t(p)]))
                    .collect(),
            );
            let by = Term::list(i.monitored_by.iter().map(|&p| pid_t(p)).collect());
            reply(r, "info", tup(vec![links, mons, by]));
        }
        "await" => {
            let n = arg(0).as_int().unwrap_or(0) as usize;
            let ms = arg(1).as_int().unwrap_or(i64::from(REPLY_MS)) as u64;
            *waiting = Some((n, r.clone(), Instant::now() + Duration::from_millis(ms)));
        }
        _ => {}
    }
    true
}

// ---------------------------------------------------------------- the peer process

/// The body of the peer entry test: returns at once unless [`NODE_VAR`] is set; else runs
/// the peer node until stdin closes, then exits the process.
pub(crate) fn peer_main() {
    let Ok(name) = std::env::var(NODE_VAR) else {
        return;
    };
    let port = |var: &str| -> Option<u16> {
        std::env::var(var)
            .ok()
            .map(|v| v.parse().expect("a port number"))
    };
    let (listen, discovery) = match (port(DIAL_VAR), port(LISTEN_VAR)) {
        (Some(dial), Some(listen)) => (listen, Discovery::FixedPort(dial)),
        _ => (0, Discovery::Epmd(port(EPMD_VAR).expect("epmd port"))),
    };
    let tick_time_ms = std::env::var(TICK_VAR)
        .ok()
        .map_or(TICK_MS, |v| v.parse().expect("a tick time"));
    let cookie = std::env::var(COOKIE_VAR).expect("cookie");
    let rt = PEER_RT.get_or_init(|| super::rt(2));
    let info = rt
        .dist_start(Options {
            name: format!("{name}@localhost"),
            cookie: Some(cookie.into_bytes()),
            listen: SocketAddr::from(([127, 0, 0, 1], listen)),
            discovery,
            start_epmd: false,
            tick_time_ms,
            tls: std::env::var(TLS_VAR).ok().map(|v| {
                let (dir, cert) = v.rsplit_once(':').expect("DIR:NAME");
                let dir = std::path::Path::new(dir);
                dist::TlsOptions::new(
                    dir.join(format!("{cert}.pem")),
                    dir.join(format!("{cert}.key")),
                    dir.join("ca.pem"),
                )
            }),
            lanes: std::env::var(LANES_VAR)
                .ok()
                .map_or(Options::default().lanes, |v| v.parse().expect("lanes")),
            ..Options::default()
        })
        .unwrap_or_else(|e| {
            eprintln!("peer {name}: dist_start failed: {e:?}");
            std::process::exit(3)
        });
    spawn_agent(rt);
    // `spawn_request(Peer, hive_peer, worker, [], Opts)` starts a worker (tests/dist_soak.rs).
    let r = rt.run(|| dist::register_entry("hive_peer", "worker", |_| worker()).expect("entry"));
    assert!(r.is_ok_and(|r| r.is_normal()), "register_entry");
    let out = Mutex::new(std::io::stdout());
    let say = |line: String| {
        let mut o = lock(&out);
        let _ = writeln!(o, "{MARKER} {line}");
        let _ = o.flush();
    };
    say(format!("0 {} {} {}", info.name, info.creation, info.port));
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Some((id, hex)) = line.trim().split_once(' ') else {
            continue;
        };
        let id = id.to_owned();
        let Some(bytes) = hex_decode(hex) else {
            continue;
        };
        let id2 = id.clone();
        let r = rt.run(move || {
            let id = id2;
            let Ok(t) = etf::decode(&bytes) else { return };
            let mut v = t.as_tuple().map(<[Term]>::to_vec).unwrap_or_default();
            if v.len() < 2 {
                return;
            }
            let name = v[0].as_atom().unwrap_or("").to_owned();
            // `forward` replies as the forwarded command.
            let wait_for = if name == "forward" {
                v[3].as_tuple()
                    .and_then(|c| c.first())
                    .and_then(Term::as_atom)
                    .unwrap_or("")
                    .to_owned()
            } else {
                name
            };
            v[1] = me_t();
            process::send_named(b"agent", &etf::to_vec(&tup(v))).expect("agent");
            let m = process::receive_select(Some(REPLY_MS), |m| reply_of(m, &wait_for).is_some())
                .expect("agent reply");
            let mut o = std::io::stdout().lock();
            let _ = writeln!(o, "{MARKER} {id} {}", hex_encode(m.data()));
            let _ = o.flush();
        });
        if !r.as_ref().is_ok_and(ExitReason::is_normal) {
            say(format!(
                "{id} {}",
                hex_encode(&etf::to_vec(&atom("bridge_failed")))
            ));
        }
    }
    // Stdin closed: the test process is done with us (or died).
    std::process::exit(0);
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

// ---------------------------------------------------------------- the test side

struct Io {
    stdin: Option<ChildStdin>,
    replies: Receiver<(u64, String)>,
    next: u64,
}

/// A Hive node in a child process (module docs). Killed and reaped in `Drop`.
pub(crate) struct HivePeer {
    name: String,
    creation: u32,
    os_pid: u32,
    child: Mutex<Child>,
    io: Mutex<Io>,
    tail: Arc<Mutex<VecDeque<String>>>,
}

impl std::fmt::Debug for HivePeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HivePeer({}, os pid {})", self.name, self.os_pid)
    }
}

fn drain_lines(
    from: impl std::io::Read + Send + 'static,
    tail: Arc<Mutex<VecDeque<String>>>,
    tx: Option<mpsc::Sender<(u64, String)>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { return };
            // libtest may have written `test hive_peer_main ... ` before the marker.
            let parsed = line.find(MARKER).and_then(|i| {
                let r = &line[i + MARKER.len()..];
                let (id, rest) = r.trim().split_once(' ')?;
                Some((id.parse::<u64>().ok()?, rest.to_owned()))
            });
            match (&tx, parsed) {
                (Some(tx), Some(p)) => {
                    let _ = tx.send(p);
                }
                _ => {
                    let mut t = lock(&tail);
                    if t.len() == 200 {
                        t.pop_front();
                    }
                    t.push_back(line);
                }
            }
        }
    });
}

impl HivePeer {
    /// Starts node `short@localhost` with `cookie` on the EPMD at `epmd_port` and waits
    /// until it is ready (30 s at most; up to 3 tries when the child exits early, e.g. the
    /// name of a node just killed is still registered).
    pub(crate) fn start(epmd_port: u16, short: &str, cookie: &str) -> HivePeer {
        HivePeer::start_env(epmd_port, short, cookie, &[])
    }

    /// [`HivePeer::start`] with further environment variables for the peer (e.g.
    /// [`TLS_VAR`], [`LANES_VAR`]).
    pub(crate) fn start_env(
        epmd_port: u16,
        short: &str,
        cookie: &str,
        env: &[(&str, String)],
    ) -> HivePeer {
        HivePeer::start_full(PeerNet::Epmd(epmd_port), short, cookie, TICK_MS, env)
    }

    /// As [`HivePeer::start`], finding other nodes as `net` says, with a tick time of
    /// `tick_ms`.
    pub(crate) fn start_net(net: PeerNet, short: &str, cookie: &str, tick_ms: u32) -> HivePeer {
        HivePeer::start_full(net, short, cookie, tick_ms, &[])
    }

    /// [`HivePeer::start_net`] with further environment variables for the peer.
    pub(crate) fn start_full(
        net: PeerNet,
        short: &str,
        cookie: &str,
        tick_ms: u32,
        env: &[(&str, String)],
    ) -> HivePeer {
        let mut last = String::new();
        for attempt in 0..3 {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(300)); // retry backoff, 3 tries bound it
            }
            match HivePeer::try_start(net, short, cookie, tick_ms, env) {
                Ok(p) => return p,
                Err(e) => last = e,
            }
        }
        panic!("hive peer {short} did not start: {last}");
    }

    /// One try of [`HivePeer::start_full`]: `Err` when the child exits before it is ready
    /// (e.g. its name or port is still taken).
    pub(crate) fn try_start(
        net: PeerNet,
        short: &str,
        cookie: &str,
        tick_ms: u32,
        env: &[(&str, String)],
    ) -> Result<HivePeer, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(exe);
        cmd.args(["--exact", PEER_TEST, "--nocapture", "--test-threads=1"])
            .env(NODE_VAR, short)
            .env(COOKIE_VAR, cookie)
            .env(TICK_VAR, tick_ms.to_string())
            .envs(env.iter().map(|(k, v)| (k, v)));
        match net {
            PeerNet::Epmd(p) => cmd.env(EPMD_VAR, p.to_string()),
            PeerNet::Fixed { listen, dial } => cmd
                .env(LISTEN_VAR, listen.to_string())
                .env(DIAL_VAR, dial.to_string()),
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run the test binary: {e}"))?;
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let (tx, replies) = mpsc::channel();
        drain_lines(child.stdout.take().expect("piped"), tail.clone(), Some(tx));
        drain_lines(child.stderr.take().expect("piped"), tail.clone(), None);
        let mut peer = HivePeer {
            name: format!("{short}@localhost"),
            creation: 0,
            os_pid: child.id(),
            io: Mutex::new(Io {
                stdin: child.stdin.take(),
                replies,
                next: 1,
            }),
            child: Mutex::new(child),
            tail,
        };
        let first = lock(&peer.io).replies.recv_timeout(Duration::from_secs(30));
        match first {
            Ok((0, rest)) => {
                let f: Vec<&str> = rest.split(' ').collect();
                assert_eq!(f.first(), Some(&peer.name.as_str()), "{rest}");
                peer.creation = f.get(1).and_then(|c| c.parse().ok()).expect("creation");
                Ok(peer)
            }
            Ok(other) => panic!("{}: unexpected first line {other:?}", peer.name),
            Err(RecvTimeoutError::Disconnected) => {
                let _ = lock(&peer.child).wait();
                Err(format!("exited before ready; output:\n{}", peer.output()))
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!(
                    "{} not ready in 30 s; output:\n{}",
                    peer.name,
                    peer.output()
                )
            }
        }
    }

    /// The full node name, `short@localhost`.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The creation EPMD gave this incarnation.
    pub(crate) fn creation(&self) -> u32 {
        self.creation
    }

    /// The child's OS pid.
    pub(crate) fn os_pid(&self) -> u32 {
        self.os_pid
    }

    /// The child's stderr and stray stdout lines.
    pub(crate) fn output(&self) -> String {
        lock(&self.tail)
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Sends agent command `cmd` (its `ReplyTo` is replaced) over stdin, without any
    /// connection, and returns the reply's value. Blocks the calling thread: from a Hive
    /// process, call it inside `process::blocking`.
    pub(crate) fn call(&self, cmd: &Term) -> Term {
        let mut io = lock(&self.io);
        let id = io.next;
        io.next += 1;
        let line = format!("{id} {}\n", hex_encode(&etf::to_vec(cmd)));
        let sent = match io.stdin.as_mut() {
            Some(s) => s.write_all(line.as_bytes()).and_then(|()| s.flush()),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        if let Err(e) = sent {
            panic!(
                "{}: cannot send {cmd} ({e}); output:\n{}",
                self.name,
                self.output()
            );
        }
        let end = Instant::now() + Duration::from_millis(u64::from(REPLY_MS) + 5_000);
        loop {
            match io
                .replies
                .recv_timeout(end.saturating_duration_since(Instant::now()))
            {
                Ok((i, hex)) if i == id => {
                    let t = hex_decode(&hex)
                        .and_then(|b| etf::decode(&b).ok())
                        .expect("a reply term");
                    return match t.as_tuple() {
                        Some([_, _, v]) => v.clone(),
                        _ => panic!("{}: bad reply {t} to {cmd}", self.name),
                    };
                }
                Ok(_) => {}
                Err(e) => panic!(
                    "{}: no reply to {cmd} ({e:?}); output:\n{}",
                    self.name,
                    self.output()
                ),
            }
        }
    }

    /// The peer's `dist::nodes()`, asked over stdin.
    pub(crate) fn nodes(&self) -> Vec<String> {
        let t = self.call(&tup(vec![atom("nodes"), atom("none")]));
        items(&t)
            .iter()
            .map(|a| a.as_atom().expect("atom").to_owned())
            .collect()
    }

    /// Kills the child with SIGKILL and reaps it (node loss without goodbye).
    pub(crate) fn kill(&self) {
        let mut c = lock(&self.child);
        if matches!(c.try_wait(), Ok(None)) {
            let _ = c.kill();
        }
        let _ = c.wait();
        drop(c);
        lock(&self.io).stdin = None;
    }
}

impl Drop for HivePeer {
    fn drop(&mut self) {
        self.kill();
    }
}
