//! Exit signals: exit reasons (case 38), BEAM cases of groups D (trap_exit) and E (kill),
//! each named by its number in `docs/semantics.md`; an exit signal stopping a busy
//! process; `mailbox_len` with signals among the queued messages.

mod common;
use common::signals::*;
use common::*;
use hive_rt::{process, ExitReason, MessageKind, Pid, Status};
use std::sync::Arc;

// ---------------------------------------------------------------- exit reasons

/// Case 38 (Hive's shapes): a panic, an error exit and an exit with a standard reason
/// each reach the linked trapping process with their reason.
#[test]
fn case_38_exit_reason_shapes() {
    run(|_| {
        process::trap_exit(true).unwrap();
        let p = process::spawn_link(|| panic!("foo")).unwrap();
        assert_eq!(exit_msg(p), err("panic: foo"));
        let p = process::spawn_link(|| process::exit(err("foo")).ignore()).unwrap();
        assert_eq!(exit_msg(p), err("foo"));
        let p = process::spawn_link(|| process::exit(ExitReason::Shutdown).ignore()).unwrap();
        assert_eq!(exit_msg(p), ExitReason::Shutdown);
    });
}

// ---------------------------------------------------------------- D. trap_exit

/// Case 40: `trap_exit` returns the old value; the default is false; not inherited.
#[test]
fn case_40_trap_exit_flag() {
    run(|_| {
        let me = process::self_pid();
        assert!(!process_info(me).unwrap().trap_exit);
        assert!(!process::trap_exit(true).unwrap());
        assert!(process::trap_exit(true).unwrap());
        assert!(process_info(me).unwrap().trap_exit);
        process::spawn(move || {
            let t = process::trap_exit(false).unwrap();
            process::send(me, &[u8::from(t)]).unwrap();
        })
        .unwrap();
        assert_eq!(process::receive(T).unwrap().data(), &[0]);
    });
}

/// Case 42: `exit(P, normal)` to a non-trapping process is ignored.
#[test]
fn case_42_exit_normal_ignored() {
    run(|_| {
        let p = process::spawn(sleeper).unwrap();
        process::exit_pid(p, ExitReason::Normal).unwrap();
        assert!(process::is_alive(p).unwrap());
        process::yield_now().unwrap();
        assert!(process::is_alive(p).unwrap());
        process::exit_pid(p, ExitReason::Kill).unwrap();
    });
}

/// A trapping process that forwards every message it gets to `to` as
/// (kind, sender, reason).
fn forwarder(to: Pid) -> Pid {
    process::spawn(move || {
        process::trap_exit(true).unwrap();
        process::send(to, b"ready").unwrap();
        loop {
            let m = process::receive(None).unwrap();
            let r = m.reason().map(|r| format!("{r:?}")).unwrap_or_default();
            let s = format!("{:?}|{}|{}", m.kind(), m.sender().0, r);
            process::send(to, s.as_bytes()).unwrap();
        }
    })
    .unwrap()
}

fn fwd_text(kind: &str, from: Pid, reason: &str) -> String {
    format!("{kind}|{}|{reason}", from.0)
}

/// Cases 43, 44: `exit(P, R)` needs no link: a trapping P gets a message (also for
/// `normal`), a non-trapping one dies with R.
#[test]
fn case_43_44_exit_needs_no_link() {
    run(|_| {
        let me = process::self_pid();
        let p = forwarder(me);
        assert_eq!(process::receive(T).unwrap().data(), b"ready");
        process::exit_pid(p, ExitReason::Normal).unwrap();
        let got = process::receive(T).unwrap();
        assert_eq!(
            std::str::from_utf8(got.data()).unwrap(),
            fwd_text("Exit", me, "Normal")
        );
        process::exit_pid(p, err("foo")).unwrap();
        let got = process::receive(T).unwrap();
        assert_eq!(
            std::str::from_utf8(got.data()).unwrap(),
            fwd_text("Exit", me, "Error([102, 111, 111])")
        );
        assert!(process::is_alive(p).unwrap());
        let q = process::spawn(sleeper).unwrap();
        let m = process::monitor(q).unwrap();
        process::exit_pid(q, err("foo")).unwrap();
        assert_eq!(down_reason(m), err("foo"));
        process::exit_pid(p, ExitReason::Kill).unwrap();
    });
}

/// Case 45: `exit(self(), normal)` kills a non-trapping process; a trapping one gets
/// messages.
#[test]
fn case_45_exit_self_normal() {
    run(|_| {
        let (_p, m) = process::spawn_monitor(|| {
            process::exit_pid(process::self_pid(), ExitReason::Normal).unwrap();
            panic!("survived exit(self(), normal)");
        })
        .unwrap();
        assert_eq!(down_reason(m), ExitReason::Normal);
        process::trap_exit(true).unwrap();
        let me = process::self_pid();
        process::exit_pid(me, ExitReason::Normal).unwrap();
        process::exit_pid(me, err("other")).unwrap();
        assert_eq!(exit_msg(me), ExitReason::Normal);
        assert_eq!(exit_msg(me), err("other"));
    });
}

/// Case 46: `exit(self(), R)` ends the process at once.
#[test]
fn case_46_exit_self_is_immediate() {
    run(|_| {
        let (_p, m) = process::spawn_monitor(|| {
            let _ = process::exit_pid(process::self_pid(), err("die"));
            panic!("survived exit(self(), die)");
        })
        .unwrap();
        assert_eq!(down_reason(m), err("die"));
    });
}

/// Case 47: `exit/2` to a dead pid succeeds; pid 0 is refused.
#[test]
fn case_47_exit_to_dead_pid() {
    run(|_| {
        let d = dead_pid();
        process::exit_pid(d, ExitReason::Kill).unwrap();
        process::exit_pid(d, err("foo")).unwrap();
        assert_eq!(
            process::exit_pid(Pid::NONE, ExitReason::Kill)
                .unwrap_err()
                .0,
            Status::ErrBadArgument
        );
    });
}

/// Case 48: turning `trap_exit` off leaves queued EXIT messages as messages; later exit
/// signals kill.
#[test]
fn case_48_trap_exit_off_keeps_queued_exits() {
    run(|_| {
        let me = process::self_pid();
        let (w, m) = process::spawn_monitor(move || {
            process::trap_exit(true).unwrap();
            process::send(me, b"ready").unwrap();
            // Wait for `go`, leaving everything else queued.
            process::receive_match(None, |_, d| d == b"go").unwrap();
            process::trap_exit(false).unwrap();
            let q: Vec<String> = drain()
                .iter()
                .map(|m| format!("{:?}:{:?}", m.kind(), m.reason()))
                .collect();
            process::send(me, q.join(",").as_bytes()).unwrap();
            sleeper();
        })
        .unwrap();
        assert_eq!(process::receive(T).unwrap().data(), b"ready");
        process::exit_pid(w, err("first")).unwrap();
        process::send(w, b"go").unwrap();
        let q = process::receive(T).unwrap();
        assert_eq!(
            std::str::from_utf8(q.data()).unwrap(),
            "Exit:Some(Error([102, 105, 114, 115, 116]))"
        );
        process::exit_pid(w, err("second")).unwrap();
        assert_eq!(down_reason(m), err("second"));
    });
}

/// Case 49: two exit signals from one sender: the first decides the reason.
#[test]
fn case_49_first_exit_signal_wins() {
    run(|_| {
        for second in [err("second"), ExitReason::Kill] {
            let p = process::spawn(sleeper).unwrap();
            let m = process::monitor(p).unwrap();
            process::exit_pid(p, err("first")).unwrap();
            process::exit_pid(p, second).unwrap();
            assert_eq!(down_reason(m), err("first"));
        }
    });
}

/// Case 50: EXIT messages are ordinary messages for receive.
#[test]
fn case_50_exit_messages_are_messages() {
    run(|_| {
        process::trap_exit(true).unwrap();
        let me = process::self_pid();
        let p = process::spawn_link(move || {
            process::send(me, b"m1").unwrap();
            process::exit(err("r")).ignore();
        })
        .unwrap();
        while process::mailbox_len().unwrap() < 2 {
            process::yield_now().unwrap();
        }
        process::send(me, b"m2").unwrap();
        // A selective receive skips the EXIT.
        let m2 = process::receive_select(T, |m| m.data() == b"m2").unwrap();
        assert_eq!(m2.data(), b"m2");
        assert_eq!(exit_msg(p), err("r"));
        let rest = drain();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].data(), b"m1");
        // A hand-made message that looks like an EXIT is just data.
        process::send(me, b"EXIT").unwrap();
        assert_eq!(process::receive(T).unwrap().kind(), MessageKind::Data);
    });
}

// ---------------------------------------------------------------- E. kill

/// Case 51: `exit(P, kill)` kills a trapping process with `killed`; it never sees an
/// EXIT message.
#[test]
fn case_51_kill_is_untrappable() {
    run(|_| {
        let me = process::self_pid();
        let p = forwarder(me);
        assert_eq!(process::receive(T).unwrap().data(), b"ready");
        let m = process::monitor(p).unwrap();
        process::exit_pid(p, ExitReason::Kill).unwrap();
        assert_eq!(down_reason(m), ExitReason::Killed);
        assert!(drain().is_empty(), "the forwarder saw an EXIT");
    });
}

/// Case 52: kill of a non-trapping process, and `exit(self(), kill)` in a trapping one,
/// both give `killed`.
#[test]
fn case_52_killed() {
    run(|_| {
        let p = process::spawn(sleeper).unwrap();
        let m = process::monitor(p).unwrap();
        process::exit_pid(p, ExitReason::Kill).unwrap();
        assert_eq!(down_reason(m), ExitReason::Killed);
        let (_p, m) = process::spawn_monitor(|| {
            process::trap_exit(true).unwrap();
            let _ = process::exit_pid(process::self_pid(), ExitReason::Kill);
            sleeper();
        })
        .unwrap();
        assert_eq!(down_reason(m), ExitReason::Killed);
    });
}

/// Case 53: the linked peers of a killed process see `killed`; trappable over the link.
#[test]
fn case_53_peers_see_killed() {
    run(|_| {
        process::trap_exit(true).unwrap();
        let p = process::spawn_link(sleeper).unwrap();
        process::exit_pid(p, ExitReason::Kill).unwrap();
        assert_eq!(exit_msg(p), ExitReason::Killed);
        let me = process::self_pid();
        let (_a, m) = process::spawn_monitor(move || {
            let p = process::spawn_link(sleeper).unwrap();
            process::send(me, &pidb(p)).unwrap();
            sleeper();
        })
        .unwrap();
        let p = bpid(process::receive(T).unwrap().data());
        process::exit_pid(p, ExitReason::Kill).unwrap();
        assert_eq!(down_reason(m), ExitReason::Killed);
    });
}

/// Case 54: `exit(kill)` (exit/1): peers get `kill`, trappable over a link, not turned
/// into `killed`.
#[test]
fn case_54_exit_kill_over_link() {
    run(|_| {
        process::trap_exit(true).unwrap();
        let p = process::spawn_link(|| process::exit(ExitReason::Kill).ignore()).unwrap();
        assert_eq!(exit_msg(p), ExitReason::Kill);
        let (_a, m) = process::spawn_monitor(|| {
            process::spawn_link(|| process::exit(ExitReason::Kill).ignore()).unwrap();
            sleeper();
        })
        .unwrap();
        assert_eq!(down_reason(m), ExitReason::Kill);
    });
}

/// Builds a chain of `n` processes with spawn_link (the first linked to the caller); the
/// last runs `end`. Returns the first pid.
fn chain(n: u32, end: fn()) -> Pid {
    process::spawn_link(move || {
        if n > 1 {
            chain(n - 1, end);
            sleeper();
        } else {
            end();
        }
    })
    .unwrap()
}

/// Case 55: along a chain of links, `killed` or `kill` is passed on unchanged.
#[test]
fn case_55_kill2killed_along_a_chain() {
    run(|_| {
        process::trap_exit(true).unwrap();
        let me = process::self_pid();
        for n in [1u32, 2, 10] {
            // exit(EndOfLine, kill) from outside: the end reports its pid, then waits.
            let first = chain_report(n, me);
            let end = bpid(process::receive(T).unwrap().data());
            process::exit_pid(end, ExitReason::Kill).unwrap();
            assert_eq!(exit_msg(first), ExitReason::Killed, "n {n}");
            let first = chain(n, || {
                let _ = process::exit_pid(process::self_pid(), ExitReason::Kill);
            });
            assert_eq!(exit_msg(first), ExitReason::Killed, "n {n}");
            let first = chain(n, || process::exit(ExitReason::Kill).ignore());
            assert_eq!(exit_msg(first), ExitReason::Kill, "n {n}");
        }
    });
}

fn chain_report(n: u32, report: Pid) -> Pid {
    process::spawn_link(move || {
        if n > 1 {
            chain_report(n - 1, report);
        } else {
            process::send(report, &pidb(process::self_pid())).unwrap();
        }
        sleeper();
    })
    .unwrap()
}

// ---------------------------------------------------------------- a busy process

/// Issue 3: "a process busy computing is killed at its next reduction check". This one
/// never yields (it charges 0 reductions per check), so only the check can stop it. It is
/// driven from plain threads, so that no process waits for a worker the busy one holds.
#[test]
fn exit_signal_stops_a_busy_process_at_its_next_reduction_check() {
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    let rt = Arc::new(rt(2));
    let started = Arc::new(AtomicU64::new(0));
    let (rt2, started2) = (rt.clone(), started.clone());
    let runner = std::thread::spawn(move || {
        rt2.run(move || {
            started2.store(process::self_pid().0, SeqCst);
            // Bounded, so that without the check the test fails instead of hanging.
            for _ in 0..2_000_000_000u64 {
                process::consume_reductions(0).unwrap();
            }
            process::exit(err("not stopped")).ignore();
        })
        .unwrap()
    });
    let p = loop {
        match started.load(SeqCst) {
            0 => std::thread::yield_now(),
            p => break Pid(p),
        }
    };
    rt.exit_pid(p, err("stop")).unwrap();
    assert_eq!(runner.join().unwrap(), err("stop"));
}

// ---------------------------------------------------------------- mailbox_len with signals queued

/// `mailbox_len` of a long mailbox is exact, and counts the EXIT message of an exit signal
/// that arrived behind 100,000 messages (it is handled before the length is read, though
/// the messages in front of it stay where they are until received).
#[test]
fn mailbox_len_counts_a_long_mailbox_and_the_exit_behind_it() {
    run(|_| {
        const N: usize = 100_000;
        process::trap_exit(true).unwrap();
        let me = process::self_pid();
        let p = process::spawn_link(move || {
            for i in 0..N as u64 {
                process::send(me, &i.to_le_bytes()).unwrap();
            }
            process::exit(err("r")).ignore();
        })
        .unwrap();
        while process::mailbox_len().unwrap() < N + 1 {
            process::yield_now().unwrap();
        }
        assert_eq!(process::mailbox_len().unwrap(), N + 1);
        for i in 0..N as u64 {
            let m = process::receive(T).unwrap();
            assert_eq!(m.data(), i.to_le_bytes());
            if i == N as u64 / 2 {
                assert_eq!(process::mailbox_len().unwrap(), N / 2);
            }
        }
        assert_eq!(process::mailbox_len().unwrap(), 1);
        let exit = process::receive(T).unwrap();
        assert_eq!((exit.kind(), exit.sender()), (MessageKind::Exit, p));
        assert_eq!(process::mailbox_len().unwrap(), 0);
    });
}

/// `mailbox_len` counts every queued message, also past the budget a signal check moves
/// at once (regression: it once stopped at 4096).
#[test]
fn mailbox_len_counts_a_long_queue() {
    run(|_| {
        let me = process::self_pid();
        let p = process::spawn(sleeper).unwrap();
        process::monitor(p).unwrap(); // a signal among the messages
        for i in 0..10_000u64 {
            process::send(me, &u64b(i)).unwrap();
        }
        assert_eq!(process::mailbox_len().unwrap(), 10_000);
        process::exit_pid(p, ExitReason::Kill).unwrap();
        for i in 0..10_000u64 {
            assert_eq!(bu64(process::receive(Some(0)).unwrap().data()), i);
        }
    });
}
