//! Real Erlang/OTP nodes for the distribution tests: a private `epmd` ([`Epmd`]) and `erl`
//! nodes ([`ErlNode`]) that evaluate Erlang expressions sent by the test, one at a time, in
//! one long-lived process per node (bindings and mailbox persist, as in the Erlang shell).
//!
//! Policy ([`require_erl`]): when `erl` or `epmd` is missing, a test that needs them fails
//! with [`NOT_FOUND`]; with `HIVE_SKIP_ERL=1` it prints `skipped: HIVE_SKIP_ERL=1` and
//! returns instead. Start every such test with `if !require_erl() { return; }`.
//!
//! Everything is bound to 127.0.0.1: epmd runs with `-address 127.0.0.1` on a free port (never
//! 4369, so a system epmd and its nodes are left alone), nodes run with
//! `-kernel inet_dist_use_interface {127,0,0,1}`, `-start_epmd false` and `ERL_EPMD_PORT`.
//! Node names are `NAME@localhost`. Nothing is ever killed by name: every process is stopped
//! by its OS pid, in `Drop` at the latest. If the test process itself dies, the nodes see EOF
//! on stdin and halt, and the epmd wrapper kills its epmd (as `dist-check.escript` does).
//!
//! No read from a child waits without bound: every wait has a deadline ([`DEFAULT_TIMEOUT`]
//! unless given), after which the test panics with the tail of the child's output.
//!
//! The Erlang side is `tests/erl/hive_peer.erl` (its header documents the line protocol).

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The environment variable that turns the distribution tests off when set to `1`.
pub(crate) const SKIP_VAR: &str = "HIVE_SKIP_ERL";

/// The failure message of a test that needs `erl` when it is not installed.
pub(crate) const NOT_FOUND: &str = "erl not found: run `make erl-deps` (installs erlang-nox) \
                                    or set HIVE_SKIP_ERL=1 to skip distribution tests";

/// The bound of every wait on a child (node start, one evaluation, epmd start).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The prefix of every protocol line `hive_peer` writes on stdout; other lines are noise.
const MARKER: &str = "@@HIVE_PEER@@";

/// Lines of output kept per child for failure messages.
const TAIL_LINES: usize = 200;

/// The Erlang side of the harness, compiled in memory by every node at start.
const PEER_SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/erl/hive_peer.erl");

/// The full path of `program` if an executable file of that name is on `PATH`.
pub(crate) fn find_on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| {
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// Whether both `erl` and `epmd` are on `PATH`.
pub(crate) fn erl_available() -> bool {
    find_on_path("erl").is_some() && find_on_path("epmd").is_some()
}

/// The policy of [`require_erl`] as a pure function: `skip` is the value of `HIVE_SKIP_ERL`,
/// `available` whether `erl` and `epmd` were found. `Ok(true)`: run the test; `Ok(false)`:
/// skip it (`HIVE_SKIP_ERL=1`, whether or not erl is there); `Err`: fail with [`NOT_FOUND`].
pub(crate) fn erl_policy(skip: Option<&OsStr>, available: bool) -> Result<bool, String> {
    if skip == Some(OsStr::new("1")) {
        Ok(false)
    } else if available {
        Ok(true)
    } else {
        Err(NOT_FOUND.to_string())
    }
}

/// Call first in every test that needs `erl`: `true` = go on; `false` = skip (prints
/// `skipped: HIVE_SKIP_ERL=1`); panics with [`NOT_FOUND`] when erl is missing and the
/// skip variable is not set.
pub(crate) fn require_erl() -> bool {
    match erl_policy(std::env::var_os(SKIP_VAR).as_deref(), erl_available()) {
        Ok(true) => true,
        Ok(false) => {
            println!("skipped: {SKIP_VAR}=1");
            false
        }
        Err(msg) => panic!("{msg}"),
    }
}

/// Whether a process with this OS pid exists (`kill -0`; a zombie counts as existing, but
/// the harness reaps every child it stops).
pub(crate) fn os_pid_alive(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Sends a signal (`"STOP"`, `"CONT"`, `"KILL"`, …) to an OS pid with `kill(1)`; panics if
/// `kill` fails.
fn signal(pid: u32, sig: &str) {
    let st = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .expect("runs kill(1)");
    assert!(st.success(), "kill -{sig} {pid} failed: {st}");
}

/// Locks a mutex even when a panicking test poisoned it (cleanup must still work).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Hex of the bytes, the encoding of expressions and answers on the line protocol.
fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Bytes of a hex string; `None` if it is not hex.
fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Waits up to `timeout` for `child` to exit, polling; its status if it did.
fn wait_child(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let end = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return Some(st),
            Ok(None) if Instant::now() < end => {
                std::thread::sleep(Duration::from_millis(10)) // poll interval; `end` is the bound
            }
            _ => return None,
        }
    }
}

/// The last lines a child wrote (stdout noise and stderr), for failure messages.
#[derive(Clone, Default)]
struct Tail(Arc<Mutex<VecDeque<String>>>);

impl Tail {
    /// Keeps `line`, dropping the oldest beyond [`TAIL_LINES`].
    fn push(&self, line: String) {
        let mut q = lock(&self.0);
        if q.len() == TAIL_LINES {
            q.pop_front();
        }
        q.push_back(line);
    }

    /// The kept lines, one per line.
    fn render(&self) -> String {
        let q = lock(&self.0);
        if q.is_empty() {
            "(no output)".to_string()
        } else {
            q.iter().cloned().collect::<Vec<_>>().join("\n")
        }
    }
}

/// One protocol line of `hive_peer`: `MARKER Id Kind Hex`.
struct Reply {
    /// The request number (0 for `ready`).
    id: u64,
    /// `ready`, `ok` or `err`.
    kind: String,
    /// The decoded text.
    text: String,
}

/// Parses a protocol line; `None` for noise.
fn parse_reply(line: &str) -> Option<Reply> {
    let rest = line.strip_prefix(MARKER)?.strip_prefix(' ')?;
    let mut f = rest.trim_end().splitn(3, ' ');
    let id = f.next()?.parse().ok()?;
    let kind = f.next()?.to_string();
    let text = String::from_utf8_lossy(&hex_decode(f.next().unwrap_or(""))?).into_owned();
    Some(Reply { id, kind, text })
}

/// Reads `from` line by line on a thread of its own until EOF: protocol lines go to
/// `replies` (when given), every other line to `tail`, prefixed with `what`.
fn drain(
    from: impl Read + Send + 'static,
    what: &'static str,
    tail: Tail,
    replies: Option<Sender<Reply>>,
) {
    std::thread::spawn(move || {
        let mut r = BufReader::new(from);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = String::from_utf8_lossy(&buf);
            let line = line.trim_end_matches(['\n', '\r']);
            match (replies.as_ref(), parse_reply(line)) {
                (Some(tx), Some(reply)) => {
                    let _ = tx.send(reply);
                }
                _ => tail.push(format!("{what}: {}", truncate(line, 2000))),
            }
        }
    });
}

/// `s` cut to at most `max` bytes (on a char boundary), marked when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

/// A private epmd on a free loopback port, for the nodes of one test. It runs in the
/// foreground under a small `sh` wrapper that kills it (by the pid it recorded) when the
/// wrapper's stdin closes: in [`Drop`], or when the test process dies.
pub(crate) struct Epmd {
    /// The TCP port epmd listens on (127.0.0.1 only).
    port: u16,
    /// epmd's own OS pid.
    os_pid: u32,
    /// The `sh` wrapper.
    wrapper: Child,
    /// The wrapper's stdin; closing it stops epmd.
    stdin: Option<ChildStdin>,
    /// The wrapper's and epmd's stderr.
    tail: Tail,
}

impl Epmd {
    /// Starts epmd (`epmd -port P -address 127.0.0.1`) on a free port and waits until it
    /// answers a `NAMES_REQ` on that port; tries up to 5 ports. Panics if it cannot.
    pub(crate) fn start() -> Epmd {
        let epmd = find_on_path("epmd").unwrap_or_else(|| panic!("{NOT_FOUND}"));
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            match Epmd::try_start(&epmd, port) {
                Ok(e) => return e,
                Err(why) => last = why,
            }
        }
        panic!("private epmd did not start: {last}");
    }

    /// One attempt of [`Epmd::start`] on `port`.
    fn try_start(epmd: &std::path::Path, port: u16) -> Result<Epmd, String> {
        const SCRIPT: &str = "\"$0\" -port \"$1\" -address 127.0.0.1 </dev/null >/dev/null & \
                              e=$!; echo $e; cat >/dev/null; kill $e 2>/dev/null; wait $e";
        let mut wrapper = Command::new("/bin/sh")
            .arg("-c")
            .arg(SCRIPT)
            .arg(epmd)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run /bin/sh: {e}"))?;
        let tail = Tail::default();
        drain(
            wrapper.stderr.take().expect("piped"),
            "epmd stderr",
            tail.clone(),
            None,
        );
        let (tx, rx) = mpsc::channel();
        let stdout = wrapper.stdout.take().expect("piped");
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut e = Epmd {
            port,
            os_pid: 0,
            stdin: wrapper.stdin.take(),
            wrapper,
            tail,
        };
        // On failure `e` is dropped, which stops the wrapper and its epmd.
        let line = rx
            .recv_timeout(DEFAULT_TIMEOUT)
            .map_err(|_| format!("the epmd wrapper printed no pid; {}", e.tail.render()))?;
        e.os_pid = line
            .trim()
            .parse()
            .map_err(|_| format!("the epmd wrapper printed {line:?}; {}", e.tail.render()))?;
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            if e.try_names().is_some() {
                return Ok(e);
            }
            if Instant::now() >= end {
                return Err(format!(
                    "epmd on port {port} does not answer; {}",
                    e.tail.render()
                ));
            }
            std::thread::sleep(Duration::from_millis(20)); // poll interval; `end` is the bound
        }
    }

    /// The port epmd listens on; nodes get it as `ERL_EPMD_PORT`.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// epmd's OS pid.
    pub(crate) fn os_pid(&self) -> u32 {
        self.os_pid
    }

    /// The names (without `@host`) of the nodes registered now. Panics if epmd does not
    /// answer.
    pub(crate) fn names(&self) -> Vec<String> {
        self.try_names().unwrap_or_else(|| {
            panic!(
                "epmd on port {} does not answer; {}",
                self.port,
                self.tail.render()
            )
        })
    }

    /// Waits up to `timeout` until no node called `name` (without `@host`) is registered;
    /// whether that happened. A node that was killed unregisters when epmd sees its
    /// connection close, which is not instantaneous.
    pub(crate) fn wait_unregistered(&self, name: &str, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        loop {
            if !self.names().iter().any(|n| n == name) {
                return true;
            }
            if Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20)); // poll interval; `end` is the bound
        }
    }

    /// `NAMES_REQ` (ERTS *Distribution Protocol*, EPMD): `None` unless an epmd answers on
    /// our port with our port number.
    fn try_names(&self) -> Option<Vec<String>> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        s.write_all(&[0, 1, 110]).ok()?;
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).ok()?;
        if resp.len() < 4 || u32::from_be_bytes(resp[..4].try_into().ok()?) != u32::from(self.port)
        {
            return None;
        }
        // Lines "name NAME at port PORT".
        Some(
            String::from_utf8_lossy(&resp[4..])
                .lines()
                .filter_map(|l| {
                    l.strip_prefix("name ")?
                        .split(" at port ")
                        .next()
                        .map(str::to_string)
                })
                .collect(),
        )
    }
}

impl Drop for Epmd {
    /// Closes the wrapper's stdin (it kills epmd and reaps it), waits up to 5 s, then
    /// kills both by pid.
    fn drop(&mut self) {
        drop(self.stdin.take());
        if wait_child(&mut self.wrapper, Duration::from_secs(5)).is_none() {
            if self.os_pid != 0 && os_pid_alive(self.os_pid) {
                let _ = Command::new("kill")
                    .args(["-9", &self.os_pid.to_string()])
                    .status();
            }
            let _ = self.wrapper.kill();
            let _ = self.wrapper.wait();
        }
    }
}

/// A free TCP port on 127.0.0.1 (free when asked; [`Epmd::start`] retries if it is taken
/// by the time epmd binds it).
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("binds 127.0.0.1:0")
        .port()
}

/// The request side of a node's line protocol.
struct NodeIo {
    /// The node's stdin; `None` once closed.
    stdin: Option<ChildStdin>,
    /// Protocol lines from the node's stdout.
    replies: Receiver<Reply>,
    /// The next request number (0 is `ready`).
    next_id: u64,
}

/// A real Erlang node, `NAME@localhost`, registered with a private [`Epmd`], that
/// evaluates expressions sent with [`ErlNode::eval`]. Killed in `Drop` if still running.
///
/// Started as
/// `erl -noshell -sname NAME@localhost -setcookie COOKIE -start_epmd false
/// -kernel inet_dist_use_interface {127,0,0,1} -eval <load hive_peer, run it> EXTRA_ARGS…`
/// with `ERL_EPMD_PORT` set: a visible node with OTP's default `net_ticktime`; pass e.g.
/// `-hidden`, `-connect_all false` or `-kernel net_ticktime 4` as extra arguments. The
/// environment's `ERL_FLAGS` (e.g. `+S 1`) applies too.
pub(crate) struct ErlNode {
    /// The full node name, e.g. `peer1@localhost`.
    name: String,
    /// The OS pid of the emulator (`beam.smp`; `erl` execs it).
    os_pid: u32,
    /// The `erl` child process.
    child: Mutex<Child>,
    /// The line protocol; one request at a time.
    io: Mutex<NodeIo>,
    /// The node's stderr and stdout noise.
    tail: Tail,
}

impl ErlNode {
    /// Starts a node named `short_name@localhost` (or `short_name` as is if it contains
    /// `@`) with `cookie` on `epmd`, and waits until `hive_peer` is ready. Up to 3 tries
    /// when the node exits during start (e.g. the name of a node just killed is still
    /// registered). Panics with the node's output if it does not start within
    /// [`DEFAULT_TIMEOUT`]. `extra_args` must not contain `-setcookie` (two cookie flags make
    /// the node ignore both and use `~/.erlang.cookie`).
    pub(crate) fn start(
        epmd: &Epmd,
        short_name: &str,
        cookie: &str,
        extra_args: &[&str],
    ) -> ErlNode {
        assert!(
            !extra_args.contains(&"-setcookie"),
            "pass the cookie as the `cookie` argument, never a second -setcookie"
        );
        let name = if short_name.contains('@') {
            short_name.to_string()
        } else {
            format!("{short_name}@localhost")
        };
        let mut last = String::new();
        let short = name.split('@').next().unwrap_or(&name).to_string();
        for attempt in 0..3 {
            if attempt > 0 {
                // The name of a node that just went may still be registered: wait until
                // epmd has dropped it (bounded: a live node keeps it, and this try fails).
                epmd.wait_unregistered(&short, Duration::from_secs(1));
            }
            match ErlNode::try_start(epmd, &name, cookie, extra_args) {
                Ok(node) => return node,
                Err(why) => last = why,
            }
        }
        panic!("erl node {name} did not start: {last}");
    }

    /// One attempt of [`ErlNode::start`]; `Err` if the node exited before it was ready.
    fn try_start(
        epmd: &Epmd,
        name: &str,
        cookie: &str,
        extra_args: &[&str],
    ) -> Result<ErlNode, String> {
        const BOOT: &str = "case compile:file(os:getenv(\"HIVE_PEER_SRC\"), [binary, return_errors]) of \
                            {ok, M, B} -> {module, M} = code:load_binary(M, \"hive_peer.erl\", B), hive_peer:main(); \
                            E -> io:format(user, \"hive_peer.erl does not compile: ~p~n\", [E]), erlang:halt(3) end.";
        let erl = find_on_path("erl").unwrap_or_else(|| panic!("{NOT_FOUND}"));
        let mut child = Command::new(erl)
            .args([
                "-noshell",
                "-sname",
                name,
                "-setcookie",
                cookie,
                "-start_epmd",
                "false",
            ])
            .args(["-kernel", "inet_dist_use_interface", "{127,0,0,1}"])
            .args(["-eval", BOOT])
            .args(extra_args)
            .env("ERL_EPMD_PORT", epmd.port().to_string())
            .env("HIVE_PEER_SRC", PEER_SRC)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run erl: {e}"))?;
        let tail = Tail::default();
        let (tx, replies) = mpsc::channel();
        drain(
            child.stdout.take().expect("piped"),
            "stdout",
            tail.clone(),
            Some(tx),
        );
        drain(
            child.stderr.take().expect("piped"),
            "stderr",
            tail.clone(),
            None,
        );
        let stdin = child.stdin.take();
        let node = ErlNode {
            name: name.to_string(),
            os_pid: child.id(),
            child: Mutex::new(child),
            io: Mutex::new(NodeIo {
                stdin,
                replies,
                next_id: 1,
            }),
            tail,
        };
        // On an `Err` return `node` is dropped, which kills the child.
        let first = lock(&node.io).replies.recv_timeout(DEFAULT_TIMEOUT);
        let ready = match first {
            Ok(r) if r.id == 0 && r.kind == "ready" => r,
            Ok(r) => panic!("{name}: unexpected first answer {} {}", r.kind, r.text),
            Err(RecvTimeoutError::Disconnected) => {
                let st = wait_child(&mut lock(&node.child), Duration::from_secs(5));
                return Err(format!(
                    "exited ({st:?}) before it was ready; output:\n{}",
                    node.tail.render()
                ));
            }
            Err(RecvTimeoutError::Timeout) => panic!(
                "{name} not ready after {DEFAULT_TIMEOUT:?}; output:\n{}",
                node.tail.render()
            ),
        };
        let (reported, pid) = ready.text.split_once(' ').unwrap_or((&ready.text, ""));
        assert_eq!(reported, name, "the node reports another name");
        // Signals go to the child's pid: it must be the emulator's.
        assert_eq!(
            pid.parse::<u32>().ok(),
            Some(node.os_pid),
            "erl did not exec the emulator"
        );
        Ok(node)
    }

    /// The full node name, e.g. `peer1@localhost`.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The emulator's OS pid.
    pub(crate) fn os_pid(&self) -> u32 {
        self.os_pid
    }

    /// Evaluates `expr` like the Erlang shell, bounded by [`DEFAULT_TIMEOUT`]; see
    /// [`ErlNode::eval_timeout`].
    pub(crate) fn eval(&self, expr: &str) -> Result<String, String> {
        self.eval_timeout(expr, DEFAULT_TIMEOUT.as_millis() as u64)
    }

    /// Evaluates `expr`, one or more dot-terminated expression sequences (the last dot may be
    /// left out; any text, quotes and newlines included), in the node's evaluator process:
    /// bindings and the mailbox persist from one call to the next. `Ok` = the value of the
    /// last sequence printed with `~0tp` on one line (e.g. `pong`, `"abc"`, `<0.90.0>`);
    /// `Err` = `Class:Reason` on one line (`error:badarith`, `throw:x`,
    /// `error:{unbound_var,'X'}`, `error:{parse,…}`), or `evaluator_exited:Reason` when the
    /// evaluator died (during this call or since the last one; a fresh evaluator with no
    /// bindings then takes over). Panics, with the node's output, if no answer comes within
    /// `ms` milliseconds or the node is gone.
    pub(crate) fn eval_timeout(&self, expr: &str, ms: u64) -> Result<String, String> {
        let mut io = lock(&self.io);
        let id = io.next_id;
        io.next_id += 1;
        let line = format!("{id} eval {}\n", hex_encode(expr.as_bytes()));
        let sent = match io.stdin.as_mut() {
            Some(stdin) => stdin
                .write_all(line.as_bytes())
                .and_then(|()| stdin.flush()),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        if let Err(e) = sent {
            panic!(
                "{}: cannot send `{expr}` ({e}); output:\n{}",
                self.name,
                self.tail.render()
            );
        }
        let end = Instant::now() + Duration::from_millis(ms);
        loop {
            match io
                .replies
                .recv_timeout(end.saturating_duration_since(Instant::now()))
            {
                Ok(r) if r.id == id && r.kind == "ok" => return Ok(r.text),
                Ok(r) if r.id == id => return Err(r.text),
                Ok(_) => {} // the answer to an earlier request, or a stray line
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{}: no answer to `{expr}` within {ms} ms; output:\n{}",
                    self.name,
                    self.tail.render()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "{}: the node is gone, no answer to `{expr}`; output:\n{}",
                    self.name,
                    self.tail.render()
                ),
            }
        }
    }

    /// Whether the node's OS process is still running (not exited, not killed).
    pub(crate) fn is_running(&self) -> bool {
        matches!(lock(&self.child).try_wait(), Ok(None))
    }

    /// Waits up to `timeout` for the node to exit by itself (for instance after a peer
    /// made it halt); its exit status if it did. To stop a node, use [`ErlNode::stop`]:
    /// an `eval` of `erlang:halt()` never answers and panics.
    pub(crate) fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        wait_child(&mut lock(&self.child), timeout)
    }

    /// Stops the node gracefully: asks `hive_peer` to `erlang:halt(0)` and waits up to 5 s,
    /// then kills it. Does nothing if it is gone already.
    pub(crate) fn stop(&self) {
        if !self.is_running() {
            return;
        }
        {
            let mut io = lock(&self.io);
            let id = io.next_id;
            io.next_id += 1;
            if let Some(stdin) = io.stdin.as_mut() {
                let _ = stdin.write_all(format!("{id} halt\n").as_bytes());
                let _ = stdin.flush();
            }
        }
        if self.wait_exit(Duration::from_secs(5)).is_none() {
            self.kill();
        }
        lock(&self.io).stdin = None;
    }

    /// Kills the node with SIGKILL (node loss without goodbye: the peers see the
    /// connection close) and reaps it. Does nothing if it is gone already.
    pub(crate) fn kill(&self) {
        let mut child = lock(&self.child);
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
            let _ = child.wait();
        }
        drop(child);
        lock(&self.io).stdin = None;
    }

    /// Freezes the node with SIGSTOP (for tick-timeout tests); evaluations wait until
    /// [`ErlNode::sigcont`]. Returns once the kernel shows the process stopped (a signal
    /// is delivered asynchronously), panicking after [`DEFAULT_TIMEOUT`].
    pub(crate) fn sigstop(&self) {
        signal(self.os_pid, "STOP");
        self.wait_state(|s| s == 'T', "stopped");
    }

    /// Resumes a node frozen by [`ErlNode::sigstop`], once the kernel shows it running.
    pub(crate) fn sigcont(&self) {
        signal(self.os_pid, "CONT");
        self.wait_state(|s| s != 'T', "resumed");
    }

    /// Waits (bounded) until the process's state letter in `/proc/PID/stat` satisfies `ok`.
    fn wait_state(&self, ok: impl Fn(char) -> bool, what: &str) {
        let end = Instant::now() + DEFAULT_TIMEOUT;
        loop {
            let stat =
                std::fs::read_to_string(format!("/proc/{}/stat", self.os_pid)).unwrap_or_default();
            let state = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].trim_start().chars().next());
            if state.is_some_and(&ok) {
                return;
            }
            assert!(
                Instant::now() < end,
                "erl node {} not {what}: {state:?}",
                self.name
            );
            std::thread::yield_now();
        }
    }

    /// The node's last lines of stderr and stdout that were not protocol lines (logger
    /// reports, crash messages), for failure messages.
    pub(crate) fn output_tail(&self) -> String {
        self.tail.render()
    }
}

impl Drop for ErlNode {
    /// Kills the node if it still runs (a stopped node too: SIGKILL ends it).
    fn drop(&mut self) {
        self.kill();
    }
}
