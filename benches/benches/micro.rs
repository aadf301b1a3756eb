//! Criterion micro-benches for Hive's hot paths (Rust API; the C ABI adds one call).
//! `make bench` runs them; criterion keeps the last run as a baseline under
//! `target/criterion/` and reports changes against it as percentages.
//!
//! Each bench runs its loop inside a process (timing with `iter_custom`), so it measures
//! the runtime, not the cost of entering it from a plain thread.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use hive_rt::{process, Config, Pid, Runtime};

fn runtime(schedulers: usize) -> Runtime {
    Runtime::new(Config {
        schedulers,
        ..Config::default()
    })
    .expect("runtime")
}

/// Runs `f(iters)` inside a fresh process and returns the time it measured.
fn in_process(rt: &Runtime, iters: u64, f: fn(u64) -> Duration) -> Duration {
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

fn send_receive(c: &mut Criterion) {
    let mut g = c.benchmark_group("send_receive_round_trip");
    for schedulers in [1, 2] {
        let rt = runtime(schedulers);
        g.bench_function(format!("{schedulers}_schedulers"), |b| {
            b.iter_custom(|iters| in_process(&rt, iters, round_trips))
        });
    }
    g.finish();
}

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

fn context_switch(c: &mut Criterion) {
    let rt = runtime(1);
    c.bench_function("yield_between_two_processes", |b| {
        b.iter_custom(|iters| {
            in_process(&rt, iters, |iters| {
                let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                let s2 = stop.clone();
                process::spawn(move || {
                    while !s2.load(std::sync::atomic::Ordering::Relaxed) {
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
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                d
            })
        })
    });
}

fn selective_receive(c: &mut Criterion) {
    let rt = runtime(1);
    c.bench_function("selective_receive_past_10k_queued", |b| {
        b.iter_custom(|iters| {
            in_process(&rt, iters, |iters| {
                let me = process::self_pid();
                for i in 0..10_000u64 {
                    process::send(me, &i.to_le_bytes()).unwrap();
                }
                let peer = process::spawn(echo).unwrap();
                let t = Instant::now();
                for _ in 0..iters {
                    process::send(peer, b"reply").unwrap();
                    process::receive_match(None, |from: Pid, _| from == peer).unwrap();
                }
                let d = t.elapsed();
                process::send(peer, b"").unwrap();
                assert_eq!(process::mailbox_len().unwrap(), 10_000);
                d
            })
        })
    });
}

criterion_group!(
    benches,
    send_receive,
    spawn_exit,
    context_switch,
    selective_receive
);
criterion_main!(benches);
