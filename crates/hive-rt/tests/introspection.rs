//! Introspection (`process_info/2`, `statistics/1`): figures that must hold exactly when
//! nothing else runs.

mod common;
use common::*;
use hive_rt::{process, Priority, ProcessStatus, SpawnOptions};

#[test]
fn process_info_reports_status_mailbox_reductions_priority_and_name() {
    let rt = rt(2);
    let (tx, rx) = std::sync::mpsc::channel();
    let p = rt
        .spawn_opts(
            SpawnOptions {
                priority: Priority::High,
                ..Default::default()
            },
            move || {
                for _ in 0..10_000 {
                    process::consume_reductions(1).unwrap();
                }
                tx.send(()).unwrap();
                // Block on a message that never matches, leaving the others queued.
                let _ = process::receive_match(None, |_, d| d == b"stop");
            },
        )
        .unwrap();
    rx.recv().unwrap();
    for _ in 0..3 {
        rt.send(p, b"queued").unwrap();
    }
    rt.register(b"inspected", p).unwrap();
    // Wait until the process has looked at its mailbox and is waiting again.
    let info = loop {
        let i = rt.process_info(p).unwrap().unwrap();
        if i.status == ProcessStatus::Waiting && i.mailbox_len == 3 {
            break i;
        }
        std::thread::yield_now();
    };
    assert_eq!(info.priority, Priority::High);
    assert!(info.reductions >= 10_000, "{}", info.reductions);
    assert!(!info.trap_exit);
    assert_eq!(info.registered_name.as_deref(), Some(&b"inspected"[..]));
    rt.send(p, b"stop").unwrap();
    while rt.is_alive(p) {
        std::thread::yield_now();
    }
    assert_eq!(rt.process_info(p).unwrap(), None);
}

#[test]
fn runtime_stats_count_what_happened() {
    let rt = rt(2);
    let before = rt.stats();
    assert_eq!(before.run_queue.len(), 2);
    rt.run(|| {
        let me = process::self_pid();
        for _ in 0..100 {
            process::spawn(move || process::send(me, b"x").unwrap()).unwrap();
        }
        for _ in 0..100 {
            process::receive(Some(5000)).unwrap();
        }
        process::send_after(hive_rt::TimerDest::Pid(me), 60_000, b"later").unwrap();
    })
    .unwrap();
    while rt.process_count() != 0 {
        std::thread::yield_now();
    }
    let s = rt.stats();
    assert_eq!(s.live, 0);
    assert_eq!(s.spawned - before.spawned, 101);
    assert_eq!(s.exited - before.exited, 101);
    assert!(s.messages_sent - before.messages_sent >= 100);
    assert_eq!(s.pending_timers, 0, "the timer's destination exited");
}
