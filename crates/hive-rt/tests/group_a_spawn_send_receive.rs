//! BEAM cases of group A (spawn / send / receive) on the Rust API, named by case number
//! (`docs/semantics.md`).

mod common;
use common::*;
use hive_rt::{process, ExitReason, Pid, Status};
use std::time::Instant;

/// Case 1: spawn returns a live pid; returning from the function means exit `normal`.
#[test]
fn case_01_spawn_returns_live_pid_and_return_is_normal() {
    let rt = rt(2);
    let reason = rt
        .run(|| {
            let me = process::self_pid();
            let p = process::spawn(move || {
                let m = process::receive(None).unwrap();
                assert_eq!(m.data(), b"go");
                process::send(me, b"done").unwrap();
            })
            .unwrap();
            assert!(!p.is_none());
            assert!(process::is_alive(p).unwrap());
            process::send(p, b"go").unwrap();
            assert_eq!(process::receive(Some(5000)).unwrap().data(), b"done");
        })
        .unwrap();
    assert_eq!(reason, ExitReason::Normal);
    // A process that returned is no longer alive.
    let pid = rt.spawn(|| {}).unwrap();
    let _ = rt.wait(pid); // may already be gone: noproc
    let deadline = Instant::now() + std::time::Duration::from_secs(5);
    while rt.is_alive(pid) {
        assert!(Instant::now() < deadline, "process never exited");
        std::thread::yield_now();
    }
}

/// Case 2: sending to a dead pid never fails.
#[test]
fn case_02_send_to_dead_pid_is_silently_accepted() {
    let rt = rt(2);
    let dead = rt.spawn(|| {}).unwrap();
    while rt.is_alive(dead) {
        std::thread::yield_now();
    }
    rt.run(move || {
        process::send(dead, b"hello").unwrap();
        process::send(Pid(12345 | (99 << 24)), b"x").unwrap(); // never issued
        let me = process::self_pid();
        process::send(me, b"m").unwrap();
        assert_eq!(process::receive(Some(0)).unwrap().data(), b"m");
    })
    .unwrap();
    assert_eq!(rt.send(dead, b"x"), Ok(()));
    assert_eq!(
        rt.send(Pid::NONE, b"x"),
        Err(hive_rt::Error(Status::ErrBadArgument))
    );
}

/// Case 4: a message sent to self is seen by the very next `receive ... after 0`.
#[test]
fn case_04_self_send_visible_to_next_poll() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        for i in 0..1000u64 {
            process::send(me, &u64b(i)).unwrap();
            let m = process::receive(Some(0)).expect("visible");
            assert_eq!(bu64(m.data()), i);
        }
    })
    .unwrap();
}

/// Case 5: selective receive takes the first match; the rest stay in queue order.
#[test]
fn case_05_selective_receive_keeps_the_rest_in_order() {
    let rt = rt(1);
    rt.run(|| {
        let me = process::self_pid();
        for m in [b"a", b"b", b"c"] {
            process::send(me, m).unwrap();
        }
        let c = process::receive_match(Some(0), |_, d| d == b"c").unwrap();
        assert_eq!(c.data(), b"c");
        assert_eq!(process::mailbox_len().unwrap(), 2);
        assert_eq!(process::receive(Some(0)).unwrap().data(), b"a");
        assert_eq!(process::receive(Some(0)).unwrap().data(), b"b");
    })
    .unwrap();
}

/// Case 6: queue order decides, not clause order.
#[test]
fn case_06_queue_order_decides() {
    let rt = rt(1);
    rt.run(|| {
        let me = process::self_pid();
        process::send(me, b"b").unwrap();
        process::send(me, b"a").unwrap();
        let m = process::receive_match(Some(0), |_, d| d == b"a" || d == b"b").unwrap();
        assert_eq!(m.data(), b"b");
        assert_eq!(process::receive(Some(0)).unwrap().data(), b"a");
    })
    .unwrap();
}

/// Case 7: guards take part in matching.
#[test]
fn case_07_guards_select_by_value() {
    let rt = rt(1);
    rt.run(|| {
        let me = process::self_pid();
        for v in [1u64, 5, 7] {
            process::send(me, &u64b(v)).unwrap();
        }
        let m = process::receive_match(Some(0), |_, d| bu64(d) > 3).unwrap();
        assert_eq!(bu64(m.data()), 5);
        assert_eq!(bu64(process::receive(Some(0)).unwrap().data()), 1);
        assert_eq!(bu64(process::receive(Some(0)).unwrap().data()), 7);
    })
    .unwrap();
}

/// Case 8: timeout 0 returns at once; a receive that matches nothing consumes nothing.
#[test]
fn case_08_poll_consumes_nothing() {
    let rt = rt(1);
    rt.run(|| {
        assert_eq!(process::receive(Some(0)).unwrap_err().0, Status::Timeout);
        let me = process::self_pid();
        process::send(me, b"x").unwrap();
        let r = process::receive_match(Some(0), |_, d| d == b"y");
        assert_eq!(r.unwrap_err().0, Status::Timeout);
        assert_eq!(
            process::receive_match(Some(20), |_, _| false)
                .unwrap_err()
                .0,
            Status::Timeout
        );
        assert_eq!(
            process::receive_match(Some(0), |_, d| d == b"x")
                .unwrap()
                .data(),
            b"x"
        );
    })
    .unwrap();
}

/// Case 9: `receive after T` waits at least T ms.
#[test]
fn case_09_timeout_waits_at_least_t() {
    let rt = rt(2);
    rt.run(|| {
        let t0 = Instant::now();
        assert_eq!(process::receive(Some(100)).unwrap_err().0, Status::Timeout);
        let e = t0.elapsed().as_millis();
        assert!((100..1000).contains(&e), "waited {e} ms");
    })
    .unwrap();
}

/// Case 10: non-matching messages arriving during the wait neither restart nor end it.
#[test]
fn case_10_junk_does_not_end_the_wait() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let junk = process::spawn(move || loop {
            if process::send(me, b"junk").is_err() {
                return;
            }
            if process::receive(Some(10)).is_ok() {
                return; // told to stop
            }
        })
        .unwrap();
        let t0 = Instant::now();
        let r = process::receive_match(Some(200), |_, d| d == b"wanted");
        let e = t0.elapsed().as_millis();
        assert_eq!(r.unwrap_err().0, Status::Timeout);
        assert!((200..1000).contains(&e), "waited {e} ms");
        process::send(junk, b"stop").unwrap();
        assert!(process::mailbox_len().unwrap() >= 5, "junk was kept");
    })
    .unwrap();
}

/// Case 11: a matching message that arrives during the wait ends it (also with infinity).
#[test]
fn case_11_match_ends_the_wait() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        for (msg, timeout) in [(&b"hit"[..], Some(5000)), (&b"hit2"[..], None)] {
            let t0 = Instant::now();
            process::spawn(move || {
                let _ = process::receive(Some(50));
                process::send(me, msg).unwrap();
            })
            .unwrap();
            let m = process::receive_match(timeout, |_, d| d == msg).unwrap();
            assert_eq!(m.data(), msg);
            assert!(t0.elapsed().as_millis() < 4000);
        }
    })
    .unwrap();
}

/// Case 13: messages sent to a busy process are all queued, in order.
#[test]
fn case_13_busy_receiver_loses_nothing() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let busy = process::spawn(move || {
            let t0 = Instant::now();
            while t0.elapsed().as_millis() < 100 {
                process::consume_reductions(1).unwrap();
            }
            let mut got = Vec::new();
            for _ in 0..1000 {
                got.push(bu64(process::receive(Some(5000)).unwrap().data()));
            }
            assert_eq!(got, (1..=1000).collect::<Vec<_>>());
            process::send(me, b"ok").unwrap();
        })
        .unwrap();
        for i in 1..=1000u64 {
            process::send(busy, &u64b(i)).unwrap();
        }
        assert_eq!(process::receive(Some(10_000)).unwrap().data(), b"ok");
    })
    .unwrap();
}

/// Receive markers: a call/reply finds its reply without examining the messages queued
/// before the mark (the BEAM's `recv_marker_*` optimisation, baselines' selective_receive).
#[test]
fn receive_from_mark_skips_older_messages() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        for i in 0..10_000u64 {
            process::send(me, &u64b(i)).unwrap();
        }
        let server = process::spawn(|| loop {
            let m = process::receive(None).unwrap();
            if m.is_empty() {
                return;
            }
            process::send(m.sender(), m.data()).unwrap();
        })
        .unwrap();
        for round in 0..100u64 {
            let mark = process::recv_mark().unwrap();
            let reference = 1_000_000 + round;
            process::send(server, &u64b(reference)).unwrap();
            let mut examined = 0;
            let m = process::receive_match_from(mark, Some(5000), |from, d| {
                examined += 1;
                from == server && bu64(d) == reference
            })
            .unwrap();
            assert_eq!(bu64(m.data()), reference);
            assert_eq!(examined, 1, "only the reply was examined");
        }
        process::send(server, b"").unwrap();
        assert_eq!(
            process::mailbox_len().unwrap(),
            10_000,
            "the old messages stay"
        );
    })
    .unwrap();
}
