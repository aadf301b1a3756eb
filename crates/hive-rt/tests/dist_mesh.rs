//! A mesh of Hive nodes, each in its own OS process (`docs/distribution.md`, "Many
//! nodes"): ten peers and the test's node connect all to all (55 connections), every
//! node sees the ten others, and a node that goes is seen going by every other.

mod common;

use common::dist::{private_epmd, run_normal, COOKIE};
use common::hive_peer::{atom, items, spawn_agent, tup, HivePeer};
use hive_rt::dist;

/// The entry of the peer node's process: does nothing in a normal test run.
#[test]
fn hive_peer_main() {
    common::hive_peer::peer_main();
}

/// Resident memory of OS process `pid`, KiB (`VmRSS`).
fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Eleven nodes (ten peer processes and this one) in a full mesh: every pair connects
/// (each peer pings every other), each node then lists exactly the ten others; killing
/// one peer is seen by all the others (it leaves their node lists).
#[test]
fn eleven_nodes_full_mesh() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = common::dist::hive_node(&epmd, "hmesh");
    spawn_agent(&rt);
    const PEERS: usize = 10;
    let peers: Vec<HivePeer> = (0..PEERS)
        .map(|i| HivePeer::start(epmd.port(), &format!("hmesh{i}"), COOKIE))
        .collect();
    let before: Vec<u64> = peers.iter().map(|p| rss_kib(p.os_pid())).collect();
    let mut names: Vec<String> = peers.iter().map(|p| p.name().to_owned()).collect();
    names.push("hmesh@localhost".into());
    for (i, p) in peers.iter().enumerate() {
        for (j, n) in names.iter().enumerate() {
            if i != j {
                let r = p.call(&tup(vec![atom("ping_node"), atom("none"), atom(n)]));
                assert_eq!(r, atom("pong"), "{} → {n}", p.name());
            }
        }
    }
    for p in &peers {
        let mut got = p.nodes();
        got.sort();
        let mut want: Vec<String> = names.iter().filter(|n| *n != p.name()).cloned().collect();
        want.sort();
        assert_eq!(got, want, "nodes() of {}", p.name());
    }
    let (tx, rx) = std::sync::mpsc::channel();
    run_normal(&rt, move || tx.send(dist::nodes().unwrap()).unwrap());
    assert_eq!(rx.recv().unwrap().len(), PEERS);
    let after: Vec<u64> = peers.iter().map(|p| rss_kib(p.os_pid())).collect();
    let grew: u64 = after
        .iter()
        .zip(&before)
        .map(|(a, b)| a.saturating_sub(*b))
        .sum();
    eprintln!(
        "eleven_nodes_full_mesh: peer RSS before {before:?} KiB, after {after:?} KiB; \
         {:.1} KiB per connection end on average",
        grew as f64 / (PEERS * PEERS) as f64
    );
    // One node goes: each other peer drops it (its monitor_node / tick sees the socket
    // close), so its node list shrinks to nine.
    let gone = peers[0].name().to_owned();
    peers[0].kill();
    for p in &peers[1..] {
        let r = p.call(&tup(vec![atom("ping_node"), atom("none"), atom(&gone)]));
        assert_eq!(r, atom("pang"), "{} still reaches {gone}", p.name());
        let nodes = p.call(&tup(vec![atom("nodes"), atom("none")]));
        assert!(
            !items(&nodes).contains(&atom(&gone)),
            "{} still lists {gone}",
            p.name()
        );
    }
}
