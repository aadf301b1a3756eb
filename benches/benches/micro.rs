//! Criterion micro-benches for Hive's hot paths, through the Rust API (the C ABI adds one
//! call and its argument checks). See "Micro-benches" in `docs/benchmarks.md`.
//!
//! `make bench` runs them and compares each with the saved criterion baseline `main`
//! (`target/criterion/<bench>/main/`), printing the change as a percentage; the first run,
//! or `make bench-baseline`, saves it.
//!
//! Each bench runs its loop inside a process and times it there (`iter_custom`), so it
//! measures the runtime, not the cost of entering it from a plain thread. Every bench's doc
//! comment says what one iteration is; criterion reports the time per iteration.
//!
//! Where processes run: the Rust API has no way to pin a process to a worker. A process
//! woken by a send goes to the LIFO slot of the *sender's* worker, so a ping-pong pair with
//! blocking receives always ends up on one worker, whatever the scheduler count. The
//! cross-worker round trip therefore uses two processes that never block (they poll their
//! mailboxes), checked to be running at the same time, hence on two workers.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use hive_rt::{process, Config, Pid, ProcessStatus, Runtime, TimerDest};

fn runtime(schedulers: usize) -> Runtime {
    Runtime::new(Config {
        schedulers,
        ..Config::default()
    })
    .expect("runtime")
}

/// Runs `f(iters)` inside a fresh process and returns the time it measured.
fn in_process<F>(rt: &Runtime, iters: u64, f: F) -> Duration
where
    F: FnOnce(u64) -> Duration + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    rt.spawn(move || tx.send(f(iters)).unwrap()).unwrap();
    rx.recv().unwrap()
}

/// An echo process: sends every message back to its sender; stops on an empty message.
fn echo() {
    loop {
        let m = process::receive(None).unwrap();
        if m.is_empty() {
            return;
        }
        process::send(m.sender(), m.data()).unwrap();
    }
}

/// One iteration: send 8 bytes to an echo process and receive its reply (two sends, two
/// blocking receives, two process switches on the same worker).
fn round_trips(iters: u64) -> Duration {
    let peer = process::spawn(echo).unwrap();
    let t = Instant::now();
    for i in 0..iters {
        process::send(peer, &i.to_le_bytes()).unwrap();
        process::receive(None).unwrap();
    }
    let d = t.elapsed();
    process::send(peer, b"").unwrap();
    d
}

/// As [`echo`], but never blocks: polls its mailbox (`receive` with timeout 0) in a loop,
/// so it stays on the worker it runs on.
fn polling_echo() {
    loop {
        match process::receive(Some(0)) {
            Ok(m) if m.is_empty() => return,
            Ok(m) => process::send(m.sender(), m.data()).unwrap(),
            Err(_) => std::hint::spin_loop(),
        }
    }
}

/// Waits (without yielding) until `peer` is running while the caller runs too, i.e. on
/// another worker. Panics after 10 s.
fn wait_until_running_elsewhere(peer: Pid) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = process::process_info(peer).unwrap().expect("peer alive");
        if info.status == ProcessStatus::Running {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "cross-worker bench: the peer never ran on the other worker"
        );
        std::hint::spin_loop();
    }
}

/// One iteration: send 8 bytes to a process running on the other worker and poll for its
/// reply. Both sides poll, so this is the cross-core hand-off of two messages (mailbox push,
/// cache-line transfers), with no wake-up and no switch.
fn cross_worker_round_trips(iters: u64) -> Duration {
    let peer = process::spawn(polling_echo).unwrap();
    // The peer waits in this worker's queue until the other (idle) worker steals it; this
    // process does not yield meanwhile, so the peer can only start over there.
    wait_until_running_elsewhere(peer);
    let t = Instant::now();
    for i in 0..iters {
        process::send(peer, &i.to_le_bytes()).unwrap();
        loop {
            match process::receive(Some(0)) {
                Ok(_) => break,
                Err(_) => std::hint::spin_loop(),
            }
        }
    }
    let d = t.elapsed();
    // Neither process ever blocked and each worker had one process to run, so neither
    // migrated (a worker steals only when its own queues are empty); check it anyway.
    wait_until_running_elsewhere(peer);
    process::send(peer, b"").unwrap();
    d
}

/// Round trip between two processes (unit: time per round trip).
/// - `same_worker_1_scheduler`: [`round_trips`] on a 1-scheduler runtime.
/// - `same_worker_2_schedulers`: the same on 2 schedulers: the LIFO slot keeps the pair on
///   one worker while the other one idles (the common case for a ping-pong pair).
/// - `cross_worker_polling_2_schedulers`: [`cross_worker_round_trips`]; both processes spin,
///   so this bench keeps two cores busy and is noisy on a shared machine.
fn send_receive(c: &mut Criterion) {
    let mut g = c.benchmark_group("send_receive_round_trip");
    let rt1 = runtime(1);
    g.bench_function("same_worker_1_scheduler", |b| {
        b.iter_custom(|iters| in_process(&rt1, iters, round_trips))
    });
    let rt2 = runtime(2);
    g.bench_function("same_worker_2_schedulers", |b| {
        b.iter_custom(|iters| in_process(&rt2, iters, round_trips))
    });
    g.bench_function("cross_worker_polling_2_schedulers", |b| {
        b.iter_custom(|iters| in_process(&rt2, iters, cross_worker_round_trips))
    });
    g.finish();
}

/// Spawn and exit (unit: time per process). One iteration: spawn a process with an empty
/// body, then yield so it runs and exits (spawn, first run, exit, and a switch back).
fn spawn_exit(c: &mut Criterion) {
    let rt = runtime(1);
    c.bench_function("spawn_and_exit", |b| {
        b.iter_custom(|iters| {
            in_process(&rt, iters, |iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    process::spawn(|| {}).unwrap();
                    process::yield_now().unwrap(); // let it run and exit
                }
                t.elapsed()
            })
        })
    });
}

/// Context switch (unit: time per iteration = two switches). One iteration: `yield_now`
/// with one other runnable process (which yields straight back) on a 1-scheduler runtime:
/// switch to the peer and back, each through the run queue.
fn context_switch(c: &mut Criterion) {
    let rt = runtime(1);
    c.bench_function("yield_between_two_processes", |b| {
        b.iter_custom(|iters| {
            in_process(&rt, iters, |iters| {
                let stop = Arc::new(AtomicBool::new(false));
                let s2 = stop.clone();
                process::spawn(move || {
                    while !s2.load(Relaxed) {
                        process::yield_now().unwrap();
                    }
                })
                .unwrap();
                process::yield_now().unwrap();
                let t = Instant::now();
                for _ in 0..iters {
                    process::yield_now().unwrap(); // two switches: to the peer and back
                }
                let d = t.elapsed();
                stop.store(true, Relaxed);
                d
            })
        })
    });
}

/// Timer insert and cancel (unit: time per set+cancel pair). One iteration: `send_after`
/// to the calling process with an 8-byte payload, then `cancel_timer` of it (which finds
/// it pending). Amortised over the loop, it includes the worker's reclaiming of cancelled
/// entries (between time slices: the bench's timer calls charge reductions).
/// - `near_10ms`: a timer under 2 s (not recorded with its destination; its wheel entry
///   is dropped when it comes due).
/// - `far_5s`: a 5 s timer, as for a `gen_server:call` timeout (recorded in the
///   destination's link record; the cancel is counted and swept).
fn timers(c: &mut Criterion) {
    let rt = runtime(1);
    let mut g = c.benchmark_group("timer_set_and_cancel");
    for (name, ms) in [("near_10ms", 10u64), ("far_5s", 5_000)] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                in_process(&rt, iters, move |iters| {
                    let me = TimerDest::Pid(process::self_pid());
                    let mut fired = 0u64;
                    let t = Instant::now();
                    for i in 0..iters {
                        let tref = process::send_after(me, ms, &i.to_le_bytes()).unwrap();
                        fired += u64::from(process::cancel_timer(tref).unwrap().is_none());
                    }
                    let d = t.elapsed();
                    // A 10 ms timer can fire before its cancel only if this thread stalls
                    // that long (a busy machine); the bench is meant to measure cancels.
                    assert!(
                        fired * 100 <= iters + 100,
                        "{fired} of {iters} timers fired"
                    );
                    while process::receive(Some(0)).is_ok() {}
                    d
                })
            })
        });
    }
    g.finish();
}

/// Registry lookup (unit: time per lookup). One iteration: `whereis` of one of 1024 names,
/// each registered to its own parked process, taken in turn.
fn registry(c: &mut Criterion) {
    const NAMES: usize = 1024;
    let rt = runtime(1);
    let names: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..NAMES)
            .map(|i| format!("bench_name_{i}").into_bytes())
            .collect(),
    );
    let mut pids = Vec::with_capacity(NAMES);
    for name in names.iter() {
        let pid = rt
            .spawn(|| {
                process::receive(None).unwrap();
            })
            .unwrap();
        rt.register(name, pid).unwrap();
        pids.push(pid);
    }
    c.bench_function("registry_whereis_1024_names", |b| {
        b.iter_custom(|iters| {
            let names = names.clone();
            in_process(&rt, iters, move |iters| {
                let t = Instant::now();
                for i in 0..iters {
                    let pid = process::whereis(&names[i as usize % NAMES]).unwrap();
                    debug_assert!(!pid.is_none());
                }
                t.elapsed()
            })
        })
    });
    for pid in pids {
        rt.send(pid, b"stop").unwrap();
    }
}

/// Selective receive over a long mailbox (unit: time per round trip). The process holds
/// 10,000 unmatched messages; one iteration: send a request to an echo process and take
/// its reply with a selective receive (matching on the sender).
/// - `selective_receive_past_10k_queued`: the receive scans the 10,000 old messages first
///   (a reply that matches none of them, as in a BEAM `receive` without a reference).
/// - `selective_receive_with_mark_past_10k_queued`: `recv_mark` before the request and
///   `receive_match_from` skip the old messages (the BEAM's receive-marker optimisation).
fn selective_receive(c: &mut Criterion) {
    let rt = runtime(1);
    for marked in [false, true] {
        let name = if marked {
            "selective_receive_with_mark_past_10k_queued"
        } else {
            "selective_receive_past_10k_queued"
        };
        c.bench_function(name, |b| {
            b.iter_custom(|iters| {
                in_process(&rt, iters, move |iters| {
                    let me = process::self_pid();
                    for i in 0..10_000u64 {
                        process::send(me, &i.to_le_bytes()).unwrap();
                    }
                    let peer = process::spawn(echo).unwrap();
                    let t = Instant::now();
                    for _ in 0..iters {
                        if marked {
                            let mark = process::recv_mark().unwrap();
                            process::send(peer, b"reply").unwrap();
                            process::receive_match_from(mark, None, |from, _| from == peer)
                                .unwrap();
                        } else {
                            process::send(peer, b"reply").unwrap();
                            process::receive_match(None, |from, _| from == peer).unwrap();
                        }
                    }
                    let d = t.elapsed();
                    process::send(peer, b"").unwrap();
                    assert_eq!(process::mailbox_len().unwrap(), 10_000);
                    d
                })
            })
        });
    }
}

/// Short runs: the whole set takes about a minute plus the build.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = send_receive, spawn_exit, context_switch, timers, registry, selective_receive
}
criterion_main!(benches);
