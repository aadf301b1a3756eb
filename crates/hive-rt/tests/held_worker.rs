//! A worker held by one process's own code (a blocking call that is not a Hive call) is
//! taken over by another thread: the timers armed on it fire and the processes queued on
//! it run while the holder is still blocked; the holder's next runtime call continues on
//! another worker (docs/design.md, "Held workers").
//!
//! Every test blocks the holder on an OS-level channel that only the test thread releases,
//! and releases it only after the other processes have done their work. Without a takeover
//! those processes could never run, and the test would fail at its bound.

mod common;
use common::*;
use hive_rt::{process, ExitReason, TimerDest};
use std::sync::mpsc;
use std::time::Duration;

/// Failure bound of every wait here (never reached when the runtime works).
const BOUND: Duration = Duration::from_secs(30);

/// Spawns (from inside a process, so onto the held worker) `n` processes that each sleep,
/// wait in a receive with a timeout and take a `send_after` message, then report to
/// `done`; then blocks its worker until `release` fires, then uses the runtime again.
fn scenario(schedulers: usize, n: usize) {
    let rt = rt(schedulers);
    let (done_tx, done_rx) = mpsc::channel::<u64>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (after_tx, after_rx) = mpsc::channel::<Vec<u8>>();
    let holder = rt
        .spawn(move || {
            for i in 0..n as u64 {
                let done = done_tx.clone();
                process::spawn(move || {
                    // A timer on this worker's wheel (sleep)...
                    process::sleep(20).unwrap();
                    // ...a receive timeout...
                    let r = process::receive(Some(20));
                    assert_eq!(r.unwrap_err().0, hive_rt::Status::Timeout);
                    // ...and a user timer.
                    let me = process::self_pid();
                    process::send_after(TimerDest::Pid(me), 10, b"tick").unwrap();
                    let m = process::receive(Some(60_000)).unwrap();
                    assert_eq!(m.data(), b"tick");
                    done.send(i).unwrap();
                })
                .unwrap();
            }
            // Hold the worker: a blocking call outside the runtime.
            release_rx.recv().unwrap();
            // Back in the runtime: these calls run on whatever worker took the process.
            let me = process::self_pid();
            process::send(me, b"after").unwrap();
            let m = process::receive(Some(60_000)).unwrap();
            process::sleep(1).unwrap();
            after_tx.send(m.data().to_vec()).unwrap();
        })
        .unwrap();
    let mut seen = vec![false; n];
    for _ in 0..n {
        let i = done_rx
            .recv_timeout(BOUND)
            .expect("processes queued behind a held worker ran and their timers fired");
        seen[i as usize] = true;
    }
    assert!(seen.iter().all(|&s| s));
    // With one scheduler only a takeover lets them run. With two, the free worker may
    // also steal them from the held worker's queue before the takeover monitor acts
    // (its 10 ms bound), so either moved them.
    let st = rt.stats();
    if schedulers == 1 {
        assert!(st.takeovers >= 1, "a takeover was counted: {st:?}");
    } else {
        assert!(
            st.takeovers + st.steals >= 1,
            "a takeover or steal was counted: {st:?}"
        );
    }
    release_tx.send(()).unwrap();
    assert_eq!(after_rx.recv_timeout(BOUND).unwrap(), b"after");
    let _ = holder;
}

#[test]
fn one_scheduler_held_worker_is_taken_over() {
    scenario(1, 4);
}

#[test]
fn two_schedulers_held_worker_is_taken_over() {
    scenario(2, 8);
}

/// The holder is held several times in a row: each time it loses its worker, and each time
/// its next call continues elsewhere; spare threads are reused.
#[test]
fn repeated_holds() {
    let rt = rt(1);
    for round in 0..5u64 {
        let (tx, rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel::<u64>();
        let holder = rt
            .spawn(move || {
                let d = done_tx.clone();
                process::spawn(move || {
                    process::sleep(5).unwrap();
                    d.send(round).unwrap();
                })
                .unwrap();
                rx.recv().unwrap();
                process::sleep(1).unwrap();
                done_tx.send(100 + round).unwrap();
            })
            .unwrap();
        assert_eq!(done_rx.recv_timeout(BOUND).unwrap(), round);
        tx.send(()).unwrap();
        assert_eq!(
            done_rx.recv_timeout(BOUND).unwrap(),
            100 + round,
            "round {round}: {:?}",
            rt.stats()
        );
        let _ = holder;
    }
    assert!(rt.stats().takeovers >= 5);
}

/// A process that overflows its stack after its worker was taken over ends with
/// `stack_overflow` like any other (its exit path runs on whichever worker picks it up).
#[test]
fn stack_overflow_after_takeover() {
    let rt = rt(1);
    let (tx, rx) = mpsc::channel::<()>();
    let (ran_tx, ran_rx) = mpsc::channel::<()>();
    let holder = rt
        .spawn(move || {
            process::spawn(move || {
                process::sleep(5).unwrap();
                ran_tx.send(()).unwrap();
            })
            .unwrap();
            rx.recv().unwrap();
            recurse(0);
        })
        .unwrap();
    ran_rx.recv_timeout(BOUND).unwrap();
    assert!(rt.stats().takeovers >= 1);
    // A watcher monitors the holder (before it is released, so it sees the DOWN whenever
    // the holder dies) and reports the DOWN's reason.
    let (down_tx, down_rx) = mpsc::channel::<Option<ExitReason>>();
    let (watching_tx, watching_rx) = mpsc::channel::<()>();
    rt.spawn(move || {
        let mref = process::monitor(holder).unwrap();
        watching_tx.send(()).unwrap();
        let m = process::receive(Some(60_000)).unwrap();
        assert_eq!(m.monitor_ref(), mref);
        down_tx.send(m.reason()).unwrap();
    })
    .unwrap();
    watching_rx.recv_timeout(BOUND).unwrap();
    tx.send(()).unwrap();
    assert_eq!(
        down_rx.recv_timeout(BOUND).unwrap(),
        Some(ExitReason::error("stack_overflow"))
    );
    // The runtime goes on.
    assert!(rt.run(|| process::sleep(1).unwrap()).unwrap().is_normal());
}

/// `process::blocking_begin` hands the worker over at once: a section that blocks for no
/// time at all still moves the process to another OS thread, which the monitor (10 ms of
/// holding) would never do, and the hand-off is counted.
#[test]
fn blocking_section_hands_the_worker_over_at_once() {
    let rt = rt(1);
    let before = rt.stats().takeovers;
    let (tx, rx) = mpsc::channel();
    rt.spawn(move || {
        let t0 = std::thread::current().id();
        process::blocking_begin().unwrap();
        // The section: nothing blocks, nothing waits.
        process::blocking_end().unwrap();
        let t1 = std::thread::current().id();
        // Back on a worker: the runtime works as before.
        let me = process::self_pid();
        process::send(me, b"back").unwrap();
        let m = process::receive(Some(60_000)).unwrap();
        tx.send((t0 != t1, m.data().to_vec())).unwrap();
    })
    .unwrap();
    let (moved, data) = rx.recv_timeout(BOUND).expect("the process came back");
    assert!(
        moved,
        "the process left the thread that gave its worker away"
    );
    assert_eq!(data, b"back");
    assert!(rt.stats().takeovers > before, "{:?}", rt.stats());
}

/// While a process is in a blocking section (`process::blocking`), the processes queued on
/// its worker run and their timers fire; it continues afterwards.
#[test]
fn blocking_section_lets_queued_processes_and_timers_run() {
    let rt = rt(1);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (after_tx, after_rx) = mpsc::channel::<()>();
    rt.spawn(move || {
        process::spawn(move || {
            process::sleep(5).unwrap();
            let r = process::receive(Some(5));
            assert_eq!(r.unwrap_err().0, hive_rt::Status::Timeout);
            done_tx.send(()).unwrap();
        })
        .unwrap();
        // Blocks the OS thread until the test saw the other process finish.
        process::blocking(|| release_rx.recv().unwrap()).unwrap();
        process::sleep(1).unwrap();
        after_tx.send(()).unwrap();
    })
    .unwrap();
    done_rx
        .recv_timeout(BOUND)
        .expect("the queued process ran and its timers fired during the blocking section");
    release_tx.send(()).unwrap();
    after_rx
        .recv_timeout(BOUND)
        .expect("the blocking process continued");
}

/// Outside a process the calls say so.
#[test]
fn blocking_calls_need_a_process() {
    assert_eq!(
        process::blocking_begin().unwrap_err().0,
        hive_rt::Status::ErrNotAProcess
    );
    assert_eq!(
        process::blocking_end().unwrap_err().0,
        hive_rt::Status::ErrNotAProcess
    );
}

/// A runtime call that waits in a blocking section of its own works from a process:
/// `dist_start` waits for its acceptor so. The process gives its worker away for the wait
/// and is back on a worker before the call goes on, so everything after it works; on one
/// scheduler the acceptor can only run because the worker was given away.
#[test]
fn a_runtime_call_with_a_blocking_section_inside_works_from_a_process() {
    use hive_rt::dist::{Discovery, Options};
    let rt = std::sync::Arc::new(rt(1));
    let before = rt.stats().takeovers;
    let (tx, rx) = mpsc::channel();
    let r2 = rt.clone();
    rt.spawn(move || {
        let info = r2
            .dist_start(Options {
                name: "blocking_inside@localhost".into(),
                cookie: Some("c".into()),
                listen: "127.0.0.1:0".parse().unwrap(),
                discovery: Discovery::FixedPort(0),
                start_epmd: false,
                ..Options::default()
            })
            .expect("dist_start from a process");
        // The runtime as usual afterwards: a spawn, a message round trip, a timer.
        let me = process::self_pid();
        process::spawn(move || process::send(me, b"child").unwrap()).unwrap();
        let m = process::receive(Some(60_000)).unwrap();
        process::sleep(1).unwrap();
        let name = hive_rt::dist::node_name().unwrap();
        r2.dist_stop().unwrap();
        tx.send((info.name, name, m.data().to_vec())).unwrap();
    })
    .unwrap();
    let (started, name, data) = rx.recv_timeout(BOUND).expect("the process went on");
    assert_eq!(started, "blocking_inside@localhost");
    assert_eq!(name.as_deref(), Some("blocking_inside@localhost"));
    assert_eq!(data, b"child");
    assert!(
        rt.stats().takeovers > before,
        "the wait gave the worker away"
    );
    rt.shutdown();
}
