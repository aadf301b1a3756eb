//! Distribution between two Hive nodes, each in its own OS process: the test's runtime is
//! one node, a [`HivePeer`] (this test binary re-executed, `common/hive_peer.rs`) is the
//! other, both on a private EPMD. The peer runs an agent that spawns workers obeying ETF
//! commands; each test is named by its case (`dist-cases.md`, 101–157).

mod common;

use std::sync::Arc;

use common::dist::{expect_loss, private_epmd, run_normal, COOKIE};
use common::erl::Epmd;
use common::hive_peer::{
    agent_call, atom, is_nodedown, items, me_t, now_micros, pid_t, reason_str, spawn_agent,
    spin_until, to_pid, tup, wcall, wsend, HivePeer, REPLY_MS,
};
use hive_rt::dist;
use hive_rt::dist::etf::{self, Term};
use hive_rt::{process, ExitReason, Message, MessageKind, Pid, Runtime};

const T: Option<u32> = Some(REPLY_MS);

/// The entry of the peer node's process: does nothing in a normal test run.
#[test]
fn hive_peer_main() {
    common::hive_peer::peer_main();
}

/// A Hive node `name@localhost` on `epmd`, with an agent registered as `agent`.
fn hive_node(epmd: &Epmd, name: &str) -> Runtime {
    let rt = common::dist::hive_node(epmd, name);
    spawn_agent(&rt);
    rt
}

/// Unless the test is skipped: EPMD, the test node `ht<tag>` and the peer `hp<tag>`.
fn setup(tag: &str) -> Option<(Epmd, Runtime, Arc<HivePeer>)> {
    let epmd = private_epmd()?;
    let rt = hive_node(&epmd, &format!("ht{tag}"));
    let peer = Arc::new(HivePeer::start(epmd.port(), &format!("hp{tag}"), COOKIE));
    Some((epmd, rt, peer))
}

/// Spawns a worker on `node` (named `name` unless empty) through its agent.
fn spawn_w(node: &str, name: &str) -> (Pid, Term) {
    let n = if name.is_empty() { "undefined" } else { name };
    let t = agent_call(node, "spawn", vec![atom(n)]);
    (to_pid(&t), t)
}

/// A remote pid that is dead: a worker that exited `normal`, its DOWN received.
fn dead_remote(node: &str) -> Pid {
    let (w, _) = spawn_w(node, "");
    let m = process::monitor(w).unwrap();
    wsend(w, "die", vec![atom("normal")]);
    let (_, r) = expect_down(m);
    assert_eq!(r, ExitReason::Normal);
    w
}

/// A local pid that is dead (its DOWN received).
fn dead_local() -> Pid {
    let (p, m) = process::spawn_monitor(|| {}).unwrap();
    expect_down(m);
    p
}

/// The `Exit` message from `from`; its reason.
fn expect_exit(from: Pid) -> ExitReason {
    let m = process::receive_select(T, |m| m.kind() == MessageKind::Exit && m.sender() == from)
        .unwrap_or_else(|e| panic!("no EXIT from {from:?}: {e:?}"));
    m.reason().unwrap()
}

/// The DOWN of monitor `mref`: (sender, reason).
fn expect_down(mref: u64) -> (Pid, ExitReason) {
    let m = process::receive_select(T, |m| {
        m.kind() == MessageKind::Down && m.monitor_ref() == mref
    })
    .unwrap_or_else(|e| panic!("no DOWN for {mref}: {e:?}"));
    (m.sender(), m.reason().unwrap())
}

/// Asserts that no message matching `pred` is in the mailbox now.
fn none_queued(what: &str, pred: impl FnMut(&Message) -> bool) {
    if let Ok(m) = process::receive_select(Some(0), pred) {
        panic!(
            "unexpected {what}: {:?} from {:?} reason {:?} data {:?}",
            m.kind(),
            m.sender(),
            m.reason(),
            etf::decode(m.data()).map(|t| t.to_string())
        );
    }
}

/// The Erlang text of a message's data.
fn text(m: &Message) -> String {
    etf::decode(m.data()).map_or_else(|e| format!("{e:?}"), |t| t.to_string())
}

/// A recorded item `{Kind, …}` of a worker report, as (kind, fields).
fn item(t: &Term) -> (String, Vec<Term>) {
    let v = t.as_tuple().unwrap_or_else(|| panic!("not an item: {t}"));
    (v[0].as_atom().unwrap().to_owned(), v[1..].to_vec())
}

/// `r` as an ExitReason (the term a worker recorded).
fn rterm(t: &Term) -> String {
    t.to_string()
}

/// A process that runs `body` and then waits forever.
fn hold() {
    loop {
        let _ = process::receive(None);
    }
}

fn node_name() -> String {
    dist::node_name().unwrap().unwrap()
}

// ------------------------------------------------------------------ handshake matrix

/// Case 144 (Hive ↔ Hive): the test node connects first (auto-connect on a send by name):
/// both nodes list each other, pids carry the peer's name and creation.
#[test]
fn case_144_hive_test_node_connects_first() {
    let Some((_epmd, rt, peer)) = setup("144a") else {
        return;
    };
    run_normal(&rt, move || {
        assert_eq!(dist::nodes().unwrap(), Vec::<String>::new());
        let pong = agent_call(peer.name(), "ping", vec![]);
        assert_eq!(pong.as_atom(), Some(peer.name()));
        assert_eq!(dist::nodes().unwrap(), vec![peer.name().to_owned()]);
        let seen = items(&agent_call(peer.name(), "nodes", vec![]));
        assert_eq!(seen, vec![atom(&node_name())]);
        let p2 = peer.clone();
        assert_eq!(
            process::blocking(move || p2.nodes()).unwrap(),
            vec![node_name()]
        );
        let (w, _) = spawn_w(peer.name(), "");
        assert_ne!(w.node(), 0);
        let ext = dist::pid_term(w).unwrap().unwrap();
        assert_eq!(ext.node.as_str(), peer.name());
        assert_eq!(ext.creation, peer.creation());
    });
    rt.shutdown();
}

/// Case 144 (Hive ↔ Hive): the peer connects first; its ping is answered by the test
/// node's agent and both nodes list each other.
#[test]
fn case_144_hive_peer_connects_first() {
    let Some((_epmd, rt, peer)) = setup("144b") else {
        return;
    };
    run_normal(&rt, move || {
        let me = node_name();
        let p2 = peer.clone();
        let m2 = me.clone();
        let r = process::blocking(move || {
            p2.call(&tup(vec![atom("ping_node"), atom("none"), atom(&m2)]))
        })
        .unwrap();
        assert_eq!(r.as_atom(), Some("pong"));
        assert_eq!(dist::nodes().unwrap(), vec![peer.name().to_owned()]);
        let p2 = peer.clone();
        assert_eq!(process::blocking(move || p2.nodes()).unwrap(), vec![me]);
        // The connection the peer made carries our sends too.
        assert_eq!(
            agent_call(peer.name(), "ping", vec![]).as_atom(),
            Some(peer.name())
        );
    });
    rt.shutdown();
}

/// Case 145 (Hive ↔ Hive): a peer with another cookie is refused in both roles: no
/// connection on either side, `{nodedown, N}` for `monitor_node`, the sends dropped.
#[test]
fn case_145_hive_wrong_cookie_refused() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = hive_node(&epmd, "ht145");
    let peer = Arc::new(HivePeer::start(epmd.port(), "hp145", "othercookie"));
    run_normal(&rt, move || {
        let me = node_name();
        process::register(b"sink145", process::self_pid()).unwrap();
        // The test node connects first.
        dist::monitor_node(peer.name(), true).unwrap();
        let ping = tup(vec![atom("ping"), me_t()]);
        dist::send_name(peer.name(), "agent", &etf::to_vec(&ping)).unwrap();
        process::receive_select(T, is_nodedown).expect("nodedown");
        assert_eq!(dist::nodes().unwrap(), Vec::<String>::new());
        // The peer connects first: a burst to our `sink145`, then a ping.
        let p2 = peer.clone();
        let m2 = me.clone();
        let (burst, pang) = process::blocking(move || {
            let b = p2.call(&tup(vec![
                atom("burst"),
                atom("none"),
                atom(&m2),
                atom("sink145"),
                Term::Int(5),
                Term::Int(0),
            ]));
            let r = p2.call(&tup(vec![atom("ping_node"), atom("none"), atom(&m2)]));
            (b, r)
        })
        .unwrap();
        assert_eq!(burst.as_atom(), Some("ok"));
        assert_eq!(pang.as_atom(), Some("pang"));
        let p2 = peer.clone();
        assert_eq!(
            process::blocking(move || p2.nodes()).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(dist::nodes().unwrap(), Vec::<String>::new());
        // Nothing got through: no pong, no burst message.
        none_queued("message from a refused peer", |m| {
            m.kind() == MessageKind::Data && !is_nodedown(m)
        });
    });
    rt.shutdown();
}

/// [RACE] Simultaneous connect (Hive ↔ Hive): both nodes send to each other at the same
/// moment, from idle, many times with jitter. Every time exactly one connection survives
/// (each side lists the other once and holds one socket more than when idle) and no
/// message of either burst is lost or reordered.
#[test]
fn case_144_hive_simultaneous_connect() {
    const ITER: i64 = 40;
    const N: i64 = 30;
    let Some((_epmd, rt, peer)) = setup("144s") else {
        return;
    };
    run_normal(&rt, move || {
        let me = node_name();
        process::register(b"sink", process::self_pid()).unwrap();
        let p2 = peer.clone();
        let (sink, base_peer) = process::blocking(move || {
            let s = p2.call(&tup(vec![atom("spawn"), atom("none"), atom("sink")]));
            let b = p2.call(&tup(vec![atom("sockets"), atom("none")]));
            (s, b.as_int().unwrap())
        })
        .unwrap();
        let base = hive_rt::net::open_sockets().unwrap() as i64;
        let sink = to_pid(&sink);
        for i in 0..ITER {
            assert_eq!(
                dist::nodes().unwrap(),
                Vec::<String>::new(),
                "iteration {i}"
            );
            let at = now_micros() + 15_000;
            let off = ((i * 7) % 11) * 200 - 1_000;
            let (p2, m2) = (peer.clone(), me.clone());
            let (idle, ok) = process::blocking(move || {
                let idle = p2.nodes();
                let ok = p2.call(&tup(vec![
                    atom("burst"),
                    atom("none"),
                    atom(&m2),
                    atom("sink"),
                    Term::Int(N),
                    Term::Int(at + off),
                ]));
                (idle, ok)
            })
            .unwrap();
            assert_eq!(idle, Vec::<String>::new(), "iteration {i}: peer not idle");
            assert_eq!(ok.as_atom(), Some("ok"));
            spin_until(at);
            for k in 1..=N {
                let b = etf::to_vec(&tup(vec![atom("b"), Term::Int(k)]));
                dist::send_name(peer.name(), "sink", &b).unwrap();
            }
            for k in 1..=N {
                let m = process::receive_select(T, |m| {
                    m.kind() == MessageKind::Data && text(m).starts_with("{b,")
                })
                .unwrap_or_else(|e| panic!("iteration {i}: message {k} of the peer lost: {e:?}"));
                assert_eq!(text(&m), format!("{{b,{k}}}"), "iteration {i}");
            }
            let got = items(&wcall(sink, "await", vec![Term::Int(N), Term::Int(10_000)]));
            let want: Vec<String> = (1..=N)
                .map(|k| format!("{{msg,undefined,{{b,{k}}}}}"))
                .collect();
            let got: Vec<String> = got
                .iter()
                .map(|t| {
                    let (k, f) = item(t);
                    assert_eq!(k, "msg");
                    format!("{{msg,undefined,{}}}", f[1])
                })
                .collect();
            assert_eq!(got, want, "iteration {i}: our burst at the peer");
            assert_eq!(dist::nodes().unwrap(), vec![peer.name().to_owned()]);
            let seen = items(&agent_call(peer.name(), "nodes", vec![]));
            assert_eq!(seen, vec![atom(&me)], "iteration {i}");
            // One connection: one socket per lane (both nodes offer the default number)
            // more than idle on each side, once the loser of a simultaneous attempt has
            // closed its own.
            let lanes = dist::Options::default().lanes as i64;
            let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
            loop {
                let n = hive_rt::net::open_sockets().unwrap() as i64;
                if n == base + lanes {
                    break;
                }
                assert!(
                    std::time::Instant::now() < end,
                    "iteration {i}: {n} sockets, {base} when idle"
                );
                process::yield_now().unwrap();
            }
            loop {
                let n = agent_call(peer.name(), "sockets", vec![]).as_int().unwrap();
                if n == base_peer + lanes {
                    break;
                }
                assert!(
                    std::time::Instant::now() < end,
                    "iteration {i}: the peer has {n} sockets, {base_peer} when idle"
                );
            }
            // Back to idle on both sides.
            assert!(dist::disconnect(peer.name()).unwrap());
            let (p2, m2) = (peer.clone(), me.clone());
            process::blocking(move || {
                p2.call(&tup(vec![atom("disconnect"), atom("none"), atom(&m2)]))
            })
            .unwrap();
        }
    });
    rt.shutdown();
}

// ------------------------------------------------------------------ L. remote send

/// Cases 101, 102 (Hive ↔ Hive): sends by pid and by `{Name, Node}` both ways, with the
/// sender pid; a name goes to whoever holds it when the message arrives.
#[test]
fn case_101_102_hive_send_both_ways() {
    let Some((_epmd, rt, peer)) = setup("101") else {
        return;
    };
    run_normal(&rt, move || {
        let me = process::self_pid();
        process::register(b"tester", me).unwrap();
        let (w, _) = spawn_w(peer.name(), "w102");
        process::send(w, &etf::to_vec(&tup(vec![atom("hello"), atom("pid")]))).unwrap();
        let by_name = tup(vec![atom("hello"), atom("name")]);
        dist::send_name(peer.name(), "w102", &etf::to_vec(&by_name)).unwrap();
        let got = items(&wcall(w, "await", vec![Term::Int(2), Term::Int(10_000)]));
        assert_eq!(got.len(), 2, "{got:?}");
        for (t, want) in got.iter().zip(["{hello,pid}", "{hello,name}"]) {
            let (k, f) = item(t);
            assert_eq!(k, "msg");
            assert_eq!(to_pid(&f[0]), me, "the sender is the test process");
            assert_eq!(f[1].to_string(), want);
        }
        // The peer sends back, by pid and by name.
        let hi = tup(vec![atom("hi"), atom("pid")]);
        assert_eq!(wcall(w, "send", vec![me_t(), hi]).as_atom(), Some("ok"));
        let hi = tup(vec![atom("hi"), atom("name")]);
        let r = wcall(w, "send_name", vec![atom(&node_name()), atom("tester"), hi]);
        assert_eq!(r.as_atom(), Some("ok"));
        for want in ["{hi,pid}", "{hi,name}"] {
            let m = process::receive_select(T, |m| {
                m.kind() == MessageKind::Data && text(m).starts_with("{hi,")
            })
            .unwrap();
            assert_eq!(text(&m), want);
            assert_eq!(m.sender(), w);
        }
        // Case 102: the name now belongs to another process.
        let mon = process::monitor(w).unwrap();
        wsend(w, "die", vec![atom("normal")]);
        assert_eq!(expect_down(mon).1, ExitReason::Normal);
        let (w2, _) = spawn_w(peer.name(), "w102");
        dist::send_name(peer.name(), "w102", &etf::to_vec(&atom("m3"))).unwrap();
        let got = items(&wcall(w2, "await", vec![Term::Int(1), Term::Int(10_000)]));
        assert_eq!(got.len(), 1);
        assert_eq!(item(&got[0]).1[1], atom("m3"));
    });
    rt.shutdown();
}

/// Case 104 (Hive ↔ Hive): 1000 messages from one sender arrive in order, each way; four
/// senders to one receiver each keep their own order.
#[test]
fn case_104_hive_order_1000_each_way() {
    let Some((_epmd, rt, peer)) = setup("104") else {
        return;
    };
    run_normal(&rt, move || {
        let me = process::self_pid();
        let (w, _) = spawn_w(peer.name(), "");
        for k in 1..=1000 {
            process::send(w, &etf::to_vec(&tup(vec![atom("seq"), Term::Int(k)]))).unwrap();
        }
        let got = items(&wcall(w, "await", vec![Term::Int(1000), Term::Int(15_000)]));
        let seqs: Vec<String> = got.iter().map(|t| item(t).1[1].to_string()).collect();
        let want: Vec<String> = (1..=1000).map(|k| format!("{{seq,{k}}}")).collect();
        assert_eq!(seqs, want);
        // The other way.
        assert_eq!(
            wcall(w, "send_seq", vec![me_t(), Term::Int(1000)]).as_atom(),
            Some("ok")
        );
        for k in 1..=1000 {
            let m = process::receive_select(T, |m| m.sender() == w && text(m).starts_with("{seq,"))
                .unwrap();
            assert_eq!(text(&m), format!("{{seq,{k}}}"));
        }
        // Four senders, one receiver.
        let (w2, w2t) = spawn_w(peer.name(), "");
        let mut senders = Vec::new();
        for _ in 0..4 {
            let w2t = w2t.clone();
            let (p, m) = process::spawn_monitor(move || {
                let to = to_pid(&w2t);
                for k in 1..=250 {
                    process::send(to, &etf::to_vec(&tup(vec![atom("seq"), Term::Int(k)]))).unwrap();
                }
            })
            .unwrap();
            senders.push((p, m));
        }
        for &(_, m) in &senders {
            assert_eq!(expect_down(m).1, ExitReason::Normal);
        }
        let got = items(&wcall(
            w2,
            "await",
            vec![Term::Int(1000), Term::Int(15_000)],
        ));
        assert_eq!(got.len(), 1000);
        for &(p, _) in &senders {
            let mine: Vec<i64> = got
                .iter()
                .map(item)
                .filter(|(_, f)| to_pid(&f[0]) == p)
                .map(|(_, f)| f[1].as_tuple().unwrap()[1].as_int().unwrap())
                .collect();
            assert_eq!(mine, (1..=250).collect::<Vec<_>>());
        }
        let _ = me;
    });
    rt.shutdown();
}

// ------------------------------------------------------------------ M. remote links

/// Cases 114, 118 (Hive ↔ Hive): links made from either side show on both at once (after
/// a sync for the remote side), linking twice changes nothing, unlink removes the link on
/// both sides; unlink of a dead or never-linked remote pid is fine; after link + unlink
/// twice, the remote exit reaches neither a trapping nor a non-trapping process.
#[test]
fn case_114_118_hive_link_unlink_both_directions() {
    let Some((_epmd, rt, peer)) = setup("114") else {
        return;
    };
    run_normal(&rt, move || {
        let me = process::self_pid();
        process::trap_exit(true).unwrap();
        let links = || process::process_info(me).unwrap().unwrap().links;
        let wlinks = |w: Pid| -> Vec<Pid> {
            let i = wcall(w, "info", vec![]);
            items(&i.as_tuple().unwrap()[0])
                .iter()
                .map(to_pid)
                .collect()
        };
        let (w, _) = spawn_w(peer.name(), "");
        process::link(w).unwrap();
        assert_eq!(links(), vec![w]);
        assert_eq!(wlinks(w), vec![me]);
        process::link(w).unwrap();
        assert_eq!(links(), vec![w]);
        assert_eq!(wlinks(w), vec![me]);
        process::unlink(w).unwrap();
        assert_eq!(links(), Vec::<Pid>::new());
        assert_eq!(wlinks(w), Vec::<Pid>::new());
        // The peer makes the link, and removes it.
        assert_eq!(wcall(w, "link", vec![me_t()]).as_atom(), Some("ok"));
        assert_eq!(links(), vec![w]);
        assert_eq!(wlinks(w), vec![me]);
        assert_eq!(wcall(w, "unlink", vec![me_t()]).as_atom(), Some("ok"));
        assert_eq!(links(), Vec::<Pid>::new());
        assert_eq!(wlinks(w), Vec::<Pid>::new());
        // Case 118.
        let dead = dead_remote(peer.name());
        process::unlink(dead).unwrap();
        let (never, _) = spawn_w(peer.name(), "");
        process::unlink(never).unwrap();
        // Trapping: link, unlink twice, the remote exits: a DOWN, no EXIT.
        let (w3, _) = spawn_w(peer.name(), "");
        process::link(w3).unwrap();
        process::unlink(w3).unwrap();
        process::unlink(w3).unwrap();
        let m = process::monitor(w3).unwrap();
        wsend(w3, "die", vec![atom("boom")]);
        assert_eq!(reason_str(&expect_down(m).1), "boom");
        none_queued("EXIT after unlink", |m| m.kind() == MessageKind::Exit);
        // Not trapping: the same, and the process lives on.
        let name = peer.name().to_owned();
        let (x, mx) = process::spawn_monitor(move || {
            let (w4, _) = spawn_w(&name, "");
            process::link(w4).unwrap();
            process::unlink(w4).unwrap();
            process::unlink(w4).unwrap();
            let m = process::monitor(w4).unwrap();
            wsend(w4, "die", vec![atom("boom")]);
            assert_eq!(reason_str(&expect_down(m).1), "boom");
            assert!(process::process_info(process::self_pid())
                .unwrap()
                .unwrap()
                .links
                .is_empty());
        })
        .unwrap();
        let (_, r) = expect_down(mx);
        assert_eq!(r, ExitReason::Normal, "{x:?}: {}", reason_str(&r));
        // The peer side: link, unlink, then our process exits: only the DOWN.
        let (w5, _) = spawn_w(peer.name(), "");
        wcall(w5, "trap_exit", vec![atom("true")]);
        let (y, my) = process::spawn_monitor(|| {
            process::receive(None).unwrap();
            let _ = process::exit(ExitReason::error(etf::to_vec(&atom("boom"))));
        })
        .unwrap();
        assert_eq!(wcall(w5, "link", vec![pid_t(y)]).as_atom(), Some("ok"));
        assert_eq!(wcall(w5, "unlink", vec![pid_t(y)]).as_atom(), Some("ok"));
        wcall(w5, "monitor", vec![pid_t(y)]);
        process::send(y, b"go").unwrap();
        expect_down(my);
        let got = items(&wcall(w5, "await", vec![Term::Int(1), Term::Int(10_000)]));
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(item(&got[0]).0, "DOWN");
        let got = items(&wcall(w5, "await", vec![Term::Int(0), Term::Int(0)]));
        assert!(got.is_empty(), "{got:?}");
    });
    rt.shutdown();
}

/// Cases 115, 116 (Hive ↔ Hive), both directions: an abnormal remote exit kills a
/// non-trapping linked process with that reason and reaches a trapping one as an `EXIT`
/// with the full reason; a normal one is ignored unless trapping, and the link is gone.
#[test]
fn case_115_116_hive_exit_reasons_and_trap_exit() {
    let Some((_epmd, rt, peer)) = setup("115") else {
        return;
    };
    run_normal(&rt, move || {
        let me = process::self_pid();
        let peer_name = peer.name().to_owned();
        // 115: a non-trapping process linked to a remote one that exits `boom`.
        let (w, wt) = spawn_w(&peer_name, "");
        let (_, mx) = process::spawn_monitor(move || {
            process::link(to_pid(&wt)).unwrap();
            process::send(me, b"linked").unwrap();
            hold();
        })
        .unwrap();
        process::receive_match(T, |_, d| d == b"linked").unwrap();
        wsend(w, "die", vec![atom("boom")]);
        assert_eq!(reason_str(&expect_down(mx).1), "boom");
        // 115: trapping, the full reason (with our own pid inside).
        process::trap_exit(true).unwrap();
        let (w2, _) = spawn_w(&peer_name, "");
        process::link(w2).unwrap();
        let big = tup(vec![
            atom("big"),
            Term::list((1..=100).map(Term::Int).collect()),
            Term::Binary(vec![0; 100]),
            me_t(),
        ]);
        wsend(w2, "die", vec![big.clone()]);
        let r = expect_exit(w2);
        assert_eq!(etf::decode(r.data()).unwrap(), big);
        // 116: normal is ignored by a non-trapping process; its link is gone.
        let pn = peer_name.clone();
        let (_, mx2) = process::spawn_monitor(move || {
            let (w3, _) = spawn_w(&pn, "");
            process::link(w3).unwrap();
            let m = process::monitor(w3).unwrap();
            wsend(w3, "die", vec![atom("normal")]);
            assert_eq!(expect_down(m).1, ExitReason::Normal);
            let i = process::process_info(process::self_pid()).unwrap().unwrap();
            assert!(i.links.is_empty(), "{:?}", i.links);
        })
        .unwrap();
        let r = expect_down(mx2).1;
        assert_eq!(r, ExitReason::Normal, "{}", reason_str(&r));
        // 116: a trapping process gets {'EXIT', P, normal}.
        let (w4, _) = spawn_w(&peer_name, "");
        process::link(w4).unwrap();
        wsend(w4, "die", vec![atom("normal")]);
        assert_eq!(expect_exit(w4), ExitReason::Normal);
        // The other way: a peer process linked to ours.
        let reason = tup(vec![atom("boom"), atom("reverse")]);
        let (w5, _) = spawn_w(&peer_name, "");
        let m5 = process::monitor(w5).unwrap();
        let r2 = reason.clone();
        let y = process::spawn(move || {
            process::receive(None).unwrap();
            let _ = process::exit(ExitReason::error(etf::to_vec(&r2)));
        })
        .unwrap();
        assert_eq!(wcall(w5, "link", vec![pid_t(y)]).as_atom(), Some("ok"));
        process::send(y, b"go").unwrap();
        let (_, r) = expect_down(m5);
        assert_eq!(etf::decode(r.data()).ok(), Some(reason.clone()), "{r:?}");
        // A trapping peer process gets the EXIT of a normal exit; a non-trapping one
        // ignores it and loses the link.
        let (w6, _) = spawn_w(&peer_name, "");
        wcall(w6, "trap_exit", vec![atom("true")]);
        let (w7, _) = spawn_w(&peer_name, "");
        let y2 = process::spawn(|| {
            process::receive(None).unwrap();
        })
        .unwrap();
        assert_eq!(wcall(w6, "link", vec![pid_t(y2)]).as_atom(), Some("ok"));
        assert_eq!(wcall(w7, "link", vec![pid_t(y2)]).as_atom(), Some("ok"));
        wcall(w7, "monitor", vec![pid_t(y2)]);
        process::send(y2, b"go").unwrap();
        let got = items(&wcall(w6, "await", vec![Term::Int(1), Term::Int(10_000)]));
        assert_eq!(got.len(), 1);
        let (k, f) = item(&got[0]);
        assert_eq!(
            (k.as_str(), to_pid(&f[0]), rterm(&f[1])),
            ("EXIT", y2, "normal".into())
        );
        let got = items(&wcall(w7, "await", vec![Term::Int(1), Term::Int(10_000)]));
        assert_eq!(item(&got[0]).0, "DOWN");
        let info = wcall(w7, "info", vec![]);
        assert!(items(&info.as_tuple().unwrap()[0]).is_empty(), "{info}");
    });
    rt.shutdown();
}

/// Case 117 (Hive ↔ Hive), both directions: `link` to a dead remote pid returns at once,
/// then an exit signal `noproc` arrives: an `EXIT` when trapping, death otherwise.
#[test]
fn case_117_hive_link_to_dead_pid_gives_noproc() {
    let Some((_epmd, rt, peer)) = setup("117") else {
        return;
    };
    run_normal(&rt, move || {
        let me = process::self_pid();
        let peer_name = peer.name().to_owned();
        let dead = dead_remote(&peer_name);
        process::trap_exit(true).unwrap();
        process::link(dead).unwrap();
        assert_eq!(expect_exit(dead), ExitReason::Noproc);
        assert!(process::process_info(me).unwrap().unwrap().links.is_empty());
        // Not trapping: link returns, then the process is killed with noproc.
        let (_, mx) = process::spawn_monitor(move || {
            let r = process::link(dead);
            process::send(me, format!("link_returned {}", r.is_ok()).as_bytes()).unwrap();
            hold();
        })
        .unwrap();
        let m = process::receive_match(T, |_, d| d.starts_with(b"link_returned")).unwrap();
        assert_eq!(m.data(), b"link_returned true");
        assert_eq!(expect_down(mx).1, ExitReason::Noproc);
        // The peer links to a dead pid of ours.
        let z = dead_local();
        let (w, _) = spawn_w(&peer_name, "");
        wcall(w, "trap_exit", vec![atom("true")]);
        assert_eq!(wcall(w, "link", vec![pid_t(z)]).as_atom(), Some("ok"));
        let got = items(&wcall(w, "await", vec![Term::Int(1), Term::Int(10_000)]));
        assert_eq!(got.len(), 1, "{got:?}");
        let (k, f) = item(&got[0]);
        assert_eq!(
            (k.as_str(), to_pid(&f[0]), rterm(&f[1])),
            ("EXIT", z, "noproc".into())
        );
        let info = wcall(w, "info", vec![]);
        assert!(items(&info.as_tuple().unwrap()[0]).is_empty(), "{info}");
        let (w2, _) = spawn_w(&peer_name, "");
        let m2 = process::monitor(w2).unwrap();
        wcall(w2, "sync", vec![]);
        assert_eq!(wcall(w2, "link", vec![pid_t(z)]).as_atom(), Some("ok"));
        assert_eq!(expect_down(m2).1, ExitReason::Noproc);
    });
    rt.shutdown();
}

/// Case 121 (Hive ↔ Hive): `exit(P, kill)` across nodes gives `killed` (even trapping);
/// a process that exits with `kill` sends `kill` over its links, which a trapping process
/// receives and a non-trapping one dies of.
#[test]
fn case_121_hive_kill_gives_killed() {
    let Some((_epmd, rt, peer)) = setup("121") else {
        return;
    };
    run_normal(&rt, move || {
        let me = process::self_pid();
        let peer_name = peer.name().to_owned();
        process::trap_exit(true).unwrap();
        let (w, _) = spawn_w(&peer_name, "");
        wcall(w, "trap_exit", vec![atom("true")]);
        process::link(w).unwrap();
        let m = process::monitor(w).unwrap();
        process::exit_pid(w, ExitReason::Kill).unwrap();
        assert_eq!(expect_exit(w), ExitReason::Killed);
        assert_eq!(expect_down(m), (w, ExitReason::Killed));
        // exit(kill) of the remote process itself: `kill` over the link.
        let (w2, _) = spawn_w(&peer_name, "");
        process::link(w2).unwrap();
        wsend(w2, "die", vec![atom("kill")]);
        assert_eq!(expect_exit(w2), ExitReason::Kill);
        let (w3, w3t) = spawn_w(&peer_name, "");
        let (_, mx) = process::spawn_monitor(move || {
            process::link(to_pid(&w3t)).unwrap();
            process::send(me, b"linked").unwrap();
            hold();
        })
        .unwrap();
        process::receive_match(T, |_, d| d == b"linked").unwrap();
        wsend(w3, "die", vec![atom("kill")]);
        assert_eq!(expect_down(mx).1, ExitReason::Kill);
        // The peer kills a trapping process of ours.
        let (z, mz) = process::spawn_monitor(move || {
            process::trap_exit(true).unwrap();
            process::send(me, b"trapping").unwrap();
            hold();
        })
        .unwrap();
        process::receive_match(T, |_, d| d == b"trapping").unwrap();
        let (w4, _) = spawn_w(&peer_name, "");
        assert_eq!(
            wcall(w4, "exit", vec![pid_t(z), atom("kill")]).as_atom(),
            Some("ok")
        );
        assert_eq!(expect_down(mz), (z, ExitReason::Killed));
    });
    rt.shutdown();
}

// ------------------------------------------------------------------ N. remote monitors

/// Cases 125, 127 (Hive ↔ Hive), both directions: a remote monitor shows on both sides and
/// its DOWN carries the full reason; a monitor on a dead remote pid gives `noproc`.
#[test]
fn case_125_127_hive_monitors_and_noproc() {
    let Some((_epmd, rt, peer)) = setup("125") else {
        return;
    };
    run_normal(&rt, move || {
        let me = process::self_pid();
        let peer_name = peer.name().to_owned();
        let (w, _) = spawn_w(&peer_name, "");
        let m = process::monitor(w).unwrap();
        assert_eq!(
            process::process_info(me).unwrap().unwrap().monitors,
            vec![(m, w)]
        );
        let info = wcall(w, "info", vec![]);
        let by: Vec<Pid> = items(&info.as_tuple().unwrap()[2])
            .iter()
            .map(to_pid)
            .collect();
        assert_eq!(by, vec![me]);
        let reason = tup(vec![
            atom("big"),
            Term::list(vec![
                atom("reason"),
                Term::Int(1),
                Term::Binary(b"x".to_vec()),
            ]),
        ]);
        wsend(w, "die", vec![reason.clone()]);
        let (from, r) = expect_down(m);
        assert_eq!(from, w);
        assert_eq!(etf::decode(r.data()).ok(), Some(reason.clone()), "{r:?}");
        assert!(process::process_info(me)
            .unwrap()
            .unwrap()
            .monitors
            .is_empty());
        assert!(
            !process::demonitor(m, false).unwrap(),
            "the monitor had fired"
        );
        // The peer monitors one of ours.
        let (w2, _) = spawn_w(&peer_name, "");
        let r2 = reason.clone();
        let y = process::spawn(move || {
            process::receive(None).unwrap();
            let _ = process::exit(ExitReason::error(etf::to_vec(&r2)));
        })
        .unwrap();
        let mref = wcall(w2, "monitor", vec![pid_t(y)]);
        let yi = process::process_info(y).unwrap().unwrap();
        assert_eq!(yi.monitored_by, vec![w2]);
        process::send(y, b"go").unwrap();
        let got = items(&wcall(w2, "await", vec![Term::Int(1), Term::Int(10_000)]));
        assert_eq!(got.len(), 1);
        let (k, f) = item(&got[0]);
        assert_eq!((k.as_str(), &f[0], to_pid(&f[1])), ("DOWN", &mref, y));
        assert_eq!(f[2], reason);
        // Case 127.
        let dead = dead_remote(&peer_name);
        let md = process::monitor(dead).unwrap();
        assert_eq!(expect_down(md), (dead, ExitReason::Noproc));
        let z = dead_local();
        let mz = wcall(w2, "monitor", vec![pid_t(z)]);
        let got = items(&wcall(w2, "await", vec![Term::Int(1), Term::Int(10_000)]));
        assert_eq!(got.len(), 1);
        let (k, f) = item(&got[0]);
        assert_eq!(
            (k.as_str(), &f[0], to_pid(&f[1]), rterm(&f[2])),
            ("DOWN", &mz, z, "noproc".into())
        );
    });
    rt.shutdown();
}

/// Case 128 (Hive ↔ Hive): `demonitor` before the remote exit: no DOWN ever; with the DOWN
/// queued, `demonitor` leaves it and `demonitor(flush)` removes it, both answering false;
/// on an active remote monitor it answers true.
#[test]
fn case_128_hive_demonitor_and_flush() {
    let Some((_epmd, rt, peer)) = setup("128") else {
        return;
    };
    run_normal(&rt, move || {
        let peer_name = peer.name().to_owned();
        let wait_exit = |wt: &Term| {
            let r = agent_call(&peer_name, "wait_exit", vec![wt.clone()]);
            assert_eq!(r.as_tuple().map(|v| v[0].clone()), Some(atom("ok")), "{r}");
        };
        let (w, wt) = spawn_w(&peer_name, "");
        let m1 = process::monitor(w).unwrap();
        assert!(process::demonitor(m1, false).unwrap(), "active");
        wsend(w, "die", vec![atom("boom")]);
        wait_exit(&wt);
        none_queued("DOWN after demonitor", |m| m.kind() == MessageKind::Down);
        // The DOWN queued already.
        let (w2, w2t) = spawn_w(&peer_name, "");
        let ma = process::monitor(w2).unwrap();
        let mb = process::monitor(w2).unwrap();
        wsend(w2, "die", vec![atom("boom")]);
        wait_exit(&w2t);
        assert!(!process::demonitor(ma, false).unwrap());
        assert!(!process::demonitor(mb, true).unwrap());
        let (_, r) = expect_down(ma);
        assert_eq!(reason_str(&r), "boom");
        none_queued("flushed DOWN", |m| m.kind() == MessageKind::Down);
        // The peer's side of demonitor: no DOWN after it.
        let (w3, _) = spawn_w(&peer_name, "");
        let y = process::spawn(|| {
            process::receive(None).unwrap();
        })
        .unwrap();
        let mref = wcall(w3, "monitor", vec![pid_t(y)]);
        let r = wcall(w3, "demonitor", vec![mref, atom("false")]);
        assert_eq!(r.as_atom(), Some("true"));
        let my = process::monitor(y).unwrap();
        process::send(y, b"go").unwrap();
        expect_down(my);
        let got = items(&wcall(w3, "await", vec![Term::Int(0), Term::Int(0)]));
        assert!(got.is_empty(), "{got:?}");
        let yi = wcall(w3, "info", vec![]);
        assert!(items(&yi.as_tuple().unwrap()[1]).is_empty(), "{yi}");
    });
    rt.shutdown();
}

// ------------------------------------------------------------------ O. node loss

/// Case 134 (and 135 on the peer's side), Hive ↔ Hive: `disconnect` ends every link and
/// monitor across the connection once with `noconnection` on both sides (links made from
/// either side, a non-trapping linked process killed), with one `{nodedown, N}` per
/// `monitor_node`; a second `disconnect` answers false.
/// A disconnect while the old connection's controller has a flush pending: what another
/// process queues right after it goes on the next connection, and its monitor fires. (The
/// old controller used to take that queue and write it on the dying connection: the peer
/// carried out the monitor and the kill there, its DOWN was lost with the connection, and
/// the monitor never fired while the new connection stood.) One scheduler fixes the order:
/// the test process wakes `p2` (high priority) and then, by a send, the controller; its
/// disconnect ends the connection; `p2` runs before the controller and monitors and kills
/// a remote worker; then the controller finds its flush.
#[test]
fn case_134_hive_disconnect_with_a_flush_pending_queues_for_the_next_connection() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = common::rt(1);
    rt.dist_start(hive_rt::dist::Options {
        name: "ht134q@localhost".into(),
        cookie: Some(COOKIE.into()),
        listen: "127.0.0.1:0".parse().unwrap(),
        discovery: hive_rt::dist::Discovery::Epmd(epmd.port()),
        start_epmd: false,
        tick_time_ms: common::hive_peer::TICK_MS,
        ..hive_rt::dist::Options::default()
    })
    .expect("dist_start");
    spawn_agent(&rt);
    let peer = Arc::new(HivePeer::start(epmd.port(), "hp134q", COOKIE));
    run_normal(&rt, move || {
        let me = process::self_pid();
        let b = peer.name().to_owned();
        let (w, _) = spawn_w(&b, "");
        let high = hive_rt::SpawnOptions {
            priority: hive_rt::Priority::High,
            ..Default::default()
        };
        let p2 = process::spawn_opts(high, move || {
            process::send(me, b"ready").unwrap();
            process::receive(T).unwrap();
            let m = process::monitor(w).unwrap();
            process::exit_pid(w, ExitReason::Kill).unwrap();
            let (_, r) = expect_down(m);
            process::send(me, reason_str(&r).as_bytes()).unwrap();
        })
        .unwrap();
        let ready = process::receive_select(T, |m| m.sender() == p2).unwrap();
        assert_eq!(ready.data(), b"ready");
        process::send(p2, b"go").unwrap();
        process::send(w, &etf::to_vec(&atom("queued"))).unwrap();
        assert!(dist::disconnect(&b).unwrap());
        let got = process::receive_select(T, |m| m.sender() == p2)
            .expect("the monitor made after the disconnect fires");
        let r = String::from_utf8_lossy(got.data()).into_owned();
        assert!(
            r == "killed" || r == "noconnection",
            "DOWN of the killed worker: {r}"
        );
    });
    rt.shutdown();
}

#[test]
fn case_134_hive_disconnect_noconnection_once() {
    let Some((_epmd, rt, peer)) = setup("134") else {
        return;
    };
    run_normal(&rt, move || {
        let me = process::self_pid();
        let my_name = node_name();
        let peer_name = peer.name().to_owned();
        process::trap_exit(true).unwrap();
        let (w1, w1t) = spawn_w(&peer_name, "");
        let (w2, w2t) = spawn_w(&peer_name, "");
        let (_, w3t) = spawn_w(&peer_name, "");
        let w3 = to_pid(&w3t);
        process::link(w1).unwrap();
        let m1 = process::monitor(w1).unwrap();
        let w1c = w1t.clone();
        let (x, mx) = process::spawn_monitor(move || {
            process::link(to_pid(&w1c)).unwrap();
            process::send(me, b"linked").unwrap();
            hold();
        })
        .unwrap();
        process::receive_match(T, |_, d| d == b"linked").unwrap();
        wcall(w2, "trap_exit", vec![atom("true")]);
        assert_eq!(wcall(w2, "link", vec![me_t()]).as_atom(), Some("ok"));
        wcall(w2, "monitor", vec![me_t()]);
        let m2 = process::monitor(w2).unwrap();
        wcall(w3, "monitor", vec![w1t.clone()]);
        wcall(w3, "monitor_node", vec![atom(&my_name), atom("true")]);
        dist::monitor_node(&peer_name, true).unwrap();
        wcall(w1, "sync", vec![]);
        assert!(dist::disconnect(&peer_name).unwrap());
        assert_eq!(dist::nodes().unwrap(), Vec::<String>::new());
        expect_loss(&peer_name, &[w1, w2], &[(m1, w1), (m2, w2), (mx, x)], T);
        assert!(!dist::disconnect(&peer_name).unwrap());
        // The peer's side, asked over stdin (no new connection).
        let fwd = |wt: &Term, n: i64| {
            tup(vec![
                atom("forward"),
                atom("none"),
                wt.clone(),
                tup(vec![
                    atom("await"),
                    atom("none"),
                    Term::Int(n),
                    Term::Int(10_000),
                ]),
            ])
        };
        let (c2, c3) = (fwd(&w2t, 2), fwd(&w3t, 2));
        let p2 = peer.clone();
        let (g2, g3, pn) =
            process::blocking(move || (p2.call(&c2), p2.call(&c3), p2.nodes())).unwrap();
        // Case 135: the lost connection is not set up again by the peer (a process killed
        // by `noconnection` must not send its link exits over a new connection).
        assert_eq!(
            pn,
            Vec::<String>::new(),
            "the peer reconnected after the loss"
        );
        let mut g2: Vec<String> = items(&g2)
            .iter()
            .map(|t| {
                let (k, f) = item(t);
                let who = to_pid(&f[f.len() - 2]);
                assert_eq!(who, me, "{t}");
                format!("{k} {}", f[f.len() - 1])
            })
            .collect();
        g2.sort();
        assert_eq!(g2, ["DOWN noconnection", "EXIT noconnection"]);
        let mut g3: Vec<String> = items(&g3)
            .iter()
            .map(|t| {
                let (k, f) = item(t);
                match k.as_str() {
                    "DOWN" => {
                        assert_eq!(to_pid(&f[1]), w1);
                        format!("DOWN {}", f[2])
                    }
                    _ => format!("{k} {}", f[1]),
                }
            })
            .collect();
        g3.sort();
        assert_eq!(
            g3,
            [
                "DOWN noconnection".to_owned(),
                format!("msg {{nodedown,{my_name}}}")
            ]
        );
        // Exactly once: a new connection, then nothing more on either side.
        assert_eq!(
            agent_call(&peer_name, "ping", vec![]).as_atom(),
            Some(peer_name.as_str())
        );
        for wt in [&w2t, &w3t] {
            let got = items(&wcall(
                to_pid(wt),
                "await",
                vec![Term::Int(0), Term::Int(0)],
            ));
            assert!(got.is_empty(), "{got:?}");
        }
        none_queued("second signal of the lost connection", |m| {
            matches!(m.kind(), MessageKind::Exit | MessageKind::Down) || is_nodedown(m)
        });
    });
    rt.shutdown();
}

/// Case 136 (Hive ↔ Hive): the peer's OS process is killed (SIGKILL): every link (made
/// from either side) and monitor across gives `noconnection` exactly once, a non-trapping
/// linked process dies of it, `monitor_node` gives one `{nodedown, N}`.
#[test]
fn case_136_hive_peer_sigkill_noconnection_once() {
    let Some((_epmd, rt, peer)) = setup("136") else {
        return;
    };
    run_normal(&rt, move || {
        let me = process::self_pid();
        let peer_name = peer.name().to_owned();
        process::trap_exit(true).unwrap();
        let (w1, w1t) = spawn_w(&peer_name, "");
        let (w2, _) = spawn_w(&peer_name, "");
        process::link(w1).unwrap();
        let m1 = process::monitor(w1).unwrap();
        let (x, mx) = process::spawn_monitor(move || {
            process::link(to_pid(&w1t)).unwrap();
            process::send(me, b"linked").unwrap();
            hold();
        })
        .unwrap();
        process::receive_match(T, |_, d| d == b"linked").unwrap();
        assert_eq!(wcall(w2, "link", vec![me_t()]).as_atom(), Some("ok"));
        let m2 = process::monitor(w2).unwrap();
        dist::monitor_node(&peer_name, true).unwrap();
        wcall(w1, "sync", vec![]);
        let p2 = peer.clone();
        process::blocking(move || p2.kill()).unwrap();
        expect_loss(&peer_name, &[w1, w2], &[(m1, w1), (m2, w2), (mx, x)], T);
        assert_eq!(dist::nodes().unwrap(), Vec::<String>::new());
        // Exactly once: a new monitor_node finds the node gone (one nodedown), and
        // nothing else came before it.
        dist::monitor_node(&peer_name, true).unwrap();
        let m = process::receive(T).unwrap();
        assert!(
            is_nodedown(&m),
            "{:?} {:?} {}",
            m.kind(),
            m.reason(),
            text(&m)
        );
        none_queued("second signal of the lost connection", |m| {
            matches!(m.kind(), MessageKind::Exit | MessageKind::Down) || is_nodedown(m)
        });
    });
    rt.shutdown();
}

/// Starts `hp141x` (killed in the middle) and returns the runtime, the EPMD, the old
/// peer's creation, a pid term of a process of the old incarnation, and the new peer;
/// `None` when the test is skipped.
fn restarted(tag: &str) -> Option<(Epmd, Runtime, u32, Term, Arc<HivePeer>)> {
    let epmd = private_epmd()?;
    let rt = hive_node(&epmd, &format!("ht{tag}"));
    let short = format!("hp{tag}");
    let old = Arc::new(HivePeer::start(epmd.port(), &short, COOKIE));
    let c1 = old.creation();
    let (tx, rx) = std::sync::mpsc::channel();
    let o2 = old.clone();
    run_normal(&rt, move || {
        let (w, wt) = spawn_w(o2.name(), "");
        let m = process::monitor(w).unwrap();
        let o3 = o2.clone();
        process::blocking(move || o3.kill()).unwrap();
        assert_eq!(expect_down(m), (w, ExitReason::Noconnection));
        tx.send(wt).unwrap();
    });
    let old_w = rx.recv().unwrap();
    drop(old);
    assert!(epmd.wait_unregistered(&short, std::time::Duration::from_secs(10)));
    let new = Arc::new(HivePeer::start(epmd.port(), &short, COOKIE));
    Some((epmd, rt, c1, old_w, new))
}

/// A pid term of `t`'s node and numbers with creation `c`.
fn with_creation(t: &Term, c: u32) -> Term {
    match t {
        Term::Pid(p) => Term::Pid(hive_rt::dist::etf::ExtPid {
            creation: c,
            ..p.clone()
        }),
        _ => panic!("not a pid: {t}"),
    }
}

/// Case 141 (Hive ↔ Hive): a peer restarted under the same name has a new creation; a pid
/// with the old creation and the numbers of a live new process is another pid, and a send
/// to it (or to a process of the old incarnation) is dropped.
#[test]
fn case_141_hive_restarted_peer_new_creation_sends_dropped() {
    let Some((_epmd, rt, c1, old_w, peer)) = restarted("141a") else {
        return;
    };
    assert_ne!(peer.creation(), c1, "a new incarnation gets a new creation");
    run_normal(&rt, move || {
        let me = process::self_pid();
        let (w, wt) = spawn_w(peer.name(), "");
        let old_r = to_pid(&with_creation(&wt, c1));
        let old_w = to_pid(&old_w);
        assert_ne!(old_r, w);
        assert_ne!(old_w, w);
        assert_eq!(
            dist::pid_term(w).unwrap().unwrap().creation,
            peer.creation()
        );
        process::send(old_r, &etf::to_vec(&atom("hello_old"))).unwrap();
        process::send(old_w, &etf::to_vec(&atom("hello_old_w"))).unwrap();
        process::send(w, &etf::to_vec(&atom("hello_new"))).unwrap();
        let got = items(&wcall(w, "await", vec![Term::Int(1), Term::Int(10_000)]));
        assert_eq!(got.len(), 1, "{got:?}");
        let (_, f) = item(&got[0]);
        assert_eq!((to_pid(&f[0]), &f[1]), (me, &atom("hello_new")));
        let got = items(&wcall(w, "await", vec![Term::Int(0), Term::Int(0)]));
        assert!(got.is_empty(), "{got:?}");
    });
    rt.shutdown();
}

/// Case 141 (Hive ↔ Hive): with the restarted node up, `monitor` of a pid of the old
/// incarnation gives a DOWN `noproc` and `link` an EXIT `noproc` (the node is up, so not
/// `noconnection`).
#[test]
fn case_141_hive_old_incarnation_link_monitor_noproc() {
    let Some((_epmd, rt, c1, old_w, peer)) = restarted("141b") else {
        return;
    };
    run_normal(&rt, move || {
        process::trap_exit(true).unwrap();
        let (_, wt) = spawn_w(peer.name(), "");
        let old_r = to_pid(&with_creation(&wt, c1));
        let old_w = to_pid(&old_w);
        let mut got = Vec::new();
        for p in [old_r, old_w] {
            let m = process::monitor(p).unwrap();
            got.push(format!("DOWN {}", reason_str(&expect_down(m).1)));
            process::link(p).unwrap();
            got.push(format!("EXIT {}", reason_str(&expect_exit(p))));
        }
        assert_eq!(
            got,
            ["DOWN noproc", "EXIT noproc", "DOWN noproc", "EXIT noproc"]
        );
    });
    rt.shutdown();
}

/// Case 141 (Hive ↔ Hive), on the restarted node itself: a pid of its old incarnation is a
/// dead local pid: a monitor gives `noproc`, a link gives an EXIT `noproc`.
#[test]
fn case_141_hive_old_incarnation_pid_is_dead_on_restarted_node() {
    let Some((_epmd, rt, c1, _old_w, peer)) = restarted("141c") else {
        return;
    };
    run_normal(&rt, move || {
        let (w, wt) = spawn_w(peer.name(), "");
        let old_r = with_creation(&wt, c1);
        wcall(w, "trap_exit", vec![atom("true")]);
        let mref = wcall(w, "monitor", vec![old_r.clone()]);
        assert_eq!(wcall(w, "link", vec![old_r.clone()]).as_atom(), Some("ok"));
        let got = items(&wcall(w, "await", vec![Term::Int(2), Term::Int(10_000)]));
        let got: Vec<String> = got
            .iter()
            .map(|t| {
                let (k, f) = item(t);
                match k.as_str() {
                    "DOWN" => {
                        assert_eq!(f[0], mref);
                        format!("DOWN {}", f[2])
                    }
                    _ => format!("{k} {}", f[f.len() - 1]),
                }
            })
            .collect();
        assert_eq!(got, ["DOWN noproc", "EXIT noproc"]);
    });
    rt.shutdown();
}
