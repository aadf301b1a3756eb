//! Hibernation (`erlang:hibernate/3`, `process::hibernate`, `hive_hibernate`): the process
//! gives its stack back and starts again at a new entry when a message comes
//! (`docs/semantics.md`, "Hibernation"). What it saves in memory: `stack_memory.rs`.

mod common;
use common::signals::*;
use hive_rt::{process, ExitReason, MessageKind, Pid, Status};

/// The next message whose data starts with `tag`, from `from`.
fn tagged(from: Pid, tag: &[u8]) -> Vec<u8> {
    let m = process::receive_select(T, |m| m.sender() == from && m.data().starts_with(tag))
        .expect("tagged message");
    m.data()[tag.len()..].to_vec()
}

/// A message to a hibernated process starts it again in its new entry, which takes that
/// message first; the pid, links and `trap_exit` of the process are the same after.
#[test]
fn message_wakes_the_new_entry() {
    run(|_| {
        let me = process::self_pid();
        process::trap_exit(true).unwrap();
        let p = process::spawn_link(move || {
            process::trap_exit(true).unwrap();
            let kept = vec![7u8; 3];
            process::send(me, b"ready").unwrap();
            process::hibernate(move || {
                let m = process::receive(None).unwrap();
                let mut out = b"woke:".to_vec();
                out.extend_from_slice(m.data());
                out.extend_from_slice(&kept);
                out.push(process::trap_exit(true).unwrap() as u8);
                process::send(me, &out).unwrap();
                process::exit(err("bye")).ignore();
            })
            .ignore();
            unreachable!("hibernate returned");
        })
        .unwrap();
        tagged(p, b"ready");
        until_waiting(p);
        process::send(p, b"hello").unwrap();
        assert_eq!(tagged(p, b"woke:"), b"hello\x07\x07\x07\x01");
        // The link made before hibernating carries the exit of the new entry.
        assert_eq!(exit_msg(p), err("bye"));
    });
}

/// With a message already queued, the process starts again at once: the new entry takes
/// the oldest message, one a selective receive had left behind.
#[test]
fn queued_message_restarts_at_once() {
    run(|_| {
        let me = process::self_pid();
        let p = process::spawn(move || {
            process::receive_select(None, |m| m.data() == b"second").unwrap();
            process::hibernate(move || {
                let m = process::receive(Some(0)).unwrap();
                process::send(me, &[b"got:", m.data()].concat()).unwrap();
            })
            .ignore();
        })
        .unwrap();
        let m = process::monitor(p).unwrap();
        process::send(p, b"first").unwrap();
        process::send(p, b"second").unwrap();
        assert_eq!(tagged(p, b"got:"), b"first");
        assert_eq!(down_reason(m), ExitReason::Normal);
    });
}

/// Signals that leave no message (a monitor, an exit signal with reason `normal` to a
/// process not trapping exits) are handled while it hibernates and do not run its entry:
/// the entry, run by the later message, finds that message at once.
#[test]
fn signals_without_a_message_do_not_run_the_entry() {
    run(|_| {
        let me = process::self_pid();
        let p = process::spawn(move || {
            process::send(me, b"ready").unwrap();
            process::hibernate(move || {
                let first = match process::receive(Some(0)) {
                    Ok(m) => m.data().to_vec(),
                    Err(e) => format!("nothing: {e:?}").into_bytes(),
                };
                process::send(me, &[b"first:", &first[..]].concat()).unwrap();
                process::receive(None).unwrap();
            })
            .ignore();
        })
        .unwrap();
        tagged(p, b"ready");
        until_waiting(p);
        let m = process::monitor(p).unwrap();
        process::exit_pid(p, ExitReason::Normal).unwrap();
        // Ordered after both signals (case 23): the process has handled them.
        assert!(process::is_alive(p).unwrap());
        until_waiting(p);
        process::send(p, b"msg").unwrap();
        assert_eq!(tagged(p, b"first:"), b"msg");
        process::exit_pid(p, ExitReason::Kill).unwrap();
        assert_eq!(down_reason(m), ExitReason::Killed);
    });
}

/// An exit signal ends a hibernated process (`kill` as any other); one it traps arrives as
/// an `EXIT` message and runs its entry.
#[test]
fn exit_signals_reach_a_hibernated_process() {
    run(|_| {
        let me = process::self_pid();
        let sleeper = || {
            process::hibernate(|| {
                process::receive(None).unwrap();
            })
            .ignore()
        };
        let (a, ma) = process::spawn_monitor(sleeper).unwrap();
        until_waiting(a);
        process::exit_pid(a, ExitReason::Kill).unwrap();
        assert_eq!(down_reason(ma), ExitReason::Killed);
        let (b, mb) = process::spawn_monitor(sleeper).unwrap();
        until_waiting(b);
        process::exit_pid(b, err("stop")).unwrap();
        assert_eq!(down_reason(mb), err("stop"));

        let c = process::spawn(move || {
            process::trap_exit(true).unwrap();
            process::send(me, b"ready").unwrap();
            process::hibernate(move || {
                let m = process::receive(None).unwrap();
                assert_eq!(m.kind(), MessageKind::Exit);
                assert_eq!(m.reason(), Some(err("trapped")));
                process::send(me, b"trapped").unwrap();
            })
            .ignore();
        })
        .unwrap();
        tagged(c, b"ready");
        until_waiting(c);
        let mc = process::monitor(c).unwrap();
        process::exit_pid(c, err("trapped")).unwrap();
        tagged(c, b"trapped");
        assert_eq!(down_reason(mc), ExitReason::Normal);
    });
}

/// A process may hibernate again and again (each time into a new entry), and from a
/// thread that is not a process the call fails with `ErrNotAProcess`.
#[test]
fn hibernates_repeatedly() {
    fn count_down(me: Pid, n: u32) {
        process::hibernate(move || {
            let m = process::receive(None).unwrap();
            assert_eq!(m.data(), b"tick");
            if n == 0 {
                process::send(me, b"done").unwrap();
            } else {
                process::send(me, b"ack").unwrap();
                count_down(me, n - 1);
            }
        })
        .ignore();
    }
    run(|_| {
        let me = process::self_pid();
        let (p, m) = process::spawn_monitor(move || count_down(me, 100)).unwrap();
        for _ in 0..100 {
            process::send(p, b"tick").unwrap();
            tagged(p, b"ack");
        }
        process::send(p, b"tick").unwrap();
        tagged(p, b"done");
        assert_eq!(down_reason(m), ExitReason::Normal);
    });
    assert_eq!(process::hibernate(|| {}).0, Status::ErrNotAProcess);
}

/// Inside a match predicate and inside the terminate callback (the exit is under way)
/// hibernation is refused with `ErrReentrant`, and nothing changes.
#[test]
fn refused_where_it_cannot_be() {
    run(|_| {
        let me = process::self_pid();
        process::send(me, b"x").unwrap();
        let mut inside = None;
        process::receive_match(T, |_, _| {
            inside = Some(process::hibernate(|| {}).0);
            true
        })
        .unwrap();
        assert_eq!(inside, Some(Status::ErrReentrant));
        let (_p, m) = process::spawn_monitor(move || {
            process::set_terminate(move |_| {
                let s = process::hibernate(|| {}).0;
                process::send(me, format!("cb:{s:?}").as_bytes()).unwrap();
            })
            .unwrap();
            process::exit(err("end")).ignore();
        })
        .unwrap();
        let cb = process::receive_select(T, |m| m.data().starts_with(b"cb:")).unwrap();
        assert_eq!(cb.data(), b"cb:ErrReentrant");
        assert_eq!(down_reason(m), err("end"));
    });
}

/// A process that hibernates again and again with a message queued (so it starts again at
/// once every time) takes turns with the others on its worker, as one that yields does: on
/// a single scheduler another process still runs, and kills it.
#[test]
fn hibernating_again_and_again_takes_turns() {
    fn spin() {
        process::hibernate(spin).ignore();
    }
    let (done, finished) = std::sync::mpsc::channel();
    let runner = std::thread::spawn(move || {
        let rt = common::rt(1);
        let r = rt
            .run(|| {
                let p = process::spawn(spin).unwrap();
                process::send(p, b"never taken").unwrap();
                for _ in 0..100 {
                    process::yield_now().unwrap();
                }
                let m = process::monitor(p).unwrap();
                process::exit_pid(p, ExitReason::Kill).unwrap();
                assert_eq!(down_reason(m), ExitReason::Killed);
            })
            .unwrap();
        rt.shutdown();
        done.send(r).unwrap();
    });
    let r = finished
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the hibernating process kept the only worker");
    assert!(r.is_normal(), "{r:?}");
    runner.join().unwrap();
}
