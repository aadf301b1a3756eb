//! Distribution under network faults (issue 18, part 3), on loopback: a fault-injecting
//! TCP proxy (`common/fault_proxy.rs`) sits between two nodes, which find each other
//! without EPMD (`Discovery::FixedPort`: a node dials the proxy's port, the proxy forwards
//! to the other node's real port). The proxy cuts, stalls and delays the connection while
//! traffic flows, or the peer's OS process is killed; each test then checks that
//!
//! - every link and monitor across the connection ends exactly once with `noconnection`,
//!   on both sides, and every `monitor_node` caller gets exactly one `{nodedown, N}`;
//! - sequence-numbered message streams (`common/streams.rs`), one per sender and receiver,
//!   arrive without duplicates or reordering, with at most one gap, at the fault;
//! - after the next send reconnects, pids still work and new links, monitors and messages
//!   behave as usual; links and monitors of the old connection are not restored (case 140).
//!
//! Hive ↔ Hive tests run the other node in its own OS process (`common/hive_peer.rs`), with
//! a proxy in each direction (each node may connect first). Hive ↔ erl tests run an OTP node
//! whose distribution port is fixed (`-kernel inet_dist_listen_min P inet_dist_listen_max
//! P`); only Hive connects (Hive is in no EPMD, and Erlang's streams use `[noconnect]`).
//!
//! Nothing waits on time for synchronisation: the tests wait for messages, DOWNs, replies
//! and the proxy's counters, each with a bound that only fails the test. Tick times are
//! short where a stall must be detected (`net_ticktime` 2 s) and the default of the other
//! distribution tests (4 s) elsewhere.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::dist::{private_epmd, run_normal, COOKIE};
use common::erl::{Epmd, ErlNode};
use common::fault_proxy::{free_port, Dir, FaultProxy, Stats};
use common::hive_peer::{
    agent_call, atom, is_nodedown, items, me_t, pid_t, reason_str, to_pid, tup, wcall, wsend,
    HivePeer, PeerNet, REPLY_MS,
};
use common::streams::{self, check, Expect, Stream};
use hive_rt::dist::etf::{self, Term};
use hive_rt::dist::{self, Discovery, Options};
use hive_rt::{process, ExitReason, Message, MessageKind, Pid, Runtime};

/// The failure bound of every wait for a message.
const T: Option<u32> = Some(REPLY_MS);
/// The failure bound of every wait on the proxy's counters.
const BOUND: Duration = Duration::from_secs(20);
/// The tick time of tests where no tick timeout must happen, ms (as the other tests').
const TICK: u32 = 4_000;
/// The tick time of tests where a stall must end the connection, ms.
const SHORT_TICK: u32 = 2_000;
/// The setup timeout (`net_setuptime`) of the test's node, ms (the default).
const SETUP: u32 = 7_000;
/// Messages every stream must have delivered before a fault (traffic is flowing).
const WARM: i64 = 200;

/// The entry of the peer node's process: does nothing in a normal test run.
#[test]
fn hive_peer_main() {
    common::hive_peer::peer_main();
}

// ------------------------------------------------------------------ nodes and proxies

/// The test's node `short@localhost`: listens on a free loopback port and dials every node
/// at port `dial` (a proxy), with a connect and handshake timeout of `setup_ms`. Returns it
/// and its listen port.
fn fixed_node(short: &str, dial: u16, tick_ms: u32, setup_ms: u32) -> (Runtime, u16) {
    let mut last = String::new();
    for _ in 0..5 {
        let listen = free_port();
        let rt = common::rt(2);
        match rt.dist_start(Options {
            name: format!("{short}@localhost"),
            cookie: Some(COOKIE.into()),
            listen: SocketAddr::from(([127, 0, 0, 1], listen)),
            discovery: Discovery::FixedPort(dial),
            start_epmd: false,
            tick_time_ms: tick_ms,
            setup_time_ms: setup_ms,
            ..Options::default()
        }) {
            Ok(_) => return (rt, listen),
            Err(e) => {
                last = format!("{e:?}");
                rt.shutdown();
            }
        }
    }
    panic!("node {short} did not start: {last}");
}

/// A placeholder target for a proxy whose target is known only later.
fn nowhere() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 1))
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Starts the Hive peer `short@localhost`, listening on a free port and dialing `dial`;
/// its listen port.
fn start_peer(short: &str, dial: u16, tick_ms: u32) -> (HivePeer, u16) {
    let mut last = String::new();
    for _ in 0..5 {
        let listen = free_port();
        match HivePeer::try_start(PeerNet::Fixed { listen, dial }, short, COOKIE, tick_ms, &[]) {
            Ok(p) => return (p, listen),
            Err(e) => last = e,
        }
    }
    panic!("hive peer {short} did not start: {last}");
}

/// Two Hive nodes with a proxy in each direction: the test's node A dials `ab`, which
/// forwards to the peer B; B dials `ba`, which forwards to A.
struct HiveNet {
    peer: Mutex<Arc<HivePeer>>,
    ab: FaultProxy,
    ba: FaultProxy,
    short: String,
    tick_ms: u32,
}

impl HiveNet {
    /// The test's node `fa<tag>` and the peer `fb<tag>`, both with ticks of `tick_ms`.
    fn start(tag: &str, tick_ms: u32) -> (Runtime, Arc<HiveNet>) {
        HiveNet::start_setup(tag, tick_ms, SETUP)
    }

    /// As [`HiveNet::start`], the test's node with a setup timeout of `setup_ms`.
    fn start_setup(tag: &str, tick_ms: u32, setup_ms: u32) -> (Runtime, Arc<HiveNet>) {
        let ab = FaultProxy::start(nowhere());
        let ba = FaultProxy::start(nowhere());
        let (rt, a_port) = fixed_node(&format!("fa{tag}"), ab.port(), tick_ms, setup_ms);
        ba.set_target(local(a_port));
        let short = format!("fb{tag}");
        let (peer, b_port) = start_peer(&short, ba.port(), tick_ms);
        ab.set_target(local(b_port));
        let net = HiveNet {
            peer: Mutex::new(Arc::new(peer)),
            ab,
            ba,
            short,
            tick_ms,
        };
        (rt, Arc::new(net))
    }

    fn peer(&self) -> Arc<HivePeer> {
        self.peer.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn b(&self) -> String {
        format!("{}@localhost", self.short)
    }

    /// Kills the peer's OS process (SIGKILL) and reaps it; from a process.
    fn kill_peer(&self) {
        let p = self.peer();
        process::blocking(move || p.kill()).unwrap();
    }

    /// Starts the peer again under the same name (a new incarnation), on a new port that
    /// `ab` forwards to; from a process.
    fn restart_peer(&self) -> Arc<HivePeer> {
        let (short, dial, tick) = (self.short.clone(), self.ba.port(), self.tick_ms);
        let (p, port) = process::blocking(move || start_peer(&short, dial, tick)).unwrap();
        self.ab.set_target(local(port));
        let p = Arc::new(p);
        *self.peer.lock().unwrap_or_else(|e| e.into_inner()) = p.clone();
        p
    }

    fn both(&self) -> [&FaultProxy; 2] {
        [&self.ab, &self.ba]
    }

    /// Cuts every connection of both proxies, refusing new ones when `refuse` (both refuse
    /// before either cuts: a node that sees the cut first must not get through the other
    /// proxy); how many.
    fn cut(&self, refuse: bool) -> usize {
        if refuse {
            self.refuse(true);
        }
        self.both().iter().map(|p| p.cut()).sum()
    }

    fn refuse(&self, on: bool) {
        self.both().iter().for_each(|p| p.refuse(on));
    }

    fn stall(&self, dir: Dir) {
        self.both().iter().for_each(|p| p.stall(dir));
    }

    fn stall_for(&self, dir: Dir, d: Duration) {
        self.both().iter().for_each(|p| p.stall_for(dir, d));
    }

    fn resume(&self) {
        self.both().iter().for_each(|p| p.resume());
    }

    fn delay(&self, d: Duration) {
        self.both().iter().for_each(|p| p.delay(d));
    }

    /// The proxy that carries the one live connection (which node dialed depends on who
    /// connected first).
    fn live(&self) -> &FaultProxy {
        let [ab, ba] = self.both();
        match (ab.stats().live, ba.stats().live) {
            (1, 0) => ab,
            (0, 1) => ba,
            other => panic!("not exactly one live connection: {other:?}"),
        }
    }

    /// Connections both proxies have forwarded in all.
    fn accepted(&self) -> u64 {
        self.ab.stats().accepted + self.ba.stats().accepted
    }
}

/// Waits (from a process) until `p`'s counters satisfy `pred`.
fn wait_proxy(p: &FaultProxy, what: &str, pred: impl Fn(&Stats) -> bool) -> Stats {
    let (ok, st) = process::blocking(|| p.wait_for(BOUND, pred)).unwrap();
    assert!(ok, "proxy: not {what} within {BOUND:?}: {st:?}");
    st
}

// ------------------------------------------------------------------ process helpers

/// Spawns a worker on Hive node `node` through its agent.
fn spawn_w(node: &str) -> (Pid, Term) {
    let t = agent_call(node, "spawn", vec![atom("undefined")]);
    (to_pid(&t), t)
}

/// A recorded item `{Kind, …}` of a worker report, as (kind, fields).
fn item(t: &Term) -> (String, Vec<Term>) {
    let v = t.as_tuple().unwrap_or_else(|| panic!("not an item: {t}"));
    (v[0].as_atom().unwrap().to_owned(), v[1..].to_vec())
}

/// A local process that waits forever.
fn hold() {
    loop {
        let _ = process::receive(None);
    }
}

fn node_name() -> String {
    dist::node_name().unwrap().unwrap()
}

/// Whether `m` is `{nodedown, node}`.
fn is_nodedown_of(m: &Message, node: &str) -> bool {
    is_nodedown(m)
        && etf::decode(m.data()).is_ok_and(|t| {
            t.as_tuple().and_then(|v| v.get(1)).and_then(Term::as_atom) == Some(node)
        })
}

/// The `Exit` message from `from`; its reason.
fn expect_exit(from: Pid) -> ExitReason {
    let m = process::receive_select(T, |m| m.kind() == MessageKind::Exit && m.sender() == from)
        .unwrap_or_else(|e| panic!("no EXIT from {from:?}: {e:?}"));
    m.reason().unwrap()
}

/// The DOWN of monitor `mref`: its reason.
fn expect_down(mref: u64) -> ExitReason {
    let m = process::receive_select(T, |m| {
        m.kind() == MessageKind::Down && m.monitor_ref() == mref
    })
    .unwrap_or_else(|e| panic!("no DOWN for {mref}: {e:?}"));
    m.reason().unwrap()
}

/// Asserts that no EXIT, DOWN or `nodedown` is in the mailbox now.
fn no_loss_queued(what: &str) {
    if let Ok(m) = process::receive_select(Some(0), |m| {
        matches!(m.kind(), MessageKind::Exit | MessageKind::Down) || is_nodedown(m)
    }) {
        panic!(
            "{what}: {:?} from {:?} reason {:?} data {:?}",
            m.kind(),
            m.sender(),
            m.reason(),
            etf::decode(m.data()).map(|t| t.to_string())
        );
    }
}

/// What a connection loss must give this process: an EXIT `noconnection` from each of
/// `links`, a DOWN `noconnection` for each of `mons`, and one `{nodedown, node}`; exactly
/// these (checks nothing more is queued once they are all there).
fn expect_loss(node: &str, links: &[Pid], mons: &[(u64, Pid)]) {
    common::dist::expect_loss(node, links, mons, T);
    no_loss_queued("a second signal of the lost connection");
}

/// Sends `probe` until its answer comes back from `node`: the next send connects, and a
/// `monitor_node` watch turns a connection attempt that fails (its messages dropped) into
/// a `nodedown`, upon which the probe is sent again. At most 50 attempts.
fn reach(node: &str, probe: impl Fn(), is_answer: impl Fn(&Message) -> bool) -> Message {
    reach_within(node, REPLY_MS, probe, is_answer)
}

/// [`reach`], each attempt bounded by `bound_ms`.
fn reach_within(
    node: &str,
    bound_ms: u32,
    probe: impl Fn(),
    is_answer: impl Fn(&Message) -> bool,
) -> Message {
    for _ in 0..50 {
        dist::monitor_node(node, true).unwrap();
        probe();
        let m =
            process::receive_select(Some(bound_ms), |m| is_answer(m) || is_nodedown_of(m, node))
                .unwrap_or_else(|e| panic!("neither an answer nor a nodedown from {node}: {e:?}"));
        if is_answer(&m) {
            dist::monitor_node(node, false).unwrap();
            return m;
        }
    }
    panic!("{node} not reached in 50 connection attempts");
}

/// Reaches the Hive node `node` (its agent answers a ping).
fn reach_hive(node: &str) {
    reach_hive_within(node, REPLY_MS);
}

/// [`reach_hive`], each attempt bounded by `bound_ms`.
fn reach_hive_within(node: &str, bound_ms: u32) {
    let n = node.to_owned();
    reach_within(
        node,
        bound_ms,
        || {
            let ping = tup(vec![atom("ping"), me_t()]);
            dist::send_name(&n, "agent", &etf::to_vec(&ping)).unwrap();
        },
        |m| common::hive_peer::reply_of(m, "ping").is_some(),
    );
}

/// A link and a monitor to the remote process `w` behave as usual: its exit `boom` comes
/// as an EXIT and a DOWN with that reason (never `noconnection`). `sync` returns once `w`
/// has handled the link and the monitor; `kill` makes it exit with `boom`.
fn link_monitor_work(w: Pid, sync: impl Fn(), kill: impl Fn()) {
    process::link(w).unwrap();
    let m = process::monitor(w).unwrap();
    sync();
    kill();
    assert_eq!(reason_str(&expect_exit(w)), "boom");
    assert_eq!(reason_str(&expect_down(m)), "boom");
}

/// Stops local or remote `senders` (message `stop`).
fn stop_all(senders: &[Pid]) {
    for s in senders {
        process::send(*s, &etf::to_vec(&atom("stop"))).unwrap();
    }
}

/// Every stream of `report` (exactly `n` of them) is as `e` says.
fn check_all(what: &str, report: &[Stream], n: usize, e: Expect) {
    assert_eq!(report.len(), n, "{what}: {report:?}");
    for s in report {
        check(s, e, WARM);
    }
}

// ------------------------------------------------------------------ Hive peer side

/// The peer's worker `wt` reports (asked over stdin, so with or without a connection)
/// once it has recorded `n` items: each as `Kind Reason` (`msg Term` for a message),
/// sorted.
fn peer_records(peer: &Arc<HivePeer>, wt: &Term, n: i64) -> Vec<String> {
    let cmd = tup(vec![
        atom("forward"),
        atom("none"),
        wt.clone(),
        tup(vec![
            atom("await"),
            atom("none"),
            Term::Int(n),
            Term::Int(i64::from(REPLY_MS)),
        ]),
    ]);
    let p = peer.clone();
    let got = process::blocking(move || p.call(&cmd)).unwrap();
    let mut v: Vec<String> = items(&got)
        .iter()
        .map(|t| {
            let (k, f) = item(t);
            format!("{k} {}", f[f.len() - 1])
        })
        .collect();
    v.sort();
    v
}

/// What crosses the connection in the Hive ↔ Hive tests, set up from the test node A:
/// A's test process `S` (trapping) links to `links` and monitors `mons` (workers on B);
/// `x`, a non-trapping local process linked to a worker on B, is monitored by `S`;
/// `watchers` on B trap, link to `S` and monitor it, and the first also watches node A;
/// `S` watches node B. The streams: `a_send` on A to the collector `b_coll` on B, and
/// `b_send` on B to `a_coll` on A.
struct Crossing {
    links: Vec<Pid>,
    mons: Vec<(u64, Pid)>,
    x: (Pid, u64),
    watchers: Vec<Term>,
    a_send: Vec<Pid>,
    b_send: Vec<Pid>,
    a_coll: Pid,
    b_coll: Pid,
}

impl Crossing {
    /// Sets it all up (from `S`), and waits until every stream has delivered [`WARM`]
    /// messages.
    fn setup(b: &str, n_links: usize, n_mons: usize, n_streams: usize) -> Crossing {
        let me = process::self_pid();
        let a = node_name();
        process::trap_exit(true).unwrap();
        let links: Vec<Pid> = (0..n_links).map(|_| spawn_w(b).0).collect();
        for &w in &links {
            process::link(w).unwrap();
        }
        let mons: Vec<(u64, Pid)> = (0..n_mons)
            .map(|_| {
                let w = spawn_w(b).0;
                (process::monitor(w).unwrap(), w)
            })
            .collect();
        let (wx, wxt) = spawn_w(b);
        let x = process::spawn_monitor(move || {
            process::link(to_pid(&wxt)).unwrap();
            process::send(me, b"linked").unwrap();
            hold();
        })
        .unwrap();
        process::receive_match(T, |_, d| d == b"linked").unwrap();
        let watchers: Vec<Term> = (0..2)
            .map(|i| {
                let (w, wt) = spawn_w(b);
                wcall(w, "trap_exit", vec![atom("true")]);
                assert_eq!(wcall(w, "link", vec![me_t()]).as_atom(), Some("ok"));
                wcall(w, "monitor", vec![me_t()]);
                if i == 0 {
                    let on = vec![atom(&a), atom("true")];
                    assert_eq!(wcall(w, "monitor_node", on).as_atom(), Some("ok"));
                }
                wt
            })
            .collect();
        dist::monitor_node(b, true).unwrap();
        // Every worker has handled what was sent to it before (links, monitors).
        for &w in links.iter().chain(mons.iter().map(|(_, w)| w)).chain([&wx]) {
            wcall(w, "sync", vec![]);
        }
        let b_coll = to_pid(&agent_call(b, "stream_recv", vec![]));
        let a_coll = process::spawn(streams::collector).unwrap();
        let a_send: Vec<Pid> = (0..n_streams)
            .map(|_| process::spawn(move || streams::sender(b_coll)).unwrap())
            .collect();
        let b_send: Vec<Pid> = (0..n_streams)
            .map(|_| to_pid(&agent_call(b, "stream_send", vec![pid_t(a_coll)])))
            .collect();
        let c = Crossing {
            links,
            mons,
            x,
            watchers,
            a_send,
            b_send,
            a_coll,
            b_coll,
        };
        c.warm(n_streams);
        c
    }

    /// Waits until every stream has delivered [`WARM`] messages.
    fn warm(&self, n: usize) {
        check_all(
            "A→B",
            &streams::report(self.b_coll, n, Some(WARM), 10_000),
            n,
            Expect::Prefix,
        );
        check_all(
            "B→A",
            &streams::report(self.a_coll, n, Some(WARM), 10_000),
            n,
            Expect::Prefix,
        );
    }

    /// A's side of a loss: exactly once each (`x` dies of `noconnection`).
    fn expect_loss(&self, b: &str) {
        let mut links = self.links.clone();
        links.extend(self.watchers.iter().map(to_pid));
        let mut mons = self.mons.clone();
        mons.push((self.x.1, self.x.0));
        expect_loss(b, &links, &mons);
    }

    /// B's side of a loss (asked over stdin): each watcher got one EXIT and one DOWN
    /// `noconnection` from `S`, the first one `{nodedown, A}` too; exactly these.
    fn expect_peer_loss(&self, peer: &Arc<HivePeer>) {
        let a = node_name();
        for (i, wt) in self.watchers.iter().enumerate() {
            let mut want = vec![
                "DOWN noconnection".to_owned(),
                "EXIT noconnection".to_owned(),
            ];
            if i == 0 {
                want.push(format!("msg {{nodedown,{a}}}"));
            }
            want.sort();
            let n = want.len() as i64;
            assert_eq!(peer_records(peer, wt, n), want, "watcher {i} on the peer");
        }
    }

    /// After the reconnect: nothing more reached B's watchers (asked over the new
    /// connection), the old pids still work and nothing of the old connection was
    /// restored (case 140); a new link and monitor work; the streams are stopped and each
    /// shows `e`.
    fn after_reconnect(&self, b: &str, e: Expect) {
        for wt in &self.watchers {
            let got = items(&wcall(
                to_pid(wt),
                "await",
                vec![Term::Int(0), Term::Int(0)],
            ));
            assert!(got.is_empty(), "a watcher got more after the loss: {got:?}");
        }
        // The monitored workers live on (the linked ones died of `noconnection` over there).
        for &(_, w) in &self.mons {
            assert_eq!(to_pid(&wcall(w, "sync", vec![])), w);
        }
        let info = process::process_info(process::self_pid()).unwrap().unwrap();
        assert!(
            info.links.iter().all(|p| p.node() == 0),
            "a link across was restored: {:?}",
            info.links
        );
        assert!(
            info.monitors.iter().all(|(_, p)| p.node() == 0),
            "a monitor across was restored: {:?}",
            info.monitors
        );
        let (w, _) = spawn_w(b);
        link_monitor_work(
            w,
            || {
                wcall(w, "sync", vec![]);
            },
            || wsend(w, "die", vec![atom("boom")]),
        );
        stop_all(&self.a_send);
        stop_all(&self.b_send);
        let n = self.a_send.len();
        check_all("A→B", &streams::report(self.b_coll, n, None, 10_000), n, e);
        check_all("B→A", &streams::report(self.a_coll, n, None, 10_000), n, e);
        no_loss_queued("after the reconnect");
    }
}

// ------------------------------------------------------------------ Hive ↔ Hive

/// Cut during traffic (Hive ↔ Hive, cases 132, 134–136, 138, 140): the proxy closes the
/// connection while streams flow both ways and refuses new connections for a while.
/// Every link (made from either side) and monitor across ends exactly once with
/// `noconnection` on both sides, a non-trapping linked process dies of it, each
/// `monitor_node` gives one `nodedown`. While refused, the node is unreachable: a
/// `monitor_node` gives one `nodedown`, a monitor of `{agent, B}` a DOWN `noconnection`
/// (case 132). Then the next send reconnects: the streams have at most one gap each and
/// run on to their end, old pids work, nothing is restored, new links work.
#[test]
fn hive_cut_during_traffic_exactly_once_then_reconnect() {
    let (rt, net) = HiveNet::start("cut", TICK);
    let n2 = net.clone();
    run_normal(&rt, move || {
        let net = n2;
        let b = net.b();
        let c = Crossing::setup(&b, 3, 3, 2);
        assert_eq!(net.cut(true), 1, "one connection to cut");
        c.expect_loss(&b);
        c.expect_peer_loss(&net.peer());
        // Unreachable while refused (the senders' attempts are refused too).
        dist::monitor_node(&b, true).unwrap();
        process::receive_select(T, |m| is_nodedown_of(m, &b)).expect("nodedown");
        let m = dist::monitor_name(&b, "agent").unwrap();
        assert_eq!(reason_str(&expect_down(m)), "noconnection");
        no_loss_queued("a second signal while unreachable");
        net.refuse(false);
        reach_hive(&b);
        c.after_reconnect(&b, Expect::OneGap);
    });
    rt.shutdown();
}

/// A stall longer than `net_ticktime` (Hive ↔ Hive, case 137): both directions stop while
/// every socket stays open; each node drops the other after its tick time
/// (`net_tick_timeout`), with the same exactly-once ends on both sides. Once the proxy
/// forwards again the next send reconnects, as after a cut.
#[test]
fn hive_stall_beyond_ticktime_drops_connection_once() {
    let (rt, net) = HiveNet::start("stl", SHORT_TICK);
    let n2 = net.clone();
    run_normal(&rt, move || {
        let net = n2;
        let b = net.b();
        let c = Crossing::setup(&b, 2, 2, 2);
        let live = net.live();
        net.stall(Dir::Both);
        let t0 = std::time::Instant::now();
        c.expect_loss(&b);
        let took = t0.elapsed();
        c.expect_peer_loss(&net.peer());
        let st = live.stats();
        assert_eq!(st.cut, 0, "{st:?}");
        assert!(
            st.held[0] > 0 && st.held[1] > 0,
            "the stall held nothing: {st:?}"
        );
        // Dropped by ticks: not before the tick time (no cut, nothing closed).
        assert!(
            took >= Duration::from_millis(u64::from(SHORT_TICK) / 2),
            "dropped after {took:?}"
        );
        // The stale connection (and attempts stuck behind the stall) go; then forward.
        net.cut(false);
        net.resume();
        reach_hive(&b);
        c.after_reconnect(&b, Expect::OneGap);
    });
    rt.shutdown();
}

/// A stall shorter than `net_ticktime` (Hive ↔ Hive): both directions stop for 1.5 s (a
/// tick time is 4 s) while streams flow; the connection stays (no reconnect, no
/// `noconnection`, no `nodedown`), and every stream arrives complete and in order.
#[test]
fn hive_stall_within_ticktime_loses_nothing() {
    let (rt, net) = HiveNet::start("sst", TICK);
    let n2 = net.clone();
    run_normal(&rt, move || {
        let net = n2;
        let b = net.b();
        let c = Crossing::setup(&b, 1, 1, 2);
        let live = net.live();
        net.stall_for(Dir::Both, Duration::from_millis(1_500));
        let st = wait_proxy(live, "holding both directions", |s| {
            s.held[0] > 0 && s.held[1] > 0
        });
        assert_eq!(st.cut, 0);
        let ok = process::blocking(|| live.wait_unstalled(BOUND)).unwrap();
        assert!(ok, "the stall did not end");
        let before = live.stats().bytes;
        c.warm(2);
        stop_all(&c.a_send);
        stop_all(&c.b_send);
        check_all(
            "A→B",
            &streams::report(c.b_coll, 2, None, 10_000),
            2,
            Expect::Complete,
        );
        check_all(
            "B→A",
            &streams::report(c.a_coll, 2, None, 10_000),
            2,
            Expect::Complete,
        );
        let after = live.stats();
        assert!(
            after.bytes[0] > before[0] && after.bytes[1] > before[1],
            "{after:?}"
        );
        assert_eq!(net.accepted(), 1, "the connection was set up again");
        // The link and the monitor of before the stall still work.
        let w = c.links[0];
        wsend(w, "die", vec![atom("boom")]);
        assert_eq!(reason_str(&expect_exit(w)), "boom");
        let (m, wm) = c.mons[0];
        wsend(wm, "die", vec![atom("boom")]);
        assert_eq!(reason_str(&expect_down(m)), "boom");
        no_loss_queued("after a short stall");
    });
    rt.shutdown();
}

/// Delay (Hive ↔ Hive): every chunk waits 3 ms in the proxy, from the handshake on;
/// everything arrives, in order, on one connection; links and monitors work.
#[test]
fn hive_delay_everything_in_order() {
    let (rt, net) = HiveNet::start("dly", TICK);
    net.delay(Duration::from_millis(3));
    let n2 = net.clone();
    run_normal(&rt, move || {
        let net = n2;
        let b = net.b();
        let c = Crossing::setup(&b, 1, 1, 2);
        // Well past the warm-up, through the delay.
        let more = |coll: Pid| {
            let s = streams::report(coll, 2, Some(0), 1_000);
            let k = s.iter().map(|s| s.count).max().unwrap_or(0) + 500;
            streams::report(coll, 2, Some(k), 20_000);
        };
        more(c.b_coll);
        more(c.a_coll);
        stop_all(&c.a_send);
        stop_all(&c.b_send);
        check_all(
            "A→B",
            &streams::report(c.b_coll, 2, None, 20_000),
            2,
            Expect::Complete,
        );
        check_all(
            "B→A",
            &streams::report(c.a_coll, 2, None, 20_000),
            2,
            Expect::Complete,
        );
        assert_eq!(net.accepted(), 1, "the connection was set up again");
        let (w, _) = spawn_w(&b);
        link_monitor_work(
            w,
            || {
                wcall(w, "sync", vec![]);
            },
            || wsend(w, "die", vec![atom("boom")]),
        );
        no_loss_queued("with a delay");
    });
    rt.shutdown();
}

/// `kill -9` of the peer's OS process during traffic (Hive ↔ Hive, cases 136, 141, 142):
/// exactly one `noconnection` per link and monitor and one `nodedown`; the streams from
/// the dead node are an in-order prefix. While it is down, a monitor and a link of its old
/// pids give `noconnection` (case 142). Restarted under the same name, the peer is a new
/// incarnation (new creation) reached by the next send; its old pids are not its new ones:
/// a send to an old pid is dropped (even one with the numbers of a live new process), a
/// monitor or link of one gives `noproc` (case 141); new links, monitors and streams work.
#[test]
fn hive_kill9_during_traffic_then_restart() {
    let (rt, net) = HiveNet::start("k9", TICK);
    let n2 = net.clone();
    run_normal(&rt, move || {
        let net = n2;
        let b = net.b();
        let c1 = net.peer().creation();
        let c = Crossing::setup(&b, 2, 2, 2);
        let old = c.links[0];
        let old_t = pid_t(old);
        net.kill_peer();
        c.expect_loss(&b);
        stop_all(&c.a_send);
        check_all(
            "B→A",
            &streams::report(c.a_coll, 2, Some(1), 1_000),
            2,
            Expect::Prefix,
        );
        // Case 142: the node is gone.
        let m = process::monitor(old).unwrap();
        assert_eq!(reason_str(&expect_down(m)), "noconnection");
        process::link(old).unwrap();
        assert_eq!(reason_str(&expect_exit(old)), "noconnection");
        no_loss_queued("a second signal of the dead node");
        // A new incarnation.
        let peer = net.restart_peer();
        assert_ne!(peer.creation(), c1, "a restarted node has a new creation");
        reach_hive(&b);
        let me = process::self_pid();
        let (w, wt) = spawn_w(&b);
        assert_eq!(
            dist::pid_term(w).unwrap().unwrap().creation,
            peer.creation()
        );
        // The numbers of a live new process with the old creation: another pid.
        let stale = match &wt {
            Term::Pid(p) => to_pid(&Term::Pid(hive_rt::dist::etf::ExtPid {
                creation: c1,
                ..p.clone()
            })),
            _ => unreachable!(),
        };
        assert_ne!(stale, w);
        assert_ne!(old, w);
        assert_eq!(to_pid(&old_t), old);
        process::send(stale, &etf::to_vec(&atom("to_old_numbers"))).unwrap();
        process::send(old, &etf::to_vec(&atom("to_old_pid"))).unwrap();
        process::send(w, &etf::to_vec(&atom("to_new"))).unwrap();
        let got = items(&wcall(w, "await", vec![Term::Int(1), Term::Int(10_000)]));
        assert_eq!(got.len(), 1, "{got:?}");
        let (_, f) = item(&got[0]);
        assert_eq!((to_pid(&f[0]), &f[1]), (me, &atom("to_new")));
        let got = items(&wcall(w, "await", vec![Term::Int(0), Term::Int(0)]));
        assert!(
            got.is_empty(),
            "an old pid reached the new incarnation: {got:?}"
        );
        // Case 141: monitor and link of old pids give `noproc`.
        for p in [old, stale] {
            let m = process::monitor(p).unwrap();
            assert_eq!(reason_str(&expect_down(m)), "noproc");
            process::link(p).unwrap();
            assert_eq!(reason_str(&expect_exit(p)), "noproc");
        }
        link_monitor_work(
            w,
            || {
                wcall(w, "sync", vec![]);
            },
            || wsend(w, "die", vec![atom("boom")]),
        );
        // Streams to and from the new incarnation.
        let b_coll = to_pid(&agent_call(&b, "stream_recv", vec![]));
        let a_coll = process::spawn(streams::collector).unwrap();
        let a_send = process::spawn(move || streams::sender(b_coll)).unwrap();
        let b_send = to_pid(&agent_call(&b, "stream_send", vec![pid_t(a_coll)]));
        streams::report(b_coll, 1, Some(WARM), 10_000);
        streams::report(a_coll, 1, Some(WARM), 10_000);
        stop_all(&[a_send, b_send]);
        check_all(
            "A→B'",
            &streams::report(b_coll, 1, None, 10_000),
            1,
            Expect::Complete,
        );
        check_all(
            "B'→A",
            &streams::report(a_coll, 1, None, 10_000),
            1,
            Expect::Complete,
        );
        no_loss_queued("after the restart");
    });
    rt.shutdown();
}

/// A simultaneous connect whose winning attempt then fails (Hive ↔ Hive, case 144). B (the
/// greater name) starts connecting to A, but what it writes is stalled, so its attempt
/// stays pending; A's own attempt reaches B and is answered `nok` (B's attempt wins, as in
/// `dist_util`). Then B's attempt is cut, and the proxy refuses B's further connections.
/// A must not wait forever for the connection B promised: on the BEAM the refused
/// initiator waits for the other side's connection at most `net_setuptime`, then its
/// attempt fails (`nodedown` to `monitor_node` callers, queued messages dropped) and the
/// next send connects anew. So within a few setup times (A's is 1 s here) A reaches B.
///
/// (Found by this test: `connect_role` used to return at once on `nok`, leaving A's entry
/// `Pending` for good when B's attempt failed; it now waits the setup time for B's
/// connection, then fails the attempt.)
#[test]
fn hive_simultaneous_connect_winner_fails_loser_reconnects() {
    const SETUP_MS: u32 = 1_000;
    let (rt, net) = HiveNet::start_setup("sim", TICK, SETUP_MS);
    let n2 = net.clone();
    run_normal(&rt, move || {
        let net = n2;
        let (a, b) = (node_name(), net.b());
        assert!(b > a, "B must win the simultaneous connect");
        // B's attempt: the proxy accepts it and holds its first handshake message.
        net.ba.stall(Dir::ToTarget);
        let burst = tup(vec![
            atom("burst"),
            atom("none"),
            atom(&a),
            atom("nobody"),
            Term::Int(1),
            Term::Int(0),
        ]);
        let p = net.peer();
        let ok = process::blocking(move || p.call(&burst)).unwrap();
        assert_eq!(ok.as_atom(), Some("ok"));
        wait_proxy(&net.ba, "holding B's handshake", |s| {
            s.accepted == 1 && s.held[0] >= 1
        });
        // A's attempt meets B's pending one and gets `nok`: its connection ends.
        let ping = tup(vec![atom("ping"), me_t()]);
        dist::send_name(&b, "agent", &etf::to_vec(&ping)).unwrap();
        wait_proxy(&net.ab, "A's attempt refused", |s| {
            s.accepted == 1 && s.live == 0
        });
        // B's attempt fails too; B does not try again.
        assert_eq!(net.ba.cut_and_refuse(), 1);
        net.ba.resume();
        // A connects by itself: each try is answered, or ends in a `nodedown`, within a
        // few setup times.
        let ab = &net.ab;
        let tried = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            reach_hive_within(&b, 5 * SETUP_MS)
        }));
        if tried.is_err() {
            panic!(
                "A is stuck after `nok`: no answer and no nodedown in {} ms; connections \
                 A made through its proxy: {} (1 = none since the `nok`); dist::nodes() = \
                 {:?}",
                5 * SETUP_MS,
                ab.stats().accepted,
                dist::nodes().unwrap()
            );
        }
        assert_eq!(dist::nodes().unwrap(), vec![b.clone()]);
        no_loss_queued("after the simultaneous connect");
    });
    rt.shutdown();
}

// ------------------------------------------------------------------ Hive ↔ erl

/// Erlang code run once on the erl node: `srv` answers `{target, F}` with `{target, P}` (a
/// process that answers `{sync, F}` with `{synced, self()}` and exits `R` on `{die, R}`),
/// `{collector, F}` and `{sender, To, F}` with the pid of a stream collector or sender
/// (`common/streams.rs`; the sender uses `[noconnect]`, so the erl node never connects to
/// Hive), and `{watcher, Name, F}` by registering `Name` as a process that traps, links to
/// `F`, monitors it and watches its node, then tells `F` `{watching, self()}`; `GetF(Name,
/// N)` gives what watcher `Name` recorded, sorted, once it has `N` items.
const ERL_SETUP: &str = r#"
TargetF = fun TL() -> receive
    {sync, F} -> F ! {synced, self()}, TL();
    {die, R} -> exit(R)
  end end,
SendF = fun SL(To, I) ->
    [erlang:send(To, {seq, self(), K}, [noconnect]) || K <- lists:seq(I, I + 4)],
    receive stop ->
        erlang:send(To, {seq, self(), I + 5}, [noconnect]),
        erlang:send(To, {fin, self(), I + 5}, [noconnect]), ok
    after 1 -> SL(To, I + 5) end end,
RecF = fun(From, I, M) ->
    {Runs, Bad, Fin, N} = maps:get(From, M, {[], [], undefined, 0}),
    {Runs2, Bad2} = if
        Fin =/= undefined -> {Runs, [{-1, I} | Bad]};
        Runs =:= [] -> {[{I, I}], Bad};
        true ->
            [{S0, E0} | T0] = Runs,
            if I =:= E0 + 1 -> {[{S0, I} | T0], Bad};
               I > E0 + 1 -> {[{I, I} | Runs], Bad};
               true -> {Runs, [{E0, I} | Bad]}
            end
    end,
    M#{From => {Runs2, Bad2, Fin, N + 1}} end,
ReportF = fun(M) -> [{P, Fin, lists:reverse(Runs), lists:reverse(Bad), N}
                     || {P, {Runs, Bad, Fin, N}} <- maps:to_list(M)] end,
ReadyF = fun(M, NS, fin) -> length([x || {_, {_, _, F, _}} <- maps:to_list(M), F =/= undefined]) >= NS;
            (M, NS, K) -> length([x || {_, {_, _, _, C}} <- maps:to_list(M), C >= K]) >= NS end,
CollF = fun CL(M0, W0) ->
    Tmo = case W0 of none -> infinity; {_, _, _, End0} -> max(0, End0 - erlang:monotonic_time(millisecond)) end,
    {M, W, TimedOut} = receive
        {seq, From, I} -> {RecF(From, I, M0), W0, false};
        {fin, From, Last} ->
            {Rs, Bs, _, Ns} = maps:get(From, M0, {[], [], undefined, 0}),
            {M0#{From => {Rs, Bs, Last, Ns}}, W0, false};
        {report, R, NS, Cond, Ms} -> {M0, {R, NS, Cond, erlang:monotonic_time(millisecond) + Ms}, false}
      after Tmo -> {M0, W0, true}
    end,
    case W of
        none -> CL(M, none);
        {R1, NS1, C1, _} ->
            case TimedOut orelse ReadyF(M, NS1, C1) of
                true -> R1 ! {'$r', report, ReportF(M)}, CL(M, none);
                false -> CL(M, W)
            end
    end end,
WatchF = fun(S) ->
    process_flag(trap_exit, true), link(S), MR = monitor(process, S),
    true = monitor_node(node(S), true),
    S ! {watching, self()},
    Loop = fun WL(Acc) -> receive
        {'EXIT', S, R} -> WL([{exit, R} | Acc]);
        {'DOWN', MR, process, _, R} -> WL([{down, R} | Acc]);
        {nodedown, N} -> WL([{nodedown, N} | Acc]);
        {get, F, Min} when length(Acc) >= Min -> F ! {got, lists:sort(Acc)}, WL(Acc)
      end end,
    Loop([]) end,
GetF = fun(Name, Min) -> Name ! {get, self(), Min},
    receive {got, L0} -> L0 after 20000 -> timeout end end,
Srv = spawn(fun SV() -> receive
    {target, F} -> F ! {target, spawn(TargetF)}, SV();
    {collector, F} -> F ! {collector, spawn(fun() -> CollF(#{}, none) end)}, SV();
    {sender, To, F} -> F ! {sender, spawn(fun() -> SendF(To, 1) end)}, SV();
    {watcher, Name, F} -> register(Name, spawn(fun() -> WatchF(F) end)), SV()
  end end),
register(srv, Srv), ok.
"#;

/// The test's node `fa<tag>` (dialing through `px`) and the erl node `fe<tag>` with a
/// fixed distribution port that `px` forwards to, both with a tick time of `tick_s`
/// seconds; `None` when erl tests are skipped.
fn erl_net(tag: &str, tick_s: u32) -> Option<(Epmd, Runtime, ErlNode, FaultProxy)> {
    let epmd = private_epmd()?;
    let px = FaultProxy::start(nowhere());
    let (rt, _) = fixed_node(&format!("fa{tag}"), px.port(), tick_s * 1_000, SETUP);
    let port = free_port().to_string();
    let tick = tick_s.to_string();
    let args = [
        "-connect_all",
        "false",
        "-kernel",
        "net_ticktime",
        &tick,
        "-kernel",
        "inet_dist_listen_min",
        &port,
        "inet_dist_listen_max",
        &port,
    ];
    let e = ErlNode::start(&epmd, &format!("fe{tag}"), COOKIE, &args);
    assert_eq!(e.eval(ERL_SETUP).unwrap(), "ok");
    px.set_target(local(port.parse().unwrap()));
    Some((epmd, rt, e, px))
}

/// The elements of the next data message `{tag, …}` (others stay queued).
fn recv_tagged(tag: &str) -> Vec<Term> {
    let m = process::receive_select(T, |m| {
        m.kind() == MessageKind::Data
            && etf::decode(m.data()).is_ok_and(|t| {
                t.as_tuple().and_then(|v| v.first()).and_then(Term::as_atom) == Some(tag)
            })
    })
    .unwrap_or_else(|e| panic!("no {{{tag}, …}}: {e:?}"));
    etf::decode(m.data()).unwrap().as_tuple().unwrap().to_vec()
}

/// Asks `srv` on `e` for `what` (`target`, `collector`, or `sender` to `to`): its pid.
fn srv(e: &str, what: &str, to: Option<Pid>) -> Pid {
    let mut v = vec![atom(what)];
    v.extend(to.map(pid_t));
    v.push(me_t());
    dist::send_name(e, "srv", &etf::to_vec(&tup(v))).unwrap();
    to_pid(&recv_tagged(what)[1])
}

/// `sync(P)` with an Erlang target: it has handled everything sent before. Takes `P`'s own
/// `{synced, P}`: `reach` may have left another target's answer to an earlier probe.
fn erl_sync(p: Pid) {
    process::send(p, &etf::to_vec(&tup(vec![atom("sync"), me_t()]))).unwrap();
    process::receive_select(T, |m| {
        m.kind() == MessageKind::Data
            && etf::decode(m.data()).is_ok_and(|t| {
                t.as_tuple().is_some_and(|v| {
                    v.len() == 2 && v[0].as_atom() == Some("synced") && to_pid(&v[1]) == p
                })
            })
    })
    .unwrap_or_else(|e| panic!("no {{synced, {p:?}}}: {e:?}"));
}

/// What crosses the connection in the Hive ↔ erl tests, as [`Crossing`]: `S` links to
/// `links` and monitors `mons` (Erlang targets), `x` (local, non-trapping) is linked to a
/// target, watchers `fw1`, `fw2` on the erl node link to `S`, monitor it and watch node A;
/// `S` watches the erl node. Streams both ways.
struct ErlCrossing {
    links: Vec<Pid>,
    mons: Vec<(u64, Pid)>,
    x: (Pid, u64),
    watchers: Vec<Pid>,
    a_send: Vec<Pid>,
    e_send: Vec<Pid>,
    a_coll: Pid,
    e_coll: Pid,
}

const WATCHERS: [&str; 2] = ["fw1", "fw2"];

impl ErlCrossing {
    fn setup(e: &str, n_links: usize, n_mons: usize, n_streams: usize) -> ErlCrossing {
        let me = process::self_pid();
        process::trap_exit(true).unwrap();
        let links: Vec<Pid> = (0..n_links).map(|_| srv(e, "target", None)).collect();
        for &t in &links {
            process::link(t).unwrap();
        }
        let mons: Vec<(u64, Pid)> = (0..n_mons)
            .map(|_| {
                let t = srv(e, "target", None);
                (process::monitor(t).unwrap(), t)
            })
            .collect();
        let tx = srv(e, "target", None);
        let x = process::spawn_monitor(move || {
            process::link(tx).unwrap();
            process::send(me, b"linked").unwrap();
            hold();
        })
        .unwrap();
        process::receive_match(T, |_, d| d == b"linked").unwrap();
        let watchers: Vec<Pid> = WATCHERS
            .iter()
            .map(|name| {
                let req = tup(vec![atom("watcher"), atom(name), me_t()]);
                dist::send_name(e, "srv", &etf::to_vec(&req)).unwrap();
                // Sent after its link and monitor: both are in place here.
                to_pid(&recv_tagged("watching")[1])
            })
            .collect();
        dist::monitor_node(e, true).unwrap();
        for &t in links.iter().chain(mons.iter().map(|(_, t)| t)).chain([&tx]) {
            erl_sync(t);
        }
        let e_coll = srv(e, "collector", None);
        let a_coll = process::spawn(streams::collector).unwrap();
        let a_send: Vec<Pid> = (0..n_streams)
            .map(|_| process::spawn(move || streams::sender(e_coll)).unwrap())
            .collect();
        let e_send: Vec<Pid> = (0..n_streams)
            .map(|_| srv(e, "sender", Some(a_coll)))
            .collect();
        let c = ErlCrossing {
            links,
            mons,
            x,
            watchers,
            a_send,
            e_send,
            a_coll,
            e_coll,
        };
        c.warm(n_streams);
        c
    }

    fn warm(&self, n: usize) {
        check_all(
            "A→E",
            &streams::report(self.e_coll, n, Some(WARM), 10_000),
            n,
            Expect::Prefix,
        );
        check_all(
            "E→A",
            &streams::report(self.a_coll, n, Some(WARM), 10_000),
            n,
            Expect::Prefix,
        );
    }

    fn expect_loss(&self, e: &str) {
        let mut links = self.links.clone();
        links.extend(&self.watchers);
        let mut mons = self.mons.clone();
        mons.push((self.x.1, self.x.0));
        expect_loss(e, &links, &mons);
    }

    /// The erl node's side (asked over stdin): each watcher recorded exactly one EXIT
    /// and one DOWN `noconnection` and one `{nodedown, A}`.
    fn expect_erl_loss(&self, node: &ErlNode) {
        let want = format!(
            "[{{down,noconnection}},{{exit,noconnection}},{{nodedown,{}}}]",
            node_name()
        );
        for w in WATCHERS {
            let got = process::blocking(|| node.eval(&format!("GetF({w}, 3)."))).unwrap();
            assert_eq!(got.as_deref(), Ok(want.as_str()), "watcher {w}");
        }
    }

    /// As [`Crossing::after_reconnect`], on the erl node.
    fn after_reconnect(&self, e: &str, node: &ErlNode, x: Expect) {
        // Nothing more: still the same three items.
        self.expect_erl_loss(node);
        for &(_, t) in &self.mons {
            erl_sync(t);
        }
        let info = process::process_info(process::self_pid()).unwrap().unwrap();
        assert!(info.links.iter().all(|p| p.node() == 0), "{:?}", info.links);
        assert!(
            info.monitors.iter().all(|(_, p)| p.node() == 0),
            "{:?}",
            info.monitors
        );
        let t = srv(e, "target", None);
        link_monitor_work(
            t,
            || erl_sync(t),
            || {
                let die = tup(vec![atom("die"), atom("boom")]);
                process::send(t, &etf::to_vec(&die)).unwrap();
            },
        );
        stop_all(&self.a_send);
        stop_all(&self.e_send);
        let n = self.a_send.len();
        check_all("A→E", &streams::report(self.e_coll, n, None, 10_000), n, x);
        check_all("E→A", &streams::report(self.a_coll, n, None, 10_000), n, x);
        no_loss_queued("after the reconnect");
    }
}

/// Reaches the erl node through an Erlang target that is still alive.
fn reach_erl(e: &str, t: Pid) {
    reach(
        e,
        || process::send(t, &etf::to_vec(&tup(vec![atom("sync"), me_t()]))).unwrap(),
        |m| {
            m.kind() == MessageKind::Data
                && etf::decode(m.data()).is_ok_and(|t| {
                    t.as_tuple().and_then(|v| v.first()).and_then(Term::as_atom) == Some("synced")
                })
        },
    );
}

/// Cut during traffic (Hive ↔ erl, cases 132, 134–136, 138, 140): as
/// [`hive_cut_during_traffic_exactly_once_then_reconnect`], against an OTP node.
#[test]
fn erl_cut_during_traffic_exactly_once_then_reconnect() {
    let Some((_epmd, rt, node, px)) = erl_net("cut", TICK / 1_000) else {
        return;
    };
    let node = Arc::new(node);
    let px = Arc::new(px);
    let e = node.name().to_owned();
    let (n2, p2) = (node.clone(), px.clone());
    run_normal(&rt, move || {
        let c = ErlCrossing::setup(&e, 3, 3, 2);
        assert_eq!(p2.cut_and_refuse(), 1, "one connection to cut");
        c.expect_loss(&e);
        c.expect_erl_loss(&n2);
        dist::monitor_node(&e, true).unwrap();
        process::receive_select(T, |m| is_nodedown_of(m, &e)).expect("nodedown");
        let m = dist::monitor_name(&e, "srv").unwrap();
        assert_eq!(reason_str(&expect_down(m)), "noconnection");
        no_loss_queued("a second signal while unreachable");
        p2.refuse(false);
        reach_erl(&e, c.mons[0].1);
        c.after_reconnect(&e, &n2, Expect::OneGap);
    });
    rt.shutdown();
    drop(px);
    node.kill();
}

/// A stall longer than `net_ticktime` (Hive ↔ erl, case 137), in one direction: what Hive
/// writes stops, what the erl node writes still flows. The erl node drops Hive after its
/// tick time (or Hive's writes time out), with exactly-once ends on both sides; the next
/// send reconnects once the proxy forwards again.
#[test]
fn erl_stall_one_way_beyond_ticktime_drops_connection_once() {
    let Some((_epmd, rt, node, px)) = erl_net("stl", SHORT_TICK / 1_000) else {
        return;
    };
    let node = Arc::new(node);
    let px = Arc::new(px);
    let e = node.name().to_owned();
    let (n2, p2) = (node.clone(), px.clone());
    run_normal(&rt, move || {
        let c = ErlCrossing::setup(&e, 2, 2, 2);
        p2.stall(Dir::ToTarget);
        c.expect_loss(&e);
        c.expect_erl_loss(&n2);
        let st = p2.stats();
        assert_eq!(st.cut, 0, "{st:?}");
        assert!(st.held[0] > 0, "the stall held nothing: {st:?}");
        p2.cut();
        p2.resume();
        reach_erl(&e, c.mons[0].1);
        c.after_reconnect(&e, &n2, Expect::OneGap);
    });
    rt.shutdown();
    drop(px);
    node.kill();
}

/// A stall shorter than `net_ticktime`, then a delay (Hive ↔ erl): both directions stop for
/// 1.5 s (tick time 4 s) while streams flow, then every chunk waits 3 ms; the connection
/// stays and every stream arrives complete and in order; the link and monitor of before
/// still work.
#[test]
fn erl_short_stall_and_delay_lose_nothing() {
    let Some((_epmd, rt, node, px)) = erl_net("sst", TICK / 1_000) else {
        return;
    };
    let node = Arc::new(node);
    let px = Arc::new(px);
    let e = node.name().to_owned();
    let p2 = px.clone();
    run_normal(&rt, move || {
        let c = ErlCrossing::setup(&e, 1, 1, 2);
        p2.stall_for(Dir::Both, Duration::from_millis(1_500));
        wait_proxy(&p2, "holding both directions", |s| {
            s.held[0] > 0 && s.held[1] > 0
        });
        let ok = process::blocking(|| p2.wait_unstalled(BOUND)).unwrap();
        assert!(ok, "the stall did not end");
        p2.delay(Duration::from_millis(3));
        let more = |coll: Pid| {
            let s = streams::report(coll, 2, Some(0), 1_000);
            let k = s.iter().map(|s| s.count).max().unwrap_or(0) + 500;
            streams::report(coll, 2, Some(k), 20_000);
        };
        more(c.e_coll);
        more(c.a_coll);
        stop_all(&c.a_send);
        stop_all(&c.e_send);
        check_all(
            "A→E",
            &streams::report(c.e_coll, 2, None, 20_000),
            2,
            Expect::Complete,
        );
        check_all(
            "E→A",
            &streams::report(c.a_coll, 2, None, 20_000),
            2,
            Expect::Complete,
        );
        assert_eq!(p2.stats().accepted, 1, "the connection was set up again");
        let t = c.links[0];
        process::send(t, &etf::to_vec(&tup(vec![atom("die"), atom("boom")]))).unwrap();
        assert_eq!(reason_str(&expect_exit(t)), "boom");
        let (m, tm) = c.mons[0];
        process::send(tm, &etf::to_vec(&tup(vec![atom("die"), atom("boom")]))).unwrap();
        assert_eq!(reason_str(&expect_down(m)), "boom");
        no_loss_queued("after a short stall and a delay");
    });
    rt.shutdown();
    drop(px);
    node.kill();
}
