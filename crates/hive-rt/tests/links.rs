//! BEAM cases of group C (links) and case 97 (`spawn_link` is atomic), each named by its
//! number in `docs/semantics.md`.
//!
//! Race cases ([RACE]) and how they are checked: `common/signals.rs`.

mod common;
use common::signals::*;
use common::*;
use hive_rt::{process, ExitReason, MessageKind, Pid, Status};

fn links_of(p: Pid) -> Vec<Pid> {
    process_info(p).map(|i| i.links).unwrap_or_default()
}

// ---------------------------------------------------------------- C. links

/// Case 24: `link` is bidirectional; linking to oneself does nothing.
#[test]
fn case_24_link_is_bidirectional() {
    run(|_| {
        let me = process::self_pid();
        let p = process::spawn(sleeper).unwrap();
        process::link(p).unwrap();
        assert_eq!(links_of(me), vec![p]);
        assert_eq!(links_of(p), vec![me]);
        process::unlink(p).unwrap();
        process::link(me).unwrap();
        assert_eq!(links_of(me), vec![]);
        assert_eq!(links_of(p), vec![]);
        process::exit_pid(p, ExitReason::Kill).unwrap();
    });
}

/// Case 25: links form a set; one unlink removes the link; the peer's exit then has no
/// effect.
#[test]
fn case_25_links_are_a_set() {
    run(|_| {
        let me = process::self_pid();
        let p = process::spawn(dies_on_die).unwrap();
        for _ in 0..3 {
            process::link(p).unwrap();
        }
        assert_eq!(links_of(me), vec![p]);
        process::unlink(p).unwrap();
        assert_eq!(links_of(me), vec![]);
        assert_eq!(links_of(p), vec![]);
        let m = process::monitor(p).unwrap();
        process::send(p, b"die").unwrap();
        assert_eq!(down_reason(m), err("boom"));
        // Still alive (not trapping), and the DOWN was the only message.
        assert!(drain().is_empty());
    });
}

/// Case 26: linking to a dead pid while not trapping fails with `noproc`; no link, no
/// signal.
#[test]
fn case_26_link_to_dead_not_trapping() {
    run(|_| {
        let d = dead_pid();
        assert_eq!(process::link(d).unwrap_err().0, Status::ErrNoProcess);
        assert_eq!(links_of(process::self_pid()), vec![]);
        assert!(drain().is_empty());
    });
}

/// Case 27: linking to a dead pid while trapping succeeds and gives `{'EXIT', Dead,
/// noproc}`; no link.
#[test]
fn case_27_link_to_dead_trapping() {
    run(|_| {
        process::trap_exit(true).unwrap();
        let d = dead_pid();
        process::link(d).unwrap();
        assert_eq!(exit_msg(d), ExitReason::Noproc);
        assert_eq!(links_of(process::self_pid()), vec![]);
    });
}

/// Case 28: `link`/`unlink` with something that is not a pid (here: pid 0) is refused.
#[test]
fn case_28_link_bad_argument() {
    run(|_| {
        assert_eq!(
            process::link(Pid::NONE).unwrap_err().0,
            Status::ErrBadArgument
        );
        assert_eq!(
            process::unlink(Pid::NONE).unwrap_err().0,
            Status::ErrBadArgument
        );
    });
}

/// Case 29: an abnormal exit kills a non-trapping linked process with the same reason.
#[test]
fn case_29_abnormal_exit_propagates() {
    run(|_| {
        let (_a, m) = process::spawn_monitor(|| {
            process::spawn_link(|| process::exit(err("boom")).ignore()).unwrap();
            sleeper();
        })
        .unwrap();
        assert_eq!(down_reason(m), err("boom"));
    });
}

/// Case 30: a `normal` exit does not kill a non-trapping linked process, but the link is
/// removed.
#[test]
fn case_30_normal_exit_removes_the_link() {
    run(|_| {
        let me = process::self_pid();
        let (a, m) = process::spawn_monitor(move || {
            let b = process::spawn_link(|| {}).unwrap();
            let me2 = process::self_pid();
            // Polled, as in the case: the link goes once B's exit signal is handled.
            while links_of(me2).contains(&b) {
                process::yield_now().unwrap();
            }
            process::send(me, b"alive").unwrap();
            sleeper();
        })
        .unwrap();
        assert_eq!(process::receive(T).unwrap().data(), b"alive");
        assert!(process::is_alive(a).unwrap());
        process::exit_pid(a, ExitReason::Kill).unwrap();
        assert_eq!(down_reason(m), ExitReason::Killed);
    });
}

/// Case 31: a trapping process gets `{'EXIT', B, normal}`; the link is gone.
#[test]
fn case_31_trapping_gets_normal_exit() {
    run(|_| {
        process::trap_exit(true).unwrap();
        let b = process::spawn_link(|| {}).unwrap();
        assert_eq!(exit_msg(b), ExitReason::Normal);
        assert_eq!(links_of(process::self_pid()), vec![]);
    });
}

/// Case 32: along a chain S(trapping) ↔ A ↔ B, the EXIT names the direct neighbour.
#[test]
fn case_32_exit_names_the_neighbour() {
    run(|rt| {
        process::trap_exit(true).unwrap();
        let me = process::self_pid();
        let a = process::spawn_link(move || {
            let b = process::spawn_link(dies_on_die).unwrap();
            process::send(me, &pidb(b)).unwrap();
            sleeper();
        })
        .unwrap();
        let b = bpid(process::receive(T).unwrap().data());
        process::send(b, b"die").unwrap();
        assert_eq!(exit_msg(a), err("boom"));
        notify_when_gone(&rt, b, b"gone");
        assert_eq!(process::receive(T).unwrap().data(), b"gone");
        assert!(drain().is_empty(), "nothing from B");
    });
}

/// Case 33: `unlink` always succeeds; once it returned the old link has no effect.
#[test]
fn case_33_unlink_always_succeeds() {
    for trapping in [false, true] {
        run(move |_| {
            process::trap_exit(trapping).unwrap();
            process::unlink(dead_pid()).unwrap();
            process::unlink(process::spawn(|| {}).unwrap()).unwrap();
            let p = process::spawn(dies_on_die).unwrap();
            process::link(p).unwrap();
            process::unlink(p).unwrap();
            process::unlink(p).unwrap();
            let m = process::monitor(p).unwrap();
            process::send(p, b"die").unwrap();
            assert_eq!(down_reason(m), err("boom"));
            assert!(drain().is_empty(), "trapping {trapping}: no EXIT");
        });
    }
}

/// Case 34 [RACE]: `exit(P, bang)` then `unlink(P)`: at most one EXIT is already queued,
/// and none arrives later.
#[test]
fn case_34_exit_then_unlink() {
    run(|_| {
        process::trap_exit(true).unwrap();
        let (mut queued, mut nothing) = (0, 0);
        for i in 0..1000u64 {
            let p = process::spawn_link(sleeper).unwrap();
            let m = process::monitor(p).unwrap();
            process::exit_pid(p, err("bang")).unwrap();
            jitter(i);
            process::unlink(p).unwrap();
            match process::receive_select(Some(0), |x| x.kind() == MessageKind::Exit) {
                Ok(x) => {
                    assert_eq!((x.sender(), x.reason()), (p, Some(err("bang"))));
                    queued += 1;
                }
                Err(_) => nothing += 1,
            }
            // P's link signal, if any, was sent before its DOWN.
            assert_eq!(down_reason(m), err("bang"));
            assert!(drain().is_empty(), "iteration {i}: a late EXIT");
        }
        eprintln!("case 34: exit_was_queued {queued}, nothing_queued {nothing}");
    });
}

/// Case 35 [RACE]: a trapping `link` to a process that is exiting: exactly one EXIT, with
/// the real reason or `noproc`.
#[test]
fn case_35_link_to_exiting_trapping() {
    run(|rt| {
        process::trap_exit(true).unwrap();
        let (mut boom, mut noproc) = (0, 0);
        for i in 0..500u64 {
            let p = process::spawn(|| process::exit(err("boom")).ignore()).unwrap();
            jitter(i);
            process::link(p).unwrap();
            notify_when_gone(&rt, p, b"gone");
            let mut exits = Vec::new();
            loop {
                let m = process::receive(T).unwrap();
                if m.kind() == MessageKind::Data {
                    assert_eq!(m.data(), b"gone");
                    break;
                }
                assert_eq!((m.kind(), m.sender()), (MessageKind::Exit, p));
                exits.push(m.reason().unwrap());
            }
            match exits.as_slice() {
                [r] if *r == err("boom") => boom += 1,
                [ExitReason::Noproc] => noproc += 1,
                other => panic!("iteration {i}: {other:?}"),
            }
        }
        eprintln!("case 35: boom {boom}, noproc {noproc}");
    });
}

/// Case 36 [RACE]: a non-trapping `link` to an exiting process: a `noproc` error, or the
/// caller dies (with the real reason or `noproc`); never linked and alive.
#[test]
fn case_36_link_to_exiting_not_trapping() {
    run(|_| {
        let me = process::self_pid();
        let mut counts = std::collections::BTreeMap::new();
        for i in 0..500u64 {
            let (_w, m) = process::spawn_monitor(move || {
                let p = process::spawn(|| process::exit(err("boom")).ignore()).unwrap();
                jitter(i);
                match process::link(p) {
                    Err(e) => {
                        assert_eq!(e.0, Status::ErrNoProcess);
                        process::send(me, b"noproc_exception").unwrap();
                    }
                    // Linked: the link's exit signal must kill us.
                    Ok(()) => sleeper(),
                }
            })
            .unwrap();
            let r = down_reason(m);
            let outcome = if r.is_normal() {
                assert_eq!(process::receive(T).unwrap().data(), b"noproc_exception");
                "survived".to_string()
            } else {
                assert!(r == err("boom") || r == ExitReason::Noproc, "{r:?}");
                format!("died {r:?}")
            };
            *counts.entry(outcome).or_insert(0) += 1;
        }
        eprintln!("case 36: {counts:?}");
    });
}

/// Case 37: `exit(P, R)` then `link(P)`: the link reaches an exiting process, which
/// answers `noproc`: a trapping caller gets `{'EXIT', P, noproc}`, another is killed with
/// `noproc`.
#[test]
fn case_37_exit_then_link_gives_noproc() {
    run(|_| {
        process::trap_exit(true).unwrap();
        for i in 0..300u64 {
            let p = process::spawn(sleeper).unwrap();
            let first = if i % 2 == 0 {
                err("foo")
            } else {
                ExitReason::Kill
            };
            process::exit_pid(p, first).unwrap();
            process::link(p).unwrap();
            assert_eq!(exit_msg(p), ExitReason::Noproc, "iteration {i}");
        }
        process::trap_exit(false).unwrap();
        for i in 0..300u64 {
            let (_w, m) = process::spawn_monitor(move || {
                let p = process::spawn(sleeper).unwrap();
                let first = if i % 2 == 0 {
                    err("foo")
                } else {
                    ExitReason::Kill
                };
                process::exit_pid(p, first).unwrap();
                process::link(p).unwrap();
                sleeper();
            })
            .unwrap();
            assert_eq!(down_reason(m), ExitReason::Noproc, "iteration {i}");
        }
    });
}

// ---------------------------------------------------------------- K. spawn atomicity

/// Case 97 [RACE]: spawn_link is atomic: the real reason, never `noproc`.
#[test]
fn case_97_spawn_link_is_atomic() {
    run(|_| {
        process::trap_exit(true).unwrap();
        for i in 0..1000u64 {
            let p = process::spawn_link(|| process::exit(err("boom")).ignore()).unwrap();
            jitter(i);
            assert_eq!(exit_msg(p), err("boom"), "iteration {i}");
        }
    });
}
