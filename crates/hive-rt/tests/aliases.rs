//! References and process aliases (OTP 24, EEP 53): `make_ref`, `alias`, `unalias`,
//! `monitor` with `{alias, Mode}`, and sending to an alias.
//!
//! "Nothing arrives" is checked without sleeps: a message through an alias and a marker
//! sent right after it to the owner's pid by the same sender keep their order, so once the
//! marker is received, the alias message has been delivered or dropped. Messages a process
//! sends to itself keep their order the same way.

mod common;
use common::*;
use hive_rt::{process, AliasMode, ExitReason, Message, MessageKind, Pid, Runtime, Status};
use std::collections::HashSet;
use std::sync::Arc;

const T: Option<u32> = Some(10_000); // failure bound for receives, ms

/// Runs `f` as a process of a 2-scheduler runtime and waits for it to return normally.
fn run(f: impl FnOnce(Arc<Runtime>) + Send + 'static) {
    let rt = Arc::new(rt(2));
    let rt2 = rt.clone();
    let r = rt.run(move || f(rt2)).unwrap();
    assert!(r.is_normal(), "main process ended with {r:?}");
    rt.shutdown();
}

/// The first data message whose payload is `data`.
fn recv_data(data: &'static [u8]) -> Message {
    process::receive_select(T, |m| m.kind() == MessageKind::Data && m.data() == data)
        .expect("the message")
}

/// The DOWN of monitor `mref`.
fn down(mref: u64) -> Message {
    process::receive_select(T, |m| {
        m.kind() == MessageKind::Down && m.monitor_ref() == mref
    })
    .expect("DOWN")
}

/// Asserts that the mailbox is empty.
fn expect_empty() {
    match process::receive(Some(0)) {
        Err(e) => assert_eq!(e.0, Status::Timeout),
        Ok(m) => panic!("unexpected message {m:?}"),
    }
}

/// A process that sends `data` through `alias` (twice when `twice`), then `b"marker"` to
/// `owner`, then exits.
fn send_then_mark(alias: u64, owner: Pid, data: &'static [u8], twice: bool) -> Pid {
    process::spawn(move || {
        process::send_alias(alias, data).unwrap();
        if twice {
            process::send_alias(alias, data).unwrap();
        }
        process::send(owner, b"marker").unwrap();
    })
    .unwrap()
}

/// A server: every request `[alias]` is answered with `b"reply"` through that alias
/// (twice), then `b"marker"` to the requester's pid; `b"die"` ends it without a reply.
fn server() {
    loop {
        let m = process::receive(None).unwrap();
        if m.data() == b"die" {
            return;
        }
        let alias = bu64(m.data());
        process::send_alias(alias, b"reply").unwrap();
        process::send_alias(alias, b"reply").unwrap();
        process::send(m.sender(), b"marker").unwrap();
    }
}

#[test]
fn make_ref_is_unique_across_processes_and_threads() {
    run(|rt| {
        let me = process::self_pid();
        const PER: usize = 2_000;
        const PROCS: usize = 8;
        for _ in 0..PROCS {
            process::spawn(move || {
                let mut v = Vec::with_capacity(PER * 8);
                for _ in 0..PER {
                    v.extend_from_slice(&process::make_ref().unwrap().to_le_bytes());
                }
                process::send(me, &v).unwrap();
            })
            .unwrap();
        }
        // Plain threads, at the same time; monitor and alias references share the space.
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let rt = rt.clone();
                std::thread::spawn(move || (0..PER).map(|_| rt.make_ref()).collect::<Vec<_>>())
            })
            .collect();
        let mut all = HashSet::new();
        let mut add = |r: u64| {
            assert_ne!(r, 0);
            assert_eq!(hive_rt::alias::ref_node(r), 0, "made on this node");
            assert!(all.insert(r), "reference {r} made twice");
        };
        add(process::monitor(me).unwrap());
        add(process::alias(AliasMode::ExplicitUnalias).unwrap());
        for _ in 0..PROCS {
            let m = process::receive(T).unwrap();
            for c in m.data().chunks(8) {
                add(bu64(c));
            }
        }
        for t in threads {
            for r in t.join().unwrap() {
                add(r);
            }
        }
        assert_eq!(all.len(), PROCS * PER + 2 * PER + 2);
    });
}

#[test]
fn send_to_an_active_alias_is_delivered() {
    run(|rt| {
        let me = process::self_pid();
        let a = process::alias(AliasMode::ExplicitUnalias).unwrap();
        let p = send_then_mark(a, me, b"via alias", true);
        let m = recv_data(b"via alias");
        assert_eq!(m.sender(), p);
        assert_eq!(m.kind(), MessageKind::Data);
        assert_eq!(m.monitor_ref(), 0);
        recv_data(b"via alias");
        recv_data(b"marker");
        // From a plain thread: sender 0.
        let rt2 = rt.clone();
        std::thread::spawn(move || rt2.send_alias(a, b"from a thread").unwrap())
            .join()
            .unwrap();
        assert_eq!(recv_data(b"from a thread").sender(), Pid::NONE);
        // To oneself, and an empty message.
        process::send_alias(a, b"").unwrap();
        assert_eq!(process::receive(T).unwrap().len(), 0);
        assert!(process::unalias(a).unwrap());
        expect_empty();
    });
}

#[test]
fn after_unalias_messages_are_dropped() {
    run(|_| {
        let me = process::self_pid();
        let a = process::alias(AliasMode::ExplicitUnalias).unwrap();
        assert!(process::unalias(a).unwrap());
        assert!(!process::unalias(a).unwrap(), "already inactive");
        send_then_mark(a, me, b"late", true);
        recv_data(b"marker");
        expect_empty();
    });
}

/// A message still on its way when `unalias` runs is dropped: the alias is checked when
/// the message reaches the owner.
#[test]
fn a_message_in_flight_at_unalias_is_dropped() {
    run(|_| {
        let me = process::self_pid();
        let a = process::alias(AliasMode::ExplicitUnalias).unwrap();
        process::send_alias(a, b"in flight").unwrap();
        assert!(process::unalias(a).unwrap());
        process::send(me, b"marker").unwrap();
        recv_data(b"marker");
        expect_empty();
    });
}

/// `alias([reply])`: the first message through the alias deactivates it.
#[test]
fn reply_alias_takes_one_message() {
    run(|_| {
        let me = process::self_pid();
        let a = process::alias(AliasMode::Reply).unwrap();
        send_then_mark(a, me, b"one", true);
        recv_data(b"one");
        recv_data(b"marker");
        expect_empty();
        assert!(!process::unalias(a).unwrap());
    });
}

/// `{alias, reply_demonitor}`: the first reply is delivered and removes the monitor; a
/// second reply is dropped, and no DOWN comes when the server dies later.
#[test]
fn reply_demonitor_first_reply_delivered_second_dropped_no_down() {
    run(|rt| {
        let me = process::self_pid();
        let s = process::spawn(server).unwrap();
        let mref = process::monitor_alias(s, AliasMode::ReplyDemonitor).unwrap();
        assert!(process::process_info(me)
            .unwrap()
            .unwrap()
            .monitors
            .contains(&(mref, s)));
        process::send(s, &u64b(mref)).unwrap();
        assert_eq!(recv_data(b"reply").sender(), s);
        recv_data(b"marker");
        expect_empty(); // the second reply was dropped
        assert!(!process::unalias(mref).unwrap());
        assert!(
            !process::process_info(me)
                .unwrap()
                .unwrap()
                .monitors
                .iter()
                .any(|&(r, _)| r == mref),
            "the reply removed the monitor"
        );
        assert!(!process::demonitor(mref, false).unwrap(), "already removed");
        // The server dies: no DOWN of `mref` (a second monitor's DOWN, then the exit
        // path's end, mark when it would have come).
        let m2 = process::monitor(s).unwrap();
        process::send(s, b"die").unwrap();
        down(m2);
        let rt2 = rt.clone();
        std::thread::spawn(move || {
            let _ = rt2.wait(s);
            rt2.send(me, b"gone").unwrap();
        });
        recv_data(b"gone");
        expect_empty();
    });
}

/// The monitored process dies before replying: the DOWN comes, and the alias is then
/// inactive (`demonitor` and `reply_demonitor` modes); in `explicit_unalias` mode it stays.
#[test]
fn server_dies_before_the_reply_down_then_sends_dropped() {
    for mode in [
        AliasMode::ReplyDemonitor,
        AliasMode::Demonitor,
        AliasMode::ExplicitUnalias,
    ] {
        run(move |_| {
            let me = process::self_pid();
            let s = process::spawn(server).unwrap();
            let mref = process::monitor_alias(s, mode).unwrap();
            process::send(s, b"die").unwrap();
            let d = down(mref);
            assert_eq!(d.sender(), s);
            assert_eq!(d.reason(), Some(ExitReason::Normal));
            send_then_mark(mref, me, b"after down", false);
            recv_data(b"marker");
            if mode == AliasMode::ExplicitUnalias {
                recv_data(b"after down");
                assert!(process::unalias(mref).unwrap());
            } else {
                assert!(!process::unalias(mref).unwrap());
            }
            expect_empty();
        });
    }
}

/// `{alias, demonitor}`: messages through the alias do not end it; `demonitor` does.
#[test]
fn demonitor_mode_ends_with_demonitor() {
    run(|_| {
        let me = process::self_pid();
        let s = process::spawn(server).unwrap();
        let mref = process::monitor_alias(s, AliasMode::Demonitor).unwrap();
        process::send(s, &u64b(mref)).unwrap();
        recv_data(b"reply");
        recv_data(b"reply");
        recv_data(b"marker");
        assert!(process::demonitor(mref, true).unwrap());
        send_then_mark(mref, me, b"late", false);
        recv_data(b"marker");
        expect_empty();
        assert!(!process::unalias(mref).unwrap());
        process::send(s, b"die").unwrap();
    });
}

/// A monitor of a dead process fires at once (cases 57, 67): an alias that ends with the
/// monitor is never active; an `explicit_unalias` one is.
#[test]
fn monitor_alias_of_a_dead_process() {
    run(|rt| {
        let dead = process::spawn(|| {}).unwrap();
        rt.wait(dead).ok();
        while process::is_alive(dead).unwrap() {
            process::yield_now().unwrap();
        }
        let r1 = process::monitor_alias(dead, AliasMode::ReplyDemonitor).unwrap();
        assert_eq!(down(r1).reason(), Some(ExitReason::Noproc));
        assert!(!process::unalias(r1).unwrap());
        let r2 = process::monitor_alias(dead, AliasMode::ExplicitUnalias).unwrap();
        assert_eq!(down(r2).reason(), Some(ExitReason::Noproc));
        assert!(process::unalias(r2).unwrap());
        // Monitoring oneself never fires (case 71): the alias stays until demonitor.
        let me = process::self_pid();
        let r3 = process::monitor_alias(me, AliasMode::Demonitor).unwrap();
        process::send_alias(r3, b"self").unwrap();
        recv_data(b"self");
        process::demonitor(r3, false).unwrap();
        assert!(!process::unalias(r3).unwrap());
    });
}

/// An alias of a process that has exited: sends are dropped, from processes and threads.
#[test]
fn alias_of_a_dead_process_drops() {
    run(|rt| {
        let me = process::self_pid();
        let (p, mref) = process::spawn_monitor(move || {
            let a = process::alias(AliasMode::ExplicitUnalias).unwrap();
            process::send(me, &u64b(a)).unwrap();
        })
        .unwrap();
        let a = bu64(process::receive(T).unwrap().data());
        down(mref);
        rt.wait(p).ok();
        for _ in 0..100 {
            process::send_alias(a, b"to the dead").unwrap();
        }
        rt.send_alias(a, b"to the dead").unwrap();
        // A reference that never was an alias, and another node's alias.
        process::send_alias(process::make_ref().unwrap(), b"no alias").unwrap();
        process::send_alias(5 << 52, b"remote").unwrap();
        process::send(me, b"marker").unwrap();
        recv_data(b"marker");
        expect_empty();
    });
}

/// Only the owner deactivates an alias: `unalias` from another process is false and
/// changes nothing (OTP's `unalias/1`).
#[test]
fn unalias_by_a_non_owner_is_false_and_has_no_effect() {
    run(|_| {
        let me = process::self_pid();
        let a = process::alias(AliasMode::ExplicitUnalias).unwrap();
        process::spawn(move || {
            let r = process::unalias(a).unwrap();
            process::send(me, &[r as u8]).unwrap();
            process::send_alias(a, b"still active").unwrap();
        })
        .unwrap();
        assert_eq!(process::receive(T).unwrap().data(), &[0]);
        recv_data(b"still active");
        assert!(process::unalias(a).unwrap());
    });
}

/// Aliases die with their owner, also with messages through them still queued.
#[test]
fn queued_alias_messages_of_an_exiting_process_are_freed() {
    run(|rt| {
        let me = process::self_pid();
        let (p, mref) = process::spawn_monitor(move || {
            let a = process::alias(AliasMode::ExplicitUnalias).unwrap();
            process::send(me, &u64b(a)).unwrap();
            // Never receives again: everything sent to it stays queued until it is killed.
            let _ = process::receive_select(None, |_| false);
        })
        .unwrap();
        let a = bu64(process::receive(T).unwrap().data());
        for i in 0..1000u32 {
            // Small and large payloads.
            let big = vec![i as u8; if i % 10 == 0 { 4096 } else { 8 }];
            process::send_alias(a, &big).unwrap();
        }
        process::exit_pid(p, ExitReason::Kill).unwrap();
        assert_eq!(down(mref).reason(), Some(ExitReason::Killed));
        rt.wait(p).ok();
        process::send_alias(a, b"after").unwrap();
    });
}

#[test]
fn bad_input_and_calls_outside_a_process() {
    let rt = rt(1);
    // From a thread that is not a process.
    assert_eq!(
        process::alias(AliasMode::ExplicitUnalias).unwrap_err().0,
        Status::ErrNotAProcess
    );
    assert_eq!(process::unalias(1).unwrap_err().0, Status::ErrNotAProcess);
    assert_eq!(process::make_ref().unwrap_err().0, Status::ErrNotAProcess);
    assert_eq!(
        process::monitor_alias(Pid(1), AliasMode::Demonitor)
            .unwrap_err()
            .0,
        Status::ErrNotAProcess
    );
    assert_eq!(
        process::send_alias(1, b"x").unwrap_err().0,
        Status::ErrNotAProcess
    );
    assert_eq!(
        rt.send_alias(0, b"x").unwrap_err().0,
        Status::ErrBadArgument
    );
    rt.send_alias(rt.make_ref(), b"dropped").unwrap();
    let r = rt
        .run(|| {
            let bad = |r: Result<u64, hive_rt::Error>| {
                assert_eq!(r.unwrap_err().0, Status::ErrBadArgument)
            };
            bad(process::alias(AliasMode::Demonitor));
            bad(process::alias(AliasMode::ReplyDemonitor));
            bad(process::monitor_alias(Pid::NONE, AliasMode::Demonitor));
            bad(process::monitor_alias(
                process::self_pid(),
                AliasMode::Reply,
            ));
            assert_eq!(process::unalias(0).unwrap_err().0, Status::ErrBadArgument);
            assert_eq!(
                process::send_alias(0, b"x").unwrap_err().0,
                Status::ErrBadArgument
            );
            expect_empty();
        })
        .unwrap();
    assert!(r.is_normal());
    rt.shutdown();
    assert_eq!(rt.send_alias(1, b"x").unwrap_err().0, Status::ErrShutDown);
    let _ = rt.make_ref(); // still never fails
}
