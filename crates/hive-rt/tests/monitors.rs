//! BEAM cases of groups F (monitors) and G (demonitor), each named by its number in
//! `docs/semantics.md`.
//!
//! Race cases ([RACE]) and how they are checked: `common/signals.rs`.

mod common;
use common::signals::*;
use common::*;
use hive_rt::{process, ExitReason, MessageKind, Pid, Status};

// ---------------------------------------------------------------- F. monitors

/// Case 56: the DOWN carries the reference, the pid and the full reason.
#[test]
fn case_56_down_message_shape() {
    run(|_| {
        let p = process::spawn(|| {
            process::receive(None).unwrap();
            process::exit(err("{big,[reason,1,<<\"x\">>]}")).ignore()
        })
        .unwrap();
        let m = process::monitor(p).unwrap();
        process::send(p, b"go").unwrap();
        assert_ne!(m, 0);
        let d = down(m);
        assert_eq!(d.sender(), p);
        assert_eq!(d.reason(), Some(err("{big,[reason,1,<<\"x\">>]}")));
        assert_eq!(d.data(), b"{big,[reason,1,<<\"x\">>]}");
    });
}

/// Case 57: a monitor on a dead pid gives an immediate DOWN with `noproc`.
#[test]
fn case_57_monitor_dead_pid() {
    run(|_| {
        let d = dead_pid();
        let m = process::monitor(d).unwrap();
        let msg = down(m);
        assert_eq!((msg.sender(), msg.reason()), (d, Some(ExitReason::Noproc)));
    });
}

/// Cases 58–60: a monitor by name resolves the name once; an unregistered name gives an
/// immediate DOWN with `noproc`.
#[test]
fn case_58_59_60_monitor_by_name() {
    run(|_| {
        // 58: the DOWN arrives with the reason (sender: the pid the name resolved to).
        let p = process::spawn(dies_on_die).unwrap();
        process::register(b"mon58", p).unwrap();
        let m = process::monitor_name(b"mon58").unwrap();
        process::send(p, b"die").unwrap();
        let d = down(m);
        assert_eq!((d.sender(), d.reason()), (p, Some(err("boom"))));
        // 59: unregistered name.
        let m = process::monitor_name(b"nobody59").unwrap();
        let d = down(m);
        assert_eq!(
            (d.sender(), d.reason()),
            (Pid::NONE, Some(ExitReason::Noproc))
        );
        // 60: resolved once: the name moving to P2 does not move the monitor.
        let p1 = process::spawn(dies_on_die).unwrap();
        process::register(b"mon60", p1).unwrap();
        let m = process::monitor_name(b"mon60").unwrap();
        process::unregister(b"mon60").unwrap();
        let p2 = process::spawn(sleeper).unwrap();
        process::register(b"mon60", p2).unwrap();
        let m2 = process::monitor(p2).unwrap();
        process::exit_pid(p2, ExitReason::Kill).unwrap();
        assert_eq!(down_reason(m2), ExitReason::Killed);
        assert!(drain().is_empty(), "no DOWN for the name's new owner");
        process::send(p1, b"die").unwrap();
        assert_eq!(down_reason(m), err("boom"));
        assert_eq!(
            process::monitor_name(b"").unwrap_err().0,
            Status::ErrBadArgument
        );
    });
}

/// Case 61: repeated monitors are independent; each fires once.
#[test]
fn case_61_independent_monitors() {
    run(|rt| {
        let p = process::spawn(dies_on_die).unwrap();
        let refs: Vec<u64> = (0..5).map(|_| process::monitor(p).unwrap()).collect();
        let mut sorted = refs.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 5);
        process::send(p, b"die").unwrap();
        notify_when_gone(&rt, p, b"gone");
        let mut got = Vec::new();
        loop {
            let m = process::receive(T).unwrap();
            if m.kind() == MessageKind::Data {
                break;
            }
            assert_eq!(m.reason(), Some(err("boom")));
            got.push(m.monitor_ref());
        }
        got.sort();
        assert_eq!(got, sorted);
    });
}

/// Case 62: monitors are one-way and never kill; a dead watcher's monitor is removed
/// from the target.
#[test]
fn case_62_monitors_never_kill() {
    run(|_| {
        let me = process::self_pid();
        let (w, wm) = process::spawn_monitor(move || {
            let p = process::spawn(dies_on_die).unwrap();
            let m = process::monitor(p).unwrap();
            process::send(p, b"die").unwrap();
            assert_eq!(down_reason(m), err("boom"));
            process::send(me, b"survived").unwrap();
            sleeper();
        })
        .unwrap();
        assert_eq!(process::receive(T).unwrap().data(), b"survived");
        process::exit_pid(w, ExitReason::Kill).unwrap();
        down(wm);
        // Watcher W of T dies: T is unaffected and its monitored_by empties.
        let t = process::spawn(sleeper).unwrap();
        let (w, wm) = process::spawn_monitor(move || {
            process::monitor(t).unwrap();
            process::send(me, b"watching").unwrap();
            sleeper();
        })
        .unwrap();
        assert_eq!(process::receive(T).unwrap().data(), b"watching");
        assert_eq!(process_info(t).unwrap().monitored_by, vec![w]);
        process::exit_pid(w, ExitReason::Kill).unwrap();
        down(wm);
        while !process_info(t).unwrap().monitored_by.is_empty() {
            process::yield_now().unwrap();
        }
        assert!(process::is_alive(t).unwrap());
        assert_eq!(process_info(t).unwrap().mailbox_len, 0);
        process::exit_pid(t, ExitReason::Kill).unwrap();
    });
}

/// Case 63: monitoring something that is not a pid (pid 0) is refused.
#[test]
fn case_63_monitor_bad_argument() {
    run(|_| {
        assert_eq!(
            process::monitor(Pid::NONE).unwrap_err().0,
            Status::ErrBadArgument
        );
    });
}

/// Case 64: a monitor fires once and is then removed.
#[test]
fn case_64_monitor_fires_once() {
    run(|_| {
        let me = process::self_pid();
        let p = process::spawn(dies_on_die).unwrap();
        let m = process::monitor(p).unwrap();
        assert_eq!(process_info(me).unwrap().monitors, vec![(m, p)]);
        assert_eq!(process_info(p).unwrap().monitored_by, vec![me]);
        process::send(p, b"die").unwrap();
        down(m);
        assert_eq!(process_info(me).unwrap().monitors, vec![]);
        assert!(!process::demonitor(m, false).unwrap());
    });
}

/// Case 65 [RACE]: spawn_monitor is atomic: the real reason, never `noproc`.
#[test]
fn case_65_spawn_monitor_is_atomic() {
    run(|_| {
        for i in 0..1000u64 {
            let (_p, m) = process::spawn_monitor(|| process::exit(err("boom")).ignore()).unwrap();
            jitter(i);
            assert_eq!(down_reason(m), err("boom"), "iteration {i}");
        }
    });
}

/// Case 66 [RACE]: spawn then monitor is not atomic: the real reason or `noproc`,
/// exactly one DOWN.
#[test]
fn case_66_spawn_then_monitor() {
    run(|rt| {
        let (mut boom, mut noproc) = (0, 0);
        for i in 0..500u64 {
            let p = process::spawn(|| process::exit(err("boom")).ignore()).unwrap();
            jitter(i);
            let m = process::monitor(p).unwrap();
            notify_when_gone(&rt, p, b"gone");
            let mut downs = Vec::new();
            loop {
                let x = process::receive(T).unwrap();
                if x.kind() == MessageKind::Data {
                    break;
                }
                assert_eq!((x.kind(), x.monitor_ref()), (MessageKind::Down, m));
                downs.push(x.reason().unwrap());
            }
            match downs.as_slice() {
                [r] if *r == err("boom") => boom += 1,
                [ExitReason::Noproc] => noproc += 1,
                other => panic!("iteration {i}: {other:?}"),
            }
        }
        eprintln!("case 66: boom {boom}, noproc {noproc}");
    });
}

/// Case 67 [RACE]: `exit(P, foo)` then `monitor(P)` from the same caller: always
/// `noproc` (also after `kill`).
#[test]
fn case_67_exit_then_monitor_gives_noproc() {
    run(|_| {
        for i in 0..1000u64 {
            let p = process::spawn(sleeper).unwrap();
            let r = if i % 2 == 0 {
                err("foo")
            } else {
                ExitReason::Kill
            };
            process::exit_pid(p, r).unwrap();
            jitter(i);
            let m = process::monitor(p).unwrap();
            assert_eq!(down_reason(m), ExitReason::Noproc, "iteration {i}");
        }
    });
}

/// Case 68 [RACE]: `monitor` while a third process sends `exit`: exactly one DOWN, `foo`
/// or `noproc`.
#[test]
fn case_68_monitor_racing_a_third_party_exit() {
    run(|rt| {
        let (mut foo, mut noproc) = (0, 0);
        for i in 0..500u64 {
            let p = process::spawn(sleeper).unwrap();
            process::spawn(move || process::exit_pid(p, err("foo")).unwrap()).unwrap();
            jitter(i);
            let m = process::monitor(p).unwrap();
            notify_when_gone(&rt, p, b"gone");
            let mut downs = Vec::new();
            loop {
                let x = process::receive(T).unwrap();
                if x.kind() == MessageKind::Data {
                    break;
                }
                assert_eq!(x.monitor_ref(), m);
                downs.push(x.reason().unwrap());
            }
            match downs.as_slice() {
                [r] if *r == err("foo") => foo += 1,
                [ExitReason::Noproc] => noproc += 1,
                other => panic!("iteration {i}: {other:?}"),
            }
        }
        eprintln!("case 68: foo {foo}, noproc {noproc}");
    });
}

/// Case 69 (and 98): link and monitor on the same process: both EXIT and DOWN arrive.
#[test]
fn case_69_98_link_and_monitor() {
    run(|_| {
        process::trap_exit(true).unwrap();
        let (p, m) = process::spawn_opt(Default::default(), true, true, || {
            process::exit(err("boom")).ignore()
        })
        .unwrap();
        assert_ne!(m, 0);
        assert_eq!(exit_msg(p), err("boom"));
        assert_eq!(down_reason(m), err("boom"));
        // A non-trapping parent dies with its linked child's reason.
        let (_parent, pm) = process::spawn_monitor(|| {
            process::spawn_link(|| process::exit(err("child_crash")).ignore()).unwrap();
            sleeper();
        })
        .unwrap();
        assert_eq!(down_reason(pm), err("child_crash"));
    });
}

// ---------------------------------------------------------------- G. demonitor

/// Case 70: demonitor before the exit: no DOWN ever.
#[test]
fn case_70_demonitor_before_exit() {
    run(|_| {
        let p = process::spawn(sleeper).unwrap();
        let m = process::monitor(p).unwrap();
        let m2 = process::monitor(p).unwrap();
        assert!(process::demonitor(m, false).unwrap());
        process::exit_pid(p, err("frop")).unwrap();
        assert_eq!(down_reason(m2), err("frop"));
        assert!(drain().is_empty(), "a DOWN after demonitor");
    });
}

/// Case 71: monitoring oneself never fires; demonitor of unknown, finished or self
/// references succeeds (and reports inactive).
#[test]
fn case_71_demonitor_unknown_and_self() {
    run(|_| {
        assert!(!process::demonitor(123_456_789, false).unwrap());
        let me = process::self_pid();
        let m = process::monitor(me).unwrap();
        assert_ne!(m, 0);
        assert!(!process::demonitor(m, false).unwrap());
        assert!(!process::demonitor(m, false).unwrap());
        let (_p, m) = process::spawn_monitor(|| {}).unwrap();
        down(m);
        assert!(!process::demonitor(m, false).unwrap());
        assert!(drain().is_empty());
    });
}

/// A monitor `m` on a process that has exited, with its DOWN already in the mailbox.
fn queued_down() -> (Pid, u64) {
    let (p, m) = process::spawn_monitor(|| {}).unwrap();
    // Wait until the DOWN is in the mailbox (moved there by mailbox_len).
    while process::mailbox_len().unwrap() == 0 {
        process::yield_now().unwrap();
    }
    (p, m)
}

/// Case 72: demonitor does not remove a DOWN that is already queued.
#[test]
fn case_72_demonitor_keeps_a_queued_down() {
    run(|_| {
        let (_p, m) = queued_down();
        assert!(!process::demonitor(m, false).unwrap());
        let q = drain();
        assert_eq!(q.len(), 1);
        assert_eq!((q[0].kind(), q[0].monitor_ref()), (MessageKind::Down, m));
    });
}

/// Case 73: demonitor with flush removes the queued DOWN and nothing else.
#[test]
fn case_73_flush_removes_the_down() {
    run(|_| {
        let (_p, m) = queued_down();
        process::send(process::self_pid(), b"other").unwrap();
        process::demonitor(m, true).unwrap();
        let q = drain();
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].data(), b"other");
    });
}

/// Case 74: the `info` result: true for an active monitor, false once its DOWN is queued
/// (with or without flush).
#[test]
fn case_74_demonitor_info() {
    run(|_| {
        let p = process::spawn(sleeper).unwrap();
        let m = process::monitor(p).unwrap();
        assert!(process::demonitor(m, false).unwrap());
        let m = process::monitor(p).unwrap();
        assert!(process::demonitor(m, true).unwrap());
        let (_q, m) = queued_down();
        assert!(!process::demonitor(m, false).unwrap());
        assert_eq!(drain().len(), 1);
        let (_q, m) = queued_down();
        assert!(!process::demonitor(m, true).unwrap());
        assert!(drain().is_empty());
        process::exit_pid(p, ExitReason::Kill).unwrap();
    });
}

/// Case 75 [RACE]: `exit(P, bang)` then `demonitor(M)`: after one flush with timeout 0,
/// no late DOWN.
#[test]
fn case_75_exit_then_demonitor() {
    run(|_| {
        let (mut queued, mut nothing) = (0, 0);
        for i in 0..1000u64 {
            let p = process::spawn(sleeper).unwrap();
            let m = process::monitor(p).unwrap();
            let marker = process::monitor(p).unwrap();
            process::exit_pid(p, err("bang")).unwrap();
            jitter(i);
            process::demonitor(m, false).unwrap();
            match process::receive_select(Some(0), |x| x.monitor_ref() == m) {
                Ok(_) => queued += 1,
                Err(_) => nothing += 1,
            }
            // Both DOWNs were sent together: after the marker's, nothing of `m` can come.
            assert_eq!(down_reason(marker), err("bang"));
            assert!(drain().is_empty(), "iteration {i}: a late DOWN");
        }
        eprintln!("case 75: down_was_queued {queued}, nothing_queued {nothing}");
    });
}

/// Case 76: demonitor with reference 0 is refused.
#[test]
fn case_76_demonitor_bad_argument() {
    run(|_| {
        assert_eq!(
            process::demonitor(0, false).unwrap_err().0,
            Status::ErrBadArgument
        );
    });
}

/// Case 77: demonitor with another process's reference does nothing.
#[test]
fn case_77_demonitor_foreign_ref() {
    run(|_| {
        let me = process::self_pid();
        let p = process::spawn(move || {
            let m = process::monitor(me).unwrap();
            process::send(me, &u64b(m)).unwrap();
            sleeper();
        })
        .unwrap();
        let m = bu64(process::receive(T).unwrap().data());
        assert!(!process::demonitor(m, false).unwrap());
        assert_eq!(process_info(me).unwrap().monitored_by, vec![p]);
        process::exit_pid(p, ExitReason::Kill).unwrap();
    });
}

/// Case 78: a flush removes only that monitor's DOWN.
#[test]
fn case_78_flush_is_per_monitor() {
    run(|_| {
        let p = process::spawn(sleeper).unwrap();
        let ms: Vec<u64> = (0..4).map(|_| process::monitor(p).unwrap()).collect();
        process::demonitor(ms[0], true).unwrap();
        process::exit_pid(p, err("bang")).unwrap();
        down(ms[1]);
        process::demonitor(ms[2], true).unwrap();
        process::demonitor(ms[3], false).unwrap();
        let q = drain();
        assert_eq!(q.len(), 1);
        assert_eq!(
            (q[0].kind(), q[0].monitor_ref()),
            (MessageKind::Down, ms[3])
        );
        assert_eq!(q[0].reason(), Some(err("bang")));
    });
}
