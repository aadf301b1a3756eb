//! BEAM cases of group B (ordering), named by case number: messages among themselves
//! (cases 14, 15, 20) and signals among messages (cases 16–19, 21–23).
//!
//! Race cases ([RACE]) and how they are checked: `common/signals.rs`.

mod common;
use common::signals::*;
use common::*;
use hive_rt::{process, ExitReason, MessageKind};

/// Case 14: messages from one sender arrive in send order.
#[test]
fn case_14_one_sender_in_order() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        process::spawn(move || {
            for i in 1..=10_000u64 {
                process::send(me, &u64b(i)).unwrap();
            }
        })
        .unwrap();
        for i in 1..=10_000u64 {
            assert_eq!(bu64(process::receive(Some(10_000)).unwrap().data()), i);
        }
    })
    .unwrap();
}

/// Case 15: with several senders, each sender's own sequence stays in order.
#[test]
fn case_15_each_sender_in_order() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        for id in 0..4u64 {
            process::spawn(move || {
                for i in 1..=2000u64 {
                    process::send(me, &u64b(id << 32 | i)).unwrap();
                }
            })
            .unwrap();
        }
        let mut next = [1u64; 4];
        for _ in 0..8000 {
            let v = bu64(process::receive(Some(10_000)).unwrap().data());
            let (id, i) = ((v >> 32) as usize, v & 0xFFFF_FFFF);
            assert_eq!(i, next[id], "sender {id}");
            next[id] += 1;
        }
        assert_eq!(next, [2001; 4]);
    })
    .unwrap();
}

/// Case 20: messages survive the death of their sender.
#[test]
fn case_20_messages_outlive_their_sender() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let s = process::spawn(move || {
            for i in 1..=100u64 {
                process::send(me, &u64b(i)).unwrap();
            }
        })
        .unwrap();
        // Wait until the sender is gone before reading anything.
        while process::is_alive(s).unwrap() {
            process::yield_now().unwrap();
        }
        for i in 1..=100u64 {
            let m = process::receive(Some(0)).unwrap();
            assert_eq!(bu64(m.data()), i);
            assert_eq!(m.sender(), s);
        }
    })
    .unwrap();
}

/// Plain threads (not processes) may send too; their per-thread order is kept.
#[test]
fn sends_from_plain_threads_keep_per_thread_order() {
    let rt = std::sync::Arc::new(rt(2));
    let (tx, rx) = std::sync::mpsc::channel();
    let collector = rt
        .spawn(move || {
            tx.send(process::self_pid()).unwrap();
            let mut next = [0u64; 4];
            for _ in 0..40_000 {
                let m = process::receive(Some(20_000)).unwrap();
                assert!(m.sender().is_none());
                let v = bu64(m.data());
                let (id, i) = ((v >> 32) as usize, v & 0xFFFF_FFFF);
                assert_eq!(i, next[id]);
                next[id] += 1;
            }
            assert_eq!(next, [10_000; 4]);
        })
        .unwrap();
    assert_eq!(rx.recv().unwrap(), collector);
    let threads: Vec<_> = (0..4u64)
        .map(|id| {
            let rt = rt.clone();
            std::thread::spawn(move || {
                for i in 0..10_000u64 {
                    rt.send(collector, &u64b(id << 32 | i)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let r = rt.wait(collector).unwrap();
    assert!(r.is_normal() || r == ExitReason::Noproc, "{r:?}");
    // `wait` may find the collector already gone (`noproc`); then it exited normally only if it did
    // not panic, which the process-count check below cannot see, so check directly:
    while rt.is_alive(collector) {
        std::thread::yield_now();
    }
}

// ---------------------------------------------------------------- B. signals among messages

/// Case 16 [RACE]: an exit signal sent after messages: a non-trapping receiver never sees
/// the messages sent after it.
#[test]
fn case_16_exit_signal_after_messages() {
    run(|_| {
        for i in 0..300u64 {
            let (p, m) = process::spawn_monitor(|| loop {
                match process::receive(Some(0)) {
                    Ok(m) if m.data() == b"may_not_reach" => {
                        process::exit(err("bad_signal_order"));
                    }
                    Ok(_) => {}
                    Err(_) => process::yield_now().unwrap(),
                }
            })
            .unwrap();
            jitter(i);
            for _ in 0..3 {
                process::send(p, b"may_reach").unwrap();
            }
            process::exit_pid(p, err("good_signal_order")).unwrap();
            for _ in 0..3 {
                process::send(p, b"may_not_reach").unwrap();
            }
            assert_eq!(down_reason(m), err("good_signal_order"), "iteration {i}");
        }
    });
}

/// Case 17 [RACE]: a trapping receiver sees messages and exit signal in send order.
#[test]
fn case_17_trapping_receiver_sees_send_order() {
    run(|_| {
        let me = process::self_pid();
        for i in 0..200u64 {
            let b = process::spawn(move || {
                process::trap_exit(true).unwrap();
                process::send(me, b"ready").unwrap();
                let mut seen = Vec::new();
                for _ in 0..7 {
                    let m = process::receive(None).unwrap();
                    seen.push(match m.kind() {
                        MessageKind::Exit => format!("EXIT:{:?}", m.reason().unwrap()),
                        _ => String::from_utf8(m.data().to_vec()).unwrap(),
                    });
                }
                process::send(me, seen.join(",").as_bytes()).unwrap();
            })
            .unwrap();
            assert_eq!(process::receive(T).unwrap().data(), b"ready");
            // A: not linked to B.
            process::spawn(move || {
                for m in ["m1", "m2", "m3"] {
                    process::send(b, m.as_bytes()).unwrap();
                }
                process::exit_pid(b, err("r")).unwrap();
                for m in ["m4", "m5", "m6"] {
                    process::send(b, m.as_bytes()).unwrap();
                }
            })
            .unwrap();
            jitter(i);
            let got = process::receive(T).unwrap();
            assert_eq!(
                std::str::from_utf8(got.data()).unwrap(),
                r#"m1,m2,m3,EXIT:Error([114]),m4,m5,m6"#,
                "iteration {i}"
            );
        }
    });
}

/// Case 18 [RACE]: a message sent before dying arrives before the link's EXIT.
#[test]
fn case_18_last_message_before_link_exit() {
    run(|_| {
        process::trap_exit(true).unwrap();
        let me = process::self_pid();
        for _ in 0..500 {
            let c = process::spawn_link(move || {
                process::send(me, b"last").unwrap();
                process::exit(err("boom"));
            })
            .unwrap();
            let first = process::receive(T).unwrap();
            assert_eq!(
                (first.kind(), first.data()),
                (MessageKind::Data, &b"last"[..])
            );
            assert_eq!(first.sender(), c);
            let second = process::receive(T).unwrap();
            assert_eq!(second.kind(), MessageKind::Exit);
            assert_eq!((second.sender(), second.reason()), (c, Some(err("boom"))));
        }
    });
}

/// Case 19 [RACE]: a message sent before dying arrives before the DOWN.
#[test]
fn case_19_last_message_before_down() {
    run(|_| {
        let me = process::self_pid();
        for _ in 0..500 {
            let (c, m) = process::spawn_monitor(move || {
                process::send(me, b"last").unwrap();
                process::exit(err("boom"));
            })
            .unwrap();
            let first = process::receive(T).unwrap();
            assert_eq!((first.kind(), first.sender()), (MessageKind::Data, c));
            let second = process::receive(T).unwrap();
            assert_eq!(second.kind(), MessageKind::Down);
            assert_eq!(second.monitor_ref(), m);
            assert_eq!((second.sender(), second.reason()), (c, Some(err("boom"))));
        }
    });
}

/// Case 21 [RACE]: `link(P)` then `P ! die`: the link is in place first, never `noproc`.
#[test]
fn case_21_link_before_message() {
    run(|_| {
        process::trap_exit(true).unwrap();
        for i in 0..500u64 {
            let p = process::spawn(dies_on_die).unwrap();
            jitter(i);
            process::link(p).unwrap();
            process::send(p, b"die").unwrap();
            assert_eq!(exit_msg(p), err("boom"), "iteration {i}");
        }
    });
}

/// Case 22 [RACE]: `monitor(P)` then `P ! die`: the DOWN has the real reason.
#[test]
fn case_22_monitor_before_message() {
    run(|_| {
        for i in 0..500u64 {
            let p = process::spawn(dies_on_die).unwrap();
            jitter(i);
            let m = process::monitor(p).unwrap();
            process::send(p, b"die").unwrap();
            assert_eq!(down_reason(m), err("boom"), "iteration {i}");
        }
    });
}

/// Case 23 [RACE]: `exit(P, kill)` then `is_alive(P)`, and `exit(P, R)` then
/// `process_info(P)`, from the same caller: false and none, every time.
#[test]
fn case_23_exit_then_is_alive() {
    run(|_| {
        for i in 0..500u64 {
            let p1 = process::spawn(sleeper).unwrap();
            let p2 = process::spawn(sleeper).unwrap();
            jitter(i);
            process::exit_pid(p1, ExitReason::Kill).unwrap();
            assert!(!process::is_alive(p1).unwrap(), "iteration {i}");
            process::exit_pid(p2, err("some_reason")).unwrap();
            assert!(process_info(p2).is_none(), "iteration {i}");
        }
    });
}
