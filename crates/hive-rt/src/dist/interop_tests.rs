//! Interoperability tests against real OTP: a private `epmd` and `erl` nodes, started as
//! child processes (killed by drop guards, also on panic). Skipped, with a message, when
//! `erl` or `epmd` is not on `PATH`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::dist::epmd::{self, PortMapper};
use crate::dist::flags::{self, ADVERTISED};
use crate::dist::handshake::{self, Framing, HandshakeError, Local, Verdict};

const COOKIE: &str = "hivecookie";
const TIMEOUT: Duration = Duration::from_secs(10);

fn on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// True when `erl` and `epmd` are installed; otherwise prints why the test is skipped.
fn have_otp() -> bool {
    for tool in ["erl", "epmd"] {
        if on_path(tool).is_none() {
            println!("skipped: {tool} not found");
            return false;
        }
    }
    true
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s.set_write_timeout(Some(TIMEOUT)).unwrap();
    s
}

/// A child process, killed and reaped on drop; its stdout and stderr lines arrive on a
/// channel (and are echoed to the captured test output).
struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Proc {
    fn spawn(mut cmd: Command, tag: &'static str) -> Proc {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let (tx, lines) = mpsc::channel();
        fn pump(r: impl Read + Send + 'static, tx: mpsc::Sender<String>, tag: &'static str) {
            thread::spawn(move || {
                for line in BufReader::new(r).lines().map_while(Result::ok) {
                    println!("[{tag}] {line}");
                    let _ = tx.send(line);
                }
            });
        }
        pump(child.stdout.take().unwrap(), tx.clone(), tag);
        pump(child.stderr.take().unwrap(), tx, tag);
        Proc { child, lines }
    }

    /// Waits up to [`TIMEOUT`] for a line that starts with `prefix`.
    fn wait_line(&self, prefix: &str) -> String {
        let end = Instant::now() + TIMEOUT;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return l,
                Ok(_) => {}
                Err(e) => panic!("no line starting with {prefix:?}: {e}"),
            }
        }
    }

    /// True if a line starting with `prefix` arrives within `within`.
    fn saw_line(&self, prefix: &str, within: Duration) -> bool {
        let end = Instant::now() + within;
        while let Ok(l) = self
            .lines
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            if l.starts_with(prefix) {
                return true;
            }
        }
        false
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private `epmd` on a free loopback port, in the foreground.
fn start_epmd() -> (Proc, u16) {
    let port = free_port();
    let mut cmd = Command::new("epmd");
    cmd.args(["-port", &port.to_string(), "-address", "127.0.0.1"]);
    let p = Proc::spawn(cmd, "epmd");
    let end = Instant::now() + TIMEOUT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < end, "epmd did not start on {port}");
        thread::sleep(Duration::from_millis(20));
    }
    (p, port)
}

/// `erl -sname NAME@localhost -hidden` with cookie `cookie`, using the EPMD on `epmd_port`
/// (never starting one itself), running `eval`.
fn start_erl(name: &str, cookie: &str, epmd_port: u16, eval: &str) -> Proc {
    let mut cmd = Command::new("erl");
    cmd.env("ERL_EPMD_PORT", epmd_port.to_string())
        .args(["-sname", &format!("{name}@localhost")])
        .args(["-setcookie", cookie])
        .args(["-hidden", "-noshell", "-start_epmd", "false"])
        .args(["-kernel", "inet_dist_use_interface", "{127,0,0,1}"])
        .args(["-eval", eval]);
    Proc::spawn(cmd, "erl")
}

/// The peer node: reports `ready`, then every nodeup/nodedown.
const PEER_EVAL: &str = "net_kernel:monitor_nodes(true, [{node_type, all}]), \
    io:format(\"ready ~p~n\", [node()]), \
    Loop = fun L() -> receive \
        {nodeup, N, _} -> io:format(\"nodeup ~p~n\", [N]), L(); \
        {nodedown, N, _} -> io:format(\"nodedown ~p~n\", [N]), L(); \
        _ -> L() end end, \
    Loop().";

/// Polls the EPMD on `epmd_port` until `name` is registered.
fn wait_registered(epmd_port: u16, name: &str) -> epmd::PortInfo {
    let end = Instant::now() + TIMEOUT;
    loop {
        if let Some(info) = epmd::port_please(&mut connect(epmd_port), name).unwrap() {
            return info;
        }
        assert!(Instant::now() < end, "{name} never registered");
        thread::sleep(Duration::from_millis(50));
    }
}

fn accept_timeout(l: &TcpListener) -> TcpStream {
    l.set_nonblocking(true).unwrap();
    let end = Instant::now() + TIMEOUT;
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(TIMEOUT)).unwrap();
                s.set_write_timeout(Some(TIMEOUT)).unwrap();
                return s;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < end, "nobody connected");
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// (a) our client registers with the real epmd and finds the erl node; (b) we initiate to
/// the erl node, the handshake completes, a tick keeps it up; (e) a wrong cookie is refused.
#[test]
fn real_epmd_and_initiate_to_erl() {
    if !have_otp() {
        return;
    }
    let (_epmd, epmd_port) = start_epmd();
    let peer = start_erl("peer", COOKIE, epmd_port, PEER_EVAL);
    assert_eq!(peer.wait_line("ready"), "ready peer@localhost");

    // (a) Register "hs" (no listener needed for this) and look the erl node up.
    let mut reg = connect(epmd_port);
    let creation = epmd::alive2(&mut reg, 1, false, "hs").unwrap();
    assert_ne!(creation, 0);
    let info = wait_registered(epmd_port, "peer");
    assert_eq!(info.highest, 6);
    let listed = epmd::names(&mut connect(epmd_port)).unwrap();
    assert!(listed.contains(&("hs".into(), 1)), "{listed:?}");
    assert!(listed.contains(&("peer".into(), info.port)), "{listed:?}");
    let again = epmd::alive2(&mut connect(epmd_port), 2, false, "hs");
    assert!(
        matches!(again, Err(epmd::EpmdError::Refused(_))),
        "{again:?}"
    );

    // (b) Initiate.
    let me = Local {
        name: "hs@localhost",
        creation,
        flags: ADVERTISED,
        cookie: COOKIE.as_bytes(),
    };
    let mut s = connect(info.port);
    let p = handshake::initiate(&mut s, &me, Framing::Len2, "peer@localhost").unwrap();
    println!("erl flags: {:#x} {}", p.flags, flags::describe(p.flags));
    assert_eq!(p.name, "peer@localhost");
    assert_ne!(p.creation, 0);
    assert_eq!(p.flags & flags::MANDATORY_26, flags::MANDATORY_26);
    assert_eq!(peer.wait_line("nodeup"), "nodeup hs@localhost");
    // A tick (an empty frame) both ways; erl stays connected.
    s.write_all(&[0, 0, 0, 0]).unwrap();
    assert!(!peer.saw_line("nodedown", Duration::from_millis(500)));
    drop(s);
    assert_eq!(peer.wait_line("nodedown"), "nodedown hs@localhost");

    // (e) The wrong cookie: erl closes instead of acknowledging.
    let bad = Local {
        cookie: b"wrongcookie",
        ..me
    };
    let mut s = connect(info.port);
    let r = handshake::initiate(&mut s, &bad, Framing::Len2, "peer@localhost");
    assert!(matches!(r, Err(HandshakeError::BadCookie)), "{r:?}");

    // Unregistering: closing the connection removes "hs".
    drop(reg);
    let end = Instant::now() + TIMEOUT;
    while epmd::port_please(&mut connect(epmd_port), "hs")
        .unwrap()
        .is_some()
    {
        assert!(Instant::now() < end, "hs still registered");
        thread::sleep(Duration::from_millis(20));
    }
}

/// (c) an erl node connects to us and our accept completes; (e) an erl node with the
/// wrong cookie is rejected.
#[test]
fn erl_connects_to_us() {
    if !have_otp() {
        return;
    }
    let (_epmd, epmd_port) = start_epmd();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut reg = connect(epmd_port);
    let creation = epmd::alive2(
        &mut reg,
        listener.local_addr().unwrap().port(),
        false,
        "hs2",
    )
    .unwrap();
    let me = Local {
        name: "hs2@localhost",
        creation,
        flags: ADVERTISED,
        cookie: COOKIE.as_bytes(),
    };
    let dial = "R = net_kernel:connect_node('hs2@localhost'), \
        io:format(\"connect ~p~n\", [R]), timer:sleep(300), halt().";

    for (cookie, ok) in [(COOKIE, true), ("wrongcookie", false)] {
        let dialer = start_erl("dialer", cookie, epmd_port, dial);
        let mut s = accept_timeout(&listener);
        let r = handshake::accept(&mut s, &me, Framing::Len2, |name, c| {
            assert_eq!(name, "dialer@localhost");
            assert_ne!(c, 0);
            Verdict::Ok
        });
        if ok {
            let p = r.unwrap();
            assert_eq!(p.name, "dialer@localhost");
            assert_eq!(p.flags & flags::MANDATORY_26, flags::MANDATORY_26);
            assert_eq!(dialer.wait_line("connect"), "connect true");
        } else {
            assert!(matches!(r, Err(HandshakeError::BadCookie)), "{r:?}");
            drop(s);
            assert_eq!(dialer.wait_line("connect"), "connect false");
        }
        // Let the dialer halt and unregister before the next one takes its name.
        let mut dialer = dialer;
        let _ = dialer.child.wait();
        let end = Instant::now() + TIMEOUT;
        while epmd::port_please(&mut connect(epmd_port), "dialer")
            .unwrap()
            .is_some()
        {
            assert!(Instant::now() < end, "dialer still registered");
            thread::sleep(Duration::from_millis(20));
        }
    }
    drop(reg);
}

/// (d) erl registers with Hive's port mapper and is found there; an erl node behind the
/// port mapper accepts our handshake.
#[test]
fn erl_uses_our_port_mapper() {
    if !have_otp() {
        return;
    }
    let mapper = PortMapper::start("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = mapper.addr().port();
    let node = start_erl("x", COOKIE, port, PEER_EVAL);
    assert_eq!(node.wait_line("ready"), "ready x@localhost");
    let info = wait_registered(port, "x");
    assert_ne!(mapper.creation_of("x").unwrap(), 0);
    let listed = epmd::names(&mut connect(port)).unwrap();
    assert_eq!(listed, vec![("x".into(), info.port)]);

    // Our own registration there, and a handshake with the erl node.
    let mut reg = connect(port);
    let creation = epmd::alive2(&mut reg, 1, false, "hs3").unwrap();
    assert_ne!(creation, mapper.creation_of("x").unwrap());
    let me = Local {
        name: "hs3@localhost",
        creation,
        flags: ADVERTISED,
        cookie: COOKIE.as_bytes(),
    };
    let mut s = connect(info.port);
    handshake::initiate(&mut s, &me, Framing::Len2, "x@localhost").unwrap();
    assert_eq!(node.wait_line("nodeup"), "nodeup hs3@localhost");

    // Killing the node drops its registration.
    drop(node);
    let end = Instant::now() + TIMEOUT;
    while mapper.creation_of("x").is_some() {
        assert!(Instant::now() < end, "x still registered");
        thread::sleep(Duration::from_millis(20));
    }
    drop(reg);
    mapper.stop();
}
