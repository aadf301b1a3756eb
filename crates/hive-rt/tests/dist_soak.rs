//! Multi-node soak with invariants (issue 18, part 3): the single-node soak's invariants
//! (`tests/soak.rs`) across nodes. Three nodes on a private EPMD: this test's Hive node, a
//! Hive peer in its own OS process (`common/hive_peer.rs`; four lanes between the two Hive
//! nodes, the default) and a real `erl` node (`common/erl.rs`, module
//! `tests/erl/dist_soak.erl` loaded through `eval`).
//!
//! `cargo test -p hive-rt --test dist_soak` runs 4 s of it without connection cuts (part
//! of `make test`); `make soak-dist` runs it for a minute in release with cuts
//! (`DIST_SOAK_SECS`, `DIST_SOAK_CUT`, 5 per mille). With cuts it still finds, rarely, a
//! `noconnection` no cut explains between two Hive nodes reconnecting at once
//! (`docs/distribution.md`, "Multi-node soak"): so `make test` leaves cuts to
//! `tests/dist_faults.rs`, whose cuts are deterministic. Knobs:
//! `HIVE_DIST_SOAK_SECS`, `HIVE_DIST_SOAK_SEED`, `HIVE_DIST_SOAK_DRIVERS` (4),
//! `HIVE_DIST_SOAK_CUT` (per mille of the chances to cut a connection that are taken, 0),
//! `HIVE_DIST_SOAK_NODES` (`peer` or `erl`: workers on that node only; both by default),
//! `HIVE_DIST_SOAK_LANES` (this node's lanes, 4), `HIVE_DIST_SOAK_WAIT_MS` (60,000).
//! `HIVE_SKIP_ERL=1` skips it, as every distribution test.
//!
//! ## What runs
//! Driver processes on this node (they trap exits), each with its own seeded generator,
//! run rounds until the time is up (`dist_soak/round.rs`). A round spawns a worker on the
//! Hive peer or on erl with `spawn_request` and `[link, monitor]` (a cut that loses the
//! request gives `{spawn_reply, R, error, noconnection}`, and the worker dies of its link),
//! sometimes unlinks it, makes it trap exits, monitors it a second time, gives it a local
//! partner process linked to it (that the worker may monitor), exchanges numbered messages
//! `{seq, Sender, K}` both ways (the worker records what it gets and hands it over on
//! `await`), and cuts the whole connection to that node (`dist::disconnect`, every lane)
//! now and then in the middle of it, after which the driver monitors the worker again
//! (which reconnects) and goes on if it is alive. The worker's fate: `die` with `normal`
//! or a custom reason, `exit(W, kill)`, `exit(W, Reason)` or `exit(W, normal)` (a trapping
//! worker records them and is then told to die), or its partner dies with a custom reason
//! (a non-trapping worker dies of it; a trapping one records the EXIT, and the DOWN if it
//! monitors the partner). After the end, sometimes a monitor and a link of the dead pid,
//! and a message to it. A worker a cut left alive is killed (`exit(W, kill)` under a new
//! monitor, until a DOWN other than `noconnection` says it is gone).
//!
//! ## What is checked (a violation is recorded; the test fails at the end with the list)
//! - **Monitors** fire exactly once (a DOWN for an unknown or fired reference is a
//!   violation; one that never comes fails its wait), with a reason the process may have:
//!   the one it was told or sent (its own), `noproc` only for a monitor set up when it may
//!   have been dead, `noconnection` only when a cut of its node started after the monitor
//!   was made (or the process itself may have died of `noconnection` over a link).
//! - **Links**: exactly one EXIT per link (the driver traps), with the same rule; after an
//!   `unlink` at most one (queued before it). Remote workers that trap record exactly the
//!   EXITs (and DOWNs) expected, with the partner's or driver's reason.
//! - **Messages** per sender → receiver pair, both ways: in order, no duplicates, none that
//!   was not sent; every one sent before a call has arrived when its reply does, unless a cut
//!   may have lost it (gaps only over numbers sent before a cut was seen).
//! - **Reconnection**: after a cut, the next monitor and send reconnect: the worker answers
//!   a `sync` (a call that never gets its reply fails the round's wait).
//! - **At the end**: every driver finished, no monitor left unfired, the processes of
//!   this node, of the Hive peer (agent command `procs`) and of erl
//!   (`erlang:system_info(process_count)`, and no `dist_soak:actor` left) are back to what
//!   they were before the first connection, once the test has disconnected both nodes.
//!
//! ## Where
//! This file: knobs, counters, the nodes and the test; `dist_soak/driver.rs`: a driver's
//! bookkeeping and checks; `dist_soak/round.rs`: what a round does.

mod common;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::dist::{erl, private_epmd, run_normal, COOKIE};
use common::hive_peer::{atom, tup, HivePeer};
use hive_rt::{dist, process, ExitReason};

#[path = "dist_soak/driver.rs"]
mod driver;
#[path = "dist_soak/round.rs"]
mod round;

/// The failure bound of every wait of a driver, ms (generous: 2 cores shared with others;
/// `HIVE_DIST_SOAK_WAIT_MS`).
static WAIT: AtomicU64 = AtomicU64::new(60_000);

#[allow(non_snake_case)]
fn WAIT_MS() -> u32 {
    WAIT.load(Relaxed) as u32
}

static CUT_PER_MILLE: AtomicU64 = AtomicU64::new(5);
/// Which nodes get workers: 0 the peer only, 1 erl only, 2 both.
static NODES: AtomicU64 = AtomicU64::new(2);
static CUT_STARTED: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
static CUT_DONE: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
static DRIVERS_DONE: AtomicU64 = AtomicU64::new(0);
static VIOLATIONS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Totals, printed at the end.
#[derive(Default)]
struct Totals {
    rounds: AtomicU64,
    spawned: [AtomicU64; 2],
    spawns_cut: AtomicU64,
    cuts: [AtomicU64; 2],
    recoveries: AtomicU64,
    msgs_out: AtomicU64,
    msgs_out_seen: AtomicU64,
    msgs_in: AtomicU64,
    gaps_after_cut: AtomicU64,
    downs: AtomicU64,
    noconnection_downs: AtomicU64,
    noproc_downs: AtomicU64,
    exits: AtomicU64,
    remote_records: AtomicU64,
    partner_deaths: AtomicU64,
    noproc_checks: AtomicU64,
    late_replies: AtomicU64,
    no_sender: AtomicU64,
}

static TOTALS: std::sync::LazyLock<Totals> = std::sync::LazyLock::new(Totals::default);

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Relaxed);
}

fn violation(msg: String) {
    let mut v = VIOLATIONS.lock().unwrap();
    if v.len() < 100 {
        v.push(msg);
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// splitmix64, as in `soak.rs`.
#[derive(Clone, Copy)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Polls `cond` until it holds or `bound` passes (a failure bound: a node's processes
/// end after a disconnect with no event this test can wait for).
fn eventually(bound: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + bound;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20)); // poll interval; `bound` is the bound
    }
    cond()
}

/// The entry of the peer node's process: does nothing in a normal test run.
#[test]
fn hive_peer_main() {
    common::hive_peer::peer_main();
}

/// `erlang:system_info(process_count)` and the `dist_soak` actors left on `e`.
fn erl_counts(e: &common::erl::ErlNode) -> (u64, u64) {
    let r = e
        .eval("{erlang:system_info(process_count), dist_soak:soak_procs()}")
        .expect("eval");
    let (a, b) = r
        .trim_matches(|c| c == '{' || c == '}')
        .split_once(',')
        .expect("a pair");
    (a.parse().expect("count"), b.parse().expect("count"))
}

/// The peer runtime's process count, asked over stdin (no connection).
fn peer_procs(p: &HivePeer) -> u64 {
    let t = p.call(&tup(vec![atom("procs"), atom("none")]));
    t.as_int().expect("an integer") as u64
}

#[test]
fn dist_soak_with_invariants() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let secs = env_u64("HIVE_DIST_SOAK_SECS", 4);
    let seed = env_u64("HIVE_DIST_SOAK_SEED", 0xd157_50a4);
    let drivers = env_u64("HIVE_DIST_SOAK_DRIVERS", 4);
    CUT_PER_MILLE.store(env_u64("HIVE_DIST_SOAK_CUT", 0), Relaxed);
    WAIT.store(env_u64("HIVE_DIST_SOAK_WAIT_MS", 60_000), Relaxed);
    NODES.store(
        match std::env::var("HIVE_DIST_SOAK_NODES").as_deref() {
            Ok("peer") => 0,
            Ok("erl") => 1,
            _ => 2,
        },
        Relaxed,
    );

    // Lanes toward the peer: the smaller of both nodes' (the peer has the default, 4).
    let lanes = env_u64(
        "HIVE_DIST_SOAK_LANES",
        dist::Options::default().lanes as u64,
    );
    let rt = common::rt(2);
    rt.dist_start(dist::Options {
        name: "dsoak@localhost".into(),
        cookie: Some(COOKIE.into()),
        listen: "127.0.0.1:0".parse().expect("addr"),
        discovery: dist::Discovery::Epmd(epmd.port()),
        start_epmd: false,
        tick_time_ms: common::hive_peer::TICK_MS,
        lanes: lanes as usize,
        ..dist::Options::default()
    })
    .expect("dist_start");
    let peer = Arc::new(HivePeer::start(epmd.port(), "dsoakp", COOKIE));
    let e = erl(&epmd, "dsoake");
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/erl/dist_soak.erl");
    let load = format!(
        "{{ok, dist_soak, DsBeam__}} = compile:file(\"{src}\", [binary, return_errors]), \
         {{module, dist_soak}} = code:load_binary(dist_soak, \"{src}\", DsBeam__), \
         {{ok, _}} = inet:gethostbyname(\"localhost\"), dist_soak:start()."
    );
    assert_eq!(e.eval(&load), Ok("ok".into()), "{}", e.output_tail());

    // Baselines, before any connection.
    let base_local = rt.process_count();
    let base_peer = peer_procs(&peer);
    let (base_erl, _) = erl_counts(&e);
    assert!(e.eval("DsBase__ = processes(), ok").is_ok());
    let nodes = [peer.name().to_owned(), e.name().to_owned()];
    eprintln!(
        "dist_soak: {secs} s, {drivers} drivers, seed {seed:#x}, cut {} ‰; baseline processes: \
         {base_local} here, {base_peer} on {}, {base_erl} on {}",
        CUT_PER_MILLE.load(Relaxed),
        nodes[0],
        nodes[1]
    );

    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let mut pids = Vec::new();
    for d in 0..drivers {
        let s = seed.wrapping_add(d.wrapping_mul(0x9E37_79B9));
        let n = nodes.clone();
        pids.push(
            rt.spawn(move || round::driver(d, s, n, deadline))
                .expect("spawn"),
        );
    }
    for p in pids {
        // Ok(normal), or noproc: it ended before we looked. A driver ends once its
        // round does; each wait in it is bounded by WAIT_MS().
        let r = rt.wait_timeout(p, Duration::from_secs(secs + 600));
        if !matches!(r, Ok(ExitReason::Normal) | Ok(ExitReason::Noproc)) {
            violation(format!("driver {p:?} ended {r:?}"));
        }
    }
    let ran = start.elapsed();
    // Both connections go; then every node is back to its process count from before.
    let n2 = nodes.clone();
    run_normal(&rt, move || {
        for n in &n2 {
            dist::disconnect(n).expect("disconnect");
        }
        let _ = process::self_pid();
    });
    let local_ok = eventually(Duration::from_secs(30), || rt.process_count() == base_local);
    let peer_ok = eventually(Duration::from_secs(30), || peer_procs(&peer) == base_peer);
    let erl_ok = eventually(Duration::from_secs(30), || erl_counts(&e) == (base_erl, 0));
    let end_local = rt.process_count();
    let end_peer = peer_procs(&peer);
    let end_erl = erl_counts(&e);
    if !erl_ok {
        let extra = e.eval(
            "{nodes(connected), [{P, erlang:process_info(P, [registered_name, initial_call, \
             current_function, dictionary])} || P <- processes() -- DsBase__]}",
        );
        eprintln!("dist_soak: erl processes not there before: {extra:?}");
    }

    let t = &*TOTALS;
    let g = |c: &AtomicU64| c.load(Relaxed);
    eprintln!(
        "dist_soak: {:.1} s: {} rounds, workers spawned {} on the peer / {} on erl ({} lost to \
         cuts), cuts {} / {} ({} recoveries), messages driver → worker {} sent / {} seen, \
         worker → driver {} ({} gaps after cuts), {} DOWNs ({} noconnection, {} noproc), {} \
         EXITs, {} remote records checked, {} partner deaths, {} noproc checks, {} late replies, {} replies without a sender",
        ran.as_secs_f64(),
        g(&t.rounds),
        g(&t.spawned[0]),
        g(&t.spawned[1]),
        g(&t.spawns_cut),
        g(&t.cuts[0]),
        g(&t.cuts[1]),
        g(&t.recoveries),
        g(&t.msgs_out),
        g(&t.msgs_out_seen),
        g(&t.msgs_in),
        g(&t.gaps_after_cut),
        g(&t.downs),
        g(&t.noconnection_downs),
        g(&t.noproc_downs),
        g(&t.exits),
        g(&t.remote_records),
        g(&t.partner_deaths),
        g(&t.noproc_checks),
        g(&t.late_replies),
        g(&t.no_sender),
    );
    eprintln!(
        "dist_soak: end processes: {end_local} here (baseline {base_local}), {end_peer} on the \
         peer ({base_peer}), {} on erl ({base_erl}) with {} soak actors left",
        end_erl.0, end_erl.1
    );
    let mut v = VIOLATIONS.lock().unwrap().clone();
    if DRIVERS_DONE.load(Relaxed) != drivers {
        v.push(format!(
            "{} of {drivers} drivers finished",
            DRIVERS_DONE.load(Relaxed)
        ));
    }
    if !local_ok {
        v.push(format!(
            "local processes {end_local}, baseline {base_local}"
        ));
    }
    if !peer_ok {
        v.push(format!("peer processes {end_peer}, baseline {base_peer}"));
    }
    if !erl_ok {
        v.push(format!(
            "erl processes {} ({} soak actors), baseline {base_erl}",
            end_erl.0, end_erl.1
        ));
    }
    let nodes_used = NODES.load(Relaxed);
    if g(&t.rounds) == 0
        || (nodes_used != 1 && g(&t.spawned[0]) == 0)
        || (nodes_used != 0 && g(&t.spawned[1]) == 0)
    {
        v.push("the soak did nothing on some node".into());
    }
    eprintln!("dist_soak: {}", if v.is_empty() { "PASS" } else { "FAIL" });
    drop(e);
    drop(peer);
    rt.shutdown();
    assert!(
        v.is_empty(),
        "{} violations (seed {seed:#x}):\n{}",
        v.len(),
        v.join("\n")
    );
}
