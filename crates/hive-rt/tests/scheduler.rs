//! Scheduler behaviour: preemption, priorities, migration, no lost wake-ups, shutdown.

mod common;
use common::*;
use hive_rt::{process, Config, ExitReason, Priority, Runtime, SpawnOptions, Status};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// A process that never yields but calls the reduction check is preempted, so another
/// process on the same (only) worker still runs.
#[test]
fn reduction_checks_preempt_a_busy_process() {
    let rt = rt(1);
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let spins = Arc::new(AtomicU64::new(0));
    let spins2 = spins.clone();
    rt.spawn(move || {
        while !stop2.load(Ordering::Relaxed) {
            spins2.fetch_add(1, Ordering::Relaxed);
            process::consume_reductions(1).unwrap();
        }
    })
    .unwrap();
    let r = rt
        .run(|| {
            let me = process::self_pid();
            process::spawn(move || process::send(me, b"ran").unwrap()).unwrap();
            assert_eq!(process::receive(Some(10_000)).unwrap().data(), b"ran");
        })
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    assert!(r.is_normal());
    assert!(
        spins.load(Ordering::Relaxed) > 4000,
        "the spinner ran several slices"
    );
}

/// The inline form: decrementing the context counter and yielding at zero.
/// A process polling its mailbox (`receive` with timeout 0) in a loop is preempted too: a
/// poll that finds nothing costs a reduction. Before, the poller kept its only worker for
/// good and the process it waited for never ran (found by the soak's regression test).
#[test]
fn polling_receive_is_preempted() {
    let rt = rt(1);
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let poller = rt
        .spawn(move || {
            let me = process::self_pid();
            process::spawn(move || process::send(me, b"hello").unwrap()).unwrap();
            let m = loop {
                if let Ok(m) = process::receive(Some(0)) {
                    break m;
                }
            };
            assert_eq!(m.data(), b"hello");
            d.store(true, Ordering::SeqCst);
        })
        .unwrap();
    // Its reason, or `noproc` when it ended before we looked; a hang times out.
    let r = rt.wait_timeout(poller, std::time::Duration::from_secs(20));
    assert!(
        matches!(r, Ok(ExitReason::Normal) | Ok(ExitReason::Noproc)),
        "poller: {r:?}"
    );
    assert!(
        done.load(Ordering::SeqCst),
        "the poller did not get the message"
    );
}

#[test]
fn inline_reduction_counter_preempts() {
    let rt = rt(1);
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    rt.spawn(move || {
        let ctx = process::ctx().unwrap().as_ptr();
        while !stop2.load(Ordering::Relaxed) {
            // SAFETY: our own context, valid while we live.
            unsafe {
                (*ctx).reductions -= 1;
                if (*ctx).reductions <= 0 {
                    process::yield_now().unwrap();
                }
            }
        }
    })
    .unwrap();
    let r = rt
        .run(|| {
            let me = process::self_pid();
            process::spawn(move || process::send(me, b"ran").unwrap()).unwrap();
            assert_eq!(process::receive(Some(10_000)).unwrap().data(), b"ran");
        })
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    assert!(r.is_normal());
}

/// BEAM case 100 (a): a high-priority process runs before normal ones that were queued
/// earlier (one scheduler).
#[test]
fn case_100_high_priority_runs_first() {
    let rt = rt(1);
    rt.run(|| {
        let me = process::self_pid();
        for i in 0..10u64 {
            process::spawn(move || process::send(me, &u64b(i)).unwrap()).unwrap();
        }
        process::spawn_opts(
            SpawnOptions {
                priority: Priority::High,
                ..Default::default()
            },
            move || process::send(me, &u64b(100)).unwrap(),
        )
        .unwrap();
        let first = bu64(process::receive(Some(5000)).unwrap().data());
        assert_eq!(first, 100);
        for _ in 0..10 {
            process::receive(Some(5000)).unwrap();
        }
    })
    .unwrap();
}

/// BEAM case 100 (c): a low-priority process still runs while normal ones keep the worker
/// busy (one scheduler).
#[test]
fn case_100_low_priority_is_not_starved() {
    let rt = rt(1);
    let stop = Arc::new(AtomicBool::new(false));
    for _ in 0..3 {
        let stop = stop.clone();
        rt.spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                process::consume_reductions(100).unwrap();
            }
        })
        .unwrap();
    }
    let r = rt
        .run(|| {
            let me = process::self_pid();
            process::spawn_opts(
                SpawnOptions {
                    priority: Priority::Low,
                    ..Default::default()
                },
                move || process::send(me, b"low ran").unwrap(),
            )
            .unwrap();
            assert_eq!(process::receive(Some(10_000)).unwrap().data(), b"low ran");
        })
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    assert!(r.is_normal());
}

/// BEAM case 100 (b): on one scheduler a busy high-priority process starves normal ones:
/// the normal process, spawned first, runs only after the high one is done.
#[test]
fn case_100_high_priority_starves_normal() {
    let rt = rt(1);
    rt.run(|| {
        let me = process::self_pid();
        process::spawn(move || process::send(me, b"normal_ran").unwrap()).unwrap();
        process::spawn_opts(
            SpawnOptions {
                priority: Priority::High,
                ..Default::default()
            },
            move || {
                // Many slices of work, each ending in a yield: still nothing normal runs.
                for _ in 0..200_000 {
                    process::consume_reductions(10).unwrap();
                }
                process::send(me, b"high_done").unwrap();
            },
        )
        .unwrap();
        // Let both run (we are normal too: we yield by waiting).
        let first = process::receive(Some(10_000)).unwrap();
        let second = process::receive(Some(10_000)).unwrap();
        assert_eq!(
            (first.data(), second.data()),
            (&b"high_done"[..], &b"normal_ran"[..])
        );
    })
    .unwrap();
}

/// BEAM case 99: the priority flag: `set_priority` returns the old level, process_info
/// shows the current one, it is not inherited, and spawn options set it.
#[test]
fn case_99_priority_flag() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let prio = || process::process_info(me).unwrap().unwrap().priority;
        assert_eq!(prio(), Priority::Normal);
        assert_eq!(
            process::set_priority(Priority::High).unwrap(),
            Priority::Normal
        );
        assert_eq!(prio(), Priority::High);
        assert_eq!(
            process::set_priority(Priority::Low).unwrap(),
            Priority::High
        );
        assert_eq!(
            process::set_priority(Priority::High).unwrap(),
            Priority::Low
        );
        // A child of a high parent is normal.
        process::spawn(move || {
            let p = process::process_info(process::self_pid()).unwrap().unwrap();
            process::send(me, &[p.priority as u8]).unwrap();
        })
        .unwrap();
        assert_eq!(
            process::receive(Some(10_000)).unwrap().data(),
            &[Priority::Normal as u8]
        );
        process::spawn_opts(
            SpawnOptions {
                priority: Priority::Low,
                ..Default::default()
            },
            move || {
                let p = process::process_info(process::self_pid()).unwrap().unwrap();
                process::send(me, &[p.priority as u8]).unwrap();
            },
        )
        .unwrap();
        assert_eq!(
            process::receive(Some(10_000)).unwrap().data(),
            &[Priority::Low as u8]
        );
        process::set_priority(Priority::Normal).unwrap();
    })
    .unwrap();
}

/// Many ping-pong pairs across two workers: every round trip completes (a lost wake-up
/// would hang a pair; the receive timeout turns that into a failure).
#[test]
fn ping_pong_pairs_never_lose_a_wake_up() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let pairs = 200;
        let rounds = 500u64;
        for _ in 0..pairs {
            let ponger = process::spawn(|| loop {
                let m = process::receive(Some(30_000)).expect("ping");
                if m.is_empty() {
                    return;
                }
                process::send(m.sender(), m.data()).unwrap();
            })
            .unwrap();
            process::spawn(move || {
                for i in 0..rounds {
                    process::send(ponger, &u64b(i)).unwrap();
                    let m = process::receive(Some(30_000)).expect("pong (lost wake-up?)");
                    assert_eq!(bu64(m.data()), i);
                }
                process::send(ponger, b"").unwrap();
                process::send(me, b"done").unwrap();
            })
            .unwrap();
        }
        for _ in 0..pairs {
            assert_eq!(process::receive(Some(60_000)).unwrap().data(), b"done");
        }
    })
    .unwrap();
}

/// Processes migrate: with one process per worker blocked and a flood of runnable ones,
/// both workers end up running processes (work stealing), and all finish.
#[test]
fn work_is_stolen_and_everything_finishes() {
    let rt = rt(2);
    let threads = Arc::new(parking_lot::Mutex::new(std::collections::HashSet::new()));
    let t2 = threads.clone();
    rt.run(move || {
        let me = process::self_pid();
        let n = 2000;
        for _ in 0..n {
            let t = t2.clone();
            process::spawn(move || {
                let mut sum = 0u64;
                for i in 0..20_000u64 {
                    sum = sum.wrapping_add(i * i);
                    if i % 100 == 0 {
                        t.lock().insert(std::thread::current().id());
                        process::consume_reductions(1).unwrap();
                    }
                }
                process::send(me, &u64b(sum)).unwrap();
            })
            .unwrap();
        }
        for _ in 0..n {
            process::receive(Some(60_000)).unwrap();
        }
    })
    .unwrap();
    // Both workers ran processes. (More threads may have: a slice that runs 10 ms without
    // a process switch, as a slow debug build can make one, has its worker taken over by
    // another thread, see docs/design.md "Held workers".)
    assert!(threads.lock().len() >= 2, "both workers ran processes");
}

/// Shutdown stops every live process with reason `shutdown` and reports how many.
#[test]
fn shutdown_counts_and_stops_blocked_processes() {
    let rt = Runtime::new(Config {
        schedulers: 2,
        ..Config::default()
    })
    .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let n = 1000;
    for _ in 0..n {
        let tx = tx.clone();
        rt.spawn(move || {
            tx.send(()).unwrap();
            let _ = process::receive(None);
        })
        .unwrap();
    }
    for _ in 0..n {
        rx.recv().unwrap();
    }
    let waiter = rt.spawn(|| {
        let _ = process::receive(None);
    });
    let waiter = waiter.unwrap();
    let rt = Arc::new(rt);
    let rt2 = rt.clone();
    let h = std::thread::spawn(move || rt2.wait(waiter));
    // The waiting thread may not have registered yet; shutdown completes it either way
    // (registered: reason shutdown; after the stop: noproc; after shutdown began:
    // ShutDown).
    while rt.process_count() < n + 1 {
        std::thread::yield_now();
    }
    assert_eq!(rt.shutdown(), n + 1);
    match h.join().unwrap() {
        Ok(r) => assert!(
            matches!(r, ExitReason::Shutdown | ExitReason::Noproc),
            "{r:?}"
        ),
        Err(e) => assert_eq!(e.0, Status::ErrShutDown, "{e}"),
    }
    assert_eq!(rt.process_count(), 0);
    assert_eq!(rt.shutdown(), 0, "idempotent");
    assert_eq!(rt.spawn(|| {}).unwrap_err().0, Status::ErrShutDown);
    assert_eq!(rt.send(waiter, b"x").unwrap_err().0, Status::ErrShutDown);
}

/// A panic inside a Rust process ends that process with an error reason; others go on.
#[test]
fn panic_becomes_an_error_exit() {
    let rt = rt(2);
    let r = rt.run(|| panic!("boom")).unwrap();
    assert_eq!(r, ExitReason::error("panic: boom"));
    assert!(rt.run(|| {}).unwrap().is_normal());
}

/// `exit` ends the process with the given reason, from any depth.
#[test]
fn exit_from_deep_recursion() {
    fn deep(n: u32) -> u32 {
        if n == 0 {
            let _ = process::exit(ExitReason::error("deep"));
            unreachable!()
        }
        1 + deep(n - 1)
    }
    let rt = rt(2);
    assert_eq!(
        rt.run(|| {
            deep(200);
        })
        .unwrap(),
        ExitReason::error("deep")
    );
    assert_eq!(
        rt.run(|| {
            let _ = process::exit(ExitReason::Shutdown);
        })
        .unwrap(),
        ExitReason::Shutdown
    );
}

/// Pids are unique: 100k short-lived processes never share a pid.
#[test]
fn pids_are_never_reused() {
    let rt = Runtime::new(Config {
        schedulers: 2,
        max_processes: 64, // forces heavy slot reuse
        ..Config::default()
    })
    .unwrap();
    let pids = rt
        .run(|| {
            let mut seen = std::collections::HashSet::new();
            for _ in 0..20_000 {
                let p = process::spawn(|| {}).unwrap();
                assert!(seen.insert(p), "pid {p:?} issued twice");
                // Keep the table from filling: let the child run and exit.
                process::yield_now().unwrap();
            }
        })
        .unwrap();
    assert!(pids.is_normal());
}

/// A full process table is a clean error, not a crash.
#[test]
fn full_table_is_system_limit() {
    let rt = Runtime::new(Config {
        schedulers: 1,
        max_processes: 16,
        ..Config::default()
    })
    .unwrap();
    let r = rt
        .run(|| {
            let mut n = 0;
            loop {
                match process::spawn(|| {
                    let _ = process::receive(None);
                }) {
                    Ok(_) => n += 1,
                    Err(e) => {
                        assert_eq!(e.0, Status::ErrSystemLimit);
                        break;
                    }
                }
            }
            assert_eq!(n, 15, "16 slots, one is ours");
        })
        .unwrap();
    assert!(r.is_normal());
    assert_eq!(rt.shutdown(), 15);
}

/// Timeouts race with messages: over many iterations every message is received once.
#[test]
fn timeout_racing_a_message_loses_nothing() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let n = 2000u64;
        process::spawn(move || {
            for i in 0..n {
                process::send(me, &u64b(i)).unwrap();
                // Pace the sender near the receiver's 1 ms timeout.
                let _ = process::receive(Some(if i % 3 == 0 { 1 } else { 0 }));
            }
        })
        .unwrap();
        let mut got = 0;
        let mut timeouts = 0;
        while got < n {
            match process::receive(Some(1)) {
                Ok(m) => {
                    assert_eq!(bu64(m.data()), got);
                    got += 1;
                }
                Err(e) => {
                    assert_eq!(e.0, Status::Timeout);
                    timeouts += 1;
                    assert!(timeouts < 1_000_000);
                }
            }
        }
        assert_eq!(process::receive(Some(50)).unwrap_err().0, Status::Timeout);
    })
    .unwrap();
}

/// 100k processes blocked in receive, then each woken by a message, all finish.
#[test]
fn hundred_thousand_processes() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let n = 100_000;
        let mut pids = Vec::with_capacity(n);
        for _ in 0..n {
            pids.push(
                process::spawn(move || {
                    let m = process::receive(None).unwrap();
                    process::send(me, m.data()).unwrap();
                })
                .unwrap(),
            );
        }
        for (i, p) in pids.iter().enumerate() {
            process::send(*p, &u64b(i as u64)).unwrap();
        }
        let mut sum = 0u64;
        for _ in 0..n {
            sum += bu64(process::receive(Some(60_000)).unwrap().data());
        }
        assert_eq!(sum, (n as u64) * (n as u64 - 1) / 2);
    })
    .unwrap();
}
