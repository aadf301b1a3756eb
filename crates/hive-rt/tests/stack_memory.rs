//! Resident memory of process stacks (a binary of its own: the figures are the OS
//! process's RSS, and the tests run one at a time): hibernated processes hold no stack
//! (`process/hibernate.rs`), and the stacks of exited processes give their pages back once
//! nobody took them for a while (`stack.rs`, "Decay").

mod common;
use common::memory::{rss_bytes, until_a_quarter_is_left};
use common::signals::*;
use hive_rt::{process, ExitReason, Pid};

/// One test at a time: each measures the whole OS process.
static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The next message with data `tag` from `from`.
fn tagged(from: Pid, tag: &[u8]) {
    process::receive_select(T, |m| m.sender() == from && m.data() == tag).expect("tagged message");
}

/// Touches `n` bytes of the calling process's stack.
#[inline(never)]
fn touch_stack(n: usize) -> u8 {
    let mut buf = [0u8; 40 * 1024];
    let n = n.min(buf.len());
    for i in (0..n).step_by(512) {
        buf[i] = i as u8;
    }
    std::hint::black_box(&mut buf)[n / 2]
}

/// Spawns `n` processes that each use 40 KiB of stack, report `ready`, then wait for one
/// message (hibernating first when `hibernating`), and returns once all are ready.
fn spawn_stack_users(n: usize, hibernating: bool) -> Vec<Pid> {
    let me = process::self_pid();
    let pids: Vec<Pid> = (0..n)
        .map(|_| {
            process::spawn(move || {
                touch_stack(40 * 1024);
                process::send(me, b"ready").unwrap();
                if hibernating {
                    process::hibernate(|| {
                        process::receive(None).unwrap();
                    })
                    .ignore();
                } else {
                    process::receive(None).unwrap();
                }
            })
            .unwrap()
        })
        .collect();
    for &p in &pids {
        tagged(p, b"ready");
    }
    pids
}

/// Ends the processes of [`spawn_stack_users`] and waits until they are gone.
fn end_all(pids: &[Pid]) {
    let refs: Vec<u64> = pids.iter().map(|&p| process::monitor(p).unwrap()).collect();
    for &p in pids {
        process::send(p, b"end").unwrap();
    }
    for r in refs {
        assert_eq!(down_reason(r), ExitReason::Normal);
    }
}

/// Hibernated processes hold no stack: 2,000 processes that each used 40 KiB of stack and
/// hibernate leave a small fraction of the resident memory that the same processes
/// blocked in `receive` hold (their stacks, about 80 MiB).
#[test]
fn hibernated_processes_hold_no_stack() {
    const N: usize = 2000;
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    run(|_| {
        let mut grew = [0u64; 2];
        for (i, hibernating) in [true, false].into_iter().enumerate() {
            let before = rss_bytes();
            let pids = spawn_stack_users(N, hibernating);
            for &p in &pids {
                until_waiting(p);
            }
            grew[i] = rss_bytes().saturating_sub(before);
            end_all(&pids);
        }
        let [hibernated, waiting] = grew;
        assert!(
            waiting > (N as u64) * 32 * 1024,
            "the control did not hold its stacks: {waiting} bytes"
        );
        assert!(
            hibernated * 4 < waiting,
            "hibernated processes grew RSS by {hibernated} bytes, waiting ones by {waiting}"
        );
    });
}

/// Runs 3,000 processes that use 40 KiB of stack each (about 120 MiB resident), ends
/// them, calls `meanwhile` (which returns what to call at the end), and waits until their
/// stacks hold less than a quarter of that (at most 30 s).
fn burst_then_decay<E: FnOnce()>(meanwhile: impl FnOnce() -> E) {
    const N: usize = 3000;
    let before = rss_bytes();
    let pids = spawn_stack_users(N, false);
    let grown = rss_bytes().saturating_sub(before);
    assert!(
        grown > (N as u64) * 32 * 1024,
        "the stacks grew RSS by {grown} only"
    );
    end_all(&pids);
    let end_meanwhile = meanwhile();
    until_a_quarter_is_left(before, grown, "the processes ended");
    end_meanwhile();
}

/// The stacks of a burst of exited processes give their pages back within a few seconds
/// of idleness, but for a few hundred kept hot: the workers sleep (but for this process's
/// naps), and look at the pools.
#[test]
fn stacks_of_exited_processes_decay() {
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    run(|_| burst_then_decay(|| || ()));
}

/// The same while the only worker never sleeps: a process that yields in a loop keeps it
/// busy, and busy workers look at the pools too.
#[test]
fn stacks_decay_while_every_worker_is_busy() {
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let rt = common::rt(1);
    let r = rt
        .run(|| {
            burst_then_decay(|| {
                let me = process::self_pid();
                let spinner = process::spawn(move || loop {
                    if process::receive(Some(0)).is_ok() {
                        process::send(me, b"stopped").unwrap();
                        return;
                    }
                    process::yield_now().unwrap();
                })
                .unwrap();
                move || {
                    process::send(spinner, b"stop").unwrap();
                    tagged(spinner, b"stopped");
                }
            })
        })
        .unwrap();
    assert!(r.is_normal(), "{r:?}");
}
