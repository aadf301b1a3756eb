//! Hostile peers at the socket level (`docs/distribution.md`, "Hostile peers"): a peer
//! that connects and stalls, or trickles its handshake a byte at a time (slowloris), is
//! cut at the handshake deadline; connections beyond the handshake limit are closed at
//! once; and the node still accepts a real peer afterwards. (The handshake and decoder
//! under millions of malformed inputs: `make fuzz`.)

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::dist::{private_epmd, COOKIE};
use common::erl::Epmd;
use common::hive_peer::{atom, spawn_agent, tup, HivePeer, TICK_MS};
use hive_rt::dist::{Discovery, Options};
use hive_rt::Runtime;

/// The entry of the peer node's process: does nothing in a normal test run.
#[test]
fn hive_peer_main() {
    common::hive_peer::peer_main();
}

/// A node `name@localhost` with the setup time `setup_ms` and at most `max` handshakes at
/// once; returns it and its port.
fn node(epmd: &Epmd, name: &str, setup_ms: u32, max: usize) -> (Runtime, u16) {
    let rt = common::rt(2);
    let info = rt
        .dist_start(Options {
            name: format!("{name}@localhost"),
            cookie: Some(COOKIE.into()),
            listen: "127.0.0.1:0".parse::<SocketAddr>().unwrap(),
            discovery: Discovery::Epmd(epmd.port()),
            start_epmd: false,
            tick_time_ms: TICK_MS,
            setup_time_ms: setup_ms,
            max_handshakes: max,
            ..Options::default()
        })
        .unwrap();
    spawn_agent(&rt);
    (rt, info.port)
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// True once the node has closed `s` (end of stream or reset).
fn closed(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 64];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// The trickling attacker's pace: one byte per this long.
const PACE: Duration = Duration::from_millis(100);

/// A silent connection, and one that sends a valid-looking length header and then one
/// byte every 100 ms (each read succeeds, the message would take 25 s), are both closed
/// at the handshake deadline (1 s), not after the whole message or never.
#[test]
fn slowloris_is_cut_at_the_handshake_deadline() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let (rt, port) = node(&epmd, "hvslow", 1_000, 64);
    let mut silent = connect(port);
    let mut trickle = connect(port);
    let start = Instant::now();
    trickle.write_all(&[0x01, 0x00]).unwrap(); // a 256-byte handshake message follows
    let mut cut = false;
    for _ in 0..250 {
        if trickle.write_all(b"N").is_err() {
            cut = true;
            break;
        }
        std::thread::sleep(PACE); // the attack's pace (no synchronisation); bound: 250 steps
    }
    assert!(cut, "a trickling handshake was never cut");
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "cut after {took:?}, not at the deadline"
    );
    assert!(closed(&mut silent), "a silent connection was never closed");
    drop(rt);
}

/// With at most 4 handshakes at once, a fifth connection is closed at once while the four
/// stay open; once they go, a real peer connects.
#[test]
fn handshake_limit_closes_the_excess() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let (_rt, port) = node(&epmd, "hvlimit", 20_000, 4);
    let mut held: Vec<TcpStream> = (0..4).map(|_| connect(port)).collect();
    // The acceptor takes connections in order: the four hold the slots, the fifth finds
    // none.
    let mut fifth = connect(port);
    assert!(closed(&mut fifth), "the fifth connection was not closed");
    for s in &mut held {
        s.set_nonblocking(true).unwrap();
        let mut b = [0u8; 1];
        match s.read(&mut b) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("a connection within the limit ended: {other:?}"),
        }
    }
    drop(held);
    let peer = HivePeer::start(epmd.port(), "hplimit", COOKIE);
    // The four slots come back as their controllers see the sockets close; a ping made
    // before that is refused, so retry (bounded).
    let mut pong = false;
    for _ in 0..50 {
        let r = peer.call(&tup(vec![
            atom("ping_node"),
            atom("none"),
            atom("hvlimit@localhost"),
        ]));
        if r == atom("pong") {
            pong = true;
            break;
        }
    }
    assert!(
        pong,
        "no real peer could connect after the stalled ones left"
    );
}
