//! BEAM cases of groups B (signal ordering), C (links), D (trap_exit), E (kill),
//! F (monitors), G (demonitor), J (cleanup) and K (spawn atomicity), and H's cases 82–83,
//! each named by its number in `docs/semantics.md`.
//!
//! Race cases ([RACE]) run many iterations with jitter (a spin of 0–60 µs or a yield)
//! inside the race window, count each outcome, and fail on any outcome the BEAM does not
//! allow. "Nothing more arrives" is checked without sleeps: a monitor's DOWN (sent by the
//! exit path after the link exit signals) or a message from a thread that saw the exit
//! path finish (`Runtime::wait`) marks the point after which nothing else can come.

mod common;
use common::*;
use hive_rt::{process, ExitReason, Message, MessageKind, Pid, Runtime, Status};
use std::sync::Arc;

const T: Option<u32> = Some(10_000); // failure bound for receives, ms

/// A process that waits forever (the BEAM cases' "sleeper").
fn sleeper() {
    loop {
        let _ = process::receive(None);
    }
}

fn err(s: &str) -> ExitReason {
    ExitReason::error(s)
}

/// Spins for 0–60 µs or yields: jitter inside a race window.
fn jitter(i: u64) {
    let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58; // 0..63
    if x.is_multiple_of(7) {
        process::yield_now().unwrap();
    } else {
        let end = std::time::Instant::now() + std::time::Duration::from_micros(x);
        while std::time::Instant::now() < end {
            std::hint::spin_loop();
        }
    }
}

/// The DOWN of monitor `mref`.
fn down(mref: u64) -> Message {
    process::receive_select(T, |m| {
        m.kind() == MessageKind::Down && m.monitor_ref() == mref
    })
    .expect("DOWN")
}

fn down_reason(mref: u64) -> ExitReason {
    down(mref).reason().unwrap()
}

/// The next `Exit` message from `from`.
fn exit_msg(from: Pid) -> ExitReason {
    let m = process::receive_select(T, |m| m.kind() == MessageKind::Exit && m.sender() == from)
        .expect("EXIT");
    m.reason().unwrap()
}

/// Takes everything in the mailbox now.
fn drain() -> Vec<Message> {
    let mut v = Vec::new();
    while let Ok(m) = process::receive(Some(0)) {
        v.push(m);
    }
    v
}

/// Sends `tag` to the calling process from a plain thread once `pid`'s exit path has
/// finished (every signal it sent is then in our mailbox, ahead of `tag`).
fn notify_when_gone(rt: &Arc<Runtime>, pid: Pid, tag: &'static [u8]) {
    let me = process::self_pid();
    let rt = rt.clone();
    std::thread::spawn(move || {
        let _ = rt.wait(pid);
        rt.send(me, tag).unwrap();
    });
}

fn links_of(p: Pid) -> Vec<Pid> {
    process_info(p).map(|i| i.links).unwrap_or_default()
}

fn process_info(p: Pid) -> Option<hive_rt::ProcessInfo> {
    process::process_info(p).unwrap()
}

/// Runs `f` as a process of a 2-scheduler runtime and waits for it to return normally.
fn run(f: impl FnOnce(Arc<Runtime>) + Send + 'static) {
    let rt = Arc::new(rt(2));
    let rt2 = rt.clone();
    let r = rt.run(move || f(rt2)).unwrap();
    assert!(r.is_normal(), "main process ended with {r:?}");
}

// ---------------------------------------------------------------- B. ordering

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

fn dies_on_die() {
    loop {
        if process::receive(None).unwrap().data() == b"die" {
            process::exit(err("boom"));
        }
    }
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

/// A pid whose DOWN has been received.
fn dead_pid() -> Pid {
    let (p, m) = process::spawn_monitor(|| {}).unwrap();
    down(m);
    p
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

trait Ignore {
    fn ignore(self);
}
impl Ignore for hive_rt::Error {
    fn ignore(self) {}
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

// ---------------------------------------------------------------- H, J

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

// ---------------------------------------------------------------- K

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
