//! What an exit cleans up, and in which order: BEAM cases 82–84 (the registered name is
//! released before the DOWN and the link's EXIT arrive), group J (case 96: links,
//! monitors, name and timers are gone), and the terminate callback (runs before the
//! signals; shutdown runs it; a misbehaving one ends alone).
//!
//! Race cases ([RACE]) and how they are checked: `common/signals.rs`.

mod common;
use common::signals::*;
use common::*;
use hive_rt::{process, ExitReason, MessageKind, Pid, Status};

// ---------------------------------------------------------------- H. names at exit

/// Cases 82, 83 [RACE]: the name is free once the DOWN or the link's EXIT arrives.
#[test]
fn case_82_83_name_freed_before_down_and_exit() {
    run(|_| {
        process::trap_exit(true).unwrap();
        let me = process::self_pid();
        for i in 0..500u64 {
            let p = process::spawn_link(sleeper).unwrap();
            process::register(b"case82", p).unwrap();
            let m = process::monitor(p).unwrap();
            jitter(i);
            process::exit_pid(p, err("bang")).unwrap();
            if i % 2 == 0 {
                assert_eq!(down_reason(m), err("bang"));
                assert_eq!(process::whereis(b"case82").unwrap(), Pid::NONE);
                process::register(b"case82", me).unwrap();
                process::unregister(b"case82").unwrap();
                assert_eq!(exit_msg(p), err("bang"));
            } else {
                assert_eq!(exit_msg(p), err("bang"));
                assert_eq!(process::whereis(b"case82").unwrap(), Pid::NONE);
                down(m);
            }
        }
    });
}

/// Case 84 (the parts a typed ABI has): a name is accepted by monitor and gives the real
/// reason; once the process is gone, sending to the name is an error (`badarg` on the
/// BEAM). (`link`, `unlink` and `exit/2` take pids only, so they cannot be given a name.)
#[test]
fn case_84_names_with_monitor_and_send() {
    run(|_| {
        let p = process::spawn(sleeper).unwrap();
        process::register(b"case84", p).unwrap();
        let m = process::monitor_name(b"case84").unwrap();
        process::exit_pid(p, ExitReason::Kill).unwrap();
        let d = down(m);
        assert_eq!((d.sender(), d.reason()), (p, Some(ExitReason::Killed)));
        assert_eq!(
            process::send_named(b"case84", b"hello").unwrap_err().0,
            Status::ErrNotRegistered
        );
    });
}

// ---------------------------------------------------------------- J. cleanup

/// Case 96: after an exit, links, monitors, monitored_by entries, name and timers are
/// gone.
#[test]
fn case_96_cleanup_after_exit() {
    run(|_| {
        process::trap_exit(true).unwrap();
        let me = process::self_pid();
        let q = process::spawn(sleeper).unwrap();
        let p = process::spawn_link(move || {
            process::monitor(q).unwrap();
            process::send(me, b"ready").unwrap();
            sleeper();
        })
        .unwrap();
        assert_eq!(process::receive(T).unwrap().data(), b"ready");
        let m = process::monitor(p).unwrap();
        process::register(b"case96", p).unwrap();
        let t = process::send_after(hive_rt::TimerDest::Pid(p), 60_000, b"x").unwrap();
        assert_eq!(process_info(q).unwrap().monitored_by, vec![p]);
        process::exit_pid(p, ExitReason::Kill).unwrap();
        assert_eq!(exit_msg(p), ExitReason::Killed);
        assert_eq!(down_reason(m), ExitReason::Killed);
        assert_eq!(process::whereis(b"case96").unwrap(), Pid::NONE);
        assert!(!process::is_alive(p).unwrap());
        assert!(process_info(p).is_none());
        let info = process_info(me).unwrap();
        assert_eq!((info.links, info.monitors), (vec![], vec![]));
        while !process_info(q).unwrap().monitored_by.is_empty() {
            process::yield_now().unwrap();
        }
        assert_eq!(process::read_timer(t).unwrap(), None);
        process::exit_pid(q, ExitReason::Kill).unwrap();
    });
}

// ---------------------------------------------------------------- terminate callback

/// The terminate callback runs as the process, with its reason, before its links and
/// monitors are signalled (its message arrives before the DOWN) and before its name is
/// released. `exit(P, kill)` runs none of P's code: no callback, only the DOWN.
#[test]
fn terminate_callback_runs_before_signals() {
    run(|_| {
        let me = process::self_pid();
        for (i, how) in ["return", "exit", "kill", "panic", "signal"]
            .into_iter()
            .enumerate()
        {
            let (p, m) = process::spawn_monitor(move || {
                process::register(format!("term{i}").as_bytes(), process::self_pid()).unwrap();
                let name = format!("term{i}");
                process::set_terminate(move |r: &ExitReason| {
                    let still_named = process::whereis(name.as_bytes()).unwrap() != Pid::NONE;
                    let text = format!("{r:?}|{still_named}");
                    process::send(me, text.as_bytes()).unwrap();
                })
                .unwrap();
                process::send(me, b"ready").unwrap();
                match how {
                    "return" => {}
                    "exit" => process::exit(err("bye")).ignore(),
                    "panic" => panic!("oops"),
                    _ => sleeper(),
                }
            })
            .unwrap();
            assert_eq!(process::receive(T).unwrap().data(), b"ready");
            match how {
                "kill" => process::exit_pid(p, ExitReason::Kill).unwrap(),
                "signal" => process::exit_pid(p, err("sig")).unwrap(),
                _ => {}
            }
            if how == "kill" {
                assert_eq!(down_reason(m), ExitReason::Killed);
                assert!(drain().is_empty(), "the callback ran on kill");
                continue;
            }
            let expect = match how {
                "return" => "Normal",
                "exit" => "Error([98, 121, 101])",
                "panic" => "Error([112, 97, 110, 105, 99, 58, 32, 111, 111, 112, 115])",
                _ => "Error([115, 105, 103])",
            };
            let t = process::receive(T).unwrap();
            assert_eq!(t.kind(), MessageKind::Data, "{how}");
            assert_eq!(
                std::str::from_utf8(t.data()).unwrap(),
                format!("{expect}|true")
            );
            down(m);
        }
    });
}

/// Shutdown stops a process that has a terminate callback with an untrappable exit
/// signal `shutdown`, so the callback runs (here: it reports to a plain thread).
#[test]
fn shutdown_runs_terminate_callbacks() {
    let rt = rt(2);
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    for _ in 0..3 {
        let tx = tx.clone();
        let ready_tx = ready_tx.clone();
        rt.spawn(move || {
            process::trap_exit(true).unwrap(); // shutdown cannot be trapped
            process::set_terminate(move |r: &ExitReason| {
                tx.send(format!("{r:?}")).unwrap();
            })
            .unwrap();
            ready_tx.send(()).unwrap();
            sleeper();
        })
        .unwrap();
    }
    rt.spawn(sleeper).unwrap(); // no callback: stopped without running anything
    for _ in 0..3 {
        ready_rx.recv().unwrap();
    }
    assert_eq!(rt.shutdown(), 4);
    let got: Vec<String> = rx.try_iter().collect();
    assert_eq!(got, vec!["Shutdown"; 3]);
}

/// Issue 6, faults inside processes: a terminate callback that misbehaves — exits, panics,
/// or computes for many slices (preempted meanwhile) — ends alone; the process keeps its
/// first exit reason, and its monitors and links fire.
#[test]
fn misbehaving_terminate_callbacks_end_alone() {
    run(|_| {
        process::trap_exit(true).unwrap();
        for how in ["exit", "panic", "loop"] {
            let p = process::spawn_link(move || {
                process::set_terminate(move |_r: &ExitReason| match how {
                    "exit" => process::exit(err("from the callback")).ignore(),
                    "panic" => panic!("in the callback"),
                    _ => {
                        // Many slices of work: preempted, other processes run meanwhile.
                        for _ in 0..20_000 {
                            process::consume_reductions(1).unwrap();
                        }
                    }
                })
                .unwrap();
                process::exit(err("first")).ignore();
            })
            .unwrap();
            assert_eq!(exit_msg(p), err("first"), "{how}");
            assert!(!process::is_alive(p).unwrap());
        }
        // The runtime keeps working.
        let (_q, m) = process::spawn_monitor(|| {}).unwrap();
        assert_eq!(down_reason(m), ExitReason::Normal);
    });
}
