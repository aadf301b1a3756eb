//! Lanes (`docs/distribution.md`, "Lanes"; `dist/lanes.rs`): two Hive nodes connect over
//! several TCP connections, each local process sending on the one its pid picks. Checked
//! here: the lanes come up (one socket each), the order of every sender's signals holds
//! across the switch from one connection to several and afterwards (messages, then the
//! exit signal of a link), and a stranger who claims to be a lane without the cookie
//! changes nothing.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::dist::{private_epmd, run_normal, COOKIE};
use common::erl::Epmd;
use common::hive_peer::{
    atom, items, spawn_agent, to_pid, tup, wcall, HivePeer, LANES_VAR, REPLY_MS, TICK_MS,
};
use hive_rt::dist::etf::{self, Term};
use hive_rt::dist::{self, Options};
use hive_rt::{net, process, MessageKind, Pid};

/// The entry of the peer node's process: does nothing in a normal test run.
#[test]
fn hive_peer_main() {
    common::hive_peer::peer_main();
}

/// Lanes both nodes offer here (the default is one).
const LANES: usize = 4;

/// A Hive node `name@localhost` offering [`LANES`] lanes, with an agent, and a peer
/// `peer@localhost` offering as many.
fn pair(epmd: &Epmd, name: &str, peer: &str) -> (hive_rt::Runtime, HivePeer) {
    let rt = common::rt(2);
    rt.dist_start(Options {
        name: format!("{name}@localhost"),
        cookie: Some(COOKIE.into()),
        listen: "127.0.0.1:0".parse().unwrap(),
        discovery: dist::Discovery::Epmd(epmd.port()),
        start_epmd: false,
        tick_time_ms: TICK_MS,
        lanes: LANES,
        ..Options::default()
    })
    .unwrap();
    spawn_agent(&rt);
    let env = [(LANES_VAR, LANES.to_string())];
    let p = HivePeer::start_env(epmd.port(), peer, COOKIE, &env);
    (rt, p)
}

const SENDERS: i64 = 8;
const EACH: i64 = 400;

/// From idle, eight processes each send 400 numbered messages to a registered process of
/// the peer at once: the first send connects, the lanes come up while they send, and every
/// sender's messages arrive complete and in order. Then the connection holds one socket
/// per lane on this node.
#[test]
fn lanes_keep_each_senders_order_across_the_switch() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let (rt, peer) = pair(&epmd, "htlane", "hplane");
    // Over stdin: no connection yet.
    let sink = peer.call(&tup(vec![atom("spawn"), atom("none"), atom("sink")]));
    let pname = peer.name().to_owned();
    run_normal(&rt, move || {
        let sink = to_pid(&sink);
        let base = net::open_sockets().unwrap() as i64;
        assert_eq!(dist::nodes().unwrap(), Vec::<String>::new());
        let me = process::self_pid();
        for i in 0..SENDERS {
            let pname = pname.clone();
            process::spawn(move || {
                for k in 1..=EACH {
                    let m = tup(vec![atom("s"), Term::Int(i), Term::Int(k)]);
                    dist::send_name(&pname, "sink", &etf::to_vec(&m)).unwrap();
                }
                process::send(me, b"sent").unwrap();
            })
            .unwrap();
        }
        for _ in 0..SENDERS {
            process::receive_select(Some(REPLY_MS), |m| m.data() == b"sent").unwrap();
        }
        let got = items(&wcall(
            sink,
            "await",
            vec![Term::Int(SENDERS * EACH), Term::Int(i64::from(REPLY_MS))],
        ));
        assert_eq!(got.len() as i64, SENDERS * EACH, "messages lost");
        let mut next = vec![1i64; SENDERS as usize];
        for t in &got {
            let v = t.as_tuple().expect("{msg, From, M}");
            let m = v[2].as_tuple().expect("{s, I, K}");
            let (i, k) = (m[1].as_int().unwrap(), m[2].as_int().unwrap());
            assert_eq!(k, next[i as usize], "sender {i}: out of order");
            next[i as usize] += 1;
        }
        let lanes = LANES as i64;
        assert_eq!(
            net::open_sockets().unwrap() as i64,
            base + lanes,
            "one socket per lane"
        );
    });
}

/// After the switch, each of eight linked processes sends 100 messages to its own
/// (trapping) peer worker and exits `bye`: each worker records its 100 messages and then
/// the EXIT, never the EXIT before a message (the exit signal takes the sender's lane).
#[test]
fn lanes_keep_messages_before_the_exit_signal() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let (rt, peer) = pair(&epmd, "htlanx", "hplanx");
    let workers: Vec<Term> = (0..SENDERS)
        .map(|_| peer.call(&tup(vec![atom("spawn"), atom("none"), atom("undefined")])))
        .collect();
    run_normal(&rt, move || {
        let w2: Vec<Pid> = workers.iter().map(to_pid).collect();
        for &w in &w2 {
            assert_eq!(wcall(w, "trap_exit", vec![atom("true")]), atom("false"));
        }
        let me = process::self_pid();
        for &w in &w2 {
            process::spawn(move || {
                process::link(w).unwrap();
                for k in 1..=100 {
                    process::send(w, &etf::to_vec(&Term::Int(k))).unwrap();
                }
                process::send(me, b"go").unwrap();
                let _ = process::exit(hive_rt::ExitReason::error(etf::to_vec(&atom("bye"))));
            })
            .unwrap();
        }
        for _ in 0..SENDERS {
            process::receive_select(Some(REPLY_MS), |m| {
                m.kind() == MessageKind::Data && m.data() == b"go"
            })
            .unwrap();
        }
        for &w in &w2 {
            let got = items(&wcall(w, "await", vec![Term::Int(101), Term::Int(20_000)]));
            assert_eq!(got.len(), 101, "worker {w:?}: {got:?}");
            for (k, t) in got[..100].iter().enumerate() {
                let v = t.as_tuple().unwrap();
                assert_eq!(v[0], atom("msg"));
                assert_eq!(v[2], Term::Int(k as i64 + 1));
            }
            let last = got[100].as_tuple().unwrap();
            assert_eq!(last[0], atom("EXIT"), "{:?}", got[100]);
        }
    });
}

/// A stranger that knows the peer's name and creation connects and claims to be lane 1,
/// with a wrong cookie digest: it is refused, and the real connection (all its lanes)
/// stays and works.
#[test]
fn a_false_lane_changes_nothing() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let (rt, peer) = pair(&epmd, "htlanf", "hplanf");
    let info_port = epmd_port_of(&epmd, "htlanf");
    let pong = |peer: &HivePeer| {
        peer.call(&tup(vec![
            atom("ping_node"),
            atom("none"),
            atom("htlanf@localhost"),
        ]))
    };
    let (tx, rx) = std::sync::mpsc::channel();
    run_normal(&rt, move || tx.send(net::open_sockets().unwrap()).unwrap());
    let idle = rx.recv().unwrap();
    assert_eq!(pong(&peer), atom("pong"));
    // Every lane up: one socket each (the lanes come up right after the first).
    let sockets = idle + LANES;
    let (tx, rx) = std::sync::mpsc::channel();
    run_normal(&rt, move || {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while net::open_sockets().unwrap() != sockets {
            assert!(std::time::Instant::now() < end, "the lanes did not come up");
            process::yield_now().unwrap();
        }
        tx.send(()).unwrap();
    });
    rx.recv().unwrap();
    // The stranger: send_name as the peer, lane 1, then a wrong digest.
    let mut s = TcpStream::connect(("127.0.0.1", info_port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let name = peer.name().as_bytes();
    let mut body = vec![b'N'];
    body.extend_from_slice(&0x0000_0007_df7f_bd9c_u64.to_be_bytes()); // flags, as a peer's
    body.extend_from_slice(&peer.creation().to_be_bytes());
    body.extend_from_slice(&(name.len() as u16).to_be_bytes());
    body.extend_from_slice(name);
    body.extend_from_slice(b"hive:lane=1");
    let mut msg = (body.len() as u16).to_be_bytes().to_vec();
    msg.extend_from_slice(&body);
    s.write_all(&msg).unwrap();
    // Whatever the status: answer a challenge with a wrong digest, then expect the close.
    let mut buf = [0u8; 4096];
    let _ = s.read(&mut buf);
    let mut reply = vec![0u8, 21, b'r', 0, 0, 0, 1];
    reply.extend_from_slice(&[0u8; 16]);
    let _ = s.write_all(&reply);
    let mut closed = false;
    for _ in 0..100 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => {
                closed = true;
                break;
            }
            Ok(_) => {}
        }
    }
    assert!(closed, "the false lane was not closed");
    drop(s);
    // Nothing changed: still connected, same sockets, still answering.
    assert_eq!(pong(&peer), atom("pong"));
    let (tx, rx) = std::sync::mpsc::channel();
    let pn = peer.name().to_owned();
    run_normal(&rt, move || {
        tx.send((dist::nodes().unwrap(), net::open_sockets().unwrap()))
            .unwrap()
    });
    let (nodes, now) = rx.recv().unwrap();
    assert_eq!(nodes, vec![pn]);
    assert_eq!(now, sockets);
}

/// The port `name` registered with `epmd` (from `epmd -names`).
fn epmd_port_of(epmd: &common::erl::Epmd, name: &str) -> u16 {
    let out = std::process::Command::new("epmd")
        .args(["-port", &epmd.port().to_string(), "-names"])
        .output()
        .expect("epmd -names");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| {
            let rest = l.strip_prefix(&format!("name {name} at port "))?;
            rest.trim().parse().ok()
        })
        .unwrap_or_else(|| panic!("{name} not in epmd -names: {text}"))
}
